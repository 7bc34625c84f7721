/* What the protocol modules share: the line reader and the output helpers. */
#ifndef PROTO_IMPL_H
#define PROTO_IMPL_H

#include "proto.h"

struct proto_ops {
	void	(*start)(struct negotiation *, struct proto_out *);
	/* One whole line, without its CRLF (IMAP: literals inline). */
	void	(*line)(struct negotiation *, const char *, size_t,
		    struct proto_out *);
	void	(*established)(struct negotiation *, struct proto_out *);
};

struct negotiation {
	const struct proto_ops	*ops;
	struct proto_cfg	 cfg;
	char			 buf[PROTO_MAX_LINE];	/* the line so far */
	size_t			 blen;
	size_t			 literal;	/* IMAP literal bytes still due */
	int			 literals;	/* {N} at a line's end is one */
	size_t			 total;
	unsigned		 nlines;
	int			 state;
	int			 done;		/* the opening is over */
	int			 offered;	/* the switch was advertised */
	unsigned		 reply_lines;	/* lines of the reply so far */
	unsigned		 tag;		/* IMAP command tags */
	struct pbuf		 greeting;	/* for the plain side */
	struct pbuf		 caps;		/* what the server offered */
};

extern const struct proto_ops smtp_client_ops, imap_client_ops,
    pop3_client_ops, http_client_ops;

void	 pbuf_add(struct pbuf *, const void *, size_t);
void	 pbuf_str(struct pbuf *, const char *);
void	 send_line(struct negotiation *, struct proto_out *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 fail(struct negotiation *, struct proto_out *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 switch_now(struct negotiation *, struct proto_out *);
void	 not_offered(struct negotiation *, struct proto_out *, const char *);
void	 add_cap(struct negotiation *, const char *, size_t);
int	 word_eq(const char *, size_t, const char *);
size_t	 word_len(const char *, size_t);

#endif
