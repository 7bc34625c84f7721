/*
 * What the plain side may trust (issue "Trust what you see after the
 * switch"): IMAP tags and literals before TLS, no login offered before
 * TLS, --allow-plain as clear text for good, no credentials in the
 * transcript, and inside TLS no second STARTTLS (the harness is
 * dialogue.h; H marks the handshake).
 */
#include "config.h"

#include <stdlib.h>

#include "dialogue.h"

#define S		ROLE_SERVER
#define TLS_ACTIVE	"554 5.5.1 Error: TLS already active\r\n"

static void
imap_before_tls(void)
{
	static const struct step tags[] = {
		P("* OK ready\r\n"),
		T("* NOOP\r\n+ NOOP\r\na%b NOOP\r\na\001 NOOP\r\n(x) NOOP\r\n"
		    "a*b STARTTLS\r\n"), END
	}, caps[] = {
		P("* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=PLAIN "
		    "COMPRESS=DEFLATE ID STARTTLS] ready\r\n"),
		T("a CAPABILITY\r\n"),
		P("* CAPABILITY IMAP4rev1 LITERAL- AUTH=PLAIN "
		    "AUTH=SCRAM-SHA-256 IDLE\r\na OK done\r\n"), END
	}, append_plus[] = {
		P("* OK ready\r\n"),
		T("a2 APPEND INBOX {17+}\r\nx CREATE Injected\r\n"),
		T("a3 NOOP\r\n"), END
	}, append_sync[] = {
		P("* OK ready\r\n"), T("a2 APPEND INBOX {17}\r\n"), END
	};

	dialogue("imap server: '*', '+', '%', controls and '(' are no tags",
	    PROTO_IMAP, S, 0, tags, want_str(PENDING, "* OK ready\r\n"
	    "* BAD Invalid tag or missing command\r\n"
	    "* BAD Invalid tag or missing command\r\n"
	    "* BAD Invalid tag or missing command\r\n"
	    "* BAD Invalid tag or missing command\r\n"
	    "* BAD Invalid tag or missing command\r\n"
	    "* BAD Invalid tag or missing command\r\n", "", NULL));
	dialogue("imap server: no login method, literal or compression offered "
	    "before TLS", PROTO_IMAP, S, 0, caps, want_str(PENDING,
	    "* OK [CAPABILITY IMAP4rev1 ID STARTTLS LOGINDISABLED] ready\r\n"
	    "* CAPABILITY IMAP4rev1 IDLE STARTTLS LOGINDISABLED\r\n"
	    "a OK done\r\n", "a CAPABILITY\r\n", NULL));
	dialogue("imap server: --allow-plain offers them all", PROTO_IMAP, S, 1,
	    caps, want_str(PENDING, "* OK [CAPABILITY IMAP4rev1 SASL-IR "
	    "LITERAL+ AUTH=PLAIN COMPRESS=DEFLATE ID STARTTLS] ready\r\n"
	    "* CAPABILITY IMAP4rev1 LITERAL- AUTH=PLAIN AUTH=SCRAM-SHA-256 "
	    "IDLE STARTTLS\r\na OK done\r\n", "a CAPABILITY\r\n", NULL));
	dialogue("imap server: a {N+} literal is data, never a command",
	    PROTO_IMAP, S, 0, append_plus, want_str(PENDING, "* OK ready\r\n"
	    "a2 NO [PRIVACYREQUIRED] Must issue STARTTLS first\r\n",
	    "a3 NOOP\r\n", NULL));
	dialogue("imap server: --allow-plain: the APPEND and its literal go to "
	    "the backend, in clear text", PROTO_IMAP, S, 1, append_plus,
	    want_str(FALLBACK, "* OK ready\r\n", "a2 APPEND INBOX {17+}\r\n"
	    "x CREATE Injected\r\na3 NOOP\r\n", "CLEAR TEXT"));
	dialogue("imap server: after {N} the client waits: refused at once",
	    PROTO_IMAP, S, 0, append_sync, want_str(PENDING, "* OK ready\r\n"
	    "a2 NO [PRIVACYREQUIRED] Must issue STARTTLS first\r\n", "",
	    NULL));
}

static void
smtp_before_tls(void)
{
	static const struct step ehlo[] = {
		P("220 b\r\n"), T("EHLO c\r\n"),
		P("250-b\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=LOGIN\r\n"
		    "250-CHUNKING\r\n250 8BITMIME\r\n"), END
	};

	dialogue("smtp server: no AUTH (nor BDAT) offered before TLS",
	    PROTO_SMTP, S, 0, ehlo, want_str(PENDING, "220 b\r\n250-b\r\n"
	    "250-8BITMIME\r\n250 STARTTLS\r\n", "EHLO c\r\n", NULL));
	dialogue("smtp server: --allow-plain offers them", PROTO_SMTP, S, 1,
	    ehlo, want_str(PENDING, "220 b\r\n250-b\r\n250-AUTH PLAIN LOGIN\r\n"
	    "250-AUTH=LOGIN\r\n250-CHUNKING\r\n250-8BITMIME\r\n250 STARTTLS\r\n",
	    "EHLO c\r\n", NULL));
}

/* What the transcript says of a client's line in the server role. */
static void
shown(enum proto proto, const char *greeting, const char *line,
    const char *want)
{
	struct proto_cfg	 cfg = { proto, S, "localhost", "mail.example",
				    0, 0, 0, NULL };
	struct negotiation	*p = proto_new(&cfg);
	struct proto_out	 out;
	int			 good;

	proto_out_init(&out);
	proto_start(p, &out);
	proto_out_free(&out);
	proto_from_plain(p, greeting, strlen(greeting), &out);
	proto_out_free(&out);
	proto_from_tls(p, line, strlen(line), &out);
	good = out.log.data != NULL && strstr(out.log.data, want) != NULL &&
	    strstr(out.log.data, "c2VjcmV0") == NULL &&
	    strstr(out.log.data, "secret") == NULL;
	if (!ok(good, "the transcript shows '%s' and no secret", want))
		printf("# got '%s'\n", out.log.data ? out.log.data : "");
	proto_out_free(&out);
	proto_free(p);
}

static void
transcript(void)
{
	shown(PROTO_SMTP, "220 b\r\n", "AUTH PLAIN AHRlc3QAc2VjcmV0\r\n",
	    "C: AUTH PLAIN ***\n");
	shown(PROTO_IMAP, "* OK b\r\n", "a1 LOGIN test secret\r\n",
	    "C: a1 LOGIN ***\n");
	shown(PROTO_IMAP, "* OK b\r\n", "a2 AUTHENTICATE PLAIN c2VjcmV0\r\n",
	    "C: a2 AUTHENTICATE PLAIN ***\n");
	shown(PROTO_POP3, "+OK b\r\n", "PASS secret\r\n", "C: PASS ***\n");
	shown(PROTO_POP3, "+OK b\r\n", "APOP test c2VjcmV0\r\n", "C: APOP ***\n");
	shown(PROTO_NNTP, "200 b\r\n", "AUTHINFO PASS secret\r\n",
	    "C: AUTHINFO PASS ***\n");
	shown(PROTO_SIEVE, "OK\r\n", "AUTHENTICATE \"PLAIN\" \"c2VjcmV0\"\r\n",
	    "C: AUTHENTICATE \"PLAIN\" ***\n");
	shown(PROTO_FTP, "220 b\r\n", "PASS secret\r\n", "C: PASS ***\n");
	shown(PROTO_SMTP, "220 b\r\n", "NOOP harmless\r\n",
	    "C: NOOP harmless\n");
}

#define SMTP_OPEN \
	P("220 b\r\n"), T("EHLO c\r\n"), P("250-b\r\n250 8BITMIME\r\n"), \
	T("STARTTLS\r\n"), H

static void
smtp_inside(void)
{
	static const struct step ehlo[] = {
		SMTP_OPEN, T("EHLO c\r\n"),
		P("250-b\r\n250-STARTTLS\r\n250-AUTH PLAIN\r\n250 SIZE 10\r\n"),
		T("EHLO d\r\n"), P("250-b\r\n250 STARTTLS\r\n"), END
	}, again[] = {
		SMTP_OPEN, T("STARTTLS\r\n"), END
	}, pipelined[] = {
		SMTP_OPEN, T("NOOP\r\nSTARTTLS\r\nNOOP\r\n"), P("250 one\r\n"),
		P("250 two\r\n"), END
	}, body[] = {
		SMTP_OPEN, T("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"),
		P("250 ok\r\n250 ok\r\n354 go\r\n"),
		T("STARTTLS\r\n250-STARTTLS\r\n.\r\n"), P("250 queued\r\n"), END
	}, bdat[] = {
		SMTP_OPEN, T("BDAT 10 LAST\r\nSTARTTLS\r\n"), P("250 queued\r\n"),
		T("STARTTLS\r\n"), END
	};

	dialogue("smtp server, inside TLS: the EHLO reply offers no STARTTLS",
	    PROTO_SMTP, S, 0, ehlo, want_str(SWITCH, NULL, "EHLO c\r\nEHLO c\r\n"
	    "EHLO d\r\n", NULL));
	dialogue("  (what the client got)", PROTO_SMTP, S, 0, ehlo,
	    want_str(SWITCH, "220 b\r\n250-b\r\n250-8BITMIME\r\n250 STARTTLS\r\n"
	    "220 2.0.0 Ready to start TLS\r\n250-b\r\n250-AUTH PLAIN\r\n"
	    "250 SIZE 10\r\n250 b\r\n", NULL, NULL));
	dialogue("smtp server, inside TLS: a second STARTTLS is refused here",
	    PROTO_SMTP, S, 0, again, want_str(SWITCH, NULL, "EHLO c\r\n", NULL));
	dialogue("  (with 554)", PROTO_SMTP, S, 0, again, want_str(SWITCH,
	    "220 b\r\n250-b\r\n250-8BITMIME\r\n250 STARTTLS\r\n"
	    "220 2.0.0 Ready to start TLS\r\n" TLS_ACTIVE, NULL, NULL));
	dialogue("smtp server, inside TLS: our refusal comes in its turn",
	    PROTO_SMTP, S, 0, pipelined, want_str(SWITCH, "220 b\r\n250-b\r\n"
	    "250-8BITMIME\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n"
	    "250 one\r\n" TLS_ACTIVE "250 two\r\n", "EHLO c\r\nNOOP\r\nNOOP\r\n",
	    NULL));
	dialogue("smtp server, inside TLS: a message body is not commands",
	    PROTO_SMTP, S, 0, body, want_str(SWITCH, NULL, "EHLO c\r\n"
	    "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSTARTTLS\r\n"
	    "250-STARTTLS\r\n.\r\n", NULL));
	dialogue("smtp server, inside TLS: nor a BDAT chunk", PROTO_SMTP, S, 0,
	    bdat, want_str(SWITCH, "220 b\r\n250-b\r\n250-8BITMIME\r\n"
	    "250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n250 queued\r\n"
	    TLS_ACTIVE, "EHLO c\r\nBDAT 10 LAST\r\nSTARTTLS\r\n", NULL));
}

static void
lmtp_inside(void)
{
	static const struct step two[] = {
		P("220 b\r\n"), T("LHLO c\r\n"), P("250 b\r\n"),
		T("STARTTLS\r\n"), H,
		T("MAIL FROM:<a@b>\r\nRCPT TO:<x@b>\r\nRCPT TO:<y@b>\r\n"
		    "DATA\r\n"),
		P("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
		T("body\r\n.\r\nSTARTTLS\r\n"), P("250 x ok\r\n"),
		P("452 y over quota\r\n"), END
	};

	dialogue("lmtp server, inside TLS: a reply per recipient, then ours",
	    PROTO_LMTP, S, 0, two, want_str(SWITCH, "220 b\r\n250-b\r\n"
	    "250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n250 ok\r\n"
	    "250 ok\r\n250 ok\r\n354 go\r\n250 x ok\r\n452 y over quota\r\n"
	    TLS_ACTIVE, NULL, NULL));
}

#define IMAP_OPEN \
	P("* OK ready\r\n"), T("a STARTTLS\r\n"), H

static void
imap_inside(void)
{
	static const struct step again[] = {
		IMAP_OPEN, T("b STARTTLS\r\nc NOOP\r\n"), END
	}, caps[] = {
		IMAP_OPEN, T("b CAPABILITY\r\n"),
		P("* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n"
		    "b OK done\r\n"), T("c LOGIN u p\r\n"),
		P("c OK [CAPABILITY IMAP4rev1 STARTTLS IDLE] in\r\n"), END
	}, server_literal[] = {
		IMAP_OPEN, T("b FETCH 1 BODY[]\r\n"),
		P("* 1 FETCH (BODY[] {24}\r\n* CAPABILITY STARTTLS\r\n)\r\n"
		    "b OK done\r\n"), END
	}, client_literal[] = {
		IMAP_OPEN, T("b APPEND INBOX {12+}\r\nc STARTTLS\r\n\r\n"),
		T("d APPEND INBOX {12}\r\n"), P("+ go ahead\r\n"),
		T("e STARTTLS\r\n\r\n"), END
	}, refused_literal[] = {
		IMAP_OPEN, T("b APPEND INBOX {12}\r\n"), P("b NO too big\r\n"),
		T("c STARTTLS\r\n"), END
	}, boundary[] = {
		IMAP_OPEN, T("b FETCH 1 BODY[]\r\n"),
		P("* 1 FETCH (BODY[] {5}\r\n"), T("c STARTTLS\r\n"),
		P("hello)\r\nb OK done\r\n"), END
	};

	dialogue("imap server, inside TLS: a second STARTTLS gets BAD from us",
	    PROTO_IMAP, S, 0, again, want_str(SWITCH, "* OK ready\r\n"
	    "a OK Begin TLS negotiation now\r\n"
	    "b BAD TLS is already active\r\n", "c NOOP\r\n", NULL));
	dialogue("imap server, inside TLS: no capability list offers it",
	    PROTO_IMAP, S, 0, caps, want_str(SWITCH, "* OK ready\r\n"
	    "a OK Begin TLS negotiation now\r\n"
	    "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nb OK done\r\n"
	    "c OK [CAPABILITY IMAP4rev1 IDLE] in\r\n", NULL, NULL));
	dialogue("imap server, inside TLS: a literal from the backend is data",
	    PROTO_IMAP, S, 0, server_literal, want_str(SWITCH, "* OK ready\r\n"
	    "a OK Begin TLS negotiation now\r\n* 1 FETCH (BODY[] {24}\r\n"
	    "* CAPABILITY STARTTLS\r\n)\r\nb OK done\r\n", NULL, NULL));
	dialogue("imap server, inside TLS: so is the client's, {N+} at once, "
	    "{N} after '+'", PROTO_IMAP, S, 0, client_literal, want_str(SWITCH,
	    NULL, "b APPEND INBOX {12+}\r\nc STARTTLS\r\n\r\n"
	    "d APPEND INBOX {12}\r\ne STARTTLS\r\n\r\n", NULL));
	dialogue("imap server, inside TLS: a refused {N} literal never comes",
	    PROTO_IMAP, S, 0, refused_literal, want_str(SWITCH, "* OK ready\r\n"
	    "a OK Begin TLS negotiation now\r\nb NO too big\r\n"
	    "c BAD TLS is already active\r\n", "b APPEND INBOX {12}\r\n", NULL));
	dialogue("imap server, inside TLS: our BAD waits for the response under "
	    "way", PROTO_IMAP, S, 0, boundary, want_str(SWITCH, "* OK ready\r\n"
	    "a OK Begin TLS negotiation now\r\n* 1 FETCH (BODY[] {5}\r\n"
	    "hello)\r\nc BAD TLS is already active\r\nb OK done\r\n", NULL,
	    NULL));
}

#define POP3_OPEN \
	P("+OK ready\r\n"), T("STLS\r\n"), H
#define POP3_TLS	"+OK ready\r\n+OK Begin TLS negotiation\r\n"
#define POP3_ACTIVE	"-ERR TLS already active\r\n"

static void
pop3_inside(void)
{
	static const struct step again[] = {
		POP3_OPEN, T("STLS\r\nNOOP\r\n"), P("+OK\r\n"), END
	}, pipelined[] = {
		POP3_OPEN, T("STAT\r\nSTLS\r\nLIST\r\nSTLS\r\nLIST 1\r\n"),
		P("+OK 1 10\r\n"), P("+OK 1 message\r\n1 10\r\n.\r\n"),
		P("+OK 1 10\r\n"), END
	}, capa[] = {
		POP3_OPEN, T("CAPA\r\n"),
		P("+OK\r\nTOP\r\nSTLS\r\nUSER\r\nstls\r\nSASL PLAIN\r\n.\r\n"),
		END
	}, retr[] = {
		POP3_OPEN, T("RETR 1\r\nSTLS\r\nTOP 1 5\r\nRETR 9\r\nSTLS\r\n"),
		P("+OK 60 octets\r\nSTLS\r\n+OK\r\n-ERR\r\n+ \r\n..\r\n"
		    "CAPA\r\n.\r\n"),
		P("+OK\r\nSubject: STLS\r\n\r\n.\r\n-ERR no such message\r\n"),
		END
	}, auth[] = {
		POP3_OPEN, T("AUTH PLAIN\r\n"), P("+ \r\n"), T("STLS\r\n"),
		P("+OK logged in\r\n"), T("STLS\r\n"), END
	}, mechanisms[] = {
		POP3_OPEN, T("AUTH\r\nSTLS\r\n"),
		P("+OK\r\nPLAIN\r\n+OK\r\n.\r\n"), END
	}, refused[] = {
		POP3_OPEN, T("AUTH X\r\n"), P("+ go\r\n"),
		P("-ERR gave up\r\n"), T("STLS\r\n"), END
	};
	static struct step longline[] = {
		POP3_OPEN, { 't', NULL, 0 }, END
	};
	char	*s;

	dialogue("pop3 server, inside TLS: a second STLS gets -ERR from us",
	    PROTO_POP3, S, 0, again, want_str(SWITCH, POP3_TLS POP3_ACTIVE
	    "+OK\r\n", "NOOP\r\n", NULL));
	dialogue("pop3 server, inside TLS: our refusal comes in its turn",
	    PROTO_POP3, S, 0, pipelined, want_str(SWITCH, POP3_TLS
	    "+OK 1 10\r\n" POP3_ACTIVE "+OK 1 message\r\n1 10\r\n.\r\n"
	    POP3_ACTIVE "+OK 1 10\r\n", "STAT\r\nLIST\r\nLIST 1\r\n", NULL));
	dialogue("pop3 server, inside TLS: CAPA lists no STLS", PROTO_POP3, S,
	    0, capa, want_str(SWITCH, POP3_TLS "+OK\r\nTOP\r\nUSER\r\n"
	    "SASL PLAIN\r\n.\r\n", "CAPA\r\n", NULL));
	dialogue("pop3 server, inside TLS: a message is data, to its \".\"",
	    PROTO_POP3, S, 0, retr, want_str(SWITCH, POP3_TLS
	    "+OK 60 octets\r\nSTLS\r\n+OK\r\n-ERR\r\n+ \r\n..\r\nCAPA\r\n"
	    ".\r\n" POP3_ACTIVE "+OK\r\nSubject: STLS\r\n\r\n.\r\n"
	    "-ERR no such message\r\n" POP3_ACTIVE,
	    "RETR 1\r\nTOP 1 5\r\nRETR 9\r\n", NULL));
	dialogue("pop3 server, inside TLS: an answer to an AUTH challenge is no "
	    "command", PROTO_POP3, S, 0, auth, want_str(SWITCH, POP3_TLS
	    "+ \r\n+OK logged in\r\n" POP3_ACTIVE, "AUTH PLAIN\r\nSTLS\r\n",
	    NULL));
	dialogue("pop3 server, inside TLS: AUTH alone lists the mechanisms",
	    PROTO_POP3, S, 0, mechanisms, want_str(SWITCH, POP3_TLS
	    "+OK\r\nPLAIN\r\n+OK\r\n.\r\n" POP3_ACTIVE, "AUTH\r\n", NULL));
	dialogue("pop3 server, inside TLS: an exchange the server ends owes no "
	    "answer", PROTO_POP3, S, 0, refused, want_str(SWITCH, POP3_TLS
	    "+ go\r\n-ERR gave up\r\n" POP3_ACTIVE, "AUTH X\r\n", NULL));
	longline[3].bytes = s = repeat("STLS ", "x", 9000, "\r\n");
	dialogue("pop3 server, inside TLS: an STLS too long to hold ends the "
	    "session", PROTO_POP3, S, 0, longline, want_str(FAIL, POP3_TLS,
	    NULL, "longer than 8192"));
	free(s);
}

#define FTP_OPEN \
	P("220 b\r\n"), T("AUTH TLS\r\n"), H
#define FTP_TLS		"220 b\r\n234 AUTH TLS successful\r\n"
#define FTP_ACTIVE	"534 TLS already active\r\n"

static void
ftp_inside(void)
{
	static const struct step again[] = {
		FTP_OPEN, T("AUTH TLS\r\nAUTH SSL\r\nauth\r\nSYST\r\n"),
		P("215 UNIX\r\n"), END
	}, pipelined[] = {
		FTP_OPEN,
		T("RETR f\r\nAUTH TLS\r\nHELP\r\nAUTH TLS\r\nNOOP\r\n"),
		P("150 opening\r\n"), P("226 done\r\n"),
		P("214-help\r\n AUTH TLS\r\n214-more\r\n215 x\r\n214 end\r\n"),
		P("200 ok\r\n"), END
	}, feat[] = {
		FTP_OPEN, T("FEAT\r\nAUTH TLS\r\n"),
		P("211-Features:\r\n AUTH SSL\r\n AUTH TLS\r\n PBSZ\r\n"
		    " PROT\r\n211 End\r\n"), END
	}, unasked[] = {
		FTP_OPEN, P("421 timeout\r\n"), T("AUTH TLS\r\n"),
		P("421-closing\r\n"), T("AUTH TLS\r\n"), P("421 now\r\n"), END
	};
	static struct step longline[] = {
		FTP_OPEN, { 't', NULL, 0 }, END
	};
	char	*s;

	dialogue("ftp server, inside TLS: AUTH, any, gets 534 from us",
	    PROTO_FTP, S, 0, again, want_str(SWITCH, FTP_TLS FTP_ACTIVE
	    FTP_ACTIVE FTP_ACTIVE "215 UNIX\r\n", "SYST\r\n", NULL));
	dialogue("ftp server, inside TLS: our 534 comes in its turn, after 1xx "
	    "and multi-line replies", PROTO_FTP, S, 0, pipelined,
	    want_str(SWITCH, FTP_TLS "150 opening\r\n226 done\r\n" FTP_ACTIVE
	    "214-help\r\n AUTH TLS\r\n214-more\r\n215 x\r\n214 end\r\n"
	    FTP_ACTIVE "200 ok\r\n", "RETR f\r\nHELP\r\nNOOP\r\n", NULL));
	dialogue("ftp server, inside TLS: FEAT lists no AUTH", PROTO_FTP, S, 0,
	    feat, want_str(SWITCH, FTP_TLS "211-Features:\r\n PBSZ\r\n PROT\r\n"
	    "211 End\r\n" FTP_ACTIVE, "FEAT\r\n", NULL));
	dialogue("ftp server, inside TLS: a reply nobody asked for", PROTO_FTP,
	    S, 0, unasked, want_str(SWITCH, FTP_TLS "421 timeout\r\n"
	    FTP_ACTIVE "421-closing\r\n421 now\r\n" FTP_ACTIVE, "", NULL));
	longline[3].bytes = s = repeat("AUTH TLS ", "x", 9000, "\r\n");
	dialogue("ftp server, inside TLS: an AUTH too long to hold ends the "
	    "session", PROTO_FTP, S, 0, longline, want_str(FAIL, FTP_TLS,
	    NULL, "longer than 8192"));
	free(s);
}

#define NNTP_OPEN \
	P("200 b\r\n"), T("STARTTLS\r\n"), H
#define NNTP_TLS	"200 b\r\n382 Continue with TLS negotiation\r\n"
#define NNTP_ACTIVE	"502 TLS already active\r\n"
#define ARTICLE		"Subject: x\r\n\r\nSTARTTLS\r\n101 x\r\n..\r\n.\r\n"

static void
nntp_inside(void)
{
	static const struct step again[] = {
		NNTP_OPEN, T("STARTTLS\r\nDATE\r\n"), P("111 20260101000000\r\n"),
		END
	}, pipelined[] = {
		NNTP_OPEN, T("GROUP g\r\nSTARTTLS\r\nLISTGROUP g\r\nSTARTTLS\r\n"
		    "HELP\r\n"),
		P("211 2 1 2 g\r\n"), P("211 2 1 2 g list\r\n1\r\n2\r\n.\r\n"),
		P("100 help\r\nSTARTTLS\r\n.\r\n"), END
	}, caps[] = {
		NNTP_OPEN, T("CAPABILITIES\r\n"),
		P("101 caps\r\nVERSION 2\r\nSTARTTLS\r\nREADER\r\nstarttls\r\n"
		    ".\r\n"), END
	}, article[] = {
		NNTP_OPEN, T("ARTICLE 1\r\nSTARTTLS\r\n"),
		P("220 1 <a@b> article\r\n" ARTICLE), END
	}, post[] = {
		NNTP_OPEN, T("POST\r\n"), P("340 send\r\n"),
		T(ARTICLE "STARTTLS\r\n"), P("240 ok\r\n"), END
	}, nopost[] = {
		NNTP_OPEN, T("POST\r\n"), P("440 no posting\r\n"),
		T("STARTTLS\r\n"), END
	}, ihave[] = {
		NNTP_OPEN, T("IHAVE <a@b>\r\n"), P("335 send\r\n"), T(ARTICLE),
		P("235 ok\r\n"), T("STARTTLS\r\n"), END
	}, takethis[] = {
		NNTP_OPEN, T("MODE STREAM\r\n"), P("203 streaming\r\n"),
		T("TAKETHIS <a@b>\r\n" ARTICLE "STARTTLS\r\nCHECK <c@d>\r\n"),
		P("239 <a@b>\r\n238 <c@d>\r\n"), END
	}, sasl[] = {
		NNTP_OPEN, T("AUTHINFO SASL PLAIN\r\n"), P("383 =\r\n"),
		T("STARTTLS\r\n"), P("281 ok\r\n"), T("STARTTLS\r\n"), END
	};
	static struct step longline[] = {
		NNTP_OPEN, { 't', NULL, 0 }, END
	};
	char	*s;

	dialogue("nntp server, inside TLS: a second STARTTLS gets 502 from us",
	    PROTO_NNTP, S, 0, again, want_str(SWITCH, NNTP_TLS NNTP_ACTIVE
	    "111 20260101000000\r\n", "DATE\r\n", NULL));
	dialogue("nntp server, inside TLS: our 502 comes in its turn",
	    PROTO_NNTP, S, 0, pipelined, want_str(SWITCH, NNTP_TLS
	    "211 2 1 2 g\r\n" NNTP_ACTIVE "211 2 1 2 g list\r\n1\r\n2\r\n.\r\n"
	    NNTP_ACTIVE "100 help\r\nSTARTTLS\r\n.\r\n",
	    "GROUP g\r\nLISTGROUP g\r\nHELP\r\n", NULL));
	dialogue("nntp server, inside TLS: CAPABILITIES lists no STARTTLS",
	    PROTO_NNTP, S, 0, caps, want_str(SWITCH, NNTP_TLS "101 caps\r\n"
	    "VERSION 2\r\nREADER\r\n.\r\n", "CAPABILITIES\r\n", NULL));
	dialogue("nntp server, inside TLS: an article is data, to its \".\"",
	    PROTO_NNTP, S, 0, article, want_str(SWITCH, NNTP_TLS
	    "220 1 <a@b> article\r\n" ARTICLE NNTP_ACTIVE, "ARTICLE 1\r\n",
	    NULL));
	dialogue("nntp server, inside TLS: so is a POSTed one, after 340",
	    PROTO_NNTP, S, 0, post, want_str(SWITCH, NNTP_TLS "340 send\r\n"
	    "240 ok\r\n" NNTP_ACTIVE, "POST\r\n" ARTICLE, NULL));
	dialogue("nntp server, inside TLS: no article after 440", PROTO_NNTP,
	    S, 0, nopost, want_str(SWITCH, NNTP_TLS "440 no posting\r\n"
	    NNTP_ACTIVE, "POST\r\n", NULL));
	dialogue("nntp server, inside TLS: IHAVE's article after 335",
	    PROTO_NNTP, S, 0, ihave, want_str(SWITCH, NNTP_TLS "335 send\r\n"
	    "235 ok\r\n" NNTP_ACTIVE, "IHAVE <a@b>\r\n" ARTICLE, NULL));
	dialogue("nntp server, inside TLS: TAKETHIS's article follows at once",
	    PROTO_NNTP, S, 0, takethis, want_str(SWITCH, NNTP_TLS
	    "203 streaming\r\n239 <a@b>\r\n" NNTP_ACTIVE "238 <c@d>\r\n",
	    "MODE STREAM\r\nTAKETHIS <a@b>\r\n" ARTICLE "CHECK <c@d>\r\n",
	    NULL));
	dialogue("nntp server, inside TLS: an answer to a 383 challenge is no "
	    "command", PROTO_NNTP, S, 0, sasl, want_str(SWITCH, NNTP_TLS
	    "383 =\r\n281 ok\r\n" NNTP_ACTIVE,
	    "AUTHINFO SASL PLAIN\r\nSTARTTLS\r\n", NULL));
	longline[3].bytes = s = repeat("STARTTLS ", "x", 9000, "\r\n");
	dialogue("nntp server, inside TLS: a STARTTLS too long to hold ends the "
	    "session", PROTO_NNTP, S, 0, longline, want_str(FAIL, NNTP_TLS,
	    NULL, "longer than 8192"));
	free(s);
}

#define SIEVE_OPEN \
	P("\"IMPLEMENTATION\" \"b\"\r\n\"STARTTLS\"\r\nOK\r\n"), \
	T("STARTTLS\r\n"), H
#define SIEVE_TLS \
	"\"IMPLEMENTATION\" \"b\"\r\n\"STARTTLS\"\r\nOK\r\n" \
	"OK \"Begin TLS negotiation now\"\r\n" \
	"\"IMPLEMENTATION\" \"b\"\r\nOK \"TLS negotiation successful\"\r\n"
#define SIEVE_ACTIVE	"NO \"TLS is already active\"\r\n"
#define SCRIPT		"STARTTLS\r\nOK\r\n\"STARTTLS\"\r\n"

static void
sieve_inside(void)
{
	static const struct step again[] = {
		SIEVE_OPEN, T("STARTTLS\r\nNOOP\r\n"), P("OK \"Done\"\r\n"), END
	}, pipelined[] = {
		SIEVE_OPEN, T("LISTSCRIPTS\r\nSTARTTLS\r\nGETSCRIPT \"a\"\r\n"
		    "STARTTLS\r\nNOOP\r\n"),
		P("\"STARTTLS\"\r\n{3}\r\nabc ACTIVE\r\nOK\r\n"),
		P("{26}\r\n" SCRIPT "\r\nOK\r\n"), P("OK\r\n"), END
	}, caps[] = {
		SIEVE_OPEN, T("CAPABILITY\r\n"),
		P("\"IMPLEMENTATION\" \"b\"\r\n\"STARTTLS\"\r\n\"starttls\"\r\n"
		    "\"SASL\" \"PLAIN\"\r\nOK\r\n"), END
	}, after_auth[] = {
		SIEVE_OPEN, T("AUTHENTICATE \"X\"\r\n"), P("\"Y2hhbGxlbmdl\"\r\n"),
		T("\"STARTTLS\"\r\n"), P("OK (SASL \"ZG9uZQ==\")\r\n"),
		P("\"IMPLEMENTATION\" \"b\"\r\n"), T("STARTTLS\r\n"),
		P("\"STARTTLS\"\r\nOK\r\n"), END
	}, literals[] = {
		SIEVE_OPEN, T("PUTSCRIPT \"a\" {26+}\r\n" SCRIPT "\r\n"
		    "PUTSCRIPT \"b\" {26}\r\n" SCRIPT " {4+}\r\nx\r\ny\r\n"
		    "NOOP {0+}\r\nSTARTTLS\r\nSTARTTLS\r\n"),
		P("OK\r\nNO (WARNINGS) {8}\r\nSTARTTLS\r\nOK\r\n"), END
	}, with_literal[] = {
		SIEVE_OPEN, T("STARTTLS {4+}\r\nNOOP\r\n"), END
	};
	static struct step longline[] = {
		SIEVE_OPEN, { 't', NULL, 0 }, END
	};
	char	*s;

	dialogue("sieve server, inside TLS: a second STARTTLS gets NO from us",
	    PROTO_SIEVE, S, 0, again, want_str(SWITCH, SIEVE_TLS SIEVE_ACTIVE
	    "OK \"Done\"\r\n", "NOOP\r\n", NULL));
	dialogue("sieve server, inside TLS: our NO comes in its turn, and "
	    "literals are data", PROTO_SIEVE, S, 0, pipelined, want_str(SWITCH,
	    SIEVE_TLS "\"STARTTLS\"\r\n{3}\r\nabc ACTIVE\r\nOK\r\n" SIEVE_ACTIVE
	    "{26}\r\n" SCRIPT "\r\nOK\r\n" SIEVE_ACTIVE "OK\r\n",
	    "LISTSCRIPTS\r\nGETSCRIPT \"a\"\r\nNOOP\r\n", NULL));
	dialogue("sieve server, inside TLS: CAPABILITY lists no STARTTLS",
	    PROTO_SIEVE, S, 0, caps, want_str(SWITCH, SIEVE_TLS
	    "\"IMPLEMENTATION\" \"b\"\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n",
	    "CAPABILITY\r\n", NULL));
	dialogue("sieve server, inside TLS: nor do capabilities after "
	    "AUTHENTICATE; an answer is no command", PROTO_SIEVE, S, 0,
	    after_auth, want_str(SWITCH, SIEVE_TLS "\"Y2hhbGxlbmdl\"\r\n"
	    "OK (SASL \"ZG9uZQ==\")\r\n\"IMPLEMENTATION\" \"b\"\r\nOK\r\n"
	    SIEVE_ACTIVE, "AUTHENTICATE \"X\"\r\n\"STARTTLS\"\r\n", NULL));
	dialogue("sieve server, inside TLS: a script in {N+}, {N} or {0+} is "
	    "data", PROTO_SIEVE, S, 0, literals, want_str(SWITCH, SIEVE_TLS
	    "OK\r\nNO (WARNINGS) {8}\r\nSTARTTLS\r\nOK\r\n" SIEVE_ACTIVE,
	    "PUTSCRIPT \"a\" {26+}\r\n" SCRIPT "\r\nPUTSCRIPT \"b\" {26}\r\n"
	    SCRIPT " {4+}\r\nx\r\ny\r\nNOOP {0+}\r\nSTARTTLS\r\n", NULL));
	dialogue("sieve server, inside TLS: a STARTTLS with a literal ends the "
	    "session", PROTO_SIEVE, S, 0, with_literal, want_str(FAIL,
	    SIEVE_TLS, "", "literal"));
	longline[3].bytes = s = repeat("STARTTLS \"", "x", 9000, "\"\r\n");
	dialogue("sieve server, inside TLS: a STARTTLS too long to hold ends "
	    "the session", PROTO_SIEVE, S, 0, longline, want_str(FAIL,
	    SIEVE_TLS, NULL, "longer than 8192"));
	free(s);
}

/* Literal sizes: digits without '{' announce none; a big one is all data. */
static void
literal_sizes(void)
{
	static const struct step imap_digits[] = {
		IMAP_OPEN, T("b NOOP 1234567890+}\r\nc STARTTLS\r\n"), END
	}, sieve_digits[] = {
		SIEVE_OPEN, T("NOOP 1234567890+}\r\nSTARTTLS\r\n"),
		P("NO \"Bad arguments\"\r\n"), END
	};
	static struct step imap_big[] = {
		IMAP_OPEN, T("b APPEND INBOX {100000000+}\r\n"),
		{ 't', NULL, 0 }, END
	};
	char	*s, *want;

	dialogue("imap server, inside TLS: digits and '}' without '{' are no "
	    "literal", PROTO_IMAP, S, 0, imap_digits, want_str(SWITCH,
	    "* OK ready\r\na OK Begin TLS negotiation now\r\n"
	    "c BAD TLS is already active\r\n", "b NOOP 1234567890+}\r\n", NULL));
	dialogue("sieve server, inside TLS: the same", PROTO_SIEVE, S, 0,
	    sieve_digits, want_str(SWITCH, SIEVE_TLS "NO \"Bad arguments\"\r\n"
	    SIEVE_ACTIVE,
	    "NOOP 1234567890+}\r\n", NULL));
	imap_big[4].bytes = s = repeat("", "x", 4500, "\r\nc STARTTLS\r\n");
	want = repeat("b APPEND INBOX {100000000+}\r\n", "x", 4500,
	    "\r\nc STARTTLS\r\n");
	dialogue("imap server, inside TLS: a literal of 100 MB is data to its "
	    "end", PROTO_IMAP, S, 0, imap_big, want_str(SWITCH, NULL, want,
	    NULL));
	free(s);
	free(want);
}

/* Client role: a module that hands over inside TLS hands over the rest. */
static void
handed_over(void)
{
	static const struct step nntp[] = {
		T("200 x\r\n101 caps\r\nSTARTTLS\r\n.\r\n382 go\r\n"), H,
		T("101 caps\r\nPOST\r\n.\r\n400 bye\r\n"), END
	};

	dialogue("nntp client: what follows the capabilities inside TLS goes "
	    "to the plain side", PROTO_NNTP, ROLE_CLIENT, 0, nntp,
	    want_str(SWITCH, "CAPABILITIES\r\nSTARTTLS\r\nCAPABILITIES\r\n",
	    "200 mail.example ready (posting allowed)\r\n400 bye\r\n", NULL));
}

/*
 * ManageSieve before TLS: a literal is read with its line whatever the
 * bound per line, up to the opening's bound in bytes; beyond it, NO, and
 * the session goes on.
 */
#define SIEVE_GREET	"\"IMPLEMENTATION\" \"b\"\r\n\"STARTTLS\"\r\nOK\r\n"

static void
sieve_literals_before_tls(void)
{
	static struct step forwarded[] = {
		P(SIEVE_GREET), { 't', NULL, 0 }, P("OK\r\n"),
		T("STARTTLS\r\n"), END
	}, refused[] = {
		P(SIEVE_GREET), { 't', NULL, 0 }, T("STARTTLS\r\n"), END
	};
	static const char tls[] = SIEVE_GREET "NO \"Literal too big before "
	    "STARTTLS\"\r\nOK \"Begin TLS negotiation now\"\r\n";
	static const int splits[] = { 0, 1, 13, 4096, 70000 };
	struct result	 r;
	char		*s, *plain;
	int		 good = 1;

	forwarded[1].bytes = s = repeat("NOOP {5000+}\r\n", "x", 5000, "\r\n");
	forwarded[1].len = strlen(s);
	plain = s;
	dialogue("sieve server: a literal of 5000 bytes before TLS goes to the "
	    "backend with its line", PROTO_SIEVE, S, 0, forwarded,
	    want_str(SWITCH, SIEVE_GREET "OK\r\nOK \"Begin TLS negotiation "
	    "now\"\r\n\"IMPLEMENTATION\" \"b\"\r\nOK \"TLS negotiation "
	    "successful\"\r\n", plain, NULL));
	free(s);
	refused[1].bytes = s = repeat("PUTSCRIPT \"a\" {100000+}\r\n", "x",
	    100000, "\r\n");
	refused[1].len = strlen(s);
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		run(PROTO_SIEVE, S, 0, refused, splits[i], &r);
		if (r.outcome != SWITCH || r.to_plain.len != 0 ||
		    r.to_tls.len < sizeof(tls) - 1 ||
		    memcmp(r.to_tls.b, tls, sizeof(tls) - 1) != 0) {
			printf("# split at %d: %s\n", splits[i],
			    outcome_names[r.outcome]);
			show("to_tls", &r.to_tls);
			good = 0;
		}
	}
	ok(good, "sieve server: a literal of 100000 bytes before TLS gets NO, "
	    "is dropped, and STARTTLS follows");
	free(s);
}

int
main(void)
{
	imap_before_tls();
	smtp_before_tls();
	transcript();
	smtp_inside();
	lmtp_inside();
	imap_inside();
	pop3_inside();
	ftp_inside();
	nntp_inside();
	sieve_inside();
	sieve_literals_before_tls();
	literal_sizes();
	handed_over();
	return done_testing();
}
