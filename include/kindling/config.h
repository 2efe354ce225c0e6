/*
 * config.h - where kindling's settings come from.
 *
 * Each setting is taken from the first of: a command-line flag, the
 * environment (KINDLING_DATA, KINDLING_LISTEN, KINDLING_NODE), the optional file
 * kindling.conf in the data folder, and the built-in default.
 *
 * kindling.conf holds "key = value" lines; '#' starts a comment.  Keys:
 *   listen              HOST:PORT to serve on (default 127.0.0.1:8080)
 *   http_threads        request threads (default: number of cores, 2..64)
 *   connection_timeout  seconds an idle connection is kept (default 30)
 *   max_body_kb         largest JSON request body (default 1024)
 *   workers             concurrent processing workers (default: cores)
 *   default_consent     on-file or pending (default on-file)
 *   job_timeout         seconds one clip may take to process (default 1800)
 *   job_memory_mb       address space of a processing worker (default 4096)
 *   upload_max_mb       largest upload accepted (default 8192)
 *   upload_expiry_hours an unfinished upload untouched this long is removed
 *                       (default 48)
 *   trusted_proxies     addresses and ranges of the proxies in front (their
 *                       X-Forwarded-For names the client); default none
 *   connections_per_address  open connections one client address may hold
 *                       (default 64; trusted proxies are not limited)
 *   header_timeout      seconds a request's headers may take in all, and a
 *                       kept-alive connection may wait for the next (10)
 *   disk_reserve_mb     free disk kept for the catalogue and processing:
 *                       uploads that would eat into it are refused (1024)
 *   uploads_per_person  unfinished uploads one person may have (20)
 *   notes_per_day       notes one person may add to one clip a day (30)
 *   answer_cache_mb     memory for whole answers kept for the same person's
 *                       same request (28; 0: none; see web/answers.h)
 *   storage             where media bytes live: s3://BUCKET[/PREFIX] for an
 *                       S3-compatible bucket; absent: the data folder's
 *                       media/ (see storage.h).  Credentials come from the
 *                       environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
 *                       and, for temporary ones, AWS_SESSION_TOKEN
 *   s3_endpoint         http(s)://HOST[:PORT] of an S3-compatible service
 *                       (MinIO, Ceph, ...), addressed path-style; absent: AWS
 *   s3_region           the bucket's region, signed into every request
 *                       (default us-east-1)
 *   media_delivery      with media in object storage: redirect (browsers
 *                       fetch a presigned URL; the default) or proxy (the
 *                       server passes the bytes, for buckets browsers cannot
 *                       reach)
 *   node_name           this machine's name among the nodes sharing a
 *                       catalogue (default: the host name); A-Z a-z 0-9 . _ -
 *   job_lease_seconds   how long a node's hold on a running job lasts
 *                       unless renewed: a job whose node stopped renewing
 *                       it is taken over by another node after this (60)
 *   public_url          the address people reach kindling at, as the
 *                       browser sees it (https://kindling.district.org):
 *                       the identity provider sends people back there
 *   oidc_issuer         the district's OpenID Connect provider
 *                       (https://accounts.google.com, or Entra's
 *                       https://login.microsoftonline.com/TENANT/v2.0);
 *                       with it set, the sign-in page offers its button
 *   oidc_client_id      the client id the provider gave kindling
 *   oidc_client_secret  its secret, or oidc_client_secret_file: a file
 *                       holding it (kept out of kindling.conf)
 *   oidc_name           the button's label: "Sign in with <name>" (default
 *                       "your district account")
 *   oidc_domains        e-mail domains allowed to sign in, comma-separated
 *                       (default: any the provider vouches for)
 *   password_login      true (default) or false: with the provider set,
 *                       false hides the password form and refuses it
 *   metrics_token       a secret (16 to 200 characters, no spaces) that a
 *                       Prometheus scraper sends as its bearer token to
 *                       read /metrics; absent: only admins may read it
 *   audit_months        how long the audit trail keeps an entry: the server
 *                       removes older ones once a day (default 84, seven
 *                       years; at least 12: younger entries are never
 *                       deleted)
 *   retention_months    how long clips are kept (issue 14): a clip whose
 *                       recorded date (else its upload day) is more than
 *                       this many months ago is deleted by `kindling
 *                       retention --apply` and by the server once a day,
 *                       unless under legal hold.  1 to 1200; 0 or absent:
 *                       off (the default), nothing is deleted for its age
 *   require_captions    true or false (default): with true, a clip without
 *                       captions is seen only by its uploader and admins
 *                       (issue 15; catalogue/captions.c)
 *   transcribe_command  a command line (run by /bin/sh, the path of a 16 kHz
 *                       mono WAV file added as its last argument) that
 *                       prints WebVTT captions of it; each processed clip
 *                       with sound and without captions gets them as
 *                       automatic captions (issue 15; jobs/transcribe.c).
 *                       Absent (the default): no transcription
 *   transcribe_timeout  seconds the command may take (default 600, 10 to
 *                       86400); past it, it is killed and the clip stays
 *                       without captions
 *   smtp_url            issue 16: the SMTP server mail goes through:
 *                       smtp://HOST[:PORT] (STARTTLS required, except on
 *                       127.0.0.1/::1/localhost) or smtps://HOST[:PORT] (TLS
 *                       from the start).  Absent: no mail is queued at all.
 *                       Needs public_url (the links in mail) and mail_from
 *   smtp_user           the account to log in to it with (AUTH), and
 *   smtp_password_file  a file holding its password (kept out of
 *                       kindling.conf; both or neither)
 *   smtp_ca_file        a CA bundle (PEM) to trust for the SMTP server's
 *                       certificate instead of the system's
 *   mail_from           the From of every mail: "kindling <kindling@district.org>"
 *                       or kindling@district.org
 *   digest_day          the weekday the weekly digest goes out (monday ..
 *                       sunday; default monday)
 */
#ifndef KINDLING_CONFIG_H
#define KINDLING_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kindling/net.h"

struct kd_config {
	char *data_dir;        /* the data folder, as given */
	char *db_path;         /* <data_dir>/catalogue.db, or the database setting (postgresql://) */
	char *listen_host;     /* "127.0.0.1", "::1", ... */
	unsigned listen_port;  /* 0 picks a free port */
	int http_threads;
	unsigned connection_timeout;
	size_t max_body;       /* bytes */
	int workers;
	char *default_consent;
	unsigned job_timeout;  /* seconds */
	uint64_t job_memory_mb;
	uint64_t upload_max_mb;
	unsigned upload_expiry_hours;
	struct kd_netlist trusted_proxies;
	unsigned conns_per_address;
	unsigned header_timeout;  /* seconds */
	uint64_t disk_reserve_mb;
	unsigned uploads_per_person;
	unsigned notes_per_day;
	unsigned answer_cache_mb;
	char *storage;         /* "s3://BUCKET[/PREFIX]", or NULL: the data folder */
	char *s3_endpoint;     /* "http://127.0.0.1:9000" (no trailing '/'), or NULL */
	char *s3_region;       /* "us-east-1" */
	bool media_proxy;      /* media_delivery = proxy */
	char *node_name;       /* never NULL after kd_config_load */
	unsigned job_lease_s;
	char *public_url;      /* no trailing '/', or NULL */
	char *oidc_issuer;     /* no trailing '/', or NULL: no single sign-on */
	char *oidc_client_id;
	char *oidc_client_secret; /* read from oidc_client_secret_file when given */
	char *oidc_client_secret_file;
	char *oidc_name;       /* never NULL after kd_config_load */
	char *oidc_domains;    /* "a.org, b.org", or NULL: any */
	bool password_login;
	char *metrics_token;   /* NULL: only admins read /metrics */
	unsigned audit_months; /* 12..1200 */
	unsigned retention_months; /* 0: off, else 1..1200 (retention) */
	/* issue 15: captions: clips without captions are seen only by their
	 * uploader and admins */
	bool require_captions;
	/* issue 15: transcription: the command (NULL: none) and its time */
	char *transcribe_command;
	unsigned transcribe_timeout; /* seconds */
	/* issue 16: mail (src/mail/): smtp_url NULL is no mail */
	char *smtp_url;
	char *smtp_user;
	char *smtp_password;      /* read from smtp_password_file */
	char *smtp_password_file;
	char *smtp_ca_file;
	char *mail_from;
	int digest_day;           /* 0 Sunday .. 6 Saturday, as struct tm's tm_wday */
};

/* Fill cfg from flags (NULL when not given), environment, config file and
 * defaults, in that order of precedence.  Returns 0, or KD_EINVAL / KD_EIO
 * with a message in err.  Free with kd_config_free() in either case. */
int kd_config_load(struct kd_config *cfg, const char *data_flag, const char *listen_flag,
                   char *err, size_t errlen);

/* Parse "HOST:PORT", "[V6]:PORT" or ":PORT".  host is a new string. */
int kd_config_parse_listen(const char *s, char **host, unsigned *port);

/* Split a storage setting "s3://BUCKET[/PREFIX]" into new strings: the
 * bucket, and the prefix without its trailing '/' ("" when none).  Returns
 * 0, or KD_EINVAL with the reason in err (bucket names: 3-63 characters,
 * a-z 0-9 . -; the prefix: folders of A-Z a-z 0-9 . _ -, none starting
 * with '.'). */
int kd_config_parse_storage(const char *url, char **bucket, char **prefix, char *err,
                            size_t errlen);

/* Parse the text of a kindling.conf into cfg (used by kd_config_load). */
int kd_config_parse(struct kd_config *cfg, const char *text, char *err, size_t errlen);

void kd_config_free(struct kd_config *cfg);

/* Create the data folder and its sub-folders if missing. */
int kd_config_prepare_data_dir(const struct kd_config *cfg, char *err, size_t errlen);

#endif
