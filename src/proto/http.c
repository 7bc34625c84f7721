/*
 * HTTP Upgrade to TLS, client role (RFC 2817 3.2): OPTIONS *, then 101.
 * Inside TLS the server answers the OPTIONS itself (3.3); that answer is
 * ours, so it is read and dropped before the plain side's requests go on,
 * or every answer they get would be the one before theirs.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	STATUS,
	HEADERS,
	TLS_STATUS,	/* inside TLS: the answer to OPTIONS * */
	TLS_HEADERS,
	TLS_BODY
};

/* Bounds on that answer: its status line and headers, and its body. */
#define ANSWER_MAX_HEAD	PROTO_MAX_BYTES
#define ANSWER_MAX_BODY	PROTO_MAX_BYTES

struct http_state {
	int		 state;
	int		 upgrade_tls;	/* the 101 upgrades to TLS */
	int		 in_upgrade;	/* the header line is Upgrade: (it
					   may go on) */
	int		 interim;	/* inside TLS: a 1xx, more comes */
	int		 no_body;	/* a 204 or 304: none, whatever the
					   headers say */
	size_t		 head;		/* its bytes so far */
	size_t		 body;		/* its Content-Length */
};

static struct http_state *
st(struct negotiation *p)
{
	return p->priv;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * RFC 7230 5.4: an IPv6 literal in brackets, and the port unless it is
 * 80.  A service name is no port number: the name alone.
 */
static void
http_start(struct negotiation *p, struct proto_out *out)
{
	const char	*h = p->cfg.host, *port = p->cfg.port;
	int		 v6 = strchr(h, ':') != NULL && h[0] != '[';
	int		 with_port = port != NULL && all_digits(port) &&
			    strcmp(port, "80") != 0;

	proto_send_line(p, out, "OPTIONS * HTTP/1.1");
	proto_send_line(p, out, "Host: %s%s%s%s%s", v6 ? "[" : "", h,
	    v6 ? "]" : "", with_port ? ":" : "", with_port ? port : "");
	proto_send_line(p, out, "Upgrade: TLS/1.0");
	proto_send_line(p, out, "Connection: Upgrade");
	proto_send_line(p, out, "%s", "");
}

static void
http_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	shown = proto_shown(len);

	switch (st(p)->state) {
	case STATUS:
		if (len < 12 || strncmp(s, "HTTP/1.", 7) != 0 || s[8] != ' ') {
			proto_fail(p, out, "malformed HTTP status line: '%.*s'",
			    shown,
			    s);
			return;
		}
		if (strncmp(s + 9, "101", 3) != 0) {
			if (p->cfg.opportunistic)
				proto_fail(p, out,
				    "the server refused the upgrade "
				    "('%.*s'); --opportunistic cannot help "
				    "once it has answered", shown, s);
			else
				proto_fail(p, out,
				    "the server refused the upgrade: "
				    "'%.*s'", shown, s);
			return;
		}
		st(p)->state = HEADERS;
		return;
	case HEADERS:
		if (len == 0) {
			if (!st(p)->upgrade_tls) {
				proto_fail(p, out,
				    "101 without an Upgrade to TLS");
				return;
			}
			proto_switch_now(p, out);
			return;
		}
		/* Folded continuation lines belong to the previous header. */
		if (s[0] == ' ' || s[0] == '\t') {
			if (st(p)->in_upgrade &&
			    proto_list_token(s, len, "TLS/"))
				st(p)->upgrade_tls = 1;
			return;
		}
		st(p)->in_upgrade = len >= 8 &&
		    strncasecmp(s, "Upgrade:", 8) == 0;
		if (st(p)->in_upgrade &&
		    proto_list_token(s + 8, len - 8, "TLS/"))
			st(p)->upgrade_tls = 1;
		return;
	}
}

static void
http_established(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	st(p)->state = TLS_STATUS;
}

static void
answer_fail(struct negotiation *p, struct proto_out *out, const char *what,
    const char *s, size_t len)
{
	proto_fail(p, out, "the server's answer to OPTIONS * inside TLS: "
	    "%s: '%.*s'", what, proto_shown(len), s);
}

/* 1xx are interim (RFC 7231 6.2); 204 and 304 have no body (7230 3.3.3). */
static void
answer_status(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	code;

	if (len < 12 || strncmp(s, "HTTP/1.", 7) != 0 || s[8] != ' ' ||
	    (code = proto_reply_code(s + 9, len - 9, " ")) < 100) {
		answer_fail(p, out, "malformed status line", s, len);
		return;
	}
	st(p)->interim = code < 200;
	st(p)->no_body = code < 200 || code == 204 || code == 304;
	st(p)->body = 0;
	st(p)->state = TLS_HEADERS;
}

/* A Content-Length value: digits only, and bounded; else -1. */
static int
content_length(const char *s, size_t len, size_t *n)
{
	size_t	i = 0;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len)
		return -1;
	for (*n = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) || *n > ANSWER_MAX_BODY)
			return -1;
		*n = *n * 10 + (size_t)(s[i] - '0');
	}
	return *n > ANSWER_MAX_BODY ? -1 : 0;
}

/* Only Content-Length frames the body here: chunks are refused. */
static void
answer_header(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (len >= 18 && strncasecmp(s, "Transfer-Encoding:", 18) == 0) {
		answer_fail(p, out, "no Transfer-Encoding here", s, len);
		return;
	}
	if (len < 15 || strncasecmp(s, "Content-Length:", 15) != 0)
		return;
	if (content_length(s + 15, len - 15, &st(p)->body) == -1)
		answer_fail(p, out, "a malformed or too large "
		    "Content-Length", s, len);
}

/*
 * The end of the headers: the body, if any, goes by as data (its end is
 * a line of length 0), then the plain side's turn.  Without a
 * Content-Length there is none: a server that keeps the connection for
 * the requests to come cannot mean a body up to its close.
 */
static void
answer_end(struct negotiation *p, struct proto_out *out)
{
	if (st(p)->interim) {
		st(p)->state = TLS_STATUS;
		return;
	}
	if (st(p)->no_body || st(p)->body == 0) {
		out->relay = 1;
		return;
	}
	inside_raw(p, 1, st(p)->body);
	st(p)->state = TLS_BODY;
}

static void
http_inside(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	size_t	len = proto_line_len(l->s, l->len);

	if (st(p)->state == TLS_BODY) {
		out->relay = 1;		/* the body went by */
		return;
	}
	if (!l->whole) {
		answer_fail(p, out, "a line longer than 8192 bytes", l->head,
		    l->headlen);
		return;
	}
	if ((st(p)->head += l->len) > ANSWER_MAX_HEAD) {
		answer_fail(p, out, "more than 64 KiB of status line and "
		    "headers", l->s, len);
		return;
	}
	proto_log_line(p, out, 1, l->s, len);
	if (st(p)->state == TLS_STATUS)
		answer_status(p, l->s, len, out);
	else if (len == 0)
		answer_end(p, out);
	else
		answer_header(p, l->s, len, out);
}

/* Inside TLS the plain side is not read: the server speaks first. */
static void
http_plain_early(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	(void)l;
	proto_fail(p, out, "unexpected input from the plain side");
}

const struct proto_ops http_client_ops = {
	.size = sizeof(struct http_state),
	.start = http_start,
	.line = http_line,
	.established = http_established,
	.inside_tls = http_inside,
	.inside_plain = http_plain_early,
};
