#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "endpoint.h"
#include "log.h"
#include "server.h"
#include "session.h"
#include "status.h"

struct entry {
	struct server	*srv;
	struct session	*s;
	struct entry	*prev, *next;
};

struct server {
	uv_loop_t		*loop;
	const struct options	*o;
	struct tls_ctx		*tctx;
	struct listener		*l;
	int			 tls_listens;	/* which side is accepted */
	int			 one_shot;	/* the other side is stdio/fd */
	unsigned		 max, n;
	unsigned long		 serial;
	int			 waiting;	/* a connection awaits a free slot */
	int			 stopping;
	int			 status;
	struct entry		*sessions;
};

static void	accept_one(struct server *);

static void
close_listener(struct server *srv)
{
	if (srv->l != NULL) {
		listener_close(srv->l);
		srv->l = NULL;
	}
}

static void
session_done(void *arg, int status)
{
	struct entry	*e = arg;
	struct server	*srv = e->srv;

	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		srv->sessions = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	free(e);
	srv->n--;
	if (srv->one_shot)
		srv->status = status;
	if (srv->waiting && !srv->stopping) {
		srv->waiting = 0;
		accept_one(srv);
	}
}

static void
accept_one(struct server *srv)
{
	struct stream	*st;
	struct entry	*e;
	char		 peer[300], err[512], label[340];

	if (listener_accept(srv->l, &st, peer, sizeof(peer), err,
	    sizeof(err)) != 0) {
		log_err("%s", err);
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		log_err("out of memory: connection from %s dropped", peer);
		stream_close(st, NULL, NULL);
		return;
	}
	snprintf(label, sizeof(label), "[%lu %s] ", ++srv->serial, peer);
	log_info("%sconnection accepted", label);
	e->srv = srv;
	e->next = srv->sessions;
	if (e->next != NULL)
		e->next->prev = e;
	srv->sessions = e;
	srv->n++;
	e->s = session_new(srv->loop, srv->o, srv->tctx, label, peer,
	    srv->tls_listens ? st : NULL, srv->tls_listens ? NULL : st,
	    session_done, e);
	if (e->s == NULL) {
		log_err("%sout of memory", label);
		stream_close(st, NULL, NULL);
		srv->sessions = e->next;
		if (e->next != NULL)
			e->next->prev = NULL;
		free(e);
		srv->n--;
	}
	if (srv->one_shot)
		close_listener(srv);
}

static void
on_ready(void *arg)
{
	struct server	*srv = arg;

	/*
	 * At the limit, leave the connection unaccepted: libuv then stops
	 * watching the socket and the rest wait in the kernel's backlog.
	 */
	if (srv->stopping || srv->l == NULL)
		return;
	if (srv->n >= srv->max) {
		srv->waiting = 1;
		return;
	}
	accept_one(srv);
}

int
server_new(uv_loop_t *loop, const struct options *o, struct tls_ctx *tctx,
    unsigned max, struct server **srvp, char *err, size_t errlen)
{
	struct server		*srv;
	const struct address	*la, *other;
	int			 rc;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return errorf(err, errlen, UV_ENOMEM, "out of memory");
	srv->loop = loop;
	srv->o = o;
	srv->tctx = tctx;
	srv->max = max;
	srv->tls_listens = address_is_listen(&o->tls_addr);
	la = srv->tls_listens ? &o->tls_addr : &o->plain_addr;
	other = srv->tls_listens ? &o->plain_addr : &o->tls_addr;
	srv->one_shot = other->kind == ADDR_STDIO || other->kind == ADDR_FD;
	if ((rc = listener_new(loop, la, on_ready, srv, &srv->l, err,
	    errlen)) != 0) {
		free(srv);
		return rc;
	}
	log_info("listening on %s", listener_name(srv->l));
	*srvp = srv;
	return 0;
}

/* Stop accepting and end every session now. */
void
server_stop(struct server *srv)
{
	srv->stopping = 1;
	close_listener(srv);
	for (struct entry *e = srv->sessions; e != NULL; e = e->next)
		session_abort(e->s);
}

int
server_status(const struct server *srv)
{
	return srv->status;
}

void
server_free(struct server *srv)
{
	free(srv);
}
