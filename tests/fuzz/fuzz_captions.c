/* Captions come from anyone who may edit a clip and from a transcription
 * command's output (issue 15): the parser must stay in bounds on any
 * bytes, and what it accepts must be what the served file and the
 * catalogue can hold: at most CAPTIONS_CUES_MAX cues in order of time,
 * each ending after it starts, within the clip, its text bounded, valid
 * UTF-8 without "-->" (the WebVTT written would otherwise read back as
 * other cues).  What is written must read back as the same cues. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/captions.h"
#include "kindling/err.h"

static void check(const struct captions *c, double duration)
{
	if (c->n == 0 || c->n > CAPTIONS_CUES_MAX || !c->cues)
		__builtin_trap();
	for (size_t i = 0; i < c->n; i++) {
		const struct caption_cue *q = &c->cues[i];
		size_t len = strlen(q->text);
		if (!isfinite(q->start_s) || q->start_s < 0 || !(q->end_s > q->start_s) ||
		    (duration > 0 && (q->start_s >= duration || q->end_s > duration)) ||
		    (i && q->start_s < c->cues[i - 1].start_s) || len == 0 ||
		    len > CAPTIONS_CUE_TEXT_MAX || strstr(q->text, "-->") || strchr(q->text, '\r'))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte, when there is one, picks a clip length (0: unknown) */
	double duration = size ? (double)(data[0] % 8) * 7.5 : 0;
	struct captions c;
	char err[KD_ERRMSG_MAX];
	int rc = captions_parse((const char *)data, size, duration, &c, err, sizeof err);
	if (rc < 0) {
		if (c.cues || c.n || (rc != KD_EINVAL && rc != KD_ETOOBIG) || !err[0] ||
		    (rc == KD_EINVAL && strncmp(err, "line ", 5)))
			__builtin_trap();
		return 0;
	}
	check(&c, duration);
	size_t len;
	char *vtt = captions_to_vtt(&c, &len);
	struct captions again;
	if (captions_parse(vtt, len, 0, &again, err, sizeof err) != 0 || again.n != c.n)
		__builtin_trap();
	for (size_t i = 0; i < c.n; i++)
		if (fabs(again.cues[i].start_s - c.cues[i].start_s) > 0.0005 ||
		    fabs(again.cues[i].end_s - c.cues[i].end_s) > 0.0005 ||
		    strcmp(again.cues[i].text, c.cues[i].text))
			__builtin_trap();
	captions_free(&again);
	captions_free(&c);
	free(vtt);
	return 0;
}
