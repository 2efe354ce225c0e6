/* blur_file.c - a clip's blur regions, from the catalogue to the folder
 * its worker reads (jobs.h): the worker has no catalogue. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/fs.h"
#include "kindling/jobs.h"
#include "kindling/paths.h"

int jobs_blur_prepare(struct kd_db *db, const char *data_dir, int64_t clip, char *err,
                      size_t errlen)
{
	struct cat_blur_region *r;
	size_t n;
	int64_t rev;
	int rc = cat_blur_list(db, clip, &r, &n, &rev);
	if (rc == KD_ENOTFOUND)
		return 0; /* deleted meanwhile: the worker finds nothing to do */
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the clip's blur regions from the catalogue");
		return rc;
	}
	char *path = paths_clip_blur_file(data_dir, clip);
	if (rev == 0 && n == 0) {
		/* never blurred: no file, and the worker makes what it always did */
		rc = unlink(path) == 0 || errno == ENOENT ? 0 : KD_EIO;
		if (rc < 0)
			snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
		free(path);
		free(r);
		return rc;
	}
	json_t *regions = json_array();
	for (size_t i = 0; i < n; i++)
		if (!strcmp(r[i].state, "applied"))
			json_array_append_new(regions,
			                      json_pack("{sf sf sf sf sf sf}", "from_s", r[i].from_s,
			                                "to_s", r[i].to_s, "x", r[i].x, "y", r[i].y, "w",
			                                r[i].w, "h", r[i].h));
	json_t *o = json_pack("{sI so}", "rev", (json_int_t)rev, "regions", regions);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(r);
	if (!text) {
		free(path);
		snprintf(err, errlen, "out of memory writing the blur regions");
		return KD_ENOMEM;
	}
	char *dir = paths_clip_dir(data_dir, clip);
	rc = kd_mkdirs(dir, 0750) == 0 ? kd_write_file_atomic(path, text, strlen(text)) : KD_EIO;
	if (rc < 0)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	free(dir);
	free(text);
	free(path);
	return rc;
}
