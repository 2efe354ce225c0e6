/* PATCH /api/v1/clips/{id} bodies: JSON parse, field mapping, validation
 * against a real (in-memory) catalogue. */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "kindling/catalogue.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "web/api.h"

static struct kd_db *db;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[KD_ERRMSG_MAX];
	if (!db) {
		kd_log_set_level(KD_LOG_ERROR);
		if (db_open(":memory:", &db, err, sizeof err) != 0)
			abort();
		cat_school_add(db, "north-high", "North High", "", err, sizeof err);
	}
	json_error_t jerr;
	json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return 0;
	struct clip_edit_json ej;
	if (clip_edit_from_json(v, &ej, err, sizeof err) == 0)
		(void)cat_clip_edit_check(db, &ej.edit, err, sizeof err);
	clip_edit_json_release(&ej);
	json_decref(v);
	return 0;
}
