#!/usr/bin/env bash
# tests/integration/visits.sh - visits, views and summaries end to end: known
# clips (inserted with sqlite3, a fixture only), views and visits made
# through the API by different users, then exact figures in the summary's
# JSON, its CSV and `kindling summary --format table`, the role rules, and
# a visit from request to an accepted .ics and done with a reflection.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/visits.sh
#
# Last line: "visits: N passed, N failed".  Loopback only; every wait polls.

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite visits sqlite3 python3

day() { date -u -d "$1" +%F; }
T0=$(date -u +%F)
FROM=$(day "-90 days") TO=$(day "+30 days")

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1
"$BIN" school add river-school "River School" --data "$DATA" >/dev/null 2>&1
ADMIN=$(add_user admin admin)
PRINC_N=$(add_user "Nora North" principal north-high)
PRINC_R=$(add_user "Rick River" principal river-school)
TEACH_N=$(add_user "Tom North" teacher north-high)
ROSA=$(add_user "Rosa Diaz" teacher river-school)     # the featured teacher of clip 101
COACH_R=$(add_user "Cai River" coach river-school)

# Known clips.  River: 101 station-rotation (Rosa Diaz), 102 student-choice.
# North: 201 station-rotation (T+5), 202 student-choice (T+7), 203
# formative-assessment (no recorded date, uploaded T+6), 204 differentiation
# with consent pending (only admins count it), 205 peer-feedback long ago.
sql <<SQL || fatal "fixture clips inserted with sqlite3" "see above"
PRAGMA foreign_keys = ON;
INSERT INTO clips (id, title, school_id, teacher, recorded_on, uploaded_at, consent, status, duration_s)
VALUES
 (101, 'Rotation, with timers', (SELECT id FROM schools WHERE slug = 'river-school'), 'Rosa Diaz', '$(day "-60 days")', '$(day "-60 days")T09:00:00Z', 'on-file', 'ready', 90),
 (102, 'Choice boards', (SELECT id FROM schools WHERE slug = 'river-school'), 'Sam Lee', '$(day "-50 days")', '$(day "-50 days")T09:00:00Z', 'on-file', 'ready', 60),
 (201, 'Our first rotation', (SELECT id FROM schools WHERE slug = 'north-high'), 'Ana Ruiz', '$(day "+5 days")', '$(day "+5 days")T09:00:00Z', 'on-file', 'ready', 120),
 (202, 'Choice in Year 8', (SELECT id FROM schools WHERE slug = 'north-high'), 'Ana Ruiz', '$(day "+7 days")', '$(day "+7 days")T09:00:00Z', 'on-file', 'ready', 30),
 (203, 'Exit tickets', (SELECT id FROM schools WHERE slug = 'north-high'), '=Ben, "Okafor"', NULL, '$(day "+6 days")T09:00:00Z', 'on-file', 'ready', 48),
 (204, 'Not yet consented', (SELECT id FROM schools WHERE slug = 'north-high'), 'Ana Ruiz', '$(day "+8 days")', '$(day "+8 days")T09:00:00Z', 'pending', 'ready', 600),
 (205, 'Long ago', (SELECT id FROM schools WHERE slug = 'north-high'), 'Ana Ruiz', '$(day "-400 days")', '$(day "-400 days")T09:00:00Z', 'on-file', 'ready', 60);
INSERT INTO clip_practices (clip_id, practice_id) SELECT c, (SELECT id FROM practices WHERE slug = p) FROM
 (SELECT 101 AS c, 'station-rotation' AS p UNION ALL SELECT 102, 'student-choice'
  UNION ALL SELECT 201, 'station-rotation' UNION ALL SELECT 202, 'student-choice'
  UNION ALL SELECT 203, 'formative-assessment' UNION ALL SELECT 204, 'differentiation'
  UNION ALL SELECT 205, 'peer-feedback') AS cp;
SQL
check_eq "fixture clips are in" 7 "$(sql 'SELECT count(*) FROM clips')"

start_server "$DATA" || fatal "the server started" "$(log_tail)"
check_match "the server started" '^[0-9]+$' "$PORT"

# ------------------------------------------------------------------ views
req POST /api/v1/clips/102/views "$TEACH_N"
check_eq "a north teacher watches river's choice-board clip: 204" 204 "$STATUS"
req POST /api/v1/clips/102/views "$TEACH_N"
check_eq "watching it again the same day: 204" 204 "$STATUS"
for t in "$ROSA" "$ROSA"; do req POST /api/v1/clips/201/views "$t"; done
req POST /api/v1/clips/202/views "$ROSA"
req POST /api/v1/clips/203/views "$PRINC_R"
check_eq "river users watch north clips: 204" 204 "$STATUS"
req POST /api/v1/clips/201/views "$TEACH_N"     # own school: not counted
req POST /api/v1/clips/201/views "$ADMIN"       # no school: not counted
req POST /api/v1/clips/204/views "$ROSA"
check_eq "a clip the viewer may not see (consent pending): 404" 404 "$STATUS"
req POST /api/v1/clips/999/views "$ROSA"
check_eq "an unknown clip: 404" 404 "$STATUS"
check_eq "one row per viewer per clip per day" 6 "$(sql 'SELECT count(*) FROM views')"
check_eq "the day is today, the school the viewer's" "$T0 river-school" \
	"$(sql "SELECT v.day || ' ' || s.slug FROM views v JOIN schools s ON s.id = v.school_id JOIN users u ON u.id = v.user_id WHERE u.name = 'Rosa Diaz' AND v.clip_id = 201")"

# ------------------------------------------------------------------ visits
D1=$(day "+1 day") D2=$(day "+2 days") D3=$(day "+3 days")
req_json POST /api/v1/visits "$TEACH_N" "{\"clip_id\": 101, \"dates\": [\"$D1\", \"$D2\"], \"note\": \"Could I see the timers, please?\"}"
check_eq "a north teacher asks to visit clip 101: 201" 201 "$STATUS"
V1=$(jb .id)
check_eq "the visit as the API returns it" "requested 101 station-rotation river-school north-high Tom North $D1,$D2 null" \
	"$(jb '"\(.status) \(.clip_id) \(.practice) \(.host_school) \(.visitor_school) \(.requester) \(.proposed_dates | join(",")) \(.date)"')"
check_eq "with the contract's fields" true "$(jb 'has("id") and has("clip_title") and has("note") and has("answer_note") and has("reflection") and has("created_at") and has("updated_at")')"
req_json POST /api/v1/visits "$TEACH_N" '{"clip_id": 201, "dates": ["2030-01-01"]}'
check_eq "a visit to one's own school: 403" 403 "$STATUS"
req_json POST /api/v1/visits "$TEACH_N" '{"clip_id": 204, "dates": ["2030-01-01"]}'
check_eq "a visit from a clip one may not see: 404" 404 "$STATUS"
req_json POST /api/v1/visits "$TEACH_N" '{"clip_id": 101, "dates": ["2030-02-30"]}'
check_eq "a date that does not exist: 400" 400 "$STATUS"
check_match "saying how to write dates" 'YYYY-MM-DD' "$(jb .error)"
req_json POST /api/v1/visits "$TEACH_N" '{"clip_id": 101, "dates": ["2030-01-01", "2030-01-01"]}'
check_eq "the same date twice: 400" 400 "$STATUS"
req_json POST /api/v1/visits "$TEACH_N" '{"clip_id": 101, "dates": ["2030-01-01", "2030-01-02", "2030-01-03", "2030-01-04"]}'
check_eq "four dates: 400" 400 "$STATUS"
req_json POST /api/v1/visits "$TEACH_N" '{"clip_id": 101, "dates": []}'
check_eq "no date: 400" 400 "$STATUS"

req GET "/api/v1/visits/$V1/ics" "$TEACH_N"
check_eq "no .ics before the visit is accepted: 409" 409 "$STATUS"
req_json PATCH "/api/v1/visits/$V1" "$PRINC_N" "{\"status\": \"accepted\", \"date\": \"$D2\"}"
check_eq "the visitor school's principal may not accept: 403" 403 "$STATUS"
req_json PATCH "/api/v1/visits/$V1" "$COACH_R" "{\"status\": \"accepted\", \"date\": \"$D2\"}"
check_eq "a coach of the host school is not an answerer (cannot see it): 404" 404 "$STATUS"
req_json PATCH "/api/v1/visits/$V1" "$TEACH_N" "{\"status\": \"done\"}"
check_eq "done before accepted: 409" 409 "$STATUS"
req_json PATCH "/api/v1/visits/$V1" "$ROSA" "{\"status\": \"accepted\", \"date\": \"$D3\"}"
check_eq "accepting with a date that was not proposed: 400" 400 "$STATUS"
req_json PATCH "/api/v1/visits/$V1" "$ROSA" '{"status": "accepted"}'
check_eq "accepting without a date: 400" 400 "$STATUS"
req_json PATCH "/api/v1/visits/$V1" "$ROSA" "{\"status\": \"accepted\", \"date\": \"$D2\", \"note\": \"Room 12; come at 9, a; b\\\\c\"}"
check_eq "the featured teacher accepts: 200" 200 "$STATUS"
check_eq "accepted, on the date, with the answer note" "accepted $D2 Room 12; come at 9, a; b\\c" "$(jb '"\(.status) \(.date) \(.answer_note)"')"

req GET "/api/v1/visits/$V1/ics" "$TEACH_N"
check_eq "the .ics of the accepted visit: 200" 200 "$STATUS"
check_match "Content-Type text/calendar" '^text/calendar; charset=utf-8' "$(header Content-Type)"
check_match "as an attachment" "^attachment; filename=\"visit-$V1.ics\"" "$(header Content-Disposition)"
cp "$WORK/body" "$WORK/visit.ics"
check_eq "it begins BEGIN:VCALENDAR" "BEGIN:VCALENDAR" "$(head -n 1 "$WORK/visit.ics" | tr -d '\r')"
check_eq "every line ends CRLF" "$(wc -l < "$WORK/visit.ics")" "$(grep -c $'\r$' "$WORK/visit.ics")"
check "DTSTART;VALUE=DATE of the accepted day" grep -q "^DTSTART;VALUE=DATE:${D2//-/}"$'\r$' "$WORK/visit.ics"
check "DTEND the day after" grep -q "^DTEND;VALUE=DATE:$(date -u -d "$D2 +1 day" +%Y%m%d)"$'\r$' "$WORK/visit.ics"
check "UID visit-ID@kindling" grep -q "^UID:visit-$V1@kindling" "$WORK/visit.ics"
check "SUMMARY names the clip and text is escaped" grep -q '^SUMMARY:Classroom visit: Rotation\\, with timers' "$WORK/visit.ics"
check "LOCATION is the host school" grep -q '^LOCATION:River School' "$WORK/visit.ics"
check "no line is longer than 75 octets" test "$(awk '{ sub(/\r$/, ""); if (length($0) > m) m = length($0) } END { print m }' "$WORK/visit.ics")" -le 75
check_match "the answer note is in DESCRIPTION, escaped and unfolded" 'Room 12\\; come at 9\\, a\\; b\\\\c' \
	"$(sed -e ':a' -e 'N' -e '$!ba' -e 's/\r\n //g' "$WORK/visit.ics")"
req GET "/api/v1/visits/$V1/ics" "$PRINC_R"
check_eq "the host's principal may fetch it too" 200 "$STATUS"
req GET "/api/v1/visits/$V1/ics" "$COACH_R"
check_eq "someone else may not: 404" 404 "$STATUS"

req_json PATCH "/api/v1/visits/$V1" "$ROSA" '{"status": "done"}'
check_eq "only the visitor marks it done: 403" 403 "$STATUS"
req_json PATCH "/api/v1/visits/$V1" "$TEACH_N" '{"status": "done", "reflection": "Timers on the board; I will try three stations."}'
check_eq "the visitor marks it done with a reflection: 200" 200 "$STATUS"
check_eq "done, with the reflection" "done Timers on the board; I will try three stations." "$(jb '"\(.status) \(.reflection)"')"

# a second request, declined by river's principal; a third, to north, left requested
req_json POST /api/v1/visits "$TEACH_N" "{\"clip_id\": 102, \"dates\": [\"$D1\"]}"
V2=$(jb .id)
req_json PATCH "/api/v1/visits/$V2" "$PRINC_R" '{"status": "declined", "note": "Testing week, sorry."}'
check_eq "the host's principal declines: 200 declined" "200 declined" "$STATUS $(jb .status)"
req_json PATCH "/api/v1/visits/$V2" "$PRINC_R" "{\"status\": \"accepted\", \"date\": \"$D1\"}"
check_eq "a declined visit cannot be accepted after: 409" 409 "$STATUS"
req_json POST /api/v1/visits "$ROSA" '{"clip_id": 201, "dates": ["2030-05-05"], "note": "Returning the favour"}'
check_eq "a river teacher asks to visit north: 201" 201 "$STATUS"

req GET "/api/v1/visits/$V2" "$PRINC_N"
check_eq "GET one visit: the visitor school's principal sees the declined one and its note" "200 declined Testing week, sorry." "$STATUS $(jb .status) $(jb .answer_note)"
req GET "/api/v1/visits/$V2" "$COACH_R"
check_eq "GET one visit: someone else 404" 404 "$STATUS"
req GET "/api/v1/visits/$V2/ics" "$TEACH_N"
check_eq "no .ics of a declined visit: 409" 409 "$STATUS"
req GET "/api/v1/visits?mine=1" "$TEACH_N"
check_eq "?mine=1 lists my two visits, newest first" "$V2 $V1" "$(jb '[.visits[].id] | map(tostring) | join(" ")')"
req GET "/api/v1/visits?school=north-high" "$PRINC_N"
check_eq "?school= for its principal: hosted and made, 3" 3 "$(jb '.visits | length')"
req GET "/api/v1/visits?school=north-high" "$PRINC_R"
check_eq "another school's principal: 403" 403 "$STATUS"
req GET "/api/v1/visits?school=north-high" "$TEACH_N"
check_eq "a teacher: 403" 403 "$STATUS"
req GET "/api/v1/visits?school=river-school" "$ADMIN"
check_eq "an admin any school: 3" "200 3" "$STATUS $(jb '.visits | length')"

# ------------------------------------------------------------------ summary
S="/api/v1/schools/north-high/summary?from=$FROM&to=$TO"
req GET "$S" "$PRINC_N"
check_eq "north's principal gets the summary: 200" 200 "$STATUS"
cp "$WORK/body" "$WORK/summary.json"
check_eq "school, from, to" "north-high $FROM $TO" "$(jb '"\(.school) \(.from) \(.to)"')"
check_eq "clips: 3 (the pending one and the old one not counted)" 3 "$(jb .clips)"
check_eq "minutes: (120+30+48)/60 = 3.3" 3.3 "$(jb .minutes)"
# (minutes compared in tenths: jq versions print 2.0 differently)
check_eq "by_practice" '[{"practice":"formative-assessment","clips":1,"minutes":8},{"practice":"station-rotation","clips":1,"minutes":20},{"practice":"student-choice","clips":1,"minutes":5}]' \
	"$(jq -c '.by_practice | map(.minutes |= (. * 10 | round))' "$WORK/summary.json")"
want_months=$(for d in "+5 days" "+6 days" "+7 days"; do date -u -d "$d" +%Y-%m; done | jq -Rsc 'split("\n") | map(select(length > 0)) | group_by(.) | map({month: .[0], clips: length})')
check_eq "by_month" "$want_months" "$(jq -c '.by_month' "$WORK/summary.json")"
check_eq "teachers" '[{"teacher":"Ana Ruiz","clips":2},{"teacher":"=Ben, \"Okafor\"","clips":1}]' "$(jq -c '.teachers' "$WORK/summary.json")"
check_eq "views_from_other_schools: 3" 3 "$(jb .views_from_other_schools)"
check_eq "visits hosted" '{"requested":1,"accepted":0,"declined":0,"done":0}' "$(jq -c '.visits.hosted' "$WORK/summary.json")"
check_eq "visits made" '{"requested":0,"accepted":0,"declined":1,"done":1}' "$(jq -c '.visits.made' "$WORK/summary.json")"
check_eq "arrived from elsewhere: station rotation by the visit, student choice by a view" \
	"[{\"practice\":\"station-rotation\",\"first_clip_on\":\"$(day "+5 days")\",\"seen_at_school\":\"river-school\",\"seen_on\":\"$D2\",\"via\":\"visit\"},{\"practice\":\"student-choice\",\"first_clip_on\":\"$(day "+7 days")\",\"seen_at_school\":\"river-school\",\"seen_on\":\"$T0\",\"via\":\"view\"}]" \
	"$(jq -c '.arrived_from_elsewhere' "$WORK/summary.json")"

req GET "$S" "$ADMIN"
check_eq "an admin sees the pending clip too: 4 clips, 13.3 minutes" "200 4 13.3" "$STATUS $(jb .clips) $(jb .minutes)"
req GET "$S" "$TEACH_N"
check_eq "a teacher: 403" 403 "$STATUS"
req GET "$S" "$PRINC_R"
check_eq "another school's principal: 403" 403 "$STATUS"
check_match "saying who may" 'principal' "$(jb .error)"
req GET "/api/v1/schools/north-high/summary?from=2026-13-01" "$PRINC_N"
check_eq "a bad date: 400" 400 "$STATUS"
req GET "/api/v1/schools/north-high/summary?from=$TO&to=$FROM" "$PRINC_N"
check_eq "from after to: 400" 400 "$STATUS"
req GET "/api/v1/schools/atlantis/summary" "$ADMIN"
check_eq "an unknown school: 404" 404 "$STATUS"
req GET "/api/v1/schools/north-high/summary" "$PRINC_N"
check_eq "default range: to today, from a year before" "$T0 $(date -u -d "$T0 -1 year" +%F)" "$(jb '"\(.to) \(.from)"')"

req GET "$S&format=csv" "$PRINC_N"
check_eq "CSV: 200" 200 "$STATUS"
check_match "Content-Type text/csv" '^text/csv; charset=utf-8' "$(header Content-Type)"
check_match "Content-Disposition attachment" '^attachment; filename="north-high-summary-' "$(header Content-Disposition)"
cp "$WORK/body" "$WORK/summary.csv"
check_eq "CSV header row" "section,key,field,value" "$(head -n 1 "$WORK/summary.csv" | tr -d '\r')"
check_eq "CSV rows end CRLF" "$(wc -l < "$WORK/summary.csv")" "$(grep -c $'\r$' "$WORK/summary.csv")"
csv=$(tr -d '\r' < "$WORK/summary.csv")
check "CSV clips row" grep -qx 'summary,,clips,3' <<<"$csv"
check "CSV minutes row" grep -qx 'summary,,minutes,3.3' <<<"$csv"
check "CSV by_practice row" grep -qx 'by_practice,station-rotation,minutes,2.0' <<<"$csv"
check "CSV views row" grep -qx 'summary,,views_from_other_schools,3' <<<"$csv"
check "CSV visits row" grep -qx 'visits_made,done,visits,1' <<<"$csv"
check "CSV arrived row" grep -qx 'arrived_from_elsewhere,student-choice,via,view' <<<"$csv"
check "CSV quotes a hostile teacher name (RFC 4180, no formula)" grep -qx 'teachers,"'"'"'=Ben, ""Okafor""",clips,1' <<<"$csv"
check_eq "CSV parses as 4 columns on every row" 4 \
	"$(python3 -c 'import csv,sys; print(",".join(sorted({str(len(r)) for r in csv.reader(open(sys.argv[1], newline=""))})))' "$WORK/summary.csv")"

# ------------------------------------------------------------------ district
req GET "/api/v1/summary?from=$FROM&to=$TO" "$ADMIN"
check_eq "district summary for an admin: 200" 200 "$STATUS"
check_eq "schools side by side (minutes in tenths)" '[{"school":"north-high","clips":4,"minutes":133,"views_from_other_schools":3,"visits_hosted":1,"visits_made":2},{"school":"river-school","clips":2,"minutes":25,"views_from_other_schools":1,"visits_hosted":2,"visits_made":1}]' \
	"$(jq -c '[.schools[] | {school, clips, minutes: (.minutes * 10 | round), views_from_other_schools, visits_hosted, visits_made}]' "$WORK/body")"
check_eq "grid: station-rotation at both schools" '{"north-high":1,"river-school":1}' \
	"$(jq -c '.grid[] | select(.practice == "station-rotation") | .schools' "$WORK/body")"
check_eq "spread: station rotation went from one school to two" \
	"$(day "-60 days" | cut -c1-7):1 $(day "+5 days" | cut -c1-7):2" \
	"$(jq -r '[.spread[] | select(.practice == "station-rotation") | "\(.month):\(.schools)"] | join(" ")' "$WORK/body")"
req GET /api/v1/summary "$PRINC_N"
check_eq "the district summary for a principal: 403" 403 "$STATUS"
req GET /api/v1/summary "$TEACH_N"
check_eq "for a teacher: 403" 403 "$STATUS"

# ------------------------------------------------------------------ the CLI
cli() { "$BIN" summary --server "$URL" --token "$PRINC_N" --school north-high --from "$FROM" --to "$TO" "$@"; }
out=$(cli --format json); rc=$?
check_eq "kindling summary --format json exits 0" 0 "$rc"
check_eq "and prints exactly the API's object" "$(jq -cS . "$WORK/summary.json")" "$(jq -cS . <<<"$out")"
cli --format csv > "$WORK/cli.csv"
check "--format csv prints the API's CSV byte for byte" cmp -s "$WORK/summary.csv" "$WORK/cli.csv"
out=$(cli --format table); rc=$?
check_eq "--format table exits 0" 0 "$rc"
check_match "table: the school and range" "^North High \\(north-high\\), $FROM to $TO" "$out"
check_match "table: clips 3" '^  clips +3$' "$out"
check_match "table: minutes 3.3" '^  minutes +3\.3$' "$out"
check_match "table: views from other schools 3" '^  views from other schools +3$' "$out"
check_match "table: a practice row" '^  station-rotation +1 +2\.0$' "$out"
check_match "table: visits made" '^  made +0 +0 +1 +1$' "$out"
check_match "table: arrived by a view" "^  student-choice +$(day "+7 days") +river-school +$T0 +view$" "$out"
out=$(KINDLING_SERVER=$URL KINDLING_TOKEN=$TEACH_N "$BIN" summary --school north-high 2>&1); rc=$?
check_eq "a teacher's token (from KINDLING_TOKEN): exit 1" 1 "$rc"
check_match "with the server's reason" 'principals' "$out"
mkdir -p "$XDG_CONFIG_HOME/kindling"
printf 'server = %s\ntoken = %s\n' "$URL" "$ADMIN" > "$XDG_CONFIG_HOME/kindling/config"
out=$("$BIN" summary --school north-high --from "$FROM" --to "$TO" --format json); rc=$?
check_eq "server and token from ~/.config/kindling/config: the admin's 4 clips" "0 4" "$rc $(jq -r .clips <<<"$out")"
"$BIN" summary --school north-high --format xml >/dev/null 2>&1
check_eq "an unknown format: exit 2" 2 "$?"

finish
