#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "log.h"
#include "proto/proto.h"
#include "session.h"
#include "status.h"

/*
 * Backpressure: a source stops being read once its sink holds this many
 * unwritten bytes and resumes below half of it.  With one read (64 KiB) in
 * flight on top, this bounds the memory of each direction.
 */
#define HIGH_WATER	(256 * 1024)
#define LOW_WATER	(HIGH_WATER / 2)
#define PLAIN_READ	(64 * 1024)
/* How long an ending session still writes: close_notify, or last bytes. */
#define LINGER_MS	1000

struct side {
	struct session		*s;
	const struct address	*addr;
	struct stream		*st;
	struct connector	*conn;	/* connect under way */
	int			 connected;	/* we connected to it */
	int			 begun;		/* it sent a byte, or we did */
	int			 reset;		/* connect() saw it reset */
	int			 in_done;	/* its input has ended */
	int			 out_done;	/* we ended its output */
	int			 paused;	/* reading stopped: sink is full */
	uint64_t		 relayed;	/* bytes relayed to this side */
	char			 name[340];	/* for messages */
};

struct session {
	uv_loop_t		*loop;
	const struct options	*o;
	struct tls_ctx		*tctx;
	struct tls		*tls;
	struct negotiation	*neg;		/* the STARTTLS opening */
	struct side		 tside, pside;
	uv_timer_t		 timer;
	uint64_t		 last_active;
	uint64_t		 started;
	int			 established;
	int			 ending;
	struct side		*linger;	/* ending: its queue still drains */
	int			 aborted;	/* SIGTERM: close_notify is queued */
	int			 left_early;	/* client ended first, no data */
	int			 status;
	int			 closing;	/* handles still to close */
	char			 label[128];
	session_done_cb		 done_cb;
	void			*done_arg;
};

static void	finish(struct session *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	unreached(struct side *, int);
static void	apply(struct session *, struct proto_out *);

static const char *
side_name(const struct side *sd)
{
	return sd->name;
}

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
static ssize_t
read_end(const struct side *sd, ssize_t n)
{
	return n == UV_EOF && sd->reset ? UV_ECONNRESET : n;
}

/* The host we connect to, or NULL: a listening address names ourselves. */
static const char *
peer_host(const struct address *a)
{
	return a->kind == ADDR_TCP && a->host[0] != '\0' ? a->host : NULL;
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
	    (unsigned long long)s->tside.relayed, side_name(&s->tside),
	    (unsigned long long)s->pside.relayed, side_name(&s->pside),
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
close_side(struct session *s, struct side *sd)
{
	if (sd->st == NULL)
		return;
	s->closing++;
	/* A failed session must not look like a clean end to a plain peer. */
	if (sd == &s->pside && s->status != STATUS_OK)
		stream_reset(sd->st, released, s);
	else
		stream_close(sd->st, released, s);
	sd->st = NULL;
}

static void
end_linger(struct session *s)
{
	close_side(s, s->linger);
	s->linger = NULL;
	uv_close((uv_handle_t *)&s->timer, timer_closed);
}

static void
on_linger(uv_timer_t *t)
{
	end_linger(t->data);
}

/* End the session once; status and message are the first failure's. */
static void
finish(struct session *s, int status, const char *fmt, ...)
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
	if (s->tls != NULL) {
		tls_free(s->tls);
		s->tls = NULL;
	}
	proto_free(s->neg);
	s->neg = NULL;
	/*
	 * One side's queue may still go out, for LINGER_MS at most: the
	 * close_notify of SIGTERM, or what a failed session's plain side was
	 * sent before the failure (then it is reset).
	 */
	if (status != STATUS_OK && s->pside.st != NULL &&
	    stream_queued(s->pside.st) > 0)
		s->linger = &s->pside;
	else if (s->aborted && s->tside.st != NULL &&
	    stream_queued(s->tside.st) > 0)
		s->linger = &s->tside;
	for (struct side *sd = &s->tside; sd != NULL;
	    sd = sd == &s->tside ? &s->pside : NULL) {
		if (sd->conn != NULL)
			endpoint_cancel(sd->conn);
		sd->conn = NULL;
		if (sd != s->linger)
			close_side(s, sd);
		else
			stream_read(sd->st, 0);
	}
	if (s->linger != NULL)
		uv_timer_start(&s->timer, on_linger, LINGER_MS, 0);
	else
		uv_close((uv_handle_t *)&s->timer, timer_closed);
}

/*
 * Server role: a TLS client that ends before any application data went
 * either way (and before we ended) may have refused our certificate once
 * the handshake was over, as TLS 1.2 clients and late checkers do.
 */
static int
left_unused(struct session *s)
{
	return s->o->role == ROLE_SERVER && s->tls != NULL &&
	    !tls_exchanged(s->tls) && !s->tside.out_done;
}

static void
check_done(struct session *s)
{
	if (s->ending || !s->tside.in_done)
		return;
	/* Nobody will type an ending to a terminal once the peer is gone. */
	if (!(s->pside.in_done || stream_is_tty(s->pside.st)) ||
	    stream_queued(s->tside.st) != 0 || stream_queued(s->pside.st) != 0)
		return;
	if (s->left_early && !tls_exchanged(s->tls))
		finish(s, STATUS_HANDSHAKE,
		    "%s left right after the handshake, before any "
		    "data: did it reject our certificate?",
		    side_name(&s->tside));
	else
		finish(s, STATUS_OK, "session ended");
}

static void
on_timer(uv_timer_t *t)
{
	struct session	*s = t->data;
	uint64_t	 idle, limit = s->o->idle_timeout_ms;

	if (!s->established) {
		if (s->tside.conn != NULL || s->pside.conn != NULL)
			finish(s, STATUS_CONNECT,
			    "connect timed out after %.3g s",
			    s->o->timeout_ms / 1000.0);
		else if (s->tls == NULL && s->neg != NULL)
			finish(s, STATUS_HANDSHAKE,
			    "the %s opening timed out after %.3g s",
			    proto_name(s->o->proto), s->o->timeout_ms / 1000.0);
		else
			finish(s, STATUS_HANDSHAKE,
			    "TLS handshake timed out after %.3g s",
			    s->o->timeout_ms / 1000.0);
		return;
	}
	idle = uv_now(s->loop) - s->last_active;
	if (idle >= limit)
		finish(s, STATUS_OK,
		    "idle for %.3g s: closing", limit / 1000.0);
	else
		uv_timer_start(&s->timer, on_timer, limit - idle, 0);
}

static struct side *
other(struct side *sd)
{
	return sd == &sd->s->tside ? &sd->s->pside : &sd->s->tside;
}

/* Reading a side: through TLS when it has it, else its stream. */
static int
side_read(struct side *sd, int on)
{
	struct session	*s = sd->s;

	if (sd == &s->tside && s->tls != NULL)
		return tls_read(s->tls, on);
	return stream_read(sd->st, on);
}

/* The sink has room again: read its source. */
static void
resume(struct side *src)
{
	int	rc;

	if (!src->paused || src->in_done || src->s->ending)
		return;
	src->paused = 0;
	if ((rc = side_read(src, 1)) != 0)
		finish(src->s, STATUS_IO, "read from %s: %s", side_name(src),
		    uv_strerror(rc));
}

static void
pause_if_full(struct side *src)
{
	if (stream_queued(other(src)->st) <= HIGH_WATER || src->paused)
		return;
	src->paused = 1;
	side_read(src, 0);
}

/*
 * Writing to a side failed.  On the TLS side during the clear-text opening
 * that is the negotiation failing (status 4), as a failed read there is.
 */
static void
write_failed(struct side *sd, int rc)
{
	struct session	*s = sd->s;

	if (unreached(sd, rc))
		return;
	if (sd == &s->tside && s->neg != NULL && s->tls == NULL)
		finish(s, STATUS_NEGOTIATION,
		    "write to %s during the %s opening: %s",
		    side_name(sd), proto_name(s->o->proto), uv_strerror(rc));
	else
		finish(s, STATUS_IO, "write to %s: %s%s", side_name(sd),
		    uv_strerror(rc), sd->in_done ?
		    " (it had ended its own direction and closed)" : "");
}

static void
on_written(struct stream *st, int status, void *arg)
{
	struct side	*sink = arg;
	struct session	*s = sink->s;

	(void)st;
	if (s->ending) {
		if (sink == s->linger && (status != 0 ||
		    stream_queued(sink->st) == 0))
			end_linger(s);
		return;
	}
	if (status != 0) {
		write_failed(sink, status);
		return;
	}
	if (stream_queued(sink->st) <= LOW_WATER)
		resume(other(sink));
	check_done(s);
}

/* Send bytes (malloc'ed; taken) to a side, encrypting for the TLS side. */
static void
deliver(struct side *dst, char *buf, size_t len)
{
	struct session	*s = dst->s;
	int		 rc;

	if (s->ending) {
		free(buf);
		return;
	}
	s->last_active = uv_now(s->loop);
	dst->begun = 1;
	if (dst == &s->tside && s->tls != NULL) {
		rc = tls_write(s->tls, buf, len);
		free(buf);
	} else
		rc = stream_write(dst->st, buf, len);
	if (rc != 0) {
		write_failed(dst, rc);
		return;
	}
	pause_if_full(other(dst));
}

/* A direction ended: pass the end on (close_notify through TLS). */
static void
end_output(struct side *dst)
{
	struct session	*s = dst->s;
	int		 rc;

	dst->out_done = 1;
	if (dst == &s->tside && s->tls != NULL)
		rc = tls_shutdown(s->tls);
	else
		rc = stream_shutdown(dst->st);
	if (rc != 0)
		finish(s, STATUS_IO,
		    "cannot end output to %s: %s", side_name(dst),
		    uv_strerror(rc));
	else
		check_done(s);
}

static char *
raw_alloc(struct stream *st, size_t *len, void *arg)
{
	(void)st;
	(void)arg;
	*len = PLAIN_READ;
	return malloc(PLAIN_READ);
}

/* Bytes read from a side without TLS, for the other side. */
static void
raw_read(struct stream *st, ssize_t n, char *buf, void *arg)
{
	struct side		*src = arg;
	struct session		*s = src->s;
	struct proto_out	 out;

	(void)st;
	if (n <= 0)
		free(buf);
	if (n == 0)
		return;
	n = read_end(src, n);
	if (n == UV_EOF) {
		log_debug("%send of input from %s", s->label, side_name(src));
		src->in_done = 1;
		stream_read(src->st, 0);
		end_output(other(src));
		return;
	}
	if (n < 0) {
		if (!unreached(src, (int)n))
			finish(s, STATUS_IO, "read from %s: %s", side_name(src),
			    uv_strerror((int)n));
		return;
	}
	src->begun = 1;
	if (s->neg != NULL) {
		/* The module watches the plain side too (server role). */
		proto_out_init(&out);
		proto_from_plain(s->neg, buf, (size_t)n, &out);
		free(buf);
		apply(s, &out);
		return;
	}
	other(src)->relayed += (size_t)n;
	deliver(other(src), buf, (size_t)n);
}

static void
tls_data(void *arg, const uv_buf_t *bufs, unsigned n)
{
	struct session		*s = arg;
	struct proto_out	 out;
	int			 rc;

	s->last_active = uv_now(s->loop);
	if (s->neg != NULL) {
		/* Inside TLS, through the module while it watches. */
		for (unsigned i = 0; i < n && s->neg != NULL && !s->ending;
		    i++) {
			proto_out_init(&out);
			proto_from_tls(s->neg, bufs[i].base, bufs[i].len, &out);
			apply(s, &out);
		}
		return;
	}
	for (unsigned i = 0; i < n; i++)
		s->pside.relayed += bufs[i].len;
	if ((rc = stream_writev(s->pside.st, bufs, n)) != 0) {
		write_failed(&s->pside, rc);
		return;
	}
	pause_if_full(&s->tside);
}

/*
 * The TLS peer ended its direction.  Without close_notify, a FIN from
 * anyone on the path would pass for the end of the data: a failure
 * (truncation), never a clean end passed on to the plain side.
 */
static void
tls_eof(void *arg, int clean)
{
	struct session	*s = arg;

	s->tside.in_done = 1;
	if (!clean && left_unused(s))
		finish(s, STATUS_HANDSHAKE,
		    "%s left right after the handshake, before any "
		    "data, without TLS close_notify: did it reject our "
		    "certificate?", side_name(&s->tside));
	else if (!clean)
		finish(s, STATUS_IO, "%s closed the connection without TLS "
		    "close_notify: possible truncation", side_name(&s->tside));
	else {
		log_debug("%s%s sent TLS close_notify", s->label,
		    side_name(&s->tside));
		s->left_early = left_unused(s);
		end_output(&s->pside);
	}
}

static void
tls_error(void *arg, int status, const char *err)
{
	struct session	*s = arg;

	finish(s, status, "%s: %s", side_name(&s->tside), err);
}

/*
 * Both directions flow from now on: as they are, or through the module
 * while it watches them (s->neg stays).
 */
static void
relay(struct session *s, int watched)
{
	int	rc;

	if (!watched) {
		proto_free(s->neg);
		s->neg = NULL;
	}
	s->established = 1;
	s->last_active = uv_now(s->loop);
	uv_timer_stop(&s->timer);
	if (s->o->idle_timeout_ms > 0)
		uv_timer_start(&s->timer, on_timer, s->o->idle_timeout_ms, 0);
	stream_set_reader(s->pside.st, raw_alloc, raw_read, &s->pside);
	if ((rc = stream_read(s->pside.st, 1)) != 0)
		finish(s, STATUS_IO, "read from %s: %s", side_name(&s->pside),
		    uv_strerror(rc));
}

/* Queue bytes for a side (through TLS once it is up); takes buf. */
static void
send_buf(struct side *dst, char *buf, size_t len)
{
	if (len == 0 || dst->s->ending) {
		free(buf);
		return;
	}
	if (dst->s->established)
		dst->relayed += len;
	deliver(dst, buf, len);
}

static void
send_dup(struct side *dst, const char *data, size_t len)
{
	char	*buf;

	if ((buf = malloc(len)) == NULL) {
		finish(dst->s, STATUS_IO, "out of memory");
		return;
	}
	memcpy(buf, data, len);
	send_buf(dst, buf, len);
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

	if (sd == &s->pside && s->o->role == ROLE_SERVER &&
	    s->tside.st != NULL && bye != NULL)
		send_dup(&s->tside, bye, proto_unavailable_len(s->o->proto));
	finish(s, STATUS_CONNECT, "%s", msg);
}

/* How a connection we made ended: rc is UV_EOF or the read/write error. */
static const char *
how_lost(const struct side *sd, int rc)
{
	return rc == UV_EOF && !sd->reset ? "closed" : "reset";
}

/*
 * A peer we connect to that speaks first (a greeting; a backend) counts as
 * reached once it has sent a byte.  One that resets the connection before
 * that, or closes it (rc UV_EOF), fails like a refused connect, status 3,
 * whichever call sees it: connect(), a write or a read.  Where we speak
 * first, what it does after that is the opening's or the handshake's.
 * Returns 1 when that is what happened.
 */
static int
unreached(struct side *sd, int rc)
{
	char	msg[600];

	if (!sd->connected || sd->begun)
		return 0;
	snprintf(msg, sizeof(msg), "%s %s the connection before sending "
	    "anything", side_name(sd), how_lost(sd, rc));
	connect_failed(sd, msg);
	return 1;
}

static void
tls_handshake(void *arg, int status, const char *err)
{
	struct session		*s = arg;
	struct proto_out	 out;
	char			 desc[1024];
	int			 rc;

	if (status == STATUS_NEGOTIATION && err == NULL)
		err = s->o->role == ROLE_SERVER ? "clear text arrived where "
		    "the ClientHello should be (command injection?)" :
		    "clear text arrived where the ServerHello should be "
		    "(response injection?)";
	if (status != STATUS_OK) {
		/* One message for a server that hung up on our ClientHello. */
		if ((rc = tls_silent_end(s->tls)) != 0 && s->tside.connected)
			finish(s, status, "%s %s the connection during the TLS "
			    "handshake, before sending anything",
			    side_name(&s->tside), how_lost(&s->tside, rc));
		else
			finish(s, status, "%s: %s", side_name(&s->tside), err);
		return;
	}
	s->tside.begun = 1;
	if (log_enabled(LOG_INFO)) {
		tls_describe(s->tls, desc, sizeof(desc));
		log_info("%sTLS established: %s", s->label, desc);
	}
	if (s->neg == NULL) {
		relay(s, 0);
		return;
	}
	/* What the module says first inside TLS, and how it goes on. */
	proto_out_init(&out);
	proto_established(s->neg, &out);
	apply(s, &out);
}

static const struct tls_events tls_events = {
	tls_handshake, tls_data, tls_eof, tls_error
};

static void
start_tls(struct session *s)
{
	const struct options	*o = s->o;
	const char		*name = NULL;
	char			 err[512];

	if (o->role == ROLE_CLIENT)
		name = o->servername ? o->servername : peer_host(s->tside.addr);
	s->tls = tls_start(s->loop, s->tctx, s->tside.st, name,
	    s->neg == NULL ? TLS_FIRST_BYTE : proto_space_after_switch(s->neg) ?
	    TLS_AFTER_SPACE : TLS_AFTER_SWITCH, &tls_events, s, err,
	    sizeof(err));
	if (s->tls == NULL)
		finish(s, STATUS_HANDSHAKE,
		    "%s: %s", side_name(&s->tside), err);
}

/* The transcript, a line at a time (the last may lack its newline). */
static void
log_transcript(struct session *s, const struct pbuf *log)
{
	const char	*line, *nl;

	if (log->len == 0 || !log_enabled(LOG_INFO))
		return;
	for (line = log->data; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL) {
			log_info("%s%s", s->label, line);
			break;
		}
		log_info("%s%.*s", s->label, (int)(nl - line), line);
	}
}

/*
 * Carry out what the protocol module asked for: its words for each side go
 * now; then the session switches, falls back, hands over or goes on.
 */
static void
apply(struct session *s, struct proto_out *out)
{
	char	*buf;
	size_t	 len;

	log_transcript(s, &out->log);
	buf = proto_out_take(&out->to_tls, &len);
	send_buf(&s->tside, buf, len);
	buf = proto_out_take(&out->to_plain, &len);
	send_buf(&s->pside, buf, len);
	if (s->ending)
		;
	else if (out->fail)
		finish(s, STATUS_NEGOTIATION,
		    "%s: %s", side_name(&s->tside), out->why);
	else if (out->start_tls) {
		/* The backend's next words wait for TLS, in the kernel. */
		stream_read(s->tside.st, 0);
		stream_read(s->pside.st, 0);
		start_tls(s);
	} else if (out->fallback) {
		log_security("%s%s: %s", s->label, side_name(&s->tside),
		    out->why);
		stream_set_reader(s->tside.st, raw_alloc, raw_read, &s->tside);
		relay(s, 0);
	} else if (out->relay || out->watch)
		relay(s, out->watch);
	proto_out_free(out);
}

/* Clear text from the TLS side during the opening. */
static void
neg_read(struct stream *st, ssize_t n, char *buf, void *arg)
{
	struct session		*s = arg;
	struct proto_out	 out;

	(void)st;
	if (n > 0) {
		s->tside.begun = 1;
		proto_out_init(&out);
		proto_from_tls(s->neg, buf, (size_t)n, &out);
		free(buf);
		apply(s, &out);
		return;
	}
	free(buf);
	n = read_end(&s->tside, n);
	if (n < 0 && unreached(&s->tside, (int)n))
		return;
	if (n == UV_EOF && s->o->role == ROLE_SERVER)
		finish(s, STATUS_OK, "the client left before TLS");
	else if (n == UV_EOF)
		finish(s, STATUS_NEGOTIATION,
		    "%s closed the connection during the %s opening",
		    side_name(&s->tside), proto_name(s->o->proto));
	else if (n < 0)
		finish(s, STATUS_NEGOTIATION,
		    "read from %s during the %s opening: %s",
		    side_name(&s->tside), proto_name(s->o->proto),
		    uv_strerror((int)n));
}

/* Server role: the backend's words during the opening. */
static void
neg_plain_read(struct stream *st, ssize_t n, char *buf, void *arg)
{
	struct session		*s = arg;
	struct proto_out	 out;

	(void)st;
	if (n > 0) {
		s->pside.begun = 1;
		proto_out_init(&out);
		proto_from_plain(s->neg, buf, (size_t)n, &out);
		free(buf);
		apply(s, &out);
		return;
	}
	free(buf);
	n = read_end(&s->pside, n);
	if (n < 0 && unreached(&s->pside, (int)n))
		return;
	if (n == UV_EOF) {
		/* After QUIT, say: its last reply is on its way to the client. */
		s->pside.in_done = 1;
		stream_read(s->pside.st, 0);
		if (stream_shutdown(s->tside.st) != 0)
			finish(s, STATUS_IO, "cannot end output to %s",
			    side_name(&s->tside));
	} else if (n < 0)
		finish(s, STATUS_IO, "read from %s during the %s opening: %s",
		    side_name(&s->pside), proto_name(s->o->proto),
		    uv_strerror((int)n));
}

/* Both sides are open: the protocol's clear-text opening, then TLS. */
static void
start(struct session *s)
{
	const struct options	*o = s->o;
	struct proto_cfg	 cfg;
	struct proto_out	 out;
	int			 rc;

	stream_set_writer(s->tside.st, on_written, &s->tside);
	stream_set_writer(s->pside.st, on_written, &s->pside);
	if (o->proto == PROTO_NONE) {
		start_tls(s);
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.proto = o->proto;
	cfg.role = o->role;
	cfg.ehlo = o->ehlo;
	cfg.host = o->servername ? o->servername : peer_host(s->tside.addr) ?
	    peer_host(s->tside.addr) : "localhost";
	cfg.opportunistic = o->opportunistic;
	cfg.allow_plain = o->allow_plain;
	/* A stream id should be unpredictable (RFC 6120, 4.7.3). */
	if (uv_random(NULL, NULL, &cfg.nonce, sizeof(cfg.nonce), 0,
	    NULL) != 0)
		cfg.nonce = (unsigned long)uv_hrtime();
	if ((s->neg = proto_new(&cfg)) == NULL) {
		finish(s, STATUS_IO, "out of memory");
		return;
	}
	if (o->role == ROLE_SERVER) {
		stream_set_reader(s->pside.st, raw_alloc, neg_plain_read, s);
		if ((rc = stream_read(s->pside.st, 1)) != 0) {
			finish(s, STATUS_IO,
			    "read from %s: %s", side_name(&s->pside),
			    uv_strerror(rc));
			return;
		}
	}
	stream_set_reader(s->tside.st, raw_alloc, neg_read, s);
	if ((rc = stream_read(s->tside.st, 1)) != 0) {
		finish(s, STATUS_IO, "read from %s: %s", side_name(&s->tside),
		    uv_strerror(rc));
		return;
	}
	proto_out_init(&out);
	proto_start(s->neg, &out);
	apply(s, &out);
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
	sd->st = st;
	sd->connected = 1;
	sd->reset = rc == UV_ECONNRESET;
	log_debug("%sconnected to %s", s->label, side_name(sd));
	if (s->tside.st != NULL && s->pside.st != NULL)
		start(s);
}

static int
open_side(struct side *sd)
{
	struct session	*s = sd->s;
	char		 err[512];

	if (sd->st != NULL)
		return 0;
	if (sd->addr->kind == ADDR_STDIO || sd->addr->kind == ADDR_FD) {
		if (endpoint_open_fds(s->loop, sd->addr, &sd->st, err,
		    sizeof(err)) == -1) {
			finish(s, STATUS_CONNECT, "%s", err);
			return -1;
		}
		return 0;
	}
	sd->conn = endpoint_connect(s->loop, sd->addr, on_connected, sd);
	if (sd->conn == NULL) {
		finish(s, STATUS_CONNECT,
		    "cannot connect to %s", side_name(sd));
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
	s->tside.st = tls_st;
	s->pside.st = plain_st;
	uv_timer_init(loop, &s->timer);
	s->started = uv_now(loop);
	s->timer.data = s;
	if (o->timeout_ms > 0)
		uv_timer_start(&s->timer, on_timer, o->timeout_ms, 0);
	if (open_side(&s->tside) == 0 && open_side(&s->pside) == 0 &&
	    s->tside.st != NULL && s->pside.st != NULL)
		start(s);
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
		s->aborted = s->tside.out_done || tls_shutdown(s->tls) == 0;
	finish(s, s->status, NULL);
}
