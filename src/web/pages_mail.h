/*
 * pages_mail.h - people and their mail in the browser (issue 16,
 * pages_mail.c): the mail part of /account (a switch per kind of mail, the
 * practices followed), the practice page's Follow button, and the page of
 * a mail's one-click unsubscribe link.  Private to src/web/.
 */
#ifndef KINDLING_WEB_PAGES_MAIL_H
#define KINDLING_WEB_PAGES_MAIL_H

#include <stdint.h>

#include "kindling/html.h"
#include "http.h"

/* /account's "E-mail" section (id "mail"): the switches in one form (POST
 * /account/mail), the practices followed, each with a form to stop.  Says
 * plainly when nothing is sent: the server sends no mail, or email (the
 * person's address, "" for none) is empty. */
void page_account_mail(struct html *h, struct request *req, const char *email);
/* The practice page's Follow / Stop following form (POST
 * /practices/{slug}/follow; works without JavaScript). */
void page_follow_button(struct html *h, struct request *req, const char *slug,
                        const char *name);

/* POST /account/mail: the switches (fields "kind", one per kind left on). */
enum MHD_Result page_account_mail_save(struct request *req);
/* POST /practices/{slug}/follow: field "follow" on or off; back to the
 * practice page, or to "next" (a path of this site). */
enum MHD_Result page_practice_follow(struct request *req);
/* GET and POST /mail/unsubscribe?m=ID&s=SECRET: no sign-in (the secret is
 * the proof).  GET shows what the link turns off, with one button, and
 * changes nothing (mail scanners follow links); POST (the button, or a
 * mail client's RFC 8058 one-click "List-Unsubscribe=One-Click") turns
 * that kind of mail off for that person, once: 410 when used already, 404
 * for a link that is not one of ours, 400 for one cut short. */
enum MHD_Result page_unsubscribe_get(struct request *req);
enum MHD_Result page_unsubscribe_post(struct request *req);

/* The link's parts (outbox.h): the message's id, at most 15 digits, and
 * its secret, 32 bytes in base64url without padding. */
#define UNSUB_ID_MAX_DIGITS 15
#define UNSUB_SECRET_LEN 43
/* The link's m and s (query arguments, untrusted; NULL when absent)
 * checked for form: 0 with *id (1 .. 10^15 - 1), or KD_EINVAL for a link
 * cut short or mangled.  Reads the catalogue not at all. */
int page_unsub_link_parse(const char *m, const char *s, int64_t *id);

#endif
