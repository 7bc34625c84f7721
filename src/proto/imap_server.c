/*
 * IMAP server role (RFC 3501 6.2.1): STARTTLS and LOGINDISABLED added to
 * the backend's capabilities, STARTTLS answered here, every command but
 * CAPABILITY, NOOP, LOGOUT and ID refused before TLS.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,
	READY,
	REPLY		/* untagged data, then the tagged reply to tagbuf */
};

static void
imap_start(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	p->state = GREETING;
	p->awaiting = 1;
}

/* Capabilities with ours added: "STARTTLS LOGINDISABLED" (no duplicates). */
static void
add_ours(struct negotiation *p, struct proto_out *out, const char *s,
    size_t len, size_t end)
{
	const char	*tail = s + end;
	size_t		 taillen = len - end;
	int		 has_tls = 0, has_ld = 0;

	for (size_t i = 0; i + 8 <= end; i++) {
		if (strncasecmp(s + i, " STARTTLS", 9) == 0)
			has_tls = 1;
		if (i + 14 <= end && strncasecmp(s + i, " LOGINDISABLED", 14) == 0)
			has_ld = 1;
	}
	pbuf_add(&out->to_tls, s, end);
	if (!has_tls)
		pbuf_str(&out->to_tls, " STARTTLS");
	if (!has_ld && !p->cfg.allow_plain)
		pbuf_str(&out->to_tls, " LOGINDISABLED");
	pbuf_add(&out->to_tls, tail, taillen);
	pbuf_add(&out->to_tls, "\r\n", 2);
}

static void
imap_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	const char	*close;

	if (len >= 13 && strncasecmp(s, "* CAPABILITY ", 13) == 0) {
		add_ours(p, out, s, len, len);
		return;
	}
	/* A CAPABILITY response code, in the greeting or a tagged reply. */
	if ((close = memchr(s, ']', len)) != NULL && len > 0 &&
	    memmem(s, (size_t)(close - s), "[CAPABILITY ", 12) != NULL)
		add_ours(p, out, s, len, (size_t)(close - s));
	else
		relay_line(p, out, s, len);
	if (p->state == GREETING ||
	    (p->state == REPLY && len > p->greeting.len &&
	    strncmp(s, p->greeting.data, p->greeting.len) == 0)) {
		p->state = READY;
		reply_done(p, out);
	}
}

static void
imap_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t		 tlen = word_len(s, len);
	const char	*cmd = s + tlen + 1;
	size_t		 clen = len > tlen ? len - tlen - 1 : 0;

	if (tlen == 0 || clen == 0) {
		send_line(p, out, "* BAD Missing tag or command");
		return;
	}
	if (len > 0 && s[len - 1] == '}') {
		send_line(p, out, "%.*s BAD Literals are not accepted before "
		    "STARTTLS", (int)tlen, s);
		return;
	}
	if (word_eq(cmd, clen, "STARTTLS")) {
		send_line(p, out, "%.*s OK Begin TLS negotiation now",
		    (int)tlen, s);
		switch_now(p, out);
		return;
	}
	/*
	 * Only what RFC 3501 allows before login, and ID, reaches the backend:
	 * nothing done in clear text (a SELECT, say) can shape the session
	 * that goes on inside TLS.
	 */
	if (!p->cfg.allow_plain && !word_eq(cmd, clen, "CAPABILITY") &&
	    !word_eq(cmd, clen, "NOOP") && !word_eq(cmd, clen, "LOGOUT") &&
	    !word_eq(cmd, clen, "ID")) {
		send_line(p, out, "%.*s NO [PRIVACYREQUIRED] Must issue "
		    "STARTTLS first", (int)tlen, s);
		return;
	}
	/* The tagged reply ends this command: remember "tag ". */
	p->greeting.len = 0;
	pbuf_add(&p->greeting, s, tlen + 1);
	p->state = REPLY;
	forward_line(p, out, s, len);
}

const struct proto_ops imap_server_ops = {
	.start = imap_start,
	.line = imap_line,
	.plain_line = imap_plain_line,
};
