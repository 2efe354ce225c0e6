/*
 * stored.h - a clip's files between its work folder and object storage.
 * Private to src/jobs/.
 *
 * With media in object storage (storage = s3://...), a clip is processed
 * in its folder of the data folder, as on one machine: the worker, which
 * has no network, reads the original there and writes its outputs there.
 * The runner fetches the original before, and moves everything to the
 * storage after, so that a node keeps nothing of a clip once it is done.
 * With media in the data folder none of this is called: the folder is
 * where the files live.
 */
#ifndef KINDLING_JOBS_STORED_H
#define KINDLING_JOBS_STORED_H

#include <stddef.h>
#include <stdint.h>

#include "kindling/storage.h"

struct kd_db; /* db.h */

/* The clip's original in its work folder: there already (it was just
 * uploaded or ingested here), or fetched from storage.  0, or a KD_E*
 * code with a sentence in err. */
int stored_fetch_original(struct kd_storage *s, const char *data_dir, int64_t clip, char *err,
                          size_t errlen);

/* Every file of the clip in its work folder moved to storage, each under
 * its key (paths.h), all or nothing for the clip (what was stored stays
 * until it is stored again).  The folder is left for stored_done. */
int stored_put_files(struct kd_storage *s, const char *data_dir, int64_t clip, char *err,
                     size_t errlen);

/* The clip is recorded: its work folder goes. */
void stored_done(const char *data_dir, int64_t clip);

/* At a runner's start: the work folders a node that stopped left behind
 * (killed mid-job, or an attempt that failed) go, each once no job of its
 * clip is running and its original is safe in the storage.  Only folders
 * made for a fetched original (marked so) are work folders: an original
 * only here, of a clip still to process, and a data folder's own media
 * before a move are never touched.  Their files are copies
 * of private video: they must not outlive the work. */
void stored_sweep(struct kd_storage *s, struct kd_db *db, const char *data_dir);

#endif
