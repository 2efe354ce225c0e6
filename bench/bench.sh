#!/usr/bin/env bash
# bench.sh - throughput and latency of kindling's clip list API, beside nginx
# serving the very same bytes as a static file; then bench/ingest.sh (clip
# processing, beside ffmpeg run from a script) and bench/upload.sh (a 1 GiB
# tus upload, beside dd).
#
#   bash bench/bench.sh /path/to/kindling        (or: make bench)
#
# BENCH_SECTIONS ("list media ingest upload") picks the sections to run, e.g.
# BENCH_SECTIONS="ingest upload" skips the list API.  See ingest.sh and
# upload.sh for their own settings.
#
# Everything runs on 127.0.0.1 in a temporary folder that is removed on
# exit, together with every server this script started.  Needs wrk, curl,
# jq, ss and nginx (Debian nginx-light, /usr/sbin/nginx).
#
# Settings (environment): BENCH_CLIPS (100000), BENCH_DURATION (10s),
# BENCH_WARMUP (2s), BENCH_THREADS (2), BENCH_CONNECTIONS (64),
# BENCH_TIMEOUT (30s), NGINX (/usr/sbin/nginx).
#
# wrk's own default timeout is 2 s, and wrk leaves every slower response
# out of its latency figures; with 64 connections queued on a slow server
# that can be all of them (p50 and p99 then read 0).  So the wrk commands
# add --timeout $BENCH_TIMEOUT; the load is the same closed loop.
set -eu

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: bash bench/bench.sh /path/to/kindling" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SECTIONS=${BENCH_SECTIONS:-list media ingest upload}
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
for s in $SECTIONS; do
	case "$s" in list | media | ingest | upload) ;; *)
		echo "bench: unknown section '$s' in BENCH_SECTIONS (list, media, ingest, upload)" >&2
		exit 2 ;;
	esac
done
# The sections after the list API, each a script of its own that cleans up
# after itself.  Run in the background and waited for, so that a TERM here
# reaches it at once (stop_section).
SECTION_PID=""
run_more() {
	local s rc
	for s in media ingest upload; do
		want "$s" || continue
		echo
		if [ "$s" = media ]; then
			# in-process probe and images beside ffprobe (bench/media.c)
			"$(dirname "$BIN")/bench/media" </dev/null &
		else
			bash "$HERE/$s.sh" "$BIN" </dev/null &
		fi
		SECTION_PID=$!
		rc=0
		wait "$SECTION_PID" || rc=$?
		SECTION_PID=""
		[ "$rc" -eq 0 ] || return 1
	done
}
stop_section() {
	local i
	[ -n "$SECTION_PID" ] || return 0
	kill -TERM "$SECTION_PID" 2>/dev/null || return 0
	for i in $(seq 1 300); do # its own cleanup: up to 30 s
		kill -0 "$SECTION_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SECTION_PID" 2>/dev/null || true
	SECTION_PID=""
}
if ! want list; then
	trap 'stop_section' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	run_more
	exit $?
fi
CLIPS=${BENCH_CLIPS:-100000}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-2s}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_TIMEOUT=${BENCH_TIMEOUT:-30s}
NGINX=${NGINX:-/usr/sbin/nginx}

for tool in wrk curl jq ss "$NGINX"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench: $tool is missing (make deps-bench installs it)" >&2
		exit 1
	fi
done

W=$(mktemp -d "${TMPDIR:-/tmp}/kindling-bench.XXXXXX")
KD_PID=""
NGX_PID=""

# stop_pid, die, now, elapsed: bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_section
	stop_pid "$KD_PID"
	stop_pid "$NGX_PID"
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: failed at line $LINENO" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM


# A loopback TCP port nobody listens on (random high port, checked with ss).
free_port() {
	local i p
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	die "no free loopback port found"
}

# --- 1. the catalogue -------------------------------------------------------
echo "bench: seeding $CLIPS clips in $W/data ..." >&2
t0=$(now)
timeout 900 "$BIN" seed --data "$W/data" --clips "$CLIPS" >"$W/seed.log" 2>&1 ||
	{ cat "$W/seed.log" >&2; die "seed failed"; }
t1=$(now)
SEED_S=$(elapsed "$t0" "$t1")

timeout 60 "$BIN" user add --name bench --role teacher --school north-high --data "$W/data" \
	>"$W/user.out" 2>"$W/user.err" || { cat "$W/user.out" "$W/user.err" >&2; die "user add failed"; }
TOKEN=$(tail -n 1 "$W/user.out" | tr -d '[:space:]')
[ -n "$TOKEN" ] || die "user add printed no token"

# One real clip, through the real pipeline, for the media cases: 10 s of
# 720p at about 4 Mb/s, so its rendition is well over 1 MiB.
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
	-f lavfi -i sine=frequency=440 -t 10 -c:v libx264 -b:v 4M -pix_fmt yuv420p -c:a aac \
	"$W/real.mp4" || die "ffmpeg could not make the sample clip"
timeout 300 "$BIN" ingest --data "$W/data" --school north-high --practice station-rotation \
	--title "Bench clip" --wait --json "$W/real.mp4" >"$W/ingest.out" 2>"$W/ingest.err" ||
	{ cat "$W/ingest.out" "$W/ingest.err" >&2; die "ingest of the sample clip failed"; }
REAL=$(jq -r .id "$W/ingest.out")

# --- 2. kindling serve ------------------------------------------------------
# stdout carries the "serving" line; stderr the access log (one line per
# request, kept on, written to a file).
"$BIN" serve --data "$W/data" --listen 127.0.0.1:0 >"$W/serve.out" 2>"$W/serve.err" &
KD_PID=$!
KD_PORT=""
for i in $(seq 1 300); do # up to 30 s
	KD_PORT=$(sed -n 's|^kindling: serving http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' \
		"$W/serve.out" | head -n 1)
	[ -n "$KD_PORT" ] && break
	kill -0 "$KD_PID" 2>/dev/null || { cat "$W/serve.err" >&2; die "kindling serve exited"; }
	sleep 0.1
done
[ -n "$KD_PORT" ] || { tail -n 20 "$W/serve.err" >&2; die "kindling serve did not start in 30 s"; }
KD="http://127.0.0.1:$KD_PORT"

# --- 3. the responses, saved as static files for nginx -----------------------
# The list API (JSON), a practice page (HTML, 24 clips), a thumbnail, and
# 1 MiB Range reads of a rendition.  nginx gets the same bytes as files.
NAMES=(practice fts page thumb range)
LABELS=("practice filter" "full-text q=station" "practice page (HTML)" "thumbnail" \
	"1 MiB Range of video")
PATHS=("/api/v1/clips?practice=blended-learning" "/api/v1/clips?q=station" \
	"/practices/blended-learning" "/media/clips/$REAL/thumbnail.jpg" \
	"/media/clips/$REAL/video.mp4")
EXTRA=("" "" "" "" "Range: bytes=0-1048575")
mkdir -p "$W/static"
declare -a ONE_SHOT
for i in "${!NAMES[@]}"; do
	f="$W/static/${NAMES[$i]}.json"
	read -r code t_total < <(curl -sS --max-time 60 -o "$f" -w '%{http_code} %{time_total}\n' \
		-H "Authorization: Bearer $TOKEN" "$KD${PATHS[$i]}")
	[ "$code" = 200 ] || { cat "$f" >&2; die "GET ${PATHS[$i]} answered $code"; }
	case "${PATHS[$i]}" in
	/api/*) jq -e '.clips | length > 0' "$f" >/dev/null || die "GET ${PATHS[$i]} returned no clips" ;;
	esac
	ONE_SHOT[$i]=$t_total
done

# --- 4. nginx beside it -------------------------------------------------------
N="$W/nginx"
mkdir -p "$N/logs" "$N/tmp"
USER_LINE=""
if [ "$(id -u)" = 0 ]; then
	# Workers would switch to "nobody", who cannot enter the private temp
	# folder; keep them as the current user, as when run unprivileged.
	USER_LINE="user $(id -un) $(id -gn);"
fi
NGX_PORT=""
for attempt in 1 2 3 4 5; do
	NGX_PORT=$(free_port)
	cat >"$N/nginx.conf" <<EOF
$USER_LINE
daemon off;
master_process on;
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $N/logs/access.log;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fastcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    server {
        listen 127.0.0.1:$NGX_PORT;
        location / {
            root $W/static;
            default_type application/json;
        }
    }
}
EOF
	"$NGINX" -p "$N" -e "$N/logs/error.log" -c "$N/nginx.conf" -t >"$N/logs/test.out" 2>&1 ||
		{ cat "$N/logs/test.out" >&2; die "nginx rejects its config"; }
	"$NGINX" -p "$N" -e "$N/logs/error.log" -c "$N/nginx.conf" >"$N/logs/stdout" 2>&1 &
	NGX_PID=$!
	up=""
	for i in $(seq 1 100); do # up to 10 s
		kill -0 "$NGX_PID" 2>/dev/null || break
		if curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$NGX_PORT/practice.json"; then
			up=1
			break
		fi
		sleep 0.1
	done
	[ -n "$up" ] && break
	stop_pid "$NGX_PID"
	NGX_PID=""
done
[ -n "$NGX_PID" ] || { tail -n 20 "$N/logs/error.log" >&2; die "nginx did not start"; }
NG="http://127.0.0.1:$NGX_PORT"
for i in "${!NAMES[@]}"; do
	curl -sS --max-time 10 -o "$W/check.json" "$NG/${NAMES[$i]}.json"
	cmp -s "$W/check.json" "$W/static/${NAMES[$i]}.json" ||
		die "nginx does not serve the same bytes for ${NAMES[$i]}"
done

# --- 5. wrk -------------------------------------------------------------------
# Print "reqs p50_ms p99_ms errors" from wrk --latency output on stdin.
parse_wrk() {
	awk '
	function ms(v,   n, u) {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") return n / 1000
		if (u == "ms") return n
		if (u == "s")  return n * 1000
		if (u == "m")  return n * 60000
		if (u == "h")  return n * 3600000
		return -1
	}
	/^ +50% / { p50 = ms($2) }
	/^ +99% / { p99 = ms($2) }
	/^Requests\/sec:/ { rps = $2 }
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	/Socket errors:/ {
		for (i = 3; i <= NF; i += 2) { v = $(i + 1); gsub(/,/, "", v); sockerr += v }
	}
	END {
		if (rps == "") exit 1
		printf "%s %.2f %.2f %d\n", rps, p50, p99, non2xx + sockerr
	}'
}

declare -A RES SERVER_MS
run_wrk() { # key url [extra header]
	local key=$1 url=$2 out="$W/wrk.$1.txt"
	local -a extra=()
	[ -n "${3:-}" ] && extra=(-H "$3")
	timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout "$WRK_TIMEOUT" \
		-H "Authorization: Bearer $TOKEN" "${extra[@]}" "$url" >/dev/null 2>&1 || true
	# Let requests still queued from the warm-up finish (bounded).
	wait_idle
	local from=$(($(wc -l <"$W/serve.err") + 1))
	timeout 180 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency \
		-H "Authorization: Bearer $TOKEN" "${extra[@]}" "$url" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed on $url"; }
	RES[$key]=$(parse_wrk <"$out") || { cat "$out" >&2; die "cannot read wrk's output for $url"; }
	wait_idle
	# kindling's own time per request (access log, request start to
	# completion): service time without wrk's queueing on the connection.
	if [ "${key%%.*}" = kd ]; then
		SERVER_MS[$key]=$(tail -n +"$from" "$W/serve.err" |
			sed -n 's/.*"GET [^"]*" [0-9]* \([0-9.]*\)ms.*/\1/p' | sort -n |
			awk '{ v[NR] = $1 }
			END {
				if (!NR) { print "n/a"; exit }
				m = int((NR + 1) / 2); q = int(NR * 0.99); if (q < 1) q = 1
				printf "%.1f ms median, %.1f ms p99 (%d requests, incl. those still queued when wrk stopped)", v[m], v[q], NR
			}')
	fi
}

# Wait until kindling has written no access-log line for 1 s (at most 30 s):
# the server is done with what the last wrk run left queued.
wait_idle() {
	local i last=-1 n
	for i in $(seq 1 30); do
		n=$(wc -l <"$W/serve.err")
		[ "$n" = "$last" ] && return 0
		last=$n
		sleep 1
	done
}

for i in "${!NAMES[@]}"; do
	echo "bench: wrk ${LABELS[$i]} on kindling ..." >&2
	run_wrk "kd.$i" "$KD${PATHS[$i]}" "${EXTRA[$i]}"
	echo "bench: wrk ${LABELS[$i]} on nginx ..." >&2
	run_wrk "ng.$i" "$NG/${NAMES[$i]}.json" "${EXTRA[$i]}"
done

HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$KD_PID/status" 2>/dev/null || echo "?")
KD_THREADS=$(awk '/^Threads:/ { print $2 }' "/proc/$KD_PID/status" 2>/dev/null || echo "?")
KD_LOG_LINES=$(wc -l <"$W/serve.err")

# --- 6. the table ---------------------------------------------------------------
echo
echo "kindling serving, $CLIPS clips, wrk -t$THREADS -c$CONNS -d$DURATION --timeout $WRK_TIMEOUT (warm-up $WARMUP), loopback, $(nproc) cores"
printf '%-22s %-9s %10s %9s %9s %8s %7s\n' case server req/s "p50 ms" "p99 ms" bytes errors
for i in "${!NAMES[@]}"; do
	bytes=$(wc -c <"$W/static/${NAMES[$i]}.json")
	[ -n "${EXTRA[$i]}" ] && bytes=1048576
	for s in kd ng; do
		read -r rps p50 p99 errs <<<"${RES[$s.$i]}"
		name=kindling
		[ "$s" = ng ] && name=nginx
		printf '%-22s %-9s %10.1f %9.2f %9.2f %8d %7d\n' "${LABELS[$i]}" "$name" "$rps" "$p50" "$p99" \
			"$bytes" "$errs"
	done
	read -r kd_rps _ <<<"${RES[kd.$i]}"
	read -r ng_rps _ <<<"${RES[ng.$i]}"
	awk -v a="$kd_rps" -v b="$ng_rps" 'BEGIN {
		if (a > 0 && b > 0) printf "  ratio kindling/nginx: %.2gx req/s (nginx %.0fx more)\n", a / b, b / a
		else print "  ratio kindling/nginx: n/a"
	}'
done
echo
echo "errors: non-2xx responses + wrk socket errors (connect/read/write/timeout after $WRK_TIMEOUT)"
for i in "${!NAMES[@]}"; do
	total=""
	case "${PATHS[$i]}" in
	/api/*) total="total matches $(jq -r .total "$W/static/${NAMES[$i]}.json"); " ;;
	esac
	echo "${LABELS[$i]}: ${total}first request alone (curl): $(awk -v t="${ONE_SHOT[$i]}" 'BEGIN { printf "%.1f", t * 1000 }') ms; under load kindling's own time per request (access log): ${SERVER_MS[kd.$i]}"
done
echo "seed of $CLIPS clips: ${SEED_S} s"
if [ "$HWM_KB" != "?" ]; then
	echo "kindling server peak RSS (VmHWM): $(awk -v k="$HWM_KB" 'BEGIN { printf "%.1f MiB", k / 1024 }') ($KD_THREADS threads)"
fi
echo "access logs on for both: kindling $KD_LOG_LINES lines (stderr to a file), nginx $(wc -l <"$N/logs/access.log") lines"

# --- 7. the other sections --------------------------------------------------------
# The list API's servers are stopped first: they would only take memory.
stop_pid "$KD_PID"
KD_PID=""
stop_pid "$NGX_PID"
NGX_PID=""
run_more || die "a section failed"
