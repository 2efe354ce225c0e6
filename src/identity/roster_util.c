/* roster_util.c - the small pieces the roster import's plan and its
 * writing share: text as the catalogue takes it (cleaned, cut, folded,
 * slugs) and a string map (roster_util.h). */
#include "identity/roster_util.h"

#include <stdlib.h>
#include <string.h>

#include "kindling/mem.h"

/* ------------------------------------------------------------------ strings */

char *roster_dup_or_null(const char *s)
{
	return s ? kd_strdup(s) : NULL;
}

void roster_lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* The key under which both engines find s whatever its case (the
 * catalogue's names and addresses are unique without regard to case). */
char *roster_fold(const char *s)
{
	char *k = kd_strdup(s);
	roster_lower_ascii(k);
	return k;
}

bool roster_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* s cut to at most max characters (not bytes), on a character boundary. */
void roster_cut_chars(char *s, size_t max)
{
	size_t chars = 0;
	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue;
		if (chars++ == max) {
			*p = '\0';
			return;
		}
	}
}

/* A copy of s with control characters as spaces, runs of spaces as one,
 * and none around it. */
char *roster_clean(const char *s)
{
	char *out = kd_malloc(strlen(s) + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p < 0x20 || *p == 0x7F ? ' ' : *p;
		if (c == ' ' && (o == out || o[-1] == ' '))
			continue;
		*o++ = (char)c;
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	return out;
}

/* The rule users.h states for an e-mail address: 3 to 254 printable
 * characters without spaces, one '@' between a local part and a domain. */
bool roster_email_ok(const char *e)
{
	size_t n = strlen(e);
	const char *at = strchr(e, '@');
	if (n < 3 || n > 254 || !at || at == e || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const unsigned char *p = (const unsigned char *)e; *p; p++)
		if (*p <= 0x20 || *p == 0x7F)
			return false;
	return true;
}

/* Latin-1 letters (UTF-8 C3 80..BF) as ASCII, for slugs. */
static const char *const latin1[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};

/* s as a slug (lower-case a-z, 0-9 and single '-', at most SLUG_MAX) into
 * out (SLUG_MAX + 1); "" when nothing of s is left. */
void roster_slugify(const char *s, char *out)
{
	size_t n = 0;
	bool dash = false;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && n < SLUG_MAX) {
		char one[2] = {0};
		const char *as = NULL;
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
			one[0] = (char)*p++;
			as = one;
		} else if (*p >= 'A' && *p <= 'Z') {
			one[0] = (char)(*p++ - 'A' + 'a');
			as = one;
		} else if (*p == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF) {
			as = latin1[p[1] - 0x80];
			p += 2;
		} else {
			p++;
			while ((*p & 0xC0) == 0x80)
				p++;
		}
		if (!as || !*as) {
			dash = true;
			continue;
		}
		if (dash && n)
			out[n++] = '-';
		dash = false;
		for (; *as && n < SLUG_MAX; as++)
			out[n++] = *as;
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

bool roster_has_letter(const char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			return true;
	return false;
}

/* ------------------------------------------------------------------ a string map */


static size_t hash(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

int smap_get(const struct smap *m, const char *key)
{
	if (!m->cap)
		return -1;
	for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->k[i])
			return -1;
		if (!strcmp(m->k[i], key))
			return m->v[i];
	}
}

void smap_put(struct smap *m, const char *key, int v)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct smap bigger = {kd_calloc(m->cap ? m->cap * 2 : 64, sizeof(char *)),
		                      kd_calloc(m->cap ? m->cap * 2 : 64, sizeof(int)),
		                      m->cap ? m->cap * 2 : 64, m->n};
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->k[i])
				continue;
			size_t j = hash(m->k[i]) & (bigger.cap - 1);
			while (bigger.k[j])
				j = (j + 1) & (bigger.cap - 1);
			bigger.k[j] = m->k[i];
			bigger.v[j] = m->v[i];
		}
		free(m->k);
		free(m->v);
		*m = bigger;
	}
	size_t i = hash(key) & (m->cap - 1);
	while (m->k[i] && strcmp(m->k[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	if (!m->k[i]) {
		m->k[i] = kd_strdup(key);
		m->n++;
	}
	m->v[i] = v;
}

/* The same, without regard to (ASCII) case. */
int smap_iget(const struct smap *m, const char *key)
{
	char *k = roster_fold(key);
	int v = smap_get(m, k);
	free(k);
	return v;
}

void smap_iput(struct smap *m, const char *key, int v)
{
	char *k = roster_fold(key);
	smap_put(m, k, v);
	free(k);
}

void smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->k[i]);
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof *m);
}
