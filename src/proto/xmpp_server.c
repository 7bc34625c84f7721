/*
 * XMPP server role (RFC 6120, 5): the stream before TLS is ours alone.  We
 * answer the client's stream header with ours and features that require
 * STARTTLS, and <starttls/> with <proceed/>; anything else before TLS is a
 * stream error.  The backend hears nothing until the client, inside TLS,
 * opens its stream anew (--allow-plain changes nothing here).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "xml.h"

enum {
	HEADER,		/* the client's stream header is due */
	STARTTLS,	/* <starttls/> is due */
	IN_STARTTLS	/* <starttls>, up to its end tag */
};

struct xmpp_state {
	int		 state;
	struct xml	 xml;		/* the stream so far */
};

static struct xmpp_state *
st(struct negotiation *p)
{
	return p->priv;
}

/* The stream's default namespace is this one. */
static int
default_ns(const struct xml_token *t, const char *ns)
{
	const char	*v;
	size_t		 vlen;

	return xml_attr(t, "xmlns", &v, &vlen) && vlen == strlen(ns) &&
	    strncmp(v, ns, vlen) == 0;
}

/*
 * Our stream header.  Its id is the session's random nonce: this stream
 * ends at STARTTLS, and the backend names the one inside TLS.
 */
static void
header(struct negotiation *p, const struct xml_token *t,
    struct proto_out *out)
{
	const char		*ns = "jabber:client", *to;
	size_t			 tolen;

	if (t != NULL && default_ns(t, "jabber:server"))
		ns = "jabber:server";
	if (t == NULL || !xml_attr(t, "to", &to, &tolen) ||
	    !xmpp_safe_name(to, tolen)) {
		to = p->cfg.host;
		tolen = strlen(to);
	}
	xmpp_send(p, out, "<?xml version='1.0'?><stream:stream xmlns='%s' "
	    "xmlns:stream='" NS_STREAMS "' id='starttls-%lx' from='%.*s' "
	    "version='1.0'>", ns, p->cfg.nonce, (int)tolen, to);
	st(p)->state = STARTTLS;
}

/* A stream error ends the stream (RFC 6120, 4.9): fail closed. */
static void
stream_error(struct negotiation *p, const struct xml_token *t,
    struct proto_out *out, const char *cond, const char *why)
{
	if (st(p)->state == HEADER)
		header(p, t, out);
	xmpp_send(p, out, "<stream:error><%s xmlns='" NS_STREAM_ERR "'/>"
	    "</stream:error></stream:stream>", cond);
	proto_fail(p, out, "%s", why);
}

static void
element(struct negotiation *p, const struct xml_token *t,
    struct proto_out *out)
{
	switch (st(p)->state) {
	case HEADER:
		if (t->kind != XML_START || !xml_is(t, NS_STREAMS, "stream")) {
			stream_error(p, NULL, out, "invalid-namespace",
			    "the client did not open an XMPP stream");
			return;
		}
		if (!default_ns(t, "jabber:client") &&
		    !default_ns(t, "jabber:server")) {
			stream_error(p, t, out, "invalid-namespace",
			    "the stream is neither jabber:client nor "
			    "jabber:server");
			return;
		}
		if (!xmpp_version1(t)) {
			stream_error(p, t, out, "unsupported-version", "a "
			    "stream before XMPP 1.0 cannot do STARTTLS");
			return;
		}
		header(p, t, out);
		xmpp_send(p, out, "<stream:features><starttls xmlns='" NS_TLS
		    "'><required/></starttls></stream:features>");
		return;
	case STARTTLS:
		if (t->kind == XML_END && t->depth == 1) {
			xmpp_send(p, out, "</stream:stream>");
			proto_fail(p, out,
			    "the client closed the stream before TLS");
			return;
		}
		if (t->kind != XML_START || !xml_is(t, NS_TLS, "starttls")) {
			stream_error(p, t, out, "policy-violation", "the "
			    "client did not start TLS first: refused");
			return;
		}
		if (!t->empty) {
			st(p)->state = IN_STARTTLS;
			return;
		}
		break;
	case IN_STARTTLS:
		if (t->kind != XML_END || t->depth != 2)
			return;
		break;
	}
	xmpp_send(p, out, "<proceed xmlns='" NS_TLS "'/>");
	proto_switch_now(p, out);
}

static size_t
xmpp_data(struct negotiation *p, int tls_side, const char *s, size_t len,
    struct proto_out *out)
{
	struct xml_token	 t;
	size_t			 used;
	char			 why[256], msg[300];

	if (!tls_side) {
		proto_fail(p, out, "the backend spoke before TLS");
		return len;
	}
	switch (xml_next(&st(p)->xml, s, len, &t, &used, why, sizeof(why))) {
	case 0:
		return 0;
	case -1:
		snprintf(msg, sizeof(msg), "malformed XML from the client: %s",
		    why);
		stream_error(p, NULL, out, "not-well-formed", msg);
		return len;
	}
	if (t.kind == XML_TEXT) {
		if (!t.blank && t.depth == 1)
			stream_error(p, NULL, out, "bad-format",
			    "text in the client's stream");
		return used;
	}
	xmpp_log(p, out, s, used);
	if (t.kind != XML_DECL)
		element(p, &t, out);
	return used;
}

const struct proto_ops xmpp_server_ops = {
	.size = sizeof(struct xmpp_state),
	.data = xmpp_data,
};
