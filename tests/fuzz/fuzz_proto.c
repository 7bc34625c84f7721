/*
 * libFuzzer target for every STARTTLS state machine in both roles.  The
 * first byte chooses the protocol (modulo PROTO_COUNT, in the order of
 * PROTO_MAP), the second the role (bit 0: server); then comes a byte of
 * flags (1: --opportunistic, 2: --allow-plain) and a list of chunks, each a
 * control byte (bit 7: from the plain side; bits 0-6: length) and its
 * bytes.  A chunk of length 0 from the plain side (0x80) is the TLS
 * handshake.  The client role reads its plain side only inside TLS, where
 * the module watches both sides (PostgreSQL's login): before, bit 7 is
 * ignored there.
 *
 * Beyond "no crash", it checks what the relay promises:
 *   - after a failure nothing more goes to either side;
 *   - between the switch and the handshake nothing goes to either side;
 *   - nothing the TLS-side peer sent before the switch is used after it:
 *     what goes to the plain side after the handshake is what a session
 *     whose opening was a plain, known-good one gets from the same bytes.
 *     (The backend is trusted: a line of its own begun before the switch
 *     and ended after it is its business, so such inputs are not compared.)
 *   - direct TLS (a start without a switch) hands TLS every byte the
 *     TLS-side peer sent, from its first, and nothing else.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define HANDSHAKE	0x80
#define MAX_AFTER	4096	/* post-handshake bytes compared */

struct chunk {
	char		 from;	/* 't', 'p' */
	const char	*s;
	size_t		 len;
};

#define C(f, s)	{ f, s, sizeof(s) - 1 }

/* A known-good opening for each protocol and role, up to the switch. */
static const struct chunk *
good_opening(enum proto proto, enum role role)
{
	static const struct chunk smtp_c[] = {
		C('t', "220 x\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n"), { 0 }
	}, imap_c[] = {
		C('t',
		    "* OK [CAPABILITY IMAP4rev1 STARTTLS] x\r\na1 OK go\r\n"),
		{ 0 }
	}, pop3_c[] = {
		C('t', "+OK x\r\n+OK\r\nSTLS\r\n.\r\n+OK go\r\n"), { 0 }
	}, nntp_c[] = {
		C('t', "200 x\r\n101 c\r\nSTARTTLS\r\n.\r\n382 go\r\n"), { 0 }
	}, sieve_c[] = {
		C('t', "\"STARTTLS\"\r\nOK\r\nOK\r\n"), { 0 }
	}, ftp_c[] = {
		C('t', "220 x\r\n211-F\r\n AUTH TLS\r\n211 E\r\n234 go\r\n"),
		    { 0 }
	}, http_c[] = {
		C('t', "HTTP/1.1 101 S\r\nUpgrade: TLS/1.0\r\n\r\n"), { 0 }
	}, pg_c[] = {
		C('t', "S"), { 0 }
	}, ldap_c[] = {
		C('t',
		    "\x30\x24\x02\x01\x01\x78\x1f\x0a\x01\x00\x04\x00\x04\x00"
		    "\x8a\x16" "1.3.6.1.4.1.1466.20037"), { 0 }
	}, xmpp_c[] = {
		C('t',
		    "<?xml version='1.0'?><stream:stream xmlns='jabber:client'"
		    " xmlns:stream='http://etherx.jabber.org/streams' id='1' "
		    "version='1.0'><stream:features><starttls xmlns='urn:ietf:"
		    "params:xml:ns:xmpp-tls'/></stream:features><proceed "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), { 0 }
	};
	static const struct chunk smtp_s[] = {
		C('p', "220 b\r\n"), C('t', "STARTTLS\r\n"), { 0 }
	}, imap_s[] = {
		C('p', "* OK b\r\n"), C('t', "a STARTTLS\r\n"), { 0 }
	}, pop3_s[] = {
		C('p', "+OK b\r\n"), C('t', "STLS\r\n"), { 0 }
	}, nntp_s[] = {
		C('p', "200 b\r\n"), C('t', "STARTTLS\r\n"), { 0 }
	}, sieve_s[] = {
		C('p', "OK\r\n"), C('t', "STARTTLS\r\n"), { 0 }
	}, ftp_s[] = {
		C('p', "220 b\r\n"), C('t', "AUTH TLS\r\n"), { 0 }
	}, pg_s[] = {
		C('t', "\0\0\0\010\004\322\026\057"), { 0 }
	}, ldap_s[] = {
		C('t', "\x30\x1d\x02\x01\x01\x77\x18\x80\x16"
		    "1.3.6.1.4.1.1466.20037"), { 0 }
	}, xmpp_s[] = {
		C('t',
		    "<stream:stream to='x' xmlns='jabber:client' xmlns:stream="
		    "'http://etherx.jabber.org/streams' version='1.0'><starttls "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), { 0 }
	};
	int	server = role == ROLE_SERVER;

	switch (proto) {
	case PROTO_SMTP:
	case PROTO_LMTP:
		return server ? smtp_s : smtp_c;
	case PROTO_IMAP:
		return server ? imap_s : imap_c;
	case PROTO_POP3:
		return server ? pop3_s : pop3_c;
	case PROTO_NNTP:
		return server ? nntp_s : nntp_c;
	case PROTO_SIEVE:
		return server ? sieve_s : sieve_c;
	case PROTO_FTP:
		return server ? ftp_s : ftp_c;
	case PROTO_HTTP:
		/*
		 * The server role answers the upgraded request itself inside
		 * TLS (RFC 2817 3.3): that one is carried over on purpose.
		 */
		return server ? NULL : http_c;
	case PROTO_POSTGRES:
		return server ? pg_s : pg_c;
	case PROTO_LDAP:
		return server ? ldap_s : ldap_c;
	case PROTO_XMPP:
		return server ? xmpp_s : xmpp_c;
	default:
		return NULL;
	}
}

struct run {
	struct negotiation	*p;
	enum role		 role;
	int			 failed, switched, established;
	int			 backend_held;	/* its bytes cross the switch */
	int			 watched;	/* both sides, inside TLS */
	/* What the TLS side sent before the switch, and how much in all. */
	char			 tls[MAX_AFTER];
	size_t			 tlslen;
	int			 plain_after;	/* the plain side is heard
						   inside TLS (FTP's client
						   role too) */
	char			 plain[MAX_AFTER];	/* to the plain side after */
	size_t			 plainlen;
};

static int
flags_of(const struct proto_out *out)
{
	return out->start_tls || out->fail || out->fallback || out->relay ||
	    out->watch;
}

/* Carry out one call's output, checking the promises above. */
static void
take(struct run *r, struct proto_out *out)
{
	int		said = out->to_tls.len > 0 || out->to_plain.len > 0;
	unsigned	port;

	if (r->failed && (said || flags_of(out)))
		abort();	/* something after a failure */
	if (r->switched && !r->established && (said || (flags_of(out) &&
	    !out->fail)))
		abort();	/* something during the handshake */
	if (out->tls_first.len > 0 && (!out->start_tls ||
	    out->tls_first.len != r->tlslen || memcmp(out->tls_first.data,
	    r->tls, r->tlslen < MAX_AFTER ? r->tlslen : MAX_AFTER) != 0))
		abort();	/* direct TLS without the peer's own bytes */
	if (r->established && out->to_plain.len > 0) {
		size_t	n = out->to_plain.len;

		if (n > MAX_AFTER - r->plainlen)
			n = MAX_AFTER - r->plainlen;
		memcpy(r->plain + r->plainlen, out->to_plain.data, n);
		r->plainlen += n;
	}
	if (out->fail)
		r->failed = 1;
	if (out->start_tls)
		r->switched = 1;
	if (out->watch)
		r->watched = 1;
	port = out->data_port;
	proto_out_free(out);
	/* FTP: the session opens a data listener, at once, as the relay. */
	if (port != 0 && !r->failed) {
		proto_out_init(out);
		proto_data_ready(r->p, port & 1 ? "127.0.0.1" : NULL, port,
		    out);
		take(r, out);
	}
}

static void
feed(struct run *r, char from, const char *s, size_t len)
{
	struct proto_out	out;

	proto_out_init(&out);
	if (from == 'p' && !r->established)
		r->backend_held = r->switched || len == 0 || s[len - 1] != '\n';
	if (from == 't' && !r->switched) {
		if (r->tlslen < MAX_AFTER)
			memcpy(r->tls + r->tlslen, s, len < MAX_AFTER -
			    r->tlslen ? len : MAX_AFTER - r->tlslen);
		r->tlslen += len;
	}
	if (from == 'p')
		proto_from_plain(r->p, s, len, &out);
	else
		proto_from_tls(r->p, s, len, &out);
	take(r, &out);
}

static void
handshake(struct run *r)
{
	struct proto_out	out;

	if (!r->switched || r->established || r->failed)
		return;
	proto_out_init(&out);
	r->established = 1;
	proto_established(r->p, &out);
	take(r, &out);
}

/* The chunks of data[from..size) after the handshake marker, fed to r. */
static void
feed_after(struct run *r, const uint8_t *data, size_t size, size_t i)
{
	size_t	len;
	int	plain;

	while (i < size && !r->failed) {
		plain = data[i] & 0x80;
		len = data[i++] & 0x7f;
		if (len > size - i)
			len = size - i;
		if (len > 0)
			feed(r, plain && (r->plain_after || r->watched) ? 'p' :
			    't', (const char *)data + i, len);
		i += len;
	}
}

/* Both runs of an input: the fuzzed one and the known-good one. */
static void
run_init(struct run *r, const struct proto_cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->role = cfg->role;
	r->plain_after = cfg->role == ROLE_SERVER || cfg->proto == PROTO_FTP;
	if ((r->p = proto_new(cfg)) == NULL)
		abort();	/* every protocol in the table has both */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_cfg	 cfg = { PROTO_NONE, ROLE_CLIENT, "localhost",
				    "localhost", 0, 0, 0, NULL };
	static struct run	 r, good;
	const struct chunk	*c;
	struct proto_out	 out;
	size_t			 i = 3, len, after = 0;
	int			 plain;

	if (size < 2)
		return 0;
	cfg.proto = (enum proto)(PROTO_NONE + 1 + data[0] % PROTO_COUNT);
	cfg.role = data[1] & 1 ? ROLE_SERVER : ROLE_CLIENT;
	cfg.opportunistic = size > 2 && data[2] & 1;
	cfg.allow_plain = size > 2 && data[2] & 2;
	run_init(&r, &cfg);
	proto_out_init(&out);
	proto_start(r.p, &out);
	take(&r, &out);
	while (!r.failed && i < size) {
		if (data[i] == HANDSHAKE && r.switched && !r.established) {
			handshake(&r);
			after = ++i;
			feed_after(&r, data, size, i);
			break;
		}
		plain = data[i] & 0x80;
		len = data[i] & 0x7f;
		i++;
		if (len > size - i)
			len = size - i;
		feed(&r, plain && r.role == ROLE_SERVER ? 'p' : 't',
		    (const char *)data + i, len);
		i += len;
	}
	handshake(&r);
	/* The same bytes after a known-good opening give the same. */
	if (after > 0 && !r.failed && !r.backend_held &&
	    (c = good_opening(cfg.proto, cfg.role)) != NULL) {
		run_init(&good, &cfg);
		proto_out_init(&out);
		proto_start(good.p, &out);
		take(&good, &out);
		for (; c->from != 0; c++)
			feed(&good, c->from, c->s, c->len);
		if (!good.switched)
			abort();	/* the known-good opening is not */
		handshake(&good);
		feed_after(&good, data, size, after);
		if (!good.failed && !r.failed && (good.plainlen != r.plainlen ||
		    memcmp(good.plain, r.plain, r.plainlen) != 0))
			abort();	/* it came from before the switch */
		proto_free(good.p);
	}
	proto_free(r.p);
	return 0;
}
