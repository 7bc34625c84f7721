/*
 * NNTP client role (RFC 4642, RFC 3977): a 200 or 201 greeting,
 * CAPABILITIES, STARTTLS among them, STARTTLS, 382; inside TLS,
 * CAPABILITIES again, for the greeting we give the plain side.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "proto_impl.h"

enum {
	GREETING,
	CAPS_STATUS,
	CAPS_LIST,
	STARTTLS,
	TLS_STATUS,	/* inside TLS: the answer to CAPABILITIES */
	TLS_LIST
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

/*
 * Whether posting is allowed (200 or 201) is asked again inside TLS: the
 * clear-text greeting said so to anybody.  POST among the capabilities
 * says it is (RFC 3977 5.2); nothing else does.
 */
static void
nntp_established(struct negotiation *p, struct proto_out *out)
{
	p->offered = 0;
	p->reply_lines = 0;
	send_line(p, out, "CAPABILITIES");
	p->state = TLS_STATUS;
}

static void
nntp_greet(struct negotiation *p, struct proto_out *out)
{
	if (p->offered)
		greet(p, out, "200 %s ready (posting allowed)", safe_name(p));
	else
		greet(p, out, "201 %s ready (no posting)", safe_name(p));
	out->relay = 1;
}

static void
nntp_inside(struct negotiation *p, int tls_side, const struct iline *l,
    struct proto_out *out)
{
	const char	*s = l->s;
	size_t		 len = line_len(l->s, l->len);

	(void)tls_side;
	if (!l->whole)
		return;		/* a capability longer than any there is */
	log_line(p, out, 1, s, len);
	if (++p->reply_lines > PROTO_MAX_LINES) {
		fail(p, out, "more than %d lines of capabilities",
		    PROTO_MAX_LINES);
		return;
	}
	if (p->state == TLS_STATUS) {
		if (nntp_code(s, len) == 101)
			p->state = TLS_LIST;
		else
			nntp_greet(p, out);
		return;
	}
	if (len == 1 && s[0] == '.')
		nntp_greet(p, out);
	else if (word_eq(s, len, "POST"))
		p->offered = 1;
}

const struct proto_ops nntp_client_ops = {
	.line = nntp_line,
	.established = nntp_established,
	.inside = nntp_inside,
};
