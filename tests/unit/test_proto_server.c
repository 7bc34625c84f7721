/*
 * The STARTTLS state machines of smtp, imap, pop3 and http-upgrade, server
 * role: steps from the client (T) or the backend (P); the harness is
 * dialogue.h.
 */
#include "config.h"

#include <stdlib.h>

#include "dialogue.h"

static void
smtp(void)
{
	static const struct step good[] = {
		P("220 backend ESMTP\r\n"),
		T("EHLO client\r\n"),
		P("250-backend\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 HELP\r\n"),
		T("STARTTLS\r\n"),
		END
	}, oneline[] = {
		P("220 b\r\n"), T("EHLO c\r\n"), P("250 b\r\n"),
		END
	}, refused[] = {
		P("220 b\r\n"),
		T("MAIL FROM:<a@b>\r\nAUTH PLAIN AAAA\r\nNOOP\r\n"),
		P("250 ok\r\n"),
		END
	}, pipelined[] = {
		P("220 b\r\n"),
		T("EHLO c\r\nNOOP\r\n"),
		P("250 b\r\n"), P("250 ok\r\n"),
		END
	}, inject[] = {
		P("220 b\r\n"), T("STARTTLS\r\nRSET\r\n"), END
	}, inject_later[] = {
		P("220 b\r\n"), T("STARTTLS\r\n"), T("RSET\r\n"),
		END
	}, plain[] = {
		P("220 b\r\n"),
		T("MAIL FROM:<a@b>\r\n"), P("250 ok\r\n"),
		T("DATA\r\n"), P("354 go\r\n"),
		T("STARTTLS\r\nbody\r\n.\r\n"), P("250 queued\r\n"),
		END
	};

	server("smtp: EHLO gets STARTTLS (and loses CHUNKING)", PROTO_SMTP, 0,
	    good, SWITCH, "220 backend ESMTP\r\n250-backend\r\n250-PIPELINING\r\n"
	    "250-HELP\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n",
	    "EHLO client\r\n", NULL);
	server("smtp: a one-line EHLO reply", PROTO_SMTP, 0, oneline, PENDING,
	    "220 b\r\n250-b\r\n250 STARTTLS\r\n", "EHLO c\r\n", NULL);
	server("smtp: MAIL and AUTH before TLS are refused", PROTO_SMTP, 0,
	    refused, PENDING, "220 b\r\n"
	    "530 5.7.0 Must issue a STARTTLS command first\r\n"
	    "530 5.7.0 Must issue a STARTTLS command first\r\n250 ok\r\n",
	    "NOOP\r\n", NULL);
	server("smtp: pipelined commands keep their order", PROTO_SMTP, 0,
	    pipelined, PENDING, "220 b\r\n250-b\r\n250 STARTTLS\r\n250 ok\r\n",
	    "EHLO c\r\nNOOP\r\n", NULL);
	server("smtp: STARTTLS\\r\\nRSET in one write (command injection)",
	    PROTO_SMTP, 0, inject, FAIL, NULL, "", "injection");
	server("smtp: RSET after STARTTLS, before the handshake", PROTO_SMTP,
	    0, inject_later, FAIL, NULL, "", "injection");
	server("smtp: --allow-plain: the first command it would refuse goes, "
	    "then clear text for good",
	    PROTO_SMTP, 1, plain, FALLBACK, "220 b\r\n250 ok\r\n354 go\r\n"
	    "250 queued\r\n",
	    "MAIL FROM:<a@b>\r\nDATA\r\nSTARTTLS\r\nbody\r\n.\r\n",
	    "CLEAR TEXT");
}

static void
imap(void)
{
	static const struct step good[] = {
		P("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"),
		T("a1 CAPABILITY\r\n"),
		P("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n"),
		T("a2 LOGIN u p\r\na3 AUTHENTICATE PLAIN\r\n"
		    "a5 SELECT INBOX\r\na4 STARTTLS\r\n"),
		END
	}, inject[] = {
		P("* OK ready\r\n"),
		T("a STARTTLS\r\nb LOGIN u p\r\n"), END
	}, literal[] = {
		P("* OK ready\r\n"), T("a ID {4}\r\n"), END
	}, id_literal[] = {
		P("* OK ready\r\n"), T("a ID (\"name\" {5}\r\n"),
		T("x\"\\ y)\r\n"), P("* ID NIL\r\na OK done\r\n"),
		T("b ID {3+}\r\nx\ry\r\n"), END
	}, bad_tag_literal[] = {
		P("* OK ready\r\n"), T("* ID {4}\r\n"), T("c NOOP\r\n"), END
	};

	server("imap: STARTTLS and LOGINDISABLED added, LOGIN and SELECT "
	    "refused",
	    PROTO_IMAP, 0, good, SWITCH,
	    "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"
	    "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
	    "a1 OK done\r\n"
	    "a2 NO [PRIVACYREQUIRED] Must issue STARTTLS first\r\n"
	    "a3 NO [PRIVACYREQUIRED] Must issue STARTTLS first\r\n"
	    "a5 NO [PRIVACYREQUIRED] Must issue STARTTLS first\r\n"
	    "a4 OK Begin TLS negotiation now\r\n", "a1 CAPABILITY\r\n", NULL);
	server("imap: a STARTTLS\\r\\nb LOGIN in one write (command injection)",
	    PROTO_IMAP, 0, inject, FAIL, NULL, "", "injection");
	server("imap: a {N} literal before TLS gets the go-ahead", PROTO_IMAP,
	    0, literal, PENDING, "* OK ready\r\n+ Ready for literal data\r\n",
	    "", NULL);
	server("imap: an ID's literal reaches the backend as a quoted string; "
	    "one with a CR does not", PROTO_IMAP, 0, id_literal, PENDING,
	    "* OK ready\r\n+ Ready for literal data\r\n* ID NIL\r\n"
	    "a OK done\r\nb BAD This literal is not accepted before "
	    "STARTTLS\r\n", "a ID (\"name\" \"x\\\"\\\\ y\")\r\n", NULL);
	server("imap: a {N} literal with a bad tag is refused before it comes",
	    PROTO_IMAP, 0, bad_tag_literal, PENDING, "* OK ready\r\n"
	    "* BAD Invalid tag or missing command\r\n", "c NOOP\r\n", NULL);
}

static void
pop3(void)
{
	static const struct step good[] = {
		P("+OK ready\r\n"),
		T("CAPA\r\n"),
		P("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n"),
		T("USER x\r\nPASS y\r\nRETR 1\r\nSTLS\r\n"),
		END
	}, inject[] = {
		P("+OK ready\r\n"), T("STLS\r\nUSER x\r\n"), END
	}, plain[] = {
		P("+OK ready\r\n"),
		T("USER x\r\n"), P("+OK\r\n"),
		T("LIST\r\n"), P("+OK 1 msg\r\n1 10\r\n.\r\n"),
		T("QUIT\r\n"), END
	};

	server("pop3: STLS added to CAPA, USER, PASS and RETR refused",
	    PROTO_POP3, 0, good, SWITCH,
	    "+OK ready\r\n+OK\r\nSTLS\r\n"
	    ".\r\n-ERR [AUTH] Must issue STLS first\r\n"
	    "-ERR [AUTH] Must issue STLS first\r\n"
	    "-ERR [AUTH] Must issue STLS first\r\n+OK Begin TLS negotiation\r\n",
	    "CAPA\r\n", NULL);
	server("pop3: STLS\\r\\nUSER x in one write (command injection)",
	    PROTO_POP3, 0, inject, FAIL, NULL, "", "injection");
	server("pop3: --allow-plain: USER goes, then clear text for good",
	    PROTO_POP3, 1, plain, FALLBACK,
	    "+OK ready\r\n+OK\r\n+OK 1 msg\r\n1 10\r\n.\r\n",
	    "USER x\r\nLIST\r\nQUIT\r\n", "CLEAR TEXT");
}

#define UP	"HTTP/1.1 101 Switching Protocols\r\n" \
	"Upgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n\r\n"
/* RFC 2817 3.3: OPTIONS * is answered inside TLS, by us. */
#define UP_OPTIONS	UP "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

static void
http(void)
{
	static const char up[] = UP;
	static const struct step options[] = {
		T("OPTIONS * HTTP/1.1\r\nHost: x\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\n\r\n"), END
	}, get[] = {
		T("GET /a HTTP/1.1\r\nHost: x\r\nupgrade: HTTP/2.0,\r\n"
		    " TLS/1.2\r\nConnection: keep-alive, Upgrade\r\n\r\n"), END
	}, none[] = {
		T("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), END
	}, inject[] = {
		T("OPTIONS * HTTP/1.1\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\n\r\nGET /b HTTP/1.1\r\n\r\n"), END
	}, libcups[] = {
		T("OPTIONS * HTTP/1.1\r\nHost: localhost:631\r\n"
		    "Connection: upgrade\r\n"
		    "Upgrade: TLS/1.2,TLS/1.1,TLS/1.0\r\n\r\n"), H,
		T("POST /printers/x HTTP/1.1\r\n\r\n"),
		P("HTTP/1.1 200 OK\r\n\r\n"), END
	}, real[] = {
		T("GET /a HTTP/1.1\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\n\r\n"), H,
		P("HTTP/1.1 200 OK\r\n\r\n"), END
	}, body[] = {
		T("POST /a HTTP/1.1\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\nContent-Length: 3\r\n\r\n"), END
	};
	static const char refused[] = "HTTP/1.1 426 Upgrade Required\r\n"
	    "Upgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n"
	    "Content-Length: 0\r\n\r\n";

	server("http-upgrade: OPTIONS * gets 101, then 200 inside TLS",
	    PROTO_HTTP, 0, options, SWITCH, UP_OPTIONS, "", NULL);
	server("http-upgrade: libcups's OPTIONS *, then its requests",
	    PROTO_HTTP, 0, libcups, SWITCH, UP_OPTIONS
	    "HTTP/1.1 200 OK\r\n\r\n", "POST /printers/x HTTP/1.1\r\n\r\n",
	    NULL);
	server("http-upgrade: a real request: nothing of ours inside TLS, "
	    "the backend answers", PROTO_HTTP, 0, real, SWITCH,
	    UP "HTTP/1.1 200 OK\r\n\r\n", "GET /a HTTP/1.1\r\n\r\n",
	    NULL);
	server("http-upgrade: a real request gets 101 and goes to the backend "
	    "after TLS", PROTO_HTTP, 0, get, SWITCH, up,
	    "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
	server("http-upgrade: no upgrade: 426", PROTO_HTTP, 0, none, PENDING,
	    refused, "", NULL);
	server("http-upgrade: a request behind the upgrade (injection)",
	    PROTO_HTTP, 0, inject, FAIL, up, "", "injection");
	server("http-upgrade: a body cannot cross the switch", PROTO_HTTP, 0,
	    body, PENDING, "HTTP/1.1 400 Bad Request\r\n"
	    "Upgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n"
	    "Content-Length: 0\r\n\r\n", "", NULL);
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
