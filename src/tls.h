/*
 * The TLS engine: GnuTLS driven over a stream through our own push and pull
 * buffers.  A tls_ctx holds what is shared by every session of the process
 * (credentials, trust store, priorities); a tls is one connection.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include "options.h"
#include "stream.h"

struct tls_ctx;
struct tls;

struct tls_events {
	/* status 0: established; else the exit status (5, 6) and why. */
	void	(*handshake)(void *, int status, const char *err);
	/* Decrypted bytes, valid during the call only. */
	void	(*data)(void *, const uv_buf_t *, unsigned);
	/* The peer ended its direction: clean is 1 with close_notify. */
	void	(*eof)(void *, int clean);
	/* Fatal error after the handshake: exit status (1, or 5) and why. */
	void	(*error)(void *, int status, const char *err);
};

struct tls_ctx	*tls_ctx_new(const struct options *, char *, size_t, int *);
void		 tls_ctx_free(struct tls_ctx *);

/*
 * What may come before the first record: a ClientHello or ServerHello at
 * once; after a STARTTLS switch, where clear text is injection; the same,
 * white space let go (XMPP).
 */
#define TLS_FIRST_BYTE		0
#define TLS_AFTER_SWITCH	1
#define TLS_AFTER_SPACE		2

/* The events come from the loop only, never from inside these calls. */
struct tls	*tls_start(uv_loop_t *, struct tls_ctx *, struct stream *,
		    const char *name, int after_starttls,
		    const struct tls_events *, void *, char *, size_t);
int		 tls_write(struct tls *, const char *, size_t);
int		 tls_read(struct tls *, int on);
int		 tls_shutdown(struct tls *);
int		 tls_exchanged(const struct tls *);
int		 tls_silent_end(const struct tls *);
void		 tls_describe(struct tls *, char *, size_t);
void		 tls_free(struct tls *);

#endif
