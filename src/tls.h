/*
 * The TLS engine: GnuTLS driven over a transport through our own push and
 * pull buffers, itself a transport.  A tls_ctx holds what is shared by
 * every session of the process (credentials, trust store, priorities); a
 * tls is one connection.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include "status.h"
#include "transport.h"

#define TLS_PIN_LEN	32	/* SHA-256 of a SubjectPublicKeyInfo */

/* What the process's TLS is, from the command line; strings are kept. */
struct tls_config {
	int			 server;	/* else the client role */
	const char		*cert, *key;
	int			 self_signed;
	const char		*cafile;
	int			 insecure;
	const unsigned char	*pins;		/* npins * TLS_PIN_LEN bytes */
	int			 npins;
	const char		*priority;	/* NULL: the built-in default */
	const char		*alpn;		/* comma-separated, or NULL */
	int			 verify_client;
	const char		*keylog;	/* NULL: SSLKEYLOGFILE */
	int			 tickets;	/* server: session tickets, for
						   FTP data connections that
						   resume the control's */
};

struct tls_ctx;
struct tls;

/*
 * The handshake's end.  status STATUS_OK: established; else the exit
 * status and why.  STATUS_NEGOTIATION, err NULL: clear text came where
 * the first record should be, after a switch; the caller says what that
 * means.
 */
typedef void	(*tls_handshake_cb)(void *, int status, const char *err);

/* 0, UV_EINVAL for a bad setting or file, or another libuv error. */
int		 tls_ctx_new(struct tls_ctx **, const struct tls_config *,
		    char *err, size_t errlen);
void		 tls_ctx_free(struct tls_ctx *);

/*
 * What may come before the first record: a ClientHello or ServerHello at
 * once; after a STARTTLS switch, where clear text is injection; the same,
 * white space let go (XMPP); an FTP data connection, from the first byte,
 * where a server sends no session ticket of its own (a client that only
 * writes would close with it unread: a reset, and the data lost).
 */
#define TLS_FIRST_BYTE		0
#define TLS_AFTER_SWITCH	1
#define TLS_AFTER_SPACE		2
#define TLS_FTP_DATA		3

/*
 * TLS over the transport under, whose callbacks it takes and which it
 * closes when its own transport is closed: 0, or a libuv error and why.
 * Its own input ends with UV_EOF at close_notify, TRANSPORT_TRUNCATED
 * without it, UV_ECONNREFUSED when a fatal alert came before any data
 * (the peer refused us), or another error, with why.  The callbacks come
 * from the loop only, never from inside these calls.
 */
int		 tls_start(struct tls **, uv_loop_t *, struct tls_ctx *,
		    struct transport *under, const char *name,
		    int after_starttls, tls_handshake_cb, void *, char *,
		    size_t);
struct transport *tls_transport(struct tls *);
/*
 * Server role, direct TLS: the client's first bytes (its ClientHello, or
 * the start of it) were read before tls_start; they are read again from
 * the loop, and the client must ask for ALPN protocol alpn, the only one
 * accepted.  0, or a libuv error.
 */
int		 tls_direct(struct tls *, const char *alpn, const char *,
		    size_t);
int		 tls_exchanged(const struct tls *);
int		 tls_resume(struct tls *, const struct tls *);
int		 tls_silent_end(const struct tls *);
void		 tls_describe(struct tls *, char *, size_t);

#endif
