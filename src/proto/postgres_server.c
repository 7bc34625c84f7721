/*
 * PostgreSQL server role (protocol 3.0, "SSL Session Encryption"):
 * SSLRequest gets 'S' and the handshake, GSSENCRequest 'N' (the client
 * asks again).  A StartupMessage or CancelRequest in clear text gets
 * FATAL 28000 "SSL required" and the end, unless --allow-plain: then it
 * and everything after go to the backend in clear text.
 */
#include "config.h"

#include <stdio.h>

#include "proto_impl.h"

#define SSL_REQUEST	80877103
#define GSSENC_REQUEST	80877104
#define CANCEL_REQUEST	80877102
#define MAX_STARTUP	10000	/* as the server's MAX_STARTUP_PACKET_LENGTH */

/* ErrorResponse: S FATAL, V FATAL, C 28000, M "SSL required". */
static const char ssl_required[] = "E\0\0\0\050SFATAL\0VFATAL\0C28000\0"
    "MSSL required\0" "\0";

static unsigned long
int32(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;

	return (unsigned long)u[0] << 24 | (unsigned long)u[1] << 16 |
	    (unsigned long)u[2] << 8 | u[3];
}

static size_t
pg_data(struct negotiation *p, int tls_side, const char *buf, size_t len,
    struct proto_out *out)
{
	unsigned long	n, code;

	if (!tls_side) {
		proto_fail(p, out,
		    "the backend spoke before the StartupMessage");
		return 0;
	}
	if (len < 8)
		return 0;
	if ((n = int32(buf)) < 8 || n > MAX_STARTUP) {
		proto_fail(p, out,
		    "not a PostgreSQL startup packet (length %lu)", n);
		return 0;
	}
	if (len < n)
		return 0;
	code = int32(buf + 4);
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
	pbuf_str(&out->log, code == CANCEL_REQUEST ? "C: CancelRequest\n" :
	    "C: StartupMessage\n");
	if (p->cfg.allow_plain) {
		/* Nothing used: it and all after it go to the backend. */
		proto_fall_back(p, out,
		    "a %s without SSLRequest: --allow-plain, so "
		    "relaying in CLEAR TEXT", code == CANCEL_REQUEST ?
		    "CancelRequest" : "StartupMessage");
		return 0;
	}
	pbuf_add(&out->to_tls, ssl_required, sizeof(ssl_required) - 1);
	pbuf_str(&out->log, "S: ErrorResponse FATAL 28000 SSL required\n");
	proto_fail(p, out, "a %s without SSLRequest: refused (SSL required)",
	    code == CANCEL_REQUEST ? "CancelRequest" : "StartupMessage");
	return n;
}

const struct proto_ops postgres_server_ops = {
	.data = pg_data,
};
