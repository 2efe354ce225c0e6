#!/usr/bin/env bash
# tests/integration/catalogue.sh - reading the catalogue: a clip's detail,
# who sees which clip (school-only, private, consent pending or withdrawn,
# queued, failed), list totals and paging, list parameters and filters,
# full-text search (including FTS and SQL metacharacters) and the schools
# and practices lists with their visible-clip counts.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/catalogue.sh
#
# Needs curl, jq and the sqlite3 CLI.  Read-only against the shared fixture
# (lib.sh fixture_catalogue).  Last line: "catalogue: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite catalogue sqlite3

fixture_catalogue
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# ---------------------------------------------------------------- clip detail
req GET /api/v1/clips/901 "$TEACH_N"
check_jq "GET /api/v1/clips/901: every documented field" \
	'. as $c | [ "id","title","school","practices","tags","teacher","grade","subject",
	   "recorded_on","uploaded_at","status","error","duration_s","width","height","rotation",
	   "video_codec","audio_codec","fps","bit_rate","size_bytes","container","sha256",
	   "thumbnail_url","poster_url","video_url","storyboard_url" ] | all(. as $k | $c | has($k))'
check_jq "clip detail: catalogue facts" \
	'.id == 901 and .title == "Quasar fractions workshop" and .school == "north-high"
	 and .teacher == "Zelda Quokkafield" and .grade == "7" and .subject == "Astronomy"
	 and .recorded_on == "2021-03-04" and .uploaded_at == "2021-03-05T10:00:00Z"
	 and .status == "ready" and .error == null
	 and .practices == ["differentiation","peer-feedback"] and .tags == ["warm-up","zebrafish"]'
check_jq "clip detail: media facts and media URLs" \
	".duration_s == 12.5 and .width == 640 and .height == 360 and .rotation == 90
	 and .video_codec == \"h264\" and .audio_codec == \"aac\" and .fps == 25
	 and .bit_rate == 800000 and .size_bytes == 5000
	 and .container == \"mov,mp4,m4a,3gp,3g2,mj2\" and .sha256 == \"$SHA\"
	 and .thumbnail_url == \"/media/clips/901/thumbnail.jpg\" and .poster_url == \"/media/clips/901/poster.jpg\"
	 and .video_url == \"/media/clips/901/video.mp4\" and .storyboard_url == \"/media/clips/901/storyboard.vtt\""
req GET /api/v1/clips/902 "$TEACH_N"
check_jq "an unprobed clip has null media facts and recorded_on" \
	'.duration_s == null and .width == null and .video_codec == null and .container == null
	 and .recorded_on == null and .sha256 == null'
req GET /api/v1/clips/911 "$TEACH_N"
if [ "$(jb .title)" == "$XSS_TITLE" ]; then ok "title with HTML/SQL metacharacters is returned exactly"
else not_ok "title with HTML/SQL metacharacters is returned exactly" "got '$(jb .title)'"; fi
req GET /api/v1/clips/908 "$TEACH_R"
check_jq "a queued clip (seen by its uploader) has status queued and no media URLs" \
	'.status == "queued" and .video_url == null and .thumbnail_url == null'
req GET /api/v1/clips/909 "$TEACH_R"
check_jq "a failed clip says why" '.status == "failed" and .error == "the file is not a video"'

# ---------------------------------------------------------------- visibility
bad=""
for id in 904 905 906 907 908 909; do
	req GET "/api/v1/clips/$id" "$TEACH_N"
	[ "$STATUS" == 404 ] || bad+=" $id->$STATUS"
done
check_none "another school's teacher gets 404 for school-only, private, pending, withdrawn, queued, failed clips" "$bad"
seen=0
for id in 905 906 907 908 909; do
	req GET "/api/v1/clips/$id" "$TEACH_R"
	[ "$STATUS" == 200 ] && seen=$((seen + 1))
done
check_eq "the uploader sees their private, pending, withdrawn, queued and failed clips" 5 "$seen"
req GET /api/v1/clips/904 "$TEACH_R"
check_status "a teacher of the clip's school sees a visibility=school clip" 200
req GET /api/v1/clips/905 "$COACH_R"
check_status "a coach of the school does not see someone else's private clip" 404
req GET /api/v1/clips/910 "$TEACH_N"
status=$STATUS
req GET /api/v1/clips/910 "$TEACH_R"
check_eq "visibility=school clip of north-high: its teacher 200, riverside's teacher 404" "200 404" \
	"$status $STATUS"
seen=0
for id in $(seq 901 916); do
	req GET "/api/v1/clips/$id" "$ADMIN"
	[ "$STATUS" == 200 ] && seen=$((seen + 1))
done
check_eq "admin sees all 16 fixture clips" 16 "$seen"

T_ADMIN=$(total "$ADMIN" "")
T_TN=$(total "$TEACH_N" "")
T_TR=$(total "$TEACH_R" "")
T_CR=$(total "$COACH_R" "")
check_eq "list total for admin counts every clip" "$ALL" "$T_ADMIN"
check_eq "list total for a north-high teacher leaves out the 6 hidden clips" \
	"$((ALL - HIDDEN_FROM_TEACH_N))" "$T_TN"
check_eq "list total for the riverside uploader leaves out only north-high's school-only clip" \
	"$((ALL - HIDDEN_FROM_TEACH_R))" "$T_TR"
check_eq "list total for a riverside coach leaves out others' private/pending/etc. clips" \
	"$((ALL - HIDDEN_FROM_COACH_R))" "$T_CR"
req GET /api/v1/schools "$TEACH_N"
check_eq "the schools' clip counts add up to the list total" "$T_TN" "$(jb '[.schools[].clips] | add')"
check_eq "search respects visibility: a word in 6 hidden titles, found by other teacher/admin/uploader" \
	"0 6 6" "$(total "$TEACH_N" "q=obsidian") $(total "$ADMIN" "q=obsidian") $(total "$TEACH_R" "q=obsidian")"

# Every page of a teacher's list, put together, is the whole list.
all_ids=""
for page in 1 2 3 4 5 6 7; do
	all_ids+=" $(ids "$TEACH_N" "per_page=10&page=$page")"
done
n_ids=$(tr ' ' '\n' <<<"$all_ids" | grep -c .)
n_unique=$(tr ' ' '\n' <<<"$all_ids" | grep . | sort -u | grep -c .)
n_hidden=$(tr ' ' '\n' <<<"$all_ids" | grep -cxE '90[4-9]')
check_eq "paging per_page=10 through the list yields every clip once, none hidden" \
	"$T_TN $T_TN 0" "$n_ids $n_unique $n_hidden"

# ---------------------------------------------------------------- list parameters
req GET /api/v1/clips "$TEACH_N"
check_jq "list defaults: page 1, per_page 24, 24 clips, newest (highest id) first" \
	'.page == 1 and .per_page == 24 and (.clips | length) == 24 and (.total | type) == "number"
	 and ([.clips[].id] as $i | $i == ($i | sort | reverse))'
req GET "/api/v1/clips?per_page=100" "$TEACH_N"
check_jq "per_page=100 is allowed" ".per_page == 100 and (.clips | length) == $T_TN"
bad=""
for arg in per_page=101 per_page=0 per_page=abc per_page=-1 per_page=+5 page=0 page=abc \
	page=1.5 page=-1 page=1000001 page=99999999999999999999999; do
	req GET "/api/v1/clips?$arg" "$TEACH_N"
	[ "$STATUS" == 400 ] || bad+=" $arg->$STATUS"
done
check_none "bad page/per_page (0, 101, abc, -1, 1.5, too big): 400" "$bad"
req GET "/api/v1/clips?page=1000" "$TEACH_N"
check_jq "a page past the end is empty but keeps the total" ".total == $T_TN and .clips == []"
req GET "/api/v1/clips?practice=no-such-practice" "$TEACH_N"
check_eq "unknown practice slug: 400 with a message listing the known ones" "400 true" \
	"$STATUS $(jb '.error | contains("differentiation") and contains("kite-flying")')"
req GET "/api/v1/clips?school=no-such-school" "$TEACH_N"
check_eq "unknown school slug: 400 with a message listing the known ones" "400 true" \
	"$STATUS $(jb '.error | contains("north-high") and contains("zephyr-hollow")')"
req GET "/api/v1/clips?sort=random" "$TEACH_N"
check_status "sort=random: 400" 400
bad=""
for s in newest oldest title recorded relevance; do
	req GET "/api/v1/clips?sort=$s&per_page=100" "$ADMIN"
	[ "$STATUS" == 200 ] || bad+=" $s->$STATUS"
	case $s in
	oldest) check_jq "sort=oldest: ids ascending" '[.clips[].id] as $i | $i == ($i | sort)' ;;
	title) check_jq "sort=title: titles in order, ignoring case" \
		'[.clips[].title | ascii_downcase] as $t | $t == ($t | sort)' ;;
	recorded) check_jq "sort=recorded: newest recording first, undated last" \
		'[.clips[].recorded_on] as $r | ($r | map(select(. != null))) as $d
		 | $d == ($d | sort | reverse) and $r[0:($d | length)] == $d' ;;
	esac
done
check_none "sort=newest|oldest|title|recorded|relevance: 200" "$bad"
req GET "/api/v1/clips?school=zephyr-hollow" "$TEACH_N"
check_jq "school filter" '.total == 1 and .clips[0].id == 902'
req GET "/api/v1/clips?practice=kite-flying" "$TEACH_N"
check_jq "practice filter (and visibility: 904-909 are left out)" \
	'.total == 2 and ([.clips[].id] | sort) == [903, 910]'
req GET "/api/v1/clips?subject=astronomy&grade=7" "$TEACH_N"
check_jq "subject and grade filters, subject ignoring case" '.total == 1 and .clips[0].id == 901'
req GET "/api/v1/clips?school=north-high&practice=differentiation&per_page=100" "$TEACH_N"
check_jq "school and practice filters combine" \
	'.total > 0 and (.clips | all(.school == "north-high" and (.practices | index("differentiation"))))'

# ---------------------------------------------------------------- full-text search
check_eq "q finds a clip by teacher name" 901 "$(ids "$TEACH_N" "q=Quokkafield")"
check_eq "q finds a clip by tag" 901 "$(ids "$TEACH_N" "q=zebrafish")"
check_eq "q finds a clip by school name" 902 "$(ids "$TEACH_N" "q=$(uri 'Zephyr Hollow')")"
check_eq "q finds clips by practice name" "910 903" "$(ids "$TEACH_N" "q=$(uri 'kite flying')")"
check_eq "q matches a word prefix (quokk)" 901 "$(ids "$TEACH_N" "q=quokk")"
n_practice=$(total "$TEACH_N" "practice=differentiation")
req GET "/api/v1/clips?q=differ&per_page=100" "$TEACH_N"
check_eq "q=differ (a prefix) finds exactly the clips with the differentiation practice" \
	"$n_practice true" "$(jb '.total') $(jb 'any(.clips[]; .id == 901)')"
check_eq "q finds the clip whose title has HTML/SQL metacharacters, by a word and by the whole title" \
	"911 911" "$(ids "$TEACH_N" "q=onerror") $(ids "$TEACH_N" "q=$(uri "$XSS_TITLE")")"
check_eq "q=quasar&sort=relevance works" 901 "$(ids "$TEACH_N" "q=quasar&sort=relevance")"
bad=""
for q in '"' '*' '(' 'NEAR' 'AND OR' "'; DROP TABLE clips; --" 'quasar"' 'NEAR(a b)' \
	'title:quasar' '^quasar' '"unbalanced AND (' '-- ; /* */' '—' 'NOT quasar' 'a OR b' \
	'x:' '{title}: y' '+' '%' "\\" 'é*'; do
	req GET "/api/v1/clips?q=$(uri "$q")" "$TEACH_N"
	[ "$STATUS" == 200 ] || bad+=" [$q]->$STATUS"
done
check_none "q with FTS/SQL metacharacters (\" * ( NEAR, AND OR, '; DROP TABLE clips; --, ...): 200" "$bad"
check_eq "a lone quote is ignored: same total as no q" "$T_TN" "$(total "$TEACH_N" "q=%22")"
check_eq "the clips table is still there after the SQL in q" "$ALL" "$(sql 'SELECT count(*) FROM clips')"
req GET "/api/v1/clips?q=$(head -c 300 /dev/zero | tr '\0' a)" "$TEACH_N"
check "a 300-character q is refused (4xx), not a 500" test "${STATUS:0:1}" == 4

# ---------------------------------------------------------------- schools and practices
req GET /api/v1/schools "$TEACH_N"
check_jq "GET /api/v1/schools lists the 5 sample schools" \
	'[.schools[].slug] | contains(["north-high","riverside-elementary","lakeview-middle",
	 "westside-academy","eastgate-primary"])'
check_jq "a school has slug, name, district and clips" \
	'.schools[] | select(.slug == "zephyr-hollow")
	 | .name == "Zephyr Hollow Academy" and .district == "Test District" and .clips == 1'
check_jq "riverside's count leaves out the clips a north-high teacher cannot see" \
	".schools[] | select(.slug == \"riverside-elementary\") | .clips ==
	 $(sql "SELECT count(*) FROM clips c JOIN schools s ON s.id = c.school_id
	        WHERE s.slug = 'riverside-elementary'") - 6"
req GET /api/v1/practices "$TEACH_N"
check_jq "GET /api/v1/practices: the 10 defaults and the added one" \
	'[.practices[].slug] | length == 11 and contains(["blended-learning","differentiation",
	 "student-choice","station-rotation","mastery-tracking","formative-assessment",
	 "peer-feedback","project-based-learning","classroom-discussion","flexible-grouping",
	 "kite-flying"])'
check_jq "a practice has slug, name, description and a visible-clip count" \
	'.practices[] | select(.slug == "kite-flying")
	 | .name == "Kite flying" and .description == "Ideas take off in the wind." and .clips == 2'
check_eq "practice counts agree with the list's practice filter" \
	"$(total "$TEACH_N" "practice=differentiation")" \
	"$(req GET /api/v1/practices "$TEACH_N"; jb '.practices[] | select(.slug == "differentiation") | .clips')"

check_server_log
finish
