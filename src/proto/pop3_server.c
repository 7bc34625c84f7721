/*
 * POP3 server role (RFC 2595): STLS added to the backend's CAPA reply, and
 * no login method (USER, SASL) offered before TLS; STLS answered here;
 * every command but CAPA and QUIT refused before TLS.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,
	READY,
	STATUS,		/* the first line of a reply */
	LIST		/* CAPA's list, up to "." */
};

static void
pop3_start(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	p->state = GREETING;
	p->awaiting = 1;
}

static void
pop3_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	switch (p->state) {
	case STATUS:
		relay_line(p, out, s, len);
		/* p->offered: the command was CAPA. */
		if (p->offered && len >= 3 && strncmp(s, "+OK", 3) == 0) {
			p->state = LIST;
			return;
		}
		break;
	case LIST:
		if (len == 1 && s[0] == '.') {
			send_line(p, out, "STLS");
			relay_line(p, out, s, len);
			break;
		}
		/* Ours goes last; no login is possible before TLS. */
		if (!word_eq(s, len, "STLS") && (p->cfg.allow_plain ||
		    (!word_eq(s, len, "USER") && !word_eq(s, len, "SASL"))))
			relay_line(p, out, s, len);
		return;
	default:
		relay_line(p, out, s, len);
		break;
	}
	p->state = READY;
	reply_done(p, out);
}

static void
pop3_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (word_eq(s, len, "STLS")) {
		send_line(p, out, "+OK Begin TLS negotiation");
		switch_now(p, out);
		return;
	}
	/* Before TLS only CAPA and QUIT reach the backend (see imap_server.c). */
	if (!word_eq(s, len, "CAPA") && !word_eq(s, len, "QUIT")) {
		if (!p->cfg.allow_plain) {
			send_line(p, out, "-ERR [AUTH] Must issue STLS first");
			return;
		}
		forward_line(p, out, s, len);
		fall_back(p, out, "'%.*s' before STLS: --allow-plain, so "
		    "relaying in CLEAR TEXT", (int)word_len(s, len), s);
		return;
	}
	p->offered = word_eq(s, len, "CAPA");
	p->state = STATUS;
	forward_line(p, out, s, len);
}

const struct proto_ops pop3_server_ops = {
	.start = pop3_start,
	.line = pop3_line,
	.plain_line = pop3_plain_line,
};
