#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

/* The buffer of each read, freed once the transport's user has seen it. */
#define READ_SIZE	(64 * 1024)

struct half {
	uv_stream_t	*h;	/* NULL when fd is a file */
	int		 fd;	/* a file's descriptor, else -1 */
	int		 sock;	/* shutdown(2) works on it */
};

struct stream {
	struct transport	 tp;	/* first: what the relay sees */
	uv_loop_t		*loop;
	struct half		 r, w;	/* w.h == r.h: one socket for both */
	uv_idle_t		 idle;	/* drives reads of a file */
	int			 reading;
	int			 wclosed;
	int			 wclose_pending; /* after queued writes */
	size_t			 queued;
	int			 closing;
	int			 reset;	/* close a TCP connection with RST */
	int			 open;	/* handles not yet closed */
	void			(*closed_cb)(void *);
	void			*carg;
};

struct wreq {
	uv_write_t	 req;
	struct stream	*st;
	char		*buf;
	size_t		 len;
};

static void	close_writer(struct stream *);
static const struct transport_ops stream_ops;

/*
 * Every stream has its idle handle from the start, used or not: closing it
 * makes stream_close complete from the loop, never inside the call.
 */
struct stream *
stream_new(uv_loop_t *loop)
{
	struct stream	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->tp.ops = &stream_ops;
	st->loop = loop;
	st->r.fd = st->w.fd = -1;
	uv_idle_init(loop, &st->idle);
	st->idle.data = st;
	st->open = 1;
	return st;
}

static int
is_socket(int fd)
{
	struct stat	sb;

	return fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/* Wrap fd in the libuv handle that fits it, or mark it a file. */
static int
open_half(struct stream *st, struct half *hf, int fd, int readable)
{
	union {
		uv_tcp_t	tcp;
		uv_pipe_t	pipe;
		uv_tty_t	tty;
	}		*u;
	int		 rc;

	hf->sock = is_socket(fd);
	switch (uv_guess_handle(fd)) {
	case UV_FILE:
		hf->fd = fd;
		return 0;
	case UV_TCP:
	case UV_NAMED_PIPE:
	case UV_TTY:
		break;
	default:
		return UV_EINVAL;
	}
	/* Zeroed: a handle whose init failed reads as UV_UNKNOWN_HANDLE. */
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return UV_ENOMEM;
	switch (uv_guess_handle(fd)) {
	case UV_TCP:
		if ((rc = uv_tcp_init(st->loop, &u->tcp)) == 0 &&
		    (rc = uv_tcp_open(&u->tcp, fd)) == 0)
			uv_tcp_nodelay(&u->tcp, 1);
		break;
	case UV_NAMED_PIPE:
		if ((rc = uv_pipe_init(st->loop, &u->pipe, 0)) == 0)
			rc = uv_pipe_open(&u->pipe, fd);
		break;
	default:
		rc = uv_tty_init(st->loop, &u->tty, fd, readable);
		break;
	}
	if (rc != 0) {
		/* An initialised handle must go through uv_close. */
		if (((uv_handle_t *)u)->type != UV_UNKNOWN_HANDLE)
			uv_close((uv_handle_t *)u, (uv_close_cb)free);
		else
			free(u);
		return rc;
	}
	hf->h = (uv_stream_t *)u;
	st->open++;
	return 0;
}

int
stream_adopt_fds(struct stream *st, int rfd, int wfd)
{
	int	rc;

	if ((rc = open_half(st, &st->r, rfd, 1)) != 0)
		return rc;
	if (wfd == rfd) {
		st->w = st->r;
		return 0;
	}
	return open_half(st, &st->w, wfd, 0);
}

/* Take over a connected, initialised handle allocated with malloc. */
int
stream_adopt_handle(struct stream *st, uv_stream_t *h)
{
	uv_os_fd_t	fd;

	st->r.h = st->w.h = h;
	st->r.sock = st->w.sock = uv_fileno((uv_handle_t *)h, &fd) == 0 &&
	    is_socket(fd);
	if (h->type == UV_TCP)
		uv_tcp_nodelay((uv_tcp_t *)h, 1);
	st->open++;
	return 0;
}

/* A TCP stream's own address (peer 0) or its peer's: 0, or an error. */
int
stream_address(const struct stream *st, int peer,
    struct sockaddr_storage *ss)
{
	int	len = sizeof(*ss);

	if (st->r.h == NULL || st->r.h->type != UV_TCP)
		return UV_ENOTSUP;
	return peer ? uv_tcp_getpeername((uv_tcp_t *)st->r.h,
	    (struct sockaddr *)ss, &len) :
	    uv_tcp_getsockname((uv_tcp_t *)st->r.h, (struct sockaddr *)ss,
	    &len);
}

/* A terminal: nobody waits for it to end its direction. */
int
stream_is_tty(const struct stream *st)
{
	return st->r.h != NULL && st->r.h->type == UV_TTY;
}

struct transport *
stream_transport(struct stream *st)
{
	return &st->tp;
}

/* Hand a read over: its bytes, or how the input ended.  Takes buf. */
static void
deliver(struct stream *st, ssize_t n, char *buf)
{
	uv_buf_t	b;

	if (n > 0) {
		b = uv_buf_init(buf, (unsigned)n);
		st->tp.cbs->read(st->tp.arg, &b, 1);
	}
	free(buf);
	if (n < 0)
		st->tp.cbs->end(st->tp.arg, (int)n, NULL);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	buf->base = malloc(READ_SIZE);
	buf->len = buf->base != NULL ? READ_SIZE : 0;
}

static void
on_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
	deliver(h->data, n, buf->base);
}

/* Files never block on read, so each turn of the loop reads one chunk. */
static void
on_idle(uv_idle_t *idle)
{
	struct stream	*st = idle->data;
	ssize_t		 n;
	char		*buf;

	if ((buf = malloc(READ_SIZE)) == NULL) {
		uv_idle_stop(idle);
		deliver(st, UV_ENOBUFS, NULL);
		return;
	}
	do
		n = read(st->r.fd, buf, READ_SIZE);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN) {
		free(buf);
		return;
	}
	if (n <= 0) {
		uv_idle_stop(idle);
		st->reading = 0;
	}
	deliver(st, n > 0 ? n : n == 0 ? UV_EOF :
	    uv_translate_sys_error(errno), buf);
}

static int
stream_read(struct stream *st, int on)
{
	int	rc = 0;

	if (st->closing || on == st->reading)
		return 0;
	st->reading = on;
	if (st->r.h != NULL) {
		st->r.h->data = st;
		if (on)
			rc = uv_read_start(st->r.h, on_alloc, on_read);
		else
			rc = uv_read_stop(st->r.h);
	} else if (on)
		rc = uv_idle_start(&st->idle, on_idle);
	else
		rc = uv_idle_stop(&st->idle);
	if (rc != 0)
		st->reading = 0;
	return rc;
}

static void
on_write(uv_write_t *req, int status)
{
	struct wreq	*wr = (struct wreq *)req;
	struct stream	*st = wr->st;

	st->queued -= wr->len;
	free(wr->buf);
	free(wr);
	if (st->wclose_pending && st->queued == 0 && !st->closing)
		close_writer(st);
	if (!st->closing && st->tp.cbs != NULL)
		st->tp.cbs->written(st->tp.arg, status);
}

/* Takes buf, allocated with malloc, and frees it when written. */
static int
stream_write(struct stream *st, char *buf, size_t len)
{
	struct wreq	*wr;
	uv_buf_t	 b;
	ssize_t		 n;
	int		 rc;

	if (st->closing || st->wclosed) {
		free(buf);
		return UV_EPIPE;
	}
	if (st->w.h == NULL) {
		/* A regular file: a plain write(2) never waits on a peer. */
		for (size_t off = 0; off < len; off += (size_t)n) {
			n = write(st->w.fd, buf + off, len - off);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0) {
				rc = n == -1 ? uv_translate_sys_error(errno) :
				    UV_EIO;
				free(buf);
				return rc;
			}
		}
		free(buf);
		return 0;
	}
	/*
	 * Nothing queued: write now, and most of the time that is all (no
	 * request, no buffer kept).  What the kernel did not take is queued.
	 */
	b = uv_buf_init(buf, (unsigned)len);
	if (st->queued == 0) {
		if ((n = uv_try_write(st->w.h, &b, 1)) == (ssize_t)len) {
			free(buf);
			return 0;
		}
		if (n < 0 && n != UV_EAGAIN && n != UV_ENOSYS) {
			free(buf);
			return (int)n;
		}
		if (n > 0)
			b = uv_buf_init(buf + n, (unsigned)(len - (size_t)n));
	}
	if ((wr = malloc(sizeof(*wr))) == NULL) {
		free(buf);
		return UV_ENOMEM;
	}
	wr->st = st;
	wr->buf = buf;
	wr->len = b.len;
	if ((rc = uv_write(&wr->req, st->w.h, &b, 1, on_write)) != 0) {
		free(buf);
		free(wr);
		return rc;
	}
	st->queued += b.len;
	return 0;
}

/*
 * Write copies of bufs (not taken): straight from them when the kernel
 * takes everything, else the rest is copied into one buffer and queued.
 */
static int
stream_writev(struct stream *st, const uv_buf_t *bufs, unsigned n)
{
	size_t	total = 0, done = 0, off = 0, skip;
	ssize_t	w;
	char	*rest;

	for (unsigned i = 0; i < n; i++)
		total += bufs[i].len;
	if (st->w.h != NULL && st->queued == 0 && !st->closing &&
	    !st->wclosed) {
		w = uv_try_write(st->w.h, bufs, n);
		if (w < 0 && w != UV_EAGAIN && w != UV_ENOSYS)
			return (int)w;
		done = w > 0 ? (size_t)w : 0;
	}
	if (done == total)
		return 0;
	if ((rest = malloc(total - done)) == NULL)
		return UV_ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		skip = done > bufs[i].len ? bufs[i].len : done;
		done -= skip;
		memcpy(rest + off, bufs[i].base + skip, bufs[i].len - skip);
		off += bufs[i].len - skip;
	}
	return stream_write(st, rest, off);
}

static size_t
stream_queued(const struct stream *st)
{
	return st->queued;
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	free(req);
}

static void
closed(struct stream *st)
{
	if (st->r.fd != -1)
		close(st->r.fd);
	if (st->w.fd != -1 && st->w.fd != st->r.fd)
		close(st->w.fd);
	if (st->closed_cb != NULL)
		st->closed_cb(st->carg);
	free(st);
}

static void
on_close(uv_handle_t *h)
{
	struct stream	*st = h->data;

	free(h);
	if (--st->open == 0 && st->closing)
		closed(st);
}

static void
on_idle_close(uv_handle_t *h)
{
	struct stream	*st = h->data;

	if (--st->open == 0)
		closed(st);
}

/* Close the write side's own descriptor so that its reader sees EOF. */
static void
close_writer(struct stream *st)
{
	uv_os_fd_t	fd = -1;

	st->wclose_pending = 0;
	if (st->w.h != NULL) {
		uv_fileno((uv_handle_t *)st->w.h, &fd);
		st->w.h->data = st;
		uv_close((uv_handle_t *)st->w.h, on_close);
		st->w.h = NULL;
		/* libuv never closes descriptors 0 to 2: stdout is ours to. */
		if (fd >= 0 && fd <= 2)
			close(fd);
	} else if (st->w.fd != -1) {
		close(st->w.fd);
		st->w.fd = -1;
	}
}

/*
 * Half-close: a socket gets shutdown(SHUT_WR) once queued writes are out;
 * a pipe or file written through its own descriptor is closed, which is how
 * its reader sees end of file.  A tty cannot be half-closed.
 */
static int
stream_shutdown(struct stream *st)
{
	uv_shutdown_t	*req;
	int		 rc;

	if (st->closing || st->wclosed)
		return 0;
	st->wclosed = 1;
	if (st->w.h != NULL && st->w.sock) {
		if ((req = malloc(sizeof(*req))) == NULL)
			return UV_ENOMEM;
		if ((rc = uv_shutdown(req, st->w.h, on_shutdown)) != 0)
			free(req);
		return rc == UV_ENOTCONN ? 0 : rc;
	}
	if ((st->w.h == st->r.h && st->w.fd == st->r.fd) ||
	    (st->w.h != NULL && st->w.h->type == UV_TTY))
		return 0;
	if (st->queued > 0)
		st->wclose_pending = 1;
	else
		close_writer(st);
	return 0;
}

void
stream_close(struct stream *st, void (*cb)(void *), void *arg)
{
	if (st->closing)
		return;
	st->closing = 1;
	st->closed_cb = cb;
	st->carg = arg;
	if (st->r.h != NULL) {
		st->r.h->data = st;
		/* libuv refuses a reset after a shutdown: then a FIN it is. */
		if (!st->reset || st->r.h->type != UV_TCP ||
		    uv_tcp_close_reset((uv_tcp_t *)st->r.h, on_close) != 0)
			uv_close((uv_handle_t *)st->r.h, on_close);
	}
	if (st->w.h != NULL && st->w.h != st->r.h) {
		st->w.h->data = st;
		uv_close((uv_handle_t *)st->w.h, on_close);
	}
	uv_close((uv_handle_t *)&st->idle, on_idle_close);
	st->r.h = st->w.h = NULL;
}

static int
tp_read_start(struct transport *tp)
{
	return stream_read((struct stream *)tp, 1);
}

static int
tp_read_stop(struct transport *tp)
{
	return stream_read((struct stream *)tp, 0);
}

static int
tp_write(struct transport *tp, char *buf, size_t len)
{
	return stream_write((struct stream *)tp, buf, len);
}

static int
tp_writev(struct transport *tp, const uv_buf_t *bufs, unsigned n)
{
	return stream_writev((struct stream *)tp, bufs, n);
}

static size_t
tp_queued(const struct transport *tp)
{
	return stream_queued((const struct stream *)tp);
}

static int
tp_shutdown(struct transport *tp)
{
	return stream_shutdown((struct stream *)tp);
}

/*
 * reset: close a TCP connection with a reset (RST) instead of a FIN, so
 * that its peer sees an error rather than a clean end.  The kernel drops
 * what it has not sent yet, so the caller waits for the queue to empty
 * first; what the peer's window did not take by then is lost all the same.
 * Anything else is closed as stream_close does.
 */
static void
tp_close(struct transport *tp, int reset, void (*cb)(void *), void *arg)
{
	struct stream	*st = (struct stream *)tp;

	st->reset = reset;
	stream_close(st, cb, arg);
}

static const struct transport_ops stream_ops = {
	tp_read_start, tp_read_stop, tp_write, tp_writev, tp_queued,
	tp_shutdown, tp_close
};
