/*
 * The ftp and xmpp state machines in both roles.  A dialogue is a list of
 * steps, each bytes from the TLS-side peer ('t') or the plain side ('p',
 * the backend in the server role).  Each is fed whole, cut in two at every
 * byte and byte by byte; every way must give both sides the same bytes and
 * the same outcome.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialogue.h"

#define OPPORTUNISTIC	1
#define ALLOW_PLAIN	1

#define C	ROLE_CLIENT
#define S	ROLE_SERVER

/* Client role: inside TLS, PROT P first; our greeting once it is set. */
#define PROT_OK		T("200 PBSZ=0\r\n200 PROT now Private.\r\n")
#define FTP_AUTH_PROT	"FEAT\r\nAUTH TLS\r\nPBSZ 0\r\nPROT P\r\n"

static void
ftp_client(void)
{
	/* Ours, never the server's clear-text one. */
	static const char greeting[] = "220 mail.example ready\r\n";
	static const struct step good[] = {
		T("220-Welcome\r\n220-  to the\r\n220 server\r\n"),
		T("211-Features:\r\n EPSV\r\n AUTH SSL\r\n AUTH TLS\r\n"
		    " PBSZ\r\n211 End\r\n"),
		T("234 Proceed with negotiation.\r\n"), H, PROT_OK,
		END
	}, later[] = {
		T("120 in 5 minutes\r\n220 ready\r\n"),
		T("211-Extensions supported:\r\n AUTH TLS;SSL\r\n211 END\r\n"),
		T("234 go\r\n"), H, PROT_OK,
		END
	}, nofeat[] = {
		T("220 old\r\n"), T("500 FEAT unknown\r\n"),
		T("234 go\r\n"), H, PROT_OK, END
	}, nofeat_noauth[] = {
		T("220 old\r\n"), T("500 FEAT unknown\r\n"),
		T("502 AUTH unknown\r\n"), END
	}, absent[] = {
		T("220 plain\r\n"),
		T("211-Features:\r\n EPSV\r\n MDTM\r\n211 End\r\n"), END
	}, refused[] = {
		T("220 x\r\n"), T("211-F\r\n AUTH TLS\r\n211 E\r\n"),
		T("431 no TLS now\r\n"), END
	}, inject[] = {
		T("220 x\r\n"), T("211-F\r\n AUTH TLS\r\n211 E\r\n"),
		T("234 go\r\n230 logged in\r\n"), END
	}, inject_later[] = {
		T("220 x\r\n"), T("211-F\r\n AUTH TLS\r\n211 E\r\n"),
		T("234 go\r\n"), T("230 logged in\r\n"), END
	}, busy[] = {
		T("421 Too many users\r\n"), END
	}, garbage[] = {
		T("220 x\r\n"), T("hello\r\n"), END
	};
	struct step	 longline[] = { { 't', NULL, 0 }, END };
	char		*s;

	dialogue("ftp client: multi-line greeting, FEAT, AUTH TLS, 234",
	    PROTO_FTP, C, 0, good, want_str(SWITCH, FTP_AUTH_PROT,
	    greeting, NULL));
	dialogue("ftp client: 120 then 220, AUTH TLS;SSL", PROTO_FTP, C, 0,
	    later, want_str(SWITCH, FTP_AUTH_PROT, greeting, NULL));
	dialogue("ftp client: no FEAT: AUTH TLS all the same", PROTO_FTP, C, 0,
	    nofeat, want_str(SWITCH, FTP_AUTH_PROT, greeting, NULL));
	dialogue("ftp client: no FEAT, AUTH refused: fails closed", PROTO_FTP,
	    C, 0, nofeat_noauth, want_str(FAIL, "FEAT\r\nAUTH TLS\r\n", "",
	    "does not offer AUTH TLS"));
	dialogue("ftp client: FEAT without AUTH TLS", PROTO_FTP, C, 0, absent,
	    want_str(FAIL, "FEAT\r\n", "",
	    "does not offer AUTH TLS (it offers: EPSV, MDTM)"));
	dialogue("ftp client: --opportunistic relays in clear text", PROTO_FTP,
	    C, OPPORTUNISTIC, absent, want_str(FALLBACK, "FEAT\r\n",
	    "220 plain\r\n", "CLEAR TEXT"));
	dialogue("ftp client: AUTH TLS refused", PROTO_FTP, C, 0, refused,
	    want_str(FAIL, NULL, "", "AUTH TLS refused: '431 no TLS now'"));
	dialogue("ftp client: a reply behind 234 in the same read (injection)",
	    PROTO_FTP, C, 0, inject, want_str(FAIL, NULL, "", "injection"));
	dialogue("ftp client: a reply behind 234 in a later read", PROTO_FTP, C,
	    0, inject_later, want_str(FAIL, NULL, "", "injection"));
	dialogue("ftp client: greeting 421", PROTO_FTP, C, 0, busy,
	    want_str(FAIL, "", "", "greeting is not 220"));
	dialogue("ftp client: not a reply", PROTO_FTP, C, 0, garbage,
	    want_str(FAIL, NULL, "", "malformed FTP reply"));
	longline[0].bytes = s = repeat("220-", "x", 5000, "\r\n");
	dialogue("ftp client: an over-long line", PROTO_FTP, C, 0, longline,
	    want_str(FAIL, "", "", "longer than 4096"));
	free(s);
}

static void
ftp_server(void)
{
	static const struct step good[] = {
		P("220-hello\r\n220 backend\r\n"),
		T("FEAT\r\n"),
		P("211-Features:\r\n EPSV\r\n AUTH SSL\r\n211 End\r\n"),
		T("USER anonymous\r\nPASS x\r\nLIST\r\nAUTH SSL\r\nAUTH\r\n"
		    "AUTH TLS\r\n"),
		END
	}, nofeat[] = {
		P("220 b\r\n"), T("FEAT\r\n"),
		P("500 Unknown command\r\n"), END
	}, pipelined[] = {
		P("220 b\r\n"), T("SYST\r\nNOOP\r\nauth tls\r\n"),
		P("215 UNIX\r\n"), P("200 ok\r\n"), END
	}, inject[] = {
		P("220 b\r\n"), T("AUTH TLS\r\nUSER x\r\n"), END
	}, inject_later[] = {
		P("220 b\r\n"), T("AUTH TLS\r\n"), T("USER x\r\n"),
		END
	}, plain[] = {
		P("220 b\r\n"), T("USER x\r\n"),
		P("331 pass\r\n"), T("PASS y\r\nLIST\r\n"),
		P("230 in\r\n"), P("150 here\r\n"),
		P("226 done\r\n"), END
	}, garbage[] = {
		P("hello\r\n"), END
	};
	struct step	 longline[] = { P("220 b\r\n"), { 't', NULL, 0 }, END };
	char		*s;

	dialogue("ftp server: AUTH TLS in FEAT, USER and PASS refused, 234",
	    PROTO_FTP, S, 0, good, want_str(SWITCH,
	    "220-hello\r\n220 backend\r\n"
	    "211-Features:\r\n EPSV\r\n AUTH TLS\r\n211 End\r\n"
	    "530 Must issue AUTH TLS first\r\n530 Must issue AUTH TLS first\r\n"
	    "530 Must issue AUTH TLS first\r\n504 Only AUTH TLS is supported\r\n"
	    "501 Syntax: AUTH TLS\r\n234 AUTH TLS successful\r\n", "FEAT\r\n",
	    NULL));
	dialogue("ftp server: a backend without FEAT", PROTO_FTP, S, 0, nofeat,
	    want_str(PENDING,
	    "220 b\r\n211-Features:\r\n AUTH TLS\r\n211 End\r\n", "FEAT\r\n",
	    NULL));
	dialogue("ftp server: pipelined commands keep their order", PROTO_FTP,
	    S, 0, pipelined, want_str(SWITCH, "220 b\r\n215 UNIX\r\n200 ok\r\n"
	    "234 AUTH TLS successful\r\n", "SYST\r\nNOOP\r\n", NULL));
	dialogue("ftp server: AUTH TLS\\r\\nUSER x in one write (command "
	    "injection)", PROTO_FTP, S, 0, inject, want_str(FAIL, NULL, "",
	    "injection"));
	dialogue("ftp server: USER after AUTH TLS, before the handshake",
	    PROTO_FTP, S, 0, inject_later, want_str(FAIL, NULL, "",
	    "injection"));
	dialogue("ftp server: --allow-plain: USER goes, then clear text for good",
	    PROTO_FTP, S, ALLOW_PLAIN, plain, want_str(FALLBACK,
	    "220 b\r\n331 pass\r\n230 in\r\n150 here\r\n226 done\r\n",
	    "USER x\r\nPASS y\r\nLIST\r\n", NULL));
	dialogue("ftp server: a backend that does not speak FTP", PROTO_FTP, S,
	    0, garbage, want_str(FAIL, "", "",
	    "malformed FTP reply from the backend"));
	longline[1].bytes = s = repeat("USER ", "x", 5000, "\r\n");
	dialogue("ftp server: an over-long command", PROTO_FTP, S, 0, longline,
	    want_str(FAIL, "220 b\r\n", "", "longer than 4096"));
	free(s);
	is_str(proto_unavailable(PROTO_FTP), "421 Service not available, "
	    "closing control connection\r\n", "ftp server: a dead backend: 421");
}

#define STREAMS	"xmlns:stream='http://etherx.jabber.org/streams'"
#define TLS	"xmlns='urn:ietf:params:xml:ns:xmpp-tls'"
#define HEAD	"<?xml version='1.0'?><stream:stream xmlns='jabber:client' " \
		STREAMS " id='x1' from='example.net' version=\"1.0\" xml:lang='en'>"
#define OFFER	HEAD "<stream:features><starttls " TLS "/></stream:features>"
#define OURS	"<?xml version='1.0'?><stream:stream to='mail.example' " \
		"xmlns='jabber:client' " STREAMS " version='1.0'>"

static void
xmpp_client(void)
{
	static const struct step good[] = {
		T(HEAD),
		T("<stream:features><starttls " TLS "><required/></starttls>"
		    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
		    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>"),
		T("<proceed " TLS "/>"),
		END
	}, prefixed[] = {
		T("<s:stream xmlns:s=\"http://etherx.jabber.org/streams\" "
		    "xmlns='jabber:client' version='1.0' >\n"),
		T("<s:features\n><t:starttls xmlns:t='urn:ietf:params:xml:"
		    "ns:xmpp-tls'/></s:features>\n"),
		T(" <t:proceed xmlns:t='urn:ietf:params:xml:ns:xmpp-tls'>"
		    "</t:proceed>"),
		END
	}, otherns[] = {
		T(HEAD "<stream:features><starttls xmlns='urn:example'/>"
		    "</stream:features>"), END
	}, absent[] = {
		T(HEAD "<stream:features><mechanisms xmlns='urn:ietf:params:"
		    "xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
		    "</stream:features>"), END
	}, old[] = {
		T("<stream:stream xmlns='jabber:client' " STREAMS " id='1'>"),
		END
	}, refused[] = {
		T(OFFER),
		T("<failure " TLS "/></stream:stream>"), END
	}, error[] = {
		T(HEAD "<stream:error><host-unknown xmlns='urn:ietf:params:"
		    "xml:ns:xmpp-streams'/></stream:error></stream:stream>"), END
	}, inject[] = {
		T(OFFER),
		T("<proceed " TLS "/><message>forged</message>"), END
	}, inject_ws[] = {
		T(OFFER),
		T("<proceed " TLS "/> "), END
	}, inject_later[] = {
		T(OFFER),
		T("<proceed " TLS "/>"), T("<message/>"), END
	}, comment[] = {
		T(HEAD "<!-- hi --><stream:features/>"), END
	}, unbound[] = {
		T(HEAD "<x:features/>"), END
	}, mismatch[] = {
		T(HEAD "<stream:features><starttls " TLS "></stream:features>"),
		END
	}, text[] = {
		T(HEAD "hello<stream:features/>"), END
	};
	struct step	 big[] = { { 't', NULL, 0 }, END };
	struct proto_cfg pc = { PROTO_XMPP, ROLE_CLIENT, "localhost",
			    "x' evil='1", 0, 0, 0, NULL };
	struct negotiation *n;
	struct proto_out out;
	struct result	 r;
	char		*s;

	dialogue("xmpp client: header, features, <starttls/>, <proceed/>",
	    PROTO_XMPP, C, 0, good, want_str(SWITCH, OURS "<starttls " TLS "/>",
	    "", NULL));
	dialogue("xmpp client: other prefixes, white space, <proceed></proceed>",
	    PROTO_XMPP, C, 0, prefixed, want_str(SWITCH, OURS "<starttls " TLS
	    "/>", "", NULL));
	dialogue("xmpp client: <starttls/> in another namespace", PROTO_XMPP, C,
	    0, otherns, want_str(FAIL, OURS, "", "does not offer STARTTLS"));
	dialogue("xmpp client: no <starttls/>", PROTO_XMPP, C, 0, absent,
	    want_str(FAIL, OURS, "",
	    "does not offer STARTTLS (it offers: mechanisms)"));
	dialogue("xmpp client: --opportunistic cannot fall back", PROTO_XMPP, C,
	    OPPORTUNISTIC, absent, want_str(FAIL, OURS, "",
	    "no clear-text fallback"));
	dialogue("xmpp client: a stream before XMPP 1.0", PROTO_XMPP, C, 0, old,
	    want_str(FAIL, OURS, "", "does not offer STARTTLS"));
	dialogue("xmpp client: <failure/>", PROTO_XMPP, C, 0, refused,
	    want_str(FAIL, NULL, "", "STARTTLS refused"));
	dialogue("xmpp client: a stream error", PROTO_XMPP, C, 0, error,
	    want_str(FAIL, OURS, "",
	    "stream error from the server: host-unknown"));
	dialogue("xmpp client: a stanza behind <proceed/> (injection)",
	    PROTO_XMPP, C, 0, inject, want_str(FAIL, NULL, "", "injection"));
	dialogue("xmpp client: white space behind <proceed/> is let go",
	    PROTO_XMPP, C, 0, inject_ws, want_str(SWITCH, NULL, "", NULL));
	dialogue("xmpp client: a stanza after <proceed/>, later", PROTO_XMPP, C,
	    0, inject_later, want_str(FAIL, NULL, "", "injection"));
	dialogue("xmpp client: a comment", PROTO_XMPP, C, 0, comment,
	    want_str(FAIL, OURS, "", "comment"));
	dialogue("xmpp client: an undeclared prefix", PROTO_XMPP, C, 0, unbound,
	    want_str(FAIL, OURS, "", "not declared"));
	dialogue("xmpp client: a mismatched end tag", PROTO_XMPP, C, 0,
	    mismatch, want_str(FAIL, OURS, "", "closes <starttls>"));
	dialogue("xmpp client: text between elements", PROTO_XMPP, C, 0, text,
	    want_str(FAIL, OURS, "", "text in the stream"));
	big[0].bytes = s = repeat(HEAD "<stream:features a='", "x", 5000, "'>");
	dialogue("xmpp client: an over-long tag", PROTO_XMPP, C, 0, big,
	    want_str(FAIL, OURS, "", "longer than 4096"));
	free(s);
	big[0].bytes = s = repeat(HEAD "<stream:features xmlns:", "p", 100,
	    "='x'/>");
	dialogue("xmpp client: an over-long namespace prefix", PROTO_XMPP, C, 0,
	    big, want_str(FAIL, OURS, "", "longer than 64"));
	free(s);
	big[0].bytes = s = repeat(HEAD "<stream:features>", "<a>", 20, "");
	dialogue("xmpp client: elements nested too deep", PROTO_XMPP, C, 0, big,
	    want_str(FAIL, OURS, "", "deeper than 16"));
	free(s);
	/* Too big to cut at every byte: whole and byte by byte. */
	big[0].bytes = s = repeat(HEAD "<stream:features>", "<a b='c'/>",
	    7000, "");
	run(PROTO_XMPP, C, 0, big, 0, &r);
	ok(r.outcome == FAIL && strstr(r.why, "more than 65536 bytes") != NULL,
	    "xmpp client: an endless features list: FAIL (%s)", r.why);
	run(PROTO_XMPP, C, 0, big, -1, &r);
	ok(r.outcome == FAIL && strstr(r.why, "more than 65536 bytes") != NULL,
	    "  the same byte by byte");
	free(s);
	/* The server's name goes into our header: no markup in it. */
	n = proto_new(&pc);
	proto_out_init(&out);
	proto_start(n, &out);
	ok(out.fail && out.to_tls.len == 0 &&
	    strstr(out.why, "cannot be an XMPP domain") != NULL,
	    "xmpp client: a server name with a quote is refused, nothing sent");
	proto_out_free(&out);
	proto_free(n);
}

#define CHEAD	"<?xml version='1.0'?><stream:stream to='chat.example' " \
		"xmlns='jabber:client' " STREAMS " version='1.0'>"
#define REPLY(from) "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " \
		STREAMS " id='starttls-0' from='" from "' version='1.0'>"
#define FEATURES "<stream:features><starttls " TLS "><required/></starttls>" \
		"</stream:features>"
#define ERROR(cond) "<stream:error><" cond " xmlns='urn:ietf:params:xml:ns:" \
		"xmpp-streams'/></stream:error></stream:stream>"

static void
xmpp_server(void)
{
	static const struct step good[] = {
		T(CHEAD), T("\n<starttls " TLS "/>"), END
	}, s_client[] = {
		T("<stream:stream " STREAMS " xmlns=\"jabber:client\" "
		    "to=\"a'b\" version=\"1.0\">"),
		T("<starttls " TLS "></starttls>"), END
	}, sasl[] = {
		T(CHEAD), T("<auth xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>"), END
	}, inject[] = {
		T(CHEAD), T("<starttls " TLS "/><auth/>"), END
	}, inject_later[] = {
		T(CHEAD), T("<starttls " TLS "/>"), T("<auth/>"),
		END
	}, http[] = {
		T("GET / HTTP/1.1\r\n\r\n"), END
	}, old[] = {
		T("<stream:stream to='chat.example' xmlns='jabber:client' "
		    STREAMS ">"), END
	}, otherns[] = {
		T("<stream:stream xmlns='jabber:component:accept' " STREAMS
		    " version='1.0'>"), END
	}, backend[] = {
		P("<?xml version='1.0'?>"), END
	}, closed[] = {
		T(CHEAD), T("</stream:stream>"), END
	}, crlf[] = {
		T(CHEAD), T("<starttls " TLS "/>\r\n"), T(" \r\n"), END
	}, crlf_then[] = {
		T(CHEAD), T("<starttls " TLS "/>\r\n"), T("\n<auth/>"), END
	};
	struct step	 big[] = { { 't', NULL, 0 }, END };
	char		*s;

	dialogue("xmpp server: our header and features, <proceed/>", PROTO_XMPP,
	    S, 0, good, want_str(SWITCH, REPLY("chat.example") FEATURES
	    "<proceed " TLS "/>", "", NULL));
	dialogue("xmpp server: white space after <starttls/> is not injection "
	    "(sslscan sends CRLF)", PROTO_XMPP, S, 0, crlf, want_str(SWITCH,
	    REPLY("chat.example") FEATURES "<proceed " TLS "/>", "", NULL));
	dialogue("xmpp server: but anything else after it is", PROTO_XMPP, S, 0,
	    crlf_then, want_str(FAIL, NULL, "", "injection"));
	dialogue("xmpp server: an odd 'to' is not echoed", PROTO_XMPP, S, 0,
	    s_client, want_str(SWITCH, REPLY("mail.example") FEATURES
	    "<proceed " TLS "/>", "", NULL));
	dialogue("xmpp server: SASL before TLS: a stream error", PROTO_XMPP, S,
	    0, sasl, want_str(FAIL, REPLY("chat.example") FEATURES
	    ERROR("policy-violation"), "", "did not start TLS first"));
	dialogue("xmpp server: --allow-plain changes nothing", PROTO_XMPP, S,
	    ALLOW_PLAIN, sasl, want_str(FAIL, REPLY("chat.example") FEATURES
	    ERROR("policy-violation"), "", "did not start TLS first"));
	dialogue("xmpp server: <starttls/><auth/> in one write (injection)",
	    PROTO_XMPP, S, 0, inject, want_str(FAIL, NULL, "", "injection"));
	dialogue("xmpp server: <auth/> after <starttls/>, before the handshake",
	    PROTO_XMPP, S, 0, inject_later, want_str(FAIL, NULL, "",
	    "injection"));
	dialogue("xmpp server: not XML", PROTO_XMPP, S, 0, http, want_str(FAIL,
	    REPLY("mail.example") ERROR("not-well-formed"), "",
	    "text outside the stream"));
	dialogue("xmpp server: no version", PROTO_XMPP, S, 0, old,
	    want_str(FAIL, REPLY("chat.example") ERROR("unsupported-version"),
	    "", "before XMPP 1.0"));
	dialogue("xmpp server: not a client or server stream", PROTO_XMPP, S, 0,
	    otherns, want_str(FAIL, REPLY("mail.example")
	    ERROR("invalid-namespace"), "", "neither jabber:client"));
	dialogue("xmpp server: the backend speaks first", PROTO_XMPP, S, 0,
	    backend, want_str(FAIL, "", "", "backend spoke before TLS"));
	dialogue("xmpp server: the client closes the stream", PROTO_XMPP, S, 0,
	    closed, want_str(FAIL, REPLY("chat.example") FEATURES
	    "</stream:stream>", "", "closed the stream"));
	big[0].bytes = s = repeat(CHEAD "<starttls " TLS " a='", "x", 5000, "'/>");
	dialogue("xmpp server: an over-long tag", PROTO_XMPP, S, 0, big,
	    want_str(FAIL, NULL, "", "longer than 4096"));
	free(s);
	ok(strstr(proto_unavailable(PROTO_XMPP), "<remote-connection-failed")
	    != NULL, "xmpp server: a dead backend: a stream error");
}

/*
 * FTP data connections with PROT P, where the session's part is played
 * here: the module asks for a listener (out.data_port), we say where it is
 * (proto_data_ready) and the client gets that, never the server's.
 */
struct ftp_run {
	struct negotiation	*p;
	struct proto_out	 out;
};

static void
say(struct ftp_run *r, char from, const char *s)
{
	proto_out_free(&r->out);
	if (from == 'p')
		proto_from_plain(r->p, s, strlen(s), &r->out);
	else
		proto_from_tls(r->p, s, strlen(s), &r->out);
}

static void
ready(struct ftp_run *r, const char *ip, unsigned port)
{
	proto_out_free(&r->out);
	proto_data_ready(r->p, ip, port, &r->out);
}

static void
handshake(struct ftp_run *r)
{
	proto_out_free(&r->out);
	proto_established(r->p, &r->out);
}

static const char *
text(const struct pbuf *b)
{
	static char	buf[2][1024];
	static int	n;
	char		*t = buf[n++ % 2];

	snprintf(t, sizeof(buf[0]), "%.*s", (int)b->len,
	    b->len ? b->data : "");
	return t;
}

static struct ftp_run
ftp_run(enum role role)
{
	struct proto_cfg	cfg = { PROTO_FTP, role, NULL, "relay.example",
				    0, 0, 0 };
	struct ftp_run		r;

	r.p = proto_new(&cfg);
	proto_out_init(&r.out);
	proto_start(r.p, &r.out);
	return r;
}

static void
ftp_data_server(void)
{
	struct ftp_run	r = ftp_run(S);

	say(&r, 'p', "220 b\r\n");
	say(&r, 't', "AUTH TLS\r\n");
	handshake(&r);
	say(&r, 't', "PROT P\r\nPBSZ 0\r\nPROT P\r\nPORT 1,2,3\r\n");
	is_str(text(&r.out.to_tls), "503 PBSZ first\r\n200 PBSZ=0\r\n"
	    "200 Protection level set to P\r\n"
	    "501 Unreadable PORT or EPRT\r\n",
	    "ftp data, server: PBSZ, PROT and a bad PORT answered here");
	is_str(text(&r.out.to_plain), "", "  none of them forwarded");
	say(&r, 't', "PASV\r\nNOOP\r\nAUTH TLS\r\n");
	is_str(text(&r.out.to_plain), "PASV\r\nNOOP\r\n", "  PASV goes on");
	say(&r, 'p', "227 Entering Passive Mode (10,0,0,9,4,1).\r\n"
	    "200 NOOP ok\r\n");
	is_int(r.out.data_port, 1025, "  its 227 asks for a data relay");
	is_str(text(&r.out.to_tls), "", "  and waits, with what follows");
	ready(&r, "127.0.0.1", 40000);
	is_str(text(&r.out.to_tls), "227 Entering Passive Mode "
	    "(127,0,0,1,156,64)\r\n200 NOOP ok\r\n534 TLS already active\r\n",
	    "  the client gets our listener, then the rest in order");
	say(&r, 't', "EPSV\r\n");
	say(&r, 'p', "229 Entering Extended Passive Mode (|||2121|)\r\n");
	is_int(r.out.data_port, 2121, "  EPSV's 229 too");
	ready(&r, NULL, 40001);
	is_str(text(&r.out.to_tls),
	    "229 Entering Extended Passive Mode (|||40001|)\r\n",
	    "  rewritten to our port");
	say(&r, 't', "PASV\r\n");
	say(&r, 'p', "227 Entering Passive Mode (10,0,0,9,4,1)\r\n");
	ready(&r, "127.0.0.1", 0);
	is_str(text(&r.out.to_tls), "425 Cannot open a data connection\r\n",
	    "  no listener: 425");
	say(&r, 't', "PASV\r\n");
	say(&r, 'p', "227 Entering Passive Mode (10,0,0,9)\r\n");
	is_str(text(&r.out.to_tls),
	    "425 Unreadable passive reply from the server\r\n",
	    "  an unreadable 227: 425, no relay");
	say(&r, 't', "PORT 10,0,0,1,4,2\r\nRETR f\r\n");
	is_int(r.out.data_port, 1026, "  PORT asks for a relay the other way");
	is_int(r.out.data_active, 1, "  active");
	is_str(text(&r.out.to_plain), "", "  and waits, with what follows");
	ready(&r, "127.0.0.1", 40002);
	is_str(text(&r.out.to_plain), "PORT 127,0,0,1,156,66\r\nRETR f\r\n",
	    "  the backend gets our PORT, then the rest");
	say(&r, 't', "EPRT |2|::1|5000|\r\n");
	is_int(r.out.data_port, 5000, "  EPRT too");
	ready(&r, "::1", 40003);
	is_str(text(&r.out.to_plain), "EPRT |2|::1|40003|\r\n",
	    "  with our EPRT for an IPv6 listener");
	say(&r, 'p', "200 PORT ok\r\n150 go\r\n226 done\r\n200 EPRT ok\r\n");
	is_str(text(&r.out.to_tls), "200 PORT ok\r\n150 go\r\n226 done\r\n"
	    "200 EPRT ok\r\n", "  the backend's replies go to the client");
	say(&r, 't', "PORT 10,0,0,1,4,2\r\n");
	ready(&r, "127.0.0.1", 0);
	is_str(text(&r.out.to_tls), "425 Cannot open a data connection\r\n",
	    "  no listener: 425 from us");
	is_str(text(&r.out.to_plain), "", "  and no PORT for the backend");
	say(&r, 't', "PROT C\r\nPASV\r\n");
	say(&r, 'p', "227 Entering Passive Mode (10,0,0,9,4,1)\r\n");
	is_str(text(&r.out.to_tls), "227 Entering Passive Mode "
	    "(10,0,0,9,4,1)\r\n", "  PROT C: the backend's 227 as it is");
	is_int(r.out.data_port, 0, "  and no relay");
	proto_out_free(&r.out);
	proto_free(r.p);
}

static void
ftp_data_client(void)
{
	struct ftp_run	r = ftp_run(C);

	say(&r, 't', "220 x\r\n");
	say(&r, 't', "211-F\r\n AUTH TLS\r\n211 E\r\n");
	say(&r, 't', "234 go\r\n");
	handshake(&r);
	is_str(text(&r.out.to_tls), "PBSZ 0\r\nPROT P\r\n",
	    "ftp data, client: PBSZ 0, PROT P inside TLS");
	is_str(text(&r.out.to_plain), "", "  the greeting waits");
	say(&r, 'p', "FEAT\r\n");
	say(&r, 't', "200 PBSZ=0\r\n200 PROT P\r\n211-F\r\n AUTH TLS\r\n"
	    " PBSZ\r\n EPSV\r\n PROT\r\n211 E\r\n");
	is_str(text(&r.out.to_plain), "220 relay.example ready\r\n"
	    "211-F\r\n EPSV\r\n211 E\r\n",
	    "  then ours; the FEAT reply lists no AUTH, PBSZ or PROT");
	say(&r, 'p', "AUTH TLS\r\nEPSV\r\n");
	is_str(text(&r.out.to_plain), "534 TLS already active\r\n",
	    "  AUTH from the plain client: 534");
	is_str(text(&r.out.to_tls), "EPSV\r\n", "  EPSV goes on");
	say(&r, 't', "229 Entering Extended Passive Mode (|||5000|)\r\n");
	is_int(r.out.data_port, 5000, "  its 229 asks for a data relay");
	ready(&r, "127.0.0.1", 6000);
	is_str(text(&r.out.to_plain),
	    "229 Entering Extended Passive Mode (|||6000|)\r\n",
	    "  the plain client gets our listener");
	proto_out_free(&r.out);
	proto_free(r.p);
}

static void
ftp_data_refused(void)
{
	struct ftp_run	r = ftp_run(C);

	say(&r, 't', "220 x\r\n");
	say(&r, 't', "211-F\r\n AUTH TLS\r\n211 E\r\n");
	say(&r, 't', "234 go\r\n");
	handshake(&r);
	say(&r, 't', "200 PBSZ=0\r\n534 no PROT P\r\n");
	is_str(text(&r.out.to_plain), "220 relay.example ready\r\n",
	    "ftp data, client: PROT P refused: our greeting all the same");
	say(&r, 'p', "PASV\r\n");
	say(&r, 't', "227 Entering Passive Mode (10,0,0,9,4,1)\r\n");
	is_str(text(&r.out.to_plain),
	    "227 Entering Passive Mode (10,0,0,9,4,1)\r\n",
	    "  and the server's 227 as it is, no relay");
	is_int(r.out.data_port, 0, "  none asked for");
	proto_out_free(&r.out);
	proto_free(r.p);
}

int
main(void)
{
	ftp_client();
	ftp_server();
	ftp_data_server();
	ftp_data_client();
	ftp_data_refused();
	xmpp_client();
	xmpp_server();
	return done_testing();
}
