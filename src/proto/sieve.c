/*
 * ManageSieve client role (RFC 5804): capability lines then OK, "STARTTLS"
 * among them, STARTTLS, OK.  Inside TLS the server sends its capabilities
 * again by itself (2.2), so the plain client gets those, not the old ones.
 */
#include "config.h"

#include <string.h>

#include "proto_impl.h"

enum {
	GREETING,
	STARTTLS
};

static void
sieve_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	shown = (int)(len > 80 ? 80 : len);

	switch (p->state) {
	case GREETING:
		pbuf_add(&p->greeting, s, len);
		pbuf_add(&p->greeting, "\r\n", 2);
		if (proto_word_eq(s, len, "NO") ||
		    proto_word_eq(s, len, "BYE")) {
			proto_fail(p, out, "the server refused the connection: "
			    "'%.*s'", shown, s);
			return;
		}
		if (!proto_word_eq(s, len, "OK")) {
			/* A capability: a string, its value after it. */
			if (proto_word_eq(s, len, "\"STARTTLS\""))
				p->offered = 1;
			proto_add_cap(p, s, proto_word_len(s, len));
			return;
		}
		if (!p->offered) {
			proto_not_offered(p, out, "STARTTLS");
			return;
		}
		proto_send_line(p, out, "STARTTLS");
		p->state = STARTTLS;
		return;
	case STARTTLS:
		if (!proto_word_eq(s, len, "OK")) {
			proto_fail(p, out, "STARTTLS refused: '%.*s'", shown,
			    s);
			return;
		}
		proto_switch_now(p, out);
		return;
	}
}

const struct proto_ops sieve_client_ops = {
	.line = sieve_line,
	.literals = LITERALS_TLS,
};
