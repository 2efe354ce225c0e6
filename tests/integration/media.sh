#!/usr/bin/env bash
# tests/integration/media.sh - serving a clip's media files: who may fetch
# them, Content-Type and caching headers, Range (206, 416), HEAD, ETag with
# If-None-Match (304), and names that must not be served (the original
# upload, anything not in the clip's list).
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/media.sh
#
# Needs curl, jq and the sqlite3 CLI (for the shared fixture: clip 901 has a
# 5000-byte video.mp4, 905 is private with a thumbnail).
# Last line: "media: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite media sqlite3

fixture_catalogue
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

req GET /media/clips/901/video.mp4 ""
check_status "media without a token: 401" 401
req GET /media/clips/901/video.mp4 "$TEACH_N"
same=no
cmp -s "$WORK/body" "$DATA/media/901/video.mp4" && same=yes
check_eq "GET video.mp4: 200, video/mp4, the whole file" "200 video/mp4 yes" \
	"$STATUS $(header Content-Type) $same"
check_match "media: Accept-Ranges: bytes, and Cache-Control private" '^bytes .*private' \
	"$(header Accept-Ranges) $(header Cache-Control)"
ETAG=$(header ETag)
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "Range: bytes=0-99"
same=no
cmp -s "$WORK/body" <(head -c 100 "$DATA/media/901/video.mp4") && same=yes
check_eq "Range bytes=0-99: 206, Content-Range, exactly the first 100 bytes" \
	"206 bytes 0-99/5000 yes" "$STATUS $(header Content-Range) $same"
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "Range: bytes=-100"
check_eq "Range bytes=-100: the last 100 bytes" "206 bytes 4900-4999/5000" "$STATUS $(header Content-Range)"
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "Range: bytes=999999-"
got="$STATUS $(header Content-Range)"
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "Range: bytes=5000-"
check_eq "Range bytes=999999- and bytes=5000- (past the end): 416 with Content-Range bytes */5000" \
	"416 bytes */5000 416" "$got $STATUS"
req HEAD /media/clips/901/video.mp4 "$TEACH_N"
check_eq "HEAD video.mp4: 200, Content-Length 5000, no body" "200 5000 0" \
	"$STATUS $(header Content-Length) $GOT"
req GET /media/clips/901/video.mp4 "$TEACH_N" -H "If-None-Match: ${ETAG:-none}"
check_eq "If-None-Match with the ETag ($ETAG): 304 and no body" "304 0" "$STATUS $GOT"
req GET /media/clips/901/thumbnail.jpg "$TEACH_N"
check_eq "thumbnail.jpg: 200 image/jpeg" "200 image/jpeg" "$STATUS $(header Content-Type)"
bad=""
for f in poster.jpg secrets.txt original catalogue.db; do
	req GET "/media/clips/901/$f" "$TEACH_N"
	[ "$STATUS" == 404 ] || bad+=" $f->$STATUS"
done
check_none "media: a missing poster.jpg, an unknown name, the original upload: 404" "$bad"
req GET /media/clips/905/thumbnail.jpg "$TEACH_N"
check_status "media of a clip the user may not see: 404" 404
req GET /media/clips/905/thumbnail.jpg "$TEACH_R"
check_status "media of a private clip for its uploader: 200" 200

check_server_log
finish
