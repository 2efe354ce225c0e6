#!/usr/bin/env bash
# bench.sh - kindling beside nginx, ffmpeg and dd on the same machine, in the
# same run, with the goals of the speed issue checked on the way.
#
#   bash bench/bench.sh /path/to/kindling        (or: make bench)
#
# Sections (BENCH_SECTIONS, default "list list-pg media ingest nodes upload"):
#
#   list     The main case: a mixed load as a district would make it.  One
#            catalogue of BENCH_CLIPS (100,000) clips from `kindling seed`,
#            52 people (2 admins, and per school a principal, 2 coaches and 7
#            teachers) with API tokens and browser sessions, and 1,200
#            distinct URLs drawn from a fixed pseudo-random sequence
#            (bench/mix.awk): API lists by practice, school, grade, subject,
#            sort and page, full-text queries, practice, school and search
#            pages, each URL asked as one of the 52 people.  Every URL is
#            fetched once from kindling (each must answer 200) and its body
#            written as a static file that nginx serves at the same path and
#            query; then wrk cycles through the whole list (bench/mixed.lua)
#            against each server.  Also: the first request of each kind
#            after a restart, and the server's memory under the load.  Then,
#            beside it, the old hot-URL cases (one URL asked again and
#            again): a practice filter, a full-text query, a practice page,
#            a thumbnail and 1 MiB Range reads of a video.
#   list-pg  The same on the PostgreSQL catalogue (`database =
#            postgresql://`): a throwaway cluster from Debian's postgresql
#            (tests/pg_cluster.sh: a Unix socket, fsync off, as the tests
#            have it), seeded and measured the same way, side by side.
#   million  The same mixed load (no hot URLs) on BENCH_MILLION_CLIPS
#            (1,000,000) clips.  Not in the default run: seeding takes long.
#   media    build/bench/media (bench/media.c, built by `make bench`, found
#            beside the binary as bench/media): in-process probe and images
#            beside ffprobe.  Skipped, with a note, when it is not there.
#   ingest   bench/ingest.sh: processing beside ffprobe + ffmpeg.
#   nodes    bench/nodes.sh: processing throughput of one and of two
#            `kindling work` nodes on the same queue.
#   upload   bench/upload.sh: a 1 GiB tus upload beside dd.
#
# Each goal of the speed issue is printed as it is measured, as a line
#   goal: WHAT   target ...   measured ...   ratio ...   PASS | MISS
# and all of them again at the end of the run.
#
# Everything runs on 127.0.0.1 in a temporary folder that is removed on
# exit, together with every server this script started.  Needs wrk, curl,
# jq, ss, awk and nginx (Debian nginx-light, /usr/sbin/nginx).
#
# Settings (environment): BENCH_CLIPS (100000), BENCH_MILLION_CLIPS
# (1000000), BENCH_URLS (1200), BENCH_MIX_SEED (1), BENCH_DURATION (10s) and
# BENCH_WARMUP (2s) for the mixed load, BENCH_HOT_DURATION (5s) and
# BENCH_HOT_WARMUP (1s) for each hot-URL case, BENCH_THREADS (2),
# BENCH_CONNECTIONS (64), BENCH_TIMEOUT (30s), BENCH_SEED_TIMEOUT (3600 s),
# BENCH_FETCH_TIMEOUT (1800 s: fetching every URL once from kindling),
# NGINX (/usr/sbin/nginx).  See ingest.sh and upload.sh for theirs.
#
# nginx is set up as Debian's /etc/nginx/nginx.conf has it where it counts
# (sendfile on, tcp_nopush on; 2 workers), with its access log on, as
# kindling's is.  The measured mixed-load runs leave response() out of the
# wrk script (defining it makes wrk hand every header and body to Lua, which
# halves what it can ask of nginx on a small machine and would flatter
# kindling's ratio); their statuses are read from both servers' access
# logs, and the warm-ups count them in wrk as well.
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
SECTIONS=${BENCH_SECTIONS:-list list-pg media ingest nodes upload}
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
for s in $SECTIONS; do
	case "$s" in list | list-pg | million | media | ingest | nodes | upload) ;; *)
		echo "bench: unknown section '$s' in BENCH_SECTIONS (list, list-pg, million, media, ingest, nodes, upload)" >&2
		exit 2 ;;
	esac
done

CLIPS=${BENCH_CLIPS:-100000}
MILLION=${BENCH_MILLION_CLIPS:-1000000}
N_URLS=${BENCH_URLS:-1200}
MIX_SEED=${BENCH_MIX_SEED:-1}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-2s}
HOT_DURATION=${BENCH_HOT_DURATION:-5s}
HOT_WARMUP=${BENCH_HOT_WARMUP:-1s}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_TIMEOUT=${BENCH_TIMEOUT:-30s}
SEED_TIMEOUT=${BENCH_SEED_TIMEOUT:-3600}
FETCH_TIMEOUT=${BENCH_FETCH_TIMEOUT:-1800}
NGINX=${NGINX:-/usr/sbin/nginx}
case "$CLIPS$MILLION$N_URLS$MIX_SEED$THREADS$CONNS$SEED_TIMEOUT" in *[!0-9]*)
	echo "bench: BENCH_CLIPS, BENCH_MILLION_CLIPS, BENCH_URLS, BENCH_MIX_SEED, BENCH_THREADS, BENCH_CONNECTIONS and BENCH_SEED_TIMEOUT are whole numbers" >&2
	exit 2 ;;
esac

# stop_pid, die, now, elapsed, sample_rss, goal_*: bench/lib.sh
. "$HERE/lib.sh"

if want list || want list-pg || want million; then
	for tool in wrk curl jq ss awk "$NGINX"; do
		command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (make deps-bench installs it)"
	done
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/kindling-bench.XXXXXX")
KD_PID=""
NGX_PID=""
SAMPLER=""
SECTION_PID=""
export BENCH_GOALS="$W/goals.txt"
: >"$BENCH_GOALS"

# The sections after the catalogue ones, each a script or program of its
# own that cleans up after itself.  Run in the background and waited for, so
# that a TERM here reaches it at once (stop_section).
SECTION_TIMES=""
section_time() { # name t0
	SECTION_TIMES="$SECTION_TIMES${SECTION_TIMES:+, }$1 $(awk -v s="$(elapsed "$2" "$(now)")" 'BEGIN { printf "%.0f", s }') s"
}
run_more() {
	local s rc media t0
	for s in media ingest nodes upload; do
		want "$s" || continue
		echo
		t0=$(now)
		if [ "$s" = media ]; then
			# in-process probe and images beside ffprobe (bench/media.c)
			media="$(dirname "$BIN")/bench/media"
			if [ ! -x "$media" ]; then
				echo "media: skipped: there is no $media (make bench builds it from bench/media.c)"
				continue
			fi
			"$media" </dev/null &
		else
			bash "$HERE/$s.sh" "$BIN" </dev/null &
		fi
		SECTION_PID=$!
		rc=0
		wait "$SECTION_PID" || rc=$?
		SECTION_PID=""
		[ "$rc" -eq 0 ] || return 1
		section_time "$s" "$t0"
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

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_section
	stop_bg
	[ -n "$SAMPLER" ] && kill -KILL "$SAMPLER" 2>/dev/null
	stop_pid "$KD_PID"
	stop_pid "$NGX_PID"
	[ -n "${PG_DIR:-}" ] && bash "$HERE/../tests/pg_cluster.sh" stop "$PG_DIR"
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

ms_of() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; } # seconds -> ms
thousands() { # 22031.4 -> 22,031
	awk -v x="$1" 'BEGIN {
		s = sprintf("%.0f", x); o = ""
		while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
		print s o
	}'
}

# --- kindling serve ------------------------------------------------------------
# start_kindling DATA LOG: sets KD_PID, KD, KD_LOG and KD_START_S (launch to
# its "serving" line).  stdout carries the "serving" line; stderr the
# access log (one line per request, kept on, written to a file).
start_kindling() {
	local data=$1 i port="" t0
	KD_LOG=$2
	t0=$(now)
	"$BIN" serve --data "$data" --listen 127.0.0.1:0 >"$KD_LOG.out" 2>"$KD_LOG" &
	KD_PID=$!
	for i in $(seq 1 1500); do # up to 30 s
		port=$(sed -n 's|^kindling: serving http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' \
			"$KD_LOG.out" 2>/dev/null | head -n 1)
		[ -n "$port" ] && break
		kill -0 "$KD_PID" 2>/dev/null || { cat "$KD_LOG" >&2; die "kindling serve exited"; }
		sleep 0.02
	done
	[ -n "$port" ] || { tail -n 20 "$KD_LOG" >&2; die "kindling serve did not start in 30 s"; }
	KD_START_S=$(elapsed "$t0" "$(now)")
	KD="http://127.0.0.1:$port"
}
stop_kindling() {
	stop_pid "$KD_PID"
	KD_PID=""
}

# Wait until kindling has written no access-log line for 1 s (at most 30 s):
# the server is done with what the last wrk run left queued.
wait_idle() {
	local i last=-1 n
	for i in $(seq 1 30); do
		n=$(wc -l <"$KD_LOG")
		[ "$n" = "$last" ] && return 0
		last=$n
		sleep 1
	done
}

# --- nginx -------------------------------------------------------------------------
# start_nginx ROOT: nginx serving ROOT, each mixed-load URL at its own path:
# PATH?QUERY is the file ROOT/PATH/__QUERY (try_files on the raw query
# string); ROOT/hot/ holds the hot-URL bodies.  Sets NGX_PID, NG, N.
start_nginx() {
	local root=$1 user_line="" attempt i up port
	N="$W/nginx"
	rm -rf "$N"
	mkdir -p "$N/logs" "$N/tmp"
	if [ "$(id -u)" = 0 ]; then
		# Workers would switch to "nobody", who cannot enter the private
		# temp folder; keep them as the current user, as when unprivileged.
		user_line="user $(id -un) $(id -gn);"
	fi
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		cat >"$N/nginx.conf" <<EOF
$user_line
daemon off;
master_process on;
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log warn;
events { worker_connections 1024; }
http {
    # as Debian's /etc/nginx/nginx.conf has it: files sent with sendfile(2)
    sendfile on;
    tcp_nopush on;
    access_log $N/logs/access.log;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fastcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $root;
        location /hot/ { default_type application/json; }
        location /api/ { default_type application/json; try_files "\$uri/__\$args" =404; }
        location / { default_type "text/html; charset=utf-8"; try_files "\$uri/__\$args" =404; }
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
			if curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$port/"; then
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
	NG="http://127.0.0.1:$port"
}
stop_nginx() {
	stop_pid "$NGX_PID"
	NGX_PID=""
}

# --- the people ---------------------------------------------------------------------
SCHOOLS="north-high riverside-elementary lakeview-middle westside-academy eastgate-primary"

# make_people DATA OUT: 52 accounts with passwords; OUT gets one line each:
# INDEX ROLE SCHOOL NAME TOKEN (tab-separated; SCHOOL "-" for admins).
make_people() {
	local data=$1 out=$2 i=0 s k role name school
	: >"$out"
	add_one() { # role school name
		local o="$W/user.out"
		printf 'bench password %s\n' "$i" | timeout 60 "$BIN" user add --data "$data" \
			--name "$3" --role "$1" ${2:+--school "$2"} --password-stdin >"$o" 2>"$W/user.err" ||
			{ cat "$o" "$W/user.err" >&2; die "user add '$3' failed"; }
		local token
		token=$(tail -n 1 "$o" | tr -d '[:space:]')
		case "$token" in kd_*) ;; *) cat "$o" >&2; die "user add '$3' printed no token" ;; esac
		printf '%d\t%s\t%s\t%s\t%s\n' "$i" "$1" "${2:--}" "$3" "$token" >>"$out"
		i=$((i + 1))
	}
	add_one admin "" "Bench Admin 1"
	add_one admin "" "Bench Admin 2"
	for s in $SCHOOLS; do
		add_one principal "$s" "Bench Principal $s"
		add_one coach "$s" "Bench Coach $s 1"
		add_one coach "$s" "Bench Coach $s 2"
		for k in 1 2 3 4 5 6 7; do
			add_one teacher "$s" "Bench Teacher $s $k"
		done
	done
}

# sign_in PEOPLE OUT: POST /login for each person (a session cookie each);
# OUT gets the people lines with the session id as a sixth field.
sign_in() {
	local in=$1 out=$2 idx role school name token code sid
	: >"$out"
	while IFS=$'\t' read -r idx role school name token; do
		code=$(curl -sS --max-time 30 -o /dev/null -D "$W/login.h" -w '%{http_code}' \
			--data-urlencode "name=$name" --data-urlencode "password=bench password $idx" \
			--data-urlencode "next=/" "$KD/login") || die "POST /login as '$name' failed"
		sid=$(sed -n 's/^[Ss]et-[Cc]ookie: kd_session=\([^;]*\);.*/\1/p' "$W/login.h" | tr -d '\r' | head -n 1)
		[ "$code" = 303 ] && [ -n "$sid" ] ||
			{ cat "$W/login.h" >&2; die "POST /login as '$name' answered $code without a session"; }
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$idx" "$role" "$school" "$name" "$token" "$sid" >>"$out"
	done <"$in"
}

# --- wrk -----------------------------------------------------------------------------
# parse_mixed: the done() lines of bench/mixed.lua on stdin -> "rps p50 p90
# p99 p999 max sockerr mbps requests wrk_status_errors statuses" (ms;
# statuses, when counted, as CODE:N,CODE:N, else "-").
parse_mixed() {
	awk '
	$1 == "requests" { req = $2 }
	$1 == "duration_us" { dur = $2 }
	$1 == "bytes" { bytes = $2 }
	$1 == "latency_us" { lat[$2] = $3 / 1000 }
	$1 == "errors" { sock = $3 + $5 + $7 + $9; st4 = $11 }
	$1 == "status" { st = st (st == "" ? "" : ",") $2 ":" $3 }
	END {
		if (dur == "" || dur <= 0) exit 1
		printf "%.1f %.2f %.2f %.2f %.2f %.2f %d %.1f %d %d %s\n", req / (dur / 1e6), lat["p50"],
			lat["p90"], lat["p99"], lat["p999"], lat["max"], sock, bytes / (dur / 1e6) / 1e6,
			req, st4, (st == "" ? "-" : st)
	}'
}

# log_statuses LOG FROM TO: "NON2XX CODE:N,CODE:N" of the requests in lines
# FROM..TO of an access log (kindling's: "GET /path" 200 1.2ms; nginx's
# combined format: "GET /path HTTP/1.1" 200 1234).
log_statuses() {
	sed -n "$2,$3p" "$1" | sed -n 's/.*"[A-Z][A-Z]* [^"]*" \([0-9][0-9][0-9]\) .*/\1/p' |
		sort | uniq -c | awk '
		{ st = st (st == "" ? "" : ",") $2 ":" $1; if ($2 !~ /^2/) bad += $1; n += $1 }
		END { printf "%d %s %d\n", bad, (st == "" ? "none" : st), n }'
}

# run_mixed KEY BASE_URL ACCESS_LOG: warm-up, then the measured run, of the
# mixed load; sets MIXED[KEY] ("parse_mixed's fields, then NON2XX STATUSES
# LOGGED from the access log of the measured run, then the warm-up's
# statuses").  The warm-up counts statuses in wrk (response()); the measured
# run does not (see bench/mixed.lua), its statuses come from the server's
# access log.  The warm-up starts at the first URL of each thread's share,
# the measured run a quarter of the list further on, so a slow server does
# not see again in the measured run what the warm-up just asked.
declare -A MIXED
run_mixed() {
	local key=$1 url=$2 log=$3 out="$W/wrk.$1.txt" n from to warm
	n=$(wc -l <"$REQS")
	bg_wait timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout "$WRK_TIMEOUT" \
		-s "$HERE/mixed.lua" "$url" -- "$REQS" "$THREADS" 0 count >"$W/wrk.warmup.$key.txt" 2>&1 ||
		{ cat "$W/wrk.warmup.$key.txt" >&2; die "wrk (mixed load, warm-up) failed on $url"; }
	warm=$(parse_mixed <"$W/wrk.warmup.$key.txt" | awk '{ print $NF }') || warm="?"
	[ "$key" = kd ] && wait_idle
	MIXED_FROM=$(($(wc -l <"$KD_LOG") + 1))
	from=$(($(wc -l <"$log") + 1))
	bg_wait timeout 300 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout "$WRK_TIMEOUT" \
		-s "$HERE/mixed.lua" "$url" -- "$REQS" "$THREADS" $((n / THREADS / 4)) >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk (mixed load) failed on $url"; }
	MIXED[$key]=$(parse_mixed <"$out") || { cat "$out" >&2; die "cannot read wrk's output for $url"; }
	[ "$key" = kd ] && wait_idle
	MIXED_TO=$(wc -l <"$KD_LOG")
	to=$(wc -l <"$log")
	MIXED[$key]="${MIXED[$key]} $(log_statuses "$log" "$from" "$to") $warm"
}

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

# kindling's own time per request (access log lines FROM..TO, request start
# to completion): service time without wrk's queueing on the connection.
# With GROUP, one figure per kind of path.
server_ms() { # from to [group]
	sed -n "$1,$2p" "$KD_LOG" |
		sed -n 's/.*"GET \([^"]*\)" [0-9]* \([0-9.]*\)ms.*/\1 \2/p' |
		awk -v group="${3:-}" '
		function kind(p) {
			if (!group) return "all"
			if (p ~ /^\/api\/v1\/clips$/) return "API lists (filters and q=)"
			if (p ~ /^\/practices\//) return "practice pages"
			if (p ~ /^\/schools\//) return "school pages"
			if (p ~ /^\/search$/) return "search pages"
			return "other"
		}
		{ print kind($1) "\t" $2 }' | sort -t "$(printf '\t')" -k1,1 -k2,2g |
		awk -F'\t' -v group="${3:-}" '
		function flush(   q) {
			if (m == 0) return
			q = int(m * 0.99); if (q < 1) q = 1
			n++; name[n] = k; cnt[n] = m; med[n] = v[int((m + 1) / 2)]; p99[n] = v[q]; sum[n] = t; all += t
		}
		$1 != k { flush(); k = $1; m = 0; t = 0 }
		{ v[++m] = $2; t += $2 }
		END {
			flush()
			for (i = 1; i <= n; i++) {
				out = out sep sprintf("%s%.1f ms median, %.1f ms p99, %.2f ms mean (%d requests%s)",
					group ? name[i] ": " : "", med[i], p99[i], sum[i] / cnt[i], cnt[i],
					group && all > 0 ? sprintf(", %.0f%% of the time", 100 * sum[i] / all) : "")
				sep = "; "
			}
			print (out == "" ? "n/a" : out)
		}'
}

declare -A RES SERVER_MS
run_wrk() { # key url [extra header]
	local key=$1 url=$2 out="$W/wrk.$1.txt" from
	local -a extra=()
	[ -n "${3:-}" ] && extra=(-H "$3")
	bg_wait timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$HOT_WARMUP" --timeout "$WRK_TIMEOUT" \
		-H "Authorization: Bearer $TOKEN" "${extra[@]}" "$url" >/dev/null 2>&1 || true
	[ "${key%%.*}" = kd ] && wait_idle
	from=$(($(wc -l <"$KD_LOG") + 1))
	bg_wait timeout 180 wrk -t"$THREADS" -c"$CONNS" -d"$HOT_DURATION" --timeout "$WRK_TIMEOUT" --latency \
		-H "Authorization: Bearer $TOKEN" "${extra[@]}" "$url" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed on $url"; }
	RES[$key]=$(parse_wrk <"$out") || { cat "$out" >&2; die "cannot read wrk's output for $url"; }
	[ "${key%%.*}" = kd ] && wait_idle
	if [ "${key%%.*}" = kd ]; then
		SERVER_MS[$key]="$(server_ms "$from" "$(wc -l <"$KD_LOG")"), incl. those still queued when wrk stopped"
	fi
}

# --- one catalogue: the mixed load, and (HOT=1) the hot URLs beside it --------------------
# catalogue_section CLIPS HOT P99_TARGET_MS
catalogue_section() {
	local clips=$1 hot=$2 p99_target=$3
	local C="$W/c$clips" D="$W/c$clips/data" seed_s t0 t1 i
	local label
	label="$(thousands "$clips") clips${BACKEND_LABEL:-}"
	mkdir -p "$C"

	# 1. the catalogue, the people, one real clip
	echo "bench: seeding $clips clips in $D ..." >&2
	t0=$(now)
	bg_wait timeout "$SEED_TIMEOUT" "$BIN" seed --data "$D" --clips "$clips" >"$C/seed.log" 2>&1 ||
		{ cat "$C/seed.log" >&2; die "seed failed"; }
	t1=$(now)
	seed_s=$(elapsed "$t0" "$t1")
	# PostgreSQL: the seed's 100,000 single-row commits leave as many dead
	# row versions (the generation's row, changes): vacuumed now, as a
	# catalogue in use has been long since, not by autovacuum mid-measure
	if [ -n "${KINDLING_DATABASE:-}" ]; then
		psql -X -q -d "$KINDLING_DATABASE" -c "VACUUM ANALYZE" >/dev/null ||
			die "VACUUM ANALYZE after the seed failed"
	fi
	echo "bench: 52 people, one real clip ..." >&2
	make_people "$D" "$C/people0.tsv"
	# One real clip, through the real pipeline, for the media cases: 10 s of
	# 720p at about 4 Mb/s, so its rendition is well over 1 MiB.
	ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
		-f lavfi -i sine=frequency=440 -t 10 -c:v libx264 -b:v 4M -pix_fmt yuv420p -c:a aac \
		"$C/real.mp4" || die "ffmpeg could not make the sample clip"
	timeout 300 "$BIN" ingest --data "$D" --school north-high --practice station-rotation \
		--title "Bench clip" --wait --json "$C/real.mp4" >"$C/ingest.out" 2>"$C/ingest.err" ||
		{ cat "$C/ingest.out" "$C/ingest.err" >&2; die "ingest of the sample clip failed"; }
	local real
	real=$(jq -r .id "$C/ingest.out")
	rm -f "$C/real.mp4"

	# 2. first server: sessions, then every body once
	start_kindling "$D" "$C/serve1.err"
	echo "bench: signing in 52 people ..." >&2
	sign_in "$C/people0.tsv" "$C/people.tsv"
	TOKEN=$(awk -F'\t' '$2 == "teacher" { print $5; exit }' "$C/people.tsv")

	awk -v seed="$MIX_SEED" -v n="$N_URLS" -v clips="$clips" -v people=52 -f "$HERE/mix.awk" \
		>"$C/mix.tsv" || die "bench/mix.awk failed"
	# the wrk list: PATH?QUERY <tab> the person's header (API: token; pages: cookie)
	REQS="$C/requests.tsv"
	awk -F'\t' 'NR == FNR { tok[$1] = $5; sid[$1] = $6; next }
		{
			h = ($1 == "api" || $1 == "fts") ? "Authorization: Bearer " tok[$3] : "Cookie: kd_session=" sid[$3]
			print $2 "\t" h
		}' "$C/people.tsv" "$C/mix.tsv" >"$REQS"
	# curl's list: each URL with its header, its body to ROOT/PATH/__QUERY
	local root="$C/www"
	mkdir -p "$root"
	mixed_fetch_config() { # base_url out_root
		awk -F'\t' -v base="$1" -v root="$2" '{
			u = $1; p = u; q = ""
			if ((i = index(u, "?")) > 0) { p = substr(u, 1, i - 1); q = substr(u, i + 1) }
			if (NR > 1) print "next"
			printf "url = \"%s%s\"\noutput = \"%s%s/__%s\"\nheader = \"%s\"\n", base, u, root, p, q, $2
			printf "write-out = \"%%{http_code} %%{size_download} %%{time_total} %%{url_effective}\\n\"\n"
			printf "silent\nshow-error\ncreate-dirs\ngloboff\nmax-time = 300\n"
		}' "$REQS"
	}
	echo "bench: fetching the $N_URLS URLs of the mixed load once from kindling ..." >&2
	mixed_fetch_config "$KD" "$root" >"$C/fetch.cfg"
	t0=$(now)
	bg_wait timeout "$FETCH_TIMEOUT" curl -sS -Z --parallel-max 4 -K "$C/fetch.cfg" >"$C/fetch.out" 2>"$C/fetch.err" ||
		{ tail -n 5 "$C/fetch.err" >&2; die "curl could not fetch the mixed load's URLs from kindling"; }
	t1=$(now)
	local fetch_s bad
	fetch_s=$(elapsed "$t0" "$t1")
	[ "$(wc -l <"$C/fetch.out")" -eq "$N_URLS" ] || die "curl answered $(wc -l <"$C/fetch.out") of $N_URLS URLs"
	bad=$(awk '$1 != 200' "$C/fetch.out")
	if [ -n "$bad" ]; then
		echo "$bad" | head -n 10 >&2
		die "$(echo "$bad" | wc -l) of the $N_URLS URLs did not answer 200 (above, at most 10)"
	fi
	# what the bodies hold: API lists (JSON, clips and total), pages (a grid or not)
	(cd "$root" && find api -type f -print0 | xargs -0 jq -r '[input_filename, (.clips | length), .total] | @tsv') \
		>"$C/api_counts.tsv" || die "an API body of the mixed load is not the JSON of a list"
	local api_n api_empty page_n page_empty bytes_all med_bytes
	api_n=$(wc -l <"$C/api_counts.tsv")
	api_empty=$(awk -F'\t' '$2 == 0' "$C/api_counts.tsv" | wc -l)
	page_n=$(cd "$root" && find practices schools search -type f | wc -l)
	page_empty=$(cd "$root" && find practices schools search -type f -print0 |
		xargs -0 grep -L '<ul class="grid">' | wc -l)
	read -r bytes_all med_bytes < <(awk '{ print $2 }' "$C/fetch.out" | sort -n |
		awk '{ v[NR] = $1; s += $1 } END { printf "%d %d\n", s, v[int((NR + 1) / 2)] }')
	local fetch_med fetch_max slowest
	read -r fetch_med fetch_max < <(awk '{ print $3 }' "$C/fetch.out" | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.1f %.1f\n", v[int((NR + 1) / 2)] * 1000, v[NR] * 1000 }')
	slowest=$(sort -k3,3gr "$C/fetch.out" | head -n 5 | awk -v base="$KD" '{
		u = $4; sub("^" base, "", u)
		printf "%s%s %.1f ms", (NR > 1 ? ", " : ""), u, $3 * 1000 }')

	# the hot URLs' bodies (the list API, a practice page, a thumbnail, a
	# video: nginx gets the same bytes as files under /hot/)
	local -a NAMES LABELS PATHS EXTRA ONE_SHOT
	if [ "$hot" = 1 ]; then
		NAMES=(practice fts page thumb range)
		LABELS=("practice filter" "full-text q=station" "practice page (HTML)" "thumbnail" \
			"1 MiB Range of video")
		PATHS=("/api/v1/clips?practice=blended-learning" "/api/v1/clips?q=station" \
			"/practices/blended-learning" "/media/clips/$real/thumbnail.jpg" \
			"/media/clips/$real/video.mp4")
		EXTRA=("" "" "" "" "Range: bytes=0-1048575")
		mkdir -p "$root/hot"
		for i in "${!NAMES[@]}"; do
			local f="$root/hot/${NAMES[$i]}.json" code t_total
			read -r code t_total < <(curl -sS --max-time 60 -o "$f" -w '%{http_code} %{time_total}\n' \
				-H "Authorization: Bearer $TOKEN" "$KD${PATHS[$i]}")
			[ "$code" = 200 ] || { head -c 300 "$f" >&2; die "GET ${PATHS[$i]} answered $code"; }
			case "${PATHS[$i]}" in
			/api/*) jq -e '.clips | length > 0' "$f" >/dev/null || die "GET ${PATHS[$i]} returned no clips" ;;
			esac
			ONE_SHOT[$i]=$t_total
		done
	fi
	stop_kindling

	# 3. nginx, serving the same bytes at the same paths
	start_nginx "$root"
	echo "bench: checking that nginx serves the same bytes ..." >&2
	mixed_fetch_config "$NG" "$C/check" >"$C/check.cfg"
	bg_wait timeout 600 curl -sS -Z --parallel-max 4 -K "$C/check.cfg" >"$C/check.out" 2>"$C/check.err" ||
		{ tail -n 5 "$C/check.err" >&2; die "curl could not fetch the mixed load's URLs from nginx"; }
	bad=$(awk '$1 != 200' "$C/check.out")
	[ -z "$bad" ] || { echo "$bad" | head -n 5 >&2; die "nginx did not answer 200 for every URL"; }
	diff -r -q "$root" "$C/check" -x hot >"$C/check.diff" 2>&1 ||
		{ head -n 5 "$C/check.diff" >&2; die "nginx does not serve the same bytes as kindling"; }
	rm -rf "$C/check"
	if [ "$hot" = 1 ]; then
		for i in "${!NAMES[@]}"; do
			curl -sS --max-time 10 -o "$W/check.json" "$NG/hot/${NAMES[$i]}.json"
			cmp -s "$W/check.json" "$root/hot/${NAMES[$i]}.json" ||
				die "nginx does not serve the same bytes for ${NAMES[$i]}"
		done
	fi

	# 4. kindling again, fresh: the first request of each kind after a restart
	echo "bench: restarting kindling; the first request of each kind ..." >&2
	start_kindling "$D" "$C/serve2.err"
	local -a FK FU FH
	local kind
	for kind in api fts practice school search; do
		i=$(awk -F'\t' -v k="$kind" '$1 == k { print NR; exit }' "$C/mix.tsv")
		[ -n "$i" ] || continue
		FK+=("$kind")
		FU+=("$(sed -n "${i}p" "$REQS" | cut -f1)")
		FH+=("$(sed -n "${i}p" "$REQS" | cut -f2)")
	done
	FK+=(clip thumbnail)
	FU+=("/api/v1/clips/$real" "/media/clips/$real/thumbnail.jpg")
	FH+=("Authorization: Bearer $TOKEN" "Authorization: Bearer $TOKEN")
	local -a FT
	local first_text="" worst=0 worst_kind="" code t_total
	for i in "${!FK[@]}"; do
		read -r code t_total < <(curl -sS --max-time 60 -o "$W/first.body" \
			-w '%{http_code} %{time_total}\n' -H "${FH[$i]}" "$KD${FU[$i]}")
		[ "$code" = 200 ] || { head -c 300 "$W/first.body" >&2; die "GET ${FU[$i]} answered $code after the restart"; }
		FT[$i]=$(ms_of "$t_total")
		if awk -v a="${FT[$i]}" -v b="$worst" 'BEGIN { exit !(a > b) }'; then
			worst=${FT[$i]}
			worst_kind=${FK[$i]}
		fi
		first_text="$first_text${first_text:+, }${FK[$i]} ${FT[$i]} ms"
	done

	# 5. the mixed load: kindling (memory sampled), then nginx
	echo "bench: wrk, the mixed load on kindling ..." >&2
	sample_rss "$KD_PID" "$C/rss" 0.1 &
	SAMPLER=$!
	run_mixed kd "$KD" "$KD_LOG"
	local hwm_kb kd_threads peak_kb samples
	hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$KD_PID/status")
	kd_threads=$(awk '/^Threads:/ { print $2 }' "/proc/$KD_PID/status")
	stop_sampler "$SAMPLER" "$C/rss"
	SAMPLER=""
	read -r peak_kb _ samples <"$C/rss" || true
	local mixed_server_ms
	mixed_server_ms=$(server_ms "$MIXED_FROM" "$MIXED_TO" group)
	local kd_log_mixed=$((MIXED_TO - MIXED_FROM + 1))
	echo "bench: wrk, the mixed load on nginx ..." >&2
	run_mixed ng "$NG" "$N/logs/access.log"

	# 6. the hot URLs, beside it (the same servers)
	if [ "$hot" = 1 ]; then
		for i in "${!NAMES[@]}"; do
			echo "bench: wrk ${LABELS[$i]} on kindling ..." >&2
			run_wrk "kd.$i" "$KD${PATHS[$i]}" "${EXTRA[$i]}"
			echo "bench: wrk ${LABELS[$i]} on nginx ..." >&2
			run_wrk "ng.$i" "$NG/hot/${NAMES[$i]}.json" "${EXTRA[$i]}"
		done
	fi
	local hwm_end_kb kd_log_lines
	hwm_end_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$KD_PID/status" 2>/dev/null || echo "")
	kd_log_lines=$(wc -l <"$KD_LOG")
	stop_kindling
	stop_nginx

	# 7. the tables
	local kinds
	kinds=$(cut -f1 "$C/mix.tsv" | sort | uniq -c | awk '
		{ c[$2] = $1 }
		END { printf "%d API lists, %d full-text API, %d practice pages, %d school pages, %d search pages", c["api"], c["fts"], c["practice"], c["school"], c["search"] }')
	local k_rps k_p50 k_p90 k_p99 k_p999 k_max k_sock k_mbps k_req k_st4 k_bad k_st k_logged k_warm
	local n_rps n_p50 n_p90 n_p99 n_p999 n_max n_sock n_mbps n_req n_st4 n_bad n_st n_logged n_warm
	local ratio
	read -r k_rps k_p50 k_p90 k_p99 k_p999 k_max k_sock k_mbps k_req k_st4 _ k_bad k_st k_logged k_warm \
		<<<"${MIXED[kd]}"
	read -r n_rps n_p50 n_p90 n_p99 n_p999 n_max n_sock n_mbps n_req n_st4 _ n_bad n_st n_logged n_warm \
		<<<"${MIXED[ng]}"
	# a status over 399 that wrk saw but the log did not show still counts
	[ "$k_st4" -gt "$k_bad" ] && k_bad=$k_st4
	[ "$n_st4" -gt "$n_bad" ] && n_bad=$n_st4
	ratio=$(awk -v a="$k_rps" -v b="$n_rps" 'BEGIN { if (a > 0 && b > 0) printf "%.6g", a / b; else print "n/a" }')
	echo
	echo "Mixed load, the main case: $label from kindling seed; $N_URLS distinct URLs ($kinds; bench/mix.awk, seed $MIX_SEED), each asked as one of 52 people (2 admins, 5 principals, 10 coaches, 35 teachers; API token or session cookie); wrk -t$THREADS -c$CONNS -d$DURATION --timeout $WRK_TIMEOUT (warm-up $WARMUP) cycling through them (bench/mixed.lua); nginx serves the same bodies as static files at the same paths, without sign-in; loopback, $(nproc) cores"
	printf '%-9s %10s %9s %9s %9s %9s %9s %8s %9s %8s %s\n' server req/s "p50 ms" "p90 ms" "p99 ms" \
		"p99.9 ms" "max ms" "MB/s" requests non-2xx "socket errors"
	printf '%-9s %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f %8.1f %9d %8d %d\n' kindling "$k_rps" "$k_p50" \
		"$k_p90" "$k_p99" "$k_p999" "$k_max" "$k_mbps" "$k_req" "$k_bad" "$k_sock"
	printf '%-9s %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f %8.1f %9d %8d %d\n' nginx "$n_rps" "$n_p50" \
		"$n_p90" "$n_p99" "$n_p999" "$n_max" "$n_mbps" "$n_req" "$n_bad" "$n_sock"
	awk -v a="$k_rps" -v b="$n_rps" 'BEGIN {
		if (a > 0 && b > 0) printf "  ratio kindling/nginx: %.2gx req/s (nginx %.0fx more)\n", a / b, b / a
		else print "  ratio kindling/nginx: n/a"
	}'
	echo "  statuses of the measured run, from the access logs (they also hold what was still queued when wrk stopped): kindling $k_st ($k_logged lines), nginx $n_st ($n_logged lines); counted by wrk in the warm-up (response()): kindling $k_warm, nginx $n_warm"
	if [ "$k_bad" -ne 0 ] || [ "$k_sock" -ne 0 ]; then
		echo "  WARNING: kindling answered $k_bad requests with a status other than 2xx and wrk counted $k_sock socket errors (timeouts after $WRK_TIMEOUT count here): read the figures above with that in mind"
	fi
	awk -v c="$(thousands "$clips")" -v n="$N_URLS" -v k="$k_rps" -v p="$k_p99" -v g="$n_rps" -v r="$ratio" '
	function lat(ms) { return ms >= 1000 ? sprintf("%.1f s", ms / 1000) : sprintf("%.0f ms", ms) }
	function big(x,   s, o) { s = sprintf("%.0f", x); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }; return s o }
	BEGIN {
		printf "Tried as a district would use it (%s clips from `kindling seed`; 64 connections cycling through %s distinct URLs: API lists by practice, school, grade, subject, sort and page, full-text queries, practice, school and search pages; as 52 different people), kindling answered %s requests a second with a p99 of %s, while nginx served the same bodies at %s: %sx.\n",
			c, big(n), (k < 100 ? sprintf("%.1f", k) : big(k)), lat(p), big(g), (r == "n/a" ? r : (r < 0.1 ? sprintf("%.2g", r) : sprintf("%.2f", r)))
	}'
	echo "bodies: every URL fetched once from kindling, all 200 ($fetch_s s, 4 at a time; one request median $fetch_med ms, slowest $fetch_max ms); $(awk -v b="$bytes_all" 'BEGIN { printf "%.1f MB", b / 1e6 }') in all, median $med_bytes bytes; API lists with no clips: $api_empty of $api_n; pages with no clips: $page_empty of $page_n"
	echo "slowest of that pass (4 at a time, so waits included): $slowest"
	echo "first request of each kind after a restart (a new curl each, time_total; the server took $(ms_of "$KD_START_S") ms from launch to its serving line): $first_text; worst $worst ms ($worst_kind)"
	echo "kindling server under the mixed load: peak VmRSS $(mib "${peak_kb:-}") MiB (sampled every 100 ms, $samples samples), VmHWM since the restart $(mib "$hwm_kb") MiB, $kd_threads threads"
	echo "kindling's own time per request under the mixed load (access log, $kd_log_mixed lines, incl. those still queued when wrk stopped): $mixed_server_ms"
	echo "seed of $clips clips: $seed_s s"

	if [ "$hot" = 1 ]; then
		echo
		echo "Hot URL, beside it: one URL asked again and again (the same catalogue and servers), wrk -t$THREADS -c$CONNS -d$HOT_DURATION --timeout $WRK_TIMEOUT (warm-up $HOT_WARMUP)"
		printf '%-22s %-9s %10s %9s %9s %8s %7s\n' case server req/s "p50 ms" "p99 ms" bytes errors
		for i in "${!NAMES[@]}"; do
			local bytes s name rps p50 p99 errs
			bytes=$(wc -c <"$root/hot/${NAMES[$i]}.json")
			[ -n "${EXTRA[$i]}" ] && bytes=1048576
			for s in kd ng; do
				read -r rps p50 p99 errs <<<"${RES[$s.$i]}"
				name=kindling
				[ "$s" = ng ] && name=nginx
				printf '%-22s %-9s %10.1f %9.2f %9.2f %8d %7d\n' "${LABELS[$i]}" "$name" "$rps" "$p50" \
					"$p99" "$bytes" "$errs"
			done
			local kd_rps ng_rps
			read -r kd_rps _ <<<"${RES[kd.$i]}"
			read -r ng_rps _ <<<"${RES[ng.$i]}"
			awk -v a="$kd_rps" -v b="$ng_rps" 'BEGIN {
				if (a > 0 && b > 0) printf "  ratio kindling/nginx: %.2gx req/s (nginx %.0fx more)\n", a / b, b / a
				else print "  ratio kindling/nginx: n/a"
			}'
		done
		echo "errors: non-2xx/3xx responses + wrk socket errors (connect/read/write/timeout after $WRK_TIMEOUT)"
		for i in "${!NAMES[@]}"; do
			local total=""
			case "${PATHS[$i]}" in
			/api/*) total="total matches $(jq -r .total "$root/hot/${NAMES[$i]}.json"); " ;;
			esac
			echo "${LABELS[$i]}: ${total}one request alone (curl): $(ms_of "${ONE_SHOT[$i]}") ms; under load kindling's own time per request (access log): ${SERVER_MS[kd.$i]}"
		done
		echo "kindling server peak RSS (VmHWM) since the restart, after the hot URLs too: $(mib "$hwm_end_kb") MiB"
		echo "access logs on for both: kindling $kd_log_lines lines since the restart (stderr to a file), nginx $(wc -l <"$N/logs/access.log") lines"
	fi

	# 8. the goals
	echo
	local at="$label"
	goal_ratio "mixed load ($at): req/s vs nginx" 0.5 "$ratio" \
		"$k_rps vs $n_rps req/s"
	goal_below "mixed load ($at): p99 latency" "$p99_target" ms "$k_p99"
	check_zero "mixed load ($at): non-2xx + socket errors" "$((k_bad + k_sock))" \
		"($k_bad non-2xx, $k_sock socket errors of $k_req requests)"
	goal_below "first request after a restart ($at)" 20 ms "$worst" "(worst of ${#FK[@]} kinds: $worst_kind)"
	if [ "$hot" = 1 ]; then
		goal_below "memory under the mixed load ($at)" 128 MiB "$(mib "$hwm_kb")" \
			"(VmHWM; sampled VmRSS peak $(mib "${peak_kb:-}") MiB)" le
	else
		echo "(memory at $at: VmHWM $(mib "$hwm_kb") MiB; the goal of 128 MiB is set at 100,000 clips)"
	fi
	if [ "$hot" = 1 ]; then
		local t_kd t_ng r_kd r_ng
		read -r t_kd _ <<<"${RES[kd.3]}"
		read -r t_ng _ <<<"${RES[ng.3]}"
		read -r r_kd _ <<<"${RES[kd.4]}"
		read -r r_ng _ <<<"${RES[ng.4]}"
		goal_ratio "thumbnail, sign-in + privacy vs nginx (none)" 1.0 \
			"$(awk -v a="$t_kd" -v b="$t_ng" 'BEGIN { if (a > 0 && b > 0) printf "%.6g", a / b; else print "n/a" }')" \
			"$(printf '%.1f vs %.1f req/s' "$t_kd" "$t_ng")"
		goal_ratio "1 MiB Range reads of video vs nginx" 0.9 \
			"$(awk -v a="$r_kd" -v b="$r_ng" 'BEGIN { if (a > 0 && b > 0) printf "%.6g", a / b; else print "n/a" }')" \
			"$(printf '%.1f vs %.1f req/s' "$r_kd" "$r_ng")"
	fi
	rm -rf "$C"
}

# --- the run ---------------------------------------------------------------------------------
T_RUN0=$(now)
if want list; then
	t0=$(now)
	catalogue_section "$CLIPS" 1 20
	section_time list "$t0"
fi
if want list-pg; then
	want list && echo
	t0=$(now)
	# (its own folder: the cluster runs as the postgres user, who may not
	# enter this run's private one)
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kindling-bench-pg.XXXXXX")
	PG_URL=$(bash "$HERE/../tests/pg_cluster.sh" start "$PG_DIR") || die "cannot start a PostgreSQL cluster"
	export KINDLING_DATABASE="$PG_URL"
	BACKEND_LABEL=" on PostgreSQL $(psql -X -A -t -d "$PG_URL" -c 'SHOW server_version' | cut -d' ' -f1)"
	catalogue_section "$CLIPS" 0 20
	unset KINDLING_DATABASE BACKEND_LABEL
	bash "$HERE/../tests/pg_cluster.sh" stop "$PG_DIR"
	PG_DIR=""
	section_time list-pg "$t0"
fi
if want million; then
	{ want list || want list-pg; } && echo
	t0=$(now)
	catalogue_section "$MILLION" 0 50
	section_time million "$t0"
fi
run_more || die "a section failed"

echo
RUN_S=$(awk -v s="$(elapsed "$T_RUN0" "$(now)")" 'BEGIN { printf "%.0f", s }')
echo "Goals of the speed issue, this run: $RUN_S s in all ($SECTION_TIMES), $(nproc) cores, load average $(load1) at the end"
if [ -s "$BENCH_GOALS" ]; then
	cat "$BENCH_GOALS"
	echo "$(grep -c 'PASS$' "$BENCH_GOALS" || true) PASS, $(grep -c 'MISS$' "$BENCH_GOALS" || true) MISS, $(grep -c 'n/a$' "$BENCH_GOALS" || true) not measured"
else
	echo "(none measured: sections $SECTIONS)"
fi
