#!/usr/bin/env bash
# tests/integration/mail_people.sh - what people decide about their mail
# (issue 16, H3): following a practice (the API both ways, the practice
# page's form, /account's list, a merge moving follows), the switches on
# /account and what they change in the outbox, a real mail's one-click
# unsubscribe link (a real SMTP server, tests/mail/sink.sh) used once for
# exactly one kind of one person, and the Visits link's count.  Then
# Chromium (tests/browser/mail.mjs): the Follow button, the switches by
# keyboard, the unsubscribe page's button.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/mail_people.sh
#
# Last line: "mail_people: N passed, N failed".  Loopback only; every wait
# polls.

# shellcheck disable=SC2016  # SQL and jq in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/mail/sink.sh"
begin_suite mail_people sqlite3 /usr/bin/python3
export KINDLING_NODE_MODULES=${KINDLING_NODE_MODULES:-$ROOT/tests/node_modules}

day() { date -u -d "$1" +%F; }
# far enough ahead that no reminder (the day before) is due during the suite
D1=$(day "+20 days") D2=$(day "+21 days")
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
KPORT=$(free_port) || fatal "a free loopback port" "python could not find one"
PUBLIC=http://127.0.0.1:$KPORT

sink_start "$WORK/sink" || fatal "the SMTP sink starts" "$(tail -5 "$WORK/sink/sink.log" 2>/dev/null)"

# ------------------------------------------------------------------ the fixture
"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1
"$BIN" school add river-school "River School" --data "$DATA" >/dev/null 2>&1
PASSWORD='a long mail password'
with_password() { printf '%s\n' "$PASSWORD" | add_user "$1" "$2" "$3" --password-stdin; }
ADMIN=$(with_password "Ada Admin" admin "")
TOM=$(with_password "Tom North" teacher north-high)      # asks to visit
TIA=$(with_password "Tia North" teacher north-high)      # asks too, later
NORA=$(with_password "Nora North" principal north-high)
RICK=$(with_password "Rick River" principal river-school) # host principal
ROSA=$(with_password "Rosa Diaz" teacher river-school)    # the featured teacher of 101
CAI=$(with_password "Cai River" coach river-school)
for t in "$ADMIN" "$TOM" "$TIA" "$NORA" "$RICK" "$ROSA" "$CAI"; do
	[[ $t =~ ^kd_[0-9]+_ ]] || fatal "fixture: user add prints a token" "got '$t'"
done
sql "UPDATE users SET email = 'tom@north.test' WHERE name = 'Tom North';
     UPDATE users SET email = 'tia@north.test' WHERE name = 'Tia North';
     UPDATE users SET email = 'nora@north.test' WHERE name = 'Nora North';
     UPDATE users SET email = 'rick@river.test' WHERE name = 'Rick River';
     UPDATE users SET email = 'rosa@river.test' WHERE name = 'Rosa Diaz';" ||
	fatal "fixture: e-mail addresses" "see above"
uid() { sql "SELECT id FROM users WHERE name = '$1'"; }
U_TOM=$(uid "Tom North") U_RICK=$(uid "Rick River") U_ROSA=$(uid "Rosa Diaz")
sql <<SQL || fatal "fixture clips inserted with sqlite3" "see above"
PRAGMA foreign_keys = ON;
INSERT INTO clips (id, title, school_id, teacher, uploaded_at, consent, status, duration_s)
VALUES
 (101, 'Rotation, with timers', (SELECT id FROM schools WHERE slug = 'river-school'), 'Rosa Diaz', '2026-01-05T09:00:00Z', 'on-file', 'ready', 90),
 (102, 'Choice boards', (SELECT id FROM schools WHERE slug = 'river-school'), 'Sam Lee', '2026-01-06T09:00:00Z', 'on-file', 'ready', 60);
INSERT INTO clip_practices (clip_id, practice_id) SELECT c, (SELECT id FROM practices WHERE slug = p) FROM
 (SELECT 101 AS c, 'station-rotation' AS p UNION ALL SELECT 102, 'student-choice') AS cp;
SQL

# Without smtp_url the server sends no mail, and /account says so
start_server "$DATA" "$KPORT" || fatal "the server starts without mail" "$(log_tail)"
req GET /account "$TOM"
check "without smtp_url, /account says this server sends no mail" grep -q 'id="mail-off">This kindling server sends no e-mail' "$WORK/body"
stop_server

# The digest goes out on a day that is not today: this suite is about people, not the digest.
DIGEST_DAY=$(date -u -d "+3 days" +%A | tr '[:upper:]' '[:lower:]')
cat >"$DATA/kindling.conf" <<EOF
public_url = $PUBLIC
smtp_url = smtp://127.0.0.1:$SINK_PORT
mail_from = kindling <kindling@district.test>
digest_day = $DIGEST_DAY
EOF
start_server "$DATA" "$KPORT" || fatal "the server starts with mail on" "$(log_tail)"

# ------------------------------------------------------------------ following, by the API
F=/api/v1/practices/station-rotation/follow
req PUT "$F" "$TOM"
check_eq "PUT follow: 200" 200 "$STATUS"
check_jq "  says the practice and that it is followed" '.practice == "station-rotation" and .following == true'
req PUT "$F" "$TOM"
check_eq "following again is no error" 200 "$STATUS"
check_eq "  and follows once" 1 "$(sql "SELECT count(*) FROM follows WHERE user_id = $U_TOM")"
req GET "$F" "$TOM"
check_jq "GET follow says followed" '.following == true'
req GET "$F" "$TIA"
check_jq "  and not for someone else" '.following == false'
req DELETE "$F" "$TOM"
check_eq "DELETE follow: 200" 200 "$STATUS"
check_jq "  says it is no longer followed" '.practice == "station-rotation" and .following == false'
check_eq "  and the row is gone" 0 "$(sql "SELECT count(*) FROM follows WHERE user_id = $U_TOM")"
req DELETE "$F" "$TOM"
check_eq "stopping again is no error" 200 "$STATUS"
req PUT /api/v1/practices/kite-surfing/follow "$TOM"
check_eq "an unknown practice: 404" 404 "$STATUS"
check_jq "  naming the known ones" '.error | test("kite-surfing") and test("station-rotation")'
req GET /api/v1/practices/kite-surfing/follow "$TOM"
check_eq "  GET too" 404 "$STATUS"
req PUT "$F" ""
check_eq "signed out: 401" 401 "$STATUS"
req DELETE "$F" ""
check_eq "  DELETE too" 401 "$STATUS"
check_eq "  and nothing was written" 0 "$(sql "SELECT count(*) FROM follows")"

# ------------------------------------------------------------------ following, from the pages
# sign_in NAME: a browser session; sets SID and CSRF (from the home page's <meta>)
sign_in() {
	req POST /login "" --data-urlencode "name=$1" --data-urlencode "password=$PASSWORD" --data-urlencode "next=/"
	SID=$(header Set-Cookie | sed -n 's/^kd_session=\([^;]*\).*/\1/p')
	req GET / "" -H "Cookie: kd_session=$SID"
	CSRF=$(grep -o '<meta name="csrf-token" content="[^"]*"' "$WORK/body" | sed 's/.*content="//; s/"$//')
	[ -n "$SID" ] && [ -n "$CSRF" ]
}
sign_in "Tom North" || fatal "Tom signs in with a browser session" "status $STATUS"
req GET /practices/station-rotation "" -H "Cookie: kd_session=$SID"
check_match "the practice page has a Follow button (a form, no script needed)" \
	'<form method="post" class="follow" id="follow" action="/practices/station-rotation/follow">.*name="follow" value="on".*>Follow<span class="vh"> Station rotation' \
	"$(tr -d '\n' <"$WORK/body")"
req PUT "$F" "" -H "Cookie: kd_session=$SID"
check_eq "the API with a session cookie and no X-CSRF-Token: 403" 403 "$STATUS"
req POST /practices/station-rotation/follow "" -H "Cookie: kd_session=$SID" --data-urlencode "follow=on"
check_eq "the page's form without its CSRF token: 403" 403 "$STATUS"
check_eq "  and nothing was written" 0 "$(sql "SELECT count(*) FROM follows")"
req POST /practices/station-rotation/follow "" -H "Cookie: kd_session=$SID" \
	--data-urlencode "csrf=$CSRF" --data-urlencode "follow=on"
check_eq "Follow: 303" 303 "$STATUS"
check_eq "  back to the practice page" "/practices/station-rotation#follow" "$(header Location)"
check_eq "  followed" 1 "$(sql "SELECT count(*) FROM follows f JOIN practices p ON p.id = f.practice_id WHERE f.user_id = $U_TOM AND p.slug = 'station-rotation'")"
req GET /practices/station-rotation "" -H "Cookie: kd_session=$SID"
check_match "the page now says Following, with a Stop following button" \
	'id="following">Following</span>.*name="follow" value="off".*>Stop following<span class="vh"> Station rotation' \
	"$(tr -d '\n' <"$WORK/body")"
req POST /practices/station-rotation/follow "" -H "Cookie: kd_session=$SID" \
	--data-urlencode "csrf=$CSRF" --data-urlencode "follow=maybe"
check_eq "a form that says neither on nor off: 400" 400 "$STATUS"
req POST /practices/kite-surfing/follow "" -H "Cookie: kd_session=$SID" \
	--data-urlencode "csrf=$CSRF" --data-urlencode "follow=on"
check_eq "following an unknown practice from a form: 404" 404 "$STATUS"
req POST /practices/student-choice/follow "$TOM" --data-urlencode "follow=on" --data-urlencode "next=//evil.example/"
check_eq "a bearer token's form needs no CSRF token; a next of another site is not followed" \
	"303 /practices/student-choice#follow" "$STATUS $(header Location)"
req GET /account "$TOM"
body=$(tr -d '\n' <"$WORK/body")
check_match "/account lists the practices followed, each with a form to stop" \
	'Practices you follow</h3>.*<a href="/practices/station-rotation">Station rotation</a>.*action="/practices/station-rotation/follow">.*value="off".*<a href="/practices/student-choice">' "$body"
req POST /practices/student-choice/follow "$TOM" --data-urlencode "follow=off" --data-urlencode "next=/account#follows-h"
check_eq "stopping from /account goes back there" "303 /account#follows-h" "$STATUS $(header Location)"
check_eq "  and only that one is stopped" "station-rotation" \
	"$(sql "SELECT p.slug FROM follows f JOIN practices p ON p.id = f.practice_id WHERE f.user_id = $U_TOM")"

# a merge moves the followers: once for someone who followed both
req PUT /api/v1/practices/peer-feedback/follow "$TOM"
req PUT /api/v1/practices/peer-feedback/follow "$TIA"
req PUT /api/v1/practices/differentiation/follow "$TIA"
run_cli practice merge peer-feedback differentiation --data "$DATA"
check_eq "kindling practice merge: exit 0" 0 "$RC"
check_eq "followers of the merged practice follow the kept one, once each" \
	"Tia North differentiation|Tom North differentiation|Tom North station-rotation" \
	"$(sql "SELECT u.name || ' ' || p.slug FROM follows f JOIN practices p ON p.id = f.practice_id JOIN users u ON u.id = f.user_id ORDER BY 1" | paste -sd'|')"

# ------------------------------------------------------------------ the switches
req GET /account "$RICK"
body=$(tr -d '\n' <"$WORK/body")
n_on=$(grep -o '<input type="checkbox" name="kind" id="mail-[a-z_]*" value="[a-z_]*" checked>' <<<"$body" | wc -l)
check_eq "/account has a switch per kind of mail, all on at first" 5 "$n_on"
check_match "  each labelled with what it is for" \
	'<label class="check"><input type="checkbox" name="kind" id="mail-visit_requested" value="visit_requested" checked> Someone asks to visit' "$body"
check "  and says nothing about mail being off" bash -c '! grep -q "mail-off\|mail-no-address" "$1"' _ "$WORK/body"
req GET /account "$CAI"
check "a person without an address is told no mail is sent to them" grep -q 'id="mail-no-address"' "$WORK/body"
sign_in "Rick River" || fatal "Rick signs in with a browser session" "status $STATUS"
req POST /account/mail "" -H "Cookie: kd_session=$SID" --data-urlencode "kind=visit_answered"
check_eq "saving the switches without the CSRF token: 403" 403 "$STATUS"
form=(--data-urlencode "csrf=$CSRF")
for k in visit_answered visit_reminder processing digest; do form+=(--data-urlencode "kind=$k"); done
req POST /account/mail "" -H "Cookie: kd_session=$SID" "${form[@]}"
check_eq "Rick turns off 'someone asks to visit': 303" "303 /account?mail=saved#mail" "$STATUS $(header Location)"
ALL_ON_BUT_REQUESTED="digest 1|processing 1|visit_answered 1|visit_reminder 1|visit_requested 0"
check_eq "  saved: that switch off, the others on" "$ALL_ON_BUT_REQUESTED" \
	"$(sql "SELECT kind || ' ' || enabled FROM mail_prefs WHERE user_id = $U_RICK ORDER BY kind" | paste -sd'|')"
req GET "/account?mail=saved" "" -H "Cookie: kd_session=$SID"
body=$(tr -d '\n' <"$WORK/body")
check_match "  the page says so, and shows it off" \
	'id="mail-saved">Your e-mail choices are saved.*id="mail-visit_requested" value="visit_requested"> ' "$body"
req POST /account/mail "" -H "Cookie: kd_session=$SID" --data-urlencode "csrf=$CSRF" --data-urlencode "kind=nonsense"
check_eq "a kind nobody knows: 400" 400 "$STATUS"
check_eq "  and nothing changed" "$ALL_ON_BUT_REQUESTED" \
	"$(sql "SELECT kind || ' ' || enabled FROM mail_prefs WHERE user_id = $U_RICK ORDER BY kind" | paste -sd'|')"

# ------------------------------------------------------------------ a real mail, and its link
req_json POST /api/v1/visits "$TOM" "{\"clip_id\": 101, \"dates\": [\"$D1\", \"$D2\"], \"note\": \"May I see the timers?\"}"
check_eq "Tom asks to visit clip 101 (River School, Rosa's class): 201" 201 "$STATUS"
V1=$(jb .id)
check_eq "the visit's mail is queued for Rosa only: Rick switched it off" "Rosa Diaz visit_requested" \
	"$(sql "SELECT u.name || ' ' || o.kind FROM outbox o JOIN users u ON u.id = o.user_id ORDER BY 1" | paste -sd'|')"
sink_wait 1 || fatal "the mail reaches the SMTP sink" "$(log_tail)"
EML=$(sink_to rosa@river.test | head -n 1)
check "  addressed to Rosa" test -n "$EML"
# the link as a mail client reads it: List-Unsubscribe, and the one-click header
read -r LINK ONECLICK < <(/usr/bin/python3 - "$EML" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
link = str(m.get("List-Unsubscribe", "")).strip().strip("<>")
print(link or "-", str(m.get("List-Unsubscribe-Post", "")).replace(" ", "_") or "-")
PY
)
check_match "the mail carries a one-click unsubscribe link to this server" \
	"^$PUBLIC/mail/unsubscribe\\?m=[1-9][0-9]*&s=[A-Za-z0-9_-]{43}\$" "$LINK"
check_eq "  and List-Unsubscribe-Post (RFC 8058)" "List-Unsubscribe=One-Click" "$ONECLICK"
LPATH=${LINK#"$PUBLIC"}
M_ROSA=$(sed -n 's/.*[?&]m=\([0-9]*\).*/\1/p' <<<"$LPATH")
S_ROSA=$(sed -n 's/.*[?&]s=\([A-Za-z0-9_-]*\).*/\1/p' <<<"$LPATH")
check_eq "  its m is the message's outbox row, Rosa's" "$U_ROSA visit_requested" \
	"$(sql "SELECT user_id || ' ' || kind FROM outbox WHERE id = ${M_ROSA:-0}")"

sessions_before=$(sql "SELECT count(*) FROM sessions")
req GET "$LPATH" ""
check_eq "GET the link, signed out: 200" 200 "$STATUS"
check_match "  a page that names the kind, with one button" \
	'Stop these e-mails\?</h1>.*Someone asks to visit.*<form method="post" action="/mail/unsubscribe\?m=[0-9]+&amp;s=[A-Za-z0-9_-]{43}">.*<button type="submit">Stop these e-mails</button>' \
	"$(tr -d '\n' <"$WORK/body")"
req GET "$LPATH" ""
check_eq "  GET changes nothing (a mail scanner follows links)" "0 " \
	"$(sql "SELECT count(*) FROM mail_prefs WHERE user_id = $U_ROSA") $(sql "SELECT unsub_used_at FROM outbox WHERE id = $M_ROSA")"
TAMPERED=${S_ROSA:0:42}$([ "${S_ROSA:42:1}" == A ] && echo B || echo A)
req POST "/mail/unsubscribe?m=$M_ROSA&s=$TAMPERED" "" --data-urlencode "List-Unsubscribe=One-Click"
check_eq "a tampered secret: 404" 404 "$STATUS"
req GET "/mail/unsubscribe?m=$M_ROSA&s=$TAMPERED" ""
check_eq "  GET too" 404 "$STATUS"
req POST "/mail/unsubscribe?m=$M_ROSA&s=${S_ROSA:0:20}" "" --data-urlencode "List-Unsubscribe=One-Click"
check_eq "a link cut short: 400" 400 "$STATUS"
check_match "  saying so" 'incomplete' "$(cat "$WORK/body")"
req POST "/mail/unsubscribe?m=0$M_ROSA&s=$S_ROSA" ""
check_eq "  a mangled id too" 400 "$STATUS"
req POST "/mail/unsubscribe?m=99999&s=$S_ROSA" "" --data-urlencode "List-Unsubscribe=One-Click"
check_eq "no such message: 404" 404 "$STATUS"
check_eq "  none of these changed anything" 0 "$(sql "SELECT count(*) FROM mail_prefs WHERE user_id = $U_ROSA")"

# a mail client's one-click POST: no cookie, no token, the RFC 8058 body
curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X POST \
	-H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click' "$LINK" >"$WORK/code"
STATUS=$(cat "$WORK/code")
check_eq "the one-click POST: 200" 200 "$STATUS"
check_match "  a page saying what stopped" 'E-mails stopped.*Someone asks to visit' "$(tr -d '\n' <"$WORK/body")"
check_eq "  Rosa's 'someone asks to visit' is off, and nothing else of hers" "visit_requested 0" \
	"$(sql "SELECT kind || ' ' || enabled FROM mail_prefs WHERE user_id = $U_ROSA")"
check_eq "  nobody else's switches changed" "$ALL_ON_BUT_REQUESTED|visit_requested 0" \
	"$(sql "SELECT kind || ' ' || enabled FROM mail_prefs ORDER BY user_id, kind" | paste -sd'|')"
check_eq "  no session was made" "$sessions_before" "$(sql "SELECT count(*) FROM sessions")"
check_match "  the log says who turned what off" "user $U_ROSA turned off visit_requested mail with the link of message $M_ROSA" "$(cat "$SERVER_LOG")"
check "  nor a cookie sent" bash -c '! grep -qi "^set-cookie" "$1"' _ "$WORK/headers"
req POST "$LPATH" "" --data-urlencode "List-Unsubscribe=One-Click"
check_eq "the same link again: 410" 410 "$STATUS"
check_match "  saying it was used and where to change mail now" 'already used.*account page' "$(tr -d '\n' <"$WORK/body")"
req GET "$LPATH" ""
check_eq "  its page too" 410 "$STATUS"

# Rosa answers: Tom hears (his switches are on); the badge counts go down
req GET / "$ROSA"
check_match "Rosa's Visits link: one request waits for her answer" \
	'<a href="/visits">Visits <span class="count" id="visits-waiting"><span aria-hidden="true">\(1\)</span><span class="vh">, 1 waiting for an answer</span></span></a>' \
	"$(cat "$WORK/body")"
req GET /practices "$RICK"
check_match "  the host principal's too (mail switched off or not)" 'id="visits-waiting"><span aria-hidden="true">\(1\)' "$(cat "$WORK/body")"
for who in TOM CAI NORA ADMIN; do
	req GET / "${!who}"
	check "  no count for ${who,,} (nothing waits for them)" bash -c '! grep -q visits-waiting "$1"' _ "$WORK/body"
done
req_json PATCH "/api/v1/visits/$V1" "$ROSA" "{\"status\": \"accepted\", \"date\": \"$D1\"}"
check_eq "Rosa accepts: 200" 200 "$STATUS"
req GET / "$ROSA"
check "  and her count is gone" bash -c '! grep -q visits-waiting "$1"' _ "$WORK/body"
sink_wait 2 || fatal "the answer's mail reaches the sink" "$(log_tail)"
EML_T=$(sink_to tom@north.test | head -n 1)
LINK_T=$(/usr/bin/python3 -c 'import email, email.policy, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default); print(str(m["List-Unsubscribe"]).strip("<> "))' "$EML_T")
M_TOM=$(sed -n 's/.*[?&]m=\([0-9]*\).*/\1/p' <<<"$LINK_T")
check_eq "Tom's mail is the answer" "$U_TOM visit_answered" "$(sql "SELECT user_id || ' ' || kind FROM outbox WHERE id = ${M_TOM:-0}")"
req POST "/mail/unsubscribe?m=$M_TOM&s=$S_ROSA" "" --data-urlencode "List-Unsubscribe=One-Click"
check_eq "Rosa's secret with Tom's message: 404" 404 "$STATUS"
check_eq "  Tom's switches untouched" 0 "$(sql "SELECT count(*) FROM mail_prefs WHERE user_id = $U_TOM")"

# a second request: Rosa and Rick switched this kind off, so nobody is mailed
req_json POST /api/v1/visits "$TIA" "{\"clip_id\": 101, \"dates\": [\"$D2\"]}"
check_eq "Tia asks to visit too: 201" 201 "$STATUS"
V2=$(jb .id)
check_eq "  no mail queued for it: both who would answer switched it off" 0 \
	"$(sql "SELECT count(*) FROM outbox WHERE ref_id = $V2 AND kind = 'visit_requested'")"
req GET / "$ROSA"
check_match "  yet Rosa's Visits link counts it" 'id="visits-waiting"><span aria-hidden="true">\(1\)' "$(cat "$WORK/body")"

# ------------------------------------------------------------------ in a browser
why=$(. "$HERE/../node_tools.sh" && node_tools_check mail_people playwright-core axe-core) ||
	fatal "the Node here can run playwright-core" "${why:-tests/node_tools.sh failed}"
command -v /usr/bin/chromium >/dev/null || fatal "Chromium is installed" "install chromium (make deps-test)"
KD_URL=$URL KD_PASSWORD=$PASSWORD KD_USER="Tia North" KD_PRACTICE=station-rotation \
	KD_PRACTICE_NAME="Station rotation" KD_UNSUB="${LINK_T#"$PUBLIC"}" KD_SHOTS=${KINDLING_SHOTS:-$ROOT/build/screenshots} \
	timeout 150 node "$ROOT/tests/browser/mail.mjs" >"$WORK/browser.out" 2>&1
rc=$?
cat "$WORK/browser.out"
PASS=$((PASS + $(grep -c '^ok - ' "$WORK/browser.out")))
FAIL=$((FAIL + $(grep -c '^FAIL - ' "$WORK/browser.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL - ' "$WORK/browser.out"; then
	not_ok "the browser run finished" "exit status $rc"
fi
U_TIA=$(uid "Tia North")
check_eq "the browser's switch is saved: Tia's digest off, the rest on" \
	"digest 0|processing 1|visit_answered 1|visit_reminder 1|visit_requested 1" \
	"$(sql "SELECT kind || ' ' || enabled FROM mail_prefs WHERE user_id = $U_TIA ORDER BY kind" | paste -sd'|')"
check_eq "  and the practice followed in the browser stays followed" "differentiation|station-rotation" \
	"$(sql "SELECT p.slug FROM follows f JOIN practices p ON p.id = f.practice_id WHERE f.user_id = $U_TIA ORDER BY 1" | paste -sd'|')"
check_eq "the browser's unsubscribe button turned off Tom's answers, only that" "visit_answered 0" \
	"$(sql "SELECT kind || ' ' || enabled FROM mail_prefs WHERE user_id = $U_TOM")"

check_eq "the sink got exactly the two mails" 2 "$(sink_count)"
check_server_log
finish
