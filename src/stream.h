/*
 * One side's byte stream: a libuv stream (TCP, Unix socket, pipe, tty) or a
 * regular file or character device, which epoll cannot watch.  Reading and
 * writing may use different descriptors (stdin and stdout).  It is used as
 * a transport.
 */
#ifndef STREAM_H
#define STREAM_H

#include <stddef.h>
#include <uv.h>

#include "transport.h"

struct stream;

struct stream	*stream_new(uv_loop_t *);
int		 stream_adopt_fds(struct stream *, int rfd, int wfd);
int		 stream_adopt_handle(struct stream *, uv_stream_t *);
int		 stream_is_tty(const struct stream *);
int		 stream_address(const struct stream *, int,
		    struct sockaddr_storage *);
struct transport *stream_transport(struct stream *);
void		 stream_close(struct stream *, void (*)(void *), void *);

#endif
