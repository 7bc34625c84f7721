#include "config.h"

#include <ctype.h>
#include <stdarg.h>
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
	pbuf_str(&out->log, p->cfg.role == ROLE_CLIENT ? "C: " : "S: ");
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
	int			 server;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cfg = *cfg;
	server = cfg->role == ROLE_SERVER;
	switch (cfg->proto) {
	case PROTO_SMTP:
	case PROTO_LMTP:
		p->ops = server ? &smtp_server_ops : &smtp_client_ops;
		break;
	case PROTO_IMAP:
		p->ops = server ? &imap_server_ops : &imap_client_ops;
		p->literals = server ? 0 : LITERALS_TLS;
		break;
	case PROTO_POP3:
		p->ops = server ? &pop3_server_ops : &pop3_client_ops;
		break;
	case PROTO_HTTP:
		p->ops = server ? &http_server_ops : &http_client_ops;
		break;
	case PROTO_POSTGRES:
		p->ops = server ? &postgres_server_ops : &postgres_client_ops;
		break;
	case PROTO_LDAP:
		p->ops = server ? &ldap_server_ops : &ldap_client_ops;
		break;
	case PROTO_NNTP:
		p->ops = server ? &nntp_server_ops : &nntp_client_ops;
		break;
	case PROTO_SIEVE:
		/* Strings may be literals; a server's only in its replies. */
		p->ops = server ? &sieve_server_ops : &sieve_client_ops;
		p->literals = server ? LITERALS_TLS | LITERALS_PLAIN :
		    LITERALS_TLS;
		break;
	case PROTO_FTP:
		p->ops = server ? &ftp_server_ops : &ftp_client_ops;
		break;
	case PROTO_XMPP:
		p->ops = server ? &xmpp_server_ops : &xmpp_client_ops;
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
	free(p->priv);
	free(p->tl.held.data);
	free(p->pl.held.data);
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
log_line(struct proto_out *out, const char *who, const char *line, size_t len)
{
	pbuf_str(&out->log, who);
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

	while (!p->done && !(tls_side && p->awaiting) && l->held.len > 0) {
		if (p->ops->data != NULL) {
			if ((end = p->ops->data(p, tls_side, l->held.data,
			    l->held.len, out)) == 0)
				break;
			memmove(l->held.data, l->held.data + end,
			    l->held.len - end);
			l->held.len -= end;
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
			if (!(p->literals & (tls_side ? LITERALS_TLS :
			    LITERALS_PLAIN)) ||
			    (lit = literal_size(l->held.data, n)) == 0)
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
		/* Copy: the module may add to held lines (it never does now). */
		if ((line = malloc(n + 1)) == NULL)
			abort();
		memcpy(line, l->held.data, n);
		line[n] = '\0';
		memmove(l->held.data, l->held.data + end, l->held.len - end);
		l->held.len -= end;
		/* Server role: "B:" for the backend, "S:" for our answers. */
		log_line(out, p->cfg.role == ROLE_CLIENT ? "S: " :
		    tls_side ? "C: " : "B: ", line, n);
		if (tls_side)
			p->ops->line(p, line, n, out);
		else
			p->ops->plain_line(p, line, n, out);
		free(line);
	}
	if (p->done && out->start_tls && tls_side && l->held.len > 0)
		fail(p, out, "%zu bytes arrived after the switch %s, before the "
		    "TLS handshake (%s injection?)", l->held.len,
		    p->cfg.role == ROLE_CLIENT ? "reply" : "command",
		    p->cfg.role == ROLE_CLIENT ? "response" : "command");
}

static void
feed(struct negotiation *p, struct lines *l, const char *data, size_t len,
    struct proto_out *out)
{
	if (p->done) {
		fail(p, out, "unexpected input after the opening");
		return;
	}
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
	feed(p, &p->tl, data, len, out);
}

void
proto_from_plain(struct negotiation *p, const char *data, size_t len,
    struct proto_out *out)
{
	if (p->ops->plain_line == NULL && (p->ops->data == NULL ||
	    p->cfg.role == ROLE_CLIENT)) {
		fail(p, out, "unexpected input from the plain side");
		return;
	}
	feed(p, &p->pl, data, len, out);
}

/*
 * Client role, TLS is up: the plain side sees the server's greeting, as if
 * it had connected itself (the server does not greet again inside TLS).
 */
void
replay_greeting(struct negotiation *p, struct proto_out *out)
{
	pbuf_add(&out->to_plain, p->greeting.data, p->greeting.len);
}

/* Server role: the backend's reply is complete; the client's next lines. */
void
reply_done(struct negotiation *p, struct proto_out *out)
{
	p->awaiting = 0;
	drain(p, &p->tl, out);
}

/*
 * Binary protocols' "unavailable": a PostgreSQL ErrorResponse (FATAL 08006
 * connection_failure) and an LDAP Notice of Disconnection (RFC 4511 4.4.1:
 * messageID 0, unavailable).
 */
static const char pg_unavailable[] = "E\0\0\0\100SFATAL\0VFATAL\0C08006\0"
    "Mthe database server is not available\0" "\0";
static const char ldap_unavailable[] = "\x30\x49\x02\x01\x00\x78\x44"
    "\x0a\x01\x34\x04\x00\x04\x25" "the directory server is not available"
    "\x8a\x16" "1.3.6.1.4.1.1466.20036";

/* Server role: what a client is told when the backend cannot be reached. */
const char *
proto_unavailable(enum proto proto)
{
	switch (proto) {
	case PROTO_SMTP:
	case PROTO_LMTP:
		return "421 4.3.2 Service not available, closing channel\r\n";
	case PROTO_IMAP:
		return "* BYE Service not available\r\n";
	case PROTO_POP3:
		return "-ERR Service not available\r\n";
	case PROTO_HTTP:
		return "HTTP/1.1 503 Service Unavailable\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	case PROTO_POSTGRES:
		return pg_unavailable;
	case PROTO_LDAP:
		return ldap_unavailable;
	case PROTO_NNTP:
		return "400 Service temporarily unavailable\r\n";
	case PROTO_SIEVE:
		return "BYE (TRYLATER) \"Service not available\"\r\n";
	case PROTO_FTP:
		return "421 Service not available, closing control connection\r\n";
	case PROTO_XMPP:
		return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
		    "xmlns:stream='http://etherx.jabber.org/streams' "
		    "version='1.0'><stream:error><remote-connection-failed "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
		    "</stream:stream>";
	default:
		return NULL;
	}
}

/* Its length: binary ones hold NUL bytes. */
size_t
proto_unavailable_len(enum proto proto)
{
	if (proto == PROTO_POSTGRES)
		return sizeof(pg_unavailable) - 1;
	if (proto == PROTO_LDAP)
		return sizeof(ldap_unavailable) - 1;
	return proto_unavailable(proto) ? strlen(proto_unavailable(proto)) : 0;
}
