#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "ftp_data.h"
#include "log.h"
#include "session_impl.h"
#include "stream.h"
#include "tls.h"

/* How long an ending session still writes: close_notify, or last bytes. */
#define LINGER_MS	1000

/*
 * An accepted side by what it is and where from ("TLS client 192.0.2.1:
 * 40512"), so that a message says who failed; any other by its address.
 */
static void
name_side(struct side *sd, const char *peer)
{
	struct session	*s = sd->s;

	if (!address_is_listen(sd->addr))
		snprintf(sd->name, sizeof(sd->name), "%s", sd->addr->text);
	else if (sd == &s->pside)
		snprintf(sd->name, sizeof(sd->name), "plain client %s",
		    peer ? peer : "?");
	else
		snprintf(sd->name, sizeof(sd->name), "TLS %s %s",
		    s->o->role == ROLE_SERVER ? "client" : "server",
		    peer ? peer : "?");
}

/*
 * A connection that connect() already saw reset reads to end of file: that
 * end is the reset.
 */
int
session_read_end(const struct side *sd, int rc)
{
	return rc == UV_EOF && sd->reset ? UV_ECONNRESET : rc;
}

/* How a connection we made ended: rc is UV_EOF or the read/write error. */
const char *
session_how_lost(const struct side *sd, int rc)
{
	return rc == UV_EOF && !sd->reset ? "closed" : "reset";
}

/* -v: one line that says what the session was, once it is over. */
static void
summary(struct session *s)
{
	char	desc[1024] = "no TLS";

	if (s->tls != NULL && s->established)
		tls_describe(s->tls, desc, sizeof(desc));
	log_info("%ssummary: %s, %s; %llu bytes to %s, %llu bytes to %s, "
	    "%.3g s", s->label, proto_name(s->o->proto), desc,
	    (unsigned long long)s->tside.relayed, s->tside.name,
	    (unsigned long long)s->pside.relayed, s->pside.name,
	    (uv_now(s->loop) - s->started) / 1000.0);
}

static void
released(void *arg)
{
	struct session	*s = arg;

	if (--s->closing > 0)
		return;
	s->done_cb(s->done_arg, s->status);
	free(s);
}

static void
timer_closed(uv_handle_t *h)
{
	released(h->data);
}

static void
set_stream(struct side *sd, struct stream *st)
{
	sd->st = st;
	sd->tp = st != NULL ? stream_transport(st) : NULL;
}

/* A failed session must not look like a clean end to a plain peer. */
static void
close_side(struct session *s, struct side *sd)
{
	if (sd->tp == NULL)
		return;
	s->closing++;
	transport_close(sd->tp, sd == &s->pside && s->status != STATUS_OK,
	    released, s);
	set_stream(sd, NULL);
}

void
session_end_linger(struct session *s)
{
	close_side(s, s->linger);
	s->linger = NULL;
	uv_close((uv_handle_t *)&s->timer, timer_closed);
}

static void
on_linger(uv_timer_t *t)
{
	session_end_linger(t->data);
}

/*
 * One side's queue may still go out, for LINGER_MS at most: the
 * close_notify of SIGTERM, or what a failed session's plain side was sent
 * before the failure (then it is reset).
 */
static struct side *
lingering(struct session *s)
{
	if (s->status != STATUS_OK && s->pside.tp != NULL &&
	    transport_queued(s->pside.tp) > 0)
		return &s->pside;
	if (s->aborted && s->tside.tp != NULL &&
	    transport_queued(s->tside.tp) > 0)
		return &s->tside;
	return NULL;
}

/* End the session once; status and message are the first failure's. */
void
session_finish(struct session *s, int status, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;

	if (s->ending)
		return;
	s->ending = 1;
	s->status = status;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_msg(status != STATUS_OK ? LOG_ERR : LOG_INFO, "%s%s",
		    s->label, msg);
	}
	if (s->established && log_enabled(LOG_INFO))
		summary(s);
	s->closing = 1;		/* the timer */
	if (s->data != NULL) {
		s->closing++;
		ftp_data_close(s->data, released, s);
	}
	s->tls = NULL;		/* it closes with the TLS side */
	proto_free(s->neg);
	s->neg = NULL;
	s->linger = lingering(s);
	for (struct side *sd = &s->tside; sd != NULL;
	    sd = sd == &s->tside ? &s->pside : NULL) {
		if (sd->conn != NULL)
			endpoint_cancel(sd->conn);
		sd->conn = NULL;
		if (sd != s->linger)
			close_side(s, sd);
		else
			transport_read(sd->tp, 0);
	}
	if (s->linger != NULL)
		uv_timer_start(&s->timer, on_linger, LINGER_MS, 0);
	else
		uv_close((uv_handle_t *)&s->timer, timer_closed);
}

void
session_on_timer(uv_timer_t *t)
{
	struct session	*s = t->data;
	uint64_t	 idle, limit = s->o->idle_timeout_ms;
	double		 secs = s->o->timeout_ms / 1000.0;

	if (!s->established) {
		if (s->tside.conn != NULL || s->pside.conn != NULL)
			session_finish(s, STATUS_CONNECT, "connect timed out "
			    "after %.3g s", secs);
		else if (s->tls == NULL && s->neg != NULL)
			session_finish(s, STATUS_HANDSHAKE, "the %s opening "
			    "timed out after %.3g s", proto_name(s->o->proto),
			    secs);
		else
			session_finish(s, STATUS_HANDSHAKE, "TLS handshake "
			    "timed out after %.3g s", secs);
		return;
	}
	idle = uv_now(s->loop) - s->last_active;
	if (idle >= limit)
		session_finish(s, STATUS_OK, "idle for %.3g s: closing",
		    limit / 1000.0);
	else
		uv_timer_start(&s->timer, session_on_timer, limit - idle, 0);
}

/*
 * A side could not be reached (status 3).  A STARTTLS client in front of a
 * dead backend gets the protocol's own "not available" (421 for SMTP), not
 * silence.
 */
static void
connect_failed(struct side *sd, const char *msg)
{
	struct session	*s = sd->s;
	const char	*bye = proto_unavailable(s->o->proto);
	size_t		 len;
	char		*buf;

	if (sd == &s->pside && s->o->role == ROLE_SERVER &&
	    s->tside.st != NULL && bye != NULL) {
		len = proto_unavailable_len(s->o->proto);
		if ((buf = malloc(len)) == NULL) {
			session_finish(s, STATUS_IO, "out of memory");
			return;
		}
		memcpy(buf, bye, len);
		pump_send(&s->tside, buf, len);
	}
	session_finish(s, STATUS_CONNECT, "%s", msg);
}

/*
 * A peer we connect to that speaks first (a greeting; a backend) counts as
 * reached once it has sent a byte.  One that resets the connection before
 * that, or closes it (rc UV_EOF), fails like a refused connect, status 3,
 * whichever call sees it: connect(), a write or a read.  Where we speak
 * first, what it does after that is the opening's or the handshake's.
 * Returns 1 when that is what happened.
 */
int
session_unreached(struct side *sd, int rc)
{
	char	msg[600];

	if (!sd->connected || sd->begun)
		return 0;
	snprintf(msg, sizeof(msg), "%s %s the connection before sending "
	    "anything", sd->name, session_how_lost(sd, rc));
	connect_failed(sd, msg);
	return 1;
}

static void
on_connected(void *arg, struct stream *st, int rc, const char *err)
{
	struct side	*sd = arg;
	struct session	*s = sd->s;

	sd->conn = NULL;
	if (st == NULL) {
		connect_failed(sd, err);
		return;
	}
	set_stream(sd, st);
	sd->connected = 1;
	sd->reset = rc == UV_ECONNRESET;
	log_debug("%sconnected to %s", s->label, sd->name);
	if (s->tside.st != NULL && s->pside.st != NULL)
		opening_start(s);
}

static int
open_side(struct side *sd)
{
	struct session	*s = sd->s;
	struct stream	*st;
	char		 err[512];

	if (sd->st != NULL)
		return 0;
	if (sd->addr->kind == ADDR_STDIO || sd->addr->kind == ADDR_FD) {
		if (endpoint_open_fds(s->loop, sd->addr, &st, err,
		    sizeof(err)) != 0) {
			session_finish(s, STATUS_CONNECT, "%s", err);
			return -1;
		}
		set_stream(sd, st);
		return 0;
	}
	sd->conn = endpoint_connect(s->loop, sd->addr, on_connected, sd);
	if (sd->conn == NULL) {
		session_finish(s, STATUS_CONNECT, "cannot connect to %s",
		    sd->name);
		return -1;
	}
	return 0;
}

struct session *
session_new(uv_loop_t *loop, const struct options *o, struct tls_ctx *tctx,
    const char *label, const char *peer, struct stream *tls_st,
    struct stream *plain_st, session_done_cb cb, void *arg)
{
	struct session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->loop = loop;
	s->o = o;
	s->tctx = tctx;
	s->done_cb = cb;
	s->done_arg = arg;
	snprintf(s->label, sizeof(s->label), "%s", label ? label : "");
	s->tside.s = s->pside.s = s;
	s->tside.addr = &o->tls_addr;
	s->pside.addr = &o->plain_addr;
	name_side(&s->tside, peer);
	name_side(&s->pside, peer);
	set_stream(&s->tside, tls_st);
	set_stream(&s->pside, plain_st);
	uv_timer_init(loop, &s->timer);
	s->started = uv_now(loop);
	s->timer.data = s;
	if (o->timeout_ms > 0)
		uv_timer_start(&s->timer, session_on_timer, o->timeout_ms, 0);
	if (open_side(&s->tside) == 0 && open_side(&s->pside) == 0 &&
	    s->tside.st != NULL && s->pside.st != NULL)
		opening_start(s);
	return s;
}

/*
 * SIGINT/SIGTERM: end the session now, keeping its status so far.  An
 * established TLS session says close_notify first, so that its peer sees a
 * clean end rather than a truncation.
 */
void
session_abort(struct session *s)
{
	if (s->ending)
		return;
	if (s->established && s->tls != NULL)
		s->aborted = s->tside.out_done ||
		    transport_shutdown(s->tside.tp) == 0;
	session_finish(s, s->status, NULL);
}
