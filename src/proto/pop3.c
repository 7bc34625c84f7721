/* POP3 client role (RFC 2595): +OK greeting, CAPA, STLS, +OK. */
#include "config.h"

#include <string.h>

#include "proto_impl.h"

enum {
	GREETING,
	CAPA_STATUS,
	CAPA_LIST,
	STLS
};

struct pop3_state {
	int		 state;
	int		 stls;		/* CAPA lists STLS */
};

static struct pop3_state *
st(struct negotiation *p)
{
	return p->priv;
}

static int
is_ok(const char *s, size_t len)
{
	return len >= 3 && strncmp(s, "+OK", 3) == 0 &&
	    (len == 3 || s[3] == ' ');
}

static void
pop3_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	shown = proto_shown(len);

	switch (st(p)->state) {
	case GREETING:
		if (!is_ok(s, len)) {
			proto_fail(p, out,
			    "the server's greeting is not +OK: '%.*s'",
			    shown, s);
			return;
		}
		pbuf_add(&p->greeting, s, len);
		pbuf_add(&p->greeting, "\r\n", 2);
		proto_send_line(p, out, "CAPA");
		st(p)->state = CAPA_STATUS;
		return;
	case CAPA_STATUS:
		if (!is_ok(s, len)) {
			/* No CAPA, so nothing says STLS is there. */
			proto_not_offered(p, out, "STLS");
			return;
		}
		st(p)->state = CAPA_LIST;
		return;
	case CAPA_LIST:
		if (len == 1 && s[0] == '.') {
			if (proto_ask_switch(p, out, st(p)->stls, "STLS"))
				st(p)->state = STLS;
			return;
		}
		if (proto_word_eq(s, len, "STLS"))
			st(p)->stls = 1;
		proto_add_cap(p, s, proto_word_len(s, len));
		return;
	case STLS:
		proto_switch_answer(p, out, is_ok(s, len), "STLS", s, len);
		return;
	}
}

/* Our own greeting, without the clear-text one's APOP challenge. */
static void
pop3_established(struct negotiation *p, struct proto_out *out)
{
	proto_greet(p, out, "+OK %s ready", proto_safe_name(p));
	out->relay = 1;
}

const struct proto_ops pop3_client_ops = {
	.size = sizeof(struct pop3_state),
	.line = pop3_line,
	.established = pop3_established,
};
