/*
 * FTP server role (RFC 4217): AUTH TLS added to the backend's FEAT reply
 * and answered here with 234; before TLS only FEAT, HELP, HOST, LANG, NOOP,
 * OPTS, QUIT and SYST reach the backend, the rest (USER, PASS, ...) gets
 * 530.  Inside TLS (proto/ftp_inside.c) AUTH
 * is refused, PBSZ and PROT are answered here, and with PROT P the data
 * connections go through the relay.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ftp_inside.h"

enum {
	GREETING,	/* the zeroed state: the backend's greeting
			   is due */
	READY,		/* a client command is due */
	REPLY,		/* the reply to a forwarded command */
	FEAT_REPLY
};

struct ftp_state {
	struct ftp_in	 in;		/* first: inside TLS */
	int		 state;
	int		 feat_list;	/* the FEAT reply is a 211 list */
	unsigned	 feat_lines;	/* its lines so far */
	int		 multi;		/* a multi-line reply's code */
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

const struct proto_ops ftp_server_ops = {
	.size = sizeof(struct ftp_state),
	.start = proto_await_backend,
	.line = ftp_line,
	.plain_line = ftp_plain_line,
	.established = proto_watch,
	.inside_tls = ftp_in_tls,
	.inside_plain = ftp_in_plain,
	.free = ftp_in_free,
};
