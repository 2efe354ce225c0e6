#!/usr/bin/env bash
# tests/integration/crash.sh - crash consistency: kill -9 the server, a
# worker, the upload CLI and an ingest at random moments during uploads,
# ingest and processing, round after round on one data folder (its state
# piles up as a real server's does), start again, finish what was cut off
# and check the invariants after each round:
#
#   - every upload byte the server acknowledged (HEAD's Upload-Offset just
#     before the kill) is still there after the restart, and is the file's;
#   - what was interrupted finishes when run again, and an upload run again
#     resumes (no partial upload is left behind);
#   - every clip ends ready or failed, no job is left queued or running
#     (also when a killed ingest is not run again: the server must finish
#     its clips), and none of these good files ends failed;
#   - no clip row without its files, no media folder without its row;
#   - PRAGMA integrity_check is ok, foreign_key_check is empty;
#   - every file an upload or ingest reported done is one clip with the
#     file's SHA-256, and its stored original is the file.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/crash.sh
#   CRASH_ROUNDS=50 (make crash; default 3, make test)  CRASH_SEED=N (replay)
#
# Each round: start the server; at random an upload of ~34 MB slowed by
# --limit-rate, a slowed upload of a small file, an ingest --wait of one to
# three files; 0.1 to 3 s later kill -9 one or two of the server, a worker,
# an upload CLI, the ingest; restart; finish; check.  Kills are recorded
# in a "# round" line.  The seed replays the choices (what runs, how long
# before the kill, who is killed), not the timing.  Every round prints the
# same checks; leftovers of kills (partial files) are "# note" lines.  Last line:
# "crash: N passed, N failed".  Loopback only; every wait polls.

# shellcheck disable=SC2119,SC2153,SC2317  # kill_server: this server; DATA, PORT: lib.sh's; helpers run through wait_until
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite crash ffmpeg sqlite3 pgrep cmp sha256sum

ROUNDS=${CRASH_ROUNDS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || fatal "CRASH_ROUNDS is a positive number" "got '$ROUNDS'"
CSEED=${CRASH_SEED:-$(((RANDOM << 15 | RANDOM) % 1000000000))}
[[ $CSEED =~ ^[0-9]+$ ]] || fatal "CRASH_SEED is a number" "got '$CSEED'"
echo "# seed $CSEED, $ROUNDS rounds (replay with CRASH_SEED=$CSEED CRASH_ROUNDS=$ROUNDS)"
RANDOM=$CSEED   # only ever read in this shell, never in a $(...), so the seed replays

T0=$SECONDS
SRC=$WORK/src
mkdir -p "$SRC"
echo "# making test files"
# H.264/AAC in MP4 (remuxed), MPEG-4 part 2 in AVI (transcoded), and ~34 MB
# of MPEG-4 at a high bit rate (noise) so an upload lasts long enough to be cut.
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -f lavfi -i sine=frequency=440:duration=3 \
	-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$SRC/h264.mp4"
ff -f lavfi -i testsrc=size=320x240:rate=25:duration=3 -f lavfi -i sine=frequency=550:duration=3 \
	-c:v mpeg4 -q:v 5 -c:a mp3 -shortest "$SRC/part2.avi"
ff -f lavfi -i testsrc2=size=640x360:rate=25:duration=6,noise=alls=30:allf=t \
	-f lavfi -i sine=frequency=330:duration=6 -c:v mpeg4 -q:v 2 -c:a mp3 -shortest "$SRC/big.avi"
BIG=$(stat -c %s "$SRC/big.avi" 2>/dev/null || echo 0)
[ "$BIG" -gt 20000000 ] || fatal "the big test file is over 20 MB" "it is $BIG bytes"

printf 'workers = 2\n' >"$DATA.conf.tmp"
mkdir -p "$DATA" && mv "$DATA.conf.tmp" "$DATA/kindling.conf"
"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 ||
	fatal "school add" "cannot add a school to $DATA"
COACH=$(add_user coach coach north-high)
ADMIN=$(add_user admin admin)
[[ $COACH =~ ^kd_ && $ADMIN =~ ^kd_ ]] || fatal "user add prints tokens" "got '$COACH' '$ADMIN'"
DONE=$WORK/done.txt   # "sha id round" of every file a run reported done
: >"$DONE"
MEDIA_FILES=(original video.mp4 thumbnail.jpg poster.jpg storyboard.vtt storyboard.jpg)

# ------------------------------------------------------------------ helpers

alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
sha_of() { sha256sum <"$1" | cut -d' ' -f1; }
workers() { pgrep -f "kindling worker --data $DATA " 2>/dev/null; }
no_workers() { [ -z "$(workers)" ]; }

# variant SRC DEST TAG: a copy of SRC made unique by a line at its end (the
# decoders ignore it), so that every round's files are new clips; SHA[DEST]
# is its SHA-256.
variant() {
	{ cat "$1" && printf '\nkindling crash test: seed %s round %s %s\n' "$CSEED" "$R" "$3"; } >"$2"
	SHA[$2]=$(sha_of "$2")
}

# start_again: the server after a crash, on the round's port, so the CLI's
# resume state (keyed by server URL) and its retries find it again.
start_again() {
	local i
	for ((i = 0; i < 20; i++)); do
		start_server "$DATA" "$PORT0" 2>/dev/null && return 0
		sleep 0.5   # the old socket may still be closing
	done
	return 1
}

# head_upload PATH: HEAD of an upload as its coach: H_STATUS, H_OFFSET, H_CLIP.
head_upload() {
	local h
	h=$(curl -s -I --max-time 20 -H "Authorization: Bearer $COACH" -H "Tus-Resumable: 1.0.0" \
		"$URL$1" | tr -d '\r')
	H_STATUS=$(sed -n '1s#^HTTP/[0-9.]* \([0-9]*\).*#\1#p' <<<"$h")
	H_OFFSET=$(sed -n 's/^Upload-Offset: *//Ip' <<<"$h" | head -n 1)
	H_CLIP=$(sed -n 's/^Kindling-Clip-Id: *//Ip' <<<"$h" | head -n 1)
	[ -n "$H_STATUS" ] || H_STATUS=000
}

# new_uploads: the uploads begun since the snapshot in UPLOADS_BEFORE, as
# "id filename clip" lines (clip "-" while unfinished), read from the
# server's side: the CLI's own resume state is what is under test.
new_uploads() {
	local d id
	for d in "$DATA"/uploads/*/; do
		id=$(basename "$d")
		[ -f "$d/info.json" ] || continue
		[[ $UPLOADS_BEFORE == *" $id "* ]] && continue
		echo "$id $(jq -r '"\(.meta.filename // "?") \(.clip // "-")"' "$d/info.json" 2>/dev/null)"
	done
}

settled_msg=""
# settled: every clip ready or failed, no job queued or running, no worker
# process left (an orphan of a killed runner may still be writing files).
settled() {
	settled_msg=$(sql "SELECT 'clip ' || id || ' ' || status FROM clips
	                   WHERE status NOT IN ('ready', 'failed')
	                   UNION ALL SELECT 'job ' || id || ' of clip ' || clip_id || ' ' || state ||
	                   ' (runner ' || coalesce(CAST(worker_pid AS TEXT), '-') || ')' FROM jobs
	                   WHERE state IN ('queued', 'running')" 2>&1 | head -n 5 | tr '\n' ';')
	[ -z "$settled_msg" ] || return 1
	no_workers || { settled_msg="worker processes $(workers | xargs)"; return 1; }
}

# settle: waits until settled; non-zero on timeout, or as soon as a job has
# been "running" for 20 s on behalf of a runner process that is gone (only
# a runner's start recovers those: nothing would finish it).  STUCK names it.
STUCK_SINCE=0
STUCK=""
settled_or_stuck() {
	settled && return 0
	local j c p gone=""
	while IFS='|' read -r j c p; do
		{ [ "${p:-0}" -gt 0 ] && alive "$p"; } ||
			gone+=" job $j of clip $c is running for runner $p, which is gone;"
	done < <(sql "SELECT id, clip_id, coalesce(worker_pid, 0) FROM jobs WHERE state = 'running'")
	if [ -z "$gone" ]; then
		STUCK_SINCE=0
		return 1
	fi
	[ "$STUCK_SINCE" -gt 0 ] || STUCK_SINCE=$SECONDS
	[ $((SECONDS - STUCK_SINCE)) -ge 20 ] || return 1
	STUCK="$gone still after 20 s ($settled_msg)"
	return 0
}
settle() {
	STUCK_SINCE=0
	STUCK=""
	wait_until 600 settled_or_stuck && [ -z "$STUCK" ]
}

# record_done OUT ROUND: the files a run's --json lines report done.
record_done() {
	local f id st
	while IFS=$'\t' read -r f id st; do
		case $st in queued | duplicate | ready | failed) ;; *) continue ;; esac
		[[ $id =~ ^[0-9]+$ ]] || continue
		echo "${SHA[$f]} $id $2" >>"$DONE"
	done < <(jq -r '[.file, (.id // ""), .status] | @tsv' "$1" 2>/dev/null)
}

# ------------------------------------------------------------------ a round

declare -A SHA   # file -> its sha256
PORT0=0

one_round() {
	R=$1
	local RD=$WORK/round.$R
	mkdir -p "$RD"
	local log_from=${#SERVER_LOGS[@]} round_t0=$SECONDS
	UPLOADS_BEFORE=" $(find "$DATA/uploads" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null) "
	# (stderr: start_server's sed may look before the log exists)
	start_server "$DATA" 2>/dev/null || fatal "round $R: the server starts" "$(log_tail)"
	PORT0=$PORT

	# What runs, chosen and made first, then started together: an upload of
	# the big file slowed by --limit-rate; an upload of a small file, slowed
	# too so that two runs of the CLI overlap (a coach sending two folders
	# from two terminals); an ingest --wait of the big file (a copy and
	# processing long enough to be cut) and none, one or both small ones.
	local -a kind=() out=() err=() files=() cmd=() pid=() killed=() rc=()
	local plan="" t f rate k
	if ((RANDOM % 100 < 75)); then
		f=$RD/up-big.avi
		variant "$SRC/big.avi" "$f" upload
		rate=$((4 + RANDOM % 9))   # MB/s: 34 MB in 3 to 9 s
		kind+=(up) files+=("$f") out+=("$RD/up-big.json") err+=("$RD/up-big.err")
		cmd+=("--limit-rate $((rate * 1000000))")
		plan+=" upload-big@${rate}MB/s"
	fi
	if ((RANDOM % 100 < 40)); then
		f=$RD/up-small.mp4
		variant "$SRC/h264.mp4" "$f" upload
		rate=$((100 + RANDOM % 200))   # kB/s: 130 kB in 0.4 to 1.3 s
		kind+=(up) files+=("$f") out+=("$RD/up-small.json") err+=("$RD/up-small.err")
		cmd+=("--limit-rate $((rate * 1000))")
		plan+=" upload-small@${rate}kB/s"
	fi
	if ((RANDOM % 100 < 60)) || [ ${#kind[@]} -eq 0 ]; then
		local -a pool=(big.avi h264.mp4 part2.avi)
		f=""
		for k in 0 1 2; do
			[ "$k" -eq 0 ] || ((RANDOM % 2)) || continue
			variant "$SRC/${pool[k]}" "$RD/ingest-${pool[k]}" ingest
			f+="${f:+ }$RD/ingest-${pool[k]}"
		done
		kind+=(ingest) files+=("$f") out+=("$RD/ingest.json") err+=("$RD/ingest.err")
		cmd+=("")
		plan+=" ingest-$(wc -w <<<"$f")"
	fi
	for t in "${!kind[@]}"; do
		# shellcheck disable=SC2086  # options and paths without spaces
		if [ "${kind[t]}" == up ]; then
			(exec "$BIN" upload --server "$URL" --token "$COACH" --school north-high \
				--practice differentiation --json ${cmd[t]} "${files[t]}" \
				>"${out[t]}" 2>"${err[t]}") &
		else
			(exec "$BIN" ingest --data "$DATA" --school north-high --practice station-rotation \
				--wait --json ${files[t]} >"${out[t]}" 2>"${err[t]}") &
		fi
		pid+=($!)
	done
	for t in "${!kind[@]}"; do killed+=(0) rc+=(""); done

	# A random moment, then what the server acknowledged, then the kills.
	local ms=$((100 + RANDOM % 2901))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	local -a ack=()   # "path offset file"
	local path uid uname uclip acked=0
	while read -r uid uname uclip; do
		[ "$uclip" == - ] || continue
		path=/api/v1/uploads/$uid
		head_upload "$path"
		if [ "$H_STATUS" != 200 ] || [ -n "$H_CLIP" ] || ! [[ $H_OFFSET =~ ^[0-9]+$ ]]; then
			continue   # finished meanwhile, or not answering (then nothing was acknowledged)
		fi
		ack+=("$path $H_OFFSET $RD/$uname")
		acked=$((acked + H_OFFSET))
	done < <(new_uploads)
	local -a cand=(server)
	local ws wk
	ws=$(workers | xargs)
	[ -n "$ws" ] && cand+=(worker)
	for t in "${!kind[@]}"; do
		alive "${pid[t]}" || continue
		if [ "${kind[t]}" == up ]; then
			[[ " ${cand[*]} " == *" cli "* ]] || cand+=(cli)
		else
			cand+=(ingest)
		fi
	done
	local -a victims=("${cand[RANDOM % ${#cand[@]}]}")
	if ((RANDOM % 100 < 35)) && [ ${#cand[@]} -gt 1 ]; then
		local second
		while :; do
			second=${cand[RANDOM % ${#cand[@]}]}
			[ "$second" != "${victims[0]}" ] && break
		done
		victims+=("$second")
	fi
	local v said="" server_killed=0
	for v in "${victims[@]}"; do
		case $v in
		server)
			kill_server
			server_killed=1
			said+=" server"
			;;
		worker)
			local -a wl
			read -r -a wl <<<"$ws"
			wk=${wl[RANDOM % ${#wl[@]}]}
			said+=" worker(pid $wk$(tr '\0' ' ' </proc/"$wk"/cmdline 2>/dev/null | sed -n 's/.*--clip \([0-9]*\).*/ clip \1/p'))"
			kill -KILL "$wk" 2>/dev/null
			;;
		cli | ingest)
			local -a mine=()
			for t in "${!kind[@]}"; do
				[ "${kind[t]}" == "${v/cli/up}" ] && alive "${pid[t]}" && mine+=("$t")
			done
			[ ${#mine[@]} -gt 0 ] || continue
			t=${mine[RANDOM % ${#mine[@]}]}
			kill -KILL "${pid[t]}" 2>/dev/null
			wait "${pid[t]}" 2>/dev/null
			killed[t]=1
			said+=" $v($(basename "${out[t]}" .json))"
			;;
		esac
	done
	echo "# round $R:$plan; after ${ms} ms killed$said; acknowledged: ${#ack[@]} upload(s), $((acked / 1000)) kB"

	# Back up, and the acknowledged bytes still there.
	[ "$server_killed" -eq 0 ] || start_again || fatal "round $R: the server starts again" "$(log_tail)"
	local probs="" a off file id data
	for a in "${ack[@]+"${ack[@]}"}"; do
		read -r path off file <<<"$a"
		head_upload "$path"
		if [ "$H_STATUS" != 200 ]; then
			probs+=" $path: HEAD $H_STATUS (had $off bytes);"
			continue
		fi
		if ! [ "${H_OFFSET:-0}" -ge "$off" ] 2>/dev/null; then
			probs+=" $path: offset $H_OFFSET < acknowledged $off;"
			continue
		fi
		[ -n "$H_CLIP" ] && continue   # finished since: its original is checked below
		id=${path##*/}
		data=$DATA/uploads/$id/data
		if ! cmp -s -n "$off" "$file" "$data"; then
			head_upload "$path"   # it may have finished in between
			[ -n "$H_CLIP" ] || probs+=" $path: the first $off bytes of $data are not the file's;"
		fi
	done
	check_none "round $R: every acknowledged upload byte is still there (${#ack[@]} checked)" "$probs"

	# Finish what was cut off: a run still going is waited for; a killed one
	# (or one that gave up) is run again, and the CLI resumes its upload;
	# but a killed ingest is left alone half of the time (its coach walked
	# away): the server must then finish the clips it had taken in.
	probs=""
	for t in "${!kind[@]}"; do
		if [ "${kind[t]}" == ingest ] && [ "${killed[t]}" -eq 1 ] && ((RANDOM % 2)); then
			echo "# round $R: the killed ingest is not run again"
			continue
		fi
		if [ "${killed[t]}" -eq 0 ]; then
			wait_until 600 dead "${pid[t]}" || kill -KILL "${pid[t]}" 2>/dev/null
			wait "${pid[t]}" 2>/dev/null
			rc[t]=$?
			[ "${rc[t]}" -eq 0 ] && record_done "${out[t]}" "$R"
		fi
		if [ "${killed[t]}" -eq 1 ] || [ "${rc[t]}" -ne 0 ]; then
			[ "${killed[t]}" -eq 1 ] || echo "# round $R: $(basename "${out[t]}" .json) exited ${rc[t]}: $(tail -c 300 "${err[t]}" | tr '\n' ' ')"
			if [ "${kind[t]}" == up ]; then
				"$BIN" upload --server "$URL" --token "$COACH" --school north-high \
					--practice differentiation --json "${files[t]}" >"${out[t]}.again" 2>"${err[t]}.again"
			else
				# shellcheck disable=SC2086  # a list of paths without spaces
				"$BIN" ingest --data "$DATA" --school north-high --practice station-rotation \
					--wait --json ${files[t]} >"${out[t]}.again" 2>"${err[t]}.again"
			fi
			rc[t]=$?
			record_done "${out[t]}.again" "$R"
			[ "${rc[t]}" -eq 0 ] ||
				probs+=" $(basename "${out[t]}" .json) run again: exit ${rc[t]}: $(cat "${out[t]}.again") $(tail -c 200 "${err[t]}.again");"
		fi
		for f in ${files[t]}; do
			grep -q "^${SHA[$f]} " "$DONE" || probs+=" $(basename "$f") was never reported done;"
		done
	done
	check_none "round $R: what was interrupted finishes when run again" "$probs"
	# ... and every upload begun was finished: an interrupted one resumed,
	# not begun again beside the first (which would hold its bytes until
	# it expires, and count against the coach's unfinished uploads).
	# One window is allowed: a client killed after the server made its
	# upload and before the answer reached it (or before it wrote the URL
	# down) never knew of it, so it cannot resume it; nothing of the file
	# was acknowledged, the upload holds 0 bytes, and upload expiry removes it.
	probs=""
	while read -r uid uname uclip; do
		[ "$uclip" == - ] || continue
		held=$(stat -c %s "$DATA/uploads/$uid/data" 2>/dev/null || echo '?')
		if [ "$held" == 0 ] && [[ " ${victims[*]} " == *" cli "* || " ${victims[*]} " == *" server "* ]]; then
			echo "# round $R: upload $uid of $uname was made as its client was killed (0 bytes; it expires)"
		else
			probs+=" upload $uid of $uname left with $held bytes;"
		fi
	done < <(new_uploads)
	check_none "round $R: no upload is left unfinished (each interrupted one was resumed)" "$probs"

	# Every clip settles.
	if settle; then
		ok "round $R: every clip ends ready or failed, no job left queued or running"
	else
		not_ok "round $R: every clip ends ready or failed, no job left queued or running" "${STUCK:-$settled_msg}"
	fi
	check_none "round $R: no clip of these good files failed" \
		"$(sql "SELECT ' clip ' || id || ': ' || coalesce(error, '') FROM clips WHERE status = 'failed'" | head -n 3)"

	# No row without its files, no files without their row.
	probs=""
	local st m
	while IFS='|' read -r id st; do
		if [ ! -d "$DATA/media/$id" ]; then
			probs+=" clip $id ($st) has no media folder;"
			continue
		fi
		if [ "$st" == ready ]; then
			for m in "${MEDIA_FILES[@]}"; do
				[ -s "$DATA/media/$id/$m" ] || probs+=" ready clip $id has no $m;"
			done
		else
			[ -s "$DATA/media/$id/original" ] || probs+=" clip $id ($st) has no original;"
		fi
	done < <(sql "SELECT id, status FROM clips ORDER BY id")
	check_none "round $R: every clip has its media folder, a ready one all its files" "$probs"
	probs=""
	local ids
	ids=" $(sql "SELECT id FROM clips" | xargs) "
	for d in "$DATA"/media/*; do
		[ -e "$d" ] || continue
		[[ $ids == *" ${d##*/} "* ]] || probs+=" media/${d##*/} ($(find "$d" -mindepth 1 -printf '%P ' | head -c 200));"
	done
	check_none "round $R: no media folder without its clip row" "$probs"
	# Leftovers a kill may strand (partial files, an ingest's copy): reported, not failed.
	local stray
	stray=$(find "$DATA/media" "$DATA/tmp" -type f ! -path "$DATA/tmp/*.log" \
		! -regex '.*/media/[0-9]+/\(original\|video\.mp4\|thumbnail\.jpg\|poster\.jpg\|storyboard\.vtt\|storyboard\.jpg\|captions[^/]*\)' \
		-printf ' %P' 2>/dev/null | head -c 400)
	[ -z "$stray" ] || echo "# round $R: note: stray files left by the kills:$stray"

	if on_postgres; then
		# (the server's own checks: keys are always enforced; the derived
		# tables the triggers keep must still match)
		check_eq "round $R: every clip has its full-text document, and only clips" "0 0" \
			"$(sql "SELECT (SELECT count(*) FROM clips c WHERE NOT EXISTS (SELECT 1 FROM clips_fts f WHERE f.id = c.id)) || ' ' || (SELECT count(*) FROM clips_fts f WHERE NOT EXISTS (SELECT 1 FROM clips c WHERE c.id = f.id))")"
	else
		check_eq "round $R: PRAGMA integrity_check" ok "$(sql 'PRAGMA integrity_check' 2>&1 | head -n 5 | xargs)"
		check_eq "round $R: PRAGMA foreign_key_check is empty" "" "$(sql 'PRAGMA foreign_key_check' 2>&1 | head -n 5 | xargs)"
	fi

	# Every file reported done is one clip with its SHA-256; this round's
	# originals are compared byte for byte (hashed), earlier ones by row.
	probs=""
	local sha rr got
	while read -r sha id rr; do
		got=$(sql "SELECT sha256 || ' ' || (SELECT count(*) FROM clips WHERE sha256 = '$sha') FROM clips WHERE id = $id")
		if [ "$got" != "$sha 1" ]; then
			probs+=" clip $id (round $rr): row says '${got:-no row}', want $sha once;"
		elif [ "$rr" == "$R" ] && [ "$(sha_of "$DATA/media/$id/original" 2>/dev/null)" != "$sha" ]; then
			probs+=" clip $id: its original is not the file sent;"
		fi
	done < <(sort -u "$DONE")
	check_none "round $R: every file reported done is one clip with its SHA-256 ($(sort -u "$DONE" | wc -l) so far)" "$probs"

	check_none "round $R: no 5xx answer, error line or sanitizer report in the logs" \
		"$(cat "${SERVER_LOGS[@]:log_from}" "$RD"/*.err* /dev/null 2>/dev/null |
		   grep -E '" 5[0-9][0-9] | error |Sanitizer|runtime error' | head -n 3 | cut -c1-200)"

	stop_server
	check_eq "round $R: the server then stops cleanly" 0 "$STOP_RC"
	echo "# round $R took $((SECONDS - round_t0)) s"
	rm -f "$RD"/*.avi "$RD"/*.mp4   # the clips hold copies; keep the logs
}

for ((round = 1; round <= ROUNDS; round++)); do
	one_round "$round"
done
echo "# $ROUNDS rounds in $((SECONDS - T0)) s: $(sql "SELECT count(*) || ' clips (' || sum(CASE WHEN status = 'ready' THEN 1 ELSE 0 END) || ' ready)' FROM clips"), $(du -sh "$DATA" | cut -f1) of data; seed $CSEED"
finish
