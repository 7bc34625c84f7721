/* Opening addresses: connect (asynchronously), listen and accept, stdio and fd:N. */
#ifndef ENDPOINT_H
#define ENDPOINT_H

#include <stddef.h>
#include <uv.h>

#include "address.h"
#include "stream.h"

struct connector;
struct listener;

/*
 * The functions that can fail return 0 or a libuv error code, and say why
 * in the buffer they are given.
 *
 * st is NULL on failure: rc is the libuv error and err says why.  A
 * connection reset at once comes with its stream and rc UV_ECONNRESET.
 */
typedef void	(*connect_cb)(void *arg, struct stream *st, int rc,
		    const char *err);
typedef void	(*accept_cb)(void *arg);

int		 endpoint_open_fds(uv_loop_t *, const struct address *,
		    struct stream **, char *, size_t);
struct connector *endpoint_connect(uv_loop_t *, const struct address *,
		    connect_cb, void *);
void		 endpoint_cancel(struct connector *);

int		 listener_new(uv_loop_t *, const struct address *, accept_cb,
		    void *, struct listener **, char *, size_t);
int		 listener_accept(struct listener *, struct stream **,
		    char *, size_t, char *, size_t);
const char	*listener_name(const struct listener *);
void		 listener_close(struct listener *);

#endif
