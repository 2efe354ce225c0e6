/*
 * roster_util.h - what the roster import's files share (private to
 * src/identity/): text as the catalogue takes it, and a map from strings
 * to small integers (open addressing; keys copied, freed by smap_free).
 */
#ifndef KINDLING_IDENTITY_ROSTER_UTIL_H
#define KINDLING_IDENTITY_ROSTER_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define SLUG_MAX 63

/* Keys to an int, -1 meaning none: what the plan looks up by sourcedId,
 * e-mail address, name and slug. */
struct smap {
	char **k;
	int *v;
	size_t cap, n;
};

char *roster_dup_or_null(const char *s);
void roster_lower_ascii(char *s);
char *roster_fold(const char *s);
bool roster_same(const char *a, const char *b);
void roster_cut_chars(char *s, size_t max);
char *roster_clean(const char *s);
bool roster_email_ok(const char *e);
void roster_slugify(const char *s, char *out);
bool roster_has_letter(const char *s);
int smap_get(const struct smap *m, const char *key);
void smap_put(struct smap *m, const char *key, int v);
int smap_iget(const struct smap *m, const char *key);
void smap_iput(struct smap *m, const char *key, int v);
void smap_free(struct smap *m);

#endif
