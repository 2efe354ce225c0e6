#!/usr/bin/env bash
# tests/integration/pipeline.sh - the media pipeline end to end: clips made
# here with the ffmpeg tool go in through `kindling ingest` (and through a
# running server), come out ready or failed, and what the server then
# serves is checked with ffprobe and ffmpeg reading over HTTP.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/pipeline.sh
#
# Last line: "pipeline: N passed, N failed".  Loopback only; every wait polls.

# shellcheck disable=SC2119,SC2317  # kill_server: this server; clip_is runs through wait_until
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite pipeline ffmpeg ffprobe

M=$WORK/media
mkdir -p "$M/bulk"

echo "# making test clips with ffmpeg"
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -f lavfi -i sine=frequency=440:duration=3 \
	-c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$M/good.mp4"
# HEVC in MOV, rotated 90 by a display matrix (5.1 writes one only when copying)
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v libx265 -x265-params log-level=none \
	-pix_fmt yuv420p -tag:v hvc1 "$M/hevc_plain.mov"
ff -i "$M/hevc_plain.mov" -c copy -metadata:s:v:0 rotate=90 "$M/hevc_rot90.mov"
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v libvpx-vp9 -deadline realtime \
	-cpu-used 8 "$M/vp9.webm"
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -c:v mpeg4 -q:v 5 "$M/part2.avi"
echo "this is not a video" > "$M/notes.mp4"
ff -f lavfi -i testsrc2=size=640x480:rate=25:duration=4 -c:v libx264 -pix_fmt yuv420p "$M/whole.mp4"
head -c $(( $(stat -c %s "$M/whole.mp4") / 2 )) "$M/whole.mp4" > "$M/cut.mp4"
: > "$M/empty.mp4"
cp "$M/part2.avi" "$M/bulk/a.avi"
cp "$M/vp9.webm" "$M/bulk/b.webm"
cp "$M/notes.mp4" "$M/bulk/c-broken.mp4"
echo "readme" > "$M/bulk/readme.txt"

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null
TOKEN=$(add_user admin admin)

ingest() { "$BIN" ingest --data "$DATA" --school north-high --practice station-rotation "$@" 2>"$WORK/ingest.err"; }

# ------------------------------------------------------------ ingest --wait
out=$(ingest --wait --json --teacher "Ana Ruiz" --tag demo "$M/good.mp4"); rc=$?
check_eq "ingest --wait of a good clip exits 0" 0 "$rc"
check_eq "it ends ready" ready "$(jq -r .status <<<"$out")"
GOOD=$(jq -r .id <<<"$out")
check_match "it has an id" '^[0-9]+$' "$GOOD"
check "the original is kept byte for byte" cmp -s "$M/good.mp4" "$DATA/media/$GOOD/original"
check "the source file is left in place" test -f "$M/good.mp4"

out=$(ingest --wait --json "$M/good.mp4"); rc=$?
check_eq "the same file again: exit 0" 0 "$rc"
check_eq "the same file again: the same clip" "$GOOD" "$(jq -r .id <<<"$out")"
check_eq "no second folder appeared" 1 "$(ls "$DATA/media" | wc -l)"

out=$(ingest --wait --json "$M/hevc_rot90.mov" "$M/vp9.webm" "$M/part2.avi")
rc=$?
check_eq "HEVC, VP9 and MPEG-4 part 2 all end ready" "ready ready ready" "$(jq -r .status <<<"$out" | xargs)"
HEVC=$(jq -r 'select(.file | endswith("hevc_rot90.mov")) | .id' <<<"$out")
VP9=$(jq -r 'select(.file | endswith("vp9.webm")) | .id' <<<"$out")

out=$(ingest --wait --json "$M/notes.mp4"); rc=$?
check "a text file named .mp4 makes ingest exit non-zero" test "$rc" -ne 0
check_eq "the text file ends failed" failed "$(jq -r .status <<<"$out")"
check_match "with a reason in plain words" 'not a video|not a media|cannot be read as a video|recogni' "$(jq -r .error <<<"$out")"
out=$(ingest --wait --json "$M/cut.mp4"); rc=$?
check_eq "a file cut off half-way ends failed" failed "$(jq -r .status <<<"$out")"
check_match "the reason says it seems cut off and to copy it again" 'cut off|incomplete|truncated' "$(jq -r .error <<<"$out")"
out=$(ingest --wait --json "$M/empty.mp4"); rc=$?
check_eq "an empty file ends failed" failed "$(jq -r .status <<<"$out")"
check_match "the reason says it is empty" 'empty' "$(jq -r .error <<<"$out")"

out=$(ingest --wait --json "$M/bulk"); rc=$?
check "a folder with one broken file exits non-zero" test "$rc" -ne 0
check_eq "the folder's video files were all taken, the .txt skipped" 3 "$(wc -l <<<"$out")"
check_eq "the good ones are ready, the broken one failed" "ready ready failed" \
	"$(jq -r .status <<<"$out" | xargs)"

out=$("$BIN" ingest --data "$DATA" --school nowhere --practice station-rotation "$M/good.mp4" 2>&1); rc=$?
check "an unknown school is refused before any work" test "$rc" -ne 0
check_match "and the message lists the schools" 'north-high' "$out"

# ------------------------------------------------------------ the server
start_server "$DATA" || fatal "the server starts" "$(log_tail)"
AUTH="Authorization: Bearer $TOKEN"
api() { curl -s -H "$AUTH" "$URL$1"; }
# clip_is ID STATE...: sets status to clip ID's; true when it is one of STATE
# (for wait_until: the loop ends on a final state, the caller checks which).
clip_is() {
	local id=$1 want
	shift
	status=$(api "/api/v1/clips/$id" | jq -r .status)
	for want in "$@"; do [ "$status" = "$want" ] && return 0; done
	return 1
}

clip=$(api /api/v1/clips/$GOOD)
probe=$(ffprobe -v error -print_format json -show_format -show_streams "$M/good.mp4")
check_eq "API video_codec" h264 "$(jq -r .video_codec <<<"$clip")"
check_eq "API audio_codec" aac "$(jq -r .audio_codec <<<"$clip")"
check_eq "API width agrees with ffprobe" "$(jq '.streams[] | select(.codec_type=="video") | .width' <<<"$probe")" "$(jq .width <<<"$clip")"
check_eq "API height agrees with ffprobe" "$(jq '.streams[] | select(.codec_type=="video") | .height' <<<"$probe")" "$(jq .height <<<"$clip")"
near "API duration agrees with ffprobe" "$(jq -r .format.duration <<<"$probe")" "$(jq .duration_s <<<"$clip")" 0.05
check_eq "API container is ffprobe's format_name" "$(jq -r .format.format_name <<<"$probe")" "$(jq -r .container <<<"$clip")"
check_eq "API size_bytes" "$(stat -c %s "$M/good.mp4")" "$(jq .size_bytes <<<"$clip")"
check_eq "API sha256" "$(sha256sum "$M/good.mp4" | cut -d' ' -f1)" "$(jq -r .sha256 <<<"$clip")"
check_eq "API teacher and tags from the ingest flags" "Ana Ruiz demo" "$(jq -r '.teacher + " " + .tags[0]' <<<"$clip")"

thumb=$(jq -r .thumbnail_url <<<"$clip")
curl -s -H "$AUTH" -o "$WORK/t.jpg" "$URL$thumb"
check_eq "the thumbnail is a 320 px wide JPEG" "mjpeg 320x240" \
	"$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0:s=x "$WORK/t.jpg" | sed 's/x/ /')"
poster=$(jq -r .poster_url <<<"$clip")
check_eq "the poster is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$URL$poster")"
vtt=$(api "$(jq -r .storyboard_url <<<"$clip")")
check_match "the storyboard is WebVTT" '^WEBVTT' "$vtt"
check_match "its cues point into the sprite" "storyboard.jpg#xywh=[0-9]+,[0-9]+,[0-9]+,[0-9]+" "$vtt"
check_match "the first cue starts at zero" '^00:00:00.000 -->' "$(grep -- '-->' <<<"$vtt" | head -1)"
last_end=$(grep -- '-->' <<<"$vtt" | tail -1 | sed 's/.*--> //')
near "the last cue ends at the duration" 3 "$(awk -F: '{print $1*3600 + $2*60 + $3}' <<<"$last_end")" 0.1

video="$URL$(jq -r .video_url <<<"$clip")"
rend=$(ffprobe -v error -headers "$AUTH"$'\r\n' -print_format json -show_format -show_streams "$video")
check_eq "ffprobe over HTTP: the rendition is H.264 + AAC" "h264 aac" "$(jq -r '[.streams[].codec_name] | join(" ")' <<<"$rend")"
curl -s -H "$AUTH" -r 0-4095 "$video" -o "$WORK/head.bin"
check "the rendition's index (moov) comes before its data (mdat)" \
	bash -c "grep -boa moov '$WORK/head.bin' >/dev/null"
check_eq "ffmpeg plays the rendition to the end over HTTP without an error" "" \
	"$(ffmpeg -v error -headers "$AUTH"$'\r\n' -i "$video" -f null - 2>&1)"

hevc=$(api /api/v1/clips/$HEVC)
# ffprobe gives the display matrix's counter-clockwise angle; kindling
# reports the clockwise turn that shows the picture upright: its negative.
ffrot=$(ffprobe -v error -print_format json -show_streams "$M/hevc_rot90.mov" |
	jq '[.streams[0].side_data_list[]? | select(.rotation != null) | .rotation][0] // 0')
check_eq "HEVC clip: rotation is ffprobe's, as a clockwise turn" "$(( (360 - ffrot) % 360 ))" \
	"$(jq .rotation <<<"$hevc")"
check_eq "HEVC clip: displayed size is portrait" "240x320" "$(jq -r '"\(.width)x\(.height)"' <<<"$hevc")"
check_eq "HEVC clip: original codec reported" hevc "$(jq -r .video_codec <<<"$hevc")"
hr=$(ffprobe -v error -headers "$AUTH"$'\r\n' -print_format json -show_streams "$URL$(jq -r .video_url <<<"$hevc")")
check_eq "HEVC clip: rendition is H.264, upright portrait" "h264 240x320" \
	"$(jq -r '.streams[0] | "\(.codec_name) \(.width)x\(.height)"' <<<"$hr")"
curl -s -H "$AUTH" -o "$WORK/h.jpg" "$URL$(jq -r .thumbnail_url <<<"$hevc")"
check_eq "HEVC clip: thumbnail is upright (320 wide, portrait)" "320x426" \
	"$(ffprobe -v error -show_entries stream=width,height -of csv=p=0:s=x "$WORK/h.jpg")"
check_eq "VP9 clip: rendition plays to the end" "" \
	"$(ffmpeg -v error -headers "$AUTH"$'\r\n' -i "$URL$(jq -r .video_url <<<"$(api /api/v1/clips/$VP9)")" -f null - 2>&1)"

# The server processes what ingest queued without --wait.
cp "$M/part2.avi" "$M/again.avi"
printf 'x' >> "$M/again.avi"   # a different SHA-256, still a playable file
out=$(ingest --json "$M/again.avi")
check_eq "ingest without --wait leaves the clip queued" queued "$(jq -r .status <<<"$out")"
LATE=$(jq -r .id <<<"$out")
wait_until 30 clip_is "$LATE" ready failed
check_eq "the running server processes it to ready" ready "$status"

# A server killed while a clip is processing: the job is found again at the
# next start and the clip still ends ready.
ff -f lavfi -i testsrc2=size=640x360:rate=25:duration=30 -c:v mpeg4 -q:v 5 "$M/mid.avi"
MID=$(ingest --json "$M/mid.avi" | jq -r .id)
wait_until 30 clip_is "$MID" processing ready failed
check_eq "the clip is processing when the server is killed" processing "$status"
kill_server
start_server "$DATA" || fatal "the server starts again after SIGKILL" "$(log_tail)"
wait_until 120 clip_is "$MID" ready failed
check_eq "after the restart the interrupted job is retried to ready" ready "$status"
check_eq "its rendition plays to the end" "" \
	"$(ffmpeg -v error -headers "$AUTH"$'\r\n' -i "$URL$(api /api/v1/clips/$MID | jq -r .video_url)" -f null - 2>&1)"

# A clip that takes longer than job_timeout is stopped, retried, then failed.
stop_server
printf 'job_timeout = 1\n' > "$DATA/kindling.conf"
ff -f lavfi -i testsrc2=size=1920x1080:rate=30:duration=20 -c:v mpeg4 -q:v 8 "$M/long.avi"
out=$(ingest --wait --json "$M/long.avi"); rc=$?
check_eq "a clip past the time limit ends failed" failed "$(jq -r .status <<<"$out")"
check_match "saying it took too long, after retries" 'longer than.*tried 3 times' "$(jq -r .error <<<"$out")"
rm -f "$DATA/kindling.conf"

finish
