#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "log.h"
#include "tls.h"

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

#define MAX_RECORD	16384		/* largest plaintext of one record */
#define PLAIN_BATCH	4		/* records per delivery */
#define IN_ROOM		(4 * MAX_RECORD)	/* ciphertext read at once */

struct tls_ctx {
	const struct options			*o;
	gnutls_certificate_credentials_t	 cred;
	gnutls_priority_t			 prio;
	gnutls_datum_t				*alpn;
	unsigned				 nalpn;
	FILE					*keylog;
	int					 verify;	/* run verify_peer */
};

struct tls {
	struct tls_ctx		*ctx;
	gnutls_session_t	 s;
	uv_timer_t		 defer;		/* the client's first step */
	struct stream		*st;
	const struct tls_events	*ev;
	void			*arg;
	const char		*name;		/* expected peer name, or NULL */
	char			*in;		/* ciphertext not yet pulled */
	size_t			 inoff, inlen, incap;
	char			*out;		/* records pushed, not yet written */
	size_t			 outlen, outcap;
	int			 handshaking;
	int			 raw_eof;
	int			 done;		/* peer's direction has ended */
	int			 busy;		/* inside process() */
	int			 dead;		/* tls_free called while busy */
	int			 verify_failed;
	int			 got_data;	/* application data arrived */
	int			 sent_data;	/* application data went out */
	int			 got_bytes;	/* anything arrived at all */
	int			 lost;		/* read/write error that ended it */
	int			 after_starttls;
	unsigned char		 rec[7];	/* record header (+ alert) seen */
	size_t			 reclen;	/* bytes of rec[] filled */
	size_t			 recleft;	/* body of that record to skip */
	int			 clear_alert;	/* plaintext alert's code, or -1 */
	char			 verify_err[512];
};

static int
fail(char *err, size_t errlen, int *status, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
fail(char *err, size_t errlen, int *status, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*status = code;
	return -1;
}

/* SHA-256 of the SubjectPublicKeyInfo, as --pin takes it. */
static int
spki_sha256(gnutls_x509_crt_t crt, unsigned char out[PIN_LEN])
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

static void
pin_text(const unsigned char pin[PIN_LEN], char *buf, size_t len)
{
	gnutls_datum_t	 raw = { (unsigned char *)pin, PIN_LEN }, b64;

	if (gnutls_base64_encode2(&raw, &b64) < 0) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "sha256:%.*s", (int)b64.size, b64.data);
	gnutls_free(b64.data);
}

/*
 * Verification by hand rather than gnutls_session_set_verify_cert(), so that
 * the pins are checked too and the reason is kept for the error line.
 */
static int
verify_peer(gnutls_session_t s)
{
	struct tls		*t = gnutls_session_get_ptr(s);
	const struct options	*o = t->ctx->o;
	const gnutls_datum_t	*certs;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 out;
	unsigned char		 pin[PIN_LEN];
	unsigned		 status, n;
	int			 rc, i;

	if (!o->insecure) {
		rc = gnutls_certificate_verify_peers3(s, t->name, &status);
		if (rc < 0) {
			snprintf(t->verify_err, sizeof(t->verify_err),
			    "cannot verify the certificate: %s",
			    gnutls_strerror(rc));
			goto bad;
		}
		if (status != 0) {
			if (gnutls_certificate_verification_status_print(status,
			    GNUTLS_CRT_X509, &out, 0) < 0) {
				snprintf(t->verify_err, sizeof(t->verify_err),
				    "certificate does not verify");
			} else {
				while (out.size > 0 &&
				    out.data[out.size - 1] == ' ')
					out.data[--out.size] = '\0';
				snprintf(t->verify_err, sizeof(t->verify_err),
				    "certificate verification failed: %s%s%s%s",
				    (char *)out.data,
				    t->name ? " (expected name " : "",
				    t->name ? t->name : "", t->name ? ")" : "");
				gnutls_free(out.data);
			}
			goto bad;
		}
	}
	if (o->npins == 0)
		return 0;
	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0) {
		snprintf(t->verify_err, sizeof(t->verify_err),
		    "the peer sent no certificate to check the pin against");
		goto bad;
	}
	rc = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER);
	if (rc >= 0)
		rc = spki_sha256(crt, pin);
	gnutls_x509_crt_deinit(crt);
	if (rc < 0) {
		snprintf(t->verify_err, sizeof(t->verify_err),
		    "cannot read the peer certificate's key");
		goto bad;
	}
	for (i = 0; i < o->npins; i++)
		if (memcmp(pin, o->pins[i], PIN_LEN) == 0)
			return 0;
	{
		char	txt[80];

		pin_text(pin, txt, sizeof(txt));
		snprintf(t->verify_err, sizeof(t->verify_err),
		    "certificate pin mismatch: the peer's key is %s", txt);
	}
bad:
	t->verify_failed = 1;
	return -1;
}

static int
keylog_line(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
	struct tls	*t = gnutls_session_get_ptr(s);
	gnutls_datum_t	 crand, srand;
	FILE		*f = t->ctx->keylog;

	gnutls_session_get_random(s, &crand, &srand);
	fprintf(f, "%s ", label);
	for (unsigned i = 0; i < crand.size; i++)
		fprintf(f, "%02x", crand.data[i]);
	fputc(' ', f);
	for (unsigned i = 0; i < secret->size; i++)
		fprintf(f, "%02x", secret->data[i]);
	fputc('\n', f);
	fflush(f);
	return 0;
}

/*
 * The key log holds every session's secrets: mode 0600, never through a
 * symbolic link, only a regular file (O_NONBLOCK: opening a FIFO must not
 * hang the start).  A file of ours that others can read is tightened; one
 * of someone else's is refused.
 */
static FILE *
keylog_open(const char *what, const char *path, char *err, size_t errlen,
    int *status)
{
	struct stat	 sb;
	FILE		*f;
	int		 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK, 0600);
	if (fd == -1) {
		fail(err, errlen, status, 2, "%s %s: %s", what, path,
		    errno == ELOOP ? "a symbolic link: refused" :
		    errno == ENXIO ? "not a regular file" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		fail(err, errlen, status, 2, "%s %s: not a regular file", what,
		    path);
		goto bad;
	}
	if ((sb.st_mode & 077) != 0) {
		if (sb.st_uid != geteuid()) {
			fail(err, errlen, status, 2, "%s %s: group or others "
			    "may read it, and it is not ours to tighten: refused",
			    what, path);
			goto bad;
		}
		if (fchmod(fd, 0600) == -1) {
			fail(err, errlen, status, 2, "%s %s: %s", what, path,
			    strerror(errno));
			goto bad;
		}
		log_warn("%s %s: group or others could read it: now mode "
		    "0600", what, path);
	}
	if ((f = fdopen(fd, "a")) == NULL) {
		fail(err, errlen, status, 1, "%s %s: %s", what, path,
		    strerror(errno));
		goto bad;
	}
	return f;
bad:
	close(fd);
	return NULL;
}

/* A throwaway ECDSA P-256 certificate for localhost, made in memory. */
static int
self_signed(struct tls_ctx *c, char *err, size_t errlen, int *status)
{
	gnutls_x509_privkey_t	 key = NULL;
	gnutls_x509_crt_t	 crt = NULL;
	unsigned char		 serial[16], fpr[32], pin[PIN_LEN];
	unsigned char		 v4[4] = { 127, 0, 0, 1 }, v6[16] = { 0 };
	char			 host[256], fhex[3 * 32 + 1], ptxt[80];
	size_t			 flen = sizeof(fpr);
	time_t			 now = time(NULL);
	int			 rc;

	v6[15] = 1;
	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (rc = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto out;
	serial[0] &= 0x7f;
	if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt,
	    now + 30 * 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, "localhost", 9)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    "localhost", 9, GNUTLS_FSAN_APPEND)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt,
	    GNUTLS_SAN_IPADDRESS, v4, 4, GNUTLS_FSAN_APPEND)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt,
	    GNUTLS_SAN_IPADDRESS, v6, 16, GNUTLS_FSAN_APPEND)) < 0)
		goto out;
	if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0' &&
	    strcmp(host, "localhost") != 0 &&
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
	    host, strlen(host), GNUTLS_FSAN_APPEND)) < 0)
		goto out;
	if ((rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt,
	    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt,
	    GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
	    0)) < 0 ||
	    (rc = gnutls_certificate_set_x509_key(c->cred, &crt, 1, key)) < 0 ||
	    (rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fpr,
	    &flen)) < 0)
		goto out;
	for (size_t i = 0; i < flen; i++)
		snprintf(fhex + 3 * i, 4, "%02X%s", fpr[i],
		    i + 1 < flen ? ":" : "");
	if (spki_sha256(crt, pin) == 0)
		pin_text(pin, ptxt, sizeof(ptxt));
	else
		snprintf(ptxt, sizeof(ptxt), "?");
	log_warn("self-signed certificate for localhost, SHA-256 fingerprint "
	    "%s; a client trusts it with --insecure --pin=%s", fhex, ptxt);
out:
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	if (rc < 0)
		return fail(err, errlen, status, 2,
		    "cannot make a self-signed certificate: %s",
		    gnutls_strerror(rc));
	return 0;
}

static int
load_alpn(struct tls_ctx *c, char *err, size_t errlen, int *status)
{
	const char	*p = c->o->alpn, *comma;
	size_t		 len;
	unsigned	 n = 1;

	for (const char *q = p; *q; q++)
		n += *q == ',';
	if ((c->alpn = calloc(n, sizeof(*c->alpn))) == NULL)
		return fail(err, errlen, status, 1, "out of memory");
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

struct tls_ctx *
tls_ctx_new(const struct options *o, char *err, size_t errlen, int *status)
{
	struct tls_ctx	*c;
	const char	*errpos = NULL, *keylog;
	int		 rc, want_keylog, server = o->role == ROLE_SERVER;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fail(err, errlen, status, 1, "out of memory");
		return NULL;
	}
	c->o = o;
	if ((rc = gnutls_certificate_allocate_credentials(&c->cred)) < 0) {
		fail(err, errlen, status, 1, "GnuTLS: %s", gnutls_strerror(rc));
		goto bad;
	}
	if (o->cafile != NULL) {
		rc = gnutls_certificate_set_x509_trust_file(c->cred, o->cafile,
		    GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			fail(err, errlen, status, 2, "--cafile %s: %s",
			    o->cafile, rc < 0 ? gnutls_strerror(rc) :
			    "no certificates in it");
			goto bad;
		}
	} else if (!server && !o->insecure) {
		/* Once per process: a listen-mode client shares it. */
		rc = gnutls_certificate_set_x509_system_trust(c->cred);
		if (rc <= 0)
			log_warn("the system trust store is empty or missing "
			    "(%s): use --cafile or --pin",
			    rc < 0 ? gnutls_strerror(rc) : "no certificates");
	}
	if (o->cert != NULL) {
		rc = gnutls_certificate_set_x509_key_file2(c->cred, o->cert,
		    o->key, GNUTLS_X509_FMT_PEM, NULL, 0);
		if (rc < 0) {
			fail(err, errlen, status, 2, "--cert %s / --key %s: %s",
			    o->cert, o->key, gnutls_strerror(rc));
			goto bad;
		}
	} else if (o->self_signed && self_signed(c, err, errlen, status) == -1)
		goto bad;
	c->verify = server ? o->verify_client : (!o->insecure || o->npins > 0);
	if (c->verify)
		gnutls_certificate_set_verify_function(c->cred, verify_peer);
	rc = gnutls_priority_init2(&c->prio,
	    o->priority ? o->priority : DEFAULT_PRIORITY, &errpos, 0);
	if (rc < 0) {
		fail(err, errlen, status, 2, "--priority: %s at '%s'",
		    gnutls_strerror(rc), errpos ? errpos : "");
		c->prio = NULL;
		goto bad;
	}
	if (o->alpn != NULL && load_alpn(c, err, errlen, status) == -1)
		goto bad;
	/*
	 * Without a key log function GnuTLS opens SSLKEYLOGFILE itself, mode
	 * 0644: take it over, and out of the environment before any session.
	 */
	keylog = o->keylog ? o->keylog : getenv("SSLKEYLOGFILE");
	want_keylog = o->keylog != NULL || (keylog != NULL && *keylog != '\0');
	if (want_keylog)
		c->keylog = keylog_open(o->keylog ? "--keylog" :
		    "SSLKEYLOGFILE", keylog, err, errlen, status);
	unsetenv("SSLKEYLOGFILE");
	if (want_keylog && c->keylog == NULL)
		goto bad;
	if (!server && o->insecure)
		log_security("--insecure: the server's certificate is NOT "
		    "verified%s",
		    o->npins ? " (only its key pin is checked)" :
		    "; anyone on the path can read and change this session");
	return c;
bad:
	tls_ctx_free(c);
	return NULL;
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
	free(c->alpn);
	free(c);
}

/* GnuTLS hands over whole records: gather them for one write. */
static ssize_t
push(gnutls_transport_ptr_t p, const giovec_t *iov, int iovcnt)
{
	struct tls	*t = p;
	size_t		 total = 0, need;
	char		*nb;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	need = t->outlen + total;
	if (need > t->outcap) {
		size_t	cap = t->outcap ? t->outcap : MAX_RECORD + 1024;

		while (cap < need)
			cap *= 2;
		if ((nb = realloc(t->out, cap)) == NULL) {
			gnutls_transport_set_errno(t->s, ENOMEM);
			return -1;
		}
		t->out = nb;
		t->outcap = cap;
	}
	for (int i = 0; i < iovcnt; i++) {
		memcpy(t->out + t->outlen, iov[i].iov_base, iov[i].iov_len);
		t->outlen += iov[i].iov_len;
	}
	return (ssize_t)total;
}

static ssize_t
pull(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	struct tls	*t = p;
	size_t		 avail = t->inlen - t->inoff;

	if (avail == 0) {
		if (t->raw_eof)
			return 0;
		gnutls_transport_set_errno(t->s, EAGAIN);
		return -1;
	}
	if (len > avail)
		len = avail;
	memcpy(buf, t->in + t->inoff, len);
	t->inoff += len;
	return (ssize_t)len;
}

static int
pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
	struct tls	*t = p;

	(void)ms;
	return t->inlen > t->inoff || t->raw_eof ? 1 : 0;
}

/* Hand what GnuTLS pushed to the stream in one write. */
static int
flush(struct tls *t)
{
	int	rc;

	if (t->outlen == 0)
		return 0;
	rc = stream_write(t->st, t->out, t->outlen);
	t->out = NULL;
	t->outlen = t->outcap = 0;
	return rc;
}

static char *
on_alloc(struct stream *st, size_t *len, void *arg)
{
	struct tls	*t = arg;
	char		*nb;

	(void)st;
	if (t->inoff == t->inlen)
		t->inoff = t->inlen = 0;
	if (t->incap - t->inlen < IN_ROOM && t->inoff > 0) {
		memmove(t->in, t->in + t->inoff, t->inlen - t->inoff);
		t->inlen -= t->inoff;
		t->inoff = 0;
	}
	if (t->incap - t->inlen < IN_ROOM) {
		if ((nb = realloc(t->in, t->inlen + IN_ROOM)) == NULL)
			return NULL;
		t->in = nb;
		t->incap = t->inlen + IN_ROOM;
	}
	*len = t->incap - t->inlen;
	return t->in + t->inlen;
}

/*
 * During the handshake, follow the records as they arrive to catch an
 * alert sent in the clear where keys are already in use: OpenSSL's TLS 1.3
 * client does that when it rejects our certificate, and GnuTLS, trying to
 * decrypt it, says only "Decryption has failed".  A plaintext alert is a
 * record of type 21 with a body of 2 bytes; an encrypted one is longer.
 */
static void
watch_records(struct tls *t, const unsigned char *p, size_t n)
{
	size_t	k;

	while (n > 0) {
		if (t->recleft > 0) {
			k = n < t->recleft ? n : t->recleft;
			p += k;
			n -= k;
			t->recleft -= k;
			continue;
		}
		t->rec[t->reclen++] = *p++;
		n--;
		if (t->reclen == 5 && (t->rec[0] != 21 || t->rec[3] != 0 ||
		    t->rec[4] != 2)) {
			t->recleft = (size_t)t->rec[3] << 8 | t->rec[4];
			t->reclen = 0;
		} else if (t->reclen == sizeof(t->rec)) {
			t->clear_alert = t->rec[6];
			t->reclen = 0;
		}
	}
}

/* An alert from the peer, by GnuTLS's name; what it says of our cert. */
static void
alert_text(struct tls *t, int alert, char *buf, size_t len)
{
	const char	*name = gnutls_alert_get_name(alert);
	int		 ours = t->ctx->o->role == ROLE_SERVER ||
			    t->ctx->o->cert != NULL;

	switch (alert) {
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_REVOKED:
	case GNUTLS_A_CERTIFICATE_EXPIRED:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_CERTIFICATE_REQUIRED:
		if (ours) {
			snprintf(buf, len, "the peer rejected our certificate: "
			    "alert '%s'", name);
			return;
		}
		break;
	default:
		break;
	}
	if (name != NULL)
		snprintf(buf, len, "the peer sent alert '%s'", name);
	else
		snprintf(buf, len, "the peer sent alert %d", alert);
}

static void
handshake_failed(struct tls *t, int rc)
{
	char	msg[700], alert[300];

	/* Tell the peer why, unless it is the one who ended it. */
	if (rc != GNUTLS_E_FATAL_ALERT_RECEIVED &&
	    rc != GNUTLS_E_PREMATURE_TERMINATION && !t->raw_eof &&
	    t->clear_alert < 0) {
		gnutls_alert_send_appropriate(t->s, rc);
		flush(t);
	}
	if (t->verify_failed) {
		t->ev->handshake(t->arg, 6, t->verify_err);
		return;
	}
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || t->clear_alert >= 0) {
		alert_text(t, rc == GNUTLS_E_FATAL_ALERT_RECEIVED ?
		    (int)gnutls_alert_get(t->s) : t->clear_alert, alert,
		    sizeof(alert));
		snprintf(msg, sizeof(msg), "TLS handshake failed: %s", alert);
	} else if (rc == GNUTLS_E_PREMATURE_TERMINATION || (rc == GNUTLS_E_AGAIN &&
	    t->raw_eof))
		snprintf(msg, sizeof(msg), "TLS handshake failed: the peer "
		    "closed the connection");
	else
		snprintf(msg, sizeof(msg), "TLS handshake failed: %s",
		    gnutls_strerror(rc));
	t->ev->handshake(t->arg, 5, msg);
}

/*
 * Hand the records decrypted so far over in one call, from GnuTLS's own
 * buffers: no copy unless the sink cannot take them at once.
 */
static void
deliver(struct tls *t, gnutls_packet_t *pk, uv_buf_t *bufs, unsigned *n)
{
	if (*n > 0 && !t->dead)
		t->ev->data(t->arg, bufs, *n);
	while (*n > 0)
		gnutls_packet_deinit(pk[--*n]);
}

/*
 * TLS 1.2 renegotiation, asked by a client's ClientHello or a server's
 * HelloRequest, is refused: nothing here needs it, and receiving again
 * after GNUTLS_E_REHANDSHAKE makes GnuTLS drop the buffered ClientHello
 * without freeing it.  no_renegotiation is only ever a warning (RFC 5246,
 * 7.2.2), so close_notify follows it to end the session.
 */
static void
refuse_renegotiation(struct tls *t)
{
	if (gnutls_alert_send(t->s, GNUTLS_AL_WARNING,
	    GNUTLS_A_NO_RENEGOTIATION) == 0)
		gnutls_bye(t->s, GNUTLS_SHUT_WR);
	flush(t);
	t->ev->error(t->arg, 1, "renegotiation refused: sent no_renegotiation "
	    "and close_notify");
}

/* Decrypt every complete record at hand and deliver them in batches. */
static void
receive(struct tls *t)
{
	gnutls_packet_t	 pk[PLAIN_BATCH];
	uv_buf_t	 bufs[PLAIN_BATCH];
	gnutls_datum_t	 d;
	unsigned	 n = 0;
	char		 msg[300];
	size_t		 seen = (size_t)-1;
	ssize_t		 r;

	while (!t->done && !t->dead) {
		pk[n] = NULL;
		r = gnutls_record_recv_packet(t->s, &pk[n]);
		if (r > 0) {
			t->got_data = 1;
			gnutls_packet_get(pk[n], &d, NULL);
			bufs[n] = uv_buf_init((char *)d.data, d.size);
			if (++n == PLAIN_BATCH)
				deliver(t, pk, bufs, &n);
			continue;
		}
		if (pk[n] != NULL)
			gnutls_packet_deinit(pk[n]);
		/*
		 * GnuTLS also says AGAIN after it handled a record of its own
		 * (a session ticket, say): go on while it consumes our input.
		 */
		if (r == GNUTLS_E_AGAIN && t->inoff < t->inlen &&
		    t->inoff != seen) {
			seen = t->inoff;
			continue;
		}
		if (r == GNUTLS_E_AGAIN && !t->raw_eof)
			break;
		if (r == GNUTLS_E_INTERRUPTED || (r < 0 && r != GNUTLS_E_AGAIN &&
		    r != GNUTLS_E_REHANDSHAKE && !gnutls_error_is_fatal(r)))
			continue;
		deliver(t, pk, bufs, &n);
		if (t->dead)
			break;
		t->done = 1;
		if (r == 0)
			t->ev->eof(t->arg, 1);
		else if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_PREMATURE_TERMINATION)
			t->ev->eof(t->arg, 0);
		else if (r == GNUTLS_E_REHANDSHAKE)
			refuse_renegotiation(t);
		else if (r == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			/*
			 * In TLS 1.3 a client learns that the server refused
			 * it (its certificate, say) only after its handshake.
			 */
			alert_text(t, (int)gnutls_alert_get(t->s), msg,
			    sizeof(msg));
			t->ev->error(t->arg, t->got_data ? 1 : 5, msg);
		} else {
			snprintf(msg, sizeof(msg), "TLS: %s", gnutls_strerror(r));
			t->ev->error(t->arg, 1, msg);
		}
	}
	deliver(t, pk, bufs, &n);
}

/* What GnuTLS wrote could not be sent: the handshake cannot go on. */
static void
handshake_unsent(struct tls *t, int rc)
{
	char	msg[200];

	t->done = 1;
	t->lost = rc;
	snprintf(msg, sizeof(msg), "TLS handshake failed: write: %s",
	    uv_strerror(rc));
	t->ev->handshake(t->arg, 5, msg);
}

static void
process(struct tls *t)
{
	char	msg[200];
	int	rc, wrc;

	t->busy++;
	while (t->handshaking) {
		rc = gnutls_handshake(t->s);
		if ((wrc = flush(t)) != 0) {
			handshake_unsent(t, wrc);
			goto out;
		}
		if (rc == 0) {
			t->handshaking = 0;
			t->ev->handshake(t->arg, 0, NULL);
			break;
		}
		if ((rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) &&
		    !t->raw_eof)
			goto out;
		if (rc == GNUTLS_E_AGAIN || gnutls_error_is_fatal(rc)) {
			t->done = 1;
			handshake_failed(t, rc);
			goto out;
		}
	}
	if (!t->dead)
		receive(t);
	if (!t->dead && (wrc = flush(t)) != 0 && !t->done) {
		t->done = 1;
		snprintf(msg, sizeof(msg), "write: %s", uv_strerror(wrc));
		t->ev->error(t->arg, 1, msg);
	}
out:
	/* Idle sessions keep no buffer: most of a session's memory is here. */
	if (t->inoff == t->inlen) {
		free(t->in);
		t->in = NULL;
		t->inoff = t->inlen = t->incap = 0;
	}
	if (--t->busy == 0 && t->dead)
		tls_free(t);
}

/*
 * The first byte of a TLS connection is a record type (handshake, alert).
 * Anything else is clear text: after a STARTTLS switch, bytes that someone
 * slipped in behind the switch command or its reply (injection).
 */
static int
looks_like_tls(struct tls *t, const char *buf, size_t len)
{
	char	shown[41];
	size_t	i;

	t->got_bytes = 1;
	if (buf[0] >= 0x14 && buf[0] <= 0x17)
		return 1;
	for (i = 0; i < len && i < sizeof(shown) - 1; i++)
		shown[i] = buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.';
	shown[i] = '\0';
	t->done = 1;
	if (t->after_starttls)
		t->ev->handshake(t->arg, 4, t->ctx->o->role == ROLE_SERVER ?
		    "clear text arrived where the ClientHello should be "
		    "(command injection?)" : "clear text arrived where the "
		    "ServerHello should be (response injection?)");
	else {
		char	msg[120];

		snprintf(msg, sizeof(msg), "the peer does not speak TLS: it "
		    "sent '%s'", shown);
		t->ev->handshake(t->arg, 5, msg);
	}
	return 0;
}

static void
on_read(struct stream *st, ssize_t n, char *buf, void *arg)
{
	struct tls	*t = arg;
	char		 msg[200];

	(void)st;
	(void)buf;	/* it points into t->in */
	if (n == 0 || t->done)
		return;
	/* XMPP: white space between elements, before the first record. */
	if (n > 0 && !t->got_bytes && t->after_starttls == TLS_AFTER_SPACE) {
		size_t	ws = 0;

		while (ws < (size_t)n && strchr(" \t\r\n", buf[ws]) != NULL &&
		    buf[ws] != '\0')
			ws++;
		memmove(buf, buf + ws, (size_t)n - ws);
		if ((n -= (ssize_t)ws) == 0)
			return;
	}
	if (n > 0 && !t->got_bytes && !looks_like_tls(t, buf, (size_t)n))
		return;
	if (n > 0 && t->handshaking)
		watch_records(t, (const unsigned char *)buf, (size_t)n);
	if (n > 0)
		t->inlen += (size_t)n;
	else if (n == UV_EOF)
		t->raw_eof = 1;
	else {
		t->done = 1;
		t->lost = (int)n;
		snprintf(msg, sizeof(msg), "read: %s", uv_strerror((int)n));
		if (t->handshaking)
			t->ev->handshake(t->arg, 5, msg);
		else
			t->ev->error(t->arg, 1, msg);
		return;
	}
	if (t->raw_eof)
		stream_read(t->st, 0);
	process(t);
}

/* The client's first flight, from the loop: see tls_start. */
static void
first_step(uv_timer_t *h)
{
	process(h->data);
}

struct tls *
tls_start(uv_loop_t *loop, struct tls_ctx *c, struct stream *st,
    const char *name, int after_starttls, const struct tls_events *ev,
    void *arg, char *err, size_t errlen)
{
	struct tls	*t;
	struct in6_addr	 ip;
	int		 rc, server = c->o->role == ROLE_SERVER;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->ctx = c;
	t->st = st;
	t->ev = ev;
	t->arg = arg;
	t->name = name;
	t->after_starttls = after_starttls;
	t->handshaking = 1;
	t->clear_alert = -1;
	rc = gnutls_init(&t->s, (server ? GNUTLS_SERVER | GNUTLS_NO_TICKETS :
	    GNUTLS_CLIENT) | GNUTLS_NONBLOCK);
	if (rc < 0) {
		snprintf(err, errlen, "GnuTLS: %s", gnutls_strerror(rc));
		free(t);
		return NULL;
	}
	gnutls_session_set_ptr(t->s, t);
	if ((rc = gnutls_priority_set(t->s, c->prio)) < 0 ||
	    (rc = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE,
	    c->cred)) < 0)
		goto bad;
	if (!server && name != NULL && inet_pton(AF_INET, name, &ip) != 1 &&
	    inet_pton(AF_INET6, name, &ip) != 1 &&
	    (rc = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, name,
	    strlen(name))) < 0)
		goto bad;
	if (server && c->o->verify_client)
		gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
	if (c->nalpn > 0 &&
	    (rc = gnutls_alpn_set_protocols(t->s, c->alpn, c->nalpn, 0)) < 0)
		goto bad;
	if (c->keylog != NULL)
		gnutls_session_set_keylog_function(t->s, keylog_line);
	/* Our own timer bounds the handshake (--timeout). */
	gnutls_handshake_set_timeout(t->s, GNUTLS_INDEFINITE_TIMEOUT);
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_vec_push_function(t->s, push);
	gnutls_transport_set_pull_function(t->s, pull);
	gnutls_transport_set_pull_timeout_function(t->s, pull_timeout);
	uv_timer_init(loop, &t->defer);
	t->defer.data = t;
	stream_set_reader(st, on_alloc, on_read, t);
	if ((rc = stream_read(st, 1)) != 0) {
		snprintf(err, errlen, "read: %s", uv_strerror(rc));
		tls_free(t);
		return NULL;
	}
	/*
	 * A client speaks first, but not from here: the events of a first
	 * step that fails would reach a caller that does not hold the
	 * handle yet.  Like libuv, call back only from the loop.
	 */
	if (!server)
		uv_timer_start(&t->defer, first_step, 0, 0);
	return t;
bad:
	snprintf(err, errlen, "GnuTLS: %s", gnutls_strerror(rc));
	gnutls_deinit(t->s);
	free(t);
	return NULL;
}

/*
 * Encrypt and queue; the caller watches stream_queued() for backpressure.
 * 0 or a libuv error.
 */
int
tls_write(struct tls *t, const char *buf, size_t len)
{
	ssize_t	n;
	size_t	need;
	char	*nb;

	/*
	 * Room for all the records up front (per record at most 256 bytes of
	 * header, tag and padding), so push() never grows the buffer by
	 * copying it.
	 */
	need = t->outlen + len + (len / MAX_RECORD + 1) * 256;
	if (need > t->outcap) {
		if ((nb = realloc(t->out, need)) == NULL)
			return UV_ENOMEM;
		t->out = nb;
		t->outcap = need;
	}
	t->sent_data |= len > 0;
	while (len > 0) {
		n = gnutls_record_send(t->s, buf, len);
		if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
			continue;
		if (n < 0)
			return UV_EIO;
		buf += n;
		len -= (size_t)n;
	}
	return flush(t);
}

int
tls_read(struct tls *t, int on)
{
	if (t->done || t->raw_eof)
		return 0;
	return stream_read(t->st, on);
}

/*
 * close_notify, then end the stream's writing; reading goes on.  0 or a
 * libuv error.
 */
int
tls_shutdown(struct tls *t)
{
	int	rc;

	do
		rc = gnutls_bye(t->s, GNUTLS_SHUT_WR);
	while (rc == GNUTLS_E_INTERRUPTED);
	if ((rc = flush(t)) != 0)
		return rc;
	return stream_shutdown(t->st);
}

/* Application data went either way. */
int
tls_exchanged(const struct tls *t)
{
	return t->got_data || t->sent_data;
}

/*
 * The connection ended before the peer sent a single byte: UV_EOF, or the
 * read or write error (a reset); else 0.
 */
int
tls_silent_end(const struct tls *t)
{
	if (t->got_bytes)
		return 0;
	return t->lost != 0 ? t->lost : t->raw_eof ? UV_EOF : 0;
}

void
tls_describe(struct tls *t, char *buf, size_t len)
{
	const gnutls_datum_t	*certs;
	gnutls_x509_crt_t	 crt;
	gnutls_datum_t		 dn = { NULL, 0 }, alpn;
	char			*desc = gnutls_session_get_desc(t->s);
	unsigned		 n;
	const struct options	*o = t->ctx->o;
	const char		*verified;

	certs = gnutls_certificate_get_peers(t->s, &n);
	if (certs != NULL && n > 0 && gnutls_x509_crt_init(&crt) >= 0) {
		if (gnutls_x509_crt_import(crt, &certs[0],
		    GNUTLS_X509_FMT_DER) >= 0)
			gnutls_x509_crt_get_dn3(crt, &dn, 0);
		gnutls_x509_crt_deinit(crt);
	}
	if (!t->ctx->verify)
		verified = o->role == ROLE_SERVER ? "not requested" :
		    "NO (--insecure)";
	else
		verified = o->insecure ? "pin only" : "yes";
	if (gnutls_alpn_get_selected_protocol(t->s, &alpn) < 0)
		alpn.size = 0;
	snprintf(buf, len, "%s, peer %s, verified %s%s%.*s",
	    desc ? desc : "?", dn.data ? (char *)dn.data : "(no certificate)",
	    verified, alpn.size ? ", ALPN " : "", (int)alpn.size,
	    alpn.size ? (char *)alpn.data : "");
	gnutls_free(desc);
	gnutls_free(dn.data);
}

static void
freed(uv_handle_t *h)
{
	free(h->data);
}

/* Done with the stream now; the memory goes once the timer is closed. */
void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->busy > 0) {
		t->dead = 1;
		return;
	}
	stream_read(t->st, 0);
	stream_set_reader(t->st, NULL, NULL, NULL);
	gnutls_deinit(t->s);
	free(t->in);
	free(t->out);
	uv_close((uv_handle_t *)&t->defer, freed);
}
