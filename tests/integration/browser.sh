#!/usr/bin/env bash
# tests/integration/browser.sh - the catalogue's pages: sign-in, CSRF,
# throttling and assets with curl, then a real browser (Debian's Chromium
# driven by playwright-core, tests/browser/run.mjs) signing in, browsing,
# playing, scrubbing, leaving a note, searching and signing out.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/browser.sh
#
# Clips are made here with the ffmpeg tool and go in with `kindling ingest
# --wait`.  Screenshots of each main page at phone and desktop width land
# in build/screenshots/ (or KINDLING_SHOTS).  Then tests/browser/a11y.mjs
# (issue 15): axe-core on every page at phone and desktop width, a
# keyboard-only walk, the player's accessible names.  The checks run.mjs and
# a11y.mjs print count with this script's.  Last line: "browser: N passed,
# N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite browser ffmpeg sqlite3 node /usr/bin/chromium
export KINDLING_NODE_MODULES=${KINDLING_NODE_MODULES:-$ROOT/tests/node_modules}
# installed, and of a version the Node here can run (else it fails in odd ways)
why=$(. "$HERE/../node_tools.sh" && node_tools_check browser playwright-core) ||
	fatal "the Node here can run playwright-core" "${why:-tests/node_tools.sh failed}"

M=$WORK/media
mkdir -p "$M"
# make NAME PATTERN FREQUENCY: a 6 s H.264/AAC clip, different for each name
make_clip() {
	ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=6" -f lavfi -i "sine=frequency=$3:duration=6" \
		-vf "hue=h=$2" -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -c:a aac -shortest "$M/$1.mp4"
}
make_clip a 0 440 && make_clip b 90 550 && make_clip c 180 660 || fatal "ffmpeg makes test clips" "see above"

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null
"$BIN" school add south-middle "South Middle" --data "$DATA" >/dev/null
PASSWORD='correct horse battery'
# with_password NAME ROLE SCHOOL: a user who can sign in to the pages; prints the token
with_password() { printf '%s\n' "$PASSWORD" | add_user "$1" "$2" "$3" --password-stdin; }
CORA_TOKEN=$(with_password "Cora Coach" coach north-high)
[ -n "$CORA_TOKEN" ] || fatal "a coach with a password" "user add failed"
with_password "Tess Teacher" teacher south-middle >/dev/null
with_password "Vic Visitor" teacher south-middle >/dev/null
with_password "Nora Principal" principal north-high >/dev/null
# issue 15: who a11y.mjs walks the pages with the keyboard as (no visit asked yet)
with_password "Kim Keys" teacher south-middle >/dev/null
HOSTILE_TITLE='<img src=x onerror=alert(1)>'
ingest() { "$BIN" ingest --data "$DATA" --wait --json "$@" 2>>"$WORK/ingest.err" | jq -r 'select(.status == "ready") | .id'; }
A=$(ingest --school north-high --practice station-rotation --title "Station rotation in maths" \
	--teacher "Ana Ruiz" --grade 3-5 --subject math --tag timer "$M/a.mp4")
H=$(ingest --school south-middle --practice station-rotation --title "$HOSTILE_TITLE" \
	--teacher "Ben Okafor" "$M/b.mp4")
C=$(ingest --school south-middle --practice differentiation --title "Choice boards in science" \
	--teacher "Marisol Vantongeren" --subject science "$M/c.mp4")
[ -n "$A" ] && [ -n "$H" ] && [ -n "$C" ] || fatal "three clips ingested and ready" "$(tail -5 "$WORK/ingest.err")"
ok "three clips ingested and ready"

start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# ------------------------------------------------------------ curl checks
# status CURL ARGS...: prints the status of one request (cookies, forms and
# full URLs vary too much here for req); body and headers as req keeps them,
# so that header and jb read them.
status() { curl -s --max-time 60 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }
check_eq "a page without a session redirects to the sign-in page" 303 "$(status "$URL/practices?school=north-high")"
check_eq "  with where to go next" "/login?next=/practices%3Fschool%3Dnorth-high" "$(header Location)"
check_eq "the API without a session stays 401" 401 "$(status "$URL/api/v1/clips")"
check_eq "media without a session is 401" 401 "$(status "$URL/media/clips/$A/poster.jpg")"
check_eq "the sign-in page needs no session" 200 "$(status "$URL/login")"
check_match "  and is HTML with a language" '<html lang="en">' "$(cat "$WORK/body")"
css=$(grep -o '/assets/v[0-9a-f]*/style.css' "$WORK/body" | head -1)
check_eq "assets are served by versioned URL" 200 "$(status "$URL$css")"
check_eq "  for a year, immutable" "public, max-age=31536000, immutable" "$(header Cache-Control)"
check_eq "  with their type" "text/css; charset=utf-8" "$(header Content-Type)"
check_eq "an unknown asset name is 404" 404 "$(status "$URL/assets/v1/..%2Fcatalogue.db")"
check_eq "a sign-in from another site is refused" 403 "$(status -H 'Origin: http://evil.example' \
	--data-urlencode "name=Cora Coach" --data-urlencode "password=$PASSWORD" "$URL/login")"

login() { # login NAME PASSWORD -> status; cookie in $WORK/jar
	curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -c "$WORK/jar" \
		--data-urlencode "name=$1" --data-urlencode "password=$2" --data-urlencode "next=/" "$URL/login"
}
check_eq "signing in with the right password redirects" 303 "$(login "Cora Coach" "$PASSWORD")"
check_match "  and sets an HttpOnly, SameSite=Lax session cookie for 12 h" \
	'^kd_session=kd_[0-9]+_[A-Za-z0-9_-]+; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax$' "$(header Set-Cookie)"
check_eq "with the cookie, a page is served" 200 "$(status -b "$WORK/jar" "$URL/clips/$A")"
check_eq "  not cached" "no-store" "$(header Cache-Control)"
CSRF=$(grep -o 'name="csrf" value="[^"]*"' "$WORK/body" | head -1 | sed 's/.*value="//; s/"$//')
check_match "  and its forms carry a CSRF token" '^[A-Za-z0-9_-]{20,}$' "$CSRF"
check_eq "media accepts the session cookie" 200 "$(status -b "$WORK/jar" "$URL/media/clips/$A/poster.jpg")"
check_match "  and stays private" '^private' "$(header Cache-Control)"
check_eq "a note without the CSRF token is refused" 403 "$(status -b "$WORK/jar" --data-urlencode "body=hi" "$URL/clips/$A/comments")"
check_eq "  with a wrong one too" 403 "$(status -b "$WORK/jar" --data-urlencode "body=hi" --data-urlencode "csrf=x$CSRF" "$URL/clips/$A/comments")"
check_eq "with the token the note is added" 303 "$(status -b "$WORK/jar" --data-urlencode "body=From curl" --data-urlencode "csrf=$CSRF" "$URL/clips/$A/comments")"
check_eq "an edit without the token is refused" 403 "$(status -b "$WORK/jar" --data-urlencode "title=Hijacked" --data-urlencode "practices=differentiation" "$URL/clips/$A/edit")"
check_eq "a coach edits a clip of their school" 303 "$(status -b "$WORK/jar" --data-urlencode "csrf=$CSRF" \
	--data-urlencode "title=Station rotation in maths" --data-urlencode "practices=station-rotation" \
	--data-urlencode "practices=flexible-grouping" --data-urlencode "tags=timer, groups" "$URL/clips/$A/edit")"
status -b "$WORK/jar" "$URL/api/v1/clips/$A" >/dev/null
check_eq "  practices and tags are saved" "flexible-grouping,station-rotation groups,timer" \
	"$(jq -r '"\(.practices | join(",")) \(.tags | join(","))"' "$WORK/body")"
META=$(status -b "$WORK/jar" "$URL/" >/dev/null; grep -o '<meta name="csrf-token" content="[^"]*"' "$WORK/body" | sed 's/.*content="//; s/"$//')
check_eq "pages give scripts the CSRF token in <meta name=csrf-token>" "$CSRF" "$META"
check_eq "a cookie API POST without X-CSRF-Token is refused" 403 "$(status -b "$WORK/jar" -X POST "$URL/api/v1/clips/$C/views")"
check_eq "  with a wrong token too" 403 "$(status -b "$WORK/jar" -X POST -H "X-CSRF-Token: x$CSRF" "$URL/api/v1/clips/$C/views")"
check_eq "  with the token it is accepted" 204 "$(status -b "$WORK/jar" -X POST -H "X-CSRF-Token: $CSRF" "$URL/api/v1/clips/$C/views")"
check_eq "a cookie API PATCH without the token is refused" 403 "$(status -b "$WORK/jar" -X PATCH \
	-H 'Content-Type: application/json' --data '{"title":"Hijacked"}' "$URL/api/v1/clips/$A")"
check_eq "a cookie API DELETE without the token is refused" 403 "$(status -b "$WORK/jar" -X DELETE "$URL/api/v1/clips/$A")"
check_eq "a cookie visit request without the token is refused" 403 "$(status -b "$WORK/jar" \
	-H 'Content-Type: application/json' --data "{\"clip_id\":$C,\"dates\":[\"2031-03-04\"]}" "$URL/api/v1/visits")"
check_eq "a cookie tus upload without the token is refused" 403 "$(status -b "$WORK/jar" -X POST \
	-H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 10' "$URL/api/v1/uploads")"
check_eq "a cookie API GET needs no token" 200 "$(status -b "$WORK/jar" "$URL/api/v1/clips/$A")"
check_eq "  nor does a bearer-token POST" 204 "$(status -H "Authorization: Bearer $CORA_TOKEN" -X POST "$URL/api/v1/clips/$C/views")"
check_eq "  but not a clip of another school" 403 "$(status -b "$WORK/jar" --data-urlencode "csrf=$CSRF" \
	--data-urlencode "title=Mine now" --data-urlencode "practices=differentiation" "$URL/clips/$C/edit")"

# A teacher at south-middle: no edit form, and a private clip of north-high stays hidden.
login "Tess Teacher" "$PASSWORD" >/dev/null
status -b "$WORK/jar" "$URL/clips/$A" >/dev/null
check_eq "a teacher sees no edit form" 0 "$(grep -c 'Edit this clip' "$WORK/body")"
# (a fixture change straight in the catalogue, as lib.sh fixture_catalogue does)
sql "UPDATE clips SET visibility = 'school' WHERE id = $A"
hidden_from_them() { [ "$(status -b "$WORK/jar" "$URL/clips/$A")" == 404 ]; }
soon hidden_from_them
check_eq "a school-only clip of another school is not found for them" 404 "$(status -b "$WORK/jar" "$URL/clips/$A")"
check_eq "  nor its video" 404 "$(status -b "$WORK/jar" "$URL/media/clips/$A/video.mp4")"
sql "UPDATE clips SET visibility = 'district' WHERE id = $A" 2>/dev/null
status -b "$WORK/jar" "$URL/" >/dev/null
CSRF_T=$(grep -o 'name="csrf" value="[^"]*"' "$WORK/body" | head -1 | sed 's/.*value="//; s/"$//')
check_eq "signing out ends the session" 303 "$(status -b "$WORK/jar" --data-urlencode "csrf=$CSRF_T" "$URL/logout")"
check_eq "  the old cookie no longer works" 401 "$(status -b "$WORK/jar" "$URL/api/v1/me")"

# Guessing: after 5 failures the name must wait (5 s, then longer), answered
# at once with 429.
codes=""
for _ in 1 2 3 4 5 6 7; do codes="$codes $(login "Tess Teacher" "wrong password")"; done
check_eq "failed sign-ins are answered 401, then 429" " 401 401 401 401 401 401 429" "$codes"
check_match "  with Retry-After" '^[0-9]+$' "$(header Retry-After)"
check_eq "  even with the right password while locked" 429 "$(login "Tess Teacher" "$PASSWORD")"

# The district page: admins only (a bearer token works for pages too).
ADMIN_TOKEN=$(with_password "Ada Admin" admin "")   # issue 15: a11y.mjs signs in as them
check_eq "the district page renders for an admin" 200 "$(status -H "Authorization: Bearer $ADMIN_TOKEN" "$URL/district?from=2000-01-01")"
check_match "  with SVG charts and the practice x school grid" '<svg.*grid-table' "$(tr -d '\n' <"$WORK/body")"
check_eq "  and is 403 for a coach" 403 "$(status -H "Authorization: Bearer $CORA_TOKEN" "$URL/district")"
check_eq "a coach gets 403 on a school's summary page" 403 "$(status -H "Authorization: Bearer $CORA_TOKEN" "$URL/schools/north-high/summary")"
check_eq "a bad range on the summary page is 400" 400 "$(status -H "Authorization: Bearer $ADMIN_TOKEN" "$URL/schools/north-high/summary?from=2026-13-01")"

# ------------------------------------------------------------ the browser
# (KINDLING_SHOTS: elsewhere, e.g. when build/ belongs to another run)
SHOTS=${KINDLING_SHOTS:-$ROOT/build/screenshots}
KD_URL=$URL KD_USER="Cora Coach" KD_PASSWORD=$PASSWORD KD_CLIP_A=$A KD_CLIP_HOSTILE=$H \
	KD_HOSTILE_TITLE=$HOSTILE_TITLE KD_TEACHER_WORD=Vantongeren KD_SHOTS=$SHOTS \
	KD_VISITOR="Vic Visitor" KD_HOST_PRINCIPAL="Nora Principal" KD_HOST_SCHOOL=north-high \
	KD_VISIT_DAY1=2030-05-14 KD_VISIT_DAY2=2030-05-21 \
	timeout 180 node "$ROOT/tests/browser/run.mjs" >"$WORK/browser.out" 2>&1
rc=$?
cat "$WORK/browser.out"
ANA_TOKEN=$(add_user "Ana Ruiz" teacher north-high)
check_eq "the featured teacher's /visits page" 200 "$(status -H "Authorization: Bearer $ANA_TOKEN" "$URL/visits")"
check_match "  lists the visits to their classroom" 'Visits to my classroom.*Vic Visitor' "$(tr -d '\n' <"$WORK/body")"
check_eq "playing a clip for a few seconds recorded a view (catalogue)" 1 \
	"$(sql "SELECT count(*) FROM views v JOIN users u ON u.id = v.user_id WHERE v.clip_id = $A AND u.name = 'Cora Coach'")"
PASS=$((PASS + $(grep -c '^ok - ' "$WORK/browser.out")))
FAIL=$((FAIL + $(grep -c '^FAIL - ' "$WORK/browser.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL - ' "$WORK/browser.out"; then
	not_ok "the browser run finished" "exit status $rc"
fi

# ------------------------------------------------- issue 15: accessibility
# axe-core on every page, the keyboard walk and the player's names
# (tests/browser/a11y.mjs), on the data above, with moments and captions on
# clip A (added only now: run.mjs counts the practice page's cards).
req_json POST "/api/v1/clips/$A/moments" "$CORA_TOKEN" \
	'{"start_s": 1, "end_s": 3, "practice": "station-rotation", "title": "Groups rotate"}'
check_eq "a moment for the a11y pages" 201 "$STATUS"
req_json POST "/api/v1/clips/$A/moments" "$CORA_TOKEN" \
	'{"start_s": 3.5, "end_s": 5.5, "practice": "differentiation", "title": "The timer <rings>"}'
check_eq "  and a second" 201 "$STATUS"
printf 'WEBVTT\n\n00:00:00.500 --> 00:00:02.500\nNow move to the next station.\n\n00:00:03.000 --> 00:00:05.000\nTimers up, groups rotate.\n' >"$WORK/a.vtt"
req PUT "/api/v1/clips/$A/captions" "$CORA_TOKEN" -H 'Content-Type: text/vtt' --data-binary @"$WORK/a.vtt"
check_eq "captions for the a11y pages" 200 "$STATUS"
"$BIN" routes >"$WORK/routes" || not_ok "kindling routes lists the pages" "exit status $?"
KD_URL=$URL KD_PASSWORD=$PASSWORD KD_ROUTES=$WORK/routes KD_CLIP_A=$A KD_CLIP_HOSTILE=$H \
	KD_USER="Cora Coach" KD_VISITOR="Vic Visitor" KD_HOST_PRINCIPAL="Nora Principal" \
	KD_HOST_SCHOOL=north-high KD_ADMIN="Ada Admin" KD_KEYBOARD_USER="Kim Keys" \
	KD_VISIT_DAY1=2030-06-11 timeout 400 node "$ROOT/tests/browser/a11y.mjs" >"$WORK/a11y.out" 2>&1
rc=$?
cat "$WORK/a11y.out"
PASS=$((PASS + $(grep -c '^ok - ' "$WORK/a11y.out")))
FAIL=$((FAIL + $(grep -c '^FAIL - ' "$WORK/a11y.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL - ' "$WORK/a11y.out"; then
	not_ok "the a11y run finished" "exit status $rc"
fi
finish
