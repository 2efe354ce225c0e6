/* sql.c - the small pieces every catalogue file uses with its statements
 * (see catalogue_sql.h). */
#include "catalogue_sql.h"

#include "kindling/captions.h"
#include "kindling/mem.h"

void cat_bind_viewer(struct kd_stmt *st, const struct kd_user *u)
{
	db_bind_int(st, 90, u->role == KD_ROLE_ADMIN);
	db_bind_int64(st, 91, u->id);
	db_bind_int64(st, 92, u->school_id);
	db_bind_int(st, 93, cat_captions_required()); /* issue 15: require_captions */
}

char *cat_col_dup(struct kd_stmt *st, int col)
{
	const unsigned char *t = db_column_text(st, col);
	return t ? kd_strdup((const char *)t) : NULL;
}
