#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

/* Out of memory is fatal here: these buffers are small and bounded. */
void
pbuf_add(struct pbuf *b, const void *data, size_t len)
{
	if (len == 0)
		return;		/* data may be NULL: an empty buffer */
	if (b->len + len + 1 > b->cap) {
		size_t	cap = b->cap ? b->cap : 256;
		char	*nd;

		while (cap < b->len + len + 1)
			cap *= 2;
		if ((nd = realloc(b->data, cap)) == NULL)
			abort();
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
pbuf_str(struct pbuf *b, const char *s)
{
	pbuf_add(b, s, strlen(s));
}

void
proto_out_init(struct proto_out *out)
{
	memset(out, 0, sizeof(*out));
}

void
proto_out_free(struct proto_out *out)
{
	free(out->to_tls.data);
	free(out->to_plain.data);
	free(out->log.data);
	proto_out_init(out);
}

/* The bytes of an output buffer, malloc'ed, for the caller to keep. */
char *
proto_out_take(struct pbuf *b, size_t *len)
{
	char	*data = b->data;

	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return data;
}

static int
is_client(const struct negotiation *p)
{
	return p->cfg.role == ROLE_CLIENT;
}

/*
 * A line of ours for the TLS-side peer (CRLF added), noted in the
 * transcript: a command in the client role, an answer in the server role.
 */
void
send_line(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
{
	char	line[PROTO_MAX_LINE];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pbuf_str(&out->to_tls, line);
	pbuf_add(&out->to_tls, "\r\n", 2);
	pbuf_str(&out->log, is_client(p) ? "C: " : "S: ");
	pbuf_str(&out->log, line);
	pbuf_add(&out->log, "\n", 1);
}

/*
 * A comma-separated header value (RFC 7230 #list) holds tok, ignoring
 * case; a tok ending in '/' ("TLS/") matches any version after it.
 */
int
list_token(const char *s, size_t len, const char *tok)
{
	size_t	i = 0, start, end, n = strlen(tok);
	int	prefix = n > 0 && tok[n - 1] == '/';

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		start = i;
		while (i < len && s[i] != ',')
			i++;
		end = i;
		while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		if ((prefix ? end - start > n : end - start == n) &&
		    strncasecmp(s + start, tok, n) == 0)
			return 1;
	}
	return 0;
}

/* The session ends with status 4: nothing more goes to either side. */
void
fail(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
{
	va_list	ap;

	p->phase = FAILED;
	out->fail = 1;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* Server role: a client command for the backend; its reply comes next. */
void
forward_line(struct negotiation *p, struct proto_out *out, const char *s,
    size_t len)
{
	pbuf_add(&out->to_plain, s, len);
	pbuf_add(&out->to_plain, "\r\n", 2);
	p->awaiting = 1;
}

/* Server role: a backend line for the client, as it is. */
void
relay_line(struct negotiation *p, struct proto_out *out, const char *s,
    size_t len)
{
	(void)p;
	pbuf_add(&out->to_tls, s, len);
	pbuf_add(&out->to_tls, "\r\n", 2);
}

void
switch_now(struct negotiation *p, struct proto_out *out)
{
	p->phase = SWITCHING;
	out->start_tls = 1;
}

/*
 * Clear text for good (--opportunistic, --allow-plain).  What is still
 * held from either side goes on to the other once the module is done
 * (flush_held): nothing is read as part of the opening any more.
 */
void
fall_back(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
{
	va_list	ap;

	p->phase = RELAY;
	out->fallback = 1;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

static void
flush_held(struct negotiation *p, struct proto_out *out)
{
	pbuf_add(&out->to_plain, p->tl.held.data, p->tl.held.len);
	pbuf_add(&out->to_tls, p->pl.held.data, p->pl.held.len);
	p->tl.held.len = p->pl.held.len = 0;
}

static void
consume(struct lines *l, size_t n)
{
	memmove(l->held.data, l->held.data + n, l->held.len - n);
	l->held.len -= n;
}

/*
 * No STARTTLS: fail closed, or relay in clear text if the user said so;
 * then the plain side sees the greeting, in clear text like the rest.
 */
void
not_offered(struct negotiation *p, struct proto_out *out, const char *what)
{
	const char	*caps = p->caps.len ? p->caps.data : "nothing";

	if (!p->cfg.opportunistic) {
		fail(p, out, "the server does not offer %s (it offers: %s)",
		    what, caps);
		return;
	}
	pbuf_add(&out->to_plain, p->greeting.data, p->greeting.len);
	fall_back(p, out, "the server does not offer %s (it offers: %s): "
	    "--opportunistic, so relaying in CLEAR TEXT", what, caps);
}

/* Remember an offered capability for the error message. */
void
add_cap(struct negotiation *p, const char *s, size_t len)
{
	if (p->caps.len > 400)
		return;
	if (p->caps.len)
		pbuf_str(&p->caps, ", ");
	pbuf_add(&p->caps, s, len > 60 ? 60 : len);
}

size_t
word_len(const char *s, size_t len)
{
	size_t	n = 0;

	while (n < len && s[n] != ' ' && s[n] != '\t')
		n++;
	return n;
}

/* The first word of s is w, ignoring case. */
int
word_eq(const char *s, size_t len, const char *w)
{
	size_t	n = word_len(s, len);

	return n == strlen(w) && strncasecmp(s, w, n) == 0;
}

/* A command that carries credentials (or starts an exchange of them). */
int
is_login_word(const char *s, size_t len)
{
	static const char *const words[] = { "AUTH", "AUTHENTICATE", "LOGIN",
	    "PASS", "APOP", "AUTHINFO", NULL };

	for (const char *const *w = words; *w != NULL; w++)
		if (word_eq(s, len, *w))
			return 1;
	return 0;
}

/*
 * The server's name as the greeting we write gives it: what the user
 * named, or "localhost" if that is not a plain host name.
 */
const char *
safe_name(struct negotiation *p)
{
	const char	*h = p->cfg.host;

	if (h == NULL || *h == '\0' || strlen(h) > 253 ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]_") != strlen(h))
		return "localhost";
	return h;
}

/*
 * Client role, TLS is up: the plain side gets a greeting we write, never
 * the server's clear-text one, which a man in the middle may have written
 * ([ALERT], [REFERRAL], an APOP challenge): RFC 3207 4.2, RFC 2595.
 */
void
greet(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
{
	char	line[PROTO_MAX_LINE];
	va_list	ap;

	(void)p;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pbuf_str(&out->to_plain, line);
	pbuf_add(&out->to_plain, "\r\n", 2);
	pbuf_str(&out->log, "greeting for the plain side: ");
	pbuf_str(&out->log, line);
	pbuf_add(&out->log, "\n", 1);
}

struct negotiation *
proto_new(const struct proto_cfg *cfg)
{
	struct negotiation	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cfg = *cfg;
	if ((p->ops = proto_ops_of(cfg->proto, cfg->role)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
proto_free(struct negotiation *p)
{
	if (p == NULL)
		return;
	free(p->greeting.data);
	free(p->caps.data);
	free(p->priv);
	free(p->tl.held.data);
	free(p->pl.held.data);
	inside_free(p);
	free(p);
}

void
proto_start(struct negotiation *p, struct proto_out *out)
{
	if (p->ops->start != NULL)
		p->ops->start(p, out);
}

/*
 * The transcript shows what was said, but never credentials: a client's
 * AUTH, LOGIN, PASS, APOP, AUTHENTICATE or AUTHINFO keeps its first words
 * (an IMAP tag, the command, a SASL mechanism) and loses the rest.
 */
static size_t
shown_len(struct negotiation *p, int tls_side, const char *s, size_t len)
{
	size_t	n, cmd = 0;

	if (is_client(p) || !tls_side)
		return len;
	n = word_len(s, len);
	if (!is_login_word(s, len)) {
		if (n == len || !is_login_word(s + n + 1, len - n - 1))
			return len;
		cmd = n + 1;		/* after an IMAP tag */
	}
	n = cmd + word_len(s + cmd, len - cmd);
	if (!word_eq(s + cmd, len - cmd, "LOGIN") &&
	    !word_eq(s + cmd, len - cmd, "PASS") &&
	    !word_eq(s + cmd, len - cmd, "APOP") && n < len)
		n += 1 + word_len(s + n + 1, len - n - 1);
	return n;
}

void
log_line(struct negotiation *p, struct proto_out *out, int tls_side,
    const char *line, size_t len)
{
	size_t	shown = shown_len(p, tls_side, line, len);

	/* Server role: "B:" for the backend, "S:" for our answers. */
	pbuf_str(&out->log, is_client(p) ? "S: " : tls_side ? "C: " : "B: ");
	for (size_t i = 0; i < shown; i++) {
		char	hex[5];

		if (isprint((unsigned char)line[i]))
			pbuf_add(&out->log, &line[i], 1);
		else {
			/* One transcript line each, shown as the log shows it. */
			snprintf(hex, sizeof(hex), "\\x%02x",
			    (unsigned char)line[i]);
			pbuf_str(&out->log, hex);
		}
	}
	if (shown < len)
		pbuf_str(&out->log, " ***");
	pbuf_add(&out->log, "\n", 1);
}

/*
 * The line ends in a literal announcement {N} or {N+}: N, else 0.  *sync
 * says the sender waits for a "+" before it sends the N bytes ({N}).  An N
 * of ten digits or more is SIZE_MAX: inside TLS all that follows is the
 * literal's, as the peer reads it too; in the opening it is too long.
 */
size_t
literal_size(const char *s, size_t len, int *sync)
{
	size_t	i, n = 0, mul = 1;
	int	huge = 0;

	if (len < 3 || s[len - 1] != '}')
		return 0;
	i = len - 2;
	*sync = s[i] != '+';
	if (!*sync)
		i--;
	for (; i > 0 && isdigit((unsigned char)s[i]); i--) {
		if (mul > 100000000)
			huge |= s[i] != '0';
		else {
			n += (size_t)(s[i] - '0') * mul;
			mul *= 10;
		}
	}
	if (s[i] != '{')
		return 0;
	return huge ? SIZE_MAX : n;
}

/* Literals from this side are read as part of the line (*lit bytes). */
static int
inline_literal(struct negotiation *p, int tls_side, const char *s, size_t len,
    size_t *lit)
{
	int	sync = 0;

	if ((*lit = literal_size(s, len, &sync)) == 0)
		return 0;
	if (!tls_side)
		return (p->ops->literals & LITERALS_PLAIN) != 0;
	return (p->ops->literals & LITERALS_TLS) ||
	    ((p->ops->literals & LITERALS_TLS_NONSYNC) && !sync);
}

/*
 * Bytes from the TLS side after the switch and before the handshake were
 * sent by someone who did not wait for it (CVE-2011-0411): never read
 * them as part of the TLS session.  Only white space, where the protocol
 * allows it between its elements, is let go.
 */
static void
after_switch(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t	ws = 0;

	if (p->ops->flags & PROTO_WS_AFTER_SWITCH)
		while (ws < len && strchr(" \t\r\n", s[ws]) != NULL &&
		    s[ws] != '\0')
			ws++;
	if (ws == len)
		return;
	fail(p, out, "%zu bytes arrived after the switch %s, before the "
	    "TLS handshake (%s injection?)", len,
	    is_client(p) ? "reply" : "command",
	    is_client(p) ? "response" : "command");
}

/*
 * Hand the complete lines held from one side to the module, while it wants
 * them: a server-role module waiting for the backend's reply to a command it
 * forwarded leaves the client's next lines held, so that answers keep their
 * order.  Whatever is still held from the TLS side once the module switched
 * to TLS was sent by someone who did not wait for the switch: never let it
 * near the TLS session.
 */
static void
drain(struct negotiation *p, struct lines *l, struct proto_out *out)
{
	int	 tls_side = l == &p->tl;
	size_t	 n, end, from = 0, lit;
	char	*nl, *line;

	while (p->phase == OPENING && !(tls_side && p->awaiting) &&
	    l->held.len > 0) {
		if (p->ops->data != NULL) {
			end = p->ops->data(p, tls_side, l->held.data,
			    l->held.len, out);
			if (p->phase == FAILED)
				return;
			consume(l, end);
			if (end == 0)
				break;
			continue;
		}
		end = from;
		for (;;) {
			nl = memchr(l->held.data + end, '\n', l->held.len - end);
			if (nl == NULL)
				break;
			n = (size_t)(nl - l->held.data);
			end = n + 1;
			if (n > 0 && l->held.data[n - 1] == '\r')
				n--;
			/* IMAP, ManageSieve: the literal, then more line. */
			if (!inline_literal(p, tls_side, l->held.data, n, &lit))
				break;
			if (l->held.len - end < lit) {
				nl = NULL;
				break;
			}
			end += lit;
		}
		if (nl == NULL) {
			if (l->held.len >= PROTO_MAX_LINE)
				fail(p, out, "a line longer than %d bytes",
				    PROTO_MAX_LINE);
			return;
		}
		if (n >= PROTO_MAX_LINE) {
			fail(p, out, "a line longer than %d bytes",
			    PROTO_MAX_LINE);
			return;
		}
		if (++l->n > PROTO_MAX_LINES) {
			fail(p, out, "more than %d lines", PROTO_MAX_LINES);
			return;
		}
		/* A copy: on fallback what is held goes on, this line first. */
		if ((line = malloc(n + 1)) == NULL)
			abort();
		memcpy(line, l->held.data, n);
		line[n] = '\0';
		consume(l, end);
		log_line(p, out, tls_side, line, n);
		if (tls_side)
			p->ops->line(p, line, n, out);
		else
			p->ops->plain_line(p, line, n, out);
		free(line);
	}
	if (p->phase == RELAY)
		flush_held(p, out);
	if (p->phase == SWITCHING && tls_side && l->held.len > 0) {
		after_switch(p, l->held.data, l->held.len, out);
		l->held.len = 0;
	}
}

static void
feed(struct negotiation *p, struct lines *l, const char *data, size_t len,
    struct proto_out *out)
{
	if ((p->total += len) > PROTO_MAX_BYTES) {
		fail(p, out, "more than %d bytes of clear text", PROTO_MAX_BYTES);
		return;
	}
	pbuf_add(&l->held, data, len);
	drain(p, l, out);
}

void
proto_from_tls(struct negotiation *p, const char *data, size_t len,
    struct proto_out *out)
{
	switch (p->phase) {
	case OPENING:
		feed(p, &p->tl, data, len, out);
		break;
	case SWITCHING:
		after_switch(p, data, len, out);
		break;
	case INSIDE:
		inside_feed(p, 1, data, len, out);
		break;
	case RELAY:
		pbuf_add(&out->to_plain, data, len);
		break;
	case FAILED:
		break;
	}
}

void
proto_from_plain(struct negotiation *p, const char *data, size_t len,
    struct proto_out *out)
{
	switch (p->phase) {
	case OPENING:
	case SWITCHING:
		/* The client role reads the plain side only inside TLS. */
		if (is_client(p) || (p->ops->plain_line == NULL &&
		    p->ops->data == NULL)) {
			fail(p, out, "unexpected input from the plain side");
			return;
		}
		/* During the handshake it waits, like the client's. */
		if (p->phase == SWITCHING)
			pbuf_add(&p->pl.held, data, len);
		else
			feed(p, &p->pl, data, len, out);
		break;
	case INSIDE:
		inside_feed(p, 0, data, len, out);
		break;
	case RELAY:
		pbuf_add(&out->to_tls, data, len);
		break;
	case FAILED:
		break;
	}
}

/*
 * The handshake is done: the module says what goes first inside TLS, and
 * whether it hands over now (the default) or keeps watching.  What the
 * backend said during the handshake is read after that.
 */
void
proto_established(struct negotiation *p, struct proto_out *out)
{
	struct pbuf	held = p->pl.held;

	if (p->phase != SWITCHING)
		return;
	p->phase = INSIDE;
	if (p->ops->established != NULL)
		p->ops->established(p, out);
	if (p->ops->inside == NULL)
		out->relay = 1;
	if (out->relay)
		p->phase = RELAY;
	p->watching = out->watch;
	memset(&p->pl.held, 0, sizeof(p->pl.held));
	if (held.len > 0)
		proto_from_plain(p, held.data, held.len, out);
	free(held.data);
}

/* White space may come between the switch and the handshake (XMPP). */
int
proto_space_after_switch(const struct negotiation *p)
{
	return (p->ops->flags & PROTO_WS_AFTER_SWITCH) != 0;
}

/* Server role: the backend's reply is complete; the client's next lines. */
void
reply_done(struct negotiation *p, struct proto_out *out)
{
	p->awaiting = 0;
	drain(p, &p->tl, out);
}
