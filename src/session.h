/*
 * One relay session: the TLS side and the plain side, opened, joined by TLS
 * on the TLS side, then pumped in both directions until both have ended.
 */
#ifndef SESSION_H
#define SESSION_H

#include <uv.h>

#include "options.h"
#include "stream.h"
#include "tls.h"

struct session;

/* The session has ended and released all: status is its exit status. */
typedef void	(*session_done_cb)(void *, int status);

/* peer: where the accepted side (tls_st or plain_st) comes from, or NULL. */
struct session	*session_new(uv_loop_t *, const struct options *,
		    struct tls_ctx *, const char *label, const char *peer,
		    struct stream *tls_st, struct stream *plain_st,
		    session_done_cb, void *);
void		 session_abort(struct session *);

#endif
