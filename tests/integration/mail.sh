#!/usr/bin/env bash
# tests/integration/mail.sh - sending mail, end to end, through a real SMTP
# server (tests/mail/smtp_sink.py): the settings that must go together; a
# visit request's mail as Python's email parser reads it (headers encoded,
# a title and names with CR/LF harmless, the unsubscribe headers); a
# refusal (550) failed and logged, not retried; "try later" (451) retried;
# kill -9 while the server holds the 250 (handed: not sent twice) and while
# it stalls the greeting (sent once after the restart); STARTTLS with a
# CA of the suite's own and AUTH; a server down for a minute delays the
# mail but loses none.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/mail.sh
#
# Last line: "mail: N passed, N failed".  Loopback only; every wait polls.

# shellcheck disable=SC2016  # jq and python programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/mail/sink.sh"
begin_suite mail sqlite3 openssl /usr/bin/python3

# the round (reminders, digests) every second: nothing here waits for it,
# but a round that failed would show in the log at once
export KINDLING_MAIL_ROUND_S=1

day() { date -u -d "$1" +%F; }
D1=$(day "+3 days")

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1
"$BIN" school add river-school "River School" --data "$DATA" >/dev/null 2>&1
ZOE=$(add_user "Zoë Ångström" teacher north-high --email zoe@north.example.org)
TOM=$(add_user "Tom North" teacher north-high --email tom@north.example.org)
add_user "Rick River" principal river-school --email rick@river.example.org >/dev/null
add_user "Rosa Diaz" teacher river-school --email rosa@river.example.org >/dev/null
[[ $ZOE =~ ^kd_ && $TOM =~ ^kd_ ]] || fatal "fixture: users with a non-ASCII name" "got '$ZOE'"
CRLF="char(13) || char(10)"
on_postgres && CRLF="chr(13) || chr(10)"
# Names and a title with CR/LF, as a careless import could leave them:
# the recipient's full name goes in To, the school's in the Subject, the
# title in the body.
sql <<SQL || fatal "fixture clips inserted" "see above"
UPDATE users SET full_name = 'Rosa Diaz' || $CRLF || 'Bcc: evil@attacker.example' WHERE name = 'Rosa Diaz';
UPDATE schools SET name = 'River School' || $CRLF || 'X-Injected: yes' WHERE slug = 'river-school';
INSERT INTO clips (id, title, school_id, teacher, recorded_on, uploaded_at, consent, status, duration_s)
SELECT 100 + n, 'Timers ' || n || $CRLF || 'Bcc: evil@attacker.example', (SELECT id FROM schools WHERE slug = 'river-school'),
       'Rosa Diaz', '2026-01-10', '2026-01-10T09:00:00Z', 'on-file', 'ready', 60
FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5
      UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9
      UNION ALL SELECT 10 UNION ALL SELECT 11) AS k;
INSERT INTO clip_practices (clip_id, practice_id)
SELECT id, (SELECT id FROM practices WHERE slug = 'station-rotation') FROM clips WHERE id BETWEEN 101 AND 111;
SQL

# conf LINES...: kindling.conf, written anew
conf() { printf '%s\n' "$@" >"$DATA/kindling.conf"; }
# ask CLIP: Zoë asks to visit the clip; sets VISIT
ask() {
	req_json POST /api/v1/visits "$ZOE" "{\"clip_id\": $1, \"dates\": [\"$D1\"]}"
	VISIT=$(jb .id)
	[ "$STATUS" == 201 ]
}
# row VISIT COLUMNS: the columns of the visit_requested outbox row(s) of VISIT
row() { sql "SELECT $2 FROM outbox WHERE kind = 'visit_requested' AND ref_id = $1 ORDER BY id"; }
_row_is() { [ "$(row "$1" "$2")" == "$3" ]; }
# row_becomes SECONDS VISIT COLUMNS VALUE
row_becomes() { wait_until "$1" _row_is "$2" "$3" "$4"; }
# to ADDR: how many messages the sink holds for ADDR
to() { sink_to "$1" | wc -l; }

# eml FILE: the message as Python's email parser reads it (policy default:
# encoded words decoded), as JSON
cat >"$WORK/eml.py" <<'PY'
import email, email.policy, json, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.default)
parts = [p.get_content_type() for p in m.walk()]
def body(t):
    p = m.get_body(preferencelist=(t,))
    return p.get_content() if p is not None else None
print(json.dumps({
    "subject": str(m["subject"]), "to": str(m["to"]), "from": str(m["from"]),
    "to_name": m["to"].addresses[0].display_name,
    "from_name": m["from"].addresses[0].display_name,
    "from_addr": m["from"].addresses[0].addr_spec, "to_addr": m["to"].addresses[0].addr_spec,
    "message_id": str(m["message-id"]), "date": str(m["date"]),
    "unsub": str(m["list-unsubscribe"]), "unsub_post": str(m["list-unsubscribe-post"]),
    "auto": str(m["auto-submitted"]), "keys": [k.lower() for k in m.keys()],
    "defects": [str(d) for p in m.walk() for d in p.defects],
    "parts": parts, "text": body("plain"), "html": body("html"),
    "lines_ok": all(l.endswith(b"\r") or l == b"" for l in raw.split(b"\n")[:-1]),
    # (a link cannot be folded: its line is the one allowed past 78)
    "longest": max(len(l) for l in raw.split(b"\r\n") if not l.startswith(b" <https://")),
}))
PY
eml() { /usr/bin/python3 "$WORK/eml.py" "$1"; }

# ------------------------------------------------------------------ settings
conf "smtp_url = smtp://127.0.0.1:25" "mail_from = kindling <kindling@district.example.org>"
serve_must_fail "smtp_url without public_url is refused, saying so" 'smtp_url is set but public_url' \
	--data "$DATA" --listen 127.0.0.1:0
conf "smtp_url = smtp://127.0.0.1:25" "public_url = http://kindling.example.org"
serve_must_fail "smtp_url without mail_from is refused" 'mail_from' --data "$DATA" --listen 127.0.0.1:0
conf "smtp_url = http://mail.example.org" "public_url = http://kindling.example.org" "mail_from = k@x.org"
serve_must_fail "an smtp_url that is not smtp:// or smtps:// is refused" 'smtp://HOST' \
	--data "$DATA" --listen 127.0.0.1:0
conf "smtp_url = smtp://user:pw@mail.example.org" "public_url = http://kindling.example.org" "mail_from = k@x.org"
serve_must_fail "a password in smtp_url is refused (it has a file of its own)" 'smtp_password_file' \
	--data "$DATA" --listen 127.0.0.1:0
conf "smtp_url = smtp://127.0.0.1:25" "public_url = http://kindling.example.org" "mail_from = k@x.org" \
	"smtp_user = kd"
serve_must_fail "smtp_user without smtp_password_file is refused" 'smtp_password_file' \
	--data "$DATA" --listen 127.0.0.1:0
conf "smtp_url = smtp://127.0.0.1:25" "public_url = http://kindling.example.org" "mail_from = nobody"
serve_must_fail "a mail_from that is no address is refused" 'mail_from' --data "$DATA" --listen 127.0.0.1:0
conf "smtp_url = smtp://127.0.0.1:25" "public_url = http://kindling.example.org" "mail_from = k@x.org" \
	"digest_day = someday"
serve_must_fail "a digest_day that is no weekday is refused" 'day of the week' --data "$DATA" --listen 127.0.0.1:0

# Without smtp_url nothing is queued at all.
conf "public_url = http://kindling.example.org"
start_server "$DATA" || fatal "the server started without mail" "$(log_tail)"
ask 108 || fatal "a visit is asked for" "status $STATUS: $(head -c 300 "$WORK/body")"
check_eq "without smtp_url the visit queues no mail" 0 "$(sql 'SELECT count(*) FROM outbox')"
stop_server

# ------------------------------------------------------------------ a visit request arrives
sink_start "$WORK/sink" || fatal "the SMTP sink started" "$(cat "$WORK/sink/sink.log")"
MAIL_CONF=("smtp_url = smtp://127.0.0.1:$SINK_PORT" "public_url = https://kindling.example.org/"
           "mail_from = Kindling \"District\" <kindling@district.example.org>")
conf "${MAIL_CONF[@]}"
start_server "$DATA" || fatal "the server started with mail" "$(log_tail)"
ask 101 || fatal "Zoë asks to visit clip 101" "status $STATUS: $(head -c 300 "$WORK/body")"
V1=$VISIT
sink_wait 2 30
check_eq "the request mails the principal and the featured teacher" "1 1 0" \
	"$(to rick@river.example.org) $(to rosa@river.example.org) $(to zoe@north.example.org)"
check_eq "both recorded as sent, once each" "sent|1
sent|1" "$(row "$V1" "state, attempts")"
ROSA_EML=$(sink_to rosa@river.example.org | head -n 1)
check_eq "the envelope is the one recipient, from mail_from's address" \
	'{"from":"kindling@district.example.org","to":["rosa@river.example.org"]}' \
	"$(jq -c '{from, to}' "${ROSA_EML%.eml}.json")"
eml "$ROSA_EML" >"$WORK/body" || fatal "Python's email parser reads the message" "$(cat "$WORK/body")"
check_jq "Python's parser finds no defect in it" '.defects == []'
check_jq "every line ends CRLF, none longer than 78" '.lines_ok and .longest <= 78'
check_jq "the non-ASCII requester and the school with CR/LF: one Subject, decoded" \
	'.subject == "Zoë Ångström asks to visit River School X-Injected: yes"'
check_jq "the recipient's name with CR/LF: one To, decoded" \
	'.to_name == "Rosa Diaz Bcc: evil@attacker.example" and .to_addr == "rosa@river.example.org"'
check_jq "no header was injected (no Bcc, no X-Injected)" \
	'(.keys | index("bcc") == null and index("x-injected") == null)'
check_jq "From is mail_from, its quotes kept" \
	'.from_name == "Kindling \"District\"" and .from_addr == "kindling@district.example.org"'
check_jq "Auto-Submitted: auto-generated" '.auto == "auto-generated"'
check_jq "one-click unsubscribe headers (RFC 8058) with the link format" \
	'(.unsub | test("^ *<https://kindling\\.example\\.org/mail/unsubscribe\\?m=[0-9]+&s=[A-Za-z0-9_-]{43}>$")) and .unsub_post == "List-Unsubscribe=One-Click"'
check_jq "plain text and HTML, as multipart/alternative" \
	'.parts == ["multipart/alternative", "text/plain", "text/html"]'
check_jq "the title with CR/LF is in the text, intact" '.text | contains("Timers 1") and contains("Bcc: evil@attacker.example")'
check_jq "the HTML names the requester, decoded" '.html | contains("Zoë Ångström")'
MID=$(jb .message_id)
check_match "the Message-ID names the message and public_url's host" \
	'^<kindling\.[0-9]+\.[0-9a-f]{24}@kindling\.example\.org>$' "$MID"
check_eq "the outbox keeps the Message-ID it was sent with" 1 \
	"$(sql "SELECT count(*) FROM outbox WHERE message_id = '$MID' AND state = 'sent'")"
M=$(jb .unsub | sed 's/.*m=\([0-9]*\)&.*/\1/')
check_eq "the unsubscribe link names the message, whose row keeps the secret's hash" 1 \
	"$(sql "SELECT count(*) FROM outbox WHERE id = $M AND length(unsub_hash) = 32 AND unsub_used_at IS NULL AND user_id = (SELECT id FROM users WHERE name = 'Rosa Diaz')")"
PLAIN_PORT=$SINK_PORT

# From here the principal has no address: one message per request.
sql "UPDATE users SET email = NULL WHERE name = 'Rick River'"

# ------------------------------------------------------------------ refused for good
sink_mode permfail
ask 102 || fatal "a second request" "status $STATUS"
V2=$VISIT
row_becomes 30 "$V2" "state, attempts" "failed|1"
check_eq "a 550 fails the message at once" "failed|1" "$(row "$V2" "state, attempts")"
check_match "with the server's words as the reason" '550 5\.1\.1 no such user' "$(row "$V2" last_error)"
check_match "and in the log" 'mail: message [0-9]+ \(visit_requested\) to user [0-9]+ failed: .*550 5\.1\.1 no such user' \
	"$(grep 'failed:' "$SERVER_LOG")"
sink_mode ok
ask 103 && sink_wait 3 30
check_eq "the next message goes (the refused one is not retried)" "failed|1" "$(row "$V2" "state, attempts")"
check_eq "the sink has the two good ones only" 2 "$(to rosa@river.example.org)"

# ------------------------------------------------------------------ try later
sink_mode tempfail
ask 104 || fatal "a request while the server says 451" "status $STATUS"
V4=$VISIT
row_becomes 30 "$V4" "state, attempts" "queued|1"
check_match "a 451 puts it back with the server's words" '451 4\.3\.0 try again later' "$(row "$V4" last_error)"
check_eq "to be tried again in about 10 s" 1 "$(row "$V4" "CASE WHEN next_at BETWEEN $(($(date +%s) + 3)) AND $(($(date +%s) + 11)) THEN 1 ELSE 0 END")"
sink_mode ok
row_becomes 40 "$V4" state sent
check_eq "it is sent at the next try, once" "sent|2 3" "$(row "$V4" "state, attempts") $(to rosa@river.example.org)"

# ------------------------------------------------------------------ kill -9 while the server holds the 250
sink_mode slow 20
ask 105 || fatal "a request while the server is slow to answer" "status $STATUS"
V5=$VISIT
sink_wait 5 30 || not_ok "the sink kept the message" "$(sink_count) kept"
row_becomes 10 "$V5" state handed
check_eq "the message is recorded as handed before the server's answer" handed "$(row "$V5" state)"
kill_server
sink_mode ok
start_server "$DATA" || fatal "the server started again" "$(log_tail)"
row_becomes 20 "$V5" state sent
check_match "after the restart it counts as sent: it may have arrived" 'may have arrived' "$(row "$V5" last_error)"
ask 106 && sink_wait 6 30
check_eq "the next one is sent, and the handed one was not sent again" 5 "$(to rosa@river.example.org)"
check_match "the log says why" 'handed to the SMTP server when its sender stopped' "$(cat "$SERVER_LOG")"

# ------------------------------------------------------------------ kill -9 while the server stalls the greeting
sink_mode stall 20
ask 107 || fatal "a request while the server stalls" "status $STATUS"
V7=$VISIT
row_becomes 20 "$V7" state sending
check_eq "the message is being sent (nothing handed yet)" sending "$(row "$V7" state)"
kill_server
sink_mode ok
start_server "$DATA" || fatal "the server started again" "$(log_tail)"
row_becomes 30 "$V7" state sent
sink_wait 7 30
check_eq "after the restart it is sent, exactly once" 6 "$(to rosa@river.example.org)"
stop_server

# ------------------------------------------------------------------ a web node queues, a work node sends
start_server_with --data "$DATA" --listen 127.0.0.1:0 --no-processing ||
	fatal "a server that processes nothing started" "$(log_tail)"
ask 111 || fatal "a request to a web node" "status $STATUS"
V11=$VISIT
check_eq "a server started with --no-processing queues the mail ..." queued "$(row "$V11" state)"
check_match "... and says the work nodes send it" 'mail is queued here and sent by the `kindling work` nodes' \
	"$(cat "$SERVER_LOG")"
check_eq "(no sender started in it)" 0 "$(grep -c 'sending mail through' "$SERVER_LOG")"
"$BIN" work --data "$DATA" >"$WORK/work.log" 2>&1 &
WORK_PID=$!
row_becomes 30 "$V11" state sent
check_eq "kindling work sends it" "sent 7" "$(row "$V11" state) $(to rosa@river.example.org)"
kill -TERM "$WORK_PID"
wait "$WORK_PID"
check_eq "and stops cleanly" "0 1" "$? $(grep -c 'stopped cleanly' "$WORK/work.log")"
stop_server
sink_stop

# ------------------------------------------------------------------ STARTTLS, a CA of our own, AUTH
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 ||
	fatal "openssl makes a certificate" "see above"
sink_start "$WORK/tls" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --auth kd:s3cret-pass ||
	fatal "the TLS sink started" "$(cat "$WORK/tls/sink.log")"
printf 's3cret-pass\n' >"$DATA/smtp.password"
TLS_CONF=("smtp_url = smtp://localhost:$SINK_PORT" "public_url = https://kindling.example.org"
          "mail_from = kindling@district.example.org" "smtp_user = kd" "smtp_password_file = smtp.password")
conf "${TLS_CONF[@]}"
start_server "$DATA" || fatal "the server started with TLS settings" "$(log_tail)"
# the refused message of before, queued again
sql "UPDATE outbox SET state = 'queued', next_at = 0, attempts = 0, last_error = NULL WHERE kind = 'visit_requested' AND ref_id = $V2"
row_becomes 30 "$V2" "CASE WHEN state = 'queued' AND attempts > 0 THEN 1 ELSE 0 END" 1
check_match "without smtp_ca_file the self-signed certificate is not trusted: tried again later" \
	'TLS|certificate|SSL' "$(row "$V2" last_error)"
check_eq "and nothing arrived" 0 "$(sink_count)"
stop_server
conf "${TLS_CONF[@]}" "smtp_ca_file = $WORK/cert.pem"
sql "UPDATE outbox SET next_at = 0 WHERE kind = 'visit_requested' AND ref_id = $V2"
start_server "$DATA" || fatal "the server started with smtp_ca_file" "$(log_tail)"
sink_wait 1 30
check_eq "with smtp_ca_file, STARTTLS and AUTH the message arrives" "1 sent" \
	"$(to rosa@river.example.org) $(row "$V2" state)"
check_eq "and the password is nowhere in the log" 0 "$(grep -c 's3cret-pass' "$SERVER_LOG")"
stop_server
printf 'wrong-password\n' >"$DATA/smtp.password"
start_server "$DATA" || fatal "the server started with a wrong password" "$(log_tail)"
ask 109 || fatal "a request with a wrong SMTP password" "status $STATUS"
V9=$VISIT
row_becomes 30 "$V9" "CASE WHEN state = 'queued' AND attempts > 0 THEN 1 ELSE 0 END" 1
check_eq "a wrong password is not a refusal of the message: queued to try again" queued "$(row "$V9" state)"
check_match "saying what to fix" 'smtp_password_file' "$(row "$V9" last_error)"
stop_server
sink_stop
sql "UPDATE outbox SET state = 'failed' WHERE ref_id = $V9"

# ------------------------------------------------------------------ a mail server down for a minute
conf "${MAIL_CONF[@]}"
start_server "$DATA" || fatal "the server started while the mail server is down" "$(log_tail)"
SINK_DIR=$WORK/sink
BEFORE=$(to rosa@river.example.org)
ask 110 || fatal "a request while the mail server is down" "status $STATUS"
V10=$VISIT
DOWN_UNTIL=$(($(date +%s) + 60))
_down_long() { [ "$(date +%s)" -ge "$DOWN_UNTIL" ] && _row_is "$V10" "CASE WHEN attempts >= 3 THEN 1 ELSE 0 END" 1; }
wait_until 120 _down_long
check_eq "while it is down the message waits, tried again and again" "queued 1" \
	"$(row "$V10" state) $(row "$V10" "CASE WHEN attempts >= 3 THEN 1 ELSE 0 END")"
check_match "saying the server cannot be reached" 'cannot send through smtp://' "$(row "$V10" last_error)"
sink_start "$WORK/sink" --port "$PLAIN_PORT" || fatal "the sink is back" "$(cat "$WORK/sink/sink.log")"
row_becomes 120 "$V10" state sent
check_eq "once it is back the message arrives, once" "$((BEFORE + 1))" "$(to rosa@river.example.org)"
stop_server
check_eq "the server stopped cleanly with the sender running" 0 "$STOP_RC"
check_server_log 'mail: |outbox: |" 5[0-9][0-9] '
finish
