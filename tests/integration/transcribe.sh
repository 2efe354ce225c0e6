#!/usr/bin/env bash
# tests/integration/transcribe.sh - automatic captions (issue 15): the
# transcribe_command setting end to end, with the real server and worker.
#
# Speech is made here (espeak-ng), muxed with an ffmpeg lavfi picture, and
# uploaded; the command is tests/transcribe/pocketsphinx.sh (Debian's
# pocketsphinx).  Its accuracy is poor and what it hears has been seen to
# change from one machine to the next, so the suite asserts nothing of the
# words themselves: the clip must end ready with captions "automatic", its
# captions.vtt served with cues inside the speech (after the 3 s of silence,
# within the clip), and a search for the longest word the engine heard must
# find the clip with a caption_hit at the start of the cue that says it.  Then a command of the
# suite's own (in WORK/cmd, its behaviour read from WORK/cmd/mode) that
# fails, hangs, prints garbage or too much, reaches for the network or the
# catalogue's folder: each clip still ends ready, without captions, and the
# server's log says why.  Its environment is not the server's.  Uploaded
# captions win: a clip with automatic captions that gets uploaded ones
# keeps them when it is processed again. With its media in a bucket (s3rver),
# captions.vtt goes there with the clip's other files.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/transcribe.sh
#
# Needs curl, jq, ffmpeg, espeak-ng, pocketsphinx_continuous (packages
# pocketsphinx, pocketsphinx-en-us), node with s3rver (make deps-test), and
# sqlite3 or psql.
# Last line: "transcribe: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/node_tools.sh"
begin_suite transcribe ffmpeg espeak-ng pocketsphinx_continuous
[ -d /usr/share/pocketsphinx/model/en-us/en-us ] ||
	fatal "pocketsphinx's English model is installed" "install pocketsphinx-en-us (make deps-test)"

fixture_catalogue
WRAPPER=$ROOT/tests/transcribe/pocketsphinx.sh

# ---------------------------------------------------------------- speech
# 3 s of silence, then three sentences (en-us+f2 at 120 words a minute is
# what pocketsphinx's US model hears best of espeak-ng's voices), over a
# 14 s test picture.  The sound is FLAC, lossless: pocketsphinx is so
# fragile that AAC's losses change what it hears from one build of FFmpeg
# to the next, and the test is of the plumbing, not of the engine.
espeak-ng -v en-us+f2 -s 120 -g 8 -w "$WORK/speech.wav" \
	"Good morning everyone. Please open your books. Thank you very much." ||
	fatal "espeak-ng speaks" "see above"
ff -f lavfi -i testsrc2=s=320x240:r=25:d=14 -f lavfi -i anullsrc=r=22050:cl=mono:d=3 \
	-i "$WORK/speech.wav" -filter_complex "[1:a][2:a]concat=n=2:v=0:a=1,apad[a]" -map 0:v -map '[a]' \
	-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a flac -t 14 \
	-metadata title=speech "$WORK/speech.mkv" || fatal "ffmpeg makes the speech clip" "see above"
# The oracle: the wrapper itself, outside kindling, on the same sound.
ff -i "$WORK/speech.mkv" -vn -ar 16000 -ac 1 -c:a pcm_s16le "$WORK/oracle.wav" &&
	"$WRAPPER" "$WORK/oracle.wav" >"$WORK/oracle.vtt" 2>"$WORK/oracle.err"
grep -q -- '-->' "$WORK/oracle.vtt" ||
	fatal "pocketsphinx hears words in the test speech" "$(cat "$WORK/oracle.vtt" "$WORK/oracle.err")"
ok "the wrapper alone turns the speech into WebVTT cues"

# conf KEY VALUE...: the data folder's settings (the server reads them at start).
conf() {
	{
		grep -v '^transcribe_' "$DATA/kindling.conf" 2>/dev/null
		printf '%s\n' "$@"
	} >"$WORK/conf.new" && mv "$WORK/conf.new" "$DATA/kindling.conf"
}

# upload FILE TITLE: the coach uploads and waits; sets CLIP (empty on failure).
upload() {
	run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice differentiation \
		--title "$2" --wait --json "$1"
	CLIP=$(printf '%s\n' "$OUT" | jq -r 'select(.id != null) | .id' 2>/dev/null | tail -n 1)
	[ "$RC" == 0 ] && [[ $CLIP =~ ^[0-9]+$ ]] || CLIP=""
}

clip_json() { req GET "/api/v1/clips/$1" "$COACH_N"; }

# logged NAME ERE: a line of the current server's log matches ERE.
logged() {
	if grep -Eq -- "$2" "$SERVER_LOG"; then ok "$1"; else not_ok "$1" "no log line matches /$2/"; fi
}

# ---------------------------------------------------------------- pocketsphinx
conf "transcribe_command = $WRAPPER" "transcribe_timeout = 300"
export KINDLING_TEST_SECRET=do-not-pass-this-on
start_server "$DATA" || fatal "the server starts with transcribe_command set" "$(log_tail)"
upload "$WORK/speech.mkv" "Opening a lesson"
[ -n "$CLIP" ] || fatal "the speech clip is uploaded and processed" "rc $RC: $OUT $ERR"
SPEECH=$CLIP
clip_json "$SPEECH"
check_eq "the clip is ready" "$(jb .status)" ready
check_eq "its captions are automatic" "$(jb .captions)" automatic
VTT_URL=$(jb .captions_url)
check_match "the clip JSON names its captions file" '^/media/' "$VTT_URL"
code=$(curl -s --max-time 30 -o "$WORK/served.vtt" -w '%{http_code}' -H "Authorization: Bearer $TEACH_N" "$URL$VTT_URL")
check_eq "captions.vtt is served" "$code" 200
check_eq "it is WebVTT" "$(head -n 1 "$WORK/served.vtt" | tr -d '\r\357\273\277')" WEBVTT
# Every cue inside the speech: after the 3 s of silence, within the 14 s.
check "every cue is inside the speech (3 s to 14 s)" awk '
	/-->/ { n++; split($1, a, ":"); split($3, b, ":")
		s = a[1] * 3600 + a[2] * 60 + a[3]; e = b[1] * 3600 + b[2] * 60 + b[3]
		if (s < 2.5 || e > 14.01 || e <= s) bad++ }
	END { exit !(n > 0 && !bad) }' "$WORK/served.vtt"
if cmp -s "$WORK/oracle.vtt" "$WORK/served.vtt"; then
	echo "# the engine heard the same in the server's sandbox as outside it"
else
	echo "# the engine heard differently in the server's sandbox:"
	sed 's/^/#   /' "$WORK/served.vtt"
fi
if on_postgres; then
	n=$(sql "SELECT count(*) FROM caption_cues WHERE clip_id = $SPEECH")
else
	n=$(sql "SELECT count(*) FROM caption_cues WHERE clip_id = $SPEECH;")
fi
check_eq "the catalogue keeps a row per cue" "$n" "$(grep -c -- '-->' "$WORK/served.vtt")"

# Search: the longest word the engine heard (a stop word of either
# engine's search is never the longest of these), found in the captions
# with the second its cue starts.
WORD=$(awk '!/-->/ && NR > 2 { for (i = 1; i <= NF; i++) if (length($i) > length(w) && $i ~ /^[a-z]+$/) w = $i }
	END { print w }' "$WORK/served.vtt")
CUE_AT=$(awk -v w="$WORD" '/-->/ { t = $1 } !/-->/ { for (i = 1; i <= NF; i++) if ($i == w) { print t; exit } }' \
	"$WORK/served.vtt" | awk -F: '{ print $1 * 3600 + $2 * 60 + $3 }')
check "the engine heard a word to search for ($WORD, in a cue at ${CUE_AT:-?} s)" \
	test "${#WORD}" -ge 4 -a -n "$CUE_AT"
hit() {
	req GET "/api/v1/clips?q=$WORD" "$TEACH_N"
	[ "$STATUS" == 200 ] &&
		jq -e --argjson id "$SPEECH" '.clips[] | select(.id == $id) | .caption_hit' "$WORK/body" >/dev/null
}
soon hit
check "a search for '$WORD' finds the clip with a caption hit" hit
at=$(jq -r --argjson id "$SPEECH" '.clips[] | select(.id == $id) | .caption_hit.at' "$WORK/body")
check "the hit is at the start of the cue that says it ($CUE_AT s: $at)" \
	awk -v a="$at" -v c="${CUE_AT:-x}" 'BEGIN { d = a - c; exit !(c != "x" && d > -0.6 && d < 0.6) }'
check_match "the hit quotes the cue" "$WORD" "$(jq -r --argjson id "$SPEECH" \
	'.clips[] | select(.id == $id) | .caption_hit.text' "$WORK/body")"
check "nothing of the transcription is left in the clip's folder" \
	test ! -e "$DATA/media/$SPEECH/transcribe.wav" -a ! -e "$DATA/media/$SPEECH/transcript.vtt"
logged "the log says the clip got automatic captions" "clip $SPEECH: automatic captions"

# A clip without sound is not transcribed (and is ready as ever).
ff -f lavfi -i testsrc2=s=320x240:r=25:d=2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
	"$WORK/mute.mp4" || fatal "ffmpeg makes a clip without sound" "see above"
upload "$WORK/mute.mp4" "No sound"
clip_json "$CLIP"
check_eq "a clip without sound is ready without captions" "$(jb .status) $(jb .captions)" "ready none"

# ---------------------------------------------------------------- uploaded captions win
printf 'WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nTyped by a person\n' >"$WORK/typed.vtt"
req PUT "/api/v1/clips/$SPEECH/captions" "$COACH_N" -H 'Content-Type: text/vtt' --data-binary "@$WORK/typed.vtt"
check_eq "the coach uploads captions over the automatic ones" "$STATUS" 200
# Processing again (a blur region saved) transcribes nothing: it has captions.
req_json PUT "/api/v1/clips/$SPEECH/blur" "$COACH_N" '[{"from_s":0,"to_s":1,"x":0,"y":0,"w":0.2,"h":0.2}]'
check_eq "a blur region is saved (the clip is processed again)" "$STATUS" 200
again() { clip_json "$SPEECH" && [ "$(jb '"\(.status) \(.blur_pending)"')" == "ready false" ]; }
check "the clip is processed again" wait_until 120 again
check_eq "its captions are still the uploaded ones" "$(jb .captions)" uploaded
curl -s --max-time 30 -o "$WORK/served2.vtt" -H "Authorization: Bearer $COACH_N" "$URL$(jb .captions_url)"
check "captions.vtt is the person's" grep -q "Typed by a person" "$WORK/served2.vtt"
stop_server

# ---------------------------------------------------------------- commands that go wrong
mkdir -p "$WORK/cmd"
FAKE=$WORK/cmd/fake.sh
cat >"$FAKE" <<EOF
#!/bin/sh
# A transcription command of the suite's: what it does is in mode.
wav=\$1
case \$(cat "$WORK/cmd/mode") in
fail) echo "no model at /nowhere/model.bin" >&2; exit 3 ;;
hang) sleep 8731; echo WEBVTT ;;
garbage) head -c 3000 /dev/urandom ;;
huge) echo WEBVTT; echo; yes "00:00:00.000 --> 00:00:01.000" | head -c 2000000 ;;
network) exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/9; echo WEBVTT' ;;
snoop) cat "$DATA/kindling.conf" >/dev/null || exit 4; echo WEBVTT ;;
env) printf 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhome %s wav %s secrets %s\n' \
	"\$(basename "\$HOME")" "\$(basename "\$wav")" "\$(env | grep -c KINDLING || true)" ;;
esac
EOF
chmod +x "$FAKE"
conf "transcribe_command = $FAKE" "transcribe_timeout = 10"
start_server "$DATA" || fatal "the server starts with the suite's command" "$(log_tail)"

# try MODE LOG-ERE: a clip through the command in MODE must end ready
# without captions, the log saying why.
n_try=0
try() {
	local mode=$1 ere=$2
	n_try=$((n_try + 1))
	echo "$mode" >"$WORK/cmd/mode"
	ff -i "$WORK/speech.mkv" -c copy -metadata title="try $n_try" "$WORK/try$n_try.mkv"
	upload "$WORK/try$n_try.mkv" "Command $mode"
	if [ -z "$CLIP" ]; then
		not_ok "a clip through a command that does '$mode' is processed" "rc $RC: $OUT $ERR"
		return
	fi
	clip_json "$CLIP"
	check_eq "'$mode': the clip is ready without captions" "$(jb .status) $(jb .captions) $(jb .captions_url)" \
		"ready none null"
	logged "'$mode': the log says why" "clip $CLIP: .*$ere"
}
try fail "failed \\(exit status 3\\): no model at /nowhere/model.bin"
started=$(date +%s)
try hang "took longer than 10 s \\(transcribe_timeout\\)"
check "'hang': the clip did not wait much past the command's 10 s" test $(($(date +%s) - started)) -lt 60
check "'hang': nothing the command started is left running" test -z "$(pgrep -f 'sleep 8731')"
try garbage "output is not captions"
try huge "printed more than 1024 KiB"
try network "sandbox forbids"
try snoop "failed \\(exit status 4\\)"

# Without namespaces (a kernel or container that refuses them to
# unprivileged users): the server runs in a user namespace of its own where
# no more may be made.  The command still has no network (the system-call
# filter), cannot signal anything, and its time's end kills what it started
# (its process group).
# (SQLite only: in that namespace root is nobody to the PostgreSQL socket's
# permissions, and what is tested is the worker's, not the catalogue's.)
if on_postgres; then
	echo "# on PostgreSQL the fallback without namespaces is not exercised (see above)"
elif unshare -Ur sh -c 'echo 0 >/proc/sys/user/max_user_namespaces && ! unshare -U true' 2>/dev/null; then
	stop_server
	cat >"$WORK/nons.sh" <<EOF
#!/bin/sh
exec unshare -Ur sh -c 'echo 0 >/proc/sys/user/max_user_namespaces && exec "\$0" "\$@"' "$BIN" "\$@"
EOF
	chmod +x "$WORK/nons.sh"
	REAL_BIN=$BIN
	BIN=$WORK/nons.sh
	start_server "$DATA" || fatal "the server starts where namespaces are refused" "$(log_tail)"
	BIN=$REAL_BIN
	echo env >"$WORK/cmd/mode"
	ff -i "$WORK/speech.mkv" -c copy -metadata title="nons env" "$WORK/nons-env.mkv"
	upload "$WORK/nons-env.mkv" "Command env, no namespaces"
	clip_json "$CLIP"
	check_eq "without namespaces: the command's captions are recorded" "$(jb .captions)" automatic
	logged "without namespaces: the log says so" "without namespaces"
	try hang "took longer than 10 s \\(transcribe_timeout\\)"
	check "without namespaces: nothing the command started is left running" test -z "$(pgrep -f 'sleep 8731')"
	try network "sandbox forbids"
else
	echo "# this machine refuses nested user namespaces: the fallback is not exercised"
fi

# The environment is the command's own: not the server's secrets.
echo env >"$WORK/cmd/mode"
ff -i "$WORK/speech.mkv" -c copy -metadata title="env" "$WORK/env.mkv"
upload "$WORK/env.mkv" "Command env"
clip_json "$CLIP"
check_eq "a command's captions are recorded" "$(jb .captions)" automatic
curl -s --max-time 30 -o "$WORK/env.vtt" -H "Authorization: Bearer $COACH_N" "$URL$(jb .captions_url)"
check "it ran in the clip's folder, on transcribe.wav, without the server's environment" \
	grep -q "home $CLIP wav transcribe.wav secrets 0" "$WORK/env.vtt"
stop_server

# ---------------------------------------------------------------- media in a bucket
# The same with storage = s3://... (s3rver from npm): captions.vtt goes to
# the bucket with the clip's other files, nothing is left on the disk.
if node_tools_check storage s3rver >"$WORK/node.txt" 2>&1; then
	mkdir -p "$WORK/s3"
	node "$HERE/s3rver.mjs" "$WORK/s3" kindling-media >"$WORK/s3rver.log" 2>&1 &
	SERVER_PIDS+=("$!") # stopped by the EXIT trap
	wait_until 30 grep -q '^s3rver: http' "$WORK/s3rver.log" ||
		fatal "s3rver starts on a free loopback port" "$(tail -c 400 "$WORK/s3rver.log")"
	S3_URL=$(sed -n 's/^s3rver: //p' "$WORK/s3rver.log")
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	unset AWS_SESSION_TOKEN
	conf "transcribe_command = $FAKE" "transcribe_timeout = 10" "storage = s3://kindling-media/tr" \
		"s3_endpoint = $S3_URL" "media_delivery = proxy"
	start_server "$DATA" || fatal "the server starts with its media in s3rver" "$(log_tail)"
	echo env >"$WORK/cmd/mode"
	ff -i "$WORK/speech.mkv" -c copy -metadata title="bucket" "$WORK/bucket.mkv"
	upload "$WORK/bucket.mkv" "Into the bucket"
	clip_json "$CLIP"
	check_eq "with media in a bucket: captions automatic" "$(jb .status) $(jb .captions)" "ready automatic"
	code=$(curl -s --max-time 30 -o "$WORK/bucket.vtt" -w '%{http_code}' -H "Authorization: Bearer $COACH_N" \
		"$URL$(jb .captions_url)")
	check_eq "captions.vtt is served (through the server, from the bucket)" "$code" 200
	check "captions.vtt comes from the bucket" grep -q "home $CLIP wav transcribe.wav" "$WORK/bucket.vtt"
	check "the bucket holds it" test -n "$(find "$WORK/s3/kindling-media/tr" -path "*$CLIP*" \
		-name 'captions.vtt._S3rver_object' 2>/dev/null)"
	check "nothing of the clip is left on the disk" test ! -e "$DATA/media/$CLIP"
	stop_server
else
	not_ok "s3rver runs on this Node (make deps-test)" "$(cat "$WORK/node.txt")"
fi
check_server_log
finish
