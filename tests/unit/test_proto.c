/*
 * The STARTTLS state machines of smtp, imap, pop3 and http-upgrade, client
 * role: the server's bytes in one string; the harness is dialogue.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dialogue.h"

struct cfg {
	enum proto	 proto;
	int		 opportunistic;
};

static void
smtp(void)
{
	struct cfg	c = { PROTO_SMTP, 0 }, opp = { PROTO_SMTP, 1 };
	char		*s;

	client("smtp: multi-line greeting and EHLO", c.proto, c.opportunistic,
	    "220-mail.example ESMTP\r\n220 ready\r\n"
	    "250-mail.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
	    "250 SIZE 1000\r\n220 2.0.0 go ahead\r\n",
	    SWITCH, "EHLO localhost\r\nSTARTTLS\r\n",
	    "220 mail.example ESMTP\r\n", NULL);
	client("smtp: bare LF line ends, lower case", c.proto, c.opportunistic,
	    "220 x\n250-x\n250 starttls\n220 go\n", SWITCH,
	    "EHLO localhost\r\nSTARTTLS\r\n", "220 mail.example ESMTP\r\n",
	    NULL);
	client("smtp: STARTTLS not offered", c.proto, c.opportunistic,
	    "220 x\r\n250-x\r\n250-X-STARTTLS\r\n250-STARTTLSX\r\n250 SIZE 1\r\n",
	    FAIL, "EHLO localhost\r\n", NULL,
	    "does not offer STARTTLS (it offers: X-STARTTLS, STARTTLSX, SIZE)");
	client("smtp: not offered, --opportunistic", opp.proto, opp.opportunistic,
	    "220 x\r\n250-x\r\n250 SIZE 1\r\n", FALLBACK, "EHLO localhost\r\n",
	    "220 x\r\n", "CLEAR TEXT");
	client("smtp: STARTTLS refused", c.proto, c.opportunistic,
	    "220 x\r\n250-x\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n",
	    FAIL, NULL, NULL, "STARTTLS refused: '454");
	client("smtp: greeting not 220", c.proto, c.opportunistic, "554 go away\r\n", FAIL, "",
	    NULL, "not 220");
	client("smtp: EHLO refused", c.proto, c.opportunistic, "220 x\r\n500 what\r\n", FAIL, NULL,
	    NULL, "EHLO refused");
	client("smtp: malformed reply", c.proto, c.opportunistic, "hello there\r\n", FAIL, NULL,
	    NULL, "malformed SMTP reply");
	client("smtp: bytes after the 220 (response injection)", c.proto, c.opportunistic,
	    "220 x\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n250 injected\r\n",
	    FAIL, NULL,
	    NULL, "injection");
	s = repeat("220 ", "x", 5000, "\r\n");
	client("smtp: a 5000-byte line", c.proto, c.opportunistic, s, FAIL, NULL, NULL,
	    "longer than 4096");
	free(s);
	s = repeat("220 x\r\n", "250-x\r\n", 1200, "");
	client("smtp: 1200 reply lines", c.proto, c.opportunistic, s, FAIL, NULL, NULL,
	    "more than 1000 lines");
	free(s);
}

static void
imap(void)
{
	struct cfg	c = { PROTO_IMAP, 0 };

	client("imap: STARTTLS in the greeting's CAPABILITY", c.proto, c.opportunistic,
	    "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\r\n"
	    "a1 OK Begin TLS negotiation now.\r\n", SWITCH, "a1 STARTTLS\r\n",
	    "* OK mail.example ready\r\n", NULL);
	client("imap: CAPABILITY command", c.proto, c.opportunistic,
	    "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"
	    "a2 OK go\r\n", SWITCH, "a1 CAPABILITY\r\na2 STARTTLS\r\n",
	    "* OK mail.example ready\r\n", NULL);
	client("imap: stale capabilities: code without STARTTLS", c.proto, c.opportunistic,
	    "* OK [CAPABILITY IMAP4rev1] hi\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"
	    "a1 OK done\r\na2 OK go\r\n", SWITCH,
	    "a1 CAPABILITY\r\na2 STARTTLS\r\n", "* OK mail.example ready\r\n",
	    NULL);
	client("imap: a literal that looks like our tagged reply", c.proto, c.opportunistic,
	    "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"
	    "* X {9}\r\na1 NO x\r\n\r\na1 OK done\r\na2 OK go\r\n", SWITCH,
	    "a1 CAPABILITY\r\na2 STARTTLS\r\n", NULL, NULL);
	client("imap: PREAUTH", c.proto, c.opportunistic, "* PREAUTH hi\r\n", FAIL, "", NULL,
	    "PREAUTH");
	client("imap: BYE", c.proto, c.opportunistic, "* BYE busy\r\n", FAIL, "", NULL,
	    "not * OK");
	client("imap: STARTTLS not offered", c.proto, c.opportunistic,
	    "* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n",
	    FAIL, "a1 CAPABILITY\r\n", NULL,
	    "does not offer STARTTLS (it offers: IMAP4rev1, AUTH=PLAIN)");
	client("imap: STARTTLS refused", c.proto, c.opportunistic,
	    "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\na1 NO not now\r\n",
	    FAIL, NULL, NULL, "STARTTLS refused");
	client("imap: bytes after the OK (response injection)", c.proto, c.opportunistic,
	    "* OK [CAPABILITY STARTTLS] hi\r\na1 OK go\r\n* OK injected\r\n",
	    FAIL, NULL, NULL, "injection");
}

static void
pop3(void)
{
	struct cfg	c = { PROTO_POP3, 0 };

	client("pop3: CAPA with STLS", c.proto, c.opportunistic,
	    "+OK Dovecot ready.\r\n+OK\r\nTOP\r\nUSER\r\nSTLS\r\n.\r\n"
	    "+OK Begin TLS negotiation now.\r\n", SWITCH, "CAPA\r\nSTLS\r\n",
	    "+OK mail.example ready\r\n", NULL);
	client("pop3: -ERR greeting", c.proto, c.opportunistic, "-ERR busy\r\n", FAIL, "", NULL,
	    "not +OK");
	client("pop3: no CAPA", c.proto, c.opportunistic, "+OK hi\r\n-ERR what\r\n", FAIL,
	    "CAPA\r\n", NULL, "does not offer STLS");
	client("pop3: STLS not offered", c.proto, c.opportunistic,
	    "+OK hi\r\n+OK\r\nUSER\r\n.\r\n", FAIL, "CAPA\r\n", NULL,
	    "(it offers: USER)");
	client("pop3: STLS refused", c.proto, c.opportunistic,
	    "+OK hi\r\n+OK\r\nSTLS\r\n.\r\n-ERR no\r\n", FAIL, NULL, NULL,
	    "STLS refused");
	client("pop3: bytes after +OK (response injection)", c.proto, c.opportunistic,
	    "+OK hi\r\n+OK\r\nSTLS\r\n.\r\n+OK go\r\n+OK injected\r\n", FAIL,
	    NULL, NULL, "injection");
}

static void
http(void)
{
	struct cfg	c = { PROTO_HTTP, 0 };
	const char	*req = "OPTIONS * HTTP/1.1\r\nHost: mail.example\r\n"
			    "Upgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n";

	client("http-upgrade: 101 naming TLS/1.0", c.proto, c.opportunistic,
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, HTTP/1.1\r\n"
	    "Connection: Upgrade\r\n\r\n", SWITCH, req, "", NULL);
	client("http-upgrade: folded, lower-case Upgrade header", c.proto, c.opportunistic,
	    "HTTP/1.1 101 Switching\r\nupgrade: HTTP/2.0,\r\n tls/1.2\r\n\r\n",
	    SWITCH, req, NULL, NULL);
	client("http-upgrade: 200 instead of 101", c.proto, c.opportunistic,
	    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", FAIL, req, NULL,
	    "refused the upgrade: 'HTTP/1.1 200 OK'");
	client("http-upgrade: 101 to something else", c.proto, c.opportunistic,
	    "HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n", FAIL, req,
	    NULL, "without an Upgrade to TLS");
	client("http-upgrade: not HTTP", c.proto, c.opportunistic, "220 smtp here\r\n", FAIL, req,
	    NULL, "malformed HTTP status line");
	client("http-upgrade: bytes after the headers (response injection)",
	    c.proto, c.opportunistic, "HTTP/1.1 101 S\r\nUpgrade: TLS/1.0\r\n\r\nHTTP/1.1 200 OK\r\n",
	    FAIL, req, NULL, "injection");
}

#define UP	T("HTTP/1.1 101 S\r\nUpgrade: TLS/1.0\r\n\r\n"), H

/* After a known-good 101 and the handshake: the server's bytes. */
static void
inside(const char *what, const char *answer, enum outcome outcome,
    const char *plain, const char *why)
{
	struct step	steps[] = { UP, { 't', answer, strlen(answer) },
			    END };

	dialogue(what, PROTO_HTTP, ROLE_CLIENT, 0, steps,
	    want_str(outcome, NULL, plain, why));
}

/*
 * Inside TLS the server answers our OPTIONS * (RFC 2817 3.3, as cupsd
 * does): the answer is dropped, what follows goes to the plain side.
 */
static void
http_inside(void)
{
	static const struct step head[] = {
		UP, T("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		T("HTTP/1.1 200 yours\r\n"), END
	};
	struct step	big[74] = { UP, T("HTTP/1.1 200 OK\r\n") };
	char		*s;
	int		 i;

	dialogue("http-upgrade inside: cupsd's answer to OPTIONS * is "
	    "dropped", PROTO_HTTP, ROLE_CLIENT, 0, head,
	    want_str(SWITCH, NULL, "HTTP/1.1 200 yours\r\n", NULL));
	inside("http-upgrade inside: and a body of its Content-Length",
	    "HTTP/1.1 200 OK\r\nAllow: GET\r\ncontent-length:  5 \r\n\r\n"
	    "hel\nlHTTP/1.1 200 yours\r\n", SWITCH,
	    "HTTP/1.1 200 yours\r\n", NULL);
	inside("http-upgrade inside: 100 Continue first, no Content-Length",
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 405 No\r\n\r\nyours",
	    SWITCH, "yours", NULL);
	inside("http-upgrade inside: a 204 has no body, whatever it says",
	    "HTTP/1.1 204 N\r\nContent-Length: 3\r\n\r\nyours", SWITCH,
	    "yours", NULL);
	inside("http-upgrade inside: not a status line",
	    "HTTP/1.1 2xx OK\r\n\r\n", FAIL, "",
	    "answer to OPTIONS * inside TLS: malformed status line");
	inside("http-upgrade inside: chunks are refused",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
	    "\r\n", FAIL, "", "no Transfer-Encoding here");
	inside("http-upgrade inside: a Content-Length that is not a number",
	    "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", FAIL, "",
	    "malformed or too large Content-Length");
	inside("http-upgrade inside: a body over 64 KiB",
	    "HTTP/1.1 200 OK\r\nContent-Length: 65537\r\n\r\n", FAIL, "",
	    "malformed or too large Content-Length");
	s = repeat("HTTP/1.1 200 OK\r\nX: ", "x", 9000, "\r\n\r\n");
	inside("http-upgrade inside: a header line over 8192 bytes", s, FAIL,
	    "", "a line longer than 8192 bytes");
	free(s);
	s = repeat("X: ", "x", 995, "\r\n");
	for (i = 3; i < 73; i++)
		big[i] = (struct step){ 't', s, 0 };
	dialogue("http-upgrade inside: more than 64 KiB of headers",
	    PROTO_HTTP, ROLE_CLIENT, 0, big, want_str(FAIL, NULL, "",
	    "more than 64 KiB of status line and headers"));
	free(s);
}

/* RFC 7230 5.4: Host names an IPv6 literal in brackets, a port but 80. */
static void
host(const char *name, const char *port, const char *want)
{
	struct proto_cfg	 pc = { .proto = PROTO_HTTP,
				    .role = ROLE_CLIENT, .host = name,
				    .port = port };
	struct negotiation	*p = proto_new(&pc);
	struct proto_out	 out;
	const char		*h;
	size_t			 n;

	proto_out_init(&out);
	proto_start(p, &out);
	h = strstr(out.to_tls.data, "\r\nHost: ");
	n = h != NULL ? strcspn(h + 2, "\r") : 0;
	if (!ok(h != NULL && strncmp(h + 2, want, n) == 0 &&
	    want[n] == '\0', "http-upgrade: %s", want))
		printf("# got '%.*s'\n", (int)n, h != NULL ? h + 2 : "");
	proto_out_free(&out);
	proto_free(p);
}

static void
http_host(void)
{
	host("::1", "8631", "Host: [::1]:8631");
	host("fe80::1", NULL, "Host: [fe80::1]");
	host("printer.example", "631", "Host: printer.example:631");
	host("printer.example", "80", "Host: printer.example");
	host("printer.example", "ipp", "Host: printer.example");
	host("127.0.0.1", "80", "Host: 127.0.0.1");
}

/*
 * A man in the middle writes the clear-text greeting: whatever it says
 * ([ALERT], [REFERRAL], an APOP challenge, escape sequences), the plain
 * side gets ours, and not one byte of it.
 */
static void
forged_greetings(void)
{
	client("imap: an [ALERT] in the greeting never reaches the plain side",
	    PROTO_IMAP, 0, "* OK [ALERT] Your password expired, see "
	    "evil.example\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n"
	    "a1 OK done\r\na2 OK go\r\n", SWITCH, NULL,
	    "* OK mail.example ready\r\n", NULL);
	client("imap: nor a [REFERRAL]", PROTO_IMAP, 0,
	    "* OK [REFERRAL imap://evil/] hi\r\n"
	    "* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\na2 OK go\r\n",
	    SWITCH, NULL, "* OK mail.example ready\r\n", NULL);
	client("pop3: nor an APOP timestamp", PROTO_POP3, 0,
	    "+OK POP3 <1896.697170952@evil.example>\r\n+OK\r\nSTLS\r\n.\r\n"
	    "+OK go\r\n", SWITCH, NULL, "+OK mail.example ready\r\n", NULL);
	client("smtp: nor escape sequences", PROTO_SMTP, 0,
	    "220 \033[2J\033]0;owned\007\r\n250-x\r\n250 STARTTLS\r\n"
	    "220 go\r\n", SWITCH, NULL, "220 mail.example ESMTP\r\n", NULL);
	client("lmtp: our greeting says LMTP", PROTO_LMTP, 0,
	    "220 evil LMTP\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n", SWITCH,
	    "LHLO localhost\r\nSTARTTLS\r\n", "220 mail.example LMTP\r\n",
	    NULL);
}

int
main(void)
{
	forged_greetings();
	smtp();
	imap();
	pop3();
	http();
	http_inside();
	http_host();
	return done_testing();
}
