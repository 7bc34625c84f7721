/* HTTP Upgrade to TLS, client role (RFC 2817 3.2): OPTIONS *, then 101. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "proto_impl.h"

enum {
	STATUS,
	HEADERS
};

struct http_state {
	int		 state;
	int		 upgrade_tls;	/* the 101 upgrades to TLS */
	int		 in_upgrade;	/* the header line is Upgrade: (it
					   may go on) */
};

static struct http_state *
st(struct negotiation *p)
{
	return p->priv;
}

static void
http_start(struct negotiation *p, struct proto_out *out)
{
	proto_send_line(p, out, "OPTIONS * HTTP/1.1");
	proto_send_line(p, out, "Host: %s", p->cfg.host);
	proto_send_line(p, out, "Upgrade: TLS/1.0");
	proto_send_line(p, out, "Connection: Upgrade");
	proto_send_line(p, out, "%s", "");
}

static void
http_line(struct negotiation *p, const char *s, size_t len,
    struct proto_out *out)
{
	int	shown = proto_shown(len);

	switch (st(p)->state) {
	case STATUS:
		if (len < 12 || strncmp(s, "HTTP/1.", 7) != 0 || s[8] != ' ') {
			proto_fail(p, out, "malformed HTTP status line: '%.*s'",
			    shown,
			    s);
			return;
		}
		if (strncmp(s + 9, "101", 3) != 0) {
			if (p->cfg.opportunistic)
				proto_fail(p, out,
				    "the server refused the upgrade "
				    "('%.*s'); --opportunistic cannot help "
				    "once it has answered", shown, s);
			else
				proto_fail(p, out,
				    "the server refused the upgrade: "
				    "'%.*s'", shown, s);
			return;
		}
		st(p)->state = HEADERS;
		return;
	case HEADERS:
		if (len == 0) {
			if (!st(p)->upgrade_tls) {
				proto_fail(p, out,
				    "101 without an Upgrade to TLS");
				return;
			}
			proto_switch_now(p, out);
			return;
		}
		/* Folded continuation lines belong to the previous header. */
		if (s[0] == ' ' || s[0] == '\t') {
			if (st(p)->in_upgrade &&
			    proto_list_token(s, len, "TLS/"))
				st(p)->upgrade_tls = 1;
			return;
		}
		st(p)->in_upgrade = len >= 8 &&
		    strncasecmp(s, "Upgrade:", 8) == 0;
		if (st(p)->in_upgrade &&
		    proto_list_token(s + 8, len - 8, "TLS/"))
			st(p)->upgrade_tls = 1;
		return;
	}
}

const struct proto_ops http_client_ops = {
	.size = sizeof(struct http_state),
	.start = http_start,
	.line = http_line,
};
