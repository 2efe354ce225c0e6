/*
 * xml.h - just enough XML to read S3's answers: the text of an element by
 * name, one element after another.  S3's answers are flat records
 * (<Contents><Key>..</Key><Size>..</Size></Contents>...), never nested in
 * themselves, so a scan for "<Name>" ... "</Name>" reads them; a document
 * that is not such a record yields "not found" rather than a guess.  The
 * input comes from the network: every read is bounded by the span given
 * and by the caller's buffer.  Private to src/storage/.
 */
#ifndef KINDLING_STORAGE_XML_H
#define KINDLING_STORAGE_XML_H

#include <stdbool.h>
#include <stddef.h>

/* A piece of a document: not NUL-terminated. */
struct xml_span {
	const char *p;
	size_t n;
};

/* The next element <name> (or <name attr="...">, or <name/>) at or after
 * *pos in doc; its content (between the tags, raw) into inner, and *pos
 * past its end tag.  False when there is none (or it is not closed). */
bool xml_next(struct xml_span doc, size_t *pos, const char *name, struct xml_span *inner);

/* The text of the first <name> in doc, entities decoded (&lt; &gt; &amp;
 * &quot; &apos; &#N; &#xN;), into out (outlen with the terminator).
 * Returns 0, KD_ENOTFOUND, KD_ETOOBIG (longer than out) or KD_EINVAL (a
 * bad entity, or a NUL). */
int xml_text(struct xml_span doc, const char *name, char *out, size_t outlen);

/* Append text to b with & < > " ' as entities.  Returns 0 or KD_ETOOBIG. */
struct kd_buf;
int xml_escape(struct kd_buf *b, const char *text);

#endif
