/* IMAP client role (RFC 3501 6.2.1): * OK greeting, CAPABILITY, STARTTLS. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,
	CAPABILITY,
	STARTTLS
};

struct imap_state {
	int		 state;
	int		 starttls;	/* CAPABILITY lists STARTTLS */
	unsigned	 tag;		/* our command tags so far */
};

static struct imap_state *
st(struct negotiation *p)
{
	return p->priv;
}

/* Note each capability word; say whether STARTTLS was among them. */
static int
scan_caps(struct negotiation *p, const char *s, size_t len)
{
	size_t	n;
	int	found = 0;

	while (len > 0) {
		while (len > 0 && *s == ' ') {
			s++;
			len--;
		}
		if ((n = proto_word_len(s, len)) == 0)
			break;
		if (n == 8 && strncasecmp(s, "STARTTLS", 8) == 0)
			found = 1;
		else if (!(n == 10 && strncasecmp(s, "CAPABILITY", 10) == 0))
			proto_add_cap(p, s, n);
		s += n;
		len -= n;
	}
	return found;
}

/* "[CAPABILITY ...]" right after "* OK ": where it is, or NULL. */
static const char *
cap_code(const char *s, size_t len, size_t *codelen)
{
	const char	*end;

	if (len < 17 || strncasecmp(s + 5, "[CAPABILITY ", 12) != 0)
		return NULL;
	if ((end = memchr(s + 5, ']', len - 5)) == NULL)
		return NULL;
	*codelen = (size_t)(end - (s + 5)) + 1;
	return s + 5;
}

/* Tagged reply to our command N: status word after "aN ", or NULL. */
static const char *
tagged(struct negotiation *p, const char *s, size_t len, size_t *rest)
{
	char	tag[16];
	size_t	n;

	n = (size_t)snprintf(tag, sizeof(tag), "a%u ", st(p)->tag);
	if (len < n || strncmp(s, tag, n) != 0)
		return NULL;
	*rest = len - n;
	return s + n;
}

static void
imap_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	const char	*code, *resp;
	size_t		 clen, rest;
	int		 shown = proto_shown(len);

	switch (st(p)->state) {
	case GREETING:
		if (len >= 9 && strncasecmp(s, "* PREAUTH", 9) == 0) {
			proto_fail(p, out,
			    "the server greets with PREAUTH: already "
			    "logged in, STARTTLS is not possible");
			return;
		}
		if (len < 4 || strncasecmp(s, "* OK", 4) != 0 ||
		    (len > 4 && s[4] != ' ')) {
			proto_fail(p, out,
			    "the server's greeting is not * OK: '%.*s'",
			    shown, s);
			return;
		}
		if ((code = cap_code(s, len, &clen)) != NULL)
			st(p)->starttls = scan_caps(p, code + 12, clen - 13);
		/* For a fallback to clear text only (not_offered). */
		pbuf_add(&p->greeting, s, len);
		pbuf_add(&p->greeting, "\r\n", 2);
		st(p)->tag++;
		if (st(p)->starttls) {
			proto_send_line(p, out, "a%u STARTTLS", st(p)->tag);
			st(p)->state = STARTTLS;
		} else {
			proto_send_line(p, out, "a%u CAPABILITY", st(p)->tag);
			st(p)->state = CAPABILITY;
		}
		return;
	case CAPABILITY:
		if (len >= 13 && strncasecmp(s, "* CAPABILITY ", 13) == 0) {
			/* The answer replaces the code. */
			p->caps.len = 0;
			st(p)->starttls |= scan_caps(p, s + 13, len - 13);
			return;
		}
		if ((resp = tagged(p, s, len, &rest)) == NULL)
			return;		/* other untagged data */
		if (!proto_word_eq(resp, rest, "OK") || !st(p)->starttls) {
			proto_not_offered(p, out, "STARTTLS");
			return;
		}
		st(p)->tag++;
		proto_send_line(p, out, "a%u STARTTLS", st(p)->tag);
		st(p)->state = STARTTLS;
		return;
	case STARTTLS:
		if ((resp = tagged(p, s, len, &rest)) == NULL)
			return;
		proto_switch_answer(p, out, proto_word_eq(resp, rest, "OK"),
		    "STARTTLS", s, len);
		return;
	}
}

/*
 * Our own greeting, with no code from the clear-text one (an [ALERT] or a
 * [REFERRAL] there is anybody's): the plain client asks for CAPABILITY
 * again, inside TLS.
 */
static void
imap_established(struct negotiation *p, struct proto_out *out)
{
	proto_greet(p, out, "* OK %s ready", proto_safe_name(p));
	out->relay = 1;
}

/* A server's literals follow at once. */
const struct proto_ops imap_client_ops = {
	.size = sizeof(struct imap_state),
	.line = imap_line,
	.established = imap_established,
	.literals = LITERALS_TLS,
};
