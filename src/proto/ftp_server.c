/*
 * FTP server role (RFC 4217, the control connection): AUTH TLS added to
 * the backend's FEAT reply and answered here with 234; before TLS only
 * FEAT, HELP, HOST, LANG, NOOP, OPTS, QUIT and SYST reach the backend, the
 * rest (USER, PASS, ...) gets 530.  After TLS, PBSZ and PROT go to the
 * backend like any command; data connections are not relayed.  Inside TLS
 * AUTH is refused here and the FEAT reply no longer lists it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,	/* the zeroed state: the backend's greeting
			   is due */
	READY,		/* a client command is due */
	REPLY,		/* the reply to a forwarded command */
	FEAT_REPLY
};

/* Inside TLS: see below. */
struct ftp_in {
	struct cmdq	 q;
	int		 multi;		/* a multi-line reply's code */
};

struct ftp_state {
	int		 state;
	int		 feat_list;	/* the FEAT reply is a 211 list */
	unsigned	 feat_lines;	/* its lines so far */
	int		 multi;		/* a multi-line reply's code */
	struct ftp_in	 in;		/* inside TLS */
};

static struct ftp_state *
st(struct negotiation *p)
{
	return p->priv;
}

static const char *const before_tls[] = {
	"FEAT", "HELP", "HOST", "LANG", "NOOP", "OPTS", "QUIT", "SYST", NULL
};

/*
 * The FEAT reply: the backend's own AUTH line goes, ours goes before the
 * last line; a backend without FEAT gets a reply of ours instead of its
 * error (st(p)->feat_list: the backend's reply is a 211 list).
 */
static void
feat_line(struct negotiation *p, const char *s, size_t len, int end,
    struct proto_out *out)
{
	if (st(p)->feat_lines++ == 0)
		st(p)->feat_list = !end && strncmp(s, "211", 3) == 0;
	if (!st(p)->feat_list) {
		if (end) {
			proto_send_line(p, out, "211-Features:");
			proto_send_line(p, out, " AUTH TLS");
			proto_send_line(p, out, "211 End");
		}
		return;
	}
	if (end)
		proto_send_line(p, out, " AUTH TLS");
	else if (len > 1 && s[0] == ' ' &&
	    proto_word_eq(s + 1, len - 1, "AUTH"))
		return;
	proto_relay_line(p, out, s, len);
}

static void
ftp_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	code = proto_reply_code(s, len, "- "), end;

	/* A multi-line reply ends at "NNN " with its first line's code. */
	if (st(p)->multi != 0)
		end = code == st(p)->multi && (len == 3 || s[3] == ' ');
	else if (code == -1) {
		proto_fail(p, out,
		    "malformed FTP reply from the backend: '%.*s'",
		    proto_shown(len), s);
		return;
	} else if (!(end = len == 3 || s[3] == ' '))
		st(p)->multi = code;
	if (end)
		st(p)->multi = 0;
	if (st(p)->state == FEAT_REPLY)
		feat_line(p, s, len, end, out);
	else
		proto_relay_line(p, out, s, len);
	/* 1xx is preliminary: another reply follows (RFC 959, 4.2). */
	if (!end || code < 200)
		return;
	st(p)->state = READY;
	proto_reply_done(p, out);
}

static void
ftp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t			 n = proto_word_len(s, len), i;
	const char *const	*w;

	if (proto_word_eq(s, len, "AUTH")) {
		for (i = n; i < len && s[i] == ' '; i++)
			;
		if (proto_word_eq(s + i, len - i, "TLS") ||
		    proto_word_eq(s + i, len - i, "TLS-C")) {
			proto_send_line(p, out, "234 AUTH TLS successful");
			proto_switch_now(p, out);
		} else if (i == len)
			proto_send_line(p, out, "501 Syntax: AUTH TLS");
		else
			proto_send_line(p, out,
			    "504 Only AUTH TLS is supported");
		return;
	}
	for (w = before_tls; *w != NULL && !proto_word_eq(s, len, *w); w++)
		;
	if (*w == NULL && !p->cfg.allow_plain) {
		proto_send_line(p, out, "530 Must issue AUTH TLS first");
		return;
	}
	if (*w == NULL) {
		proto_allow_plain(p, out, s, len, s, "AUTH TLS");
		return;
	}
	st(p)->state = proto_word_eq(s, len, "FEAT") ? FEAT_REPLY : REPLY;
	st(p)->feat_lines = 0;
	proto_forward_line(p, out, s, len);
}

/*
 * Inside TLS, for the whole session: the commands in flight, so that the
 * FEAT reply is known and our refusal of AUTH comes in its turn among the
 * backend's replies.  A reply may span lines ("NNN-" up to "NNN "), and a
 * 1xx reply is preliminary: the same command has another reply to come
 * (RFC 959 4.2).
 */
enum {
	K_OTHER,
	K_FEAT,		/* its AUTH lines go */
	K_REFUSED	/* AUTH: our reply */
};

/*
 * RFC 2228 lists 534 "Request denied for policy reasons" among the replies
 * to AUTH (503 is not one of them): the security mechanism is TLS, up
 * already, and no other one is offered over it.
 */
#define TLS_ACTIVE	"534 TLS already active\r\n"

static void
client_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct ftp_in	*in = &st(p)->in;
	size_t		 n = l->whole ? proto_line_len(l->s, l->len) :
	    l->headlen;

	if (proto_word_eq(l->head, n, "AUTH")) {
		if (!l->whole)
			/* It went on already: end the session instead. */
			proto_fail(p, out,
			    "an AUTH command longer than %d bytes "
			    "inside TLS", INSIDE_MAX_LINE);
		else if (cmdq_head(&in->q) == -1 && inside_at_start(p, 0) &&
		    in->multi == 0)
			pbuf_str(&out->to_tls, TLS_ACTIVE);
		else
			cmdq_push(p, &in->q, K_REFUSED, out);
		return;
	}
	if (l->whole)
		inside_pass(p, 1, l->s, l->len, out);
	cmdq_push(p, &in->q, l->whole && proto_word_eq(l->s, n, "FEAT") ?
	    K_FEAT :
	    K_OTHER,
	    out);
}

/* A feature line of FEAT that lists AUTH (" AUTH TLS;SSL", RFC 2389). */
static int
lists_auth(const char *s, size_t n)
{
	while (n > 0 && s[0] == ' ')
		s++, n--;
	return proto_word_eq(s, n, "AUTH");
}

/*
 * One line of a reply; it is complete at a single line "NNN text" or at
 * the last line of a multi-line one, "NNN text" with its first line's code.
 */
static void
backend_line(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct ftp_in	*in = &st(p)->in;
	size_t		 n = l->whole ? proto_line_len(l->s, l->len) :
	    l->headlen;
	int		 kind = cmdq_head(&in->q);
	int		 code = proto_reply_code(l->head, n, "- ");
	int		 is_reply = code != -1;

	if (in->multi != 0 && (!is_reply || code != in->multi ||
	    (n > 3 && l->head[3] != ' '))) {
		/* Inside a multi-line reply. */
		if (l->whole && !(kind == K_FEAT && lists_auth(l->s, n)))
			inside_pass(p, 0, l->s, l->len, out);
		return;
	}
	if (l->whole)
		inside_pass(p, 0, l->s, l->len, out);
	if (!is_reply)
		return;			/* not a reply: nothing it answers */
	if (in->multi == 0 && n > 3 && l->head[3] == '-') {
		in->multi = code;
		return;
	}
	in->multi = 0;
	if (kind == -1 || kind == K_REFUSED) {
		/* Not asked for (421 before a close). */
		cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
		return;
	}
	if (code < 200)
		return;			/* preliminary: another reply follows */
	cmdq_pop(&in->q);
	cmdq_answer(&in->q, K_REFUSED, TLS_ACTIVE, out);
}

const struct proto_ops ftp_server_ops = {
	.size = sizeof(struct ftp_state),
	.start = proto_await_backend,
	.line = ftp_line,
	.plain_line = ftp_plain_line,
	.established = proto_watch,
	.inside_tls = client_line,
	.inside_plain = backend_line,
};
