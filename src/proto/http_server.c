/*
 * HTTP Upgrade to TLS, server role (RFC 2817): a request carrying
 * "Upgrade: TLS/1.x" and "Connection: Upgrade" gets 101 and the handshake;
 * inside TLS, a real request goes to the backend, and OPTIONS * is
 * answered 200 (3.3).  Any other request gets 426.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	REQUEST,	/* the request line is due */
	HEADERS
};

struct http_state {
	int		 state;
	unsigned	 flags;		/* what the request says, below */
	struct pbuf	 request;	/* it, for the plain side */
};

static struct http_state *
st(struct negotiation *p)
{
	return p->priv;
}

/* Flags in st(p)->flags. */
#define UPGRADE_TLS	1
#define CONN_UPGRADE	2
#define HAS_BODY	4
#define OPTIONS_STAR	8
#define LAST_UPGRADE	16	/* the header being folded is Upgrade */
#define LAST_CONN	32

static void
header(struct negotiation *p, const char *s, size_t len)
{
	const char	*v;
	size_t		 vlen;

	if (s[0] == ' ' || s[0] == '\t') {
		v = s;
		vlen = len;
	} else {
		st(p)->flags &= ~(LAST_UPGRADE | LAST_CONN);
		if ((v = memchr(s, ':', len)) == NULL)
			return;
		vlen = len - (size_t)(v - s) - 1;
		if ((size_t)(v - s) == 7 && strncasecmp(s, "Upgrade", 7) == 0)
			st(p)->flags |= LAST_UPGRADE;
		else if ((size_t)(v - s) == 10 &&
		    strncasecmp(s, "Connection", 10) == 0)
			st(p)->flags |= LAST_CONN;
		else if (((size_t)(v - s) == 14 &&
		    strncasecmp(s, "Content-Length", 14) == 0 &&
		    strtoul(v + 1, NULL, 10) > 0) || ((size_t)(v - s) == 17 &&
		    strncasecmp(s, "Transfer-Encoding", 17) == 0))
			st(p)->flags |= HAS_BODY;
		v++;
	}
	if ((st(p)->flags & LAST_UPGRADE) && proto_list_token(v, vlen, "TLS/"))
		st(p)->flags |= UPGRADE_TLS;
	if ((st(p)->flags & LAST_CONN) && proto_list_token(v, vlen, "upgrade"))
		st(p)->flags |= CONN_UPGRADE;
	/* The request as the backend will see it: without the upgrade. */
	if (!(st(p)->flags & (LAST_UPGRADE | LAST_CONN))) {
		pbuf_add(&st(p)->request, s, len);
		pbuf_add(&st(p)->request, "\r\n", 2);
	}
}

static void
refuse(struct negotiation *p, struct proto_out *out, const char *status)
{
	proto_send_line(p, out, "HTTP/1.1 %s", status);
	proto_send_line(p, out, "Upgrade: TLS/1.0, HTTP/1.1");
	proto_send_line(p, out, "Connection: Upgrade");
	proto_send_line(p, out, "Content-Length: 0");
	proto_send_line(p, out, "%s", "");
	st(p)->state = REQUEST;
}

static void
http_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (st(p)->state == REQUEST) {
		if (len == 0)
			return;		/* RFC 7230 3.5: skip empty lines */
		if (len < 14 || memmem(s, len, " HTTP/1.", 8) == NULL) {
			proto_fail(p, out, "not an HTTP/1 request: '%.*s'",
			    proto_shown(len), s);
			return;
		}
		st(p)->flags = len >= 18 &&
		    strncmp(s, "OPTIONS * HTTP/1.", 17) == 0 ? OPTIONS_STAR : 0;
		st(p)->request.len = 0;
		pbuf_add(&st(p)->request, s, len);
		pbuf_add(&st(p)->request, "\r\n", 2);
		st(p)->state = HEADERS;
		return;
	}
	if (len > 0) {
		header(p, s, len);
		return;
	}
	if ((st(p)->flags & (UPGRADE_TLS | CONN_UPGRADE)) !=
	    (UPGRADE_TLS | CONN_UPGRADE)) {
		if (p->cfg.allow_plain) {
			/* Clear text from here on, this request first. */
			pbuf_add(&st(p)->request, "\r\n", 2);
			pbuf_add(&out->to_plain, st(p)->request.data,
			    st(p)->request.len);
			proto_fall_back(p, out,
			    "a request without Upgrade: TLS: "
			    "--allow-plain, so relaying in CLEAR TEXT");
			return;
		}
		refuse(p, out, "426 Upgrade Required");
		return;
	}
	if (st(p)->flags & HAS_BODY) {
		refuse(p, out, "400 Bad Request");
		return;
	}
	pbuf_add(&st(p)->request, "\r\n", 2);
	proto_send_line(p, out, "HTTP/1.1 101 Switching Protocols");
	proto_send_line(p, out, "Upgrade: TLS/1.0, HTTP/1.1");
	proto_send_line(p, out, "Connection: Upgrade");
	proto_send_line(p, out, "%s", "");
	proto_switch_now(p, out);
}

/*
 * RFC 2817 3.3: the upgraded request itself is answered over TLS, and
 * its client waits for that answer (libcups does).  OPTIONS * asks the
 * server, which we are, and nothing of the backend, which may not know
 * it: we answer it ourselves.
 */
static void
http_established(struct negotiation *p, struct proto_out *out)
{
	if (!(st(p)->flags & OPTIONS_STAR)) {
		pbuf_add(&out->to_plain, st(p)->request.data,
		    st(p)->request.len);
		return;
	}
	proto_send_line(p, out, "HTTP/1.1 200 OK");
	proto_send_line(p, out, "Content-Length: 0");
	proto_send_line(p, out, "%s", "");
}

static void
http_free(struct negotiation *p)
{
	free(st(p)->request.data);
}

const struct proto_ops http_server_ops = {
	.size = sizeof(struct http_state),
	.free = http_free,
	.line = http_line,
	.established = http_established,
};
