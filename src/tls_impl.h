/* What the TLS files share: the context, and the helpers of each job. */
#ifndef TLS_IMPL_H
#define TLS_IMPL_H

#include <stdio.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"

struct tls_ctx {
	struct tls_config			 cfg;
	gnutls_certificate_credentials_t	 cred;
	gnutls_priority_t			 prio;
	gnutls_datum_t				*alpn;
	unsigned				 nalpn;
	FILE					*keylog;
	int					 verify; /* check peers */
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
