/* smtp.c - one message to one recipient through libcurl's SMTP (mail.h):
 * STARTTLS required on smtp:// (but tried only, on the loopback, where a
 * test or a local relay listens), TLS from the start on smtps://; what
 * went wrong said in the server's words and sorted into "try again later"
 * and "refused for good". */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kindling/err.h"
#include "kindling/mail.h"
#include "kindling/mem.h"

/* Seconds to connect (and be greeted): a server that does not answer by
 * then is down for this try. */
#define CONNECT_TIMEOUT_S 20
/* The last reply line kept for the log. */
#define REPLY_MAX 300

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct upload {
	const struct kd_buf *data;
	size_t off;
	int (*handed)(void *arg);
	void *arg;
	bool was_handed;
	bool handed_failed;
	char reply[REPLY_MAX]; /* the server's last line that was not a 2xx or 3xx */
	bool (*cancel)(void *arg);
	void *cancel_arg;
};

static size_t read_cb(char *to, size_t size, size_t nmemb, void *p)
{
	struct upload *u = p;
	size_t room = size * nmemb, left = u->data->len - u->off;
	if (left > 0) {
		size_t n = left < room ? left : room;
		memcpy(to, u->data->data + u->off, n);
		u->off += n;
		return n;
	}
	/* Every byte is with libcurl, which now ends the DATA: from here a
	 * crash may leave the message delivered, so that is recorded before
	 * the end is sent.  If it cannot be recorded, the end is not sent and
	 * the server discards what it has. */
	if (!u->was_handed && !u->handed_failed) {
		if (u->handed && u->handed(u->arg) < 0) {
			u->handed_failed = true;
			return CURL_READFUNC_ABORT;
		}
		u->was_handed = true;
	}
	return 0;
}

/* The server's replies come as "header" lines in libcurl's debug stream:
 * the last 4xx or 5xx is what a failure is about (a 221 to QUIT follows
 * it).  What kindling sends, AUTH included, is never kept. */
static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *p)
{
	(void)h;
	struct upload *u = p;
	if (type != CURLINFO_HEADER_IN || size < 3 || (data[0] != '4' && data[0] != '5'))
		return 0;
	size_t n = size < REPLY_MAX - 1 ? size : REPLY_MAX - 1;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n; i++)
		u->reply[i] = (unsigned char)data[i] < 0x20 || data[i] == 0x7f ? ' ' : data[i];
	u->reply[n] = '\0';
	return 0;
}

static int progress_cb(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	struct upload *u = p;
	/* once handed, the server's answer is waited for: it says whether
	 * the message was taken */
	return !u->was_handed && u->cancel && u->cancel(u->cancel_arg);
}

/* Is the URL's host this machine? */
static bool loopback(const char *url)
{
	const char *h = strstr(url, "://");
	if (!h)
		return false;
	h += 3;
	size_t n = *h == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
	return (n == 9 && !strncmp(h, "127.0.0.1", 9)) || (n == 9 && !strncmp(h, "localhost", 9)) ||
	       (n == 5 && !strncmp(h, "[::1]", 5));
}

int smtp_send(const struct smtp_settings *s, const char *from_addr, const char *rcpt,
              const struct kd_buf *data, int (*handed)(void *arg), void *arg,
              bool *was_handed, char *err, size_t errlen)
{
	*was_handed = false;
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return KD_EAGAIN;
	}
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return KD_EAGAIN;
	}
	struct upload u = {.data = data, .handed = handed, .arg = arg, .cancel = s->cancel,
	                   .cancel_arg = s->cancel_arg};
	char from[300], to[300], curl_err[CURL_ERROR_SIZE] = "";
	snprintf(from, sizeof from, "<%s>", from_addr);
	snprintf(to, sizeof to, "<%s>", rcpt);
	struct curl_slist *rcpts = curl_slist_append(NULL, to);
	bool smtps = !strncmp(s->url, "smtps://", 8);
	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &u);
	/* (no CURLOPT_INFILESIZE: with it libcurl stops reading at that many
	 * bytes, and read_cb would never hear that the last was taken) */
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &u);
	/* A password never crosses the network in clear: STARTTLS is required
	 * unless the server is this machine. */
	curl_easy_setopt(h, CURLOPT_USE_SSL,
	                 smtps || !loopback(s->url) ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	if (s->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
	if (s->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, s->password ? s->password : "");
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, s->timeout_s > 0 ? s->timeout_s : 120L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L); /* (only to debug_cb, which keeps the replies) */
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, &u);

	CURLcode res = curl_easy_perform(h);
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(h);
	*was_handed = u.was_handed;
	if (res == CURLE_OK)
		return 0;
	const char *words = *u.reply ? u.reply : *curl_err ? curl_err : curl_easy_strerror(res);
	if (res == CURLE_ABORTED_BY_CALLBACK && !u.handed_failed) {
		snprintf(err, errlen, "the sender was stopping");
		return KD_EAGAIN;
	}
	if (u.handed_failed) {
		snprintf(err, errlen, "the catalogue could not record the message as handed over, so "
		         "its end was not sent");
		return KD_EAGAIN;
	}
	if (res == CURLE_LOGIN_DENIED) {
		/* a setting to fix, not a message to give up on */
		snprintf(err, errlen, "the SMTP server refused smtp_user and the password of "
		         "smtp_password_file (%s); fix them, the message is tried again", words);
		return KD_EAGAIN;
	}
	if (res == CURLE_USE_SSL_FAILED) {
		snprintf(err, errlen, "the SMTP server at %s offers no STARTTLS, which kindling requires "
		         "(use smtps:// if it speaks TLS from the start)", s->url);
		return KD_EAGAIN;
	}
	if (code >= 500 && code <= 599) {
		snprintf(err, errlen, "the SMTP server refused it: %s", words);
		return KD_EPERM;
	}
	if (code >= 400 && code <= 499) {
		/* an answer, even to the last byte: the server did not take it,
		 * so it is not "handed" any more and may be sent again */
		*was_handed = false;
		snprintf(err, errlen, "the SMTP server said to try later: %s", words);
	}
	else if (res == CURLE_PEER_FAILED_VERIFICATION || res == CURLE_SSL_CONNECT_ERROR ||
	         res == CURLE_SSL_CACERT_BADFILE)
		snprintf(err, errlen, "TLS with %s failed: %s (is smtp_ca_file the CA that signed "
		         "its certificate?)", s->url, *curl_err ? curl_err : curl_easy_strerror(res));
	else
		snprintf(err, errlen, "cannot send through %s: %s", s->url,
		         *curl_err ? curl_err : curl_easy_strerror(res));
	return KD_EAGAIN;
}
