/*
 * NNTP server role (RFC 4642, RFC 3977): STARTTLS added to the backend's
 * CAPABILITIES list and answered here; before TLS only CAPABILITIES, MODE
 * READER, HELP, DATE and QUIT reach the backend, the rest (GROUP, ARTICLE,
 * POST, AUTHINFO ...) gets 483.  AUTHINFO is listed without arguments,
 * which says none of its commands is usable now (RFC 4643), SASL not at
 * all, and COMPRESS (RFC 8054) neither: compressed data are not lines.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,
	READY,
	STATUS,		/* the first line of a response */
	LIST		/* CAPABILITIES or HELP, up to "." */
};

static const char *const before_tls[] = {
	"CAPABILITIES", "MODE", "HELP", "DATE", "QUIT", NULL
};

static void
nntp_start(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	p->state = GREETING;
	p->awaiting = 1;
}

static void
caps_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (word_eq(s, len, "STARTTLS"))
		return;		/* ours goes last */
	if (p->cfg.allow_plain)
		relay_line(p, out, s, len);
	else if (word_eq(s, len, "AUTHINFO"))
		send_line(p, out, "AUTHINFO");
	else if (!word_eq(s, len, "SASL") && !word_eq(s, len, "COMPRESS"))
		relay_line(p, out, s, len);
}

static void
nntp_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	switch (p->state) {
	case STATUS:
		relay_line(p, out, s, len);
		/* 100 (HELP) and 101 (CAPABILITIES) have a list (3977 3.1.1). */
		if (len >= 3 && (strncmp(s, "100", 3) == 0 ||
		    strncmp(s, "101", 3) == 0) && (len == 3 || s[3] == ' ')) {
			p->state = LIST;
			return;
		}
		break;
	case LIST:
		if (len == 1 && s[0] == '.') {
			if (p->offered)
				send_line(p, out, "STARTTLS");
			relay_line(p, out, s, len);
			break;
		}
		if (p->offered)
			caps_line(p, s, len, out);
		else
			relay_line(p, out, s, len);
		return;
	default:
		relay_line(p, out, s, len);
		break;
	}
	p->state = READY;
	reply_done(p, out);
}

static void
nntp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	const char *const	*w;
	int			 allowed;

	if (word_eq(s, len, "STARTTLS")) {
		if (word_len(s, len) != len) {
			send_line(p, out, "501 Syntax: STARTTLS");
			return;
		}
		send_line(p, out, "382 Continue with TLS negotiation");
		switch_now(p, out);
		return;
	}
	for (w = before_tls; *w != NULL && !word_eq(s, len, *w); w++)
		;
	/* MODE READER only: MODE STREAM is for feeds (RFC 4644). */
	allowed = *w != NULL && (!word_eq(s, len, "MODE") || (len == 11 &&
	    strncasecmp(s + 4, " READER", 7) == 0));
	if (!allowed) {
		if (!p->cfg.allow_plain) {
			send_line(p, out, "483 Encryption required: issue "
			    "STARTTLS first");
			return;
		}
		forward_line(p, out, s, len);
		fall_back(p, out, "'%.*s' before STARTTLS: --allow-plain, so "
		    "relaying in CLEAR TEXT", (int)word_len(s, len), s);
		return;
	}
	/* p->offered: the list is the capabilities (STARTTLS goes in). */
	p->offered = word_eq(s, len, "CAPABILITIES");
	p->state = STATUS;
	forward_line(p, out, s, len);
}

const struct proto_ops nntp_server_ops = {
	.start = nntp_start,
	.line = nntp_line,
	.plain_line = nntp_plain_line,
};
