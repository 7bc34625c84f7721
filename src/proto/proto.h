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

/*
 * Every STARTTLS protocol, one row each, in the order --help lists them:
 *   id           PROTO_<id>
 *   name         what --proto takes, and what the log says
 *   note         for --help, after the name ("" for none)
 *   module       its ops: <module>_client_ops, <module>_server_ops
 *   unavailable  server role: what a client is told when the backend
 *                cannot be reached (a string literal: binary ones may
 *                hold NUL bytes, its size is its length)
 *   flags        PROTO_HELP_GROUP: --help puts a ';' before it;
 *                PROTO_WS_AFTER_SWITCH: white space may follow the
 *                switch (XMPP: between stanzas)
 * Adding a protocol is a row here and its two module files.
 */
#define PROTO_MAP(X)							\
	X(SMTP, "smtp", "", smtp,					\
	    "421 4.3.2 Service not available, closing channel\r\n", 0)	\
	X(LMTP, "lmtp", "", smtp,					\
	    "421 4.3.2 Service not available, closing channel\r\n", 0)	\
	X(IMAP, "imap", "", imap, "* BYE Service not available\r\n", 0)	\
	X(POP3, "pop3", "", pop3, "-ERR Service not available\r\n", 0)	\
	X(NNTP, "nntp", "", nntp,					\
	    "400 Service temporarily unavailable\r\n", 0)		\
	X(SIEVE, "sieve", "(ManageSieve)", sieve,			\
	    "BYE (TRYLATER) \"Service not available\"\r\n", 0)		\
	X(XMPP, "xmpp", "(client-to-server)", xmpp,			\
	    PROTO_XMPP_UNAVAILABLE, PROTO_WS_AFTER_SWITCH)		\
	X(HTTP, "http-upgrade", "", http,				\
	    "HTTP/1.1 503 Service Unavailable\r\n"			\
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", 0)	\
	X(FTP, "ftp", "(AUTH TLS; PROT P data)", ftp,		\
	    "421 Service not available, closing control connection\r\n",\
	    PROTO_HELP_GROUP)						\
	X(POSTGRES, "postgres", "(SSLRequest)", postgres,		\
	    PROTO_PG_UNAVAILABLE, 0)					\
	X(LDAP, "ldap", "(StartTLS)", ldap, PROTO_LDAP_UNAVAILABLE, 0)

/* flags */
#define PROTO_HELP_GROUP	1
#define PROTO_WS_AFTER_SWITCH	2

/* A stream error after a stream header of our own. */
#define PROTO_XMPP_UNAVAILABLE						\
	"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "	\
	"xmlns:stream='http://etherx.jabber.org/streams' "		\
	"version='1.0'><stream:error><remote-connection-failed "	\
	"xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"	\
	"</stream:stream>"
/* An ErrorResponse: FATAL, 08006 connection_failure. */
#define PROTO_PG_UNAVAILABLE						\
	"E\0\0\0\100SFATAL\0VFATAL\0C08006\0"				\
	"Mthe database server is not available\0" "\0"
/* A Notice of Disconnection (RFC 4511 4.4.1): messageID 0, unavailable. */
#define PROTO_LDAP_UNAVAILABLE						\
	"\x30\x49\x02\x01\x00\x78\x44\x0a\x01\x34\x04\x00\x04\x25"	\
	"the directory server is not available"				\
	"\x8a\x16" "1.3.6.1.4.1.1466.20036"

#define PROTO_ENUM(id, name, note, module, unavailable, flags)	PROTO_##id,

enum proto {
	PROTO_NONE,		/* TLS from the first byte */
	PROTO_MAP(PROTO_ENUM)
	PROTO_END
};

/* The STARTTLS protocols: PROTO_NONE + 1 to PROTO_END - 1. */
#define PROTO_COUNT	(PROTO_END - 1)

enum role {
	ROLE_CLIENT,
	ROLE_SERVER
};

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
	struct pbuf	 log;		/* transcript lines ("C: ...",
					   "S: ...") */
	int		 start_tls;	/* switch now */
	int		 fallback;	/* relay in clear text from now on */
	int		 relay;		/* inside TLS: relay as is from now
					   on */
	int		 watch;		/* inside TLS: both sides flow, through
					   the module, for good */
	int		 fail;		/* end with status 4, for why */
	/*
	 * FTP, inside TLS: relay a data connection to this port of the FTP
	 * server, or of the FTP client if data_active (PORT, EPRT): the
	 * control connection's peer.  The reply (or command) that says where
	 * the other one connects waits for proto_data_ready().
	 */
	unsigned	 data_port;
	int		 data_active;
	char		 why[512];
	/*
	 * Server role, start_tls without a switch (direct TLS): the peer's
	 * bytes so far, the beginning of its TLS, and the one ALPN protocol
	 * it must ask for.
	 */
	struct pbuf	 tls_first;
	const char	*alpn;
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
	const char	*port;		/* the server's port as given, or
					   NULL: HTTP Host */
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
void		 proto_data_ready(struct negotiation *, const char *,
		    unsigned, struct proto_out *);

int		 proto_space_after_switch(const struct negotiation *);
const char	*proto_name(enum proto);
const char	*proto_unavailable(enum proto);
size_t		 proto_unavailable_len(enum proto);

void		 proto_out_init(struct proto_out *);
void		 proto_out_free(struct proto_out *);
char		*proto_out_take(struct pbuf *, size_t *);

#endif
