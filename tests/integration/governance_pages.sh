#!/usr/bin/env bash
# tests/integration/governance_pages.sh - the clip page's governance for
# people in a browser (issue 14): the consent record and its form, the Blur
# editor without JavaScript, legal hold and the records-request download for
# admins, each form driven with curl as a browser session (cookie and CSRF
# token), then Chromium drawing a region on the paused video with the mouse
# (tests/browser/blur.mjs).
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/governance_pages.sh
#
# Clips are made here with the ffmpeg tool and go in with `kindling ingest
# --wait`, so the blurred files are really made again.  Last line:
# "governance_pages: N passed, N failed".  Loopback only; every wait polls.

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite governance_pages ffmpeg sqlite3 node /usr/bin/chromium
export KINDLING_NODE_MODULES=${KINDLING_NODE_MODULES:-$ROOT/tests/node_modules}
why=$(. "$HERE/../node_tools.sh" && node_tools_check governance_pages playwright-core) ||
	fatal "the Node here can run playwright-core" "${why:-tests/node_tools.sh failed}"

# ------------------------------------------------------------------ the fixture
M=$WORK/media
mkdir -p "$M"
# A: portrait (3:4) grey picture with a red box at known fractions of it
# (x 0.25, y 0.30, w 0.40, h 0.35), for the browser to find on screen and
# draw over: the page's player shows it pillarboxed.  B, C: a test pattern.
ff -f lavfi -i "color=c=gray:size=360x480:rate=25:duration=6" \
	-vf "drawbox=x=90:y=144:w=144:h=168:color=red@1:t=fill" \
	-c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p "$M/a.mp4" &&
for n in b:0:440 c:120:660; do   # different pictures and sounds: not the same file twice
	ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=4" -f lavfi -i "sine=frequency=${n##*:}:duration=4" \
		-vf "hue=h=$(cut -d: -f2 <<<"$n")" -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -c:a aac \
		-shortest "$M/${n%%:*}.mp4" || exit 1
done || fatal "ffmpeg makes the test clips" "see above"

{ "$BIN" school add north-high "North High" --data "$DATA" &&
	"$BIN" school add south-middle "South Middle" --data "$DATA"; } >/dev/null 2>"$WORK/fixture.err" ||
	fatal "fixture: two schools" "$(tail -c 300 "$WORK/fixture.err")"
PASSWORD='a long governance password'
with_password() { printf '%s\n' "$PASSWORD" | add_user "$1" "$2" "$3" --password-stdin; }
CORA=$(with_password "Cora Coach" coach north-high)       # edits clips of north-high
TESS=$(with_password "Tess Teacher" teacher north-high)   # sees them, edits none
OMAR=$(with_password "Omar Other" teacher south-middle)   # another school's teacher
ADMIN=$(with_password "Ada Admin" admin "")
for t in "$CORA" "$TESS" "$OMAR" "$ADMIN"; do
	[[ $t =~ ^kd_[0-9]+_ ]] || fatal "fixture: user add prints a token" "got '$t'"
done
ingest() { "$BIN" ingest --data "$DATA" --wait --json "$@" 2>>"$WORK/ingest.err" | jq -r 'select(.status == "ready") | .id'; }
A=$(ingest --school north-high --practice station-rotation --title "Red box rotation" "$M/a.mp4")
B=$(ingest --school north-high --practice station-rotation --title "Pelican consent lesson" "$M/b.mp4")
C=$(ingest --school north-high --practice differentiation --title "Heron blur lesson" "$M/c.mp4")
[ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] && [ "$(printf '%s\n' "$A" "$B" "$C" | sort -u | wc -l)" == 3 ] || fatal "three clips ingested and ready" "$(tail -5 "$WORK/ingest.err")"
ok "three clips ingested and ready ($A, $B, $C)"

start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# ------------------------------------------------------------------ sessions
# sign_in NAME JAR: a browser session kept in JAR; prints its CSRF token.
sign_in() {
	curl -s -o /dev/null -c "$2" --data-urlencode "name=$1" --data-urlencode "password=$PASSWORD" \
		--data-urlencode "next=/" "$URL/login" &&
		curl -s -b "$2" "$URL/" | sed -n 's/.*<meta name="csrf-token" content="\([^"]*\)".*/\1/p' | head -n 1
}
J_CORA=$WORK/cora.jar J_TESS=$WORK/tess.jar J_OMAR=$WORK/omar.jar J_ADMIN=$WORK/admin.jar
X_CORA=$(sign_in "Cora Coach" "$J_CORA")
X_TESS=$(sign_in "Tess Teacher" "$J_TESS")
X_OMAR=$(sign_in "Omar Other" "$J_OMAR")
X_ADMIN=$(sign_in "Ada Admin" "$J_ADMIN")
for x in "$X_CORA" "$X_TESS" "$X_OMAR" "$X_ADMIN"; do
	[[ $x =~ ^[A-Za-z0-9_-]{20,}$ ]] || fatal "fixture: four browser sessions with CSRF tokens" "got '$x'"
done
# page JAR PATH: GET a page as that browser (STATUS, $WORK/body).
page() { req GET "$2" "" -b "$1"; }
# post JAR PATH CURL-ARGS...: a form as that browser.
post() { local jar=$1 path=$2; shift 2; req POST "$path" "" -b "$jar" "$@"; }
body() { tr -d '\n' <"$WORK/body"; }
has() { grep -Fq -- "$1" "$WORK/body"; }
hasnt() { ! grep -Fq -- "$1" "$WORK/body"; }

# ------------------------------------------------------------------ who sees what
page "$J_CORA" "/clips/$B"
check_eq "an editor's clip page: 200" 200 "$STATUS"
check "  has the Consent and privacy section" has '<h2 id="consent-h">Consent and privacy</h2>'
check "  with the consent history as a table" has '<table class="figures consent-history">'
check "  and the Blur section and editor" has '<form id="blur-form"'
check "  loads the drawing tool, assets/blur.js" grep -Eq '<script defer src="/assets/v[0-9a-f]+/blur\.js"' "$WORK/body"
check "  and its stylesheet" grep -Eq '<link rel="stylesheet" href="/assets/v[0-9a-f]+/governance\.css"' "$WORK/body"
check "  but no legal hold (admins only)" hasnt 'id="hold-h"'
check "  no inline script or style (the CSP allows neither)" test "$(grep -Eoc '<script>|<script [^>]*>[^<]+</script>| style="|<style' "$WORK/body")" == 0
check_match "  the Content-Security-Policy allows no inline code" "^default-src 'self'" "$(header Content-Security-Policy)"
check "  every input of the blur rows has a label" \
	test "$(grep -o 'id="blur-[0-9]*-[a-z_]*"' "$WORK/body" | sort -u | wc -l)" == "$(grep -o 'for="blur-[0-9]*-[a-z_]*"' "$WORK/body" | sort -u | wc -l)"
check "  the radio groups are fieldsets with legends" has '<legend>Consent for this clip</legend>'
check "  each consent basis explained in plain words" has 'id="consent_basis-no-students-hint"'
js=$(grep -Eo '/assets/v[0-9a-f]+/blur\.js' "$WORK/body" | head -n 1)
check_eq "  blur.js is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL$js")"
css=$(grep -Eo '/assets/v[0-9a-f]+/governance\.css' "$WORK/body" | head -n 1)
check_eq "  governance.css is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL$css")"
page "$J_TESS" "/clips/$B"
check_eq "a teacher of the school sees the clip" 200 "$STATUS"
check "  but no consent form, blur editor or its script" \
	bash -c '! grep -Eq "consent-h|blur-form|blur\.js" "$1"' _ "$WORK/body"
page "$J_ADMIN" "/clips/$C"
check "an admin's page has legal hold" has '<h2 id="hold-h">Legal hold</h2>'
check "  and the records-request download: GET to the original, reason required" \
	grep -Eq "<form class=\"gov-form\" method=\"get\" action=\"/api/v1/clips/$C/original\"><label for=\"orig-reason\">[^<]+</label><input id=\"orig-reason\" name=\"reason\" required" "$WORK/body"

# ------------------------------------------------------------------ consent
post "$J_CORA" "/clips/$B/consent" --data-urlencode "csrf=$X_CORA" --data-urlencode "consent=on-file" \
	--data-urlencode "consent_basis=no-students" --data-urlencode "consent_reason=Filmed from the back <b>row</b>"
check_eq "the consent form: on file, no students identifiable: 303" 303 "$STATUS"
check_eq "  back to the clip's consent section" "/clips/$B#consent" "$(header Location)"
req GET "/api/v1/clips/$B/consent" "$CORA"
check_jq "  the record: on-file, no-students, by Cora Coach, today" \
	".consent == \"on-file\" and .consent_basis == \"no-students\" and .consent_by == \"Cora Coach\" and (.consent_at | startswith(\"$(date -u +%F)\"))"
check_jq "  its history grew by one, with the reason" \
	'(.history | length) == 2 and .history[1].basis == "no-students" and .history[1].reason == "Filmed from the back <b>row</b>" and .history[1].by == "Cora Coach"'
page "$J_CORA" "/clips/$B"
check "  the page says so" has 'Consent is <strong>on file</strong>: no student can be identified. Set by Cora Coach on <time'
check "  and its history shows the reason, escaped" has '<td>Filmed from the back &lt;b&gt;row&lt;/b&gt;</td>'
check_eq "  one audit entry for it" 1 \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'consent' AND clip_id = $B AND user_name = 'Cora Coach' AND detail LIKE '%no-students%'")"

post "$J_CORA" "/clips/$B/consent" --data-urlencode "csrf=$X_CORA" --data-urlencode "consent=on-file" \
	--data-urlencode "consent_basis=blurred"
check_eq "basis 'blurred' before any region is marked: 400" 400 "$STATUS"
check "  saying the regions come first" grep -q 'needs the regions to blur marked first' "$WORK/body"
check "  the basis radio group marked invalid" has '<fieldset class="basis" aria-invalid="true" aria-describedby="consent-error">'

post "$J_CORA" "/clips/$B/consent" --data-urlencode "csrf=$X_CORA" --data-urlencode "consent=withdrawn" \
	--data-urlencode "consent_reason=   "
check_eq "withdrawing without a reason: 400" 400 "$STATUS"
check "  the message is shown, as an alert" has '<p class="error" role="alert" id="consent-error">Say why consent is withdrawn'
check "  tied to the reason field" has 'name="consent_reason" rows="2" maxlength="1000" aria-invalid="true" autofocus aria-describedby="consent-error"'
check "  the choice made is kept" has 'id="consent-withdrawn" value="withdrawn" aria-describedby="consent-withdrawn-hint" checked'
req GET "/api/v1/clips/$B" "$OMAR"
check_eq "  and nothing changed: another school's teacher still sees the clip" 200 "$STATUS"

post "$J_CORA" "/clips/$B/consent" --data-urlencode "csrf=$X_CORA" --data-urlencode "consent=withdrawn" \
	--data-urlencode "consent_reason=A parent asked on the phone"
check_eq "withdrawing with a reason asks first: 200" 200 "$STATUS"
check "  in words: it hides the clip from everyone at once" grep -q 'This hides the clip from everyone at once' "$WORK/body"
check "  with the reason carried to the confirmation" has 'name="consent_reason" value="A parent asked on the phone"'
req GET "/api/v1/clips/$B" "$OMAR"
check_eq "  nothing is withdrawn yet" 200 "$STATUS"

page "$J_OMAR" "/clips/$B"
check_eq "before: another school's teacher opens the page" 200 "$STATUS"
check_eq "  and its video" 200 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J_OMAR" "$URL/media/clips/$B/video.mp4")"
check_match "  and finds it by search" "/clips/$B\"" "$(curl -s -b "$J_OMAR" "$URL/search?q=pelican")"

post "$J_CORA" "/clips/$B/consent" --data-urlencode "csrf=$X_CORA" --data-urlencode "consent=withdrawn" \
	--data-urlencode "consent_reason=A parent asked on the phone" --data-urlencode "confirm=yes"
check_eq "confirmed: consent withdrawn (the coach can no longer see it): 200" 200 "$STATUS"
check "  the page says it is hidden" grep -q 'Consent withdrawn' "$WORK/body"
page "$J_OMAR" "/clips/$B"
check_eq "at once: another teacher's page is 404" 404 "$STATUS"
req GET "/api/v1/clips/$B" "$OMAR"
check_eq "  the API is 404" 404 "$STATUS"
for f in video.mp4 poster.jpg thumbnail.jpg storyboard.vtt; do
	check_eq "  /media/clips/$B/$f is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J_OMAR" "$URL/media/clips/$B/$f")"
done
req GET "/api/v1/clips?per_page=100" "$OMAR"
check_jq "  the list leaves it out" "[.clips[].id] | index($B) == null"
req GET "/api/v1/clips?q=pelican" "$OMAR"
check_jq "  search leaves it out" '.total == 0'
check "  the search page too" bash -c '! curl -s -b "$1" "$2/search?q=pelican" | grep -q "/clips/$3\""' _ "$J_OMAR" "$URL" "$B"
page "$J_CORA" "/clips/$B"
check_eq "  the coach who withdrew it (not its uploader) gets 404 too" 404 "$STATUS"
page "$J_ADMIN" "/clips/$B"
check_eq "an admin still sees the record" 200 "$STATUS"
check_match "  told when, by whom and why, and no player" \
	'Consent was withdrawn on <time datetime="[0-9TZ:-]+">[^<]+</time> by Cora Coach: A parent asked on the phone\. Its video and pictures are shown to nobody\.' "$(body)"
check "  no <video> on the page" hasnt '<video'
check_eq "  and its media are 403 even to the admin" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J_ADMIN" "$URL/media/clips/$B/video.mp4")"
check_eq "the withdrawal is in the audit trail with its reason" 1 \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'consent' AND clip_id = $B AND user_name = 'Cora Coach' AND detail LIKE '%withdrawn%A parent asked on the phone%'")"
req GET "/api/v1/clips/$B/consent" "$ADMIN"
check_jq "  and in the consent history" '.consent == "withdrawn" and .history[-1].reason == "A parent asked on the phone" and .history[-1].by == "Cora Coach"'

# ------------------------------------------------------------------ blur, without JavaScript
# blur_form JAR CSRF ROW...: the Blur form as a browser without JavaScript
# sends it: each ROW is "from to x y w h" (empty fields as -), every row
# sent, then an empty row to add one.
blur_form() {
	local jar=$1 csrf=$2 row f
	shift 2
	local -a a=(--data-urlencode "csrf=$csrf")
	for row in "$@" "- - - - - -"; do
		read -ra f <<<"$row"
		for i in 0 1 2 3 4 5; do
			local k
			k=$(echo from_s to_s x y w h | cut -d' ' -f$((i + 1)))
			a+=(--data-urlencode "$k=${f[$i]/#-/}")
		done
	done
	post "$jar" "/clips/$C/blur" "${a[@]}" "${EXTRA[@]+"${EXTRA[@]}"}"
}
EXTRA=()
blur_form "$J_CORA" "$X_CORA" "1 3 10 20 30 25" "0:02 3.5 50 50 25.5 40"
check_eq "the Blur form without JavaScript: 303" 303 "$STATUS"
check_eq "  back to the clip's Blur section" "/clips/$C#blur" "$(header Location)"
# (an admin asks: while its files are made again the clip is "processing",
# which only admins and its uploader see)
req GET "/api/v1/clips/$C/blur" "$ADMIN"
check_jq "  GET .../blur shows both regions, percentages as fractions" \
	'(.regions | length) == 2 and (.regions[0] | .from_s == 1 and .to_s == 3 and (.x - 0.1 | fabs) < 1e-9 and (.y - 0.2 | fabs) < 1e-9 and (.w - 0.3 | fabs) < 1e-9 and (.h - 0.25 | fabs) < 1e-9 and .state == "applied" and .source == "editor") and (.regions[1] | .from_s == 2 and .to_s == 3.5 and (.w - 0.255 | fabs) < 1e-9)'
check_jq "  at a new revision, so the files are to be made again" '.rev == 1'
check_eq "  an audit entry for it" 1 "$(sql "SELECT count(*) FROM audit WHERE action = 'blur' AND clip_id = $C AND user_name = 'Cora Coach' AND detail = '2 regions (revision 1)'")"
page "$J_ADMIN" "/clips/$C"
stale_page=$(body)
req GET "/api/v1/clips/$C/blur" "$ADMIN"
if [ "$(jb .pending)" == true ]; then
	check_match "the page then says the media are being made again" \
		'The video and pictures are being made again with the new blurred regions; they come back when that is done\.' "$stale_page"
	check "  instead of a player that would fail" bash -c '! grep -q "<video" <<<"$1"' _ "$stale_page"
else
	echo "# processing was done before the page was asked for; the notice is checked below"
fi
remade() { req GET "/api/v1/clips/$C/blur" "$ADMIN"; [ "$(jb .pending)" == false ] && [ "$(jb .rev)" == "$1" ]; }
if wait_until 120 remade 1; then ok "the files are made again with the regions (pending false)"; else not_ok "the files are made again" "still pending after 120 s: $(log_tail)"; fi
page "$J_CORA" "/clips/$C"
check "the editor's form shows the saved regions to change" \
	grep -Eq '<legend>Region 2</legend>.*name="from_s" [^>]*value="2".*name="w" [^>]*value="25.5"' "$WORK/body"
check "  and one empty row to add a region" has '<fieldset class="blur-row blur-new" data-row="3"><legend>Add a region</legend>'
page "$J_TESS" "/clips/$C"
check "  then the player is back" has '<video id="player"'
check_eq "  and the video is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J_TESS" "$URL/media/clips/$C/video.mp4")"
# The state between, held still: regions newer than the files (as a
# save leaves it until processing is done).
sql "UPDATE clips SET blur_rev = blur_rev + 1 WHERE id = $C"
stale() { page "$J_TESS" "/clips/$C"; grep -q 'class="gov-notice remaking"' "$WORK/body"; }
soon stale
check_match "while regions are being applied the page says so plainly" \
	'<p class="gov-notice remaking">The video and pictures are being made again with the new blurred regions; they come back when that is done\.</p>' "$(body)"
check "  instead of a player that would fail" hasnt '<video'
check_eq "  (the video itself is 409 meanwhile)" 409 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J_TESS" "$URL/media/clips/$C/video.mp4")"
page "$J_CORA" "/clips/$C"
check "  the editor's Blur section says it too" has '<p class="gov-notice">The video and pictures are being made again'
sql "UPDATE clips SET blur_rev = media_blur_rev WHERE id = $C"

blur_form "$J_CORA" "$X_CORA" "1 3 10 20 30 25" "4 2 50 50 20 20"
check_eq "a region that ends before it starts: 400" 400 "$STATUS"
check "  the message is shown" grep -q 'role="alert" id="blur-error">Region 2' "$WORK/body"
check "  its row's fields are marked, tied to the message" has 'id="blur-2-from_s" name="from_s" type="text" inputmode="decimal" size="7" aria-invalid="true" aria-describedby="blur-error blur-units" autofocus value="4"'
check "  the other row is not" has 'id="blur-1-from_s" name="from_s" type="text" inputmode="decimal" size="7" aria-describedby="blur-units" value="1"'
blur_form "$J_CORA" "$X_CORA" "1 3 10 20 30 25" "1 2 50 - 20 20"
check_eq "a row with a number missing: 400" 400 "$STATUS"
check "  naming the row and the field" grep -q 'Region 2: Top (%) is empty' "$WORK/body"
blur_form "$J_CORA" "$X_CORA" "1 3 ten 20 30 25"
check_eq "a word for a number: 400" 400 "$STATUS"
check "  saying what it must be" grep -q 'Region 1: Left (%) must be a number from 0 to 100' "$WORK/body"
blur_form "$J_CORA" "$X_CORA" "1 3 80 20 30 25"
check_eq "a region past the picture's edge: 400" 400 "$STATUS"
check "  said in the form's terms" grep -q 'Region 1: the rectangle must lie inside the picture: Left plus Width' "$WORK/body"
check "  its row marked" has 'id="blur-1-x" name="x" type="number" min="0" max="100" step="any" aria-invalid="true"'
EXTRA=(--data-urlencode "remove=1")
blur_form "$J_CORA" "$X_CORA" "1 3 10 20 30 25" "100 102 10 20 30 25"
EXTRA=()
check_eq "a region after the clip's end, behind a removed row: 400 (the catalogue's check)" 400 "$STATUS"
check "  the message names the row as the form shows it" grep -q 'id="blur-error">Region 2 starts at 100.00 s, after the clip ends' "$WORK/body"
check "  and that row is marked" has 'id="blur-2-from_s" name="from_s" type="text" inputmode="decimal" size="7" aria-invalid="true"'
check "  the removed row stays ticked" has 'name="remove" value="1" checked'
req GET "/api/v1/clips/$C/blur" "$CORA"
check_jq "  none of these saved anything" '(.regions | length) == 2 and .pending == false'
post "$J_CORA" "/clips/$C/blur" --data-urlencode "csrf=$X_CORA"
check_eq "a Blur form without its rows: 400" 400 "$STATUS"
check "  saying so" grep -q 'The form came without its regions' "$WORK/body"
req GET "/api/v1/clips/$C/blur" "$CORA"
check_jq "  nothing saved" '(.regions | length) == 2'

EXTRA=(--data-urlencode "remove=1")
blur_form "$J_CORA" "$X_CORA" "1 3 10 20 30 25" "2 3.5 50 50 25.5 40"
EXTRA=()
check_eq "a region's remove box ticked: 303" 303 "$STATUS"
req GET "/api/v1/clips/$C/blur" "$ADMIN"
check_jq "  leaves the other" '(.regions | length) == 1 and .regions[0].from_s == 2'
wait_until 120 remade 2 || not_ok "the files are made again after the removal" "still pending"
blur_form "$J_TESS" "$X_TESS" "1 3 10 20 30 25"
check_eq "a teacher who may not edit the clip: 403" 403 "$STATUS"
req GET "/api/v1/clips/$C/blur" "$ADMIN"
check_jq "  nothing saved" '(.regions | length) == 1 and .rev == 2'

# ------------------------------------------------------------------ legal hold
post "$J_TESS" "/clips/$C/hold" --data-urlencode "csrf=$X_TESS" --data-urlencode "reason=Mine"
check_eq "a teacher placing a hold: 403" 403 "$STATUS"
post "$J_CORA" "/clips/$C/hold" --data-urlencode "csrf=$X_CORA" --data-urlencode "reason=Mine"
check_eq "a coach who edits the clip: 403 too (admins only)" 403 "$STATUS"
post "$J_CORA" "/clips/$C/hold/lift" --data-urlencode "csrf=$X_CORA"
check_eq "  nor may they lift one: 403" 403 "$STATUS"
post "$J_ADMIN" "/clips/$C/hold" --data-urlencode "csrf=$X_ADMIN" --data-urlencode "reason="
check_eq "an admin's hold without a reason: 400" 400 "$STATUS"
check "  saying why one is needed, tied to the field" \
	grep -q 'id="hold-reason" name="reason" required maxlength="1000" aria-invalid="true" autofocus aria-describedby="hold-error"' "$WORK/body"
check_eq "  nothing held" "" "$(sql "SELECT hold_at FROM clips WHERE id = $C")"
post "$J_ADMIN" "/clips/$C/hold" --data-urlencode "csrf=$X_ADMIN" --data-urlencode "reason=Records request 2026-17 <district>"
check_eq "an admin places a hold with a reason: 303" 303 "$STATUS"
check_eq "  to the hold section" "/clips/$C#hold" "$(header Location)"
check_eq "  the clip is held, by the admin, for that reason" "Ada Admin|Records request 2026-17 <district>" \
	"$(sql "SELECT hold_by || '|' || hold_reason FROM clips WHERE id = $C AND hold_at IS NOT NULL")"
check_eq "  audited as the API does" 1 "$(sql "SELECT count(*) FROM audit WHERE action = 'hold' AND clip_id = $C AND user_name = 'Ada Admin' AND detail = 'Records request 2026-17 <district>'")"
page "$J_ADMIN" "/clips/$C"
check "  the page says so, escaped, with the form to lift it" \
	grep -Eq 'On legal hold since <time[^>]*>[^<]+</time>, set by Ada Admin: Records request 2026-17 &lt;district&gt;\..*action="/clips/'"$C"'/hold/lift"' "$WORK/body"
req DELETE "/api/v1/clips/$C" "$CORA"
check_eq "  a held clip cannot be deleted" 409 "$STATUS"
post "$J_ADMIN" "/clips/$C/hold/lift" --data-urlencode "csrf=$X_ADMIN"
check_eq "an admin lifts it: 303" 303 "$STATUS"
check_eq "  not held" "" "$(sql "SELECT hold_at FROM clips WHERE id = $C")"
check_eq "  audited as lifted" 1 "$(sql "SELECT count(*) FROM audit WHERE action = 'hold' AND clip_id = $C AND detail = 'lifted'")"

# ------------------------------------------------------------------ records request
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$J_ADMIN" -G --data-urlencode "reason=Planted by another site" "$URL/api/v1/clips/$C/original")
check_eq "an admin's browser sent to the original by a link without the page's form token: 403" 403 "$code"
check_eq "  and nothing is recorded" 0 "$(sql "SELECT count(*) FROM audit WHERE detail LIKE '%Planted by another site%'")"
code=$(curl -s -o "$WORK/original" -w '%{http_code}' -b "$J_ADMIN" -G --data-urlencode "reason=Records request 2026-18" --data-urlencode "csrf=$X_ADMIN" "$URL/api/v1/clips/$C/original")
check_eq "the records-request form's GET gives the admin the original" 200 "$code"
check_eq "  byte for byte" "$(sha256sum <"$M/c.mp4" | cut -d' ' -f1)" "$(sha256sum <"$WORK/original" | cut -d' ' -f1)"
check_eq "  audited with the request" 1 "$(sql "SELECT count(*) FROM audit WHERE action = 'download-original' AND clip_id = $C AND user_name = 'Ada Admin' AND detail LIKE '%Records request 2026-18'")"
check_eq "  a teacher's session gets 403" 403 "$(curl -s -o /dev/null -w '%{http_code}' -b "$J_TESS" -G --data-urlencode "reason=x" --data-urlencode "csrf=$X_TESS" "$URL/api/v1/clips/$C/original")"

# ------------------------------------------------------------------ CSRF
held_before=$(sql "SELECT count(*) FROM audit")
for form in "consent consent=pending" "blur from_s=1" "hold reason=No token" "hold/lift x=1"; do
	path=${form%% *} field=${form#* }
	jar=$J_CORA
	case $path in hold*) jar=$J_ADMIN ;; esac
	post "$jar" "/clips/$C/$path" --data-urlencode "$field" --data-urlencode "to_s=3"
	check_eq "POST /clips/{id}/$path without the CSRF token: 403" 403 "$STATUS"
	check "  the page says the form expired" grep -q 'Form expired' "$WORK/body"
	post "$jar" "/clips/$C/$path" --data-urlencode "$field" --data-urlencode "csrf=x$X_CORA$X_ADMIN"
	check_eq "  with a wrong token: 403" 403 "$STATUS"
done
check_eq "  none of them changed anything" "$held_before on-file" "$(sql "SELECT count(*) FROM audit") $(sql "SELECT consent FROM clips WHERE id = $C")"

# ------------------------------------------------------------------ the browser
# Chromium draws a rectangle over the red box on the paused video of clip A
# with the mouse and saves it; the region must be where the box is.
KD_URL=$URL KD_USER="Cora Coach" KD_PASSWORD=$PASSWORD KD_CLIP=$A \
	KD_BOX="0.25 0.30 0.40 0.35" KD_SHOTS=${KINDLING_SHOTS:-$ROOT/build/screenshots} \
	timeout 180 node "$ROOT/tests/browser/blur.mjs" >"$WORK/browser.out" 2>&1
rc=$?
cat "$WORK/browser.out"
PASS=$((PASS + $(grep -c '^ok - ' "$WORK/browser.out")))
FAIL=$((FAIL + $(grep -c '^FAIL - ' "$WORK/browser.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL - ' "$WORK/browser.out"; then
	not_ok "the browser run finished" "exit status $rc: $(tail -c 300 "$WORK/browser.out")"
fi
req GET "/api/v1/clips/$A/blur" "$ADMIN"
check_jq "the region drawn in the browser is saved (the API agrees)" '(.regions | length) == 1 and .regions[0].source == "editor"'

check_server_log
finish
