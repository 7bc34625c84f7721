/*
 * ManageSieve server role (RFC 5804): "STARTTLS" added to the backend's
 * capabilities and answered here; before TLS only CAPABILITY, NOOP and
 * LOGOUT reach the backend, and no SASL mechanism is listed.  The backend
 * greeted once, in clear text; inside TLS the client is owed the
 * capabilities again (2.2): ours, from its greeting, without "STARTTLS".
 * Inside TLS a second STARTTLS is refused here and the backend's
 * capabilities no longer list it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto_impl.h"

enum {
	GREETING,
	READY,
	REPLY		/* lines up to OK, NO or BYE */
};

/* Inside TLS: see below. */
struct sieve_in {
	struct cmdq	 q;
	unsigned	 answers;	/* client lines that answer a
					   challenge */
	int		 c_more;	/* the client's line goes on after a
					   literal */
	int		 b_more;	/* the backend's, the same */
	int		 b_end;		/* its line is OK, NO or BYE */
	int		 b_mid;		/* a response is under way */
};

struct sieve_state {
	int		 state;
	int		 caps_reply;	/* the backend's reply is its
					   capabilities */
	struct pbuf	 caps;		/* what it said, to say it again
					   inside TLS */
	struct sieve_in	 in;		/* inside TLS */
};

static struct sieve_state *
st(struct negotiation *p)
{
	return p->priv;
}

static void
sieve_start(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	st(p)->state = GREETING;
	p->awaiting = 1;
	st(p)->caps_reply = 1;		/* the greeting is the capabilities */
}

static int
is_end(const char *s, size_t len)
{
	return proto_word_eq(s, len, "OK") || proto_word_eq(s, len, "NO") ||
	    proto_word_eq(s, len, "BYE");
}

static void
sieve_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	caps = st(p)->caps_reply;

	if (caps && proto_word_eq(s, len, "\"STARTTLS\""))
		return;		/* ours goes last */
	if (!is_end(s, len)) {
		/* No mechanism is usable before TLS: say so, like Dovecot. */
		if (caps && !p->cfg.allow_plain &&
		    proto_word_eq(s, len, "\"SASL\""))
			proto_send_line(p, out, "\"SASL\" \"\"");
		else
			proto_relay_line(p, out, s, len);
		if (st(p)->state == GREETING) {
			pbuf_add(&st(p)->caps, s, len);
			pbuf_add(&st(p)->caps, "\r\n", 2);
		}
		return;
	}
	if (caps && proto_word_eq(s, len, "OK"))
		proto_send_line(p, out, "\"STARTTLS\"");
	proto_relay_line(p, out, s, len);
	if (st(p)->state == READY)
		return;
	st(p)->state = READY;
	proto_reply_done(p, out);
}

static void
sieve_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (proto_word_eq(s, len, "STARTTLS")) {
		proto_send_line(p, out, "OK \"Begin TLS negotiation now\"");
		proto_switch_now(p, out);
		return;
	}
	/* Before TLS only CAPABILITY, NOOP and LOGOUT reach the backend. */
	if (!proto_word_eq(s, len, "CAPABILITY") &&
	    !proto_word_eq(s, len, "NOOP") &&
	    !proto_word_eq(s, len, "LOGOUT")) {
		if (!p->cfg.allow_plain) {
			proto_send_line(p, out,
			    "NO (ENCRYPT-NEEDED) \"Must issue "
			    "STARTTLS first\"");
			return;
		}
		proto_allow_plain(p, out, s, len, s, "STARTTLS");
		return;
	}
	st(p)->caps_reply = proto_word_eq(s, len, "CAPABILITY");
	st(p)->state = REPLY;
	proto_forward_line(p, out, s, len);
}

/* A literal beyond the opening's bound: refused, the session goes on. */
static void
sieve_too_big(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	(void)s;
	(void)len;
	proto_send_line(p, out, "NO \"Literal too big before "
	    "STARTTLS\"");
}

/*
 * Inside TLS, for the whole session: the commands in flight, so that the
 * response to CAPABILITY is known, the client's answers to an AUTHENTICATE
 * challenge are not read as commands, and our refusal of a second STARTTLS
 * comes in its turn: responses come in the order of the commands.  Lines
 * are followed through their literals, the client's {N+} (or {N}) and the
 * server's {N} (GETSCRIPT): their bytes are data, and the line goes on
 * after them.
 */
enum {
	K_OTHER,
	K_CAPS,		/* CAPABILITY: without "STARTTLS" */
	K_AUTH,		/* AUTHENTICATE: challenges, then OK or NO */
	K_REFUSED	/* a second STARTTLS: our response */
};

#define TLS_ACTIVE	"NO \"TLS is already active\"\r\n"

/* The client sees the capabilities again, now inside TLS. */
static void
sieve_established(struct negotiation *p, struct proto_out *out)
{
	pbuf_add(&out->to_tls, st(p)->caps.data, st(p)->caps.len);
	proto_send_line(p, out, "OK \"TLS negotiation successful\"");
	out->watch = 1;
}

/*
 * The line (without its line end) ends in a literal, {N} or {N+}: its size
 * in *size.  An empty one, {0}, counts too: the line goes on after it.
 */
static int
announces(const char *s, size_t n, size_t *size)
{
	size_t	i = n, digits;
	int	sync;

	if ((*size = proto_literal_size(s, n, &sync)) > 0)
		return 1;
	if (i == 0 || s[--i] != '}')
		return 0;
	if (i > 0 && s[i - 1] == '+')
		i--;
	for (digits = i; i > 0 && s[i - 1] == '0'; i--)
		;
	return i < digits && i > 0 && s[i - 1] == '{';
}

static int
command_kind(const char *s, size_t n)
{
	if (proto_word_eq(s, n, "CAPABILITY"))
		return K_CAPS;
	if (proto_word_eq(s, n, "AUTHENTICATE"))
		return K_AUTH;
	return K_OTHER;
}

static void
refuse(struct negotiation *p, struct sieve_in *in, struct proto_out *out)
{
	if (cmdq_head(&in->q) == -1 && inside_at_start(p, 0) && !in->b_mid)
		pbuf_str(&out->to_tls, TLS_ACTIVE);
	else
		cmdq_push(p, &in->q, K_REFUSED, out);
}

static void
client_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct sieve_in	*in = &st(p)->in;
	size_t		 len = proto_line_len(l->s, l->len), lit;
	size_t		 n = l->whole ? len : l->headlen;
	int		 more = announces(l->s, len, &lit);

	if (in->c_more || in->answers > 0) {
		/*
		 * The rest of a line after a literal, or an answer to a
		 * challenge (or "*"): no command.
		 */
		if (!in->c_more)
			in->answers--;
	} else if (proto_word_eq(l->head, n, "STARTTLS")) {
		/* A literal would go on: end the session instead. */
		if (!l->whole)
			proto_fail(p, out,
			    "a STARTTLS command longer than %d bytes "
			    "inside TLS", INSIDE_MAX_LINE);
		else if (more)
			proto_fail(p, out,
			    "STARTTLS with a literal inside TLS");
		else
			refuse(p, in, out);
		return;
	} else
		cmdq_push(p, &in->q, command_kind(l->head, n), out);
	if (l->whole)
		inside_pass(p, 1, l->s, l->len, out);
	if ((in->c_more = more))
		inside_raw(p, 1, lit);
}

/* The response is complete: the next one is for the next command. */
static void
response_done(struct sieve_in *in, int kind, struct proto_out *out)
{
	if (kind == K_AUTH)
		in->answers = 0;
	if (kind != -1 && kind != K_REFUSED)
		cmdq_pop(&in->q);
	in->b_mid = 0;
	cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
}

static void
backend_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct sieve_in	*in = &st(p)->in;
	size_t		 len = proto_line_len(l->s, l->len), lit;
	size_t		 n = l->whole ? len : l->headlen;
	int		 more = announces(l->s, len, &lit);
	int		 kind = cmdq_head(&in->q);
	int		 asked = kind != -1 && kind != K_REFUSED;

	if (!in->b_more) {
		in->b_mid = 1;
		in->b_end = proto_word_eq(l->head, n, "OK") ||
		    proto_word_eq(l->head, n, "NO") ||
		    proto_word_eq(l->head, n, "BYE");
		/*
		 * The capabilities: the response to CAPABILITY, or what nobody
		 * asked for (they come again after AUTHENTICATE set up a SASL
		 * security layer, RFC 5804 2.1).
		 */
		if (l->whole && !more && (kind == K_CAPS || !asked) &&
		    proto_word_eq(l->s, n, "\"STARTTLS\""))
			return;
	}
	if (l->whole)
		inside_pass(p, 0, l->s, l->len, out);
	if ((in->b_more = more)) {
		inside_raw(p, 0, lit);
		return;
	}
	if (in->b_end)
		response_done(in, kind, out);
	else if (kind == K_AUTH)
		in->answers++;		/* a challenge: the client answers */
}

static void
sieve_free(struct negotiation *p)
{
	free(st(p)->caps.data);
}

const struct proto_ops sieve_server_ops = {
	.size = sizeof(struct sieve_state),
	.free = sieve_free,
	.start = sieve_start,
	.line = sieve_line,
	.plain_line = sieve_plain_line,
	.literal_too_big = sieve_too_big,
	.established = sieve_established,
	.inside_tls = client_line,
	.inside_plain = backend_line,
	/* Strings may be literals, from either side. */
	.literals = LITERALS_TLS | LITERALS_PLAIN,
};
