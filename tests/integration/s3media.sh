#!/usr/bin/env bash
# tests/integration/s3media.sh - a server whose media live in object storage
# (storage = s3://BUCKET/PREFIX in kindling.conf), against a real
# S3-compatible server (s3rver from npm, on a free loopback port):
#
#   - a clip uploaded with the CLI and one ingested are processed on this
#     machine and their files moved to the bucket: nothing of them is left
#     in the data folder but the catalogue;
#   - media answers with a redirect to a presigned URL, after the same
#     sign-in and privacy check as before: the bytes behind it are the
#     processed files (ffprobe reads the video over HTTP through it), the
#     redirect is kept by no cache, and nobody who may not see the clip
#     gets one;
#   - withdrawing consent and deleting take effect at once for new
#     requests; deleting removes the clip's objects;
#   - with media_delivery = proxy the bytes come through the server instead
#     (Range, ETag, ffprobe reading over HTTP);
#   - `kindling move-to` copies a data folder's media into a bucket, checks
#     every file's SHA-256, leaves the folder as it was, sends nothing twice
#     and again what is damaged; the folder then serves from the bucket;
#   - a server whose credentials the storage refuses does not start, and
#     says why.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/s3media.sh
#
# Needs node with s3rver (make deps-test), ffmpeg, ffprobe.
# Last line: "s3media: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/node_tools.sh"
begin_suite s3media node ffmpeg ffprobe cmp

node_tools_check storage s3rver >"$WORK/node.txt" 2>&1 ||
	fatal "s3rver runs on this Node" "$(cat "$WORK/node.txt")"

mkdir -p "$WORK/s3" "$DATA"
node "$HERE/s3rver.mjs" "$WORK/s3" kindling-media >"$WORK/s3rver.log" 2>&1 &
SERVER_PIDS+=("$!")   # stopped by the EXIT trap
wait_until 30 grep -q '^s3rver: http' "$WORK/s3rver.log" ||
	fatal "s3rver starts on a free loopback port" "$(tail -c 400 "$WORK/s3rver.log")"
S3_URL=$(sed -n 's/^s3rver: //p' "$WORK/s3rver.log")
ok "s3rver listens at $S3_URL"
# what s3rver keeps of an object: <dir>/<bucket>/<key>._S3rver_object
OBJ=$WORK/s3/kindling-media/district-3
object() { echo "$OBJ/$1._S3rver_object"; }

printf 'storage = s3://kindling-media/district-3\ns3_endpoint = %s\n' "$S3_URL" >"$DATA/kindling.conf"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null &&
	"$BIN" school add riverside "Riverside" --data "$DATA" >/dev/null ||
	fatal "schools are added" "$(log_tail)"
ADMIN=$(add_user admin admin)
COACH=$(add_user coach-north coach north-high)
TEACH_N=$(add_user teach-north teacher north-high)
TEACH_R=$(add_user teach-river teacher riverside)

M=$WORK/media
mkdir -p "$M"
ff -f lavfi -i testsrc2=size=640x360:rate=25:duration=3 -f lavfi -i sine=frequency=440:duration=3 \
	-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$M/lesson.mp4"
ff -f lavfi -i testsrc=size=320x240:rate=25:duration=2 -c:v mpeg4 "$M/ingested.avi"

start_server "$DATA" || fatal "the server starts with media in object storage" "$(log_tail)"
check_match "its log names the bucket" 's3://kindling-media/district-3' \
	"$(grep 'media in' "$SERVER_LOG")"

# ------------------------------------------------------------ upload
run_cli upload --server "$URL" --token "$COACH" --school north-high --practice station-rotation \
	--title "Stations in object storage" --visibility district --consent on-file --wait --json \
	"$M/lesson.mp4"
check_eq "the coach's upload exits 0" 0 "$RC"
CLIP=$(jq -r .id <<<"$OUT" 2>/dev/null)
check_match "it has an id" '^[0-9]+$' "$CLIP"
req GET "/api/v1/clips/$CLIP" "$COACH"
check_eq "the clip is ready" ready "$(jb .status)"

for f in original video.mp4 thumbnail.jpg poster.jpg storyboard.vtt storyboard.jpg; do
	check "its $f is in the bucket" test -s "$(object "$CLIP/$f")"
done
check "the stored original is the file uploaded" cmp -s "$M/lesson.mp4" "$(object "$CLIP/original")"
check "nothing of it is left in the data folder" test ! -e "$DATA/media/$CLIP"

# ------------------------------------------------------------ serving
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_N"
check_eq "a teacher asking for the video is redirected" 302 "$STATUS"
LOC=$(header Location)
check_match "to a presigned URL of the object, at the storage" \
	"^$S3_URL/kindling-media/district-3/$CLIP/video.mp4\\?X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Signature=[0-9a-f]{64}" "$LOC"
check_match "that lives for hours, not days" 'X-Amz-Expires=21600(&|$)' "$LOC"
check_match "the redirect itself is kept by no cache" 'no-store' "$(header Cache-Control)"
curl -s -o "$WORK/video.mp4" -D "$WORK/s3headers" "$LOC"
check "the bytes behind it are the processed video" \
	cmp -s "$WORK/video.mp4" "$(object "$CLIP/video.mp4")"
check_match "served as video/mp4" '^[Cc]ontent-[Tt]ype: video/mp4' "$(grep -i content-type "$WORK/s3headers")"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$LOC")
check_match "ffprobe reads the video over HTTP through the link" '^(2\.9|3\.0)' "$dur"
code=$(curl -s -o /dev/null -w '%{http_code}' -r 100-199 "$LOC")
check_eq "a range of it through the link is 206" 206 "$code"

code=$(curl -s -L -o "$WORK/thumb.jpg" -w '%{http_code}' -H "Authorization: Bearer $TEACH_N" \
	"$URL/media/clips/$CLIP/thumbnail.jpg")
check_eq "a thumbnail followed through the redirect is 200" 200 "$code"
check "and is the stored thumbnail" cmp -s "$WORK/thumb.jpg" "$(object "$CLIP/thumbnail.jpg")"

req GET "/media/clips/$CLIP/storyboard.vtt" "$TEACH_N"
check_eq "the storyboard's WebVTT is passed through (no CORS for the page's script)" \
	"200 text/vtt; charset=utf-8" "$STATUS $(header Content-Type)"
check "and is the stored one" cmp -s "$WORK/body" "$(object "$CLIP/storyboard.vtt")"
req GET "/login" ""
check_match "pages let pictures and videos come from the storage, and nothing else" \
	"img-src 'self' data: $S3_URL; media-src 'self' $S3_URL;" "$(header Content-Security-Policy)"

req GET "/media/clips/$CLIP/video.mp4" ""
check_eq "signed out: 401, no link" "401 " "$STATUS $(header Location)"
req GET "/media/clips/$CLIP/captions.vtt" "$TEACH_N"
check_eq "a file the clip does not have: 404, no link" "404 " "$STATUS $(header Location)"

patch "$CLIP" "$COACH" '{"visibility":"school"}'
check_eq "the coach makes it school-only" 200 "$STATUS"
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_R"
check_eq "a teacher of another school: 404, no link" "404 " "$STATUS $(header Location)"
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_N"
check_eq "a teacher of the school still gets one" 302 "$STATUS"

patch "$CLIP" "$ADMIN" '{"consent":"withdrawn","consent_reason":"a parent asked"}'
check_eq "consent is withdrawn" 200 "$STATUS"
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_N"
check_eq "the next request for its video: 404, no link" "404 " "$STATUS $(header Location)"

# ------------------------------------------------------------ ingest
out=$("$BIN" ingest --data "$DATA" --school north-high --practice station-rotation --wait --json \
	"$M/ingested.avi" 2>"$WORK/ingest.err")
check_eq "an ingest --wait ends ready" ready "$(jq -r .status <<<"$out" 2>/dev/null)"
ING=$(jq -r .id <<<"$out" 2>/dev/null)
check "its video is in the bucket" test -s "$(object "$ING/video.mp4")"
check "its original is the file ingested" cmp -s "$M/ingested.avi" "$(object "$ING/original")"
check "and nothing of it is left in the data folder" test ! -e "$DATA/media/$ING"

# ------------------------------------------------------------ delete
req DELETE "/api/v1/clips/$ING" "$ADMIN"
check_eq "the admin deletes the ingested clip" 204 "$STATUS"
check_eq "its objects are gone from the bucket" 0 \
	"$(find "$OBJ/$ING" -name '*._S3rver_object' 2>/dev/null | wc -l)"
req GET "/media/clips/$ING/video.mp4" "$ADMIN"
check_eq "a request for its video: 404, no link" "404 " "$STATUS $(header Location)"
check "the other clip's objects are still there" test -s "$(object "$CLIP/video.mp4")"

stop_server
check_eq "the server stops cleanly" 0 "$STOP_RC"

# ------------------------------------------------------------ proxy
printf 'storage = s3://kindling-media/district-3\ns3_endpoint = %s\nmedia_delivery = proxy\n' \
	"$S3_URL" >"$DATA/kindling.conf"
start_server "$DATA" || fatal "the server starts with media_delivery = proxy" "$(log_tail)"
patch "$CLIP" "$ADMIN" '{"consent":"on-file"}'
check_eq "consent is on file again" 200 "$STATUS"
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_N"
check_eq "through the server: the video is 200, no link" "200 " "$STATUS $(header Location)"
check "the bytes are the stored video" cmp -s "$WORK/body" "$(object "$CLIP/video.mp4")"
ETAG=$(header ETag)
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_N" -r 1000-200999
check_eq "a range is 206 with its 200,000 bytes" "206 200000" "$STATUS $GOT"
check "they are those bytes of the video" cmp -s "$WORK/body" \
	<(tail -c +1001 "$(object "$CLIP/video.mp4")" | head -c 200000)
check_match "with its Content-Range" '^bytes 1000-200999/[0-9]+$' "$(header Content-Range)"
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_N" -H "If-None-Match: $ETAG"
check_eq "asked again with its ETag: 304" 304 "$STATUS"
req GET "/media/clips/$CLIP/thumbnail.jpg" "$TEACH_N"
check_eq "a picture too" 200 "$STATUS"
check "and it is the stored one" cmp -s "$WORK/body" "$(object "$CLIP/thumbnail.jpg")"
dur=$(ffprobe -v error -headers "Authorization: Bearer $TEACH_N" -show_entries format=duration \
	-of csv=p=0 "$URL/media/clips/$CLIP/video.mp4")
check_match "ffprobe reads the video through the server" '^(2\.9|3\.0)' "$dur"
req GET "/login" ""
check_none "the pages need no other origin" "$(header Content-Security-Policy | grep -o "$S3_URL")"
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_R"
check_eq "still nothing for a teacher of another school" 404 "$STATUS"
check_server_log
stop_server

# ------------------------------------------------------------ backup
run_cli backup --data "$DATA" "$WORK/backup"
if on_postgres; then
	check_eq "kindling backup of a catalogue in PostgreSQL points at pg_dump: exit 1" "1 true" \
		"$RC $(grep -q pg_dump <<<"$ERR" && echo true)"
else
	check_eq "kindling backup copies a catalogue whose media are in a bucket: exit 0" 0 "$RC"
	check_match "it says the media came from the bucket, and how to serve them without it" \
		'from s3://kindling-media/district-3.*remove the storage lines' "$(tr '\n' ' ' <<<"$OUT")"
	check "the copy holds the clip's original, the very object" \
		cmp -s "$WORK/backup/media/$CLIP/original" "$(object "$CLIP/original")"
	check "and its rendition" cmp -s "$WORK/backup/media/$CLIP/video.mp4" "$(object "$CLIP/video.mp4")"
	# the bucket lost: the copy, without its storage lines, serves its own media
	grep -v '^storage\|^s3_\|^media_delivery' "$WORK/backup/kindling.conf" >"$WORK/backup/conf.new"
	mv "$WORK/backup/conf.new" "$WORK/backup/kindling.conf"
	start_server "$WORK/backup" || fatal "the backup serves as a data folder" "$(log_tail)"
	req GET "/media/clips/$CLIP/video.mp4" "$TEACH_N"
	check_eq "restored without the bucket, it serves the video from its own folder" "200 " \
		"$STATUS $(header Location)"
	check "the bytes of the stored video" cmp -s "$WORK/body" "$(object "$CLIP/video.mp4")"
	run_cli check --data "$WORK/backup"
	check_eq "and kindling check finds it whole" 0 "$RC"
	stop_server
fi

# ------------------------------------------------------------ move-to
# A data folder that kept its media on disk moves them to the bucket.  (Its
# catalogue is the folder's own SQLite file whatever this suite runs on:
# moving the catalogue to PostgreSQL is the moveto suite's.)
pg_database=${KINDLING_DATABASE:-}
unset KINDLING_DATABASE
OLD=$WORK/old
"$BIN" school add north-high "North High" --data "$OLD" >/dev/null 2>&1
out=$("$BIN" ingest --data "$OLD" --school north-high --practice station-rotation --wait --json \
	"$M/ingested.avi" "$M/lesson.mp4" 2>"$WORK/ingest.err")
check_eq "a data folder on disk has two clips" "ready ready" "$(jq -r .status <<<"$out" | xargs)"
before=$(cd "$OLD/media" && find . -type f | sort | xargs sha256sum)
MOVED=$WORK/s3/kindling-media/moved
moved() { echo "$MOVED/$1._S3rver_object"; }
move() { run_cli move-to --data "$OLD" --storage s3://kindling-media/moved --s3-endpoint "$S3_URL" "$@"; }
move
check_eq "move-to copies them to a bucket: exit 0" 0 "$RC"
nfiles=$(find "$OLD/media" -type f | wc -l)
check_match "and says what it moved and checked" \
	"moved: 2 clips, $nfiles files \([0-9]+ bytes; $nfiles sent now.*SHA-256" "$OUT"
check_match "and what to do next" 'storage = s3://kindling-media/moved' "$OUT"
same=0
for f in $(cd "$OLD/media" && find . -type f | sed 's#^\./##'); do
	cmp -s "$OLD/media/$f" "$(moved "$f")" && same=$((same + 1))
done
check_eq "every file is in the bucket, byte for byte" "$nfiles" "$same"
check_eq "the data folder is left as it was" "$before" \
	"$(cd "$OLD/media" && find . -type f | sort | xargs sha256sum)"
move
check_match "run again: nothing is sent again" "$nfiles files .* 0 sent now" "$OUT"
printf 'damaged' >"$(moved 1/poster.jpg)"
move
check_match "an object that is not its file is sent again" "$nfiles files .* 1 sent now" "$OUT"
check "and is the file now" cmp -s "$OLD/media/1/poster.jpg" "$(moved 1/poster.jpg)"
other=$(sha256sum <"$(object "$CLIP/video.mp4")")
run_cli move-to --data "$OLD" --storage s3://kindling-media/district-3 --s3-endpoint "$S3_URL"
check_eq "into a prefix holding another data folder's clip of the same id: exit 1" 1 "$RC"
check_match "saying why" "clip $CLIP that is not this data folder's.*empty bucket or prefix" "$ERR"
check_eq "and nothing of it was overwritten" "$other" "$(sha256sum <"$(object "$CLIP/video.mp4")")"
printf 'x' >"$WORK/stray"
curl -s -o /dev/null -X PUT --data-binary @"$WORK/stray" "$S3_URL/kindling-media/stray/notes.txt"
run_cli move-to --data "$OLD" --storage s3://kindling-media/stray --s3-endpoint "$S3_URL"
check_match "into a prefix holding other files: refused, naming one" 'holds notes.txt, which is no clip' "$ERR"
printf 'storage = s3://kindling-media/moved\ns3_endpoint = %s\n' "$S3_URL" >"$OLD/kindling.conf"
OLD_TEACH=$(DATA=$OLD add_user teach-old teacher north-high)
start_server "$OLD" || fatal "the moved data folder serves from the bucket" "$(log_tail)"
req GET "/media/clips/1/video.mp4" "$OLD_TEACH"
check_eq "switched to the bucket, its clips are served from it" 302 "$STATUS"
curl -s -o "$WORK/moved.mp4" "$(header Location)"
check "the same bytes" cmp -s "$WORK/moved.mp4" "$OLD/media/1/video.mp4"
stop_server
[ -n "$pg_database" ] && export KINDLING_DATABASE=$pg_database

# ------------------------------------------------------------ refused
AWS_ACCESS_KEY_ID=NOT-THE-KEY serve_must_fail \
	"with credentials the storage refuses, the server does not start, and says which" \
	"NOT-THE-KEY|access key" --data "$DATA" --listen 127.0.0.1:0

finish
