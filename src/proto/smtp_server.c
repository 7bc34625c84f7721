/*
 * SMTP server role (RFC 3207): the backend's greeting and replies go to the
 * client, its EHLO reply with STARTTLS added; STARTTLS is answered here;
 * before TLS only EHLO, HELO, NOOP, RSET and QUIT reach the backend.
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

static void
smtp_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	const char	*kw = s + 4;
	size_t		 kwlen = len > 4 ? len - 4 : 0;
	int		 last = is_last(s, len);

	if (p->state != EHLO_REPLY || strncmp(s, "250", 3) != 0) {
		relay_line(p, out, s, len);
		if (last && p->state != READY && p->state != DATA_BODY) {
			/* 354: the client sends the message next. */
			p->state = p->state == REPLY && p->offered == 354 &&
			    strncmp(s, "354", 3) == 0 ? DATA_BODY : READY;
			p->offered = 0;
			if (p->state == DATA_BODY)
				p->awaiting = 0;
			else
				reply_done(p, out);
		}
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
	if (word_eq(s, len, "EHLO")) {
		p->state = EHLO_REPLY;
		p->reply_lines = 0;
	} else if (word_eq(s, len, "HELO") || word_eq(s, len, "NOOP") ||
	    word_eq(s, len, "RSET") || word_eq(s, len, "QUIT") ||
	    p->cfg.allow_plain) {
		p->state = REPLY;
		/* Remember DATA: its 354 lets the message through. */
		p->offered = word_eq(s, len, "DATA") ? 354 : 0;
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
