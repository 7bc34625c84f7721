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

struct sieve_state {
	int		 state;
	int		 starttls;	/* the capabilities list STARTTLS */
};

static struct sieve_state *
st(struct negotiation *p)
{
	return p->priv;
}

static void
sieve_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	shown = proto_shown(len);

	switch (st(p)->state) {
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
				st(p)->starttls = 1;
			proto_add_cap(p, s, proto_word_len(s, len));
			return;
		}
		if (proto_ask_switch(p, out, st(p)->starttls, "STARTTLS"))
			st(p)->state = STARTTLS;
		return;
	case STARTTLS:
		proto_switch_answer(p, out, proto_word_eq(s, len, "OK"),
		    "STARTTLS", s, len);
		return;
	}
}

const struct proto_ops sieve_client_ops = {
	.size = sizeof(struct sieve_state),
	.line = sieve_line,
	.literals = LITERALS_TLS,
};
