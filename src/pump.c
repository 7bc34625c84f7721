#include "config.h"

#include <stdlib.h>

#include "log.h"
#include "session_impl.h"
#include "stream.h"
#include "tls.h"

/*
 * Backpressure: a source stops being read once its sink holds this many
 * unwritten bytes and resumes below half of it.  With one read (64 KiB) in
 * flight on top, this bounds the memory of each direction.
 */
#define HIGH_WATER	(256 * 1024)
#define LOW_WATER	(HIGH_WATER / 2)

static struct side *
other(struct side *sd)
{
	return sd == &sd->s->tside ? &sd->s->pside : &sd->s->tside;
}

/* The sink has room again: read its source. */
static void
resume(struct side *src)
{
	int	rc;

	if (!src->paused || src->in_done || src->s->ending)
		return;
	src->paused = 0;
	if ((rc = transport_read(src->tp, 1)) != 0)
		session_finish(src->s, STATUS_IO, "read from %s: %s",
		    src->name, uv_strerror(rc));
}

static void
pause_if_full(struct side *src)
{
	if (transport_queued(other(src)->tp) <= HIGH_WATER || src->paused)
		return;
	src->paused = 1;
	transport_read(src->tp, 0);
}

/*
 * Writing to a side failed.  On the TLS side during the clear-text opening
 * that is the negotiation failing (status 4), as a failed read there is.
 */
static void
write_failed(struct side *sd, int rc)
{
	struct session	*s = sd->s;

	if (session_unreached(sd, rc))
		return;
	if (sd == &s->tside && s->neg != NULL && s->tls == NULL)
		session_finish(s, STATUS_NEGOTIATION, "write to %s during the "
		    "%s opening: %s", sd->name, proto_name(s->o->proto),
		    uv_strerror(rc));
	else
		session_finish(s, STATUS_IO, "write to %s: %s%s", sd->name,
		    uv_strerror(rc), sd->in_done ?
		    " (it had ended its own direction and closed)" : "");
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
	    transport_queued(s->tside.tp) != 0 ||
	    transport_queued(s->pside.tp) != 0)
		return;
	if (s->left_early && !tls_exchanged(s->tls))
		session_finish(s, STATUS_HANDSHAKE, "%s left right after the "
		    "handshake, before any data: did it reject our "
		    "certificate?", s->tside.name);
	else
		session_finish(s, STATUS_OK, "session ended");
}

void
pump_written(void *arg, int status)
{
	struct side	*sink = arg;
	struct session	*s = sink->s;

	if (s->ending) {
		if (sink == s->linger && (status != 0 ||
		    transport_queued(sink->tp) == 0))
			session_end_linger(s);
		return;
	}
	if (status != 0) {
		write_failed(sink, status);
		return;
	}
	if (transport_queued(sink->tp) <= LOW_WATER)
		resume(other(sink));
	check_done(s);
}

/* Queue bytes (malloc'ed; taken) for a side: the module's words. */
void
pump_send(struct side *dst, char *buf, size_t len)
{
	struct session	*s = dst->s;
	int		 rc;

	if (len == 0 || s->ending) {
		free(buf);
		return;
	}
	if (s->established)
		dst->relayed += len;
	s->last_active = uv_now(s->loop);
	dst->begun = 1;
	if ((rc = transport_write(dst->tp, buf, len)) != 0) {
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
	if ((rc = transport_shutdown(dst->tp)) != 0)
		session_finish(s, STATUS_IO, "cannot end output to %s: %s",
		    dst->name, uv_strerror(rc));
	else
		check_done(s);
}

/* Bytes from a side: through the module while it watches, else across. */
static void
pump_read(void *arg, const uv_buf_t *bufs, unsigned n)
{
	struct side	*src = arg, *dst = other(src);
	struct session	*s = src->s;
	int		 rc;

	if (s->ending)
		return;
	s->last_active = uv_now(s->loop);
	src->begun = 1;
	if (s->neg != NULL) {
		opening_feed(src, bufs, n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		dst->relayed += bufs[i].len;
	if ((rc = transport_writev(dst->tp, bufs, n)) != 0) {
		write_failed(dst, rc);
		return;
	}
	pause_if_full(src);
}

/*
 * A side's input ended.  Without close_notify, a FIN from anyone on the
 * path would pass for the end of the data: a failure (truncation), never a
 * clean end passed on to the other side.
 */
static void
truncated(struct side *src)
{
	struct session	*s = src->s;

	src->in_done = 1;
	if (left_unused(s))
		session_finish(s, STATUS_HANDSHAKE, "%s left right after the "
		    "handshake, before any data, without TLS close_notify: "
		    "did it reject our certificate?", src->name);
	else
		session_finish(s, STATUS_IO, "%s closed the connection without "
		    "TLS close_notify: possible truncation", src->name);
}

/*
 * How a side's input ended.  The transport's own words (why) come with a
 * failure of TLS: a fatal alert before any data (UV_ECONNREFUSED) is the
 * peer refusing us, as in a handshake.
 */
static void
pump_end(void *arg, int rc, const char *why)
{
	struct side	*src = arg;
	struct session	*s = src->s;

	if (why != NULL) {
		session_finish(s, rc == UV_ECONNREFUSED ? STATUS_HANDSHAKE :
		    STATUS_IO, "%s: %s", src->name, why);
		return;
	}
	if (rc == TRANSPORT_TRUNCATED) {
		truncated(src);
		return;
	}
	rc = session_read_end(src, rc);
	if (rc != UV_EOF) {
		if (!session_unreached(src, rc))
			session_finish(s, STATUS_IO, "read from %s: %s",
			    src->name, uv_strerror(rc));
		return;
	}
	if (src == &s->tside && s->tls != NULL)
		log_debug("%s%s sent TLS close_notify", s->label, src->name);
	else
		log_debug("%send of input from %s", s->label, src->name);
	src->in_done = 1;
	transport_read(src->tp, 0);
	if (src == &s->tside)
		s->left_early = left_unused(s);
	end_output(other(src));
}

const struct transport_cbs pump_cbs = {
	pump_read, pump_end, pump_written
};

/*
 * Both directions flow from now on: as they are, or through the module
 * while it watches them (s->neg stays).
 */
void
pump_relay(struct session *s, int watched)
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
		uv_timer_start(&s->timer, session_on_timer,
		    s->o->idle_timeout_ms, 0);
	transport_set_cbs(s->pside.tp, &pump_cbs, &s->pside);
	if ((rc = transport_read(s->pside.tp, 1)) != 0)
		session_finish(s, STATUS_IO, "read from %s: %s", s->pside.name,
		    uv_strerror(rc));
}
