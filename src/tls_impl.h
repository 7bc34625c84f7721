/* What the TLS files share: the context, and the helpers of each job. */
#ifndef TLS_IMPL_H
#define TLS_IMPL_H

#include <stddef.h>
#include <stdio.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"

#define MAX_RECORD	16384		/* largest plaintext of one record */

struct tls_ctx {
	struct tls_config			 cfg;
	gnutls_certificate_credentials_t	 cred;
	gnutls_priority_t			 prio;
	gnutls_datum_t				*alpn;
	unsigned				 nalpn;
	FILE					*keylog;
	int					 verify; /* check peers */
	gnutls_datum_t				 ticket_key;
};

/*
 * What GnuTLS's callbacks for one session find through
 * gnutls_session_get_ptr(): the first member of its struct tls.
 */
struct tls_check {
	struct tls_ctx	*ctx;
	const char	*name;		/* expected peer name, or NULL */
	int		 failed;	/* verification failed, for why */
	char		 why[512];
};

/* The tls of its transport. */
#define TLS_OF(tp) \
	((struct tls *)((char *)(tp) - offsetof(struct tls, tp)))
#define TLS_OF_CONST(tp) \
	((const struct tls *)((const char *)(tp) - offsetof(struct tls, tp)))

/* One connection: GnuTLS over a transport, and a transport itself. */
struct tls {
	struct tls_check	 chk;		/* first: the session ptr */
	struct transport	 tp;		/* what the user sees */
	struct transport	*under;		/* the ciphertext's */
	struct tls_ctx		*ctx;
	gnutls_session_t	 s;
	uv_timer_t		 defer;		/* the client's first step */
	tls_handshake_cb	 handshake;
	void			*arg;
	void			(*closed_cb)(void *);
	void			*closed_arg;
	int			 reset;		/* close under with a reset */
	char			*in;		/* ciphertext not yet pulled */
	size_t			 inoff, inlen, incap;
	char			*out;		/* records not yet written */
	size_t			 outlen, outcap;
	int			 handshaking;
	int			 raw_eof;
	int			 done;		/* peer's direction has ended */
	int			 busy;		/* inside process() */
	int			 dead;		/* closed while busy */
	int			 got_data;	/* application data arrived */
	int			 sent_data;	/* application data went out */
	int			 got_bytes;	/* anything arrived at all */
	int			 lost;		/* the error that ended it */
	int			 after_starttls;
	unsigned char		 rec[7];	/* record header (+ alert) */
	size_t			 reclen;	/* bytes of rec[] filled */
	size_t			 recleft;	/* its body still to skip */
	int			 clear_alert;	/* a plaintext alert, or -1 */
};

/* tls_engine.c */
int	 tls_flush(struct tls *);

/* tls_transport.c: what the user of a struct tls sees. */
extern const struct transport_ops tls_transport_ops;
void	 tls_destroy(struct tls *);

/* tls_verify.c: the peer's certificate and key pins. */
int	 tls_spki_sha256(gnutls_x509_crt_t, unsigned char[TLS_PIN_LEN]);
void	 tls_pin_text(const unsigned char[TLS_PIN_LEN], char *, size_t);
void	 tls_verify_setup(struct tls_ctx *);
const char *tls_verified(const struct tls_ctx *);

/* tls_self_signed.c */
int	 tls_self_signed(struct tls_ctx *, char *, size_t);

/* tls_keylog.c: the secrets, for --keylog and SSLKEYLOGFILE. */
int	 tls_keylog_open(struct tls_ctx *, char *, size_t);
void	 tls_keylog_attach(struct tls_ctx *, gnutls_session_t);

#endif
