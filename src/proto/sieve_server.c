/*
 * ManageSieve server role (RFC 5804): "STARTTLS" added to the backend's
 * capabilities and answered here; before TLS only CAPABILITY, NOOP and
 * LOGOUT reach the backend, and no SASL mechanism is listed.  The backend
 * greeted once, in clear text; inside TLS the client is owed the
 * capabilities again (2.2): ours, from its greeting, without "STARTTLS".
 */
#include "config.h"

#include <string.h>

#include "proto_impl.h"

enum {
	GREETING,
	READY,
	REPLY		/* lines up to OK, NO or BYE */
};

static void
sieve_start(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	p->state = GREETING;
	p->awaiting = 1;
	p->offered = 1;		/* the greeting is the capabilities */
}

static int
is_end(const char *s, size_t len)
{
	return word_eq(s, len, "OK") || word_eq(s, len, "NO") ||
	    word_eq(s, len, "BYE");
}

static void
sieve_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	caps = p->offered;

	if (caps && word_eq(s, len, "\"STARTTLS\""))
		return;		/* ours goes last */
	if (!is_end(s, len)) {
		/* No mechanism is usable before TLS: say so, as Dovecot does. */
		if (caps && !p->cfg.allow_plain && word_eq(s, len, "\"SASL\""))
			send_line(p, out, "\"SASL\" \"\"");
		else
			relay_line(p, out, s, len);
		if (p->state == GREETING) {
			pbuf_add(&p->greeting, s, len);
			pbuf_add(&p->greeting, "\r\n", 2);
		}
		return;
	}
	if (caps && word_eq(s, len, "OK"))
		send_line(p, out, "\"STARTTLS\"");
	relay_line(p, out, s, len);
	if (p->state == READY)
		return;
	p->state = READY;
	reply_done(p, out);
}

static void
sieve_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (word_eq(s, len, "STARTTLS")) {
		send_line(p, out, "OK \"Begin TLS negotiation now\"");
		switch_now(p, out);
		return;
	}
	/* Before TLS only CAPABILITY, NOOP and LOGOUT reach the backend. */
	if (!word_eq(s, len, "CAPABILITY") && !word_eq(s, len, "NOOP") &&
	    !word_eq(s, len, "LOGOUT")) {
		if (!p->cfg.allow_plain) {
			send_line(p, out, "NO (ENCRYPT-NEEDED) \"Must issue "
			    "STARTTLS first\"");
			return;
		}
		forward_line(p, out, s, len);
		fall_back(p, out, "'%.*s' before STARTTLS: --allow-plain, so "
		    "relaying in CLEAR TEXT", (int)word_len(s, len), s);
		return;
	}
	p->offered = word_eq(s, len, "CAPABILITY");
	p->state = REPLY;
	forward_line(p, out, s, len);
}

/* The client sees the capabilities again, now inside TLS. */
static void
sieve_established(struct negotiation *p, struct proto_out *out)
{
	pbuf_add(&out->to_tls, p->greeting.data, p->greeting.len);
	send_line(p, out, "OK \"TLS negotiation successful\"");
	out->relay = 1;
}

const struct proto_ops sieve_server_ops = {
	.start = sieve_start,
	.line = sieve_line,
	.plain_line = sieve_plain_line,
	.established = sieve_established,
};
