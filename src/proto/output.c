/*
 * What a module says and does: lines for either side and the transcript,
 * and the actions (fail, switch, fall back) that end the opening.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	free(out->tls_first.data);
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

/*
 * A line of ours for the TLS-side peer (CRLF added), noted in the
 * transcript: a command in the client role, an answer in the server role.
 */
void
proto_send_line(struct negotiation *p, struct proto_out *out, const char *fmt,
    ...)
{
	char	line[PROTO_MAX_LINE];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pbuf_str(&out->to_tls, line);
	pbuf_add(&out->to_tls, "\r\n", 2);
	pbuf_str(&out->log, proto_is_client(p) ? "C: " : "S: ");
	pbuf_str(&out->log, line);
	pbuf_add(&out->log, "\n", 1);
}

/*
 * Client role, TLS is up: the plain side gets a greeting we write, never
 * the server's clear-text one, which a man in the middle may have written
 * ([ALERT], [REFERRAL], an APOP challenge): RFC 3207 4.2, RFC 2595.
 */
void
proto_greet(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
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

/* Server role: a client command for the backend; its reply comes next. */
void
proto_forward_line(struct negotiation *p, struct proto_out *out, const char *s,
    size_t len)
{
	pbuf_add(&out->to_plain, s, len);
	pbuf_add(&out->to_plain, "\r\n", 2);
	p->awaiting = 1;
}

/* Server role: a backend line for the client, as it is. */
void
proto_relay_line(struct negotiation *p, struct proto_out *out, const char *s,
    size_t len)
{
	(void)p;
	pbuf_add(&out->to_tls, s, len);
	pbuf_add(&out->to_tls, "\r\n", 2);
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

	if (proto_is_client(p) || !tls_side)
		return len;
	n = proto_word_len(s, len);
	if (!proto_is_login_word(s, len)) {
		if (n == len || !proto_is_login_word(s + n + 1, len - n - 1))
			return len;
		cmd = n + 1;		/* after an IMAP tag */
	}
	n = cmd + proto_word_len(s + cmd, len - cmd);
	if (!proto_word_eq(s + cmd, len - cmd, "LOGIN") &&
	    !proto_word_eq(s + cmd, len - cmd, "PASS") &&
	    !proto_word_eq(s + cmd, len - cmd, "APOP") && n < len)
		n += 1 + proto_word_len(s + n + 1, len - n - 1);
	return n;
}

void
proto_log_line(struct negotiation *p, struct proto_out *out, int tls_side,
    const char *line, size_t len)
{
	size_t	shown = shown_len(p, tls_side, line, len);

	/* Server role: "B:" for the backend, "S:" for our answers. */
	pbuf_str(&out->log, proto_is_client(p) ? "S: " : tls_side ? "C: " :
	    "B: ");
	for (size_t i = 0; i < shown; i++) {
		char	hex[5];

		if (isprint((unsigned char)line[i]))
			pbuf_add(&out->log, &line[i], 1);
		else {
			/* One transcript line each, as the log shows it. */
			snprintf(hex, sizeof(hex), "\\x%02x",
			    (unsigned char)line[i]);
			pbuf_str(&out->log, hex);
		}
	}
	if (shown < len)
		pbuf_str(&out->log, " ***");
	pbuf_add(&out->log, "\n", 1);
}

/* The session ends with status 4: nothing more goes to either side. */
void
proto_fail(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
{
	va_list	ap;

	p->phase = FAILED;
	out->fail = 1;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/* Server role: the backend speaks first; the client's lines wait. */
void
proto_await_backend(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	p->awaiting = 1;
}

/* The handshake is done: both sides go through the module for good. */
void
proto_watch(struct negotiation *p, struct proto_out *out)
{
	(void)p;
	out->watch = 1;
}

void
proto_switch_now(struct negotiation *p, struct proto_out *out)
{
	p->phase = SWITCHING;
	out->start_tls = 1;
}

/* The answer to our switch command cmd: switch if ok, else fail. */
void
proto_switch_answer(struct negotiation *p, struct proto_out *out, int ok,
    const char *cmd, const char *s, size_t len)
{
	if (!ok) {
		proto_fail(p, out, "%s refused: '%.*s'", cmd, proto_shown(len),
		    s);
		return;
	}
	proto_switch_now(p, out);
}

/*
 * Clear text for good (--opportunistic, --allow-plain).  What is still
 * held from either side goes on to the other once the module is done
 * (proto.c): nothing is read as part of the opening any more.
 */
void
proto_fall_back(struct negotiation *p, struct proto_out *out, const char *fmt,
    ...)
{
	va_list	ap;

	p->phase = RELAY;
	out->fallback = 1;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

/*
 * Server role, --allow-plain: a command the backend may see only inside
 * TLS goes on all the same, and clear text from then on.  The log names
 * its word at word (after an IMAP tag) and the switch it came before.
 */
void
proto_allow_plain(struct negotiation *p, struct proto_out *out,
    const char *s, size_t len, const char *word, const char *sw)
{
	size_t	wlen = proto_word_len(word, len - (size_t)(word - s));

	proto_forward_line(p, out, s, len);
	proto_fall_back(p, out, "'%.*s' before %s: --allow-plain, so "
	    "relaying in CLEAR TEXT", (int)wlen, word, sw);
}

/*
 * No STARTTLS: fail closed, or relay in clear text if the user said so;
 * then the plain side sees the greeting, in clear text like the rest.
 */
void
proto_not_offered(struct negotiation *p, struct proto_out *out,
    const char *what)
{
	const char	*caps = p->caps.len ? p->caps.data : "nothing";

	if (!p->cfg.opportunistic) {
		proto_fail(p, out,
		    "the server does not offer %s (it offers: %s)",
		    what, caps);
		return;
	}
	pbuf_add(&out->to_plain, p->greeting.data, p->greeting.len);
	proto_fall_back(p, out, "the server does not offer %s (it offers: %s): "
	    "--opportunistic, so relaying in CLEAR TEXT", what, caps);
}

/*
 * The server's capabilities are all in: ask for the switch with cmd if
 * they offer it (1), else as proto_not_offered() says (0).
 */
int
proto_ask_switch(struct negotiation *p, struct proto_out *out, int offered,
    const char *cmd)
{
	if (!offered) {
		proto_not_offered(p, out, cmd);
		return 0;
	}
	proto_send_line(p, out, "%s", cmd);
	return 1;
}

/* Remember an offered capability for the error message. */
void
proto_add_cap(struct negotiation *p, const char *s, size_t len)
{
	if (p->caps.len > 400)
		return;
	if (p->caps.len)
		pbuf_str(&p->caps, ", ");
	pbuf_add(&p->caps, s, len > 60 ? 60 : len);
}

/*
 * The server's name as the greeting we write gives it: what the user
 * named, or "localhost" if that is not a plain host name.
 */
const char *
proto_safe_name(struct negotiation *p)
{
	const char	*h = p->cfg.host;

	if (h == NULL || *h == '\0' || strlen(h) > 253 ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]_") != strlen(h))
		return "localhost";
	return h;
}
