/*
 * The opening's engine: the bytes from each side are cut into lines (or
 * handed to a binary module as they are), bounded, and given to the
 * module of the protocol and role; the phase says where they go.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proto_impl.h"

static void
flush_held(struct negotiation *p, struct proto_out *out)
{
	pbuf_add(&out->to_plain, p->tl.held.data, p->tl.held.len);
	pbuf_add(&out->to_tls, p->pl.held.data, p->pl.held.len);
	p->tl.held.len = p->pl.held.len = 0;
}

static void
consume(struct lines *l, size_t n)
{
	memmove(l->held.data, l->held.data + n, l->held.len - n);
	l->held.len -= n;
}

struct negotiation *
proto_new(const struct proto_cfg *cfg)
{
	struct negotiation	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->cfg = *cfg;
	if ((p->ops = proto_ops_of(cfg->proto, cfg->role)) == NULL ||
	    (p->ops->size > 0 &&
	    (p->priv = calloc(1, p->ops->size)) == NULL)) {
		free(p);
		return NULL;
	}
	return p;
}

void
proto_free(struct negotiation *p)
{
	if (p == NULL)
		return;
	free(p->greeting.data);
	free(p->caps.data);
	if (p->priv != NULL && p->ops->free != NULL)
		p->ops->free(p);
	free(p->priv);
	free(p->tl.held.data);
	free(p->pl.held.data);
	inside_free(p);
	free(p);
}

void
proto_start(struct negotiation *p, struct proto_out *out)
{
	if (p->ops->start != NULL)
		p->ops->start(p, out);
}

/* Literals from this side are read as part of the line (*lit bytes). */
static int
inline_literal(struct negotiation *p, int tls_side, const char *s, size_t len,
    size_t *lit, int *sync)
{
	*sync = 0;
	if ((*lit = proto_literal_size(s, len, sync)) == 0)
		return 0;
	if (!tls_side)
		return (p->ops->literals & LITERALS_PLAIN) != 0;
	return (p->ops->literals & LITERALS_TLS) ||
	    ((p->ops->literals & LITERALS_TLS_NONSYNC) && !*sync);
}

/*
 * Drop what is left of a refused literal, and then of its line, from the
 * front of data; returns how many bytes went.
 */
static size_t
skip_refused(struct lines *l, const char *data, size_t len)
{
	const char	*nl;
	size_t		 n = 0, k;

	if (l->skip > 0) {
		k = len < l->skip ? len : l->skip;
		l->skip -= k;
		n = k;
	}
	if (l->skip == 0 && l->skip_line && n < len) {
		if ((nl = memchr(data + n, '\n', len - n)) == NULL)
			return len;
		l->skip_line = 0;
		n = (size_t)(nl - data) + 1;
	}
	return n;
}

/*
 * A literal of lit bytes from the TLS side, announced at the end of the
 * line held[0..n) (end: past its line end): within the opening's bound in
 * bytes, it is read with its line; beyond, the module answers the
 * protocol's error and the literal is dropped as it comes (returns 1).
 */
static int
literal_refused(struct negotiation *p, struct lines *l, size_t n, size_t end,
    size_t lit, int sync, struct proto_out *out)
{
	size_t	used = p->total - (l->held.len - end);

	if (lit <= PROTO_MAX_BYTES - used || p->ops->literal_too_big == NULL)
		return 0;
	proto_log_line(p, out, 1, l->held.data, n);
	p->ops->literal_too_big(p, l->held.data, n, out);
	consume(l, end);
	l->ahead = 0;
	if (sync)
		return 1;	/* the client waits for a "+" it will not get */
	l->skip = lit;
	l->skip_line = 1;
	n = skip_refused(l, l->held.data, l->held.len);
	consume(l, n);
	p->total -= n;
	return 1;
}

/*
 * A {N} literal from the TLS side, announced by the line held[0..n): the
 * client waits for the module's go-ahead, asked once for the announcement
 * that ends at end.  A module that refuses the command has answered it: the
 * announcement goes (returns 0), and no literal comes.
 */
static int
literal_ahead(struct negotiation *p, struct lines *l, size_t n, size_t end,
    struct proto_out *out)
{
	if (end <= l->ahead || p->ops->literal_ahead == NULL)
		return 1;
	l->ahead = end;
	if (p->ops->literal_ahead(p, l->held.data, n, out))
		return 1;
	proto_log_line(p, out, 1, l->held.data, n);
	consume(l, end);
	l->ahead = 0;
	return 0;
}

/*
 * Bytes from the TLS side after the switch and before the handshake were
 * sent by someone who did not wait for it (CVE-2011-0411): never read
 * them as part of the TLS session.  Only white space, where the protocol
 * allows it between its elements, is let go.
 */
static void
after_switch(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	size_t	ws = 0;

	if (proto_flags(p->cfg.proto) & PROTO_WS_AFTER_SWITCH)
		while (ws < len && strchr(" \t\r\n", s[ws]) != NULL &&
		    s[ws] != '\0')
			ws++;
	if (ws == len)
		return;
	proto_fail(p, out, "%zu bytes arrived after the switch %s, before the "
	    "TLS handshake (%s injection?)", len,
	    proto_is_client(p) ? "reply" : "command",
	    proto_is_client(p) ? "response" : "command");
}

/*
 * Hand the complete lines held from one side to the module, while it wants
 * them: a server-role module waiting for the backend's reply to a command it
 * forwarded leaves the client's next lines held, so that answers keep their
 * order.  Whatever is still held from the TLS side once the module switched
 * to TLS was sent by someone who did not wait for the switch: never let it
 * near the TLS session.
 */
static void
drain(struct negotiation *p, struct lines *l, struct proto_out *out)
{
	int	 tls_side = l == &p->tl;
	size_t	 n, end, lit, lits;
	char	*nl, *line;
	int	 refused, pending, sync;

	while (p->phase == OPENING && !(tls_side && p->awaiting) &&
	    l->held.len > 0 && l->skip == 0 && !l->skip_line) {
		if (p->ops->data != NULL) {
			end = p->ops->data(p, tls_side, l->held.data,
			    l->held.len, out);
			if (p->phase == FAILED)
				return;
			consume(l, end);
			if (end == 0)
				break;
			continue;
		}
		/* The bound per line is on its text; literals count in the
		 * opening's bytes. */
		end = lits = 0;
		refused = pending = 0;
		for (;;) {
			nl = memchr(l->held.data + end, '\n',
			    l->held.len - end);
			if (nl == NULL)
				break;
			n = (size_t)(nl - l->held.data);
			end = n + 1;
			if (n > 0 && l->held.data[n - 1] == '\r')
				n--;
			/* IMAP, ManageSieve: the literal, then more line. */
			if (!inline_literal(p, tls_side, l->held.data, n, &lit,
			    &sync))
				break;
			if (tls_side && literal_refused(p, l, n, end, lit,
			    sync, out)) {
				refused = 1;
				break;
			}
			if (tls_side && sync && !literal_ahead(p, l, n, end,
			    out)) {
				refused = 1;
				break;
			}
			if (l->held.len - end < lit) {
				pending = 1;	/* its bytes are still due */
				nl = NULL;
				break;
			}
			end += lit;
			lits += lit;
		}
		if (refused)
			continue;
		if ((nl != NULL ? n : pending ? end : l->held.len) - lits >=
		    PROTO_MAX_LINE) {
			proto_fail(p, out, "a line longer than %d bytes",
			    PROTO_MAX_LINE);
			return;
		}
		if (nl == NULL)
			return;
		if (++l->n > PROTO_MAX_LINES) {
			proto_fail(p, out, "more than %d lines",
			    PROTO_MAX_LINES);
			return;
		}
		/* A copy: on fallback what is held goes on, this line first. */
		if ((line = malloc(n + 1)) == NULL)
			abort();
		memcpy(line, l->held.data, n);
		line[n] = '\0';
		consume(l, end);
		l->ahead = 0;
		proto_log_line(p, out, tls_side, line, n);
		if (tls_side)
			p->ops->line(p, line, n, out);
		else
			p->ops->plain_line(p, line, n, out);
		free(line);
	}
	if (p->phase == RELAY)
		flush_held(p, out);
	if (p->phase == SWITCHING && tls_side && l->held.len > 0) {
		after_switch(p, l->held.data, l->held.len, out);
		l->held.len = 0;
	}
}

/*
 * Bytes from one side during the opening, held until they make lines, up
 * to the opening's bound in all.  They go in as the bound has room, so that
 * a refused literal (literal_refused) is dropped as it comes, and what
 * follows a phase's end goes where that phase sends it.
 */
static void
feed(struct negotiation *p, struct lines *l, const char *data, size_t len,
    struct proto_out *out)
{
	size_t	n;

	while (len > 0) {
		/* What is left of a refused literal does not count. */
		n = skip_refused(l, data, len);
		data += n;
		len -= n;
		if (len == 0)
			return;
		if (p->phase != OPENING) {
			if (l == &p->tl)
				proto_from_tls(p, data, len, out);
			else
				proto_from_plain(p, data, len, out);
			return;
		}
		if ((n = PROTO_MAX_BYTES - p->total) == 0) {
			proto_fail(p, out, "more than %d bytes of clear text",
			    PROTO_MAX_BYTES);
			return;
		}
		if (n > len)
			n = len;
		p->total += n;
		pbuf_add(&l->held, data, n);
		data += n;
		len -= n;
		drain(p, l, out);
	}
}

void
proto_from_tls(struct negotiation *p, const char *data, size_t len,
    struct proto_out *out)
{
	switch (p->phase) {
	case OPENING:
		feed(p, &p->tl, data, len, out);
		break;
	case SWITCHING:
		after_switch(p, data, len, out);
		break;
	case INSIDE:
		inside_feed(p, 1, data, len, out);
		break;
	case RELAY:
		pbuf_add(&out->to_plain, data, len);
		break;
	case FAILED:
		break;
	}
}

void
proto_from_plain(struct negotiation *p, const char *data, size_t len,
    struct proto_out *out)
{
	switch (p->phase) {
	case OPENING:
	case SWITCHING:
		/* The client role reads the plain side only inside TLS. */
		if (proto_is_client(p) || (p->ops->plain_line == NULL &&
		    p->ops->data == NULL)) {
			proto_fail(p, out,
			    "unexpected input from the plain side");
			return;
		}
		/* During the handshake it waits, like the client's. */
		if (p->phase == SWITCHING)
			pbuf_add(&p->pl.held, data, len);
		else
			feed(p, &p->pl, data, len, out);
		break;
	case INSIDE:
		inside_feed(p, 0, data, len, out);
		break;
	case RELAY:
		pbuf_add(&out->to_tls, data, len);
		break;
	case FAILED:
		break;
	}
}

/*
 * The handshake is done: the module says what goes first inside TLS, and
 * whether it hands over now (the default) or keeps watching.  What the
 * backend said during the handshake is read after that.
 */
void
proto_established(struct negotiation *p, struct proto_out *out)
{
	struct pbuf	held = p->pl.held;

	if (p->phase != SWITCHING)
		return;
	p->phase = INSIDE;
	if (p->ops->established != NULL)
		p->ops->established(p, out);
	if (p->ops->inside_tls == NULL && p->ops->inside_data == NULL)
		out->relay = 1;
	if (out->relay)
		p->phase = RELAY;
	p->watching = out->watch;
	memset(&p->pl.held, 0, sizeof(p->pl.held));
	if (held.len > 0)
		proto_from_plain(p, held.data, held.len, out);
	free(held.data);
}

/* White space may come between the switch and the handshake (XMPP). */
int
proto_space_after_switch(const struct negotiation *p)
{
	return (proto_flags(p->cfg.proto) & PROTO_WS_AFTER_SWITCH) != 0;
}

/* Server role: the backend's reply is complete; the client's next lines. */
void
proto_reply_done(struct negotiation *p, struct proto_out *out)
{
	p->awaiting = 0;
	drain(p, &p->tl, out);
}
