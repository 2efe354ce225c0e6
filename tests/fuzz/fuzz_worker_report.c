/* A worker's report crosses from the sandbox, where a hostile file may have
 * taken the worker over: reading it must stay in bounds, and only a
 * well-formed report may be taken. */
#include <stdint.h>
#include <string.h>

#include "kindling/jobs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jobs_result r;
	char err[KD_ERRMSG_MAX];
	if (jobs_result_parse((const char *)data, size, &r, err, sizeof err) == 0) {
		/* what is taken is terminated and was a status a worker reports */
		if (r.status != CAT_READY && r.status != CAT_FAILED)
			__builtin_trap();
		if (strnlen(r.error, sizeof r.error) == sizeof r.error ||
		    strnlen(r.container, sizeof r.container) == sizeof r.container ||
		    /* issue 15: why there are no automatic captions */
		    strnlen(r.transcribe_error, sizeof r.transcribe_error) == sizeof r.transcribe_error)
			__builtin_trap();
		if (r.status == CAT_READY && !r.probed)
			__builtin_trap();
	}
	return 0;
}
