/*
 * The line protocols LMTP, NNTP and ManageSieve, in both roles (the
 * harness is dialogue.h).
 */
#include "config.h"

#include <stdlib.h>

#include "dialogue.h"

#define MUST_TLS	"530 5.7.0 Must issue a STARTTLS command first\r\n"

static void
lmtp(void)
{
	static const struct step good[] = {
		P("220 lmtp.example LMTP ready\r\n"),
		T("LHLO client\r\n"),
		P("250-lmtp.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n"),
		T("EHLO x\r\nHELO x\r\nMAIL FROM:<a@b>\r\nSTARTTLS\r\n"),
		END
	}, inject[] = {
		P("220 b\r\n"), T("STARTTLS\r\nRSET\r\n"), END
	}, inject_later[] = {
		P("220 b\r\n"), T("STARTTLS\r\n"), T("RSET\r\n"),
		END
	}, two_replies[] = {
		P("220 b\r\n"),
		T("MAIL FROM:<a@b>\r\n"), P("250 ok\r\n"),
		T("RCPT TO:<x@b>\r\n"), P("250 ok\r\n"),
		T("RCPT TO:<y@b>\r\n"), P("250 ok\r\n"),
		T("DATA\r\n"), P("354 go\r\n"),
		T("body\r\n.\r\nQUIT\r\n"), P("250 2.0.0 <x@b> ok\r\n"),
		P("452 4.2.2 <y@b> over quota\r\n"), P("221 bye\r\n"),
		END
	};
	static struct step longline[] = {
		P("220 b\r\n"), { 't', NULL, 0 }, END
	};
	char	*s;

	client("lmtp: LHLO, STARTTLS", PROTO_LMTP, 0,
	    "220 lmtp.example LMTP ready\r\n250-lmtp.example\r\n"
	    "250-PIPELINING\r\n250 STARTTLS\r\n220 2.0.0 Begin TLS\r\n",
	    SWITCH, "LHLO localhost\r\nSTARTTLS\r\n",
	    "220 mail.example LMTP\r\n", NULL);
	client("lmtp: STARTTLS not offered", PROTO_LMTP, 0,
	    "220 x\r\n250-x\r\n250 8BITMIME\r\n", FAIL, "LHLO localhost\r\n",
	    NULL, "does not offer STARTTLS (it offers: 8BITMIME)");
	client("lmtp: not offered, --opportunistic", PROTO_LMTP, 1,
	    "220 x\r\n250 x\r\n", FALLBACK, "LHLO localhost\r\n", "220 x\r\n",
	    "CLEAR TEXT");
	client("lmtp: STARTTLS refused", PROTO_LMTP, 0,
	    "220 x\r\n250-x\r\n250 STARTTLS\r\n454 4.7.0 not now\r\n", FAIL,
	    NULL, NULL, "STARTTLS refused: '454");
	client("lmtp: LHLO refused", PROTO_LMTP, 0, "220 x\r\n500 5.5.1 what\r\n",
	    FAIL, NULL, NULL, "LHLO refused");
	client("lmtp: bytes after the 220 (response injection)", PROTO_LMTP, 0,
	    "220 x\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n250 injected\r\n",
	    FAIL, NULL, NULL, "injection");
	s = repeat("220 ", "x", 5000, "\r\n");
	client("lmtp: a 5000-byte line", PROTO_LMTP, 0, s, FAIL, NULL, NULL,
	    "longer than 4096");
	free(s);

	server("lmtp: LHLO gets STARTTLS; EHLO, HELO, MAIL refused", PROTO_LMTP,
	    0, good, SWITCH, "220 lmtp.example LMTP ready\r\n"
	    "250-lmtp.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
	    "250 STARTTLS\r\n" MUST_TLS MUST_TLS MUST_TLS
	    "220 2.0.0 Ready to start TLS\r\n", "LHLO client\r\n", NULL);
	server("lmtp: STARTTLS\\r\\nRSET in one write (command injection)",
	    PROTO_LMTP, 0, inject, FAIL, NULL, "", "injection");
	server("lmtp: RSET after STARTTLS, before the handshake", PROTO_LMTP, 0,
	    inject_later, FAIL, NULL, "", "injection");
	server("lmtp: --allow-plain: MAIL goes, then clear text for good",
	    PROTO_LMTP, 1, two_replies, FALLBACK, "220 b\r\n250 ok\r\n"
	    "250 ok\r\n250 ok\r\n354 go\r\n250 2.0.0 <x@b> ok\r\n"
	    "452 4.2.2 <y@b> over quota\r\n221 bye\r\n", "MAIL FROM:<a@b>\r\n"
	    "RCPT TO:<x@b>\r\nRCPT TO:<y@b>\r\nDATA\r\nbody\r\n.\r\nQUIT\r\n",
	    "CLEAR TEXT");
	longline[1].bytes = s = repeat("LHLO ", "x", 5000, "\r\n");
	server("lmtp: a 5000-byte command", PROTO_LMTP, 0, longline, FAIL,
	    NULL, "", "longer than 4096");
	free(s);
}

#define NNTP_CAPS	"101 Capability list:\r\nVERSION 2\r\nREADER\r\n"
#define MUST_NNTP	"483 Encryption required: issue STARTTLS first\r\n"

static void
nntp(void)
{
	static const struct step good[] = {
		P("200 news.example ready\r\n"),
		T("CAPABILITIES\r\n"),
		P(NNTP_CAPS "AUTHINFO USER\r\nSASL PLAIN\r\n"
		    "COMPRESS DEFLATE\r\n.\r\n"),
		T("AUTHINFO USER x\r\nauthinfo pass y\r\nCOMPRESS DEFLATE\r\n"
		    "STARTTLS\r\n"),
		END
	}, listed[] = {
		P("201 ready\r\n"), T("CAPABILITIES\r\n"),
		P(NNTP_CAPS "STARTTLS\r\n.\r\n"), END
	}, plain[] = {
		P("200 ready\r\n"), T("CAPABILITIES\r\n"),
		P(NNTP_CAPS "AUTHINFO USER\r\n.\r\n"),
		T("AUTHINFO USER x\r\n"), P("381 more\r\n"), END
	}, groups[] = {
		P("200 ready\r\n"),
		T("GROUP a\r\nLISTGROUP a\r\nARTICLE 1\r\nPOST\r\n"
		    "MODE STREAM\r\nDATE\r\nMODE READER\r\nHELP\r\n"),
		P("111 20261203000000\r\n"), P("200 posting ok\r\n"),
		P("100 help\r\nGROUP\r\n.\r\n"),
		END
	}, post[] = {
		P("200 ready\r\n"), T("POST\r\n"),
		P("340 send it\r\n"),
		T("From: a\r\n\r\nSTARTTLS\r\n..\r\n.\r\nQUIT\r\n"),
		P("240 posted\r\n"), END
	}, inject[] = {
		P("200 ready\r\n"), T("STARTTLS\r\nAUTHINFO USER x\r\n"),
		END
	}, inject_later[] = {
		P("200 ready\r\n"), T("STARTTLS\r\n"),
		T("AUTHINFO USER x\r\n"), END
	};
	static struct step longline[] = {
		{ 'p', NULL, 0 }, END
	};
	static const struct step inside_post[] = {
		T("200 news.example ready\r\n" NNTP_CAPS "STARTTLS\r\n.\r\n"
		    "382 Continue with TLS negotiation\r\n"), H,
		T(NNTP_CAPS "POST\r\n.\r\n"), END
	}, inside_nopost[] = {
		T("201 no posting\n101 caps\nstarttls\n.\n382 go\n"), H,
		T("101 caps\nREADER\n.\n"), END
	}, inside_forged[] = {
		T("200 posting allowed\r\n" NNTP_CAPS "STARTTLS\r\nPOST\r\n"
		    ".\r\n382 go\r\n"), H, T(NNTP_CAPS ".\r\n"), END
	}, inside_refused[] = {
		T("200 x\r\n" NNTP_CAPS "STARTTLS\r\n.\r\n382 go\r\n"), H,
		T("480 authentication required\r\n"), END
	};
	char	*s;

	dialogue("nntp: CAPABILITIES, STARTTLS, 382; inside TLS POST is listed",
	    PROTO_NNTP, ROLE_CLIENT, 0, inside_post, want_str(SWITCH,
	    "CAPABILITIES\r\nSTARTTLS\r\nCAPABILITIES\r\n",
	    "200 mail.example ready (posting allowed)\r\n", NULL));
	dialogue("nntp: a 201 greeting, lower case; no POST inside TLS",
	    PROTO_NNTP, ROLE_CLIENT, 0, inside_nopost, want_str(SWITCH,
	    "CAPABILITIES\r\nSTARTTLS\r\nCAPABILITIES\r\n",
	    "201 mail.example ready (no posting)\r\n", NULL));
	dialogue("nntp: a 200 in clear text is not believed", PROTO_NNTP,
	    ROLE_CLIENT, 0, inside_forged, want_str(SWITCH, NULL,
	    "201 mail.example ready (no posting)\r\n", NULL));
	dialogue("nntp: CAPABILITIES refused inside TLS: no posting",
	    PROTO_NNTP, ROLE_CLIENT, 0, inside_refused, want_str(SWITCH, NULL,
	    "201 mail.example ready (no posting)\r\n", NULL));
	client("nntp: 400 greeting", PROTO_NNTP, 0, "400 busy\r\n", FAIL, "",
	    NULL, "not 200 or 201");
	client("nntp: no CAPABILITIES", PROTO_NNTP, 0,
	    "200 old\r\n500 what\r\n", FAIL, "CAPABILITIES\r\n", NULL,
	    "does not offer STARTTLS");
	client("nntp: STARTTLS not offered", PROTO_NNTP, 0,
	    "200 x\r\n" NNTP_CAPS "XSTARTTLS\r\n.\r\n", FAIL, "CAPABILITIES\r\n",
	    NULL, "(it offers: VERSION, READER, XSTARTTLS)");
	client("nntp: not offered, --opportunistic", PROTO_NNTP, 1,
	    "200 x\r\n" NNTP_CAPS ".\r\n", FALLBACK, "CAPABILITIES\r\n",
	    "200 x\r\n", "CLEAR TEXT");
	client("nntp: STARTTLS refused", PROTO_NNTP, 0,
	    "200 x\r\n" NNTP_CAPS "STARTTLS\r\n.\r\n580 no TLS\r\n", FAIL, NULL,
	    NULL, "STARTTLS refused: '580");
	client("nntp: malformed response", PROTO_NNTP, 0, "hello\r\n", FAIL,
	    "", NULL, "not 200 or 201");
	client("nntp: bytes after the 382 (response injection)", PROTO_NNTP, 0,
	    "200 x\r\n" NNTP_CAPS "STARTTLS\r\n.\r\n382 go\r\n200 fake\r\n",
	    FAIL, NULL, NULL, "injection");
	s = repeat("200 x\r\n101 caps\r\n", "x", 5000, "\r\n.\r\n");
	client("nntp: a 5000-byte capability", PROTO_NNTP, 0, s, FAIL, NULL,
	    NULL, "longer than 4096");
	free(s);

	server("nntp: STARTTLS listed, AUTHINFO listed bare and refused, "
	    "SASL and COMPRESS neither", PROTO_NNTP, 0, good, SWITCH,
	    "200 news.example ready\r\n"
	    NNTP_CAPS "AUTHINFO\r\nSTARTTLS\r\n.\r\n"
	    MUST_NNTP MUST_NNTP MUST_NNTP
	    "382 Continue with TLS negotiation\r\n", "CAPABILITIES\r\n", NULL);
	server("nntp: STARTTLS listed once", PROTO_NNTP, 0, listed, PENDING,
	    "201 ready\r\n" NNTP_CAPS "STARTTLS\r\n.\r\n", "CAPABILITIES\r\n",
	    NULL);
	server("nntp: --allow-plain: AUTHINFO listed, forwarded, then clear text",
	    PROTO_NNTP, 1, plain, FALLBACK, "200 ready\r\n" NNTP_CAPS
	    "AUTHINFO USER\r\nSTARTTLS\r\n.\r\n381 more\r\n",
	    "CAPABILITIES\r\nAUTHINFO USER x\r\n", "CLEAR TEXT");
	server("nntp: before TLS only CAPABILITIES, MODE READER, HELP, DATE, "
	    "QUIT", PROTO_NNTP, 0, groups, PENDING, "200 ready\r\n" MUST_NNTP
	    MUST_NNTP MUST_NNTP MUST_NNTP MUST_NNTP "111 20261203000000\r\n"
	    "200 posting ok\r\n100 help\r\nGROUP\r\n.\r\n",
	    "DATE\r\nMODE READER\r\nHELP\r\n", NULL);
	server("nntp: --allow-plain: POST and its article go, in clear text",
	    PROTO_NNTP, 1, post, FALLBACK,
	    "200 ready\r\n340 send it\r\n240 posted\r\n",
	    "POST\r\nFrom: a\r\n\r\nSTARTTLS\r\n..\r\n.\r\nQUIT\r\n",
	    "CLEAR TEXT");
	server("nntp: STARTTLS\\r\\nAUTHINFO in one write (command injection)",
	    PROTO_NNTP, 0, inject, FAIL, NULL, "", "injection");
	server("nntp: AUTHINFO after STARTTLS, before the handshake",
	    PROTO_NNTP, 0, inject_later, FAIL, NULL, "", "injection");
	longline[0].bytes = s = repeat("200 ", "x", 5000, "\r\n");
	server("nntp: a 5000-byte greeting", PROTO_NNTP, 0, longline, FAIL,
	    "", "", "longer than 4096");
	free(s);
}

#define SIEVE_IMPL	"\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n" \
			"\"SIEVE\" \"fileinto reject\"\r\n"
#define SIEVE_CAPS	SIEVE_IMPL "\"SASL\" \"PLAIN\"\r\n\"VERSION\" \"1.0\"\r\n"
/* Before TLS no mechanism is offered. */
#define SIEVE_PRE	SIEVE_IMPL "\"SASL\" \"\"\r\n\"VERSION\" \"1.0\"\r\n"
#define SIEVE_ENCRYPT	"NO (ENCRYPT-NEEDED) \"Must issue STARTTLS first\"\r\n"

static void
sieve(void)
{
	static const struct step good[] = {
		P(SIEVE_CAPS "OK \"ready\"\r\n"),
		T("Authenticate \"PLAIN\" \"AGEAYg==\"\r\nSTARTTLS\r\n"),
		END
	}, capability[] = {
		P(SIEVE_CAPS "OK \"ready\"\r\n"), T("CAPABILITY\r\n"),
		P(SIEVE_CAPS "OK \"done\"\r\n"), T("STARTTLS\r\n"),
		END
	}, listed[] = {
		P("\"STARTTLS\"\r\n" SIEVE_CAPS "OK\r\n"),
		T("STARTTLS\r\n"), END
	}, literal[] = {
		P(SIEVE_CAPS "OK\r\n"), T("NOOP\r\nLOGOUT\r\n"),
		P("{6}\r\nOK x\r\n\r\n"), END
	}, literal_done[] = {
		P(SIEVE_CAPS "OK\r\n"), T("NOOP\r\nLOGOUT\r\n"),
		P("{6}\r\nOK x\r\n\r\nOK\r\n"), END
	}, refused[] = {
		P(SIEVE_CAPS "OK\r\n"),
		T("LISTSCRIPTS\r\nPUTSCRIPT \"a\" {10+}\r\nSTARTTLS\r\n\r\n"),
		END
	}, plain_caps[] = {
		P(SIEVE_CAPS "OK\r\n"), END
	}, putscript[] = {
		P(SIEVE_CAPS "OK\r\n"),
		T("PUTSCRIPT \"a\" {10+}\r\nSTARTTLS\r\n\r\n"), END
	}, sasl[] = {
		P(SIEVE_CAPS "OK\r\n"),
		T("AUTHENTICATE \"DIGEST-MD5\"\r\n"),
		P("\"Y2hhbGxlbmdl\"\r\n"), T("\"cmVzcG9uc2U=\"\r\n"),
		P("OK\r\n"), T("LOGOUT\r\n"), END
	}, inject[] = {
		P(SIEVE_CAPS "OK\r\n"), T("STARTTLS\r\nLOGOUT\r\n"), END
	}, inject_later[] = {
		P(SIEVE_CAPS "OK\r\n"), T("STARTTLS\r\n"),
		T("AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n"), END
	};
	static struct step longline[] = {
		P(SIEVE_CAPS "OK\r\n"), { 't', NULL, 0 }, END
	};
	char	*s;

	client("sieve: STARTTLS, OK; no greeting replayed", PROTO_SIEVE, 0,
	    SIEVE_CAPS "\"STARTTLS\"\r\nOK \"Dovecot ready.\"\r\n"
	    "OK \"Begin TLS negotiation now.\"\r\n", SWITCH, "STARTTLS\r\n", "",
	    NULL);
	client("sieve: a literal that looks like the end", PROTO_SIEVE, 0,
	    "\"IMPLEMENTATION\" {4}\r\nOK\r\n\r\n\"starttls\"\r\nOK\r\nOK\r\n",
	    SWITCH, "STARTTLS\r\n", "", NULL);
	client("sieve: BYE greeting", PROTO_SIEVE, 0, "BYE \"busy\"\r\n", FAIL,
	    "", NULL, "refused the connection");
	client("sieve: STARTTLS not offered", PROTO_SIEVE, 0,
	    "\"SASL\" \"PLAIN\"\r\n\"STARTTLSX\"\r\nOK\r\n", FAIL, "", NULL,
	    "(it offers: \"SASL\", \"STARTTLSX\")");
	client("sieve: not offered, --opportunistic", PROTO_SIEVE, 1,
	    "\"SASL\" \"PLAIN\"\r\nOK hi\r\n", FALLBACK, "",
	    "\"SASL\" \"PLAIN\"\r\nOK hi\r\n", "CLEAR TEXT");
	client("sieve: STARTTLS refused", PROTO_SIEVE, 0,
	    "\"STARTTLS\"\r\nOK\r\nNO \"not now\"\r\n", FAIL, NULL, NULL,
	    "STARTTLS refused: 'NO");
	client("sieve: bytes after the OK (response injection)", PROTO_SIEVE,
	    0, "\"STARTTLS\"\r\nOK\r\nOK\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n", FAIL,
	    NULL, NULL, "injection");
	s = repeat("\"SIEVE\" \"", "x", 5000, "\"\r\n\"STARTTLS\"\r\nOK\r\n");
	client("sieve: a 5000-byte capability", PROTO_SIEVE, 0, s, FAIL, NULL,
	    NULL, "longer than 4096");
	free(s);

	server("sieve: STARTTLS added, AUTHENTICATE refused, capabilities "
	    "again inside TLS", PROTO_SIEVE, 0, good, SWITCH,
	    SIEVE_PRE "\"STARTTLS\"\r\nOK \"ready\"\r\n" SIEVE_ENCRYPT
	    "OK \"Begin TLS negotiation now\"\r\n"
	    SIEVE_CAPS "OK \"TLS negotiation successful\"\r\n", "", NULL);
	server("sieve: CAPABILITY before TLS gets STARTTLS", PROTO_SIEVE, 0,
	    capability, SWITCH, SIEVE_PRE "\"STARTTLS\"\r\nOK \"ready\"\r\n"
	    SIEVE_PRE "\"STARTTLS\"\r\nOK \"done\"\r\n"
	    "OK \"Begin TLS negotiation now\"\r\n"
	    SIEVE_CAPS "OK \"TLS negotiation successful\"\r\n",
	    "CAPABILITY\r\n", NULL);
	server("sieve: STARTTLS listed once, and not inside TLS", PROTO_SIEVE,
	    0, listed, SWITCH, SIEVE_PRE "\"STARTTLS\"\r\nOK\r\n"
	    "OK \"Begin TLS negotiation now\"\r\n"
	    SIEVE_CAPS "OK \"TLS negotiation successful\"\r\n", "", NULL);
	server("sieve: --allow-plain: the SASL mechanisms are kept",
	    PROTO_SIEVE, 1, plain_caps, PENDING,
	    SIEVE_CAPS "\"STARTTLS\"\r\nOK\r\n", "", NULL);
	server("sieve: a literal in a reply that looks like its end",
	    PROTO_SIEVE, 0, literal, PENDING, NULL, "NOOP\r\n", NULL);
	server("sieve: after the reply's OK, LOGOUT goes", PROTO_SIEVE, 0,
	    literal_done, PENDING, NULL, "NOOP\r\nLOGOUT\r\n", NULL);
	server("sieve: before TLS only CAPABILITY, NOOP and LOGOUT; a literal "
	    "is not a command", PROTO_SIEVE, 0, refused, PENDING,
	    SIEVE_PRE "\"STARTTLS\"\r\nOK\r\n" SIEVE_ENCRYPT SIEVE_ENCRYPT, "",
	    NULL);
	server("sieve: --allow-plain: PUTSCRIPT and its literal go, in clear "
	    "text", PROTO_SIEVE, 1, putscript, FALLBACK, NULL,
	    "PUTSCRIPT \"a\" {10+}\r\nSTARTTLS\r\n\r\n", "CLEAR TEXT");
	server("sieve: --allow-plain: AUTHENTICATE, the challenge and its answer",
	    PROTO_SIEVE, 1, sasl, FALLBACK, NULL, "AUTHENTICATE \"DIGEST-MD5\"\r\n"
	    "\"cmVzcG9uc2U=\"\r\nLOGOUT\r\n", "CLEAR TEXT");
	server("sieve: STARTTLS\\r\\nLOGOUT in one write (command injection)",
	    PROTO_SIEVE, 0, inject, FAIL, NULL, "", "injection");
	server("sieve: AUTHENTICATE after STARTTLS, before the handshake",
	    PROTO_SIEVE, 0, inject_later, FAIL, NULL, "", "injection");
	longline[1].bytes = s = repeat("NOOP \"", "x", 5000, "\"\r\n");
	server("sieve: a 5000-byte command", PROTO_SIEVE, 0, longline, FAIL,
	    NULL, "", "longer than 4096");
	free(s);
}

int
main(void)
{
	lmtp();
	nntp();
	sieve();
	return done_testing();
}
