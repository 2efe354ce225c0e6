#!/usr/bin/env bash
# tests/integration/server.sh - the server's life: it picks a port and says
# which, answers /healthz, takes a burst of parallel requests, stops cleanly
# on SIGTERM, and starts again on the same data with every change kept.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/server.sh
#
# Needs curl, jq and the sqlite3 CLI (for the shared fixture).
# Last line: "server: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite server sqlite3

fixture_catalogue

# ---------------------------------------------------------------- start

start_server "$DATA" ||
	fatal "serve prints 'kindling: serving http://127.0.0.1:PORT/'" "$(log_tail)"
ok "serve --listen 127.0.0.1:0 picks a port and prints it ($PORT)"
MAIN_PID=$SERVER_PID
MAIN_LOG=$SERVER_LOG

req GET /healthz ""
check_eq "GET /healthz without a token: 200 {\"status\":\"ok\"}" "200 ok" "$STATUS $(jb .status)"
check_eq "responses are JSON, with X-Content-Type-Options: nosniff" "application/json nosniff" \
	"$(header Content-Type | cut -d';' -f1) $(header X-Content-Type-Options)"

# ---------------------------------------------------------------- concurrency

# a burst of parallel requests all succeed (more than the server's threads)
pids=()
for i in $(seq 1 12); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -H "Authorization: Bearer $ADMIN" \
		"$URL/api/v1/clips?per_page=100&q=quasar" >"$WORK/par.$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
check_eq "12 parallel requests all answer 200" 12 "$(cat "$WORK"/par.* | grep -c '^200$')"

# ---------------------------------------------------------------- restart

# Changes the restart must keep: an edited title and a deleted clip (their
# own checks are in edit.sh; here they are only set up).
patch 903 "$ADMIN" '{"title":"Marmalade physics demo"}'
[ "$STATUS" == 200 ] || fatal "set-up: PATCH clip 903's title" "status $STATUS: $(head -c 300 "$WORK/body")"
req DELETE /api/v1/clips/912 "$ADMIN"
[ "$STATUS" == 204 ] || fatal "set-up: DELETE clip 912" "status $STATUS: $(head -c 300 "$WORK/body")"
ALL=$((ALL - 1))

BEFORE_ADMIN=$(total "$ADMIN" "")
BEFORE_TN=$(total "$TEACH_N" "")
stop_server "$MAIN_PID"
check_eq "SIGTERM: the server exits with status 0" 0 "$STOP_RC"
check "the log says it stopped cleanly" grep -q 'stopped cleanly' "$MAIN_LOG"
check_server_log
OLD_PORT=$PORT
if start_server "$DATA"; then
	req GET /healthz ""
	check_status "the server starts again on the same data ($OLD_PORT -> $PORT)" 200
	check_eq "after restart: every clip is still there" "$ALL $ALL" "$BEFORE_ADMIN $(total "$ADMIN" "")"
	req GET /api/v1/clips/903 "$TEACH_N"
	check_jq "after restart: the edited title is kept" '.title == "Marmalade physics demo"'
	check_eq "after restart: a teacher's token still works and sees the same clips" \
		"$BEFORE_TN" "$(total "$TEACH_N" "")"
	req GET /api/v1/clips/912 "$ADMIN"
	check_status "after restart: the deleted clip stays deleted" 404
	stop_server
	check_eq "the restarted server stops with status 0" 0 "$STOP_RC"
else
	not_ok "the server starts again on the same data" "$(log_tail)"
fi

finish
