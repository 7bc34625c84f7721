/*
 * NNTP server role (RFC 4642, RFC 3977): STARTTLS added to the backend's
 * CAPABILITIES list and answered here; AUTHINFO refused before TLS, and
 * listed without arguments, which says none of its commands is usable now
 * (RFC 4643).  COMPRESS (RFC 8054) is neither listed nor allowed before
 * TLS: compressed data are not lines.
 */
#include "config.h"

#include <string.h>

#include "proto_impl.h"

enum {
	GREETING,
	READY,
	STATUS,		/* the first line of a response */
	LIST,		/* a multi-line response, up to "." */
	ARTICLE		/* POST, IHAVE: the client's article to "." */
};

/* The forwarded command (p->offered), for what its response means. */
enum {
	OTHER,
	CAPABILITIES,
	LISTGROUP,	/* its 211 is multi-line, GROUP's is not */
	POST		/* 340 or 335: the article comes next */
};

static void
nntp_start(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	p->state = GREETING;
	p->awaiting = 1;
}

/* RFC 3977 3.1.1: the command and the code say whether data follow. */
static int
multi_line(struct negotiation *p, const char *s, size_t len)
{
	static const char *const codes[] = { "100", "101", "215", "220",
	    "221", "222", "224", "225", "230", "231", "282" };

	if (len < 3 || (len > 3 && s[3] != ' '))
		return 0;
	if (p->offered == LISTGROUP && strncmp(s, "211", 3) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strncmp(s, codes[i], 3) == 0)
			return 1;
	return 0;
}

static void
nntp_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	caps = p->offered == CAPABILITIES;

	switch (p->state) {
	case STATUS:
		relay_line(p, out, s, len);
		if (multi_line(p, s, len)) {
			p->state = LIST;
			p->reply_lines = 0;	/* 1: STARTTLS was listed */
			return;
		}
		if (p->offered == POST && (strncmp(s, "340", 3) == 0 ||
		    strncmp(s, "335", 3) == 0)) {
			p->state = ARTICLE;
			p->awaiting = 0;
			return;
		}
		break;
	case LIST:
		if (len == 1 && s[0] == '.') {
			if (caps && !p->reply_lines)
				send_line(p, out, "STARTTLS");
			relay_line(p, out, s, len);
			break;
		}
		if (caps && word_eq(s, len, "STARTTLS"))
			p->reply_lines = 1;
		if (caps && !p->cfg.allow_plain && word_eq(s, len, "AUTHINFO"))
			send_line(p, out, "AUTHINFO");
		else if (!caps || !word_eq(s, len, "COMPRESS"))
			relay_line(p, out, s, len);
		return;
	case ARTICLE:
		relay_line(p, out, s, len);
		return;
	default:
		relay_line(p, out, s, len);
		break;
	}
	p->state = READY;
	reply_done(p, out);
}

static void
nntp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	if (p->state == ARTICLE) {
		pbuf_add(&out->to_plain, s, len);
		pbuf_add(&out->to_plain, "\r\n", 2);
		if (len == 1 && s[0] == '.') {
			p->state = STATUS;
			p->offered = OTHER;
			p->awaiting = 1;
		}
		return;
	}
	if (word_eq(s, len, "STARTTLS")) {
		if (word_len(s, len) != len) {
			send_line(p, out, "501 Syntax: STARTTLS");
			return;
		}
		send_line(p, out, "382 Continue with TLS negotiation");
		switch_now(p, out);
		return;
	}
	if (word_eq(s, len, "COMPRESS")) {
		send_line(p, out, "502 COMPRESS is not available before "
		    "STARTTLS");
		return;
	}
	if (!p->cfg.allow_plain && word_eq(s, len, "AUTHINFO")) {
		send_line(p, out, "483 Encryption required: issue STARTTLS "
		    "first");
		return;
	}
	p->offered = word_eq(s, len, "CAPABILITIES") ? CAPABILITIES :
	    word_eq(s, len, "LISTGROUP") ? LISTGROUP :
	    word_eq(s, len, "POST") || word_eq(s, len, "IHAVE") ? POST : OTHER;
	p->state = STATUS;
	forward_line(p, out, s, len);
}

const struct proto_ops nntp_server_ops = {
	.start = nntp_start,
	.line = nntp_line,
	.plain_line = nntp_plain_line,
};
