/* Bearer tokens and session cookies: anything must be refused cleanly,
 * nothing but the real token accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/users.h"

static struct kd_db *db;
static char real[USERS_TOKEN_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!db) {
		char err[KD_ERRMSG_MAX];
		int64_t id;
		kd_log_set_level(KD_LOG_ERROR);
		if (users_init() < 0 || db_open(":memory:", &db, err, sizeof err) != 0 ||
		    users_add(db, "u", KD_ROLE_TEACHER, NULL, NULL, &id, err, sizeof err) != 0 ||
		    users_token_create(db, id, "", real) != 0)
			abort();
	}
	char *token = malloc(size + 1);
	memcpy(token, data, size);
	token[size] = '\0';
	struct kd_user u;
	int rc = users_auth_token(db, token, &u, NULL);
	if (rc == 0 && strcmp(token, real) != 0)
		abort();
	(void)users_auth_session(db, token, &u, NULL, NULL);
	free(token);
	return 0;
}
