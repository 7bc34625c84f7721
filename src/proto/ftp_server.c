/*
 * FTP server role (RFC 4217, the control connection): AUTH TLS added to
 * the backend's FEAT reply and answered here with 234; before TLS only
 * FEAT, HELP, HOST, LANG, NOOP, OPTS, QUIT and SYST reach the backend, the
 * rest (USER, PASS, ...) gets 530.  After TLS, PBSZ and PROT go to the
 * backend like any command; data connections are not relayed.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	GREETING,	/* the backend's greeting is due */
	READY,		/* a client command is due */
	REPLY,		/* the reply to a forwarded command */
	FEAT_REPLY
};

static const char *const before_tls[] = {
	"FEAT", "HELP", "HOST", "LANG", "NOOP", "OPTS", "QUIT", "SYST", NULL
};

static void
ftp_start(struct negotiation *p, struct proto_out *out)
{
	(void)out;
	p->state = GREETING;
	p->awaiting = 1;
}

/*
 * The FEAT reply: the backend's own AUTH line goes, ours goes before the
 * last line; a backend without FEAT gets a reply of ours instead of its
 * error (p->offered: the backend's reply is a 211 list).
 */
static void
feat_line(struct negotiation *p, const char *s, size_t len, int end,
    struct proto_out *out)
{
	if (p->reply_lines++ == 0)
		p->offered = !end && strncmp(s, "211", 3) == 0;
	if (!p->offered) {
		if (end) {
			send_line(p, out, "211-Features:");
			send_line(p, out, " AUTH TLS");
			send_line(p, out, "211 End");
		}
		return;
	}
	if (end)
		send_line(p, out, " AUTH TLS");
	else if (len > 1 && s[0] == ' ' && word_eq(s + 1, len - 1, "AUTH"))
		return;
	relay_line(p, out, s, len);
}

static void
ftp_plain_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	code = 0, end;

	if (p->multi != 0)
		end = ftp_reply_code(s, len, &code) && code == p->multi &&
		    (len == 3 || s[3] == ' ');
	else if (!ftp_reply_code(s, len, &code)) {
		fail(p, out, "malformed FTP reply from the backend: '%.*s'",
		    (int)(len > 80 ? 80 : len), s);
		return;
	} else if (!(end = len == 3 || s[3] == ' '))
		p->multi = code;
	if (end)
		p->multi = 0;
	if (p->state == FEAT_REPLY)
		feat_line(p, s, len, end, out);
	else
		relay_line(p, out, s, len);
	/* 1xx is preliminary: another reply follows (RFC 959, 4.2). */
	if (!end || code < 200)
		return;
	p->state = READY;
	reply_done(p, out);
}

static void
ftp_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t			 n = word_len(s, len), i;
	const char *const	*w;

	if (word_eq(s, len, "AUTH")) {
		for (i = n; i < len && s[i] == ' '; i++)
			;
		if (word_eq(s + i, len - i, "TLS") ||
		    word_eq(s + i, len - i, "TLS-C")) {
			send_line(p, out, "234 AUTH TLS successful");
			switch_now(p, out);
		} else if (i == len)
			send_line(p, out, "501 Syntax: AUTH TLS");
		else
			send_line(p, out, "504 Only AUTH TLS is supported");
		return;
	}
	for (w = before_tls; *w != NULL && !word_eq(s, len, *w); w++)
		;
	if (*w == NULL && !p->cfg.allow_plain) {
		send_line(p, out, "530 Must issue AUTH TLS first");
		return;
	}
	if (*w == NULL) {
		forward_line(p, out, s, len);
		fall_back(p, out, "'%.*s' before AUTH TLS: --allow-plain, so "
		    "relaying in CLEAR TEXT", (int)n, s);
		return;
	}
	p->state = word_eq(s, len, "FEAT") ? FEAT_REPLY : REPLY;
	p->reply_lines = 0;
	forward_line(p, out, s, len);
}

const struct proto_ops ftp_server_ops = {
	.start = ftp_start,
	.line = ftp_line,
	.plain_line = ftp_plain_line,
};
