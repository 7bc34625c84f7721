/*
 * The clear-text opening of a STARTTLS protocol, as a pure state machine:
 * bytes in, actions out.  No sockets, no event loop, no TLS in here: the
 * session feeds what it reads and carries out what comes back.
 *
 * A session lives through these phases:
 *   opening    clear text from both sides, until the module switches,
 *              fails or falls back to clear text;
 *   switching  the handshake: bytes from the TLS side are injection;
 *   inside     after proto_established(): the client role may still talk
 *              to the server inside TLS (NNTP asks for its capabilities)
 *              before it hands over; the server role may keep watching
 *              both directions for the whole session (a second STARTTLS
 *              is refused, capability lists never offer the switch again);
 *   relay      bytes go through as they are, without this module.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>

#include "options.h"

/* Bounds on the opening: per line, lines, and bytes in all. */
#define PROTO_MAX_LINE		4096
#define PROTO_MAX_LINES		1000
#define PROTO_MAX_BYTES		(64 * 1024)

struct pbuf {
	char	*data;
	size_t	 len, cap;
};

/*
 * What to do now.  to_tls and to_plain go to their side at once (through
 * TLS once it is up); the flags say how the session goes on.
 */
struct proto_out {
	struct pbuf	 to_tls;	/* for the TLS-side peer */
	struct pbuf	 to_plain;	/* for the plain side */
	struct pbuf	 log;		/* transcript lines ("C: ...", "S: ...") */
	int		 start_tls;	/* switch now */
	int		 fallback;	/* relay in clear text from now on */
	int		 relay;		/* inside TLS: relay as is from now on */
	int		 watch;		/* inside TLS: both sides flow, through
					   the module, for good */
	int		 fail;		/* end with status 4, for why */
	char		 why[512];
};

struct proto_cfg {
	enum proto	 proto;
	enum role	 role;
	const char	*ehlo;		/* SMTP EHLO name */
	const char	*host;		/* the server's name: HTTP Host, XMPP
					   domain, the greeting we write */
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

int		 proto_space_after_switch(const struct negotiation *);
const char	*proto_unavailable(enum proto);
size_t		 proto_unavailable_len(enum proto);

void		 proto_out_init(struct proto_out *);
void		 proto_out_free(struct proto_out *);
char		*proto_out_take(struct pbuf *, size_t *);

#endif
