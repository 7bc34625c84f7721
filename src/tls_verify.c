#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "tls_impl.h"

/* SHA-256 of the SubjectPublicKeyInfo, as --pin takes it. */
int
tls_spki_sha256(gnutls_x509_crt_t crt, unsigned char out[TLS_PIN_LEN])
{
	gnutls_pubkey_t	 pk;
	gnutls_datum_t	 der = { NULL, 0 };
	int		 rc;

	if (gnutls_pubkey_init(&pk) < 0)
		return -1;
	rc = gnutls_pubkey_import_x509(pk, crt, 0);
	if (rc >= 0)
		rc = gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der);
	if (rc >= 0)
		rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size,
		    out);
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pk);
	return rc < 0 ? -1 : 0;
}

void
tls_pin_text(const unsigned char pin[TLS_PIN_LEN], char *buf, size_t len)
{
	gnutls_datum_t	 raw = { (unsigned char *)pin, TLS_PIN_LEN }, b64;

	if (gnutls_base64_encode2(&raw, &b64) < 0) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "sha256:%.*s", (int)b64.size, b64.data);
	gnutls_free(b64.data);
}

/* The chain and the name, unless --insecure; -1 with the reason kept. */
static int
verify_chain(gnutls_session_t s, struct tls_check *c)
{
	gnutls_datum_t	out;
	unsigned	status;
	int		rc;

	rc = gnutls_certificate_verify_peers3(s, c->name, &status);
	if (rc < 0) {
		snprintf(c->why, sizeof(c->why),
		    "cannot verify the certificate: %s", gnutls_strerror(rc));
		return -1;
	}
	if (status == 0)
		return 0;
	if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &out, 0) < 0) {
		snprintf(c->why, sizeof(c->why),
		    "certificate does not verify");
		return -1;
	}
	while (out.size > 0 && out.data[out.size - 1] == ' ')
		out.data[--out.size] = '\0';
	snprintf(c->why, sizeof(c->why),
	    "certificate verification failed: %s%s%s%s", (char *)out.data,
	    c->name ? " (expected name " : "", c->name ? c->name : "",
	    c->name ? ")" : "");
	gnutls_free(out.data);
	return -1;
}

/* The peer's key against the --pin list; -1 with the reason kept. */
static int
verify_pins(gnutls_session_t s, struct tls_check *c)
{
	const struct tls_config	*cfg = &c->ctx->cfg;
	const gnutls_datum_t	*certs;
	gnutls_x509_crt_t	 crt;
	unsigned char		 pin[TLS_PIN_LEN];
	char			 txt[80];
	unsigned		 n;
	int			 rc;

	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0) {
		snprintf(c->why, sizeof(c->why),
		    "the peer sent no certificate to check the pin against");
		return -1;
	}
	rc = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER);
	if (rc >= 0)
		rc = tls_spki_sha256(crt, pin);
	gnutls_x509_crt_deinit(crt);
	if (rc < 0) {
		snprintf(c->why, sizeof(c->why),
		    "cannot read the peer certificate's key");
		return -1;
	}
	for (int i = 0; i < cfg->npins; i++)
		if (memcmp(pin, cfg->pins + i * TLS_PIN_LEN, TLS_PIN_LEN) == 0)
			return 0;
	tls_pin_text(pin, txt, sizeof(txt));
	snprintf(c->why, sizeof(c->why),
	    "certificate pin mismatch: the peer's key is %s", txt);
	return -1;
}

/*
 * Verification by hand rather than gnutls_session_set_verify_cert(), so that
 * the pins are checked too and the reason is kept for the error line.
 */
static int
verify_peer(gnutls_session_t s)
{
	struct tls_check	*c = gnutls_session_get_ptr(s);

	if ((!c->ctx->cfg.insecure && verify_chain(s, c) == -1) ||
	    (c->ctx->cfg.npins > 0 && verify_pins(s, c) == -1)) {
		c->failed = 1;
		return -1;
	}
	return 0;
}

/* A client checks the server unless --insecure without pins. */
void
tls_verify_setup(struct tls_ctx *c)
{
	const struct tls_config	*cfg = &c->cfg;

	c->verify = cfg->server ? cfg->verify_client :
	    (!cfg->insecure || cfg->npins > 0);
	if (c->verify)
		gnutls_certificate_set_verify_function(c->cred, verify_peer);
}

/* How the peer was verified, for the description of a session. */
const char *
tls_verified(const struct tls_ctx *c)
{
	if (!c->verify)
		return c->cfg.server ? "not requested" : "NO (--insecure)";
	return c->cfg.insecure ? "pin only" : "yes";
}
