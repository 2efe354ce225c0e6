/*
 * meta.h - the clip metadata flags that `upload` and `ingest` share
 * (--school, --practice, --title ...), parsed once, the same way for both.
 * Private to src/cli/.
 */
#ifndef KINDLING_CLI_META_H
#define KINDLING_CLI_META_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/* getopt_long values of the flags, above any short option a command uses. */
enum {
	META_SCHOOL = 1000, META_PRACTICE, META_TITLE, META_TEACHER, META_GRADE, META_SUBJECT,
	META_RECORDED, META_TAG, META_CONSENT, META_VISIBILITY,
};

/* The entries of a command's struct option table. */
#define META_OPTIONS                                                 \
	{"school", required_argument, NULL, META_SCHOOL},            \
	{"practice", required_argument, NULL, META_PRACTICE},        \
	{"title", required_argument, NULL, META_TITLE},              \
	{"teacher", required_argument, NULL, META_TEACHER},          \
	{"grade", required_argument, NULL, META_GRADE},              \
	{"subject", required_argument, NULL, META_SUBJECT},          \
	{"recorded", required_argument, NULL, META_RECORDED},        \
	{"tag", required_argument, NULL, META_TAG},                  \
	{"consent", required_argument, NULL, META_CONSENT},          \
	{"visibility", required_argument, NULL, META_VISIBILITY}

#define META_USAGE                                                                          \
	"--school SLUG --practice SLUG[,SLUG...] [--title T] [--teacher NAME] [--grade G] "  \
	"[--subject S] [--recorded YYYY-MM-DD] [--tag T]... [--consent on-file|pending] "    \
	"[--visibility district|school|private]"

/* The values given; strings point into argv. */
struct meta_flags {
	const char *school, *practices, *title, *teacher, *grade, *subject, *recorded;
	const char *consent, *visibility;
	const char **tags;
	size_t n_tags;
};

/* Take one getopt_long result: true when opt was a metadata flag. */
bool meta_flag(struct meta_flags *m, int opt, const char *arg);
/* The tags joined by commas, or NULL when there are none; caller frees. */
char *meta_tags_joined(const struct meta_flags *m);
void meta_flags_free(struct meta_flags *m);

#endif
