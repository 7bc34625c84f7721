/*
 * POP3 server role (RFC 2595): STLS added to the backend's CAPA reply, and
 * no login method (USER, SASL) offered before TLS; STLS answered here;
 * every command but CAPA and QUIT refused before TLS.  Inside TLS a second
 * STLS is refused here and CAPA no longer lists it (RFC 2595 4).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,	/* the zeroed state: the backend greets */
	READY,
	STATUS,		/* the first line of a reply */
	LIST		/* CAPA's list, up to "." */
};

/* Inside TLS: see below. */
struct pop3_in {
	struct cmdq	 q;
	int		 list;		/* the backend sends lines up to "." */
	unsigned	 answers;	/* client lines that answer a
					   challenge */
};

struct pop3_state {
	int		 state;
	int		 capa;		/* the forwarded command is CAPA */
	struct pop3_in	 in;		/* inside TLS */
};

static struct pop3_state *
st(struct negotiation *p)
{
	return p->priv;
}

static void
pop3_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	switch (st(p)->state) {
	case STATUS:
		proto_relay_line(p, out, s, len);
		/* st(p)->capa: the command was CAPA. */
		if (st(p)->capa && len >= 3 && strncmp(s, "+OK", 3) == 0) {
			st(p)->state = LIST;
			return;
		}
		break;
	case LIST:
		if (len == 1 && s[0] == '.') {
			proto_send_line(p, out, "STLS");
			proto_relay_line(p, out, s, len);
			break;
		}
		/* Ours goes last; no login is possible before TLS. */
		if (!proto_word_eq(s, len, "STLS") && (p->cfg.allow_plain ||
		    (!proto_word_eq(s, len, "USER") &&
		    !proto_word_eq(s, len, "SASL"))))
			proto_relay_line(p, out, s, len);
		return;
	default:
		proto_relay_line(p, out, s, len);
		break;
	}
	st(p)->state = READY;
	proto_reply_done(p, out);
}

static void
pop3_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (proto_word_eq(s, len, "STLS")) {
		proto_send_line(p, out, "+OK Begin TLS negotiation");
		proto_switch_now(p, out);
		return;
	}
	/* Before TLS only CAPA and QUIT reach the backend (imap_server.c). */
	if (!proto_word_eq(s, len, "CAPA") && !proto_word_eq(s, len, "QUIT")) {
		if (!p->cfg.allow_plain) {
			proto_send_line(p, out,
			    "-ERR [AUTH] Must issue STLS first");
			return;
		}
		proto_allow_plain(p, out, s, len, s, "STLS");
		return;
	}
	st(p)->capa = proto_word_eq(s, len, "CAPA");
	st(p)->state = STATUS;
	proto_forward_line(p, out, s, len);
}

/*
 * Inside TLS, for the whole session: the commands in flight (PIPELINING,
 * RFC 2449, lets a client send several), so that a multi-line reply is
 * read to its "." as data (a message may hold any line, "+OK" or "STLS"),
 * a client's answers to an AUTH challenge are not read as commands, and
 * our refusal of a second STLS comes in its turn: POP3 replies come in the
 * order of the commands.
 */
enum {
	K_OTHER,	/* one status line */
	K_MULTI,	/* +OK and lines up to "." (RFC 1939, 2449) */
	K_CAPA,		/* the same, without STLS */
	K_AUTH,		/* SASL: "+ " challenges, then a status (RFC 5034) */
	K_REFUSED	/* a second STLS: our reply */
};

#define TLS_ACTIVE	"-ERR TLS already active\r\n"

/* Nothing but the command word (and spaces, which servers ignore). */
static int
no_argument(const char *s, size_t n)
{
	size_t	i = proto_word_len(s, n);

	while (i < n && s[i] == ' ')
		i++;
	return i == n;
}

/*
 * What the reply to a command is made of.  LIST and UIDL with an argument
 * answer one line, without one a list; so do LANG (RFC 6856) and AUTH
 * without a mechanism (Dovecot and others list their mechanisms).
 */
static int
command_kind(const char *s, size_t n)
{
	if (proto_word_eq(s, n, "CAPA"))
		return K_CAPA;
	if (proto_word_eq(s, n, "RETR") || proto_word_eq(s, n, "TOP"))
		return K_MULTI;
	if ((proto_word_eq(s, n, "LIST") || proto_word_eq(s, n, "UIDL") ||
	    proto_word_eq(s, n, "LANG") || proto_word_eq(s, n, "AUTH")) &&
	    no_argument(s, n))
		return K_MULTI;
	if (proto_word_eq(s, n, "AUTH"))
		return K_AUTH;
	return K_OTHER;
}

static void
refuse(struct negotiation *p, struct pop3_in *in, struct proto_out *out)
{
	if (cmdq_head(&in->q) == -1 && inside_at_start(p, 0))
		pbuf_str(&out->to_tls, TLS_ACTIVE);
	else
		cmdq_push(p, &in->q, K_REFUSED, out);
}

static void
client_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct pop3_in	*in = &st(p)->in;
	size_t		 n = l->whole ? proto_line_len(l->s, l->len) :
	    l->headlen;

	if (in->answers > 0) {
		/* An answer to a challenge (or "*"), not a command. */
		in->answers--;
		if (l->whole)
			inside_pass(p, 1, l->s, l->len, out);
		return;
	}
	if (proto_word_eq(l->head, n, "STLS")) {
		if (!l->whole)
			/* It went on already: end the session instead. */
			proto_fail(p, out,
			    "an STLS command longer than %d bytes "
			    "inside TLS", INSIDE_MAX_LINE);
		else
			refuse(p, in, out);
		return;
	}
	if (!l->whole) {
		/* Too long to read: -ERR. */
		cmdq_push(p, &in->q, K_OTHER, out);
		return;
	}
	inside_pass(p, 1, l->s, l->len, out);
	cmdq_push(p, &in->q, command_kind(l->s, n), out);
}

/* +OK, -ERR, or an AUTH challenge ("+ " and base64, or "+" alone). */
enum { NOT_STATUS, OK, ERR, CHALLENGE };

static int
status(const char *s, size_t n)
{
	if (n >= 3 && strncasecmp(s, "+OK", 3) == 0 &&
	    (n == 3 || s[3] == ' '))
		return OK;
	if (n >= 4 && strncasecmp(s, "-ERR", 4) == 0 &&
	    (n == 4 || s[4] == ' '))
		return ERR;
	if (n >= 1 && s[0] == '+' && (n == 1 || s[1] == ' '))
		return CHALLENGE;
	return NOT_STATUS;
}

/* A line of a multi-line reply: data up to ".", which ends it. */
static void
list_line(struct negotiation *p, struct pop3_in *in, const struct iline *l,
    struct proto_out *out)
{
	size_t	n = proto_line_len(l->s, l->len);

	if (!l->whole)
		return;			/* it went on already */
	if (n == 1 && l->s[0] == '.') {
		inside_pass(p, 0, l->s, l->len, out);
		in->list = 0;
		cmdq_pop(&in->q);
		cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
		return;
	}
	/* The capability is the whole line, "STLS" (RFC 2595 4). */
	if (cmdq_head(&in->q) == K_CAPA && proto_word_eq(l->s, n, "STLS"))
		return;
	inside_pass(p, 0, l->s, l->len, out);
}

static void
backend_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct pop3_in	*in = &st(p)->in;
	int		 kind = cmdq_head(&in->q), reply;

	if (in->list) {
		list_line(p, in, l, out);
		return;
	}
	reply = status(l->head, l->whole ? proto_line_len(l->s, l->len) :
	    l->headlen);
	if (l->whole)
		inside_pass(p, 0, l->s, l->len, out);
	if (kind == -1 || kind == K_REFUSED || reply == NOT_STATUS) {
		/* Not a reply to a command (a -ERR before a close). */
		cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
		return;
	}
	if (reply == CHALLENGE) {
		if (kind == K_AUTH)
			in->answers++;
		return;
	}
	if (reply == OK && (kind == K_MULTI || kind == K_CAPA)) {
		in->list = 1;
		return;
	}
	/* The exchange is over, whether or not the client answered. */
	if (kind == K_AUTH)
		in->answers = 0;
	cmdq_pop(&in->q);
	cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
}

const struct proto_ops pop3_server_ops = {
	.size = sizeof(struct pop3_state),
	.start = proto_await_backend,
	.line = pop3_line,
	.plain_line = pop3_plain_line,
	.established = proto_watch,
	.inside_tls = client_line,
	.inside_plain = backend_line,
};
