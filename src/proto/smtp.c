/*
 * SMTP client role (RFC 3207): greeting, EHLO, STARTTLS, 220; LMTP (RFC
 * 2033) is the same with LHLO.  The greeting is kept only for a fallback
 * to clear text: inside TLS the plain client is greeted by us.
 */
#include "config.h"

#include <string.h>

#include "proto_impl.h"

enum {
	GREETING,
	EHLO,
	STARTTLS
};

struct smtp_state {
	int		 state;
	int		 starttls;	/* the EHLO reply lists STARTTLS */
	unsigned	 lines;		/* lines of the EHLO reply so far */
};

static struct smtp_state *
st(struct negotiation *p)
{
	return p->priv;
}

static void
smtp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	code, last;

	/* Three digits, then '-' (more follow), ' ' or nothing. */
	if ((code = proto_reply_code(s, len, "- ")) == -1) {
		proto_fail(p, out, "malformed SMTP reply: '%.*s'",
		    proto_shown(len), s);
		return;
	}
	last = len == 3 || s[3] == ' ';
	switch (st(p)->state) {
	case GREETING:
		pbuf_add(&p->greeting, s, len);
		pbuf_add(&p->greeting, "\r\n", 2);
		if (code != 220) {
			proto_fail(p, out,
			    "the server's greeting is not 220: '%.*s'",
			    proto_shown(len), s);
			return;
		}
		if (last) {
			proto_send_line(p, out, "%s %s",
			    p->cfg.proto == PROTO_LMTP ?
			    "LHLO" : "EHLO", p->cfg.ehlo);
			st(p)->state = EHLO;
		}
		return;
	case EHLO:
		if (code != 250) {
			if (last)
				proto_fail(p, out, "%s refused: '%.*s'",
				    p->cfg.proto == PROTO_LMTP ? "LHLO" :
				    "EHLO", proto_shown(len), s);
			return;
		}
		/* The first line names the server; keywords follow. */
		if (st(p)->lines++ > 0 && len > 4) {
			if (proto_word_eq(s + 4, len - 4, "STARTTLS"))
				st(p)->starttls = 1;
			proto_add_cap(p, s + 4, proto_word_len(s + 4, len - 4));
		}
		if (!last)
			return;
		if (proto_ask_switch(p, out, st(p)->starttls, "STARTTLS"))
			st(p)->state = STARTTLS;
		return;
	case STARTTLS:
		if (!last)
			return;
		proto_switch_answer(p, out, code == 220, "STARTTLS", s, len);
		return;
	}
}

/* Our own greeting: the plain client sends its EHLO again, inside TLS. */
static void
smtp_established(struct negotiation *p, struct proto_out *out)
{
	proto_greet(p, out, "220 %s %s", proto_safe_name(p),
	    p->cfg.proto == PROTO_LMTP ? "LMTP" : "ESMTP");
	out->relay = 1;
}

const struct proto_ops smtp_client_ops = {
	.size = sizeof(struct smtp_state),
	.line = smtp_line,
	.established = smtp_established,
};
