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

/* Send one command line (CRLF added) and note it in the transcript. */
void
send_line(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
{
	char	line[PROTO_MAX_LINE];
	va_list	ap;

	(void)p;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pbuf_str(&out->to_tls, line);
	pbuf_add(&out->to_tls, "\r\n", 2);
	pbuf_str(&out->log, "C: ");
	pbuf_str(&out->log, line);
	pbuf_add(&out->log, "\n", 1);
}

void
fail(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
{
	va_list	ap;

	p->done = 1;
	out->fail = 1;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
}

void
switch_now(struct negotiation *p, struct proto_out *out)
{
	p->done = 1;
	out->start_tls = 1;
}

/* No STARTTLS: fail closed, or relay in clear text if the user said so. */
void
not_offered(struct negotiation *p, struct proto_out *out, const char *what)
{
	if (p->cfg.opportunistic) {
		p->done = 1;
		out->fallback = 1;
		pbuf_add(&out->to_plain, p->greeting.data, p->greeting.len);
		snprintf(out->why, sizeof(out->why), "the server does not offer "
		    "%s (it offers: %s): --opportunistic, so relaying in CLEAR "
		    "TEXT", what, p->caps.len ? p->caps.data : "nothing");
		return;
	}
	fail(p, out, "the server does not offer %s (it offers: %s)", what,
	    p->caps.len ? p->caps.data : "nothing");
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

struct negotiation *
proto_new(const struct proto_cfg *cfg)
{
	struct negotiation	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cfg = *cfg;
	switch (cfg->proto) {
	case PROTO_SMTP:
		p->ops = &smtp_client_ops;
		break;
	case PROTO_IMAP:
		p->ops = &imap_client_ops;
		p->literals = 1;
		break;
	case PROTO_POP3:
		p->ops = &pop3_client_ops;
		break;
	case PROTO_HTTP:
		p->ops = &http_client_ops;
		break;
	default:
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
	free(p);
}

void
proto_start(struct negotiation *p, struct proto_out *out)
{
	if (p->ops->start != NULL)
		p->ops->start(p, out);
}

void
proto_established(struct negotiation *p, struct proto_out *out)
{
	if (p->ops->established != NULL)
		p->ops->established(p, out);
}

static void
log_line(struct proto_out *out, const char *line, size_t len)
{
	pbuf_str(&out->log, "S: ");
	for (size_t i = 0; i < len; i++)
		pbuf_add(&out->log, isprint((unsigned char)line[i]) ?
		    &line[i] : "?", 1);
	pbuf_add(&out->log, "\n", 1);
}

/* The line ends in an IMAP literal announcement {N} or {N+}: N, else 0. */
static size_t
literal_size(const char *s, size_t len)
{
	size_t	i, n = 0, mul = 1;

	if (len < 3 || s[len - 1] != '}')
		return 0;
	i = len - 2;
	if (s[i] == '+')
		i--;
	for (; i > 0 && isdigit((unsigned char)s[i]); i--) {
		n += (size_t)(s[i] - '0') * mul;
		if ((mul *= 10) > 100000000)
			return PROTO_MAX_LINE;
	}
	return s[i] == '{' ? n : 0;
}

/*
 * Split the input into lines and hand them to the module.  Whatever is
 * left once the module has switched to TLS was sent before the handshake
 * by someone who did not wait for it: never let it near the TLS session.
 */
void
proto_from_tls(struct negotiation *p, const char *data, size_t len,
    struct proto_out *out)
{
	size_t	i, n;

	if (p->done) {
		fail(p, out, "unexpected input after the opening");
		return;
	}
	if ((p->total += len) > PROTO_MAX_BYTES) {
		fail(p, out, "more than %d bytes of clear text", PROTO_MAX_BYTES);
		return;
	}
	for (i = 0; i < len; i++) {
		if (p->blen == sizeof(p->buf)) {
			fail(p, out, "a line longer than %d bytes",
			    PROTO_MAX_LINE);
			return;
		}
		p->buf[p->blen++] = data[i];
		if (p->literal > 0) {
			p->literal--;
			continue;
		}
		if (data[i] != '\n')
			continue;
		n = p->blen - 1;
		if (n > 0 && p->buf[n - 1] == '\r')
			n--;
		if (p->literals && (p->literal = literal_size(p->buf, n)) > 0)
			continue;
		if (++p->nlines > PROTO_MAX_LINES) {
			fail(p, out, "more than %d lines", PROTO_MAX_LINES);
			return;
		}
		log_line(out, p->buf, n);
		p->blen = 0;
		p->ops->line(p, p->buf, n, out);
		if (p->done) {
			if (out->start_tls && i + 1 < len)
				fail(p, out, "%zu bytes arrived after the switch "
				    "reply, before the TLS handshake (response "
				    "injection?)", len - i - 1);
			return;
		}
	}
}
