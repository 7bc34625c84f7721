#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <uv.h>

#include "log.h"
#include "tls_impl.h"

/*
 * TLS 1.2 and 1.3 only, forward secrecy only: no static RSA key exchange
 * (-RSA), whose sessions anyone holding the key later can decrypt.  AEAD
 * ciphers only, in our order rather than the client's (%SERVER_PRECEDENCE;
 * GnuTLS ranks the key exchange first, so ECDHE comes before DHE).
 * AES-GCM ahead of ChaCha20: with AES instructions it is many times faster,
 * and GnuTLS 3.7's ChaCha20 is slow on these CPUs.  The groups are NORMAL's
 * with X25519 first: in our order P-256 would come first, and a TLS 1.3
 * client that sent an X25519 key share only (OpenSSL's default) would pay
 * a HelloRetryRequest for it.
 */
#define DEFAULT_PRIORITY \
	"NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:" \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"+AES-128-CCM:+AES-256-CCM:" \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:" \
	"+GROUP-SECP521R1:+GROUP-X448:+GROUP-DH-ALL"

/* Whom to trust: --cafile, else the system's for a verifying client. */
static int
load_trust(struct tls_ctx *c, char *err, size_t errlen)
{
	const struct tls_config	*cfg = &c->cfg;
	int			 rc;

	if (cfg->cafile != NULL) {
		rc = gnutls_certificate_set_x509_trust_file(c->cred,
		    cfg->cafile, GNUTLS_X509_FMT_PEM);
		if (rc <= 0)
			return errorf(err, errlen, UV_EINVAL, "--cafile %s: "
			    "%s", cfg->cafile, rc < 0 ? gnutls_strerror(rc) :
			    "no certificates in it");
	} else if (!cfg->server && !cfg->insecure) {
		/* Once per process: a listen-mode client shares it. */
		rc = gnutls_certificate_set_x509_system_trust(c->cred);
		if (rc <= 0)
			log_warn("the system trust store is empty or missing "
			    "(%s): use --cafile or --pin",
			    rc < 0 ? gnutls_strerror(rc) : "no certificates");
	}
	return 0;
}

/* Our own certificate: --cert and --key, or --self-signed. */
static int
load_own(struct tls_ctx *c, char *err, size_t errlen)
{
	const struct tls_config	*cfg = &c->cfg;
	int			 rc;

	if (cfg->cert != NULL) {
		rc = gnutls_certificate_set_x509_key_file2(c->cred, cfg->cert,
		    cfg->key, GNUTLS_X509_FMT_PEM, NULL, 0);
		if (rc < 0)
			return errorf(err, errlen, UV_EINVAL, "--cert %s / "
			    "--key %s: %s", cfg->cert, cfg->key,
			    gnutls_strerror(rc));
	} else if (cfg->self_signed)
		return tls_self_signed(c, err, errlen);
	return 0;
}

/* The --alpn list, pointing into the option's string. */
static int
load_alpn(struct tls_ctx *c, char *err, size_t errlen)
{
	const char	*p = c->cfg.alpn, *comma;
	size_t		 len;
	unsigned	 n = 1;

	if (p == NULL)
		return 0;
	for (const char *q = p; *q; q++)
		n += *q == ',';
	if ((c->alpn = calloc(n, sizeof(*c->alpn))) == NULL)
		return errorf(err, errlen, UV_ENOMEM, "out of memory");
	for (; c->nalpn < n; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		c->alpn[c->nalpn].data = (unsigned char *)p;
		c->alpn[c->nalpn++].size = (unsigned)len;
		if (comma == NULL)
			break;
	}
	return 0;
}

static int
load_priority(struct tls_ctx *c, char *err, size_t errlen)
{
	const char	*errpos = NULL;
	int		 rc;

	rc = gnutls_priority_init2(&c->prio, c->cfg.priority ?
	    c->cfg.priority : DEFAULT_PRIORITY, &errpos, 0);
	if (rc >= 0)
		return 0;
	c->prio = NULL;
	return errorf(err, errlen, UV_EINVAL, "--priority: %s at '%s'",
	    gnutls_strerror(rc), errpos ? errpos : "");
}

int
tls_ctx_new(struct tls_ctx **cp, const struct tls_config *cfg, char *err,
    size_t errlen)
{
	struct tls_ctx	*c;
	int		 rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return errorf(err, errlen, UV_ENOMEM, "out of memory");
	c->cfg = *cfg;
	if ((rc = gnutls_certificate_allocate_credentials(&c->cred)) < 0) {
		rc = errorf(err, errlen, UV_ENOMEM, "GnuTLS: %s",
		    gnutls_strerror(rc));
		goto bad;
	}
	if ((rc = load_trust(c, err, errlen)) != 0 ||
	    (rc = load_own(c, err, errlen)) != 0)
		goto bad;
	tls_verify_setup(c);
	if ((rc = load_priority(c, err, errlen)) != 0 ||
	    (rc = load_alpn(c, err, errlen)) != 0 ||
	    (rc = tls_keylog_open(c, err, errlen)) != 0)
		goto bad;
	/* One key for the process: any session may resume another. */
	if (cfg->server && cfg->tickets &&
	    (rc = gnutls_session_ticket_key_generate(&c->ticket_key)) < 0) {
		rc = errorf(err, errlen, UV_ENOMEM, "GnuTLS: %s",
		    gnutls_strerror(rc));
		goto bad;
	}
	if (!cfg->server && cfg->insecure)
		log_security("--insecure: the server's certificate is NOT "
		    "verified%s", cfg->npins ?
		    " (only its key pin is checked)" :
		    "; anyone on the path can read and change this session");
	*cp = c;
	return 0;
bad:
	tls_ctx_free(c);
	return rc;
}

void
tls_ctx_free(struct tls_ctx *c)
{
	if (c == NULL)
		return;
	if (c->prio != NULL)
		gnutls_priority_deinit(c->prio);
	if (c->cred != NULL)
		gnutls_certificate_free_credentials(c->cred);
	if (c->keylog != NULL)
		fclose(c->keylog);
	if (c->ticket_key.data != NULL)
		gnutls_memset(c->ticket_key.data, 0, c->ticket_key.size);
	gnutls_free(c->ticket_key.data);
	free(c->alpn);
	free(c);
}
