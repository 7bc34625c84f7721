/* What the protocol modules share: the line reader and the output helpers. */
#ifndef PROTO_IMPL_H
#define PROTO_IMPL_H

#include "proto.h"

struct proto_ops {
	void	(*start)(struct negotiation *, struct proto_out *);
	/* One whole line from the TLS side, without its CRLF (IMAP client:
	 * literals inline). */
	void	(*line)(struct negotiation *, const char *, size_t,
		    struct proto_out *);
	/* Server role: one whole line from the plain side (the backend). */
	void	(*plain_line)(struct negotiation *, const char *, size_t,
		    struct proto_out *);
	void	(*established)(struct negotiation *, struct proto_out *);
	/*
	 * Protocols without lines (XMPP, PostgreSQL, LDAP) set this instead
	 * of line/plain_line: the bytes held from one side (tls_side: 1 the
	 * TLS-side peer, 0 the backend); returns how many it used, 0 to wait
	 * for more.  It bounds its own messages; the total is bounded here.
	 */
	size_t	(*data)(struct negotiation *, int tls_side, const char *,
		    size_t, struct proto_out *);
};

/* Input not yet consumed, from one side. */
struct lines {
	struct pbuf	 held;
	unsigned	 n;		/* lines so far */
};

struct negotiation {
	const struct proto_ops	*ops;
	struct proto_cfg	 cfg;
	struct lines		 tl, pl;	/* TLS side, plain side */
	int			 literals;	/* {N} at a line's end is one,
						   from these sides: */
#define LITERALS_TLS	1
#define LITERALS_PLAIN	2
	int			 awaiting;	/* a forwarded command's reply */
	size_t			 total;
	int			 state;
	int			 done;		/* the opening is over */
	int			 offered;	/* the switch was advertised */
	unsigned		 reply_lines;	/* lines of the reply so far */
	unsigned		 tag;		/* IMAP command tags */
	struct pbuf		 greeting;	/* for the plain side */
	struct pbuf		 caps;		/* what the server offered */
	int			 multi;		/* FTP: a multi-line reply's code */
	void			*priv;		/* a module's own state */
};

extern const struct proto_ops smtp_client_ops, imap_client_ops,
    pop3_client_ops, http_client_ops, smtp_server_ops, imap_server_ops,
    pop3_server_ops, http_server_ops, nntp_client_ops, nntp_server_ops,
    sieve_client_ops, sieve_server_ops;
extern const struct proto_ops postgres_client_ops, postgres_server_ops,
    ldap_client_ops, ldap_server_ops, ftp_client_ops, ftp_server_ops,
    xmpp_client_ops, xmpp_server_ops;

int	 ftp_reply_code(const char *, size_t, int *);

int	 ftp_reply_code(const char *, size_t, int *);

void	 pbuf_add(struct pbuf *, const void *, size_t);
void	 pbuf_str(struct pbuf *, const char *);
void	 send_line(struct negotiation *, struct proto_out *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 fail(struct negotiation *, struct proto_out *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 switch_now(struct negotiation *, struct proto_out *);
void	 forward_line(struct negotiation *, struct proto_out *, const char *,
	    size_t);
void	 relay_line(struct negotiation *, struct proto_out *, const char *,
	    size_t);
void	 reply_done(struct negotiation *, struct proto_out *);
void	 replay_greeting(struct negotiation *, struct proto_out *);
void	 not_offered(struct negotiation *, struct proto_out *, const char *);
void	 add_cap(struct negotiation *, const char *, size_t);
int	 word_eq(const char *, size_t, const char *);
int	 list_token(const char *, size_t, const char *);
size_t	 word_len(const char *, size_t);

#endif
