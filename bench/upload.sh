#!/usr/bin/env bash
# upload.sh - how fast `kindling upload` sends a large file over tus to
# `kindling serve` on 127.0.0.1, beside dd copying the same file on the same
# disk with an fsync (what the disk allows), and how much memory the server
# and the CLI use meanwhile.
#
#   bash bench/upload.sh /path/to/kindling        (bench/bench.sh calls it)
#
# The file is a valid QuickTime file of raw video (ffmpeg testsrc2,
# 640x360 4:2:2 "2vuy", no compression) of about BENCH_UPLOAD_MB (1024) MiB, so the
# server takes it in as a clip; its processing afterwards is not measured
# (the server is stopped once the upload is answered).
#
# Measured: wall time of `kindling upload --json` (the CLI hashes the file
# first to ask the server whether it has it; the server writes, fsyncs, then
# hashes it again as it takes it in), split with the size of the server's
# upload file sampled every 50 ms; MB/s (MB = 10^6 bytes); the server's peak
# RSS (VmHWM) and the CLI's (GNU time, or sampled from /proc without it);
# dd if=FILE of=COPY bs=1M conv=fsync, the same way.
#
# Goal (the speed issue), printed as a "goal:" line: the upload of 1 GiB at
# least 0.8x the MB/s of dd conv=fsync to the same disk (the faster of its
# two runs).
#
# Settings (environment): BENCH_UPLOAD_MB (1024), BENCH_UPLOAD_TIMEOUT
# (600 s).  Needs ffmpeg, curl, awk.
set -eu

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: bash bench/upload.sh /path/to/kindling" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

SIZE_MB=${BENCH_UPLOAD_MB:-1024}
RUN_TIMEOUT=${BENCH_UPLOAD_TIMEOUT:-600}
case "$SIZE_MB$RUN_TIMEOUT" in *[!0-9]*) die "BENCH_UPLOAD_MB and BENCH_UPLOAD_TIMEOUT are whole numbers" ;; esac
[ "$SIZE_MB" -ge 1 ] || die "BENCH_UPLOAD_MB must be at least 1"
for tool in ffmpeg curl awk dd timeout stat; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps-bench installs it)"
done
GTIME=""
[ -z "${BENCH_NO_GNU_TIME:-}" ] && [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1 && GTIME=/usr/bin/time

W=$(mktemp -d "${TMPDIR:-/tmp}/kindling-upload.XXXXXX")
KD_PID=""
SAMPLER=""
WATCH=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$SAMPLER" ] && kill -KILL "$SAMPLER" 2>/dev/null
	[ -n "$WATCH" ] && kill -KILL "$WATCH" 2>/dev/null
	stop_bg
	stop_pid "$KD_PID"
	kill_under "$W"
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: failed at line $LINENO" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# The CLI keeps its resume state in $XDG_CACHE_HOME/kindling and reads
# $XDG_CONFIG_HOME/kindling/config: both inside the temp folder.
export HOME="$W/home" XDG_CACHE_HOME="$W/home/.cache" XDG_CONFIG_HOME="$W/home/.config"
unset KINDLING_SERVER KINDLING_TOKEN KINDLING_DATA KINDLING_LISTEN
mkdir -p "$HOME"

# --- 1. the file ------------------------------------------------------------------
FRAME=$((640 * 360 * 2))
FRAMES=$(((SIZE_MB * 1048576 + FRAME - 1) / FRAME))
F="$W/raw640x360.mov"
echo "bench: making a ${SIZE_MB} MiB raw video file ..." >&2
bg_wait timeout 600 ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=640x360:rate=30" \
	-frames:v "$FRAMES" -c:v rawvideo -pix_fmt uyvy422 -f mov "$F" ||
	die "ffmpeg could not make the file"
BYTES=$(stat -c %s "$F")
sync

# --- 2. dd, the disk's own pace -----------------------------------------------------
# Once before the upload and once after it: a virtual disk's pace varies
# from one second to the next, and the two runs show by how much.
run_dd() { # sets DD_RUN_S
	local t0 t1
	t0=$(now)
	bg_wait timeout "$RUN_TIMEOUT" dd if="$F" of="$W/ddcopy" bs=1M conv=fsync 2>"$W/dd.err" ||
		{ cat "$W/dd.err" >&2; die "dd failed"; }
	t1=$(now)
	[ "$(stat -c %s "$W/ddcopy")" = "$BYTES" ] || die "dd copied a different size"
	rm -f "$W/ddcopy"
	sync
	DD_RUN_S=$(elapsed "$t0" "$t1")
}
LOAD0=$(load1)
echo "bench: dd bs=1M conv=fsync ..." >&2
run_dd
DD1_S=$DD_RUN_S

# --- 3. kindling serve and upload -----------------------------------------------------
timeout 60 "$BIN" school add bench "Bench School" --data "$W/data" >"$W/setup.log" 2>&1 ||
	{ cat "$W/setup.log" >&2; die "school add failed"; }
timeout 60 "$BIN" user add --name bench --role coach --school bench --data "$W/data" \
	>"$W/user.out" 2>>"$W/setup.log" || { cat "$W/user.out" "$W/setup.log" >&2; die "user add failed"; }
TOKEN=$(tail -n 1 "$W/user.out" | tr -d '[:space:]')
[ -n "$TOKEN" ] || die "user add printed no token"

"$BIN" serve --data "$W/data" --listen 127.0.0.1:0 >"$W/serve.out" 2>"$W/serve.err" &
KD_PID=$!
PORT=""
for i in $(seq 1 300); do # up to 30 s
	PORT=$(sed -n 's|^kindling: serving http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$W/serve.out" |
		head -n 1)
	[ -n "$PORT" ] && break
	kill -0 "$KD_PID" 2>/dev/null || { cat "$W/serve.err" >&2; die "kindling serve exited"; }
	sleep 0.1
done
[ -n "$PORT" ] || { tail -n 20 "$W/serve.err" >&2; die "kindling serve did not start in 30 s"; }
URL="http://127.0.0.1:$PORT"
curl -sS --max-time 10 -o /dev/null "$URL/healthz" || die "the server does not answer /healthz"
RSS0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$KD_PID/status")

# The size of the server's upload file, every 50 ms: when the first byte and
# the last byte arrived.  The server moves the file into the clip's folder as
# soon as it is complete, so a fast upload can be gone before a sample sees
# it whole: then the last sample that saw it (time and size) is kept too.
watch_upload() {
	local first="" full="" last="" lastsize="" s f sfd
	exec {sfd}<> <(:)
	trap 'echo "${first:-?} ${full:-?} ${last:-?} ${lastsize:-?}" >"$W/watch.out"; exit 0' TERM
	while :; do
		for f in "$W"/data/uploads/*/data; do
			[ -e "$f" ] || continue
			s=$(stat -c %s "$f" 2>/dev/null || echo 0)
			[ -z "$first" ] && [ "$s" -gt 0 ] && first=$EPOCHREALTIME
			[ -z "$full" ] && [ "$s" -ge "$BYTES" ] && full=$EPOCHREALTIME
			[ "$s" -gt 0 ] && last=$EPOCHREALTIME lastsize=$s
		done
		read -r -t 0.05 -u "$sfd" _ || true
	done
}

echo "bench: kindling upload of $BYTES bytes to $URL ..." >&2
watch_upload &
WATCH=$!
if [ -z "$GTIME" ]; then
	sample_mem "$W/mem.cli" "$F" 0.05 &
	SAMPLER=$!
fi
rc=0
t0=$(now)
if [ -n "$GTIME" ]; then
	bg_wait timeout "$RUN_TIMEOUT" "$GTIME" -f '%M' -o "$W/time.cli" \
		"$BIN" upload --server "$URL" --token "$TOKEN" --school bench --practice differentiation \
		--json "$F" >"$W/upload.out" 2>"$W/upload.err" || rc=$?
else
	bg_wait timeout "$RUN_TIMEOUT" \
		"$BIN" upload --server "$URL" --token "$TOKEN" --school bench --practice differentiation \
		--json "$F" >"$W/upload.out" 2>"$W/upload.err" || rc=$?
fi
t1=$(now)
SRV_HWM=$(awk '/^VmHWM:/ { print $2 }' "/proc/$KD_PID/status")
KD_THREADS=$(awk '/^Threads:/ { print $2 }' "/proc/$KD_PID/status")
kill -TERM "$WATCH" 2>/dev/null || true
for _ in $(seq 1 100); do [ -e "$W/watch.out" ] && break; sleep 0.05; done
wait "$WATCH" 2>/dev/null || true
WATCH=""
CLI_KB=""
if [ -n "$GTIME" ]; then
	CLI_KB=$(tail -n 1 "$W/time.cli")
	CLI_HOW="GNU time"
else
	stop_sampler "$SAMPLER" "$W/mem.cli"
	SAMPLER=""
	CLI_KB=$(awk '$1 == "proc" && $3 == "cli" && $4 > m { m = $4 } END { print m + 0 }' "$W/mem.cli")
	CLI_HOW="VmHWM sampled every 50 ms"
fi
# Processing of the clip is not measured: stop the server (and its worker).
stop_pid "$KD_PID"
KD_PID=""

[ "$rc" -eq 0 ] || { cat "$W/upload.out" "$W/upload.err" >&2; die "kindling upload exited with $rc"; }
UP_S=$(elapsed "$t0" "$t1")
read -r JSON <"$W/upload.out" || die "kindling upload printed nothing"
case "$JSON" in *'"status":"queued"'* | *'"status":"ready"'*) ;; *)
	echo "$JSON" >&2
	die "the upload did not end queued" ;;
esac
SENT=$(echo "$JSON" | sed -n 's/.*"sent_bytes":\([0-9]*\).*/\1/p')
[ "$SENT" = "$BYTES" ] || die "sent_bytes $SENT, not $BYTES: $JSON"
CLIP_ID=$(echo "$JSON" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
STORED=$(stat -c %s "$W/data/media/$CLIP_ID/original" 2>/dev/null || echo 0)
[ "$STORED" = "$BYTES" ] || die "the server stored $STORED bytes, not $BYTES"
read -r T_FIRST T_FULL T_LAST T_LASTSIZE <"$W/watch.out"
echo "bench: dd bs=1M conv=fsync again ..." >&2
run_dd
DD2_S=$DD_RUN_S
LOAD1=$(load1)
DD_S=$(awk -v a="$DD1_S" -v b="$DD2_S" 'BEGIN { print (a < b ? a : b) }')

# --- 4. the table -------------------------------------------------------------------
echo
echo "Upload: one file of $BYTES bytes ($(mib $((BYTES / 1024))) MiB, raw video MOV), kindling upload (tus) to kindling serve on 127.0.0.1, beside dd bs=1M conv=fsync on the same disk; $(nproc) cores"
printf '%-34s %8s %9s %14s\n' what "wall s" "MB/s" "peak RSS MiB"
awk -v s="$UP_S" -v b="$BYTES" -v h="$SRV_HWM" -v c="$CLI_KB" 'BEGIN {
	printf "%-34s %8.2f %9.1f %14.1f\n", "kindling upload -> serve: server", s, b / s / 1e6, h / 1024
	printf "%-34s %8s %9s %14.1f\n", "                           CLI", "", "", c / 1024
}'
awk -v s="$DD1_S" -v b="$BYTES" 'BEGIN { printf "%-34s %8.2f %9.1f %14s\n", "dd bs=1M conv=fsync (before)", s, b / s / 1e6, "" }'
awk -v s="$DD2_S" -v b="$BYTES" 'BEGIN { printf "%-34s %8.2f %9.1f %14s\n", "dd bs=1M conv=fsync (after)", s, b / s / 1e6, "" }'
awk -v k="$UP_S" -v d="$DD_S" 'BEGIN {
	printf "  ratio kindling/dd (the faster dd): %.2fx the MB/s (dd %.1fx faster)\n", d / k, k / d
}'
echo
awk -v t0="$t0" -v t1="$t1" -v f="$T_FIRST" -v l="$T_FULL" -v b="$BYTES" -v ls="${T_LAST:-?}" \
	-v lsz="${T_LASTSIZE:-?}" 'BEGIN {
	if (f == "?") { print "phases: n/a (the upload file was not seen)"; exit }
	if (l == "?") {
		# never seen whole: the server moved it into the clip folder
		# between two samples; say only what was seen
		if (ls == "?") { print "phases: n/a (the upload file was not seen)"; exit }
		printf "phases (server upload file size sampled every 50 ms): before the first byte (the CLI hashes the file, asks the server for it, creates the upload) %.2f s; the file was last seen at %.0f%% of its size %.2f s after the start, and was gone (complete, moved into the clip'"'"'s folder) by the next sample; the answer came %.2f s after the start\n",
			f - t0, 100 * lsz / b, ls - t0, t1 - t0
		exit
	}
	arr = (l - f >= 0.2) ? sprintf("%.2f s (%.1f MB/s)", l - f, b / (l - f) / 1e6) : "under 0.2 s (too fast to sample)"
	printf "phases (server upload file size sampled every 50 ms): before the first byte (the CLI hashes the file, asks the server for it, creates the upload) %.2f s; bytes arriving %s; after the last byte (server fsync, SHA-256 again, catalogue, answer) %.2f s\n",
		f - t0, arr, t1 - l
}'
echo "server: RSS $(mib "$RSS0") MiB before the upload, peak (VmHWM) $(mib "$SRV_HWM") MiB, $KD_THREADS threads; CLI peak RSS by $CLI_HOW; the clip's processing was not waited for"
echo "kindling upload: $JSON"
echo "load average (1 min) of the machine: $LOAD0 before the measured runs, $LOAD1 after them ($(nproc) cores)"

echo
goal_ratio "upload of $(mib $((BYTES / 1024))) MiB vs dd conv=fsync" 0.8 \
	"$(awk -v k="$UP_S" -v d="$DD_S" 'BEGIN { printf "%.6g", d / k }')" \
	"$(awk -v k="$UP_S" -v d="$DD_S" -v b="$BYTES" 'BEGIN { printf "%.1f vs %.1f MB/s", b / k / 1e6, b / d / 1e6 }')"
