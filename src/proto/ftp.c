/*
 * FTP client role (RFC 4217, the control connection): the 220 greeting,
 * FEAT (AUTH TLS must be listed), AUTH TLS, 234.  Data connections are not
 * relayed: the plain client opens them to the server itself.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,
	FEAT,
	AUTH,		/* FEAT failed: AUTH TLS tried directly */
	AUTH_TLS
};

/*
 * A reply line starts with three digits and ' ', '-' or its end; lines
 * inside a multi-line reply need not (RFC 959, 4.2).  Both roles use it.
 */
int
ftp_reply_code(const char *s, size_t len, int *code)
{
	if (len < 3 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
	    (len > 3 && s[3] != '-' && s[3] != ' '))
		return 0;
	*code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return 1;
}

/* The FEAT line " AUTH TLS;SSL" lists the mechanism TLS (or TLS-C). */
static int
lists_tls(const char *s, size_t len)
{
	size_t	i, start;

	while (len > 0 && s[0] == ' ')
		s++, len--;
	if (!word_eq(s, len, "AUTH"))
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
	int	code, shown = (int)(len > 80 ? 80 : len);

	/* Inside a multi-line reply: anything up to "NNN " with its code. */
	if (p->multi != 0 && ftp_reply_code(s, len, &code) &&
	    code == p->multi && (len == 3 || s[3] == ' '))
		p->multi = 0;
	else if (p->multi != 0) {
		if (p->state == GREETING) {
			pbuf_add(&p->greeting, s, len);
			pbuf_add(&p->greeting, "\r\n", 2);
		} else if (p->state == FEAT) {
			if (lists_tls(s, len))
				p->offered = 1;
			if (len > 1 && s[0] == ' ')
				add_cap(p, s + 1, len - 1);
		}
		return;
	} else if (!ftp_reply_code(s, len, &code)) {
		fail(p, out, "malformed FTP reply: '%.*s'", shown, s);
		return;
	} else if (len > 3 && s[3] == '-')
		p->multi = code;
	switch (p->state) {
	case GREETING:
		/* 120: "ready in nnn minutes", the 220 follows. */
		if (code == 120)
			return;
		pbuf_add(&p->greeting, s, len);
		pbuf_add(&p->greeting, "\r\n", 2);
		if (code != 220) {
			fail(p, out, "the server's greeting is not 220: '%.*s'",
			    shown, s);
			return;
		}
		if (p->multi == 0) {
			send_line(p, out, "FEAT");
			p->state = FEAT;
		}
		return;
	case FEAT:
		if (p->multi != 0)
			return;
		if (code != 211) {
			/* No FEAT: ask; a refusal is "not offered". */
			send_line(p, out, "AUTH TLS");
			p->state = AUTH;
			return;
		}
		if (!p->offered) {
			not_offered(p, out, "AUTH TLS");
			return;
		}
		send_line(p, out, "AUTH TLS");
		p->state = AUTH_TLS;
		return;
	case AUTH:
	case AUTH_TLS:
		if (p->multi != 0)
			return;
		if (code == 234) {
			switch_now(p, out);
			return;
		}
		if (p->state == AUTH && code >= 500) {
			not_offered(p, out, "AUTH TLS");
			return;
		}
		fail(p, out, "AUTH TLS refused: '%.*s'", shown, s);
		return;
	}
}

/* Our own greeting: nothing the server said in clear text goes on. */
static void
ftp_established(struct negotiation *p, struct proto_out *out)
{
	greet(p, out, "220 %s ready", safe_name(p));
	out->relay = 1;
}

const struct proto_ops ftp_client_ops = {
	.line = ftp_line,
	.established = ftp_established,
};
