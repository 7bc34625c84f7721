/*
 * The harness of the state-machine tests, both roles.  A dialogue is a list
 * of steps, bytes from the TLS-side peer or from the plain side, fed whole,
 * then every step cut in two at each byte, then byte by byte: every way must
 * give both sides the same bytes and the same outcome.  Header-only, like
 * tap.h, whose counters it shares.
 */
#ifndef DIALOGUE_H
#define DIALOGUE_H

#include <stdlib.h>

#include "proto/proto.h"
#include "tap.h"

enum outcome { PENDING, SWITCH, FAIL, FALLBACK };

static const char *const outcome_names[] = {
	"PENDING", "SWITCH", "FAIL", "FALLBACK"
};

struct step {
	char		 from;		/* 't' the TLS-side peer, 'p' plain side,
					   'H' the handshake */
	const char	*bytes;
	size_t		 len;		/* 0: strlen(bytes) */
};

/* Steps that may hold NUL bytes; H: the handshake is done here. */
#define T(s)	{ 't', s, sizeof(s) - 1 }
#define P(s)	{ 'p', s, sizeof(s) - 1 }
#define H	{ 'H', "", 0 }
#define END	{ 0, NULL, 0 }

struct want {
	enum outcome	 outcome;
	const char	*to_tls;	/* NULL: not checked */
	size_t		 tls_len;
	const char	*to_plain;
	size_t		 plain_len;
	const char	*why;		/* a piece of the reason */
};

#define B(s)	s, sizeof(s) - 1
#define ANY	NULL, 0

struct dbuf {
	char	 b[8192];
	size_t	 len;
};

struct result {
	enum outcome	 outcome;
	int		 relayed;	/* handed over inside TLS */
	int		 watched;	/* watched inside TLS for good */
	struct dbuf	 to_tls, to_plain;
	char		 why[512];
};

static TAP_UNUSED void
dbuf_add(struct dbuf *b, const char *data, size_t len)
{
	if (len > sizeof(b->b) - b->len)
		len = sizeof(b->b) - b->len;
	if (len > 0)
		memcpy(b->b + b->len, data, len);
	b->len += len;
}

static TAP_UNUSED void
collect(struct result *r, struct proto_out *out)
{
	dbuf_add(&r->to_tls, out->to_tls.data, out->to_tls.len);
	dbuf_add(&r->to_plain, out->to_plain.data, out->to_plain.len);
	if (out->why[0] != '\0')
		snprintf(r->why, sizeof(r->why), "%s", out->why);
	if (out->fail)
		r->outcome = FAIL;
	else if (out->start_tls)
		r->outcome = SWITCH;
	else if (out->fallback)
		r->outcome = FALLBACK;
	if (out->relay)
		r->relayed = 1;
	if (out->watch)
		r->watched = 1;
	proto_out_free(out);
}

static TAP_UNUSED size_t
step_len(const struct step *st)
{
	return st->len ? st->len : strlen(st->bytes);
}

/*
 * split: 0 whole, -1 byte by byte, k > 0 every step cut at byte k.  flag:
 * --opportunistic in the client role, --allow-plain in the server role.
 * Every step goes to the module as the session would hand it over, before
 * and after the switch alike: the rules are the module's and the
 * framework's (proto.c), not the harness's.  An 'H' step is the handshake;
 * without one, it comes after the last step if the module switched.
 */
static TAP_UNUSED void
run(enum proto proto, enum role role, int flag, const struct step *steps,
    int split, struct result *r)
{
	/* EHLO name localhost; the server's name (HTTP Host) mail.example. */
	struct proto_cfg	 pc = { proto, role, "localhost", "mail.example",
				    role == ROLE_CLIENT && flag,
				    role == ROLE_SERVER && flag, 0, NULL };
	struct negotiation	*p = proto_new(&pc);
	struct proto_out	 out;
	const struct step	*st;
	size_t			 i, cut, len;
	int			 handshake = 0;

	memset(r, 0, sizeof(*r));
	proto_out_init(&out);
	proto_start(p, &out);
	collect(r, &out);
	for (st = steps; st->from != 0 && r->outcome != FAIL; st++) {
		if (st->from == 'H') {
			handshake = 1;
			proto_out_init(&out);
			proto_established(p, &out);
			collect(r, &out);
			continue;
		}
		len = step_len(st);
		for (i = 0; i < len && r->outcome != FAIL; i += cut) {
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
	}
	if (r->outcome == SWITCH && !handshake) {
		proto_out_init(&out);
		proto_established(p, &out);
		collect(r, &out);
	}
	proto_free(p);
}

static TAP_UNUSED int
same_result(const struct result *a, const struct result *b)
{
	return a->outcome == b->outcome && a->to_tls.len == b->to_tls.len &&
	    memcmp(a->to_tls.b, b->to_tls.b, a->to_tls.len) == 0 &&
	    a->to_plain.len == b->to_plain.len &&
	    memcmp(a->to_plain.b, b->to_plain.b, a->to_plain.len) == 0;
}

/* Text as it is, binary in hex. */
static TAP_UNUSED void
show(const char *what, const struct dbuf *b)
{
	size_t	i;

	for (i = 0; i < b->len && b->b[i] != '\0'; i++)
		;
	if (i == b->len) {
		printf("# %s: '%.*s'\n", what, (int)b->len, b->b);
		return;
	}
	printf("# %s (%zu bytes):", what, b->len);
	for (i = 0; i < b->len && i < 64; i++)
		printf(" %02x", (unsigned char)b->b[i]);
	putchar('\n');
}

static TAP_UNUSED void
expect(const struct dbuf *got, const char *want, size_t len, const char *what)
{
	if (want == NULL)
		return;
	if (!ok(got->len == len && memcmp(got->b, want, len) == 0, "%s",
	    what)) {
		show("got", got);
		printf("# want: '%.*s'\n", (int)len, want);
	}
}

static TAP_UNUSED void
dialogue(const char *what, enum proto proto, enum role role, int flag,
    const struct step *steps, struct want w)
{
	struct result	whole, part;
	size_t		maxlen = 0;
	int		same = 1;
	int		client = role == ROLE_CLIENT;

	run(proto, role, flag, steps, 0, &whole);
	if (!ok(whole.outcome == w.outcome, "%s: %s", what,
	    outcome_names[w.outcome]))
		printf("# got %s: %s\n", outcome_names[whole.outcome],
		    whole.why);
	expect(&whole.to_tls, w.to_tls, w.tls_len, client ?
	    "  what the server got" : "  what the client got");
	expect(&whole.to_plain, w.to_plain, w.plain_len, client ?
	    "  what the plain side got" : "  what the backend got");
	if (w.why != NULL && !ok(strstr(whole.why, w.why) != NULL,
	    "  the reason says '%s'", w.why))
		printf("# got '%s'\n", whole.why);
	for (const struct step *st = steps; st->bytes != NULL; st++)
		if (step_len(st) > maxlen)
			maxlen = step_len(st);
	for (int k = -1; k < (int)maxlen && same; k++) {
		if (k == 0)
			continue;
		run(proto, role, flag, steps, k, &part);
		if (!(same = same_result(&part, &whole)))
			printf("# differs with split %d: %s / %s\n", k,
			    outcome_names[part.outcome], part.why);
	}
	ok(same, "  the same split at every byte and byte by byte");
}

static TAP_UNUSED struct want
want_str(enum outcome outcome, const char *to_tls, const char *to_plain,
    const char *why)
{
	struct want	w = { outcome, to_tls, to_tls ? strlen(to_tls) : 0,
			    to_plain, to_plain ? strlen(to_plain) : 0, why };

	return w;
}

/* Client role, text: the server's bytes in one string. */
static TAP_UNUSED void
client(const char *what, enum proto proto, int opportunistic,
    const char *server, enum outcome outcome, const char *sent,
    const char *plain, const char *why)
{
	struct step	steps[] = { { 't', server, strlen(server) }, END };

	dialogue(what, proto, ROLE_CLIENT, opportunistic, steps,
	    want_str(outcome, sent, plain, why));
}

/* Server role, text steps. */
static TAP_UNUSED void
server(const char *what, enum proto proto, int allow_plain,
    const struct step *steps, enum outcome outcome, const char *to_client,
    const char *to_backend, const char *why)
{
	dialogue(what, proto, ROLE_SERVER, allow_plain, steps,
	    want_str(outcome, to_client, to_backend, why));
}

/* head, n times unit, tail: long lines and many lines (malloc'ed). */
static TAP_UNUSED char *
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

#endif
