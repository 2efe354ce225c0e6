#!/usr/bin/env bash
# tests/integration/moveto.sh - `kindling move-to --database`: a data folder's
# catalogue (SQLite) copied into PostgreSQL, on a throwaway cluster of the
# suite's own (tests/pg_cluster.sh):
#
#   - the catalogue of fixture_catalogue, with views, notes, visits, a browser
#     session and a deleted clip made through a server on SQLite, goes into
#     an empty database: exit 0, what was copied said, the data folder's
#     catalogue.db not changed by a byte (KINDLING_DATABASE in the
#     environment does not redirect the source), every table's count and the
#     clips' key columns the same on both sides, and what PostgreSQL's
#     triggers derive (view counts, full-text documents) the same as SQLite
#     has it; the URL's password is never printed;
#   - a server on the same data folder with KINDLING_DATABASE lists the same
#     clips with the same totals for an admin and for teachers (privacy
#     applies as before), finds the same clips by search, gives the same
#     summaries, takes the tokens and the session made before the move, and
#     gives a new person, clip and note an id above every id given before,
#     a deleted clip's too;
#   - a run again right after says it is done; once the database has moved
#     on, a run is refused; a URL that is no PostgreSQL URL, a server that
#     is not there, a data folder whose catalogue is in PostgreSQL already
#     and one without a catalogue are refused, each saying why;
#   - a row PostgreSQL refuses, or one that does not read back the same,
#     leaves nothing in the database (one transaction, checked before it
#     is committed);
#   - with --storage too (when s3rver is installed), the media go to a
#     bucket as well, and the output says both.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/moveto.sh
#
# Needs PostgreSQL (Debian's postgresql: make deps-test), sqlite3, psql.
# Last line: "moveto: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
# The suite makes its own cluster and databases: a run of `make postgres`
# (KINDLING_IT_PG) has nothing to add to it.
unset KINDLING_IT_PG
begin_suite moveto sqlite3 psql sha256sum

# The cluster goes after the servers (lib.sh's cleanup stops those first).
PGDIR=""
cleanup_moveto() {
	cleanup
	[ -n "$PGDIR" ] && bash "$ROOT/tests/pg_cluster.sh" stop "$PGDIR" >/dev/null 2>&1
}
trap cleanup_moveto EXIT
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/kindling-pg-moveto.XXXXXX") || fatal "mktemp -d" "no folder"
PG_URL=$(bash "$ROOT/tests/pg_cluster.sh" start "$PGDIR" 2>"$WORK/pg.err") ||
	fatal "a throwaway PostgreSQL cluster starts" "$(tail -c 300 "$WORK/pg.err")"
# the same database with a password in its URL (the cluster trusts local
# connections, so any password gets in): it must never be printed
PG_PW_URL="postgresql://kindling:Sekret-Pw-42@/kindling?host=$PGDIR"
pg() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "${PG:-$PG_URL}" -c "$1"; }

# ------------------------------------------------------------ a catalogue on SQLite
fixture_catalogue
PW='a long enough password 1'
printf '%s\n' "$PW" | "$BIN" user add --name page-reader --role teacher --school north-high \
	--password-stdin --data "$DATA" >/dev/null 2>&1 || fatal "a user with a password" "see above"

# More views than move-to reads back at once (2000 rows: it pages through
# a table by its key, here one with a text column in it), over many days,
# inserted with sqlite3 (a fixture only: the API records today's).
sql "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 2499)
     INSERT INTO views (clip_id, user_id, school_id, day)
     SELECT 903, $U_TEACH_R, (SELECT school_id FROM users WHERE id = $U_TEACH_R),
            date('2019-06-01', '+' || i || ' days') FROM n" ||
	fatal "views inserted with sqlite3" "see above"

start_server "$DATA" || fatal "a server on SQLite starts" "$(log_tail)"
day() { date -u -d "$1" +%F; }
FROM=2020-01-01 TO=$(day "+30 days")   # the fixture's clips are of 2021
bad=""
for v in "$TEACH_R 901" "$TEACH_R 903" "$COACH_R 901" "$TEACH_N 913" "$TEACH_N 916" \
	"$PRINC_N 902" "$TEACH_N 901"; do
	req POST "/api/v1/clips/${v#* }/views" "${v% *}"
	[ "$STATUS" == 204 ] || bad+=" view ${v#* }:$STATUS"
done
req_json POST /api/v1/clips/901/notes "$COACH_N" '{"body": "Watch the card sort at 0:05"}'
[ "$STATUS" == 201 ] || bad+=" note:$STATUS"
req_json POST /api/v1/clips/913/notes "$TEACH_N" '{"body": "Could we try this in Year 7?"}'
[ "$STATUS" == 201 ] || bad+=" note:$STATUS"
req_json POST /api/v1/visits "$TEACH_N" "{\"clip_id\": 913, \"dates\": [\"$(day '+3 days')\"], \"note\": \"May I come?\"}"
[ "$STATUS" == 201 ] || bad+=" visit:$STATUS"
# issue 15: a moment, and caption cues (inserted: the captions API is
# another suite's), whose search index PostgreSQL makes as they go in
req_json POST /api/v1/clips/901/moments "$COACH_N" '{"start_s": 0.5, "end_s": 1.5, "practice": "station-rotation", "title": "Card sort"}'
[ "$STATUS" == 201 ] || bad+=" moment:$STATUS"
sql "INSERT INTO caption_cues (clip_id, start_s, end_s, text) VALUES
     (901, 0.5, 1.5, 'Sort the cards into groups'), (901, 1.5, 2.5, 'Quokkafield speaks')" ||
	bad+=" caption cues"
# the highest clip id goes: PostgreSQL must not give it again
req DELETE /api/v1/clips/916 "$ADMIN"
[ "$STATUS" == 204 ] || bad+=" delete:$STATUS"
check_none "views, notes, a visit and a deletion through the API on SQLite" "$bad"
SESSION=$(curl -s -o /dev/null -w '%{http_code}' -c "$WORK/jar" --data-urlencode "name=page-reader" \
	--data-urlencode "password=$PW" --data-urlencode "next=/" "$URL/login")
check_eq "a browser signs in on SQLite" 303 "$SESSION"

# what the API answers on SQLite, to compare with PostgreSQL's
answers() {
	local t
	for t in ADMIN TEACH_N TEACH_R COACH_R PRINC_N; do
		echo "$t total $(total "${!t}" "") ids $(ids "${!t}" "per_page=100")"
	done
	echo "search $(ids "$TEACH_N" "q=Quokkafield") / $(ids "$TEACH_N" "q=zebrafish") /" \
		"$(ids "$TEACH_N" "q=$(uri 'kite flying')") / $(total "$TEACH_R" "q=obsidian")" \
		"$(total "$ADMIN" "q=obsidian")"
	req GET "/api/v1/summary?from=$FROM&to=$TO" "$ADMIN"
	echo "district summary $STATUS $(jq -S -c . "$WORK/body")"
	req GET "/api/v1/schools/north-high/summary?from=$FROM&to=$TO" "$PRINC_N"
	echo "school summary $STATUS $(jq -S -c . "$WORK/body")"
}
answers >"$WORK/answers.sqlite"
check_match "the answers on SQLite are whole (search finds 901)" 'search 901 / 901 / 910 903' \
	"$(cat "$WORK/answers.sqlite")"
check_match "and the summaries are there" 'school summary 200 \{' "$(cat "$WORK/answers.sqlite")"
stop_server
check_eq "the SQLite catalogue has views counted" 1 "$(sql 'SELECT count(*) > 0 FROM view_counts WHERE n > 0')"

TABLES="schools practices users tokens sessions clips clip_practices clip_tags comments visits views jobs moments caption_cues"
MAX_CLIP=$(sql "SELECT seq FROM sqlite_sequence WHERE name = 'clips'")
MAX_USER=$(sql "SELECT max(id) FROM users")
MAX_NOTE=$(sql "SELECT max(id) FROM comments")
check_eq "the deleted clip 916 was the highest ever given" "916 915" "$MAX_CLIP $(sql 'SELECT max(id) FROM clips')"
BEFORE=$(sha256sum <"$DB")

# ------------------------------------------------------------ the move
# KINDLING_DATABASE (the setting servers will use) must not redirect the
# source: the copy is of the data folder's catalogue.db
KINDLING_DATABASE=$PG_URL run_cli move-to --data "$DATA" --database "$PG_PW_URL"
check_eq "move-to --database exits 0" 0 "$RC"
want="copied: $(sql 'SELECT count(*) FROM schools') schools, $(sql 'SELECT count(*) FROM practices') practices, $(sql 'SELECT count(*) FROM users') users, .* $(sql 'SELECT count(*) FROM clips') clips, .* $(sql 'SELECT count(*) FROM comments') notes, $(sql 'SELECT count(*) FROM visits') visits, $(sql 'SELECT count(*) FROM views') views, .* into PostgreSQL .*counts checked"
check_match "it says what it copied, and that the counts were checked" "$want" "$OUT"
check_match "it says which settings to add" \
	"database = postgresql://kindling:\*\*\*@/kindling\?host=$PGDIR" "$OUT"
check_match "with the password hidden, and where the real one goes" 'PGPASSWORD' "$OUT"
check_eq "the password is printed nowhere" "" "$(printf '%s\n%s' "$OUT" "$ERR" | grep -o 'Sekret-Pw-42')"
check_eq "the data folder's catalogue.db is not changed by a byte" "$BEFORE" "$(sha256sum <"$DB")"

bad=""
for t in $TABLES; do
	a=$(sql "SELECT count(*) FROM $t") b=$(pg "SELECT count(*) FROM $t")
	[ "$a" == "$b" ] || bad+=" $t:$a/$b"
done
check_none "every table has as many rows in PostgreSQL as in SQLite" "$bad"
q="SELECT id, title, sha256, status, school_id, uploader_id, visibility FROM clips ORDER BY id"
check_eq "the clips are the same (id, title, sha256, status, school, uploader, visibility)" \
	"$(sql "$q" | sha256sum)" "$(pg "$q" | sha256sum)"
check_eq "the tokens' hashes are the same bytes" \
	"$(sql 'SELECT id, user_id, lower(hex(secret_hash)) FROM tokens ORDER BY id' | sha256sum)" \
	"$(pg "SELECT id, user_id, encode(secret_hash, 'hex') FROM tokens ORDER BY id" | sha256sum)"
q="SELECT clip_school_id, day, shared, n FROM view_counts WHERE n > 0 ORDER BY 1, 2, 3"
check_eq "view counts: PostgreSQL's triggers count the copied views as SQLite did" \
	"$(sql "$q")" "$(pg "$q")"
q="SELECT viewer_school_id, practice_id, day, clip_school_id, n FROM view_practice_counts WHERE n > 0 ORDER BY 1, 2, 3, 4"
check_eq "views by practice: the same" "$(sql "$q")" "$(pg "$q")"
check "  (and there are some)" test -n "$(pg "$q")"
check_eq "every clip has its full-text document" \
	"$(pg 'SELECT count(*) FROM clips')" "$(pg 'SELECT count(*) FROM clips_fts')"
q="SELECT id, clip_id, practice_id, start_s, end_s, title FROM moments ORDER BY id"
check_eq "the moments are the same (issue 15)" "$(sql "$q" | sha256sum)" "$(pg "$q" | sha256sum)"
check_eq "every caption cue has its words indexed on PostgreSQL" "2 2" \
	"$(pg 'SELECT count(*) FROM caption_cues') $(pg "SELECT count(*) FROM caption_cues WHERE doc <> ''::tsvector")"

run_cli move-to --data "$DATA" --database "$PG_URL"
check_eq "a run again at once: exit 0" 0 "$RC"
check_match "saying it was done already" '^already copied: .* nothing copied again' "$OUT"

# ------------------------------------------------------------ a server on PostgreSQL
KINDLING_DATABASE=$PG_URL start_server "$DATA" || fatal "a server on PostgreSQL starts" "$(log_tail)"
answers >"$WORK/answers.pg"
check_eq "the same answers as on SQLite: lists and totals per person, search, summaries" \
	"$(cat "$WORK/answers.sqlite")" "$(cat "$WORK/answers.pg")"
req GET /api/v1/me "$ADMIN"
check_eq "a token made before the move still works" "200 it-admin" "$STATUS $(jb .name)"
check_eq "a browser session made before the move still works" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" "$URL/")"
req GET /api/v1/clips/905 "$TEACH_N"
check_eq "another school's private clip is still hidden" 404 "$STATUS"

NEW=$(KINDLING_DATABASE=$PG_URL add_user after-move teacher north-high)
new_id=${NEW#kd_}
new_id=${new_id%%_*}
check "a new person gets an id above the copied ones ($new_id > $MAX_USER)" test "$new_id" -gt "$MAX_USER"
req GET /api/v1/me "$NEW"
check_eq "and signs in" 200 "$STATUS"
head -c 2000 /dev/urandom >"$WORK/not-a-video.mp4"
out=$(KINDLING_DATABASE=$PG_URL "$BIN" ingest --data "$DATA" --school north-high \
	--practice differentiation --title "After the move" --json "$WORK/not-a-video.mp4" 2>"$WORK/ingest.err")
clip=$(jq -r .id <<<"$out" 2>/dev/null)
check "a new clip gets an id above every one given, the deleted 916 too ($clip > $MAX_CLIP)" \
	test "${clip:-0}" -gt "$MAX_CLIP"
req_json POST "/api/v1/clips/901/notes" "$TEACH_R" '{"body": "Noted after the move"}'
check "a new note gets an id above the copied ones" test "$(jb .id)" -gt "${MAX_NOTE:-0}"
# (the new clip is no video: its worker says so)
check_server_log "worker: clip ${clip:-0}: "
stop_server

run_cli move-to --data "$DATA" --database "$PG_URL"
check_eq "into the database once it has moved on: refused, exit 1" 1 "$RC"
check_match "saying so" 'the database already holds a catalogue .*move-to copies into an empty one' "$ERR"

# ------------------------------------------------------------ refused
run_cli move-to --data "$DATA" --database "mysql://kd:Sekret-Pw-42@db.example/kindling"
check_eq "a URL that is not PostgreSQL's: usage error" 2 "$RC"
check_match "saying what URL it takes" 'postgresql://USER\[:PASSWORD\]@HOST' "$ERR"
check_eq "without the password" "" "$(grep -o 'Sekret-Pw-42' <<<"$ERR")"
run_cli move-to --data "$DATA" --database "postgresql://kd:Sekret-Pw-42@/kindling?host=$WORK/nowhere"
check_eq "a server that is not there: exit 1" 1 "$RC"
check_match "saying it cannot connect, and what to check" 'cannot connect to the PostgreSQL.*check' "$ERR"
check_eq "without the password" "" "$(grep -o 'Sekret-Pw-42' <<<"$ERR")"
printf 'database = %s\n' "$PG_URL" >"$DATA/kindling.conf"
run_cli move-to --data "$DATA" --database "$PG_URL"
check_match "a data folder whose kindling.conf names PostgreSQL already: refused" \
	'kindling.conf says database = postgresql.*in PostgreSQL already' "$ERR"
rm -f "$DATA/kindling.conf"
run_cli move-to --data "$WORK/no-such-folder" --database "$PG_URL"
check_match "a data folder without a catalogue: refused, saying where it looked" \
	"no catalogue at $WORK/no-such-folder/catalogue.db" "$ERR"
check "and no catalogue is made there" test ! -e "$WORK/no-such-folder"
check_eq "after all that, catalogue.db is still as it was" "$BEFORE" "$(sha256sum <"$DB")"

# ------------------------------------------------------------ nothing half done
# A copy of the data folder whose catalogue holds what PostgreSQL's columns
# cannot: a text in an integer column fails the insert, a fraction in one
# comes back rounded and fails the check; both leave the database empty.
ODD=$WORK/odd
mkdir -p "$ODD" && cp "$DB" "$ODD/catalogue.db"
pg "CREATE DATABASE odd" >/dev/null
PG_ODD="postgresql:///odd?host=$PGDIR&user=kindling"
empty_odd() { [ "$(PG=$PG_ODD pg 'SELECT (SELECT count(*) FROM schools) + (SELECT count(*) FROM clips)')" == 0 ]; }
sqlite3 "$ODD/catalogue.db" "UPDATE clips SET width = 'wide' WHERE id = 902"
run_cli move-to --data "$ODD" --database "$PG_ODD"
check_eq "a row PostgreSQL refuses: exit 1" 1 "$RC"
check_match "saying which row, and why" 'refuses the clips row id 902: column "width" .*nothing was committed' "$ERR"
check "nothing of it is left in the database" empty_odd
sqlite3 "$ODD/catalogue.db" "UPDATE clips SET width = 2.5 WHERE id = 902"
run_cli move-to --data "$ODD" --database "$PG_ODD"
check_eq "a value that does not come back the same: exit 1" 1 "$RC"
check_match "saying which table differs" 'does not read back as the data folder has it: clips .*not the same values' "$ERR"
check "nothing of it is left in the database either" empty_odd

# ------------------------------------------------------------ with the media
. "$ROOT/tests/node_tools.sh"
if command -v ffmpeg >/dev/null && node_tools_check moveto s3rver >"$WORK/node.txt" 2>&1; then
	mkdir -p "$WORK/s3"
	node "$HERE/s3rver.mjs" "$WORK/s3" kindling-media >"$WORK/s3rver.log" 2>&1 &
	SERVER_PIDS+=("$!")
	wait_until 30 grep -q '^s3rver: http' "$WORK/s3rver.log" ||
		fatal "s3rver starts" "$(tail -c 300 "$WORK/s3rver.log")"
	S3_URL=$(sed -n 's/^s3rver: //p' "$WORK/s3rver.log")
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	OLD=$WORK/old
	ff -f lavfi -i testsrc=size=160x120:rate=10:duration=1 -c:v mpeg4 "$WORK/small.avi"
	"$BIN" school add north-high "North High" --data "$OLD" >/dev/null 2>&1
	out=$("$BIN" ingest --data "$OLD" --school north-high --practice station-rotation --wait \
		--json "$WORK/small.avi" 2>"$WORK/ingest2.err")
	check_eq "a second data folder has a processed clip" ready "$(jq -r .status <<<"$out")"
	pg "CREATE DATABASE both_ways" >/dev/null
	PG2="postgresql:///both_ways?host=$PGDIR&user=kindling"
	run_cli move-to --data "$OLD" --database "$PG2" --storage s3://kindling-media/moved \
		--s3-endpoint "$S3_URL"
	check_eq "move-to --database --storage: exit 0" 0 "$RC"
	check_match "it says it copied the catalogue" 'copied: 1 schools, .* 1 clips, .*into PostgreSQL' "$OUT"
	check_match "and moved the media" 'moved: 1 clips, [1-9][0-9]* files' "$OUT"
	check_match "and names both settings" "database = $PG2"$'\n'"  storage = s3://kindling-media/moved" "$OUT"
	check_eq "the clip is in PostgreSQL" 1 "$(PG=$PG2 pg 'SELECT count(*) FROM clips')"
else
	echo "# no s3rver (or ffmpeg) here: --database with --storage not run ($(head -c 200 "$WORK/node.txt"))"
fi

finish
