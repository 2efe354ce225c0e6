#!/usr/bin/env bash
# tests/integration/authz.sh - the authorization matrix: every route the
# server has (`kindling routes`) x every kind of caller x every state of a
# clip, each asked of a real server, each answer's status compared with
# tests/integration/authz.table (written from the rules, not from answers).
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/authz.sh
#
# Callers: anon, teacher_same, teacher_other, principal_same, principal_other,
# coach_same, coach_other, admin ("same": of the clips' school, hill-school;
# "other": vale-school).  The clips' uploader is another coach of hill-school,
# so that "the uploader sees their clips" never passes for coach_same.
# States: six clips of hill-school, one each: ready (consent on-file,
# visibility district), pending, withdrawn (consent), private, school
# (visibility), processing (its job held by this shell, alive).  Routes of no
# clip have rows with state "*".
#
# API routes are asked with bearer tokens, pages (and /login, /logout,
# /assets) with the session cookie from signing in, forms with its CSRF
# token.  A request that changes something is made against a fresh row
# (a copy of the clip, a new note, a new upload) or on a row reset first, so
# no check depends on the order of the others.  A route without its rows in
# the table, or rows for a route that is gone, fail.
#
# One line per cell; the last: "authz: N passed, N failed".  Needs curl, jq
# and the sqlite3 CLI.  Loopback only; no sleeps.

# shellcheck disable=SC2016  # SQL and jq in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite authz sqlite3 base64
TABLE=$HERE/authz.table

CALLERS=(anon teacher_same teacher_other principal_same principal_other coach_same coach_other admin)
STATES=(ready pending withdrawn private school processing)
SAME=hill-school
OTHER=vale-school
PRACTICE=station-rotation
PASSWORD="a long authz password"
FUTURE=$(date -u -d "+30 days" +%F)
FUTURE2=$(date -u -d "+31 days" +%F)

# ------------------------------------------------------------------ the table

ROUTE_LINES=$("$BIN" routes 2>"$WORK/routes.err") || fatal "kindling routes" "$(head -c 300 "$WORK/routes.err")"
[ -n "$ROUTE_LINES" ] || fatal "kindling routes prints the routes" "it printed nothing"
declare -A HAVE_ROUTE=() ACCESS=()
ROUTES=()
while read -r m p a _; do
	[ -n "$m" ] || continue
	ROUTES+=("$m $p")
	HAVE_ROUTE["$m $p"]=1
	ACCESS["$m $p"]=$a
done <<<"$ROUTE_LINES"

declare -A EXP=() TABLE_ROUTE=() ROUTE_STAR=() ROUTE_STATES=()
bad_lines=""
n=0
while IFS= read -r line || [ -n "$line" ]; do
	n=$((n + 1))
	line=${line%%#*}
	read -ra f <<<"$line"
	[ ${#f[@]} -eq 0 ] && continue
	if [ ${#f[@]} -ne 5 ]; then bad_lines+=" line $n: ${#f[@]} fields;"; continue; fi
	m=${f[0]} p=${f[1]} c=${f[2]} s=${f[3]} st=${f[4]}
	case " ${CALLERS[*]} " in *" $c "*) ;; *) bad_lines+=" line $n: caller '$c';"; continue ;; esac
	case " ${STATES[*]} * " in *" $s "*) ;; *) bad_lines+=" line $n: state '$s';"; continue ;; esac
	[[ $st =~ ^[1-5][0-9][0-9](\|[1-5][0-9][0-9])*$ ]] || { bad_lines+=" line $n: status '$st';"; continue; }
	[ -n "${EXP["$m $p $c $s"]+x}" ] && { bad_lines+=" line $n: a second row for $m $p $c $s;"; continue; }
	EXP["$m $p $c $s"]=$st
	TABLE_ROUTE["$m $p"]=1
	if [ "$s" == "*" ]; then ROUTE_STAR["$m $p"]=1; else ROUTE_STATES["$m $p"]=1; fi
done <"$TABLE"
check_none "authz.table: every line is METHOD PATTERN CALLER STATE STATUS, each cell once" "$bad_lines"

stale=""
for r in "${!TABLE_ROUTE[@]}"; do
	[ -n "${HAVE_ROUTE[$r]+x}" ] || stale+=" '$r'"
done
check_none "authz.table has rows only for routes the server has" "$stale"

# ------------------------------------------------------------------ the fixture

{ "$BIN" school add "$SAME" "Hill School" --data "$DATA" &&
	"$BIN" school add "$OTHER" "Vale School" --data "$DATA"; } >/dev/null 2>"$WORK/fixture.err" ||
	fatal "fixture: two schools" "$(tail -c 300 "$WORK/fixture.err")"

declare -A NAME=(
	[teacher_same]="Tia Hill" [teacher_other]="Theo Vale"
	[principal_same]="Pam Hill" [principal_other]="Paul Vale"
	[coach_same]="Cal Hill" [coach_other]="Cora Vale" [admin]="Ada Admin"
)
declare -A ROLE=(
	[teacher_same]=teacher [teacher_other]=teacher [principal_same]=principal
	[principal_other]=principal [coach_same]=coach [coach_other]=coach [admin]=admin
)
declare -A SCHOOL_OF=(
	[teacher_same]=$SAME [teacher_other]=$OTHER [principal_same]=$SAME
	[principal_other]=$OTHER [coach_same]=$SAME [coach_other]=$OTHER [admin]=""
)
declare -A TOKEN=([anon]="") COOKIE=([anon]="") CSRF=([anon]="")
for c in "${CALLERS[@]:1}"; do
	TOKEN[$c]=$(add_user "${NAME[$c]}" "${ROLE[$c]}" "${SCHOOL_OF[$c]}" --password-stdin \
		< <(printf '%s\n' "$PASSWORD"))
	[[ ${TOKEN[$c]} =~ ^kd_[0-9]+_ ]] || fatal "fixture: user add $c prints a token" "got '${TOKEN[$c]}'"
done
UPLOADER=$(add_user "Uma Hill" coach "$SAME")
[[ $UPLOADER =~ ^kd_[0-9]+_ ]] || fatal "fixture: user add for the uploader prints a token" "got '$UPLOADER'"
U_UPLOADER=$(sql "SELECT id FROM users WHERE name = 'Uma Hill'")
U_TS=$(sql "SELECT id FROM users WHERE name = 'Tia Hill'")
U_TO=$(sql "SELECT id FROM users WHERE name = 'Theo Vale'")

# One clip per state, all of hill-school, all by the uploader, featuring a
# teacher who has no account (so no caller is "the featured teacher").
declare -A CLIP=([ready]=101 [pending]=102 [withdrawn]=103 [private]=104 [school]=105 [processing]=106)
declare -A TITLE=([ready]="Ready rotation" [pending]="Pending rotation" [withdrawn]="Withdrawn rotation"
	[private]="Private rotation" [school]="School-only rotation" [processing]="Processing rotation")
declare -A VA=() VB=()   # per state: an accepted visit, a requested one
sql <<SQL || fatal "fixture: clips, notes and visits inserted with sqlite3" "see above"
PRAGMA foreign_keys = ON;
BEGIN;
INSERT INTO clips (id, title, school_id, teacher, uploader_id, consent, visibility, status, uploaded_at)
SELECT id, title, (SELECT id FROM schools WHERE slug = '$SAME'), 'Rosa Featured', $U_UPLOADER,
       consent, visibility, status, '2026-01-0' || (id - 100) || 'T09:00:00Z'
FROM (SELECT 101 AS id, '${TITLE[ready]}' AS title, 'on-file' AS consent, 'district' AS visibility, 'ready' AS status
      UNION ALL SELECT 102, '${TITLE[pending]}', 'pending', 'district', 'ready'
      UNION ALL SELECT 103, '${TITLE[withdrawn]}', 'withdrawn', 'district', 'ready'
      UNION ALL SELECT 104, '${TITLE[private]}', 'on-file', 'private', 'ready'
      UNION ALL SELECT 105, '${TITLE[school]}', 'on-file', 'school', 'ready'
      UNION ALL SELECT 106, '${TITLE[processing]}', 'on-file', 'district', 'processing') AS f;
INSERT INTO clip_practices (clip_id, practice_id)
SELECT c.id, p.id FROM clips c, practices p WHERE c.id BETWEEN 101 AND 106 AND p.slug = '$PRACTICE';
-- 106 stays processing: a runner that is still alive (this shell) holds its job.
INSERT INTO jobs (clip_id, state, attempts, worker_pid) VALUES (106, 'running', 1, $$);
-- a note by teacher_same on each clip
INSERT INTO comments (clip_id, user_id, at_s, body) SELECT id, $U_TS, 1.5, 'A fixture note' FROM clips WHERE id BETWEEN 101 AND 106;
-- per clip, visits asked by teacher_other from vale-school: 1000+id accepted, 2000+id requested
INSERT INTO visits (id, clip_id, requester_id, visitor_school_id, host_school_id, practice_id, proposed_dates, date, status, note)
SELECT 1000 + c.id, c.id, $U_TO, (SELECT id FROM schools WHERE slug = '$OTHER'), c.school_id,
       (SELECT id FROM practices WHERE slug = '$PRACTICE'), '["$FUTURE","$FUTURE2"]', '$FUTURE', 'accepted', 'May I come?'
FROM clips c WHERE c.id BETWEEN 101 AND 106
UNION ALL
SELECT 2000 + c.id, c.id, $U_TO, (SELECT id FROM schools WHERE slug = '$OTHER'), c.school_id,
       (SELECT id FROM practices WHERE slug = '$PRACTICE'), '["$FUTURE","$FUTURE2"]', NULL, 'requested', 'May I come?'
FROM clips c WHERE c.id BETWEEN 101 AND 106;
COMMIT;
SQL
for s in "${STATES[@]}"; do
	VA[$s]=$((1000 + CLIP[$s]))
	VB[$s]=$((2000 + CLIP[$s]))
	[ "$s" == processing ] && continue
	mkdir -p "$DATA/media/${CLIP[$s]}"
	for f in original video.mp4 thumbnail.jpg poster.jpg storyboard.vtt storyboard.jpg; do
		head -c 2000 /dev/urandom >"$DATA/media/${CLIP[$s]}/$f"
	done
done

start_server "$DATA" || fatal "the server started" "$(log_tail)"

# ------------------------------------------------------------------ sessions

# sign_in CALLER: a new session; prints "COOKIE CSRF" (the CSRF token from
# the <meta name="csrf-token"> of the home page).
sign_in() {
	local sid csrf
	req POST /login "" --data-urlencode "name=${NAME[$1]}" --data-urlencode "password=$PASSWORD" \
		--data-urlencode "next=/"
	[ "$STATUS" == 303 ] || return 1
	sid=$(header Set-Cookie | sed -n 's/^kd_session=\([^;]*\).*/\1/p')
	[ -n "$sid" ] || return 1
	req GET / "" -H "Cookie: kd_session=$sid"
	csrf=$(grep -o '<meta name="csrf-token" content="[^"]*"' "$WORK/body" | sed 's/.*content="//; s/"$//')
	[ "$STATUS" == 200 ] && [ -n "$csrf" ] || return 1
	echo "$sid $csrf"
}

for c in "${CALLERS[@]:1}"; do
	got=$(sign_in "$c") || fatal "fixture: $c signs in and gets a CSRF token" "status $STATUS"
	COOKIE[$c]=${got% *}
	CSRF[$c]=${got#* }
done
ASSET=$(grep -o '/assets/v[^/"]*/style\.css' "$WORK/body" | head -n 1)
[ -n "$ASSET" ] || fatal "fixture: a page links its stylesheet under /assets/v.../" "none found"

b64() { printf '%s' "$1" | base64 -w0; }
UPLOAD_META="filename $(b64 authz.mp4),school $(b64 "$SAME"),practices $(b64 "$PRACTICE")"
TUS=(-H "Tus-Resumable: 1.0.0")

# new_upload TOKEN: an upload in progress (1000 bytes promised, none sent);
# prints its id.
new_upload() {
	req POST /api/v1/uploads "$1" "${TUS[@]}" -H "Upload-Length: 1000" -H "Upload-Metadata: $UPLOAD_META"
	[ "$STATUS" == 201 ] || return 1
	header Location | sed -n 's#^/api/v1/uploads/##p'
}
if ! UPLOAD=$(new_upload "$UPLOADER") || [ -z "$UPLOAD" ]; then
	fatal "fixture: the uploader starts an upload" "status $STATUS: $(head -c 300 "$WORK/body")"
fi

# The fixture as the rules see it, through the list (the matrix asks one by one).
req GET /api/v1/clips "${TOKEN[admin]}"
check_jq "fixture: the admin lists the six clips" '.total == 6'
req GET /api/v1/clips "$UPLOADER"
check_jq "fixture: the uploader lists the six clips" '.total == 6'
req GET /api/v1/clips "${TOKEN[teacher_same]}"
check_jq "fixture: teacher_same lists the ready and the school-only clip" \
	'[.clips[].id] | sort == [101, 105]'
req GET /api/v1/clips "${TOKEN[teacher_other]}"
check_jq "fixture: teacher_other lists only the ready clip" '[.clips[].id] == [101]'

# ------------------------------------------------------------------ one cell

SCRATCH=5000
# scratch_clip STATE ID: a fresh copy of the state's clip (row, practice,
# job, files) as clip ID, for a request that deletes it.
scratch_clip() {
	local from=${CLIP[$1]} id=$2
	sql "PRAGMA foreign_keys = ON;
	     INSERT INTO clips (id, title, school_id, teacher, uploader_id, consent, visibility, status, uploaded_at)
	       SELECT $id, title || ' (copy)', school_id, teacher, uploader_id, consent, visibility, status, uploaded_at
	       FROM clips WHERE id = $from;
	     INSERT INTO clip_practices (clip_id, practice_id) SELECT $id, practice_id FROM clip_practices WHERE clip_id = $from;
	     INSERT INTO jobs (clip_id, state, attempts, worker_pid)
	       SELECT $id, state, attempts, worker_pid FROM jobs WHERE clip_id = $from;" || return 1
	[ ! -d "$DATA/media/$from" ] || cp -r "$DATA/media/$from" "$DATA/media/$id"
}
# fresh_note STATE: a new note by teacher_same on the state's clip; prints its id.
fresh_note() {
	sql "INSERT INTO comments (clip_id, user_id, body) VALUES (${CLIP[$1]}, $U_TS, 'A note to delete')
	     RETURNING id;"
}
# issue 15: a moment to change or remove, on the state's clip
fresh_moment() {
	sql "INSERT INTO moments (clip_id, practice_id, start_s, end_s, title)
	     VALUES (${CLIP[$1]}, (SELECT id FROM practices WHERE slug = '$PRACTICE'), 1, 2, 'A moment to change')
	     RETURNING id;"
}
reset_visit() {
	sql "UPDATE visits SET status = 'requested', date = NULL, answer_note = '', answered_by = NULL WHERE id = $1"
}

# cell METHOD PATTERN CALLER STATE: makes the request; sets STATUS (000 when
# the request could not be set up, with the reason in SETUP).
cell() {
	local m=$1 p=$2 c=$3 s=$4 path api=0 id id2 csrf tok got slug
	local -a a=()
	local cleanup=""
	SETUP=""
	case $p in /api/* | /media/* | /healthz) api=1 ;; esac
	# who asks: a token for the API, the session for pages
	if [ $api == 1 ]; then
		tok=${TOKEN[$c]}
	else
		tok=""
		[ -n "${COOKIE[$c]}" ] && a+=(-H "Cookie: kd_session=${COOKIE[$c]}")
	fi
	csrf=${CSRF[$c]}
	# the ids and slugs of the path: the state's clip, the clip's school
	id=${CLIP[$s]:-${CLIP[ready]}}
	id2=""
	path=$p
	case "$m $p" in
	"DELETE /api/v1/clips/{id}")
		id=$((SCRATCH += 1))
		scratch_clip "$s" "$id" || { SETUP="cannot copy the clip"; STATUS=000; return; }
		cleanup="sql 'DELETE FROM clips WHERE id = $id'; rm -rf '$DATA/media/$id'" ;;
	"PATCH /api/v1/clips/{id}")
		a+=(-H 'Content-Type: application/json' --data-binary '{"description": "Checked by the authz suite."}') ;;
	"PUT /api/v1/clips/{id}/blur")
		a+=(-H 'Content-Type: application/json'
			--data-binary '[{"from_s": 5, "to_s": 1, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}]') ;;
	"PUT /api/v1/clips/{id}/captions")   # issue 15: a cue ending before it starts
		a+=(-H 'Content-Type: text/vtt' --data-binary $'WEBVTT\n\n00:05.000 --> 00:01.000\nx\n') ;;
	"PUT /api/v1/clips/{id}/hold")
		a+=(-H 'Content-Type: application/json' --data-binary '{"reason": "Records request 7 (authz suite)"}')
		cleanup="sql \"UPDATE clips SET hold_at = NULL, hold_by = NULL, hold_reason = '' WHERE id = $id\"" ;;
	"GET /api/v1/clips/{id}/original")
		path="$p?reason=Records%20request%207" ;;
	"POST /api/v1/clips/{id}/notes")
		a+=(-H 'Content-Type: application/json' --data-binary '{"body": "A note from the authz suite"}') ;;
	"DELETE /api/v1/notes/{id}")
		id=$(fresh_note "$s") || { SETUP="cannot add a note"; STATUS=000; return; }
		cleanup="sql 'DELETE FROM comments WHERE id = $id'" ;;
	"POST /clips/{id}/comments/{id}/delete")
		id2=$(fresh_note "$s") || { SETUP="cannot add a note"; STATUS=000; return; }
		cleanup="sql 'DELETE FROM comments WHERE id = $id2'"
		a+=(--data-urlencode "csrf=$csrf") ;;
	"POST /api/v1/clips/{id}/moments")   # issue 15: moments
		a+=(-H 'Content-Type: application/json'
			--data-binary "{\"start_s\": 1, \"end_s\": 2, \"practice\": \"$PRACTICE\", \"title\": \"From the authz suite\"}")
		cleanup="sql \"DELETE FROM moments WHERE title = 'From the authz suite'\"" ;;
	"PATCH /api/v1/moments/{id}" | "DELETE /api/v1/moments/{id}")
		id=$(fresh_moment "$s") || { SETUP="cannot add a moment"; STATUS=000; return; }
		cleanup="sql 'DELETE FROM moments WHERE id = $id'"
		[ "$m" == DELETE ] || a+=(-H 'Content-Type: application/json' --data-binary '{"title": "Renamed by the authz suite"}') ;;
	"GET /api/v1/visits")
		path="$p?school=$SAME" ;;
	"POST /api/v1/visits")
		a+=(-H 'Content-Type: application/json'
			--data-binary "{\"clip_id\": $id, \"dates\": [\"$FUTURE\"], \"note\": \"From the authz suite\"}") ;;
	"GET /api/v1/visits/{id}" | "GET /api/v1/visits/{id}/ics")
		id=${VA[$s]} ;;
	"PATCH /api/v1/visits/{id}")
		id=${VB[$s]}
		reset_visit "$id" || { SETUP="cannot reset the visit"; STATUS=000; return; }
		a+=(-H 'Content-Type: application/json' --data-binary '{"status": "declined"}') ;;
	"POST /visits/{id}")
		id=${VB[$s]}
		reset_visit "$id" || { SETUP="cannot reset the visit"; STATUS=000; return; }
		a+=(--data-urlencode "csrf=$csrf" --data-urlencode "action=decline") ;;
	"POST /api/v1/uploads")
		a+=("${TUS[@]}" -H "Upload-Length: 1000" -H "Upload-Metadata: $UPLOAD_META") ;;
	"HEAD /api/v1/uploads/{slug}")
		path=/api/v1/uploads/$UPLOAD
		a+=("${TUS[@]}") ;;
	"PATCH /api/v1/uploads/{slug}")
		path=/api/v1/uploads/$UPLOAD
		a+=("${TUS[@]}" -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream"
			--data-binary '') ;;
	"DELETE /api/v1/uploads/{slug}")
		local up
		up=$(new_upload "$UPLOADER") || { SETUP="the uploader cannot start an upload"; STATUS=000; return; }
		path=/api/v1/uploads/$up
		a+=("${TUS[@]}")
		cleanup="curl -s -o /dev/null -X DELETE -H 'Tus-Resumable: 1.0.0' -H 'Authorization: Bearer $UPLOADER' '$URL/api/v1/uploads/$up'" ;;
	"GET /media/clips/{id}/{slug}" | "HEAD /media/clips/{id}/{slug}")
		path=/media/clips/$id/video.mp4 ;;
	"GET /assets/{slug}/{slug}" | "HEAD /assets/{slug}/{slug}")
		path=$ASSET ;;
	"POST /login")
		if [ "$c" == anon ]; then
			a+=(--data-urlencode "name=Nobody Here" --data-urlencode "password=not the password")
		else
			a+=(--data-urlencode "name=${NAME[$c]}" --data-urlencode "password=$PASSWORD")
		fi ;;
	"POST /logout")
		# a session of its own: the caller's main one is kept for the rest
		a=()
		if [ "$c" != anon ]; then
			got=$(sign_in "$c") || { SETUP="$c cannot sign in"; STATUS=000; return; }
			a=(-H "Cookie: kd_session=${got% *}" --data-urlencode "csrf=${got#* }")
		else
			a=(--data-urlencode "csrf=")
		fi ;;
	"POST /admin/users/{id}/tokens/{id}/revoke" | "POST /admin/users/{id}/sessions/{id}/end")
		# the second id: a token or session of nobody
		id2=$id
		a+=(--data-urlencode "csrf=$csrf") ;;
	"GET /search")
		path="$p?q=rotation" ;;
	"POST /clips/{id}/edit")
		a+=(--data-urlencode "csrf=$csrf" --data-urlencode "title=${TITLE[$s]}"
			--data-urlencode "practices=$PRACTICE") ;;
	"POST /clips/{id}/comments")
		a+=(--data-urlencode "csrf=$csrf" --data-urlencode "body=A note from the authz suite") ;;
	"POST /clips/{id}/moments")   # issue 15: the moment forms (pages_moments.c)
		a+=(--data-urlencode "csrf=$csrf" --data-urlencode "start=1" --data-urlencode "end=2"
			--data-urlencode "practice=$PRACTICE" --data-urlencode "title=From the authz suite form")
		cleanup="sql \"DELETE FROM moments WHERE title = 'From the authz suite form'\"" ;;
	"POST /clips/{id}/moments/{id}" | "POST /clips/{id}/moments/{id}/delete")
		id2=$(fresh_moment "$s") || { SETUP="cannot add a moment"; STATUS=000; return; }
		cleanup="sql 'DELETE FROM moments WHERE id = $id2'"
		a+=(--data-urlencode "csrf=$csrf")
		if [ "$p" == "/clips/{id}/moments/{id}" ]; then
			a+=(--data-urlencode "start=1" --data-urlencode "end=3" --data-urlencode "practice=$PRACTICE"
				--data-urlencode "title=Renamed by the authz suite form")
		fi ;;
	"POST /clips/{id}/visit")
		a+=(--data-urlencode "csrf=$csrf" --data-urlencode "dates=$FUTURE"
			--data-urlencode "note=From the authz suite") ;;
	"POST /practices/{slug}/follow")   # issue 16: follow, from the practice page
		a+=(--data-urlencode "csrf=$csrf" --data-urlencode "follow=on") ;;
	"GET /mail/unsubscribe" | "POST /mail/unsubscribe")   # issue 16: a link of no message
		path="$p?m=1&s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		[ "$m" == GET ] || a+=(--data-urlencode "List-Unsubscribe=One-Click") ;;
	*)
		# a route this suite has no recipe for: the state's clip, the clips'
		# school, and for a write an empty JSON object or the CSRF form
		case $m in
		POST | PATCH | PUT)
			if [ $api == 1 ]; then
				a+=(-H 'Content-Type: application/json' --data-binary '{}')
			else
				a+=(--data-urlencode "csrf=$csrf")
			fi ;;
		esac ;;
	esac
	path=${path/\{id\}/$id}
	[ -n "$id2" ] && path=${path/\{id\}/$id2}
	slug=$SAME
	[ "$p" != "/practices/{slug}" ] || slug=$PRACTICE
	[ "$p" != "/api/v1/practices/{slug}/spread" ] || slug=$PRACTICE   # issue 15: spread
	case $p in /api/v1/practices/\{slug\}/follow | /practices/\{slug\}/follow) slug=$PRACTICE ;; esac   # issue 16
	path=${path//\{slug\}/$slug}
	req "$m" "$path" "$tok" "${a[@]}"
	[ -z "$cleanup" ] || eval "$cleanup"   # touches neither STATUS nor the body
}

# ------------------------------------------------------------------ the matrix

T_START=$SECONDS
CELLS=0
for r in "${ROUTES[@]}"; do
	m=${r%% *} p=${r#* }
	if [ -n "${ROUTE_STAR[$r]+x}" ] && [ -n "${ROUTE_STATES[$r]+x}" ]; then
		not_ok "authz.table has rows for $r" "it mixes state * with clip states"
		continue
	fi
	if [ -n "${ROUTE_STAR[$r]+x}" ]; then
		states=("*")
	elif [ -n "${ROUTE_STATES[$r]+x}" ]; then
		states=("${STATES[@]}")
	else
		not_ok "authz.table has rows for $r (${ACCESS[$r]})" \
			"no rows: add one per caller with state *, or one per caller and clip state"
		continue
	fi
	missing=""
	for s in "${states[@]}"; do
		for c in "${CALLERS[@]}"; do
			[ -n "${EXP["$r $c $s"]+x}" ] || missing+=" $c/$s"
		done
	done
	check_none "authz.table has rows for $r" "${missing:+ no row for$missing}"
	for s in "${states[@]}"; do
		for c in "${CALLERS[@]}"; do
			want=${EXP["$r $c $s"]-}
			[ -n "$want" ] || continue
			cell "$m" "$p" "$c" "$s"
			CELLS=$((CELLS + 1))
			name="$r as $c, clip $s: $want"
			[ "$s" == "*" ] && name="$r as $c: $want"
			if [[ "|$want|" == *"|$STATUS|"* ]]; then
				ok "$name"
			elif [ "$STATUS" == 000 ] && [ -n "$SETUP" ]; then
				not_ok "$name" "not asked: $SETUP"
			else
				not_ok "$name" "got $STATUS: $(head -c 200 "$WORK/body" 2>/dev/null | tr -d '\r' | tr '\n' ' ')"
			fi
		done
	done
done
echo "# ${#ROUTES[@]} routes, $CELLS cells in $((SECONDS - T_START)) s"

check_server_log
finish
