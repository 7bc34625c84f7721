/*
 * IMAP server role (RFC 3501 6.2.1): STARTTLS and LOGINDISABLED added to
 * the backend's capabilities, and no login method, literal or compression
 * offered before TLS; STARTTLS answered here, every command but
 * CAPABILITY, NOOP, LOGOUT and ID refused before TLS.  Inside TLS a
 * second STARTTLS is refused and the capabilities no longer offer it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,	/* the zeroed state: the backend greets */
	READY,
	REPLY		/* untagged data, then the tagged reply to tagbuf */
};

/* Inside TLS: see below. */
struct imap_in {
	int		 c_wait;	/* the client waits for "+" to send */
	size_t		 c_lit;		/* a literal of this size, */
	char		 c_tag[64];	/* for this command */
	size_t		 c_taglen;
	int		 c_more;	/* its line goes on after a literal */
	int		 b_more;	/* the backend's line goes on */
	struct pbuf	 ours;		/* our answers, for the next boundary */
};

struct imap_state {
	int		 state;
	struct pbuf	 tag;		/* the forwarded command's tag and
					   its space */
	struct imap_in	 in;		/* inside TLS */
};

static struct imap_state *
st(struct negotiation *p)
{
	return p->priv;
}

/* What no client may use before TLS, so it is not offered (RFC 2595). */
static int
hidden_before_tls(struct negotiation *p, const char *w, size_t n)
{
	if (n == 8 && strncasecmp(w, "STARTTLS", 8) == 0)
		return 1;	/* ours goes last */
	if (p->cfg.allow_plain)
		return 0;
	return (n > 5 && strncasecmp(w, "AUTH=", 5) == 0) ||
	    (n == 7 && strncasecmp(w, "SASL-IR", 7) == 0) ||
	    (n == 8 && (strncasecmp(w, "LITERAL+", 8) == 0 ||
	    strncasecmp(w, "LITERAL-", 8) == 0)) ||
	    (n > 9 && strncasecmp(w, "COMPRESS=", 9) == 0);
}

/*
 * s[0..end) is a capability list after "CAPABILITY ": it goes to the client
 * without what is hidden before TLS, with STARTTLS and (unless
 * --allow-plain) LOGINDISABLED; the rest of the line follows as it is.
 */
static void
add_ours(struct negotiation *p, struct proto_out *out, const char *s,
    size_t len, size_t start, size_t end)
{
	const char	*sep = "";
	size_t		 i, n;
	int		 has_ld = 0;

	pbuf_add(&out->to_tls, s, start);
	for (i = start; i < end; i += n + 1) {
		for (n = 0; i + n < end && s[i + n] != ' '; n++)
			;
		if (n == 0 || hidden_before_tls(p, s + i, n))
			continue;
		if (n == 13 && strncasecmp(s + i, "LOGINDISABLED", 13) == 0)
			has_ld = 1;
		pbuf_str(&out->to_tls, sep);
		pbuf_add(&out->to_tls, s + i, n);
		sep = " ";
	}
	pbuf_str(&out->to_tls, sep);
	pbuf_str(&out->to_tls, "STARTTLS");
	if (!has_ld && !p->cfg.allow_plain)
		pbuf_str(&out->to_tls, " LOGINDISABLED");
	pbuf_add(&out->to_tls, s + end, len - end);
	pbuf_add(&out->to_tls, "\r\n", 2);
}

static void
imap_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	const char	*code, *close;

	if (len >= 13 && strncasecmp(s, "* CAPABILITY ", 13) == 0)
		add_ours(p, out, s, len, 13, len);
	/* A CAPABILITY response code, in the greeting or a tagged reply. */
	else if ((close = memchr(s, ']', len)) != NULL &&
	    (code = memmem(s, (size_t)(close - s), "[CAPABILITY ", 12)) != NULL)
		add_ours(p, out, s, len, (size_t)(code - s) + 12,
		    (size_t)(close - s));
	else
		proto_relay_line(p, out, s, len);
	if (st(p)->state == GREETING ||
	    (st(p)->state == REPLY && len > st(p)->tag.len &&
	    strncmp(s, st(p)->tag.data, st(p)->tag.len) == 0)) {
		st(p)->state = READY;
		proto_reply_done(p, out);
	}
}

/*
 * A tag is astring characters but '+' (RFC 3501 9): no '*' (the backend's
 * untagged lines would complete the command), no specials, no controls.
 */
static int
valid_tag(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f ||
		    strchr("(){%*\"\\+", s[i]) != NULL)
			return 0;
	return 1;
}

/*
 * The line with each literal read with it ({N} or {N+}, its line end, N
 * bytes) made a quoted string, so that the backend gets one line and no
 * literal to say "+" to: 0, or -1 for a literal that cannot be quoted
 * (CR, LF, NUL, 8-bit) or one we did not read ({0}, too long).
 */
static int
quote_literals(const char *s, size_t len, struct pbuf *q)
{
	const char	*nl, *open;
	size_t		 n, head, lit;
	int		 sync;

	while ((nl = memchr(s, '\n', len)) != NULL) {
		head = (size_t)(nl - s);
		n = head > 0 && s[head - 1] == '\r' ? head - 1 : head;
		if ((lit = proto_literal_size(s, n, &sync)) == 0 ||
		    lit > len - head - 1 ||
		    (open = memrchr(s, '{', n)) == NULL)
			return -1;
		pbuf_add(q, s, (size_t)(open - s));
		pbuf_add(q, "\"", 1);
		for (const char *c = nl + 1; c < nl + 1 + lit; c++) {
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				return -1;
			if (*c == '"' || *c == '\\')
				pbuf_add(q, "\\", 1);
			pbuf_add(q, c, 1);
		}
		pbuf_add(q, "\"", 1);
		len -= head + 1 + lit;
		s = nl + 1 + lit;
	}
	if (proto_literal_size(s, len, &sync) > 0 ||
	    (len > 3 && memcmp(s + len - 3, "{0}", 3) == 0))
		return -1;
	pbuf_add(q, s, len);
	return 0;
}

/*
 * Before TLS, the commands that reach the backend (RFC 3501 allows them
 * before login; ID): nothing done in clear text (a SELECT, say) can shape
 * the session that goes on inside TLS.
 */
static int
allowed(const char *cmd, size_t clen)
{
	return proto_word_eq(cmd, clen, "CAPABILITY") ||
	    proto_word_eq(cmd, clen, "NOOP") ||
	    proto_word_eq(cmd, clen, "LOGOUT") || proto_word_eq(cmd, clen, "ID");
}

/* The answer to a command that does not reach the backend before TLS. */
static void
refuse(struct negotiation *p, const char *s, size_t len, size_t tlen,
    struct proto_out *out)
{
	const char	*cmd = s + tlen + 1;

	if (!valid_tag(s, tlen) || len <= tlen + 1)
		proto_send_line(p, out, "* BAD Invalid tag or missing command");
	else if (p->cfg.allow_plain)
		proto_allow_plain(p, out, s, len, cmd, "STARTTLS");
	else
		proto_send_line(p, out, "%.*s NO [PRIVACYREQUIRED] Must issue "
		    "STARTTLS first", (int)tlen, s);
}

/*
 * Before TLS a client's {N} gets the go-ahead where the command may reach
 * the backend; any other is answered at once, before its literal.
 */
static int
imap_literal_ahead(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t	tlen = proto_word_len(s, len);

	if (valid_tag(s, tlen) && len > tlen + 1 &&
	    allowed(s + tlen + 1, len - tlen - 1)) {
		proto_send_line(p, out, "+ Ready for literal data");
		return 1;
	}
	refuse(p, s, len, tlen, out);
	return 0;
}

/* Beyond the bound: refused; a {N+} one is dropped as it comes. */
static void
imap_too_big(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	proto_send_line(p, out, "%.*s NO [TOOBIG] Literal too big before "
	    "STARTTLS", (int)proto_word_len(s, len), s);
}

static void
imap_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t		 tlen = proto_word_len(s, len);
	const char	*cmd = s + tlen + 1;
	size_t		 clen = len > tlen ? len - tlen - 1 : 0;
	struct pbuf	 q = { NULL, 0, 0 };
	int		 literal = memchr(s, '{', len) != NULL &&
			    (s[len - 1] == '}' || memchr(s, '\n', len) != NULL);

	if (!valid_tag(s, tlen) || clen == 0) {
		proto_send_line(p, out, "* BAD Invalid tag or missing command");
		return;
	}
	if (proto_word_eq(cmd, clen, "STARTTLS") &&
	    proto_word_len(cmd, clen) == clen) {
		proto_send_line(p, out, "%.*s OK Begin TLS negotiation now",
		    (int)tlen, s);
		proto_switch_now(p, out);
		return;
	}
	/*
	 * A literal is never read as commands: it came with its line (after
	 * our "+" for {N}), and goes on as a quoted string.
	 */
	if (!allowed(cmd, clen)) {
		refuse(p, s, len, tlen, out);
		return;
	}
	if (literal && quote_literals(s, len, &q) == -1) {
		free(q.data);
		proto_send_line(p, out, "%.*s BAD This literal is not accepted "
		    "before STARTTLS", (int)tlen, s);
		return;
	}
	/* The tagged reply ends this command: remember "tag ". */
	st(p)->tag.len = 0;
	pbuf_add(&st(p)->tag, s, tlen + 1);
	st(p)->state = REPLY;
	if (literal)
		proto_forward_line(p, out, q.data, q.len);
	else
		proto_forward_line(p, out, s, len);
	free(q.data);
}

/*
 * Inside TLS, for the whole session: a second STARTTLS gets BAD from us
 * (RFC 2595 3.1), and the backend's capabilities never offer it again.
 * Commands and responses are followed through their literals, so that
 * nothing inside one is read as a line, and our answer goes between two
 * of the backend's responses.
 */
#define OURS_MAX	4096	/* our answers waiting for a boundary */

static void
imap_free(struct negotiation *p)
{
	struct imap_in	*in = &st(p)->in;

	free(in->ours.data);
	free(st(p)->tag.data);
}

/* The end of a line announces a literal: its bytes pass as data. */
static int
announced(struct negotiation *p, struct imap_in *in, int tls_side,
    const char *s, size_t len)
{
	size_t	n;
	int	sync;

	if ((n = proto_literal_size(s, proto_line_len(s, len), &sync)) == 0)
		return 0;
	if (tls_side && sync) {
		/* Only once the backend says "+" (RFC 3501 7.5). */
		in->c_wait = 1;
		in->c_lit = n;
		if (!in->c_more) {
			in->c_taglen = proto_word_len(s, len);
			if (in->c_taglen > sizeof(in->c_tag))
				in->c_taglen = sizeof(in->c_tag);
			memcpy(in->c_tag, s, in->c_taglen);
		}
	} else
		inside_raw(p, tls_side, n);
	return 1;
}

static void
answer(struct negotiation *p, struct imap_in *in, const char *s, size_t len,
    struct proto_out *out)
{
	if (in->ours.len > OURS_MAX) {
		proto_fail(p, out, "STARTTLS again and again inside TLS");
		return;
	}
	pbuf_add(&in->ours, s, proto_word_len(s, len));
	pbuf_str(&in->ours, " BAD TLS is already active\r\n");
	if (inside_at_start(p, 0) && !in->b_more) {
		pbuf_add(&out->to_tls, in->ours.data, in->ours.len);
		in->ours.len = 0;
	}
}

static void
client_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct imap_in	*in = &st(p)->in;
	size_t		 n = proto_line_len(l->s, l->len),
	    tlen = proto_word_len(l->s, n);
	const char	*cmd = l->s + tlen + 1;

	if (l->whole && !in->c_more && tlen + 1 < n &&
	    n - tlen - 1 == 8 && strncasecmp(cmd, "STARTTLS", 8) == 0) {
		answer(p, in, l->s, n, out);
		return;
	}
	if (l->whole)
		inside_pass(p, 1, l->s, l->len, out);
	in->c_more = announced(p, in, 1, l->s, l->len) && !in->c_wait;
}

/* "* CAPABILITY ..." or "[CAPABILITY ...]": where the list is. */
static int
capabilities(const char *s, size_t len, size_t *start, size_t *end)
{
	const char	*code, *close;

	if (len >= 13 && strncasecmp(s, "* CAPABILITY ", 13) == 0) {
		*start = 13;
		*end = len;
		return 1;
	}
	if ((close = memchr(s, ']', len)) == NULL ||
	    (code = memmem(s, (size_t)(close - s), "[CAPABILITY ", 12)) == NULL)
		return 0;
	*start = (size_t)(code - s) + 12;
	*end = (size_t)(close - s);
	return 1;
}

static void
without_starttls(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t	n = proto_line_len(s, len), start, end, i, w;

	if (!capabilities(s, n, &start, &end)) {
		inside_pass(p, 0, s, len, out);
		return;
	}
	inside_pass(p, 0, s, start, out);
	for (i = start; i < end; i += w + 1) {
		w = proto_word_len(s + i, end - i);
		if (w == 8 && strncasecmp(s + i, "STARTTLS", 8) == 0)
			continue;
		if (out->to_tls.len > 0 &&
		    out->to_tls.data[out->to_tls.len - 1] != ' ')
			pbuf_add(&out->to_tls, " ", 1);
		pbuf_add(&out->to_tls, s + i, w);
	}
	pbuf_add(&out->to_tls, s + end, len - end);
}

static void
backend_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct imap_in	*in = &st(p)->in;

	if (l->whole && !in->b_more)
		without_starttls(p, l->s, l->len, out);
	else if (l->whole)
		inside_pass(p, 0, l->s, l->len, out);
	if (!in->b_more && in->c_wait && l->headlen > 0 && l->head[0] == '+') {
		/* The go-ahead: the client's literal follows. */
		in->c_wait = 0;
		inside_raw(p, 1, in->c_lit);
		in->c_more = 1;
	} else if (!in->b_more && in->c_wait && l->headlen > in->c_taglen &&
	    memcmp(l->head, in->c_tag, in->c_taglen) == 0 &&
	    l->head[in->c_taglen] == ' ')
		in->c_wait = 0;		/* refused: no literal comes */
	in->b_more = announced(p, in, 0, l->s, l->len);
	if (!in->b_more && in->ours.len > 0) {
		pbuf_add(&out->to_tls, in->ours.data, in->ours.len);
		in->ours.len = 0;
	}
}

const struct proto_ops imap_server_ops = {
	.size = sizeof(struct imap_state),
	.start = proto_await_backend,
	.line = imap_line,
	.plain_line = imap_plain_line,
	.established = proto_watch,
	.inside_tls = client_line,
	.inside_plain = backend_line,
	.free = imap_free,
	/* Before TLS: after {N} a client waits for our "+" (RFC 3501 7.5). */
	.literals = LITERALS_TLS,
	.literal_ahead = imap_literal_ahead,
	.literal_too_big = imap_too_big,
};
