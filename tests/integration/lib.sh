# tests/integration/lib.sh - the one shell library of the integration suites:
# a check framework, a temporary folder removed on exit, the real server on a
# free loopback port (every one started is stopped on exit), request helpers
# and the shared catalogue fixture.  Not a suite: `make integration` skips it.
#
# A suite is laid out as:
#
#   set -u
#   HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   . "$HERE/lib.sh"
#   begin_suite NAME [TOOL...]     # the tools it needs beyond curl and jq
#   ... checks ...
#   finish
#
# and run alone as `KINDLING_BIN=/abs/kindling bash tests/integration/NAME.sh`.
# Its last line is "NAME: N passed, N failed" (CI adds these up) and its exit
# status is non-zero when anything failed.  No fixed sleeps: every wait polls,
# with generous limits, so a sanitizer build passes too.
# KINDLING_IT_KEEP=1 keeps the temporary folder (data, server logs).
# KINDLING_IT_PG=postgresql://... (a throwaway cluster: tests/run_pg.sh
# starts one) runs the suite on PostgreSQL: it gets a database of its own,
# which every server and command of the suite uses (KINDLING_DATABASE),
# `sql` becomes psql on it, and its closing line says NAME-pg.

# shellcheck disable=SC2016,SC2034,SC2317  # jq in single quotes; globals for suites; trap code

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PASS=0
FAIL=0
SUITE=integration
WORK=""
SERVER_PIDS=()   # every server started, so that cleanup can stop them all
SERVER_LOGS=()   # their logs, whose tails finish prints when a check failed
STARTS=0
SERVER_PID=""
SERVER_LOG=""
PORT=""
URL=""

# ---------------------------------------------------------------- framework

ok() {
	PASS=$((PASS + 1))
	echo "ok - $1"
}

# not_ok NAME WHY: WHY goes on the same line so a CI log grep shows it whole.
not_ok() {
	FAIL=$((FAIL + 1))
	echo "FAIL - $1 (${2//$'\n'/ })"
}

# check NAME COMMAND...: passes when the command succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "false: $*"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '${3:0:400}'"; fi
}

# check_match NAME ERE TEXT
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1" "'${3:0:400}' does not match /$2/"
	fi
}

# check_status NAME WANT...: the last req's status is one of WANT.
check_status() {
	local name=$1 want
	shift
	for want in "$@"; do
		if [ "$STATUS" == "$want" ]; then
			ok "$name"
			return
		fi
	done
	not_ok "$name" "status $STATUS, wanted $*; body: $(head -c 300 "$WORK/body" 2>/dev/null)"
}

# check_jq NAME FILTER: FILTER gives true (every output, at least one) on the
# last response body.  (Not jq -e: jq 1.6 passes it on an empty body.)
check_jq() {
	local out
	out=$(jq -c "[ $2 ]" "$WORK/body" 2>/dev/null)
	if [[ $out =~ ^\[true(,true)*\]$ ]]; then
		ok "$1"
	else
		not_ok "$1" "status $STATUS; '$2' does not hold on '$(head -c 300 "$WORK/body" 2>/dev/null)'"
	fi
}

# check_none NAME LIST: passes when LIST (what went wrong, gathered by a loop)
# is empty, so one check covers many cases yet names each that failed.
check_none() {
	if [ -z "$2" ]; then ok "$1"; else not_ok "$1" "unexpected:$2"; fi
}

# near NAME A B TOLERANCE: numbers from different tools differ in rounding.
near() {
	if awk -v a="$2" -v b="$3" -v t="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; then
		ok "$1"
	else
		not_ok "$1" "$2 vs $3 (tolerance $4)"
	fi
}

# finish: the closing line CI reads, and the exit status.  Exits (the EXIT
# trap then stops the servers, silently, so this line stays the last).
finish() {
	local log
	if [ "$FAIL" -gt 0 ]; then
		for log in "${SERVER_LOGS[@]+"${SERVER_LOGS[@]}"}"; do
			[ -s "$log" ] || continue
			echo "# ${log##*/}, less the access lines:"
			log_tail "$log" | sed 's/^/#   /'
		done
	fi
	echo "$SUITE: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit
}

# fatal NAME WHY: a failure the rest of the suite cannot go on without.
fatal() {
	not_ok "$1" "$2"
	echo "# stopping early: the rest depends on this"
	finish
}

# ---------------------------------------------------------------- the suite

# begin_suite NAME [TOOL...]: checks the tools (curl and jq always), finds the
# binary, makes the temporary folder and cds there (so a stray relative path
# cannot write into the repository).  Sets SUITE, BIN, WORK, DATA and DB.
begin_suite() {
	local tool
	SUITE=$1
	shift
	trap cleanup EXIT
	# INT needs a trap: bash alone (not its child) getting it would go on.
	# TERM needs none: its default kills bash after the EXIT trap ran, and a
	# TERM trap can be lost (bash 5.2 reports "unexpected EOF" and goes on)
	# when the signal lands while bash parses a $(...).
	trap 'exit 130' INT
	for tool in curl jq "$@"; do
		command -v "$tool" >/dev/null 2>&1 || fatal "tool $tool is installed" "install it (make deps-test)"
	done
	BIN=${KINDLING_BIN:-$ROOT/build/kindling}
	[ -x "$BIN" ] || fatal "KINDLING_BIN is an executable" "'$BIN' is not; build it with make"
	# absolute before the cd below, so a relative KINDLING_BIN still works
	case $BIN in /*) ;; *) BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN") ;; esac
	# the settings of whoever runs the tests must not leak in
	unset KINDLING_DATA KINDLING_LISTEN KINDLING_LOG KINDLING_SERVER KINDLING_TOKEN KINDLING_NODE
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/kindling-it-$SUITE.XXXXXX") || fatal "mktemp -d" "cannot make a folder"
	[ -n "${KINDLING_IT_KEEP:-}" ] && echo "# KINDLING_IT_KEEP: keeping $WORK"
	# the CLI's ~/.config/kindling/config and upload state: the suite's own
	export XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/cache
	DATA=$WORK/data
	DB=$DATA/catalogue.db
	cd "$WORK" || fatal "cd to the work folder" "$WORK"
	unset KINDLING_DATABASE
	if [ -n "${KINDLING_IT_PG:-}" ]; then
		command -v psql >/dev/null || fatal "psql is installed" "install postgresql (make deps-test)"
		PG_DB=it_${SUITE}_$$
		psql -X -q -v ON_ERROR_STOP=1 -d "$KINDLING_IT_PG" -c "CREATE DATABASE $PG_DB" >/dev/null ||
			fatal "a database of the suite's own on $KINDLING_IT_PG" "see above"
		export KINDLING_DATABASE="$KINDLING_IT_PG&dbname=$PG_DB"
		SUITE=$SUITE-pg
	fi
}

# on_postgres: is the suite running on PostgreSQL?
on_postgres() { [ -n "${KINDLING_DATABASE:-}" ]; }

# soon COMMAND...: COMMAND once on SQLite, where another process's commit
# shows on a server's very next request; on PostgreSQL it reaches a server
# a moment after the commit (a NOTIFY, or within a second from a writer
# that sends none), so COMMAND is polled for up to 5 s there.
soon() { if on_postgres; then wait_until 5 "$@"; else "$@"; fi; }

# strays PID: the processes under PID, less the servers and what runs under
# them.  Not just `jobs -p`: a client inside $(...) is a grandchild, and one
# left running after an interrupt writes its state into WORK after rm -rf.
strays() {
	local c
	for c in $(pgrep -P "$1"); do
		[[ " ${SERVER_PIDS[*]-} " == *" $c "* ]] && continue
		echo "$c"
		strays "$c"
	done
}

# cleanup: the EXIT trap.  Kills what the suite left running (a client
# part-way through an upload would also keep a server busy), then stops
# every server: a failed or interrupted suite must not leave one listening.
cleanup() {
	local pid pids
	if command -v pgrep >/dev/null; then pids=$(strays $$); else pids=$(jobs -p); fi
	for pid in $pids; do
		[[ " ${SERVER_PIDS[*]-} " == *" $pid "* ]] && continue
		kill -KILL "$pid" 2>/dev/null
	done
	for pid in $(jobs -p); do
		[[ " ${SERVER_PIDS[*]-} " == *" $pid "* ]] || wait "$pid" 2>/dev/null
	done
	for pid in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do
		kill -0 "$pid" 2>/dev/null && stop_server "$pid"
		wait "$pid" 2>/dev/null
	done
	if [ -n "$WORK" ] && [ -z "${KINDLING_IT_KEEP:-}" ]; then
		rm -rf "$WORK"
	fi
	if [ -n "${PG_DB:-}" ] && [ -z "${KINDLING_IT_KEEP:-}" ]; then
		psql -X -q -d "$KINDLING_IT_PG" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
	fi
} 2>/dev/null

# wait_until SECONDS COMMAND...: polls every 0.1 s; non-zero on timeout.
# COMMAND runs in this shell, so it may set variables the caller reads.
wait_until() {
	local tries=$(($1 * 10))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------- servers

# start_server DATA [PORT]: `kindling serve` on DATA and 127.0.0.1:PORT (0,
# the default, lets the server pick a free port).  See start_server_with.
start_server() {
	start_server_with --data "$1" --listen "127.0.0.1:${2:-0}"
}

# start_server_with ARGS...: `kindling serve ARGS`, waiting for the line that
# names its port.  Sets SERVER_PID, SERVER_LOG, PORT and URL; non-zero when
# the server does not come up within 30 s (log_tail says why).
start_server_with() {
	local i
	STARTS=$((STARTS + 1))
	SERVER_LOG=$WORK/serve.$STARTS.log
	SERVER_LOGS+=("$SERVER_LOG")
	"$BIN" serve "$@" >"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	PORT=""
	URL=""
	for ((i = 0; i < 300; i++)); do
		PORT=$(sed -n 's#^kindling: serving http://127\.0\.0\.1:\([0-9]*\)/$#\1#p' "$SERVER_LOG" | head -n 1)
		if [ -n "$PORT" ]; then
			URL=http://127.0.0.1:$PORT
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_server [PID]: SIGTERM (the server finishes requests in flight), then
# up to 20 s before SIGKILL.  Sets STOP_RC: the exit status, or "timeout".
stop_server() {
	local pid=${1:-$SERVER_PID} i
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		STOP_RC=timeout
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	else
		wait "$pid" 2>/dev/null
		STOP_RC=$?
	fi
}

# kill_server [PID]: SIGKILL, a crash: nothing is finished or cleaned up.
kill_server() {
	local pid=${1:-$SERVER_PID}
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null   # reaped here, so bash prints no "Killed" later
}

# serve_must_fail NAME ERE ARGS...: `kindling serve ARGS` must exit non-zero
# without serving, with a message matching ERE.
serve_must_fail() {
	local name=$1 ere=$2 i pid log
	shift 2
	STARTS=$((STARTS + 1))
	log=$WORK/serve.$STARTS.log
	"$BIN" serve "$@" >"$log" 2>&1 &
	pid=$!
	SERVER_PIDS+=("$pid")
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		grep -q 'kindling: serving' "$log" && break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		stop_server "$pid"
		not_ok "$name" "it started serving: $(head -c 300 "$log")"
		return
	fi
	wait "$pid" 2>/dev/null
	local rc=$?
	if [ "$rc" -ne 0 ] && grep -Eq -- "$ere" "$log"; then
		ok "$name"
	else
		not_ok "$name" "exit status $rc, wanted non-zero and /$ere/: $(head -c 300 "$log")"
	fi
}

# log_tail [LOG]: the end of a server log without access lines, which would
# drown the line that says what went wrong.
log_tail() {
	grep -v ' access: ' "${1:-$SERVER_LOG}" 2>/dev/null | tail -n 15
}

# check_server_log: every server started so far answered no 5xx, logged no
# error and no sanitizer report (a 500 behind an expected 4xx shows here).
# check_server_log [ERE]: lines matching ERE (answers the suite provoked on
# purpose, such as a 507 for a full disk) do not count.
check_server_log() {
	check_none "the server's log has no 5xx answer, error line or sanitizer report" \
		"$(cat "${SERVER_LOGS[@]}" /dev/null | grep -E '" 5[0-9][0-9] | error |Sanitizer|runtime error' |
		   grep -Ev "${1:-^$}" | head -n 3 | cut -c1-150)"
}

# ---------------------------------------------------------------- the CLI

# run_cli ARGS...: run kindling, keeping stdout in OUT, stderr in ERR and the
# exit status in RC.  Standard input is the caller's (pipe into it).
run_cli() {
	OUT=$("$BIN" "$@" 2>"$WORK/cli.err")
	RC=$?
	ERR=$(cat "$WORK/cli.err")
}

# add_user NAME ROLE [SCHOOL|"" [ARGS...]]: adds a user to DATA and prints
# its token (the last line; the message on stderr is dropped).  ARGS go to
# `user add` as they are (--password-stdin reads the caller's stdin).
add_user() {
	local name=$1 role=$2 school=${3:-}
	shift $(($# < 3 ? $# : 3))
	"$BIN" user add --name "$name" --role "$role" ${school:+--school "$school"} "$@" \
		--data "$DATA" 2>/dev/null | tail -n 1
}

# sql [SQL]: the statements (else stdin) on DATA's catalogue, rows as
# sqlite3 prints them (a|b); sqlite3 waits out a server's write lock.  On
# PostgreSQL, where foreign keys are always on, a PRAGMA foreign_keys line
# is dropped, rows a fixture inserted with ids of its own move the id
# sequences past them (as the product's own inserts never need), and a
# script that writes notifies the servers as kindling's own writers do, so
# a fixture change shows at once (SQL_NO_NOTIFY=1: as a writer that is not
# kindling, which the servers see within a second).
PG_SYNC_IDS="DO \$\$ DECLARE r record; BEGIN FOR r IN SELECT table_name, column_name FROM
 information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES' LOOP
 EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), greatest(1, (SELECT max(%I) FROM %I)))',
 r.table_name, r.column_name, r.column_name, r.table_name); END LOOP; END \$\$;"
sql() {
	if on_postgres; then
		local script
		if [ $# -gt 0 ]; then script="$*"; else script=$(cat); fi
		script=$(printf '%s\n' "$script" | sed '/^[[:space:]]*PRAGMA foreign_keys/d')
		# (each after a ';' of its own: the caller's last statement may have none)
		[[ $script == *INSERT* ]] && script="$script;
$PG_SYNC_IDS"
		[[ $script =~ INSERT|UPDATE|DELETE ]] && [ -z "${SQL_NO_NOTIFY:-}" ] &&
			script="$script;
NOTIFY kindling_epoch;"
		printf '%s\n' "$script" | psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$KINDLING_DATABASE"
	else
		sqlite3 -bail -cmd '.timeout 10000' "$DB" "$@"
	fi
}

# ff ARGS...: ffmpeg, quiet unless something goes wrong.
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }

# ---------------------------------------------------------------- requests

uri() { jq -rn --arg s "$1" '$s|@uri'; }

# req METHOD PATH TOKEN [CURL ARGS...]: one request to the current server
# (URL).  Sets STATUS and GOT (body bytes received); the body is in
# $WORK/body, the headers in $WORK/headers (for HEAD curl puts them in both).
# An empty TOKEN sends no Authorization header.
req() {
	local method=$1 path=$2 token=$3
	shift 3
	local args=(-s --max-time 60 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code} %{size_download}')
	if [ "$method" == HEAD ]; then args+=(--head); else args+=(-X "$method"); fi
	[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
	: >"$WORK/body"
	: >"$WORK/headers"
	local w
	w=$(curl "${args[@]}" "$@" "$URL$path") || true
	STATUS=${w% *}
	GOT=${w#* }
	[ -n "$STATUS" ] || STATUS=000
}

# req_json METHOD PATH TOKEN JSON: req with a JSON body.
req_json() {
	req "$1" "$2" "$3" -H 'Content-Type: application/json' --data-binary "$4"
}

# patch ID TOKEN JSON: edit a clip.
patch() {
	req_json PATCH "/api/v1/clips/$1" "$2" "$3"
}

# header NAME: a header of the last response (the last one if repeated).
header() {
	grep -i "^$1:" "$WORK/headers" | tail -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}

# jb FILTER: jq -r on the last response body.
jb() { jq -r "$1" "$WORK/body" 2>/dev/null; }

# total TOKEN QUERY: the "total" of GET /api/v1/clips?QUERY ("ERR:status" on error).
total() {
	req GET "/api/v1/clips?$2" "$1"
	if [ "$STATUS" == 200 ]; then jb .total; else echo "ERR:$STATUS"; fi
}

# ids TOKEN QUERY: the ids on one page of GET /api/v1/clips?QUERY, space-separated.
ids() {
	req GET "/api/v1/clips?$2" "$1"
	jq -r '[.clips[].id] | map(tostring) | join(" ")' "$WORK/body" 2>/dev/null || echo "ERR:$STATUS"
}

# ---------------------------------------------------------------- fixtures

# fixture_catalogue: a catalogue in DATA with known content, for the suites
# that check exact answers: `seed --clips 40` (the five sample schools),
# school zephyr-hollow, practice kite-flying, six users and clips 901-916
# inserted with sqlite3 (a test fixture only: the product adds clips by
# upload), with words found nowhere else so searches have exact answers,
# and a few media files.  Sets the tokens ADMIN COACH_N COACH_R TEACH_N
# TEACH_R PRINC_N, the user ids U_TEACH_N U_TEACH_R, SEED, ALL (clips in
# all), HIDDEN_FROM_* (how many of 901-916 each user cannot see), SHA (clip
# 901's) and XSS_TITLE (clip 911's).  Fatal when any step fails: every
# check after it would fail for the same reason.
#   901 north-high, district: every media fact, practices, tags, media files
#   902 zephyr-hollow, 903 north-high (kite-flying): plain, unprobed
#   904-909 riverside, kite-flying: school-only; and (uploaded by teach-river)
#       private, consent pending, consent withdrawn, queued, failed
#   910 north-high school-only (kite-flying), 911 a title with HTML and SQL,
#   912 to delete (media folder with a subfolder), 913 riverside,
#   914 uploaded by teach-north, 915 north-high and 916 riverside for consent
fixture_catalogue() {
	SEED=40
	if ! { "$BIN" seed --clips $SEED --data "$DATA" &&
		"$BIN" school add zephyr-hollow "Zephyr Hollow Academy" --district "Test District" --data "$DATA" &&
		"$BIN" practice add kite-flying "Kite flying" --description "Ideas take off in the wind." \
			--data "$DATA"; } >/dev/null 2>"$WORK/fixture.err"; then
		fatal "fixture: seed, school add, practice add" "$(tail -c 300 "$WORK/fixture.err")"
	fi
	ADMIN=$(add_user it-admin admin)
	COACH_N=$(add_user coach-north coach north-high)
	COACH_R=$(add_user coach-river coach riverside-elementary)
	TEACH_N=$(add_user teach-north teacher north-high)
	TEACH_R=$(add_user teach-river teacher riverside-elementary)
	PRINC_N=$(add_user principal-north principal north-high)
	local t
	for t in "$ADMIN" "$COACH_N" "$COACH_R" "$TEACH_N" "$TEACH_R" "$PRINC_N"; do
		[[ $t =~ ^kd_[0-9]+_[A-Za-z0-9_-]{20,}$ ]] || fatal "fixture: user add prints a token" "got '$t'"
	done
	U_TEACH_N=$(sql "SELECT id FROM users WHERE name = 'teach-north'")
	U_TEACH_R=$(sql "SELECT id FROM users WHERE name = 'teach-river'")
	XSS_TITLE="<img src=x onerror=alert(1)> ' OR 1=1; --"
	local xss_sql=${XSS_TITLE//\'/\'\'}
	SHA=$(printf 'fixture 901' | sha256sum | cut -d' ' -f1)
	sql <<SQL || fatal "fixture clips inserted with sqlite3" "see above"
PRAGMA foreign_keys = ON;
BEGIN;
INSERT INTO clips (id, title, description, school_id, teacher, grade, subject, recorded_on,
                   uploaded_at, uploader_id, consent, visibility, status, error, container,
                   duration_s, width, height, coded_width, coded_height, rotation, video_codec,
                   audio_codec, fps, bit_rate, size_bytes, sha256, original_name)
VALUES
 (901, 'Quasar fractions workshop', 'Pupils compare fractions with quasar cards.',
  (SELECT id FROM schools WHERE slug = 'north-high'), 'Zelda Quokkafield', '7', 'Astronomy',
  '2021-03-04', '2021-03-05T10:00:00Z', NULL, 'on-file', 'district', 'ready', NULL,
  'mov,mp4,m4a,3gp,3g2,mj2', 12.5, 640, 360, 360, 640, 90, 'h264', 'aac', 25, 800000, 5000,
  '$SHA', 'IMG_0901.MOV'),
 (902, 'Lantern reading circle', '', (SELECT id FROM schools WHERE slug = 'zephyr-hollow'),
  'Omar Vell', '3-5', 'reading', NULL, '2021-03-06T10:00:00Z', NULL, 'on-file', 'district',
  'ready', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (903, 'Gondola measurement lab', '', (SELECT id FROM schools WHERE slug = 'north-high'),
  'Pia Strand', '6-8', 'math', '2022-01-10', '2021-03-07T10:00:00Z', NULL, 'on-file',
  'district', 'ready', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, ''),
 (904, 'Obsidian school-only clip', '', (SELECT id FROM schools WHERE slug = 'riverside-elementary'),
  '', '', '', NULL, '2021-03-08T10:00:00Z', NULL, 'on-file', 'school', 'ready', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (905, 'Obsidian private clip', '', (SELECT id FROM schools WHERE slug = 'riverside-elementary'),
  '', '', '', NULL, '2021-03-09T10:00:00Z', $U_TEACH_R, 'on-file', 'private', 'ready', NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (906, 'Obsidian pending clip', '', (SELECT id FROM schools WHERE slug = 'riverside-elementary'),
  '', '', '', NULL, '2021-03-10T10:00:00Z', $U_TEACH_R, 'pending', 'district', 'ready', NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (907, 'Obsidian withdrawn clip', '', (SELECT id FROM schools WHERE slug = 'riverside-elementary'),
  '', '', '', NULL, '2021-03-11T10:00:00Z', $U_TEACH_R, 'withdrawn', 'district', 'ready', NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (908, 'Obsidian queued clip', '', (SELECT id FROM schools WHERE slug = 'riverside-elementary'),
  '', '', '', NULL, '2021-03-12T10:00:00Z', $U_TEACH_R, 'on-file', 'district', 'queued', NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (909, 'Obsidian failed clip', '', (SELECT id FROM schools WHERE slug = 'riverside-elementary'),
  '', '', '', NULL, '2021-03-13T10:00:00Z', $U_TEACH_R, 'on-file', 'district', 'failed',
  'the file is not a video', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, ''),
 (910, 'Basalt school-only clip', '', (SELECT id FROM schools WHERE slug = 'north-high'),
  '', '', '', NULL, '2021-03-14T10:00:00Z', NULL, 'on-file', 'school', 'ready', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (911, '$xss_sql', '', (SELECT id FROM schools WHERE slug = 'north-high'),
  '', '', '', NULL, '2021-03-15T10:00:00Z', NULL, 'on-file', 'district', 'ready', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (912, 'Ephemeral clip to delete', '', (SELECT id FROM schools WHERE slug = 'north-high'),
  '', '', '', NULL, '2021-03-16T10:00:00Z', NULL, 'on-file', 'district', 'ready', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (913, 'Riverside clip for coaches', '', (SELECT id FROM schools WHERE slug = 'riverside-elementary'),
  '', '', '', NULL, '2021-03-17T10:00:00Z', NULL, 'on-file', 'district', 'ready', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (914, 'Teacher upload clip', '', (SELECT id FROM schools WHERE slug = 'north-high'),
  '', '', '', NULL, '2021-03-18T10:00:00Z', $U_TEACH_N, 'on-file', 'district', 'ready', NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (915, 'Pelican consent clip', '', (SELECT id FROM schools WHERE slug = 'north-high'),
  '', '', '', NULL, '2021-03-19T10:00:00Z', NULL, 'on-file', 'district', 'ready', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ''),
 (916, 'Heron consent clip', '', (SELECT id FROM schools WHERE slug = 'riverside-elementary'),
  '', '', '', NULL, '2021-03-20T10:00:00Z', NULL, 'on-file', 'district', 'ready', NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '');
INSERT INTO clip_practices (clip_id, practice_id)
 SELECT 901, id FROM practices WHERE slug IN ('differentiation', 'peer-feedback') UNION ALL
 SELECT 903, id FROM practices WHERE slug = 'kite-flying' UNION ALL
 SELECT 902, id FROM practices WHERE slug = 'classroom-discussion' UNION ALL
 SELECT c, id FROM practices, (SELECT 904 AS c UNION SELECT 905 UNION SELECT 906 UNION SELECT 907
   UNION SELECT 908 UNION SELECT 909 UNION SELECT 910) AS v WHERE slug = 'kite-flying';
INSERT INTO clip_tags (clip_id, tag) VALUES (901, 'zebrafish'), (901, 'warm-up'), (902, 'lantern');
-- 908 stays queued: a runner that is still alive (this shell) holds its job.
INSERT INTO jobs (clip_id, state, attempts, worker_pid) VALUES (908, 'running', 1, $$);
COMMIT;
SQL
	ALL=$((SEED + 16))
	HIDDEN_FROM_TEACH_N=6   # 904-909
	HIDDEN_FROM_TEACH_R=1   # 910
	HIDDEN_FROM_COACH_R=6   # 905-910

	# Media files: random bytes are enough, nothing decodes them.
	mkdir -p "$DATA/media/901" "$DATA/media/905" "$DATA/media/912/sub"
	head -c 5000 /dev/urandom >"$DATA/media/901/video.mp4"
	head -c 300 /dev/urandom >"$DATA/media/901/thumbnail.jpg"
	head -c 100 /dev/urandom >"$DATA/media/901/original"
	head -c 300 /dev/urandom >"$DATA/media/905/thumbnail.jpg"
	echo "to be deleted" >"$DATA/media/912/video.mp4"
	echo "to be deleted" >"$DATA/media/912/sub/x"
}
