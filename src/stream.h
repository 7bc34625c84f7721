/*
 * One side's byte stream: a libuv stream (TCP, Unix socket, pipe, tty) or a
 * regular file or character device, which epoll cannot watch.  Reading and
 * writing may use different descriptors (stdin and stdout).
 */
#ifndef STREAM_H
#define STREAM_H

#include <stddef.h>
#include <uv.h>

struct stream;

/* nread > 0: data in buf; UV_EOF or another negative libuv error. */
typedef void	(*stream_read_cb)(struct stream *, ssize_t nread, char *buf,
		    void *arg);
/* Get room for the next read: at most *len bytes at the returned pointer. */
typedef char	*(*stream_alloc_cb)(struct stream *, size_t *len, void *arg);
/* A write finished (status 0) or failed; queued bytes went down. */
typedef void	(*stream_written_cb)(struct stream *, int status, void *arg);

struct stream	*stream_new(uv_loop_t *);
int		 stream_adopt_fds(struct stream *, int rfd, int wfd);
int		 stream_adopt_handle(struct stream *, uv_stream_t *);
int		 stream_is_tty(const struct stream *);

void	 stream_set_reader(struct stream *, stream_alloc_cb, stream_read_cb,
	    void *);
void	 stream_set_writer(struct stream *, stream_written_cb, void *);
int	 stream_read(struct stream *, int on);
int	 stream_write(struct stream *, char *buf, size_t len);
int	 stream_writev(struct stream *, const uv_buf_t *, unsigned);
int	 stream_shutdown(struct stream *);
size_t	 stream_queued(const struct stream *);
void	 stream_close(struct stream *, void (*)(void *), void *);
void	 stream_reset(struct stream *, void (*)(void *), void *);

#endif
