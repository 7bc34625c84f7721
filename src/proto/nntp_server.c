/*
 * NNTP server role (RFC 4642, RFC 3977): STARTTLS added to the backend's
 * CAPABILITIES list and answered here; before TLS only CAPABILITIES, MODE
 * READER, HELP, DATE and QUIT reach the backend, the rest (GROUP, ARTICLE,
 * POST, AUTHINFO ...) gets 483.  AUTHINFO is listed without arguments,
 * which says none of its commands is usable now (RFC 4643), SASL not at
 * all, and COMPRESS (RFC 8054) neither: compressed data are not lines.
 * Inside TLS a second STARTTLS is refused here and CAPABILITIES no longer
 * lists it (RFC 4642 2.2.2).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,	/* the zeroed state: the backend greets */
	READY,
	STATUS,		/* the first line of a response */
	LIST		/* CAPABILITIES or HELP, up to "." */
};

/* Inside TLS: see below. */
struct nntp_in {
	struct cmdq	 q;
	int		 data;		/* the backend sends lines up to "." */
	int		 article;	/* the client sends lines up to "." */
	unsigned	 answers;	/* client lines that answer a
					   challenge */
};

struct nntp_state {
	int		 state;
	int		 capabilities;	/* the forwarded command is
					   CAPABILITIES */
	struct nntp_in	 in;		/* inside TLS */
};

static struct nntp_state *
st(struct negotiation *p)
{
	return p->priv;
}

static const char *const before_tls[] = {
	"CAPABILITIES", "MODE", "HELP", "DATE", "QUIT", NULL
};

static void
caps_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (proto_word_eq(s, len, "STARTTLS"))
		return;		/* ours goes last */
	if (p->cfg.allow_plain)
		proto_relay_line(p, out, s, len);
	else if (proto_word_eq(s, len, "AUTHINFO"))
		proto_send_line(p, out, "AUTHINFO");
	else if (!proto_word_eq(s, len, "SASL") &&
	    !proto_word_eq(s, len, "COMPRESS"))
		proto_relay_line(p, out, s, len);
}

static void
nntp_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	switch (st(p)->state) {
	case STATUS:
		proto_relay_line(p, out, s, len);
		/* 100 (HELP), 101 (CAPABILITIES): a list (3977 3.1.1). */
		if (len >= 3 && (strncmp(s, "100", 3) == 0 ||
		    strncmp(s, "101", 3) == 0) && (len == 3 || s[3] == ' ')) {
			st(p)->state = LIST;
			return;
		}
		break;
	case LIST:
		if (len == 1 && s[0] == '.') {
			if (st(p)->capabilities)
				proto_send_line(p, out, "STARTTLS");
			proto_relay_line(p, out, s, len);
			break;
		}
		if (st(p)->capabilities)
			caps_line(p, s, len, out);
		else
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
nntp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	const char *const	*w;
	int			 allowed;

	if (proto_word_eq(s, len, "STARTTLS")) {
		if (proto_word_len(s, len) != len) {
			proto_send_line(p, out, "501 Syntax: STARTTLS");
			return;
		}
		proto_send_line(p, out, "382 Continue with TLS negotiation");
		proto_switch_now(p, out);
		return;
	}
	for (w = before_tls; *w != NULL && !proto_word_eq(s, len, *w); w++)
		;
	/* MODE READER only: MODE STREAM is for feeds (RFC 4644). */
	allowed = *w != NULL && (!proto_word_eq(s, len, "MODE") || (len == 11 &&
	    strncasecmp(s + 4, " READER", 7) == 0));
	if (!allowed) {
		if (!p->cfg.allow_plain) {
			proto_send_line(p, out,
			    "483 Encryption required: issue "
			    "STARTTLS first");
			return;
		}
		proto_allow_plain(p, out, s, len, s, "STARTTLS");
		return;
	}
	/* The list is the capabilities: STARTTLS goes in. */
	st(p)->capabilities = proto_word_eq(s, len, "CAPABILITIES");
	st(p)->state = STATUS;
	proto_forward_line(p, out, s, len);
}

/*
 * Inside TLS, for the whole session: the commands in flight (RFC 3977 3.5
 * lets a client pipeline them), so that multi-line responses and the
 * articles a client sends are read to their "." as data (an article may
 * hold any line), a client's answers to an AUTHINFO SASL challenge are not
 * read as commands, and our refusal of a second STARTTLS comes in its turn:
 * responses come in the order of the commands.
 */
enum {
	K_OTHER,
	K_CAPS,		/* 101 and a list, without STARTTLS */
	K_LISTGROUP,	/* 211 has a list here (to GROUP, not) */
	K_POST,		/* 340: the client's article follows */
	K_IHAVE,	/* 335: the same */
	K_SASL,		/* 383 asks the client for an answer (RFC 4643) */
	K_REFUSED	/* a second STARTTLS: our response */
};

/* RFC 4642 2.2.2: 502 once a TLS layer is active. */
#define TLS_ACTIVE	"502 TLS already active\r\n"

static int
is_dot(const struct iline *l)
{
	return l->whole && proto_line_len(l->s, l->len) == 1 && l->s[0] == '.';
}

static int
command_kind(const char *s, size_t n)
{
	size_t	w = proto_word_len(s, n);

	if (proto_word_eq(s, n, "CAPABILITIES"))
		return K_CAPS;
	if (proto_word_eq(s, n, "LISTGROUP"))
		return K_LISTGROUP;
	if (proto_word_eq(s, n, "POST"))
		return K_POST;
	if (proto_word_eq(s, n, "IHAVE"))
		return K_IHAVE;
	if (proto_word_eq(s, n, "AUTHINFO") && w < n &&
	    proto_word_eq(s + w + 1, n - w - 1, "SASL"))
		return K_SASL;
	return K_OTHER;
}

static void
refuse(struct negotiation *p, struct nntp_in *in, struct proto_out *out)
{
	if (cmdq_head(&in->q) == -1 && inside_at_start(p, 0))
		pbuf_str(&out->to_tls, TLS_ACTIVE);
	else
		cmdq_push(p, &in->q, K_REFUSED, out);
}

/* A line of an article from the client: data; "." ends it, one response. */
static void
article_line(struct negotiation *p, struct nntp_in *in, const struct iline *l,
    struct proto_out *out)
{
	if (l->whole)
		inside_pass(p, 1, l->s, l->len, out);
	if (is_dot(l)) {
		in->article = 0;
		cmdq_push(p, &in->q, K_OTHER, out);
	}
}

static void
client_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct nntp_in	*in = &st(p)->in;
	size_t		 n = l->whole ? proto_line_len(l->s, l->len) :
	    l->headlen;

	if (in->article) {
		article_line(p, in, l, out);
		return;
	}
	if (in->answers > 0) {
		/* An answer to a challenge (or "*"), not a command. */
		in->answers--;
		if (l->whole)
			inside_pass(p, 1, l->s, l->len, out);
		return;
	}
	if (proto_word_eq(l->head, n, "STARTTLS")) {
		if (!l->whole)
			/* It went on already: end the session instead. */
			proto_fail(p, out,
			    "a STARTTLS command longer than %d bytes "
			    "inside TLS", INSIDE_MAX_LINE);
		else
			refuse(p, in, out);
		return;
	}
	if (!l->whole) {
		cmdq_push(p, &in->q, K_OTHER, out);	/* too long to read */
		return;
	}
	inside_pass(p, 1, l->s, l->len, out);
	if (proto_word_eq(l->s, n, "TAKETHIS"))
		in->article = 1;	/* at once (RFC 4644 2.5) */
	else
		cmdq_push(p, &in->q, command_kind(l->s, n), out);
}

/*
 * The responses with a list or an article after them: RFC 3977 3.1.1
 * (211 only to LISTGROUP), and 282 (XGTITLE, RFC 2980).
 */
static int
has_data(int kind, int code)
{
	switch (code) {
	case 100: case 101: case 215: case 220: case 221: case 222:
	case 224: case 225: case 230: case 231: case 282:
		return 1;
	case 211:
		return kind == K_LISTGROUP;
	default:
		return 0;
	}
}

/* A line of a multi-line response: data up to ".", which ends it. */
static void
data_line(struct negotiation *p, struct nntp_in *in, const struct iline *l,
    struct proto_out *out)
{
	if (!l->whole)
		return;			/* it went on already */
	if (is_dot(l)) {
		inside_pass(p, 0, l->s, l->len, out);
		in->data = 0;
		cmdq_pop(&in->q);
		cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
		return;
	}
	if (cmdq_head(&in->q) == K_CAPS &&
	    proto_word_eq(l->s, proto_line_len(l->s, l->len), "STARTTLS"))
		return;
	inside_pass(p, 0, l->s, l->len, out);
}

static void
backend_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct nntp_in	*in = &st(p)->in;
	int		 kind = cmdq_head(&in->q), code;

	if (in->data) {
		data_line(p, in, l, out);
		return;
	}
	/* "NNN text" or "NNN". */
	code = proto_reply_code(l->head, l->whole ?
	    proto_line_len(l->s, l->len) : l->headlen, " ");
	if (l->whole)
		inside_pass(p, 0, l->s, l->len, out);
	if (kind == -1 || kind == K_REFUSED || code == -1) {
		/* Not a response to a command (400 before a close). */
		cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
		return;
	}
	if (kind == K_SASL && code == 383) {
		in->answers++;
		return;
	}
	if (has_data(kind, code)) {
		in->data = 1;
		return;
	}
	if ((kind == K_POST && code == 340) || (kind == K_IHAVE && code == 335))
		in->article = 1;
	/* An exchange is over, whether or not the client answered. */
	if (kind == K_SASL)
		in->answers = 0;
	cmdq_pop(&in->q);
	cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
}

const struct proto_ops nntp_server_ops = {
	.size = sizeof(struct nntp_state),
	.start = proto_await_backend,
	.line = nntp_line,
	.plain_line = nntp_plain_line,
	.established = proto_watch,
	.inside_tls = client_line,
	.inside_plain = backend_line,
};
