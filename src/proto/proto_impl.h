/* What the protocol modules share: the line readers and the output helpers. */
#ifndef PROTO_IMPL_H
#define PROTO_IMPL_H

#include "proto.h"

/*
 * Inside TLS, each direction is cut into lines for a module that watches
 * it (proto/inside.c): lines up to this long are handed over whole, longer
 * ones are passed on as they come and only their end is shown.
 */
#define INSIDE_MAX_LINE	8192
#define INSIDE_TAIL	32

/*
 * A line inside TLS: whole, with its line end; or one longer than
 * INSIDE_MAX_LINE, which went on already: only its first and last bytes.
 */
struct iline {
	const char	*s;		/* the line; its end, if !whole */
	size_t		 len;
	const char	*head;		/* its first bytes */
	size_t		 headlen;
	int		 whole;
};

struct proto_ops {
	void	(*start)(struct negotiation *, struct proto_out *);
	/* One whole line from the TLS side, without its CRLF (literals
	 * inline: ops.literals). */
	void	(*line)(struct negotiation *, const char *, size_t,
		    struct proto_out *);
	/* Server role: one whole line from the plain side (the backend). */
	void	(*plain_line)(struct negotiation *, const char *, size_t,
		    struct proto_out *);
	/*
	 * The handshake is done.  The module sets out->relay (hand over now,
	 * the only way without an inside op), out->watch (keep watching both
	 * sides through the inside ops, for good), or neither: the client
	 * role goes on talking to the server through them until it sets
	 * relay.
	 */
	void	(*established)(struct negotiation *, struct proto_out *);
	/*
	 * Inside TLS: one line from the TLS-side peer, or from the plain
	 * side, with its line end.  The module passes on what it wants of it
	 * with inside_pass().  Both are set, or neither.  Where the module
	 * does not watch for good, the end of data it let go by with
	 * inside_raw() is a line of length 0.
	 */
	void	(*inside_tls)(struct negotiation *, const struct iline *,
		    struct proto_out *);
	void	(*inside_plain)(struct negotiation *, const struct iline *,
		    struct proto_out *);
	/*
	 * Protocols without lines (XMPP, PostgreSQL, LDAP) set this instead
	 * of line/plain_line: the bytes held from one side (tls_side: 1 the
	 * TLS-side peer, 0 the backend); returns how many it used, 0 to wait
	 * for more.  It bounds its own messages; the total is bounded here.
	 */
	size_t	(*data)(struct negotiation *, int tls_side, const char *,
		    size_t, struct proto_out *);
	/*
	 * A literal from the TLS side too big for the opening's bound: the
	 * line up to it (its announcement included).  The module answers
	 * with the protocol's error; the literal and the rest of its line
	 * are dropped as they come.  Without it, the session fails.
	 */
	void	(*literal_too_big)(struct negotiation *, const char *, size_t,
		    struct proto_out *);
	/*
	 * A {N} literal from the TLS side within the bound, at the end of the
	 * line so far: 1 after the go-ahead ("+"), or 0 after answering the
	 * command (refused, or --allow-plain's fall-back) without it.
	 */
	int	(*literal_ahead)(struct negotiation *, const char *, size_t,
		    struct proto_out *);
	/*
	 * Inside TLS, protocols without lines (PostgreSQL's client role, until
	 * the login is done) set this instead of inside_tls/inside_plain: the
	 * bytes held from one side, as data gets them.  The module passes on
	 * what it used (inside_pass), bounds its messages, and sets out->relay
	 * to hand over.
	 */
	size_t	(*inside_data)(struct negotiation *, int tls_side,
		    const char *, size_t, struct proto_out *);
	/* Frees what the module's state holds (not the state itself). */
	void	(*free)(struct negotiation *);
	/* The module's state (p->priv): this many bytes, zeroed. */
	size_t	 size;
	int	 literals;	/* LITERALS_*: read with their line */
};

/* Literals {N} / {N+} at a line's end, read as part of the line. */
#define LITERALS_TLS		1	/* from the TLS side, both forms */
#define LITERALS_TLS_NONSYNC	2	/* from the TLS side, {N+} only: after
					   {N} a client waits for "+" */
#define LITERALS_PLAIN		4	/* from the plain side */

/* Input not yet consumed, from one side, during the opening. */
struct lines {
	struct pbuf	 held;
	unsigned	 n;		/* lines so far */
	size_t		 skip;		/* a refused literal's bytes to drop */
	int		 skip_line;	/* then the rest of its line */
	size_t		 ahead;		/* a {N} literal's go-ahead was sent
					   for the announcement ending here */
};

/* Inside TLS: one direction cut into lines (proto/inside.c). */
struct tline {
	struct pbuf	 held;		/* a line begun in an earlier read */
	size_t		 raw;		/* bytes to pass as they are (a
					   literal) */
	int		 long_line;	/* passing a long line to its end */
	char		 head[INSIDE_TAIL], tail[INSIDE_TAIL];
	size_t		 headlen, taillen;
};

enum phase {
	OPENING,
	SWITCHING,
	INSIDE,
	RELAY,		/* fallen back to clear text, or handed over */
	FAILED
};

struct negotiation {
	const struct proto_ops	*ops;
	struct proto_cfg	 cfg;
	enum phase		 phase;
	struct lines		 tl, pl;	/* TLS side, plain side */
	struct tline		 itl, ipl;	/* the same, inside TLS */
	int			 awaiting;	/* a forwarded command's
						   reply */
	size_t			 total;
	int			 watching;	/* inside TLS for good: lines go
						   on unless the module says */
	/*
	 * Client role: the server's clear-text greeting and what it
	 * offered, for proto_not_offered() (a fallback, or the message).
	 */
	struct pbuf		 greeting;
	struct pbuf		 caps;
	void			*priv;		/* the module's own state */
};

static inline int
proto_is_client(const struct negotiation *p)
{
	return p->cfg.role == ROLE_CLIENT;
}

/* How much of a line an error message quotes ('%.*s'). */
static inline int
proto_shown(size_t len)
{
	return (int)(len > 80 ? 80 : len);
}

/* The table (proto/registry.c). */
const struct proto_ops *proto_ops_of(enum proto, enum role);
unsigned proto_flags(enum proto);

/* The opening's engine (proto/proto.c). */
void	 proto_reply_done(struct negotiation *, struct proto_out *);

/* Output and actions (proto/output.c). */
#define PROTO_PRINTF	__attribute__((format(printf, 3, 4)))

void	 pbuf_add(struct pbuf *, const void *, size_t);
void	 pbuf_str(struct pbuf *, const char *);
void	 proto_send_line(struct negotiation *, struct proto_out *,
	    const char *, ...) PROTO_PRINTF;
void	 proto_greet(struct negotiation *, struct proto_out *,
	    const char *, ...) PROTO_PRINTF;
void	 proto_forward_line(struct negotiation *, struct proto_out *,
	    const char *, size_t);
void	 proto_relay_line(struct negotiation *, struct proto_out *,
	    const char *, size_t);
void	 proto_log_line(struct negotiation *, struct proto_out *, int,
	    const char *, size_t);
void	 proto_fail(struct negotiation *, struct proto_out *,
	    const char *, ...) PROTO_PRINTF;
void	 proto_switch_now(struct negotiation *, struct proto_out *);
void	 proto_switch_answer(struct negotiation *, struct proto_out *, int,
	    const char *, const char *, size_t);
void	 proto_await_backend(struct negotiation *, struct proto_out *);
void	 proto_watch(struct negotiation *, struct proto_out *);
void	 proto_fall_back(struct negotiation *, struct proto_out *,
	    const char *, ...) PROTO_PRINTF;
void	 proto_allow_plain(struct negotiation *, struct proto_out *,
	    const char *, size_t, const char *, const char *);
void	 proto_not_offered(struct negotiation *, struct proto_out *,
    const char *);
int	 proto_ask_switch(struct negotiation *, struct proto_out *, int,
	    const char *);
void	 proto_add_cap(struct negotiation *, const char *, size_t);
const char *proto_safe_name(struct negotiation *);

/* Reading protocol text (proto/text.c). */
size_t	 proto_word_len(const char *, size_t);
int	 proto_word_eq(const char *, size_t, const char *);
int	 proto_list_token(const char *, size_t, const char *);
int	 proto_is_login_word(const char *, size_t);
size_t	 proto_literal_size(const char *, size_t, int *);
unsigned long proto_be32(const char *);
int	 proto_reply_code(const char *, size_t, const char *);
size_t	 proto_line_len(const char *, size_t);

/* Inside TLS (proto/inside.c). */
void	 inside_feed(struct negotiation *, int, const char *, size_t,
	    struct proto_out *);
void	 inside_pass(struct negotiation *, int, const char *, size_t,
	    struct proto_out *);
void	 inside_raw(struct negotiation *, int, size_t);
int	 inside_at_start(struct negotiation *, int);
void	 inside_free(struct negotiation *);

/*
 * The commands a server-role module has forwarded and not yet seen
 * answered, in order, as runs of one kind (most are "other"): what a reply
 * is the answer to, and where a reply of our own goes between the
 * backend's.
 */
#define CMDQ_RUNS	64

struct cmdq {
	struct {
		unsigned char	 kind;
		unsigned	 n;
	}		 run[CMDQ_RUNS];
	unsigned	 first, nruns;
};

void	 cmdq_push(struct negotiation *, struct cmdq *, int,
	    struct proto_out *);
void	 cmdq_answer(struct cmdq *, int, const char *, struct proto_out *);
int	 cmdq_head(const struct cmdq *);
void	 cmdq_pop(struct cmdq *);

#endif
