#!/usr/bin/env bash
# tests/soak.sh - the server under a long, mixed load (not part of make test;
# make soak): SOAK_SECONDS (default 600) of 64 browsing clients (wrk, signed
# in by API token and by session cookie, cycling through API lists by
# practice, school, words and page, clip JSON, pages and media files), while
# 4 uploads of SOAK_UPLOAD_MB (default 200) MB of real video go in with
# `kindling upload --wait` and an ingest of 40 clips runs, on a catalogue
# seeded with 5000 synthetic clips plus a few real ones.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/soak.sh
#   SOAK_SECONDS=60 SOAK_UPLOAD_MB=20 bash tests/soak.sh      # a quick try
#
# Checks: every browsing URL answers before the soak; wrk saw 0 errors (no
# socket error, no answer outside 2xx/3xx); every upload ends ready and its
# stored original has the file's SHA-256; the 40 ingested clips are ready;
# the server's memory is flat (the last window's peak RSS within 15% and
# within 10 MB of the first window's, a window being the first and last
# minute, or a fifth of a shorter soak); PRAGMA integrity_check is ok; the
# server logged no 5xx, error or sanitizer report.  Prints requests/s,
# latency p50/p99, the RSS samples and start/peak/end.  Loopback only.
# Last line: "soak: N passed, N failed".
#
# Other knobs: SOAK_CONNECTIONS (64), SOAK_UPLOADS (4), SOAK_INGEST (40),
# SOAK_CLIPS (5000 seeded rows), SOAK_THREADS (wrk threads, 2).

# shellcheck disable=SC2119,SC2153,SC2317  # check_server_log: every log; DATA, URL...: lib.sh's; helpers run through wait_until
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/integration/lib.sh"
begin_suite soak ffmpeg sqlite3 wrk sha256sum

num() { [[ ${!1} =~ ^[1-9][0-9]*$ ]] || fatal "$1 is a positive number" "got '${!1}'"; }
SOAK_SECONDS=${SOAK_SECONDS:-600} && num SOAK_SECONDS
SOAK_UPLOAD_MB=${SOAK_UPLOAD_MB:-200} && num SOAK_UPLOAD_MB
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-64} && num SOAK_CONNECTIONS
SOAK_UPLOADS=${SOAK_UPLOADS:-4} && num SOAK_UPLOADS
SOAK_INGEST=${SOAK_INGEST:-40} && num SOAK_INGEST
SOAK_CLIPS=${SOAK_CLIPS:-5000} && num SOAK_CLIPS
SOAK_THREADS=${SOAK_THREADS:-2} && num SOAK_THREADS
D=$SOAK_SECONDS
# the RSS sample interval, and the first and last windows compared
INTERVAL=$((D >= 120 ? 10 : (D >= 24 ? D / 12 : 2)))
WINDOW=$((D >= 300 ? 60 : D / 5))
[ "$WINDOW" -ge "$INTERVAL" ] || WINDOW=$INTERVAL
echo "# soak: ${D} s, $SOAK_CONNECTIONS browsing connections, $SOAK_UPLOADS uploads of $SOAK_UPLOAD_MB MB, an ingest of $SOAK_INGEST clips, $SOAK_CLIPS seeded clips"
T0=$SECONDS

# ------------------------------------------------------------------ files
SRC=$WORK/src
mkdir -p "$SRC/ingest" "$SRC/pre"
echo "# making test files"
# variant SRC DEST TAG: a copy made unique by a line at its end (decoders
# ignore it), so every file is a clip of its own.
variant() { { cat "$1" && printf '\nkindling soak test %s\n' "$2"; } >"$3"; }
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -f lavfi -i sine=frequency=440:duration=3 \
	-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$SRC/h264.mp4"
ff -f lavfi -i testsrc=size=320x240:rate=25:duration=3 -f lavfi -i sine=frequency=550:duration=3 \
	-c:v mpeg4 -q:v 5 -c:a mp3 -shortest "$SRC/part2.avi"
# The uploads: MPEG-4 part 2, every frame a key frame of noise at the
# finest quantiser: about 2 MB a second that still decodes (and transcodes).
secs=$(((SOAK_UPLOAD_MB * 1000 + 2049) / 2050))
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=$secs,noise=alls=40:allf=t" \
	-f lavfi -i "sine=frequency=300:duration=$secs" -c:v mpeg4 -q:v 1 -g 1 -c:a mp3 -shortest \
	"$SRC/big.avi"
BIG=$(stat -c %s "$SRC/big.avi" 2>/dev/null || echo 0)
[ "$BIG" -ge $((SOAK_UPLOAD_MB * 900000)) ] ||
	fatal "the upload file is about $SOAK_UPLOAD_MB MB" "it is $BIG bytes"
declare -a UPFILE UPSHA
for ((k = 1; k <= SOAK_UPLOADS; k++)); do
	UPFILE[k]=$SRC/upload-$k.avi
	variant "$SRC/big.avi" "upload $k" "${UPFILE[k]}"
	UPSHA[k]=$(sha256sum <"${UPFILE[k]}" | cut -d' ' -f1)
done
for ((k = 1; k <= SOAK_INGEST; k++)); do
	if ((k % 2)); then
		variant "$SRC/h264.mp4" "ingest $k" "$SRC/ingest/clip-$k.mp4"
	else
		variant "$SRC/part2.avi" "ingest $k" "$SRC/ingest/clip-$k.avi"
	fi
done
for ((k = 1; k <= 6; k++)); do
	variant "$SRC/h264.mp4" "browse $k" "$SRC/pre/real-$k.mp4"
done
echo "# files made in $((SECONDS - T0)) s"

# ------------------------------------------------------------------ catalogue
mkdir -p "$DATA"
# Every client here comes from 127.0.0.1: the per-address connection cap
# (64 by default) is for many people behind many addresses.
printf 'connections_per_address = %d\n' $((SOAK_CONNECTIONS + SOAK_UPLOADS + 64)) >"$DATA/kindling.conf"
"$BIN" seed --clips "$SOAK_CLIPS" --data "$DATA" >/dev/null 2>"$WORK/seed.err" ||
	fatal "kindling seed --clips $SOAK_CLIPS" "$(tail -c 300 "$WORK/seed.err")"
PW="soak test password 1"
ADMIN=$(add_user soak-admin admin)
COACH=$(add_user soak-coach coach north-high)
TEACH_N=$(printf '%s\n' "$PW" | add_user soak-teacher-north teacher north-high --password-stdin)
printf '%s\n' "$PW" | add_user soak-principal principal north-high --password-stdin >/dev/null
printf '%s\n' "$PW" | add_user soak-teacher-river teacher riverside-elementary --password-stdin >/dev/null
for t in "$ADMIN" "$COACH" "$TEACH_N"; do
	[[ $t =~ ^kd_ ]] || fatal "user add prints a token" "got '$t'"
done
out=$("$BIN" ingest --data "$DATA" --school north-high --practice station-rotation,differentiation \
	--wait --json "$SRC/pre" 2>"$WORK/pre.err")
REAL=$(jq -r 'select(.status == "ready") | .id' <<<"$out" | xargs)
[ "$(wc -w <<<"$REAL")" -eq 6 ] || fatal "six real clips are ready before the soak" "$out $(tail -c 300 "$WORK/pre.err")"

start_server "$DATA" || fatal "the server starts" "$(log_tail)"
echo "# server on $URL (pid $SERVER_PID)"

# Sessions for the pages: signed in as a browser does.
session() {
	local jar=$WORK/jar.$1
	curl -s -o /dev/null -c "$jar" --data-urlencode "name=$1" --data-urlencode "password=$PW" \
		--data-urlencode "next=/" "$URL/login"
	awk '$6 == "kd_session" { print $7 }' "$jar" 2>/dev/null | tail -n 1
}
S_TEACH_N=$(session soak-teacher-north)
S_PRINC=$(session soak-principal)
S_TEACH_R=$(session soak-teacher-river)
if [ -z "$S_TEACH_N" ] || [ -z "$S_PRINC" ] || [ -z "$S_TEACH_R" ]; then
	fatal "the teachers and principal sign in" "no kd_session cookie"
fi
# who: the Authorization or Cookie header of each client kind
WHO=("Authorization: Bearer $ADMIN" "Authorization: Bearer $COACH" "Authorization: Bearer $TEACH_N"
	"Cookie: kd_session=$S_TEACH_N" "Cookie: kd_session=$S_PRINC" "Cookie: kd_session=$S_TEACH_R")

# ------------------------------------------------------------------ the URLs
PRACTICES=$(sql "SELECT slug FROM practices ORDER BY id" | xargs)
SCHOOLS=$(sql "SELECT slug FROM schools ORDER BY id" | xargs)
SEEDED=$(sql "SELECT id FROM clips WHERE status = 'ready' AND visibility = 'district'
              AND consent = 'on-file' ORDER BY (id * 7919) % 5003 LIMIT 40" | xargs)
WORDS=(math reading science rotation groups playlists rubric discussion fractions "exit tickets")
urls=()   # "WHO-INDEX RANGE PATH"
n=0
add() { urls+=("$((n++ % ${#WHO[@]})) $1 $2"); }
for p in $PRACTICES; do
	add - "/api/v1/clips?practice=$p"
	add - "/api/v1/clips?practice=$p&page=2"
	add - "/practices/$p"
	add - "/practices/$p?page=2"
done
for s in $SCHOOLS; do
	add - "/api/v1/clips?school=$s"
	add - "/api/v1/clips?school=$s&practice=${PRACTICES%% *}&grade=3-5"
	add - "/schools/$s"
done
for w in "${WORDS[@]}"; do
	w=$(uri "$w")
	add - "/api/v1/clips?q=$w"
	add - "/search?q=$w"
done
for ((k = 1; k <= 8; k++)); do add - "/api/v1/clips?page=$k&per_page=$((k * 6))"; done
for id in $SEEDED $REAL; do
	add - "/api/v1/clips/$id"
	add - "/clips/$id"
done
for id in $REAL; do
	for f in thumbnail.jpg poster.jpg storyboard.vtt storyboard.jpg; do add - "/media/clips/$id/$f"; done
	add bytes=0-262143 "/media/clips/$id/video.mp4"
done
for p in / /practices /api/v1/practices /api/v1/schools /api/v1/me /api/v1/clips /healthz; do add - "$p"; done

# Each asked once first: the soak measures staying up, so a URL this build
# refuses is named here and left out of the load.
good=() bad=""
for u in "${urls[@]}"; do
	read -r w range path <<<"$u"
	args=(-H "${WHO[w]}")
	[ "$range" == - ] || args+=(-H "Range: $range")
	code=$(curl -s -o /dev/null --max-time 30 -w '%{http_code}' "${args[@]}" "$URL$path")
	if [[ $code =~ ^[23] ]]; then good+=("$u"); else bad+=" $code $path (as ${WHO[w]%%:*} $w);"; fi
done
check_none "every browsing URL answers 2xx or 3xx before the soak (${#good[@]} of ${#urls[@]})" "$bad"
[ "${#good[@]}" -gt 0 ] || fatal "some URLs to browse" "none answered"

lua_str() { jq -Rn --arg s "$1" '$s'; }   # a JSON string is a Lua string here
{
	echo "local who = {"
	for h in "${WHO[@]}"; do echo "  {$(lua_str "${h%%: *}"), $(lua_str "${h#*: }")},"; done
	echo "}"
	echo "local list = {"
	for u in "${good[@]}"; do
		read -r w range path <<<"$u"
		echo "  {$((w + 1)), $(lua_str "$range"), $(lua_str "$path")},"
	done
	echo "}"
	cat <<'LUA'
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
local reqs, i, nbad, last
bad = {}   -- a global: done() reads it from each thread
function init(args)
  reqs = {}
  for k, e in ipairs(list) do
    local h = {[who[e[1]][1]] = who[e[1]][2]}
    if e[2] ~= "-" then h["Range"] = e[2] end
    reqs[k] = {wrk.format("GET", e[3], h), e[3]}
  end
  i = (tid or 0) * 37
  bad, nbad = {}, 0
end
function request()
  i = i + 1
  local r = reqs[i % #reqs + 1]
  last = r[2]
  return r[1]
end
function response(status, headers, body)
  if status >= 400 or status < 200 then
    nbad = nbad + 1
    if #bad < 5 then bad[#bad + 1] = status .. " near " .. last end
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  local s = summary.duration / 1e6
  io.write(string.format("SOAK requests=%d seconds=%.1f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "connect=%d read=%d write=%d timeout=%d status=%d\n", summary.requests, s,
    summary.requests / s, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.timeout, e.status))
  for _, t in ipairs(threads) do
    local b = t:get("bad")
    for _, line in ipairs(b or {}) do io.write("SOAK bad " .. line .. "\n") end
  end
end
LUA
} >"$WORK/soak.lua"

# ------------------------------------------------------------------ the soak
RSS=$WORK/rss.txt
: >"$RSS"
sampler() {
	local t0=$SECONDS kb
	while :; do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null)
		echo "$((SECONDS - t0)) ${kb:-0}" >>"$RSS"
		sleep "$INTERVAL"
	done
}
echo "# soaking for $D s"
sampler &
SAMPLER=$!
wrk -t "$SOAK_THREADS" -c "$SOAK_CONNECTIONS" -d "${D}s" --timeout 10s -s "$WORK/soak.lua" "$URL" \
	>"$WORK/wrk.out" 2>&1 &
WRK=$!
SOAK_T0=$SECONDS

# The uploads begin one after another in the first fifth, each paced to
# take about half the soak, so all of them are in flight together.
rate=$((BIG * 2 / D))
[ "$rate" -ge 100000 ] || rate=100000
declare -a UPPID
for ((k = 1; k <= SOAK_UPLOADS; k++)); do
	(sleep $(((k - 1) * D / (5 * SOAK_UPLOADS))) &&
		exec "$BIN" upload --server "$URL" --token "$COACH" --school north-high \
			--practice blended-learning,peer-feedback --teacher "Soak Teacher $k" --wait --json \
			--limit-rate "$rate" "${UPFILE[k]}" >"$WORK/upload-$k.json" 2>"$WORK/upload-$k.err") &
	UPPID[k]=$!
done
# The ingest, a quarter of the way in.
(sleep $((D / 4)) && exec "$BIN" ingest --data "$DATA" --school riverside-elementary \
	--practice student-choice --wait --json "$SRC/ingest" >"$WORK/ingest.json" 2>"$WORK/ingest.err") &
INGEST=$!
echo "# $SOAK_UPLOADS uploads at $((rate / 1000)) kB/s each, the first at 0 s; the ingest at $((D / 4)) s"

wait "$WRK"
WRK_RC=$?
gone() { ! kill -0 "$1" 2>/dev/null; }
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
echo "# browsing ended after $((SECONDS - SOAK_T0)) s; waiting for the uploads and the ingest"
for ((k = 1; k <= SOAK_UPLOADS; k++)); do
	wait_until 1800 gone "${UPPID[k]}" || kill -KILL "${UPPID[k]}" 2>/dev/null
	wait "${UPPID[k]}"
	UPRC[k]=$?
done
wait_until 1800 gone "$INGEST" || kill -KILL "$INGEST" 2>/dev/null
wait "$INGEST"
INGEST_RC=$?
echo "# everything done after $((SECONDS - SOAK_T0)) s"

# ------------------------------------------------------------------ checks
line=$(grep '^SOAK requests=' "$WORK/wrk.out" | tail -n 1)
if [ "$WRK_RC" -eq 0 ] && [ -n "$line" ]; then
	ok "wrk ran the soak"
else
	not_ok "wrk ran the soak" "exit $WRK_RC: $(tail -c 400 "$WORK/wrk.out")"
fi
fig() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<" $line"; }
errors="connect=$(fig connect) read=$(fig read) write=$(fig write) timeout=$(fig timeout) non-2xx/3xx=$(fig status)"
seen=$(grep '^SOAK bad' "$WORK/wrk.out" | head -n 5 | cut -c 10- | tr '\n' ';')
check_eq "wrk: 0 socket errors and 0 answers outside 2xx/3xx" \
	"connect=0 read=0 write=0 timeout=0 non-2xx/3xx=0" "$errors${seen:+ (first: $seen)}"

probs=""
for ((k = 1; k <= SOAK_UPLOADS; k++)); do
	st=$(jq -r '"\(.status) \(.id)"' "$WORK/upload-$k.json" 2>/dev/null)
	id=${st#* }
	if [ "${UPRC[k]}" -ne 0 ] || [ "${st% *}" != ready ]; then
		probs+=" upload $k: exit ${UPRC[k]}, '$(head -c 300 "$WORK/upload-$k.json")' $(tail -c 200 "$WORK/upload-$k.err" | tr '\n' ' ');"
		continue
	fi
	row=$(sql "SELECT status || ' ' || sha256 FROM clips WHERE id = $id")
	[ "$row" == "ready ${UPSHA[k]}" ] || probs+=" upload $k: clip $id is '$row', want 'ready ${UPSHA[k]}';"
	got=$(sha256sum <"$DATA/media/$id/original" 2>/dev/null | cut -d' ' -f1)
	[ "$got" == "${UPSHA[k]}" ] || probs+=" upload $k: the original of clip $id has SHA-256 '$got';"
	for f in video.mp4 thumbnail.jpg poster.jpg storyboard.vtt storyboard.jpg; do
		[ -s "$DATA/media/$id/$f" ] || probs+=" upload $k: clip $id has no $f;"
	done
done
check_none "every upload ends ready, its original with the file's SHA-256" "$probs"

ready=$(jq -r 'select(.status == "ready") | .id' "$WORK/ingest.json" 2>/dev/null | sort -u | wc -l)
check_eq "the ingest of $SOAK_INGEST clips: all ready (exit status, ready clips)" "0 $SOAK_INGEST" \
	"$INGEST_RC $ready$(jq -r 'select(.status != "ready") | " \(.file): \(.status) \(.error)"' "$WORK/ingest.json" 2>/dev/null | head -n 3)"

# Memory: RSS samples, the first and the last window's peaks.
samples=$(awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $2 / 1024 }' "$RSS")
echo "# server RSS (MB), every $INTERVAL s: $samples"
read -r first_peak last_peak start_kb end_kb peak_kb < <(awk -v w="$WINDOW" -v d="$D" '
	{ t[NR] = $1; k[NR] = $2 }
	END {
		fp = lp = pk = 0
		for (i = 1; i <= NR; i++) {
			if (t[i] <= w && k[i] > fp) fp = k[i]
			if (t[i] >= d - w && k[i] > lp) lp = k[i]
			if (k[i] > pk) pk = k[i]
		}
		print fp, lp, k[1], k[NR], pk
	}' "$RSS")
growth=$((last_peak - first_peak))
echo "# RSS start $((start_kb / 1024)) MB, peak $((peak_kb / 1024)) MB, end $((end_kb / 1024)) MB; first ${WINDOW} s peak $((first_peak / 1024)) MB, last ${WINDOW} s peak $((last_peak / 1024)) MB ($((growth / 1024)) MB)"
if [ "$first_peak" -gt 0 ] && [ "$growth" -le $((first_peak * 15 / 100)) ] && [ "$growth" -le 10240 ]; then
	ok "memory is flat: the last ${WINDOW} s peak is within 15% and 10 MB of the first ${WINDOW} s peak"
else
	not_ok "memory is flat: the last ${WINDOW} s peak is within 15% and 10 MB of the first ${WINDOW} s peak" \
		"first $first_peak kB, last $last_peak kB: +$growth kB"
fi

check_eq "PRAGMA integrity_check" ok "$(sql 'PRAGMA integrity_check' 2>&1 | head -n 5 | xargs)"
check_server_log

echo "# figures: $(fig requests) requests in $(fig seconds) s: $(fig rps) requests/s; latency p50 $(fig p50_ms) ms, p99 $(fig p99_ms) ms, max $(fig max_ms) ms"
echo "# uploads: $SOAK_UPLOADS x $((BIG / 1000000)) MB at $((rate / 1000)) kB/s; whole run $((SECONDS - T0)) s"
finish
