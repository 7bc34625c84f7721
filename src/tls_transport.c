#include "config.h"

#include <stddef.h>
#include <stdlib.h>

#include <gnutls/gnutls.h>

#include "tls_impl.h"

static void
freed(uv_handle_t *h)
{
	free(h->data);
}

struct transport *
tls_transport(struct tls *t)
{
	return &t->tp;
}

/*
 * Encrypt into the records to go out, not yet written.  Room for all of
 * them up front (per record at most 256 bytes of header, tag and padding),
 * so that push() never grows the buffer by copying it.
 */
static int
seal(struct tls *t, const uv_buf_t *bufs, unsigned nbufs)
{
	const char	*p;
	size_t		 len, total = 0, need;
	ssize_t		 n;
	char		*nb;

	for (unsigned i = 0; i < nbufs; i++)
		total += bufs[i].len;
	need = t->outlen + total + (total / MAX_RECORD + nbufs) * 256;
	if (need > t->outcap) {
		if ((nb = realloc(t->out, need)) == NULL)
			return UV_ENOMEM;
		t->out = nb;
		t->outcap = need;
	}
	t->sent_data |= total > 0;
	for (unsigned i = 0; i < nbufs; i++)
		for (p = bufs[i].base, len = bufs[i].len; len > 0;) {
			n = gnutls_record_send(t->s, p, len);
			if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
				continue;
			if (n < 0)
				return UV_EIO;
			p += n;
			len -= (size_t)n;
		}
	return 0;
}

static int
tls_writev(struct transport *tp, const uv_buf_t *bufs, unsigned n)
{
	struct tls	*t = TLS_OF(tp);
	int		 rc;

	if ((rc = seal(t, bufs, n)) != 0)
		return rc;
	return tls_flush(t);
}

static int
tls_write(struct transport *tp, char *buf, size_t len)
{
	uv_buf_t	b = uv_buf_init(buf, (unsigned)len);
	int		rc;

	rc = tls_writev(tp, &b, 1);
	free(buf);
	return rc;
}

static int
tls_read_start(struct transport *tp)
{
	struct tls	*t = TLS_OF(tp);

	if (t->done || t->raw_eof)
		return 0;
	return transport_read(t->under, 1);
}

static int
tls_read_stop(struct transport *tp)
{
	struct tls	*t = TLS_OF(tp);

	if (t->done || t->raw_eof)
		return 0;
	return transport_read(t->under, 0);
}

/* Records go out as soon as they are made: the queue is the one below. */
static size_t
tls_queued(const struct transport *tp)
{
	const struct tls	*t = TLS_OF_CONST(tp);

	return transport_queued(t->under);
}

/* close_notify, then end the writing below; reading goes on. */
static int
tls_shutdown(struct transport *tp)
{
	struct tls	*t = TLS_OF(tp);
	int		 rc;

	do
		rc = gnutls_bye(t->s, GNUTLS_SHUT_WR);
	while (rc == GNUTLS_E_INTERRUPTED);
	if ((rc = tls_flush(t)) != 0)
		return rc;
	return transport_shutdown(t->under);
}

/* Done with the session, and the transport below closes with it. */
void
tls_destroy(struct tls *t)
{
	transport_read(t->under, 0);
	transport_set_cbs(t->under, NULL, NULL);
	gnutls_deinit(t->s);
	free(t->in);
	free(t->out);
	transport_close(t->under, t->reset, t->closed_cb, t->closed_arg);
	uv_close((uv_handle_t *)&t->defer, freed);
}

/* From inside process(), the end waits for it to return. */
static void
tls_close(struct transport *tp, int reset, void (*cb)(void *), void *arg)
{
	struct tls	*t = TLS_OF(tp);

	t->reset = reset;
	t->closed_cb = cb;
	t->closed_arg = arg;
	if (t->busy > 0)
		t->dead = 1;
	else
		tls_destroy(t);
}

const struct transport_ops tls_transport_ops = {
	tls_read_start, tls_read_stop, tls_write, tls_writev, tls_queued,
	tls_shutdown, tls_close
};
