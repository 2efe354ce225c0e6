#!/usr/bin/env bash
# tests/integration/spread.sh - how a practice spread (issue 15, H6): a
# scripted history of station rotation across three schools (clips
# inserted with SQL, a fixture only, since their dates are the story;
# views and a visit made through the API), then exactly the expected lanes
# and arrows in GET /api/v1/practices/{slug}/spread, in the practice page's
# SVG and table, the privacy rule (no names; a clip the asker may not see
# is no event with its id), a spread kept fresh across views (the practice
# page is a kept answer), the principal's summary linking to it, and the
# district page's ranking.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/spread.sh
#
# Last line: "spread: N passed, N failed".  Loopback only.

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite spread sqlite3

day() { date -u -d "$1" +%F; }
T0=$(day today) TM40=$(day "-40 days") TM30=$(day "-30 days") TM20=$(day "-20 days")
T5=$(day "+5 days") T6=$(day "+6 days") T7=$(day "+7 days") T12=$(day "+12 days")
FROM=$(day "-90 days") TO=$(day "+30 days")

for s in alder:Alder birch:Birch cedar:Cedar; do
	"$BIN" school add "${s%%:*}" "${s#*:}" --data "$DATA" >/dev/null 2>&1
done
ADMIN=$(add_user "Ada Admin" admin)
TA=$(add_user "Tara Alder" teacher alder)
TB=$(add_user "Tom Birch" teacher birch)
TC=$(add_user "Tess Cedar" teacher cedar)
PB=$(add_user "Pia Birch" principal birch)
PC=$(add_user "Paul Cedar" principal cedar)

# The story of station rotation (SR):
#   alder  103 SR, private (admins only)       T-40
#          101 SR                               T-30  <- alder's first for others
#          104 student-choice                   T-20
#   birch  201 SR                               T+5   (birch saw alder's 101 today)
#          202 SR, later visible to birch only  T+6   (cedar watched it today)
#   cedar  301 SR                               T+12  (cedar saw 101 and 202 today,
#                                                      visited birch on T+7)
sid() { echo "(SELECT id FROM schools WHERE slug = '$1')"; }
sql <<SQL || fatal "fixture clips inserted with sql" "see above"
PRAGMA foreign_keys = ON;
INSERT INTO clips (id, title, school_id, teacher, recorded_on, uploaded_at, consent, visibility, status, duration_s)
VALUES
 (101, 'Rotation at Alder', $(sid alder), 'Ann Teach', '$TM30', '${TM30}T09:00:00Z', 'on-file', 'district', 'ready', 90),
 (103, 'Private rotation', $(sid alder), 'Ann Teach', '$TM40', '${TM40}T09:00:00Z', 'on-file', 'private', 'ready', 60),
 (104, 'Choice boards', $(sid alder), 'Ann Teach', '$TM20', '${TM20}T09:00:00Z', 'on-file', 'district', 'ready', 60),
 (201, 'Rotation at Birch', $(sid birch), 'Bea Teach', '$T5', '${T5}T09:00:00Z', 'on-file', 'district', 'ready', 60),
 (202, 'Birch, second try', $(sid birch), 'Bea Teach', '$T6', '${T6}T09:00:00Z', 'on-file', 'district', 'ready', 60),
 (301, 'Rotation at Cedar', $(sid cedar), 'Cy Teach', '$T12', '${T12}T09:00:00Z', 'on-file', 'district', 'ready', 60);
INSERT INTO clip_practices (clip_id, practice_id) SELECT c, (SELECT id FROM practices WHERE slug = p) FROM
 (SELECT 101 AS c, 'station-rotation' AS p UNION ALL SELECT 103, 'station-rotation'
  UNION ALL SELECT 104, 'student-choice' UNION ALL SELECT 201, 'station-rotation'
  UNION ALL SELECT 202, 'station-rotation' UNION ALL SELECT 301, 'station-rotation') AS cp;
SQL
check_eq "fixture clips are in" 6 "$(sql 'SELECT count(*) FROM clips')"

start_server "$DATA" || fatal "the server started" "$(log_tail)"
SP=/api/v1/practices/station-rotation/spread

# ------------------------------------------------------------------ before any view
req GET "$SP" "$TA"
check_eq "the spread: 200" 200 "$STATUS"
check_eq "before any view: three lanes in order, no arrow" \
	"[\"alder $TM30 0\",\"birch $T5 0\",\"cedar $T12 0\"]" \
	"$(jq -c '[.schools[] | "\(.school) \(.first_clip_on) \(.arrived_from | length)"]' "$WORK/body")"
req GET /practices/station-rotation "$TA"
check_eq "the practice page: 200" 200 "$STATUS"
check_eq "its SVG has no arrow yet" 0 "$(grep -c 'class="arrow' "$WORK/body")"
req GET /api/v1/practices/no-such-practice/spread "$TA"
check_eq "an unknown practice: 404" 404 "$STATUS"
check_match "saying where the practices are listed" '/api/v1/practices' "$(jb .error)"
req GET "$SP" ""
check_eq "signed out: 401" 401 "$STATUS"

# ------------------------------------------------------------------ the history
req POST /api/v1/clips/101/views "$TB"     # birch sees alder's rotation today
check_eq "birch watches alder's 101: 204" 204 "$STATUS"
req POST /api/v1/clips/101/views "$TC"     # cedar too
req POST /api/v1/clips/202/views "$TC"     # cedar watches birch's 202 ...
check_eq "cedar watches birch's 202: 204" 204 "$STATUS"
req POST /api/v1/clips/201/views "$TA"     # alder had it long before: no arrow
req POST /api/v1/clips/201/views "$TB"     # a school's own clip: no arrow
req_json POST /api/v1/visits "$TC" "{\"clip_id\": 201, \"dates\": [\"$T7\"]}"
check_eq "cedar asks to visit birch's 201: 201" 201 "$STATUS"
V=$(jb .id)
req_json PATCH "/api/v1/visits/$V" "$PB" "{\"status\": \"accepted\", \"date\": \"$T7\"}"
check_eq "birch's principal accepts for T+7: 200" 200 "$STATUS"
# ... and 202 is then kept to birch: cedar's view of it stays an arrow,
# without the clip's id for those who may not see it
sql "UPDATE clips SET visibility = 'school' WHERE id = 202" || fatal "202 made school-only" "see above"

# ------------------------------------------------------------------ the spread, exactly
want_lanes="[{\"school\":\"alder\",\"first_clip_on\":\"$TM30\",\"arrived_from\":[]},\
{\"school\":\"birch\",\"first_clip_on\":\"$T5\",\"arrived_from\":[{\"school\":\"alder\",\"via\":\"view\",\"on\":\"$T0\"}]},\
{\"school\":\"cedar\",\"first_clip_on\":\"$T12\",\"arrived_from\":[{\"school\":\"alder\",\"via\":\"view\",\"on\":\"$T0\"},\
{\"school\":\"birch\",\"via\":\"view\",\"on\":\"$T0\"},{\"school\":\"birch\",\"via\":\"visit\",\"on\":\"$T7\"}]}]"
want_events="[{\"on\":\"$TM30\",\"kind\":\"clip\",\"from_school\":null,\"to_school\":\"alder\",\"clip_id\":101},\
{\"on\":\"$T0\",\"kind\":\"view\",\"from_school\":\"alder\",\"to_school\":\"birch\",\"clip_id\":101},\
{\"on\":\"$T0\",\"kind\":\"view\",\"from_school\":\"alder\",\"to_school\":\"cedar\",\"clip_id\":101},\
{\"on\":\"$T0\",\"kind\":\"view\",\"from_school\":\"birch\",\"to_school\":\"cedar\",\"clip_id\":null},\
{\"on\":\"$T5\",\"kind\":\"clip\",\"from_school\":null,\"to_school\":\"birch\",\"clip_id\":201},\
{\"on\":\"$T7\",\"kind\":\"visit\",\"from_school\":\"birch\",\"to_school\":\"cedar\",\"clip_id\":201},\
{\"on\":\"$T12\",\"kind\":\"clip\",\"from_school\":null,\"to_school\":\"cedar\",\"clip_id\":301}]"
req GET "$SP" "$TA"
check_eq "as alder's teacher: 200" 200 "$STATUS"
cp "$WORK/body" "$WORK/spread_ta.json"
check_eq "the practice" station-rotation "$(jb .practice)"
check_eq "lanes: alder, birch (by a view), cedar (two views, then the visit)" "$want_lanes" "$(jq -c .schools "$WORK/body")"
check_eq "events: first clips, views and the visit, in order" "$want_events" "$(jq -c .events "$WORK/body")"
check_eq "exactly the keys of the issue" '["events","practice","schools"]' "$(jq -c 'keys' "$WORK/body")"
for who in "Tara" "Tom" "Tess" "Pia" "Paul" "Ada" "Teach"; do
	check "a teacher sees no names ($who)" test "$(grep -c "$who" "$WORK/body")" = 0
done
check "the private clip 103 is no event" test "$(jq '[.events[] | select(.clip_id == 103)] | length' "$WORK/body")" = 0
check "the school-only clip 202 is no event with its id" test "$(jq '[.events[] | select(.clip_id == 202)] | length' "$WORK/body")" = 0

req GET "$SP" "$TB"
check_eq "birch's teacher sees 202 (its school's): the view of it names it" 202 \
	"$(jq -c '.events[] | select(.kind == "view" and .from_school == "birch") | .clip_id' "$WORK/body")"
req GET "$SP" "$TC"
check_eq "cedar's teacher, who may not see 202 now: null" null \
	"$(jq -c '.events[] | select(.kind == "view" and .from_school == "birch") | .clip_id' "$WORK/body")"
req GET "$SP" "$ADMIN"
check_eq "an admin: alder's first clip is the private one, T-40" "alder $TM40 103" \
	"$(jq -r '.events[0] | "\(.to_school) \(.on) \(.clip_id)"' "$WORK/body")"
check_eq "an admin: the same arrows" "$(jq -c '[.schools[] | .arrived_from]' "$WORK/spread_ta.json")" \
	"$(jq -c '[.schools[] | .arrived_from]' "$WORK/body")"
check "an admin sees no names either" test "$(grep -c "Tess\|Tom\|Tara" "$WORK/body")" = 0

# ------------------------------------------------------------------ the practice page
req GET /practices/station-rotation "$TA"
check_eq "the practice page again: 200" 200 "$STATUS"
cp "$WORK/body" "$WORK/page_ta.html"
# (the section alone: the page around it names the signed-in person)
sect=$(tr -d '\n' <"$WORK/page_ta.html" | grep -o '<section class="panel spread" id="spread".*' | sed 's#</section>.*#</section>#')
check "a section id=spread" test -n "$sect"
check_match "an inline SVG, role img, named by its title and desc" \
	'<svg [^>]*role="img" aria-labelledby="spread-t spread-d"[^>]*><title id="spread-t">How station-rotation spread from school to school</title><desc id="spread-d">' "$sect"
check_eq "lanes in order: alder, birch, cedar" "alder birch cedar" \
	"$(grep -o '<g class="lane"><text[^>]*>[a-z]*</text>' <<<"$sect" | sed 's/.*>\([a-z]*\)<\/text>/\1/' | xargs)"
check_eq "a dot at each first clip" "alder $TM30|birch $T5|cedar $T12" \
	"$(grep -o '<circle class="first"[^>]*><title>First clip at [a-z]* on [0-9-]*' <<<"$sect" | sed 's/.*First clip at \([a-z]*\) on /\1 /' | paste -sd'|')"
check_eq "three view arrows, the fresh answer (the page was kept before the views)" \
	"View from birch of a clip at alder on $T0|View from cedar of a clip at alder on $T0|View from cedar of a clip at birch on $T0" \
	"$(grep -o '<line class="arrow view"[^>]*><title>[^<]*' <<<"$sect" | sed 's/.*<title>//' | paste -sd'|')"
check_eq "one visit arrow, dashed" "Visit from cedar to birch on $T7" \
	"$(grep -o '<line class="arrow visit"[^>]*stroke-dasharray[^>]*><title>[^<]*' <<<"$sect" | sed 's/.*<title>//')"
check_eq "time across: the axis from the first event to the last" "$TM30 $T12" \
	"$(grep -o '<text class="axis"[^>]*>[0-9-]*' <<<"$sect" | sed 's/.*>//' | xargs)"
check_match "the desc says it in words" "cedar: first clip $T12, after a view of alder on $T0; a view of birch on $T0; a visit to birch on $T7\\." "$sect"
rows=$(grep -o '<table class="figures spread-table">.*</table>' <<<"$sect" | grep -o '<tr><th scope="row">.*' |
	sed 's/<\/tr>/\n/g' | sed 's/<[^>]*>/ /g; s/  */ /g; s/^ //; s/ $//' | grep -v '^$' | paste -sd'|')
check_eq "the same facts in the table" \
	"alder $TM30 — — —|birch $T5 alder view $T0|cedar $T12 alder view $T0|cedar $T12 birch view $T0|cedar $T12 birch visit $T7" "$rows"
check "the table links each first clip" grep -q '<a href="/clips/301">'"$T12"'</a>' <<<"$sect"
check "no name in the section" test "$(grep -c 'Tess\|Tom\|Tara\|Teach' <<<"$sect")" = 0
check "no link to a clip alder's teacher may not see" test "$(grep -c '/clips/10[3]\|/clips/202' "$WORK/page_ta.html")" = 0
req GET "/practices/station-rotation?page=2" "$TA"
check "page 2 of the clips does not repeat the spread" test "$(grep -c 'id="spread"' "$WORK/body")" = 0
req GET "/practices/station-rotation?school=birch&grade=" "$TA"
check_eq "a filtered page links to the spread instead of drawing it" "0 1" \
	"$(grep -c 'id="spread"' "$WORK/body") $(grep -c '<a href="/practices/station-rotation#spread">' "$WORK/body")"
req GET "/practices/station-rotation?sort=oldest&grade=" "$TA"
check_eq "sorted, with empty fields as the form sends them: drawn" 1 "$(grep -c 'id="spread"' "$WORK/body")"
req GET /practices/student-choice "$TA"
check_eq "another practice: one lane, no arrow" "1 0" \
	"$(grep -c '<circle class="first"' "$WORK/body") $(grep -c 'class="arrow' "$WORK/body")"

# ------------------------------------------------------------------ a principal's summary
req GET "/api/v1/schools/cedar/summary?from=$FROM&to=$TO" "$PC"
check_eq "cedar's summary: station rotation arrived, by the same rule" \
	"station-rotation $T12 alder $T0 view" \
	"$(jb '.arrived_from_elsewhere[] | "\(.practice) \(.first_clip_on) \(.seen_at_school) \(.seen_on) \(.via)"')"
check_eq "the spread's first arrival at cedar is the summary's" "alder $T0 view" \
	"$(jq -r '.schools[] | select(.school == "cedar") | .arrived_from[0] | "\(.school) \(.on) \(.via)"' "$WORK/spread_ta.json")"
req GET "/schools/cedar/summary?from=$FROM&to=$TO" "$PC"
check_eq "the summary page: 200" 200 "$STATUS"
check "it links the arrived practice to its spread" \
	grep -q '<th scope="row"><a href="/practices/station-rotation#spread">station-rotation</a></th>' "$WORK/body"

# ------------------------------------------------------------------ the district page
req GET "/district?from=$FROM&to=$TO" "$ADMIN"
check_eq "the district page: 200" 200 "$STATUS"
reach=$(grep -o '<table class="figures reach-table">.*' "$WORK/body" | sed 's/<\/table>.*//' |
	grep -o '<tr><th scope="row">.*' | sed 's/<\/tr>/\n/g' | sed 's/<[^>]*>/ /g; s/  */ /g; s/^ //; s/ $//' | grep -v '^$' | paste -sd'|')
check_eq "practices ranked by schools reached" "Station rotation 3 3|Student choice 1 1" "$reach"
check "each links to its spread" grep -q 'href="/practices/station-rotation#spread"' "$WORK/body"
req GET "/district?from=$(day "-35 days")&to=$TO" "$ADMIN"
reach=$(grep -o '<table class="figures reach-table">.*' "$WORK/body" | sed 's/<\/table>.*//' |
	grep -o '<tr><th scope="row">.*' | sed 's/<\/tr>/\n/g' | sed 's/<[^>]*>/ /g; s/  */ /g; s/^ //; s/ $//' | grep -v '^$' | paste -sd'|')
check_eq "a later range: alder's first (T-40, the admin sees it) falls out" "Station rotation 2 3|Student choice 1 1" "$reach"
req GET "/district?from=$FROM&to=$TO" "$PC"
check_eq "the district page is for admins: 403" 403 "$STATUS"

finish
