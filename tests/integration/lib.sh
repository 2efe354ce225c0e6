# lib.sh - what the integration suites share: a tiny check framework and
# starting the real server on a free loopback port.  Source it after
# setting WORK (a temporary folder) and BIN (the kindling binary).

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "FAIL - $1 (${2//$'\n'/ })"; }
# check NAME COMMAND...: passes when the command succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n" "false: $*"; fi; }
check_eq() { if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '${3:0:400}'"; fi; }
# check_match NAME ERE TEXT
check_match() { if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1" "'${3:0:400}' does not match /$2/"; fi; }
# near NAME A B TOLERANCE
near() { if awk -v a="$2" -v b="$3" -v t="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; then ok "$1"; else not_ok "$1" "$2 vs $3 (tolerance $4)"; fi; }
# the closing line CI reads, and the exit status
finish() { echo "$1: $PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; }

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }

# start_server DATA [PORT]: sets SERVER_PID, PORT and URL.  Port 0 (the
# default) lets the server pick a free one, which it prints on stdout.
STARTS=0
start_server() {
	STARTS=$((STARTS + 1))
	local log=$WORK/serve.$STARTS.log
	"$BIN" serve --data "$1" --listen "127.0.0.1:${2:-0}" >"$log" 2>&1 &
	SERVER_PID=$!
	PORT=""
	for _ in $(seq 300); do
		PORT=$(sed -n 's#^kindling: serving http://127.0.0.1:\([0-9]*\)/$#\1#p' "$log")
		[ -n "$PORT" ] && break
		sleep 0.1
	done
	URL=http://127.0.0.1:$PORT
}
