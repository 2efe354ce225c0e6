/* clip_row.c - a whole clip from one row of SQL: the columns, the joins,
 * the reading and the freeing, shared by clips.c, list.c and the index. */
#include <stdlib.h>
#include <string.h>

#include "catalogue_sql.h"
#include "kindling/captions.h"
#include "kindling/catalogue.h"
#include "kindling/mem.h"

/* Tags are joined with the ASCII unit separator, which a tag may not hold. */
#define TAG_SEP "\x1f"

const char CAT_CLIP_COLUMNS[] =
	"c.id, c.title, c.description, s.slug, s.name, c.school_id, "
	"(SELECT group_concat(slug, ',') FROM (SELECT p.slug FROM clip_practices cp "
	"  JOIN practices p ON p.id = cp.practice_id WHERE cp.clip_id = c.id ORDER BY p.slug) ps), "
	"(SELECT group_concat(tag, '" TAG_SEP "') FROM (SELECT tag FROM clip_tags "
	"  WHERE clip_id = c.id ORDER BY tag) ts), "
	"c.teacher, c.grade, c.subject, c.recorded_on, c.uploaded_at, c.status, c.error, "
	"c.consent, c.visibility, coalesce(c.uploader_id, 0), u.name, c.sha256, c.original_name, "
	"c.has_captions, c.container, c.duration_s, c.width, c.height, c.rotation, "
	"c.video_codec, c.audio_codec, c.fps, c.bit_rate, c.size_bytes, "
	"c.consent_basis, c.consent_by, c.consent_at, c.hold_at IS NOT NULL, "
	"c.blur_rev <> c.media_blur_rev, "
	"c.captions"; /* issue 15 */

const char CAT_CLIP_JOINS[] =
	" JOIN schools s ON s.id = c.school_id LEFT JOIN users u ON u.id = c.uploader_id";

/* Split "a<sep>b<sep>c" into a new array of new strings. */
static char **split_list(const char *s, const char *sep, size_t *n)
{
	*n = 0;
	if (!s || !*s)
		return NULL;
	size_t count = 1, seplen = strlen(sep);
	for (const char *p = s; (p = strstr(p, sep)); p += seplen)
		count++;
	char **items = kd_calloc(count, sizeof *items);
	const char *p = s;
	for (size_t i = 0; i < count; i++) {
		const char *end = strstr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);
		items[i] = kd_strndup(p, len);
		p = end ? end + seplen : p + len;
	}
	*n = count;
	return items;
}

static const char *const STATUS_NAMES[] = {
	[CAT_QUEUED] = "queued", [CAT_PROCESSING] = "processing", [CAT_READY] = "ready",
	[CAT_FAILED] = "failed",
};

const char *cat_status_name(enum cat_status s)
{
	return (unsigned)s < sizeof STATUS_NAMES / sizeof *STATUS_NAMES ? STATUS_NAMES[s] : "?";
}

int cat_status_parse(const char *name, enum cat_status *s)
{
	for (size_t i = 0; name && i < sizeof STATUS_NAMES / sizeof *STATUS_NAMES; i++)
		if (!strcmp(name, STATUS_NAMES[i])) {
			*s = (enum cat_status)i;
			return 0;
		}
	return KD_EINVAL;
}

void cat_read_clip(struct kd_stmt *st, struct cat_clip *c)
{
	memset(c, 0, sizeof *c);
	int i = 0;
	c->id = db_column_int64(st, i++);
	c->title = cat_col_dup(st, i++);
	c->description = cat_col_dup(st, i++);
	c->school = cat_col_dup(st, i++);
	c->school_name = cat_col_dup(st, i++);
	c->school_id = db_column_int64(st, i++);
	c->practices = split_list((const char *)db_column_text(st, i++), ",", &c->n_practices);
	c->tags = split_list((const char *)db_column_text(st, i++), TAG_SEP, &c->n_tags);
	c->teacher = cat_col_dup(st, i++);
	c->grade = cat_col_dup(st, i++);
	c->subject = cat_col_dup(st, i++);
	c->recorded_on = cat_col_dup(st, i++);
	c->uploaded_at = cat_col_dup(st, i++);
	cat_status_parse((const char *)db_column_text(st, i++), &c->status);
	c->error = cat_col_dup(st, i++);
	c->consent = cat_col_dup(st, i++);
	c->visibility = cat_col_dup(st, i++);
	c->uploader_id = db_column_int64(st, i++);
	c->uploader = cat_col_dup(st, i++);
	c->sha256 = cat_col_dup(st, i++);
	c->original_name = cat_col_dup(st, i++);
	c->has_captions = db_column_int(st, i++) != 0;
	struct cat_media *m = &c->media;
	m->probed = db_column_type(st, i) != DB_NULL;
	m->container = cat_col_dup(st, i++);
	m->duration_s = db_column_double(st, i++);
	m->width = db_column_int(st, i++);
	m->height = db_column_int(st, i++);
	m->rotation = db_column_int(st, i++);
	m->video_codec = cat_col_dup(st, i++);
	m->audio_codec = cat_col_dup(st, i++);
	m->fps = db_column_double(st, i++);
	m->bit_rate = db_column_int64(st, i++);
	m->size_bytes = db_column_int64(st, i++);
	c->consent_basis = cat_col_dup(st, i++);
	c->consent_by = cat_col_dup(st, i++);
	c->consent_at = cat_col_dup(st, i++);
	c->held = db_column_int(st, i++) != 0;
	c->media_stale = db_column_int(st, i++) != 0;
	/* issue 15: where its captions came from */
	const char *cap = (const char *)db_column_text(st, i++);
	c->captions = !cap || !strcmp(cap, "none") ? CAPTIONS_NONE
	              : !strcmp(cap, "uploaded")   ? CAPTIONS_UPLOADED
	                                           : CAPTIONS_AUTOMATIC;
}

static void free_list(char **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

void cat_clip_free(struct cat_clip *c)
{
	if (!c)
		return;
	if (c->block) {
		free(c->block);
		memset(c, 0, sizeof *c);
		return;
	}
	free(c->title);
	free(c->description);
	free(c->school);
	free(c->school_name);
	free_list(c->practices, c->n_practices);
	free_list(c->tags, c->n_tags);
	free(c->teacher);
	free(c->grade);
	free(c->subject);
	free(c->recorded_on);
	free(c->uploaded_at);
	free(c->error);
	free(c->consent);
	free(c->consent_basis);
	free(c->consent_by);
	free(c->consent_at);
	free(c->visibility);
	free(c->uploader);
	free(c->sha256);
	free(c->original_name);
	free(c->media.container);
	free(c->media.video_codec);
	free(c->media.audio_codec);
	memset(c, 0, sizeof *c);
}
