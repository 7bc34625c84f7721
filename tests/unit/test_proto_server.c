/*
 * The STARTTLS state machines, server role: a dialogue is a list of steps,
 * each bytes from the client (TLS side) or from the backend (plain side).
 * Each is fed whole, and split in two at every byte and byte by byte; every
 * way must give the client and the backend the same bytes, and the same
 * outcome.
 */
#include "config.h"

#include <stdlib.h>

#include "proto/proto.h"
#include "tap.h"

enum outcome { PENDING, SWITCH, FAIL, FALLBACK };

struct step {
	char		 from;		/* 'c' client, 'b' backend */
	const char	*bytes;
};

struct result {
	enum outcome	 outcome;
	char		 to_client[2048];
	char		 to_backend[2048];
	char		 why[512];
};

static void
collect(struct result *r, struct proto_out *out)
{
	strncat(r->to_client, out->to_tls.data ? out->to_tls.data : "",
	    sizeof(r->to_client) - strlen(r->to_client) - 1);
	strncat(r->to_backend, out->to_plain.data ? out->to_plain.data : "",
	    sizeof(r->to_backend) - strlen(r->to_backend) - 1);
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
run(enum proto proto, int allow_plain, const struct step *steps, int split,
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
	if (r->outcome == SWITCH) {
		proto_out_init(&out);
		proto_established(p, &out);
		collect(r, &out);
	}
	proto_free(p);
}

static const char *const names[] = { "PENDING", "SWITCH", "FAIL", "FALLBACK" };

static void
dialogue(const char *what, enum proto proto, int allow_plain,
    const struct step *steps, enum outcome want, const char *to_client,
    const char *to_backend, const char *why)
{
	struct result	whole, part;
	size_t		maxlen = 0;
	int		same = 1;

	run(proto, allow_plain, steps, 0, &whole);
	if (!ok(whole.outcome == want, "%s: %s", what, names[want]))
		printf("# got %s: %s\n", names[whole.outcome], whole.why);
	if (to_client != NULL)
		is_str(whole.to_client, to_client, "  what the client got");
	if (to_backend != NULL)
		is_str(whole.to_backend, to_backend, "  what the backend got");
	if (why != NULL && !ok(strstr(whole.why, why) != NULL,
	    "  the reason says '%s'", why))
		printf("# got '%s'\n", whole.why);
	for (const struct step *st = steps; st->bytes != NULL; st++)
		if (strlen(st->bytes) > maxlen)
			maxlen = strlen(st->bytes);
	for (int k = -1; k < (int)maxlen && same; k++) {
		if (k == 0)
			continue;
		run(proto, allow_plain, steps, k, &part);
		same = part.outcome == whole.outcome &&
		    strcmp(part.to_client, whole.to_client) == 0 &&
		    strcmp(part.to_backend, whole.to_backend) == 0;
		if (!same)
			printf("# differs with split %d: %s / %s\n", k,
			    part.to_client, part.why);
	}
	ok(same, "  the same split at every byte and byte by byte");
}

#define END	{ 0, NULL }

static void
smtp(void)
{
	static const struct step good[] = {
		{ 'b', "220 backend ESMTP\r\n" },
		{ 'c', "EHLO client\r\n" },
		{ 'b', "250-backend\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 HELP\r\n" },
		{ 'c', "STARTTLS\r\n" },
		END
	}, oneline[] = {
		{ 'b', "220 b\r\n" }, { 'c', "EHLO c\r\n" }, { 'b', "250 b\r\n" },
		END
	}, refused[] = {
		{ 'b', "220 b\r\n" },
		{ 'c', "MAIL FROM:<a@b>\r\nAUTH PLAIN AAAA\r\nNOOP\r\n" },
		{ 'b', "250 ok\r\n" },
		END
	}, pipelined[] = {
		{ 'b', "220 b\r\n" },
		{ 'c', "EHLO c\r\nNOOP\r\n" },
		{ 'b', "250 b\r\n" }, { 'b', "250 ok\r\n" },
		END
	}, inject[] = {
		{ 'b', "220 b\r\n" }, { 'c', "STARTTLS\r\nRSET\r\n" }, END
	}, inject_later[] = {
		{ 'b', "220 b\r\n" }, { 'c', "STARTTLS\r\n" }, { 'c', "RSET\r\n" },
		END
	}, plain[] = {
		{ 'b', "220 b\r\n" },
		{ 'c', "MAIL FROM:<a@b>\r\n" }, { 'b', "250 ok\r\n" },
		{ 'c', "DATA\r\n" }, { 'b', "354 go\r\n" },
		{ 'c', "STARTTLS\r\nbody\r\n.\r\n" }, { 'b', "250 queued\r\n" },
		END
	};

	dialogue("smtp: EHLO gets STARTTLS (and loses CHUNKING)", PROTO_SMTP, 0,
	    good, SWITCH, "220 backend ESMTP\r\n250-backend\r\n250-PIPELINING\r\n"
	    "250-HELP\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n",
	    "EHLO client\r\n", NULL);
	dialogue("smtp: a one-line EHLO reply", PROTO_SMTP, 0, oneline, PENDING,
	    "220 b\r\n250-b\r\n250 STARTTLS\r\n", "EHLO c\r\n", NULL);
	dialogue("smtp: MAIL and AUTH before TLS are refused", PROTO_SMTP, 0,
	    refused, PENDING, "220 b\r\n"
	    "530 5.7.0 Must issue a STARTTLS command first\r\n"
	    "530 5.7.0 Must issue a STARTTLS command first\r\n250 ok\r\n",
	    "NOOP\r\n", NULL);
	dialogue("smtp: pipelined commands keep their order", PROTO_SMTP, 0,
	    pipelined, PENDING, "220 b\r\n250-b\r\n250 STARTTLS\r\n250 ok\r\n",
	    "EHLO c\r\nNOOP\r\n", NULL);
	dialogue("smtp: STARTTLS\\r\\nRSET in one write (command injection)",
	    PROTO_SMTP, 0, inject, FAIL, NULL, "", "injection");
	dialogue("smtp: RSET after STARTTLS, before the handshake", PROTO_SMTP,
	    0, inject_later, FAIL, NULL, "", "injection");
	dialogue("smtp: --allow-plain forwards, DATA lines go through",
	    PROTO_SMTP, 1, plain, PENDING, NULL,
	    "MAIL FROM:<a@b>\r\nDATA\r\nSTARTTLS\r\nbody\r\n.\r\n", NULL);
}

static void
imap(void)
{
	static const struct step good[] = {
		{ 'b', "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n" },
		{ 'c', "a1 CAPABILITY\r\n" },
		{ 'b', "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n" },
		{ 'c', "a2 LOGIN u p\r\na3 AUTHENTICATE PLAIN\r\n"
		    "a5 SELECT INBOX\r\na4 STARTTLS\r\n" },
		END
	}, inject[] = {
		{ 'b', "* OK ready\r\n" },
		{ 'c', "a STARTTLS\r\nb LOGIN u p\r\n" }, END
	}, literal[] = {
		{ 'b', "* OK ready\r\n" }, { 'c', "a ID {4}\r\n" }, END
	};

	dialogue("imap: STARTTLS and LOGINDISABLED added, LOGIN and SELECT "
	    "refused",
	    PROTO_IMAP, 0, good, SWITCH,
	    "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN STARTTLS LOGINDISABLED] ready\r\n"
	    "* CAPABILITY IMAP4rev1 AUTH=PLAIN STARTTLS LOGINDISABLED\r\n"
	    "a1 OK done\r\n"
	    "a2 NO [PRIVACYREQUIRED] Must issue STARTTLS first\r\n"
	    "a3 NO [PRIVACYREQUIRED] Must issue STARTTLS first\r\n"
	    "a5 NO [PRIVACYREQUIRED] Must issue STARTTLS first\r\n"
	    "a4 OK Begin TLS negotiation now\r\n", "a1 CAPABILITY\r\n", NULL);
	dialogue("imap: a STARTTLS\\r\\nb LOGIN in one write (command injection)",
	    PROTO_IMAP, 0, inject, FAIL, NULL, "", "injection");
	dialogue("imap: literals before TLS are refused", PROTO_IMAP, 0,
	    literal, PENDING, "* OK ready\r\n"
	    "a BAD Literals are not accepted before STARTTLS\r\n", "", NULL);
}

static void
pop3(void)
{
	static const struct step good[] = {
		{ 'b', "+OK ready\r\n" },
		{ 'c', "CAPA\r\n" },
		{ 'b', "+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n" },
		{ 'c', "USER x\r\nPASS y\r\nRETR 1\r\nSTLS\r\n" },
		END
	}, inject[] = {
		{ 'b', "+OK ready\r\n" }, { 'c', "STLS\r\nUSER x\r\n" }, END
	}, plain[] = {
		{ 'b', "+OK ready\r\n" },
		{ 'c', "USER x\r\n" }, { 'b', "+OK\r\n" },
		{ 'c', "LIST\r\n" }, { 'b', "+OK 1 msg\r\n1 10\r\n.\r\n" },
		{ 'c', "QUIT\r\n" }, END
	};

	dialogue("pop3: STLS added to CAPA, USER, PASS and RETR refused",
	    PROTO_POP3, 0, good, SWITCH,
	    "+OK ready\r\n+OK\r\nUSER\r\nSASL PLAIN\r\nSTLS\r\n"
	    ".\r\n-ERR [AUTH] Must issue STLS first\r\n"
	    "-ERR [AUTH] Must issue STLS first\r\n"
	    "-ERR [AUTH] Must issue STLS first\r\n+OK Begin TLS negotiation\r\n",
	    "CAPA\r\n", NULL);
	dialogue("pop3: STLS\\r\\nUSER x in one write (command injection)",
	    PROTO_POP3, 0, inject, FAIL, NULL, "", "injection");
	dialogue("pop3: --allow-plain, a multi-line LIST", PROTO_POP3, 1, plain,
	    PENDING, "+OK ready\r\n+OK\r\n+OK 1 msg\r\n1 10\r\n.\r\n",
	    "USER x\r\nLIST\r\nQUIT\r\n", NULL);
}

static void
http(void)
{
	static const char up[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n\r\n";
	static const struct step options[] = {
		{ 'c', "OPTIONS * HTTP/1.1\r\nHost: x\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\n\r\n" }, END
	}, get[] = {
		{ 'c', "GET /a HTTP/1.1\r\nHost: x\r\nupgrade: HTTP/2.0,\r\n"
		    " TLS/1.2\r\nConnection: keep-alive, Upgrade\r\n\r\n" }, END
	}, none[] = {
		{ 'c', "GET / HTTP/1.1\r\nHost: x\r\n\r\n" }, END
	}, inject[] = {
		{ 'c', "OPTIONS * HTTP/1.1\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\n\r\nGET /b HTTP/1.1\r\n\r\n" }, END
	}, body[] = {
		{ 'c', "POST /a HTTP/1.1\r\nUpgrade: TLS/1.0\r\n"
		    "Connection: Upgrade\r\nContent-Length: 3\r\n\r\n" }, END
	};
	static const char refused[] = "HTTP/1.1 426 Upgrade Required\r\n"
	    "Upgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n"
	    "Content-Length: 0\r\n\r\n";

	dialogue("http-upgrade: OPTIONS * gets 101", PROTO_HTTP, 0, options,
	    SWITCH, up, "", NULL);
	dialogue("http-upgrade: a real request gets 101 and goes to the backend "
	    "after TLS", PROTO_HTTP, 0, get, SWITCH, up,
	    "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", NULL);
	dialogue("http-upgrade: no upgrade: 426", PROTO_HTTP, 0, none, PENDING,
	    refused, "", NULL);
	dialogue("http-upgrade: a request behind the upgrade (injection)",
	    PROTO_HTTP, 0, inject, FAIL, up, "", "injection");
	dialogue("http-upgrade: a body cannot cross the switch", PROTO_HTTP, 0,
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
