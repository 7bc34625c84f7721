/*
 * PostgreSQL server role (protocol 3.0, "SSL Session Encryption"):
 * SSLRequest gets 'S' and the handshake, GSSENCRequest 'N' (the client
 * asks again).  A StartupMessage in clear text gets FATAL 28000 "SSL
 * required" and the end, unless --allow-plain: then it and everything
 * after go to the backend in clear text.  A CancelRequest, which libpq
 * sends in clear text on a connection of its own, goes to the backend:
 * it is 16 bytes and the whole of its connection.  A TLS ClientHello as
 * the first bytes is PostgreSQL 17's direct TLS (ALPN "postgresql").
 */
#include "config.h"

#include <stdio.h>

#include "proto_impl.h"

#define SSL_REQUEST	80877103
#define GSSENC_REQUEST	80877104
#define CANCEL_REQUEST	80877102
#define CANCEL_LEN	16	/* length, code, process ID, secret key */
#define MAX_STARTUP	10000	/* as the server's MAX_STARTUP_PACKET_LENGTH */
#define TLS_HANDSHAKE	0x16	/* a TLS record's type; a length's
				   first byte is 0 (at most 10000) */

/* ErrorResponse: S FATAL, V FATAL, C 28000, M "SSL required". */
static const char ssl_required[] = "E\0\0\0\050SFATAL\0VFATAL\0C28000\0"
    "MSSL required\0" "\0";

struct pg_state {
	int	 begun;		/* a request came: no direct TLS */
	int	 cancelled;	/* a CancelRequest went to the backend */
};

static struct pg_state *
st(struct negotiation *p)
{
	return p->priv;
}

/*
 * Direct TLS: what the client sent so far is the start of its ClientHello,
 * the TLS session's own first bytes; PostgreSQL 17 requires its ALPN.
 */
static size_t
direct_tls(struct negotiation *p, const char *buf, size_t len,
    struct proto_out *out)
{
	pbuf_str(&out->log, "C: a TLS ClientHello (direct TLS, ALPN "
	    "postgresql required)\n");
	pbuf_add(&out->tls_first, buf, len);
	out->alpn = "postgresql";
	proto_switch_now(p, out);
	return len;
}

/*
 * A CancelRequest goes to the backend, which answers nothing and closes.
 * The connection carries those 16 bytes and nothing else: anything behind
 * them ends the session (pg_data), in the same read or a later one alike.
 */
static size_t
cancel(struct negotiation *p, unsigned long n, const char *buf,
    struct proto_out *out)
{
	if (n != CANCEL_LEN) {
		proto_fail(p, out, "a CancelRequest of %lu bytes, not %d", n,
		    CANCEL_LEN);
		return 0;
	}
	pbuf_str(&out->log, "C: CancelRequest (forwarded to the backend)\n");
	pbuf_add(&out->to_plain, buf, CANCEL_LEN);
	st(p)->cancelled = 1;
	return CANCEL_LEN;
}

static size_t
pg_data(struct negotiation *p, int tls_side, const char *buf, size_t len,
    struct proto_out *out)
{
	unsigned long	n, code;

	if (st(p)->cancelled) {
		proto_fail(p, out, "%zu bytes from %s after a CancelRequest: "
		    "dropped (it is the whole of its connection)", len,
		    tls_side ? "the client" : "the backend");
		return 0;
	}
	if (!tls_side) {
		proto_fail(p, out,
		    "the backend spoke before the StartupMessage");
		return 0;
	}
	if (!st(p)->begun && (unsigned char)buf[0] == TLS_HANDSHAKE)
		return direct_tls(p, buf, len, out);
	if (len < 8)
		return 0;
	if ((n = proto_be32(buf)) < 8 || n > MAX_STARTUP) {
		proto_fail(p, out,
		    "not a PostgreSQL startup packet (length %lu)", n);
		return 0;
	}
	if (len < n)
		return 0;
	st(p)->begun = 1;
	code = proto_be32(buf + 4);
	if (code == CANCEL_REQUEST)
		return cancel(p, n, buf, out);
	if (code == SSL_REQUEST && n == 8) {
		pbuf_str(&out->log, "C: SSLRequest\nS: S\n");
		pbuf_add(&out->to_tls, "S", 1);
		proto_switch_now(p, out);
		return n;
	}
	if (code == GSSENC_REQUEST && n == 8) {
		pbuf_str(&out->log, "C: GSSENCRequest\nS: N\n");
		pbuf_add(&out->to_tls, "N", 1);
		return n;
	}
	pbuf_str(&out->log, "C: StartupMessage\n");
	if (p->cfg.allow_plain) {
		/* Nothing used: it and all after it go to the backend. */
		proto_fall_back(p, out, "a StartupMessage without SSLRequest: "
		    "--allow-plain, so relaying in CLEAR TEXT");
		return 0;
	}
	pbuf_add(&out->to_tls, ssl_required, sizeof(ssl_required) - 1);
	pbuf_str(&out->log, "S: ErrorResponse FATAL 28000 SSL required\n");
	proto_fail(p, out,
	    "a StartupMessage without SSLRequest: refused (SSL required)");
	return n;
}

const struct proto_ops postgres_server_ops = {
	.data = pg_data,
	.size = sizeof(struct pg_state),
};
