/*
 * XMPP client role (RFC 6120, 5): our stream header, the server's header
 * and <stream:features> with <starttls/>, <starttls/>, <proceed/>.  After
 * TLS the plain client opens a stream of its own, so nothing is replayed.
 */
#include "config.h"

#include <string.h>

#include "xml.h"

enum {
	HEADER,		/* the server's stream header is due */
	FEATURES,	/* <stream:features> is due */
	IN_FEATURES,
	PROCEED,	/* the answer to <starttls/> is due */
	PROCEEDING,	/* <proceed>, up to its end tag */
	STREAM_ERROR	/* <stream:error>: its condition comes next */
};

struct xmpp_state {
	int		 state;
	int		 starttls;	/* the features offer STARTTLS */
	struct xml	 xml;		/* the stream so far */
};

static struct xmpp_state *
st(struct negotiation *p)
{
	return p->priv;
}

static void
xmpp_start(struct negotiation *p, struct proto_out *out)
{
	if (!xmpp_safe_name(p->cfg.host, strlen(p->cfg.host))) {
		proto_fail(p, out,
		    "'%.64s' cannot be an XMPP domain (--servername "
		    "names the server)", p->cfg.host);
		return;
	}
	xmpp_send(p, out, "<?xml version='1.0'?><stream:stream to='%s' "
	    "xmlns='jabber:client' xmlns:stream='" NS_STREAMS "' "
	    "version='1.0'>", p->cfg.host);
}

static void
features_end(struct negotiation *p, struct proto_out *out)
{
	if (st(p)->starttls) {
		xmpp_send(p, out, "<starttls xmlns='" NS_TLS "'/>");
		st(p)->state = PROCEED;
	} else if (p->cfg.opportunistic)
		proto_fail(p, out,
		    "the server does not offer STARTTLS (it offers: "
		    "%s); no clear-text fallback for xmpp: the relay opened "
		    "the stream itself", p->caps.len ? p->caps.data :
		    "nothing");
	else
		proto_not_offered(p, out, "STARTTLS");
}

static void
element(struct negotiation *p, const struct xml_token *t,
    struct proto_out *out)
{
	if (t->kind == XML_END && t->depth == 1) {
		proto_fail(p, out, "the server closed the stream");
		return;
	}
	if (st(p)->state == STREAM_ERROR) {
		if (t->kind == XML_START && t->depth == 3 &&
		    strcmp(t->ns, NS_STREAM_ERR) == 0)
			proto_fail(p, out, "stream error from the server: %.*s",
			    (int)t->llen, t->local);
		else if (t->kind == XML_END && t->depth == 2)
			proto_fail(p, out, "stream error from the server");
		return;
	}
	if (t->kind == XML_START && t->depth == 2 &&
	    xml_is(t, NS_STREAMS, "error")) {
		st(p)->state = STREAM_ERROR;
		return;
	}
	switch (st(p)->state) {
	case HEADER:
		if (t->kind != XML_START || !xml_is(t, NS_STREAMS, "stream")) {
			proto_fail(p, out,
			    "the server's answer is not an XMPP stream");
			return;
		}
		/* Before 1.0 there were no stream features, nor STARTTLS. */
		if (!xmpp_version1(t)) {
			features_end(p, out);
			return;
		}
		st(p)->state = FEATURES;
		return;
	case FEATURES:
		if (t->kind == XML_START && xml_is(t, NS_STREAMS, "features")) {
			st(p)->state = IN_FEATURES;
			if (t->empty)
				features_end(p, out);
			return;
		}
		proto_fail(p, out, "<%.*s> where the stream features should be",
		    (int)t->llen, t->local);
		return;
	case IN_FEATURES:
		if (t->kind == XML_START && t->depth == 3) {
			if (xml_is(t, NS_TLS, "starttls"))
				st(p)->starttls = 1;
			proto_add_cap(p, t->local, t->llen);
		} else if (t->kind == XML_END && t->depth == 2)
			features_end(p, out);
		return;
	case PROCEED:
		if (t->kind == XML_START && xml_is(t, NS_TLS, "proceed")) {
			if (t->empty)
				proto_switch_now(p, out);
			else
				st(p)->state = PROCEEDING;
		} else if (t->kind == XML_START && xml_is(t, NS_TLS, "failure"))
			proto_fail(p, out, "STARTTLS refused: <failure/>");
		else
			proto_fail(p, out, "<%.*s> instead of <proceed/>",
			    (int)t->llen, t->local);
		return;
	case PROCEEDING:
		if (t->kind == XML_END && t->depth == 2)
			proto_switch_now(p, out);
		else
			proto_fail(p, out, "<proceed> is not empty");
		return;
	}
}

static size_t
xmpp_data(struct negotiation *p, int tls_side, const char *s, size_t len,
    struct proto_out *out)
{
	struct xml_token	 t;
	size_t			 used;
	char			 why[256];

	(void)tls_side;
	switch (xml_next(&st(p)->xml, s, len, &t, &used, why, sizeof(why))) {
	case 0:
		return 0;
	case -1:
		proto_fail(p, out, "malformed XML from the server: %s", why);
		return len;
	}
	/* Text belongs in elements; between them only white space. */
	if (t.kind == XML_TEXT) {
		if (!t.blank && t.depth == 1)
			proto_fail(p, out, "text in the stream: '%.*s'",
			    (int)(used > 60 ? 60 : used), s);
		return used;
	}
	xmpp_log(p, out, s, used);
	if (t.kind == XML_DECL)
		return used;
	element(p, &t, out);
	return used;
}

const struct proto_ops xmpp_client_ops = {
	.size = sizeof(struct xmpp_state),
	.start = xmpp_start,
	.data = xmpp_data,
};
