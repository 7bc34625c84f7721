/*
 * FTP client role (RFC 4217): the 220 greeting, FEAT (AUTH TLS must be
 * listed), AUTH TLS, 234.  Inside TLS (proto/ftp_inside.c), PBSZ 0 and
 * PROT P before our greeting to the plain client; its data connections
 * then go through the relay, with TLS to the server.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "ftp_inside.h"

enum {
	GREETING,
	FEAT,
	AUTH,		/* FEAT failed: AUTH TLS tried directly */
	AUTH_TLS
};

struct ftp_state {
	struct ftp_in	 in;		/* first: inside TLS */
	int		 state;
	int		 auth_tls;	/* FEAT lists AUTH TLS */
	int		 multi;		/* a multi-line reply's code */
};

static struct ftp_state *
st(struct negotiation *p)
{
	return p->priv;
}

/* The FEAT line " AUTH TLS;SSL" lists the mechanism TLS (or TLS-C). */
static int
lists_tls(const char *s, size_t len)
{
	size_t	i, start;

	while (len > 0 && s[0] == ' ')
		s++, len--;
	if (!proto_word_eq(s, len, "AUTH"))
		return 0;
	for (i = 4; i < len; ) {
		while (i < len && strchr(" \t,;", s[i]) != NULL)
			i++;
		start = i;
		while (i < len && strchr(" \t,;", s[i]) == NULL)
			i++;
		if ((i - start == 3 && strncasecmp(s + start, "TLS", 3) == 0) ||
		    (i - start == 5 && strncasecmp(s + start, "TLS-C", 5) == 0))
			return 1;
	}
	return 0;
}

static void
ftp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	code = proto_reply_code(s, len, "- ");
	int	shown = proto_shown(len);

	/*
	 * A reply line starts with three digits and ' ', '-' or its end;
	 * lines inside a multi-line reply need not (RFC 959, 4.2): anything
	 * up to "NNN " with its first line's code.
	 */
	if (st(p)->multi != 0 && code == st(p)->multi &&
	    (len == 3 || s[3] == ' '))
		st(p)->multi = 0;
	else if (st(p)->multi != 0) {
		if (st(p)->state == GREETING) {
			pbuf_add(&p->greeting, s, len);
			pbuf_add(&p->greeting, "\r\n", 2);
		} else if (st(p)->state == FEAT) {
			if (lists_tls(s, len))
				st(p)->auth_tls = 1;
			if (len > 1 && s[0] == ' ')
				proto_add_cap(p, s + 1, len - 1);
		}
		return;
	} else if (code == -1) {
		proto_fail(p, out, "malformed FTP reply: '%.*s'", shown, s);
		return;
	} else if (len > 3 && s[3] == '-')
		st(p)->multi = code;
	switch (st(p)->state) {
	case GREETING:
		/* 120: "ready in nnn minutes", the 220 follows. */
		if (code == 120)
			return;
		pbuf_add(&p->greeting, s, len);
		pbuf_add(&p->greeting, "\r\n", 2);
		if (code != 220) {
			proto_fail(p, out,
			    "the server's greeting is not 220: '%.*s'",
			    shown, s);
			return;
		}
		if (st(p)->multi == 0) {
			proto_send_line(p, out, "FEAT");
			st(p)->state = FEAT;
		}
		return;
	case FEAT:
		if (st(p)->multi != 0)
			return;
		if (code != 211) {
			/* No FEAT: ask; a refusal is "not offered". */
			proto_send_line(p, out, "AUTH TLS");
			st(p)->state = AUTH;
			return;
		}
		if (proto_ask_switch(p, out, st(p)->auth_tls, "AUTH TLS"))
			st(p)->state = AUTH_TLS;
		return;
	case AUTH:
	case AUTH_TLS:
		if (st(p)->multi != 0)
			return;
		if (code == 234) {
			proto_switch_now(p, out);
			return;
		}
		if (st(p)->state == AUTH && code >= 500) {
			proto_not_offered(p, out, "AUTH TLS");
			return;
		}
		proto_fail(p, out, "AUTH TLS refused: '%.*s'", shown, s);
		return;
	}
}

/*
 * Our own greeting, once PROT is settled: nothing the server said in clear
 * text goes on.
 */
const struct proto_ops ftp_client_ops = {
	.size = sizeof(struct ftp_state),
	.line = ftp_line,
	.established = ftp_in_setup,
	.inside_tls = ftp_in_tls,
	.inside_plain = ftp_in_plain,
	.free = ftp_in_free,
};
