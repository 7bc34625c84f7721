/*
 * The line protocols LMTP, NNTP and ManageSieve, in both roles.  Client
 * role: the server's bytes are fed whole, split in two at every byte and
 * byte by byte.  Server role: a list of steps from the client or the
 * backend, fed whole, cut at every byte and byte by byte.  Every way must
 * give the same bytes and the same outcome.
 */
#include "config.h"

#include <stdlib.h>

#include "proto/proto.h"
#include "tap.h"

enum outcome { PENDING, SWITCH, FAIL, FALLBACK };

static const char *const names[] = { "PENDING", "SWITCH", "FAIL", "FALLBACK" };

struct result {
	enum outcome	 outcome;
	char		 to_tls[4096];	/* to the server, or to the client */
	char		 to_plain[4096];
	char		 why[512];
};

struct step {
	char		 from;		/* 'c' client, 'b' backend */
	const char	*bytes;
};

#define END	{ 0, NULL }

static void
collect(struct result *r, struct proto_out *out)
{
	strncat(r->to_tls, out->to_tls.data ? out->to_tls.data : "",
	    sizeof(r->to_tls) - strlen(r->to_tls) - 1);
	strncat(r->to_plain, out->to_plain.data ? out->to_plain.data : "",
	    sizeof(r->to_plain) - strlen(r->to_plain) - 1);
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

static void
established(struct negotiation *p, struct result *r)
{
	struct proto_out	out;

	if (r->outcome == SWITCH) {
		proto_out_init(&out);
		proto_established(p, &out);
		collect(r, &out);
	}
	proto_free(p);
}

/*
 * Client role: the server's bytes cut at step (0: whole).  Bytes the
 * machine was not fed after the switch would reach the TLS engine.
 */
static void
crun(enum proto proto, int opportunistic, const char *server, size_t step,
    struct result *r)
{
	struct proto_cfg	 pc = { proto, ROLE_CLIENT, "localhost",
				    "localhost", opportunistic, 0 };
	struct negotiation	*p = proto_new(&pc);
	struct proto_out	 out;
	size_t			 slen = strlen(server), from, n;

	memset(r, 0, sizeof(*r));
	proto_out_init(&out);
	proto_start(p, &out);
	collect(r, &out);
	for (from = 0; from < slen && r->outcome == PENDING; from += n) {
		n = step == 0 ? slen : step > slen - from ? slen - from : step;
		proto_out_init(&out);
		proto_from_tls(p, server + from, n, &out);
		collect(r, &out);
	}
	if (r->outcome == SWITCH && from < slen) {
		r->outcome = FAIL;
		snprintf(r->why, sizeof(r->why), "injection after the switch");
	}
	established(p, r);
}

static int
same(const struct result *a, const struct result *b)
{
	return a->outcome == b->outcome && strcmp(a->to_tls, b->to_tls) == 0 &&
	    strcmp(a->to_plain, b->to_plain) == 0;
}

static void
check(const char *what, const struct result *r, enum outcome want,
    const char *to_tls, const char *to_plain, const char *why,
    const char *tls_name, const char *plain_name)
{
	if (!ok(r->outcome == want, "%s: %s", what, names[want]))
		printf("# got %s: %s\n", names[r->outcome], r->why);
	if (to_tls != NULL)
		is_str(r->to_tls, to_tls, tls_name);
	if (to_plain != NULL)
		is_str(r->to_plain, to_plain, plain_name);
	if (why != NULL && !ok(strstr(r->why, why) != NULL,
	    "  the reason says '%s'", why))
		printf("# got '%s'\n", r->why);
}

static void
client(const char *what, enum proto proto, int opportunistic,
    const char *server, enum outcome want, const char *sent,
    const char *plain, const char *why)
{
	struct result	whole, part;
	size_t		slen = strlen(server);
	int		eq = 1;

	crun(proto, opportunistic, server, 0, &whole);
	check(what, &whole, want, sent, plain, why, "  commands sent",
	    "  what the plain side gets");
	/* Split in two at every byte: the first piece, then the rest. */
	for (size_t i = 1; i < slen && eq; i++) {
		struct proto_cfg	 pc = { proto, ROLE_CLIENT, "localhost",
					    "localhost", opportunistic, 0 };
		struct negotiation	*p = proto_new(&pc);
		struct proto_out	 out;

		memset(&part, 0, sizeof(part));
		proto_out_init(&out);
		proto_start(p, &out);
		collect(&part, &out);
		proto_out_init(&out);
		proto_from_tls(p, server, i, &out);
		collect(&part, &out);
		if (part.outcome == PENDING) {
			proto_out_init(&out);
			proto_from_tls(p, server + i, slen - i, &out);
			collect(&part, &out);
		} else if (part.outcome == SWITCH)
			part.outcome = FAIL;	/* the rest: injection */
		established(p, &part);
		if (!(eq = same(&part, &whole)))
			printf("# differs when split at %zu\n", i);
	}
	ok(eq, "  the same split in two at every byte");
	crun(proto, opportunistic, server, 1, &part);
	ok(same(&part, &whole), "  the same byte by byte");
}

/* Server role: every step cut at byte k (0: whole, -1: byte by byte). */
static void
srun(enum proto proto, int allow_plain, const struct step *steps, int split,
    struct result *r)
{
	struct proto_cfg	 pc = { proto, ROLE_SERVER, "localhost",
				    "localhost", 0, allow_plain };
	struct negotiation	*p = proto_new(&pc);
	struct proto_out	 out;
	const struct step	*st;
	size_t			 len, i, cut;

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
			if (st->from == 'c')
				proto_from_tls(p, st->bytes + i, cut, &out);
			else
				proto_from_plain(p, st->bytes + i, cut, &out);
			collect(r, &out);
		}
		/* Client bytes not fed after the switch reach the TLS engine. */
		if (r->outcome == SWITCH && (i < len ||
		    (st[1].bytes != NULL && st[1].from == 'c'))) {
			r->outcome = FAIL;
			snprintf(r->why, sizeof(r->why), "injection");
		}
	}
	established(p, r);
}

static void
server(const char *what, enum proto proto, int allow_plain,
    const struct step *steps, enum outcome want, const char *to_client,
    const char *to_backend, const char *why)
{
	struct result	whole, part;
	size_t		maxlen = 0;
	int		eq = 1;

	srun(proto, allow_plain, steps, 0, &whole);
	check(what, &whole, want, to_client, to_backend, why,
	    "  what the client got", "  what the backend got");
	for (const struct step *st = steps; st->bytes != NULL; st++)
		if (strlen(st->bytes) > maxlen)
			maxlen = strlen(st->bytes);
	for (int k = -1; k < (int)maxlen && eq; k++) {
		if (k == 0)
			continue;
		srun(proto, allow_plain, steps, k, &part);
		if (!(eq = same(&part, &whole)))
			printf("# differs with split %d: %s / %s\n", k,
			    part.to_tls, part.why);
	}
	ok(eq, "  the same split at every byte and byte by byte");
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

#define MUST_TLS	"530 5.7.0 Must issue a STARTTLS command first\r\n"

static void
lmtp(void)
{
	static const struct step good[] = {
		{ 'b', "220 lmtp.example LMTP ready\r\n" },
		{ 'c', "LHLO client\r\n" },
		{ 'b', "250-lmtp.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n" },
		{ 'c', "EHLO x\r\nHELO x\r\nMAIL FROM:<a@b>\r\nSTARTTLS\r\n" },
		END
	}, inject[] = {
		{ 'b', "220 b\r\n" }, { 'c', "STARTTLS\r\nRSET\r\n" }, END
	}, inject_later[] = {
		{ 'b', "220 b\r\n" }, { 'c', "STARTTLS\r\n" }, { 'c', "RSET\r\n" },
		END
	}, two_rcpt[] = {
		{ 'b', "220 b\r\n" },
		{ 'c', "LHLO c\r\n" }, { 'b', "250 b\r\n" },
		{ 'c', "MAIL FROM:<a@b>\r\n" }, { 'b', "250 ok\r\n" },
		{ 'c', "RCPT TO:<x@b>\r\n" }, { 'b', "250 ok\r\n" },
		{ 'c', "RCPT TO:<y@b>\r\n" }, { 'b', "250 ok\r\n" },
		{ 'c', "RCPT TO:<z@b>\r\n" }, { 'b', "550 no such user\r\n" },
		{ 'c', "DATA\r\n" }, { 'b', "354 go\r\n" },
		{ 'c', "body\r\n.\r\nQUIT\r\n" }, { 'b', "250 2.0.0 <x@b> ok\r\n" },
		END
	}, two_replies[] = {
		{ 'b', "220 b\r\n" },
		{ 'c', "MAIL FROM:<a@b>\r\n" }, { 'b', "250 ok\r\n" },
		{ 'c', "RCPT TO:<x@b>\r\n" }, { 'b', "250 ok\r\n" },
		{ 'c', "RCPT TO:<y@b>\r\n" }, { 'b', "250 ok\r\n" },
		{ 'c', "DATA\r\n" }, { 'b', "354 go\r\n" },
		{ 'c', "body\r\n.\r\nQUIT\r\n" }, { 'b', "250 2.0.0 <x@b> ok\r\n" },
		{ 'b', "452 4.2.2 <y@b> over quota\r\n" }, { 'b', "221 bye\r\n" },
		END
	};
	static struct step longline[] = {
		{ 'b', "220 b\r\n" }, { 'c', NULL }, END
	};
	char	*s;

	client("lmtp: LHLO, STARTTLS", PROTO_LMTP, 0,
	    "220 lmtp.example LMTP ready\r\n250-lmtp.example\r\n"
	    "250-PIPELINING\r\n250 STARTTLS\r\n220 2.0.0 Begin TLS\r\n",
	    SWITCH, "LHLO localhost\r\nSTARTTLS\r\n",
	    "220 lmtp.example LMTP ready\r\n", NULL);
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
	server("lmtp: --allow-plain: QUIT waits for a reply per recipient",
	    PROTO_LMTP, 1, two_rcpt, PENDING, NULL, "LHLO c\r\n"
	    "MAIL FROM:<a@b>\r\nRCPT TO:<x@b>\r\nRCPT TO:<y@b>\r\n"
	    "RCPT TO:<z@b>\r\nDATA\r\nbody\r\n.\r\n", NULL);
	server("lmtp: --allow-plain: after the last reply QUIT goes",
	    PROTO_LMTP, 1, two_replies, PENDING, "220 b\r\n250 ok\r\n"
	    "250 ok\r\n250 ok\r\n354 go\r\n250 2.0.0 <x@b> ok\r\n"
	    "452 4.2.2 <y@b> over quota\r\n221 bye\r\n", "MAIL FROM:<a@b>\r\n"
	    "RCPT TO:<x@b>\r\nRCPT TO:<y@b>\r\nDATA\r\nbody\r\n.\r\nQUIT\r\n",
	    NULL);
	longline[1].bytes = s = repeat("LHLO ", "x", 5000, "\r\n");
	server("lmtp: a 5000-byte command", PROTO_LMTP, 0, longline, FAIL,
	    NULL, "", "longer than 4096");
	free(s);
}

#define NNTP_CAPS	"101 Capability list:\r\nVERSION 2\r\nREADER\r\n"

static void
nntp(void)
{
	static const struct step good[] = {
		{ 'b', "200 news.example ready\r\n" },
		{ 'c', "CAPABILITIES\r\n" },
		{ 'b', NNTP_CAPS "AUTHINFO USER\r\nCOMPRESS DEFLATE\r\n.\r\n" },
		{ 'c', "AUTHINFO USER x\r\nauthinfo pass y\r\nCOMPRESS DEFLATE\r\n"
		    "STARTTLS\r\n" },
		END
	}, listed[] = {
		{ 'b', "201 ready\r\n" }, { 'c', "CAPABILITIES\r\n" },
		{ 'b', NNTP_CAPS "STARTTLS\r\n.\r\n" }, END
	}, plain[] = {
		{ 'b', "200 ready\r\n" }, { 'c', "CAPABILITIES\r\n" },
		{ 'b', NNTP_CAPS "AUTHINFO USER\r\n.\r\n" },
		{ 'c', "AUTHINFO USER x\r\n" }, { 'b', "381 more\r\n" }, END
	}, groups[] = {
		{ 'b', "200 ready\r\n" },
		{ 'c', "GROUP a\r\nLISTGROUP a\r\nDATE\r\n" },
		{ 'b', "211 2 1 2 a\r\n" },
		{ 'b', "211 2 1 2 a list follows\r\n1\r\n" },
		END
	}, groups_done[] = {
		{ 'b', "200 ready\r\n" },
		{ 'c', "GROUP a\r\nLISTGROUP a\r\nDATE\r\n" },
		{ 'b', "211 2 1 2 a\r\n" },
		{ 'b', "211 2 1 2 a list follows\r\n1\r\n2\r\n.\r\n" },
		END
	}, post[] = {
		{ 'b', "200 ready\r\n" }, { 'c', "POST\r\n" },
		{ 'b', "340 send it\r\n" },
		{ 'c', "From: a\r\n\r\nSTARTTLS\r\n..\r\n.\r\nQUIT\r\n" },
		{ 'b', "240 posted\r\n" }, END
	}, inject[] = {
		{ 'b', "200 ready\r\n" }, { 'c', "STARTTLS\r\nAUTHINFO USER x\r\n" },
		END
	}, inject_later[] = {
		{ 'b', "200 ready\r\n" }, { 'c', "STARTTLS\r\n" },
		{ 'c', "AUTHINFO USER x\r\n" }, END
	};
	static struct step longline[] = {
		{ 'b', NULL }, END
	};
	char	*s;

	client("nntp: CAPABILITIES, STARTTLS, 382", PROTO_NNTP, 0,
	    "200 news.example ready\r\n" NNTP_CAPS "STARTTLS\r\n.\r\n"
	    "382 Continue with TLS negotiation\r\n", SWITCH,
	    "CAPABILITIES\r\nSTARTTLS\r\n", "200 news.example ready\r\n", NULL);
	client("nntp: a 201 greeting, lower case", PROTO_NNTP, 0,
	    "201 no posting\n101 caps\nstarttls\n.\n382 go\n", SWITCH,
	    "CAPABILITIES\r\nSTARTTLS\r\n", "201 no posting\r\n", NULL);
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
	    "COMPRESS neither", PROTO_NNTP, 0, good, SWITCH,
	    "200 news.example ready\r\n"
	    NNTP_CAPS "AUTHINFO\r\nSTARTTLS\r\n.\r\n"
	    "483 Encryption required: issue STARTTLS first\r\n"
	    "483 Encryption required: issue STARTTLS first\r\n"
	    "502 COMPRESS is not available before STARTTLS\r\n"
	    "382 Continue with TLS negotiation\r\n", "CAPABILITIES\r\n", NULL);
	server("nntp: STARTTLS listed once", PROTO_NNTP, 0, listed, PENDING,
	    "201 ready\r\n" NNTP_CAPS "STARTTLS\r\n.\r\n", "CAPABILITIES\r\n",
	    NULL);
	server("nntp: --allow-plain: AUTHINFO listed and forwarded", PROTO_NNTP,
	    1, plain, PENDING, "200 ready\r\n" NNTP_CAPS "AUTHINFO USER\r\n"
	    "STARTTLS\r\n.\r\n381 more\r\n",
	    "CAPABILITIES\r\nAUTHINFO USER x\r\n", NULL);
	server("nntp: LISTGROUP's 211 is multi-line: DATE waits", PROTO_NNTP, 0,
	    groups, PENDING, NULL, "GROUP a\r\nLISTGROUP a\r\n", NULL);
	server("nntp: after its '.', DATE goes", PROTO_NNTP, 0, groups_done,
	    PENDING, NULL, "GROUP a\r\nLISTGROUP a\r\nDATE\r\n", NULL);
	server("nntp: POST: the article is not commands", PROTO_NNTP, 0, post,
	    PENDING, "200 ready\r\n340 send it\r\n240 posted\r\n",
	    "POST\r\nFrom: a\r\n\r\nSTARTTLS\r\n..\r\n.\r\nQUIT\r\n", NULL);
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
		{ 'b', SIEVE_CAPS "OK \"ready\"\r\n" },
		{ 'c', "Authenticate \"PLAIN\" \"AGEAYg==\"\r\nSTARTTLS\r\n" },
		END
	}, capability[] = {
		{ 'b', SIEVE_CAPS "OK \"ready\"\r\n" }, { 'c', "CAPABILITY\r\n" },
		{ 'b', SIEVE_CAPS "OK \"done\"\r\n" }, { 'c', "STARTTLS\r\n" },
		END
	}, listed[] = {
		{ 'b', "\"STARTTLS\"\r\n" SIEVE_CAPS "OK\r\n" },
		{ 'c', "STARTTLS\r\n" }, END
	}, literal[] = {
		{ 'b', SIEVE_CAPS "OK\r\n" }, { 'c', "GETSCRIPT \"a\"\r\nLOGOUT\r\n" },
		{ 'b', "{6}\r\nOK x\r\n\r\n" }, END
	}, literal_done[] = {
		{ 'b', SIEVE_CAPS "OK\r\n" }, { 'c', "GETSCRIPT \"a\"\r\nLOGOUT\r\n" },
		{ 'b', "{6}\r\nOK x\r\n\r\nOK\r\n" }, END
	}, plain_caps[] = {
		{ 'b', SIEVE_CAPS "OK\r\n" }, END
	}, putscript[] = {
		{ 'b', SIEVE_CAPS "OK\r\n" },
		{ 'c', "PUTSCRIPT \"a\" {10+}\r\nSTARTTLS\r\n\r\n" }, END
	}, sasl[] = {
		{ 'b', SIEVE_CAPS "OK\r\n" },
		{ 'c', "AUTHENTICATE \"DIGEST-MD5\"\r\n" },
		{ 'b', "\"Y2hhbGxlbmdl\"\r\n" }, { 'c', "\"cmVzcG9uc2U=\"\r\n" },
		{ 'b', "OK\r\n" }, { 'c', "LOGOUT\r\n" }, END
	}, inject[] = {
		{ 'b', SIEVE_CAPS "OK\r\n" }, { 'c', "STARTTLS\r\nLOGOUT\r\n" }, END
	}, inject_later[] = {
		{ 'b', SIEVE_CAPS "OK\r\n" }, { 'c', "STARTTLS\r\n" },
		{ 'c', "AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n" }, END
	};
	static struct step longline[] = {
		{ 'b', SIEVE_CAPS "OK\r\n" }, { 'c', NULL }, END
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
	    0, listed, SWITCH, "\"STARTTLS\"\r\n" SIEVE_PRE "OK\r\n"
	    "OK \"Begin TLS negotiation now\"\r\n"
	    SIEVE_CAPS "OK \"TLS negotiation successful\"\r\n", "", NULL);
	server("sieve: --allow-plain: the SASL mechanisms are kept",
	    PROTO_SIEVE, 1, plain_caps, PENDING,
	    SIEVE_CAPS "\"STARTTLS\"\r\nOK\r\n", "", NULL);
	server("sieve: a literal in a reply that looks like its end",
	    PROTO_SIEVE, 0, literal, PENDING, NULL, "GETSCRIPT \"a\"\r\n", NULL);
	server("sieve: after the reply's OK, LOGOUT goes", PROTO_SIEVE, 0,
	    literal_done, PENDING, NULL, "GETSCRIPT \"a\"\r\nLOGOUT\r\n", NULL);
	server("sieve: --allow-plain: a script literal is not a command",
	    PROTO_SIEVE, 1, putscript, PENDING, NULL,
	    "PUTSCRIPT \"a\" {10+}\r\nSTARTTLS\r\n\r\n", NULL);
	server("sieve: --allow-plain: a SASL challenge and its answer",
	    PROTO_SIEVE, 1, sasl, PENDING, NULL, "AUTHENTICATE \"DIGEST-MD5\"\r\n"
	    "\"cmVzcG9uc2U=\"\r\nLOGOUT\r\n", NULL);
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
