/*
 * NNTP client role (RFC 4642, RFC 3977): a 200 or 201 greeting,
 * CAPABILITIES, STARTTLS among them, STARTTLS, 382.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "proto_impl.h"

enum {
	GREETING,
	CAPS_STATUS,
	CAPS_LIST,
	STARTTLS
};

/* A response's three-digit code (the rest is text), or -1. */
static int
nntp_code(const char *s, size_t len)
{
	if (len < 3 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
	    (len > 3 && s[3] != ' '))
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

static void
nntp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	shown = (int)(len > 80 ? 80 : len), code;

	if (p->state == CAPS_LIST) {
		if (len == 1 && s[0] == '.') {
			if (!p->offered) {
				not_offered(p, out, "STARTTLS");
				return;
			}
			send_line(p, out, "STARTTLS");
			p->state = STARTTLS;
			return;
		}
		if (word_eq(s, len, "STARTTLS"))
			p->offered = 1;
		add_cap(p, s, word_len(s, len));
		return;
	}
	code = nntp_code(s, len);
	switch (p->state) {
	case GREETING:
		if (code != 200 && code != 201) {
			fail(p, out, "the server's greeting is not 200 or 201: "
			    "'%.*s'", shown, s);
			return;
		}
		pbuf_add(&p->greeting, s, len);
		pbuf_add(&p->greeting, "\r\n", 2);
		send_line(p, out, "CAPABILITIES");
		p->state = CAPS_STATUS;
		return;
	case CAPS_STATUS:
		/* No capability list, so nothing says STARTTLS is there. */
		if (code != 101) {
			not_offered(p, out, "STARTTLS");
			return;
		}
		p->state = CAPS_LIST;
		return;
	case STARTTLS:
		if (code != 382) {
			fail(p, out, "STARTTLS refused: '%.*s'", shown, s);
			return;
		}
		switch_now(p, out);
		return;
	}
}

const struct proto_ops nntp_client_ops = {
	.line = nntp_line,
	.established = replay_greeting,
};
