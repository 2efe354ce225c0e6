#!/usr/bin/env bash
# tests/integration/rosterpage.sh - /admin/roster, the roster import in the
# browser: an admin uploads the roster system's .zip (multipart, as a
# browser's file field sends it), reads the dry run, applies it; the upload
# waits in the media storage between the two steps.  What an import does is
# roster.sh's; this is the page's part: who may, what it shows, that
# nothing changes before "apply", that a token works once, and that bad
# uploads are refused with the reason.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/rosterpage.sh
#
# Last line: "rosterpage: N passed, N failed".

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite rosterpage sqlite3 zip

"$BIN" school add north-high "North High" --data "$DATA" >/dev/null 2>&1 || fatal "fixture: a school" "school add"
PASSWORD='admin password 1'
ADMIN=$(add_user "Ada Admin" admin "" --password-stdin < <(printf '%s\n' "$PASSWORD"))
printf '%s\n' "$PASSWORD" | add_user "Tia Teacher" teacher north-high --password-stdin >/dev/null
[[ $ADMIN =~ ^kd_ ]] || fatal "fixture: an admin" "user add printed '$ADMIN'"

sh "$ROOT/tests/gen_oneroster.sh" --schools 4 --staff 40 --students 200 "$WORK/roster" ||
	fatal "the generator writes a small district" "see above"
(cd "$WORK/roster" && zip -q -r "$WORK/roster.zip" .) || fatal "zip the roster" "see above"
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# sign_in NAME: prints "COOKIE CSRF"
sign_in() {
	local sid csrf
	req POST /login "" --data-urlencode "name=$1" --data-urlencode "password=$PASSWORD" --data-urlencode "next=/"
	sid=$(header Set-Cookie | sed -n 's/^kd_session=\([^;]*\).*/\1/p')
	req GET / "" -H "Cookie: kd_session=$sid"
	csrf=$(grep -o '<meta name="csrf-token" content="[^"]*"' "$WORK/body" | sed 's/.*content="//; s/"$//')
	[ -n "$sid" ] && [ -n "$csrf" ] && echo "$sid $csrf"
}
got=$(sign_in "Ada Admin") || fatal "the admin signs in" "status $STATUS"
A_SID=${got% *} A_CSRF=${got#* }
got=$(sign_in "Tia Teacher") || fatal "the teacher signs in" "status $STATUS"
T_SID=${got% *} T_CSRF=${got#* }
users() { sql "SELECT count(*) FROM users"; }
BEFORE=$(users)

req GET /admin/roster "" -H "Cookie: kd_session=$A_SID"
check_match "an admin gets the roster page with its upload form" \
	'^200 .*enctype="multipart/form-data".*type="file"' "$STATUS $(tr -d '\n' <"$WORK/body")"
req GET /admin/roster "" -H "Cookie: kd_session=$T_SID"
check_status "a teacher gets 403" 403
req GET /admin/roster ""
check_status "the signed-out are sent to sign in" 303
req POST /admin/roster "" -H "Cookie: kd_session=$T_SID" -F "csrf=$T_CSRF" -F "roster=@$WORK/roster.zip"
check_eq "a teacher's upload is refused, and nothing changes" "403 $BEFORE" "$STATUS $(users)"

req POST /admin/roster "" -H "Cookie: kd_session=$A_SID" -F "csrf=wrong" -F "roster=@$WORK/roster.zip"
check_eq "an upload without the session's CSRF token is refused" 403 "$STATUS"

# ---------------------------------------------------------------- the dry run

req POST /admin/roster "" -H "Cookie: kd_session=$A_SID" -F "csrf=$A_CSRF" \
	-F "roster=@$WORK/roster.zip;type=application/zip"
page=$(tr -d '\n' <"$WORK/body")
check_match "the upload shows what importing would change: 4 schools, 40 people" \
	'^200 .*Schools: 4 added.*People: 40 added' "$STATUS $page"
check_match "... the students, parents and guardians skipped, never listed" 'Rows skipped.*never imported' "$page"
check_eq "... and nothing has changed yet" "$BEFORE 1" "$(users) $(sql "SELECT count(*) FROM schools")"
TOKEN=$(grep -o 'name="token" value="[0-9a-f]*"' "$WORK/body" | sed 's/.*value="//; s/"$//')
check_match "... with an Apply form carrying a token" '^[0-9a-f]{32}$' "$TOKEN"
check_eq "the upload waits in the media storage" 1 "$(find "$DATA/media/rosters" -name '*.zip' | wc -l)"

# ---------------------------------------------------------------- apply

req POST /admin/roster/apply "" -H "Cookie: kd_session=$T_SID" --data-urlencode "csrf=$T_CSRF" \
	--data-urlencode "token=$TOKEN"
check_eq "a teacher cannot apply it" "403 $BEFORE" "$STATUS $(users)"
req POST /admin/roster/apply "" -H "Cookie: kd_session=$A_SID" --data-urlencode "token=$TOKEN"
check_eq "apply without the CSRF token is refused" "403 $BEFORE" "$STATUS $(users)"
req POST /admin/roster/apply "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF" \
	--data-urlencode "token=$TOKEN"
check_match "the admin applies it: the page says what was imported" \
	'^200 .*Imported.*People: 40 added' "$STATUS $(tr -d '\n' <"$WORK/body")"
check_eq "... 40 people and 4 schools are in the catalogue" "$((BEFORE + 40)) 5" \
	"$(users) $(sql "SELECT count(*) FROM schools")"
check_eq "... no child has an account" 0 "$(sql "SELECT count(*) FROM users WHERE sourced_id LIKE 'stu-%' OR sourced_id LIKE 'par-%'")"
check_eq "... and the waiting upload is gone" 0 "$(find "$DATA/media/rosters" -name '*.zip' 2>/dev/null | wc -l)"
req POST /admin/roster/apply "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF" \
	--data-urlencode "token=$TOKEN"
check_match "the same token again: 410, upload again" '^410 .*upload the roster again' \
	"$STATUS $(tr -d '\n' <"$WORK/body")"
req POST /admin/roster/apply "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF" \
	--data-urlencode "token=../../catalogue.db"
check_status "a token that is not one is refused" 400

req POST /admin/roster "" -H "Cookie: kd_session=$A_SID" -F "csrf=$A_CSRF" -F "roster=@$WORK/roster.zip"
check_match "the same file again: nothing to change, and no Apply button" \
	'^200 .*Nothing to change' "$STATUS $(tr -d '\n' <"$WORK/body")"
check_eq "... (no apply form)" 0 "$(grep -c 'roster/apply' "$WORK/body")"

# ---------------------------------------------------------------- bad uploads

printf 'not a zip at all' >"$WORK/junk.zip"
req POST /admin/roster "" -H "Cookie: kd_session=$A_SID" -F "csrf=$A_CSRF" -F "roster=@$WORK/junk.zip"
check_match "a file that is not a zip: 400 with the reason" '^400 .*Why it was refused' \
	"$STATUS $(tr -d '\n' <"$WORK/body")"
cp -r "$WORK/roster" "$WORK/bad"
sed -i '1s/,email/,mail/' "$WORK/bad/users.csv"
(cd "$WORK/bad" && zip -q -r "$WORK/bad.zip" .)
req POST /admin/roster "" -H "Cookie: kd_session=$A_SID" -F "csrf=$A_CSRF" -F "roster=@$WORK/bad.zip"
check_match "users.csv without its email column: refused, naming the file and column" \
	'^400 .*users\.csv.*email' "$STATUS $(tr -d '\n' <"$WORK/body")"
req POST /admin/roster "" -H "Cookie: kd_session=$A_SID" -F "csrf=$A_CSRF"
check_status "a form without a file: 400" 400
req POST /admin/roster "" -H "Cookie: kd_session=$A_SID" --data-urlencode "csrf=$A_CSRF"
check_status "a body that is not multipart: 400" 400
head -c $((65 << 20)) /dev/zero >"$WORK/big.zip"
req POST /admin/roster "" -H "Cookie: kd_session=$A_SID" -F "csrf=$A_CSRF" -F "roster=@$WORK/big.zip"
check_status "a 65 MB upload is refused (413) before it is read" 413
check_eq "after all of it, the catalogue holds what the one import made" "$((BEFORE + 40))" "$(users)"

check_server_log
finish
