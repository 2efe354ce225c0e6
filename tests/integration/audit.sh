#!/usr/bin/env bash
# tests/integration/audit.sh - the audit trail after a scripted day: the
# accounts made at the shell, an admin and a teacher signing in with the
# password form, failed sign-ins, a clip opened (its page twice, its video
# once: one entry), consent withdrawn, visibility changed, blur set, a token
# made and revoked on /account, a visit asked for and answered, a clip
# deleted with a reason, a roster imported (a dry run first), an account
# disabled on /admin/users.  Then `kindling audit --format json` must hold
# exactly the expected entries in order (action, who, clip) and no others;
# the CSV of the shell and of /admin/audit.csv must parse (python3's csv)
# to the same rows; the filters must narrow; /admin/audit must page; and
# only admins may read any of it.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/audit.sh
#
# Last line: "audit: N passed, N failed".  Loopback only; every wait polls.

# shellcheck disable=SC2016  # jq and python programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite audit python3

PASSWORD="an audit suite password"
WRONG="not the password at all"
LOGIN=$(id -un)
CL="command line ($LOGIN)"
TODAY=$(date -u +%F)
YESTERDAY=$(date -u -d "-1 day" +%F)
TOMORROW=$(date -u -d "+1 day" +%F)
D1=$(date -u -d "+3 days" +%F)
EVIL_TITLE='=HYPERLINK("http://evil.example/x","Click, here") and a long title after it'

# ------------------------------------------------------------------ setup
# (the shell's own entries: each `user add` is an account and a token)
{ "$BIN" school add hill-school "Hill School" --data "$DATA" &&
	"$BIN" school add vale-school "Vale School" --data "$DATA"; } >/dev/null 2>"$WORK/setup.err" ||
	fatal "fixture: schools" "$(cat "$WORK/setup.err")"
ADMIN=$(printf '%s\n' "$PASSWORD" | add_user it-admin admin "" --password-stdin)
TEACH=$(printf '%s\n' "$PASSWORD" | add_user teach-hill teacher hill-school --password-stdin)
VALE=$(add_user teach-vale teacher vale-school)
for t in "$ADMIN" "$TEACH" "$VALE"; do
	[[ $t =~ ^kd_[0-9]+_ ]] || fatal "fixture: user add prints a token" "got '$t'"
done
U_VALE=$(sql "SELECT id FROM users WHERE name = 'teach-vale'")
evil_sql=${EVIL_TITLE//\'/\'\'}
sql <<SQL || fatal "fixture clips inserted with SQL" "see above"
INSERT INTO clips (id, title, school_id, teacher, uploaded_at, consent, visibility, status)
VALUES
 (501, 'Opened clip', (SELECT id FROM schools WHERE slug = 'hill-school'), 'Tess Hill', '2021-03-04T10:00:00Z', 'on-file', 'district', 'ready'),
 (502, 'Consent clip', (SELECT id FROM schools WHERE slug = 'hill-school'), '', '2021-03-04T10:00:00Z', 'on-file', 'district', 'ready'),
 (503, 'Visibility clip', (SELECT id FROM schools WHERE slug = 'hill-school'), '', '2021-03-04T10:00:00Z', 'on-file', 'district', 'ready'),
 (504, 'Blur clip', (SELECT id FROM schools WHERE slug = 'hill-school'), '', '2021-03-04T10:00:00Z', 'on-file', 'district', 'ready'),
 (505, '$evil_sql', (SELECT id FROM schools WHERE slug = 'hill-school'), '', '2021-03-04T10:00:00Z', 'on-file', 'district', 'ready');
INSERT INTO clip_practices (clip_id, practice_id)
 SELECT c.id, (SELECT id FROM practices WHERE slug = 'station-rotation') FROM clips c WHERE c.id >= 501;
SQL
mkdir -p "$DATA/media/501"
head -c 4000 /dev/urandom >"$DATA/media/501/video.mp4"

# (processing off: the blur below queues its clip, which has no original)
start_server_with --data "$DATA" --listen 127.0.0.1:0 --no-processing ||
	fatal "the server started" "$(log_tail)"

# sign_in NAME PASSWORD: the password form; prints "SESSION CSRF".
sign_in() {
	local sid csrf
	req POST /login "" --data-urlencode "name=$1" --data-urlencode "password=$2" \
		--data-urlencode "next=/"
	[ "$STATUS" == 303 ] || return 1
	sid=$(header Set-Cookie | sed -n 's/^kd_session=\([^;]*\).*/\1/p')
	[ -n "$sid" ] || return 1
	req GET / "" -H "Cookie: kd_session=$sid"
	csrf=$(grep -o '<meta name="csrf-token" content="[^"]*"' "$WORK/body" | sed 's/.*content="//; s/"$//')
	[ "$STATUS" == 200 ] && [ -n "$csrf" ] || return 1
	echo "$sid $csrf"
}

# ------------------------------------------------------------------ the day
got=$(sign_in it-admin "$PASSWORD") || fatal "the admin signs in with the password form" "status $STATUS"
A_SID=${got% *} A_CSRF=${got#* }
got=$(sign_in teach-hill "$PASSWORD") || fatal "the teacher signs in with the password form" "status $STATUS"
T_SID=${got% *} T_CSRF=${got#* }
ok "the admin and the teacher sign in"

# failed sign-ins, well inside one minute (repeats within a minute are one entry)
wait_until 15 bash -c '[ $((10#$(date -u +%S))) -lt 45 ]'
req POST /login "" --data-urlencode "name=teach-hill" --data-urlencode "password=$WRONG"
check_status "a wrong password is refused" 401
req POST /login "" --data-urlencode "name=teach-hill" --data-urlencode "password=$WRONG"
check_status "and again (one entry for both)" 401
req POST /login "" --data-urlencode "name=nobody-here" --data-urlencode "password=$WRONG"
check_status "an unknown account is refused" 401

for i in 1 2; do
	req GET /clips/501 "" -H "Cookie: kd_session=$T_SID"
	check_status "the teacher opens clip 501's page ($i)" 200
done
req GET /media/clips/501/video.mp4 "" -H "Cookie: kd_session=$T_SID"
check_status "the teacher plays its video" 200

req_json PATCH /api/v1/clips/502 "$ADMIN" '{"consent": "withdrawn", "consent_reason": "a parent asked, 14 May"}'
check_status "the admin withdraws consent of 502" 200
req_json PATCH /api/v1/clips/503 "$ADMIN" '{"visibility": "school"}'
check_status "the admin makes 503 school-only" 200
req_json PUT /api/v1/clips/504/blur "$ADMIN" '[{"from_s": 0, "to_s": 5, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.3}]'
check_status "the admin blurs a region of 504" 200 204

req POST /account/tokens "" -H "Cookie: kd_session=$T_SID" --data-urlencode "csrf=$T_CSRF" \
	--data-urlencode "name=audit suite" --data-urlencode "expires_days="
check_status "the teacher makes a token on /account" 200
SECRET=$(grep -o 'kd_[0-9]*_[A-Za-z0-9_-]*' "$WORK/body" | head -n 1)
TOK_ID=$(sql "SELECT id FROM tokens WHERE label = 'audit suite'")
check_match "it is shown once, and is in the catalogue" '^kd_[0-9]+_' "$SECRET $TOK_ID"
req POST "/account/tokens/$TOK_ID/revoke" "" -H "Cookie: kd_session=$T_SID" --data-urlencode "csrf=$T_CSRF"
check_status "and revokes it" 303

req_json POST /api/v1/visits "$VALE" "{\"clip_id\": 501, \"dates\": [\"$D1\"], \"note\": \"May I come?\"}"
check_status "a teacher of another school asks to visit 501's classroom" 201
VISIT=$(jb .id)
req_json PATCH "/api/v1/visits/$VISIT" "$ADMIN" "{\"status\": \"accepted\", \"date\": \"$D1\"}"
check_status "the admin accepts the visit" 200

req DELETE "/api/v1/clips/505?reason=$(uri 'records request 7: erase')" "$ADMIN"
check_status "the admin deletes 505 with a reason" 204

sh "$ROOT/tests/gen_oneroster.sh" --schools 2 --staff 8 --students 20 "$WORK/roster" ||
	fatal "gen_oneroster.sh makes a roster" "see above"
run_cli roster import --dry-run --data "$DATA" "$WORK/roster"
check_eq "a roster dry run (not recorded)" 0 "$RC"
run_cli roster import --data "$DATA" "$WORK/roster"
check_eq "the roster is imported" 0 "$RC"

req POST "/admin/users/$U_VALE/disable" "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF"
check_status "the admin disables teach-vale on /admin/users" 303

# ------------------------------------------------------------------ exactly these
EXPECTED="user-change|$CL|0
token-add|$CL|0
user-change|$CL|0
token-add|$CL|0
user-change|$CL|0
token-add|$CL|0
sign-in|it-admin|0
sign-in|teach-hill|0
sign-in-failed||0
sign-in-failed||0
open|teach-hill|501
consent|it-admin|502
visibility|it-admin|503
blur|it-admin|504
token-add|teach-hill|0
token-revoke|teach-hill|0
visit-answer|it-admin|501
delete|it-admin|505
roster-import|$CL|0
user-change|it-admin|0"

run_cli audit --format json --data "$DATA"
check_eq "kindling audit --format json exits 0" 0 "$RC"
printf '%s' "$OUT" >"$WORK/trail.json"
check_eq "the trail holds exactly the day's entries, in order (action|who|clip)" "$EXPECTED" \
	"$(jq -r '.[] | "\(.action)|\(.user)|\(.clip_id // 0)"' "$WORK/trail.json")"
check_eq "ids rise, times are UTC today" "true" \
	"$(jq --arg d "$TODAY" '[.[].id] == ([.[].id] | sort) and all(.[]; .at | startswith($d) and endswith("Z"))' "$WORK/trail.json")"
check_eq "the targets say what was acted on" \
	"it-admin|it-admin: made with user add|teach-hill|nobody-here|Consent clip|teach-hill: audit suite (#$TOK_ID)|teach-vale" \
	"$(jq -r '[.[0].target, (.[1].target | sub(" \\(#[0-9]+\\)$"; "")), .[8].target, .[9].target, .[11].target, .[14].target, .[19].target] | join("|")' "$WORK/trail.json")"
check_eq "the details say how" \
	"wrong password|no account has this name|on-file -> withdrawn: a parent asked, 14 May|district -> school|accepted for $D1|disabled" \
	"$(jq -r '[.[8].detail, .[9].detail, .[11].detail, .[12].detail, .[16].detail, .[19].detail] | join("|")' "$WORK/trail.json")"
check_match "the deletion keeps the reason" 'records request 7: erase' "$(jq -r '.[17].detail' "$WORK/trail.json")"
check_match "the roster import keeps its counts" '^schools: 2 added.*people: [0-9]+ added' \
	"$(jq -r '.[18].detail' "$WORK/trail.json")"
check_eq "requests carry the client's address, the shell's none" "127.0.0.1|" \
	"$(jq -r '[.[10].ip, .[0].ip] | join("|")' "$WORK/trail.json")"
check_eq "the shell's entries are nobody's account (user_id null)" "null" "$(jq -c '.[0].user_id' "$WORK/trail.json")"
check_none "no password or token secret is in the trail" \
	"$(grep -o -e "$PASSWORD" -e "$WRONG" -e 'kd_[0-9]*_[A-Za-z0-9_-]\{8,\}' "$WORK/trail.json" | head -n 3)"

# ------------------------------------------------------------------ CSV, twice
"$BIN" audit --format csv --data "$DATA" >"$WORK/cli.csv" # (a file: $(...) would drop the last LF)
check_eq "kindling audit --format csv exits 0" 0 "$?"
req GET /admin/audit.csv "" -H "Cookie: kd_session=$A_SID"
check_status "an admin downloads /admin/audit.csv" 200
cp "$WORK/body" "$WORK/web.csv"
check_match "as a CSV attachment" 'attachment; filename="kindling-audit-[0-9-]+\.csv"' "$(header Content-Disposition)"
check_match "typed text/csv" '^text/csv' "$(header Content-Type)"
csv_rows() {
	python3 - "$1" "$WORK/trail.json" <<'PY'
import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f, strict=True))
trail = json.load(open(sys.argv[2], encoding="utf-8"))
assert rows[0] == ["id", "at", "user_id", "user", "action", "clip_id", "target", "detail", "ip"], rows[0]
body = rows[1:]
assert len(body) == len(trail), (len(body), len(trail))
for r, e in zip(body, trail):
    assert len(r) == 9, r
    want = [str(e["id"]), e["at"], str(e["user_id"] or ""), e["user"], e["action"],
            str(e["clip_id"] or ""), e["target"], e["detail"], e["ip"]]
    # a spreadsheet formula is defused with a leading '
    want = ["'" + w if w[:1] in ("=", "+", "-", "@") else w for w in want]
    assert r == want, (r, want)
print(len(body))
PY
}
check_eq "the shell's CSV parses to the trail's rows (RFC 4180)" 20 "$(csv_rows "$WORK/cli.csv" 2>&1 | tail -n 1)"
check_eq "/admin/audit.csv parses to the same rows" 20 "$(csv_rows "$WORK/web.csv" 2>&1 | tail -n 1)"
check "and is the same bytes as the shell's" cmp -s "$WORK/cli.csv" "$WORK/web.csv"
check_eq "the deleted clip's title is a defused formula, quoted for its comma" "'$EVIL_TITLE" \
	"$(python3 -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1],newline=""))); print([x for x in r if x[4]=="delete"][0][6])' "$WORK/cli.csv")"
check_match "lines end CRLF" $'\r$' "$(head -n 1 "$WORK/cli.csv")"

# ------------------------------------------------------------------ filters
actions() { run_cli audit --format json --data "$DATA" "$@"; printf '%s' "$OUT" | jq -r '[.[].action] | join(" ")'; }
check_eq "--user teach-hill" "sign-in open token-add token-revoke" "$(actions --user teach-hill)"
check_eq "--user IT-ADMIN (any case)" \
	"sign-in consent visibility blur visit-answer delete user-change" "$(actions --user IT-ADMIN)"
check_eq "--clip 501" "open visit-answer" "$(actions --clip 501)"
check_eq "--action delete" "delete" "$(actions --action delete)"
check_eq "--action sign-in-failed --clip 501" "" "$(actions --action sign-in-failed --clip 501)"
check_eq "--from and --to today: all of them" 20 "$(run_cli audit --format json --from "$TODAY" --to "$TODAY" --data "$DATA"; printf '%s' "$OUT" | jq length)"
check_eq "--to yesterday: none" "[]" "$(run_cli audit --format json --to "$YESTERDAY" --data "$DATA"; printf '%s' "$OUT" | jq -c .)"
check_eq "--from tomorrow: none" "" "$(actions --from "$TOMORROW")"
check_eq "--limit 2" "user-change token-add" "$(actions --limit 2)"
run_cli audit --action opened --data "$DATA"
check_eq "an unknown action: exit 2" 2 "$RC"
check_match "naming the actions" "no action is called 'opened'.*download-original" "$ERR"
run_cli audit --from 2026-02-30 --data "$DATA"
check_eq "a date that is none: exit 2" 2 "$RC"
run_cli audit --from "$TOMORROW" --to "$YESTERDAY" --data "$DATA"
check_eq "from after to: exit 2" 2 "$RC"
run_cli audit --format xml --data "$DATA"
check_eq "an unknown format: exit 2" 2 "$RC"
run_cli audit --action delete --data "$DATA"
check_match "the table: a header and aligned columns" '^AT \(UTC\) +WHO +ACTION +CLIP +TARGET +DETAIL' "$OUT"
check_match "long text is cut with an ellipsis" '=HYPERLINK\("http://evil.example/x",.*…' "$OUT"
check_match "and the count on standard error" '^1 entry$' "$ERR"

# ------------------------------------------------------------------ the page
req GET /admin/audit "" -H "Cookie: kd_session=$A_SID"
check_status "an admin opens /admin/audit" 200
check_match "a captioned table with column headers" '<caption>Audit entries, newest first</caption>.*<th scope="col">Who</th>' "$(tr -d '\n' <"$WORK/body")"
check_match "labelled filters, the actions as a select" '<label for="a-action">Action</label><select id="a-action" name="action">.*<option value="visit-answer">' "$(tr -d '\n' <"$WORK/body")"
check_match "newest first" 'teach-vale.*teach-hill: audit suite' "$(tr -d '\n' <"$WORK/body")"
check_none "the title with markup is escaped" "$(grep -o '=HYPERLINK("http' "$WORK/body")"
check_match "a link to the CSV" 'href="/admin/audit.csv"' "$(cat "$WORK/body")"
req GET "/admin/audit?clip=501&action=" "" -H "Cookie: kd_session=$A_SID"
check_eq "?clip=501 lists its two entries" 2 "$(grep -o '<td><a href="/clips/501">501</a></td>' "$WORK/body" | wc -l)"
check_match "and the CSV link keeps the filter" 'href="/admin/audit.csv\?clip=501"' "$(cat "$WORK/body")"
req GET "/admin/audit.csv?clip=501&from=$TODAY" "" -H "Cookie: kd_session=$A_SID"
check_eq "the filtered CSV: a header and two rows" 3 "$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1],newline="")))))' "$WORK/body")"
req GET "/admin/audit?action=opened" "" -H "Cookie: kd_session=$A_SID"
check_status "an unknown action on the page: 400" 400
check_match "with the reason" 'no action is called' "$(cat "$WORK/body")"
req GET "/admin/audit.csv?to=2026-02-30" "" -H "Cookie: kd_session=$A_SID"
check_status "a bad date on the CSV: 400" 400

# ------------------------------------------------------------------ more of the shell and the admin pages
MARK=$(jq '.[-1].id' "$WORK/trail.json")
U_TEACH=$(sql "SELECT id FROM users WHERE name = 'teach-hill'")
run_cli user set teach-hill --role coach --data "$DATA"
check_eq "kindling user set" 0 "$RC"
D30=$(date -u -d "+30 days" +%F)
run_cli token add --user teach-hill --name "cli token" --expires "$D30" --data "$DATA"
check_eq "kindling token add" 0 "$RC"
run_cli token add --user teach-hill --name "for the admin" --data "$DATA"
check_eq "kindling token add (another)" 0 "$RC"
CLI_TOK=$(sql "SELECT id FROM tokens WHERE label = 'cli token'")
run_cli token revoke "$CLI_TOK" --data "$DATA"
check_eq "kindling token revoke" 0 "$RC"
req POST "/admin/users/$U_TEACH/password" "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF" \
	--data-urlencode "action=set" --data-urlencode "password=$WRONG and more"
check_status "an admin sets teach-hill's password" 303
req POST "/admin/users/$U_TEACH" "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF" \
	--data-urlencode "name=teach-hill" --data-urlencode "email=th@hill.example" \
	--data-urlencode "full_name=" --data-urlencode "role=coach" --data-urlencode "school=hill-school"
check_status "an admin gives teach-hill an e-mail address" 303
ADD_TOK=$(sql "SELECT id FROM tokens WHERE label = 'for the admin'")
req POST "/admin/users/$U_TEACH/tokens/$ADD_TOK/revoke" "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF"
check_status "an admin revokes one of teach-hill's tokens" 303
req POST /admin/users "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF" \
	--data-urlencode "name=new-coach" --data-urlencode "role=coach" --data-urlencode "school=hill-school"
check_status "an admin adds an account" 303
req POST /login "" --data-urlencode "name=teach-vale" --data-urlencode "password=$WRONG"
check_status "a disabled account cannot sign in" 401
run_cli audit --format json --data "$DATA"
check_eq "each is one entry: what, by whom, on whom, how (never a secret or password)" \
"user-change|$CL|teach-hill|role teacher -> coach
token-add|$CL|teach-hill: cli token (#$CLI_TOK)|$D30
token-add|$CL|teach-hill: for the admin (#$((CLI_TOK + 1)))|until revoked
token-revoke|$CL|teach-hill: cli token (#$CLI_TOK)|
user-change|it-admin|teach-hill|password set
user-change|it-admin|teach-hill|e-mail (none) -> th@hill.example
token-revoke|it-admin|teach-hill: for the admin (#$ADD_TOK)|
user-change|it-admin|new-coach|added: coach of hill-school
sign-in-failed||teach-vale|the account is disabled" \
	"$(printf '%s' "$OUT" | jq -r --argjson m "$MARK" '.[] | select(.id > $m) | "\(.action)|\(.user)|\(.target)|\(.detail | sub("T00:00:00Z$"; ""))"')"

# paging: 120 entries of one name (a fixture only: the product never writes
# entries but through audit.h)
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
     INSERT INTO audit (user_name, action, clip_id, detail) SELECT 'pager', 'edit', 600 + i, 'page test' FROM n;" >/dev/null ||
	fatal "fixture: 120 entries" "see above"
req GET "/admin/audit?user=pager" "" -H "Cookie: kd_session=$A_SID"
check_eq "a page holds 100 entries" 100 "$(grep -o '<td>page test</td>' "$WORK/body" | wc -l)"
first=$(grep -o 'href="/clips/[0-9]*"' "$WORK/body" | sed 's/[^0-9]//g' | tr '\n' ' ')
older=$(grep -o 'rel="next" href="[^"]*"' "$WORK/body" | sed 's/.*href="//; s/"$//; s/&amp;/\&/g')
check_match "with a link to the older ones, keeping the filter" '^/admin/audit\?user=pager&before=[0-9]+$' "$older"
req GET "$older" "" -H "Cookie: kd_session=$A_SID"
check_eq "the older page holds the other 20" 20 "$(grep -o '<td>page test</td>' "$WORK/body" | wc -l)"
second=$(grep -o 'href="/clips/[0-9]*"' "$WORK/body" | sed 's/[^0-9]//g' | tr '\n' ' ')
check_eq "together, every entry once, newest first" "$(seq 720 -1 601 | tr '\n' ' ')" "$first$second"
check_none "the last page links to no older one" "$(grep -o 'rel="next"' "$WORK/body")"
check_match "and back to the newest" 'href="/admin/audit\?user=pager">Newest entries' "$(cat "$WORK/body")"

# ------------------------------------------------------------------ who may
req GET /admin/audit "" -H "Cookie: kd_session=$T_SID"
check_status "a teacher gets 403 on /admin/audit" 403
req GET /admin/audit.csv "" -H "Cookie: kd_session=$T_SID"
check_status "and on /admin/audit.csv" 403
req GET /admin/audit.csv "$TEACH"
check_status "with a token too" 403
req GET /admin/audit ""
check_status "the signed-out are sent to sign in" 303
req GET /admin/audit.csv "$ADMIN"
check_status "an admin's token may download the CSV" 200
for m in POST PUT PATCH DELETE; do
	req "$m" /admin/audit "$ADMIN"
	[ "$STATUS" == 405 ] || break
done
check_status "no route changes an entry (405 for every write)" 405

check_server_log
finish
