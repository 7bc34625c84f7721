/*
 * PostgreSQL client role (protocol 3.0, "SSL Session Encryption"): send
 * SSLRequest, require the single byte 'S'.  The plain client sends its own
 * StartupMessage, inside TLS.  Until the login is done the server's
 * messages are read: SASL mechanisms with channel binding (-PLUS) bind to
 * our TLS, which the plain client cannot see, and libpq refuses a server
 * that offers them over a connection without TLS, so they are withheld.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto_impl.h"

#define SSL_REQUEST	80877103
#define GSSENC_REQUEST	80877104
#define AUTH_OK		0
#define AUTH_SASL	10
#define MAX_AUTH_MSG	65536	/* a server message during the login */

struct pg_state {
	int		 startup;	/* the plain client's StartupMessage
					   went */
	unsigned	 answers;	/* one-byte answers due from the server
					   (to its SSLRequest, GSSENCRequest) */
};

static struct pg_state *
st(struct negotiation *p)
{
	return p->priv;
}

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

/* Both sides flow through the module until the login is done. */
static void
pg_established(struct negotiation *p, struct proto_out *out)
{
	proto_watch(p, out);
}

/*
 * The plain client: its own GSSENCRequest and SSLRequest (sslmode=prefer)
 * get a single byte each from the server, inside TLS ('N'); the rest goes
 * on.  More than those two is no login of libpq's: as it is.
 */
static size_t
from_client(struct negotiation *p, const char *buf, size_t len,
    struct proto_out *out)
{
	unsigned long	code;

	if (st(p)->startup) {
		inside_pass(p, 0, buf, len, out);
		return len;
	}
	if (len < 8)
		return 0;
	code = proto_be32(buf + 4);
	if (proto_be32(buf) != 8 || (code != SSL_REQUEST &&
	    code != GSSENC_REQUEST) || st(p)->answers == 2) {
		st(p)->startup = 1;
		return from_client(p, buf, len, out);
	}
	st(p)->answers++;
	inside_pass(p, 0, buf, 8, out);
	return 8;
}

/*
 * AuthenticationSASL: its mechanisms, each NUL-terminated, then a NUL.
 * The plain client gets those without channel binding, its length
 * rewritten; -v names those withheld.
 */
static void
sasl(struct negotiation *p, const char *msg, size_t n, struct proto_out *out)
{
	struct pbuf	 keep = { NULL, 0, 0 }, gone = { NULL, 0, 0 };
	const char	*m = msg + 9, *end = msg + n - 1, *nul;
	unsigned char	 hdr[9];
	size_t		 len;

	for (; m < end; m = nul + 1) {
		if ((nul = memchr(m, '\0', (size_t)(end - m))) == NULL ||
		    nul == m)
			break;
		len = (size_t)(nul - m);
		if (len > 5 && memcmp(nul - 5, "-PLUS", 5) == 0) {
			pbuf_str(&gone, gone.len ? ", " : "");
			pbuf_add(&gone, m, len);
		} else
			pbuf_add(&keep, m, len + 1);
	}
	if (m != end || *end != '\0' || keep.len == 0) {
		proto_fail(p, out, m != end || *end != '\0' ?
		    "a malformed AuthenticationSASL from the server" :
		    "the server offers only SASL mechanisms with channel "
		    "binding, which the plain client cannot do: %s",
		    gone.len ? gone.data : "none");
		goto out;
	}
	len = 4 + 4 + keep.len + 1;
	hdr[0] = 'R';
	hdr[1] = (unsigned char)(len >> 24);
	hdr[2] = (unsigned char)(len >> 16);
	hdr[3] = (unsigned char)(len >> 8);
	hdr[4] = (unsigned char)len;
	memcpy(hdr + 5, msg + 5, 4);
	inside_pass(p, 1, (const char *)hdr, sizeof(hdr), out);
	inside_pass(p, 1, keep.data, keep.len, out);
	inside_pass(p, 1, "", 1, out);
	pbuf_str(&out->log, "S: AuthenticationSASL\n");
	if (gone.len > 0) {
		pbuf_str(&out->log, "SASL mechanisms withheld from the plain "
		    "client (channel binding to our TLS): ");
		pbuf_add(&out->log, gone.data, gone.len);
		pbuf_str(&out->log, "\n");
	}
out:
	free(keep.data);
	free(gone.data);
}

/*
 * The server, inside TLS, one message at a time until the login is done
 * (AuthenticationOk) or refused (ErrorResponse): then the module hands
 * over and the rest goes on untouched.
 */
static size_t
from_server(struct negotiation *p, const char *buf, size_t len,
    struct proto_out *out)
{
	unsigned long	n;

	if (st(p)->answers > 0) {
		st(p)->answers--;
		inside_pass(p, 1, buf, 1, out);
		return 1;
	}
	/* Unasked: no login of ours to mend, so hand over. */
	if (!st(p)->startup) {
		pbuf_str(&out->log, "the server spoke before the "
		    "StartupMessage: relayed as it is\n");
		inside_pass(p, 1, buf, len, out);
		out->relay = 1;
		return len;
	}
	if (len < 5)
		return 0;
	if ((n = proto_be32(buf + 1)) < 4 || n > MAX_AUTH_MSG - 1) {
		proto_fail(p, out, "a message from the server of length %lu "
		    "during the login", n);
		return 0;
	}
	if (len < n + 1)
		return 0;
	if (buf[0] == 'R' && n >= 8 && proto_be32(buf + 5) == AUTH_SASL)
		sasl(p, buf, n + 1, out);
	else
		inside_pass(p, 1, buf, n + 1, out);
	if (buf[0] == 'E' || (buf[0] == 'R' && n >= 8 &&
	    proto_be32(buf + 5) == AUTH_OK)) {
		pbuf_str(&out->log, buf[0] == 'E' ? "S: ErrorResponse\n" :
		    "S: AuthenticationOk\n");
		out->relay = 1;
	}
	return n + 1;
}

static size_t
pg_inside(struct negotiation *p, int tls_side, const char *buf, size_t len,
    struct proto_out *out)
{
	return tls_side ? from_server(p, buf, len, out) :
	    from_client(p, buf, len, out);
}

const struct proto_ops postgres_client_ops = {
	.start = pg_start,
	.data = pg_data,
	.established = pg_established,
	.inside_data = pg_inside,
	.size = sizeof(struct pg_state),
};
