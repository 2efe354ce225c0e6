#!/usr/bin/env bash
# tests/integration/blur.sh - blurring measured end to end: clips of a fine
# test pattern (an 8 px checkerboard everywhere) uploaded by a coach, regions
# put over the API, processing by the real server, then the served
# rendition, thumbnail, poster and storyboard tiles downloaded over HTTP by
# another school's teacher and measured with the ffmpeg CLI against the same
# region of the original (tests/integration/detail.py: the mean absolute
# difference of neighbouring luma pixels, the original scaled to the served
# picture's size).  Inside a region the pattern must be gone (under 10 % of
# the original's detail), outside it must stay sharp (over 70 %, room for
# re-encoding).  A rotated clip proves the fractions are of the upright
# picture; a region of one second blurs only the frames of that second;
# removing the regions makes the files sharp again.  consent.sh checks the
# API's validation, the 409 while pending and the audit entries: not here.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/blur.sh
#
# Needs curl, jq, ffmpeg, python3 (and sqlite3 on SQLite, psql on PostgreSQL).
# Last line: "blur: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite blur ffmpeg python3
on_postgres || command -v sqlite3 >/dev/null || fatal "tool sqlite3 is installed" "install it (make deps-test)"

# The thresholds, as ratios of the original's detail in the same place.
GONE=0.10   # inside a region: at most this much of the pattern is left
KEPT=0.70   # outside (and where no region applies): at least this much

fixture_catalogue
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# ---------------------------------------------------------------- clips
# 640x360, 25 fps, 4 s of an 8 px checkerboard (16/235), H.264 yuv420p and
# AAC: browser-ready, so without regions the server would only remux it.
# 8 px so that the pattern survives the thumbnail (320 wide: 4 px) and the
# storyboard tiles (160 wide: 2 px).
CHECKER="nullsrc=s=640x360:r=25:d=4,geq=lum='if(mod(floor(X/8)+floor(Y/8),2),235,16)':cb=128:cr=128"
ff -f lavfi -i "$CHECKER" -f lavfi -i "sine=f=440:d=4" -c:v libx264 -preset veryfast -pix_fmt yuv420p \
	-c:a aac -shortest -metadata title=plain "$WORK/plain.mp4" ||
	fatal "ffmpeg makes the test clip" "see above"
# The same bytes again would be the same clip: the others differ in a tag.
ff -i "$WORK/plain.mp4" -c copy -metadata title=timed "$WORK/timed.mp4" ||
	fatal "ffmpeg makes the clip for a timed region" "see above"
# Rotated: coded 640x360, shown 360x640 (a display matrix of 90 degrees;
# FFmpeg 5.1 writes one from the rotate tag on a stream copy).
ff -i "$WORK/plain.mp4" -c copy -metadata:s:v:0 rotate=90 -metadata title=rotated "$WORK/rotated.mp4" ||
	fatal "ffmpeg makes the rotated clip" "see above"
rot_size=$(python3 "$HERE/detail.py" "$WORK/rotated.mp4" in:0,0,1,1 2>&1 | cut -d' ' -f1,2)
[ "$rot_size" == "360 640" ] || fatal "the rotated clip plays upright as 360x640" "ffmpeg shows '$rot_size'"

run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice differentiation \
	--title "Checkerboard for blurring" --wait --json "$WORK/plain.mp4" "$WORK/rotated.mp4" "$WORK/timed.mp4"
clip_of() { printf '%s\n' "$OUT" | jq -r --arg f "$1" 'select(.file != null and (.file | endswith($f))) | .id' | tail -n 1; }
A=$(clip_of /plain.mp4)
B=$(clip_of /rotated.mp4)
C=$(clip_of /timed.mp4)
if ! { [ "$RC" == 0 ] && [[ $A =~ ^[0-9]+$ && $B =~ ^[0-9]+$ && $C =~ ^[0-9]+$ ]] &&
	[ "$A" != "$B" ] && [ "$B" != "$C" ] && [ "$A" != "$C" ]; }; then
	fatal "the coach uploads three clips and they are processed" "rc $RC: $OUT $ERR"
fi

# ---------------------------------------------------------------- helpers

# fetch ID FIELD DEST: the clip's FIELD (video_url, thumbnail_url, ...) as
# another school's teacher sees it, over HTTP with a Bearer token.
fetch() {
	local path code
	req GET "/api/v1/clips/$1" "$TEACH_R"
	path=$(jb ".$2")
	if [ "$STATUS" != 200 ] || [[ $path != /media/* ]]; then
		echo "GET /api/v1/clips/$1: $STATUS, $2 '$path'" >"$3.err"
		return 1
	fi
	code=$(curl -s --max-time 60 -o "$3" -w '%{http_code}' -H "Authorization: Bearer $TEACH_R" "$URL$path")
	[ "$code" == 200 ] || { echo "GET $path: $code" >"$3.err"; return 1; }
}

# sprite ID DEST: the storyboard's sprite (the picture its WebVTT cues
# point into), and the cues as "start end x,y,w,h" lines in DEST.cues.
sprite() {
	local jpg code
	fetch "$1" storyboard_url "$2.vtt" || return 1
	jpg=$(grep -o '^[^#]*\.jpg#' "$2.vtt" | head -n 1)
	jpg=${jpg%#}
	[ -n "$jpg" ] || { echo "no sprite in $(head -c 200 "$2.vtt")" >"$2.err"; return 1; }
	code=$(curl -s --max-time 60 -o "$2" -w '%{http_code}' -H "Authorization: Bearer $TEACH_R" \
		"$URL/media/clips/$1/${jpg##*/}")
	[ "$code" == 200 ] || { echo "GET the sprite ${jpg##*/}: $code" >"$2.err"; return 1; }
	awk '/-->/ { s = $1; e = $3; next } /#xywh=/ { sub(/.*#xywh=/, ""); print s, e, $0 }' "$2.vtt" |
		tr -d '\r' >"$2.cues"
	[ -s "$2.cues" ]
}

# made ID...: every clip ready, with files made for its regions as they are now.
made() {
	local id
	for id in "$@"; do
		req GET "/api/v1/clips/$id" "$COACH_N"
		[ "$STATUS" == 200 ] && [ "$(jb '"\(.status) \(.blur_pending)"')" == "ready false" ] || return 1
	done
}

# detail ARGS...: detail.py's line ("W H n..."), or "ERR why".
detail() {
	local line
	if line=$(python3 "$HERE/detail.py" "$@" 2>"$WORK/detail.err"); then
		echo "$line"
	else
		echo "ERR $(tail -c 200 "$WORK/detail.err")"
	fi
}

# ratio A B: A / B, 3 decimals ("nan" when B is 0 or either is not a number).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 == a && b + 0 == b && b > 0) printf "%.3f", a / b; else print "nan" }'; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == a && a < b) }'; }
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == a && a > b) }'; }

# compare NAME SERVED ORIGINAL [--ss T | --still T] [--crop X,Y,W,H] -- SPEC...:
# measures SERVED (a video: at T; a picture (--still): itself; within the
# crop) and the ORIGINAL (at T, scaled to the served picture's size) at each
# SPEC; sets SIZE (the served "W H") and RATIOS (served / original, one a
# SPEC) and prints them as a comment, so the log shows the figures.  Not a
# check: the callers judge the ratios.  (The pattern stands still, so the
# moment a picture was taken at does not change the original's figures.)
compare() {
	local name=$1 served=$2 orig=$3 ss=() at=() crop=() s=() o=() i
	shift 3
	while [ "$1" != -- ]; do
		case $1 in
		--ss) ss=(--ss "$2") at=(--ss "$2") ;;
		--still) at=(--ss "$2") ;;
		--crop) crop=(--crop "$2") ;;
		esac
		shift 2
	done
	shift
	read -r -a s <<<"$(detail "${ss[@]+"${ss[@]}"}" "${crop[@]+"${crop[@]}"}" "$served" "$@")"
	SIZE="${s[0]} ${s[1]:-}"
	RATIOS=()
	if [ "${s[0]}" == ERR ]; then
		echo "# $name: ${s[*]}"
		RATIOS=(nan)
		return
	fi
	read -r -a o <<<"$(detail "${at[@]+"${at[@]}"}" --size "${s[0]},${s[1]}" "$orig" "$@")"
	for ((i = 0; i < $#; i++)); do
		RATIOS+=("$(ratio "${s[i + 2]:-x}" "${o[i + 2]:-x}")")
	done
	echo "# $name ($SIZE): served ${s[*]:2} / original ${o[*]:2} = ${RATIOS[*]}"
}

# check_blur NAME SERVED ORIGINAL REGION [--ss T] [--crop ...]: inside
# REGION (x,y,w,h) the pattern is gone, outside it is kept.
check_blur() {
	local name=$1 served=$2 orig=$3 region=$4
	shift 4
	compare "$name" "$served" "$orig" "$@" -- "in:$region" "out:$region"
	if below "${RATIOS[0]}" $GONE && above "${RATIOS[1]:-x}" $KEPT; then
		ok "$name: the region's pattern is gone (${RATIOS[0]} of the original's detail), around it kept (${RATIOS[1]})"
	else
		not_ok "$name" "inside ${RATIOS[0]} (want < $GONE), outside ${RATIOS[1]:-?} (want > $KEPT) of the original's detail"
	fi
}

# check_sharp NAME SERVED ORIGINAL REGION [--ss T] [--crop ...]: no blur
# there: the region and around it both keep the pattern.
check_sharp() {
	local name=$1 served=$2 orig=$3 region=$4
	shift 4
	compare "$name" "$served" "$orig" "$@" -- "in:$region" "out:$region"
	if above "${RATIOS[0]}" $KEPT && above "${RATIOS[1]:-x}" $KEPT; then
		ok "$name: the region keeps the pattern (${RATIOS[0]} of the original's detail; around it ${RATIOS[1]})"
	else
		not_ok "$name" "inside ${RATIOS[0]}, outside ${RATIOS[1]:-?} of the original's detail (want both > $KEPT)"
	fi
}

# vmd5 FILE: the MD5 of the video stream's packets, as stored (no decoding).
vmd5() { ffmpeg -hide_banner -loglevel error -nostdin -i "$1" -map 0:v:0 -c copy -f md5 - 2>/dev/null; }

# ---------------------------------------------------------------- the originals
ORIG_A=$WORK/orig.$A.mp4
req GET "/api/v1/clips/$A/original?reason=$(uri "Blur test: the original to measure against")" "$ADMIN"
cp "$WORK/body" "$ORIG_A"
check_eq "an admin takes the first clip's original over HTTP: the bytes uploaded" \
	"200 $(sha256sum <"$WORK/plain.mp4" | cut -d' ' -f1)" "$STATUS $(sha256sum <"$ORIG_A" | cut -d' ' -f1)"
ORIG_B=$WORK/rotated.mp4
ORIG_C=$WORK/timed.mp4

# Without regions the browser-ready clip is served as a stream copy: the
# measurements below are of a file the server made again, not a remux.
fetch "$A" video_url "$WORK/A.before.mp4"
check_eq "before any region the rendition is a stream copy of the original's video" \
	"$(vmd5 "$ORIG_A")" "$(vmd5 "$WORK/A.before.mp4")"

# ---------------------------------------------------------------- regions
RA=0.25,0.25,0.5,0.5    # the middle quarter of the first clip, all along
RB=0.6,0.1,0.3,0.3      # off centre on the rotated clip, in upright fractions
RC=0.25,0.25,0.5,0.5    # the middle of the third clip, from 1 s to 2 s
req_json PUT "/api/v1/clips/$A/blur" "$COACH_N" '[{"from_s":0,"to_s":4,"x":0.25,"y":0.25,"w":0.5,"h":0.5}]'
check_jq "the coach blurs the middle of the first clip for its whole length" '.rev == 1 and .pending == true'
req_json PUT "/api/v1/clips/$B/blur" "$COACH_N" '[{"from_s":0,"to_s":4,"x":0.6,"y":0.1,"w":0.3,"h":0.3}]'
check_jq "and a region off centre of the rotated clip" '.rev == 1 and .pending == true'
req_json PUT "/api/v1/clips/$C/blur" "$COACH_N" '[{"from_s":1.0,"to_s":2.0,"x":0.25,"y":0.25,"w":0.5,"h":0.5}]'
check_jq "and the middle of the third clip from 1 s to 2 s" '.rev == 1 and .pending == true'
wait_until 240 made "$A" "$B" "$C" ||
	fatal "the three clips are processed again with their regions within 4 minutes" \
		"clip $(jb .id): status $(jb .status), blur_pending $(jb .blur_pending), error $(jb .error)"
ok "the three clips are processed again: ready, blur_pending false"

missing=""
for id in "$A" "$B" "$C"; do
	fetch "$id" video_url "$WORK/$id.mp4" || missing+=" $(cat "$WORK/$id.mp4.err")"
	fetch "$id" thumbnail_url "$WORK/$id.thumb.jpg" || missing+=" $(cat "$WORK/$id.thumb.jpg.err")"
	fetch "$id" poster_url "$WORK/$id.poster.jpg" || missing+=" $(cat "$WORK/$id.poster.jpg.err")"
	sprite "$id" "$WORK/$id.sprite.jpg" || missing+=" $(cat "$WORK/$id.sprite.jpg.err" 2>/dev/null)"
done
check_none "another school's teacher downloads each clip's video, thumbnail, poster and storyboard" "$missing"

# ---------------------------------------------------------------- whole length
check "the first clip's rendition is re-encoded, no longer a copy of the original's video" \
	test "$(vmd5 "$ORIG_A")" != "$(vmd5 "$WORK/$A.mp4")"
for t in 0.5 1.5 2.5 3.6; do
	check_blur "rendition at ${t} s" "$WORK/$A.mp4" "$ORIG_A" $RA --ss $t
done
check_blur "thumbnail" "$WORK/$A.thumb.jpg" "$ORIG_A" $RA --still 1
check_blur "poster" "$WORK/$A.poster.jpg" "$ORIG_A" $RA --still 1
n=0
while read -r from to xywh; do
	n=$((n + 1))
	check_blur "storyboard tile $n ($from-$to)" "$WORK/$A.sprite.jpg" "$ORIG_A" $RA --still 1 --crop "$xywh"
done <"$WORK/$A.sprite.jpg.cues"
check "the storyboard has tiles to measure" test "$n" -gt 0

# ---------------------------------------------------------------- rotated
# The region is in fractions of the upright picture (360x640).  Were it
# taken as fractions of the coded picture (640x360) and then turned, or
# turned the wrong way, or mirrored, one of these would be blurred instead.
WRONG=("0.6,0.6,0.3,0.3" "0.1,0.1,0.3,0.3" "0.1,0.6,0.3,0.3")
rotated() {
	local name=$1 served=$2 when=$3 how=${4:---ss} w h bad="" i
	compare "rotated clip, $name" "$served" "$ORIG_B" "$how" "$when" -- \
		"in:$RB" "out:$RB" "in:${WRONG[0]}" "in:${WRONG[1]}" "in:${WRONG[2]}"
	read -r w h <<<"$SIZE"
	[[ $w =~ ^[0-9]+$ && $h =~ ^[0-9]+$ ]] && [ "$w" -lt "$h" ] || bad+=" not upright ($SIZE);"
	below "${RATIOS[0]}" $GONE || bad+=" the upright region kept ${RATIOS[0]};"
	above "${RATIOS[1]:-x}" $KEPT || bad+=" around it only ${RATIOS[1]:-?};"
	for i in 2 3 4; do
		above "${RATIOS[i]:-x}" $KEPT || bad+=" ${WRONG[i - 2]} (turned or mirrored) only ${RATIOS[i]:-?};"
	done
	check_none "rotated clip, $name: upright, the region blurred where it was drawn (${RATIOS[0]}), the turned and mirrored places sharp (${RATIOS[*]:2})" "$bad"
}
rotated "rendition at 0.5 s" "$WORK/$B.mp4" 0.5
rotated "rendition at 3 s" "$WORK/$B.mp4" 3
rotated "thumbnail" "$WORK/$B.thumb.jpg" 1 --still
rotated "poster" "$WORK/$B.poster.jpg" 1 --still
read -r from to xywh <"$WORK/$B.sprite.jpg.cues"
check_blur "rotated clip, first storyboard tile" "$WORK/$B.sprite.jpg" "$ORIG_B" $RB --still 1 --crop "$xywh"

# ---------------------------------------------------------------- one second
for t in 0.4 3.2; do
	check_sharp "timed region (1-2 s), rendition at ${t} s" "$WORK/$C.mp4" "$ORIG_C" $RC --ss $t
done
for t in 1.4 1.6; do
	check_blur "timed region (1-2 s), rendition at ${t} s" "$WORK/$C.mp4" "$ORIG_C" $RC --ss $t
done
# A tile shows a moment of its cue (its start, or later): the cues of
# 0-1 s and 3-4 s lie outside the region's time, 1-2 s inside.  (2-3 s
# would start at its edge: not judged.)
tile() { awk -v s="$1" '$1 == s { print $3 }' "$WORK/$C.sprite.jpg.cues"; }
check_sharp "timed region (1-2 s), storyboard tile of 0-1 s" "$WORK/$C.sprite.jpg" "$ORIG_C" $RC \
	--still 0.4 --crop "$(tile 00:00:00.000)"
check_blur "timed region (1-2 s), storyboard tile of 1-2 s" "$WORK/$C.sprite.jpg" "$ORIG_C" $RC \
	--still 1.4 --crop "$(tile 00:00:01.000)"
check_sharp "timed region (1-2 s), storyboard tile of 3-4 s" "$WORK/$C.sprite.jpg" "$ORIG_C" $RC \
	--still 3.2 --crop "$(tile 00:00:03.000)"

# ---------------------------------------------------------------- removed
req_json PUT "/api/v1/clips/$A/blur" "$COACH_N" '[]'
check_jq "the coach removes the first clip's regions: a new revision, pending" \
	'.rev == 2 and .pending == true and (.regions | length == 0)'
wait_until 180 made "$A" ||
	fatal "the first clip is processed again without regions within 3 minutes" \
		"status $(jb .status), blur_pending $(jb .blur_pending), error $(jb .error)"
check_eq "the files are made for the new revision" "2|2" \
	"$(sql "SELECT blur_rev, media_blur_rev FROM clips WHERE id = $A" | tr -d ' ')"
missing=""
fetch "$A" video_url "$WORK/$A.after.mp4" || missing+=" $(cat "$WORK/$A.after.mp4.err")"
fetch "$A" thumbnail_url "$WORK/$A.after.thumb.jpg" || missing+=" $(cat "$WORK/$A.after.thumb.jpg.err")"
fetch "$A" poster_url "$WORK/$A.after.poster.jpg" || missing+=" $(cat "$WORK/$A.after.poster.jpg.err")"
sprite "$A" "$WORK/$A.after.sprite.jpg" || missing+=" $(cat "$WORK/$A.after.sprite.jpg.err" 2>/dev/null)"
check_none "the new files are served again" "$missing"
for t in 0.5 2.5; do
	check_sharp "regions removed, rendition at ${t} s" "$WORK/$A.after.mp4" "$ORIG_A" $RA --ss $t
done
check_sharp "regions removed, thumbnail" "$WORK/$A.after.thumb.jpg" "$ORIG_A" $RA --still 1
check_sharp "regions removed, poster" "$WORK/$A.after.poster.jpg" "$ORIG_A" $RA --still 1
read -r from to xywh <"$WORK/$A.after.sprite.jpg.cues"
check_sharp "regions removed, first storyboard tile" "$WORK/$A.after.sprite.jpg" "$ORIG_A" $RA --still 1 --crop "$xywh"
check_eq "with no region left the rendition is a stream copy of the original's video again" \
	"$(vmd5 "$ORIG_A")" "$(vmd5 "$WORK/$A.after.mp4")"

check_server_log
finish
