/* result.c - what a worker reports to its runner, as one line of JSON (see
 * jobs.h): the worker has no catalogue, so this is all that comes back. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/jobs.h"

char *jobs_result_json(const struct jobs_result *r)
{
	json_t *o = json_pack("{ss ss sI}", "status", cat_status_name(r->status), "error", r->error,
	                      "blur_rev", (json_int_t)r->blur_rev);
	if (r->probed) {
		json_t *m = json_pack("{ss sf si si si ss ss sf sI sI si si ss}", "container",
		                      r->container, "duration_s", r->duration_s, "width", r->width,
		                      "height", r->height, "rotation", r->rotation, "video_codec",
		                      r->video_codec, "audio_codec", r->audio_codec, "fps", r->fps,
		                      "bit_rate", (json_int_t)r->bit_rate, "size_bytes",
		                      (json_int_t)r->size_bytes, "coded_width", r->coded_width,
		                      "coded_height", r->coded_height, "created_time", r->created_time);
		json_object_set_new(o, "media", m);
	}
	/* issue 15: transcription */
	if (r->transcript)
		json_object_set_new(o, "transcript", json_true());
	if (r->transcribe_error[0])
		json_object_set_new(o, "transcribe_error", json_string(r->transcribe_error));
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static void copy(char *dst, size_t size, json_t *v)
{
	const char *s = json_string_value(v);
	snprintf(dst, size, "%s", s ? s : "");
}

int jobs_result_parse(const char *text, size_t len, struct jobs_result *r, char *err,
                      size_t errlen)
{
	memset(r, 0, sizeof *r);
	json_error_t jerr;
	json_t *o = json_loadb(text, len, 0, &jerr);
	if (!json_is_object(o) ||
	    cat_status_parse(json_string_value(json_object_get(o, "status")), &r->status) < 0 ||
	    (r->status != CAT_READY && r->status != CAT_FAILED)) {
		snprintf(err, errlen, "the worker's report is not what a worker writes");
		json_decref(o);
		return KD_EINVAL;
	}
	copy(r->error, sizeof r->error, json_object_get(o, "error"));
	/* (absent: a worker from before blurring, which blurred nothing) */
	json_t *rev = json_object_get(o, "blur_rev");
	if (rev && (!json_is_integer(rev) || json_integer_value(rev) < 0)) {
		snprintf(err, errlen, "the worker's report has a blur_rev that is not a revision");
		json_decref(o);
		return KD_EINVAL;
	}
	r->blur_rev = rev ? json_integer_value(rev) : 0;
	/* issue 15: transcription */
	r->transcript = json_is_true(json_object_get(o, "transcript"));
	copy(r->transcribe_error, sizeof r->transcribe_error, json_object_get(o, "transcribe_error"));
	json_t *m = json_object_get(o, "media");
	if (json_is_object(m)) {
		r->probed = true;
		copy(r->container, sizeof r->container, json_object_get(m, "container"));
		copy(r->video_codec, sizeof r->video_codec, json_object_get(m, "video_codec"));
		copy(r->audio_codec, sizeof r->audio_codec, json_object_get(m, "audio_codec"));
		copy(r->created_time, sizeof r->created_time, json_object_get(m, "created_time"));
		r->duration_s = json_number_value(json_object_get(m, "duration_s"));
		r->fps = json_number_value(json_object_get(m, "fps"));
		r->width = (int)json_integer_value(json_object_get(m, "width"));
		r->height = (int)json_integer_value(json_object_get(m, "height"));
		r->rotation = (int)json_integer_value(json_object_get(m, "rotation"));
		r->coded_width = (int)json_integer_value(json_object_get(m, "coded_width"));
		r->coded_height = (int)json_integer_value(json_object_get(m, "coded_height"));
		r->bit_rate = json_integer_value(json_object_get(m, "bit_rate"));
		r->size_bytes = json_integer_value(json_object_get(m, "size_bytes"));
	}
	json_decref(o);
	if (r->status == CAT_READY && !r->probed) {
		snprintf(err, errlen, "the worker reported a ready clip without its media facts");
		return KD_EINVAL;
	}
	return 0;
}
