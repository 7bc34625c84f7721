/*
 * SMTP server role (RFC 3207): the backend's greeting and replies go to the
 * client, its EHLO reply with STARTTLS added; STARTTLS is answered here;
 * before TLS only EHLO, HELO, NOOP, RSET and QUIT reach the backend.  LMTP
 * (RFC 2033) is the same with LHLO, and without HELO.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,	/* the backend's greeting is due */
	READY,		/* a client command is due */
	EHLO_REPLY,
	REPLY,		/* the reply to a forwarded command */
	DATA_BODY	/* --allow-plain: message lines go through */
};

/* The forwarded command (p->offered), for what its reply means. */
enum {
	OTHER,
	DATA,		/* 354: the message comes next */
	RCPT,		/* LMTP: 2xx, one more reply after the message */
	MESSAGE		/* the message's end: p->tag replies in LMTP */
};

static void
smtp_start(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	p->state = GREETING;
	p->awaiting = 1;
}

static int
is_last(const char *s, size_t len)
{
	return len < 4 || s[3] != '-';
}

static const char *
hello(struct negotiation *p)
{
	return p->cfg.proto == PROTO_LMTP ? "LHLO" : "EHLO";
}

/* A reply line for a command that is not EHLO. */
static void
reply_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	relay_line(p, out, s, len);
	if (!is_last(s, len) || p->state == READY || p->state == DATA_BODY)
		return;
	if (p->offered == DATA && strncmp(s, "354", 3) == 0) {
		p->state = DATA_BODY;
		p->awaiting = 0;
		return;
	}
	if (p->offered == RCPT && s[0] == '2')
		p->tag++;
	if (p->offered == MESSAGE && p->cfg.proto == PROTO_LMTP &&
	    p->tag > 1) {
		p->tag--;
		return;
	}
	if (p->offered == MESSAGE)
		p->tag = 0;
	p->state = READY;
	reply_done(p, out);
}

static void
smtp_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	const char	*kw = s + 4;
	size_t		 kwlen = len > 4 ? len - 4 : 0;
	int		 last = is_last(s, len);

	if (p->state != EHLO_REPLY || strncmp(s, "250", 3) != 0) {
		reply_line(p, s, len, out);
		return;
	}
	/*
	 * EHLO: the first line names the server; keywords follow.  Before TLS
	 * CHUNKING is left out, since BDAT chunks are not lines.
	 */
	if (p->reply_lines++ > 0 && (word_eq(kw, kwlen, "STARTTLS") ||
	    word_eq(kw, kwlen, "CHUNKING"))) {
		if (!last)
			return;
		send_line(p, out, "250 STARTTLS");
	} else if (!last)
		relay_line(p, out, s, len);
	else {
		send_line(p, out, "250-%.*s", (int)kwlen, kw);
		send_line(p, out, "250 STARTTLS");
	}
	if (last) {
		p->state = READY;
		reply_done(p, out);
	}
}

static void
smtp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t	n = word_len(s, len);

	if (p->state == DATA_BODY) {
		pbuf_add(&out->to_plain, s, len);
		pbuf_add(&out->to_plain, "\r\n", 2);
		if (len == 1 && s[0] == '.') {
			p->state = REPLY;
			p->offered = MESSAGE;
			p->awaiting = 1;
		}
		return;
	}
	if (word_eq(s, len, "STARTTLS")) {
		if (n != len) {
			send_line(p, out, "501 5.5.4 Syntax: STARTTLS");
			return;
		}
		send_line(p, out, "220 2.0.0 Ready to start TLS");
		switch_now(p, out);
		return;
	}
	/* A new hello, a new transaction or none: no recipients yet. */
	if (word_eq(s, len, hello(p)) || word_eq(s, len, "MAIL") ||
	    word_eq(s, len, "RSET"))
		p->tag = 0;
	p->offered = OTHER;
	if (word_eq(s, len, hello(p))) {
		p->state = EHLO_REPLY;
		p->reply_lines = 0;
	} else if ((word_eq(s, len, "HELO") && p->cfg.proto == PROTO_SMTP) ||
	    word_eq(s, len, "NOOP") || word_eq(s, len, "RSET") ||
	    word_eq(s, len, "QUIT") || p->cfg.allow_plain) {
		p->state = REPLY;
		if (word_eq(s, len, "DATA"))
			p->offered = DATA;
		else if (word_eq(s, len, "RCPT"))
			p->offered = RCPT;
	} else {
		send_line(p, out, "530 5.7.0 Must issue a STARTTLS command "
		    "first");
		return;
	}
	forward_line(p, out, s, len);
}

const struct proto_ops smtp_server_ops = {
	.start = smtp_start,
	.line = smtp_line,
	.plain_line = smtp_plain_line,
};
