#!/usr/bin/env bash
# tests/integration/storage.sh - the media storage layer (src/storage,
# include/kindling/storage.h) on both back ends: the data folder, and an
# S3-compatible server (s3rver from npm, on a free loopback port, storing in
# this suite's folder), driven through the test program storage_tool
# (tests/integration/storage_tool.c, built beside the binary), opened from
# a kindling.conf as `kindling serve` will open it.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/storage.sh
#
# Both back ends: put/get/stat/list/delete, byte ranges, delete a clip's
# keys, multipart uploads continued by another process after list-parts,
# a file over 100 MB round trip (SHA-256) in little memory.  The data folder:
# keys are today's paths.  S3: multipart on the wire, presigned URLs
# fetched with curl (content type and disposition overrides, expiry),
# errors as sentences (unknown key, no bucket, nobody at the endpoint, no
# credentials), retries through injected 503s, a read cut in the middle
# that resumes, listings of several pages.  And since s3rver checks no
# signature, every request and presigned URL the suite made, and 300
# made-up ones, are signed again by the npm package aws4: the same.
#
# Needs node with s3rver and aws4 (make deps-test), curl, jq, sha256sum.
# Last line: "storage: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
. "$ROOT/tests/node_tools.sh"
begin_suite storage node sha256sum cmp

node_tools_check storage s3rver aws4 >"$WORK/node.txt" 2>&1 ||
	fatal "s3rver and aws4 run on this Node" "$(cat "$WORK/node.txt")"
TOOL=$(dirname "$BIN")/tests/storage_tool
[ -x "$TOOL" ] || fatal "the storage test program is built" \
	"no $TOOL: make $(basename "$(dirname "$BIN")")/tests/storage_tool (make integration builds it)"

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN
TRACE=$WORK/trace.jsonl   # every S3 request made, for aws4
: >"$TRACE"
: >"$WORK/urls.txt"

# tool DIR ARGS...: storage_tool on the data folder DIR; OUT, ERR and RC.
tool() {
	local d=$1
	shift
	OUT=$("$TOOL" --data "$d" --trace "$TRACE" "$@" 2>"$WORK/tool.err")
	RC=$?
	ERR=$(cat "$WORK/tool.err")
}

# must NAME DIR ARGS...: the command succeeds (a failure is reported, not fatal).
must() {
	local name=$1
	shift
	tool "$@"
	if [ "$RC" -eq 0 ]; then ok "$name"; else not_ok "$name" "exit $RC: $ERR"; fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- s3rver

mkdir -p "$WORK/s3"
node "$HERE/s3rver.mjs" "$WORK/s3" kindling-test --page 3 >"$WORK/s3rver.log" 2>&1 &
S3_PID=$!
SERVER_PIDS+=("$S3_PID")   # stopped by the EXIT trap
SERVER_LOGS+=("$WORK/s3rver.log")
wait_until 30 grep -q '^s3rver: http' "$WORK/s3rver.log" ||
	fatal "s3rver starts on a free loopback port" "$(tail -c 400 "$WORK/s3rver.log")"
S3_URL=$(sed -n 's/^s3rver: //p' "$WORK/s3rver.log")
ok "s3rver listens at $S3_URL"

# faults JSON: what s3rver.mjs answers next (see there); [] clears.
faults() { curl -s -X POST --data "$1" "$S3_URL/__faults" >/dev/null; }

LOCAL=$WORK/local   # no kindling.conf: the data folder
S3=$WORK/s3data     # the bucket, under a prefix
mkdir -p "$LOCAL" "$S3"
printf 'storage = s3://kindling-test/district-7/site1\ns3_endpoint = %s\ns3_region = us-east-1\n' \
	"$S3_URL" >"$S3/kindling.conf"

# Files to store.  The big one passes 100 MB and is not a multiple of a
# part (16 MiB), so the last part is short.
head -c 110000123 /dev/urandom >"$WORK/big.bin"
head -c 6000000 /dev/urandom >"$WORK/p1"
head -c 5300000 /dev/urandom >"$WORK/p2"
head -c 4321 /dev/urandom >"$WORK/p3"
printf 'WEBVTT\n\n00:00.000 --> 00:01.000\nhello\n' >"$WORK/small.vtt"
BIG_SHA=$(sha "$WORK/big.bin")

# ---------------------------------------------------------------- both back ends

both() {
	local name=$1 d=$2 got
	must "$name: check" "$d" check

	must "$name: put a small file" "$d" put 1/captions.vtt "$WORK/small.vtt" "text/vtt"
	tool "$d" stat 1/captions.vtt
	check_match "$name: stat gives its size, time and a quoted ETag" \
		"^$(wc -c <"$WORK/small.vtt") [0-9]{10} \".+\"$" "$OUT"
	tool "$d" cat 1/captions.vtt
	check_eq "$name: read whole" "$(cat "$WORK/small.vtt")" "$OUT"
	tool "$d" cat 1/captions.vtt 8 9
	check_eq "$name: read a range" "00:00.000" "$OUT"
	tool "$d" cat 1/captions.vtt 30 end
	check_eq "$name: read to the end" "$(tail -c +31 "$WORK/small.vtt")" "$OUT"
	tool "$d" cat 1/captions.vtt 9999 1
	check_eq "$name: a range past the end is refused" "1 yes" \
		"$RC $([[ $ERR == *"range"* || $ERR == *"bytes"* ]] && echo yes)"
	tool "$d" cat 1/missing.vtt
	check_eq "$name: a missing key: exit 3, 'no such object'" "3 yes" \
		"$RC $([[ $ERR == *"no such object"* ]] && echo yes)"
	tool "$d" put ../etc/passwd "$WORK/small.vtt"
	check_match "$name: a key that is a path trick is refused" "not a storage key" "$ERR"

	printf 'replaced' >"$WORK/r.txt"
	tool "$d" put 1/captions.vtt "$WORK/r.txt"
	tool "$d" cat 1/captions.vtt
	check_eq "$name: a put replaces" "replaced" "$OUT"

	# listing and deleting a clip's keys
	local k
	for k in 123/video.mp4 123/poster.jpg 123/sub/x 1234/y 12/z 55/a 55/b 55/c 55/d 55/e 55/f 55/g; do
		tool "$d" put "$k" "$WORK/r.txt" || true
	done
	tool "$d" ls 123/
	check_eq "$name: list a clip's keys" "123/poster.jpg 8|123/sub/x 8|123/video.mp4 8" \
		"$(sort <<<"$OUT" | paste -sd'|')"
	tool "$d" ls 12
	check_eq "$name: list by a partial prefix" "12/z 123/poster.jpg 123/sub/x 123/video.mp4 1234/y" \
		"$(cut -d' ' -f1 <<<"$OUT" | sort | paste -sd' ')"
	tool "$d" ls
	check_eq "$name: list everything (several pages on S3)" 13 "$(grep -c . <<<"$OUT")"
	must "$name: delete clip 123's keys" "$d" rm-prefix 123/
	tool "$d" ls 12
	check_eq "$name: only clip 123's keys went" "12/z 1234/y" "$(cut -d' ' -f1 <<<"$OUT" | sort | paste -sd' ')"
	must "$name: delete seven keys (more than a page)" "$d" rm-prefix 55/
	tool "$d" ls 55/
	check_eq "$name: none left" "" "$OUT"
	tool "$d" rm-prefix 12
	check_match "$name: a prefix without its '/' is refused" "not a prefix" "$ERR"
	must "$name: delete a key" "$d" rm 12/z
	must "$name: delete a key already gone" "$d" rm 12/z
	tool "$d" stat 12/z
	check_eq "$name: gone" 3 "$RC"

	# a file over 100 MB, in little memory (a sanitizer build keeps freed
	# memory in quarantine: less of it, so that the bound holds there too)
	local mem
	local -x ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
	OUT=$("$TOOL" --data "$d" --trace "$TRACE" --memory put 9/original "$WORK/big.bin" video/mp4 \
		2>"$WORK/tool.err")
	RC=$?
	mem=$(sed -n 's/^peak-rss-kb //p' "$WORK/tool.err")
	check_eq "$name: put 110 MB" 0 "$RC"
	check "$name: put 110 MB in less than 64 MB of memory (${mem:-?} kB)" [ "${mem:-999999}" -lt 65536 ]
	tool "$d" stat 9/original
	check_eq "$name: its size" 110000123 "${OUT%% *}"
	OUT=$("$TOOL" --data "$d" --trace "$TRACE" --memory get 9/original "$WORK/back.bin" 2>"$WORK/tool.err")
	RC=$?
	mem=$(sed -n 's/^peak-rss-kb //p' "$WORK/tool.err")
	check_eq "$name: get it back, the same SHA-256" "0 $BIG_SHA" "$RC $(sha "$WORK/back.bin")"
	check "$name: get 110 MB in less than 64 MB of memory (${mem:-?} kB)" [ "${mem:-999999}" -lt 65536 ]
	rm -f "$WORK/back.bin"
	# ranges across the boundary of the first part, and the last bytes
	tool "$d" get 9/original "$WORK/range.bin" 16777200 40
	check_eq "$name: a range across a part boundary" \
		"$(tail -c +16777201 "$WORK/big.bin" | head -c 40 | sha256sum | cut -c1-64)" "$(sha "$WORK/range.bin")"
	tool "$d" get 9/original "$WORK/range.bin" 110000000
	check_eq "$name: the last 123 bytes" "$(tail -c 123 "$WORK/big.bin" | sha256sum | cut -c1-64)" \
		"$(sha "$WORK/range.bin")"

	# a put that moves its file
	cp "$WORK/r.txt" "$WORK/tomove.txt"
	must "$name: put and move" "$d" put 2/video.mp4 "$WORK/tomove.txt" video/mp4 move
	check "$name: the moved file is gone" [ ! -e "$WORK/tomove.txt" ]

	# a multipart upload that another process (node) continues and completes
	tool "$d" mpu-create 10/original video/mp4
	local id=$OUT
	check_match "$name: an upload starts with an id" '^[!-~]+$' "$id"
	tool "$d" mpu-put 10/original "$id" 1 "$WORK/p1"
	local e1=$OUT
	tool "$d" mpu-put 10/original "$id" 2 "$WORK/p2"
	tool "$d" mpu-list 10/original "$id"
	check_eq "$name: list parts (by another process)" "1 6000000 $e1|2 5300000" \
		"$(cut -d' ' -f1-3 <<<"$OUT" | paste -sd'|' | sed 's/ "[^"]*"$//')"
	tool "$d" stat 10/original
	check_eq "$name: no object before complete" 3 "$RC"
	must "$name: the next process uploads part 3" "$d" mpu-put 10/original "$id" 3 "$WORK/p3"
	must "$name: and completes with the parts listed" "$d" mpu-complete 10/original "$id"
	tool "$d" get 10/original "$WORK/o10"
	check "$name: the object is the parts in order" cmp -s "$WORK/o10" <(cat "$WORK/p1" "$WORK/p2" "$WORK/p3")
	tool "$d" mpu-list 10/original "$id"
	check_eq "$name: the finished upload is gone: exit 3, 'no longer there'" "3 yes" \
		"$RC $([[ $ERR == *"no longer there"* ]] && echo yes)"
	# S3's rule: parts but the last of at least 5 MiB
	tool "$d" mpu-create 11/original
	id=$OUT
	tool "$d" mpu-put 11/original "$id" 1 "$WORK/p3"
	tool "$d" mpu-put 11/original "$id" 2 "$WORK/p3"
	tool "$d" mpu-complete 11/original "$id"
	check_eq "$name: a small part that is not the last is refused" "1 yes" \
		"$RC $([[ $ERR == *"5 MiB"* ]] && echo yes)"
	must "$name: abort" "$d" mpu-abort 11/original "$id"
	tool "$d" mpu-list 11/original "$id"
	check_eq "$name: aborted: gone" 3 "$RC"
	must "$name: abort again: nothing to do" "$d" mpu-abort 11/original "$id"
	tool "$d" stat 11/original
	check_eq "$name: no object from an aborted upload" 3 "$RC"
}

both "data folder" "$LOCAL"
both "s3" "$S3"

# ---------------------------------------------------------------- the data folder

tool "$LOCAL" path 2/video.mp4
check_eq "data folder: key 2/video.mp4 is media/2/video.mp4, where clip files are today" \
	"$LOCAL/media/2/video.mp4" "$OUT"
check "data folder: and the file is there" [ -f "$LOCAL/media/2/video.mp4" ]
check_eq "data folder: no temporary file left" "" \
	"$(find "$LOCAL/media" -name '.*' ! -name .multipart -print | head -3)"
tool "$LOCAL" presign 2/video.mp4 60
check_eq "data folder: no presigned URLs" "1 yes" "$RC $([[ $ERR == *"not available"* ]] && echo yes)"

# ---------------------------------------------------------------- S3

tool "$S3" path 2/video.mp4
check_eq "s3: no local files" 1 "$RC"
check "s3: objects are under the prefix in the bucket" \
	[ -f "$WORK/s3/kindling-test/district-7/site1/9/original._S3rver_object" ]
check_eq "s3: the 110 MB file went up in 7 parts of 16 MiB" 7 \
	"$(grep -c '"PUT","url":"[^"]*/9/original?partNumber=' "$TRACE")"
check_eq "s3: a small file in one PUT, without parts" "yes no" \
	"$(grep -q '"PUT","url":"[^"?]*/1/captions.vtt"' "$TRACE" && echo yes) $(grep -q '/1/captions.vtt?partNumber' "$TRACE" && echo yes || echo no)"

# presigned URLs, fetched with curl
tool "$S3" presign 9/original 300
URL=$OUT
echo "$URL" >>"$WORK/urls.txt"
check_match "s3: a presigned URL at the endpoint, path-style, under the prefix" \
	"^$S3_URL/kindling-test/district-7/site1/9/original\?X-Amz-Algorithm=AWS4-HMAC-SHA256&" "$URL"
curl -s -o "$WORK/viaurl.bin" -w '%{http_code}' "$URL" >"$WORK/code"
check_eq "s3: curl fetches it, byte-identical" "200 $BIG_SHA" "$(cat "$WORK/code") $(sha "$WORK/viaurl.bin")"
rm -f "$WORK/viaurl.bin"
tool "$S3" presign 9/original 300 video/mp4 'attachment; filename="Fractions, day 1.mp4"'
echo "$OUT" >>"$WORK/urls.txt"
curl -s -D "$WORK/headers" -o /dev/null -H 'Range: bytes=0-99' "$OUT"
check_eq "s3: with content type and disposition, and a Range" \
	"206|video/mp4|attachment; filename=\"Fractions, day 1.mp4\"" \
	"$(sed -n 's/^HTTP[^ ]* \([0-9]*\).*/\1/p' "$WORK/headers" | tr -d '\r')|$(grep -i '^content-type:' "$WORK/headers" | cut -d' ' -f2- | tr -d '\r')|$(grep -i '^content-disposition:' "$WORK/headers" | cut -d' ' -f2- | tr -d '\r')"
tool "$S3" presign 1/captions.vtt 1
echo "$OUT" >>"$WORK/urls.txt"
SHORT=$OUT
expired() { [ "$(curl -s -o "$WORK/body" -w '%{http_code}' "$SHORT")" == 403 ]; }
if wait_until 15 expired; then ok "s3: a URL of 1 second expires (403)"; else not_ok "s3: a URL of 1 second expires" "$(head -c 200 "$WORK/body")"; fi
check_match "s3: 'Request has expired'" "expired" "$(cat "$WORK/body")"
tool "$S3" presign 1/captions.vtt 604801
check_match "s3: a URL of more than 7 days is refused" "7 days" "$ERR"

# errors a person can act on
tool "$S3" cat 1/captions.vtt
AWS_ACCESS_KEY_ID=AKIAWRONG tool "$S3" check
check_eq "s3: an unknown access key: KD_EAUTH, names it and AWS_ACCESS_KEY_ID" "1 yes" \
	"$RC $([[ $ERR == *"does not know the access key 'AKIAWRONG'"*"check AWS_ACCESS_KEY_ID"* ]] && echo yes)"
mkdir -p "$WORK/nobucket"
printf 'storage = s3://no-such-bucket\ns3_endpoint = %s\n' "$S3_URL" >"$WORK/nobucket/kindling.conf"
tool "$WORK/nobucket" check
check_match "s3: no such bucket: says so, and what to do" "the bucket does not exist at .*create it" "$ERR"
# a port that was free a moment ago: nobody listens there
DEAD=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$WORK/dead"
printf 'storage = s3://kindling-test\ns3_endpoint = http://127.0.0.1:%s\n' "$DEAD" >"$WORK/dead/kindling.conf"
tool "$WORK/dead" check
check_match "s3: nobody at the endpoint: 'cannot reach', after 4 attempts, check s3_endpoint" \
	"cannot reach the object storage at http://127.0.0.1:$DEAD .*4 attempts.*check s3_endpoint" "$ERR"
OUT=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$TOOL" --data "$S3" check 2>&1)
check_match "s3: no credentials: names the variables" "needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" "$OUT"
printf 'storage = s3://Bad_Bucket\n' >"$WORK/dead/kindling.conf"
tool "$WORK/dead" check
check_match "s3: a bad storage setting: the line and why" "kindling.conf line 1: bad value 's3://Bad_Bucket' for storage: .*bucket name" "$ERR"

# retries: 503s on the way, a read cut in the middle
faults '[{"method":"PUT","status":503,"code":"SlowDown","count":2}]'
: >"$WORK/t2.jsonl"
OUT=$("$TOOL" --data "$S3" --trace "$WORK/t2.jsonl" put 3/poster.jpg "$WORK/small.vtt" 2>&1)
check_eq "s3: a put through two 503 SlowDown succeeds on the third try" "0 3" "$? $(grep -c . "$WORK/t2.jsonl")"
cat "$WORK/t2.jsonl" >>"$TRACE"
faults '[{"method":"GET","status":500,"code":"InternalError","count":9}]'
tool "$S3" cat 3/poster.jpg
check_match "s3: four 500s: gives up, says to try later" "failed: try again later" "$ERR"
faults '[]'
faults '[{"method":"GET","cut":20000000}]'
: >"$WORK/t2.jsonl"
OUT=$("$TOOL" --data "$S3" --trace "$WORK/t2.jsonl" get 9/original "$WORK/back.bin" 2>&1)
check_eq "s3: a read cut after 20 MB resumes: byte-identical" "0 $BIG_SHA" "$? $(sha "$WORK/back.bin")"
check_eq "s3: the next try asks from byte 20000000, of the same version (If-Match)" "bytes=20000000- 1" \
	"$(sed -n 2p "$WORK/t2.jsonl" | jq -r '.headers[] | select(.[0] == "Range") | .[1]') $(sed -n 2p "$WORK/t2.jsonl" | jq '[.headers[] | select(.[0] == "If-Match")] | length')"
cat "$WORK/t2.jsonl" >>"$TRACE"
rm -f "$WORK/back.bin"
check "s3: listings took several pages" [ "$(grep -c 'continuation-token=.*list-type=2' "$TRACE")" -ge 2 ]

# ---------------------------------------------------------------- aws4

if OUT=$(node "$HERE/sigv4_compare.mjs" trace "$TRACE" us-east-1 2>&1); then
	ok "aws4 signs every request of this suite the same ($(tail -n 1 <<<"$OUT"))"
else
	not_ok "aws4 signs every request of this suite the same" "$OUT"
fi
if OUT=$(node "$HERE/sigv4_compare.mjs" urls "$WORK/urls.txt" us-east-1 2>&1); then
	ok "aws4 presigns the suite's URLs the same ($(tail -n 1 <<<"$OUT"))"
else
	not_ok "aws4 presigns the suite's URLs the same" "$OUT"
fi
if OUT=$(node "$HERE/sigv4_compare.mjs" cases "$TOOL" 300 2>&1); then
	ok "aws4 signs 300 made-up requests and URLs the same ($(tail -n 1 <<<"$OUT"))"
else
	not_ok "aws4 signs 300 made-up requests and URLs the same" "$OUT"
fi

finish
