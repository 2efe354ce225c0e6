#!/usr/bin/env bash
# tests/integration/accounts.sh - people and their credentials, at the shell
# and in the browser, against a running server: kindling user list / set /
# disable / enable and token add / list / revoke (names, expiry, last use);
# /account as a teacher (a token made with the form and the session's CSRF
# token, used, revoked; sessions ended); /admin/users as an admin (search,
# filters, add, edit, disable and enable, passwords, revoking another's
# token); what a disabled person's next request gets (refused at once,
# through the server's remembered sign-ins); what a teacher may not do
# (admin pages, another's token or session); forms without their CSRF
# token; hostile names shown as text.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/accounts.sh
#
# Last line: "accounts: N passed, N failed".  Loopback only; every wait polls.

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite accounts sqlite3

PASSWORD="a long accounts password"
XSS='<script>alert(1)</script>'
XSS_ESC='&lt;script&gt;alert(1)&lt;/script&gt;'

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 &&
	"$BIN" school add river "River School" --data "$DATA" >/dev/null 2>&1 ||
	fatal "fixture: two schools" "school add failed"
with_password() { add_user "$@" --password-stdin < <(printf '%s\n' "$PASSWORD"); }
ADMIN=$(with_password "Ada Admin" admin "" --email ada@district.org)
TESS=$(with_password "Tess Teacher" teacher north-high --email Tess@District.org --full-name "Tess Q. Teacher")
OTTO=$(with_password "Otto River" teacher river --email otto@district.org)
SAM=$(add_user "Sam Sample" teacher north-high)
for t in "$ADMIN" "$TESS" "$OTTO" "$SAM"; do
	[[ $t =~ ^kd_[0-9]+_ ]] || fatal "fixture: user add prints a token" "got '$t'"
done
U_ADMIN=$(sql "SELECT id FROM users WHERE name = 'Ada Admin'")
U_TESS=$(sql "SELECT id FROM users WHERE name = 'Tess Teacher'")
U_OTTO=$(sql "SELECT id FROM users WHERE name = 'Otto River'")
U_SAM=$(sql "SELECT id FROM users WHERE name = 'Sam Sample'")

# ------------------------------------------------------------------ user, at the shell
run_cli user list --data "$DATA"
check_eq "user list: exit 0" 0 "$RC"
check_match "  a table with a header" '^ +ID +NAME +E-MAIL +ROLE +SCHOOL +STATUS +LAST SIGN-IN' "$OUT"
check_match "  Tess with her address, role and school" 'Tess Teacher +Tess@District.org +teacher +north-high +enabled' "$OUT"
check_eq "  four accounts" 4 "$(grep -c 'enabled' <<<"$OUT")"
run_cli user list --json --search 'tess@DISTRICT' --data "$DATA"
check_eq "user list --search matches an e-mail address in any case" '["Tess Teacher"]' "$(jq -c '[.[].name]' <<<"$OUT")"
check_eq "  --json has the full name, school, status and e-mail" \
	'"Tess Q. Teacher north-high enabled Tess@District.org"' \
	"$(jq -c '.[0] | "\(.full_name) \(.school) \(.status) \(.email)"' <<<"$OUT")"
run_cli user list --json --search 'q. teach' --data "$DATA"
check_eq "user list --search matches a full name" '["Tess Teacher"]' "$(jq -c '[.[].name]' <<<"$OUT")"
run_cli user list --json --role teacher --school river --data "$DATA"
check_eq "user list --role teacher --school river" '["Otto River"]' "$(jq -c '[.[].name]' <<<"$OUT")"
run_cli user list --school atlantis --data "$DATA"
check_eq "user list --school of no school: exit 1" 1 "$RC"
run_cli user list --role wizard --data "$DATA"
check_eq "user list --role wizard: a usage error" 2 "$RC"
check_match "  that names the roles" 'admin, coach, principal or teacher' "$ERR"

run_cli user set "sam sample" --email sam@district.org --full-name "$XSS" --role principal --school river --data "$DATA"
check_eq "user set (by name, any case): exit 0" 0 "$RC"
check_match "  says what the account is now" "principal of river, e-mail sam@district.org" "$OUT"
check_eq "  the row has the changes, role_by kindling" "sam@district.org|$XSS|principal|river|kindling" \
	"$(sql "SELECT u.email, u.full_name, u.role, s.slug, u.role_by FROM users u JOIN schools s ON s.id = u.school_id WHERE u.id = $U_SAM")"
run_cli user set "$U_SAM" --no-school --data "$DATA"
check_eq "user set ID --no-school" "" "$(sql "SELECT school_id FROM users WHERE id = $U_SAM")"
run_cli user set SAM@DISTRICT.ORG --school north-high --data "$DATA"
check_eq "user set E-MAIL (any case) --school" north-high \
	"$(sql "SELECT s.slug FROM users u JOIN schools s ON s.id = u.school_id WHERE u.id = $U_SAM")"
run_cli user set nobody-at-all --role coach --data "$DATA"
check_eq "user set of an unknown account: exit 1" 1 "$RC"
check_match "  and says how to list them" "kindling user list" "$ERR"
run_cli user set "Sam Sample" --email tess@district.org --data "$DATA"
check_eq "user set to another's e-mail address (other case): exit 1" 1 "$RC"
check_match "  and says whose it is" "Tess Teacher" "$ERR"
run_cli user set "Sam Sample" --email "not an address" --data "$DATA"
check_eq "user set --email of no address: exit 1" 1 "$RC"
run_cli user set "Sam Sample" --data "$DATA"
check_eq "user set with nothing to change: a usage error" 2 "$RC"
run_cli user set "Sam Sample" --school river --no-school --data "$DATA"
check_eq "user set --school and --no-school: a usage error" 2 "$RC"
run_cli user add --name "Someone Else" --role teacher --email TESS@district.org --data "$DATA"
check_eq "user add with an address another account has: exit 1" 1 "$RC"
run_cli user frobnicate --data "$DATA"
check_eq "user frobnicate: a usage error" 2 "$RC"
check_match "  that shows the usage" 'kindling user list' "$ERR"
run_cli --help
check_match "kindling --help lists user list" 'kindling user list' "$OUT"
check_match "  and token add" 'kindling token add --user' "$OUT"

start_server "$DATA" || fatal "the server started" "$(log_tail)"

# expect WANT METHOD PATH TOKEN [CURL ARGS...]: req, then is STATUS WANT?
expect() {
	local want=$1
	shift
	req "$@"
	[ "$STATUS" == "$want" ]
}
# cookie_status WANT SID [PATH]: a page with the session cookie answers WANT.
cookie_status() { expect "$1" GET "${3:-/account}" "" -H "Cookie: kd_session=$2"; }

# sign_in NAME [PASSWORD]: a new session; prints "SID CSRF".
sign_in() {
	local sid csrf
	req POST /login "" --data-urlencode "name=$1" --data-urlencode "password=${2:-$PASSWORD}" \
		--data-urlencode "next=/"
	[ "$STATUS" == 303 ] || return 1
	sid=$(header Set-Cookie | sed -n 's/^kd_session=\([^;]*\).*/\1/p')
	[ -n "$sid" ] || return 1
	req GET /account "" -H "Cookie: kd_session=$sid"
	csrf=$(grep -o '<meta name="csrf-token" content="[^"]*"' "$WORK/body" | sed 's/.*content="//; s/"$//')
	[ "$STATUS" == 200 ] && [ -n "$csrf" ] || return 1
	echo "$sid $csrf"
}
# page_post SID CSRF PATH [CURL ARGS...]: a form POST with the session.
page_post() {
	local sid=$1 csrf=$2 path=$3
	shift 3
	req POST "$path" "" -H "Cookie: kd_session=$sid" --data-urlencode "csrf=$csrf" "$@"
}
sid_id() { sed -n 's/^kd_\([0-9]*\)_.*/\1/p' <<<"$1"; }
# has NAME TEXT: the last response body holds TEXT, as it is.
has() {
	if grep -qF -- "$2" "$WORK/body"; then ok "$1"; else not_ok "$1" "no '$2' in '$(head -c 300 "$WORK/body")'"; fi
}

# ------------------------------------------------------------------ tokens, at the shell
run_cli token add --user "Tess Teacher" --name "upload laptop" --expires 30 --data "$DATA"
check_eq "token add --name --expires: exit 0" 0 "$RC"
T_LAPTOP=$(tail -n 1 <<<"$OUT")
check_match "  the token is the last line" '^kd_[0-9]+_[A-Za-z0-9_-]{20,}$' "$T_LAPTOP"
check_match "  and says when it expires" "$(date -u -d '+30 days' +%F)" "$ERR"
ID_LAPTOP=$(sid_id "$T_LAPTOP")
run_cli token list --user tess@district.org --json --data "$DATA"
D30=$(date -u -d '+30 days' +%F)
check_eq "token list --user --json: its name, an expiry, never used" '["upload laptop",true,null]' \
	"$(jq -c ".[] | select(.id == $ID_LAPTOP) | [.name, (.expires_at | startswith(\"$D30\")), .last_used_at]" <<<"$OUT")"
check_eq "  never the secret" "" "$(grep -o "${T_LAPTOP#kd_*_}" <<<"$OUT")"
req GET /api/v1/me "$T_LAPTOP"
check_eq "the new token signs in" "200 Tess Teacher" "$STATUS $(jb .name)"
run_cli token list --user "Tess Teacher" --json --data "$DATA"
check_match "token list: last_used_at is set after a use" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' \
	"$(jq -r ".[] | select(.id == $ID_LAPTOP) | .last_used_at" <<<"$OUT")"
run_cli token list --data "$DATA"
check_match "token list (a table, everyone's)" 'upload laptop' "$OUT"
check_match "  with a header" '^ +ID +USER +NAME +CREATED +EXPIRES +LAST USED' "$OUT"

run_cli token add --user "Tess Teacher" --name "to expire" --data "$DATA"
T_OLD=$(tail -n 1 <<<"$OUT")
check "a second token works" expect 200 GET /api/v1/me "$T_OLD"
sql "UPDATE tokens SET expires_at = '2001-01-01T00:00:00Z' WHERE label = 'to expire'"
if soon expect 401 GET /api/v1/me "$T_OLD"; then ok "an expired token is refused (though it was just used)"; else not_ok "an expired token is refused" "status $STATUS"; fi
run_cli token list --user "Tess Teacher" --data "$DATA"
check_match "  token list says it expired" 'to expire +[0-9-]+ [0-9:]+ +expired 2001-01-01' "$OUT"

run_cli token add --user "Tess Teacher" --name "to revoke" --data "$DATA"
T_REV=$(tail -n 1 <<<"$OUT")
check "a third token works" expect 200 GET /api/v1/me "$T_REV"
run_cli token revoke "$(sid_id "$T_REV")" --data "$DATA"
check_eq "token revoke ID: exit 0" 0 "$RC"
if soon expect 401 GET /api/v1/me "$T_REV"; then ok "  the revoked token is refused at its next request"; else not_ok "  the revoked token is refused" "status $STATUS"; fi
run_cli token revoke "$(sid_id "$T_REV")" --data "$DATA"
check_eq "token revoke of a token that is gone: exit 1" 1 "$RC"
run_cli token add --user nobody-at-all --data "$DATA"
check_eq "token add for an unknown account: exit 1" 1 "$RC"
check_match "  and says how to list them" "kindling user list" "$ERR"
run_cli token add --user "Tess Teacher" --expires 2001-01-01 --data "$DATA"
check_eq "token add --expires in the past: a usage error" 2 "$RC"
run_cli token add --user "Tess Teacher" --expires soon --data "$DATA"
check_eq "token add --expires soon: a usage error" 2 "$RC"
run_cli token add --name x --data "$DATA"
check_eq "token add without --user: a usage error" 2 "$RC"

# ------------------------------------------------------------------ disabling at the shell
got=$(sign_in "Tess Teacher") || fatal "Tess signs in with her password" "status $STATUS"
TESS_SID=${got% *}
check "Tess's session opens /account" cookie_status 200 "$TESS_SID"
check "Tess's token works" expect 200 GET /api/v1/me "$TESS"
run_cli user disable tess@district.org --data "$DATA"
check_eq "user disable E-MAIL while the server runs: exit 0" 0 "$RC"
check_match "  says what it did" "sessions and API tokens are ended" "$OUT"
if soon expect 401 GET /api/v1/me "$TESS"; then ok "  her token is refused at the very next request"; else not_ok "  her token is refused" "status $STATUS"; fi
if soon cookie_status 303 "$TESS_SID"; then ok "  her session cookie is sent to the login page"; else not_ok "  her session is refused" "status $STATUS"; fi
check_eq "    (/login)" "/login?next=/account" "$(header Location)"
check_eq "  her other token too" 401 "$(req GET /api/v1/me "$T_LAPTOP"; echo "$STATUS")"
check "  and she cannot sign in" expect 401 POST /login "" --data-urlencode "name=Tess Teacher" --data-urlencode "password=$PASSWORD"
run_cli user list --data "$DATA"
check_match "user list hides the disabled" '^3 accounts' "$ERR"
run_cli user list --disabled --json --data "$DATA"
check_eq "user list --disabled shows her, with since when" '[["Tess Teacher",true]]' \
	"$(jq -c '[.[] | [.name, (.disabled_at | test("^20"))]]' <<<"$OUT")"
run_cli user disable "$U_TESS" --data "$DATA"
check_match "user disable again: says she already was" "already disabled" "$OUT"
run_cli user enable "Tess Teacher" --data "$DATA"
check_eq "user enable: exit 0" 0 "$RC"
check "  she can sign in again" expect 303 POST /login "" --data-urlencode "name=Tess Teacher" --data-urlencode "password=$PASSWORD"
check "  but her old token stays ended (a leaver's token must never come back)" expect 401 GET /api/v1/me "$TESS"
check_eq "  (none of her tokens is left)" 0 "$(sql "SELECT count(*) FROM tokens WHERE user_id = $U_TESS")"
run_cli token add --user "Tess Teacher" --name "back again" --data "$DATA"
TESS=$(tail -n 1 <<<"$OUT")
check "  a new token for her works" expect 200 GET /api/v1/me "$TESS"
check "  her old session stays ended" cookie_status 303 "$TESS_SID"

# ------------------------------------------------------------------ /account, as a teacher
got=$(sign_in "Tess Teacher") || fatal "Tess signs in again" "status $STATUS"
SID=${got% *} CSRF=${got#* }
req GET /account "" -H "Cookie: kd_session=$SID"
check_eq "/account: 200" 200 "$STATUS"
body=$(cat "$WORK/body")
check_match "  shows her e-mail address" 'Tess@District.org' "$body"
check_match "  her role and school" 'teacher.*North High' "$body"
check_match "  her tokens by name" 'upload laptop' "$body"
check_match "  her session, marked as this browser" 'this browser' "$body"
check_eq "  never cached" no-store "$(header Cache-Control)"

page_post "$SID" "$CSRF" /account/tokens --data-urlencode "name=script $XSS" --data-urlencode "expires_days=7"
check_eq "making a token with the form: 200" 200 "$STATUS"
NEW=$(grep -o 'id="new-token">kd_[0-9]*_[A-Za-z0-9_-]*' "$WORK/body" | sed 's/.*>//')
check_match "  the page shows the new token" '^kd_[0-9]+_[A-Za-z0-9_-]{20,}$' "$NEW"
check_eq "  not cached" no-store "$(header Cache-Control)"
check_eq "  and not a redirect (no token in a URL)" "" "$(header Location)"
has "  its name is shown as text" "script $XSS_ESC"
check_eq "  no script from the name" 0 "$(grep -cF -- "$XSS" "$WORK/body")"
req GET /api/v1/me "$NEW"
check_eq "the token from the form signs in as her" "200 Tess Teacher" "$STATUS $(jb .name)"
check_match "  it expires in 7 days" "^$(date -u -d '+7 days' +%F)T" \
	"$(sql "SELECT expires_at FROM tokens WHERE id = $(sid_id "$NEW")")"
req GET /account "" -H "Cookie: kd_session=$SID"
check_eq "  the account page does not show it again" 0 "$(grep -c -- "${NEW#kd_*_}" "$WORK/body")"

req POST /account/tokens "" -H "Cookie: kd_session=$SID" --data-urlencode "name=no csrf"
check_eq "making a token without the CSRF token: 403" 403 "$STATUS"
page_post "$SID" "x$CSRF" /account/tokens --data-urlencode "name=bad csrf"
check_eq "  with a wrong one: 403" 403 "$STATUS"
check_eq "  neither was made" 0 "$(sql "SELECT count(*) FROM tokens WHERE label IN ('no csrf', 'bad csrf')")"
page_post "$SID" "$CSRF" /account/tokens --data-urlencode "name=kept name" --data-urlencode "expires_days=soon"
check_eq "an expiry that is no number of days: 400" 400 "$STATUS"
check_match "  the form again with the reason and the name typed" 'value="kept name"' "$(cat "$WORK/body")"
page_post "$SID" "$CSRF" /account/tokens --data-urlencode "expires_days=99999"
check_eq "an expiry of 99999 days: 400" 400 "$STATUS"

page_post "$SID" "$CSRF" "/account/tokens/$(sid_id "$NEW")/revoke"
check_eq "revoking her token with its button: 303" 303 "$STATUS"
check_eq "  back to her tokens" "/account#tokens" "$(header Location)"
check "  the token is refused at once" expect 401 GET /api/v1/me "$NEW"

run_cli token add --user "Otto River" --name "otto's" --data "$DATA"
T_OTTO=$(tail -n 1 <<<"$OUT")
page_post "$SID" "$CSRF" "/account/tokens/$(sid_id "$T_OTTO")/revoke"
check_eq "revoking another's token from /account: 404" 404 "$STATUS"
check "  his token still works" expect 200 GET /api/v1/me "$T_OTTO"
page_post "$SID" "$CSRF" /account/tokens/999999/revoke
check_eq "revoking a token that does not exist: 404" 404 "$STATUS"
req POST "/account/tokens/$(sid_id "$T_OTTO")/revoke" "$TESS" -H 'Content-Type: application/x-www-form-urlencoded' --data ''
check_eq "  nor with her bearer token: 404" 404 "$STATUS"

got=$(sign_in "Otto River") || fatal "Otto signs in" "status $STATUS"
OTTO_SID=${got% *}
page_post "$SID" "$CSRF" "/account/sessions/$(sid_id "$OTTO_SID")/end"
check_eq "ending another's session from /account: 404" 404 "$STATUS"
check "  his session still works" cookie_status 200 "$OTTO_SID"

got=$(sign_in "Tess Teacher") || fatal "Tess signs in in a second browser" "status $STATUS"
SID2=${got% *}
got=$(sign_in "Tess Teacher") || fatal "Tess signs in in a third browser" "status $STATUS"
SID3=${got% *}
page_post "$SID" "$CSRF" "/account/sessions/$(sid_id "$SID2")/end"
check_eq "ending one of her other sessions: 303" 303 "$STATUS"
check "  that browser is sent to sign in" cookie_status 303 "$SID2"
check "  this one is still in" cookie_status 200 "$SID"
page_post "$SID" "$CSRF" /account/sessions/end-others
check_eq "\"sign out everywhere else\": 303" 303 "$STATUS"
check "  the third browser is out" cookie_status 303 "$SID3"
check "  this one is still in" cookie_status 200 "$SID"
check "  Otto's session is untouched" cookie_status 200 "$OTTO_SID"
req POST /account/sessions/end-others "" -H "Cookie: kd_session=$SID" --data-urlencode "csrf="
check_eq "  without the CSRF token: 403" 403 "$STATUS"
page_post "$SID" "$CSRF" "/account/sessions/$(sid_id "$SID")/end"
check_eq "ending this browser's own session: 303" 303 "$STATUS"
check_eq "  to the login page" /login "$(header Location)"
check_match "  clearing the cookie" '^kd_session=;.*Max-Age=0' "$(header Set-Cookie)"
check "  the session is gone" cookie_status 303 "$SID"

# ------------------------------------------------------------------ what a teacher may not do
got=$(sign_in "Tess Teacher") || fatal "Tess signs in once more" "status $STATUS"
SID=${got% *} CSRF=${got#* }
for path in /admin/users "/admin/users/$U_OTTO"; do
	check "a teacher gets 403 on GET $path" cookie_status 403 "$SID" "$path"
done
check_match "  a page that says so" 'For admins only' "$(cat "$WORK/body")"
fails=""
for path in /admin/users "/admin/users/$U_OTTO" "/admin/users/$U_OTTO/disable" \
	"/admin/users/$U_OTTO/password" "/admin/users/$U_OTTO/tokens/$(sid_id "$T_OTTO")/revoke" \
	"/admin/users/$U_OTTO/sessions/$(sid_id "$OTTO_SID")/end"; do
	page_post "$SID" "$CSRF" "$path" --data-urlencode "name=Hacked" --data-urlencode "role=admin" \
		--data-urlencode "password=hacked password"
	[ "$STATUS" == 403 ] || fails+=" $path:$STATUS"
done
check_none "a teacher's admin form posts are 403" "$fails"
check_eq "  Otto is untouched" "Otto River|teacher|0" "$(sql "SELECT name, role, disabled FROM users WHERE id = $U_OTTO")"
check "  his token still works" expect 200 GET /api/v1/me "$T_OTTO"
check "  his session too" cookie_status 200 "$OTTO_SID"
req GET /admin/users "$TESS"
check_eq "  and with her bearer token: 403" 403 "$STATUS"

# ------------------------------------------------------------------ /admin/users, as an admin
got=$(sign_in "Ada Admin") || fatal "the admin signs in" "status $STATUS"
ASID=${got% *} ACSRF=${got#* }
admin_get() { req GET "$1" "" -H "Cookie: kd_session=$ASID"; }
admin_get /admin/users
check_eq "/admin/users: 200" 200 "$STATUS"
check_match "  lists people with links" "href=\"/admin/users/$U_TESS\">Tess Teacher" "$(cat "$WORK/body")"
check_match "  has the add form" 'action="/admin/users"' "$(cat "$WORK/body")"
check_match "  with a password field (passwords are on)" 'name="password"' "$(cat "$WORK/body")"
check_eq "  no full name as markup" 0 "$(grep -cF -- "$XSS" "$WORK/body")"
has "  a hostile full name is shown as text" "$XSS_ESC"
admin_get "/admin/users?q=$(uri 'TESS@district')"
check_match "search by e-mail finds Tess" 'Tess Teacher' "$(cat "$WORK/body")"
check_eq "  and not Otto" 0 "$(grep -c 'Otto River' "$WORK/body")"
admin_get "/admin/users?school=river"
check_match "filter by school: Otto" 'Otto River' "$(cat "$WORK/body")"
check_eq "  not Tess" 0 "$(grep -c 'Tess Teacher' "$WORK/body")"
admin_get "/admin/users?role=admin"
check_match "filter by role: the admin" 'Ada Admin' "$(cat "$WORK/body")"
check_eq "  no teacher" 0 "$(grep -c 'Otto River' "$WORK/body")"
admin_get "/admin/users?q=$(uri '%')"
check_match "a search for % matches no one (it is no wildcard)" '0 people' "$(cat "$WORK/body")"

page_post "$ASID" "$ACSRF" /admin/users --data-urlencode "name=Hal Helper" \
	--data-urlencode "email=hal@district.org" --data-urlencode "full_name=$XSS" \
	--data-urlencode "role=teacher" --data-urlencode "school=north-high" \
	--data-urlencode "password=$PASSWORD"
check_eq "adding a person: 303" 303 "$STATUS"
check_match "  to their page" '^/admin/users/[0-9]+\?done=added$' "$(header Location)"
U_HAL=$(header Location | sed 's#^/admin/users/\([0-9]*\).*#\1#')
check_eq "  the row" "Hal Helper|hal@district.org|teacher|north-high|kindling" \
	"$(sql "SELECT u.name, u.email, u.role, s.slug, u.role_by FROM users u JOIN schools s ON s.id = u.school_id WHERE u.id = $U_HAL")"
admin_get "/admin/users/$U_HAL?done=added"
check_eq "their page: 200" 200 "$STATUS"
check_match "  says they were added" 'The person was added' "$(cat "$WORK/body")"
has "  shows the full name as text" "value=\"$XSS_ESC\""
check_eq "  never as markup" 0 "$(grep -cF -- "$XSS" "$WORK/body")"
admin_get "/admin/users?q=$(uri '<script>')"
has "a search for markup finds the hostile full name, escaped" "$XSS_ESC"
check_eq "  never as markup" 0 "$(grep -cF -- "$XSS" "$WORK/body")"

page_post "$ASID" "$ACSRF" /admin/users --data-urlencode "name=Dup Person" \
	--data-urlencode "email=HAL@district.org" --data-urlencode "role=coach"
check_eq "adding a person with a taken e-mail address: 409" 409 "$STATUS"
check_match "  the form again, with the reason" "already Hal Helper" "$(cat "$WORK/body")"
check_match "  and what was typed" 'value="Dup Person"' "$(cat "$WORK/body")"
page_post "$ASID" "$ACSRF" /admin/users --data-urlencode "name=No Role"
check_eq "adding a person without a role: 400" 400 "$STATUS"
req POST /admin/users "" -H "Cookie: kd_session=$ASID" --data-urlencode "name=No Csrf" --data-urlencode "role=teacher"
check_eq "adding a person without the CSRF token: 403" 403 "$STATUS"
check_eq "  none of these was added" 0 "$(sql "SELECT count(*) FROM users WHERE name IN ('Dup Person', 'No Role', 'No Csrf')")"

got=$(sign_in "Hal Helper") || fatal "Hal signs in with the password the admin gave" "status $STATUS"
HAL_SID=${got% *}
run_cli token add --user hal@district.org --name hal --data "$DATA"
T_HAL=$(tail -n 1 <<<"$OUT")
check "Hal's token works" expect 200 GET /api/v1/me "$T_HAL"

page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL" --data-urlencode "name=Hal Helper" \
	--data-urlencode "email=hal@district.org" --data-urlencode "full_name=Hal H." \
	--data-urlencode "role=coach" --data-urlencode "school=north-high"
check_eq "making Hal a coach: 303" 303 "$STATUS"
check_eq "  the row: a coach, the role set in kindling" "coach|kindling|Hal H." \
	"$(sql "SELECT role, role_by, full_name FROM users WHERE id = $U_HAL")"
req GET /api/v1/me "$T_HAL"
check_eq "  his next request is a coach's" coach "$(jb .role)"
page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL" --data-urlencode "name=Otto River" \
	--data-urlencode "email=hal@district.org" --data-urlencode "role=coach"
check_eq "renaming Hal to Otto's name: 409" 409 "$STATUS"
check_match "  the form again with what was typed" 'value="Otto River"' "$(cat "$WORK/body")"
page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL" --data-urlencode "name=Hal Helper" \
	--data-urlencode "role=coach" --data-urlencode "school=atlantis"
check_eq "a school that does not exist: 404" 404 "$STATUS"
has "  the form again, with the reason" "no school with slug &#39;atlantis&#39;"
page_post "$ASID" "$ACSRF" /admin/users/999999 --data-urlencode "name=Nobody" --data-urlencode "role=coach"
check_eq "editing an account that does not exist: 404" 404 "$STATUS"

page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL/disable"
check_eq "disabling Hal: 303" 303 "$STATUS"
check "  his token is refused at the next request" expect 401 GET /api/v1/me "$T_HAL"
check "  his session is sent to the login page" cookie_status 303 "$HAL_SID"
admin_get "/admin/users?status=disabled"
check_match "  the disabled list has him" 'Hal Helper' "$(cat "$WORK/body")"
admin_get /admin/users
check_eq "  the default list does not" 0 "$(grep -c 'Hal Helper' "$WORK/body")"
page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL/enable"
check_eq "enabling Hal: 303" 303 "$STATUS"
check "  his old token stays ended" expect 401 GET /api/v1/me "$T_HAL"
run_cli token add --user hal@district.org --name hal --data "$DATA"
T_HAL=$(tail -n 1 <<<"$OUT")
check "  a new one works" expect 200 GET /api/v1/me "$T_HAL"

page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL/password" --data-urlencode "action=set" \
	--data-urlencode "password=a brand new password"
check_eq "setting Hal's password: 303" 303 "$STATUS"
check "  he signs in with it" expect 303 POST /login "" --data-urlencode "name=Hal Helper" --data-urlencode "password=a brand new password"
check "  not with the old one" expect 401 POST /login "" --data-urlencode "name=Hal Helper" --data-urlencode "password=$PASSWORD"
page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL/password" --data-urlencode "action=set" --data-urlencode "password=short"
check_eq "a password too short: 400" 400 "$STATUS"
page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL/password" --data-urlencode "action=remove"
check_eq "removing Hal's password: 303" 303 "$STATUS"
check "  he cannot sign in with one" expect 401 POST /login "" --data-urlencode "name=Hal Helper" --data-urlencode "password=a brand new password"

admin_get "/admin/users/$U_HAL"
check_match "Hal's page lists his token" '>hal \(#' "$(cat "$WORK/body")"
page_post "$ASID" "$ACSRF" "/admin/users/$U_OTTO/tokens/$(sid_id "$T_HAL")/revoke"
check_eq "revoking Hal's token under Otto's page: 404" 404 "$STATUS"
check "  it still works" expect 200 GET /api/v1/me "$T_HAL"
page_post "$ASID" "$ACSRF" "/admin/users/$U_HAL/tokens/$(sid_id "$T_HAL")/revoke"
check_eq "an admin revokes Hal's token: 303" 303 "$STATUS"
check "  it is refused at once" expect 401 GET /api/v1/me "$T_HAL"
got=$(sign_in "Otto River") || fatal "Otto signs in again" "status $STATUS"
OTTO_SID2=${got% *}
page_post "$ASID" "$ACSRF" "/admin/users/$U_OTTO/sessions/$(sid_id "$OTTO_SID2")/end"
check_eq "an admin ends Otto's session: 303" 303 "$STATUS"
check "  that browser is sent to sign in" cookie_status 303 "$OTTO_SID2"
check "  his other session is untouched" cookie_status 200 "$OTTO_SID"

page_post "$ASID" "$ACSRF" "/admin/users/$U_ADMIN/disable"
check_eq "an admin cannot disable themselves: 403" 403 "$STATUS"
page_post "$ASID" "$ACSRF" "/admin/users/$U_ADMIN" --data-urlencode "name=Ada Admin" --data-urlencode "role=teacher"
check_eq "  nor take away their own admin role: 403" 403 "$STATUS"
check_eq "  still an enabled admin" "admin|0" "$(sql "SELECT role, disabled FROM users WHERE id = $U_ADMIN")"
req POST "/admin/users/$U_HAL/disable" "" -H "Cookie: kd_session=$ASID" --data-urlencode "csrf=wrong"
check_eq "disabling without the right CSRF token: 403" 403 "$STATUS"
check_eq "  Hal stays enabled" 0 "$(sql "SELECT disabled FROM users WHERE id = $U_HAL")"

run_cli user add --name '<img src=x onerror=alert(2)>' --role teacher --data "$DATA"
admin_get "/admin/users?q=$(uri 'onerror')"
check_match "a hostile name is escaped in the list" '&lt;img src=x onerror=alert\(2\)&gt;' "$(cat "$WORK/body")"
check_eq "  never markup" 0 "$(grep -cF -- '<img src=x' "$WORK/body")"

run_cli user list --json --search tess@ --data "$DATA"
check_match "user list shows a last sign-in" '^20' "$(jq -r '.[0].last_seen' <<<"$OUT")"

check_server_log
finish
