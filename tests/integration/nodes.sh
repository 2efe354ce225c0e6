#!/usr/bin/env bash
# tests/integration/nodes.sh - processing apart from serving, on one machine
# (the data folder shared): a web node (`serve --no-processing`) that
# processes nothing, and processing nodes (`kindling work`) that claim the
# queued clips, each at most `workers` at a time:
#
#   - an upload through the web node waits, queued, until a work node runs;
#     then it is processed there and a teacher watches it on the web node;
#   - a work node killed -9 mid-job: another node of another name takes the
#     job over once the dead one's lease has run out (job_lease_seconds),
#     and one of the same name at once (its process is gone);
#   - clips queued for two nodes are shared between them, never more at a
#     time on one node than its workers;
#   - a work node stops cleanly on SIGTERM.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/nodes.sh
#
# Last line: "nodes: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite nodes ffmpeg sqlite3 cmp

mkdir -p "$DATA"
printf 'workers = 1\njob_lease_seconds = 3\n' >"$DATA/kindling.conf"
"$BIN" school add north-high "North High" --data "$DATA" >/dev/null ||
	fatal "a school is added" "$(cat "$WORK/cli.err" 2>/dev/null)"
COACH=$(add_user coach-north coach north-high)
TEACH=$(add_user teach-north teacher north-high)

M=$WORK/media
mkdir -p "$M"
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -pix_fmt yuv420p "$M/short.mp4"
# long enough to process (a transcode) that a node can be killed in the middle
ff -f lavfi -i testsrc2=size=1280x720:rate=25:duration=40 -c:v mpeg4 -q:v 8 "$M/long.avi"
# each takes a while to process (a transcode), so that a node that starts
# a moment after another still finds work
for i in 1 2 3 4; do
	ff -f lavfi -i "testsrc=size=1280x720:rate=25:duration=$((6 + i))" -c:v mpeg4 "$M/batch$i.avi"
done

# work NAME: start a work node named NAME; its pid in WORK_PID, its log
# in $WORK/work.NAME.log.
WORK_STARTS=0
work() {
	WORK_STARTS=$((WORK_STARTS + 1))
	local log=$WORK/work.$1.$WORK_STARTS.log
	KINDLING_NODE=$1 "$BIN" work --data "$DATA" >"$log" 2>&1 &
	WORK_PID=$!
	SERVER_PIDS+=("$WORK_PID")
	SERVER_LOGS+=("$log")
	wait_until 30 grep -q "^kindling: node $1 processing" "$log" ||
		fatal "work node $1 starts" "$(tail -c 400 "$log")"
}
status() { sql "SELECT status FROM clips WHERE id = $1"; }
job_of() { sql "SELECT state || ' ' || coalesce(node, '-') || ' ' || attempts FROM jobs WHERE clip_id = $1 ORDER BY id DESC LIMIT 1"; }
is_ready() { [ "$(status "$1")" == ready ]; }
upload() {
	run_cli upload --server "$URL" --token "$COACH" --school north-high \
		--practice station-rotation --json "$1"
	jq -r .id <<<"$OUT" 2>/dev/null
}

start_server_with --data "$DATA" --listen 127.0.0.1:0 --no-processing ||
	fatal "the web node starts with --no-processing" "$(log_tail)"
WEB_LOG=$SERVER_LOG
check_match "it says it processes nothing" 'processing nothing' "$(cat "$WEB_LOG")"

# ------------------------------------------------------------ one clip
SHORT=$(upload "$M/short.mp4")
check_match "a coach uploads through the web node" '^[0-9]+$' "$SHORT"
sleep 2
check_eq "with no work node, the clip waits in the queue" queued "$(status "$SHORT")"

work node-a
A_PID=$WORK_PID
wait_until 60 is_ready "$SHORT"
check_eq "a work node processes it" ready "$(status "$SHORT")"
check_eq "its job was node-a's" "done node-a 1" "$(job_of "$SHORT")"
req GET "/media/clips/$SHORT/video.mp4" "$TEACH"
check_eq "a teacher watches it on the web node" 200 "$STATUS"
check "the bytes are the processed video" cmp -s "$WORK/body" "$DATA/media/$SHORT/video.mp4"

# ------------------------------------------------------------ takeover by lease
LONG=$(upload "$M/long.avi")
running_on_a() { [ "$(job_of "$LONG")" == "running node-a 1" ]; }
wait_until 60 running_on_a
check_eq "node-a takes the long clip" "running node-a 1" "$(job_of "$LONG")"
sleep 0.5
ZYGOTE=$(pgrep -P "$A_PID" -f -- '--zygote' | head -n 1)
kill_server "$A_PID"
check "node-a is killed -9 in the middle of it" test "$(status "$LONG")" == processing
check_match "node-a had a zygote at work" '^[0-9]+$' "$ZYGOTE"
zygote_gone() { [ -n "$ZYGOTE" ] && ! kill -0 "$ZYGOTE" 2>/dev/null; }
wait_until 10 zygote_gone
check "its worker processes die with it" zygote_gone
work node-b
B_PID=$WORK_PID
wait_until 120 is_ready "$LONG"
check_eq "node-b, another machine for all it knows, finishes it" ready "$(status "$LONG")"
check_eq "the job went to node-b, once node-a's lease ran out (a second attempt)" \
	"done node-b 2" "$(job_of "$LONG")"
check_match "node-b's log says it took the job over" 'interrupted' "$(cat "$WORK"/work.node-b.*.log)"

# ------------------------------------------------------------ same node name
# Leases of ten minutes from here: a job taken over sooner than that was
# taken over because its process is gone, not because its lease ran out.
stop_server "$B_PID"
printf 'workers = 1\njob_lease_seconds = 600\n' >"$DATA/kindling.conf"
work node-b
B_PID=$WORK_PID
sql "UPDATE clips SET status = 'queued' WHERE id = $LONG; INSERT INTO jobs (clip_id) VALUES ($LONG);"
running_on_b() { [ "$(job_of "$LONG")" == "running node-b 1" ]; }
wait_until 60 running_on_b
kill_server "$B_PID"
work node-b
B_PID=$WORK_PID
wait_until 120 is_ready "$LONG"
check_eq "a node of the same name takes a dead process's job over at once, lease or not" \
	"done node-b 2" "$(job_of "$LONG")"

# ------------------------------------------------------------ sharing
# Four clips queued while no node runs, then two nodes started.
stop_server "$B_PID"
IDS=()
for i in 1 2 3 4; do IDS+=("$(upload "$M/batch$i.avi")"); done
work node-b
B_PID=$WORK_PID
work node-c
C_PID=$WORK_PID
# The workers of a node are the children of its zygote (its job rows are
# no measure: a node claims its next job before it records the last).
most=0
workers_of() {
	local z
	z=$(pgrep -P "$1" -f -- '--zygote' | head -n 1)
	if [ -n "$z" ]; then pgrep -P "$z" | wc -l; else echo 0; fi
}
all_ready() {
	local pid n
	for pid in "$B_PID" "$C_PID"; do
		n=$(workers_of "$pid")
		[ "$n" -gt "$most" ] && most=$n
	done
	[ "$(sql "SELECT count(*) FROM clips WHERE status = 'ready' AND id IN ($(IFS=,; echo "${IDS[*]}"))")" == 4 ]
}
wait_until 180 all_ready
check_eq "four clips queued for two nodes all end ready" 4 \
	"$(sql "SELECT count(*) FROM clips WHERE status = 'ready' AND id IN ($(IFS=,; echo "${IDS[*]}"))")"
check_eq "never more than one at a time on a node (workers = 1)" 1 "$most"
check_eq "both nodes took some" 2 \
	"$(sql "SELECT count(DISTINCT node) FROM jobs WHERE clip_id IN ($(IFS=,; echo "${IDS[*]}"))")"
check_none "the web node started no worker" "$(grep 'worker .* started' "$WEB_LOG")"

# ------------------------------------------------------------ stopping
for pid in "$B_PID" "$C_PID"; do
	stop_server "$pid"
	check_eq "a work node stops cleanly on SIGTERM" 0 "$STOP_RC"
done
check_server_log
stop_server
finish
