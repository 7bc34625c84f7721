/*
 * An FTP data connection through the relay (PROT P): accept from the FTP
 * client, connect to the FTP server's data port (active mode, PORT: the
 * other way round), then TLS on the TLS side, the FTP client always the
 * TLS client (RFC 4217):
 * server role, with the TLS client, which may resume its control session
 * (the context issues tickets); client role, with the TLS server, resuming
 * the control session (as vsftpd's require_ssl_reuse asks).  The plain end
 * is read once TLS is up; the bytes that come with the handshake's end
 * have somewhere to go.  Both directions are pumped, each end passed on,
 * until both have ended.
 *
 * Bounds: one listener, for one connection, from the address of the
 * control connection's peer on that side only (others are refused and
 * logged), closed once that
 * connection came or after --timeout; one data connection per session
 * (the session closes the last when it asks for a new one); backpressure
 * as in the pump.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ftp_data.h"
#include "log.h"
#include "session_impl.h"
#include "stream.h"
#include "tls.h"

#define HIGH_WATER	(256 * 1024)
#define LOW_WATER	(HIGH_WATER / 2)
/* The wait for the connection, without --timeout. */
#define WAIT_MS		60000

/* One end of the data connection. */
struct end {
	struct ftp_data		*d;
	struct transport	*tp;	/* the stream's, or TLS over it */
	int			 in_done, out_done, paused;
	const char		*name;
};

struct ftp_data {
	struct session		*s;	/* NULL once ended */
	uv_loop_t		*loop;
	struct tls_ctx		*tctx;
	struct tls		*tls;
	int			 server;	/* TLS on c, else on v */
	uv_tcp_t		*lsn;		/* until the connection */
	uv_tcp_t		*conn;		/* while connecting */
	uv_connect_t		 creq;
	uv_timer_t		 timer;
	struct sockaddr_storage	 peer;		/* who may connect */
	struct sockaddr_storage	 target;	/* the data port to reach */
	struct end		 c, v;		/* the FTP client's, server's */
	struct end		*acc, *con;	/* accepted, connected: c, v
						   (v, c in active mode) */
	char			*name;		/* TLS name to verify */
	int			 open;		/* handles not yet closed */
	int			 ended;
	void			(*done)(void *);
	void			*done_arg;
	char			 label[128];
};


static void
released(void *arg)
{
	struct ftp_data	*d = arg;

	if (--d->open > 0)
		return;
	if (d->done != NULL)
		d->done(d->done_arg);
	free(d->name);
	free(d);
}

static void
handle_closed(uv_handle_t *h)
{
	released(h->data);
}

static void
tcp_closed(uv_handle_t *h)
{
	struct ftp_data	*d = h->data;

	free(h);
	released(d);
}

static void
close_end(struct end *e, int reset)
{
	if (e->tp == NULL)
		return;
	transport_close(e->tp, reset, released, e->d);
	e->tp = NULL;
}

/* Once: every handle closes; the session no longer holds it. */
static void
end_relay(struct ftp_data *d, int reset)
{
	if (d->ended)
		return;
	d->ended = 1;
	if (d->s != NULL && d->s->data == d)
		d->s->data = NULL;
	d->s = NULL;
	uv_close((uv_handle_t *)&d->timer, handle_closed);
	if (d->lsn != NULL)
		uv_close((uv_handle_t *)d->lsn, tcp_closed);
	if (d->conn != NULL)
		uv_close((uv_handle_t *)d->conn, tcp_closed);
	d->lsn = d->conn = NULL;
	close_end(&d->c, reset);
	close_end(&d->v, reset);
}

static void
fail(struct ftp_data *d, const char *what, int rc)
{
	log_err("%sFTP data connection: %s: %s", d->label, what,
	    uv_strerror(rc));
	end_relay(d, 1);
}

void
ftp_data_close(struct ftp_data *d, void (*cb)(void *), void *arg)
{
	d->done = cb;
	d->done_arg = arg;
	end_relay(d, 1);
}

static struct end *
other(struct end *e)
{
	return e == &e->d->c ? &e->d->v : &e->d->c;
}

static void
check_done(struct ftp_data *d)
{
	if (d->c.in_done && d->v.in_done && transport_queued(d->c.tp) == 0 &&
	    transport_queued(d->v.tp) == 0) {
		log_debug("%sFTP data connection done", d->label);
		end_relay(d, 0);
	}
}

static void
data_read(void *arg, const uv_buf_t *bufs, unsigned n)
{
	struct end	*e = arg, *o = other(e);
	int		 rc;

	if (e->d->ended)
		return;
	/* A transfer is activity: the control connection idles meanwhile. */
	e->d->s->last_active = uv_now(e->d->loop);
	if ((rc = transport_writev(o->tp, bufs, n)) != 0) {
		fail(e->d, o->name, rc);
		return;
	}
	if (transport_queued(o->tp) > HIGH_WATER && !e->paused) {
		e->paused = 1;
		transport_read(e->tp, 0);
	}
}

static void
data_written(void *arg, int status)
{
	struct end	*e = arg, *src = other(e);
	int		 rc;

	if (e->d->ended)
		return;
	if (status != 0) {
		fail(e->d, e->name, status);
		return;
	}
	if (src->paused && !src->in_done &&
	    transport_queued(e->tp) <= LOW_WATER) {
		src->paused = 0;
		if ((rc = transport_read(src->tp, 1)) != 0) {
			fail(e->d, src->name, rc);
			return;
		}
	}
	check_done(e->d);
}

/*
 * An end without close_notify could be anyone's FIN: a truncation, which
 * the other side must see as a failure (a reset), unless that end had
 * nothing more to say (we had ended our direction to it: a download).
 */
static void
data_end(void *arg, int rc, const char *why)
{
	struct end	*e = arg, *o = other(e);
	struct ftp_data	*d = e->d;

	if (d->ended)
		return;
	if (rc == TRANSPORT_TRUNCATED && e->out_done)
		rc = UV_EOF;
	if (rc != UV_EOF) {
		log_err("%sFTP data connection: %s: %s", d->label, e->name,
		    why != NULL ? why : rc == TRANSPORT_TRUNCATED ? "closed "
		    "without TLS close_notify: possible truncation" :
		    uv_strerror(rc));
		end_relay(d, 1);
		return;
	}
	e->in_done = 1;
	transport_read(e->tp, 0);
	o->out_done = 1;
	if ((rc = transport_shutdown(o->tp)) != 0) {
		fail(d, o->name, rc);
		return;
	}
	check_done(d);
}

static const struct transport_cbs data_cbs = {
	data_read, data_end, data_written
};

/* Both ends are up (and TLS on its own): the bytes flow. */
static void
pump(struct ftp_data *d)
{
	int	rc;

	uv_timer_stop(&d->timer);
	if ((rc = transport_read(d->c.tp, 1)) != 0 ||
	    (rc = transport_read(d->v.tp, 1)) != 0)
		fail(d, "read", rc);
}

static void
on_handshake(void *arg, int status, const char *err)
{
	struct ftp_data	*d = arg;

	if (d->ended)
		return;
	if (status != STATUS_OK) {
		log_err("%sFTP data connection: %s: %s", d->label,
		    d->server ? d->c.name : d->v.name, err ? err : "TLS");
		end_relay(d, 1);
	} else
		pump(d);
}

static void
start_tls(struct ftp_data *d, struct end *e)
{
	char	err[512];

	if (tls_start(&d->tls, d->loop, d->tctx, e->tp, d->name,
	    TLS_FTP_DATA, on_handshake, d, err, sizeof(err)) != 0) {
		log_err("%sFTP data connection: %s", d->label, err);
		end_relay(d, 1);
		return;
	}
	e->tp = tls_transport(d->tls);
	transport_set_cbs(e->tp, &data_cbs, e);
	if (!d->server && (d->s->tls == NULL ||
	    tls_resume(d->tls, d->s->tls) != 0))
		log_warn("%sFTP data connection: no TLS session to resume",
		    d->label);
}

/* A connected handle (malloc'ed) as an end's stream. */
static int
adopt(struct ftp_data *d, struct end *e, uv_tcp_t *h)
{
	struct stream	*st;

	if ((st = stream_new(d->loop)) == NULL) {
		uv_close((uv_handle_t *)h, tcp_closed);
		return UV_ENOMEM;
	}
	stream_adopt_handle(st, (uv_stream_t *)h);
	e->tp = stream_transport(st);
	transport_set_cbs(e->tp, &data_cbs, e);
	return 0;
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct ftp_data	*d = req->data;
	uv_tcp_t	*h = d->conn;

	if (d->ended)
		return;		/* closed: h goes with it */
	d->conn = NULL;
	if (status != 0) {
		uv_close((uv_handle_t *)h, tcp_closed);
		fail(d, "connect to the data port", status);
		return;
	}
	if ((status = adopt(d, d->con, h)) != 0)
		fail(d, "connect", status);
	else
		start_tls(d, d->server ? &d->c : &d->v);
}

static void
connect_other(struct ftp_data *d)
{
	int	rc;

	if ((d->conn = malloc(sizeof(*d->conn))) == NULL) {
		fail(d, "connect", UV_ENOMEM);
		return;
	}
	uv_tcp_init(d->loop, d->conn);
	d->conn->data = d;
	d->open++;
	d->creq.data = d;
	if ((rc = uv_tcp_connect(&d->creq, d->conn,
	    (struct sockaddr *)&d->target, on_connect)) != 0)
		fail(d, "connect to the data port", rc);
}

static int
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4 = (const void *)a;
	const struct sockaddr_in	*b4 = (const void *)b;
	const struct sockaddr_in6	*a6 = (const void *)a;
	const struct sockaddr_in6	*b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a->ss_family == AF_INET6 &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* The data connection, from the control connection's peer only. */
static void
on_connection(uv_stream_t *server, int status)
{
	struct ftp_data		*d = server->data;
	struct sockaddr_storage	 ss;
	uv_tcp_t		*h;
	int			 len = sizeof(ss), rc;

	if (status != 0 || d->ended || (h = malloc(sizeof(*h))) == NULL)
		return;
	uv_tcp_init(d->loop, h);
	h->data = d;
	d->open++;
	if (uv_accept(server, (uv_stream_t *)h) != 0 ||
	    uv_tcp_getpeername(h, (struct sockaddr *)&ss, &len) != 0 ||
	    !same_host(&ss, &d->peer)) {
		log_security("%sFTP data connection refused: not from %s's "
		    "address", d->label, d->acc->name);
		uv_close((uv_handle_t *)h, tcp_closed);
		return;
	}
	uv_close((uv_handle_t *)d->lsn, tcp_closed);
	d->lsn = NULL;
	if ((rc = adopt(d, d->acc, h)) != 0)
		fail(d, "accept", rc);
	else
		connect_other(d);
}

static void
on_timeout(uv_timer_t *t)
{
	struct ftp_data	*d = t->data;

	log_warn("%sFTP data connection: not made in time", d->label);
	end_relay(d, 1);
}

static void
set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* Our listener, next to our end of a control connection. */
static int
listen_here(struct ftp_data *d, const struct sockaddr_storage *at, char *ip,
    size_t iplen, unsigned *lport)
{
	struct sockaddr_storage	ss;
	int			len = sizeof(ss), rc;

	if ((d->lsn = malloc(sizeof(*d->lsn))) == NULL)
		return UV_ENOMEM;
	uv_tcp_init(d->loop, d->lsn);
	d->lsn->data = d;
	d->open++;
	ss = *at;
	set_port(&ss, 0);
	if ((rc = uv_tcp_bind(d->lsn, (struct sockaddr *)&ss, 0)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)d->lsn, 1, on_connection)) != 0 ||
	    (rc = uv_tcp_getsockname(d->lsn, (struct sockaddr *)&ss,
	    &len)) != 0)
		return rc;
	if (ss.ss_family == AF_INET) {
		*lport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		return uv_ip4_name((struct sockaddr_in *)&ss, ip, iplen);
	}
	*lport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return uv_ip6_name((struct sockaddr_in6 *)&ss, ip, iplen);
}

int
ftp_data_new(struct session *s, unsigned port, int active, const char *name,
    char *ip, size_t iplen, unsigned *lport, char *err, size_t errlen)
{
	struct ftp_data		*d;
	struct side		*cl, *sv;
	struct sockaddr_storage	 here;
	uint64_t		 wait = s->o->timeout_ms > 0 ?
	    s->o->timeout_ms : WAIT_MS;
	int			 rc;

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (name != NULL && (d->name = strdup(name)) == NULL)) {
		free(d);
		return errorf(err, errlen, UV_ENOMEM, "out of memory");
	}
	d->server = s->o->role == ROLE_SERVER;
	/* The side we listen next to, and the one we connect to. */
	cl = d->server ? &s->tside : &s->pside;
	sv = d->server ? &s->pside : &s->tside;
	if (active) {
		struct side	*t = cl;

		cl = sv;
		sv = t;
	}
	d->acc = active ? &d->v : &d->c;
	d->con = active ? &d->c : &d->v;
	d->s = s;
	d->loop = s->loop;
	d->tctx = s->tctx;
	d->c.d = d->v.d = d;
	d->c.name = d->server ? "the TLS client" : "the plain client";
	d->v.name = d->server ? "the backend" : "the TLS server";
	snprintf(d->label, sizeof(d->label), "%s", s->label);
	uv_timer_init(s->loop, &d->timer);
	d->timer.data = d;
	d->open = 1;
	s->data = d;
	if ((rc = stream_address(cl->st, 0, &here)) != 0 ||
	    (rc = stream_address(cl->st, 1, &d->peer)) != 0 ||
	    (rc = stream_address(sv->st, 1, &d->target)) != 0 ||
	    (rc = listen_here(d, &here, ip, iplen, lport)) != 0) {
		end_relay(d, 1);
		return errorf(err, errlen, rc, "FTP data listener: %s",
		    uv_strerror(rc));
	}
	set_port(&d->target, port);
	uv_timer_start(&d->timer, on_timeout, wait, 0);
	return 0;
}
