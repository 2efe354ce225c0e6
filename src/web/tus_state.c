/* tus_state.c - an upload on disk and what its headers say (see
 * tus_state.h). */
#define _GNU_SOURCE
#include "tus_state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/log.h"
#include "kindling/mem.h"
#include "kindling/outbox.h"
#include "kindling/paths.h"

#define INFO_MAX (64 * 1024)

/* Parse a decimal header value of at most 19 digits. */
bool tus_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || strlen(s) > 19)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Upload-Metadata: "key base64,key base64,...".  Values are decoded into a
 * JSON object of strings; a key without a value is "". */
int tus_parse_metadata(const char *h, json_t *meta, char *err, size_t errlen)
{
	if (!h)
		return 0;
	if (strlen(h) > 16 * 1024) {
		snprintf(err, errlen, "Upload-Metadata is too long (at most 16 KB)");
		return KD_EINVAL;
	}
	char *copy = kd_strdup(h), *save = NULL;
	int rc = 0;
	for (char *pair = strtok_r(copy, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
		while (*pair == ' ')
			pair++;
		char *sp = strchr(pair, ' ');
		const char *b64 = sp ? sp + 1 : "";
		if (sp)
			*sp = '\0';
		size_t cap = strlen(b64) + 1, len = 0;
		unsigned char *val = kd_malloc(cap);
		if (!*pair || sodium_base642bin(val, cap, b64, strlen(b64), NULL, &len, NULL,
		                                sodium_base64_VARIANT_ORIGINAL) != 0) {
			snprintf(err, errlen, "Upload-Metadata has a bad entry near '%.40s': each value "
			         "must be base64", pair);
			free(val);
			rc = KD_EINVAL;
			break;
		}
		val[len] = '\0';
		json_t *s = json_stringn((const char *)val, len); /* NULL unless valid UTF-8 */
		free(val);
		if (!s || strlen(json_string_value(s)) != len) {
			json_decref(s);
			snprintf(err, errlen, "Upload-Metadata value of '%.40s' is not UTF-8 text", pair);
			rc = KD_EINVAL;
			break;
		}
		json_object_set_new(meta, pair, s);
	}
	free(copy);
	return rc;
}

static const char *meta_str(json_t *meta, const char *key)
{
	const char *v = json_string_value(json_object_get(meta, key));
	return v && *v ? v : NULL;
}

/* Split a comma list into an array of strings pointing into a copy. */
static int split_list(const char *s, struct tus_list *l)
{
	memset(l, 0, sizeof *l);
	if (!s)
		return 0;
	l->copy = kd_strdup(s);
	char *save = NULL;
	for (char *t = strtok_r(l->copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		size_t n = strlen(t);
		while (n && isspace((unsigned char)t[n - 1]))
			t[--n] = '\0';
		if (!*t)
			continue;
		if (l->n == sizeof l->items / sizeof *l->items)
			return KD_EINVAL;
		l->items[l->n++] = t;
	}
	return 0;
}

/* issue 16: checked here, before any byte is sent (tus_state.h). */
int tus_batch_meta(json_t *meta, struct cat_clip_new *c, char *err, size_t errlen)
{
	const char *token = meta_str(meta, "batch"), *size = meta_str(meta, "batch_size");
	const char *notify = meta_str(meta, "notify");
	if (!token && !size && !notify)
		return 0;
	size_t n = token ? strlen(token) : 0;
	if (n < 8 || n > 64 ||
	    strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n) {
		snprintf(err, errlen, "Upload-Metadata 'batch' must be 8 to 64 letters, digits, '-' "
		         "or '_' naming the run (with batch_size and, to hear in any case, notify)");
		return KD_EINVAL;
	}
	uint64_t files;
	if (!tus_parse_u64(size, &files) || files < 1 || files > 100000) {
		snprintf(err, errlen, "Upload-Metadata 'batch_size' must be the number of files the "
		         "run sends, 1 to 100000");
		return KD_EINVAL;
	}
	if (notify && strcmp(notify, "1") && strcmp(notify, "0") && strcmp(notify, "true") &&
	    strcmp(notify, "false")) {
		snprintf(err, errlen, "Upload-Metadata 'notify' must be 1 or 0");
		return KD_EINVAL;
	}
	c->batch = token;
	c->batch_size = (int64_t)files;
	c->batch_notify = notify && (!strcmp(notify, "1") || !strcmp(notify, "true"));
	return 0;
}

void tus_batch_cancelled(struct kd_db *db, int64_t user, json_t *meta)
{
	struct cat_clip_new c = {0};
	char err[KD_ERRMSG_MAX] = "";
	if (tus_batch_meta(meta, &c, err, sizeof err) < 0 || !c.batch)
		return;
	/* (a failure costs the uploader only a late mail) */
	if (outbox_batch_attach(db, user, c.batch, c.batch_size, c.batch_notify, 0, err,
	                        sizeof err) < 0)
		log_warn("tus", "upload batch %s: cannot count off a cancelled upload: %s", c.batch,
		         err);
}

int tus_clip_meta(struct kd_db *db, const char *default_consent, json_t *meta,
                  const struct kd_user *uploader, struct tus_clip_meta *m, char *err,
                  size_t errlen)
{
	memset(m, 0, sizeof *m);
	const char *filename = meta_str(meta, "filename");
	const char *title = meta_str(meta, "title");
	if (!title && filename) {
		const char *base = strrchr(filename, '/');
		base = base ? base + 1 : filename;
		const char *dot = strrchr(base, '.');
		m->title = kd_strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
		for (char *p = m->title; *p; p++)
			if (*p == '_' || (unsigned char)*p < 0x20)
				*p = ' ';
		title = m->title;
	}
	struct cat_clip_new *c = &m->c;
	c->title = title ? title : "Untitled clip";
	c->description = meta_str(meta, "description");
	c->school = meta_str(meta, "school");
	c->teacher = meta_str(meta, "teacher");
	c->grade = meta_str(meta, "grade");
	c->subject = meta_str(meta, "subject");
	c->recorded_on = meta_str(meta, "recorded");
	c->consent = meta_str(meta, "consent");
	if (!c->consent)
		c->consent = default_consent;
	c->visibility = meta_str(meta, "visibility");
	c->original_name = filename;
	c->uploader_id = uploader->id;
	c->viewer = uploader;
	if (tus_batch_meta(meta, c, err, errlen) < 0) /* issue 16 */
		return KD_EINVAL;
	if (split_list(meta_str(meta, "practices"), &m->practices) < 0 ||
	    split_list(meta_str(meta, "tags"), &m->tags) < 0) {
		snprintf(err, errlen, "too many practices or tags (at most %d practices, %d tags)",
		         CAT_PRACTICES_MAX, CAT_TAGS_MAX);
		return KD_EINVAL;
	}
	c->practices = m->practices.items;
	c->n_practices = m->practices.n;
	c->tags = m->tags.items;
	c->n_tags = m->tags.n;
	if (!c->n_practices) {
		char *known = cat_practice_slugs(db);
		snprintf(err, errlen, "say which practices the clip shows: add 'practices' to "
		         "Upload-Metadata (known: %s)", known);
		free(known);
		return KD_EINVAL;
	}
	int rc = cat_clip_new_check(db, c, err, errlen);
	int64_t school_id = 0;
	if (rc == 0 && (rc = cat_school_id(db, c->school, &school_id)) == 0 &&
	    !cat_may_file_at(uploader, school_id)) {
		snprintf(err, errlen, "a coach uploads clips of their own school (%s), not of %s; "
		         "ask an admin to file clips at another school",
		         uploader->school[0] ? uploader->school : "none", c->school);
		rc = KD_EPERM;
	}
	return rc;
}

void tus_clip_meta_free(struct tus_clip_meta *m)
{
	free(m->practices.copy);
	free(m->tags.copy);
	free(m->title);
}

static void set_paths(const char *data_dir, struct tus_upload *u)
{
	u->dir = paths_upload_dir(data_dir, u->id);
	u->data_path = kd_asprintf("%s/data", u->dir);
	u->info_path = kd_asprintf("%s/info.json", u->dir);
	u->hash_path = kd_asprintf("%s/sha256", u->dir);
}

void tus_upload_free(struct tus_upload *u)
{
	free(u->dir);
	free(u->data_path);
	free(u->info_path);
	free(u->hash_path);
	json_decref(u->info);
	memset(u, 0, sizeof *u);
}

int tus_upload_save(struct tus_upload *u)
{
	char *text = json_dumps(u->info, JSON_COMPACT);
	if (!text)
		return KD_ENOMEM;
	int rc = kd_write_file_atomic(u->info_path, text, strlen(text));
	free(text);
	return rc;
}

int tus_upload_create(const char *data_dir, int64_t user, uint64_t length, json_t *meta,
                      struct tus_upload *u)
{
	memset(u, 0, sizeof *u);
	unsigned char raw[TUS_ID_LEN / 2];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(u->id, sizeof u->id, raw, sizeof raw);
	set_paths(data_dir, u);
	u->user = user;
	u->length = length;
	u->info = json_pack("{sI sI so sI sn}", "user", (json_int_t)user, "length",
	                    (json_int_t)length, "meta", meta, "created", (json_int_t)time(NULL),
	                    "clip");
	int fd = -1;
	if (!u->info || kd_mkdirs(u->dir, 0750) < 0 || tus_upload_save(u) < 0 ||
	    (fd = open(u->data_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
		int e = errno;
		kd_remove_tree(u->dir);
		errno = e;
		return KD_EIO;
	}
	close(fd);
	return 0;
}

int tus_upload_load(const char *data_dir, const char *id, struct tus_upload *u)
{
	memset(u, 0, sizeof *u);
	if (strlen(id) != TUS_ID_LEN || strspn(id, "0123456789abcdef") != TUS_ID_LEN)
		return KD_ENOTFOUND;
	memcpy(u->id, id, TUS_ID_LEN + 1);
	set_paths(data_dir, u);
	char *text;
	if (kd_read_file(u->info_path, INFO_MAX, &text, NULL) < 0) {
		tus_upload_free(u);
		return KD_ENOTFOUND;
	}
	u->info = json_loads(text, 0, NULL);
	free(text);
	json_t *user = json_object_get(u->info, "user"), *length = json_object_get(u->info, "length");
	if (!json_is_integer(user) || !json_is_integer(length) || json_integer_value(length) <= 0) {
		tus_upload_free(u);
		return KD_ENOTFOUND;
	}
	u->user = json_integer_value(user);
	u->length = (uint64_t)json_integer_value(length);
	u->clip = json_integer_value(json_object_get(u->info, "clip"));
	struct stat st;
	if (u->clip)
		u->offset = u->length;
	else
		u->offset = stat(u->data_path, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

int tus_upload_set_clip(struct tus_upload *u, int64_t clip)
{
	u->clip = clip;
	u->offset = u->length;
	json_object_set_new(u->info, "clip", json_integer(clip));
	return tus_upload_save(u);
}

int tus_hash_resume(const struct tus_upload *u, struct kd_sha256 *h)
{
	uint64_t from = 0;
	char *text = NULL;
	h->ctx = NULL;
	if (kd_read_file(u->hash_path, KD_SHA256_STATE_MAX, &text, NULL) == 0) {
		text[strcspn(text, "\n")] = '\0';
		/* A state further than the file: the bytes it hashed were lost in a
		 * crash that kept the state (its write is not synced). */
		if (kd_sha256_restore(h, text, &from) == 0 && from > u->offset) {
			kd_sha256_abort(h);
			from = 0;
		}
		free(text);
	}
	if (!h->ctx && kd_sha256_init(h) < 0)
		return KD_ENOMEM;
	if (from == u->offset)
		return 0;
	/* Normally the last few bytes of a block; more after a restart. */
	if (u->offset - from > (1u << 20))
		log_info("tus", "upload %s: reading %" PRIu64 " bytes again for its SHA-256", u->id,
		         u->offset - from);
	int fd = open(u->data_path, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? KD_EIO : kd_sha256_fd(h, fd, from, u->offset - from);
	if (fd >= 0) {
		int e = errno;
		close(fd);
		errno = e;
	}
	if (rc < 0)
		kd_sha256_abort(h);
	return rc;
}

/*
 * Written to a temporary name and renamed, never half a line, but not
 * synced: the state only spares reading the file again.  After a crash the
 * file has at least the bytes the surviving state covers (the data is
 * synced at the end of each PATCH, before the state is saved; in between,
 * the file system does not keep a size past data it lost), and a state
 * past the end of the file is thrown away.
 */
int tus_hash_save(const struct tus_upload *u, const struct kd_sha256 *h)
{
	char text[KD_SHA256_STATE_MAX + 1];
	kd_sha256_save(h, text);
	size_t len = strlen(text);
	text[len++] = '\n';
	/* One transfer of an upload at a time (tus.c holds a lock): the
	 * temporary name is the upload's own. */
	char *tmp = kd_asprintf("%s.tmp", u->hash_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	int rc = KD_EIO;
	if (fd >= 0) {
		ssize_t n = write(fd, text, len);
		if (close(fd) == 0 && n == (ssize_t)len && rename(tmp, u->hash_path) == 0)
			rc = 0;
	}
	if (rc < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return rc;
}

int tus_expire(const struct kd_config *cfg, unsigned max_age_s)
{
	char *root = paths_uploads_dir(cfg->data_dir);
	DIR *d = opendir(root);
	if (!d) {
		free(root);
		return KD_EIO;
	}
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != TUS_ID_LEN)
			continue;
		char *dir = kd_path_join(root, e->d_name);
		char *data = kd_path_join(dir, "data");
		char *info = kd_path_join(dir, "info.json");
		struct stat st;
		/* The age of an upload is the time since bytes last arrived. */
		/* (a folder with neither: a creation cut short by a crash) */
		time_t touched = stat(data, &st) == 0   ? st.st_mtime
		                 : stat(info, &st) == 0 ? st.st_mtime
		                 : stat(dir, &st) == 0  ? st.st_mtime : 0;
		if (touched && now - touched > (time_t)max_age_s) {
			log_info("tus", "removing upload %s: untouched for %ld hours", e->d_name,
			         (long)((now - touched) / 3600));
			kd_remove_tree(dir);
		}
		free(dir);
		free(data);
		free(info);
	}
	closedir(d);
	free(root);
	return 0;
}

int tus_pending(const char *data_dir, int64_t user, uint64_t *bytes, unsigned *of_user)
{
	*bytes = 0;
	*of_user = 0;
	char *root = paths_uploads_dir(data_dir);
	DIR *d = opendir(root);
	free(root);
	if (!d)
		return KD_EIO;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct tus_upload u;
		if (strlen(e->d_name) != TUS_ID_LEN || tus_upload_load(data_dir, e->d_name, &u) < 0)
			continue;
		if (!u.clip) {
			*bytes += u.length > u.offset ? u.length - u.offset : 0;
			if (u.user == user)
				(*of_user)++;
		}
		tus_upload_free(&u);
	}
	closedir(d);
	return 0;
}
