/* meta.c - the metadata flags of upload and ingest (see meta.h). */
#include "meta.h"

#include <stdlib.h>

#include "kindling/buf.h"
#include "kindling/mem.h"

bool meta_flag(struct meta_flags *m, int opt, const char *arg)
{
	switch (opt) {
	case META_SCHOOL: m->school = arg; break;
	case META_PRACTICE: m->practices = arg; break;
	case META_TITLE: m->title = arg; break;
	case META_TEACHER: m->teacher = arg; break;
	case META_GRADE: m->grade = arg; break;
	case META_SUBJECT: m->subject = arg; break;
	case META_RECORDED: m->recorded = arg; break;
	case META_TAG:
		m->tags = kd_realloc(m->tags, (m->n_tags + 1) * sizeof *m->tags);
		m->tags[m->n_tags++] = arg;
		break;
	case META_CONSENT: m->consent = arg; break;
	case META_VISIBILITY: m->visibility = arg; break;
	default: return false;
	}
	return true;
}

char *meta_tags_joined(const struct meta_flags *m)
{
	if (!m->n_tags)
		return NULL;
	struct kd_buf b = KD_BUF_INIT(64 * 1024);
	for (size_t i = 0; i < m->n_tags; i++)
		kd_buf_printf(&b, "%s%s", i ? "," : "", m->tags[i]);
	return kd_buf_take(&b, NULL);
}

void meta_flags_free(struct meta_flags *m)
{
	free(m->tags);
	m->tags = NULL;
	m->n_tags = 0;
}
