#!/usr/bin/env bash
# tests/integration/run.sh - kindling end to end: the admin CLI, then the
# real server over HTTP on 127.0.0.1.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/run.sh
#
# Needs curl, jq and the sqlite3 CLI.  Everything happens in a temporary
# folder that is removed on exit, and every server started here is stopped.
# Clips with known content are inserted with sqlite3 straight into the
# catalogue (a test fixture only: the product adds clips by upload).
# The last line printed is "integration: N passed, N failed"; the exit
# status is non-zero when anything failed.  No fixed sleeps: every wait
# polls, with generous limits, so a sanitizer build passes too.
# KINDLING_IT_KEEP=1 keeps the temporary folder (data, server logs).

# shellcheck disable=SC2016,SC2317  # jq programs in single quotes; cleanup runs from a trap
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${KINDLING_BIN:-$HERE/../../build/kindling}
unset KINDLING_DATA KINDLING_LISTEN KINDLING_LOG

PASS=0
FAIL=0
SERVER_PIDS=()
WORK=""

summary() {
	if [ "$FAIL" -gt 0 ] && [ -n "$WORK" ] && [ -s "$WORK/serve.log" ]; then
		echo "# the server's log, less the access lines:"
		grep -v ' access: ' "$WORK/serve.log" | tail -n 15 | sed 's/^/#   /'
	fi
	echo "integration: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit
}

cleanup() {
	local pid i
	for pid in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	if [ -n "$WORK" ]; then
		[ -n "${KINDLING_IT_KEEP:-}" ] || rm -rf "$WORK"
	fi
} 2>/dev/null
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- framework

ok() {
	PASS=$((PASS + 1))
	echo "ok - $1"
}

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
	if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '${3:0:300}'"; fi
}

# check_match NAME ERE TEXT
check_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1" "'${3:0:300}' does not match /$2/"
	fi
}

# check_status NAME WANT...: the last request's status is one of WANT.
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

# check_none NAME LIST: passes when LIST (what went wrong, gathered by a
# loop) is empty.
check_none() {
	if [ -z "$2" ]; then ok "$1"; else not_ok "$1" "unexpected:$2"; fi
}

fatal() {
	not_ok "$1" "$2"
	echo "# stopping early: the rest depends on this" >&2
	summary
}

for tool in curl jq sqlite3; do
	command -v "$tool" >/dev/null 2>&1 || fatal "tool $tool is installed" "install it (make deps-test)"
done
[ -x "$BIN" ] || fatal "KINDLING_BIN is an executable" "'$BIN' is not; build it with make"
case $BIN in /*) ;; *) BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN") ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kindling-it.XXXXXX") || fatal "mktemp -d" "cannot make a folder"
[ -n "${KINDLING_IT_KEEP:-}" ] && echo "# KINDLING_IT_KEEP: keeping $WORK"
DATA=$WORK/data
DB=$DATA/catalogue.db
cd "$WORK" || fatal "cd to the work folder" "$WORK"

# ---------------------------------------------------------------- helpers

# run_cli ARGS...: run kindling, keeping stdout in OUT, stderr in ERR and
# the exit status in RC.  Standard input is the caller's (pipe into it).
run_cli() {
	OUT=$("$BIN" "$@" 2>"$WORK/cli.err")
	RC=$?
	ERR=$(cat "$WORK/cli.err")
}

# add_user NAME ROLE [SCHOOL]: prints the new user's token.
add_user() {
	local school=()
	[ $# -ge 3 ] && school=(--school "$3")
	"$BIN" user add --name "$1" --role "$2" "${school[@]}" --data "$DATA" 2>/dev/null | tail -n 1
}

sql() { sqlite3 -bail -cmd '.timeout 10000' "$DB" "$@"; }

uri() { jq -rn --arg s "$1" '$s|@uri'; }

# req METHOD PATH TOKEN [CURL ARGS...]: one request to the current server.
# Sets STATUS and GOT (body bytes received); the body is in $WORK/body, the
# headers in $WORK/headers (for HEAD, curl puts the headers in both).
req() {
	local method=$1 path=$2 token=$3
	shift 3
	local args=(-s --max-time 60 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code} %{size_download}')
	if [ "$method" == HEAD ]; then args+=(--head); else args+=(-X "$method"); fi
	[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
	: >"$WORK/body"
	: >"$WORK/headers"
	local w
	w=$(curl "${args[@]}" "$@" "http://127.0.0.1:$PORT$path") || true
	STATUS=${w% *}
	GOT=${w#* }
	[ -n "$STATUS" ] || STATUS=000
}

# patch ID TOKEN JSON
patch() {
	req PATCH "/api/v1/clips/$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"
}

# header NAME: a header of the last response (the last one if repeated).
header() {
	grep -i "^$1:" "$WORK/headers" | tail -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'
}

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

# start_server LOG ARGS...: start "kindling serve ARGS", wait for the line
# that names its port.  Sets SERVER_PID and PORT; returns non-zero when the
# server does not come up within 30 s.
start_server() {
	local log=$1 i
	shift
	: >"$log"
	"$BIN" serve "$@" >"$log" 2>&1 &
	SERVER_PID=$!
	SERVER_PIDS+=("$SERVER_PID")
	PORT=""
	for ((i = 0; i < 300; i++)); do
		PORT=$(grep -o 'kindling: serving http://127\.0\.0\.1:[0-9]*/' "$log" 2>/dev/null |
		       head -n 1 | sed 's|.*:\([0-9]*\)/$|\1|')
		[ -n "$PORT" ] && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_server PID: SIGTERM, then wait up to 20 s.  Sets STOP_RC (the exit
# status, or "timeout").
stop_server() {
	local pid=$1 i
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

# serve_must_fail NAME LOG ERE ARGS...: kindling serve must exit non-zero
# without serving, with a message matching ERE.  Leaves its output in LOG.
serve_must_fail() {
	local name=$1 log=$2 ere=$3 i pid
	shift 3
	: >"$log"
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

# ---------------------------------------------------------------- CLI set-up

SEED=40
run_cli seed --clips $SEED --data "$DATA"
check_eq "seed --clips $SEED exits 0 and makes $SEED clips" "0 $SEED" \
	"$RC $(sql 'SELECT count(*) FROM clips')"

run_cli school add zephyr-hollow "Zephyr Hollow Academy" --district "Test District" --data "$DATA"
rc1=$RC
run_cli practice add kite-flying "Kite flying" --description "Ideas take off in the wind." --data "$DATA"
check_eq "school add --district and practice add --description exit 0" "0 0" "$rc1 $RC"

ADMIN=$(add_user it-admin admin)
COACH_N=$(add_user coach-north coach north-high)
COACH_R=$(add_user coach-river coach riverside-elementary)
TEACH_N=$(add_user teach-north teacher north-high)
TEACH_R=$(add_user teach-river teacher riverside-elementary)
PRINC_N=$(add_user principal-north principal north-high)
for t in "$ADMIN" "$COACH_N" "$COACH_R" "$TEACH_N" "$TEACH_R" "$PRINC_N"; do
	[[ $t =~ ^kd_[0-9]+_[A-Za-z0-9_-]{20,}$ ]] || fatal "user add prints a token as its last line" "got '$t'"
done
ok "user add prints a token kd_<id>_<secret> as its last line (6 users)"

run_cli user add --name it-admin2 --role admin --data "$DATA"
check_match "user add: message on stderr, only the token on stdout" '^kd_[0-9]+_[^ ]+$' "$OUT"

# CLI errors.
run_cli user add --name someone --role overlord --data "$DATA"
check_eq "user add with an unknown role exits 2" 2 "$RC"
run_cli user add --name someone --role teacher --school atlantis-high --data "$DATA"
if [ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -q atlantis-high; then
	ok "user add with an unknown school fails and names the school"
else
	not_ok "user add with an unknown school fails and names the school" "rc=$RC stderr='$ERR'"
fi
run_cli user add --name teach-north --role teacher --data "$DATA"
rc1=$RC
run_cli user add --name TEACH-NORTH --role teacher --data "$DATA"
check "user add with a taken name fails (names are unique ignoring case)" \
	test "$rc1" -ne 0 -a "$RC" -ne 0
run_cli school add "Bad Slug" "Bad School" --data "$DATA"
rc1=$RC
run_cli practice add "Not A Slug" "Whatever" --data "$DATA"
check "school add / practice add with slug 'Bad Slug' fail" test "$rc1" -ne 0 -a "$RC" -ne 0
run_cli school add north-high "North Again" --data "$DATA"
check "school add with an existing slug fails" test "$RC" -ne 0
OUT=$(printf 'correct horse battery staple\n' |
      "$BIN" user add --name pw-user --role teacher --school north-high --password-stdin \
      --data "$DATA" 2>"$WORK/cli.err")
RC=$?
PW_TOKEN=$(printf '%s\n' "$OUT" | tail -n 1)
check_eq "user add --password-stdin exits 0" 0 "$RC"
check_match "--password-stdin stores an argon2id hash" '^\$argon2id\$' \
	"$(sql "SELECT password_hash FROM users WHERE name = 'pw-user'")"
printf 'short\n' | "$BIN" user add --name pw-short --role teacher --password-stdin --data "$DATA" \
	>/dev/null 2>&1
rc1=$?
"$BIN" user add --name pw-empty --role teacher --password-stdin --data "$DATA" </dev/null \
	>/dev/null 2>&1
check "user add --password-stdin with a 5-character password or empty input fails" \
	test "$rc1" -ne 0 -a $? -ne 0

# ---------------------------------------------------------------- fixtures

uid() { sql "SELECT id FROM users WHERE name = '$1'"; }
U_TEACH_N=$(uid teach-north)
U_TEACH_R=$(uid teach-river)
XSS_TITLE="<img src=x onerror=alert(1)> ' OR 1=1; --"
XSS_SQL=${XSS_TITLE//\'/\'\'}
SHA=$(printf 'fixture 901' | sha256sum | cut -d' ' -f1)

# Clips 901-916, with words found nowhere else so searches have exact answers.
# Hidden from other users: 904-909 (riverside) and 910 (north-high, school).
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
 (911, '$XSS_SQL', '', (SELECT id FROM schools WHERE slug = 'north-high'),
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
   UNION SELECT 908 UNION SELECT 909 UNION SELECT 910) WHERE slug = 'kite-flying';
INSERT INTO clip_tags (clip_id, tag) VALUES (901, 'zebrafish'), (901, 'warm-up'), (902, 'lantern');
COMMIT;
SQL
ALL=$((SEED + 16))
HIDDEN_FROM_TEACH_N=6   # 904-909
HIDDEN_FROM_TEACH_R=1   # 910
HIDDEN_FROM_COACH_R=6   # 905-910

# Media files.
mkdir -p "$DATA/media/901" "$DATA/media/905" "$DATA/media/912/sub"
head -c 5000 /dev/urandom >"$DATA/media/901/video.mp4"
head -c 300 /dev/urandom >"$DATA/media/901/thumbnail.jpg"
head -c 100 /dev/urandom >"$DATA/media/901/original"
head -c 300 /dev/urandom >"$DATA/media/905/thumbnail.jpg"
echo "to be deleted" >"$DATA/media/912/video.mp4"
echo "to be deleted" >"$DATA/media/912/sub/x"

# ---------------------------------------------------------------- the server

start_server "$WORK/serve.log" --data "$DATA" --listen 127.0.0.1:0 ||
	fatal "serve prints 'kindling: serving http://127.0.0.1:PORT/'" "$(tail -c 600 "$WORK/serve.log")"
ok "serve --listen 127.0.0.1:0 picks a port and prints it ($PORT)"
MAIN_PID=$SERVER_PID

req GET /healthz ""
check_eq "GET /healthz without a token: 200 {\"status\":\"ok\"}" "200 ok" "$STATUS $(jb .status)"
check_eq "responses are JSON, with X-Content-Type-Options: nosniff" "application/json nosniff" \
	"$(header Content-Type | cut -d';' -f1) $(header X-Content-Type-Options)"

# --- who am I
req GET /api/v1/me "$TEACH_N"
check_jq "GET /api/v1/me names a teacher and their school" \
	'.name == "teach-north" and .role == "teacher" and .school == "north-high" and (.id|type) == "number"'
req GET /api/v1/me "$ADMIN"
check_jq "GET /api/v1/me for an admin without a school has school null" \
	'.name == "it-admin" and .role == "admin" and .school == null'

# --- authentication
req GET /api/v1/clips ""
check_match "no token: 401 with WWW-Authenticate: Bearer and a JSON error" '^401 string Bearer' \
	"$STATUS $(jb '.error | type') $(header WWW-Authenticate)"
if [ "${ADMIN: -1}" == A ]; then altered=${ADMIN%?}B; else altered=${ADMIN%?}A; fi
bad=""
for h in "Bearer kd_1_wrong" "Bearer garbage" "Bearer " "Bearer kd_99999_${altered#kd_*_}" \
	"Bearer $altered" "Basic $(printf 'it-admin:x' | base64)" "$ADMIN"; do
	req GET /api/v1/clips "" -H "Authorization: $h"
	[ "$STATUS" == 401 ] || bad+=" '${h:0:30}'->$STATUS"
done
check_none "wrong tokens (kd_1_wrong, garbage, 'Bearer ', altered secret, Basic, no scheme): 401" "$bad"
req GET /api/v1/clips "" -H "Authorization: bearer $TEACH_N"
check_status "the scheme 'bearer' is case-insensitive" 200
req GET /api/v1/schools "$PW_TOKEN"
check_status "the token of a --password-stdin user works" 200

# --- routes and methods
req POST /api/v1/clips/901 "$ADMIN"
check_eq "POST /api/v1/clips/901: 405, Allow: GET, PATCH, DELETE" "405 GET, PATCH, DELETE" \
	"$STATUS $(header Allow)"
req PUT /api/v1/schools "$ADMIN"
check_eq "PUT /api/v1/schools: 405, Allow: GET" "405 GET" "$STATUS $(header Allow)"
req DELETE /api/v1/clips "$ADMIN"
check_eq "DELETE /api/v1/clips: 405, Allow: GET" "405 GET" "$STATUS $(header Allow)"
req GET /api/v1/nothing-here "$ADMIN"
check_eq "unknown path: 404 with a JSON error" "404 string" "$STATUS $(jb '.error | type')"
bad=""
for id in abc 0 -1 01 99999 1.5; do
	req GET "/api/v1/clips/$id" "$ADMIN"
	[ "$STATUS" == 404 ] || bad+=" $id->$STATUS"
done
req GET /api/v1/clips/99999 "$ADMIN"
[ "$(jb '.error | type')" == string ] || bad+=" (no JSON error)"
check_none "GET /api/v1/clips/{abc,0,-1,01,99999,1.5}: 404 with a JSON error" "$bad"
req GET /media/clips/901/../../catalogue.db "$ADMIN" --path-as-is
check_status "a path with .. does not reach the catalogue" 404

# --- clip detail
req GET /api/v1/clips/901 "$TEACH_N"
check_jq "GET /api/v1/clips/901: every documented field" \
	'. as $c | [ "id","title","school","practices","tags","teacher","grade","subject",
	   "recorded_on","uploaded_at","status","error","duration_s","width","height","rotation",
	   "video_codec","audio_codec","fps","bit_rate","size_bytes","container","sha256",
	   "thumbnail_url","poster_url","video_url","storyboard_url" ] | all(. as $k | $c | has($k))'
check_jq "clip detail: catalogue facts" \
	'.id == 901 and .title == "Quasar fractions workshop" and .school == "north-high"
	 and .teacher == "Zelda Quokkafield" and .grade == "7" and .subject == "Astronomy"
	 and .recorded_on == "2021-03-04" and .uploaded_at == "2021-03-05T10:00:00Z"
	 and .status == "ready" and .error == null
	 and .practices == ["differentiation","peer-feedback"] and .tags == ["warm-up","zebrafish"]'
check_jq "clip detail: media facts and media URLs" \
	".duration_s == 12.5 and .width == 640 and .height == 360 and .rotation == 90
	 and .video_codec == \"h264\" and .audio_codec == \"aac\" and .fps == 25
	 and .bit_rate == 800000 and .size_bytes == 5000
	 and .container == \"mov,mp4,m4a,3gp,3g2,mj2\" and .sha256 == \"$SHA\"
	 and .thumbnail_url == \"/media/clips/901/thumbnail.jpg\" and .poster_url == \"/media/clips/901/poster.jpg\"
	 and .video_url == \"/media/clips/901/video.mp4\" and .storyboard_url == \"/media/clips/901/storyboard.vtt\""
req GET /api/v1/clips/902 "$TEACH_N"
check_jq "an unprobed clip has null media facts and recorded_on" \
	'.duration_s == null and .width == null and .video_codec == null and .container == null
	 and .recorded_on == null and .sha256 == null'
req GET /api/v1/clips/911 "$TEACH_N"
if [ "$(jb .title)" == "$XSS_TITLE" ]; then ok "title with HTML/SQL metacharacters is returned exactly"
else not_ok "title with HTML/SQL metacharacters is returned exactly" "got '$(jb .title)'"; fi
req GET /api/v1/clips/908 "$TEACH_R"
check_jq "a queued clip (seen by its uploader) has status queued and no media URLs" \
	'.status == "queued" and .video_url == null and .thumbnail_url == null'
req GET /api/v1/clips/909 "$TEACH_R"
check_jq "a failed clip says why" '.status == "failed" and .error == "the file is not a video"'

# --- visibility
bad=""
for id in 904 905 906 907 908 909; do
	req GET "/api/v1/clips/$id" "$TEACH_N"
	[ "$STATUS" == 404 ] || bad+=" $id->$STATUS"
done
check_none "another school's teacher gets 404 for school-only, private, pending, withdrawn, queued, failed clips" "$bad"
seen=0
for id in 905 906 907 908 909; do
	req GET "/api/v1/clips/$id" "$TEACH_R"
	[ "$STATUS" == 200 ] && seen=$((seen + 1))
done
check_eq "the uploader sees their private, pending, withdrawn, queued and failed clips" 5 "$seen"
req GET /api/v1/clips/904 "$TEACH_R"
check_status "a teacher of the clip's school sees a visibility=school clip" 200
req GET /api/v1/clips/905 "$COACH_R"
check_status "a coach of the school does not see someone else's private clip" 404
req GET /api/v1/clips/910 "$TEACH_N"
status=$STATUS
req GET /api/v1/clips/910 "$TEACH_R"
check_eq "visibility=school clip of north-high: its teacher 200, riverside's teacher 404" "200 404" \
	"$status $STATUS"
seen=0
for id in $(seq 901 916); do
	req GET "/api/v1/clips/$id" "$ADMIN"
	[ "$STATUS" == 200 ] && seen=$((seen + 1))
done
check_eq "admin sees all 16 fixture clips" 16 "$seen"

T_ADMIN=$(total "$ADMIN" "")
T_TN=$(total "$TEACH_N" "")
T_TR=$(total "$TEACH_R" "")
T_CR=$(total "$COACH_R" "")
check_eq "list total for admin counts every clip" "$ALL" "$T_ADMIN"
check_eq "list total for a north-high teacher leaves out the 6 hidden clips" \
	"$((ALL - HIDDEN_FROM_TEACH_N))" "$T_TN"
check_eq "list total for the riverside uploader leaves out only north-high's school-only clip" \
	"$((ALL - HIDDEN_FROM_TEACH_R))" "$T_TR"
check_eq "list total for a riverside coach leaves out others' private/pending/etc. clips" \
	"$((ALL - HIDDEN_FROM_COACH_R))" "$T_CR"
req GET /api/v1/schools "$TEACH_N"
check_eq "the schools' clip counts add up to the list total" "$T_TN" "$(jb '[.schools[].clips] | add')"
check_eq "search respects visibility: a word in 6 hidden titles, found by other teacher/admin/uploader" \
	"0 6 6" "$(total "$TEACH_N" "q=obsidian") $(total "$ADMIN" "q=obsidian") $(total "$TEACH_R" "q=obsidian")"

# Every page of a teacher's list, put together, is the whole list.
all_ids=""
for page in 1 2 3 4 5 6 7; do
	all_ids+=" $(ids "$TEACH_N" "per_page=10&page=$page")"
done
n_ids=$(tr ' ' '\n' <<<"$all_ids" | grep -c .)
n_unique=$(tr ' ' '\n' <<<"$all_ids" | grep . | sort -u | grep -c .)
n_hidden=$(tr ' ' '\n' <<<"$all_ids" | grep -cxE '90[4-9]')
check_eq "paging per_page=10 through the list yields every clip once, none hidden" \
	"$T_TN $T_TN 0" "$n_ids $n_unique $n_hidden"

# --- list parameters
req GET /api/v1/clips "$TEACH_N"
check_jq "list defaults: page 1, per_page 24, 24 clips, newest (highest id) first" \
	'.page == 1 and .per_page == 24 and (.clips | length) == 24 and (.total | type) == "number"
	 and ([.clips[].id] as $i | $i == ($i | sort | reverse))'
req GET "/api/v1/clips?per_page=100" "$TEACH_N"
check_jq "per_page=100 is allowed" ".per_page == 100 and (.clips | length) == $T_TN"
bad=""
for arg in per_page=101 per_page=0 per_page=abc per_page=-1 per_page=+5 page=0 page=abc \
	page=1.5 page=-1 page=1000001 page=99999999999999999999999; do
	req GET "/api/v1/clips?$arg" "$TEACH_N"
	[ "$STATUS" == 400 ] || bad+=" $arg->$STATUS"
done
check_none "bad page/per_page (0, 101, abc, -1, 1.5, too big): 400" "$bad"
req GET "/api/v1/clips?page=1000" "$TEACH_N"
check_jq "a page past the end is empty but keeps the total" ".total == $T_TN and .clips == []"
req GET "/api/v1/clips?practice=no-such-practice" "$TEACH_N"
check_eq "unknown practice slug: 400 with a message listing the known ones" "400 true" \
	"$STATUS $(jb '.error | contains("differentiation") and contains("kite-flying")')"
req GET "/api/v1/clips?school=no-such-school" "$TEACH_N"
check_eq "unknown school slug: 400 with a message listing the known ones" "400 true" \
	"$STATUS $(jb '.error | contains("north-high") and contains("zephyr-hollow")')"
req GET "/api/v1/clips?sort=random" "$TEACH_N"
check_status "sort=random: 400" 400
bad=""
for s in newest oldest title recorded relevance; do
	req GET "/api/v1/clips?sort=$s&per_page=100" "$ADMIN"
	[ "$STATUS" == 200 ] || bad+=" $s->$STATUS"
	case $s in
	oldest) check_jq "sort=oldest: ids ascending" '[.clips[].id] as $i | $i == ($i | sort)' ;;
	title) check_jq "sort=title: titles in order, ignoring case" \
		'[.clips[].title | ascii_downcase] as $t | $t == ($t | sort)' ;;
	recorded) check_jq "sort=recorded: newest recording first, undated last" \
		'[.clips[].recorded_on] as $r | ($r | map(select(. != null))) as $d
		 | $d == ($d | sort | reverse) and $r[0:($d | length)] == $d' ;;
	esac
done
check_none "sort=newest|oldest|title|recorded|relevance: 200" "$bad"
req GET "/api/v1/clips?school=zephyr-hollow" "$TEACH_N"
check_jq "school filter" '.total == 1 and .clips[0].id == 902'
req GET "/api/v1/clips?practice=kite-flying" "$TEACH_N"
check_jq "practice filter (and visibility: 904-909 are left out)" \
	'.total == 2 and ([.clips[].id] | sort) == [903, 910]'
req GET "/api/v1/clips?subject=astronomy&grade=7" "$TEACH_N"
check_jq "subject and grade filters, subject ignoring case" '.total == 1 and .clips[0].id == 901'
req GET "/api/v1/clips?school=north-high&practice=differentiation&per_page=100" "$TEACH_N"
check_jq "school and practice filters combine" \
	'.total > 0 and (.clips | all(.school == "north-high" and (.practices | index("differentiation"))))'

# --- full-text search
check_eq "q finds a clip by teacher name" 901 "$(ids "$TEACH_N" "q=Quokkafield")"
check_eq "q finds a clip by tag" 901 "$(ids "$TEACH_N" "q=zebrafish")"
check_eq "q finds a clip by school name" 902 "$(ids "$TEACH_N" "q=$(uri 'Zephyr Hollow')")"
check_eq "q finds clips by practice name" "910 903" "$(ids "$TEACH_N" "q=$(uri 'kite flying')")"
check_eq "q matches a word prefix (quokk)" 901 "$(ids "$TEACH_N" "q=quokk")"
n_practice=$(total "$TEACH_N" "practice=differentiation")
req GET "/api/v1/clips?q=differ&per_page=100" "$TEACH_N"
check_eq "q=differ (a prefix) finds exactly the clips with the differentiation practice" \
	"$n_practice true" "$(jb '.total') $(jb 'any(.clips[]; .id == 901)')"
check_eq "q finds the clip whose title has HTML/SQL metacharacters, by a word and by the whole title" \
	"911 911" "$(ids "$TEACH_N" "q=onerror") $(ids "$TEACH_N" "q=$(uri "$XSS_TITLE")")"
check_eq "q=quasar&sort=relevance works" 901 "$(ids "$TEACH_N" "q=quasar&sort=relevance")"
bad=""
for q in '"' '*' '(' 'NEAR' 'AND OR' "'; DROP TABLE clips; --" 'quasar"' 'NEAR(a b)' \
	'title:quasar' '^quasar' '"unbalanced AND (' '-- ; /* */' '—' 'NOT quasar' 'a OR b' \
	'x:' '{title}: y' '+' '%' "\\" 'é*'; do
	req GET "/api/v1/clips?q=$(uri "$q")" "$TEACH_N"
	[ "$STATUS" == 200 ] || bad+=" [$q]->$STATUS"
done
check_none "q with FTS/SQL metacharacters (\" * ( NEAR, AND OR, '; DROP TABLE clips; --, ...): 200" "$bad"
check_eq "a lone quote is ignored: same total as no q" "$T_TN" "$(total "$TEACH_N" "q=%22")"
check_eq "the clips table is still there after the SQL in q" "$ALL" "$(sql 'SELECT count(*) FROM clips')"
req GET "/api/v1/clips?q=$(head -c 300 /dev/zero | tr '\0' a)" "$TEACH_N"
check "a 300-character q is refused (4xx), not a 500" test "${STATUS:0:1}" == 4

# --- schools and practices
req GET /api/v1/schools "$TEACH_N"
check_jq "GET /api/v1/schools lists the 5 sample schools" \
	'[.schools[].slug] | contains(["north-high","riverside-elementary","lakeview-middle",
	 "westside-academy","eastgate-primary"])'
check_jq "a school has slug, name, district and clips" \
	'.schools[] | select(.slug == "zephyr-hollow")
	 | .name == "Zephyr Hollow Academy" and .district == "Test District" and .clips == 1'
check_jq "riverside's count leaves out the clips a north-high teacher cannot see" \
	".schools[] | select(.slug == \"riverside-elementary\") | .clips ==
	 $(sql "SELECT count(*) FROM clips c JOIN schools s ON s.id = c.school_id
	        WHERE s.slug = 'riverside-elementary'") - 6"
req GET /api/v1/practices "$TEACH_N"
check_jq "GET /api/v1/practices: the 10 defaults and the added one" \
	'[.practices[].slug] | length == 11 and contains(["blended-learning","differentiation",
	 "student-choice","station-rotation","mastery-tracking","formative-assessment",
	 "peer-feedback","project-based-learning","classroom-discussion","flexible-grouping",
	 "kite-flying"])'
check_jq "a practice has slug, name, description and a visible-clip count" \
	'.practices[] | select(.slug == "kite-flying")
	 | .name == "Kite flying" and .description == "Ideas take off in the wind." and .clips == 2'
check_eq "practice counts agree with the list's practice filter" \
	"$(total "$TEACH_N" "practice=differentiation")" \
	"$(req GET /api/v1/practices "$TEACH_N"; jb '.practices[] | select(.slug == "differentiation") | .clips')"

# --- media
req GET /media/clips/901/video.mp4 ""
check_status "media without a token: 401" 401
req GET /media/clips/901/video.mp4 "$TEACH_N"
same=no
cmp -s "$WORK/body" "$DATA/media/901/video.mp4" && same=yes
check_eq "GET video.mp4: 200, video/mp4, the whole file" "200 video/mp4 yes" \
	"$STATUS $(header Content-Type) $same"
check_match "media: Accept-Ranges: bytes, and Cache-Control private" '^bytes .*private' \
	"$(header Accept-Ranges) $(header Cache-Control)"
ETAG=$(header ETag)
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "Range: bytes=0-99"
same=no
cmp -s "$WORK/body" <(head -c 100 "$DATA/media/901/video.mp4") && same=yes
check_eq "Range bytes=0-99: 206, Content-Range, exactly the first 100 bytes" \
	"206 bytes 0-99/5000 yes" "$STATUS $(header Content-Range) $same"
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "Range: bytes=-100"
check_eq "Range bytes=-100: the last 100 bytes" "206 bytes 4900-4999/5000" "$STATUS $(header Content-Range)"
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "Range: bytes=999999-"
got="$STATUS $(header Content-Range)"
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "Range: bytes=5000-"
check_eq "Range bytes=999999- and bytes=5000- (past the end): 416 with Content-Range bytes */5000" \
	"416 bytes */5000 416" "$got $STATUS"
req HEAD /media/clips/901/video.mp4 "$TEACH_N"
check_eq "HEAD video.mp4: 200, Content-Length 5000, no body" "200 5000 0" \
	"$STATUS $(header Content-Length) $GOT"
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "If-None-Match: ${ETAG:-none}"
check_eq "If-None-Match with the ETag ($ETAG): 304 and no body" "304 0" "$STATUS $GOT"
req GET /media/clips/901/thumbnail.jpg "$TEACH_N"
check_eq "thumbnail.jpg: 200 image/jpeg" "200 image/jpeg" "$STATUS $(header Content-Type)"
bad=""
for f in poster.jpg secrets.txt original catalogue.db; do
	req GET "/media/clips/901/$f" "$TEACH_N"
	[ "$STATUS" == 404 ] || bad+=" $f->$STATUS"
done
check_none "media: a missing poster.jpg, an unknown name, the original upload: 404" "$bad"
req GET /media/clips/905/thumbnail.jpg "$TEACH_N"
check_status "media of a clip the user may not see: 404" 404
req GET /media/clips/905/thumbnail.jpg "$TEACH_R"
check_status "media of a private clip for its uploader: 200" 200

# --- PATCH: validation
patch 903 "$ADMIN" '{"title":"Marmalade physics demo","description":"Line one.\nLine two.",
	"teacher":"Rowan Ashdown","grade":"9","subject":"Physics","recorded_on":"2024-02-29",
	"practices":["student-choice","kite-flying"],"tags":["xylophone","Trebuchet"],
	"consent":"on-file","visibility":"district","school":"north-high"}'
check_jq "PATCH with every field: 200 with the updated clip" \
	'.id == 903 and .title == "Marmalade physics demo" and .teacher == "Rowan Ashdown"
	 and .grade == "9" and .subject == "Physics" and .recorded_on == "2024-02-29"
	 and .description == "Line one.\nLine two."
	 and .practices == ["kite-flying","student-choice"] and .tags == ["Trebuchet","xylophone"]'
req GET /api/v1/clips/903 "$TEACH_N"
check_jq "GET after PATCH shows the change" '.title == "Marmalade physics demo" and .tags == ["Trebuchet","xylophone"]'
check_eq "search sees a new title at once, and not the old one" "903 0" \
	"$(ids "$TEACH_N" "q=marmalade") $(total "$TEACH_N" "q=gondola")"
check_eq "search sees new tags at once" 903 "$(ids "$TEACH_N" "q=xylophone")"
check_eq "search sees a new teacher name at once" 903 "$(ids "$TEACH_N" "q=ashdown")"
patch 903 "$ADMIN" '{"recorded_on":null}'
check_jq "recorded_on null clears the date" '.recorded_on == null and .title == "Marmalade physics demo"'
patch 903 "$ADMIN" '{}'
check_status "an empty PATCH changes nothing: 200" 200
# bad_patches NAME BODY...: every body is refused with 400.
bad_patches() {
	local name=$1 b bad=""
	shift
	for b in "$@"; do
		patch 903 "$ADMIN" "$b"
		[ "$STATUS" == 400 ] || bad+=" ${b:0:60}->$STATUS"
	done
	check_none "$name" "$bad"
}
bad_patches "malformed JSON, a JSON array, an empty body, a repeated key: 400" '{"title": "x"' '["title"]' '' \
	'{"title":"a","title":"b"}'
patch 903 "$ADMIN" '{"colour":"red"}'
check_eq "unknown field: 400 with a message naming it" "400 true" "$STATUS $(jb '.error | contains("colour")')"
bad_patches "wrong types (title 5, tags \"a,b\", tags [1], practices {}, recorded_on 20240101): 400" \
	'{"title":5}' '{"tags":"a,b"}' '{"tags":["a",1]}' '{"practices":{"a":1}}' \
	'{"recorded_on":20240101}' '{"consent":null}' '{"title":null}'
bad_patches "bad dates (2023-02-29, 2024-13-01, 04/05/2024, 2024-1-1): 400" \
	'{"recorded_on":"2023-02-29"}' '{"recorded_on":"2024-13-01"}' \
	'{"recorded_on":"04/05/2024"}' '{"recorded_on":"2024-1-1"}'
patch 903 "$ADMIN" '{"practices":["underwater-basket-weaving"]}'
check_eq "unknown practice: 400 with a message listing the known ones" "400 true" \
	"$STATUS $(jb '.error | contains("station-rotation")')"
bad_patches "no practices, bad consent, bad visibility, unknown school: 400" '{"practices":[]}' \
	'{"consent":"maybe"}' '{"visibility":"public"}' '{"school":"atlantis-high"}'
bad_patches "empty title, 201-character title, control character in title, 51-character tag: 400" \
	'{"title":""}' "{\"title\":\"$(head -c 201 /dev/zero | tr '\0' t)\"}" '{"title":"a\u0001b"}' \
	"{\"tags\":[\"$(head -c 51 /dev/zero | tr '\0' t)\"]}"
patch 903 "$ADMIN" '{"title":"Must not stick","practices":["nope"]}'
status=$STATUS
req GET /api/v1/clips/903 "$ADMIN"
check_eq "a PATCH with one bad field is refused whole (400, title unchanged)" \
	"400 Marmalade physics demo" "$status $(jb .title)"
req PATCH /api/v1/clips/903 "$ADMIN" -H 'Content-Type: text/plain' --data-binary '{"title":"x"}'
check_status "PATCH with Content-Type text/plain: 415" 415
printf '{"description":"%s"}' "$(head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' d)" >"$WORK/big.json"
req PATCH /api/v1/clips/903 "$ADMIN" -H 'Content-Type: application/json' --data-binary @"$WORK/big.json"
check_status "a body over 1 MiB: 413" 413
req PATCH /api/v1/clips/903 "$ADMIN" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big.json"
check_status "a chunked body over 1 MiB: 413" 413
printf '{"description":"%s"}' "$(head -c $((1024 * 1024 - 18)) /dev/zero | tr '\0' d)" >"$WORK/big.json"
req PATCH /api/v1/clips/903 "$ADMIN" -H 'Content-Type: application/json' --data-binary @"$WORK/big.json"
check_status "a body of exactly 1 MiB is read (then refused as too long a description: 400)" 400

# --- PATCH / DELETE: permissions
patch 901 "$TEACH_N" '{"title":"Hijacked"}'
status=$STATUS
req DELETE /api/v1/clips/901 "$TEACH_N"
check_eq "PATCH and DELETE by a teacher (not the uploader): 403" "403 403" "$status $STATUS"
patch 901 "$PRINC_N" '{"title":"Hijacked"}'
check_status "PATCH by a principal: 403" 403
patch 913 "$COACH_N" '{"title":"Hijacked"}'
status=$STATUS
req DELETE /api/v1/clips/913 "$COACH_N"
check_eq "PATCH and DELETE by a coach of another school (not the uploader): 403" "403 403" \
	"$status $STATUS"
patch 913 "$TEACH_R" '{"title":"Hijacked"}'
check_status "PATCH by a teacher of the clip's school (not the uploader): 403" 403
patch 905 "$TEACH_N" '{"title":"Hijacked"}'
check_status "PATCH of a clip the user cannot see: 404, not 403" 404
req GET /api/v1/clips/901 "$ADMIN"
check_jq "refused edits changed nothing" '.title == "Quasar fractions workshop"'
patch 913 "$COACH_R" '{"grade":"K-2"}'
check_eq "PATCH by a coach of the clip's school: 200, applied" "200 K-2" "$STATUS $(jb .grade)"
patch 914 "$TEACH_N" '{"visibility":"private"}'
check_status "PATCH by the uploader (a teacher): 200" 200
req GET /api/v1/clips/914 "$TEACH_R"
check_status "after the uploader makes it private, others get 404" 404
patch 901 "$ADMIN" '{"subject":"Astronomy"}'
check_status "PATCH by an admin: 200" 200

# Withdrawing consent hides a clip from everyone else at once.
before=$(total "$TEACH_R" "")
patch 915 "$ADMIN" '{"consent":"withdrawn"}'
check_jq "admin withdraws consent: 200 and the clip says withdrawn" '.consent == "withdrawn"'
req GET /api/v1/clips/915 "$TEACH_R"
check_status "a withdrawn clip is 404 for others at once" 404
check_eq "a withdrawn clip leaves the list at once" "$((before - 1))" "$(total "$TEACH_R" "")"
check_eq "a withdrawn clip leaves search at once" 0 "$(total "$TEACH_R" "q=pelican")"
patch 915 "$ADMIN" '{"consent":"on-file"}'
req GET /api/v1/clips/915 "$TEACH_R"
check_status "consent back on file: visible again" 200
# A coach of the school may withdraw consent; the PATCH must report success
# even though the coach can no longer see the clip.
patch 916 "$COACH_R" '{"consent":"withdrawn"}'
check_status "a coach withdrawing consent of their school's clip gets a 2xx answer" 200 204
req GET /api/v1/clips/916 "$ADMIN"
check_jq "the coach's withdrawal was applied" '.consent == "withdrawn"'

# Moving a clip to another school moves it in search too.
patch 902 "$ADMIN" '{"school":"riverside-elementary"}'
check_jq "PATCH school moves the clip" '.school == "riverside-elementary"'
check_eq "search by the old school's name no longer finds it" 0 "$(total "$TEACH_N" "q=zephyr")"
patch 902 "$ADMIN" '{"school":"zephyr-hollow"}'

# --- DELETE
before=$(total "$TEACH_N" "")
req DELETE /api/v1/clips/912 "$COACH_N"
check_eq "DELETE by a coach of the clip's school: 204, no body" "204 0" "$STATUS $GOT"
req GET /api/v1/clips/912 "$ADMIN"
check_status "GET after DELETE: 404" 404
check "DELETE removes the clip's media folder" test ! -e "$DATA/media/912"
check_eq "DELETE removes it from the list" "$((before - 1))" "$(total "$TEACH_N" "")"
check_eq "DELETE removes it from search" 0 "$(total "$ADMIN" "q=ephemeral")"
req DELETE /api/v1/clips/912 "$ADMIN"
check_status "DELETE again: 404" 404
ALL=$((ALL - 1))

# --- concurrency: a burst of parallel requests all succeed
pids=()
for i in $(seq 1 12); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -H "Authorization: Bearer $ADMIN" \
		"http://127.0.0.1:$PORT/api/v1/clips?per_page=100&q=quasar" >"$WORK/par.$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
check_eq "12 parallel requests all answer 200" 12 "$(cat "$WORK"/par.* | grep -c '^200$')"

# ---------------------------------------------------------------- restart

BEFORE_ADMIN=$(total "$ADMIN" "")
BEFORE_TN=$(total "$TEACH_N" "")
stop_server "$MAIN_PID"
check_eq "SIGTERM: the server exits with status 0" 0 "$STOP_RC"
check "the log says it stopped cleanly" grep -q 'stopped cleanly' "$WORK/serve.log"
check_none "the server's log has no 5xx answer, error line or sanitizer report" \
	"$(grep -E '" 5[0-9][0-9] | error |Sanitizer|runtime error' "$WORK/serve.log" | head -n 3 | cut -c1-150)"
OLD_PORT=$PORT
if start_server "$WORK/serve2.log" --data "$DATA" --listen 127.0.0.1:0; then
	req GET /healthz ""
	check_status "the server starts again on the same data ($OLD_PORT -> $PORT)" 200
	check_eq "after restart: every clip is still there" "$ALL $ALL" "$BEFORE_ADMIN $(total "$ADMIN" "")"
	req GET /api/v1/clips/903 "$TEACH_N"
	check_jq "after restart: the edited title is kept" '.title == "Marmalade physics demo"'
	check_eq "after restart: a teacher's token still works and sees the same clips" \
		"$BEFORE_TN" "$(total "$TEACH_N" "")"
	req GET /api/v1/clips/912 "$ADMIN"
	check_status "after restart: the deleted clip stays deleted" 404
	stop_server "$SERVER_PID"
	check_eq "the restarted server stops with status 0" 0 "$STOP_RC"
else
	not_ok "the server starts again on the same data" "$(tail -c 600 "$WORK/serve2.log")"
fi

# ---------------------------------------------------------------- versions and config

mkdir -p "$WORK/newer"
sql ".backup '$WORK/newer/catalogue.db'"
sqlite3 "$WORK/newer/catalogue.db" 'PRAGMA user_version = 999'
run_cli school add x X --data "$WORK/newer"
if [ "$RC" -ne 0 ] && printf '%s' "$ERR" | grep -qi newer; then
	ok "a catalogue from a newer kindling is refused with a message saying 'newer'"
else
	not_ok "a catalogue from a newer kindling is refused with a message saying 'newer'" "rc=$RC stderr='$ERR'"
fi
check_eq "the newer catalogue is left alone" "999|0" \
	"$(sqlite3 "$WORK/newer/catalogue.db" "SELECT (SELECT user_version FROM pragma_user_version), count(*) FROM schools WHERE slug = 'x'")"
serve_must_fail "serve refuses a catalogue from a newer kindling, saying 'newer'" "$WORK/newer.log" \
	newer --data "$WORK/newer" --listen 127.0.0.1:0

KINDLING_DATA=$WORK/envdata "$BIN" school add env-school "Env School" >/dev/null 2>&1
check_eq "KINDLING_DATA is used when --data is absent" env-school \
	"$(sqlite3 "$WORK/envdata/catalogue.db" "SELECT slug FROM schools WHERE slug = 'env-school'" 2>&1)"
KINDLING_DATA=$WORK/envdata "$BIN" school add flag-school "Flag School" --data "$WORK/flagdata" >/dev/null 2>&1
check_eq "--data wins over KINDLING_DATA" "1 0" \
	"$(sqlite3 "$WORK/flagdata/catalogue.db" "SELECT count(*) FROM schools WHERE slug = 'flag-school'") $(sqlite3 "$WORK/envdata/catalogue.db" "SELECT count(*) FROM schools WHERE slug = 'flag-school'")"
check "nothing was written to ./kindling-data" test ! -e "$WORK/kindling-data"

mkdir -p "$WORK/confdata"
printf '# test settings\nlisten = 127.0.0.1:0\nhttp_threads = 3   # three\n' >"$WORK/confdata/kindling.conf"
if KINDLING_DATA=$WORK/confdata start_server "$WORK/conf.log"; then
	ok "kindling.conf 'listen = 127.0.0.1:0' is honoured (port $PORT)"
	check "kindling.conf http_threads = 3 is honoured" grep -q 'with 3 threads' "$WORK/conf.log"
	req GET /healthz ""
	check_status "the server started from kindling.conf answers" 200
	stop_server "$SERVER_PID"
else
	not_ok "kindling.conf 'listen = 127.0.0.1:0' is honoured" "$(tail -c 600 "$WORK/conf.log")"
fi

mkdir -p "$WORK/baddata"
printf 'listen = 127.0.0.1:0\nfrobnicate = yes\n' >"$WORK/baddata/kindling.conf"
serve_must_fail "serve fails on an unknown key in kindling.conf, naming the key" "$WORK/bad.log" \
	frobnicate --data "$WORK/baddata"

summary
