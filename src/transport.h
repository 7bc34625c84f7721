/*
 * A byte transport, as the relay sees each side: a plain stream, or TLS
 * over one.  The relay pumps two of them and never asks which kind it has.
 * Returns are 0 or a libuv error; the callbacks come from the loop.
 */
#ifndef TRANSPORT_H
#define TRANSPORT_H

#include <stddef.h>
#include <uv.h>

/*
 * An end of input that anyone on the path could have forged (no TLS
 * close_notify): a possible truncation.
 */
#define TRANSPORT_TRUNCATED	UV_ECONNABORTED

struct transport;

struct transport_cbs {
	/* Bytes read, valid during the call only. */
	void	(*read)(void *, const uv_buf_t *, unsigned);
	/*
	 * Input ended: UV_EOF at its clean end, TRANSPORT_TRUNCATED, or an
	 * error; why says what happened, or is NULL for rc alone to say.
	 */
	void	(*end)(void *, int rc, const char *why);
	/* A write finished (status 0) or failed; queued bytes went down. */
	void	(*written)(void *, int status);
};

struct transport_ops {
	int	(*read_start)(struct transport *);
	int	(*read_stop)(struct transport *);
	/* Takes buf, allocated with malloc. */
	int	(*write)(struct transport *, char *buf, size_t len);
	/* Copies what it cannot write at once: bufs are not taken. */
	int	(*writev)(struct transport *, const uv_buf_t *, unsigned);
	size_t	(*queued)(const struct transport *);
	/* End our direction once the queue is out; reading goes on. */
	int	(*shutdown)(struct transport *);
	/* reset: a failure, not a clean end, as the peer should see it. */
	void	(*close)(struct transport *, int reset, void (*)(void *),
		    void *);
};

struct transport {
	const struct transport_ops	*ops;
	const struct transport_cbs	*cbs;
	void				*arg;
};

static inline void
transport_set_cbs(struct transport *t, const struct transport_cbs *cbs,
    void *arg)
{
	t->cbs = cbs;
	t->arg = arg;
}

static inline int
transport_read(struct transport *t, int on)
{
	return on ? t->ops->read_start(t) : t->ops->read_stop(t);
}

static inline int
transport_write(struct transport *t, char *buf, size_t len)
{
	return t->ops->write(t, buf, len);
}

static inline int
transport_writev(struct transport *t, const uv_buf_t *bufs, unsigned n)
{
	return t->ops->writev(t, bufs, n);
}

static inline size_t
transport_queued(const struct transport *t)
{
	return t->ops->queued(t);
}

static inline int
transport_shutdown(struct transport *t)
{
	return t->ops->shutdown(t);
}

static inline void
transport_close(struct transport *t, int reset, void (*cb)(void *),
    void *arg)
{
	t->ops->close(t, reset, cb, arg);
}

#endif
