/*
 * The ftp and xmpp state machines in both roles.  A dialogue is a list of
 * steps, each bytes from the TLS-side peer ('t') or the plain side ('p',
 * the backend in the server role).  Each is fed whole, cut in two at every
 * byte and byte by byte; every way must give both sides the same bytes and
 * the same outcome.
 */
#include "config.h"

#include <stdlib.h>

#include "proto/proto.h"
#include "tap.h"

enum outcome { PENDING, SWITCH, FAIL, FALLBACK };

#define OPPORTUNISTIC	1
#define ALLOW_PLAIN	2

struct step {
	char		 from;
	const char	*bytes;
};

struct result {
	enum outcome	 outcome;
	char		 to_tls[4096];
	char		 to_plain[4096];
	char		 why[512];
};

/* Our XMPP stream ids count streams: the same for every way of feeding. */
static void
unid(char *s)
{
	char	*id, *q;

	for (id = s; (id = strstr(id, "id='starttls-")) != NULL; id += 14) {
		if ((q = strchr(id + 13, '\'')) == NULL)
			return;
		memmove(id + 14, q, strlen(q) + 1);
		id[13] = 'N';
	}
}

static void
collect(struct result *r, struct proto_out *out)
{
	strncat(r->to_tls, out->to_tls.data ? out->to_tls.data : "",
	    sizeof(r->to_tls) - strlen(r->to_tls) - 1);
	strncat(r->to_plain, out->to_plain.data ? out->to_plain.data : "",
	    sizeof(r->to_plain) - strlen(r->to_plain) - 1);
	unid(r->to_tls);
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

/* split: 0 whole, -1 byte by byte, k > 0 cut every step at byte k. */
static void
run(enum proto proto, enum role role, int flags, const struct step *steps,
    int split, struct result *r)
{
	struct proto_cfg	 pc = { proto, role, "localhost",
				    "example.net", flags & OPPORTUNISTIC,
				    (flags & ALLOW_PLAIN) != 0 };
	struct negotiation	*p = proto_new(&pc);
	struct proto_out	 out;
	const struct step	*st;
	size_t			 len, i = 0, cut;

	memset(r, 0, sizeof(*r));
	proto_out_init(&out);
	proto_start(p, &out);
	collect(r, &out);
	for (st = steps; st->bytes != NULL && r->outcome == PENDING; st++) {
		len = strlen(st->bytes);
		for (i = 0; i < len && r->outcome == PENDING; i += cut) {
			cut = split == 0 ? len : split < 0 ? 1 :
			    i == 0 && (size_t)split < len ? (size_t)split :
			    len - i;
			proto_out_init(&out);
			if (st->from == 't')
				proto_from_tls(p, st->bytes + i, cut, &out);
			else
				proto_from_plain(p, st->bytes + i, cut, &out);
			collect(r, &out);
		}
		/*
		 * TLS-side bytes not fed after the switch reach the TLS
		 * engine, which refuses clear text (tested elsewhere).
		 */
		if (r->outcome == SWITCH && (i < len ||
		    (st[1].bytes != NULL && st[1].from == 't'))) {
			r->outcome = FAIL;
			snprintf(r->why, sizeof(r->why), "injection");
		}
	}
	if (r->outcome == SWITCH) {
		proto_out_init(&out);
		proto_established(p, &out);
		collect(r, &out);
	}
	proto_free(p);
}

static const char *const names[] = { "PENDING", "SWITCH", "FAIL", "FALLBACK" };

static void
dialogue(const char *what, enum proto proto, enum role role, int flags,
    const struct step *steps, enum outcome want, const char *to_tls,
    const char *to_plain, const char *why)
{
	struct result	whole, part;
	size_t		maxlen = 0;
	int		same = 1;

	run(proto, role, flags, steps, 0, &whole);
	if (!ok(whole.outcome == want, "%s: %s", what, names[want]))
		printf("# got %s: %s\n", names[whole.outcome], whole.why);
	if (to_tls != NULL)
		is_str(whole.to_tls, to_tls, "  what the TLS side got");
	if (to_plain != NULL)
		is_str(whole.to_plain, to_plain, "  what the plain side got");
	if (why != NULL && !ok(strstr(whole.why, why) != NULL,
	    "  the reason says '%s'", why))
		printf("# got '%s'\n", whole.why);
	for (const struct step *st = steps; st->bytes != NULL; st++)
		if (strlen(st->bytes) > maxlen)
			maxlen = strlen(st->bytes);
	for (int k = -1; k < (int)maxlen && same; k++) {
		if (k == 0)
			continue;
		run(proto, role, flags, steps, k, &part);
		same = part.outcome == whole.outcome &&
		    strcmp(part.to_tls, whole.to_tls) == 0 &&
		    strcmp(part.to_plain, whole.to_plain) == 0;
		if (!same)
			printf("# differs with split %d: %s / %s\n", k,
			    part.to_tls, part.why);
	}
	ok(same, "  the same split at every byte and byte by byte");
}

/* head, unit n times, tail: a long input (freed by the caller). */
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

#define END	{ 0, NULL }
#define C	ROLE_CLIENT
#define S	ROLE_SERVER

static void
ftp_client(void)
{
	static const char greeting[] = "220-Welcome\r\n220-  to the\r\n"
	    "220 server\r\n";
	static const struct step good[] = {
		{ 't', "220-Welcome\r\n220-  to the\r\n220 server\r\n" },
		{ 't', "211-Features:\r\n EPSV\r\n AUTH SSL\r\n AUTH TLS\r\n"
		    " PBSZ\r\n211 End\r\n" },
		{ 't', "234 Proceed with negotiation.\r\n" },
		END
	}, later[] = {
		{ 't', "120 in 5 minutes\r\n220 ready\r\n" },
		{ 't', "211-Extensions supported:\r\n AUTH TLS;SSL\r\n211 END\r\n" },
		{ 't', "234 go\r\n" },
		END
	}, nofeat[] = {
		{ 't', "220 old\r\n" }, { 't', "500 FEAT unknown\r\n" },
		{ 't', "234 go\r\n" }, END
	}, nofeat_noauth[] = {
		{ 't', "220 old\r\n" }, { 't', "500 FEAT unknown\r\n" },
		{ 't', "502 AUTH unknown\r\n" }, END
	}, absent[] = {
		{ 't', "220 plain\r\n" },
		{ 't', "211-Features:\r\n EPSV\r\n MDTM\r\n211 End\r\n" }, END
	}, refused[] = {
		{ 't', "220 x\r\n" }, { 't', "211-F\r\n AUTH TLS\r\n211 E\r\n" },
		{ 't', "431 no TLS now\r\n" }, END
	}, inject[] = {
		{ 't', "220 x\r\n" }, { 't', "211-F\r\n AUTH TLS\r\n211 E\r\n" },
		{ 't', "234 go\r\n230 logged in\r\n" }, END
	}, inject_later[] = {
		{ 't', "220 x\r\n" }, { 't', "211-F\r\n AUTH TLS\r\n211 E\r\n" },
		{ 't', "234 go\r\n" }, { 't', "230 logged in\r\n" }, END
	}, busy[] = {
		{ 't', "421 Too many users\r\n" }, END
	}, garbage[] = {
		{ 't', "220 x\r\n" }, { 't', "hello\r\n" }, END
	};
	struct step	 longline[] = { { 't', NULL }, END };
	char		*s;

	dialogue("ftp client: multi-line greeting, FEAT, AUTH TLS, 234",
	    PROTO_FTP, C, 0, good, SWITCH, "FEAT\r\nAUTH TLS\r\n", greeting,
	    NULL);
	dialogue("ftp client: 120 then 220, AUTH TLS;SSL", PROTO_FTP, C, 0,
	    later, SWITCH, "FEAT\r\nAUTH TLS\r\n", "220 ready\r\n", NULL);
	dialogue("ftp client: no FEAT: AUTH TLS all the same", PROTO_FTP, C, 0,
	    nofeat, SWITCH, "FEAT\r\nAUTH TLS\r\n", "220 old\r\n", NULL);
	dialogue("ftp client: no FEAT, AUTH refused: fails closed", PROTO_FTP,
	    C, 0, nofeat_noauth, FAIL, "FEAT\r\nAUTH TLS\r\n", "",
	    "does not offer AUTH TLS");
	dialogue("ftp client: FEAT without AUTH TLS", PROTO_FTP, C, 0, absent,
	    FAIL, "FEAT\r\n", "", "does not offer AUTH TLS (it offers: EPSV, "
	    "MDTM)");
	dialogue("ftp client: --opportunistic relays in clear text", PROTO_FTP,
	    C, OPPORTUNISTIC, absent, FALLBACK, "FEAT\r\n", "220 plain\r\n",
	    "CLEAR TEXT");
	dialogue("ftp client: AUTH TLS refused", PROTO_FTP, C, 0, refused,
	    FAIL, NULL, "", "AUTH TLS refused: '431 no TLS now'");
	dialogue("ftp client: a reply behind 234 in the same read (injection)",
	    PROTO_FTP, C, 0, inject, FAIL, NULL, "", "injection");
	dialogue("ftp client: a reply behind 234 in a later read", PROTO_FTP,
	    C, 0, inject_later, FAIL, NULL, "", "injection");
	dialogue("ftp client: greeting 421", PROTO_FTP, C, 0, busy, FAIL, "",
	    "", "greeting is not 220");
	dialogue("ftp client: not a reply", PROTO_FTP, C, 0, garbage, FAIL,
	    NULL, "", "malformed FTP reply");
	longline[0].bytes = s = repeat("220-", "x", 5000, "\r\n");
	dialogue("ftp client: an over-long line", PROTO_FTP, C, 0, longline,
	    FAIL, "", "", "longer than 4096");
	free(s);
}

static void
ftp_server(void)
{
	static const struct step good[] = {
		{ 'p', "220-hello\r\n220 backend\r\n" },
		{ 't', "FEAT\r\n" },
		{ 'p', "211-Features:\r\n EPSV\r\n AUTH SSL\r\n211 End\r\n" },
		{ 't', "USER anonymous\r\nPASS x\r\nLIST\r\nAUTH SSL\r\nAUTH\r\n"
		    "AUTH TLS\r\n" },
		END
	}, nofeat[] = {
		{ 'p', "220 b\r\n" }, { 't', "FEAT\r\n" },
		{ 'p', "500 Unknown command\r\n" }, END
	}, pipelined[] = {
		{ 'p', "220 b\r\n" }, { 't', "SYST\r\nNOOP\r\nauth tls\r\n" },
		{ 'p', "215 UNIX\r\n" }, { 'p', "200 ok\r\n" }, END
	}, inject[] = {
		{ 'p', "220 b\r\n" }, { 't', "AUTH TLS\r\nUSER x\r\n" }, END
	}, inject_later[] = {
		{ 'p', "220 b\r\n" }, { 't', "AUTH TLS\r\n" }, { 't', "USER x\r\n" },
		END
	}, plain[] = {
		{ 'p', "220 b\r\n" }, { 't', "USER x\r\n" },
		{ 'p', "331 pass\r\n" }, { 't', "PASS y\r\nLIST\r\n" },
		{ 'p', "230 in\r\n" }, { 'p', "150 here\r\n" },
		{ 'p', "226 done\r\n" }, END
	}, garbage[] = {
		{ 'p', "hello\r\n" }, END
	};
	struct step	 longline[] = { { 'p', "220 b\r\n" }, { 't', NULL }, END };
	char		*s;

	dialogue("ftp server: AUTH TLS in FEAT, USER and PASS refused, 234",
	    PROTO_FTP, S, 0, good, SWITCH, "220-hello\r\n220 backend\r\n"
	    "211-Features:\r\n EPSV\r\n AUTH TLS\r\n211 End\r\n"
	    "530 Must issue AUTH TLS first\r\n530 Must issue AUTH TLS first\r\n"
	    "530 Must issue AUTH TLS first\r\n504 Only AUTH TLS is supported\r\n"
	    "501 Syntax: AUTH TLS\r\n234 AUTH TLS successful\r\n", "FEAT\r\n",
	    NULL);
	dialogue("ftp server: a backend without FEAT", PROTO_FTP, S, 0, nofeat,
	    PENDING, "220 b\r\n211-Features:\r\n AUTH TLS\r\n211 End\r\n",
	    "FEAT\r\n", NULL);
	dialogue("ftp server: pipelined commands keep their order", PROTO_FTP,
	    S, 0, pipelined, SWITCH, "220 b\r\n215 UNIX\r\n200 ok\r\n"
	    "234 AUTH TLS successful\r\n", "SYST\r\nNOOP\r\n", NULL);
	dialogue("ftp server: AUTH TLS\\r\\nUSER x in one write (command "
	    "injection)", PROTO_FTP, S, 0, inject, FAIL, NULL, "", "injection");
	dialogue("ftp server: USER after AUTH TLS, before the handshake",
	    PROTO_FTP, S, 0, inject_later, FAIL, NULL, "", "injection");
	dialogue("ftp server: --allow-plain forwards, 150 is preliminary",
	    PROTO_FTP, S, ALLOW_PLAIN, plain, PENDING, "220 b\r\n331 pass\r\n"
	    "230 in\r\n150 here\r\n226 done\r\n", "USER x\r\nPASS y\r\nLIST\r\n",
	    NULL);
	dialogue("ftp server: a backend that does not speak FTP", PROTO_FTP, S,
	    0, garbage, FAIL, "", "", "malformed FTP reply from the backend");
	longline[1].bytes = s = repeat("USER ", "x", 5000, "\r\n");
	dialogue("ftp server: an over-long command", PROTO_FTP, S, 0, longline,
	    FAIL, "220 b\r\n", "", "longer than 4096");
	free(s);
	is_str(proto_unavailable(PROTO_FTP), "421 Service not available, "
	    "closing control connection\r\n", "ftp server: a dead backend: 421");
}

#define STREAMS	"xmlns:stream='http://etherx.jabber.org/streams'"
#define TLS	"xmlns='urn:ietf:params:xml:ns:xmpp-tls'"
#define HEAD	"<?xml version='1.0'?><stream:stream xmlns='jabber:client' " \
		STREAMS " id='x1' from='example.net' version=\"1.0\" xml:lang='en'>"
#define OURS	"<?xml version='1.0'?><stream:stream to='example.net' " \
		"xmlns='jabber:client' " STREAMS " version='1.0'>"

static void
xmpp_client(void)
{
	static const struct step good[] = {
		{ 't', HEAD },
		{ 't', "<stream:features><starttls " TLS "><required/></starttls>"
		    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
		    "<mechanism>PLAIN</mechanism></mechanisms></stream:features>" },
		{ 't', "<proceed " TLS "/>" },
		END
	}, prefixed[] = {
		{ 't', "<s:stream xmlns:s=\"http://etherx.jabber.org/streams\" "
		    "xmlns='jabber:client' version='1.0' >\n" },
		{ 't', "<s:features\n><t:starttls xmlns:t='urn:ietf:params:xml:"
		    "ns:xmpp-tls'/></s:features>\n" },
		{ 't', " <t:proceed xmlns:t='urn:ietf:params:xml:ns:xmpp-tls'>"
		    "</t:proceed>" },
		END
	}, otherns[] = {
		{ 't', HEAD "<stream:features><starttls xmlns='urn:example'/>"
		    "</stream:features>" }, END
	}, absent[] = {
		{ 't', HEAD "<stream:features><mechanisms xmlns='urn:ietf:params:"
		    "xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>"
		    "</stream:features>" }, END
	}, old[] = {
		{ 't', "<stream:stream xmlns='jabber:client' " STREAMS " id='1'>" },
		END
	}, refused[] = {
		{ 't', HEAD "<stream:features><starttls " TLS "/></stream:features>" },
		{ 't', "<failure " TLS "/></stream:stream>" }, END
	}, error[] = {
		{ 't', HEAD "<stream:error><host-unknown xmlns='urn:ietf:params:"
		    "xml:ns:xmpp-streams'/></stream:error></stream:stream>" }, END
	}, inject[] = {
		{ 't', HEAD "<stream:features><starttls " TLS "/></stream:features>" },
		{ 't', "<proceed " TLS "/><message>forged</message>" }, END
	}, inject_ws[] = {
		{ 't', HEAD "<stream:features><starttls " TLS "/></stream:features>" },
		{ 't', "<proceed " TLS "/> " }, END
	}, inject_later[] = {
		{ 't', HEAD "<stream:features><starttls " TLS "/></stream:features>" },
		{ 't', "<proceed " TLS "/>" }, { 't', "<message/>" }, END
	}, comment[] = {
		{ 't', HEAD "<!-- hi --><stream:features/>" }, END
	}, unbound[] = {
		{ 't', HEAD "<x:features/>" }, END
	}, mismatch[] = {
		{ 't', HEAD "<stream:features><starttls " TLS "></stream:features>" },
		END
	}, text[] = {
		{ 't', HEAD "hello<stream:features/>" }, END
	};
	struct step	 big[] = { { 't', NULL }, END };
	struct result	 r;
	char		*s;

	dialogue("xmpp client: header, features, <starttls/>, <proceed/>",
	    PROTO_XMPP, C, 0, good, SWITCH, OURS "<starttls " TLS "/>", "", NULL);
	dialogue("xmpp client: other prefixes, white space, <proceed></proceed>",
	    PROTO_XMPP, C, 0, prefixed, SWITCH, OURS "<starttls " TLS "/>", "",
	    NULL);
	dialogue("xmpp client: <starttls/> in another namespace", PROTO_XMPP, C,
	    0, otherns, FAIL, OURS, "", "does not offer STARTTLS");
	dialogue("xmpp client: no <starttls/>", PROTO_XMPP, C, 0, absent, FAIL,
	    OURS, "", "does not offer STARTTLS (it offers: mechanisms)");
	dialogue("xmpp client: --opportunistic cannot fall back", PROTO_XMPP, C,
	    OPPORTUNISTIC, absent, FAIL, OURS, "", "no clear-text fallback");
	dialogue("xmpp client: a stream before XMPP 1.0", PROTO_XMPP, C, 0, old,
	    FAIL, OURS, "", "does not offer STARTTLS");
	dialogue("xmpp client: <failure/>", PROTO_XMPP, C, 0, refused, FAIL,
	    NULL, "", "STARTTLS refused");
	dialogue("xmpp client: a stream error", PROTO_XMPP, C, 0, error, FAIL,
	    OURS, "", "stream error from the server: host-unknown");
	dialogue("xmpp client: a stanza behind <proceed/> (injection)",
	    PROTO_XMPP, C, 0, inject, FAIL, NULL, "", "injection");
	dialogue("xmpp client: even white space behind <proceed/>", PROTO_XMPP,
	    C, 0, inject_ws, FAIL, NULL, "", "injection");
	dialogue("xmpp client: a stanza after <proceed/>, later", PROTO_XMPP, C,
	    0, inject_later, FAIL, NULL, "", "injection");
	dialogue("xmpp client: a comment", PROTO_XMPP, C, 0, comment, FAIL, OURS,
	    "", "comment");
	dialogue("xmpp client: an undeclared prefix", PROTO_XMPP, C, 0, unbound,
	    FAIL, OURS, "", "not declared");
	dialogue("xmpp client: a mismatched end tag", PROTO_XMPP, C, 0,
	    mismatch, FAIL, OURS, "", "closes <starttls>");
	dialogue("xmpp client: text between elements", PROTO_XMPP, C, 0, text,
	    FAIL, OURS, "", "text in the stream");
	big[0].bytes = s = repeat(HEAD "<stream:features a='", "x", 5000, "'>");
	dialogue("xmpp client: an over-long tag", PROTO_XMPP, C, 0, big, FAIL,
	    OURS, "", "longer than 4096");
	free(s);
	big[0].bytes = s = repeat(HEAD "<stream:features xmlns:", "p", 100,
	    "='x'/>");
	dialogue("xmpp client: an over-long namespace prefix", PROTO_XMPP, C, 0,
	    big, FAIL, OURS, "", "longer than 64");
	free(s);
	big[0].bytes = s = repeat(HEAD "<stream:features>", "<a>", 20, "");
	dialogue("xmpp client: elements nested too deep", PROTO_XMPP, C, 0, big,
	    FAIL, OURS, "", "deeper than 16");
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
}

#define CHEAD	"<?xml version='1.0'?><stream:stream to='chat.example' " \
		"xmlns='jabber:client' " STREAMS " version='1.0'>"
#define REPLY(from) "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " \
		STREAMS " id='starttls-N' from='" from "' version='1.0'>"
#define FEATURES "<stream:features><starttls " TLS "><required/></starttls>" \
		"</stream:features>"
#define ERROR(cond) "<stream:error><" cond " xmlns='urn:ietf:params:xml:ns:" \
		"xmpp-streams'/></stream:error></stream:stream>"

static void
xmpp_server(void)
{
	static const struct step good[] = {
		{ 't', CHEAD }, { 't', "\n<starttls " TLS "/>" }, END
	}, s_client[] = {
		{ 't', "<stream:stream " STREAMS " xmlns=\"jabber:client\" "
		    "to=\"a'b\" version=\"1.0\">" },
		{ 't', "<starttls " TLS "></starttls>" }, END
	}, sasl[] = {
		{ 't', CHEAD }, { 't', "<auth xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>" }, END
	}, inject[] = {
		{ 't', CHEAD }, { 't', "<starttls " TLS "/><auth/>" }, END
	}, inject_later[] = {
		{ 't', CHEAD }, { 't', "<starttls " TLS "/>" }, { 't', "<auth/>" },
		END
	}, http[] = {
		{ 't', "GET / HTTP/1.1\r\n\r\n" }, END
	}, old[] = {
		{ 't', "<stream:stream to='chat.example' xmlns='jabber:client' "
		    STREAMS ">" }, END
	}, otherns[] = {
		{ 't', "<stream:stream xmlns='jabber:component:accept' " STREAMS
		    " version='1.0'>" }, END
	}, backend[] = {
		{ 'p', "<?xml version='1.0'?>" }, END
	}, closed[] = {
		{ 't', CHEAD }, { 't', "</stream:stream>" }, END
	};
	struct step	 big[] = { { 't', NULL }, END };
	char		*s;

	dialogue("xmpp server: our header and features, <proceed/>", PROTO_XMPP,
	    S, 0, good, SWITCH, REPLY("chat.example") FEATURES "<proceed " TLS
	    "/>", "", NULL);
	dialogue("xmpp server: an odd 'to' is not echoed", PROTO_XMPP, S, 0,
	    s_client, SWITCH, REPLY("example.net") FEATURES "<proceed " TLS "/>",
	    "", NULL);
	dialogue("xmpp server: SASL before TLS: a stream error", PROTO_XMPP, S,
	    0, sasl, FAIL, REPLY("chat.example") FEATURES
	    ERROR("policy-violation"), "", "did not start TLS first");
	dialogue("xmpp server: --allow-plain changes nothing", PROTO_XMPP, S,
	    ALLOW_PLAIN, sasl, FAIL, REPLY("chat.example") FEATURES
	    ERROR("policy-violation"), "", "did not start TLS first");
	dialogue("xmpp server: <starttls/><auth/> in one write (injection)",
	    PROTO_XMPP, S, 0, inject, FAIL, NULL, "", "injection");
	dialogue("xmpp server: <auth/> after <starttls/>, before the handshake",
	    PROTO_XMPP, S, 0, inject_later, FAIL, NULL, "", "injection");
	dialogue("xmpp server: not XML", PROTO_XMPP, S, 0, http, FAIL,
	    REPLY("example.net") ERROR("not-well-formed"), "",
	    "text outside the stream");
	dialogue("xmpp server: no version", PROTO_XMPP, S, 0, old, FAIL,
	    REPLY("chat.example") ERROR("unsupported-version"), "",
	    "before XMPP 1.0");
	dialogue("xmpp server: not a client or server stream", PROTO_XMPP, S, 0,
	    otherns, FAIL, REPLY("example.net") ERROR("invalid-namespace"), "",
	    "neither jabber:client");
	dialogue("xmpp server: the backend speaks first", PROTO_XMPP, S, 0,
	    backend, FAIL, "", "", "backend spoke before TLS");
	dialogue("xmpp server: the client closes the stream", PROTO_XMPP, S, 0,
	    closed, FAIL, REPLY("chat.example") FEATURES "</stream:stream>", "",
	    "closed the stream");
	big[0].bytes = s = repeat(CHEAD "<starttls " TLS " a='", "x", 5000, "'/>");
	dialogue("xmpp server: an over-long tag", PROTO_XMPP, S, 0, big, FAIL,
	    NULL, "", "longer than 4096");
	free(s);
	ok(strstr(proto_unavailable(PROTO_XMPP), "<remote-connection-failed")
	    != NULL, "xmpp server: a dead backend: a stream error");
}

int
main(void)
{
	ftp_client();
	ftp_server();
	xmpp_client();
	xmpp_server();
	return done_testing();
}
