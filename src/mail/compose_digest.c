/* compose_digest.c - the weekly digest (compose.h): the new clips and
 * moments of the practices a person follows, from other schools than
 * theirs, since their last digest (at most a week), as they may see them
 * now - each clip through cat_clip_get and each moment through
 * cat_moment_get as that person, so a clip withdrawn after the digest was
 * queued is not named.  Nothing left: no mail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "kindling/moments.h"

/* The ids sql (?1 practice, ?2 after, ?3 until, ?4 the reader's school,
 * ?5 the limit) gives: candidates, at most 4 * LIST_MAX, of which the
 * reader may not see some.  *out is the caller's to free in any case. */
static int ids_of(struct kd_db *db, const char *sql, int64_t practice, const char *after,
                  const char *until, int64_t school, int64_t **out, size_t *n)
{
	struct kd_stmt *st;
	*out = NULL;
	*n = 0;
	if (db_prepare(db, sql, &st) != DB_OK)
		return KD_EDB;
	db_bind_int64(st, 1, practice);
	db_bind_text(st, 2, after, -1, DB_STATIC);
	db_bind_text(st, 3, until, -1, DB_STATIC);
	db_bind_int64(st, 4, school);
	db_bind_int64(st, 5, LIST_MAX * 4);
	int s;
	*out = kd_calloc(LIST_MAX * 4, sizeof **out);
	while ((s = db_step(st)) == DB_ROW && *n < LIST_MAX * 4)
		(*out)[(*n)++] = db_column_int64(st, 0);
	db_finalize(st);
	return s == DB_DONE || s == DB_ROW ? 0 : db_err_code(s);
}

struct followed {
	int64_t id;
	char *slug, *name;
};

/* Where this digest starts: after the recipient's previous digest, but
 * never before since (a week ago).  So no clip is in two digests, and
 * none falls between two. */
static char *digest_after(struct kd_db *db, const struct outbox_item *it)
{
	struct kd_stmt *st;
	char *after = NULL;
	if (db_prepare(db, "SELECT max(created_at) FROM outbox WHERE user_id = ?1 AND kind = "
	               "'digest' AND id < ?2", &st) == DB_OK) {
		db_bind_int64(st, 1, it->user_id);
		db_bind_int64(st, 2, it->id);
		if (db_step(st) == DB_ROW && db_column_text(st, 0))
			after = kd_strdup((const char *)db_column_text(st, 0));
		db_finalize(st);
	}
	const char *since = it->ref_text ? it->ref_text : "";
	if (!after || strcmp(after, since) < 0) {
		free(after);
		after = kd_strdup(since);
	}
	return after;
}

int compose_digest(struct kd_db *db, const struct outbox_item *it, const struct kd_user *u,
                          struct draft *d, struct mail_message *out, const char *unsub,
                          char *why, size_t whylen)
{
	if (!it->ref_text || !cat_date_valid(it->ref_text) || !it->created_at) {
		snprintf(why, whylen, "the digest does not say which week it covers");
		return KD_ENOTFOUND;
	}
	struct kd_stmt *st;
	if (db_prepare(db, "SELECT p.id, p.slug, p.name FROM follows f JOIN practices p ON p.id = "
	               "f.practice_id WHERE f.user_id = ?1 ORDER BY p.name, p.id", &st) != DB_OK) {
		snprintf(why, whylen, "cannot read the followed practices: %s", db_errmsg(db));
		return KD_EDB;
	}
	db_bind_int64(st, 1, u->id);
	struct followed *fp = NULL;
	size_t nf = 0, cap = 0;
	int s;
	while ((s = db_step(st)) == DB_ROW) {
		if (nf == cap)
			fp = kd_realloc(fp, (cap = cap ? cap * 2 : 8) * sizeof *fp);
		fp[nf].id = db_column_int64(st, 0);
		fp[nf].slug = kd_strdup((const char *)db_column_text(st, 1));
		fp[nf].name = kd_strdup((const char *)db_column_text(st, 2));
		nf++;
	}
	db_finalize(st);
	int rc = s == DB_DONE ? 0 : db_err_code(s);
	char *after = digest_after(db, it);
	const char *until = it->created_at;
	/* Written into a draft of its own first: only what the reader may see
	 * counts, and with nothing there is no mail at all. */
	struct draft body;
	draft_init(&body, d->base);
	size_t n_clips = 0, n_moments = 0;
	int64_t *shown = NULL; /* clips already named under an earlier practice */
	size_t n_shown = 0;
	for (size_t f = 0; f < nf && rc == 0; f++) {
		int64_t *ids;
		size_t n;
		rc = ids_of(db,
		            "SELECT c.id FROM clip_practices cp JOIN clips c ON c.id = cp.clip_id "
		            "WHERE cp.practice_id = ?1 AND c.uploaded_at > ?2 AND c.uploaded_at <= ?3 "
		            "AND c.school_id <> ?4 AND c.status = 'ready' AND c.consent = 'on-file' "
		            "ORDER BY c.uploaded_at, c.id LIMIT ?5",
		            fp[f].id, after, until, u->school_id, &ids, &n);
		bool heading = false;
		size_t listed = 0, more = 0;
		for (size_t i = 0; i < n && rc == 0; i++) {
			bool dup = false;
			for (size_t k = 0; k < n_shown; k++)
				dup |= shown[k] == ids[i];
			struct cat_clip c;
			if (dup || cat_clip_get(db, u, ids[i], &c) < 0)
				continue; /* (not for this reader: not named) */
			if (listed >= LIST_MAX) {
				more++;
				cat_clip_free(&c);
				continue;
			}
			if (!heading) {
				draft_para(&body, "New clips of %s:", fp[f].name);
				draft_list_begin(&body);
				heading = true;
			}
			char path[48], *rest = kd_asprintf("%s%s%s", c.school_name,
			                                   c.teacher && *c.teacher ? ", " : "",
			                                   c.teacher ? c.teacher : "");
			snprintf(path, sizeof path, "/clips/%lld", (long long)c.id);
			draft_item(&body, c.title, path, rest);
			free(rest);
			shown = kd_realloc(shown, (n_shown + 1) * sizeof *shown);
			shown[n_shown++] = c.id;
			listed++;
			cat_clip_free(&c);
		}
		free(ids);
		if (heading) {
			draft_list_end(&body);
			if (more)
				draft_para(&body, "... and %zu more.", more);
		}
		n_clips += listed + more;
		if (rc < 0)
			break;
		rc = ids_of(db,
		            "SELECT m.id FROM moments m JOIN clips c ON c.id = m.clip_id WHERE "
		            "m.practice_id = ?1 AND m.created_at > ?2 AND m.created_at <= ?3 AND "
		            "c.school_id <> ?4 AND c.status = 'ready' AND c.consent = 'on-file' "
		            "ORDER BY m.created_at, m.id LIMIT ?5",
		            fp[f].id, after, until, u->school_id, &ids, &n);
		heading = false;
		listed = more = 0;
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct cat_moment m;
			if (cat_moment_get(db, u, ids[i], &m) < 0)
				continue;
			if (listed >= LIST_MAX) {
				more++;
				cat_moment_free(&m);
				continue;
			}
			if (!heading) {
				draft_para(&body, "New moments of %s:", fp[f].name);
				draft_list_begin(&body);
				heading = true;
			}
			char path[64];
			snprintf(path, sizeof path, "/clips/%lld?t=%.1f", (long long)m.clip_id,
			         m.start_s);
			char *rest = kd_asprintf("in \"%s\", %s", m.clip_title ? m.clip_title : "a clip",
			                         m.school_name ? m.school_name : "");
			draft_item(&body, m.title, path, rest);
			free(rest);
			listed++;
			cat_moment_free(&m);
		}
		free(ids);
		if (heading) {
			draft_list_end(&body);
			if (more)
				draft_para(&body, "... and %zu more.", more);
		}
		n_moments += listed + more;
	}
	free(shown);
	if (rc == 0 && !n_clips && !n_moments) {
		snprintf(why, whylen, "nothing new the recipient may see in the practices they follow");
		rc = KD_ENOTFOUND;
	} else if (rc < 0) {
		snprintf(why, whylen, "cannot read the week's clips: %s", db_errmsg(db));
	}
	char *subject = NULL;
	if (rc == 0) {
		struct kd_buf sb = KD_BUF_INIT(512);
		kd_buf_puts(&sb, "This week in kindling: ");
		if (n_clips)
			kd_buf_printf(&sb, "%zu new clip%s", n_clips, n_clips == 1 ? "" : "s");
		if (n_moments)
			kd_buf_printf(&sb, "%s%zu new moment%s", n_clips ? ", " : "", n_moments,
			              n_moments == 1 ? "" : "s");
		kd_buf_puts(&sb, nf == 1 ? " in a practice you follow" : " in practices you follow");
		subject = kd_buf_take(&sb, NULL);
		draft_open(d, subject, out->to_name);
		draft_para(d, "Here is what other schools shared this week in the practices you follow.");
		draft_append(d, &body);
		for (size_t f = 0; f < nf; f++) {
			char path[160];
			snprintf(path, sizeof path, "/practices/%s", fp[f].slug);
			char *label = kd_asprintf("All of %s", fp[f].name);
			draft_link(d, label, path);
			free(label);
		}
		draft_close(d, "you follow these practices (unfollow one on its page)", unsub);
	}
	draft_release(&body);
	for (size_t f = 0; f < nf; f++) {
		free(fp[f].slug);
		free(fp[f].name);
	}
	free(fp);
	free(after);
	if (rc < 0)
		return rc;
	return draft_finish(d, out, subject, why, whylen);
}
