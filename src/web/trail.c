/* trail.c - audit entries for what a request did (http.h, audit.h): the
 * signed-in person and the client's address go with each. */
#include <stdio.h>

#include "http.h"
#include "kindling/audit.h"
#include "kindling/visits.h"

void req_audit(struct request *req, const char *action, int64_t clip_id, const char *target,
               const char *detail)
{
	char ip[64];
	req_client_address(req, ip, sizeof ip);
	struct audit_actor who = audit_actor_of(req->signed_in ? &req->user : NULL, ip);
	audit_add(req->db, &who, action, clip_id, target, detail);
}

void req_audit_opened(struct request *req, int64_t clip_id)
{
	if (!req->signed_in)
		return;
	char ip[64];
	req_client_address(req, ip, sizeof ip);
	struct audit_actor who = audit_actor_of(&req->user, ip);
	audit_opened(req->db, &who, clip_id);
}

/* ---- issue 14: the audit call sites of sign-in and visits ---- */

void req_audit_signed_in(struct request *req, const struct kd_user *user, const char *how)
{
	char ip[64];
	req_client_address(req, ip, sizeof ip);
	struct audit_actor who = audit_actor_of(user, ip);
	audit_add(req->db, &who, AUDIT_SIGN_IN, 0, "", how);
}

void req_audit_sign_in_failed(struct request *req, const char *name, const char *why)
{
	char ip[64];
	req_client_address(req, ip, sizeof ip);
	audit_sign_in_failed(req->db, ip, name, why);
}

void req_audit_visit_answer(struct request *req, int64_t visit_id)
{
	struct visit v;
	if (visit_get(req->db, NULL, visit_id, &v) < 0) {
		req_audit(req, AUDIT_VISIT_ANSWER, 0, "a visit", "(it could not be read back)");
		return;
	}
	char target[400], detail[200];
	snprintf(target, sizeof target, "visit #%lld of %s to %s", (long long)v.id,
	         v.requester ? v.requester : "?", v.host_school ? v.host_school : "?");
	snprintf(detail, sizeof detail, "%s%s%s", v.status ? v.status : "?", v.date ? " for " : "",
	         v.date ? v.date : "");
	req_audit(req, AUDIT_VISIT_ANSWER, v.clip_id, target, detail);
	visit_free(&v);
}
