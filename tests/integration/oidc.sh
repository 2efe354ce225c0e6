#!/usr/bin/env bash
# tests/integration/oidc.sh - signing in through the district's identity
# provider: a real OpenID Connect provider (the npm package oidc-provider,
# tests/oidc_provider.mjs) on a loopback port, kindling configured for it,
# and the whole authorization code flow driven with curl (and once in
# Chromium, tests/integration/oidc_browser.mjs): who gets in, who is
# refused and why, replays and forged callbacks, the provider rotating its
# keys or going away, the settings that must hang together.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/oidc.sh
#
# Last line: "oidc: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite oidc node sqlite3
export KINDLING_NODE_MODULES=${KINDLING_NODE_MODULES:-$ROOT/tests/node_modules}
why=$(. "$HERE/../node_tools.sh" && node_tools_check oidc oidc-provider) ||
	fatal "the Node here can run oidc-provider" "${why:-tests/node_tools.sh failed}"

# free_port: a loopback port nobody listens on now (both servers must know
# both addresses before they start: each names the other in its settings).
free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
OPORT=$(free_port) && KPORT=$(free_port) || fatal "two free loopback ports" "node could not find them"
[ "$OPORT" != "$KPORT" ] || KPORT=$(free_port)
ISSUER=http://127.0.0.1:$OPORT
PUBLIC=http://127.0.0.1:$KPORT
CLIENT_ID=kindling-test
CLIENT_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
PW='provider password 1'

# The provider's people: the address is what kindling matches on.
cat >"$WORK/accounts.json" <<EOF
[
 {"sub": "s-ana", "email": "ana.ruiz@district.test", "email_verified": true, "name": "Ana Ruiz", "password": "$PW"},
 {"sub": "s-dan", "email": "dan.left@district.test", "email_verified": true, "name": "Dan Left", "password": "$PW"},
 {"sub": "s-sam", "email": "sam.new@district.test", "email_verified": true, "name": "Sam New", "password": "$PW"},
 {"sub": "s-eve", "email": "eve@elsewhere.test", "email_verified": true, "name": "Eve Else", "password": "$PW"},
 {"sub": "s-una", "email": "una@district.test", "email_verified": false, "name": "Una Verified", "password": "$PW"}
]
EOF

start_provider() {
	node "$ROOT/tests/oidc_provider.mjs" --port "$OPORT" --client-id "$CLIENT_ID" \
		--client-secret "$CLIENT_SECRET" --redirect-uri "$PUBLIC/auth/oidc/callback" \
		--accounts "$WORK/accounts.json" >"$WORK/provider.log" 2>&1 &
	PROVIDER_PID=$!
	wait_until 30 grep -q listening "$WORK/provider.log"
}
start_provider || fatal "oidc-provider starts on 127.0.0.1:$OPORT" "$(tail -c 600 "$WORK/provider.log")"
ok "oidc-provider listens at $ISSUER"

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 ||
	fatal "fixture: a school" "school add failed"
ADMIN=$(add_user "Ada Admin" admin)
add_user ana teacher north-high >/dev/null
add_user dan teacher north-high >/dev/null
add_user eve teacher north-high >/dev/null
add_user una teacher north-high >/dev/null
# addresses in another case than the provider's: matching ignores case
sql "UPDATE users SET email = 'Ana.Ruiz@District.TEST' WHERE name = 'ana';
     UPDATE users SET email = 'dan.left@district.test', disabled = 1 WHERE name = 'dan';
     UPDATE users SET email = 'eve@elsewhere.test' WHERE name = 'eve';
     UPDATE users SET email = 'una@district.test' WHERE name = 'una';
     UPDATE users SET email = 'ada.admin@district.test' WHERE name = 'Ada Admin';" ||
	fatal "fixture: e-mail addresses" "see above"
USERS_BEFORE=$(sql "SELECT count(*) FROM users")

# ---------------------------------------------------------------- settings

conf() {
	cat >"$DATA/kindling.conf" <<EOF
public_url = $PUBLIC
oidc_issuer = $ISSUER
oidc_client_id = $CLIENT_ID
oidc_client_secret_file = oidc-secret
oidc_name = District SSO
oidc_domains = district.test
$*
EOF
}
printf '%s\n' "$CLIENT_SECRET" >"$DATA/oidc-secret"
printf 'oidc_issuer = %s\n' "$ISSUER" >"$DATA/kindling.conf"
serve_must_fail "an issuer without its client is refused, naming what is missing" \
	'oidc_client_id' --data "$DATA" --listen 127.0.0.1:0
printf 'password_login = false\n' >"$DATA/kindling.conf"
serve_must_fail "password_login = false without a provider is refused" \
	'password_login = false needs oidc_issuer' --data "$DATA" --listen 127.0.0.1:0
conf "oidc_client_secret_file = missing-file"
serve_must_fail "a secret file that cannot be read is refused" \
	'cannot read oidc_client_secret_file' --data "$DATA" --listen 127.0.0.1:0

conf
start_server "$DATA" "$KPORT" || fatal "the server starts with single sign-on" "$(log_tail)"
check_match "the server read the provider's discovery document" "people sign in through $ISSUER" \
	"$(cat "$SERVER_LOG")"

# ---------------------------------------------------------------- the flow

# status ARGS...: curl, printing the status; body and headers as req keeps them.
status() { curl -s --max-time 30 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }

req GET /login ""
check_match "the sign-in page offers the provider's button, and the password form" \
	'href="/auth/oidc".*Sign in with District SSO.*name="password"' "$(tr -d '\n' <"$WORK/body")"

# sso JAR LOGIN [NEXT]: a browser (cookie jar JAR) signs in as LOGIN at the
# provider, from kindling's /auth/oidc?next=NEXT to wherever it ends.  Sets
# STATUS (of the last answer), WHERE (its URL), CALLBACK (the callback URL
# the provider sent the browser to).
sso() {
	local jar=$1 login=$2 next=${3:-/} loc action w
	CALLBACK="" WHERE="" STATUS=000
	STATUS=$(status -c "$jar" -b "$jar" "$URL/auth/oidc?next=$(uri "$next")")
	[ "$STATUS" == 303 ] || return 1
	loc=$(header Location)
	[[ $loc == "$ISSUER"/* ]] || { STATUS=bad-location; return 1; }
	# the provider's own pages, to its login form
	STATUS=$(status -L -c "$jar" -b "$jar" "$loc")
	action=$(grep -o '<form[^>]*action="[^"]*"' "$WORK/body" | head -n 1 | sed 's/.*action="//; s/"$//')
	[ -n "$action" ] || { STATUS=no-form; return 1; }
	[[ $action == http* ]] || action=$ISSUER$action
	# the form, then every redirect: the provider, kindling's callback, the next page
	w=$(curl -s --max-time 30 -L -c "$jar" -b "$jar" -o "$WORK/body" -D "$WORK/headers" \
		-w '%{http_code} %{url_effective}' --data-urlencode "login=$login" \
		--data-urlencode "password=$PW" "$action")
	STATUS=${w%% *}
	WHERE=${w#* }
	CALLBACK=$(grep -i '^location:' "$WORK/headers" | tr -d '\r' | sed 's/^[Ll]ocation: *//' |
		grep "/auth/oidc/callback" | head -n 1)
}
session_of() { sed -n 's/.*\tkd_session\t\(.*\)$/\1/p' "$1" | tail -n 1; }

sso "$WORK/ana.jar" ana.ruiz@district.test /practices
check_eq "Ana signs in through the provider and lands on the page she asked for" \
	"200 $URL/practices" "$STATUS $WHERE"
check_match "the callback clears the state cookie" '^kd_oidc=; Path=/auth/oidc; Max-Age=0' \
	"$(grep -i '^set-cookie: kd_oidc=' "$WORK/headers" | tr -d '\r' | sed 's/^[^:]*: //')"
ANA_SID=$(session_of "$WORK/ana.jar")
req GET /api/v1/me "" -H "Cookie: kd_session=$ANA_SID"
check_jq "her session is hers: /api/v1/me names ana (matched by address, case aside)" \
	'.name == "ana" and .role == "teacher"'
check_eq "the session says it began through the provider" oidc \
	"$(sql "SELECT via FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = 'ana'")"

# a replay of the very callback (the same state and code) finds nothing
state=$(sed -n 's/.*[?&]state=\([^&]*\).*/\1/p' <<<"$CALLBACK")
[ -n "$state" ] || not_ok "the provider sent the browser to the callback with a state" "$CALLBACK"
code=$(status -H "Cookie: kd_oidc=$state" "$CALLBACK")
check_eq "the same callback again (state and code replayed, cookie too): refused, no session" \
	"403 " "$code $(header Set-Cookie | grep -o 'kd_session=[^;]\+')"

# a callback that this browser did not begin: no state cookie
rm -f "$WORK/x.jar"
status -c "$WORK/x.jar" -b "$WORK/x.jar" "$URL/auth/oidc?next=/" >/dev/null
loc=$(header Location)
st=$(sed -n 's/.*[?&]state=\([^&]*\).*/\1/p' <<<"$loc")
code=$(status "$URL/auth/oidc/callback?state=$st&code=forged")
check_eq "a callback without the browser's state cookie (login CSRF) is refused" 400 "$code"
check_match "... with a page that says to start again" 'Start again' "$(cat "$WORK/body")"
code=$(status -H "Cookie: kd_oidc=$st" "$URL/auth/oidc/callback?code=abc")
check_eq "a callback without a state is refused" 400 "$code"
code=$(status -H "Cookie: kd_oidc=$st" "$URL/auth/oidc/callback?state=$st&code=forged")
check_eq "a forged code with a good state: the provider refuses it, kindling too" 502 "$code"
code=$(status -H "Cookie: kd_oidc=$st" "$URL/auth/oidc/callback?state=$st&code=abc&iss=$(uri "http://127.0.0.1:1/other")")
check_match "an answer naming another issuer (RFC 9207) is refused before any exchange" \
	'^400 .*another sign-in service' "$code $(tr -d '\n' <"$WORK/body")"
check_match "... and the provider's own answers name it: the good sign-in above carried iss" \
	"[?&]iss=$(uri "$ISSUER" | sed 's/[.]/[.]/g')" "$CALLBACK"
code=$(status "$URL/auth/oidc/callback?error=access_denied&error_description=The+user+said+no")
check_match "the provider's access_denied: a page that says it did not finish" \
	'^403 .*cancelled or refused' "$code $(tr -d '\n' <"$WORK/body")"

sso "$WORK/sam.jar" sam.new@district.test /
check_match "an address with no account: 403, a page that says so and names the admins" \
	'^403 .*No kindling account.*Ada Admin.*ada\.admin@district\.test' "$STATUS $(tr -d '\n' <"$WORK/body")"
check_eq "... and no account was made" "$USERS_BEFORE" "$(sql "SELECT count(*) FROM users")"
check_eq "... nor a session" "" "$(session_of "$WORK/sam.jar")"

sso "$WORK/dan.jar" dan.left@district.test /
check_match "a disabled account: 403, a page that says it is disabled" \
	'^403 .*Account disabled' "$STATUS $(tr -d '\n' <"$WORK/body")"
check_eq "... and no session" "" "$(session_of "$WORK/dan.jar")"

sso "$WORK/eve.jar" eve@elsewhere.test /
check_match "an address outside oidc_domains is refused, though an account has it" \
	'^403 .*Sign-in refused' "$STATUS $(tr -d '\n' <"$WORK/body")"
check_eq "... and no session" "" "$(session_of "$WORK/eve.jar")"

sso "$WORK/una.jar" una@district.test /
check_match "an address the provider has not verified is refused" \
	'^403 .*Sign-in refused' "$STATUS $(tr -d '\n' <"$WORK/body")"

sso "$WORK/ana2.jar" ana.ruiz@district.test //evil.test/steal
check_eq "next=//evil.test/... lands on kindling's home page, not another site" "200 $URL/" \
	"$STATUS $WHERE"

# the provider rotates its signing keys: kindling fetches them again
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$ISSUER/test/rotate-keys")
check_eq "the provider rotates its keys" 200 "$code"
sso "$WORK/ana3.jar" ana.ruiz@district.test /visits
check_eq "a sign-in after the rotation works (the new key is fetched)" "200 $URL/visits" \
	"$STATUS $WHERE"

# disabling a person ends the session they got from the provider at once
sql "UPDATE users SET disabled = 1 WHERE name = 'ana'"
code=$(status -H "Cookie: kd_session=$ANA_SID" "$URL/practices")
check_eq "Ana disabled: her provider session's next page sends her to sign in" 303 "$code"
sql "UPDATE users SET disabled = 0 WHERE name = 'ana'"

# ---------------------------------------------------------------- in a browser

if [ -x /usr/bin/chromium ] && (. "$HERE/../node_tools.sh" && node_tools_check oidc playwright-core) >/dev/null 2>&1; then
	KD_URL=$URL KD_LOGIN=ana.ruiz@district.test KD_PASSWORD=$PW KD_NAME=ana KD_BUTTON="Sign in with District SSO" \
		node "$HERE/oidc_browser.mjs" >"$WORK/browser.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "browser: ${line#ok - }" ;;
		"FAIL - "*) not_ok "browser: ${line#FAIL - }" "" ;;
		esac
	done <"$WORK/browser.out"
	grep -q '^ok - ' "$WORK/browser.out" || not_ok "the browser session ran" "$(tail -c 600 "$WORK/browser.out")"
else
	not_ok "Chromium and playwright-core are here for the browser sign-in" "install them (make deps-test)"
fi

# ---------------------------------------------------------------- passwords off

stop_server
conf "password_login = false"
start_server "$DATA" "$KPORT" || fatal "the server starts with password_login = false" "$(log_tail)"
req GET /login ""
check_match "password_login = false: the button, and no password form" '^200 yes no$' \
	"$STATUS $(grep -q 'Sign in with District SSO' "$WORK/body" && echo yes || echo no) $(grep -q 'name="password"' "$WORK/body" && echo yes || echo no)"
add_user pat teacher north-high --password-stdin < <(printf 'a long password\n') >/dev/null
req POST /login "" -H "Origin: $URL" --data-urlencode "name=pat" --data-urlencode "password=a long password"
check_match "... and a password sign-in is refused" '^403 .*district account only' \
	"$STATUS $(tr -d '\n' <"$WORK/body")"
sso "$WORK/ana4.jar" ana.ruiz@district.test /
check_eq "... while the provider's sign-in works" "200 $URL/" "$STATUS $WHERE"

# ---------------------------------------------------------------- provider gone

stop_server
kill "$PROVIDER_PID" 2>/dev/null
wait "$PROVIDER_PID" 2>/dev/null
start_server "$DATA" "$KPORT" || fatal "the server starts while the provider is down" "$(log_tail)"
check_match "it says the provider cannot be reached, and serves anyway" \
	"the identity provider $ISSUER: .*sign-in through it will try again" "$(cat "$SERVER_LOG")"
code=$(status "$URL/auth/oidc?next=/")
check_match "a sign-in while the provider is down: 502 and a page that says to try later" \
	'^502 .*Try again in a few minutes' "$code $(tr -d '\n' <"$WORK/body")"
start_provider || fatal "the provider starts again" "$(tail -c 600 "$WORK/provider.log")"
sso "$WORK/ana5.jar" ana.ruiz@district.test /
check_eq "once it is back, sign-in works without restarting kindling" "200 $URL/" "$STATUS $WHERE"
kill "$PROVIDER_PID" 2>/dev/null
check_server_log 'identity provider|cannot begin a sign-in|" 502 '

finish
