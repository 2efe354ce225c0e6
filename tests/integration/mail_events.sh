#!/usr/bin/env bash
# tests/integration/mail_events.sh - what is mailed when, to whom, saying
# what (issue 16, H2), through a real SMTP server (tests/mail/sink.sh):
#   - the visit flow: a request mails the host school's principals and the
#     featured teacher and nobody else (not the requester, not the visitor
#     school's principal, not a teacher who is not featured, not someone
#     without an address, disabled, or who switched that mail off); an
#     acceptance mails the requester with a valid .ics; the day before,
#     both sides get a reminder; a decline mails the requester its note;
#   - upload batches (kindling upload): a failed file -> one mail listing
#     its reason; --notify and all good -> one mail; no --notify and all
#     good -> none; a file of the run the server already has is not
#     waited for;
#   - the weekly digest (digest_day = today): new clips and moments of a
#     followed practice from other schools, as the follower may see them
#     when it is SENT: a clip withdrawn while the SMTP server said "try
#     later" is not named; a clip of the follower's own school never is.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/mail_events.sh
#
# Last line: "mail_events: N passed, N failed".  Loopback only; every wait
# polls.

# shellcheck disable=SC2016  # SQL and jq in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/mail/sink.sh"
begin_suite mail_events sqlite3 ffmpeg /usr/bin/python3

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
KPORT=$(free_port) || fatal "a free loopback port" "python could not find one"
PUBLIC=http://127.0.0.1:$KPORT
# The sender's days are the server's local days.
TODAY=$(date +%F)
TOMORROW=$(date -d "+1 day" +%F)
LATER=$(date -d "+20 days" +%F)
weekday() { date -d "$1" +%A | tr '[:upper:]' '[:lower:]'; }

sink_start "$WORK/sink" || fatal "the SMTP sink starts" "$(tail -5 "$WORK/sink/sink.log" 2>/dev/null)"

# A message as Python's e-mail parser reads it (a second, independent
# reading of what message.c wrote), and the sink's messages as lines.
cat >"$WORK/eml.py" <<'PY'
import email, json, os, sys
from email import policy

def read(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=policy.default)
    out = {"to": str(msg["To"]).strip(), "subject": str(msg["Subject"]).strip(),
           "list_unsubscribe": str(msg.get("List-Unsubscribe", "")).strip(),
           "list_unsubscribe_post": str(msg.get("List-Unsubscribe-Post", "")).strip(),
           "text": "", "html": "", "attachments": []}
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if name:
            out["attachments"].append({"filename": name, "type": part.get_content_type(),
                                       "data": part.get_payload(decode=True).decode("utf-8")})
        elif part.get_content_type() == "text/plain":
            out["text"] = part.get_content()
        elif part.get_content_type() == "text/html":
            out["html"] = part.get_content()
    return msg, out

if sys.argv[1] == "show":
    print(json.dumps(read(sys.argv[2])[1]))
else:  # lines DIR FROM: "rcpt|subject" of the messages after the FROM-th, sorted
    folder, since = sys.argv[2], int(sys.argv[3])
    lines = []
    for name in os.listdir(folder):
        if name.endswith(".json") and int(name[:-5]) > since:
            env = json.load(open(os.path.join(folder, name)))
            subject = read(os.path.join(folder, name[:-5] + ".eml"))[1]["subject"]
            lines += ["%s|%s" % (r, subject) for r in env["to"]]
    print("\n".join(sorted(lines)))
PY
mail_lines() { /usr/bin/python3 "$WORK/eml.py" lines "$SINK_DIR" "$1"; }
# mail_of ADDR SUBJECT_ERE: the parsed message (JSON) to ADDR whose subject matches
mail_of() {
	local f
	for f in $(sink_to "$1"); do
		/usr/bin/python3 "$WORK/eml.py" show "$f" >"$WORK/mail.json" || continue
		jq -e --arg re "$2" '.subject | test($re)' "$WORK/mail.json" >/dev/null && return 0
	done
	echo '{}' >"$WORK/mail.json"
	return 1
}
mj() { jq -r "$1" "$WORK/mail.json"; }
# Nothing waiting in the outbox (queued, being sent or handed over).
outbox_idle() { [ "$(sql "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending', 'handed')")" = 0 ]; }
# settle N: N messages in all have arrived and nothing more is on its way.
settle() { sink_wait "$1" 90 && wait_until 60 outbox_idle; }

# ------------------------------------------------------------------ the fixture
"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1
"$BIN" school add river-school "River School" --data "$DATA" >/dev/null 2>&1
"$BIN" school add lake-school "Lake School" --data "$DATA" >/dev/null 2>&1
person() { add_user "$1" "$2" "$3" ${4:+--email "$4"}; }
ADMIN=$(person "Ada Admin" admin "" ada@district.test)
TOM=$(person "Tom North" teacher north-high tom@north.test)     # asks to visit
NORA=$(person "Nora North" principal north-high nora@north.test) # the visitor school's principal
RICK=$(person "Rick River" principal river-school rick@river.test)
PIA=$(person "Pia River" principal river-school pia@river.test)  # switched visit requests off
person "Rhea River" principal river-school "" >/dev/null         # no address
person "Dan River" principal river-school dan@river.test >/dev/null # disabled
ROSA=$(person "Rosa Diaz" teacher river-school rosa@river.test)  # the featured teacher of 101
person "Sam Other" teacher river-school sam@river.test >/dev/null  # not featured
CAI=$(person "Cai River" coach river-school cai@river.test)      # uploads
LENA=$(person "Lena Lake" teacher lake-school lena@lake.test)    # follows station-rotation
RITA=$(person "Rita River" teacher river-school rita@river.test) # follows it too
for t in "$ADMIN" "$TOM" "$NORA" "$RICK" "$PIA" "$ROSA" "$CAI" "$LENA" "$RITA"; do
	[[ $t =~ ^kd_[0-9]+_ ]] || fatal "fixture: user add prints a token" "got '$t'"
done
uid() { sql "SELECT id FROM users WHERE name = '$1'"; }
sql "UPDATE users SET disabled = 1 WHERE name = 'Dan River';
     INSERT INTO mail_prefs (user_id, kind, enabled) VALUES ($(uid "Pia River"), 'visit_requested', 0);" ||
	fatal "fixture: a disabled principal and a switch turned off" "see above"
TITLE='Rotation <b>&</b> timers'
sql <<SQL || fatal "fixture clips inserted with sqlite3" "see above"
PRAGMA foreign_keys = ON;
INSERT INTO clips (id, title, school_id, teacher, uploaded_at, consent, status, duration_s)
VALUES
 (101, '$TITLE', (SELECT id FROM schools WHERE slug = 'river-school'), 'rosa diaz', '2026-01-05T09:00:00Z', 'on-file', 'ready', 90),
 (102, 'Choice boards', (SELECT id FROM schools WHERE slug = 'river-school'), '', '2026-01-06T09:00:00Z', 'on-file', 'ready', 60);
INSERT INTO clip_practices (clip_id, practice_id) SELECT c, (SELECT id FROM practices WHERE slug = p) FROM
 (SELECT 101 AS c, 'station-rotation' AS p UNION ALL SELECT 102, 'student-choice') AS cp;
SQL

# The digest's day is not today until the digest part below.
write_conf() {
	cat >"$DATA/kindling.conf" <<EOF
public_url = $PUBLIC
smtp_url = smtp://127.0.0.1:$SINK_PORT
mail_from = kindling <kindling@district.test>
digest_day = $1
EOF
}
write_conf "$(weekday "+3 days")"
export KINDLING_MAIL_ROUND_S=1 # reminders and digests are looked for every second
start_server "$DATA" "$KPORT" || fatal "the server starts with mail on" "$(log_tail)"

# ------------------------------------------------------------------ a visit is asked for
req_json POST /api/v1/visits "$TOM" "{\"clip_id\": 101, \"dates\": [\"$TOMORROW\", \"$LATER\"], \"note\": \"Could I see the timers?\"}"
check_eq "Tom asks to visit clip 101: 201" 201 "$STATUS"
V1=$(jb .id)
check_eq "queued in the visit's transaction: one row per host-side person with mail on" \
	"rick@river.test rosa@river.test" \
	"$(sql "SELECT group_concat(email, ' ') FROM (SELECT u.email FROM outbox o JOIN users u ON u.id = o.user_id WHERE o.kind = 'visit_requested' AND o.ref_id = $V1 ORDER BY u.email) AS x")"
settle 2 || fatal "the request mails arrive" "$(sink_count) arrived; $(log_tail)"
check_eq "exactly the host principal and the featured teacher (not Tom, Nora, Sam, Pia switched off, Rhea without an address, Dan disabled)" \
	"rick@river.test|Tom North asks to visit River School
rosa@river.test|Tom North asks to visit River School" "$(mail_lines 0)"
mail_of rick@river.test "asks to visit"
check_match "the request names the requester, their school, the clip and the practice" \
	"Tom North \(North High\) asks to visit River School to see the classroom of \"Rotation <b>&</b> timers\" \(Station rotation\)" "$(mj .text | tr '\n' ' ')"
check_match "  the proposed dates and the note" "Proposed dates: $TOMORROW, $LATER.*Their note: Could I see the timers\?" "$(mj .text | tr '\n' ' ')"
check_match "  links to /visits and the clip at public_url" "$PUBLIC/visits.*$PUBLIC/clips/101" "$(mj .text | tr '\n' ' ')"
check_match "  the HTML escapes the title" '&quot;Rotation &lt;b&gt;&amp;&lt;/b&gt; timers&quot;' "$(mj .html)"
check "  no raw markup from the title in the HTML" bash -c '! grep -q "<b>&</b>" <<<"$1"' _ "$(mj .html)"
check_match "  the HTML links to /visits" "<a href=\"$PUBLIC/visits\">" "$(mj .html)"
UNSUB=$(mj .list_unsubscribe)
check_match "  a one-click unsubscribe header (RFC 8058)" "^<$PUBLIC/mail/unsubscribe\?m=[0-9]+&s=[A-Za-z0-9_-]{43}>$" "$UNSUB"
check_eq "  List-Unsubscribe-Post" "List-Unsubscribe=One-Click" "$(mj .list_unsubscribe_post)"
U=${UNSUB#<}
U=${U%>}
check "  the body names the same link, text and HTML" bash -c 'grep -qF "$1" <<<"$2" && grep -qF "${1//&/&amp;}" <<<"$3"' _ "$U" "$(mj .text)" "$(mj .html)"
check_match "  and /account" "$PUBLIC/account" "$(mj .text)"
mail_of rosa@river.test "asks to visit"
check_eq "the featured teacher's mail is addressed to her" "Rosa Diaz <rosa@river.test>" "$(mj .to)"

# ------------------------------------------------------------------ accepted, the .ics, the reminders
N=$(sink_count)
req_json PATCH "/api/v1/visits/$V1" "$ROSA" "{\"status\": \"accepted\", \"date\": \"$TOMORROW\", \"note\": \"Room 12, at 9\"}"
check_eq "Rosa accepts for tomorrow: 200" 200 "$STATUS"
# the answer, then (tomorrow being the visit's day) a reminder to each side
settle $((N + 5)) || fatal "the answer and the reminders arrive" "$(sink_count) arrived; $(log_tail)"
check_eq "the answer to Tom only; a reminder to Tom and the host side (Pia too: only requests are off for her)" \
	"pia@river.test|Tomorrow, $TOMORROW: Tom North visits River School
rick@river.test|Tomorrow, $TOMORROW: Tom North visits River School
rosa@river.test|Tomorrow, $TOMORROW: Tom North visits River School
tom@north.test|Tomorrow, $TOMORROW: your visit to River School
tom@north.test|Your visit to River School on $TOMORROW is accepted" "$(mail_lines "$N")"
mail_of tom@north.test "is accepted"
check_match "the acceptance says the date and the host's note" "visit is on $TOMORROW.*Their note: Room 12, at 9" "$(mj .text | tr '\n' ' ')"
check_eq "the .ics is attached" "visit-$V1.ics text/calendar" "$(mj '.attachments[0] | "\(.filename) \(.type)"')"
mj '.attachments[0].data' >"$WORK/visit.ics"
check_eq "  it is a calendar" "BEGIN:VCALENDAR" "$(head -n 1 "$WORK/visit.ics" | tr -d '\r')"
check_eq "  of the accepted day" "DTSTART;VALUE=DATE:${TOMORROW//-/}" "$(grep '^DTSTART' "$WORK/visit.ics" | tr -d '\r')"
check_eq "  naming the clip" 'SUMMARY:Classroom visit: Rotation <b>&</b> timers' "$(grep '^SUMMARY' "$WORK/visit.ics" | tr -d '\r')"
check_eq "  one event" 1 "$(grep -c '^BEGIN:VEVENT' "$WORK/visit.ics")"
/usr/bin/python3 - "$WORK/visit.ics" >"$WORK/ics.check" 2>&1 <<'PY'
import sys
raw = open(sys.argv[1], "rb").read().rstrip(b"\r\n")
# (jq -r added a line end; the decoder may have made CRLF LF)
lines = raw.replace(b"\r\n", b"\n").split(b"\n")
assert all(len(l) <= 75 for l in lines), "a line is longer than 75 octets"
assert lines[-1] == b"END:VCALENDAR", "does not end END:VCALENDAR"
print("ok")
PY
check_eq "  lines folded, ends END:VCALENDAR" ok "$(cat "$WORK/ics.check")"
mail_of rick@river.test "Tomorrow"
check_match "the host's reminder says who comes, from where, for what" \
	"tomorrow, $TOMORROW, Tom North \(North High\) visits River School" "$(mj .text | tr '\n' ' ')"
check_eq "  with the .ics" "visit-$V1.ics" "$(mj '.attachments[0].filename')"
check_eq "reminders are queued once per visit and person, whatever the rounds" 4 \
	"$(sql "SELECT count(*) FROM outbox WHERE kind = 'visit_reminder'")"

# ------------------------------------------------------------------ declined
N=$(sink_count)
req_json POST /api/v1/visits "$TOM" "{\"clip_id\": 102, \"dates\": [\"$LATER\"]}"
check_eq "Tom asks to visit clip 102 (no featured teacher): 201" 201 "$STATUS"
V2=$(jb .id)
settle $((N + 1)) || fatal "the second request arrives" "$(sink_count) arrived"
check_eq "only Rick hears (no featured teacher, Pia switched off)" \
	"rick@river.test|Tom North asks to visit River School" "$(mail_lines "$N")"
N=$(sink_count)
req_json PATCH "/api/v1/visits/$V2" "$RICK" '{"status": "declined", "note": "Not this term, sorry"}'
check_eq "Rick declines: 200" 200 "$STATUS"
settle $((N + 1)) || fatal "the decline arrives" "$(sink_count) arrived"
check_eq "Tom hears, nobody else" "tom@north.test|Your visit request to River School was declined" "$(mail_lines "$N")"
mail_of tom@north.test "declined"
check_match "the decline carries the note" "Their note: Not this term, sorry" "$(mj .text)"
check_eq "  and no attachment" 0 "$(mj '.attachments | length')"
req_json PATCH "/api/v1/visits/$V2" "$RICK" '{"note": "We might have room in spring"}'
sleep 3
check_eq "a later note on the answer mails nothing more" "$N" "$(($(sink_count) - 1))"

# ------------------------------------------------------------------ upload batches
M=$WORK/media
mkdir -p "$M/run1" "$M/run2" "$M/run3" "$M/run4"
ff -f lavfi -i testsrc2=size=160x120:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p "$M/run1/timers_at_river.mp4"
head -c 20000 /dev/urandom >"$M/run1/broken_card.mp4"
ff -f lavfi -i testsrc=size=160x120:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p "$M/run2/groups_rotate.mp4"
ff -f lavfi -i smptebars=size=160x120:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p "$M/run3/bars.mp4"
ff -f lavfi -i rgbtestsrc=size=160x120:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p "$M/run4/a_new.mp4"
cp "$M/run3/bars.mp4" "$M/run4/b_again.mp4"
up() { run_cli upload --server "$URL" --token "$CAI" --school river-school --practice station-rotation --wait --json "$@"; }

N=$(sink_count)
up "$M/run1"
check_eq "run 1 (one good file, one broken): the CLI reports the failure" 1 "$RC"
check_eq "  one ready, one failed" "failed ready" "$(jq -rs '[.[].status] | sort | join(" ")' <<<"$OUT")"
check_eq "  one batch of two files" "1 2" "$(sql "SELECT count(*) || ' ' || max(size) FROM upload_batches")"
settle $((N + 1)) || fatal "the batch's mail arrives" "$(sink_count) arrived; $(log_tail)"
check_eq "one mail to the uploader" "cai@river.test|1 of 2 clips could not be processed" "$(mail_lines "$N")"
mail_of cai@river.test "could not be processed"
BROKEN_ERR=$(jq -rs '.[] | select(.status == "failed") | .error' <<<"$OUT")
check_match "it names the broken file" "broken card \(broken_card.mp4\)" "$(mj .text)"
check "  with its reason, as the clip has it" grep -qF -- "$BROKEN_ERR" <<<"$(mj .text)"
check_match "  and the ready one with its link" "timers at river.*$PUBLIC/clips/[0-9]+" "$(mj .text | tr '\n' ' ')"

N=$(sink_count)
up --notify "$M/run2"
check_eq "run 2 (--notify, all good): ready" "0 ready" "$RC $(jq -r .status <<<"$OUT")"
GROUPS_ID=$(jq -r .id <<<"$OUT")
settle $((N + 1)) || fatal "the --notify mail arrives" "$(sink_count) arrived"
check_eq "one mail: all ready" "cai@river.test|Your clip is ready" "$(mail_lines "$N")"

N=$(sink_count)
up "$M/run3"
check_eq "run 3 (no --notify, all good): ready" "0 ready" "$RC $(jq -r .status <<<"$OUT")"
BARS_ID=$(jq -r .id <<<"$OUT")
wait_until 30 outbox_idle
check_eq "no mail for it: no row queued" 2 "$(sql "SELECT count(*) FROM outbox WHERE kind = 'processing'")"
check_eq "  and none sent" "$N" "$(sink_count)"

N=$(sink_count)
up --notify "$M/run4"
check_eq "run 4 (--notify, a new file, then one the server has)" "0 ready/false ready/true" \
	"$RC $(jq -rs '[.[] | "\(.status)/\(.duplicate)"] | join(" ")' <<<"$OUT")"
check_eq "  the duplicate was not waited for: the batch is of one file" 1 \
	"$(sql "SELECT size FROM upload_batches ORDER BY id DESC LIMIT 1")"
settle $((N + 1)) || fatal "run 4's mail arrives" "$(sink_count) arrived"
check_eq "  one mail" "cai@river.test|Your clip is ready" "$(mail_lines "$N")"

# Another tus client's run of two files: the first sent whole, the second
# cancelled (tus termination, as kindling upload does for a file it finds
# the server has): the batch is over when the first is processed.
ff -f lavfi -i testsrc=size=176x144:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p "$M/raw_tus.mp4"
b64() { printf '%s' "$1" | base64 -w0; }
tus_meta() {
	echo "Upload-Metadata: filename $(b64 "$1"),school $(b64 river-school),practices $(b64 station-rotation),batch $(b64 raw-client-run-1),batch_size $(b64 2),notify $(b64 1)"
}
N=$(sink_count)
req POST /api/v1/uploads "$CAI" -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $(stat -c %s "$M/raw_tus.mp4")" -H "$(tus_meta raw_tus.mp4)"
check_eq "a raw tus upload with batch metadata: 201" 201 "$STATUS"
LOC_A=$(header Location)
req PATCH "${LOC_A#"$URL"}" "$CAI" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
	-H 'Content-Type: application/offset+octet-stream' --data-binary @"$M/raw_tus.mp4"
check_eq "  sent whole: 204 with its clip" "204 yes" "$STATUS $([ -n "$(header Kindling-Clip-Id)" ] && echo yes)"
req POST /api/v1/uploads "$CAI" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 1000' -H "$(tus_meta second.mp4)"
LOC_B=$(header Location)
check_eq "  the batch waits for two" 2 "$(sql "SELECT size FROM upload_batches WHERE token = 'raw-client-run-1'")"
req DELETE "${LOC_B#"$URL"}" "$CAI" -H 'Tus-Resumable: 1.0.0'
check_eq "the second is cancelled: 204" 204 "$STATUS"
check_eq "  the batch waits for one" 1 "$(sql "SELECT size FROM upload_batches WHERE token = 'raw-client-run-1'")"
settle $((N + 1)) || fatal "the raw client's batch mail arrives" "$(sink_count) arrived"
check_eq "  one mail once the first is processed" "cai@river.test|Your clip is ready" "$(mail_lines "$N")"

# A batch metadata the server refuses, before any byte is sent.
req POST /api/v1/uploads "$CAI" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 10' \
	-H "Upload-Metadata: filename $(printf x.mp4 | base64),school $(printf river-school | base64),practices $(printf station-rotation | base64),batch $(printf 'bad token!' | base64),batch_size $(printf 1 | base64)"
check_eq "a bad batch token: 400" 400 "$STATUS"
check_match "  saying what a token is" "batch" "$(jb .error)"

# ------------------------------------------------------------------ the digest
# A moment of station-rotation on a river clip, and a lake clip (an admin files it).
req_json POST "/api/v1/clips/$GROUPS_ID/moments" "$CAI" '{"start_s": 0, "end_s": 1, "practice": "station-rotation", "title": "Groups <move> on"}'
check_eq "a moment on a river clip: 201" 201 "$STATUS"
ff -f lavfi -i mandelbrot=size=160x120:rate=10 -t 1 -c:v libx264 -pix_fmt yuv420p "$M/lake_rotation.mp4"
run_cli upload --server "$URL" --token "$ADMIN" --school lake-school --practice station-rotation --title "Lake rotation" --wait --json "$M/lake_rotation.mp4"
check_eq "a lake clip of the practice: ready" "0 ready" "$RC $(jq -r .status <<<"$OUT")"
for t in "$LENA" "$RITA"; do
	req PUT /api/v1/practices/station-rotation/follow "$t"
	check_eq "a teacher follows station-rotation: 200" 200 "$STATUS"
done
TIMERS_ID=$(sql "SELECT id FROM clips WHERE title = 'timers at river'")
stop_server
# On its day, with the SMTP server saying "try later" at first.
N=$(sink_count)
sink_mode tempfail
write_conf "$(weekday today)"
start_server "$DATA" "$KPORT" || fatal "the server starts on the digest's day" "$(log_tail)"
digests_tried() { [ "$(sql "SELECT count(*) FROM outbox WHERE kind = 'digest' AND attempts > 0")" = 2 ]; }
wait_until 60 digests_tried || fatal "both digests are queued and tried" \
	"$(sql "SELECT user_id, state, attempts, last_error FROM outbox WHERE kind = 'digest'")"
check_eq "one digest each for Lena and Rita, for today" \
	"digest:$(uid "Lena Lake"):$TODAY digest:$(uid "Rita River"):$TODAY" \
	"$(sql "SELECT group_concat(dedupe, ' ') FROM (SELECT dedupe FROM outbox WHERE kind = 'digest' ORDER BY user_id) AS x")"
# Withdrawn after the digest was queued: it must not be named.
patch "$TIMERS_ID" "$CAI" '{"consent": "withdrawn", "consent_reason": "A parent withdrew the release"}'
check_eq "the coach withdraws 'timers at river' meanwhile: 200" 200 "$STATUS"
sink_mode ok
settle $((N + 2)) || fatal "the digests arrive once the server takes mail" "$(sink_count) arrived; $(log_tail)"
check_eq "two digests, nothing else" \
	"lena@lake.test|This week in kindling: 4 new clips, 1 new moment in a practice you follow
rita@river.test|This week in kindling: 1 new clip in a practice you follow" "$(mail_lines "$N")"
mail_of lena@lake.test "This week"
LT=$(mj .text | tr '\n' ' ')
check_match "Lena's names the river clips she may see, with links" \
	"groups rotate.*$PUBLIC/clips/$GROUPS_ID.*bars.*$PUBLIC/clips/$BARS_ID.*a new.*raw tus" "$LT"
check_match "  and the moment, linked at its time" "Groups <move> on.*$PUBLIC/clips/$GROUPS_ID\?t=0\.0" "$LT"
check "  not the clip withdrawn after it was queued" bash -c '! grep -q "timers at river" <<<"$1"' _ "$LT"
check "  not the failed one" bash -c '! grep -q "broken card" <<<"$1"' _ "$LT"
check "  not her own school's clip" bash -c '! grep -q "Lake rotation" <<<"$1"' _ "$LT"
check "  nor the old fixture clip" bash -c '! grep -q "Rotation <b>" <<<"$1"' _ "$LT"
check_match "  the HTML escapes the moment's title" 'Groups &lt;move&gt; on' "$(mj .html)"
check_match "  and links to the practice" "$PUBLIC/practices/station-rotation" "$LT"
mail_of rita@river.test "This week"
RT=$(mj .text | tr '\n' ' ')
check_match "Rita's names the lake clip" "Lake rotation.*Lake School" "$RT"
check "  and no clip of her own school" bash -c '! grep -Eq "groups rotate|bars|timers at river|Groups <move>" <<<"$1"' _ "$RT"
sleep 3
check_eq "the digest is queued once a week whatever the rounds" 2 \
	"$(sql "SELECT count(*) FROM outbox WHERE kind = 'digest'")"
check_eq "every message ended sent" 0 "$(sql "SELECT count(*) FROM outbox WHERE state <> 'sent'")"
check_server_log 'message [0-9]+ .*try again later|trying again in'
finish
