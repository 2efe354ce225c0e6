/*
 * upload_extras.h - what `kindling upload` sends with a clip once the
 * server has made it: its captions (--captions FILE, or a lesson.vtt /
 * lesson.srt beside lesson.mp4) and its moments (--moment, repeatable, or
 * the manifest's `moments` column: "0:45-2:10 practice Title; ...").
 * Owner: issue 15, H1.  Private to src/cli/.
 *
 * Both are sent only when the clip is ready, so the server checks their
 * times against the clip's real length (issue15.md, "Timing rule").
 * Moments already on the clip (same times, practice and title) are not
 * added again, so an upload run twice adds each once.
 */
#ifndef KINDLING_CLI_UPLOAD_EXTRAS_H
#define KINDLING_CLI_UPLOAD_EXTRAS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "kindling/err.h"

struct upload_extras {
	char **moments;   /* specs as written, each checked by moment_spec_parse */
	size_t n_moments;
	char *captions;   /* path of the captions file, or NULL */
};

struct extras_result {
	int moments_added;   /* new on the server */
	int moments_present; /* there already */
	bool captions_sent;
	char moments_error[KD_ERRMSG_MAX];  /* "" when every moment is on the clip */
	char captions_error[KD_ERRMSG_MAX]; /* "" when sent (or none to send) */
};

/* Is path a captions file (.vtt, .srt): sent with its video, never as one? */
bool extras_is_captions_name(const char *path);
/* The captions file beside a video (same name, .vtt then .srt), or NULL;
 * the caller frees. */
char *extras_sidecar(const char *video);
/* Check one spec; 0, or KD_EINVAL with err. */
int extras_check_spec(const char *spec, char *err, size_t errlen);

struct cli_files; /* kindling/cli.h */
/* Captions files named on the command line go with their videos (as
 * sidecars), never as videos of their own: take them out of files,
 * saying so on standard error. */
void extras_drop_captions_files(struct cli_files *files);
/* --moment and --captions: for one video (n_files), each spec well formed,
 * the captions file there and named .vtt or .srt.  0, or the exit status
 * (2) after saying why. */
int extras_check_flags(const char *const *specs, size_t n_specs, const char *captions,
                       size_t n_files);

/* A file's extras: specs (from the command line) if any, else the
 * manifest row's `moments` column split at ';'; captions: the flag's file,
 * else the sidecar.  0, or -1 with err naming the bad spec. */
int extras_for(const char *video, const char *const *specs, size_t n_specs,
               const char *captions, json_t *row, struct upload_extras *x, char *err,
               size_t errlen);
bool extras_any(const struct upload_extras *x);
void extras_free(struct upload_extras *x);

/* Send captions, then moments, to the (ready) clip. */
void extras_send(const struct client *c, long long clip, const struct upload_extras *x,
                 struct extras_result *r);
/* Say nothing was sent because of why (the clip failed, ...). */
void extras_not_sent(const struct upload_extras *x, const char *why, struct extras_result *r);

#endif
