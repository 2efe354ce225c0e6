#!/usr/bin/env bash
# tests/integration/backup.sh - kindling backup DEST: a copy of a data
# folder taken while the server runs and writes, checked, and served again
# with the same answers and bytes; one taken while clips are being
# uploaded restores (the copy used as a data folder) to a catalogue that
# passes SQLite's integrity check and `kindling check`; the refusals (a
# folder not empty, a damaged original, no catalogue, a PostgreSQL
# catalogue).
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/backup.sh
#
# Last line: "backup: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite backup ffmpeg sqlite3 cp

if on_postgres; then
	"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1
	run_cli backup --data "$DATA" "$WORK/copy"
	check_match "a PostgreSQL catalogue: refused, pointing at pg_dump" '^1 .*pg_dump' "$RC $ERR"
	finish
fi

ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=3" -f lavfi -i "sine=frequency=440:duration=3" \
	-c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$WORK/a.mp4" &&
	ff -f lavfi -i "testsrc=size=320x240:rate=25:duration=3" -c:v libx264 -preset veryfast \
		-pix_fmt yuv420p "$WORK/b.mp4" || fatal "ffmpeg makes two clips" "see above"
"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 || fatal "fixture: a school" ""
TOKEN=$(add_user "Cora Coach" coach north-high)
for f in a b; do
	"$BIN" ingest --data "$DATA" --wait --school north-high --practice station-rotation \
		--title "Clip $f" "$WORK/$f.mp4" >/dev/null 2>>"$WORK/ingest.err" ||
		fatal "ingest $f" "$(tail -c 300 "$WORK/ingest.err")"
done
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# writes go on while the backup runs: views recorded, notes added
( for i in $(seq 1 400); do
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$URL/api/v1/clips/1/views"
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data "{\"body\": \"note $i\"}" "$URL/api/v1/clips/2/notes"
done ) &
WRITER=$!
sleep 0.3
run_cli backup --data "$DATA" "$WORK/copy"
check_match "a backup while the server writes: exit 0, saying what it copied and checked" \
	"^0 backed up .* the catalogue \(2 clips, 1 people; SQLite's integrity check passed\), [0-9]+ files .* of 2 clips, every original's SHA-256 checked" \
	"$RC $OUT"
check_match "... and how to restore it" 'kindling serve --data' "$OUT"
wait "$WRITER"
check_eq "the copy is one file (no -wal beside it) and passes SQLite's integrity check" "ok " \
	"$(sqlite3 "$WORK/copy/catalogue.db" 'PRAGMA integrity_check') $(ls "$WORK/copy" | grep -c -- '-wal$' | sed 's/^0$//')"
notes=$(sqlite3 "$WORK/copy/catalogue.db" "SELECT count(*) FROM comments")
check_match "the copy holds the notes of one moment (between none and all of the 400)" '^[0-9]+$' "$notes"
differ=""
for f in $(cd "$DATA/media" && find . -type f | sed 's#^\./##'); do
	cmp -s "$DATA/media/$f" "$WORK/copy/media/$f" || differ+=" $f"
done
check_none "every media file is in the copy, byte for byte" "$differ"

# the copy serves the same answers
ORIG_URL=$URL
req GET "/api/v1/clips" "$TOKEN"
orig=$(jq -c '[.total, [.clips[] | [.id, .title, .sha256, .status]]]' "$WORK/body")
video_sha=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/media/clips/1/video.mp4" | sha256sum)
start_server "$WORK/copy" || fatal "the copy is served" "$(log_tail)"
req GET "/api/v1/clips" "$TOKEN"
check_eq "served from the copy: the same clips, and the same token works" "$orig" \
	"$(jq -c '[.total, [.clips[] | [.id, .title, .sha256, .status]]]' "$WORK/body")"
check_eq "... and the same video bytes" "$video_sha" \
	"$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/media/clips/1/video.mp4" | sha256sum)"
stop_server "$SERVER_PID"
URL=$ORIG_URL

# a backup while clips are uploaded (slowly: the backup lands among them),
# restored by copying it into place as a data folder
mkdir -p "$WORK/up"
for i in 1 2 3 4 5; do
	ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=4" -f lavfi \
		-i "sine=frequency=$((200 * i)):duration=4" -vf "hue=h=$((60 * i))" -c:v libx264 \
		-preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$WORK/up/lesson-$i.mp4" ||
		fatal "ffmpeg makes the clips to upload" "see above"
done
"$BIN" upload --server "$URL" --token "$TOKEN" --school north-high --practice station-rotation \
	--limit-rate 150000 --json "$WORK/up" >"$WORK/up.json" 2>"$WORK/up.err" &
UPLOADER=$!
more_clips() { [ "$(sqlite3 -cmd '.timeout 5000' "$DB" 'SELECT count(*) FROM clips')" -gt 2 ]; }
wait_until 60 more_clips || not_ok "the first upload is filed" "$(tail -c 300 "$WORK/up.err")"
run_cli backup --data "$DATA" "$WORK/copy4"
check_match "a backup while clips are uploaded and processed: exit 0" "^0 backed up" "$RC $OUT"
uploading=$(kill -0 "$UPLOADER" 2>/dev/null && echo yes)
wait "$UPLOADER"
check_eq "... taken while the uploads went on; all five then uploaded" "yes 5" \
	"$uploading $(jq -s '[.[] | select(.id)] | length' "$WORK/up.json" 2>/dev/null)"
cp -a "$WORK/copy4" "$WORK/restored"
check_eq "the restored catalogue passes SQLite's integrity check" ok \
	"$(sqlite3 "$WORK/restored/catalogue.db" 'PRAGMA integrity_check')"
n=$(sqlite3 "$WORK/restored/catalogue.db" 'SELECT count(*) FROM clips')
run_cli check --data "$WORK/restored"
check_eq "... and kindling check: every clip it holds checks" "0 checked $n clips: $n ok" "$RC $OUT"
check_match "... some of the uploads in it, not all" '^[3-6]$' "$n"

# refusals
run_cli backup --data "$DATA" "$WORK/copy"
check_match "into a folder that is not empty: refused" '^1 .*not empty' "$RC $ERR"
run_cli backup --data "$WORK/nothing-here" "$WORK/copy2"
check_match "a data folder with no catalogue: refused, naming --data" '^1 .*no catalogue.*--data' "$RC $ERR"
orig=$DATA/media/2/original
printf 'X' | dd of="$orig" bs=1 seek=100 conv=notrunc status=none
run_cli backup --data "$DATA" "$WORK/copy3"
check_match "an original damaged on disk: the backup says it is not complete, naming the clip" \
	"^1 .*clip 2's original does not have the SHA-256.*NOT complete" "$RC $(tr '\n' ' ' <<<"$ERR")"
run_cli backup --data "$DATA"
check_eq "without DEST: a usage error" 2 "$RC"

check_server_log
finish
