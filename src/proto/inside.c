/*
 * Inside TLS: each direction cut into lines for a module that keeps
 * watching (the server role refuses a second STARTTLS and keeps the switch
 * out of capability lists; the client role reads the server's first words
 * inside TLS).  Lines are handed over whole up to INSIDE_MAX_LINE; a longer
 * one (a message body, a big FETCH) goes on as it comes and the module
 * sees only its end, where a literal is announced.  Literals and other
 * counted data pass untouched (inside_raw); a module that does not watch
 * for good is told where they end, with a line of length 0.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto_impl.h"

static struct tline *
side(struct negotiation *p, int tls_side)
{
	return tls_side ? &p->itl : &p->ipl;
}

/* What a module lets through goes on to the other side. */
void
inside_pass(struct negotiation *p, int tls_side, const char *s, size_t len,
    struct proto_out *out)
{
	(void)p;
	pbuf_add(tls_side ? &out->to_plain : &out->to_tls, s, len);
}

/* The next n bytes from this side are data (a literal), not lines. */
void
inside_raw(struct negotiation *p, int tls_side, size_t n)
{
	struct tline	*t = side(p, tls_side);

	t->raw = n > SIZE_MAX - t->raw ? SIZE_MAX : t->raw + n;
}

/* Nothing of a line or literal from this side is under way. */
int
inside_at_start(struct negotiation *p, int tls_side)
{
	struct tline	*t = side(p, tls_side);

	return t->held.len == 0 && !t->long_line && t->raw == 0;
}

/* The last bytes of a long line, for the module to see where it ends. */
static void
keep_tail(struct tline *t, const char *s, size_t len)
{
	size_t	keep;

	if (len == 0)
		return;		/* s may be NULL: nothing held */
	if (len >= INSIDE_TAIL) {
		memcpy(t->tail, s + len - INSIDE_TAIL, INSIDE_TAIL);
		t->taillen = INSIDE_TAIL;
		return;
	}
	keep = t->taillen + len > INSIDE_TAIL ? INSIDE_TAIL - len : t->taillen;
	memmove(t->tail, t->tail + t->taillen - keep, keep);
	memcpy(t->tail + keep, s, len);
	t->taillen = keep + len;
}

/* A line from a side, to the module's op for that side. */
static void
to_module(struct negotiation *p, int tls_side, const struct iline *l,
    struct proto_out *out)
{
	if (tls_side)
		p->ops->inside_tls(p, l, out);
	else
		p->ops->inside_plain(p, l, out);
}

static void
hand_over(struct negotiation *p, int tls_side, const char *s, size_t len,
    struct proto_out *out)
{
	struct iline	l = { s, len, s, len, 1 };

	to_module(p, tls_side, &l, out);
}

/*
 * A line too long to hold goes on now (only where the module watches for
 * good: a client-role exchange keeps nothing of it); the module sees its
 * first and last bytes at its end.
 */
static void
pass_long(struct negotiation *p, int tls_side, const char *s, size_t len,
    int ends, struct proto_out *out)
{
	struct tline	*t = side(p, tls_side);
	struct iline	 l;

	if (!t->long_line) {
		t->long_line = 1;
		t->taillen = 0;
		t->headlen = t->held.len < INSIDE_TAIL ? t->held.len :
		    INSIDE_TAIL;
		if (t->headlen > 0)	/* else held.data may be NULL */
			memcpy(t->head, t->held.data, t->headlen);
		if (t->headlen < INSIDE_TAIL) {
			size_t	more = INSIDE_TAIL - t->headlen;

			more = more < len ? more : len;
			memcpy(t->head + t->headlen, s, more);
			t->headlen += more;
		}
		if (p->watching)
			inside_pass(p, tls_side, t->held.data, t->held.len,
			    out);
		keep_tail(t, t->held.data, t->held.len);
		free(t->held.data);
		memset(&t->held, 0, sizeof(t->held));
	}
	if (p->watching)
		inside_pass(p, tls_side, s, len, out);
	keep_tail(t, s, len);
	if (ends) {
		t->long_line = 0;
		l.s = t->tail;
		l.len = t->taillen;
		l.head = t->head;
		l.headlen = t->headlen;
		l.whole = 0;
		to_module(p, tls_side, &l, out);
	}
}

/* What a side has waiting goes on (after a hand-over), or is dropped. */
static void
flush_data(struct negotiation *p, int tls_side, struct proto_out *out)
{
	struct tline	*t = side(p, tls_side);

	if (p->phase == RELAY)
		inside_pass(p, tls_side, t->held.data, t->held.len, out);
	/* Idle sessions keep no buffer. */
	free(t->held.data);
	memset(&t->held, 0, sizeof(t->held));
}

/*
 * A module without lines (ops.inside_data) takes whole messages: what it
 * has not used yet waits here, from either side, until it hands over; then
 * it goes on.
 */
static void
feed_data(struct negotiation *p, int tls_side, const char *data, size_t len,
    struct proto_out *out)
{
	struct tline	*t = side(p, tls_side);
	size_t		 used;

	pbuf_add(&t->held, data, len);
	while (p->phase == INSIDE && t->held.len > 0) {
		used = p->ops->inside_data(p, tls_side, t->held.data,
		    t->held.len, out);
		if (p->phase == FAILED || used == 0)
			break;
		memmove(t->held.data, t->held.data + used, t->held.len - used);
		t->held.len -= used;
		if (out->relay)
			p->phase = RELAY;
	}
	if (p->phase == RELAY) {
		flush_data(p, tls_side, out);
		flush_data(p, !tls_side, out);
	} else if (t->held.len == 0)
		flush_data(p, tls_side, out);
}

void
inside_feed(struct negotiation *p, int tls_side, const char *data, size_t len,
    struct proto_out *out)
{
	struct tline	*t = side(p, tls_side);
	const char	*nl;
	size_t		 n;

	if (p->ops->inside_data != NULL) {
		feed_data(p, tls_side, data, len, out);
		return;
	}
	while (len > 0 && p->phase == INSIDE) {
		if (t->raw > 0) {
			n = t->raw < len ? t->raw : len;
			if (p->watching)
				inside_pass(p, tls_side, data, n, out);
			/* A client-role exchange hears where its data ends. */
			if ((t->raw -= n) == 0 && !p->watching)
				hand_over(p, tls_side, data + n, 0, out);
		} else {
			nl = memchr(data, '\n', len);
			n = nl != NULL ? (size_t)(nl - data) + 1 : len;
			if (t->long_line || t->held.len + n > INSIDE_MAX_LINE)
				pass_long(p, tls_side, data, n, nl != NULL,
				    out);
			else if (nl != NULL && t->held.len == 0)
				hand_over(p, tls_side, data, n, out);
			else {
				pbuf_add(&t->held, data, n);
				if (nl != NULL) {
					hand_over(p, tls_side, t->held.data,
					    t->held.len, out);
					/* Idle sessions keep no buffer. */
					free(t->held.data);
					memset(&t->held, 0, sizeof(t->held));
				}
			}
		}
		data += n;
		len -= n;
		/* The module handed over (the client role's last words). */
		if (out->relay && p->phase == INSIDE)
			p->phase = RELAY;
	}
	/* Handed over in the middle: the rest goes on as it is. */
	if (len > 0 && p->phase == RELAY)
		pbuf_add(tls_side ? &out->to_plain : &out->to_tls, data, len);
}

void
inside_free(struct negotiation *p)
{
	free(p->itl.held.data);
	free(p->ipl.held.data);
}

static int
enqueue(struct cmdq *q, int kind)
{
	unsigned	last;

	if (q->nruns > 0) {
		last = (q->first + q->nruns - 1) % CMDQ_RUNS;
		if (q->run[last].kind == kind && q->run[last].n < UINT_MAX) {
			q->run[last].n++;
			return 0;
		}
	}
	if (q->nruns == CMDQ_RUNS)
		return -1;
	last = (q->first + q->nruns++) % CMDQ_RUNS;
	q->run[last].kind = (unsigned char)kind;
	q->run[last].n = 1;
	return 0;
}

/* The kind of the oldest command not yet answered, or -1. */
/* A forwarded command's kind; too many runs in flight end the session. */
void
cmdq_push(struct negotiation *p, struct cmdq *q, int kind,
    struct proto_out *out)
{
	if (enqueue(q, kind) == -1)
		proto_fail(p, out, "more than %d kinds of command in flight",
		    CMDQ_RUNS);
}

/* Our own answers (of this kind) that come next among the backend's. */
void
cmdq_answer(struct cmdq *q, int kind, const char *answer,
    struct proto_out *out)
{
	while (cmdq_head(q) == kind) {
		pbuf_str(&out->to_tls, answer);
		cmdq_pop(q);
	}
}

int
cmdq_head(const struct cmdq *q)
{
	return q->nruns > 0 ? q->run[q->first].kind : -1;
}

void
cmdq_pop(struct cmdq *q)
{
	if (q->nruns == 0)
		return;
	if (--q->run[q->first].n == 0) {
		q->first = (q->first + 1) % CMDQ_RUNS;
		q->nruns--;
	}
}
