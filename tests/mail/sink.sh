# tests/mail/sink.sh - sourced by the mail suites after lib.sh: a real SMTP
# server (smtp_sink.py, Debian's python3-aiosmtpd) in the background, its
# messages in a folder.  lib.sh's cleanup stops it with the suite's other
# strays.
#
#   sink_start DIR [ARGS...]   start it (ARGS: --port N, --tls-cert C --tls-key K,
#                              --auth U:P); sets SINK_DIR, SINK_PID, SINK_PORT
#   sink_stop                  stop it (SIGKILL: a server that went down)
#   sink_mode MODE             ok | tempfail | permfail | slow S | stall S
#   sink_count                 messages kept so far
#   sink_wait N [SECONDS]      until at least N are kept (default 60 s)
#   sink_to ADDR               the .eml files addressed to ADDR, one a line
SINK_PY=$ROOT/tests/mail/smtp_sink.py

sink_start() {
	SINK_DIR=$1
	shift
	mkdir -p "$SINK_DIR"
	rm -f "$SINK_DIR/port"
	/usr/bin/python3 "$SINK_PY" --dir "$SINK_DIR" "$@" >>"$SINK_DIR/sink.log" 2>&1 &
	SINK_PID=$!
	wait_until 20 test -s "$SINK_DIR/port" || return 1
	SINK_PORT=$(cat "$SINK_DIR/port")
}

sink_stop() {
	kill -KILL "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	return 0
}

sink_mode() { echo "$*" >"$SINK_DIR/mode"; }

sink_count() { find "$SINK_DIR" -name '*.eml' | wc -l; }

_sink_has() { [ "$(sink_count)" -ge "$1" ]; }
sink_wait() { wait_until "${2:-60}" _sink_has "$1"; }

sink_to() {
	local j
	for j in "$SINK_DIR"/*.json; do
		[ -e "$j" ] || continue
		jq -e --arg a "$1" '.to | index($a)' "$j" >/dev/null && echo "${j%.json}.eml"
	done
	return 0
}
