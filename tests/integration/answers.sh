#!/usr/bin/env bash
# tests/integration/answers.sh - answers the server keeps in memory
# (src/web/answers.h) and the catalogue it keeps in memory (catalogue/
# index.h) never outlive a change, and never reach another person: a list,
# a page, a clip and a picture asked again after a change through the API,
# through the command line and straight into the database file by another
# process (sqlite3), and the same address asked by people who may see
# different things.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/answers.sh
#
# Needs curl, jq and the sqlite3 CLI.  Last line: "answers: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite answers sqlite3

fixture_catalogue
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# body_sum: a checksum of the last response body
body_sum() { sha256sum "$WORK/body" | cut -d' ' -f1; }

# ---------------------------------------------------------------- the same again
req GET "/api/v1/clips?practice=kite-flying" "$TEACH_N"
first=$(body_sum)
req GET "/api/v1/clips?practice=kite-flying" "$TEACH_N"
check_eq "the same list asked again: the same answer" "$first" "$(body_sum)"
check_jq "  which lists 903 for a teacher of north-high" '[.clips[].id] | index(903) != null'

# ---------------------------------------------------------------- another person, same address
req GET "/api/v1/clips?practice=kite-flying" "$TEACH_R"
check_jq "the same address for a teacher of another school: that teacher's own view (no 910)" \
	'[.clips[].id] | index(910) == null'
check_jq "  and 904, visible to riverside only" '[.clips[].id] | index(904) != null'
req GET "/api/v1/clips?practice=kite-flying" "$TEACH_N"
check_jq "and the first teacher still does not get 904" '[.clips[].id] | index(904) == null'

# ---------------------------------------------------------------- a change through the API
n_before=$(total "$TEACH_N" "practice=kite-flying")
patch 903 "$ADMIN" '{"consent": "withdrawn", "consent_reason": "a parent asked"}'
check_status "an admin withdraws consent for 903" 200
n_after=$(total "$TEACH_N" "practice=kite-flying")
check_eq "the very next list no longer counts it" "$((n_before - 1))" "$n_after"
req GET "/api/v1/clips/903" "$TEACH_N"
check_status "nor shows it" 404

# ---------------------------------------------------------------- a change by another process
# (on SQLite the very next request; on PostgreSQL kindling's own writers
# notify every node at their commit, but a writer that is not kindling,
# psql here, does not: the server looks for such changes every second)
title_is() { req GET "/api/v1/clips/901" "$TEACH_N"; [ "$(jb .title)" == "$1" ]; }
status_is() { req GET "$1" "$TEACH_N"; [ "$STATUS" == "$2" ]; }
req GET "/api/v1/clips/901" "$TEACH_N"
check_jq "901 before" '.title == "Quasar fractions workshop"'
SQL_NO_NOTIFY=1 sql "UPDATE clips SET title = 'Quasar fractions, retitled by another process' WHERE id = 901"
soon title_is "Quasar fractions, retitled by another process"
check_jq "a title written into the database file by another process shows at once" \
	'.title == "Quasar fractions, retitled by another process"'
req GET "/api/v1/clips?q=retitled" "$TEACH_N"
check_jq "  in search too" '.total == 1 and .clips[0].id == 901'
SQL_NO_NOTIFY=1 sql "UPDATE clips SET visibility = 'private' WHERE id = 901"
soon status_is /api/v1/clips/901 404
check_status "made private by another process: gone at once for a teacher" 404
req GET "/media/clips/901/thumbnail.jpg" "$TEACH_N"
check_status "  and so is its picture" 404
SQL_NO_NOTIFY=1 sql "UPDATE clips SET visibility = 'district' WHERE id = 901"
soon status_is /media/clips/901/thumbnail.jpg 200
check_status "shared again: the picture is back" 200
cmp -s "$WORK/body" "$DATA/media/901/thumbnail.jpg" && ok "  byte for byte" ||
	not_ok "  byte for byte" "the picture differs from the file"
req GET "/media/clips/901/thumbnail.jpg" "$TEACH_N"
cmp -s "$WORK/body" "$DATA/media/901/thumbnail.jpg" && ok "asked again (kept): the same bytes" ||
	not_ok "asked again (kept): the same bytes" "the picture differs from the file"
check_eq "  with its ETag" 1 "$(grep -ci '^etag:' "$WORK/headers")"

# ---------------------------------------------------------------- a change through the command line
n_schools=$(req GET /api/v1/schools "$TEACH_N"; jb '.schools | length')
run_cli school add kept-answers "Kept Answers School" --data "$DATA" >/dev/null
req GET /api/v1/schools "$TEACH_N"
check_eq "a school added with the command line is listed at once" "$((n_schools + 1))" "$(jb '.schools | length')"

# ---------------------------------------------------------------- deleting
req GET "/media/clips/912/video.mp4" "$ADMIN"
check_status "912's video before" 200
req DELETE "/api/v1/clips/912" "$ADMIN"
check_status "an admin deletes 912" 204
req GET "/api/v1/clips/912" "$ADMIN"
check_status "gone from the API at once" 404
req GET "/api/v1/clips?q=Ephemeral" "$ADMIN"
check_jq "  and from search" '.total == 0'

# ---------------------------------------------------------------- pages and sessions
# login NAME PASSWORD JAR: sign in a browser session
login() {
	curl -s -o /dev/null -w '%{http_code}' -c "$3" --data-urlencode "name=$1" \
		--data-urlencode "password=$2" --data-urlencode "next=/" "$URL/login"
}
PW='a long enough password 1'
printf '%s\n' "$PW" | run_cli user add --name page-reader --role teacher --school north-high \
	--password-stdin --data "$DATA" >/dev/null
check_eq "a browser signs in" 303 "$(login page-reader "$PW" "$WORK/jar1")"
check_eq "a second browser of the same person signs in" 303 "$(login page-reader "$PW" "$WORK/jar2")"
page() { curl -s -b "$1" "$URL$2"; }
csrf_of() { sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p' | head -n 1; }
a1=$(page "$WORK/jar1" /practices/kite-flying | csrf_of)
a2=$(page "$WORK/jar1" /practices/kite-flying | csrf_of)
b1=$(page "$WORK/jar2" /practices/kite-flying | csrf_of)
check "the page asked again carries its session's form token" [ -n "$a1" ] && [ "$a1" == "$a2" ]
check "another session of the same person gets its own token, not the first's" \
	[ -n "$b1" ] && [ "$b1" != "$a1" ]
page "$WORK/jar1" /practices/kite-flying >"$WORK/page"
check "the page lists the teacher's school-only clip 910" grep -q '/clips/910' "$WORK/page"
SQL_NO_NOTIFY=1 sql "UPDATE clips SET consent = 'pending' WHERE id = 910"
page_without_910() { page "$WORK/jar1" /practices/kite-flying >"$WORK/page"; ! grep -q '/clips/910' "$WORK/page"; }
soon page_without_910
check "after consent is set pending by another process, the very next page does not" \
	sh -c "! grep -q '/clips/910' '$WORK/page'"

# A session ended is refused at once, though its sign-in was just checked.
token=$(page "$WORK/jar1" /practices | csrf_of)
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar1" --data-urlencode "csrf=$token" \
	"$URL/logout")
check_eq "the first browser signs out" 303 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar1" "$URL/practices/kite-flying")
check_eq "  and its cookie no longer opens the page it had open" 303 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar2" "$URL/practices/kite-flying")
check_eq "  while the other browser stays signed in" 200 "$code"

check_server_log
finish
