/* s3_mpu.c - multipart uploads on S3: start, parts, list, complete,
 * abort (see backend.h, s3_req.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "keys.h"
#include "kindling/err.h"
#include "kindling/mem.h"
#include "s3_http.h"
#include "xml.h"
#include "s3_req.h"

/* ------------------------------------------------------------ multipart */

int s3_mpu_create(void *impl, const char *key, const char *content_type,
                         char **upload_id, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	s3_req_init(&r, "POST", key);
	s3_req_query(&r, "uploads", "");
	r.content_type = content_type ? content_type : "application/octet-stream";
	r.idempotent = false;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !s3_ok(&resp))
		rc = -1;
	if (rc < 0) {
		rc = s3_fail(s, &resp, "start an upload to", key, err, errlen);
	} else {
		char id[STORAGE_UPLOAD_ID_MAX];
		struct xml_span doc = {resp.body.data, resp.body.len};
		bool ok = xml_text(doc, "UploadId", id, sizeof id) == 0 && *id;
		for (const char *c = id; ok && *c; c++)
			ok = *c > 32 && *c < 127;
		if (ok) {
			*upload_id = kd_strdup(id);
		} else {
			char at[STORAGE_KEY_MAX + 160];
			s3_where(s, key, at, sizeof at);
			snprintf(err, errlen, "cannot start an upload to %s: the object storage at %s "
			         "answered without a usable UploadId", at, s->endpoint);
			rc = KD_EIO;
		}
	}
	s3_response_release(&resp);
	return rc;
}

int s3_mpu_put_part(void *impl, const char *key, const char *upload_id, int number,
                           const void *data, size_t len, char etag[STORAGE_ETAG_MAX],
                           char *err, size_t errlen)
{
	char num[24];
	snprintf(num, sizeof num, "%d", number);
	struct s3_request r;
	s3_req_init(&r, "PUT", key);
	s3_req_query(&r, "partNumber", num);
	s3_req_query(&r, "uploadId", upload_id);
	r.body_kind = S3_MEM_BODY;
	r.body = data;
	r.body_len = len;
	return s3_put_body(impl, key, &r, "upload a part to", etag, err, errlen);
}

int s3_mpu_list_parts(void *impl, const char *key, const char *upload_id,
                             struct storage_part **parts, size_t *n, char *err, size_t errlen)
{
	struct s3 *s = impl;
	*parts = NULL;
	*n = 0;
	size_t alloc = 0;
	char marker[16] = "0";
	int rc = 0;
	for (int page = 0; rc == 0; page++) {
		struct s3_request r;
		s3_req_init(&r, "GET", key);
		s3_req_query(&r, "max-parts", "1000");
		s3_req_query(&r, "part-number-marker", marker);
		s3_req_query(&r, "uploadId", upload_id);
		struct s3_response resp;
		rc = s3_perform(s, &r, &resp);
		if (rc == 0 && !s3_ok(&resp))
			rc = -1;
		if (rc < 0) {
			rc = s3_fail(s, &resp, "list the parts of an upload to", key, err, errlen);
			s3_response_release(&resp);
			break;
		}
		struct xml_span doc = {resp.body.data, resp.body.len}, part;
		size_t pos = 0;
		const char *why = NULL;
		while (!why && xml_next(doc, &pos, "Part", &part)) {
			char num[24], size[24];
			struct storage_part p = {0};
			uint64_t sz = 0;
			char *end;
			if (xml_text(part, "PartNumber", num, sizeof num) < 0 ||
			    xml_text(part, "Size", size, sizeof size) < 0 ||
			    xml_text(part, "ETag", p.etag, sizeof p.etag) < 0) {
				why = "a part without its number, size or ETag";
				break;
			}
			long v = strtol(num, &end, 10);
			errno = 0;
			sz = strtoull(size, NULL, 10);
			if (*end || v < 1 || v > STORAGE_PARTS_MAX || errno ||
			    (*n > 0 && v <= (*parts)[*n - 1].number)) {
				why = "part numbers out of range or order";
				break;
			}
			if (*n >= STORAGE_PARTS_MAX) {
				why = "more than 10,000 parts";
				break;
			}
			p.number = (int)v;
			p.size = sz;
			if (*n == alloc) {
				alloc = alloc ? alloc * 2 : 16;
				*parts = kd_realloc(*parts, alloc * sizeof **parts);
			}
			(*parts)[(*n)++] = p;
		}
		char truncated[8] = "", next[16] = "";
		xml_text(doc, "IsTruncated", truncated, sizeof truncated);
		if (!why && !strcmp(truncated, "true")) {
			/* the next page starts after the last part seen; a marker
			 * that does not move on would loop forever */
			if (xml_text(doc, "NextPartNumberMarker", next, sizeof next) < 0 ||
			    strtol(next, NULL, 10) <= strtol(marker, NULL, 10) || page > STORAGE_PARTS_MAX)
				why = "a page of parts that does not move on";
			else
				memcpy(marker, next, sizeof marker);
		}
		s3_response_release(&resp);
		if (why) {
			char at[STORAGE_KEY_MAX + 160];
			s3_where(s, key, at, sizeof at);
			snprintf(err, errlen, "cannot list the parts of an upload to %s: the object storage "
			         "at %s answered with %s", at, s->endpoint, why);
			rc = KD_EIO;
		} else if (strcmp(truncated, "true")) {
			break;
		}
	}
	if (rc < 0) {
		free(*parts);
		*parts = NULL;
		*n = 0;
	}
	return rc;
}

int s3_mpu_complete(void *impl, const char *key, const char *upload_id,
                           const struct storage_part *parts, size_t n, char *err, size_t errlen)
{
	struct s3 *s = impl;
	struct kd_buf xml = KD_BUF_INIT((size_t)STORAGE_PARTS_MAX * (STORAGE_ETAG_MAX + 100));
	kd_buf_puts(&xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < n; i++) {
		kd_buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].number);
		xml_escape(&xml, parts[i].etag);
		kd_buf_puts(&xml, "</ETag></Part>");
	}
	kd_buf_puts(&xml, "</CompleteMultipartUpload>");
	struct s3_request r;
	s3_req_init(&r, "POST", key);
	s3_req_query(&r, "uploadId", upload_id);
	r.content_type = "application/xml";
	r.body_kind = S3_MEM_BODY;
	r.body = xml.data;
	r.body_len = xml.len;
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && s3_ok(&resp)) {
		/* S3 answers 200 at once and may report a failure inside the body
		 * minutes later: the body must say CompleteMultipartUploadResult */
		struct xml_span doc = {resp.body.data, resp.body.len}, inner;
		size_t pos = 0;
		if (xml_next(doc, &pos, "Error", &inner)) {
			xml_text(inner, "Code", resp.code, sizeof resp.code);
			xml_text(inner, "Message", resp.message, sizeof resp.message);
			resp.status = 500;
			rc = -1;
		}
	} else if (rc == 0) {
		rc = -1;
	}
	if (rc < 0 && resp.attempts > 1 && !strcmp(resp.code, "NoSuchUpload")) {
		/* An attempt before this one may have completed the upload and
		 * lost only its answer: then the object is there. */
		struct storage_stat st;
		char why[KD_ERRMSG_MAX];
		if (s3_stat(s, key, &st, why, sizeof why) == 0)
			rc = 0;
	}
	if (rc < 0)
		rc = s3_fail(s, &resp, "complete an upload to", key, err, errlen);
	s3_response_release(&resp);
	kd_buf_release(&xml);
	return rc;
}

int s3_mpu_abort(void *impl, const char *key, const char *upload_id, char *err,
                        size_t errlen)
{
	struct s3 *s = impl;
	struct s3_request r;
	s3_req_init(&r, "DELETE", key);
	s3_req_query(&r, "uploadId", upload_id);
	struct s3_response resp;
	int rc = s3_perform(s, &r, &resp);
	if (rc == 0 && !s3_ok(&resp) && !(resp.status == 404 && strcmp(resp.code, "NoSuchBucket")))
		rc = -1;
	if (rc < 0)
		rc = s3_fail(s, &resp, "abort an upload to", key, err, errlen);
	s3_response_release(&resp);
	return rc;
}
