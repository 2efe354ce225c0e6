/* test_sigv4.c - the SigV4 signer and presigner (src/storage/sigv4.h)
 * against AWS's published vectors: the Signature Version 4 test suite
 * (service "service", AKIDEXAMPLE, 20150830T123600Z) and the worked
 * examples of the S3 documentation (examplebucket, AKIAIOSFODNN7EXAMPLE,
 * 20130524T000000Z), header signing and the presigned URL. */
#include <stdio.h>

#include "helpers.h"
#include "kindling/sha256.h"
#include "storage/sigv4.h"

#define MAXKV 8

struct vector {
	const char *name;
	const char *method;
	const char *path;
	struct sigv4_kv query[MAXKV];
	struct sigv4_kv headers[MAXKV];
	const char *body;          /* hashed for the payload; NULL: empty */
	const char *signed_headers;
	const char *signature;
};

static size_t count(const struct sigv4_kv *kv)
{
	size_t n = 0;
	while (n < MAXKV && kv[n].name)
		n++;
	return n;
}

/* Authorization for v under creds and scope, checked against the whole
 * expected header. */
static void check_vector(const struct vector *v, const struct sigv4_creds *c,
                         const char *region, const char *service, const char *date)
{
	char hash[KD_SHA256_HEX];
	struct kd_sha256 h;
	assert_int_equal(kd_sha256_init(&h), 0);
	if (v->body)
		kd_sha256_update(&h, v->body, strlen(v->body));
	kd_sha256_final(&h, hash);

	struct sigv4_request r = {
		.method = v->method, .path = v->path, .query = v->query, .nquery = count(v->query),
		.headers = v->headers, .nheaders = count(v->headers), .payload_hash = hash,
	};
	struct sigv4_scope scope = {.region = region, .service = service};
	snprintf(scope.date, sizeof scope.date, "%s", date);
	struct kd_buf out = KD_BUF_INIT(4096);
	assert_int_equal(sigv4_authorization(&r, c, &scope, &out), 0);
	char want[1024];
	snprintf(want, sizeof want,
	         "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, "
	         "Signature=%s",
	         c->access_key, date, region, service, v->signed_headers, v->signature);
	if (strcmp(kd_buf_str(&out), want))
		fail_msg("%s:\n got  %s\n want %s", v->name, kd_buf_str(&out), want);
	kd_buf_release(&out);
}

#define HOST_DATE {"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}

/* docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, as
 * the AWS SDK for JavaScript v3 carries it (signature-v4/suite.fixture). */
static const struct vector SUITE[] = {
	{"get-vanilla", "GET", "/", {{0}}, {HOST_DATE}, NULL, "host;x-amz-date",
	 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
	{"get-vanilla-empty-query-key", "GET", "/", {{"Param1", "value1"}}, {HOST_DATE}, NULL,
	 "host;x-amz-date", "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
	{"get-vanilla-query-order-key-case", "GET", "/", {{"Param2", "value2"}, {"Param1", "value1"}},
	 {HOST_DATE}, NULL, "host;x-amz-date",
	 "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	{"get-vanilla-query-unreserved", "GET", "/",
	 {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
	   "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}},
	 {HOST_DATE}, NULL, "host;x-amz-date",
	 "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
	{"get-vanilla-utf8-query", "GET", "/", {{"\xe1\x88\xb4", "bar"}}, {HOST_DATE}, NULL,
	 "host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
	{"get-unreserved", "GET",
	 "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", {{0}}, {HOST_DATE},
	 NULL, "host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
	{"get-utf8", "GET", "/\xe1\x88\xb4", {{0}}, {HOST_DATE}, NULL, "host;x-amz-date",
	 "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
	{"get-header-value-trim", "GET", "/", {{0}},
	 {HOST_DATE, {"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\"  "}}, NULL,
	 "host;my-header1;my-header2;x-amz-date",
	 "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
	/* the same name three times: joined with ',' in the order given */
	{"get-header-key-duplicate", "GET", "/", {{0}},
	 {{"My-Header1", "value2"}, HOST_DATE, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
	 NULL, "host;my-header1;x-amz-date",
	 "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
	{"get-header-value-order", "GET", "/", {{0}},
	 {HOST_DATE, {"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"},
	  {"My-Header1", "value2"}},
	 NULL, "host;my-header1;x-amz-date",
	 "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
	{"get-header-value-multiline", "GET", "/", {{0}},
	 {HOST_DATE, {"My-Header1", "value1,value2,value3"}}, NULL, "host;my-header1;x-amz-date",
	 "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790"},
	{"post-vanilla", "POST", "/", {{0}}, {HOST_DATE}, NULL, "host;x-amz-date",
	 "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
	{"post-header-key-case", "POST", "/", {{0}},
	 {{"HOST", "example.amazonaws.com"}, {"x-AMZ-date", "20150830T123600Z"}}, NULL,
	 "host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
	{"post-header-key-sort", "POST", "/", {{0}}, {{"My-Header1", "value1"}, HOST_DATE}, NULL,
	 "host;my-header1;x-amz-date",
	 "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
	{"post-header-value-case", "POST", "/", {{0}}, {HOST_DATE, {"My-Header1", "VALUE1"}}, NULL,
	 "host;my-header1;x-amz-date",
	 "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
	{"post-vanilla-query", "POST", "/", {{"Param1", "value1"}}, {HOST_DATE}, NULL,
	 "host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
	{"post-vanilla-query-nonunreserved", "POST", "/",
	 {{"@#$%^", ""}, {"+", "/,?><`\";:\\|][{}"}}, {HOST_DATE}, NULL, "host;x-amz-date",
	 "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"},
	{"post-vanilla-query-space", "POST", "/", {{"p", ""}}, {HOST_DATE}, NULL, "host;x-amz-date",
	 "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b"},
	{"post-x-www-form-urlencoded", "POST", "/", {{0}},
	 {{"Content-Type", "application/x-www-form-urlencoded"}, HOST_DATE}, "Param1=value1",
	 "content-type;host;x-amz-date",
	 "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
	{"post-x-www-form-urlencoded-parameters", "POST", "/", {{0}},
	 {{"Content-Type", "application/x-www-form-urlencoded; charset=utf8"}, HOST_DATE},
	 "Param1=value1", "content-type;host;x-amz-date",
	 "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
};

static const struct sigv4_creds SUITE_CREDS = {"AKIDEXAMPLE",
                                               "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};

static void aws_test_suite_signatures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof SUITE / sizeof *SUITE; i++)
		check_vector(&SUITE[i], &SUITE_CREDS, "us-east-1", "service", "20150830T123600Z");
}

static void aws_test_suite_canonical_request(void **state)
{
	(void)state;
	/* get-vanilla.creq, and the query of get-vanilla-query-order-key-case */
	struct sigv4_request r = {.method = "GET", .path = "/", .headers = SUITE[0].headers,
	                          .nheaders = 2, .payload_hash = SIGV4_EMPTY_SHA256};
	struct kd_buf canon = KD_BUF_INIT(4096), names = KD_BUF_INIT(256);
	assert_int_equal(sigv4_canonical_request(&r, &canon, &names), 0);
	assert_string_equal(kd_buf_str(&canon),
	                    "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	                    "host;x-amz-date\n"
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(kd_buf_str(&names), "host;x-amz-date");
	kd_buf_release(&canon);
	kd_buf_release(&names);

	struct kd_buf q = KD_BUF_INIT(4096);
	assert_int_equal(sigv4_canonical_query(SUITE[2].query, 2, &q), 0);
	assert_string_equal(kd_buf_str(&q), "Param1=value1&Param2=value2");
	kd_buf_reset(&q);
	/* sorted by encoded name, then value; "uploads" gets its '=' */
	const struct sigv4_kv kv[] = {{"uploads", ""}, {"a", "2"}, {"a", "1"}, {"a-b", "x y"},
	                              {"prefix", "J/k+l"}};
	assert_int_equal(sigv4_canonical_query(kv, 5, &q), 0);
	assert_string_equal(kd_buf_str(&q), "a=1&a=2&a-b=x%20y&prefix=J%2Fk%2Bl&uploads=");
	kd_buf_release(&q);
}

/* docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html */
static const struct sigv4_creds S3_CREDS = {"AKIAIOSFODNN7EXAMPLE",
                                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL};
#define S3_HOST {"Host", "examplebucket.s3.amazonaws.com"}
#define S3_DATE {"x-amz-date", "20130524T000000Z"}
#define EMPTY {"x-amz-content-sha256", SIGV4_EMPTY_SHA256}

static const struct vector S3_EXAMPLES[] = {
	{"GET Object (a range)", "GET", "/test.txt", {{0}},
	 {S3_HOST, {"Range", "bytes=0-9"}, EMPTY, S3_DATE}, NULL,
	 "host;range;x-amz-content-sha256;x-amz-date",
	 "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
	{"PUT Object", "PUT", "/test$file.text", {{0}},
	 {S3_HOST, {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
	  {"x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"},
	  S3_DATE, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
	 "Welcome to Amazon S3.", "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
	 "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
	{"GET Bucket Lifecycle", "GET", "/", {{"lifecycle", ""}}, {S3_HOST, EMPTY, S3_DATE}, NULL,
	 "host;x-amz-content-sha256;x-amz-date",
	 "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
	{"GET Bucket (List Objects)", "GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
	 {S3_HOST, EMPTY, S3_DATE}, NULL, "host;x-amz-content-sha256;x-amz-date",
	 "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
};

static void s3_documentation_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof S3_EXAMPLES / sizeof *S3_EXAMPLES; i++)
		check_vector(&S3_EXAMPLES[i], &S3_CREDS, "us-east-1", "s3", "20130524T000000Z");
}

/* docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html */
static void s3_presigned_url_example(void **state)
{
	(void)state;
	const struct sigv4_kv host[] = {S3_HOST};
	struct sigv4_request r = {.method = "GET", .path = "/test.txt", .headers = host,
	                          .nheaders = 1};
	struct sigv4_scope scope = {.region = "us-east-1", .service = "s3"};
	sigv4_set_time(&scope, 1369353600); /* 2013-05-24T00:00:00Z */
	assert_string_equal(scope.date, "20130524T000000Z");
	struct kd_buf q = KD_BUF_INIT(4096);
	assert_int_equal(sigv4_presign_query(&r, &S3_CREDS, &scope, 86400, &q), 0);
	assert_string_equal(
		kd_buf_str(&q),
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
		"us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
		"X-Amz-SignedHeaders=host&X-Amz-Signature="
		"aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

	/* With a session token and response overrides: the token and the
	 * overrides are signed (in the canonical, sorted query), so the URL
	 * changes when any of them does. */
	const struct sigv4_creds tok = {S3_CREDS.access_key, S3_CREDS.secret_key, "tok/en+=="};
	const struct sigv4_kv over[] = {{"response-content-type", "video/mp4"},
	                                {"response-content-disposition", "attachment; filename=\"a b.mp4\""}};
	r.query = over;
	r.nquery = 2;
	kd_buf_reset(&q);
	assert_int_equal(sigv4_presign_query(&r, &tok, &scope, 60, &q), 0);
	const char *s = kd_buf_str(&q);
	assert_non_null(strstr(s, "&X-Amz-Security-Token=tok%2Fen%2B%3D%3D&X-Amz-SignedHeaders=host&"
	                          "response-content-disposition=attachment%3B%20filename%3D%22a%20b.mp4%22&"
	                          "response-content-type=video%2Fmp4&X-Amz-Signature="));
	assert_int_equal(strlen(strstr(s, "X-Amz-Signature=")), strlen("X-Amz-Signature=") + 64);
	kd_buf_release(&q);
}

static void encoding_is_the_s3_one(void **state)
{
	(void)state;
	struct kd_buf b = KD_BUF_INIT(256);
	const char *s = "a b+c/d~e_f.g-h%\xc3\xa9*!'()";
	assert_int_equal(sigv4_encode(&b, s, strlen(s), true), 0);
	assert_string_equal(kd_buf_str(&b), "a%20b%2Bc/d~e_f.g-h%25%C3%A9%2A%21%27%28%29");
	kd_buf_reset(&b);
	assert_int_equal(sigv4_encode(&b, "a/b", 3, false), 0);
	assert_string_equal(kd_buf_str(&b), "a%2Fb");
	kd_buf_release(&b);
	/* the buffer's cap is honoured */
	struct kd_buf small = KD_BUF_INIT(4);
	assert_int_equal(sigv4_encode(&small, "  ", 2, false), KD_ETOOBIG);
	kd_buf_release(&small);
}

static void bad_requests_are_refused(void **state)
{
	(void)state;
	struct sigv4_scope scope = {.region = "us-east-1", .service = "s3"};
	sigv4_set_time(&scope, 1369353600);
	struct kd_buf out = KD_BUF_INIT(4096);
	/* no host */
	const struct sigv4_kv nohost[] = {S3_DATE};
	struct sigv4_request r = {.method = "GET", .path = "/", .headers = nohost, .nheaders = 1,
	                          .payload_hash = SIGV4_EMPTY_SHA256};
	assert_int_equal(sigv4_authorization(&r, &S3_CREDS, &scope, &out), KD_EINVAL);
	/* a header value that would end the header and start another */
	const struct sigv4_kv inject[] = {S3_HOST, {"x-amz-meta-a", "1\r\nX-Evil: 2"}};
	r.headers = inject;
	r.nheaders = 2;
	assert_int_equal(sigv4_authorization(&r, &S3_CREDS, &scope, &out), KD_EINVAL);
	/* a header name that is not a token */
	const struct sigv4_kv badname[] = {S3_HOST, {"a b", "1"}};
	r.headers = badname;
	assert_int_equal(sigv4_authorization(&r, &S3_CREDS, &scope, &out), KD_EINVAL);
	/* an access key that would break the Credential field */
	const struct sigv4_creds slash = {"AK/ID", "secret", NULL};
	r.headers = inject;
	r.nheaders = 1;
	assert_int_equal(sigv4_authorization(&r, &slash, &scope, &out), KD_EINVAL);
	/* a date that is not one */
	struct sigv4_scope nodate = {.region = "us-east-1", .service = "s3"};
	assert_int_equal(sigv4_authorization(&r, &S3_CREDS, &nodate, &out), KD_EINVAL);
	assert_int_equal(out.len, 0);
	kd_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aws_test_suite_signatures),
		cmocka_unit_test(aws_test_suite_canonical_request),
		cmocka_unit_test(s3_documentation_examples),
		cmocka_unit_test(s3_presigned_url_example),
		cmocka_unit_test(encoding_is_the_s3_one),
		cmocka_unit_test(bad_requests_are_refused),
	};
	return cmocka_run_group_tests_name("sigv4", tests, NULL, NULL);
}
