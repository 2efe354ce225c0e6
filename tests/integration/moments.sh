#!/usr/bin/env bash
# tests/integration/moments.sh - moments end to end (issue 15, H1): the JSON
# API (add, list, change, remove, across schools) with every bad input's
# exact status and message, who may and who may not, privacy across schools,
# a practice merge carrying moments along; then `kindling upload` with
# --moment, a manifest's moments column, a sidecar captions file and
# --captions, each sent once the clip is ready and checked on the server.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/moments.sh
#
# Last line: "moments: N passed, N failed".  Loopback only; waits poll.

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite moments sqlite3 ffmpeg

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1
"$BIN" school add river-school "River School" --data "$DATA" >/dev/null 2>&1
ADMIN=$(add_user "Ada Admin" admin)
COACH_N=$(add_user "Cal North" coach north-high)
TEACH_N=$(add_user "Tom North" teacher north-high)
ROSA=$(add_user "Rosa Diaz" teacher north-high)     # the featured teacher of 101-104
TEACH_R=$(add_user "Rita River" teacher river-school)
COACH_R=$(add_user "Cai River" coach river-school)
U_COACH_N=$(sql "SELECT id FROM users WHERE name = 'Cal North'")

# North: 101 district, 3:12 long; 102 school-only; 103 district, length not
# known yet; 104 consent pending.  River: 201 district.
sql <<SQL || fatal "fixture clips inserted with sqlite3" "see above"
INSERT INTO clips (id, title, school_id, teacher, uploader_id, consent, visibility, status, duration_s)
VALUES
 (101, 'Rotation, with timers', (SELECT id FROM schools WHERE slug = 'north-high'), 'Rosa Diaz', $U_COACH_N, 'on-file', 'district', 'ready', 192),
 (102, 'Our school only', (SELECT id FROM schools WHERE slug = 'north-high'), 'Rosa Diaz', $U_COACH_N, 'on-file', 'school', 'ready', 60),
 (103, 'Not measured yet', (SELECT id FROM schools WHERE slug = 'north-high'), 'Rosa Diaz', $U_COACH_N, 'on-file', 'district', 'ready', NULL),
 (104, 'Consent pending', (SELECT id FROM schools WHERE slug = 'north-high'), 'Rosa Diaz', $U_COACH_N, 'pending', 'district', 'ready', 60),
 (201, 'River rotation', (SELECT id FROM schools WHERE slug = 'river-school'), 'Rita River', NULL, 'on-file', 'district', 'ready', 90);
INSERT INTO clip_practices (clip_id, practice_id)
SELECT c.id, p.id FROM clips c, practices p WHERE p.slug = 'station-rotation';
SQL
check_eq "fixture clips are in" 5 "$(sql 'SELECT count(*) FROM clips')"

start_server "$DATA" || fatal "the server started" "$(log_tail)"

# post ID TOKEN JSON / mpatch ID TOKEN JSON
post() { req_json POST "/api/v1/clips/$1/moments" "$2" "$3"; }
mpatch() { req_json PATCH "/api/v1/moments/$1" "$2" "$3"; }
# bad NAME STATUS MESSAGE: the last answer is STATUS with exactly {"error": MESSAGE}
bad() {
	if [ "$STATUS" == "$2" ] && [ "$(jb .error)" == "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "wanted $2 '$3', got $STATUS: $(head -c 400 "$WORK/body")"
	fi
}

# ------------------------------------------------------------------ add
post 101 "$COACH_N" '{"start_s": 45, "end_s": 130, "practice": "station-rotation", "title": "Groups rotate"}'
check_status "the clip's school's coach adds a moment: 201" 201
M1=$(jb .id)
check_jq "the moment as saved" '.clip_id == 101 and .start_s == 45 and .end_s == 130 and
	.practice == "station-rotation" and .practice_name == "Station rotation" and
	.title == "Groups rotate" and .school == "north-high" and .clip_title == "Rotation, with timers"'
post 101 "$ROSA" '{"start_s": 0, "end_s": 12.5, "practice": "differentiation", "title": "Warm-up <b>tasks</b>"}'
check_status "the featured teacher adds one: 201" 201
M2=$(jb .id)
post 101 "$ADMIN" '{"start_s": 150.25, "end_s": 192, "practice": "peer-feedback", "title": "Two stars and a wish"}'
check_status "an admin adds one up to the clip's very end: 201" 201
M3=$(jb .id)
post 103 "$COACH_N" '{"start_s": 10, "end_s": 5000, "practice": "station-rotation", "title": "Long, length unknown"}'
check_status "a clip whose length is not known yet: the range is not checked against it" 201
M4=$(jb .id)
post 102 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "School-only moment"}'
check_status "a moment on the school-only clip" 201
M5=$(jb .id)
post 104 "$ADMIN" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "Pending moment"}'
check_status "a moment on the consent-pending clip (admin)" 201
M6=$(jb .id)
post 201 "$COACH_R" '{"start_s": 3, "end_s": 9, "practice": "station-rotation", "title": "River rotates"}'
check_status "river's coach adds to river's clip" 201
M7=$(jb .id)

# who may not
post 101 "$TEACH_N" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "Not mine"}'
bad "a teacher who is not the featured one: 403" 403 \
	"the moments of a clip are added and changed by those who may edit the clip (its uploader, its school's coaches, admins) and by its featured teacher"
post 101 "$COACH_R" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "Other school"}'
check_status "another school's coach sees the clip but may not add: 403" 403
post 102 "$TEACH_R" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "Cannot see"}'
bad "another school's teacher, a school-only clip: 404" 404 "no clip with id 102, or you may not have access to it"
post 104 "$COACH_R" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "Cannot see"}'
check_status "a consent-pending clip, for another school: 404" 404
post 999 "$ADMIN" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "Nothing"}'
bad "no such clip: 404" 404 "no clip with id 999, or you may not have access to it"
post 101 "" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "Anon"}'
check_status "signed out: 401" 401

# every bad input, with its message
post 101 "$COACH_N" '{"start_s": 130, "end_s": 45, "practice": "station-rotation", "title": "Backwards"}'
bad "end before start: 400" 400 "the moment must end after it starts: it starts at 2:10 and ends at 0:45"
post 101 "$COACH_N" '{"start_s": 45, "end_s": 45, "practice": "station-rotation", "title": "Empty"}'
bad "end equal to start: 400" 400 "the moment must end after it starts: it starts at 0:45 and ends at 0:45"
post 101 "$COACH_N" '{"start_s": -1, "end_s": 45, "practice": "station-rotation", "title": "Negative"}'
bad "a negative start: 400" 400 "start_s must be 0 or more seconds"
post 101 "$COACH_N" '{"start_s": 1, "end_s": -45, "practice": "station-rotation", "title": "Negative"}'
bad "a negative end: 400" 400 "end_s must be 0 or more seconds"
post 101 "$COACH_N" '{"start_s": 150, "end_s": 200, "practice": "station-rotation", "title": "Too far"}'
bad "past the clip's end: 400, saying how long it is" 400 \
	"the moment ends at 3:20, past the end of the clip: the clip is 3:12 long"
post 101 "$COACH_N" '{"start_s": 1e9, "end_s": 2e9, "practice": "station-rotation", "title": "Huge"}'
bad "an absurd time: 400" 400 "start_s must be from 0 to 86400 seconds"
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": ""}'
bad "an empty title: 400" 400 'the title is empty: give the moment a short title, such as "Groups rotate"'
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "   "}'
bad "a title of spaces: 400" 400 "the title is only spaces: give the moment a short title"
LONG=$(printf 'a%.0s' $(seq 201))
post 101 "$COACH_N" "{\"start_s\": 1, \"end_s\": 2, \"practice\": \"station-rotation\", \"title\": \"$LONG\"}"
bad "a title of 201 characters: 400" 400 "the title is too long (201 characters): keep it to 200"
post 101 "$COACH_N" "{\"start_s\": 1, \"end_s\": 2, \"practice\": \"station-rotation\", \"title\": \"${LONG:1}\"}"
check_status "a title of 200 characters: 201" 201
req DELETE "/api/v1/moments/$(jb .id)" "$COACH_N"
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "Two\nlines"}'
bad "a title with a line break: 400" 400 "the title contains a control character (a line break or tab?); write it on one line"
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": "juggling", "title": "Unknown"}'
check_status "an unknown practice: 400" 400
check_match "... listing the known practices" "^unknown practice 'juggling'; known practices: .*station-rotation" "$(jb .error)"
sql "UPDATE practices SET retired_at = '2026-01-01T00:00:00Z' WHERE slug = 'mastery-tracking'"
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": "mastery-tracking", "title": "Retired"}'
check_status "a retired practice: 400" 400
check_match "... saying so" "^the practice 'mastery-tracking' \(Mastery tracking\) was retired on 2026-01-01 and takes no new moments" "$(jb .error)"
post 101 "$COACH_N" '{"start_s": "45", "end_s": 130, "practice": "station-rotation", "title": "Text time"}'
bad "a time as a string: 400" 400 "start_s must be a number of seconds into the clip, such as 45 or 130.5"
post 101 "$COACH_N" '{"start_s": 45, "end_s": null, "practice": "station-rotation", "title": "Null"}'
bad "a null time: 400" 400 "end_s must be a number of seconds into the clip, such as 45 or 130.5"
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": 7, "title": "Number practice"}'
bad "a practice that is not a string: 400" 400 'practice must be a string: the practice'"'"'s slug, such as "station-rotation"'
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": ["x"]}'
bad "a title that is not a string: 400" 400 "title must be a string"
post 101 "$COACH_N" '{"start_s": 1, "practice": "station-rotation", "title": "No end"}'
bad "a missing end: 400" 400 'the moment has no end_s: send {"start_s": 45, "end_s": 130, "practice": "station-rotation", "title": "Groups rotate"}'
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2, "practice": "station-rotation", "title": "x", "colour": "red"}'
bad "an unknown field: 400" 400 "unknown field 'colour'; a moment has start_s, end_s, practice, title"
post 101 "$COACH_N" '{"start_s": 1, "end_s": 2,'
check_status "JSON cut short: 400" 400
check_match "... saying where" '^the body is not valid JSON: .*line 1' "$(jb .error)"
post 101 "$COACH_N" '[1, 2]'
bad "a JSON array: 400" 400 "the body must be a JSON object"
req POST /api/v1/clips/101/moments "$COACH_N" -H 'Content-Type: application/json'
bad "no body: 400" 400 "the request needs a JSON object as its body"
req POST /api/v1/clips/101/moments "$COACH_N" -H 'Content-Type: text/plain' --data-binary '{}'
bad "not JSON's content type: 415" 415 "send the body as JSON with Content-Type: application/json"
BIGBODY=$(head -c 70000 /dev/zero | tr '\0' ' ')
req POST /api/v1/clips/101/moments "$COACH_N" -H 'Content-Type: application/json' --data-binary "{$BIGBODY}"
check_status "a body over 64 KB is refused: 413" 413

# ------------------------------------------------------------------ read
req GET /api/v1/clips/101/moments "$TEACH_R"
check_status "another school's teacher reads a district clip's moments: 200" 200
check_jq "... in order of start, each whole" '[.moments[].id] == ['"$M2, $M1, $M3"'] and
	.moments[0].title == "Warm-up <b>tasks</b>" and .moments[0].end_s == 12.5 and
	.moments[2].start_s == 150.25'
req GET /api/v1/clips/102/moments "$TEACH_R"
bad "a school-only clip's moments, from another school: 404" 404 "no clip with id 102, or you may not have access to it"
req GET /api/v1/clips/102/moments "$TEACH_N"
check_jq "... from its own school: there" '[.moments[].id] == ['"$M5"']'
req GET /api/v1/clips/104/moments "$TEACH_N"
check_status "a consent-pending clip's moments, for its school's teacher: 404" 404
req GET /api/v1/clips/201/moments "$TEACH_N"
check_jq "river's moment, for a north teacher" '[.moments[].id] == ['"$M7"']'

# across schools
req GET "/api/v1/moments?practice=station-rotation" "$TEACH_R"
check_jq "across schools, a river teacher: district clips only" \
	'.total == 3 and .page == 1 and .per_page == 20 and ([.moments[].id] | sort) == (['"$M1, $M4, $M7"'] | sort)'
req GET "/api/v1/moments?practice=station-rotation" "$TEACH_N"
check_jq "... a north teacher: with their school-only clip's, not the pending one's" \
	'.total == 4 and ([.moments[].id] | sort) == (['"$M1, $M4, $M5, $M7"'] | sort)'
req GET "/api/v1/moments?practice=station-rotation" "$ADMIN"
check_jq "... an admin: all" '.total == 5'
req GET "/api/v1/moments?school=river-school" "$TEACH_N"
check_jq "by school" '.total == 1 and .moments[0].id == '"$M7"' and .moments[0].school == "river-school"'
req GET "/api/v1/moments?school=north-high&practice=differentiation" "$TEACH_R"
check_jq "by school and practice" '.total == 1 and .moments[0].id == '"$M2"
req GET "/api/v1/moments?per_page=2&page=2" "$TEACH_R"
check_jq "pages" '.total == 5 and .page == 2 and .per_page == 2 and (.moments | length) == 2'
req GET "/api/v1/moments?per_page=2&page=9" "$TEACH_R"
check_jq "past the last page: none, and the total" '.total == 5 and (.moments | length) == 0'
req GET "/api/v1/moments?practice=juggling" "$TEACH_R"
check_status "an unknown practice in a list: 400" 400
check_match "... listing the known" "^unknown practice 'juggling'; known practices: " "$(jb .error)"
req GET "/api/v1/moments?school=atlantis" "$TEACH_R"
check_status "an unknown school: 400" 400
check_match "... listing the known" "^unknown school 'atlantis'; known schools: .*north-high" "$(jb .error)"
req GET "/api/v1/moments?per_page=0" "$TEACH_R"
bad "per_page 0: 400" 400 "per_page must be a whole number from 1 to 100"
req GET "/api/v1/moments?per_page=101" "$TEACH_R"
bad "per_page 101: 400" 400 "per_page must be a whole number from 1 to 100"
req GET "/api/v1/moments?page=first" "$TEACH_R"
bad "page not a number: 400" 400 "page must be a whole number from 1 to 1000000"
req GET /api/v1/moments ""
check_status "signed out: 401" 401

# ------------------------------------------------------------------ change
mpatch "$M1" "$ROSA" '{"title": "Groups rotate, timer on the board"}'
check_status "the featured teacher renames a moment: 200" 200
check_jq "... the rest as it was" '.id == '"$M1"' and .title == "Groups rotate, timer on the board" and
	.start_s == 45 and .end_s == 130 and .practice == "station-rotation"'
mpatch "$M1" "$COACH_N" '{"end_s": 140, "practice": "differentiation"}'
check_jq "a subset of fields changes" '.end_s == 140 and .practice == "differentiation" and .start_s == 45'
mpatch "$M1" "$COACH_N" '{"start_s": 150}'
bad "a new start after the end: 400" 400 "the moment must end after it starts: it starts at 2:30 and ends at 2:20"
mpatch "$M1" "$COACH_N" '{"end_s": 192.5}'
bad "a new end past the clip's: 400" 400 "the moment ends at 3:12.5, past the end of the clip: the clip is 3:12 long"
mpatch "$M1" "$COACH_N" '{}'
bad "nothing to change: 400" 400 "nothing to change: send one or more of start_s, end_s, practice, title"
mpatch "$M1" "$COACH_N" '{"title": ""}'
bad "an empty title: 400" 400 'the title is empty: give the moment a short title, such as "Groups rotate"'
mpatch "$M1" "$COACH_N" '{"practice": "juggling"}'
check_match "an unknown practice: 400, listing the known" "^400 unknown practice 'juggling'; known practices: " "$STATUS $(jb .error)"
mpatch "$M1" "$COACH_N" '{"start_s": -3}'
bad "a negative start: 400" 400 "start_s must be 0 or more seconds"
mpatch "$M1" "$TEACH_N" '{"title": "Mine now"}'
check_status "a teacher who is not featured: 403" 403
mpatch "$M5" "$TEACH_R" '{"title": "Cannot see"}'
bad "a moment of a clip not seen: 404" 404 "no moment with id $M5, or you may not have access to it"
mpatch 99999 "$ADMIN" '{"title": "Nothing"}'
bad "no such moment: 404" 404 "no moment with id 99999, or you may not have access to it"
req GET /api/v1/clips/101/moments "$TEACH_R"
check_jq "refused changes changed nothing" '[.moments[] | select(.id == '"$M1"')][0] |
	.title == "Groups rotate, timer on the board" and .end_s == 140 and .start_s == 45'

# ------------------------------------------------------------------ merge, remove
"$BIN" practice merge differentiation station-rotation --data "$DATA" >/dev/null 2>"$WORK/merge.err"
check_eq "practice merge runs" 0 "$?"
req GET /api/v1/clips/101/moments "$ADMIN"
check_jq "a merged practice's moments move to the other" '[.moments[].practice] | all(. == "station-rotation" or . == "peer-feedback")'
check_jq "... none lost" '(.moments | length) == 3'

req DELETE "/api/v1/moments/$M3" "$TEACH_N"
bad "a teacher who is not featured may not remove: 403" 403 \
	"the moments of a clip are added and changed by those who may edit the clip (its uploader, its school's coaches, admins) and by its featured teacher"
req DELETE "/api/v1/moments/$M5" "$TEACH_R"
check_status "a moment of a clip not seen: 404" 404
req DELETE "/api/v1/moments/$M3" "$ROSA"
check_status "the featured teacher removes one: 204" 204
req DELETE "/api/v1/moments/$M3" "$ROSA"
bad "removed: 404" 404 "no moment with id $M3, or you may not have access to it"
req DELETE "/api/v1/moments/$M6" "$ADMIN"
check_status "an admin removes one: 204" 204

# the moments table is the catalogue's: a deleted clip takes its moments
req DELETE /api/v1/clips/201 "$ADMIN"
check_status "an admin deletes river's clip" 204
check_eq "... and its moments go with it" 0 "$(sql "SELECT count(*) FROM moments WHERE clip_id = 201")"

# ------------------------------------------------------------------ upload
echo "# making test videos"
M=$WORK/media
mkdir -p "$M/folder" "$M/manifest"
ff -f lavfi -i testsrc2=size=160x120:rate=10:duration=6 -c:v libx264 -pix_fmt yuv420p "$M/six.mp4"
ff -f lavfi -i testsrc=size=160x120:rate=10:duration=4 -c:v libx264 -pix_fmt yuv420p "$M/folder/lesson.mp4"
ff -f lavfi -i smptebars=size=160x120:rate=10:duration=4 -c:v libx264 -pix_fmt yuv420p "$M/manifest/a.mp4"
ff -f lavfi -i rgbtestsrc=size=160x120:rate=10:duration=4 -c:v libx264 -pix_fmt yuv420p "$M/manifest/b.mp4"
ff -f lavfi -i mandelbrot=size=160x120:rate=10 -t 4 -c:v libx264 -pix_fmt yuv420p "$M/srt.mp4"
ff -f lavfi -i life=size=160x120:rate=10 -t 4 -c:v libx264 -pix_fmt yuv420p "$M/badcap.mp4"
up() { "$BIN" upload --server "$URL" --token "$COACH_N" --school north-high --practice station-rotation "$@"; }
clip_moments() { # ID: "start-end practice title|..." as the server has them
	req GET "/api/v1/clips/$1/moments" "$COACH_N"
	jq -r '[.moments[] | "\(.start_s)-\(.end_s) \(.practice) \(.title)"] | join("|")' "$WORK/body"
}

# --moment, with bad specs refused before anything is sent
CLIPS_BEFORE=$(sql 'SELECT count(*) FROM clips')
run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice station-rotation \
	--moment "0:05-0:02 station-rotation Backwards" "$M/six.mp4"
check_eq "--moment with end before start: exit 2" 2 "$RC"
check_eq "... saying why" 'kindling: --moment "0:05-0:02 station-rotation Backwards": the moment must end after it starts: it starts at 0:05 and ends at 0:02' "$ERR"
check_eq "... nothing sent" "$CLIPS_BEFORE" "$(sql 'SELECT count(*) FROM clips')"
run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice station-rotation \
	--moment "0:01-0:02 station-rotation One" "$M/six.mp4" "$M/srt.mp4"
check_eq "--moment with two videos: exit 2" 2 "$RC"
check_match "... saying to use a manifest" 'are for one video, and 2 were given' "$ERR"
run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice station-rotation \
	--captions "$M/none.vtt" "$M/six.mp4"
check_eq "--captions with no such file: exit 2" 2 "$RC"
check_eq "... saying so" "kindling: --captions $M/none.vtt: no such file" "$ERR"
run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice station-rotation \
	--moment $'0:01-0:02 station-rotation Caf\xe9 talk' "$M/six.mp4"
check_eq "--moment in Latin-1, not UTF-8: exit 2" 2 "$RC"
check_match "... saying to use UTF-8" 'the moment is not UTF-8 text' "$ERR"

run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice station-rotation \
	--dry-run --moment "0:01-0:03 station-rotation Groups rotate" "$M/six.mp4"
check_match "--dry-run says the moment would be added" 'would then add the moment "0:01-0:03 station-rotation Groups rotate"' "$OUT"

OUT=$(up --json --moment "0:01-0:03 station-rotation Groups rotate" \
	--moment "0:04-0:05.5 peer-feedback Two stars" --moment "0:04-0:09 peer-feedback Past the end" \
	"$M/six.mp4" 2>"$WORK/up.err")
RC=$?
printf '%s\n' "$OUT" >"$WORK/body"
SIX=$(jb .id)
check_eq "--moment: the clip is ready, two moments added, the third refused: exit 1" \
	"1 ready 2 null" "$RC $(jb .status) $(jb .moments_added) $(jb .captions_error)"
check_eq "... moments_error says which and why" \
	'moments not added: "0:04-0:09 peer-feedback Past the end": the moment ends at 0:09, past the end of the clip: the clip is 0:06 long' \
	"$(jb .moments_error)"
check_eq "... the server has the two" "1-3 station-rotation Groups rotate|4-5.5 peer-feedback Two stars" \
	"$(clip_moments "$SIX")"
OUT=$(up --moment "0:01-0:03 station-rotation Groups rotate" --moment "0:02-0:04 station-rotation Another" \
	"$M/six.mp4" 2>"$WORK/up.err")
RC=$?
check_eq "the same upload again: exit 0" 0 "$RC"
check_match "... says the clip is already there" "six.mp4: clip $SIX ready \(already on the server" "$OUT"
check_match "... and that one moment was added" "six.mp4: 1 moment added \(the others were on the clip already\)" "$OUT"
check_eq "... and the moment there already is not added twice" \
	"1-3 station-rotation Groups rotate|2-4 station-rotation Another|4-5.5 peer-feedback Two stars" "$(clip_moments "$SIX")"

# the manifest's moments column
cat >"$M/clips.csv" <<'CSV'
file,title,moments
a.mp4,Bars,"0:00.5-0:01.5 station-rotation First look; 0:02-0:03.25 student-choice Second look ;"
b.mp4,Colours,
CSV
OUT=$(up --json --manifest "$M/clips.csv" "$M/manifest" 2>"$WORK/up.err")
RC=$?
check_eq "a manifest with a moments column: exit 0" 0 "$RC"
A=$(printf '%s\n' "$OUT" | jq -r 'select(.file | endswith("a.mp4")) | .id')
B=$(printf '%s\n' "$OUT" | jq -r 'select(.file | endswith("b.mp4")) | .id')
check_eq "... a.mp4 ready with two moments" "ready 2" \
	"$(printf '%s\n' "$OUT" | jq -r 'select(.file | endswith("a.mp4")) | "\(.status) \(.moments_added)"')"
check_eq "... on the server" "0.5-1.5 station-rotation First look|2-3.25 student-choice Second look" "$(clip_moments "$A")"
check_eq "... b.mp4 without moments, none" "" "$(clip_moments "$B")"
req GET "/api/v1/clips/$A" "$COACH_N"
check_eq "... the column is not clip metadata" "Bars" "$(jb .title)"
cat >"$M/bad.csv" <<'CSV'
file,moments
srt.mp4,"0:01-0:02 station-rotation Good; 0:03 station-rotation Broken"
CSV
run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice station-rotation \
	--manifest "$M/bad.csv" "$M/srt.mp4"
check_eq "a manifest row with a bad moment: exit 1" 1 "$RC"
check_eq "... that file is not sent, and the line says why" \
	"$M/srt.mp4: failed: the moment \"0:03 station-rotation Broken\" (manifest's moments column): the start time is not followed by '-' and an end time: write it as \"0:45-2:10 station-rotation Groups rotate\"; nothing was sent: fix it and upload again" "$OUT"

# captions: a sidecar in a folder, --captions with SRT, a broken file
cat >"$M/folder/lesson.vtt" <<'VTT'
WEBVTT

00:00:00.500 --> 00:00:02.000
Everyone find your station.

00:00:02.000 --> 00:00:03.500
Rotate when the timer rings.
VTT
OUT=$(up --json --moment "0:01-0:02 station-rotation Sidecar" "$M/folder" 2>"$WORK/up.err")
RC=$?
printf '%s\n' "$OUT" >"$WORK/body"
LESSON=$(jb .id)
check_eq "a folder with lesson.mp4 and lesson.vtt: one clip, captions sent, exit 0" \
	"0 1 true null 1" "$RC $(printf '%s\n' "$OUT" | wc -l) $(jb .captions_sent) $(jb .captions_error) $(jb .moments_added)"
check_match "... the .vtt is not uploaded as a video" "lesson.mp4" "$(jb .file)"
req GET "/api/v1/clips/$LESSON" "$COACH_N"
check_eq "... the clip has uploaded captions" "uploaded" "$(jb .captions)"
CAPURL=$(jb .captions_url)
req GET "${CAPURL#"$URL"}" "$COACH_N"
check_match "... served, with the sidecar's words" "Rotate when the timer rings" "$(cat "$WORK/body")"

cat >"$M/srt.srt" <<'SRT'
1
00:00:00,500 --> 00:00:01,500
A fractal appears.

2
00:00:02,000 --> 00:00:03,000
It grows.
SRT
cp "$M/srt.srt" "$M/given.srt"
OUT=$(up --json --captions "$M/given.srt" "$M/srt.mp4" 2>"$WORK/up.err")
RC=$?
printf '%s\n' "$OUT" >"$WORK/body"
SRTID=$(jb .id)
check_eq "--captions FILE.srt: sent, exit 0" "0 true null" "$RC $(jb .captions_sent) $(jb .captions_error)"
req GET "/api/v1/clips/$SRTID" "$COACH_N"
CAPURL=$(jb .captions_url)
req GET "${CAPURL#"$URL"}" "$COACH_N"
check_match "... converted to WebVTT and served" "^WEBVTT" "$(cat "$WORK/body")"
check_match "... with its words" "It grows" "$(cat "$WORK/body")"

printf 'WEBVTT\n\n00:00:01.000 --> 00:00:00.500\nBackwards cue\n' >"$M/badcap.vtt"
run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice station-rotation \
	--json "$M/badcap.mp4"
printf '%s\n' "$OUT" >"$WORK/body"
check_eq "a broken sidecar: the clip is up, exit 1" "1 ready false" "$RC $(jb .status) $(jb .captions_sent)"
check_match "... captions_error names the file and the line" "^captions $M/badcap.vtt refused: line [0-9]+" "$(jb .captions_error)"

check_server_log
finish
