#!/usr/bin/env bash
# tests/integration/catadmin.sh - /admin/schools and /admin/practices with
# curl against a running server, signed in as an admin with a password
# (session cookie and CSRF token, as a browser): schools added and
# renamed; practices added, renamed, described, retired (their clips keep
# them; an upload, an ingest or a PATCH that names one is refused, saying
# what to use instead; the API marks them), brought back, and merged (clips,
# counts and visits moved, the old slug gone).  Every answer the server
# keeps in memory (the index, its full-text and count caches, the
# summaries, whole answers) is asked once before each change, warm, and
# must show the change on the very next request.  Hostile names come back
# escaped; a teacher gets 403; a form without its CSRF token is refused.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/catadmin.sh
#
# Last line: "catadmin: N passed, N failed".  Loopback only; no fixed sleeps.

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite catadmin sqlite3

day() { date -u -d "$1" +%F; }
FROM=$(day "-60 days") TO=$(day "+1 day")

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 &&
	"$BIN" school add river-school "River School" --data "$DATA" >/dev/null 2>&1 &&
	"$BIN" practice add zebra-talk "Zebra talk" --description "Talk in stripes." --data "$DATA" >/dev/null 2>&1 &&
	"$BIN" practice add quokka-talk "Quokka talk" --description "Talk, smiling." --data "$DATA" >/dev/null 2>&1 ||
	fatal "fixture: schools and practices added" "see above"
PASSWORD='correct horse battery'
with_password() { printf '%s\n' "$PASSWORD" | add_user "$1" "$2" "$3" --password-stdin; }
ADMIN=$(with_password "Ada Admin" admin "")
TEACH=$(with_password "Tess Teacher" teacher river-school)
[ -n "$ADMIN" ] && [ -n "$TEACH" ] || fatal "fixture: an admin and a teacher with passwords" "user add failed"

# 301 north [zebra], 302 north [zebra, quokka], 303 river [quokka],
# 304 river [zebra]: zebra 3 clips, quokka 2; merging zebra into quokka
# moves 2 (301, 304), 302 having both already.
sql <<SQL || fatal "fixture clips inserted" "see above"
PRAGMA foreign_keys = ON;
INSERT INTO clips (id, title, school_id, teacher, recorded_on, uploaded_at, consent, status, duration_s)
VALUES
 (301, 'Zebra warm-up', (SELECT id FROM schools WHERE slug = 'north-high'), 'Ana Ruiz', '$(day "-10 days")', '$(day "-10 days")T09:00:00Z', 'on-file', 'ready', 60),
 (302, 'Talk pairs', (SELECT id FROM schools WHERE slug = 'north-high'), 'Ana Ruiz', '$(day "-9 days")', '$(day "-9 days")T09:00:00Z', 'on-file', 'ready', 120),
 (303, 'Quokka gallery', (SELECT id FROM schools WHERE slug = 'river-school'), 'Rosa Diaz', '$(day "-8 days")', '$(day "-8 days")T09:00:00Z', 'on-file', 'ready', 30),
 (304, 'Zebra feedback', (SELECT id FROM schools WHERE slug = 'river-school'), 'Rosa Diaz', '$(day "-7 days")', '$(day "-7 days")T09:00:00Z', 'on-file', 'ready', 90);
INSERT INTO clip_practices (clip_id, practice_id) SELECT c, (SELECT id FROM practices WHERE slug = p) FROM
 (SELECT 301 AS c, 'zebra-talk' AS p UNION ALL SELECT 302, 'zebra-talk' UNION ALL SELECT 302, 'quokka-talk'
  UNION ALL SELECT 303, 'quokka-talk' UNION ALL SELECT 304, 'zebra-talk') AS cp;
SQL

start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# status CURL ARGS...: the status of one request; body and headers as req
# keeps them (so jb and header read them).
status() { curl -s --max-time 60 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }
login() { # login NAME JAR -> status; the session cookie in JAR
	curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -c "$2" \
		--data-urlencode "name=$1" --data-urlencode "password=$PASSWORD" --data-urlencode "next=/" "$URL/login"
}
csrf_of() { grep -o 'name="csrf" value="[^"]*"' "$WORK/body" | head -1 | sed 's/.*value="//; s/"$//'; }
A_JAR=$WORK/admin.jar T_JAR=$WORK/teacher.jar
check_eq "the admin signs in" 303 "$(login "Ada Admin" "$A_JAR")"
check_eq "the teacher signs in" 303 "$(login "Tess Teacher" "$T_JAR")"
check_eq "an admin opens /admin/practices" 200 "$(status -b "$A_JAR" "$URL/admin/practices")"
CSRF=$(csrf_of)
check_match "  which carries the session's CSRF token in its forms" '^[A-Za-z0-9_-]{16,}$' "$CSRF"
status -b "$T_JAR" "$URL/" >/dev/null
T_CSRF=$(csrf_of)
# apost PATH FIELD=VALUE...: an admin's form post (with the CSRF token)
apost() {
	local path=$1 a=() f
	shift
	for f in "$@"; do a+=(--data-urlencode "$f"); done
	status -b "$A_JAR" --data-urlencode "csrf=$CSRF" "${a[@]}" "$URL$path"
}
page() { status -b "$A_JAR" "$URL$1"; } # page PATH: an admin's GET
body() { cat "$WORK/body"; }

# ------------------------------------------------------------ who may
check_eq "no session: /admin/schools sends to the sign-in page" 303 "$(status "$URL/admin/schools")"
check_eq "a teacher gets 403 on /admin/schools" 403 "$(status -b "$T_JAR" "$URL/admin/schools")"
check_match "  a page that says why" 'For admins only.*kindling admins' "$(body)"
check_eq "a teacher gets 403 on /admin/practices" 403 "$(status -b "$T_JAR" "$URL/admin/practices")"
check_eq "a teacher's form post (with their own CSRF token) is 403" 403 \
	"$(status -b "$T_JAR" --data-urlencode "csrf=$T_CSRF" --data-urlencode "slug=sneaky" \
		--data-urlencode "name=Sneaky" "$URL/admin/practices")"
check_eq "a teacher cannot retire a practice" 403 \
	"$(status -b "$T_JAR" --data-urlencode "csrf=$T_CSRF" "$URL/admin/practices/zebra-talk/retire")"
check_eq "a teacher cannot merge" 403 \
	"$(status -b "$T_JAR" --data-urlencode "csrf=$T_CSRF" --data-urlencode "from=zebra-talk" \
		--data-urlencode "into=quokka-talk" --data-urlencode "confirm=yes" "$URL/admin/practices/merge")"
check_eq "a teacher's token is 403 too" 403 \
	"$(status -H "Authorization: Bearer $TEACH" --data-urlencode "slug=sneaky" --data-urlencode "name=S" "$URL/admin/practices")"
check_eq "an admin's form without the CSRF token is refused" 403 \
	"$(status -b "$A_JAR" --data-urlencode "slug=sneaky" --data-urlencode "name=Sneaky" "$URL/admin/practices")"
check_eq "  and with a wrong one" 403 \
	"$(status -b "$A_JAR" --data-urlencode "csrf=x$CSRF" --data-urlencode "slug=sneaky" --data-urlencode "name=Sneaky" "$URL/admin/practices")"
check_eq "  so is a retire or a merge without it" "403 403" \
	"$(status -b "$A_JAR" -X POST "$URL/admin/practices/zebra-talk/retire") $(status -b "$A_JAR" \
		--data-urlencode "from=zebra-talk" --data-urlencode "into=quokka-talk" --data-urlencode "confirm=yes" "$URL/admin/practices/merge")"
check_eq "none of them changed anything" "0 0 3" \
	"$(sql "SELECT count(*) FROM practices WHERE slug = 'sneaky'") $(sql "SELECT count(*) FROM practices WHERE retired_at IS NOT NULL") $(sql "SELECT count(*) FROM clip_practices cp JOIN practices p ON p.id = cp.practice_id WHERE p.slug = 'zebra-talk'")"

# ------------------------------------------------------------ schools
check_eq "an admin opens /admin/schools" 200 "$(page /admin/schools)"
check_match "  a row per school with its clips and people" \
	'id="school-north-high">.*<code>north-high</code>.*<td class="n">2</td><td class="n">1</td><td>kindling</td>' "$(body)"
req GET /api/v1/schools "$ADMIN"
check_jq "(the API's schools, warm)" '[.schools[].slug] == ["north-high", "river-school"]'
HOSTILE='<script>alert("x")</script> & Co'
check_eq "adding a school: 303" 303 "$(apost /admin/schools "slug=lake-view" "name=$HOSTILE" "district=East <b>District</b>")"
check_eq "  back to the list, saying so" "/admin/schools?done=added&slug=lake-view#school-lake-view" "$(header Location)"
page "/admin/schools?done=added&slug=lake-view" >/dev/null
check_match "  which shows it" 'Added: the school' "$(body)"
check_match "  its hostile name escaped" '&lt;script&gt;alert\(&quot;x&quot;\)&lt;/script&gt; &amp; Co' "$(body)"
check_eq "  and never as markup" 0 "$(grep -c '<script>alert' "$WORK/body")"
req GET /api/v1/schools "$ADMIN"
check_jq "the API lists the new school at once" 'any(.schools[]; .slug == "lake-view" and .name == "<script>alert(\"x\")</script> & Co" and .district == "East <b>District</b>")'
check_eq "a bad slug: 400" 400 "$(apost /admin/schools "slug=Bad Slug!" "name=Somewhere Typed" "district=Typed district")"
check_match "  with the reason" 'not a valid school slug' "$(body)"
check_match "  and what was typed, to correct" 'value="Somewhere Typed"' "$(body)"
check_eq "a slug taken: 409" 409 "$(apost /admin/schools "slug=north-high" "name=Again")"
check_match "  saying so" 'already exists' "$(body)"
check_eq "an empty name: 400" 400 "$(apost /admin/schools "slug=no-name" "name=")"
check_eq "renaming a school: 303" 303 "$(apost /admin/schools/north-high/edit "name=North High School" "district=North District")"
req GET /api/v1/schools "$ADMIN"
check_jq "the API shows the new name at once; the slug stays" 'any(.schools[]; .slug == "north-high" and .name == "North High School" and .district == "North District")'
req GET /api/v1/clips/301 "$ADMIN"
check_eq "  and so does a clip of it" "north-high" "$(jb .school)"
check_eq "  and its page" 200 "$(page /schools/north-high)"
check_match "  (its heading)" '<h1>North High School</h1>' "$(body)"
check_eq "a name of spaces: 400" 400 "$(apost /admin/schools/north-high/edit "name=   " "district=Typed again")"
check_match "  the form shown again, open, with the reason and what was typed" \
	'id="school-north-high">.*<details class="edit" open>.*needs some words.*value="Typed again"' "$(body)"
check_eq "an unknown school: 404" 404 "$(apost /admin/schools/nowhere/edit "name=X")"
sql "UPDATE schools SET sourced_id = 'org-9' WHERE slug = 'river-school'"
page /admin/schools >/dev/null
check_match "a school from the roster says a re-import sets its name again" \
	'id="school-river-school">.*<td>Roster</td>.*the next roster import sets them again' "$(body)"

# ------------------------------------------------------------ warm caches
# Every answer asked twice: the second comes from what the server keeps.
warm() {
	local i
	for i in 1 2; do
		req GET /api/v1/practices "$ADMIN"
		req GET "/api/v1/clips?practice=quokka-talk" "$ADMIN"
		req GET "/api/v1/clips?practice=zebra-talk" "$ADMIN"
		req GET "/api/v1/clips?q=walrus" "$ADMIN"
		req GET "/api/v1/schools/north-high/summary?from=$FROM&to=$TO" "$ADMIN"
		req GET "/api/v1/summary?from=$FROM&to=$TO" "$ADMIN"
		page /practices/quokka-talk >/dev/null
		page /practices/zebra-talk >/dev/null
		page /practices >/dev/null
	done
}
warm
check_eq "warm: zebra 3 clips, quokka 2, 'walrus' none" "3 2 0" \
	"$(total "$ADMIN" practice=zebra-talk) $(total "$ADMIN" practice=quokka-talk) $(total "$ADMIN" q=walrus)"
req GET /api/v1/practices "$ADMIN"
check_jq "the API marks every practice in use: retired false" '[.practices[].retired] | all(. == false)'

# ------------------------------------------------------------ practices: add, rename, describe
HOSTILE_P='<img src=x onerror=alert(1)>'
check_eq "adding a practice: 303" 303 "$(apost /admin/practices "slug=hostile-one" "name=$HOSTILE_P" "description=\"'><b>bold</b>")"
check_eq "  back to its row" "/admin/practices?done=added&slug=hostile-one#practice-hostile-one" "$(header Location)"
req GET /api/v1/practices "$ADMIN"
check_jq "the API lists it at once" 'any(.practices[]; .slug == "hostile-one" and .name == "<img src=x onerror=alert(1)>" and .retired == false and .clips == 0)'
page /admin/practices >/dev/null
check_match "its name is escaped on the admin page" '&lt;img src=x onerror=alert\(1\)&gt;' "$(body)"
check_match "  and its description" '&quot;&#39;&gt;&lt;b&gt;bold&lt;/b&gt;|&quot;&#x27;&gt;&lt;b&gt;bold' "$(body)"
check_eq "  never as markup (the page, /practices)" "0 0" \
	"$(grep -c '<img src=x' "$WORK/body") $(page /practices >/dev/null; grep -c '<img src=x' "$WORK/body")"
check_eq "a practice slug taken: 409" 409 "$(apost /admin/practices "slug=zebra-talk" "name=Again" "description=Typed words")"
check_match "  the add form again, with the reason and what was typed" 'id="add-error".*already exists.*Typed words' "$(body)"

check_eq "renaming a practice: 303" 303 "$(apost /admin/practices/zebra-talk/edit "name=Walrus talk" "description=Talk with tusks.")"
req GET /api/v1/practices "$ADMIN"
check_jq "the API has the new name and description at once" 'any(.practices[]; .slug == "zebra-talk" and .name == "Walrus talk" and .description == "Talk with tusks.")'
check_eq "search finds its clips by the new name at once" 3 "$(total "$ADMIN" q=walrus)"
check_eq "its page shows the new name at once" 200 "$(page /practices/zebra-talk)"
check_match "  (its heading)" '<h1>Walrus talk</h1>' "$(body)"
check_eq "an empty name: 400" 400 "$(apost /admin/practices/zebra-talk/edit "name=" "description=Kept typing")"
check_match "  the row's form open again, with what was typed" 'id="practice-zebra-talk">.*open>.*1 to 200.*Kept typing' "$(body)"
check_eq "an unknown practice: 404" 404 "$(apost /admin/practices/no-such/edit "name=X")"

# ------------------------------------------------------------ retire
warm
check_eq "retiring a practice: 303" 303 "$(apost /admin/practices/zebra-talk/retire)"
req GET /api/v1/practices "$ADMIN"
check_jq "the API marks it retired at once, and only it" \
	'([.practices[] | select(.retired) | .slug] == ["zebra-talk"]) and any(.practices[]; .slug == "zebra-talk" and .clips == 3)'
check_eq "its clips keep it: listed by it, at once" 3 "$(total "$ADMIN" practice=zebra-talk)"
req GET /api/v1/clips/301 "$TEACH"
check_jq "  a clip still shows it" '.practices == ["zebra-talk"]'
check_eq "  its page still lists them" 200 "$(page /practices/zebra-talk)"
check_match "  and says it is retired" 'Retired on [0-9]{4}-[0-9]{2}-[0-9]{2}' "$(body)"
check_match "  with its 3 clips" '<p class="count">3 clips</p>' "$(body)"
page /practices >/dev/null
check_match "/practices lists it apart, under Retired practices" 'Retired practices</h2>.*/practices/zebra-talk' "$(body)"
check_eq "  and not among those in use" 0 "$(sed 's/Retired practices.*//' "$WORK/body" | grep -c '/practices/zebra-talk')"
page / >/dev/null
check_eq "the home page's list leaves it out" 0 "$(grep -c 'href="/practices/zebra-talk"' "$WORK/body")"
page /clips/303 >/dev/null
check_eq "the edit form of a clip without it does not offer it" 0 "$(grep -c 'value="zebra-talk"' "$WORK/body")"
page /clips/301 >/dev/null
check_eq "  that of a clip with it keeps it, checked" 1 "$(grep -c 'value="zebra-talk" checked' "$WORK/body")"
page /admin/practices >/dev/null
check_match "the admin page says since when, with the form to bring it back" \
	'id="practice-zebra-talk">.*Retired</span> since [0-9-]{10}.*/admin/practices/zebra-talk/unretire' "$(body)"

b64() { printf '%s' "$1" | base64 -w0; }
TUS=(-H "Tus-Resumable: 1.0.0" -H "Upload-Length: 100")
req POST /api/v1/uploads "$ADMIN" "${TUS[@]}" -H "Upload-Metadata: filename $(b64 a.mp4),school $(b64 north-high),practices $(b64 quokka-talk,zebra-talk),title $(b64 New)"
check_eq "an upload naming it is refused: 400" 400 "$STATUS"
check_match "  saying it was retired and what to use instead" \
	"zebra-talk.*retired on [0-9-]{10}.*use a practice in use instead: .*quokka-talk" "$(body)"
check_eq "  the list it offers leaves it out" 0 "$(sed 's/.*instead//' "$WORK/body" | grep -c 'zebra-talk')"
printf 'not a video at all' >"$WORK/x.mp4"
run_cli ingest --data "$DATA" --school north-high --practice zebra-talk "$WORK/x.mp4"
check_eq "an ingest naming it fails" 1 "$RC"
check_match "  saying why" "zebra-talk.*retired" "$ERR"
patch 303 "$ADMIN" '{"practices": ["quokka-talk", "zebra-talk"]}'
check_eq "a PATCH giving it to another clip: 400" 400 "$STATUS"
check_match "  saying why" "retired" "$(jb .error)"
patch 301 "$ADMIN" '{"title": "Zebra warm-up, edited", "practices": ["zebra-talk"]}'
check_eq "a PATCH of a clip that has it may keep it: 200" 200 "$STATUS"
check_eq "nothing was filed under it" "3 4" \
	"$(sql "SELECT count(*) FROM clip_practices cp JOIN practices p ON p.id = cp.practice_id WHERE p.slug = 'zebra-talk'") $(sql "SELECT count(*) FROM clips")"
check_eq "retiring it again changes nothing: 303" 303 "$(apost /admin/practices/zebra-talk/retire)"

# ------------------------------------------------------------ un-retire
check_eq "bringing it back: 303" 303 "$(apost /admin/practices/zebra-talk/unretire)"
req GET /api/v1/practices "$ADMIN"
check_jq "the API marks it in use at once" 'any(.practices[]; .slug == "zebra-talk" and .retired == false)'
req POST /api/v1/uploads "$ADMIN" "${TUS[@]}" -H "Upload-Metadata: filename $(b64 a.mp4),school $(b64 north-high),practices $(b64 zebra-talk),title $(b64 New)"
check_eq "an upload naming it is taken again: 201" 201 "$STATUS"
upload=$(header Location)
[ -n "$upload" ] && req DELETE "${upload#"$URL"}" "$ADMIN" -H "Tus-Resumable: 1.0.0"
page /practices >/dev/null
check_eq "/practices lists nothing retired" 0 "$(grep -c 'Retired practices' "$WORK/body")"

# ------------------------------------------------------------ merge
req_json POST /api/v1/visits "$TEACH" "{\"clip_id\": 301, \"dates\": [\"$(day "+5 days")\"], \"note\": \"zebra\"}"
check_eq "(a visit about clip 301, whose practice is zebra talk)" "201 zebra-talk" "$STATUS $(jb .practice)"
VISIT=$(jb .id)
req POST /api/v1/clips/301/views "$TEACH"
check_eq "(a view of it from another school)" 204 "$STATUS"
warm
req GET "/api/v1/schools/north-high/summary?from=$FROM&to=$TO" "$ADMIN"
check_jq "warm: north-high's summary counts zebra 2, quokka 1" \
	'(.by_practice | map({(.practice): .clips}) | add) == {"zebra-talk": 2, "quokka-talk": 1}'
check_eq "  its page counts 2 quokka clips" 200 "$(page /practices/quokka-talk)"
check_match "  (the count)" '<p class="count">2 clips</p>' "$(body)"

check_eq "reviewing a merge: 200, a page that asks" 200 \
	"$(apost /admin/practices/merge "from=zebra-talk" "into=quokka-talk")"
check_eq "  with what would move: clips, moved, had both, visits" "3 2 1 1" \
	"$(for k in clips moved already visits; do sed -n "s/.*id=\"plan-$k\">\([0-9]*\)<.*/\1/p" "$WORK/body"; done | tr '\n' ' ' | sed 's/ $//')"
check_match "  and a form that confirms it" 'name="confirm" value="yes"' "$(body)"
check_eq "  a review changes nothing" 3 "$(total "$ADMIN" practice=zebra-talk)"
check_eq "merging a practice into itself: 400" 400 "$(apost /admin/practices/merge "from=zebra-talk" "into=zebra-talk" "confirm=yes")"
check_match "  the merge form again with the reason" 'id="merge-error".*itself' "$(body)"
check_eq "merging an unknown practice: 404" 404 "$(apost /admin/practices/merge "from=no-such" "into=zebra-talk" "confirm=yes")"
check_eq "merging without choosing: 400" 400 "$(apost /admin/practices/merge "from=" "into=")"

check_eq "merging: 303" 303 "$(apost /admin/practices/merge "from=zebra-talk" "into=quokka-talk" "confirm=yes")"
LOC=$(header Location)
check_eq "  to the list, with what moved" "/admin/practices?merged=zebra-talk&into=quokka-talk&moved=2&already=1&visits=1#merged" "$LOC"
page "${LOC%#*}" >/dev/null
check_match "  which says how many clips moved" "Merged &#39;zebra-talk&#39; into &#39;quokka-talk&#39;: 2 clips moved|Merged &#x27;zebra-talk&#x27; into &#x27;quokka-talk&#x27;: 2 clips moved" "$(body)"
check_eq "  and has no row for the old one" 0 "$(grep -c 'id="practice-zebra-talk"' "$WORK/body")"
check_eq "the next list by the new one counts every clip once" 4 "$(total "$ADMIN" practice=quokka-talk)"
req GET "/api/v1/clips?practice=zebra-talk" "$ADMIN"
check_status "the old slug is gone from the API (as any unknown practice)" 400 404
check_match "  saying so, with the practices there are" "unknown practice 'zebra-talk'; known practices: .*quokka-talk" "$(jb .error)"
check_eq "  and its page: 404" 404 "$(page /practices/zebra-talk)"
check_eq "search by its old name finds nothing" 0 "$(total "$ADMIN" q=walrus)"
req GET /api/v1/practices "$ADMIN"
check_jq "the API's practices at once: the old one gone, the new one with 4 clips" \
	'(any(.practices[]; .slug == "zebra-talk") | not) and any(.practices[]; .slug == "quokka-talk" and .clips == 4)'
req GET /api/v1/clips/302 "$ADMIN"
check_jq "a clip that had both has the new one once" '.practices == ["quokka-talk"]'
check_eq "no clip has a practice twice; none has none" "0 0" \
	"$(sql "SELECT count(*) FROM (SELECT clip_id, practice_id FROM clip_practices GROUP BY clip_id, practice_id HAVING count(*) > 1) AS d") $(sql "SELECT count(*) FROM clips c WHERE NOT EXISTS (SELECT 1 FROM clip_practices cp WHERE cp.clip_id = c.id)")"
req GET "/api/v1/visits/$VISIT" "$ADMIN"
check_eq "the visit keeps a practice: the new one" quokka-talk "$(jb .practice)"
req GET "/api/v1/schools/north-high/summary?from=$FROM&to=$TO" "$ADMIN"
check_jq "the summary at once: quokka 2, no zebra" \
	'(.by_practice | map({(.practice): .clips}) | add) == {"quokka-talk": 2}'
req GET "/api/v1/summary?from=$FROM&to=$TO" "$ADMIN"
check_eq "the district summary names it no more" 0 "$(grep -c 'zebra-talk' "$WORK/body")"
check_eq "the new one's page counts 4 clips at once" 200 "$(page /practices/quokka-talk)"
check_match "  (the count)" '<p class="count">4 clips</p>' "$(body)"
check_eq "no view count is left for the old one" 0 \
	"$(sql "SELECT count(*) FROM view_practice_counts WHERE practice_id NOT IN (SELECT id FROM practices)")"

# ------------------------------------------------------------ the same at the shell
# (`kindling school set`, `kindling practice rename|describe|retire|unretire|merge`:
# cli_catalogue_admin.c, once main.c sends "school" and "practice" there)
# api_holds PATH FILTER: FILTER holds on the admin's GET PATH now (polled on
# PostgreSQL, where another process's commit reaches the server a moment later).
api_holds() {
	req GET "$1" "$ADMIN"
	[ "$(jq -c "[ $2 ] | all" "$WORK/body" 2>/dev/null)" == true ]
}
# holds NAME PATH FILTER: a check of api_holds.
holds() {
	local name=$1
	shift
	if soon api_holds "$@"; then ok "$name"; else not_ok "$name" "$(head -c 300 "$WORK/body")"; fi
}
if "$BIN" practice --help 2>/dev/null | grep -q 'practice merge'; then
	run_cli school set river-school --district "West <District>" --data "$DATA"
	check_eq "school set: 0" 0 "$RC"
	holds "  the server shows it at once" /api/v1/schools \
		'any(.schools[]; .slug == "river-school" and .district == "West <District>" and .name == "River School")'
	run_cli school set river-school --data "$DATA"
	check_eq "school set with nothing to set: 2" 2 "$RC"
	run_cli practice rename hostile-one "Renamed one" --data "$DATA"
	check_eq "practice rename: 0" 0 "$RC"
	run_cli practice describe hostile-one "Described at the shell." --data "$DATA"
	check_eq "practice describe: 0" 0 "$RC"
	holds "  the server shows both at once" /api/v1/practices \
		'any(.practices[]; .slug == "hostile-one" and .name == "Renamed one" and .description == "Described at the shell.")'
	run_cli practice retire hostile-one --data "$DATA"
	check_eq "practice retire: 0" 0 "$RC"
	holds "  retired at once" /api/v1/practices \
		'any(.practices[]; .slug == "hostile-one" and .retired)'
	run_cli practice unretire hostile-one --data "$DATA"
	check_eq "practice unretire: 0" 0 "$RC"
	run_cli practice merge hostile-one quokka-talk --dry-run --data "$DATA"
	check_match "practice merge --dry-run says what would move, and changes nothing" \
		'0 clips move .*nothing changed.* 1$' "$OUT $(sql "SELECT count(*) FROM practices WHERE slug = 'hostile-one'")"
	run_cli practice merge hostile-one quokka-talk --data "$DATA"
	check_eq "practice merge: 0" 0 "$RC"
	holds "  gone at once" /api/v1/practices \
		'(any(.practices[]; .slug == "hostile-one") | not)'
	run_cli practice merge hostile-one quokka-talk --data "$DATA"
	check_eq "merging it again: 1" 1 "$RC"
	check_match "  saying why" "no practice 'hostile-one'" "$ERR"
	run_cli practice rename quokka-talk --data "$DATA"
	check_eq "a verb without its arguments: 2" 2 "$RC"
	run_cli practice add cli-added "Added at the shell" --data "$DATA"
	check_eq "practice add still works: 0" 0 "$RC"
else
	not_ok "kindling practice --help lists the verbs (rename, describe, retire, merge)" \
		"$("$BIN" practice --help 2>&1 | head -c 300)"
fi

check_server_log
finish
