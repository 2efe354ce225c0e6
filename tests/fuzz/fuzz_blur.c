/* The blur regions a worker reads come from its clip's folder, which the
 * worker shares with the hostile file it processes: reading them must stay
 * in bounds, and whatever is taken must be regions the media code can use
 * as they are (inside the picture, a time range forward), since a region read
 * wrongly is a face left unblurred. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kindling/jobs.h"
#include "kindling/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media_blur_region *r = NULL;
	size_t n = 0;
	int64_t rev = -1;
	char err[KD_ERRMSG_MAX];
	if (jobs_blur_parse((const char *)data, size, &r, &n, &rev, err, sizeof err) == 0) {
		if (rev < 0 || n > JOBS_BLUR_MAX_REGIONS || (n && !r))
			__builtin_trap();
		for (size_t i = 0; i < n; i++) {
			const struct media_blur_region *g = &r[i];
			if (!isfinite(g->from_s) || !isfinite(g->to_s) || g->from_s < 0 ||
			    g->to_s < g->from_s || g->x < 0 || g->y < 0 || g->w <= 0 || g->h <= 0 ||
			    g->x + g->w > 1.0 + 1e-9 || g->y + g->h > 1.0 + 1e-9)
				__builtin_trap();
		}
	}
	free(r);
	return 0;
}
