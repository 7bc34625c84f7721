#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ftp_data.h"
#include "log.h"
#include "session_impl.h"
#include "stream.h"
#include "tls.h"

static void	apply(struct session *, struct proto_out *);

/* The host we connect to, or NULL: a listening address names ourselves. */
static const char *
peer_host(const struct address *a)
{
	return a->kind == ADDR_TCP && a->host[0] != '\0' ? a->host : NULL;
}

/* The words for clear text where the peer's first TLS record should be. */
static const char *
injection(const struct session *s)
{
	return s->o->role == ROLE_SERVER ? "clear text arrived where the "
	    "ClientHello should be (command injection?)" : "clear text "
	    "arrived where the ServerHello should be (response injection?)";
}

static void
on_handshake(void *arg, int status, const char *err)
{
	struct session		*s = arg;
	struct proto_out	 out;
	char			 desc[1024];
	int			 rc;

	if (status == STATUS_NEGOTIATION && err == NULL)
		err = injection(s);
	if (status != STATUS_OK) {
		/* One message for a server that hung up on our ClientHello. */
		if ((rc = tls_silent_end(s->tls)) != 0 && s->tside.connected)
			session_finish(s, status, "%s %s the connection during "
			    "the TLS handshake, before sending anything",
			    s->tside.name, session_how_lost(&s->tside, rc));
		else
			session_finish(s, status, "%s: %s", s->tside.name, err);
		return;
	}
	s->tside.begun = 1;
	if (log_enabled(LOG_INFO)) {
		tls_describe(s->tls, desc, sizeof(desc));
		log_info("%sTLS established: %s", s->label, desc);
	}
	if (s->neg == NULL) {
		pump_relay(s, 0);
		return;
	}
	/* What the module says first inside TLS, and how it goes on. */
	proto_out_init(&out);
	proto_established(s->neg, &out);
	apply(s, &out);
}

/*
 * The switch: TLS over the TLS side's transport takes its place, and the
 * pump reads it from now on.  Direct TLS (first: the module found a
 * ClientHello where its clear text was due) has no switch: what the peer
 * sent so far is the TLS session's beginning, and goes to it.
 */
static void
start_tls(struct session *s, const struct proto_out *first)
{
	const struct options	*o = s->o;
	const char		*name = NULL;
	char			 err[512];
	int			 direct = first != NULL &&
				    first->tls_first.len > 0, rc;

	if (o->role == ROLE_CLIENT)
		name = o->servername ? o->servername : peer_host(s->tside.addr);
	if (tls_start(&s->tls, s->loop, s->tctx, s->tside.tp, name,
	    s->neg == NULL || direct ? TLS_FIRST_BYTE :
	    proto_space_after_switch(s->neg) ? TLS_AFTER_SPACE :
	    TLS_AFTER_SWITCH, on_handshake, s, err, sizeof(err)) != 0) {
		session_finish(s, STATUS_HANDSHAKE, "%s: %s", s->tside.name,
		    err);
		return;
	}
	s->tside.tp = tls_transport(s->tls);
	transport_set_cbs(s->tside.tp, &pump_cbs, &s->tside);
	if (direct && (rc = tls_direct(s->tls, first->alpn,
	    first->tls_first.data, first->tls_first.len)) != 0)
		session_finish(s, STATUS_IO, "%s: direct TLS: %s",
		    s->tside.name, uv_strerror(rc));
}

/*
 * FTP: the module asks for a data connection through us, one at a time;
 * it writes the reply that sends the client to our listener.
 */
static void
open_data(struct session *s, unsigned port, int active)
{
	struct proto_out	 out;
	const char		*name = NULL;
	char			 ip[64] = "", err[512];
	unsigned		 lport = 0;

	if (s->data != NULL)
		ftp_data_close(s->data, NULL, NULL);
	if (s->o->role == ROLE_CLIENT)
		name = s->o->servername ? s->o->servername :
		    peer_host(s->tside.addr);
	if (ftp_data_new(s, port, active, name, ip, sizeof(ip), &lport, err,
	    sizeof(err)) != 0) {
		log_err("%s%s", s->label, err);
		ip[0] = '\0';
	}
	proto_out_init(&out);
	proto_data_ready(s->neg, ip[0] != '\0' ? ip : NULL, lport, &out);
	apply(s, &out);
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
	pump_send(&s->tside, buf, len);
	buf = proto_out_take(&out->to_plain, &len);
	pump_send(&s->pside, buf, len);
	if (s->ending)
		;
	else if (out->fail)
		session_finish(s, STATUS_NEGOTIATION, "%s: %s", s->tside.name,
		    out->why);
	else if (out->start_tls) {
		/* The backend's next words wait for TLS, in the kernel. */
		transport_read(s->tside.tp, 0);
		transport_read(s->pside.tp, 0);
		start_tls(s, out);
	} else if (out->fallback) {
		log_security("%s%s: %s", s->label, s->tside.name, out->why);
		transport_set_cbs(s->tside.tp, &pump_cbs, &s->tside);
		pump_relay(s, 0);
	} else if (out->relay || out->watch)
		pump_relay(s, out->watch);
	if (out->data_port != 0 && !s->ending && s->neg != NULL)
		open_data(s, out->data_port, out->data_active);
	proto_out_free(out);
}

/* Bytes from a side for the module, while it has a say. */
void
opening_feed(struct side *src, const uv_buf_t *bufs, unsigned n)
{
	struct session		*s = src->s;
	struct proto_out	 out;

	unsigned		 i;

	src->begun = 1;
	for (i = 0; i < n && s->neg != NULL && !s->ending; i++) {
		proto_out_init(&out);
		if (src == &s->tside)
			proto_from_tls(s->neg, bufs[i].base, bufs[i].len, &out);
		else
			proto_from_plain(s->neg, bufs[i].base, bufs[i].len,
			    &out);
		apply(s, &out);
	}
	/* The module handed over in a batch (TLS records): the rest goes on. */
	if (i < n && s->neg == NULL && !s->ending)
		pump_cbs.read(src, bufs + i, n - i);
}

/* The TLS side's input ended during the clear-text opening. */
static void
tls_side_end(void *arg, int rc, const char *why)
{
	struct side	*sd = arg;
	struct session	*s = sd->s;

	(void)why;
	rc = session_read_end(sd, rc);
	if (session_unreached(sd, rc))
		return;
	if (rc == UV_EOF && s->o->role == ROLE_SERVER)
		session_finish(s, STATUS_OK, "the client left before TLS");
	else if (rc == UV_EOF)
		session_finish(s, STATUS_NEGOTIATION, "%s closed the "
		    "connection during the %s opening", sd->name,
		    proto_name(s->o->proto));
	else
		session_finish(s, STATUS_NEGOTIATION, "read from %s during the "
		    "%s opening: %s", sd->name, proto_name(s->o->proto),
		    uv_strerror(rc));
}

/* Server role: the backend's input ended during the opening. */
static void
plain_side_end(void *arg, int rc, const char *why)
{
	struct side	*sd = arg;
	struct session	*s = sd->s;

	(void)why;
	rc = session_read_end(sd, rc);
	if (session_unreached(sd, rc))
		return;
	if (rc != UV_EOF) {
		session_finish(s, STATUS_IO, "read from %s during the %s "
		    "opening: %s", sd->name, proto_name(s->o->proto),
		    uv_strerror(rc));
		return;
	}
	/* After QUIT, say: its last reply is on its way to the client. */
	sd->in_done = 1;
	transport_read(sd->tp, 0);
	if (transport_shutdown(s->tside.tp) != 0)
		session_finish(s, STATUS_IO, "cannot end output to %s",
		    s->tside.name);
}

static void
opening_read(void *arg, const uv_buf_t *bufs, unsigned n)
{
	opening_feed(arg, bufs, n);
}

static const struct transport_cbs tls_side_cbs = {
	opening_read, tls_side_end, pump_written
};

static const struct transport_cbs plain_side_cbs = {
	opening_read, plain_side_end, pump_written
};

/* The module for this session, from the options. */
static struct negotiation *
new_module(struct session *s)
{
	const struct options	*o = s->o;
	struct proto_cfg	 cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.proto = o->proto;
	cfg.role = o->role;
	cfg.ehlo = o->ehlo;
	cfg.host = o->servername ? o->servername : peer_host(s->tside.addr) ?
	    peer_host(s->tside.addr) : "localhost";
	cfg.port = peer_host(s->tside.addr) ? s->tside.addr->port : NULL;
	cfg.opportunistic = o->opportunistic;
	cfg.allow_plain = o->allow_plain;
	/* A stream id should be unpredictable (RFC 6120, 4.7.3). */
	if (uv_random(NULL, NULL, &cfg.nonce, sizeof(cfg.nonce), 0,
	    NULL) != 0)
		cfg.nonce = (unsigned long)uv_hrtime();
	return proto_new(&cfg);
}

/*
 * Both sides are open: the protocol's clear-text opening, then TLS.  The
 * backend is heard during the opening in the server role only.
 */
void
opening_start(struct session *s)
{
	struct proto_out	 out;
	int			 server = s->o->role == ROLE_SERVER, rc;

	transport_set_cbs(s->tside.tp, &tls_side_cbs, &s->tside);
	transport_set_cbs(s->pside.tp, server ? &plain_side_cbs : &pump_cbs,
	    &s->pside);
	if (s->o->proto == PROTO_NONE) {
		start_tls(s, NULL);
		return;
	}
	if ((s->neg = new_module(s)) == NULL) {
		session_finish(s, STATUS_IO, "out of memory");
		return;
	}
	if (server && (rc = transport_read(s->pside.tp, 1)) != 0) {
		session_finish(s, STATUS_IO, "read from %s: %s", s->pside.name,
		    uv_strerror(rc));
		return;
	}
	if ((rc = transport_read(s->tside.tp, 1)) != 0) {
		session_finish(s, STATUS_IO, "read from %s: %s", s->tside.name,
		    uv_strerror(rc));
		return;
	}
	proto_out_init(&out);
	proto_start(s->neg, &out);
	apply(s, &out);
}
