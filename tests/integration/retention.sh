#!/usr/bin/env bash
# tests/integration/retention.sh - retention_months, legal hold and deleting
# a clip completely, on real clips uploaded through the running server:
#
#   - with retention off, `kindling retention` says so and touches nothing;
#   - with retention_months = 12, it lists exactly the clips recorded (or,
#     without a date, uploaded) more than 12 months ago, and the held one
#     it leaves with the hold's reason, and deletes nothing;
#   - --apply deletes those and nothing on hold: their rows, folders and
#     upload records, their media URLs (404), list and search entries are
#     gone, each with a `retention` audit entry; the held clip is untouched;
#   - deleting a held clip through the API is 409; once the hold is lifted
#     it works and leaves a `delete` entry with the reason, and no file;
#   - a processing node does it by itself (the daily round, its first one
#     brought forward with KINDLING_DAILY_DELAY_S); a web node started with
#     --no-processing does not;
#   - with media in object storage (s3rver), a deleted clip's objects are
#     gone, a held clip's stay.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/retention.sh
#
# Needs ffmpeg, and node with s3rver (make deps-test).
# Last line: "retention: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/node_tools.sh"
begin_suite retention ffmpeg node

mkdir -p "$DATA"
"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>"$WORK/school.err" ||
	fatal "a school is added" "$(cat "$WORK/school.err")"
ADMIN=$(add_user it-admin admin)
COACH=$(add_user coach-north coach north-high)
TEACH=$(add_user teach-north teacher north-high)

M=$WORK/media
mkdir -p "$M"
# distinct files (a clip is known by its SHA-256): a tone of its own each
for i in 1 2 3 4 5 6 7 8; do
	ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 \
		-f lavfi -i "sine=frequency=$((300 + 40 * i)):duration=2" \
		-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$M/c$i.mp4" ||
		fatal "ffmpeg makes test clip $i" "see above"
done

start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# upload N TITLE: a clip through the server, processed; its id in CLIP.
upload() {
	run_cli upload --server "$URL" --token "$COACH" --school north-high \
		--practice station-rotation --title "$2" --visibility district --consent on-file \
		--wait --json "$M/c$1.mp4"
	CLIP=$(jq -r .id <<<"$OUT" 2>/dev/null)
	[[ $RC == 0 && $CLIP =~ ^[0-9]+$ ]] || fatal "upload of '$2' exits 0 with an id" "rc $RC: $ERR"
}
upload 1 "Quillback recorded long ago"
OLD=$CLIP
upload 2 "Quillback without a date"
NODATE=$CLIP
upload 3 "Quillback on hold"
HELD=$CLIP
upload 4 "Quillback recorded lately"
YOUNG=$CLIP
upload 5 "Quillback to delete by hand"
BYHAND=$CLIP

patch "$OLD" "$COACH" '{"recorded_on":"2019-03-04"}'
check_status "its recorded date is set into the past (PATCH recorded_on)" 200
patch "$HELD" "$COACH" '{"recorded_on":"2018-05-06"}'
patch "$BYHAND" "$COACH" '{"recorded_on":"2017-01-02"}'
LATELY=$(date -u -d '2 months ago' +%F)
patch "$YOUNG" "$COACH" "{\"recorded_on\":\"$LATELY\"}"
check_jq "a clip recorded two months ago" ".recorded_on == \"$LATELY\""
# no recorded date: the upload day counts (which no request changes)
sql "UPDATE clips SET uploaded_at = '2020-07-08T09:10:11Z' WHERE id = $NODATE"

req_json PUT "/api/v1/clips/$HELD/hold" "$ADMIN" '{"reason":"records request RR-2291"}'
check_status "an admin puts a clip on legal hold" 200
check_jq "the answer says so, with the reason" '.legal_hold == true and .reason == "records request RR-2291"'
req_json PUT "/api/v1/clips/$BYHAND/hold" "$ADMIN" '{"reason":"complaint C-7"}'
check_status "and another" 200
req_json PUT "/api/v1/clips/$YOUNG/hold" "$COACH" '{"reason":"mine"}'
check_status "a coach may not" 403

ALL="$OLD $NODATE $HELD $YOUNG $BYHAND"
missing=""
for id in $ALL; do
	for f in original video.mp4 thumbnail.jpg poster.jpg; do
		[ -s "$DATA/media/$id/$f" ] || missing="$missing $id/$f"
	done
done
check_none "every clip has its files in the data folder" "$missing"
req GET "/media/clips/$OLD/video.mp4" "$TEACH"
check_status "a teacher watches the old clip" 200

# ------------------------------------------------------------ off
run_cli retention --data "$DATA"
check_eq "retention off: exit 0" 0 "$RC"
check_match "it says retention is off" '^retention is off: retention_months is not set' "$OUT"
run_cli retention --data "$DATA" --apply --json
check_eq "off, --apply --json: exit 0 too" 0 "$RC"
check_eq "and says nothing is past it" "false 0" "$(jq -r '"\(.enabled) \(.clips | length)"' <<<"$OUT")"
check_eq "nothing was deleted" 5 "$(sql "SELECT count(*) FROM clips")"

# ------------------------------------------------------------ the list
printf 'retention_months = 12\n' >>"$DATA/kindling.conf"
run_cli retention --data "$DATA"
check_eq "retention_months = 12: the list exits 0" 0 "$RC"
listed=$(grep -o '^clip [0-9]*' <<<"$OUT" | awk '{print $2}' | sort -n | tr '\n' ' ')
check_eq "it lists exactly the clips past it and the held one" \
	"$(printf '%s\n' "$OLD" "$NODATE" "$HELD" "$BYHAND" | sort -n | tr '\n' ' ')" "$listed"
check_match "the old clip: its title, school, date and age" \
	"^clip $OLD 'Quillback recorded long ago' \\(north-high\\), recorded 2019-03-04, [0-9]+ months ago: past retention" "$OUT"
check_match "the clip without a date goes by its upload day" \
	"^clip $NODATE '[^']*' \\(north-high\\), uploaded 2020-07-08, [0-9]+ months ago: past retention" "$OUT"
check_match "the held one is kept, with the hold's reason" \
	"^clip $HELD '[^']*' \\(north-high\\), recorded 2018-05-06, .*kept: under legal hold since [0-9-]{10} by it-admin \\(records request RR-2291\\)" "$OUT"
check_match "the summary counts them" '2 to delete \(kindling retention --apply\), 2 kept under legal hold' \
	"$(tail -n 1 <<<"$OUT")"
run_cli retention --data "$DATA" --json
check_eq "--json: the same, as actions" \
	"$OLD:to-delete $NODATE:to-delete $HELD:held $BYHAND:held" \
	"$(jq -r '[.clips[] | "\(.id):\(.action)"] | join(" ")' <<<"$OUT" 2>/dev/null)"
check_eq "--json: its counts and the hold's reason" "12 false 2 2 records request RR-2291" \
	"$(jq -r '"\(.retention_months) \(.applied) \(.past) \(.held) \(.clips[] | select(.id == '"$HELD"') | .hold_reason)"' <<<"$OUT" 2>/dev/null)"
check_eq "listing deleted nothing" 5 "$(sql "SELECT count(*) FROM clips")"
check "nor any file" test -s "$DATA/media/$OLD/video.mp4"
check_eq "nor wrote an audit entry" 0 "$(sql "SELECT count(*) FROM audit WHERE action IN ('delete', 'retention')")"

# ------------------------------------------------------------ --apply
OLD_TUS=$(grep -l "\"clip\": *$OLD[,}]" "$DATA"/uploads/*/info.json 2>/dev/null | head -n 1)
if on_postgres; then
	check_eq "(the old clip's upload is on record)" 1 "$(sql "SELECT count(*) FROM uploads WHERE clip_id = $OLD")"
else
	check "(the old clip's upload is on record)" test -n "$OLD_TUS"
fi
run_cli retention --data "$DATA" --apply
check_eq "--apply exits 0" 0 "$RC"
check_match "it says what it deleted" "^clip $OLD '[^']*' .*: deleted$" "$OUT"
check_match "... both" "^clip $NODATE '[^']*' .*: deleted$" "$OUT"
check_match "and what it kept" "^clip $HELD '[^']*' .*kept: under legal hold" "$OUT"
check_match "its summary" '2 deleted, 2 kept under legal hold' "$(tail -n 1 <<<"$OUT")"

problems=""
for id in $OLD $NODATE; do
	[ "$(sql "SELECT count(*) FROM clips WHERE id = $id")" == 0 ] || problems="$problems $id:row"
	[ "$(sql "SELECT count(*) FROM jobs WHERE clip_id = $id")" == 0 ] || problems="$problems $id:jobs"
	[ "$(sql "SELECT count(*) FROM consent_events WHERE clip_id = $id")" == 0 ] || problems="$problems $id:consent"
	[ "$(sql "SELECT count(*) FROM uploads WHERE clip_id = $id")" == 0 ] || problems="$problems $id:upload-row"
	[ -z "$(find "$DATA" -name "$id" 2>/dev/null)" ] || problems="$problems $id:files($(find "$DATA" -name "$id"))"
	grep -qs "\"clip\": *$id[,}]" "$DATA"/uploads/*/info.json && problems="$problems $id:tus-upload"
	n=$(sql "SELECT count(*) FROM audit WHERE clip_id = $id AND action = 'retention' AND user_name = ''")
	[ "$n" == 1 ] || problems="$problems $id:audit=$n"
done
check_none "the deleted clips' rows, jobs, consent history, uploads and files are gone, each with one retention entry" "$problems"
check_eq "the entry says why" "Quillback recorded long ago|'Quillback recorded long ago' of north-high: past retention_months=12: recorded 2019-03-04" \
	"$(sql "SELECT target || '|' || detail FROM audit WHERE clip_id = $OLD AND action = 'retention'")"
check_match "... for a clip without a date too" "past retention_months=12: uploaded 2020-07-08 \\(no recorded date\\)" \
	"$(sql "SELECT detail FROM audit WHERE clip_id = $NODATE AND action = 'retention'")"
run_cli audit --data "$DATA" --clip "$OLD" --format csv
check_match "kindling audit shows it" "retention.*past retention_months=12" "$OUT"

gone=""
for id in $OLD $NODATE; do
	for f in video.mp4 thumbnail.jpg poster.jpg storyboard.vtt; do
		req GET "/media/clips/$id/$f" "$ADMIN"
		[ "$STATUS" == 404 ] || gone="$gone $id/$f:$STATUS"
	done
	req GET "/api/v1/clips/$id" "$ADMIN"
	[ "$STATUS" == 404 ] || gone="$gone api/$id:$STATUS"
	req GET "/clips/$id" "$ADMIN"
	[ "$STATUS" == 404 ] || gone="$gone page/$id:$STATUS"
done
check_none "their media, API answers and pages are 404, even for an admin" "$gone"
check_eq "the list no longer has them" "$(printf '%s\n' "$HELD" "$YOUNG" "$BYHAND" | sort -n | tr '\n' ' ')" \
	"$(req GET "/api/v1/clips?per_page=100" "$ADMIN"; jq -r '[.clips[].id] | sort | map(tostring) | join(" ")' "$WORK/body") "
req GET "/api/v1/clips?q=quillback" "$TEACH"
check_eq "search finds only what is left" 3 "$(jb .total)"
req GET "/search?q=quillback" "$TEACH"
check_match "the search page too finds three" '3 clips found' "$(cat "$WORK/body")"
check_eq "... the held one among them, not the deleted ones" "1 0 0" \
	"$(grep -c "href=\"/clips/$HELD\"" "$WORK/body") $(grep -c "href=\"/clips/$OLD\"" "$WORK/body") $(grep -c "href=\"/clips/$NODATE\"" "$WORK/body")"

req GET "/api/v1/clips/$HELD" "$TEACH"
check_status "the held clip is untouched: a teacher still sees it" 200
check_jq "... ready, its date as it was" '.status == "ready" and .recorded_on == "2018-05-06"'
req GET "/media/clips/$HELD/video.mp4" "$TEACH"
check_status "... and watches it" 200
check "... its files all there" test -s "$DATA/media/$HELD/original"

run_cli retention --data "$DATA" --apply
check_eq "a second --apply: nothing more to delete, exit 0" "0 retention_months=12" "$RC $(tail -n 1 <<<"$OUT" | cut -d' ' -f1)"
check_match "... the held ones still kept" '0 deleted, 2 kept under legal hold' "$(tail -n 1 <<<"$OUT")"

# ------------------------------------------------------------ by hand
req DELETE "/api/v1/clips/$HELD?reason=tidying" "$ADMIN"
check_status "deleting a held clip through the API: 409" 409
check_match "it says why and what to do" 'legal hold.*DELETE /api/v1/clips/[0-9]+/hold' "$(jb .error)"
check_eq "... and deleted nothing" 1 "$(sql "SELECT count(*) FROM clips WHERE id = $HELD")"
req DELETE "/api/v1/clips/$HELD/hold" "$ADMIN"
check_status "an admin lifts the hold" 200
check_jq "the answer says so" '.legal_hold == false'
if on_postgres; then
	check_eq "(its upload is on record)" 1 "$(sql "SELECT count(*) FROM uploads WHERE clip_id = $HELD")"
else
	check "(its upload is on record)" grep -qs "\"clip\": *$HELD[,}]" "$DATA"/uploads/*/info.json
fi
req DELETE "/api/v1/clips/$HELD?reason=$(uri 'request RR-2291 answered')" "$COACH"
check_status "then its school's coach deletes it" 204
check_eq "the delete entry names who and why" \
	"coach-north|'Quillback on hold' of north-high: request RR-2291 answered" \
	"$(sql "SELECT user_name || '|' || detail FROM audit WHERE clip_id = $HELD AND action = 'delete'")"
check_eq "no file of it is left anywhere in the data folder" "" "$(find "$DATA" -name "$HELD")"
check_eq "nor its upload" "0 " \
	"$(sql "SELECT count(*) FROM uploads WHERE clip_id = $HELD") $(grep -ls "\"clip\": *$HELD[,}]" "$DATA"/uploads/*/info.json)"
req GET "/media/clips/$HELD/video.mp4" "$TEACH"
check_status "its video is 404" 404
req DELETE "/api/v1/clips/$HELD" "$ADMIN"
check_status "deleting it again: 404" 404

# ------------------------------------------------------------ the daily round
stop_server
check_eq "the server stops cleanly" 0 "$STOP_RC"
"$BIN" ingest --data "$DATA" --school north-high --practice station-rotation --title "Quillback ingested" \
	--recorded 2016-02-03 --wait --json "$M/c6.mp4" >"$WORK/ingest.json" 2>"$WORK/ingest.err"
DAILY=$(jq -r .id "$WORK/ingest.json" 2>/dev/null | head -n 1)
check_match "a clip recorded in 2016 is ingested" '^[0-9]+$' "$DAILY"
check "... with its files" test -s "$DATA/media/$DAILY/original"

export KINDLING_DAILY_DELAY_S=0
start_server_with --data "$DATA" --listen 127.0.0.1:0 --no-processing ||
	fatal "a web node starts (--no-processing)" "$(log_tail)"
WEB_LOG=$SERVER_LOG
export KINDLING_DAILY_DELAY_S=1
start_server "$DATA" || fatal "a server that processes starts" "$(log_tail)"
unset KINDLING_DAILY_DELAY_S
row_gone() { [ "$(sql "SELECT count(*) FROM clips WHERE id = $DAILY")" == 0 ]; }
check "its daily round deletes the clip past retention, within seconds of the start it was set to" \
	wait_until 30 row_gone
check "... and its files" wait_until 10 test ! -e "$DATA/media/$DAILY"
check_eq "... as kindling, with its entry" 1 \
	"$(sql "SELECT count(*) FROM audit WHERE clip_id = $DAILY AND action = 'retention' AND user_name = ''")"
check "its log says what the round did" grep -q 'retention: retention_months=12: 1 deleted' "$SERVER_LOG"
check "the web node did no round of its own" bash -c "! grep -Eq ' (retention|erase): ' '$WEB_LOG'"
check_eq "the held clip and the young one are still there" "$BYHAND $YOUNG" \
	"$(sql "SELECT id FROM clips WHERE id IN ($BYHAND, $YOUNG) ORDER BY hold_at IS NULL, id" | tr '\n' ' ' | sed 's/ $//')"
check_server_log
stop_server "$SERVER_PID"
for pid in "${SERVER_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && stop_server "$pid"; done

# ------------------------------------------------------------ object storage
node_tools_check retention s3rver >"$WORK/node.txt" 2>&1 ||
	fatal "s3rver runs on this Node" "$(cat "$WORK/node.txt")"
mkdir -p "$WORK/s3"
node "$HERE/s3rver.mjs" "$WORK/s3" kindling-media >"$WORK/s3rver.log" 2>&1 &
SERVER_PIDS+=("$!")
wait_until 30 grep -q '^s3rver: http' "$WORK/s3rver.log" ||
	fatal "s3rver starts on a free loopback port" "$(tail -c 400 "$WORK/s3rver.log")"
S3_URL=$(sed -n 's/^s3rver: //p' "$WORK/s3rver.log")
OBJ=$WORK/s3/kindling-media/district-9
printf 'storage = s3://kindling-media/district-9\ns3_endpoint = %s\n' "$S3_URL" >>"$DATA/kindling.conf"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN
start_server "$DATA" || fatal "the server starts with media in object storage" "$(log_tail)"
upload 7 "Quillback in the bucket"
S3OLD=$CLIP
upload 8 "Quillback held in the bucket"
S3HELD=$CLIP
patch "$S3OLD" "$COACH" '{"recorded_on":"2015-01-01"}'
patch "$S3HELD" "$COACH" '{"recorded_on":"2015-01-02"}'
req_json PUT "/api/v1/clips/$S3HELD/hold" "$ADMIN" '{"reason":"litigation L-3"}'
check_status "a clip in the bucket is held" 200
check "the clip's objects are in the bucket" test -s "$OBJ/$S3OLD/video.mp4._S3rver_object"
check "... and nothing of it in the data folder" test ! -e "$DATA/media/$S3OLD"
run_cli retention --data "$DATA" --apply
check_eq "--apply with media in the bucket exits 0" 0 "$RC"
check_match "it deleted the old clip" "^clip $S3OLD '[^']*' .*: deleted$" "$OUT"
check_eq "none of its objects is left in the bucket" "" "$(ls -A "$OBJ/$S3OLD" 2>/dev/null)"
check "the held clip's objects stay" test -s "$OBJ/$S3HELD/video.mp4._S3rver_object"
req GET "/media/clips/$S3OLD/video.mp4" "$TEACH"
check_status "the deleted clip's video: 404" 404
req DELETE "/api/v1/clips/$S3HELD/hold" "$ADMIN"
req DELETE "/api/v1/clips/$S3HELD?reason=settled" "$ADMIN"
check_status "the other, its hold lifted, deleted through the API" 204
check_eq "its objects are gone too" "" "$(ls -A "$OBJ/$S3HELD" 2>/dev/null)"
check_server_log

finish
