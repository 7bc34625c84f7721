/*
 * PostgreSQL client role (protocol 3.0, "SSL Session Encryption"): send
 * SSLRequest, require the single byte 'S'.  The plain client sends its own
 * StartupMessage, inside TLS.
 */
#include "config.h"

#include "proto_impl.h"

/* Int32 8, Int32 80877103. */
static const char ssl_request[] = "\0\0\0\010\004\322\026\057";

static void
pg_start(struct negotiation *p, struct proto_out *out)
{
	(void)p;
	pbuf_add(&out->to_tls, ssl_request, sizeof(ssl_request) - 1);
	pbuf_str(&out->log, "C: SSLRequest\n");
}

/*
 * Nothing may follow 'S' before the handshake (CVE-2021-23222): the
 * framework fails whatever is left.
 */
static size_t
pg_data(struct negotiation *p, int tls_side, const char *buf, size_t len,
    struct proto_out *out)
{
	(void)tls_side;
	(void)len;
	switch (buf[0]) {
	case 'S':
		pbuf_str(&out->log, "S: S (SSL accepted)\n");
		proto_switch_now(p, out);
		return 1;
	case 'N':
		pbuf_str(&out->log, "S: N (SSL not supported)\n");
		pbuf_str(&p->caps, "'N'");
		/* --opportunistic: what follows is clear text for it. */
		proto_not_offered(p, out, "SSL");
		return 1;
	case 'E':
		proto_fail(p, out,
		    "the server answered SSLRequest with an error");
		return 0;
	default:
		proto_fail(p, out,
		    "the server answered SSLRequest with 0x%02x, not "
		    "'S' or 'N'", (unsigned char)buf[0]);
		return 0;
	}
}

const struct proto_ops postgres_client_ops = {
	.start = pg_start,
	.data = pg_data,
};
