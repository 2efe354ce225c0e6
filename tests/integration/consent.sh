#!/usr/bin/env bash
# tests/integration/consent.sh - a clip's consent record over the API (basis,
# who, when, history; withdrawal needs a reason and hides the clip's media
# from everyone at once, its uploader and admins too), legal hold (admins;
# a held clip cannot be deleted), the original for a records request
# (admins, with a reason, audited), and blur regions: saving them queues
# processing, the files are served to nobody until it is done, then they are.
#
#   KINDLING_BIN=/abs/path/to/kindling bash tests/integration/consent.sh
#
# Needs curl, jq, ffmpeg and the sqlite3 CLI.
# Last line: "consent: N passed, N failed".

# shellcheck disable=SC2016  # jq programs in single quotes
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
begin_suite consent sqlite3 ffmpeg

fixture_catalogue
start_server "$DATA" || fatal "the server starts" "$(log_tail)"

# A real clip, uploaded by a coach of north-high, processed by the server.
ff -f lavfi -i "testsrc2=size=320x240:rate=25:duration=3" -pix_fmt yuv420p "$WORK/clip.mp4" ||
	fatal "ffmpeg makes a test clip" "see above"
run_cli upload --server "$URL" --token "$COACH_N" --school north-high --practice differentiation \
	--title "Consent record clip" --wait --json "$WORK/clip.mp4"
CLIP=$(printf '%s\n' "$OUT" | jq -r 'select(.file) | .id' | tail -n 1)
[ "$RC" == 0 ] && [ -n "$CLIP" ] || fatal "the coach uploads a clip and it is processed" "$OUT $ERR"
U_COACH=$(sql "SELECT id FROM users WHERE name = 'coach-north'")

# ---------------------------------------------------------------- the record
req GET "/api/v1/clips/$CLIP" "$TEACH_R"
check_jq "a new clip's consent is on file, basis releases, confirmed by its uploader at upload" \
	'.consent == "on-file" and .consent_basis == "releases" and .consent_by == "coach-north"
	 and (.consent_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")) and .legal_hold == false
	 and .blur_pending == false'
req GET "/api/v1/clips/$CLIP/consent" "$COACH_N"
check_jq "its history holds the one first record" \
	'.history | length == 1 and .[0].consent == "on-file" and .[0].basis == "releases"
	 and .[0].by == "coach-north"'
req GET "/api/v1/clips/$CLIP/consent" "$TEACH_N"
check_status "a teacher who may not edit the clip may not read its consent record" 403

patch "$CLIP" "$ADMIN" '{"consent_basis":"no-students"}'
check_jq "an admin changes the basis: the record says who and the new basis" \
	'.consent == "on-file" and .consent_basis == "no-students" and .consent_by == "it-admin"'
patch "$CLIP" "$ADMIN" '{"consent_basis":"blurred"}'
check_eq "the basis 'blurred' is refused while nothing is blurred" "400 true" \
	"$STATUS $(jb '.error | contains("regions")')"
patch "$CLIP" "$ADMIN" '{"consent_basis":"maybe"}'
check_eq "an unknown basis is refused, naming the three" "400 true" \
	"$STATUS $(jb '.error | contains("releases") and contains("no-students") and contains("blurred")')"
patch "$CLIP" "$ADMIN" '{"consent":"pending","consent_basis":"releases"}'
check_status "a basis with consent pending is refused" 400
patch "$CLIP" "$ADMIN" '{"consent_basis":"no-students"}'
req GET "/api/v1/clips/$CLIP/consent" "$ADMIN"
check_jq "setting the same basis again adds no record" '.history | length == 2'

# ---------------------------------------------------------------- withdrawal
patch "$CLIP" "$COACH_N" '{"consent":"withdrawn"}'
check_eq "withdrawing without a reason is refused, asking for one" "400 true" \
	"$STATUS $(jb '.error | contains("consent_reason")')"
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_R"
check_status "(before withdrawal another school's teacher plays the video)" 200
patch "$CLIP" "$COACH_N" '{"consent":"withdrawn","consent_reason":"A parent withdrew the release on 1 Dec"}'
check_jq "the uploader withdraws consent with a reason" \
	'.consent == "withdrawn" and .consent_basis == null and .consent_by == "coach-north"'
req GET "/api/v1/clips/$CLIP/consent" "$COACH_N"
check_jq "the history ends with the withdrawal and its reason" \
	'.history | length == 3 and .[-1].consent == "withdrawn"
	 and .[-1].reason == "A parent withdrew the release on 1 Dec" and .[-1].by == "coach-north"'
req GET "/api/v1/clips/$CLIP" "$TEACH_R"
check_status "the clip is gone for others at once (API)" 404
req GET "/clips/$CLIP" "$TEACH_R"
check_status "and its page" 404
for f in video.mp4 poster.jpg thumbnail.jpg storyboard.vtt; do
	req GET "/media/clips/$CLIP/$f" "$TEACH_R"
	s_other=$STATUS
	req GET "/media/clips/$CLIP/$f" "$COACH_N"
	s_up=$STATUS
	req GET "/media/clips/$CLIP/$f" "$ADMIN"
	check_eq "$f of a withdrawn clip: 404 for others, 403 for its uploader and for admins" \
		"404 403 403" "$s_other $s_up $STATUS"
done
req GET "/api/v1/clips/$CLIP" "$ADMIN"
check_jq "admins still see the record, with no media URLs" \
	'.consent == "withdrawn" and .video_url == null and .thumbnail_url == null and .poster_url == null'
check_eq "it is not listed or found for others" "0 0" \
	"$(ids "$TEACH_R" "per_page=100" | grep -cx "$CLIP") $(ids "$TEACH_R" "q=consent%20record" | grep -cx "$CLIP")"
patch "$CLIP" "$ADMIN" '{"consent":"on-file","consent_basis":"releases","consent_reason":"New releases signed"}'
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_R"
check_status "consent on file again: others play it again" 200

# ---------------------------------------------------------------- legal hold
req_json PUT "/api/v1/clips/$CLIP/hold" "$COACH_N" '{"reason":"x"}'
check_status "only admins set a legal hold" 403
req_json PUT "/api/v1/clips/$CLIP/hold" "$ADMIN" '{}'
check_eq "a hold needs a reason" "400 true" "$STATUS $(jb '.error | contains("why")')"
req_json PUT "/api/v1/clips/$CLIP/hold" "$ADMIN" '{"reason":"Complaint 2026-14 under review"}'
check_jq "an admin holds the clip" '.legal_hold == true and .by == "it-admin" and .reason == "Complaint 2026-14 under review"'
req GET "/api/v1/clips/$CLIP" "$ADMIN"
check_jq "the clip says it is held" '.legal_hold == true'
req DELETE "/api/v1/clips/$CLIP" "$COACH_N"
check_eq "a held clip cannot be deleted, even by its uploader: 409 saying why" "409 true" \
	"$STATUS $(jb '.error | contains("legal hold")')"
req DELETE "/api/v1/clips/$CLIP" "$ADMIN"
check_status "nor by an admin until the hold is lifted" 409

# ---------------------------------------------------------------- the original
req GET "/api/v1/clips/$CLIP/original" "$ADMIN"
check_eq "the original needs the records request it is for" "400 true" "$STATUS $(jb '.error | contains("reason")')"
req GET "/api/v1/clips/$CLIP/original?reason=Records%20request%2031" "$COACH_N"
check_status "only admins take an original" 403
req GET "/api/v1/clips/$CLIP/original?reason=Records%20request%2031" "$ADMIN"
check_eq "an admin takes the original: the very bytes uploaded" "200 $(sha256sum <"$WORK/clip.mp4" | cut -d' ' -f1)" \
	"$STATUS $(sha256sum <"$WORK/body" | cut -d' ' -f1)"
check_eq "the audit trail says who took it and why" 1 \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'download-original' AND clip_id = $CLIP
	        AND user_name = 'it-admin' AND detail LIKE '%Records request 31%'")"
req GET "/media/clips/$CLIP/original" "$ADMIN"
check_status "the original has no media URL" 404

# ---------------------------------------------------------------- blur
req_json PUT "/api/v1/clips/$CLIP/blur" "$TEACH_N" '[]'
check_status "a teacher who may not edit the clip may not blur it" 403
req_json PUT "/api/v1/clips/$CLIP/blur" "$COACH_N" '[{"from_s":0,"to_s":2,"x":0.8,"y":0.8,"w":0.5,"h":0.1}]'
check_eq "a region outside the picture is refused, naming it" "400 true" "$STATUS $(jb '.error | contains("region 1")')"
req_json PUT "/api/v1/clips/$CLIP/blur" "$COACH_N" '[{"from_s":9,"to_s":12,"x":0.1,"y":0.1,"w":0.2,"h":0.2}]'
check_eq "a region after the end of the clip is refused" "400 true" "$STATUS $(jb '.error | contains("after the clip ends")')"
req_json PUT "/api/v1/clips/$CLIP/blur" "$COACH_N" '{"regions": "no"}'
check_status "regions that are not a list are refused" 400
REV0=$(sql "SELECT blur_rev FROM clips WHERE id = $CLIP")
check_eq "refused regions change nothing" 0 "$REV0"
# hold processing back so that "not yet made" can be seen: the job waits queued
req_json PUT "/api/v1/clips/$CLIP/blur" "$COACH_N" '[{"from_s":0.5,"to_s":2.5,"x":0.25,"y":0.25,"w":0.5,"h":0.5}]'
check_jq "the coach marks a region: saved, pending until the files are made again" \
	'.rev == 1 and .pending == true and (.regions | length == 1) and .regions[0].state == "applied"
	 and .regions[0].source == "editor" and .regions[0].x == 0.25'
req GET "/media/clips/$CLIP/poster.jpg" "$COACH_N"
s1=$STATUS
req GET "/media/clips/$CLIP/poster.jpg" "$TEACH_R"
s2=$STATUS
if [ "$(sql "SELECT media_blur_rev FROM clips WHERE id = $CLIP")" == 1 ]; then
	ok "until they are made again the old files are served to nobody (already made again)"
elif [ "$s1" == 409 ] && [[ $s2 == 409 || $s2 == 404 ]]; then
	ok "until they are made again the old files are served to nobody (409; 404 to others while it processes)"
else
	not_ok "until they are made again the old files are served to nobody" "got $s1 $s2"
fi
blur_made() { [ "$(sql "SELECT media_blur_rev || status FROM clips WHERE id = $CLIP")" == 1ready ]; }
wait_until 60 blur_made || true
check_eq "processing makes the files again with the regions and records their revision" "1|1|ready" \
	"$(sql "SELECT blur_rev, media_blur_rev, status FROM clips WHERE id = $CLIP")"
req GET "/api/v1/clips/$CLIP" "$TEACH_R"
check_jq "then the clip is served again, not pending" '.blur_pending == false and .video_url != null'
req GET "/media/clips/$CLIP/video.mp4" "$TEACH_R"
check_status "and its video plays" 200
check_eq "the worker's regions file stays out of every URL" 404 \
	"$(req GET "/media/clips/$CLIP/blur.json" "$ADMIN"; echo "$STATUS")"
patch "$CLIP" "$ADMIN" '{"consent_basis":"blurred"}'
check_jq "with regions applied, the basis 'blurred' is accepted" '.consent_basis == "blurred"'
req_json PUT "/api/v1/clips/$CLIP/blur" "$ADMIN" '[]'
check_eq "removing every region of a clip whose consent rests on them is refused" "400 true" \
	"$STATUS $(jb '.error | contains("blurred")')"
check_eq "audit entries: consent changes, blur, hold" "4 1 1" \
	"$(sql "SELECT count(*) FROM audit WHERE clip_id = $CLIP AND action = 'consent'") $(
	   sql "SELECT count(*) FROM audit WHERE clip_id = $CLIP AND action = 'blur'") $(
	   sql "SELECT count(*) FROM audit WHERE clip_id = $CLIP AND action = 'hold'")"

# ---------------------------------------------------------------- lift, delete
req DELETE "/api/v1/clips/$CLIP/hold" "$ADMIN"
check_jq "an admin lifts the hold" '.legal_hold == false'
req DELETE "/api/v1/clips/$CLIP?reason=Asked%20by%20the%20school" "$ADMIN"
check_status "then the clip can be deleted" 204
check_eq "its consent history and regions go with it; the audit trail keeps who and why" "0 0 1" \
	"$(sql "SELECT count(*) FROM consent_events WHERE clip_id = $CLIP") $(
	   sql "SELECT count(*) FROM blur_regions WHERE clip_id = $CLIP") $(
	   sql "SELECT count(*) FROM audit WHERE clip_id = $CLIP AND action = 'delete' AND detail LIKE '%Asked by the school%'")"
sql "UPDATE audit SET detail = 'x' WHERE clip_id = $CLIP" 2>/dev/null
check_eq "the audit trail cannot be changed" 0 \
	"$(sql "SELECT count(*) FROM audit WHERE detail = 'x'")"

finish
