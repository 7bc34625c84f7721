#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls_impl.h"

#define PLAIN_BATCH	4		/* records per delivery */
#define IN_ROOM		(4 * MAX_RECORD)	/* ciphertext room kept */


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

/* Hand what GnuTLS pushed to the transport below in one write. */
int
tls_flush(struct tls *t)
{
	int	rc;

	if (t->outlen == 0)
		return 0;
	rc = transport_write(t->under, t->out, t->outlen);
	t->out = NULL;
	t->outlen = t->outcap = 0;
	return rc;
}

/* Room for n more bytes of ciphertext: 0, or UV_ENOBUFS. */
static int
room(struct tls *t, size_t n)
{
	size_t	want = n > IN_ROOM ? n : IN_ROOM;
	char	*nb;

	if (t->inoff == t->inlen)
		t->inoff = t->inlen = 0;
	if (t->incap - t->inlen < n && t->inoff > 0) {
		memmove(t->in, t->in + t->inoff, t->inlen - t->inoff);
		t->inlen -= t->inoff;
		t->inoff = 0;
	}
	if (t->incap - t->inlen < n) {
		if ((nb = realloc(t->in, t->inlen + want)) == NULL)
			return UV_ENOBUFS;
		t->in = nb;
		t->incap = t->inlen + want;
	}
	return 0;
}

/* The user's input ended: rc and why as struct transport_cbs says. */
static void
end_input(struct tls *t, int rc, const char *why)
{
	t->tp.cbs->end(t->tp.arg, rc, why);
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
	int		 ours = t->ctx->cfg.server ||
			    t->ctx->cfg.cert != NULL;

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
		tls_flush(t);
	}
	if (t->chk.failed) {
		t->handshake(t->arg, STATUS_VERIFY, t->chk.why);
		return;
	}
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || t->clear_alert >= 0) {
		alert_text(t, rc == GNUTLS_E_FATAL_ALERT_RECEIVED ?
		    (int)gnutls_alert_get(t->s) : t->clear_alert, alert,
		    sizeof(alert));
		snprintf(msg, sizeof(msg), "TLS handshake failed: %s", alert);
	} else if (rc == GNUTLS_E_PREMATURE_TERMINATION ||
	    (rc == GNUTLS_E_AGAIN && t->raw_eof))
		snprintf(msg, sizeof(msg), "TLS handshake failed: the peer "
		    "closed the connection");
	else
		snprintf(msg, sizeof(msg), "TLS handshake failed: %s",
		    gnutls_strerror(rc));
	t->handshake(t->arg, STATUS_HANDSHAKE, msg);
}

/*
 * Hand the records decrypted so far over in one call, from GnuTLS's own
 * buffers: no copy unless the sink cannot take them at once.
 */
static void
deliver(struct tls *t, gnutls_packet_t *pk, uv_buf_t *bufs, unsigned *n)
{
	if (*n > 0 && !t->dead)
		t->tp.cbs->read(t->tp.arg, bufs, *n);
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
	tls_flush(t);
	end_input(t, UV_EPROTO, "renegotiation refused: sent "
	    "no_renegotiation and close_notify");
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
		if (r == GNUTLS_E_INTERRUPTED || (r < 0 &&
		    r != GNUTLS_E_AGAIN && r != GNUTLS_E_REHANDSHAKE &&
		    !gnutls_error_is_fatal(r)))
			continue;
		deliver(t, pk, bufs, &n);
		if (t->dead)
			break;
		t->done = 1;
		if (r == 0)
			end_input(t, UV_EOF, NULL);
		else if (r == GNUTLS_E_AGAIN ||
		    r == GNUTLS_E_PREMATURE_TERMINATION)
			end_input(t, TRANSPORT_TRUNCATED, NULL);
		else if (r == GNUTLS_E_REHANDSHAKE)
			refuse_renegotiation(t);
		else if (r == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			/*
			 * In TLS 1.3 a client learns that the server refused
			 * it (its certificate, say) only after its handshake.
			 */
			alert_text(t, (int)gnutls_alert_get(t->s), msg,
			    sizeof(msg));
			end_input(t, t->got_data ? UV_EPROTO :
			    UV_ECONNREFUSED, msg);
		} else {
			snprintf(msg, sizeof(msg), "TLS: %s",
			    gnutls_strerror(r));
			end_input(t, UV_EPROTO, msg);
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
	t->handshake(t->arg, STATUS_HANDSHAKE, msg);
}

static void
process(struct tls *t)
{
	char	msg[200];
	int	rc, wrc;

	t->busy++;
	while (t->handshaking) {
		rc = gnutls_handshake(t->s);
		if ((wrc = tls_flush(t)) != 0) {
			handshake_unsent(t, wrc);
			goto out;
		}
		if (rc == 0) {
			t->handshaking = 0;
			t->handshake(t->arg, STATUS_OK, NULL);
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
	if (!t->dead && (wrc = tls_flush(t)) != 0 && !t->done) {
		t->done = 1;
		snprintf(msg, sizeof(msg), "write: %s", uv_strerror(wrc));
		end_input(t, wrc, msg);
	}
out:
	/* Idle sessions keep no buffer: most of a session's memory is here. */
	if (t->inoff == t->inlen) {
		free(t->in);
		t->in = NULL;
		t->inoff = t->inlen = t->incap = 0;
	}
	if (--t->busy == 0 && t->dead)
		tls_destroy(t);
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
	if (t->after_starttls == TLS_AFTER_SWITCH ||
	    t->after_starttls == TLS_AFTER_SPACE)
		t->handshake(t->arg, STATUS_NEGOTIATION, NULL);
	else {
		char	msg[120];

		snprintf(msg, sizeof(msg), "the peer does not speak TLS: it "
		    "sent '%s'", shown);
		t->handshake(t->arg, STATUS_HANDSHAKE, msg);
	}
	return 0;
}

/*
 * Ciphertext from below, for pull(): the bytes taken, UV_EPROTO when they
 * cannot be TLS (reported), or UV_ENOBUFS.
 */
static ssize_t
take(struct tls *t, const char *p, size_t n)
{
	int	rc;

	/* XMPP: white space between elements, before the first record. */
	if (!t->got_bytes && t->after_starttls == TLS_AFTER_SPACE)
		while (n > 0 && *p != '\0' && strchr(" \t\r\n", *p) != NULL) {
			p++;
			n--;
		}
	if (n == 0)
		return 0;
	if (!t->got_bytes && !looks_like_tls(t, p, n))
		return UV_EPROTO;
	if (t->handshaking)
		watch_records(t, (const unsigned char *)p, n);
	if ((rc = room(t, n)) != 0)
		return rc;
	memcpy(t->in + t->inlen, p, n);
	t->inlen += n;
	return (ssize_t)n;
}

/* Reading from below failed: the end of the handshake or of the input. */
static void
lost(struct tls *t, int rc)
{
	char	msg[200];

	t->done = 1;
	t->lost = rc;
	snprintf(msg, sizeof(msg), "read: %s", uv_strerror(rc));
	if (t->handshaking)
		t->handshake(t->arg, STATUS_HANDSHAKE, msg);
	else
		end_input(t, rc, msg);
}

static void
under_read(void *arg, const uv_buf_t *bufs, unsigned n)
{
	struct tls	*t = arg;
	ssize_t		 took = 0, rc = 0;

	for (unsigned i = 0; i < n && !t->done && rc >= 0; i++)
		if ((rc = take(t, bufs[i].base, bufs[i].len)) > 0)
			took += rc;
	if (rc == UV_ENOBUFS)
		lost(t, (int)rc);
	else if (took > 0 && !t->done)
		process(t);
}

static void
under_end(void *arg, int rc, const char *why)
{
	struct tls	*t = arg;

	(void)why;
	if (t->done)
		return;
	if (rc != UV_EOF) {
		lost(t, rc);
		return;
	}
	t->raw_eof = 1;
	transport_read(t->under, 0);
	process(t);
}

/* What went below went out: the user's queue went down. */
static void
under_written(void *arg, int status)
{
	struct tls	*t = arg;

	if (t->tp.cbs != NULL)
		t->tp.cbs->written(t->tp.arg, status);
}

static const struct transport_cbs under_cbs = {
	under_read, under_end, under_written
};

/* The client's first flight, from the loop: see tls_start. */
static void
first_step(uv_timer_t *h)
{
	process(h->data);
}

/* The GnuTLS session of a new connection, from the context's settings. */
static int
session_setup(struct tls *t, const char *name, char *err, size_t errlen)
{
	struct tls_ctx	*c = t->ctx;
	struct in6_addr	 ip;
	int		 rc, server = c->cfg.server;

	rc = gnutls_init(&t->s, (!server ? GNUTLS_CLIENT : !c->cfg.tickets ?
	    GNUTLS_SERVER | GNUTLS_NO_TICKETS :
	    t->after_starttls == TLS_FTP_DATA ?
	    GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET : GNUTLS_SERVER) |
	    GNUTLS_NONBLOCK);
	if (rc < 0) {
		t->s = NULL;
		goto bad;
	}
	if (server && c->cfg.tickets &&
	    (rc = gnutls_session_ticket_enable_server(t->s,
	    &c->ticket_key)) < 0)
		goto bad;
	gnutls_session_set_ptr(t->s, &t->chk);
	if ((rc = gnutls_priority_set(t->s, c->prio)) < 0 ||
	    (rc = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE,
	    c->cred)) < 0)
		goto bad;
	if (!server && name != NULL && inet_pton(AF_INET, name, &ip) != 1 &&
	    inet_pton(AF_INET6, name, &ip) != 1 &&
	    (rc = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, name,
	    strlen(name))) < 0)
		goto bad;
	if (server && c->cfg.verify_client)
		gnutls_certificate_server_set_request(t->s,
		    GNUTLS_CERT_REQUIRE);
	if (c->nalpn > 0 &&
	    (rc = gnutls_alpn_set_protocols(t->s, c->alpn, c->nalpn, 0)) < 0)
		goto bad;
	tls_keylog_attach(c, t->s);
	/* Our own timer bounds the handshake (--timeout). */
	gnutls_handshake_set_timeout(t->s, GNUTLS_INDEFINITE_TIMEOUT);
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_vec_push_function(t->s, push);
	gnutls_transport_set_pull_function(t->s, pull);
	gnutls_transport_set_pull_timeout_function(t->s, pull_timeout);
	return 0;
bad:
	snprintf(err, errlen, "GnuTLS: %s", gnutls_strerror(rc));
	if (t->s != NULL)
		gnutls_deinit(t->s);
	return UV_EINVAL;
}

int
tls_start(struct tls **tp, uv_loop_t *loop, struct tls_ctx *c,
    struct transport *under, const char *name, int after_starttls,
    tls_handshake_cb cb, void *arg, char *err, size_t errlen)
{
	struct tls	*t;
	int		 rc;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return UV_ENOMEM;
	}
	t->tp.ops = &tls_transport_ops;
	t->under = under;
	t->ctx = t->chk.ctx = c;
	t->chk.name = name;
	t->handshake = cb;
	t->arg = arg;
	t->after_starttls = after_starttls;
	t->handshaking = 1;
	t->clear_alert = -1;
	if ((rc = session_setup(t, name, err, errlen)) != 0) {
		free(t);
		return rc;
	}
	transport_set_cbs(under, &under_cbs, t);
	if ((rc = transport_read(under, 1)) != 0) {
		snprintf(err, errlen, "read: %s", uv_strerror(rc));
		transport_set_cbs(under, NULL, NULL);
		gnutls_deinit(t->s);
		free(t);
		return rc;
	}
	uv_timer_init(loop, &t->defer);
	t->defer.data = t;
	/*
	 * A client speaks first, but not from here: the events of a first
	 * step that fails would reach a caller that does not hold the
	 * handle yet.  Like libuv, call back only from the loop.
	 */
	if (!c->cfg.server)
		uv_timer_start(&t->defer, first_step, 0, 0);
	*tp = t;
	return 0;
}

/*
 * Direct TLS: a client that names no ALPN protocol is refused too (GnuTLS's
 * mandatory flag refuses only a list without ours), before our ServerHello.
 */
static int
alpn_chosen(gnutls_session_t s, unsigned htype, unsigned when,
    unsigned incoming, const gnutls_datum_t *msg)
{
	gnutls_datum_t	p;

	(void)htype;
	(void)when;
	(void)incoming;
	(void)msg;
	if (gnutls_alpn_get_selected_protocol(s, &p) < 0)
		return GNUTLS_E_NO_APPLICATION_PROTOCOL;
	return 0;
}

int
tls_direct(struct tls *t, const char *alpn, const char *buf, size_t len)
{
	gnutls_datum_t	proto = { (unsigned char *)alpn,
			    (unsigned)strlen(alpn) };
	ssize_t		rc;

	/* A record's type first, or take() would report from here. */
	if (len == 0 || buf[0] < 0x14 || buf[0] > 0x17 ||
	    gnutls_alpn_set_protocols(t->s, &proto, 1,
	    GNUTLS_ALPN_MANDATORY) < 0)
		return UV_EINVAL;
	gnutls_handshake_set_hook_function(t->s, GNUTLS_HANDSHAKE_SERVER_HELLO,
	    GNUTLS_HOOK_PRE, alpn_chosen);
	if ((rc = take(t, buf, len)) < 0)
		return (int)rc;
	/* Like the client's first step: call back from the loop only. */
	uv_timer_start(&t->defer, first_step, 0, 0);
	return 0;
}

/* Application data went either way. */
int
tls_exchanged(const struct tls *t)
{
	return t->got_data || t->sent_data;
}

/*
 * Client role, before the handshake: offer to resume the session of from
 * (an FTP data connection, the control's).  With TLS 1.3 its ticket came
 * after its handshake: what from holds now.  0, or a libuv error.
 */
int
tls_resume(struct tls *t, const struct tls *from)
{
	gnutls_datum_t	d;
	int		rc;

	if (gnutls_session_get_data2(from->s, &d) < 0)
		return UV_EINVAL;
	rc = gnutls_session_set_data(t->s, d.data, d.size);
	gnutls_free(d.data);
	return rc < 0 ? UV_EINVAL : 0;
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

	certs = gnutls_certificate_get_peers(t->s, &n);
	if (certs != NULL && n > 0 && gnutls_x509_crt_init(&crt) >= 0) {
		if (gnutls_x509_crt_import(crt, &certs[0],
		    GNUTLS_X509_FMT_DER) >= 0)
			gnutls_x509_crt_get_dn3(crt, &dn, 0);
		gnutls_x509_crt_deinit(crt);
	}
	if (gnutls_alpn_get_selected_protocol(t->s, &alpn) < 0)
		alpn.size = 0;
	snprintf(buf, len, "%s, peer %s, verified %s%s%.*s",
	    desc ? desc : "?", dn.data ? (char *)dn.data : "(no certificate)",
	    tls_verified(t->ctx), alpn.size ? ", ALPN " : "", (int)alpn.size,
	    alpn.size ? (char *)alpn.data : "");
	gnutls_free(desc);
	gnutls_free(dn.data);
}
