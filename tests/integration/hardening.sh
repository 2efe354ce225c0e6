#!/usr/bin/env bash
# tests/integration/hardening.sh - nobody knocks the server over, nobody
# fills a page for everyone, nobody files or learns what is not theirs:
#   - 1,000 slow connections from one address while /healthz answers others;
#     200 connections pushing bodies at routes that refuse them, memory flat;
#   - the sign-in throttle per name and per client behind a trusted proxy;
#   - notes bounded a day, paged, deletable; pages under their cap whatever
#     is written (notes, visits);
#   - a coach files clips at their own school; the duplicate check reveals
#     only what the uploader may see;
#   - disk: unfinished uploads per person, the reserve, a full disk;
#   - log lines cannot be forged; media revalidate; visits forget a clip
#     that is withdrawn.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/hardening.sh
#
# Needs curl, jq, sqlite3, ffmpeg and node.  Last line: "hardening: N
# passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite hardening sqlite3 ffmpeg node

PW='correct horse battery'
mkdir -p "$DATA"
cat >"$DATA/kindling.conf" <<'EOF'
connections_per_address = 64
header_timeout = 3
notes_per_day = 5
uploads_per_person = 2
disk_reserve_mb = 64
upload_max_mb = 1048576
trusted_proxies = 127.0.0.3
EOF
"$BIN" school add north-high "North High" --data "$DATA" 2>/dev/null
"$BIN" school add south-middle "South Middle" --data "$DATA" 2>/dev/null
ADMIN=$(add_user admin admin)
COACH_N=$(add_user coach-north coach north-high)
COACH_ANY=$(add_user coach-district coach)
TEACH_N=$(add_user teach-north teacher north-high --password-stdin < <(printf '%s\n' "$PW"))
TEACH_S=$(add_user teach-south teacher south-middle --password-stdin < <(printf '%s\n' "$PW"))
PRINC_N=$(add_user princ-north principal north-high --password-stdin < <(printf '%s\n' "$PW"))
[ -n "$ADMIN" ] && [ -n "$COACH_N" ] && [ -n "$TEACH_S" ] && [ -n "$PRINC_N" ] ||
	fatal "users are added" "user add failed"

mkdir -p media
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -pix_fmt yuv420p media/a.mp4
ff -f lavfi -i testsrc=size=320x240:rate=25:duration=2 -c:v libx264 -pix_fmt yuv420p media/b.mp4
ingest() { "$BIN" ingest --data "$DATA" --wait --json "$@" 2>/dev/null | jq -r '.id'; }
CLIP=$(ingest --school north-high --practice station-rotation --title "Open clip" media/a.mp4)
[ -n "$CLIP" ] && [ "$CLIP" != null ] || fatal "a clip is ingested" "ingest failed"
start_server "$DATA" || fatal "the server starts" "$(log_tail)"
PID=$SERVER_PID
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }

# ---------------------------------------------------------------- holding connections

node "$HERE/hostile.mjs" slow 1000 127.0.0.2 "$PORT" 8 >"$WORK/slow.out" 2>&1 &
slow=$!
sleep 1
worst=0 failed_health=0
for _ in 1 2 3 4 5 6; do
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 1 "$URL/healthz")
	[ "${t% *}" == 200 ] || failed_health=$((failed_health + 1))
	worst=$(awk -v a="$worst" -v b="${t#* }" 'BEGIN { print (b > a ? b : a) }')
	sleep 1
done
wait "$slow"
check_eq "/healthz from 127.0.0.1 answers within a second while 127.0.0.2 holds 1,000 slow connections" \
	0 "$failed_health"
echo "# slowest /healthz: ${worst}s; $(cat "$WORK/slow.out")"
check_match "the server refused the connections past connections_per_address" \
	'refusing connections from 127\.0\.0\.2' "$(cat "$SERVER_LOG")"
check_match "and closed those whose headers took longer than header_timeout" \
	'closed [0-9]+ connections? whose request headers took longer than 3 s' "$(cat "$SERVER_LOG")"
check_match "none of the slow ones is left open" 'still open 0$|0 still open' "$(cat "$WORK/slow.out")"

before=$(rss_kb)
node "$HERE/hostile.mjs" push 100 "$PORT" /nowhere 4 >"$WORK/push1.out" 2>&1
node "$HERE/hostile.mjs" push 100 "$PORT" /api/v1/clips/1 4 >"$WORK/push2.out" 2>&1
after=$(rss_kb)
echo "# server RSS before ${before} kB, after 200 pushing connections ${after} kB"
check "200 connections pushing bodies at an unknown and an unauthenticated route leave memory flat" \
	[ "$after" -le $((before + 10240)) ]
check_match "each was refused on its headers, not read" '^push: 100 ended' "$(cat "$WORK/push1.out")"

# ---------------------------------------------------------------- sign-in throttle

# login NAME PASSWORD [CURL ARGS...] -> the status
login() {
	local name=$1 pw=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code}' -c "$WORK/jar" "$@" \
		--data-urlencode "name=$name" --data-urlencode "password=$pw" --data-urlencode "next=/" \
		"$URL/login"
}
codes=""
for _ in 1 2 3 4 5 6 7; do codes="$codes $(login teach-north wrong)"; done
check_eq "a name is locked after 6 failures (5 free)" " 401 401 401 401 401 401 429" "$codes"
THROTTLE_FIRST_LOCK=5 # web/throttle.h
for i in $(seq 1 40); do login "nobody-$i" wrong --interface 127.0.0.5 >/dev/null; done
# However long those took (the first lock is 5 s, and a busy machine may
# outlast it), the name's count is kept: once its lock has run out, one
# more failure locks it again at once, for longer, against the right
# password too.
sleep $((THROTTLE_FIRST_LOCK + 1))
codes="$(login teach-north wrong) $(login teach-north "$PW")"
check_eq "failures of other names do not unlock it" "401 429" "$codes"
# Behind a trusted proxy the client is the one X-Forwarded-For names.
codes=""
for i in $(seq 1 22); do
	codes=$(login "guess-$i" wrong --interface 127.0.0.3 -H 'X-Forwarded-For: 198.51.100.7')
done
check_eq "through the trusted proxy, one client's 21 failures lock that client" 429 "$codes"
check_eq "and not another client behind the same proxy" 303 \
	"$(login teach-south "$PW" --interface 127.0.0.3 -H 'X-Forwarded-For: 198.51.100.8')"
for i in $(seq 1 21); do login "spoof-$i" wrong --interface 127.0.0.4 -H "X-Forwarded-For: 203.0.113.$i" >/dev/null; done
check_eq "from an untrusted peer X-Forwarded-For is ignored: the peer is locked" 429 \
	"$(login teach-south "$PW" --interface 127.0.0.4 -H 'X-Forwarded-For: 203.0.113.99')"

# ---------------------------------------------------------------- notes and page caps

note() { req_json POST "/api/v1/clips/$CLIP/notes" "$1" "{\"body\": \"$2\"}"; }
codes=""
for i in 1 2 3 4 5 6; do note "$TEACH_S" "note $i"; codes="$codes $STATUS"; done
check_eq "notes_per_day: the 6th note of one person on one clip in a day is refused" \
	" 201 201 201 201 201 429" "$codes"
check_match "  saying when more may be added" 'tomorrow' "$(jb .error)"
note "$TEACH_N" "mine"
NOTE=$(jb .id)
req DELETE "/api/v1/notes/$NOTE" "$TEACH_S"
check_status "a note cannot be deleted by another teacher" 403
req DELETE "/api/v1/notes/$NOTE" "$TEACH_N"
check_status "its author deletes it" 204
note "$TEACH_N" "again"
req DELETE "/api/v1/notes/$(jb .id)" "$COACH_N"
check_status "a coach of the clip's school (an editor) deletes it" 204
# 270 notes of 4,000 '<' (past the daily limit, as years of notes would be)
big=$(head -c 4000 /dev/zero | tr '\0' '<')
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 270)
     INSERT INTO comments (clip_id, user_id, body) SELECT $CLIP,
     (SELECT id FROM users WHERE name = 'teach-south'), '$big' FROM n;"
cookie() { curl -s -o /dev/null -c "$WORK/jar.$1" --data-urlencode "name=$1" \
	--data-urlencode "password=$PW" "$URL/login"; }
cookie princ-north
page=$(curl -s -b "$WORK/jar.princ-north" -w '\n%{http_code}' "$URL/clips/$CLIP")
check_eq "a clip with 270 notes of 4,000 '<' still shows (200)" 200 "$(tail -n 1 <<<"$page")"
check "  under the page cap (4 MB)" [ "$(wc -c <<<"$page")" -lt 4000000 ]
check_match "  in pages of notes" 'notes=2' "$page"
page=$(curl -s -b "$WORK/jar.princ-north" -w '\n%{http_code}' "$URL/clips/$CLIP?notes=6")
check_match "  the last page shows the last notes" 'note-list' "$page"
req GET "/api/v1/clips/$CLIP/notes?page=2" "$TEACH_S"
check_jq "the notes API pages them too (50 a page, total counted)" \
	'.total == 275 and (.notes | length) == 50 and .page == 2'
# 600 visits with long notes and reflections
long=$(head -c 2000 /dev/zero | tr '\0' '"')
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
     INSERT INTO visits (clip_id, host_school_id, visitor_school_id, requester_id,
       proposed_dates, note, answer_note, reflection, status)
     SELECT $CLIP, (SELECT id FROM schools WHERE slug = 'north-high'),
       (SELECT id FROM schools WHERE slug = 'south-middle'),
       (SELECT id FROM users WHERE name = 'teach-south'), '[\"2030-01-0' || (i % 9 + 1) || '\"]',
       '$long', '$long', '$long', 'requested' FROM n;"
cookie teach-south
page=$(curl -s -b "$WORK/jar.teach-south" -w '\n%{http_code}' "$URL/visits")
check_eq "/visits with 600 long visits still shows (200)" 200 "$(tail -n 1 <<<"$page")"
check "  under the page cap" [ "$(wc -c <<<"$page")" -lt 4000000 ]
page=$(curl -s -b "$WORK/jar.princ-north" -w '\n%{http_code}' "$URL/visits")
check_eq "  and for the host principal" 200 "$(tail -n 1 <<<"$page")"

# ---------------------------------------------------------------- who files where

# tus_create TOKEN METADATA-PAIRS... -> status of POST /api/v1/uploads (Location in headers)
b64() { printf '%s' "$1" | base64 -w 0; }
tus_create() {
	local token=$1 length=$2 meta=""
	shift 2
	while [ $# -ge 2 ]; do meta="$meta${meta:+,}$1 $(b64 "$2")"; shift 2; done
	req POST /api/v1/uploads "$token" -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $length" \
		-H "Upload-Metadata: $meta"
}
size_b=$(stat -c %s media/b.mp4)
tus_create "$COACH_N" "$size_b" filename b.mp4 school south-middle practices station-rotation
check_status "a coach cannot upload into another school" 403
check_match "  and is told why" 'own school' "$(jb .error)"
tus_create "$COACH_ANY" "$size_b" filename b.mp4 school south-middle practices station-rotation
check_status "a coach with no school (serving the district) may" 201
req DELETE "$(header Location)" "$COACH_ANY" -H 'Tus-Resumable: 1.0.0'
patch "$CLIP" "$COACH_N" '{"school":"south-middle"}'
check_status "a coach cannot move a clip to another school" 403

# The same bytes as another school's private clip: a new clip, nothing revealed.
PRIV=$(ingest --school south-middle --practice station-rotation --title "Private" \
	--visibility private media/b.mp4)
out=$("$BIN" upload --server "$URL" --token "$COACH_N" --school north-high \
	--practice station-rotation --json media/b.mp4 2>/dev/null)
check_eq "uploading the bytes of a clip one may not see makes a new clip, not a duplicate" \
	"false true" "$(jq -r '.duplicate' <<<"$out") $([ "$(jq -r '.id' <<<"$out")" != "$PRIV" ] && echo true)"
out=$("$BIN" upload --server "$URL" --token "$COACH_N" --school north-high \
	--practice station-rotation --json media/a.mp4 2>/dev/null)
check_eq "the bytes of a clip one sees: the duplicate, by its id" "true $CLIP" \
	"$(jq -r '"\(.duplicate) \(.id)"' <<<"$out")"

# ---------------------------------------------------------------- disk

tus_create "$COACH_ANY" 1000 filename x.mp4 school north-high practices station-rotation
u1=$STATUS
tus_create "$COACH_ANY" 1000 filename y.mp4 school north-high practices station-rotation
u2=$STATUS
tus_create "$COACH_ANY" 1000 filename z.mp4 school north-high practices station-rotation
check_eq "uploads_per_person: the 3rd unfinished upload is refused" "201 201 429" "$u1 $u2 $STATUS"
check_match "  saying to finish or cancel them" 'finish them' "$(jb .error)"
free_mb=$(($(df -Pk "$DATA" | awk 'NR == 2 {print $4}') / 1024))
tus_create "$ADMIN" $(((free_mb - 32) * 1048576)) filename huge.mp4 school north-high \
	practices station-rotation
check_status "an upload that would eat into disk_reserve_mb: 507" 507
check_match "  saying what to do" 'free space' "$(jb .error)"

# A full disk (a small file system of its own, where this machine lets a
# test mount one) refuses, and the catalogue stays whole.
if on_postgres; then
	# (in the test's own user namespace the server cannot reach the
	# cluster's socket; and the catalogue is not on this disk then)
	echo "# skipped the full-disk round: it fills the data folder's own file system, where the SQLite catalogue lives"
elif unshare -Urm true 2>/dev/null; then
	cat >"$WORK/full.sh" <<EOF
set -u
mkdir -p "$WORK/small"
mount -t tmpfs -o size=24m tmpfs "$WORK/small" || exit 3
cp -r "$DATA" "$WORK/small/data"
printf 'disk_reserve_mb = 0\nuploads_per_person = 20\n' >>"$WORK/small/data/kindling.conf"
"$BIN" serve --data "$WORK/small/data" --listen 127.0.0.1:0 >"$WORK/small.log" 2>&1 &
pid=\$!
for _ in \$(seq 100); do port=\$(sed -n 's#^kindling: serving http://127.0.0.1:\([0-9]*\)/\$#\1#p' "$WORK/small.log"); [ -n "\$port" ] && break; sleep 0.1; done
head -c 30000000 /dev/urandom >"$WORK/big.bin"
"$BIN" upload --server http://127.0.0.1:\$port --token "$COACH_ANY" --school north-high \
	--practice station-rotation --json "$WORK/big.bin" >"$WORK/full.json" 2>/dev/null
curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\$port/healthz >"$WORK/full.health"
kill -TERM \$pid; wait \$pid
sqlite3 "$WORK/small/data/catalogue.db" 'PRAGMA integrity_check' >"$WORK/full.integrity"
EOF
	unshare -Urm bash "$WORK/full.sh"
	check_match "on a full disk the upload fails with 507 and a message" \
		'"status":"failed".*(disk|room|space)' "$(cat "$WORK/full.json" 2>/dev/null)"
	check_eq "  the server keeps answering" 200 "$(cat "$WORK/full.health" 2>/dev/null)"
	check_eq "  the catalogue is whole (integrity_check)" ok "$(cat "$WORK/full.integrity" 2>/dev/null)"
else
	echo "# skipped the full-disk round: this machine does not let a test mount a file system"
fi

# ---------------------------------------------------------------- after the fact

# A forged log line: a name with a line break in it.
curl -s -o /dev/null --data-urlencode $'name=eve\n2026-01-01T00:00:00Z info  auth: user 1 signed in' \
	--data-urlencode "password=x" "$URL/login"
check_none "a name with a line break cannot forge a log line" \
	"$(grep -E '^2026-01-01T00:00:00Z' "$SERVER_LOG")"
check_match "  it is written escaped" 'eve\\x0a2026' "$(cat "$SERVER_LOG")"

req GET "/media/clips/$CLIP/thumbnail.jpg" "$TEACH_S"
check_eq "media are revalidated, never kept (no-cache, with an ETag)" "200 private, no-cache yes" \
	"$STATUS $(header Cache-Control) $([ -n "$(header ETag)" ] && echo yes)"

req_json POST /api/v1/visits "$TEACH_S" "{\"clip_id\": $CLIP, \"dates\": [\"2031-04-01\"]}"
VISIT=$(jb .id)
req_json PATCH "/api/v1/visits/$VISIT" "$PRINC_N" '{"status": "accepted", "date": "2031-04-01"}'
check_status "a visit is asked and accepted" 200
patch "$CLIP" "$ADMIN" '{"consent":"withdrawn","consent_reason":"a parent asked"}'
req GET "/api/v1/visits/$VISIT" "$TEACH_S"
check_jq "after consent is withdrawn the visit no longer names the clip" \
	'.clip_id == null and .clip_title == null and .teacher == null'
req GET "/api/v1/visits/$VISIT/ics" "$TEACH_S"
check_none "  nor does its .ics" "$(grep -i 'Open clip' "$WORK/body")"

check_server_log '" 507 '
finish
