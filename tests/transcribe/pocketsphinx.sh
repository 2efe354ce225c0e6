#!/bin/sh
# pocketsphinx.sh WAV - kindling's transcribe_command for the tests: speech
# in a 16 kHz mono WAV file to WebVTT captions on standard output, with
# Debian's pocketsphinx (packages pocketsphinx and pocketsphinx-en-us).
#
#   transcribe_command = /path/to/pocketsphinx.sh
#
# kindling adds the WAV's path as the last argument and reads WebVTT from
# standard output; a non-zero exit or anything on standard error explains a
# failure in the server's log.  pocketsphinx's accuracy is poor: this proves
# the plumbing.  A district replaces this script with one for a better engine
# (README.md, "Automatic captions"); the contract stays the same.
#
# It runs in the transcription sandbox: no network, read-only system files,
# and only the clip's folder (its HOME and TMPDIR) to write in.
set -eu
wav=${1:?usage: pocketsphinx.sh WAV}
out=$(mktemp "${TMPDIR:-/tmp}/pocketsphinx.XXXXXX")
log=$(mktemp "${TMPDIR:-/tmp}/pocketsphinx-log.XXXXXX")
trap 'rm -f "$out" "$log"' EXIT
if ! pocketsphinx_continuous -infile "$wav" -time yes -logfn "$log" >"$out"; then
	echo "pocketsphinx failed on $wav:" >&2
	tail -n 5 "$log" >&2
	exit 1
fi
# With -time yes each utterance is its text, then a line per word:
# "word start end confidence", times in seconds from the file's start.
# A cue per utterance, cut every 10 words so that lines stay readable.
awk '
function stamp(t,   h, m, s) {
	h = int(t / 3600); m = int((t - h * 3600) / 60); s = t - h * 3600 - m * 60
	return sprintf("%02d:%02d:%06.3f", h, m, s)
}
function flush() {
	if (n > 0) printf "%s --> %s\n%s\n\n", stamp(start), stamp(end), text
	n = 0; text = ""
}
BEGIN { print "WEBVTT"; print "" }
NF == 4 && $2 ~ /^[0-9.]+$/ && $3 ~ /^[0-9.]+$/ {
	w = $1
	if (w == "</s>") { flush(); next }
	if (w ~ /^</ || w ~ /^\[/) next        # <s>, <sil>, [NOISE], [SPEECH]
	sub(/\([0-9]+\)$/, "", w)              # alternative pronunciations: book(2)
	if (n == 0) { start = $2; text = w } else text = text " " w
	end = $3; n++
	if (n == 10) flush()
}
END { flush() }
' "$out"
