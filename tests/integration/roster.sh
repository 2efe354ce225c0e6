#!/usr/bin/env bash
# tests/integration/roster.sh - `kindling roster import` on a generated
# district (tests/gen_oneroster.sh: 60 schools, 3,000 staff, 40,000 students
# and 4,000 parents), as a .zip and as a folder: what it adds, that a second
# import changes nothing, --dry-run and --json, a coach kept, people and
# schools made by hand adopted, a leaver disabled and signed out of the
# running server at once, and bad files refused whole with the row and the
# reason (a missing column, an unknown org, a duplicate id, a zip bomb, a
# header that lies, 2 GB files), quickly and with nothing written.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/roster.sh
#
# Needs curl, jq, python3 (zips are made with its zipfile), b2sum and the
# sqlite3 CLI.  Last line: "roster: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite roster python3 sqlite3 b2sum

# ---------------------------------------------------------------- helpers

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# zipdir DIR ZIP [TOP]: the CSV files of DIR into ZIP, in folder TOP/ when given.
zipdir() {
	python3 - "$1" "$2" "${3:-}" <<'PY'
import os, sys, zipfile
src, out, top = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    if top:
        z.writestr(top + "/", "")
    for f in sorted(os.listdir(src)):
        z.write(os.path.join(src, f), (top + "/" if top else "") + f)
PY
}

# copy NAME: a copy of the generated district in $WORK/NAME, to spoil.
copy() { rm -rf "${WORK:?}/$1" && cp -r "$WORK/district" "$WORK/$1"; }

# snapshot: everything an import may write, as one checksum.
snapshot() {
	sql "SELECT id, slug, name, district, coalesce(sourced_id, '-') FROM schools ORDER BY id;
	     SELECT id, name, role, coalesce(school_id, 0), coalesce(email, '-'), full_name,
	            coalesce(sourced_id, '-'), role_by, disabled, coalesce(disabled_at, '-')
	       FROM users ORDER BY id;
	     SELECT id, user_id FROM sessions ORDER BY id;" | md5sum | cut -d' ' -f1
}

# import ARGS...: `kindling roster import --data DATA ARGS`, timed (SECS).
import() {
	local t0
	t0=$(now)
	run_cli roster import --data "$DATA" "$@"
	SECS=$(secs "$t0" "$(now)")
}

# refused NAME ERE PATH: the import of PATH is refused (exit 1) within 5 s,
# saying ERE, with nothing written.
refused() {
	local before after
	before=$(snapshot)
	import "$3"
	after=$(snapshot)
	if [ "$RC" == 1 ] && grep -Eq -- "$2" <<<"$ERR" && [ "$before" == "$after" ] &&
		awk -v s="$SECS" 'BEGIN { exit !(s < 5) }'; then
		ok "$1: refused in $SECS s, nothing written"
	else
		not_ok "$1" "exit $RC in $SECS s, wanted 1 and /$2/; written: $([ "$before" == "$after" ] && echo no || echo YES); $(head -c 400 <<<"$ERR")"
	fi
}

# ---------------------------------------------------------------- the district

sh "$ROOT/tests/gen_oneroster.sh" "$WORK/district" || fatal "gen_oneroster.sh writes a district" "see above"
check_eq "the generator writes 3,000 staff and 44,000 rows of students and parents" "3000 44000" \
	"$(grep -c '^stf-' "$WORK/district/users.csv") $(grep -Ec '^(stu|par)-' "$WORK/district/users.csv")"
zipdir "$WORK/district" "$WORK/district.zip" district-export || fatal "python3 zips the district" "see above"

# Before the roster: a school, an admin and a teacher made by hand.
"$BIN" school add lincoln-elementary-school "Lincoln Elementary" --data "$DATA" >/dev/null 2>&1 ||
	fatal "school add" "cannot add a school"
ADMIN=$(add_user it-admin admin)
HAND=$(add_user hand-made-chloe teacher)
[[ $HAND =~ ^kd_ ]] || fatal "user add prints a token" "got '$HAND'"
sql "UPDATE users SET email = 'Chlo.OBrien63@district.example' WHERE name = 'hand-made-chloe'"
LINCOLN_ID=$(sql "SELECT id FROM schools WHERE slug = 'lincoln-elementary-school'")

# ---------------------------------------------------------------- the first import

import "$WORK/district.zip"
check_eq "the import of the zip exits 0" "0" "$RC"
near "imports 60 schools and 3,000 staff (and skips 44,000 rows) in $SECS s" "$SECS" 0 30
check_eq "60 schools, each with its sourcedId and the district's name" "60 60" \
	"$(sql "SELECT count(*), sum(CASE WHEN sourced_id IS NOT NULL AND district = 'Kindling Unified School District' THEN 1 ELSE 0 END) FROM schools" | tr '|' ' ')"
check_eq "roles: 2 district admins, 60 principals, 2,938 teachers (aides too), all from the roster" \
	"admin:2 principal:60 teacher:2938" \
	"$(sql "SELECT role || ':' || count(*) FROM users WHERE sourced_id IS NOT NULL GROUP BY role ORDER BY role" | tr '\n' ' ' | sed 's/ $//')"
check_eq "no student, parent, guardian or relative has an account" "3001 0" \
	"$(sql "SELECT count(*), sum(CASE WHEN sourced_id LIKE 'stu-%' OR sourced_id LIKE 'par-%' THEN 1 ELSE 0 END) FROM users" | tr '|' ' ')"
check_none "nor is a child's name printed" "$(grep -E 'Child|stu-0|students\.district' <<<"$OUT$ERR" | head -n 2)"
check_match "the report lists who was added, and counts the children skipped" \
	"added teacher 'elena\.obrien65' \(Elena O'Brien\) <elena\.obrien65@district\.example> at jefferson-elementary-school.*skipped 44000: students, parents, guardians and relatives \(never imported\)" \
	"$(tr '\n' ' ' <<<"$OUT")"
check_eq "the school made by hand is adopted: same row, same slug, now sch-001 with the roster's name" \
	"$LINCOLN_ID|sch-001|Lincoln Elementary School" \
	"$(sql "SELECT id, sourced_id, name FROM schools WHERE slug = 'lincoln-elementary-school'")"
check_eq "the account made by hand is adopted by its e-mail address: its name and role given in kindling stay" \
	"stf-00063|teacher|kindling|chlo.obrien63@district.example|Chloé O'Brien" \
	"$(sql "SELECT sourced_id, role, role_by, email, full_name FROM users WHERE name = 'hand-made-chloe'")"
check_eq "a roster account at two schools: role_by roster, enabled, at the first" \
	"teacher|roster|0|hamilton-high-school" \
	"$(sql "SELECT u.role, u.role_by, u.disabled, s.slug FROM users u JOIN schools s ON s.id = u.school_id WHERE u.sourced_id = 'stf-00112'")"

# ---------------------------------------------------------------- again: nothing changes

BEFORE=$(snapshot)
import "$WORK/district"
check_match "the same roster again (as a folder): nothing to change, and it says so" \
	"^0 .*nothing to change: the catalogue already matches the roster" "$RC $(tr '\n' ' ' <<<"$OUT")"
check_eq "... and the catalogue is exactly as it was" "$BEFORE" "$(snapshot)"

import --json "$WORK/district.zip"
printf '%s' "$OUT" >"$WORK/body"
check_jq "--json: one object saying the same" \
	'.ok == true and .dry_run == false and .applied == true and .mode == "bulk" and
	 .district == "Kindling Unified School District" and
	 .counts == {"schools": {"added": 0, "changed": 0, "unchanged": 60},
	             "people": {"added": 0, "changed": 0, "disabled": 0, "enabled": 0, "kept": 0,
	                        "unchanged": 3000, "skipped": 44000}} and
	 .added == [] and .changed == [] and .disabled == [] and .errors == [] and
	 .skipped == {"org type department": 1, "not staff": 44000}'
check_eq "--json prints one line" "1" "$(grep -c . <<<"$OUT")"

# ---------------------------------------------------------------- roles given in kindling

sql "UPDATE users SET role = 'coach', role_by = 'kindling' WHERE sourced_id = 'stf-00100'"
COACH_NAME=$(sql "SELECT name FROM users WHERE sourced_id = 'stf-00100'")
import "$WORK/district.zip"
check_match "a teacher made coach in kindling stays coach, and the report says why" \
	"'$COACH_NAME': kept role coach \(given in kindling\); the roster says teacher" "$OUT"
check_eq "... coach in the catalogue" "coach" "$(sql "SELECT role FROM users WHERE sourced_id = 'stf-00100'")"

# ---------------------------------------------------------------- a dry run

copy changed
sed -i 's/^stf-00300,,,true,"sch-/stf-00300,,,false,"sch-/; s/"Lincoln Elementary School"/"Lincoln Elementary Academy"/' \
	"$WORK/changed/users.csv" "$WORK/changed/orgs.csv"
BEFORE=$(snapshot)
import --dry-run "$WORK/changed"
check_match "--dry-run says what would change" \
	"a dry run.*would change school lincoln-elementary-school: name 'Lincoln Elementary School' -> 'Lincoln Elementary Academy'.*would disable teacher .* users.csv row 301: enabledUser is false.*dry run: nothing was written" \
	"$RC $(tr '\n' ' ' <<<"$OUT")"
check_eq "--dry-run writes nothing" "$BEFORE" "$(snapshot)"
import --dry-run --json "$WORK/changed"
printf '%s' "$OUT" >"$WORK/body"
check_jq "--dry-run --json: dry_run, and the would-be changes" \
	'.dry_run == true and .applied == false and .counts.people.disabled == 1 and
	 .disabled[0].sourcedId == "stf-00300" and .disabled[0].reason == "enabledUser is false" and
	 .schools.changed[0].fields.name == {"from": "Lincoln Elementary School", "to": "Lincoln Elementary Academy"}'

# ---------------------------------------------------------------- a leaver, signed out at once

start_server "$DATA" || fatal "the server starts" "$(log_tail)"
LEAVER_ID=$(sql "SELECT id FROM users WHERE sourced_id = 'stf-00201'")
SECRET=rosterleaversecret0123456789abcdef
HASH=$(printf '%s' "$SECRET" | b2sum -l 256 | cut -c1-64)
if on_postgres; then BLOB="decode('$HASH', 'hex')"; else BLOB="X'$HASH'"; fi
sql "INSERT INTO tokens (id, user_id, secret_hash, label) VALUES (900001, $LEAVER_ID, $BLOB, 'test');
     INSERT INTO sessions (id, user_id, secret_hash, csrf, expires_at) VALUES (900001, $LEAVER_ID, $BLOB, 'x', '2999-01-01T00:00:00Z')"
LEAVER_TOKEN=kd_900001_$SECRET
req GET /api/v1/me "$LEAVER_TOKEN"
check_jq "a roster teacher's token works" '.id == '"$LEAVER_ID"' and .role == "teacher"'

copy left
sed -i '/^stf-00201,/d' "$WORK/left/users.csv"
import "$WORK/left"
check_eq "without --disable-missing, someone absent is not disabled" "0 0" \
	"$RC $(sql "SELECT disabled FROM users WHERE id = $LEAVER_ID")"
import --disable-missing "$WORK/left"
check_match "--disable-missing disables the leaver, saying why" \
	"^0 .*people: 0 added, 0 changed, 1 disabled, 0 enabled, 2999 unchanged .*disabled teacher .*: not in users\.csv \(--disable-missing\)" \
	"$RC $(tr '\n' ' ' <<<"$OUT")"
leaver_refused() { req GET /api/v1/me "$LEAVER_TOKEN"; [ "$STATUS" == 401 ]; }
if soon leaver_refused; then ok "the running server refuses the leaver's token at once (401)"
else not_ok "the running server refuses the leaver's token at once" "status $STATUS"; fi
check_eq "the leaver is disabled, not deleted; their sessions are gone; the coach and the hand-made account are untouched" \
	"1|1|0|coach|0|0" \
	"$(sql "SELECT u.disabled, CASE WHEN u.disabled_at IS NULL THEN 0 ELSE 1 END,
	               (SELECT count(*) FROM sessions s WHERE s.user_id = u.id),
	               (SELECT role FROM users WHERE sourced_id = 'stf-00100'),
	               (SELECT disabled FROM users WHERE name = 'hand-made-chloe'),
	               (SELECT disabled FROM users WHERE name = 'it-admin')
	          FROM users u WHERE u.id = $LEAVER_ID")"
req GET /api/v1/me "$ADMIN"
check_status "the admin made by hand (no sourcedId) still signs in" 200
import --disable-missing "$WORK/district.zip"
check_match "back in the roster: enabled again" "enabled teacher .*: enabled in the roster" "$OUT"
check_eq "... enabled, with their old token ended for good (they make new ones)" "0 401" \
	"$(sql "SELECT disabled FROM users WHERE id = $LEAVER_ID") $(req GET /api/v1/me "$LEAVER_TOKEN"; echo "$STATUS")"
# an admin's decision stands: a person disabled in kindling stays disabled
run_cli user disable "$LEAVER_ID" --data "$DATA"
import --disable-missing "$WORK/district.zip"
check_match "disabled by an admin in kindling, enabled in the roster: kept disabled, and said so" \
	"kept disabled \(an admin disabled the account in kindling" "$OUT"
check_eq "... still disabled" 1 "$(sql "SELECT disabled FROM users WHERE id = $LEAVER_ID")"
run_cli user enable "$LEAVER_ID" --data "$DATA"

# ---------------------------------------------------------------- bad files: refused whole

copy nocolumn
sed -i '1s/,email,/,mail,/' "$WORK/nocolumn/users.csv"
refused "a users.csv without its email column" "users.csv row 1: users.csv has no column email" "$WORK/nocolumn"

copy unknown
ROWS=$(grep -c '' "$WORK/unknown/users.csv")
printf 'stf-09999,,,true,"sch-001,sch-999",teacher,late.comer,,Late,Comer,,,late@district.example,,,,,\n' >>"$WORK/unknown/users.csv"
refused "a staff row naming an org that is not in orgs.csv (the last row: nothing before it is written)" \
	"users.csv row $((ROWS + 1)) \(sourcedId stf-09999\): orgSourcedIds names the org 'sch-999', which is not in orgs.csv" \
	"$WORK/unknown"

copy duplicate
printf 'stf-00005,,,true,sch-001,teacher,again,,A,Gain,,,again@district.example,,,,,\n' >>"$WORK/duplicate/users.csv"
refused "a duplicate sourcedId" "users.csv row $((ROWS + 1)) \(sourcedId stf-00005\): rows 6 and $((ROWS + 1)) have the same sourcedId 'stf-00005'" \
	"$WORK/duplicate"

copy nomanifest
rm "$WORK/nomanifest/manifest.csv"
refused "no manifest.csv" "no manifest.csv: a OneRoster 1.1 CSV export has one" "$WORK/nomanifest"

copy sparse
truncate -s 2G "$WORK/sparse/users.csv"
refused "a users.csv of 2 GB (sparse)" "users.csv: .*users.csv is 2048.0 MiB: a roster file is at most 64 MiB" "$WORK/sparse"
truncate -s 2G "$WORK/big.zip"
refused "a .zip of 2 GB (sparse)" "big.zip: .*big.zip is 2048.0 MiB: a roster export is at most 256 MiB" "$WORK/big.zip"

# 3 GiB of zeros as users.csv, streamed into the zip (a few MB of it)
python3 - "$WORK/district" "$WORK/bomb.zip" <<'PY' || fatal "python3 makes a zip bomb" "see above"
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
zeros = bytes(1 << 20)
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    z.write(os.path.join(src, "manifest.csv"), "manifest.csv")
    z.write(os.path.join(src, "orgs.csv"), "orgs.csv")
    with z.open("users.csv", "w", force_zip64=True) as f:
        for _ in range(3072):
            f.write(zeros)
PY
check "the zip bomb is small on disk" [ "$(stat -c %s "$WORK/bomb.zip")" -lt $((64 << 20)) ]
refused "a zip bomb (3 GiB of zeros as users.csv)" "users.csv: users.csv is 3072.0 MiB once uncompressed: a roster file is at most 64 MiB" \
	"$WORK/bomb.zip"

# the real users.csv, whose header (local and central) says 1,000 bytes
python3 - "$WORK/district" "$WORK/liar.zip" <<'PY' || fatal "python3 makes a zip whose header lies" "see above"
import os, struct, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for f in ("manifest.csv", "orgs.csv", "users.csv"):
        z.write(os.path.join(src, f), f)
with zipfile.ZipFile(out) as z:
    local = z.getinfo("users.csv").header_offset
buf = bytearray(open(out, "rb").read())
assert buf[local:local + 4] == b"PK\x03\x04"
struct.pack_into("<I", buf, local + 22, 1000)
i = buf.find(b"PK\x01\x02")
while i >= 0:
    n = struct.unpack_from("<H", buf, i + 28)[0]
    if bytes(buf[i + 46:i + 46 + n]) == b"users.csv":
        struct.pack_into("<I", buf, i + 24, 1000)
    i = buf.find(b"PK\x01\x02", i + 4)
open(out, "wb").write(buf)
PY
refused "a zip whose header says users.csv is 1,000 bytes (it is 5 MB)" \
	"users.csv: users.csv (holds more than the zip's header says|in the zip is damaged)" "$WORK/liar.zip"

printf 'not a zip at all' >"$WORK/fake.zip"
refused "a file that is not a zip" "fake.zip is not a zip file that can be read" "$WORK/fake.zip"

import --json "$WORK/unknown"
printf '%s' "$OUT" >"$WORK/body"
check_jq "--json of a refused file: ok false, the errors with file, row and sourcedId" \
	'.ok == false and .applied == false and (.errors | length) == 1 and
	 .errors[0].file == "users.csv" and .errors[0].row == '"$((ROWS + 1))"' and
	 .errors[0].sourcedId == "stf-09999" and (.errors[0].message | test("sch-999"))'
check_eq "... and exits 1" "1" "$RC"

run_cli roster import
check_eq "no PATH: a usage error (exit 2)" "2" "$RC"
run_cli roster export x
check_eq "an unknown subcommand: a usage error (exit 2)" "2" "$RC"

check_server_log
finish
