#!/usr/bin/env bash
# tests/integration/captions.sh - a clip's captions (issue 15) through the
# running server, on real clips made with ffmpeg:
#
#   - PUT /api/v1/clips/{id}/captions takes WebVTT and SRT (CRLF, a BOM,
#     numbers, tags), declared or sniffed, and serves one WebVTT made from
#     the cues, exactly; the clip JSON says captions and captions_url; the
#     clip page plays them as a <track> on by default;
#   - each kind of bad input is refused 400 with its line and reason, word
#     for word, and leaves the captions as they were; a cue past the clip's
#     end is refused, one running past it cut there; a body over 1 MiB is
#     413, a type that is not captions 415; only the clip's editors;
#   - search finds a clip by its captions' words, its list item says
#     caption_hit {at, text}, and the search page's "Said at m:ss" opens
#     the clip at that second; without q nothing of it;
#   - DELETE removes them (204, file gone, words no longer found);
#   - kindling check stays right: captions present, missing, removed;
#   - require_captions = true: a clip without captions is its uploader's
#     and the admins' only (API, lists, pages), with a notice saying why;
#   - a clip not yet processed (duration unknown): the form only;
#   - media in a bucket (s3rver, when the npm test tools are installed).
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/captions.sh
#
# Last line: "captions: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/node_tools.sh"
begin_suite captions ffmpeg

M=$WORK/clips
mkdir -p "$M"
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=12" -c:v libx264 -preset veryfast \
	-pix_fmt yuv420p "$M/a.mp4" &&
	ff -f lavfi -i "testsrc=size=320x240:rate=25:duration=3" -c:v libx264 -preset veryfast \
		-pix_fmt yuv420p "$M/b.mp4" &&
	ff -f lavfi -i "smptebars=size=320x240:rate=25:duration=3" -c:v libx264 -preset veryfast \
		-pix_fmt yuv420p "$M/c.mp4" ||
	fatal "ffmpeg makes the clips" "see above"

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 &&
	"$BIN" school add south-high "South High" --data "$DATA" >/dev/null 2>&1 ||
	fatal "fixture: two schools" ""
COACH=$(add_user "Cora Coach" coach north-high)
TEACH=$(add_user "Tim Teacher" teacher north-high)
OTHER=$(add_user "Sol South" coach south-high)
ADMIN=$(add_user "Ada Admin" admin)
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

upload_clip() {
	local file=$1 title=$2 out
	shift 2
	out=$("$BIN" upload --server "$URL" --token "$COACH" --school north-high \
		--practice station-rotation --title "$title" --json "$@" "$file" 2>>"$WORK/upload.err")
	jq -r '.id // 0' <<<"$out" 2>/dev/null || echo 0
}
A=$(upload_clip "$M/a.mp4" "Morning circle" --wait)
B=$(upload_clip "$M/b.mp4" "Exit tickets" --wait)
[ "$A" != 0 ] && [ "$B" != 0 ] || fatal "two clips uploaded and processed" "$(tail -c 400 "$WORK/upload.err")"
req GET "/api/v1/clips/$A" "$COACH"
check_eq "the clip is ready, 12 s long, without captions" "ready 12 none null" \
	"$(jb '"\(.status) \(.duration_s|floor) \(.captions) \(.captions_url)"')"

# put TOKEN ID TYPE FILE: PUT the file's bytes ("" TYPE: no Content-Type).
put() {
	req PUT "/api/v1/clips/$2/captions" "$1" -H "Content-Type:${3:+ $3}" --data-binary "@$4"
}
# clip_end ID: the clip's length as the WebVTT served writes a time.
clip_end() {
	local ms
	req GET "/api/v1/clips/$1" "$COACH"
	ms=$(jb '.duration_s * 1000 | round')
	printf '00:00:%02d.%03d' $((ms / 1000)) $((ms % 1000))
}
served() {
	req GET "/media/clips/$1/captions.vtt" "$2"
	cat "$WORK/body"
}

# ------------------------------------------------------------ WebVTT
printf '\xef\xbb\xbfWEBVTT - morning circle\nKind: captions\n\nNOTE typed by the coach\n\nhello\n00:01.000 --> 00:03.500 align:start\nGood morning, <b>everyone</b>.\nFind your groups.\n\n00:07.250 --> 00:09.000\nNow the quokka rotation begins.\n\n00:11.000 --> 00:20.000\nThat runs past the end.\n' >"$WORK/a.vtt"
put "$COACH" "$A" text/vtt "$WORK/a.vtt"
check_eq "WebVTT: 200 and what was kept" \
	"200 {\"clip_id\":$A,\"captions\":\"uploaded\",\"cues\":3,\"captions_url\":\"/media/clips/$A/captions.vtt\"}" \
	"$STATUS $(jq -cS . "$WORK/body" | jq -c '{clip_id, captions, cues, captions_url}')"
END=$(clip_end "$A")
check_eq "... served as one WebVTT of the cues, settings and notes left out, the last cut at the clip's end ($END)" \
	"$(printf 'WEBVTT\n\n00:00:01.000 --> 00:00:03.500\nGood morning, <b>everyone</b>.\nFind your groups.\n\n00:00:07.250 --> 00:00:09.000\nNow the quokka rotation begins.\n\n00:00:11.000 --> %s\nThat runs past the end.\n' "$END")" \
	"$(served "$A" "$TEACH")"
check_match "... as text/vtt" '^text/vtt' "$(header Content-Type)"
req GET "/api/v1/clips/$A" "$TEACH"
check_eq "the clip JSON: captions uploaded, captions_url" "uploaded /media/clips/$A/captions.vtt" \
	"$(jb '"\(.captions) \(.captions_url)"')"
req GET "/clips/$A" "$TEACH"
check_match "the clip page plays them: a captions <track>, on by default" \
	"<track kind=\"captions\" srclang=\"en\" label=\"Captions\" src=\"/media/clips/$A/captions.vtt\" default>" \
	"$(cat "$WORK/body")"

# ------------------------------------------------------------ SRT
printf '1\r\n00:00:00,500 --> 00:00:02,000\r\n<i>Turn to your partner.</i>\r\n\r\n2\r\n00:00:02,000 --> 00:00:04,250\r\nWhat did you\r\nnotice?\r\n\r\n' >"$WORK/b.srt"
put "$COACH" "$B" application/x-subrip "$WORK/b.srt"
check_eq "SRT (CRLF, numbered): 200, 2 cues" "200 2 uploaded" "$STATUS $(jb '"\(.cues) \(.captions)"')"
check_eq "... converted to WebVTT (the last cue cut at the clip's end)" \
	"$(printf 'WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n<i>Turn to your partner.</i>\n\n00:00:02.000 --> %s\nWhat did you\nnotice?\n' "$(clip_end "$B")")" \
	"$(served "$B" "$TEACH")"
printf '1\n00:00:00,000 --> 00:00:01,000\nsniffed\n' >"$WORK/sniff.srt"
put "$COACH" "$B" "" "$WORK/sniff.srt"
check_eq "no Content-Type: the format is sniffed (SRT)" "200 1" "$STATUS $(jb .cues)"
put "$COACH" "$B" "text/plain; charset=utf-8" "$WORK/b.srt"
check_eq "text/plain with charset=utf-8: taken" "200 2" "$STATUS $(jb .cues)"

# ------------------------------------------------------------ refusals
# refused NAME BODY WANT: a PUT of BODY (printf format) to clip A is 400 with WANT.
refused() {
	printf "$2" >"$WORK/bad"
	put "$COACH" "$A" text/vtt "$WORK/bad"
	check_eq "refused: $1" "400 $3" "$STATUS $(jb .error)"
}
refused "not captions at all" 'Hello there\nfriend\n' \
	'line 1: neither WebVTT (the first line must be "WEBVTT") nor SRT (numbered cues with times as "00:00:01,000 --> 00:00:04,000")'
refused "a time without its milliseconds" 'WEBVTT\n\n00:01.000 --> 00:02.000\nfine\n\n00:03 --> 00:04.000\nbad\n' \
	'line 6: "00:03 --> 00:04.000" does not start with a time; write the cue'"'"'s times as "00:01.000 --> 00:04.000"'
refused "a mistyped arrow" 'WEBVTT\n\n00:01.000 -> 00:02.000\nx\n' \
	'line 3: expected "-->" after the start time, as in "00:01.000 --> 00:04.000"'
refused "a cue ending before it starts" 'WEBVTT\n\n00:07.000 --> 00:05.000\nx\n' \
	'line 3: the cue ends (0:05.000) before it starts (0:07.000)'
refused "cues out of order" 'WEBVTT\n\n00:05.000 --> 00:06.000\na\n\n00:03.000 --> 00:04.000\nb\n' \
	'line 6: this cue starts (0:03.000) before the one before it (0:05.000); put the cues in order of time'
refused "a blank line missing between cues" 'WEBVTT\n\n00:01.000 --> 00:02.000\na\n00:02.000 --> 00:03.000\nb\n' \
	'line 5: a cue'"'"'s text may not hold "-->"; if this is the next cue, put a blank line before it'
refused "not UTF-8" 'WEBVTT\n\n00:01.000 --> 00:02.000\ncaf\xe9\n' \
	'line 4: not UTF-8 text (byte 0xE9); save the file as UTF-8'
refused "only a note" 'WEBVTT\n\nNOTE nothing else\n' \
	'line 3: no cues with text; each cue is its times, then its text, then a blank line'
refused "SRT without times after a number" '1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nno times\n' \
	'line 6: expected the cue'"'"'s times ("00:00:01,000 --> 00:00:04,000") on the line after its number'
printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nok\n\n00:13.000 --> 00:14.000\nafter the end\n' >"$WORK/bad"
put "$COACH" "$A" text/vtt "$WORK/bad"
check_match "refused: a cue starting past the clip's end, saying how long the clip is" \
	'^400 line 6: the cue starts at 0:13\.000, at or past the end of the clip \(it is 0:12\.[0-9]{3} long\)$' \
	"$STATUS $(jb .error)"
check_eq "... and the captions are as they were" "$END" \
	"$(served "$A" "$TEACH" | tail -n 2 | head -n 1 | sed 's/.*--> //')"
printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nx\n' >"$WORK/ok.vtt"
put "$COACH" "$A" application/json "$WORK/ok.vtt"
check_eq "a body that is not captions by its type: 415, saying which types" \
	"415 send the captions as a WebVTT file (Content-Type text/vtt) or an SRT file (application/x-subrip), not application/json" \
	"$STATUS $(jb .error)"
put "$COACH" "$A" "text/vtt; charset=iso-8859-1" "$WORK/ok.vtt"
check_eq "another charset: 415" "415 captions must be UTF-8 text; save the file as UTF-8 and send it with charset=utf-8" \
	"$STATUS $(jb .error)"
{ printf 'WEBVTT\n\n'; head -c $((1 << 20)) /dev/zero | tr '\0' 'x'; } >"$WORK/big.vtt"
put "$COACH" "$A" text/vtt "$WORK/big.vtt"
check_eq "over 1 MiB: 413 before the body is read" \
	"413 the request body is larger than the 1048576 bytes allowed here" "$STATUS $(jb .error)"
put "$TEACH" "$A" text/vtt "$WORK/ok.vtt"
check_eq "a teacher of the school (sees it, may not edit): 403" 403 "$STATUS"
put "$OTHER" "$A" text/vtt "$WORK/ok.vtt"
check_eq "a coach of another school: 403" 403 "$STATUS"
req DELETE "/api/v1/clips/$A/captions" "$TEACH"
check_eq "... nor remove them: 403" 403 "$STATUS"
check_eq "the captions are still the first ones" 3 \
	"$(served "$A" "$TEACH" | grep -c -- '-->')"

# ------------------------------------------------------------ search
req GET "/api/v1/clips?q=quokka" "$TEACH"
check_eq "search finds the clip by its captions, with the cue and its second" \
	"1 $A 7.25 Now the quokka rotation begins." \
	"$(jb '"\(.total) \(.clips[0].id) \(.clips[0].caption_hit.at) \(.clips[0].caption_hit.text)"')"
req GET "/api/v1/clips?q=quok" "$TEACH"
check_eq "... a word being typed (a prefix) too" "1 7.25" "$(jb '"\(.total) \(.clips[0].caption_hit.at)"')"
req GET "/api/v1/clips?q=quokka%20rotation" "$TEACH"
check_eq "... two words of one cue" "1 7.25" "$(jb '"\(.total) \(.clips[0].caption_hit.at)"')"
req GET "/api/v1/clips?q=partner" "$TEACH"
check_eq "... the SRT's words, on the other clip, tags left in the text" \
	"1 $B 0.5 <i>Turn to your partner.</i>" \
	"$(jb '"\(.total) \(.clips[0].id) \(.clips[0].caption_hit.at) \(.clips[0].caption_hit.text)"')"
req GET "/api/v1/clips?q=morning" "$TEACH"
check_eq "a word in a title and a caption: the title's clip, with the cue that says it" \
	"1 $A 1 Good morning, <b>everyone</b>.
Find your groups." \
	"$(jb '"\(.total) \(.clips[0].id) \(.clips[0].caption_hit.at) \(.clips[0].caption_hit.text)"')"
req GET "/api/v1/clips?q=tickets" "$TEACH"
check_eq "a title's word not in the captions: no caption_hit" "1 false" \
	"$(jb '"\(.total) \(.clips[0] | has("caption_hit"))"')"
req GET "/api/v1/clips" "$TEACH"
check_eq "a list without q: no caption_hit on any item" "2 0" \
	"$(jb '"\(.total) \([.clips[] | select(has("caption_hit"))] | length)"')"
req GET "/api/v1/clips?q=quokka" "$OTHER"
check_eq "... what another school's coach may see: found there too (district clips)" 1 "$(jb .total)"
req GET "/search?q=quokka" "$TEACH"
check_match "the search page: \"Said at 0:07\", opening the clip at that second" \
	"<p class=\"said\"><a href=\"/clips/$A\\?t=7\">Said at 0:07</a>: “Now the <mark>quokka</mark> rotation begins.”</p>" \
	"$(cat "$WORK/body")"
req GET "/search?q=everyone" "$TEACH"
check_match "... the cue's tags not shown, its lines on one" \
	"Said at 0:01</a>: “Good morning, <mark>everyone</mark>. Find your groups.”" "$(cat "$WORK/body")"
printf 'WEBVTT\n\n00:01.000 --> 00:02.000\nFish &amp; chips <c.loud>now</c> &lt;3\n' >"$WORK/ent.vtt"
put "$COACH" "$B" text/vtt "$WORK/ent.vtt"
req GET "/search?q=chips" "$TEACH"
check_match "... entities shown as what they stand for (and escaped again), class tags left out" \
	"Said at 0:01</a>: “Fish &amp; <mark>chips</mark> now &lt;3”" "$(cat "$WORK/body")"
put "$COACH" "$B" application/x-subrip "$WORK/b.srt"
req GET "/clips/$A?t=7" "$TEACH"
check_match "the link's page starts the video at 7 s" "/media/clips/$A/video.mp4#t=7.0\"" "$(cat "$WORK/body")"

# ------------------------------------------------------------ kindling check
run_cli check --data "$DATA"
check_eq "kindling check: clips with captions are whole" "0 checked 2 clips: 2 ok" "$RC $OUT"
mv "$DATA/media/$A/captions.vtt" "$WORK/a.kept.vtt"
run_cli check --data "$DATA"
check_match "... captions.vtt gone while the catalogue has captions: reported, with what to do" \
	"^1 clip $A 'Morning circle': missing captions\\.vtt; upload its captions again, or delete them \\(DELETE /api/v1/clips/$A/captions\\)" \
	"$RC $OUT"
mv "$WORK/a.kept.vtt" "$DATA/media/$A/captions.vtt"

# ------------------------------------------------------------ DELETE
req DELETE "/api/v1/clips/$B/captions" "$COACH"
check_eq "DELETE: 204" 204 "$STATUS"
check "... the file is gone" test ! -e "$DATA/media/$B/captions.vtt"
req GET "/api/v1/clips/$B" "$TEACH"
check_eq "... the clip JSON says none, no captions_url" "none null" "$(jb '"\(.captions) \(.captions_url)"')"
req GET "/media/clips/$B/captions.vtt" "$TEACH"
check_eq "... the captions are not served" 404 "$STATUS"
req GET "/clips/$B" "$TEACH"
check_none "... nor offered as a track" "$(grep -o 'kind="captions"' "$WORK/body")"
check_eq "... and their words no longer find the clip" 0 "$(total "$TEACH" q=partner)"
check_eq "... no cues left in the catalogue" 0 "$(sql "SELECT count(*) FROM caption_cues WHERE clip_id = $B")"
req DELETE "/api/v1/clips/$B/captions" "$COACH"
check_eq "DELETE again: 204 (nothing to remove)" 204 "$STATUS"
run_cli check --data "$DATA"
check_eq "kindling check after: all well" "0 checked 2 clips: 2 ok" "$RC $OUT"

# ------------------------------------------------------------ require_captions
stop_server "$SERVER_PID"
printf 'require_captions = true\n' >>"$DATA/kindling.conf"
start_server "$DATA" || fatal "the server starts with require_captions = true" "$(log_tail)"
req GET "/api/v1/clips/$B" "$TEACH"
check_eq "require_captions: a clip without captions is hidden from a teacher of its school" 404 "$STATUS"
check_eq "... and from lists" "1 $A" "$(total "$TEACH" "") $(ids "$TEACH" "")"
req GET "/clips/$B" "$TEACH"
check_eq "... and its page" 404 "$STATUS"
req GET "/media/clips/$B/video.mp4" "$TEACH" -r 0-99
check_eq "... and its video" 404 "$STATUS"
req GET "/api/v1/clips/$A" "$TEACH"
check_eq "... a clip with captions is seen as before" 200 "$STATUS"
check_eq "its uploader sees it" 2 "$(total "$COACH" "")"
check_eq "an admin sees it" 2 "$(total "$ADMIN" "")"
req GET "/clips/$B" "$COACH"
check_match "... with a notice on its page that says why" \
	"Hidden from others until it has captions: require_captions is on" "$(cat "$WORK/body")"
req GET "/clips/$A" "$COACH"
check_none "... and none on a clip with captions" "$(grep -o 'Hidden from others' "$WORK/body")"
put "$COACH" "$B" application/x-subrip "$WORK/b.srt"
check_eq "its uploader adds captions" 200 "$STATUS"
req GET "/api/v1/clips/$B" "$TEACH"
check_eq "... and the teacher sees it at once" 200 "$STATUS"
req DELETE "/api/v1/clips/$B/captions" "$COACH"
req GET "/api/v1/clips/$B" "$TEACH"
check_eq "removed again: hidden again" 404 "$STATUS"
stop_server "$SERVER_PID"
sed -i 's/^require_captions = true$/require_captions = maybe/' "$DATA/kindling.conf"
serve_must_fail "require_captions = maybe: the server says what to write instead" \
	'require_captions.*use true or false' --data "$DATA" --listen 127.0.0.1:0
sed -i 's/^require_captions = maybe$/require_captions = false/' "$DATA/kindling.conf"
start_server "$DATA" || fatal "the server starts with require_captions = false" "$(log_tail)"
req GET "/api/v1/clips/$B" "$TEACH"
check_eq "require_captions = false: seen again" 200 "$STATUS"
check_eq "... and listed" 2 "$(total "$TEACH" "")"

# ------------------------------------------------------------ duration unknown
stop_server "$SERVER_PID"
run_cli ingest --data "$DATA" --school north-high --practice station-rotation \
	--title "Not processed yet" --json "$M/c.mp4"
Q=$(jq -r '.id // 0' <<<"$OUT" 2>/dev/null)
[ "$Q" != 0 ] || fatal "a clip ingested" "$ERR"
start_server_with --data "$DATA" --listen 127.0.0.1:0 --no-processing ||
	fatal "a web node without processing starts" "$(log_tail)"
printf 'WEBVTT\n\n01:00:00.000 --> 01:00:02.000\nLong after a 3 s clip ends.\n' >"$WORK/late.vtt"
put "$ADMIN" "$Q" text/vtt "$WORK/late.vtt"
check_eq "a queued clip (length unknown; an admin, who sees it): the form only is checked; no captions_url until ready" \
	"200 uploaded null" "$STATUS $(jb '"\(.captions) \(.captions_url)"')"
check_eq "... kept for it in the catalogue" "3600" \
	"$(sql "SELECT CAST(start_s AS INTEGER) FROM caption_cues WHERE clip_id = $Q")"
check_server_log

# ------------------------------------------------------------ media in a bucket
if ! node_tools_check storage s3rver >"$WORK/node.txt" 2>&1; then
	echo "# no S3 checks: $(cat "$WORK/node.txt")"
	finish
fi
stop_server "$SERVER_PID"
mkdir -p "$WORK/s3" "$WORK/s3data"
: >"$WORK/s3rver.log"
node "$HERE/s3rver.mjs" "$WORK/s3" kindling-media >"$WORK/s3rver.log" 2>&1 &
SERVER_PIDS+=("$!")
wait_until 30 grep -q '^s3rver: http' "$WORK/s3rver.log" ||
	fatal "s3rver starts on a free loopback port" "$(tail -c 400 "$WORK/s3rver.log")"
S3_URL=$(sed -n 's/^s3rver: //p' "$WORK/s3rver.log")
OBJ=$WORK/s3/kindling-media/cap
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN
DATA=$WORK/s3data
DB=$DATA/catalogue.db
if on_postgres; then
	psql -X -q -d "$KINDLING_IT_PG" -c "CREATE DATABASE ${PG_DB}_s3" >/dev/null ||
		fatal "a second database for the bucket's catalogue" "see above"
	export KINDLING_DATABASE="$KINDLING_IT_PG&dbname=${PG_DB}_s3"
fi
printf 'storage = s3://kindling-media/cap\ns3_endpoint = %s\nmedia_delivery = proxy\n' "$S3_URL" \
	>"$DATA/kindling.conf"
"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 || fatal "fixture: a school" ""
COACH=$(add_user "Cora Coach" coach north-high)
start_server "$DATA" || fatal "the server starts with media in the bucket" "$(log_tail)"
S=$(upload_clip "$M/b.mp4" "In a bucket" --wait)
[ "$S" != 0 ] || fatal "a clip uploaded into the bucket" "$(tail -c 400 "$WORK/upload.err")"
put "$COACH" "$S" application/x-subrip "$WORK/b.srt"
check_eq "bucket: PUT stores the captions as an object" "200 yes" \
	"$STATUS $([ -s "$OBJ/$S/captions.vtt._S3rver_object" ] && echo yes || echo no)"
check_eq "... served from it" "$(printf 'WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n<i>Turn to your partner.</i>\n\n00:00:02.000 --> %s\nWhat did you\nnotice?\n' "$(clip_end "$S")")" \
	"$(served "$S" "$COACH")"
req DELETE "/api/v1/clips/$S/captions" "$COACH"
check_eq "... DELETE removes the object" "204 gone" \
	"$STATUS $([ -e "$OBJ/$S/captions.vtt._S3rver_object" ] && echo there || echo gone)"
check_server_log
finish
