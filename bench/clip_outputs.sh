#!/usr/bin/env bash
# clip_outputs.sh FILE OUTDIR - what kindling's processing makes of one clip,
# done the plain shell way with one ffprobe and four ffmpeg processes: the
# baseline of bench/ingest.sh.
#
#   OUTDIR/facts.json      ffprobe -show_format -show_streams
#   OUTDIR/thumbnail.jpg   one frame at 25 %, 320 px wide
#   OUTDIR/poster.jpg      the same frame, at most 1280 px on its longer side
#   OUTDIR/storyboard.jpg  one tile every ceil(duration / 100) s, 160 px wide,
#                          10 a row (decodes the whole clip: fps filter)
#   OUTDIR/storyboard.vtt  the WebVTT mapping each time range to its tile
#   OUTDIR/video.mp4       faststart remux when H.264 yuv420p + AAC (or no
#                          audio), otherwise H.264 + AAC at most 1080 lines
#
# Only bash builtins between the ffmpeg runs (no awk, jq, bc), so that the
# script's cost is the ffmpeg processes.
set -eu

f=$1
o=$2
mkdir -p "$o"
ffprobe -v error -of json -show_format -show_streams "$f" >"$o/facts.json"

j=""
read -r -d '' j <"$o/facts.json" || true
fmt=${j##*\"format\": \{}
dur_re='"duration": "([0-9]+)\.?([0-9]*)"'
[[ $fmt =~ $dur_re ]] || { echo "clip_outputs: $f: no duration" >&2; exit 1; }
frac="${BASH_REMATCH[2]}000"
dur_ms=$((10#${BASH_REMATCH[1]} * 1000 + 10#${frac:0:3}))
[ "$dur_ms" -gt 0 ] || dur_ms=1

# The browser-ready test kindling makes: H.264 8-bit 4:2:0, AAC or no audio.
ready=1
[[ $j =~ \"codec_type\":\ \"video\" ]] || { echo "clip_outputs: $f: no video" >&2; exit 1; }
[[ $j =~ \"codec_name\":\ \"h264\" ]] && [[ $j =~ \"pix_fmt\":\ \"yuv420p\" ]] || ready=0
if [[ $j =~ \"codec_type\":\ \"audio\" ]] && ! [[ $j =~ \"codec_name\":\ \"aac\" ]]; then
	ready=0
fi

secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

at=$(secs $((dur_ms / 4)))
ffmpeg -nostdin -v error -y -ss "$at" -i "$f" -frames:v 1 -vf scale=320:-2 -q:v 4 \
	"$o/thumbnail.jpg"
ffmpeg -nostdin -v error -y -ss "$at" -i "$f" -frames:v 1 \
	-vf "scale='if(gte(iw,ih),min(1280,iw),-2)':'if(gte(iw,ih),-2,min(1280,ih))'" -q:v 3 \
	"$o/poster.jpg"

step_s=$(((dur_ms + 99999) / 100000))
[ "$step_s" -ge 1 ] || step_s=1
step_ms=$((step_s * 1000))
n=$(((dur_ms + step_ms - 1) / step_ms))
cols=$((n < 10 ? n : 10))
rows=$(((n + cols - 1) / cols))
ffmpeg -nostdin -v error -y -i "$f" -an \
	-vf "fps=1/$step_s,scale=160:-2,tile=${cols}x${rows}" -frames:v 1 -q:v 5 \
	"$o/storyboard.jpg"

vt() { # VAR MS: VAR=HH:MM:SS.mmm, without a subshell
	printf -v "$1" '%02d:%02d:%02d.%03d' $(($2 / 3600000)) $(($2 / 60000 % 60)) \
		$(($2 / 1000 % 60)) $(($2 % 1000))
}
# The tile height, as kindling computes it: even, from the display size.
th=90
size_re='"width": ([0-9]+),[[:space:]]*"height": ([0-9]+)'
if [[ $j =~ $size_re ]] && [ "${BASH_REMATCH[1]}" -gt 0 ]; then
	th=$((160 * BASH_REMATCH[2] / BASH_REMATCH[1] / 2 * 2))
fi
{
	printf 'WEBVTT\n\n'
	for ((i = 0; i < n; i++)); do
		s=$((i * step_ms))
		e=$((s + step_ms < dur_ms ? s + step_ms : dur_ms))
		vt ts "$s"
		vt te "$e"
		printf '%s --> %s\nstoryboard.jpg#xywh=%d,%d,160,%d\n\n' "$ts" "$te" \
			$((i % cols * 160)) $((i / cols * th)) "$th"
	done
} >"$o/storyboard.vtt"

if [ "$ready" = 1 ]; then
	ffmpeg -nostdin -v error -y -i "$f" -map 0:v:0 -map '0:a:0?' -c copy -map_metadata -1 \
		-movflags +faststart "$o/video.mp4"
else
	ffmpeg -nostdin -v error -y -i "$f" -map 0:v:0 -map '0:a:0?' -map_metadata -1 \
		-vf "scale='if(gte(iw,ih),min(1920,iw),-2)':'if(gte(iw,ih),-2,min(1080,ih))'" \
		-c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -movflags +faststart \
		"$o/video.mp4"
fi
