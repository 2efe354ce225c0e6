/* sender.c - the background thread that empties the outbox (mail.h): it
 * claims a due message, composes it as its recipient may see things now,
 * hands it to the SMTP server and records what became of it; it retries
 * with growing pauses while the server is down or says "later", gives up
 * on a refusal or after two days; and every round it queues the reminders,
 * the reports of stale upload batches and, on its day, the digests.
 *
 * One thread per process, with a connection of its own.  Several
 * processes (nodes) may send from one catalogue: a message is claimed by
 * one of them (outbox_claim), and one whose sender died is taken up again
 * (outbox_recover) without being sent twice. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kindling/config.h"
#include "kindling/db.h"
#include "kindling/err.h"
#include "kindling/log.h"
#include "kindling/mail.h"
#include "kindling/mem.h"
#include "kindling/outbox.h"

/* How often the outbox is looked at when it is empty (a stop wakes the
 * thread at once). */
#define POLL_S 2
/* A claimed message is this sender's for this long: another node takes it
 * over after (the SMTP exchange is bounded well below it). */
#define LEASE_S 300
#define SMTP_TIMEOUT_S 120
/* Retry pauses: 10 s, doubling, at most 15 minutes; given up two days
 * after it was queued. */
#define RETRY_FIRST_S 10
#define RETRY_MAX_S (15 * 60)
#define GIVE_UP_S (48 * 3600)
/* The round that queues reminders, stale batches and digests. */
#define ROUND_S 60
/* After the catalogue could not be opened. */
#define REOPEN_S 30

struct mail_sender {
	const struct kd_config *cfg;
	char *from_addr; /* the envelope's sender */
	char *host;      /* the Message-ID's right side: public_url's host */
	int round_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
};

/* Wait s seconds, or until stopped: true when stopped. */
static bool wait_s(struct mail_sender *s, unsigned secs)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&s->lock);
	while (!s->stopping && pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
		;
	bool stop = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static bool stopping(struct mail_sender *s)
{
	pthread_mutex_lock(&s->lock);
	bool stop = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static bool stopping_cb(void *arg)
{
	return stopping(arg);
}

/* "YYYY-MM-DDTHH:MM:SSZ" as seconds since 1970; 0 when it is not. */
static int64_t parse_utc(const char *iso)
{
	struct tm tm = {0};
	if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* A day in local time, days from today, as YYYY-MM-DD; its weekday. */
static int local_day(time_t now, int days, char out[11])
{
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_mday += days;
	tm.tm_hour = 12; /* (away from a daylight-saving change at midnight) */
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
	return tm.tm_wday;
}

/* What is due by the calendar: idempotent (the dedupe keys), so every
 * node may do it. */
static void round_due(struct mail_sender *s, struct kd_db *db)
{
	char today[11], tomorrow[11], since[11];
	time_t now = time(NULL);
	int wday = local_day(now, 0, today);
	local_day(now, 1, tomorrow);
	local_day(now, -7, since);
	int rc;
	if ((rc = outbox_reminders_due(db, tomorrow)) < 0)
		log_error("mail", "cannot queue the reminders of the visits on %s: %s", tomorrow,
		          kd_strerror(rc));
	if ((rc = outbox_batches_stale(db)) < 0)
		log_error("mail", "cannot look for upload batches that stopped short: %s",
		          kd_strerror(rc));
	if (wday == s->cfg->digest_day && (rc = outbox_digests_due(db, since, today)) < 0)
		log_error("mail", "cannot queue this week's digests: %s", kd_strerror(rc));
}

struct handed_arg {
	struct kd_db *db;
	int64_t id;
};

static int on_handed(void *p)
{
	struct handed_arg *h = p;
	int rc = outbox_handed(h->db, h->id);
	if (rc < 0)
		log_error("mail", "message %lld: cannot record that it is handed to the SMTP server "
		          "(%s); not finishing it", (long long)h->id, kd_strerror(rc));
	return rc;
}

/* The try failed for now: again later, or given up after two days. */
static void later(struct kd_db *db, const struct outbox_item *it, const char *why)
{
	int64_t now = (int64_t)time(NULL), queued = parse_utc(it->created_at);
	if (queued > 0 && now - queued > GIVE_UP_S) {
		char msg[KD_ERRMSG_MAX + 64];
		snprintf(msg, sizeof msg, "not sent in 48 hours of trying; the last try: %s", why);
		log_error("mail", "message %lld (%s) to user %lld given up: %s", (long long)it->id,
		          mail_kind_name(it->kind), (long long)it->user_id, msg);
		outbox_give_up(db, it->id, false, msg);
		return;
	}
	int shift = it->attempts < 8 ? it->attempts : 8;
	int64_t pause = (int64_t)RETRY_FIRST_S << shift;
	if (pause > RETRY_MAX_S)
		pause = RETRY_MAX_S;
	log_warn("mail", "message %lld (%s) to user %lld: %s; trying again in %lld s",
	         (long long)it->id, mail_kind_name(it->kind), (long long)it->user_id, why,
	         (long long)pause);
	if (outbox_retry(db, it->id, now + pause, why) < 0)
		log_error("mail", "message %lld: cannot put it back in the queue (its lease will "
		          "run out and it is tried again)", (long long)it->id);
}

/* Compose, render and send one claimed message, and record the outcome. */
static void send_one(struct mail_sender *s, struct kd_db *db, const struct outbox_item *it)
{
	const struct kd_config *cfg = s->cfg;
	char why[KD_ERRMSG_MAX] = "";
	if ((unsigned)it->kind >= MAIL_KIND_COUNT) {
		outbox_give_up(db, it->id, false, "unknown kind of mail");
		return;
	}
	/* A fresh one-click secret for this message: only its hash is kept. */
	unsigned char raw[32], hash[32];
	char secret[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(secret, sizeof secret, raw, sizeof raw,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_generichash(hash, sizeof hash, (const unsigned char *)secret, strlen(secret), NULL, 0);
	char *unsub = kd_asprintf("%s/mail/unsubscribe?m=%lld&s=%s", cfg->public_url,
	                          (long long)it->id, secret);
	sodium_memzero(raw, sizeof raw);

	struct mail_message m = {0};
	int rc = mail_compose(db, it, cfg->public_url, unsub, &m, why, sizeof why);
	if (rc == KD_ENOTFOUND) {
		log_info("mail", "message %lld (%s) to user %lld dropped: %s", (long long)it->id,
		         mail_kind_name(it->kind), (long long)it->user_id, why);
		outbox_give_up(db, it->id, true, *why ? why : "nothing left to say");
		goto out;
	}
	if (rc < 0) {
		later(db, it, *why ? why : kd_strerror(rc));
		goto out;
	}
	if ((rc = outbox_set_unsubscribe(db, it->id, hash)) < 0) {
		if (rc == KD_ENOTFOUND)
			log_warn("mail", "message %lld was taken over by another sender", (long long)it->id);
		else
			later(db, it, "cannot record the unsubscribe link");
		goto out;
	}

	unsigned char r[12];
	char hex[25], message_id[300];
	randombytes_buf(r, sizeof r);
	sodium_bin2hex(hex, sizeof hex, r, sizeof r);
	snprintf(message_id, sizeof message_id, "<kindling.%lld.%s@%s>", (long long)it->id, hex,
	         s->host);
	struct mail_envelope env = {.from = cfg->mail_from, .message_id = message_id,
	                            .unsubscribe_url = unsub, .date = time(NULL)};
	struct kd_buf bytes = KD_BUF_INIT(0);
	if ((rc = mail_render(&m, &env, &bytes, why, sizeof why)) < 0) {
		log_error("mail", "message %lld (%s) to user %lld cannot be written: %s",
		          (long long)it->id, mail_kind_name(it->kind), (long long)it->user_id, why);
		outbox_give_up(db, it->id, false, why);
		goto out;
	}
	struct smtp_settings ss = {.url = cfg->smtp_url, .user = cfg->smtp_user,
	                           .password = cfg->smtp_password, .ca_file = cfg->smtp_ca_file,
	                           .timeout_s = SMTP_TIMEOUT_S, .cancel = stopping_cb,
	                           .cancel_arg = s};
	struct handed_arg ha = {db, it->id};
	bool handed = false;
	rc = smtp_send(&ss, s->from_addr, m.to_addr, &bytes, on_handed, &ha, &handed, why,
	               sizeof why);
	kd_buf_release(&bytes);
	if (rc == 0) {
		if (outbox_sent(db, it->id, message_id) < 0)
			log_error("mail", "message %lld was sent but cannot be recorded as sent (it is "
			          "handed, and counted as sent at the next start)", (long long)it->id);
		else
			log_info("mail", "message %lld (%s) to user %lld sent as %s", (long long)it->id,
			         mail_kind_name(it->kind), (long long)it->user_id, message_id);
	} else if (handed && rc != KD_EPERM) {
		/* The server had every byte and then the exchange broke: it may
		 * have kept it.  Mailing twice is worse than possibly once. */
		log_warn("mail", "message %lld (%s) to user %lld was handed to the SMTP server, "
		         "then: %s; it may have arrived, and is not sent again", (long long)it->id,
		         mail_kind_name(it->kind), (long long)it->user_id, why);
		outbox_sent(db, it->id, message_id);
	} else if (rc == KD_EPERM) {
		log_error("mail", "message %lld (%s) to user %lld failed: %s", (long long)it->id,
		          mail_kind_name(it->kind), (long long)it->user_id, why);
		outbox_give_up(db, it->id, false, why);
	} else if (stopping(s)) {
		/* (not a failure of the message: it goes first at the next start) */
		outbox_retry(db, it->id, (int64_t)time(NULL), "the sender stopped before it was sent");
	} else {
		later(db, it, why);
	}
out:
	sodium_memzero(secret, sizeof secret);
	free(unsub);
	mail_message_free(&m);
}

static void *sender_main(void *arg)
{
	struct mail_sender *s = arg;
	const struct kd_config *cfg = s->cfg;
	pid_t pid = getpid();
	struct kd_db *db = NULL;
	bool first = true;
	time_t next_round = 0;
	for (;;) {
		if (!db) {
			char err[KD_ERRMSG_MAX] = "";
			if (db_open(cfg->db_path, &db, err, sizeof err) < 0) {
				log_error("mail", "the mail sender cannot open the catalogue: %s; trying "
				          "again in %d s", err, REOPEN_S);
				if (wait_s(s, REOPEN_S))
					break;
				continue;
			}
		}
		time_t now = time(NULL);
		if (now >= next_round) {
			/* messages of senders that died (this one's own before a
			 * restart), then what the calendar makes due */
			int rc = outbox_recover(db, cfg->node_name, pid, first);
			if (rc < 0)
				log_error("mail", "cannot recover interrupted messages: %s", kd_strerror(rc));
			first = false;
			round_due(s, db);
			next_round = now + s->round_s;
		}
		int rc = 0;
		struct outbox_item it;
		while (!stopping(s) &&
		       (rc = outbox_claim(db, cfg->node_name, pid, (int64_t)time(NULL), LEASE_S, &it)) == 1) {
			send_one(s, db, &it);
			outbox_item_free(&it);
		}
		if (rc < 0) {
			/* (a PostgreSQL connection that broke is opened anew) */
			log_error("mail", "cannot read the outbox: %s", kd_strerror(rc));
			db_close(&db);
		}
		if (wait_s(s, POLL_S))
			break;
	}
	db_close(&db);
	return NULL;
}

/* public_url's host, for Message-IDs. */
static char *host_of(const char *url)
{
	const char *h = url ? strstr(url, "://") : NULL;
	if (!h)
		return kd_strdup("kindling.invalid");
	h += 3;
	size_t n = *h == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
	return n ? kd_strndup(h, n) : kd_strdup("kindling.invalid");
}

int mail_sender_start(const struct kd_config *cfg, struct mail_sender **out)
{
	*out = NULL;
	if (!cfg->smtp_url)
		return 0;
	char *from = mail_address_of(cfg->mail_from);
	if (!from || !cfg->public_url) {
		log_error("mail", "mail_from '%s' is not an address, or public_url is not set: no mail "
		          "is sent", cfg->mail_from ? cfg->mail_from : "");
		free(from);
		return KD_EINVAL;
	}
	struct mail_sender *s = kd_calloc(1, sizeof *s);
	s->cfg = cfg;
	s->from_addr = from;
	s->host = host_of(cfg->public_url);
	s->round_s = ROUND_S;
	const char *env = getenv("KINDLING_MAIL_ROUND_S");
	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);
		if (!*end && v >= 1 && v <= 3600)
			s->round_s = (int)v;
		else
			log_warn("mail", "KINDLING_MAIL_ROUND_S=%s is not 1 to 3600 seconds; the round "
			         "is every %d s", env, ROUND_S);
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &a);
	pthread_condattr_destroy(&a);
	if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
		log_error("mail", "cannot start the mail sender: no thread");
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s->from_addr);
		free(s->host);
		free(s);
		return KD_EIO;
	}
	log_info("mail", "sending mail through %s as %s", cfg->smtp_url, cfg->mail_from);
	*out = s;
	return 0;
}

void mail_sender_stop(struct mail_sender **sp)
{
	struct mail_sender *s = sp ? *sp : NULL;
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->from_addr);
	free(s->host);
	free(s);
	*sp = NULL;
}
