#!/usr/bin/env bash
# tests/integration/edit.sh - changing the catalogue over the API: PATCH
# validation (types, dates, sizes, unknown fields, all-or-nothing), who may
# PATCH or DELETE what, withdrawing consent (the clip leaves lists and
# search at once), moving a clip to another school, and DELETE (media
# folder removed, gone from list and search).
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/edit.sh
#
# Needs curl, jq and the sqlite3 CLI (for the shared fixture).
# Last line: "edit: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite edit sqlite3

fixture_catalogue
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# ---------------------------------------------------------------- PATCH: validation
patch 903 "$ADMIN" '{"title":"Marmalade physics demo","description":"Line one.\nLine two.",
	"teacher":"Rowan Ashdown","grade":"9","subject":"Physics","recorded_on":"2024-02-29",
	"practices":["student-choice","kite-flying"],"tags":["xylophone","Trebuchet"],
	"consent":"on-file","visibility":"district","school":"north-high"}'
check_jq "PATCH with every field: 200 with the updated clip" \
	'.id == 903 and .title == "Marmalade physics demo" and .teacher == "Rowan Ashdown"
	 and .grade == "9" and .subject == "Physics" and .recorded_on == "2024-02-29"
	 and .description == "Line one.\nLine two."
	 and .practices == ["kite-flying","student-choice"] and .tags == ["Trebuchet","xylophone"]'
req GET /api/v1/clips/903 "$TEACH_N"
check_jq "GET after PATCH shows the change" '.title == "Marmalade physics demo" and .tags == ["Trebuchet","xylophone"]'
check_eq "search sees a new title at once, and not the old one" "903 0" \
	"$(ids "$TEACH_N" "q=marmalade") $(total "$TEACH_N" "q=gondola")"
check_eq "search sees new tags at once" 903 "$(ids "$TEACH_N" "q=xylophone")"
check_eq "search sees a new teacher name at once" 903 "$(ids "$TEACH_N" "q=ashdown")"
patch 903 "$ADMIN" '{"recorded_on":null}'
check_jq "recorded_on null clears the date" '.recorded_on == null and .title == "Marmalade physics demo"'
patch 903 "$ADMIN" '{}'
check_status "an empty PATCH changes nothing: 200" 200
# bad_patches NAME BODY...: every body is refused with 400.
bad_patches() {
	local name=$1 b bad=""
	shift
	for b in "$@"; do
		patch 903 "$ADMIN" "$b"
		[ "$STATUS" == 400 ] || bad+=" ${b:0:60}->$STATUS"
	done
	check_none "$name" "$bad"
}
bad_patches "malformed JSON, a JSON array, an empty body, a repeated key: 400" '{"title": "x"' '["title"]' '' \
	'{"title":"a","title":"b"}'
patch 903 "$ADMIN" '{"colour":"red"}'
check_eq "unknown field: 400 with a message naming it" "400 true" "$STATUS $(jb '.error | contains("colour")')"
bad_patches "wrong types (title 5, tags \"a,b\", tags [1], practices {}, recorded_on 20240101): 400" \
	'{"title":5}' '{"tags":"a,b"}' '{"tags":["a",1]}' '{"practices":{"a":1}}' \
	'{"recorded_on":20240101}' '{"consent":null}' '{"title":null}'
bad_patches "bad dates (2023-02-29, 2024-13-01, 04/05/2024, 2024-1-1): 400" \
	'{"recorded_on":"2023-02-29"}' '{"recorded_on":"2024-13-01"}' \
	'{"recorded_on":"04/05/2024"}' '{"recorded_on":"2024-1-1"}'
patch 903 "$ADMIN" '{"practices":["underwater-basket-weaving"]}'
check_eq "unknown practice: 400 with a message listing the known ones" "400 true" \
	"$STATUS $(jb '.error | contains("station-rotation")')"
bad_patches "no practices, bad consent, bad visibility, unknown school: 400" '{"practices":[]}' \
	'{"consent":"maybe"}' '{"visibility":"public"}' '{"school":"atlantis-high"}'
bad_patches "empty title, 201-character title, control character in title, 51-character tag: 400" \
	'{"title":""}' "{\"title\":\"$(head -c 201 /dev/zero | tr '\0' t)\"}" '{"title":"a\u0001b"}' \
	"{\"tags\":[\"$(head -c 51 /dev/zero | tr '\0' t)\"]}"
patch 903 "$ADMIN" '{"title":"Must not stick","practices":["nope"]}'
status=$STATUS
req GET /api/v1/clips/903 "$ADMIN"
check_eq "a PATCH with one bad field is refused whole (400, title unchanged)" \
	"400 Marmalade physics demo" "$status $(jb .title)"
req PATCH /api/v1/clips/903 "$ADMIN" -H 'Content-Type: text/plain' --data-binary '{"title":"x"}'
check_status "PATCH with Content-Type text/plain: 415" 415
# A PATCH takes at most 64 KiB: more is refused on the headers, unread.
printf '{"description":"%s"}' "$(head -c $((64 * 1024 + 10)) /dev/zero | tr '\0' d)" >"$WORK/big.json"
req PATCH /api/v1/clips/903 "$ADMIN" -H 'Content-Type: application/json' --data-binary @"$WORK/big.json"
check_status "a body over the 64 KiB a PATCH takes: 413" 413
req PATCH /api/v1/clips/903 "$ADMIN" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big.json"
check_status "a chunked body over 64 KiB: 413" 413
printf '{"description":"%s"}' "$(head -c $((64 * 1024 - 18)) /dev/zero | tr '\0' d)" >"$WORK/big.json"
req PATCH /api/v1/clips/903 "$ADMIN" -H 'Content-Type: application/json' --data-binary @"$WORK/big.json"
check_status "a body of exactly 64 KiB is read (then refused as too long a description: 400)" 400
req GET /api/v1/me "$ADMIN" -H 'Content-Type: application/json' --data-binary '{"a":1}'
check_status "a GET with a body: 413 (the route takes none)" 413
req PATCH /api/v1/clips/903 "" -H 'Content-Type: application/json' --data-binary @"$WORK/big.json"
check_status "a body from nobody signed in: 401 before it is read" 401

# ---------------------------------------------------------------- PATCH / DELETE: permissions
patch 901 "$TEACH_N" '{"title":"Hijacked"}'
status=$STATUS
req DELETE /api/v1/clips/901 "$TEACH_N"
check_eq "PATCH and DELETE by a teacher (not the uploader): 403" "403 403" "$status $STATUS"
patch 901 "$PRINC_N" '{"title":"Hijacked"}'
check_status "PATCH by a principal: 403" 403
patch 913 "$COACH_N" '{"title":"Hijacked"}'
status=$STATUS
req DELETE /api/v1/clips/913 "$COACH_N"
check_eq "PATCH and DELETE by a coach of another school (not the uploader): 403" "403 403" \
	"$status $STATUS"
patch 913 "$TEACH_R" '{"title":"Hijacked"}'
check_status "PATCH by a teacher of the clip's school (not the uploader): 403" 403
patch 905 "$TEACH_N" '{"title":"Hijacked"}'
check_status "PATCH of a clip the user cannot see: 404, not 403" 404
req GET /api/v1/clips/901 "$ADMIN"
check_jq "refused edits changed nothing" '.title == "Quasar fractions workshop"'
patch 913 "$COACH_R" '{"grade":"K-2"}'
check_eq "PATCH by a coach of the clip's school: 200, applied" "200 K-2" "$STATUS $(jb .grade)"
patch 914 "$TEACH_N" '{"visibility":"private"}'
check_status "PATCH by the uploader (a teacher): 200" 200
req GET /api/v1/clips/914 "$TEACH_R"
check_status "after the uploader makes it private, others get 404" 404
patch 901 "$ADMIN" '{"subject":"Astronomy"}'
check_status "PATCH by an admin: 200" 200

# Withdrawing consent hides a clip from everyone else at once.
before=$(total "$TEACH_R" "")
patch 915 "$ADMIN" '{"consent":"withdrawn","consent_reason":"a parent asked"}'
check_jq "admin withdraws consent: 200 and the clip says withdrawn" '.consent == "withdrawn"'
req GET /api/v1/clips/915 "$TEACH_R"
check_status "a withdrawn clip is 404 for others at once" 404
check_eq "a withdrawn clip leaves the list at once" "$((before - 1))" "$(total "$TEACH_R" "")"
check_eq "a withdrawn clip leaves search at once" 0 "$(total "$TEACH_R" "q=pelican")"
patch 915 "$ADMIN" '{"consent":"on-file"}'
req GET /api/v1/clips/915 "$TEACH_R"
check_status "consent back on file: visible again" 200
# A coach of the school may withdraw consent; the PATCH must report success
# even though the coach can no longer see the clip.
patch 916 "$COACH_R" '{"consent":"withdrawn","consent_reason":"a parent asked"}'
check_status "a coach withdrawing consent of their school's clip gets a 2xx answer" 200 204
req GET /api/v1/clips/916 "$ADMIN"
check_jq "the coach's withdrawal was applied" '.consent == "withdrawn"'

# Moving a clip to another school moves it in search too.
patch 902 "$ADMIN" '{"school":"riverside-elementary"}'
check_jq "PATCH school moves the clip" '.school == "riverside-elementary"'
check_eq "search by the old school's name no longer finds it" 0 "$(total "$TEACH_N" "q=zephyr")"
patch 902 "$ADMIN" '{"school":"zephyr-hollow"}'

# ---------------------------------------------------------------- DELETE
before=$(total "$TEACH_N" "")
req DELETE /api/v1/clips/912 "$COACH_N"
check_eq "DELETE by a coach of the clip's school: 204, no body" "204 0" "$STATUS $GOT"
req GET /api/v1/clips/912 "$ADMIN"
check_status "GET after DELETE: 404" 404
check "DELETE removes the clip's media folder" test ! -e "$DATA/media/912"
check_eq "DELETE removes it from the list" "$((before - 1))" "$(total "$TEACH_N" "")"
check_eq "DELETE removes it from search" 0 "$(total "$ADMIN" "q=ephemeral")"
req DELETE /api/v1/clips/912 "$ADMIN"
check_status "DELETE again: 404" 404

check_server_log
finish
