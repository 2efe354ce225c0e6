#!/usr/bin/env bash
# tests/integration/auth.sh - who the API thinks you are: GET /api/v1/me,
# bearer tokens right and wrong, and the router: methods (405 with Allow),
# unknown paths and ids (404 with a JSON error), paths with "..".
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/auth.sh
#
# Needs curl, jq and the sqlite3 CLI (for the shared fixture).
# Last line: "auth: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite auth sqlite3

fixture_catalogue
PW_TOKEN=$(add_user pw-user teacher north-high --password-stdin < <(printf 'correct horse battery staple\n'))
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# ---------------------------------------------------------------- who am I

req GET /api/v1/me "$TEACH_N"
check_jq "GET /api/v1/me names a teacher and their school" \
	'.name == "teach-north" and .role == "teacher" and .school == "north-high" and (.id|type) == "number"'
req GET /api/v1/me "$ADMIN"
check_jq "GET /api/v1/me for an admin without a school has school null" \
	'.name == "it-admin" and .role == "admin" and .school == null'

# ---------------------------------------------------------------- authentication

req GET /api/v1/clips ""
check_match "no token: 401 with WWW-Authenticate: Bearer and a JSON error" '^401 string Bearer' \
	"$STATUS $(jb '.error | type') $(header WWW-Authenticate)"
# the admin's own token with its last character changed: a right id, a wrong secret
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

# ---------------------------------------------------------------- routes and methods

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

check_server_log
finish
