#!/usr/bin/env bash
# tests/integration/check.sh - kindling check [--repair] [--json] on real
# clips (made with ffmpeg, uploaded through the running server):
#
#   - all well: exit 0, "checked N clips: N ok"; a clip being filed or
#     processed while it looks is no problem;
#   - a deleted thumbnail and rendition and an emptied poster: reported,
#     exit 1; --repair requeues the clip, the server makes them again,
#     and the next check is clean;
#   - an original with one byte flipped: reported damaged, exit 1, never
#     "repaired" (not requeued even with files missing), fixed by putting
#     the original back; a missing original likewise;
#   - an orphan folder older than an hour: reported, removed by --repair;
#     one just made is left alone; old temporaries removed, the clip's
#     other files kept;
#   - --json is one JSON object with the same facts; usage errors exit 2;
#   - with the media in a bucket (s3rver, when the test tools from npm are
#     installed): the same checks against objects, an original hashed as
#     it streams (the process stays small), orphan objects removed.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/check.sh
#
# Last line: "check: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/node_tools.sh"
begin_suite check ffmpeg python3 od dd

M=$WORK/clips
mkdir -p "$M"
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=2" -f lavfi -i "sine=frequency=440:duration=2" \
	-c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$M/a.mp4" &&
	ff -f lavfi -i "testsrc=size=320x240:rate=25:duration=2" -c:v libx264 -preset veryfast \
		-pix_fmt yuv420p "$M/b.mp4" &&
	ff -f lavfi -i "smptebars=size=320x240:rate=25:duration=2" -c:v libx264 -preset veryfast \
		-pix_fmt yuv420p "$M/c.mp4" &&
	ff -f lavfi -i "mandelbrot=size=320x240:rate=25" -t 2 -c:v libx264 -preset veryfast \
		-pix_fmt yuv420p "$M/d.mp4" ||
	fatal "ffmpeg makes the clips" "see above"

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 || fatal "fixture: a school" ""
COACH=$(add_user "Cora Coach" coach north-high)
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# upload_clip FILE TITLE [ARGS...]: prints the new clip's id (0 on failure).
upload_clip() {
	local file=$1 title=$2 out
	shift 2
	out=$("$BIN" upload --server "$URL" --token "$COACH" --school north-high \
		--practice station-rotation --title "$title" --json "$@" "$file" 2>>"$WORK/upload.err")
	jq -r '.id // 0' <<<"$out" 2>/dev/null || echo 0
}

# clip_status ID: its status through the API.
clip_status() {
	req GET "/api/v1/clips/$1" "$COACH"
	jb .status
}
is_ready() { [ "$(clip_status "$1")" == ready ]; }
json_ok() { python3 -m json.tool >/dev/null <<<"$1"; }
# peak_kb CMD...: runs CMD (its output to stdout) and prints its peak
# resident memory in kB on the last line of $WORK/rss.
peak_kb() {
	python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)' "$@" 2>"$WORK/rss"
}

# flip FILE OFFSET: one byte made another.
flip() {
	local b
	b=$(dd if="$1" bs=1 skip="$2" count=1 status=none | od -An -tu1 | tr -d ' ')
	printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

A=$(upload_clip "$M/a.mp4" "Clip a" --wait)
B=$(upload_clip "$M/b.mp4" "Clip b" --wait)
C=$(upload_clip "$M/c.mp4" "Clip c" --wait)
[ "$A" != 0 ] && [ "$B" != 0 ] && [ "$C" != 0 ] && is_ready "$A" && is_ready "$B" && is_ready "$C" ||
	fatal "three clips uploaded and processed" "$(tail -c 400 "$WORK/upload.err")"
SHA_B=$(sha256sum "$M/b.mp4" | cut -d' ' -f1)

# ------------------------------------------------------------ all well
run_cli check --data "$DATA"
check_eq "three processed clips: exit 0, one summary line" "0 checked 3 clips: 3 ok" "$RC $OUT"
run_cli check --data "$DATA" --json
check_eq "--json: exit 0" 0 "$RC"
check "--json: one JSON object (python3 -m json.tool reads it)" json_ok "$OUT"
check_eq "--json: the same facts" "3 3 0 0 []" \
	"$(jq -r '"\(.checked) \(.ok) \(.problems_left) \(.missing_files) \(.findings|tojson)"' <<<"$OUT")"

# a clip being filed and processed while it looks: no problem
D=$(upload_clip "$M/d.mp4" "Clip d")
run_cli check --data "$DATA"
check_eq "a check while a new clip is queued or processed: exit 0" \
	"0 checked 4 clips: 4 ok" "$RC $OUT"
wait_until 60 is_ready "$D" || not_ok "clip d is processed" "status $(clip_status "$D")"

# ------------------------------------------------------------ derived files
rm "$DATA/media/$A/thumbnail.jpg" "$DATA/media/$A/video.mp4"
: >"$DATA/media/$A/poster.jpg"
run_cli check --data "$DATA"
check_eq "a rendition and thumbnail deleted, a poster emptied: exit 1" 1 "$RC"
check_match "... each named, and what to do" \
	"^clip $A 'Clip a' \(ready\): missing video.mp4, thumbnail.jpg, poster.jpg \(empty\); kindling check --repair queues it for processing again$" \
	"$OUT"
check_match "... the summary counts it" "^checked 4 clips: 3 ok, 1 missing files$" "$(tail -n 1 <<<"$OUT")"
run_cli check --data "$DATA" --json
check_eq "--json: the same finding" \
	'1 1 missing-files none ["video.mp4","thumbnail.jpg","poster.jpg"] ["poster.jpg"]' \
	"$RC $(jq -r '.findings[0] as $f | "\(.missing_files) \($f.problem) \($f.action) \($f.files|tojson) \($f.empty|tojson)"' <<<"$OUT")"
jobs_before=$(sql "SELECT count(*) FROM jobs WHERE clip_id = $A")

run_cli check --data "$DATA" --repair
check_eq "--repair: exit 0 (requeued is repaired)" 0 "$RC"
check_match "... saying it requeued the clip" \
	"^clip $A 'Clip a' \(ready\): missing .*; requeued: processing makes them again$" "$OUT"
check_match "... and in the summary" "1 missing files \(requeued\)$" "$OUT"
check_eq "... one job more for the clip" $((jobs_before + 1)) \
	"$(sql "SELECT count(*) FROM jobs WHERE clip_id = $A")"
wait_until 90 is_ready "$A" || not_ok "the server processes the requeued clip" "status $(clip_status "$A")"
check "the rendition, thumbnail and poster are made again" \
	test -s "$DATA/media/$A/video.mp4" -a -s "$DATA/media/$A/thumbnail.jpg" -a -s "$DATA/media/$A/poster.jpg"
run_cli check --data "$DATA"
check_eq "after processing, all checks again" "0 checked 4 clips: 4 ok" "$RC $OUT"

# ------------------------------------------------------------ originals
cp "$DATA/media/$B/original" "$WORK/b.original"
flip "$DATA/media/$B/original" 1000
rm "$DATA/media/$B/thumbnail.jpg"
run_cli check --data "$DATA"
check_eq "an original with one byte flipped: exit 1" 1 "$RC"
check_match "... reported damaged, with both hashes and what to do" \
	"^clip $B 'Clip b': the original is damaged \(its SHA-256 is [0-9a-f]{64}, the catalogue's $SHA_B\); restore it from a backup \(kindling backup\) or delete the clip$" \
	"$OUT"
check_match "... the summary counts it" "^checked 4 clips: 3 ok, 1 missing files, 1 corrupt original$" \
	"$(tail -n 1 <<<"$OUT")"
jobs_before=$(sql "SELECT count(*) FROM jobs WHERE clip_id = $B")
run_cli check --data "$DATA" --repair
check_eq "--repair cannot repair it: exit 1" 1 "$RC"
check_match "... its missing thumbnail is not requeued from a damaged original" \
	"^clip $B 'Clip b' \(ready\): missing thumbnail.jpg; not requeued: its original is missing or damaged" "$OUT"
check_none "... nothing says requeued or repaired" "$(grep -Ei '; requeued|\(requeued\)|repaired' <<<"$OUT")"
check_eq "... no job queued, the clip still ready" "$jobs_before ready" \
	"$(sql "SELECT count(*) FROM jobs WHERE clip_id = $B") $(clip_status "$B")"
run_cli check --data "$DATA" --json
check_eq "--json: the damaged original, both hashes" "corrupt-original none $SHA_B true" \
	"$(jq -r '.findings[] | select(.problem == "corrupt-original") | "\(.problem) \(.action) \(.sha256_catalogue) \(.sha256_found != .sha256_catalogue)"' <<<"$OUT")"

cp "$WORK/b.original" "$DATA/media/$B/original"
run_cli check --data "$DATA" --repair
check_eq "the original put back from a copy: --repair requeues the missing thumbnail, exit 0" \
	"0 1 missing files (requeued)" "$RC $(tail -n 1 <<<"$OUT" | grep -o '1 missing files (requeued)')"
wait_until 90 is_ready "$B" || not_ok "the server processes it" "status $(clip_status "$B")"

mv "$DATA/media/$C/original" "$WORK/c.original"
run_cli check --data "$DATA"
check_eq "a missing original: exit 1, in plain words" \
	"1 clip $C 'Clip c': the original is missing; restore it from a backup (kindling backup) or delete the clip" \
	"$RC $(head -n 1 <<<"$OUT")"
mv "$WORK/c.original" "$DATA/media/$C/original"
run_cli check --data "$DATA"
check_eq "all put back: exit 0" "0 checked 4 clips: 4 ok" "$RC $OUT"

# ------------------------------------------------------------ what no clip owns
mkdir -p "$DATA/media/99999" "$DATA/media/99998"
head -c 3000 /dev/urandom >"$DATA/media/99999/original"
head -c 100 /dev/urandom >"$DATA/media/99998/original"
touch -d '3 hours ago' "$DATA/media/99999/original" "$DATA/media/99999"
printf 'partial' >"$DATA/media/$A/.video.mp4.tmp-a1B2c3"
printf 'partial' >"$DATA/tmp/intake.4242.7"
printf 'being written' >"$DATA/media/$A/poster.jpg.tmp"
touch -d '2 hours ago' "$DATA/media/$A/.video.mp4.tmp-a1B2c3" "$DATA/tmp/intake.4242.7"
run_cli check --data "$DATA"
check_eq "an old orphan folder and old temporaries: exit 1" 1 "$RC"
check_match "... the orphan named, with what to do" \
	"^media/99999: 1 file \(3.0 kB\) of clip 99999, which the catalogue does not have; last written 3 hours ago; kindling check --repair removes it$" \
	"$OUT"
check_match "... a folder made a moment ago is left alone" \
	"^media/99998: .*of clip 99998, .*last written [0-9]+ seconds ago; too new to judge \(an upload being filed\?\): left alone$" \
	"$OUT"
check_match "... the old temporaries named" \
	"media/$A/\.video\.mp4\.tmp-a1B2c3: a temporary file .*last written 2 hours ago" "$OUT"
check_match "... intake's too" "^tmp/intake\.4242\.7: a temporary file" "$OUT"
check_none "... the one being written is not" "$(grep 'poster.jpg.tmp' <<<"$OUT")"
check_match "... the summary" \
	"^checked 4 clips: 4 ok, 1 orphan folder, 1 new folder without a clip \(left alone\), 2 leftover temporary files$" \
	"$(tail -n 1 <<<"$OUT")"
run_cli check --data "$DATA" --repair
check_eq "--repair removes them: exit 0" 0 "$RC"
check_match "... saying so" \
	"^checked 4 clips: 4 ok, 1 orphan folder \(removed\), 1 new folder without a clip \(left alone\), 2 leftover temporary files \(removed\)$" \
	"$(tail -n 1 <<<"$OUT")"
check "... the old orphan is gone" test ! -e "$DATA/media/99999"
check "... the new one is still there" test -s "$DATA/media/99998/original"
check "... the old temporaries are gone" \
	test ! -e "$DATA/media/$A/.video.mp4.tmp-a1B2c3" -a ! -e "$DATA/tmp/intake.4242.7"
check "... the clip's own files and the one being written are kept" \
	test -s "$DATA/media/$A/video.mp4" -a -s "$DATA/media/$A/original" -a -e "$DATA/media/$A/poster.jpg.tmp"
rm -rf "$DATA/media/99998" "$DATA/media/$A/poster.jpg.tmp"
run_cli check --data "$DATA" --json
check "--json after all that: one JSON object" json_ok "$OUT"
check_eq "... all well" "0 4 4 0" "$RC $(jq -r '"\(.checked) \(.ok) \(.problems_left)"' <<<"$OUT")"

# ------------------------------------------------------------ usage
run_cli check --data "$DATA" extra
check_eq "an operand: a usage error" 2 "$RC"
run_cli check --data "$DATA" --bogus
check_eq "an unknown option: a usage error" 2 "$RC"
if ! on_postgres; then
	run_cli check --data "$WORK/nothing-here"
	check_match "no catalogue: exit 1, naming --data" '^1 .*no catalogue.*--data' "$RC $ERR"
	check "... and makes no data folder there" test ! -e "$WORK/nothing-here"
fi
check_server_log

# ------------------------------------------------------------ media in a bucket
TOOL=$(dirname "$BIN")/tests/storage_tool
if ! node_tools_check storage s3rver >"$WORK/node.txt" 2>&1 || [ ! -x "$TOOL" ]; then
	echo "# no S3 checks: $(cat "$WORK/node.txt") ${TOOL##*/}: $([ -x "$TOOL" ] && echo built || echo 'not built (make integration builds it)')"
	finish
fi
mkdir -p "$WORK/s3" "$WORK/s3data"
: >"$WORK/s3rver.log"
node "$HERE/s3rver.mjs" "$WORK/s3" kindling-media >"$WORK/s3rver.log" 2>&1 &
SERVER_PIDS+=("$!")   # stopped by the EXIT trap
wait_until 30 grep -q '^s3rver: http' "$WORK/s3rver.log" ||
	fatal "s3rver starts on a free loopback port" "$(tail -c 400 "$WORK/s3rver.log")"
S3_URL=$(sed -n 's/^s3rver: //p' "$WORK/s3rver.log")
OBJ=$WORK/s3/kindling-media/district-9
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN
# a catalogue of its own: on PostgreSQL another database of the cluster
DATA=$WORK/s3data
DB=$DATA/catalogue.db
if on_postgres; then
	psql -X -q -d "$KINDLING_IT_PG" -c "CREATE DATABASE ${PG_DB}_s3" >/dev/null ||
		fatal "a second database for the bucket's catalogue" "see above"
	export KINDLING_DATABASE="$KINDLING_IT_PG&dbname=${PG_DB}_s3"
fi
printf 'storage = s3://kindling-media/district-9\ns3_endpoint = %s\n' "$S3_URL" >"$DATA/kindling.conf"
"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 || fatal "fixture: a school" ""
COACH=$(add_user "Cora Coach" coach north-high)
start_server "$DATA" || fatal "the server starts with media in the bucket" "$(log_tail)"

# tool ARGS...: storage_tool on the bucket; its exit status.
tool() { "$TOOL" --data "$DATA" "$@" >"$WORK/tool.out" 2>"$WORK/tool.err"; }

S=$(upload_clip "$M/a.mp4" "Clip in a bucket" --wait)
[ "$S" != 0 ] && is_ready "$S" && [ -s "$OBJ/$S/original._S3rver_object" ] ||
	fatal "a clip uploaded, processed and stored in the bucket" "$(tail -c 400 "$WORK/upload.err")"
run_cli check --data "$DATA"
check_eq "bucket: all well, exit 0" "0 checked 1 clip: 1 ok" "$RC $OUT"

# a clip ingested on this node waits in its work folder until processed
stop_server "$SERVER_PID"
run_cli ingest --data "$DATA" --school north-high --practice station-rotation \
	--title "Clip ingested" --json "$M/c.mp4"
I=$(jq -r '.id // 0' <<<"$OUT" 2>/dev/null)
check "bucket: a clip ingested while no server runs waits in its work folder" \
	test -s "$DATA/media/$I/original" -a ! -e "$OBJ/$I/original._S3rver_object"
run_cli check --data "$DATA"
check_eq "... queued, not in the bucket yet: no problem" "0 checked 2 clips: 2 ok" "$RC $OUT"
cp "$DATA/media/$I/original" "$WORK/i.original"
flip "$DATA/media/$I/original" 500
run_cli check --data "$DATA"
check_match "... its original is checked where it is" \
	"^1 clip $I 'Clip ingested': the original is damaged" "$RC $OUT"
cp "$WORK/i.original" "$DATA/media/$I/original"
start_server "$DATA" || fatal "the server starts again" "$(log_tail)"
wait_until 90 is_ready "$I" || not_ok "the server processes it" "status $(clip_status "$I")"
check "... and stores it in the bucket" test -s "$OBJ/$I/original._S3rver_object"

# what the process takes with a small original, for the large one below
peak_kb "$BIN" check --data "$DATA" >/dev/null
rss0=$(tail -n 1 "$WORK/rss")

tool rm "$S/thumbnail.jpg"
tool get "$S/original" "$WORK/s.original"
cp "$WORK/s.original" "$WORK/s.flipped"
flip "$WORK/s.flipped" 2000
tool put "$S/original" "$WORK/s.flipped"
run_cli check --data "$DATA" --repair
check_eq "bucket: a damaged original and a missing thumbnail: --repair exits 1" 1 "$RC"
check_match "... the original reported damaged" \
	"^clip $S 'Clip in a bucket': the original is damaged \(its SHA-256 is $(sha256sum "$WORK/s.flipped" | cut -d' ' -f1), the catalogue's $(sha256sum "$M/a.mp4" | cut -d' ' -f1)\)" \
	"$OUT"
check_match "... the thumbnail not requeued" \
	"^clip $S 'Clip in a bucket' \(ready\): missing thumbnail.jpg; not requeued" "$OUT"

# a large original is hashed as it streams: the process stays small
head -c $((64 << 20)) /dev/urandom >"$WORK/big"
tool put "$S/original" "$WORK/big"
peak_kb "$BIN" check --data "$DATA" --json >"$WORK/big.json"
check_eq "bucket: 64 MB read back and hashed (and the other clip's original)" \
	"$(sha256sum "$WORK/big" | cut -d' ' -f1) $(((64 << 20) + $(stat -c %s "$M/c.mp4")))" \
	"$(jq -r '"\(.findings[] | select(.problem == "corrupt-original") | .sha256_found) \(.bytes_hashed)"' "$WORK/big.json")"
rss=$(tail -n 1 "$WORK/rss")
if [[ $rss =~ ^[0-9]+$ && $rss0 =~ ^[0-9]+$ ]] && [ "$rss" -lt $((rss0 + 16000)) ]; then
	ok "... in at most 16 MB more than a small one takes (${rss} kB, ${rss0} kB)"
else
	not_ok "... in at most 16 MB more than a small one takes" "'$rss' kB, '$rss0' kB"
fi

tool put "$S/original" "$WORK/s.original"
run_cli check --data "$DATA" --repair
check_eq "bucket: the original put back, --repair requeues: exit 0" 0 "$RC"
check_match "... requeued" "\(ready\): missing thumbnail.jpg; requeued" "$OUT"
wait_until 90 is_ready "$S" || not_ok "the server processes it again" "status $(clip_status "$S")"
check "the thumbnail is in the bucket again" test -s "$OBJ/$S/thumbnail.jpg._S3rver_object"

head -c 2000 /dev/urandom >"$WORK/stray"
tool put 888/original "$WORK/stray" && tool put 888/poster.jpg "$WORK/stray" &&
	tool put 889/original "$WORK/stray" || not_ok "stray objects put in the bucket" "$(cat "$WORK/tool.err")"
touch -d '5 hours ago' "$OBJ/888/original._S3rver_object" "$OBJ/888/poster.jpg._S3rver_object"
# a work folder left in the data folder by a clip deleted before it was stored
mkdir -p "$DATA/media/887"
head -c 1500 /dev/urandom >"$DATA/media/887/original"
touch -d '5 hours ago' "$DATA/media/887/original" "$DATA/media/887"
run_cli check --data "$DATA"
check_eq "bucket: objects of no clip: exit 1" 1 "$RC"
check_match "... named with the bucket, their count and age" \
	"^888/ in s3://kindling-media/district-9/? at $S3_URL: 2 files \(4.0 kB\) of clip 888, which the catalogue does not have; last written 5 hours ago; kindling check --repair removes it$" \
	"$OUT"
check_match "... new ones left alone" "^889/ in .*left alone$" "$OUT"
check_match "... and a work folder of no clip" \
	"^media/887: 1 file \(1.5 kB\) of clip 887, which the catalogue does not have; last written 5 hours ago" \
	"$OUT"
run_cli check --data "$DATA" --repair --json
check_eq "bucket: --repair removes the old ones: exit 0" \
	"0 2 2 1 887:removed:false 888:removed:true" \
	"$RC $(jq -r '"\(.ok) \(.orphans_removed) \(.orphans_left) \([.findings[] | select(.clip == 888 or .clip == 887) | "\(.clip):\(.action):\(.in_bucket)"] | sort | join(" "))"' <<<"$OUT")"
tool stat 888/original
check_eq "... 888/ is gone from the bucket" 3 "$?"
check "... 889/ is still there" tool stat 889/original
check "... the work folder is gone, from the data folder only" test ! -e "$DATA/media/887"
check_server_log
if on_postgres; then
	stop_server "$SERVER_PID"
	psql -X -q -d "$KINDLING_IT_PG" -c "DROP DATABASE IF EXISTS ${PG_DB}_s3 WITH (FORCE)" >/dev/null
fi
finish
