/*
 * The clear-text opening of a STARTTLS protocol, as a pure state machine:
 * bytes in, actions out.  No sockets, no event loop, no TLS in here: the
 * session feeds what it reads and carries out what comes back.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>

#include "options.h"

/* Bounds on the negotiation: per line, lines, and bytes in all. */
#define PROTO_MAX_LINE		4096
#define PROTO_MAX_LINES		1000
#define PROTO_MAX_BYTES		(64 * 1024)

struct pbuf {
	char	*data;
	size_t	 len, cap;
};

struct proto_out {
	struct pbuf	 to_tls;	/* clear text for the TLS-side peer, now */
	struct pbuf	 to_plain;	/* for the plain side: client role once
					   TLS is up; server role now */
	struct pbuf	 log;		/* transcript lines ("C: ...", "S: ...") */
	int		 start_tls;	/* switch now; nothing else follows */
	int		 fallback;	/* --opportunistic: relay in clear text */
	int		 fail;		/* end with status 4, for why */
	char		 why[512];
};

struct proto_cfg {
	enum proto	 proto;
	enum role	 role;
	const char	*ehlo;		/* SMTP EHLO name */
	const char	*host;		/* HTTP Host */
	int		 opportunistic;
	int		 allow_plain;	/* server: forward pre-TLS commands */
	unsigned long	 nonce;		/* random: XMPP stream ids */
};

struct negotiation;

struct negotiation	*proto_new(const struct proto_cfg *);
void		 proto_free(struct negotiation *);
void		 proto_start(struct negotiation *, struct proto_out *);
void		 proto_from_tls(struct negotiation *, const char *, size_t,
		    struct proto_out *);
void		 proto_from_plain(struct negotiation *, const char *, size_t,
		    struct proto_out *);
void		 proto_established(struct negotiation *, struct proto_out *);

const char	*proto_unavailable(enum proto);
size_t		 proto_unavailable_len(enum proto);

void		 proto_out_init(struct proto_out *);
void		 proto_out_free(struct proto_out *);

#endif
