#!/usr/bin/env bash
# tests/integration/moment_pages.sh - moments in the browser (issue 15,
# src/web/pages_moments*.c): the clip page's chapters track and its WebVTT,
# the chapter bar and the list of moments, exactly as written; the add,
# change and remove forms driven with curl as a browser session (cookie and
# CSRF token), bad input and who may use them; ?t= marking the moment it
# falls in; the practice page leading with its moments across schools, each
# tile the storyboard's own for the moment's start (checked against the
# storyboard WebVTT the clip's processing wrote).  Then Chromium
# (tests/browser/moments.mjs): a chapter clicked or pressed seeks there, ?t=
# starts there, and a screenshot of the practice page.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/moment_pages.sh
#
# Clips are made here with the ffmpeg tool and go in with `kindling ingest
# --wait`.  Last line: "moment_pages: N passed, N failed".  Loopback only;
# every wait polls.

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite moment_pages ffmpeg node /usr/bin/chromium
export KINDLING_NODE_MODULES=${KINDLING_NODE_MODULES:-$ROOT/tests/node_modules}

# ------------------------------------------------------------------ the fixture
M=$WORK/media
mkdir -p "$M"
# A: 20 s, 4:3 (storyboard: a tile a second, 10 a row, 160 x 120);
# B: 250 s, 16:9 (a tile every 3 s, 160 x 90); C: 4 s.  Video only, a whole
# number of frames, so that each length is exact.
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=20" -c:v libx264 -preset veryfast -g 25 \
	-pix_fmt yuv420p "$M/a.mp4" &&
	ff -f lavfi -i "testsrc2=size=320x180:rate=10:duration=250" -vf "hue=h=90" -c:v libx264 \
		-preset veryfast -g 50 -pix_fmt yuv420p "$M/b.mp4" &&
	ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=4" -vf "hue=h=200" -c:v libx264 \
		-preset veryfast -g 25 -pix_fmt yuv420p "$M/c.mp4" ||
	fatal "ffmpeg makes the test clips" "see above"

{ "$BIN" school add north-high "North High" --data "$DATA" &&
	"$BIN" school add south-middle "South Middle" --data "$DATA"; } >/dev/null 2>"$WORK/fixture.err" ||
	fatal "fixture: two schools" "$(tail -c 300 "$WORK/fixture.err")"
PASSWORD='a long moments password'
with_password() { printf '%s\n' "$PASSWORD" | add_user "$1" "$2" "$3" --password-stdin; }
CORA=$(with_password "Cora Coach" coach north-high)       # edits clips of north-high
ANA=$(with_password "Ana Ruiz" teacher north-high)        # the teacher clip A shows
TESS=$(with_password "Tess Teacher" teacher south-middle) # sees clip A, edits nothing of it
ADMIN=$(with_password "Ada Admin" admin "")
for t in "$CORA" "$ANA" "$TESS" "$ADMIN"; do
	[[ $t =~ ^kd_[0-9]+_ ]] || fatal "fixture: user add prints a token" "got '$t'"
done
ingest() { "$BIN" ingest --data "$DATA" --wait --json "$@" 2>>"$WORK/ingest.err" | jq -r 'select(.status == "ready") | .id'; }
A=$(ingest --school north-high --practice station-rotation --title "Station rotation in maths" \
	--teacher "Ana Ruiz" "$M/a.mp4")
B=$(ingest --school south-middle --practice station-rotation --title "Rotation <b>in</b> science" \
	--teacher "Ben Okafor" "$M/b.mp4")
C=$(ingest --school south-middle --practice differentiation --title "Choice boards" "$M/c.mp4")
[ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] || fatal "three clips ingested and ready" "$(tail -5 "$WORK/ingest.err")"
ok "three clips ingested and ready ($A, $B, $C)"
# C: seen only at its own school
sql "UPDATE clips SET visibility = 'school' WHERE id = $C"

start_server "$DATA" || fatal "the server starts" "$(log_tail)"

req GET "/api/v1/clips/$A" "$ADMIN"
check_jq "clip A is 20 s long, 320 x 240 (the exact places below follow from it)" \
	'.duration_s == 20 and .width == 320 and .height == 240'
req GET "/api/v1/clips/$B" "$ADMIN"
check_jq "clip B is 250 s long, 320 x 180" \
	'.duration_s == 250 and .width == 320 and .height == 180'

# ------------------------------------------------------------------ sessions
# sign_in NAME JAR: a browser session kept in JAR; prints its CSRF token.
sign_in() {
	curl -s -o /dev/null -c "$2" --data-urlencode "name=$1" --data-urlencode "password=$PASSWORD" \
		--data-urlencode "next=/" "$URL/login" &&
		curl -s -b "$2" "$URL/" | sed -n 's/.*<meta name="csrf-token" content="\([^"]*\)".*/\1/p' | head -n 1
}
J_CORA=$WORK/cora.jar J_ANA=$WORK/ana.jar J_TESS=$WORK/tess.jar J_ADMIN=$WORK/admin.jar
X_CORA=$(sign_in "Cora Coach" "$J_CORA")
X_ANA=$(sign_in "Ana Ruiz" "$J_ANA")
X_TESS=$(sign_in "Tess Teacher" "$J_TESS")
X_ADMIN=$(sign_in "Ada Admin" "$J_ADMIN")
for x in "$X_CORA" "$X_ANA" "$X_TESS" "$X_ADMIN"; do
	[[ $x =~ ^[A-Za-z0-9_-]{20,}$ ]] || fatal "fixture: four browser sessions with CSRF tokens" "got '$x'"
done
page() { req GET "$2" "" -b "$1"; }
post() { local jar=$1 path=$2; shift 2; req POST "$path" "" -b "$jar" "$@"; }
has() { grep -Fq -- "$1" "$WORK/body"; }
hasnt() { ! grep -Fq -- "$1" "$WORK/body"; }
# moment JAR CSRF PATH START END PRACTICE TITLE: a moment form as that browser.
moment() {
	post "$1" "$3" --data-urlencode "csrf=$2" --data-urlencode "start=$4" --data-urlencode "end=$5" \
		--data-urlencode "practice=$6" --data-urlencode "title=$7"
}
new_id() { header Location | sed -n 's/.*#moment-\([0-9]*\)$/\1/p'; }

# ------------------------------------------------------------------ before any moment
page "$J_TESS" "/clips/$A"
check_eq "a clip without moments, to one who may not add any: 200" 200 "$STATUS"
check "  no Moments section, no chapters track" bash -c '! grep -Eq "id=\"moments\"|kind=\"chapters\"" "$1"' _ "$WORK/body"
page "$J_CORA" "/clips/$A"
check "an editor sees the Moments section, saying there are none yet" \
	has '<section id="moments" class="moments" aria-labelledby="moments-h"><h2 id="moments-h">Moments</h2><p class="empty">No moments yet'
check "  with its stylesheet and script" grep -Eq '<link rel="stylesheet" href="/assets/v[0-9a-f]+/moments\.css">.*<script defer src="/assets/v[0-9a-f]+/moments\.js"></script>' "$WORK/body"
check "  and the form to add one, each field labelled, the clip's practice chosen" \
	has "<details class=\"moment-add\"><summary>Add a moment</summary><form class=\"moment-form\" method=\"post\" action=\"/clips/$A/moments\"><input type=\"hidden\" name=\"csrf\" value=\"$X_CORA\"><div class=\"moment-field\"><label for=\"m-new-start\">Start <span class=\"hint\">(m:ss or seconds)</span></label><input id=\"m-new-start\" name=\"start\" required maxlength=\"16\" value=\"\" data-now></div><div class=\"moment-field\"><label for=\"m-new-end\">End <span class=\"hint\">(m:ss or seconds)</span></label><input id=\"m-new-end\" name=\"end\" required maxlength=\"16\" value=\"\" data-now></div><div class=\"moment-field\"><label for=\"m-new-practice\">Practice</label><select id=\"m-new-practice\" name=\"practice\" required>"
check "  station-rotation chosen" has '<option value="station-rotation" selected>Station rotation</option>'
check "  the title field" has '<div class="moment-field"><label for="m-new-title">Title</label><input id="m-new-title" name="title" required maxlength="200" value=""></div><button type="submit">Add moment</button></form></details>'
check "  no inline script or style (the CSP allows neither)" test "$(grep -Eoc '<script>|<script [^>]*>[^<]+</script>| style="|<style' "$WORK/body")" == 0
js=$(grep -Eo '/assets/v[0-9a-f]+/moments\.js' "$WORK/body" | head -n 1)
css=$(grep -Eo '/assets/v[0-9a-f]+/moments\.css' "$WORK/body" | head -n 1)
check_eq "  moments.js is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL$js")"
check_eq "  moments.css is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL$css")"
page "$J_ANA" "/clips/$A"
check "the teacher the clip shows has the add form too" has "action=\"/clips/$A/moments\""

# ------------------------------------------------------------------ adding
moment "$J_CORA" "$X_CORA" "/clips/$A/moments" "0:02" "7" station-rotation "Groups <rotate>"
check_eq "the coach adds a moment (0:02 to 7 s): 303" 303 "$STATUS"
M1=$(new_id)
check_match "  on to the moment on the clip page" "^/clips/$A#moment-[0-9]+$" "$(header Location)"
moment "$J_CORA" "$X_CORA" "/clips/$A/moments" "12" "0:16,5" station-rotation "Timer & wrap-up"
check_eq "a second (12 s to 0:16,5, a comma for the point): 303" 303 "$STATUS"
M2=$(new_id)
moment "$J_ANA" "$X_ANA" "/clips/$A/moments" "0:05" "0:14" differentiation "Choice of task"
check_eq "the featured teacher adds one, overlapping: 303" 303 "$STATUS"
M3=$(new_id)
req GET "/api/v1/clips/$A/moments" "$ADMIN"
check_jq "  the three are saved as typed" \
	"[.moments[] | [.id, .start_s, .end_s, .practice, .title]] == [[$M1, 2, 7, \"station-rotation\", \"Groups <rotate>\"], [$M3, 5, 14, \"differentiation\", \"Choice of task\"], [$M2, 12, 16.5, \"station-rotation\", \"Timer & wrap-up\"]]"
check_eq "  audited as edits of the clip, by who" 3 \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'edit' AND clip_id = $A AND detail LIKE 'added moment %'")"

# ------------------------------------------------------------------ bad input
moment "$J_CORA" "$X_CORA" "/clips/$A/moments" "abc" "0:07" station-rotation "Kept <title>"
check_eq "a start that is no time: 400" 400 "$STATUS"
check "  on a page of its own that says why, as an alert" \
	has '<p class="error" role="alert" id="moment-error">Type the start as minutes and seconds (0:45) or as seconds (45).</p>'
check "  the start marked, described by the message, focused" \
	has '<input id="m-new-start" name="start" required maxlength="16" value="abc" aria-invalid="true" aria-describedby="moment-error" autofocus data-now>'
check "  what was typed kept (escaped)" has 'name="title" required maxlength="200" value="Kept &lt;title&gt;">'
check "  and a link back to the clip" has "<a href=\"/clips/$A#moments\">Station rotation in maths</a>"
moment "$J_CORA" "$X_CORA" "/clips/$A/moments" "0:09" "0:08" station-rotation "Backwards"
check_eq "an end before the start: 400" 400 "$STATUS"
check "  said, the end marked" has 'id="moment-error">The end must come after the start.</p>'
check "  (end field)" has 'name="end" required maxlength="16" value="0:08" aria-invalid="true"'
moment "$J_CORA" "$X_CORA" "/clips/$A/moments" "0:15" "0:30" station-rotation "Too long"
check_eq "past the clip's end: 400" 400 "$STATUS"
check "  says how long the clip is" has 'id="moment-error">The moment ends at 0:30, past the end of the clip: the clip is 0:20 long'
moment "$J_CORA" "$X_CORA" "/clips/$A/moments" "1" "2" juggling "Unknown practice"
check_eq "an unknown practice: 400" 400 "$STATUS"
check "  which lists the known ones, the practice marked" \
	grep -Eq 'id="moment-error">[^<]*station-rotation[^<]*</p>.*<select id="m-new-practice" name="practice" required aria-invalid="true" aria-describedby="moment-error" autofocus>' "$WORK/body"
moment "$J_CORA" "$X_CORA" "/clips/$A/moments" "1" "2" station-rotation "   "
check_eq "a blank title: 400" 400 "$STATUS"
check "  asked for" has 'id="moment-error">Give the moment a short title'
post "$J_CORA" "/clips/$A/moments" --data-urlencode "start=1" --data-urlencode "end=2" \
	--data-urlencode "practice=station-rotation" --data-urlencode "title=No token"
check_eq "without the CSRF token: 403" 403 "$STATUS"
moment "$J_CORA" "x$X_CORA" "/clips/$A/moments" 1 2 station-rotation "Wrong token"
check_eq "with a wrong one: 403" 403 "$STATUS"
moment "$J_TESS" "$X_TESS" "/clips/$A/moments" 1 2 station-rotation "Not mine"
check_eq "a teacher of another school (sees the clip): 403" 403 "$STATUS"
moment "$J_CORA" "$X_CORA" "/clips/$C/moments" 1 2 differentiation "Hidden"
check_eq "a clip the coach may not see: 404" 404 "$STATUS"
check_eq "  nothing of these was saved" 3 "$(sql "SELECT count(*) FROM moments")"

# ------------------------------------------------------------------ the clip page
page "$J_TESS" "/clips/$A"
check_eq "the clip page with moments, to a viewer: 200" 200 "$STATUS"
check "  the video has the chapters track" \
	has "<track kind=\"chapters\" srclang=\"en\" label=\"Moments\" src=\"/clips/$A/chapters.vtt\">"
check "  the chapter bar: three links placed by time, the overlap in a lane of its own" \
	has "<nav class=\"chapters\" aria-label=\"Moments in the video\"><ol class=\"chapter-bar lanes-2\"><li class=\"chapter cb-l10 cb-w25 lane-0\"><a class=\"moment-seek\" href=\"/clips/$A?t=2#player-box\" data-t=\"2\" data-end=\"7\"><span class=\"vh\">Moment 1 of 3: </span>Groups &lt;rotate&gt;<span class=\"vh\">, 0:02 to 0:07</span></a></li><li class=\"chapter cb-l25 cb-w45 lane-1 alt\"><a class=\"moment-seek\" href=\"/clips/$A?t=5#player-box\" data-t=\"5\" data-end=\"14\"><span class=\"vh\">Moment 2 of 3: </span>Choice of task<span class=\"vh\">, 0:05 to 0:14</span></a></li><li class=\"chapter cb-l60 cb-w23 lane-0\"><a class=\"moment-seek\" href=\"/clips/$A?t=12#player-box\" data-t=\"12\" data-end=\"16.5\"><span class=\"vh\">Moment 3 of 3: </span>Timer &amp; wrap-up<span class=\"vh\">, 0:12 to 0:17</span></a></li></ol></nav>"
check "  the list: time range linking to ?t=, title, practice, length; no tools for a viewer" \
	has "<ol class=\"moment-list\"><li class=\"moment\" id=\"moment-$M1\"><a class=\"moment-time moment-seek\" href=\"/clips/$A?t=2#player-box\" data-t=\"2\" data-end=\"7\"><span class=\"vh\">Play from </span>0:02–0:07</a> <span class=\"moment-title\">Groups &lt;rotate&gt;</span> <span class=\"moment-meta\"><a href=\"/practices/station-rotation\">Station rotation</a> · 0:05 long</span></li>"
check "  a fraction shown as typed" has '<span class="vh">Play from </span>0:12–0:16.5</a>'
check "  no edit or delete form for a viewer" bash -c '! grep -Eq "moment-edit|moment-delete|moment-add" "$1"' _ "$WORK/body"
check "  no inline style (the bar's places are classes)" test "$(grep -c ' style="' "$WORK/body")" == 0
page "$J_TESS" "/clips/$A?t=13"
check "?t=13 starts the video there" has "src=\"/media/clips/$A/video.mp4#t=13.0\""
check "  and marks the moments it falls in as current, in the bar and the list" \
	test "$(grep -o 'data-t="[0-9.]*" data-end="[0-9.]*" aria-current="true"' "$WORK/body" | sort | uniq -c | awk '{print $1 ":" $2}' | tr '\n' ' ')" == '2:data-t="12" 2:data-t="5" '
page "$J_CORA" "/clips/$A"
check "an editor's list has an edit form per moment, filled in" \
	has "<details class=\"moment-edit\"><summary>Edit<span class=\"vh\"> the moment “Timer &amp; wrap-up”</span></summary><form class=\"moment-form\" method=\"post\" action=\"/clips/$A/moments/$M2\">"
check "  its fields named apart from the others'" \
	has "<input id=\"m$M2-start\" name=\"start\" required maxlength=\"16\" value=\"0:12\" data-now>"
check "  end with its fraction" has "<input id=\"m$M2-end\" name=\"end\" required maxlength=\"16\" value=\"0:16.5\" data-now>"
check "  and a delete button named for the moment" \
	has "<form class=\"moment-delete\" method=\"post\" action=\"/clips/$A/moments/$M2/delete\"><input type=\"hidden\" name=\"csrf\" value=\"$X_CORA\"><button type=\"submit\" class=\"link\">Delete<span class=\"vh\"> the moment “Timer &amp; wrap-up”</span></button></form>"
check "  every id of the moments is used once" \
	test "$(grep -o ' id="\(m[0-9]\|m-new\|moment\)[^"]*"' "$WORK/body" | sort | uniq -d | wc -l)" == 0
check "  every input of the moment forms has its label" \
	test "$(grep -o 'id="m[0-9a-z-]*-\(start\|end\|practice\|title\)"' "$WORK/body" | sort -u | wc -l)" == "$(grep -o 'for="m[0-9a-z-]*-\(start\|end\|practice\|title\)"' "$WORK/body" | sort -u | wc -l)"

# ------------------------------------------------------------------ chapters.vtt
page "$J_TESS" "/clips/$A/chapters.vtt"
check_eq "chapters.vtt for a viewer: 200" 200 "$STATUS"
check_eq "  as WebVTT" "text/vtt; charset=utf-8" "$(header Content-Type)"
check_eq "  not kept by caches" "no-store" "$(header Cache-Control)"
want=$(printf 'WEBVTT\n\nmoment-%s\n00:00:02.000 --> 00:00:07.000\nGroups &lt;rotate&gt; (Station rotation)\n\nmoment-%s\n00:00:05.000 --> 00:00:14.000\nChoice of task (Differentiation)\n\nmoment-%s\n00:00:12.000 --> 00:00:16.500\nTimer &amp; wrap-up (Station rotation)\n' "$M1" "$M3" "$M2")
check_eq "  a cue per moment, its text escaped for WebVTT" "$want" "$(cat "$WORK/body")"
page "$J_CORA" "/clips/$C/chapters.vtt"
check_eq "  of a clip one may not see: 404" 404 "$STATUS"
req GET "/clips/$A/chapters.vtt" ""
check_eq "  without a session: to the sign-in page, as every page" 303 "$STATUS"
page "$J_TESS" "/clips/$B/chapters.vtt"
check_eq "  of a clip without moments: 200" 200 "$STATUS"
check_eq "  just the header" "WEBVTT" "$(tr -d '\n' <"$WORK/body")"

# ------------------------------------------------------------------ changing, removing
moment "$J_CORA" "$X_CORA" "/clips/$A/moments/$M1" "0:03" "0:08" station-rotation "Groups rotate"
check_eq "the coach changes a moment: 303" 303 "$STATUS"
check_eq "  on to it" "/clips/$A#moment-$M1" "$(header Location)"
req GET "/api/v1/clips/$A/moments" "$ADMIN"
check_jq "  changed" ".moments[0] | .id == $M1 and .start_s == 3 and .end_s == 8 and .title == \"Groups rotate\""
moment "$J_CORA" "$X_CORA" "/clips/$A/moments/$M1" "0:03" "0:01" station-rotation "Groups rotate"
check_eq "a change with the end first: 400" 400 "$STATUS"
check "  the edit form again, its action the moment's" has "<form class=\"moment-form\" method=\"post\" action=\"/clips/$A/moments/$M1\"><p class=\"error\" role=\"alert\" id=\"moment-error\">The end must come after the start.</p>"
moment "$J_CORA" "$X_CORA" "/clips/$B/moments/$M1" "0:03" "0:08" station-rotation "Elsewhere"
check_eq "a moment under another clip's address: 404" 404 "$STATUS"
moment "$J_TESS" "$X_TESS" "/clips/$A/moments/$M1" "0:03" "0:08" station-rotation "Mine now"
check_eq "a change by a viewer: 403" 403 "$STATUS"
post "$J_TESS" "/clips/$A/moments/$M2/delete" --data-urlencode "csrf=$X_TESS"
check_eq "a removal by a viewer: 403" 403 "$STATUS"
post "$J_CORA" "/clips/$A/moments/$M2/delete"
check_eq "a removal without the token: 403" 403 "$STATUS"
post "$J_CORA" "/clips/$A/moments/999999/delete" --data-urlencode "csrf=$X_CORA"
check_eq "a removal of no moment: 404" 404 "$STATUS"
post "$J_CORA" "/clips/$A/moments/$M3/delete" --data-urlencode "csrf=$X_CORA"
check_eq "the coach removes the featured teacher's moment: 303" 303 "$STATUS"
check_eq "  back to the moments" "/clips/$A#moments" "$(header Location)"
check_eq "  gone" "$M1 $M2" "$(sql "SELECT id FROM moments ORDER BY id" | paste -sd' ')"
check_eq "  the changes audited too" 2 \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'edit' AND clip_id = $A AND (detail LIKE 'changed moment %' OR detail LIKE 'removed moment %')")"

# ------------------------------------------------------------------ the practice page
moment "$J_ADMIN" "$X_ADMIN" "/clips/$B/moments" "1:40" "2:10" station-rotation "Rotating <lab> stations"
check_eq "an admin adds a moment to a clip of south-middle: 303" 303 "$STATUS"
M4=$(new_id)
page "$J_TESS" "/practices/station-rotation"
check_eq "the practice page: 200" 200 "$STATUS"
check "  leads with its moments, before the filters" \
	grep -Eq '<h1>Station rotation</h1>(<p class="intro">[^<]*</p>)?<link rel="stylesheet" href="/assets/v[0-9a-f]+/moments\.css"><section id="moments" class="practice-moments" aria-labelledby="moments-h"><h2 id="moments-h">Moments</h2><p class="count">3 moments: where a clip shows the practice, to watch first</p><ul class="grid moment-grid">' "$WORK/body"
# The tile of a time, read from the clip's own storyboard WebVTT.
tile_of() { # CLIP SECONDS -> "x y w h"
	curl -s -H "Authorization: Bearer $ADMIN" "$URL/media/clips/$1/storyboard.vtt" | awk -v t="$2" '
		function secs(s,  p) { split(s, p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
		/-->/ { from = secs($1); to = secs($3); next }
		/#xywh=/ { if (t >= from && t < to) { sub(/.*#xywh=/, ""); gsub(",", " "); print; exit } }'
}
check_eq "  (the storyboard of A shows second 12 at 320,120)" "320 120 160 120" "$(tile_of "$A" 12)"
check "  a card per moment: the storyboard tile at its start, length, title, school, clip" \
	has "<li class=\"card moment-card\"><a class=\"card-link\" href=\"/clips/$A?t=12\"><svg class=\"thumb tile\" aria-hidden=\"true\" focusable=\"false\" preserveAspectRatio=\"xMidYMid slice\" width=\"320\" height=\"180\" viewBox=\"$(tile_of "$A" 12)\"><image href=\"/media/clips/$A/storyboard.jpg\" x=\"0\" y=\"0\" width=\"1600\" height=\"240\"/></svg><span class=\"dur\"><span class=\"vh\">Length </span>0:05</span><span class=\"card-title\">Timer &amp; wrap-up</span></a><span class=\"meta\"><a href=\"/schools/north-high\">North High</a> · from 0:12 in <cite>Station rotation in maths</cite></span></li>"
check_eq "  (the storyboard of B shows second 100 at 480,270)" "480 270 160 90" "$(tile_of "$B" 100)"
check "  across schools: B's moment, its tile from B's storyboard, its texts escaped" \
	has "<li class=\"card moment-card\"><a class=\"card-link\" href=\"/clips/$B?t=100\"><svg class=\"thumb tile\" aria-hidden=\"true\" focusable=\"false\" preserveAspectRatio=\"xMidYMid slice\" width=\"320\" height=\"180\" viewBox=\"$(tile_of "$B" 100)\"><image href=\"/media/clips/$B/storyboard.jpg\" x=\"0\" y=\"0\" width=\"1600\" height=\"810\"/></svg><span class=\"dur\"><span class=\"vh\">Length </span>0:30</span><span class=\"card-title\">Rotating &lt;lab&gt; stations</span></a><span class=\"meta\"><a href=\"/schools/south-middle\">South Middle</a> · from 1:40 in <cite>Rotation &lt;b&gt;in&lt;/b&gt; science</cite></span></li>"
check "  the start of A's first moment: tile 3" has "viewBox=\"$(tile_of "$A" 3)\""
sprite=$(grep -o "/media/clips/$A/storyboard.jpg" "$WORK/body" | head -n 1)
check_eq "  the sprite the tiles crop is served to the viewer" 200 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J_TESS" "$URL$sprite")"
page "$J_TESS" "/practices/station-rotation?school=north-high"
check "  the school filter applies to the moments too" \
	has '<p class="count">2 moments: where a clip shows the practice, to watch first</p>'
page "$J_TESS" "/practices/differentiation"
check "a practice without moments shows no Moments section" hasnt 'id="moments"'
sql "UPDATE clips SET visibility = 'private' WHERE id = $B"
hidden() { page "$J_TESS" "/practices/station-rotation"; has '<p class="count">2 moments:'; }
soon hidden
check "the moments of a clip one may no longer see leave the practice page" hasnt "/clips/$B?t="
sql "UPDATE clips SET visibility = 'district' WHERE id = $B"

# ------------------------------------------------------------------ in a browser
SHOTS=${KINDLING_SHOTS:-$ROOT/build/screenshots}
why=$(. "$HERE/../node_tools.sh" && node_tools_check moment_pages playwright-core axe-core) ||
	fatal "the Node here can run playwright-core" "${why:-tests/node_tools.sh failed}"
KD_URL=$URL KD_USER="Tess Teacher" KD_EDITOR="Cora Coach" KD_PASSWORD=$PASSWORD KD_CLIP=$A KD_SHOTS=$SHOTS \
	KD_PRACTICE=station-rotation timeout 150 node "$ROOT/tests/browser/moments.mjs" >"$WORK/browser.out" 2>&1
rc=$?
cat "$WORK/browser.out"
PASS=$((PASS + $(grep -c '^ok - ' "$WORK/browser.out")))
FAIL=$((FAIL + $(grep -c '^FAIL - ' "$WORK/browser.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL - ' "$WORK/browser.out"; then
	not_ok "the browser run finished" "exit status $rc"
fi

check_server_log
finish
