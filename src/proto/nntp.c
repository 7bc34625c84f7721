/*
 * NNTP client role (RFC 4642, RFC 3977): a 200 or 201 greeting,
 * CAPABILITIES, STARTTLS among them, STARTTLS, 382; inside TLS,
 * CAPABILITIES again, for the greeting we give the plain side.
 */
#include "config.h"

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

struct nntp_state {
	int		 state;
	int		 starttls;	/* CAPABILITIES lists STARTTLS */
	int		 post;		/* inside TLS: it lists POST */
	unsigned	 lines;		/* inside TLS: its lines so far */
};

static struct nntp_state *
st(struct negotiation *p)
{
	return p->priv;
}

static void
nntp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	shown = proto_shown(len), code;

	if (st(p)->state == CAPS_LIST) {
		if (len == 1 && s[0] == '.') {
			if (proto_ask_switch(p, out, st(p)->starttls,
			    "STARTTLS"))
				st(p)->state = STARTTLS;
			return;
		}
		if (proto_word_eq(s, len, "STARTTLS"))
			st(p)->starttls = 1;
		proto_add_cap(p, s, proto_word_len(s, len));
		return;
	}
	code = proto_reply_code(s, len, " ");
	switch (st(p)->state) {
	case GREETING:
		if (code != 200 && code != 201) {
			proto_fail(p, out,
			    "the server's greeting is not 200 or 201: "
			    "'%.*s'", shown, s);
			return;
		}
		pbuf_add(&p->greeting, s, len);
		pbuf_add(&p->greeting, "\r\n", 2);
		proto_send_line(p, out, "CAPABILITIES");
		st(p)->state = CAPS_STATUS;
		return;
	case CAPS_STATUS:
		/* No capability list, so nothing says STARTTLS is there. */
		if (code != 101) {
			proto_not_offered(p, out, "STARTTLS");
			return;
		}
		st(p)->state = CAPS_LIST;
		return;
	case STARTTLS:
		proto_switch_answer(p, out, code == 382, "STARTTLS", s, len);
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
	proto_send_line(p, out, "CAPABILITIES");
	st(p)->state = TLS_STATUS;
}

static void
nntp_greet(struct negotiation *p, struct proto_out *out)
{
	if (st(p)->post)
		proto_greet(p, out, "200 %s ready (posting allowed)",
		    proto_safe_name(p));
	else
		proto_greet(p, out, "201 %s ready (no posting)",
		    proto_safe_name(p));
	out->relay = 1;
}

static void
nntp_inside(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	const char	*s = l->s;
	size_t		 len = proto_line_len(l->s, l->len);

	if (!l->whole)
		return;		/* a capability longer than any there is */
	proto_log_line(p, out, 1, s, len);
	if (++st(p)->lines > PROTO_MAX_LINES) {
		proto_fail(p, out, "more than %d lines of capabilities",
		    PROTO_MAX_LINES);
		return;
	}
	if (st(p)->state == TLS_STATUS) {
		if (proto_reply_code(s, len, " ") == 101)
			st(p)->state = TLS_LIST;
		else
			nntp_greet(p, out);
		return;
	}
	if (len == 1 && s[0] == '.')
		nntp_greet(p, out);
	else if (proto_word_eq(s, len, "POST"))
		st(p)->post = 1;
}

const struct proto_ops nntp_client_ops = {
	.size = sizeof(struct nntp_state),
	.line = nntp_line,
	.established = nntp_established,
	.inside_tls = nntp_inside,
	.inside_plain = nntp_inside,
};
