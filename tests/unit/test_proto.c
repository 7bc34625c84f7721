/*
 * The STARTTLS state machines, client role: each dialogue is fed whole,
 * split in two at every byte, and one byte at a time; every way must give
 * the same commands and the same outcome.
 */
#include "config.h"

#include <stdlib.h>

#include "proto/proto.h"
#include "tap.h"

enum outcome { PENDING, SWITCH, FAIL, FALLBACK };

struct result {
	enum outcome	 outcome;
	char		 sent[1024];	/* everything sent to the server */
	char		 plain[1024];	/* what the plain side gets */
	char		 why[512];
};

struct cfg {
	enum proto	 proto;
	int		 opportunistic;
};

static void
collect(struct result *r, struct proto_out *out)
{
	strncat(r->sent, out->to_tls.data ? out->to_tls.data : "",
	    sizeof(r->sent) - strlen(r->sent) - 1);
	strncat(r->plain, out->to_plain.data ? out->to_plain.data : "",
	    sizeof(r->plain) - strlen(r->plain) - 1);
	if (out->why[0] != '\0')
		snprintf(r->why, sizeof(r->why), "%s", out->why);
	if (out->fail)
		r->outcome = FAIL;
	else if (out->start_tls)
		r->outcome = SWITCH;
	else if (out->fallback)
		r->outcome = FALLBACK;
	proto_out_free(out);
}

/* Feed the server's bytes in chunks cut at the given offsets. */
static void
run(const struct cfg *c, const char *server, size_t slen, const size_t *cuts,
    int ncuts, struct result *r)
{
	struct proto_cfg	 pc = { c->proto, ROLE_CLIENT, "localhost",
				    "mail.example", c->opportunistic };
	struct negotiation	*p = proto_new(&pc);
	struct proto_out	 out;
	size_t			 from = 0, to;

	memset(r, 0, sizeof(*r));
	proto_out_init(&out);
	proto_start(p, &out);
	collect(r, &out);
	for (int i = 0; i <= ncuts && r->outcome == PENDING; i++) {
		to = i < ncuts ? cuts[i] : slen;
		if (to > from) {
			proto_out_init(&out);
			proto_from_tls(p, server + from, to - from, &out);
			collect(r, &out);
		}
		from = to;
	}
	/*
	 * Bytes the machine was not fed reach the TLS engine, which refuses
	 * clear text where the handshake should start (tested elsewhere).
	 */
	if (r->outcome == SWITCH && from < slen) {
		r->outcome = FAIL;
		snprintf(r->why, sizeof(r->why), "injection after the switch");
	}
	if (r->outcome == SWITCH) {
		proto_out_init(&out);
		proto_established(p, &out);
		collect(r, &out);
	}
	proto_free(p);
}

static const char *const names[] = { "PENDING", "SWITCH", "FAIL", "FALLBACK" };

/*
 * One dialogue: the outcome, the commands, the plain side's greeting, and
 * a piece of the error message, the same however the input is split.
 */
static void
dialogue(const char *what, const struct cfg *c, const char *server,
    enum outcome want, const char *sent, const char *plain, const char *why)
{
	struct result	 whole, part;
	size_t		 slen = strlen(server), *cuts;
	int		 same = 1;

	run(c, server, slen, NULL, 0, &whole);
	if (!ok(whole.outcome == want, "%s: %s", what, names[want]))
		printf("# got %s: %s\n", names[whole.outcome], whole.why);
	if (sent != NULL)
		is_str(whole.sent, sent, "  commands sent");
	if (plain != NULL)
		is_str(whole.plain, plain, "  the plain side's greeting");
	if (why != NULL && !ok(strstr(whole.why, why) != NULL,
	    "  the reason says '%s'", why))
		printf("# got '%s'\n", whole.why);

	if ((cuts = calloc(slen + 1, sizeof(*cuts))) == NULL)
		abort();
	for (size_t i = 1; i < slen && same; i++) {
		cuts[0] = i;
		run(c, server, slen, cuts, 1, &part);
		same = part.outcome == whole.outcome &&
		    strcmp(part.sent, whole.sent) == 0 &&
		    strcmp(part.plain, whole.plain) == 0;
		if (!same)
			printf("# differs when split at %zu\n", i);
	}
	ok(same, "  the same split in two at every byte");
	for (size_t i = 0; i < slen; i++)
		cuts[i] = i + 1;
	run(c, server, slen, cuts, (int)slen, &part);
	ok(part.outcome == whole.outcome && strcmp(part.sent, whole.sent) == 0 &&
	    strcmp(part.plain, whole.plain) == 0, "  the same byte by byte");
	free(cuts);
}

static char *
repeat(const char *head, const char *unit, int n, const char *tail)
{
	size_t	 len = strlen(head) + strlen(unit) * n + strlen(tail) + 1;
	char	*s = malloc(len);

	if (s == NULL)
		abort();
	strcpy(s, head);
	while (n-- > 0)
		strcat(s, unit);
	strcat(s, tail);
	return s;
}

static void
smtp(void)
{
	struct cfg	c = { PROTO_SMTP, 0 }, opp = { PROTO_SMTP, 1 };
	char		*s;

	dialogue("smtp: multi-line greeting and EHLO", &c,
	    "220-mail.example ESMTP\r\n220 ready\r\n"
	    "250-mail.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
	    "250 SIZE 1000\r\n220 2.0.0 go ahead\r\n",
	    SWITCH, "EHLO localhost\r\nSTARTTLS\r\n",
	    "220-mail.example ESMTP\r\n220 ready\r\n", NULL);
	dialogue("smtp: bare LF line ends, lower case", &c,
	    "220 x\n250-x\n250 starttls\n220 go\n", SWITCH,
	    "EHLO localhost\r\nSTARTTLS\r\n", "220 x\r\n", NULL);
	dialogue("smtp: STARTTLS not offered", &c,
	    "220 x\r\n250-x\r\n250-X-STARTTLS\r\n250-STARTTLSX\r\n250 SIZE 1\r\n",
	    FAIL, "EHLO localhost\r\n", NULL,
	    "does not offer STARTTLS (it offers: X-STARTTLS, STARTTLSX, SIZE)");
	dialogue("smtp: not offered, --opportunistic", &opp,
	    "220 x\r\n250-x\r\n250 SIZE 1\r\n", FALLBACK, "EHLO localhost\r\n",
	    "220 x\r\n", "CLEAR TEXT");
	dialogue("smtp: STARTTLS refused", &c,
	    "220 x\r\n250-x\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n",
	    FAIL, NULL, NULL, "STARTTLS refused: '454");
	dialogue("smtp: greeting not 220", &c, "554 go away\r\n", FAIL, "",
	    NULL, "not 220");
	dialogue("smtp: EHLO refused", &c, "220 x\r\n500 what\r\n", FAIL, NULL,
	    NULL, "EHLO refused");
	dialogue("smtp: malformed reply", &c, "hello there\r\n", FAIL, NULL,
	    NULL, "malformed SMTP reply");
	dialogue("smtp: bytes after the 220 (response injection)", &c,
	    "220 x\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n250 injected\r\n",
	    FAIL, NULL,
	    NULL, "injection");
	s = repeat("220 ", "x", 5000, "\r\n");
	dialogue("smtp: a 5000-byte line", &c, s, FAIL, NULL, NULL,
	    "longer than 4096");
	free(s);
	s = repeat("220 x\r\n", "250-x\r\n", 1200, "");
	dialogue("smtp: 1200 reply lines", &c, s, FAIL, NULL, NULL,
	    "more than 1000 lines");
	free(s);
}

static void
imap(void)
{
	struct cfg	c = { PROTO_IMAP, 0 };

	dialogue("imap: STARTTLS in the greeting's CAPABILITY", &c,
	    "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\r\n"
	    "a1 OK Begin TLS negotiation now.\r\n", SWITCH, "a1 STARTTLS\r\n",
	    "* OK Dovecot ready.\r\n", NULL);
	dialogue("imap: CAPABILITY command", &c,
	    "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"
	    "a2 OK go\r\n", SWITCH, "a1 CAPABILITY\r\na2 STARTTLS\r\n",
	    "* OK ready\r\n", NULL);
	dialogue("imap: stale capabilities: code without STARTTLS", &c,
	    "* OK [CAPABILITY IMAP4rev1] hi\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"
	    "a1 OK done\r\na2 OK go\r\n", SWITCH,
	    "a1 CAPABILITY\r\na2 STARTTLS\r\n", "* OK hi\r\n", NULL);
	dialogue("imap: a literal that looks like our tagged reply", &c,
	    "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"
	    "* X {9}\r\na1 NO x\r\n\r\na1 OK done\r\na2 OK go\r\n", SWITCH,
	    "a1 CAPABILITY\r\na2 STARTTLS\r\n", NULL, NULL);
	dialogue("imap: PREAUTH", &c, "* PREAUTH hi\r\n", FAIL, "", NULL,
	    "PREAUTH");
	dialogue("imap: BYE", &c, "* BYE busy\r\n", FAIL, "", NULL,
	    "not * OK");
	dialogue("imap: STARTTLS not offered", &c,
	    "* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n",
	    FAIL, "a1 CAPABILITY\r\n", NULL,
	    "does not offer STARTTLS (it offers: IMAP4rev1, AUTH=PLAIN)");
	dialogue("imap: STARTTLS refused", &c,
	    "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\na1 NO not now\r\n",
	    FAIL, NULL, NULL, "STARTTLS refused");
	dialogue("imap: bytes after the OK (response injection)", &c,
	    "* OK [CAPABILITY STARTTLS] hi\r\na1 OK go\r\n* OK injected\r\n",
	    FAIL, NULL, NULL, "injection");
}

static void
pop3(void)
{
	struct cfg	c = { PROTO_POP3, 0 };

	dialogue("pop3: CAPA with STLS", &c,
	    "+OK Dovecot ready.\r\n+OK\r\nTOP\r\nUSER\r\nSTLS\r\n.\r\n"
	    "+OK Begin TLS negotiation now.\r\n", SWITCH, "CAPA\r\nSTLS\r\n",
	    "+OK Dovecot ready.\r\n", NULL);
	dialogue("pop3: -ERR greeting", &c, "-ERR busy\r\n", FAIL, "", NULL,
	    "not +OK");
	dialogue("pop3: no CAPA", &c, "+OK hi\r\n-ERR what\r\n", FAIL,
	    "CAPA\r\n", NULL, "does not offer STLS");
	dialogue("pop3: STLS not offered", &c,
	    "+OK hi\r\n+OK\r\nUSER\r\n.\r\n", FAIL, "CAPA\r\n", NULL,
	    "(it offers: USER)");
	dialogue("pop3: STLS refused", &c,
	    "+OK hi\r\n+OK\r\nSTLS\r\n.\r\n-ERR no\r\n", FAIL, NULL, NULL,
	    "STLS refused");
	dialogue("pop3: bytes after +OK (response injection)", &c,
	    "+OK hi\r\n+OK\r\nSTLS\r\n.\r\n+OK go\r\n+OK injected\r\n", FAIL,
	    NULL, NULL, "injection");
}

static void
http(void)
{
	struct cfg	c = { PROTO_HTTP, 0 };
	const char	*req = "OPTIONS * HTTP/1.1\r\nHost: mail.example\r\n"
			    "Upgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n";

	dialogue("http-upgrade: 101 naming TLS/1.0", &c,
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, HTTP/1.1\r\n"
	    "Connection: Upgrade\r\n\r\n", SWITCH, req, "", NULL);
	dialogue("http-upgrade: folded, lower-case Upgrade header", &c,
	    "HTTP/1.1 101 Switching\r\nupgrade: HTTP/2.0,\r\n tls/1.2\r\n\r\n",
	    SWITCH, req, NULL, NULL);
	dialogue("http-upgrade: 200 instead of 101", &c,
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", FAIL, req, NULL,
	    "refused the upgrade: 'HTTP/1.1 200 OK'");
	dialogue("http-upgrade: 101 to something else", &c,
	    "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n", FAIL, req,
	    NULL, "without an Upgrade to TLS");
	dialogue("http-upgrade: not HTTP", &c, "220 smtp here\r\n", FAIL, req,
	    NULL, "malformed HTTP status line");
	dialogue("http-upgrade: bytes after the headers (response injection)",
	    &c, "HTTP/1.1 101 S\r\nUpgrade: TLS/1.0\r\n\r\nHTTP/1.1 200 OK\r\n",
	    FAIL, req, NULL, "injection");
}

int
main(void)
{
	smtp();
	imap();
	pop3();
	http();
	return done_testing();
}
