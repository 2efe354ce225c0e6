/* xml.c - the little XML that S3's answers need (see xml.h). */
#include "xml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/buf.h"
#include "kindling/err.h"

/* Where needle (nlen bytes) first occurs in hay from `from`, or SIZE_MAX. */
static size_t find(struct xml_span hay, size_t from, const char *needle, size_t nlen)
{
	if (nlen == 0 || hay.n < nlen)
		return SIZE_MAX;
	for (size_t i = from; i + nlen <= hay.n; i++) {
		const char *hit = memchr(hay.p + i, needle[0], hay.n - nlen + 1 - i);
		if (!hit)
			return SIZE_MAX;
		i = (size_t)(hit - hay.p);
		if (!memcmp(hit, needle, nlen))
			return i;
	}
	return SIZE_MAX;
}

bool xml_next(struct xml_span doc, size_t *pos, const char *name, struct xml_span *inner)
{
	size_t nlen = strlen(name);
	if (nlen == 0 || nlen > 64)
		return false;
	char open[70], close[70];
	open[0] = '<';
	memcpy(open + 1, name, nlen);
	close[0] = '<';
	close[1] = '/';
	memcpy(close + 2, name, nlen);
	close[nlen + 2] = '>';
	for (size_t at = *pos; at < doc.n;) {
		size_t i = find(doc, at, open, nlen + 1);
		if (i == SIZE_MAX)
			return false;
		size_t after = i + nlen + 1;
		if (after >= doc.n)
			return false;
		char c = doc.p[after];
		/* <Key> or <Key attr=...>, not <KeyCount> */
		if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			at = i + 1;
			continue;
		}
		size_t gt = find(doc, after, ">", 1);
		if (gt == SIZE_MAX)
			return false;
		if (doc.p[gt - 1] == '/') { /* <Name/>: empty */
			inner->p = doc.p + gt + 1;
			inner->n = 0;
			*pos = gt + 1;
			return true;
		}
		size_t end = find(doc, gt + 1, close, nlen + 3);
		if (end == SIZE_MAX)
			return false;
		inner->p = doc.p + gt + 1;
		inner->n = end - (gt + 1);
		*pos = end + nlen + 3;
		return true;
	}
	return false;
}

/* Put code point cp into out as UTF-8; false when there is no room or it
 * is not a character XML allows. */
static bool put_utf8(unsigned long cp, char *out, size_t outlen, size_t *o)
{
	char u[4];
	size_t n;
	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (*o + n >= outlen)
		return false;
	memcpy(out + *o, u, n);
	*o += n;
	return true;
}

int xml_text(struct xml_span doc, const char *name, char *out, size_t outlen)
{
	struct xml_span in;
	size_t pos = 0;
	if (outlen == 0)
		return KD_ETOOBIG;
	out[0] = '\0';
	if (!xml_next(doc, &pos, name, &in))
		return KD_ENOTFOUND;
	size_t o = 0;
	for (size_t i = 0; i < in.n; i++) {
		char c = in.p[i];
		if (c == '\0')
			return KD_EINVAL;
		if (c != '&') {
			if (o + 1 >= outlen)
				return KD_ETOOBIG;
			out[o++] = c;
			continue;
		}
		const char *semi = memchr(in.p + i, ';', in.n - i < 12 ? in.n - i : 12);
		if (!semi)
			return KD_EINVAL;
		size_t elen = (size_t)(semi - (in.p + i)) + 1; /* "&amp;" is 5 */
		const char *e = in.p + i + 1;
		unsigned long cp = 0;
		static const struct {
			const char *name;
			char c;
		} named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
		bool known = false;
		for (size_t k = 0; k < sizeof named / sizeof *named && !known; k++)
			if (elen - 2 == strlen(named[k].name) && !memcmp(e, named[k].name, elen - 2)) {
				cp = (unsigned char)named[k].c;
				known = true;
			}
		if (!known && elen > 3 && e[0] == '#') {
			bool x = e[1] == 'x' || e[1] == 'X';
			known = elen > (x ? 4u : 3u);
			for (size_t k = x ? 2 : 1; k < elen - 2 && known; k++) {
				char d = e[k];
				unsigned v = d >= '0' && d <= '9'   ? (unsigned)(d - '0')
				             : x && d >= 'a' && d <= 'f' ? (unsigned)(d - 'a' + 10)
				             : x && d >= 'A' && d <= 'F' ? (unsigned)(d - 'A' + 10)
				                                         : 99u;
				known = v < (x ? 16u : 10u) && cp <= 0x10FFFF;
				cp = cp * (x ? 16 : 10) + v;
			}
		}
		if (!known)
			return KD_EINVAL;
		if (!put_utf8(cp, out, outlen, &o))
			return cp && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) ? KD_ETOOBIG
			                                                                : KD_EINVAL;
		i += elen - 1;
	}
	out[o] = '\0';
	return 0;
}

int xml_escape(struct kd_buf *b, const char *text)
{
	for (const char *s = text; *s; s++) {
		const char *e = *s == '&'    ? "&amp;"
		                : *s == '<'  ? "&lt;"
		                : *s == '>'  ? "&gt;"
		                : *s == '"'  ? "&quot;"
		                : *s == '\'' ? "&apos;"
		                             : NULL;
		int rc = e ? kd_buf_puts(b, e) : kd_buf_putc(b, *s);
		if (rc < 0)
			return rc;
	}
	return 0;
}
