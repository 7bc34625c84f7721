/*
 * SMTP server role (RFC 3207): the backend's greeting and replies go to the
 * client, its EHLO reply with STARTTLS added; STARTTLS is answered here;
 * before TLS only EHLO, HELO, NOOP, RSET and QUIT reach the backend, and
 * nothing offers a login (AUTH) or BDAT chunks.  LMTP (RFC 2033) is the
 * same with LHLO, and without HELO.  Inside TLS a second STARTTLS is
 * refused here and the EHLO reply no longer offers it (RFC 3207 4.2).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,	/* the zeroed state: the backend's greeting
			   is due */
	READY,		/* a client command is due */
	EHLO_REPLY,
	REPLY		/* the reply to a forwarded command */
};

/* Inside TLS: see below. */
struct smtp_in {
	struct cmdq	 q;
	int		 body;		/* the client sends a message */
	unsigned	 rcpts;		/* LMTP: accepted in this transaction */
	struct pbuf	 held;		/* an EHLO reply line, until the next */
};

struct smtp_state {
	int		 state;
	unsigned	 ehlo_lines;	/* lines of the backend's EHLO reply */
	struct smtp_in	 in;		/* inside TLS */
};

static struct smtp_state *
st(struct negotiation *p)
{
	return p->priv;
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

/* Before TLS the EHLO reply offers neither a login nor BDAT chunks. */
static int
hidden_before_tls(struct negotiation *p, const char *kw, size_t len)
{
	if (proto_word_eq(kw, len, "STARTTLS"))
		return 1;
	if (p->cfg.allow_plain)
		return 0;
	return proto_word_eq(kw, len, "CHUNKING") ||
	    proto_word_eq(kw, len, "AUTH") ||
	    (len >= 5 && strncasecmp(kw, "AUTH=", 5) == 0);
}

static void
smtp_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	const char	*kw = s + 4;
	size_t		 kwlen = len > 4 ? len - 4 : 0;
	int		 last = is_last(s, len);

	if (st(p)->state != EHLO_REPLY || strncmp(s, "250", 3) != 0) {
		proto_relay_line(p, out, s, len);
		if (last && st(p)->state != READY) {
			st(p)->state = READY;
			proto_reply_done(p, out);
		}
		return;
	}
	/* The first line names the server; keywords follow. */
	if (st(p)->ehlo_lines++ > 0 && hidden_before_tls(p, kw, kwlen)) {
		if (!last)
			return;
		proto_send_line(p, out, "250 STARTTLS");
	} else if (!last)
		proto_relay_line(p, out, s, len);
	else {
		proto_send_line(p, out, "250-%.*s", (int)kwlen, kw);
		proto_send_line(p, out, "250 STARTTLS");
	}
	if (last) {
		st(p)->state = READY;
		proto_reply_done(p, out);
	}
}

static void
smtp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (proto_word_eq(s, len, "STARTTLS")) {
		if (proto_word_len(s, len) != len) {
			proto_send_line(p, out, "501 5.5.4 Syntax: STARTTLS");
			return;
		}
		proto_send_line(p, out, "220 2.0.0 Ready to start TLS");
		proto_switch_now(p, out);
		return;
	}
	if (proto_word_eq(s, len, hello(p))) {
		st(p)->state = EHLO_REPLY;
		st(p)->ehlo_lines = 0;
	} else if ((proto_word_eq(s, len, "HELO") &&
	    p->cfg.proto == PROTO_SMTP) ||
	    proto_word_eq(s, len, "NOOP") || proto_word_eq(s, len, "RSET") ||
	    proto_word_eq(s, len, "QUIT"))
		st(p)->state = REPLY;
	else if (p->cfg.allow_plain) {
		/* Clear text from here on: this command and all after it. */
		proto_allow_plain(p, out, s, len, s, "STARTTLS");
		return;
	} else {
		proto_send_line(p, out,
		    "530 5.7.0 Must issue a STARTTLS command "
		    "first");
		return;
	}
	proto_forward_line(p, out, s, len);
}

/*
 * Inside TLS, for the whole session: the commands in flight, so that the
 * EHLO reply is known, a message body is not read as commands, and our
 * refusal of a second STARTTLS comes in its turn among the backend's
 * replies.
 */
enum {
	K_OTHER,
	K_EHLO,
	K_DATA,		/* 354: the message comes next */
	K_RCPT,		/* LMTP: one more reply after the message if 2xx */
	K_MAIL,		/* a new transaction: no recipients yet */
	K_MESSAGE,	/* the end of a message: one reply (LMTP: each) */
	K_REFUSED	/* a second STARTTLS: our reply */
};

#define TLS_ACTIVE	"554 5.5.1 Error: TLS already active\r\n"

static void
smtp_free(struct negotiation *p)
{
	struct smtp_in	*in = &st(p)->in;

	free(in->held.data);
}

/* LMTP answers a message once per accepted recipient (RFC 2033 4.2). */
static unsigned
message_replies(struct negotiation *p, struct smtp_in *in)
{
	return p->cfg.proto == PROTO_LMTP && in->rcpts > 1 ? in->rcpts : 1;
}

/* BDAT SIZE [LAST]: its size, and whether it ends the message. */
static size_t
bdat_size(const char *s, size_t len, int *last)
{
	size_t	i = 4, n = 0;

	while (i < len && s[i] == ' ')
		i++;
	for (; i < len && isdigit((unsigned char)s[i]); i++)
		if ((n = n * 10 + (size_t)(s[i] - '0')) > 1000000000)
			return 0;
	while (i < len && s[i] == ' ')
		i++;
	*last = proto_word_eq(s + i, len - i, "LAST");
	return n;
}

static void
client_line(struct negotiation *p, struct smtp_in *in, const char *s,
    size_t len, struct proto_out *out)
{
	size_t	n = proto_line_len(s, len), size;
	int	last = 0;

	if (in->body) {
		inside_pass(p, 1, s, len, out);
		if (n == 1 && s[0] == '.') {
			in->body = 0;
			for (unsigned i = message_replies(p, in); i > 0; i--)
				cmdq_push(p, &in->q, K_MESSAGE, out);
		}
		return;
	}
	if (proto_word_eq(s, n, "STARTTLS")) {
		if (cmdq_head(&in->q) == -1)
			pbuf_str(&out->to_tls, TLS_ACTIVE);
		else
			cmdq_push(p, &in->q, K_REFUSED, out);
		return;
	}
	inside_pass(p, 1, s, len, out);
	if (proto_word_eq(s, n, hello(p)) || proto_word_eq(s, n, "HELO"))
		cmdq_push(p, &in->q, K_EHLO, out);
	else if (proto_word_eq(s, n, "MAIL") || proto_word_eq(s, n, "RSET"))
		cmdq_push(p, &in->q, K_MAIL, out);
	else if (proto_word_eq(s, n, "RCPT"))
		cmdq_push(p, &in->q, K_RCPT, out);
	else if (proto_word_eq(s, n, "DATA"))
		cmdq_push(p, &in->q, K_DATA, out);
	else if (proto_word_eq(s, n, "BDAT")) {
		/* The chunk is data; LMTP answers the last per recipient. */
		size = bdat_size(s, n, &last);
		for (unsigned i = last ? message_replies(p, in) : 1; i > 0;
		    i--)
			cmdq_push(p, &in->q, K_MESSAGE, out);
		inside_raw(p, 1, size);
	} else
		cmdq_push(p, &in->q, K_OTHER, out);
}

/*
 * The EHLO reply without STARTTLS: each line is held until the next shows
 * whether it is the last, since the line dropped may be the last one.
 */
static void
ehlo_line(struct negotiation *p, struct smtp_in *in, const char *s,
    size_t len, int last, struct proto_out *out)
{
	size_t	n = proto_line_len(s, len);

	if (n > 4 && in->held.len > 0 &&
	    proto_word_eq(s + 4, n - 4, "STARTTLS")) {
		if (last)
			in->held.data[3] = ' ';
	} else {
		inside_pass(p, 0, in->held.data, in->held.len, out);
		in->held.len = 0;
		if (!last) {
			pbuf_add(&in->held, s, len);
			return;
		}
		inside_pass(p, 0, s, len, out);
	}
	if (last) {
		inside_pass(p, 0, in->held.data, in->held.len, out);
		free(in->held.data);
		memset(&in->held, 0, sizeof(in->held));
	}
}

static void
backend_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct smtp_in	*in = &st(p)->in;
	int		 code = proto_reply_code(l->head, l->headlen, NULL);
	int		 last = l->headlen < 4 || l->head[3] != '-', kind;

	kind = cmdq_head(&in->q);
	if (code == -1 || kind == -1) {
		/* Not a reply, or not asked for (421 before a close). */
		inside_pass(p, 0, l->s, l->whole ? l->len : 0, out);
		return;
	}
	if (kind == K_EHLO && l->whole)
		ehlo_line(p, in, l->s, l->len, last, out);
	else if (l->whole)
		inside_pass(p, 0, l->s, l->len, out);
	if (!last)
		return;
	if (kind == K_DATA && code == 354)
		in->body = 1;
	else if (kind == K_RCPT && code / 100 == 2)
		in->rcpts++;
	else if (kind == K_MAIL || kind == K_EHLO)
		in->rcpts = 0;
	cmdq_pop(&in->q);
	cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
}

/* A client line inside TLS: one too long to read is a command all the same. */
static void
client_inside(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct smtp_in	*in = &st(p)->in;

	if (l->whole)
		client_line(p, in, l->s, l->len, out);
	else if (!in->body)
		cmdq_push(p, &in->q, K_OTHER, out);	/* too long to read */
}

const struct proto_ops smtp_server_ops = {
	.size = sizeof(struct smtp_state),
	.start = proto_await_backend,
	.line = smtp_line,
	.plain_line = smtp_plain_line,
	.established = proto_watch,
	.inside_tls = client_inside,
	.inside_plain = backend_line,
	.free = smtp_free,
};
