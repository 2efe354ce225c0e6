#!/usr/bin/env bash
# tests/integration/upload.sh - uploads over tus with the real server and
# real clients: `kindling upload` (killed part-way, and with the server
# killed part-way), tus-js-client under node, and curl for the protocol's
# edges.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/upload.sh
#
# Last line: "upload: N passed, N failed".  Loopback only; waits poll.

# shellcheck disable=SC2119,SC2317  # kill_server: this server; holds_bytes runs through wait_until
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite upload ffmpeg node
export KINDLING_NODE_MODULES=${KINDLING_NODE_MODULES:-$ROOT/tests/node_modules}
# installed, and of a version the Node here can run (else it fails in odd ways)
why=$(. "$HERE/../node_tools.sh" && node_tools_check upload tus-js-client) ||
	fatal "the Node here can run tus-js-client" "${why:-tests/node_tools.sh failed}"

M=$WORK/media
mkdir -p "$M/bulk"

# bytes the server holds for the one unfinished upload, and how many are
# unfinished: in the data folder, or (PostgreSQL: any web node may take
# the next chunk) in the catalogue, the bytes in the media storage
if on_postgres; then
	upload_bytes() { sql "SELECT received FROM uploads WHERE done = 0 ORDER BY created_at DESC LIMIT 1"; }
	unfinished() { sql "SELECT count(*) FROM uploads WHERE done = 0"; }
else
	upload_bytes() { find "$DATA/uploads" -name data -printf '%s\n' 2>/dev/null | head -1; }
	unfinished() { find "$DATA/uploads" -name data | wc -l; }
fi
# holds_bytes MIN: the server holds at least MIN bytes of an upload
holds_bytes() { [ "$(upload_bytes)" -ge "$1" ] 2>/dev/null; }
# wait_bytes MIN: until it does (the CLI runs at 25 MB/s: a couple of seconds)
wait_bytes() { wait_until 30 holds_bytes "$1"; }

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null
COACH=$(add_user coach coach north-high)
TEACHER=$(add_user teacher teacher north-high)
start_server "$DATA" || fatal "the server starts" "$(log_tail)"
echo "# server on $URL"
up() { "$BIN" upload --server "$URL" --token "$COACH" --school north-high --practice differentiation "$@"; }
# the same in the background, as the process itself (so that $! is the CLI)
up_bg() { exec "$BIN" upload --server "$URL" --token "$COACH" --school north-high --practice differentiation "$@"; }

echo "# making test files"
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -pix_fmt yuv420p "$M/small.mp4"
# 200 MB of real video, quickly: uncompressed frames in a MOV
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=70 -c:v rawvideo -pix_fmt yuv420p "$M/big.mov"
ff -f lavfi -i testsrc=size=320x240:rate=25:duration=70 -c:v rawvideo -pix_fmt yuv420p "$M/big2.mov"
BIG=$(stat -c %s "$M/big.mov")
check "the big file is over 200 MB" test "$BIG" -gt 200000000

# ---------------------------------------------------- the protocol, with curl
H=(-H "Authorization: Bearer $COACH" -H "Tus-Resumable: 1.0.0")
b64() { printf '%s' "$1" | base64 -w0; }
opts=$(curl -s -i -X OPTIONS "$URL/api/v1/uploads")
check_match "OPTIONS says tus 1.0.0" $'Tus-Version: 1.0.0' "$opts"
check_match "OPTIONS lists creation and termination" 'Tus-Extension: creation,termination' "$opts"
check_match "OPTIONS gives the largest size" 'Tus-Max-Size: [0-9]+' "$opts"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $COACH" -H "Upload-Length: 10" "$URL/api/v1/uploads")
check_eq "creation without Tus-Resumable is 412" 412 "$code"
body=$(curl -s -w ' %{http_code}' -X POST "${H[@]}" -H "Upload-Length: 10" -H "Upload-Metadata: filename $(b64 a.mp4),school $(b64 north-high),practices $(b64 juggling)" "$URL/api/v1/uploads" | tr -d '\n')
check_match "an unknown practice is refused at creation, listing the known ones" 'juggling.*blended-learning.* 400$' "$body"
body=$(curl -s -w ' %{http_code}' -X POST "${H[@]}" -H "Upload-Length: 10" -H "Upload-Metadata: filename $(b64 a.mp4),practices $(b64 differentiation)" "$URL/api/v1/uploads" | tr -d '\n')
check_match "a missing school is refused, listing the schools" 'north-high.* 400$' "$body"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${H[@]}" -H "Upload-Length: 99999999999999" -H "Upload-Metadata: school $(b64 north-high),practices $(b64 differentiation)" "$URL/api/v1/uploads")
check_eq "a size over the limit is 413" 413 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TEACHER" -H "Tus-Resumable: 1.0.0" -H "Upload-Length: 10" -H "Upload-Metadata: school $(b64 north-high),practices $(b64 differentiation)" "$URL/api/v1/uploads")
check_eq "a teacher may not upload: 403" 403 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Tus-Resumable: 1.0.0" -H "Upload-Length: 10" "$URL/api/v1/uploads")
check_eq "no token: 401" 401 "$code"
loc=$(curl -s -i -X POST "${H[@]}" -H "Upload-Length: 100" -H "Upload-Metadata: filename $(b64 t.bin),school $(b64 north-high),practices $(b64 differentiation)" "$URL/api/v1/uploads" | tr -d '\r' | sed -n 's/^Location: //Ip')
check_match "creation answers 201 with a Location" '^/api/v1/uploads/[0-9a-f]{32}$' "$loc"
code=$(head -c 40 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X PATCH "${H[@]}" -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" --data-binary @- "$URL$loc")
check_eq "a PATCH of 40 bytes: 204" 204 "$code"
check_match "HEAD then says offset 40 of 100" 'Upload-Offset: 40.*Upload-Length: 100|Upload-Length: 100.*Upload-Offset: 40' \
	"$(curl -s -I "${H[@]}" "$URL$loc" | tr -d '\r' | tr '\n' ' ')"
code=$(head -c 10 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X PATCH "${H[@]}" -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" --data-binary @- "$URL$loc")
check_eq "a PATCH at the wrong offset: 409" 409 "$code"
code=$(head -c 10 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X PATCH "${H[@]}" -H "Upload-Offset: 40" -H "Content-Type: text/plain" --data-binary @- "$URL$loc")
check_eq "a PATCH with the wrong content type: 415" 415 "$code"
code=$(head -c 100 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X PATCH "${H[@]}" -H "Upload-Offset: 40" -H "Content-Type: application/offset+octet-stream" --data-binary @- "$URL$loc")
check_eq "more bytes than Upload-Length: 413" 413 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -I -H "Authorization: Bearer $TEACHER" -H "Tus-Resumable: 1.0.0" "$URL$loc")
check_eq "another user's upload is not found" 404 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${H[@]}" "$URL$loc")
check_eq "termination: 204" 204 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "${H[@]}" "$URL$loc")
check_eq "after termination the upload is gone: 404" 404 "$code"
check_eq "and its files are removed" 0 "$(find "$DATA/uploads" -mindepth 1 | wc -l)"

# ---------------------------------------------------- tus-js-client
out=$(node "$HERE/tus_client.mjs" "$URL/api/v1/uploads" "$COACH" "$M/small.mp4" north-high differentiation 16384 2>&1)
check_match "tus-js-client uploads in many PATCHes and gets the clip id" '"clip":[0-9]+' "$out"
JS_CLIP=$(jq -r .clip <<<"$out" 2>/dev/null)
check_match "it took several PATCHes" '"patches":([3-9]|[1-9][0-9]+)' "$out"
check_eq "the stored original is the file sent" "$(sha256sum < "$M/small.mp4" | cut -d' ' -f1)" \
	"$(sha256sum < "$DATA/media/$JS_CLIP/original" | cut -d' ' -f1)"
# the server hashes the bytes as they arrive, across PATCHes
clip_sha() { curl -s -H "Authorization: Bearer $COACH" "$URL/api/v1/clips/$1" | jq -r .sha256; }
check_eq "and the catalogue has its SHA-256, hashed across the PATCHes" \
	"$(sha256sum < "$M/small.mp4" | cut -d' ' -f1)" "$(clip_sha "$JS_CLIP")"

# ---------------------------------------------------- the CLI
out=$(up --json "$M/small.mp4")
check_eq "the same file again through the CLI is skipped as a duplicate" "true 0 $JS_CLIP" \
	"$(jq -r '"\(.duplicate) \(.sent_bytes) \(.id)"' <<<"$out")"
out=$("$BIN" upload --server "$URL" --token "$COACH" --school north-high --practice juggling --json "$M/big2.mov" 2>/dev/null); rc=$?
check "bad metadata: the CLI exits non-zero" test "$rc" -ne 0
check_match "and says which practices exist" 'juggling.*blended-learning' "$(jq -r .error <<<"$out")"
check_eq "and sent nothing" 0 "$(jq -r .sent_bytes <<<"$out")"

# killed part-way with SIGKILL, then run again
(up_bg --json --limit-rate 25000000 "$M/big.mov" >"$WORK/first.json" 2>/dev/null) &
CLI=$!
check "the first run got part of the file across" wait_bytes 40000000
kill -KILL "$CLI"; wait "$CLI" 2>/dev/null
have=$(upload_bytes)
check "the server kept what arrived ($have bytes)" test "${have:-0}" -gt 0
out=$(up --json "$M/big.mov" 2>"$WORK/resume.err"); rc=$?; [ $rc -eq 0 ] || cat "$WORK/resume.err"
check_eq "the second run finishes" "0 queued" "$rc $(jq -r .status <<<"$out")"
sent=$(jq -r .sent_bytes <<<"$out")
check "it sent fewer bytes than the file holds ($sent < $BIG)" test "$sent" -lt "$BIG"
BIG_CLIP=$(jq -r .id <<<"$out")
check_eq "the stored file has the file's SHA-256" "$(sha256sum < "$M/big.mov" | cut -d' ' -f1)" \
	"$(sha256sum < "$DATA/media/$BIG_CLIP/original" | cut -d' ' -f1)"
check_eq "and so has the catalogue" "$(sha256sum < "$M/big.mov" | cut -d' ' -f1)" \
	"$(clip_sha "$BIG_CLIP")"

# a large file the CLI has not read before is sent while a thread hashes
# it: once the server says it has the bytes, the sending stops
cp "$M/big.mov" "$M/big-copy.mov"
out=$(up --json --limit-rate 10000000 "$M/big-copy.mov" 2>/dev/null); rc=$?
check_eq "a copy of a large clip is found a duplicate while it is sent" "0 duplicate true $BIG_CLIP" \
	"$rc $(jq -r '"\(.status) \(.duplicate) \(.id)"' <<<"$out")"
check "and its sending stopped early ($(jq -r .sent_bytes <<<"$out") of $BIG bytes)" \
	test "$(jq -r .sent_bytes <<<"$out")" -lt $((BIG / 2))
check_eq "its upload was cancelled on the server" 0 "$(unfinished)"
out=$(up --json "$M/big-copy.mov" 2>/dev/null)
check_eq "the next run knows its SHA-256 and sends nothing" "duplicate 0 $BIG_CLIP" \
	"$(jq -r '"\(.status) \(.sent_bytes) \(.id)"' <<<"$out")"

# the server killed part-way and started again on the same port
(up_bg --json --limit-rate 25000000 "$M/big2.mov" >"$WORK/second.json" 2>"$WORK/second.err") &
CLI=$!
check "the upload is under way" wait_bytes 40000000
kill_server
start_server "$DATA" "$PORT" || fatal "the server starts again on port $PORT" "$(log_tail)"
wait $CLI; rc=$?
out=$(cat "$WORK/second.json")
check_eq "the CLI rode out the server restart and finished" "0 queued" "$rc $(jq -r .status <<<"$out")"
check_match "it said it was retrying" 'retrying in' "$(cat "$WORK/second.err")"
check "it resent less than the whole file" test "$(jq -r .sent_bytes <<<"$out")" -lt $((2 * $(stat -c %s "$M/big2.mov")))
check_eq "the stored file matches after the restart" "$(sha256sum < "$M/big2.mov" | cut -d' ' -f1)" \
	"$(sha256sum < "$DATA/media/$(jq -r .id <<<"$out")/original" | cut -d' ' -f1)"
check_eq "and the SHA-256 the server kept hashing across its restart is right" \
	"$(sha256sum < "$M/big2.mov" | cut -d' ' -f1)" "$(clip_sha "$(jq -r .id <<<"$out")")"

# a folder with one broken file
cp "$M/small.mp4" "$M/bulk/good.mp4"; printf 'more' >> "$M/bulk/good.mp4"
ff -f lavfi -i testsrc=size=320x240:rate=25:duration=2 -c:v libx264 -pix_fmt yuv420p "$M/bulk/good2.mp4"
echo "not a video" > "$M/bulk/broken.mp4"
out=$(up --wait --json "$M/bulk" 2>/dev/null); rc=$?
check "a folder with a broken file: exit non-zero" test "$rc" -ne 0
check_eq "the broken one is reported failed, the good ones are ready" "failed ready ready" \
	"$(jq -r .status <<<"$out" | xargs)"
check_match "with a reason for the broken one" 'not a video' "$(jq -r 'select(.status=="failed") | .error' <<<"$out")"

# a manifest gives each file its own metadata; --dry-run sends nothing
cp "$M/small.mp4" "$M/bulk2.mp4"; printf 'x' >> "$M/bulk2.mp4"
printf 'file,title,teacher,practices,tags\n' > "$WORK/manifest.csv"
printf 'bulk2.mp4,"Warm-up, then stations",Ana Ruiz,"station-rotation,peer-feedback","timer,groups"\n' >> "$WORK/manifest.csv"
out=$(up --dry-run --manifest "$WORK/manifest.csv" "$M/bulk2.mp4" 2>&1); rc=$?
check_match "--dry-run says what it would send, with the manifest's title" \
	'would send [0-9]+ bytes.*title="Warm-up, then stations"' "$out"
check_eq "--dry-run created no upload" 0 "$(unfinished)"
out=$(up --wait --json --manifest "$WORK/manifest.csv" "$M/bulk2.mp4" 2>/dev/null)
clip=$(curl -s -H "Authorization: Bearer $COACH" "$URL/api/v1/clips/$(jq -r .id <<<"$out")")
check_eq "the manifest row's metadata reached the clip" \
	"Warm-up, then stations|Ana Ruiz|peer-feedback,station-rotation|groups,timer" \
	"$(jq -r '"\(.title)|\(.teacher)|\(.practices | join(","))|\(.tags | join(","))"' <<<"$clip")"

# settings from the user's config file; an abandoned upload expires
mkdir -p "$XDG_CONFIG_HOME/kindling"
printf 'server = %s\ntoken = %s\n' "$URL" "$COACH" > "$XDG_CONFIG_HOME/kindling/config"
out=$("$BIN" upload --school north-high --practice differentiation --json "$M/small.mp4" 2>/dev/null)
check_eq "server and token come from ~/.config/kindling/config" true "$(jq -r .duplicate <<<"$out")"
loc=$(curl -s -i -X POST "${H[@]}" -H "Upload-Length: 100" -H "Upload-Metadata: school $(b64 north-high),practices $(b64 differentiation)" "$URL/api/v1/uploads" | tr -d '\r' | sed -n 's/^Location: //Ip')
dir=$DATA/uploads/${loc##*/}
if on_postgres; then
	sql "UPDATE uploads SET updated_at = '2000-01-01T00:00:00Z' WHERE id = '${loc##*/}'"
else
	touch -d '3 days ago' "$dir/data" "$dir/info.json"
fi
stop_server
start_server "$DATA" "$PORT" || fatal "the server starts again on port $PORT" "$(log_tail)"
if on_postgres; then
	check_eq "an upload untouched for longer than upload_expiry_hours is removed at start" 0 \
		"$(sql "SELECT count(*) FROM uploads WHERE id = '${loc##*/}'")"
else
	check "an upload untouched for longer than upload_expiry_hours is removed at start" test ! -e "$dir"
fi

finish
