#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <uv.h>

#include "log.h"
#include "tls_impl.h"

/* The SANs of a throwaway certificate: localhost, loopback, our name. */
static int
add_names(gnutls_x509_crt_t crt)
{
	unsigned char	 v4[4] = { 127, 0, 0, 1 }, v6[16] = { 0 };
	char		 host[256];
	int		 rc;

	v6[15] = 1;
	if ((rc = gnutls_x509_crt_set_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    "localhost", 9, GNUTLS_FSAN_APPEND)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt,
	    GNUTLS_SAN_IPADDRESS, v4, 4, GNUTLS_FSAN_APPEND)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt,
	    GNUTLS_SAN_IPADDRESS, v6, 16, GNUTLS_FSAN_APPEND)) < 0)
		return rc;
	if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0' &&
	    strcmp(host, "localhost") != 0)
		return gnutls_x509_crt_set_subject_alt_name(crt,
		    GNUTLS_SAN_DNSNAME, host, strlen(host), GNUTLS_FSAN_APPEND);
	return 0;
}

/* Say how a client can trust it: its fingerprint and its key's pin. */
static int
announce(gnutls_x509_crt_t crt)
{
	unsigned char	 fpr[32], pin[TLS_PIN_LEN];
	char		 fhex[3 * 32 + 1], ptxt[80];
	size_t		 flen = sizeof(fpr);
	int		 rc;

	if ((rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fpr,
	    &flen)) < 0)
		return rc;
	for (size_t i = 0; i < flen; i++)
		snprintf(fhex + 3 * i, 4, "%02X%s", fpr[i],
		    i + 1 < flen ? ":" : "");
	if (tls_spki_sha256(crt, pin) == 0)
		tls_pin_text(pin, ptxt, sizeof(ptxt));
	else
		snprintf(ptxt, sizeof(ptxt), "?");
	log_warn("self-signed certificate for localhost, SHA-256 fingerprint "
	    "%s; a client trusts it with --insecure --pin=%s", fhex, ptxt);
	return 0;
}

/* A throwaway ECDSA P-256 certificate for localhost, made in memory. */
static int
make(struct tls_ctx *c, gnutls_x509_privkey_t key, gnutls_x509_crt_t crt)
{
	unsigned char	serial[16];
	time_t		now = time(NULL);
	int		rc;

	if ((rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		return rc;
	serial[0] &= 0x7f;
	if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial,
	    sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt,
	    now + 30 * 86400)) < 0 ||
	    (rc = add_names(crt)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt,
	    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt,
	    GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
	    0)) < 0 ||
	    (rc = gnutls_certificate_set_x509_key(c->cred, &crt, 1, key)) < 0)
		return rc;
	return announce(crt);
}

/* --self-signed: 0, or UV_EINVAL with the reason in err. */
int
tls_self_signed(struct tls_ctx *c, char *err, size_t errlen)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	int			 rc;

	if ((rc = gnutls_x509_privkey_init(&key)) >= 0 &&
	    (rc = gnutls_x509_crt_init(&crt)) >= 0)
		rc = make(c, key, crt);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (rc >= 0)
		return 0;
	snprintf(err, errlen, "cannot make a self-signed certificate: %s",
	    gnutls_strerror(rc));
	return UV_EINVAL;
}
