/* Listen mode: one session per accepted connection, all in the one loop. */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>
#include <uv.h>

#include "options.h"
#include "tls.h"

struct server;

/* 0, or a libuv error code and why in the buffer. */
int		 server_new(uv_loop_t *, const struct options *,
		    struct tls_ctx *, unsigned max_sessions, struct server **,
		    char *, size_t);
void		 server_stop(struct server *);
int		 server_status(const struct server *);
void		 server_free(struct server *);

#endif
