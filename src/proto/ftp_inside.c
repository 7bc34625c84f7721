/*
 * FTP inside TLS, both roles, for the whole session.  AUTH is refused here
 * (534) and FEAT no longer lists it; PBSZ and PROT are ours (RFC 4217).
 * With PROT P the data connections go through the relay, TLS towards the
 * TLS side, clear text towards the plain side: the client's PASV or EPSV
 * goes to the server, and its 227 or 229 reply, held back, asks the
 * session for a data listener of its own (out->data_port);
 * proto_data_ready() then writes the reply with that listener's address.
 * Active mode is the same the other way: the client's PORT or EPRT, held
 * back, asks for a listener facing the server (out->data_active), whose
 * address goes to the server in a PORT or EPRT of ours.
 *
 * The FTP client is the TLS-side peer in the server role, the plain side
 * in the client role; the FTP server is the other one.  The commands in
 * flight are kept so that each reply is known by its command, and our own
 * answers come in their turn among the server's.  A reply may span lines
 * ("NNN-" up to "NNN "), and a 1xx reply is preliminary: the same command
 * has another reply to come (RFC 959 4.2).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftp_inside.h"

enum {
	K_OTHER,
	K_FEAT,		/* its AUTH, PBSZ and PROT lines go */
	K_PASV,		/* its 227 is rewritten */
	K_EPSV,		/* its 229 is rewritten */
	K_ACTIVE,	/* PORT, EPRT: held, for one of ours */
	K_SETUP_PBSZ,	/* client role: ours to the server, unseen */
	K_SETUP_PROT,
	/* Answered here, in this order in answers[]. */
	K_AUTH,
	K_PBSZ,
	K_PROT_P,
	K_PROT_C,
	K_PROT_NO,
	K_PBSZ_FIRST,
	K_NO_DATA,
	K_BAD_PORT
};

/*
 * RFC 2228 lists 534 "Request denied for policy reasons" among the replies
 * to AUTH: the security mechanism is TLS, up already.  RFC 4217 asks for
 * PBSZ 0 with TLS, and PBSZ before PROT (503).
 */
static const char *const answers[] = {
	"534 TLS already active\r\n",
	"200 PBSZ=0\r\n",
	"200 Protection level set to P\r\n",
	"200 Protection level set to C\r\n",
	"536 Protection level not supported\r\n",
	"503 PBSZ first\r\n",
	"425 Cannot open a data connection\r\n",
	"501 Unreadable PORT or EPRT\r\n"
};

static struct ftp_in *
in_of(struct negotiation *p)
{
	return p->priv;
}

/* The side of the FTP client, as inside_pass() counts (1: TLS side). */
static int
client_side(struct negotiation *p)
{
	return !proto_is_client(p);
}

static struct pbuf *
to_client(struct negotiation *p, struct proto_out *out)
{
	return client_side(p) ? &out->to_tls : &out->to_plain;
}

static int
ours(int kind)
{
	return kind >= K_AUTH;
}

static int
setup(int kind)
{
	return kind == K_SETUP_PBSZ || kind == K_SETUP_PROT;
}

/* Our answers that come next among the server's replies. */
static void
answer_ours(struct negotiation *p, struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);
	int		 k;

	while ((k = cmdq_head(&in->q)) != -1 && ours(k)) {
		pbuf_str(to_client(p, out), answers[k - K_AUTH]);
		cmdq_pop(&in->q);
	}
}

static void	hold(struct negotiation *, const struct iline *,
		    struct proto_out *);
static int	pasv_port(const char *, size_t, unsigned *);

/*
 * An answer of ours: now, or in its turn after the replies the server
 * still owes.
 */
static void
answer(struct negotiation *p, int kind, struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);

	if (cmdq_head(&in->q) == -1 && in->multi == 0 && !in->pending &&
	    inside_at_start(p, !client_side(p)))
		pbuf_str(to_client(p, out), answers[kind - K_AUTH]);
	else
		cmdq_push(p, &in->q, kind, out);
}

/* "EPRT |1|h|port|" (RFC 2428): the port. */
static int
eprt_port(const char *s, size_t n, unsigned *port)
{
	size_t	i = proto_word_len(s, n), at[4], k = 0;
	unsigned v = 0;

	while (i < n && s[i] == ' ')
		i++;
	for (size_t j = i; j < n && k < 4; j++)
		if (s[j] == s[i])
			at[k++] = j;
	if (k < 4 || at[3] == at[2] + 1 || at[3] - at[2] > 6)
		return -1;
	for (i = at[2] + 1; i < at[3]; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*port = v;
	return v == 0 || v > 65535 ? -1 : 0;
}

/*
 * The client's PORT or EPRT: held back while the session opens a listener
 * facing the server; the client's address in it is not used (the session
 * connects to the control connection's peer).
 */
static void
active(struct negotiation *p, const char *s, size_t n,
    struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);
	unsigned	 port;

	if ((proto_word_eq(s, n, "PORT") ? pasv_port(s, n, &port) :
	    eprt_port(s, n, &port)) != 0) {
		answer(p, K_BAD_PORT, out);
		return;
	}
	in->pending = 1;
	in->active = 1;
	out->data_port = port;
	out->data_active = 1;
}

/* PROT: in the client role the data to the server is P whatever comes. */
static int
prot_kind(struct negotiation *p, const char *arg, size_t len)
{
	struct ftp_in	*in = in_of(p);

	if (proto_word_eq(arg, len, "C")) {
		if (!proto_is_client(p))
			in->relay_data = 0;
		return K_PROT_C;
	}
	if (proto_is_client(p) || !proto_word_eq(arg, len, "P"))
		return K_PROT_NO;
	if (!in->pbsz)
		return K_PBSZ_FIRST;
	in->relay_data = 1;
	return K_PROT_P;
}

static int
command_kind(struct negotiation *p, const char *s, size_t n)
{
	struct ftp_in	*in = in_of(p);
	size_t		 i = proto_word_len(s, n);

	while (i < n && s[i] == ' ')
		i++;
	if (proto_word_eq(s, n, "AUTH"))
		return K_AUTH;
	if (proto_word_eq(s, n, "PBSZ")) {
		in->pbsz = 1;
		return K_PBSZ;
	}
	if (proto_word_eq(s, n, "PROT"))
		return prot_kind(p, s + i, n - i);
	if (proto_word_eq(s, n, "FEAT"))
		return K_FEAT;
	if (!in->relay_data)
		return K_OTHER;
	if (proto_word_eq(s, n, "PASV"))
		return K_PASV;
	if (proto_word_eq(s, n, "EPSV"))
		return proto_word_eq(s + i, n - i, "ALL") ? K_OTHER : K_EPSV;
	if (proto_word_eq(s, n, "PORT") || proto_word_eq(s, n, "EPRT"))
		return K_ACTIVE;
	return K_OTHER;
}

/* A line from the FTP client. */
static void
on_command(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);
	size_t		 n = l->whole ? proto_line_len(l->s, l->len) :
	    l->headlen;
	int		 kind;

	if (in->pending && in->active) {
		hold(p, l, out);
		return;
	}
	kind = command_kind(p, l->head, n);
	if (!l->whole && kind != K_OTHER && kind != K_FEAT) {
		/* It went on already: end the session instead. */
		proto_fail(p, out, "a %.*s command longer than %d bytes "
		    "inside TLS", (int)proto_word_len(l->head, n), l->head,
		    INSIDE_MAX_LINE);
		return;
	}
	if (kind == K_ACTIVE)
		active(p, l->s, n, out);
	else if (!ours(kind)) {
		if (l->whole)
			inside_pass(p, client_side(p), l->s, l->len, out);
		cmdq_push(p, &in->q, l->whole ? kind : K_OTHER, out);
	} else
		answer(p, kind, out);
}

/* A FEAT line the client is not shown: " AUTH TLS", " PBSZ", " PROT". */
static int
feat_drops(const char *s, size_t n)
{
	while (n > 0 && s[0] == ' ')
		s++, n--;
	return proto_word_eq(s, n, "AUTH") || proto_word_eq(s, n, "PBSZ") ||
	    proto_word_eq(s, n, "PROT");
}

/* "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)": the port. */
static int
pasv_port(const char *s, size_t n, unsigned *port)
{
	unsigned	v[6] = { 0 };
	size_t		i = 4, start;

	while (i < n && !isdigit((unsigned char)s[i]))
		i++;
	for (int k = 0; k < 6; k++) {
		for (start = i; i < n && isdigit((unsigned char)s[i]) &&
		    i - start < 3; i++)
			v[k] = v[k] * 10 + (unsigned)(s[i] - '0');
		if (i == start || v[k] > 255)
			return -1;
		if (k < 5 && (i >= n || s[i++] != ','))
			return -1;
	}
	*port = v[4] * 256 + v[5];
	return *port == 0 ? -1 : 0;
}

/* "229 Entering Extended Passive Mode (|||port|)" (RFC 2428). */
static int
epsv_port(const char *s, size_t n, unsigned *port)
{
	const char	*o = memchr(s, '(', n);
	unsigned	 v = 0;
	size_t		 i;
	char		 d;

	if (o == NULL || n - (size_t)(o - s) < 6)
		return -1;
	i = (size_t)(o - s) + 1;
	d = s[i];
	if (s[i + 1] != d || s[i + 2] != d)
		return -1;
	for (i += 3; i < n && isdigit((unsigned char)s[i]) && v <= 65535; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (i >= n || s[i] != d || v == 0 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* The server's passive reply: the session opens a listener of ours. */
static void
passive(struct negotiation *p, int kind, const char *s, size_t n,
    struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);
	unsigned	 port;

	if ((kind == K_PASV ? pasv_port(s, n, &port) :
	    epsv_port(s, n, &port)) != 0) {
		pbuf_str(to_client(p, out),
		    "425 Unreadable passive reply from the server\r\n");
		answer_ours(p, out);
		return;
	}
	in->pending = 1;
	in->active = 0;
	in->epsv = kind == K_EPSV;
	out->data_port = port;
}

/* Client role: the replies to our PBSZ and PROT; then our greeting. */
static void
setup_reply(struct negotiation *p, int kind, int code,
    struct proto_out *out)
{
	if (kind != K_SETUP_PROT)
		return;
	in_of(p)->relay_data = code == 200;
	if (code != 200)
		pbuf_str(&out->log, "PROT P refused: the plain client's data "
		    "connections go to the server in clear text\n");
	proto_greet(p, out, "220 %s ready", proto_safe_name(p));
}

/* While the session opens a listener, the lines after wait. */
static void
hold(struct negotiation *p, const struct iline *l, struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);

	if (!l->whole || in->held.len + l->len > PROTO_MAX_BYTES) {
		proto_fail(p, out, "too much while a data connection opens");
		return;
	}
	pbuf_add(&in->held, l->s, l->len);
}

static void
pass(struct negotiation *p, int kind, const struct iline *l,
    struct proto_out *out)
{
	if (l->whole && !setup(kind))
		inside_pass(p, !client_side(p), l->s, l->len, out);
}

/* A reply's last line, "NNN text": what it answers is done with. */
static void
reply_end(struct negotiation *p, const struct iline *l, size_t n, int code,
    int multi, struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);
	int		 kind = cmdq_head(&in->q);

	if (kind == K_FEAT && in->feat_list && !proto_is_client(p))
		pbuf_str(to_client(p, out), " PBSZ\r\n PROT\r\n");
	in->feat_list = 0;
	if (kind == -1 || ours(kind) || code < 200) {
		/* Not asked for (421 before a close), or preliminary. */
		pass(p, kind, l, out);
		answer_ours(p, out);
		return;
	}
	cmdq_pop(&in->q);
	if (setup(kind))
		setup_reply(p, kind, code, out);
	else if (l->whole && !multi && ((kind == K_PASV && code == 227) ||
	    (kind == K_EPSV && code == 229))) {
		passive(p, kind, l->s, n, out);
		return;
	} else
		pass(p, kind, l, out);
	answer_ours(p, out);
}

/* A line from the FTP server. */
static void
on_reply(struct negotiation *p, const struct iline *l, struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);
	size_t		 n = l->whole ? proto_line_len(l->s, l->len) :
	    l->headlen;
	int		 kind = cmdq_head(&in->q);
	int		 code = proto_reply_code(l->head, n, "- "), multi;

	if (in->pending && !in->active) {
		hold(p, l, out);
		return;
	}
	if (in->multi != 0 && (code != in->multi ||
	    (n > 3 && l->head[3] != ' '))) {
		/* Inside a multi-line reply. */
		if (!(kind == K_FEAT && l->whole && feat_drops(l->s, n)))
			pass(p, kind, l, out);
		return;
	}
	if (code == -1) {
		pass(p, kind, l, out);	/* not a reply: nothing it answers */
		return;
	}
	if (in->multi == 0 && n > 3 && l->head[3] == '-') {
		in->multi = code;
		in->feat_list = kind == K_FEAT && code == 211;
		pass(p, kind, l, out);
		return;
	}
	multi = in->multi != 0;
	in->multi = 0;
	reply_end(p, l, n, code, multi, out);
}

void
ftp_in_tls(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	if (proto_is_client(p))
		on_reply(p, l, out);
	else
		on_command(p, l, out);
}

void
ftp_in_plain(struct negotiation *p, const struct iline *l,
    struct proto_out *out)
{
	if (proto_is_client(p))
		on_command(p, l, out);
	else
		on_reply(p, l, out);
}

/* Client role, TLS is up: PROT P for the data, before the plain client. */
void
ftp_in_setup(struct negotiation *p, struct proto_out *out)
{
	struct ftp_in	*in = in_of(p);

	proto_send_line(p, out, "PBSZ 0");
	proto_send_line(p, out, "PROT P");
	cmdq_push(p, &in->q, K_SETUP_PBSZ, out);
	cmdq_push(p, &in->q, K_SETUP_PROT, out);
	out->watch = 1;
}

/* An IPv4 address as PORT and PASV write it, "h1,h2,h3,h4"; or NULL. */
static const char *
commas(const char *ip, char h[16])
{
	size_t	i;

	if (ip == NULL || strlen(ip) >= 16 || strchr(ip, ':') != NULL)
		return NULL;
	for (i = 0; ip[i] != '\0'; i++)
		h[i] = ip[i] == '.' ? ',' : ip[i];
	h[i] = '\0';
	return h;
}

/* Where the client connects: our listener's, never the server's. */
static void
data_reply(struct negotiation *p, const char *ip, unsigned port,
    struct proto_out *out)
{
	char	line[128], h[16];

	if (port != 0 && in_of(p)->epsv)
		snprintf(line, sizeof(line),
		    "229 Entering Extended Passive Mode (|||%u|)\r\n", port);
	else if (port != 0 && commas(ip, h) != NULL)
		snprintf(line, sizeof(line),
		    "227 Entering Passive Mode (%s,%u,%u)\r\n", h, port >> 8,
		    port & 255);
	else
		snprintf(line, sizeof(line), "425 Cannot open a data "
		    "connection%s\r\n", port != 0 ? ": use EPSV" : "");
	pbuf_str(to_client(p, out), line);
}

/* Where the server connects: our PORT or EPRT, its reply the client's. */
static void
data_command(struct negotiation *p, const char *ip, unsigned port,
    struct proto_out *out)
{
	char	line[128], h[16];

	if (port == 0 || ip == NULL) {
		answer(p, K_NO_DATA, out);
		return;
	}
	if (commas(ip, h) != NULL)
		snprintf(line, sizeof(line), "PORT %s,%u,%u\r\n", h,
		    port >> 8, port & 255);
	else
		snprintf(line, sizeof(line), "EPRT |2|%s|%u|\r\n", ip, port);
	inside_pass(p, client_side(p), line, strlen(line), out);
	cmdq_push(p, &in_of(p)->q, K_OTHER, out);
}

/*
 * The session's listener for the pending reply or command: its address
 * and port, 0 if it could not open one.  The lines held meanwhile go on
 * after it.
 */
void
proto_data_ready(struct negotiation *p, const char *ip, unsigned port,
    struct proto_out *out)
{
	struct ftp_in	*in;
	struct pbuf	 held;
	const char	*s, *nl;

	if (p->cfg.proto != PROTO_FTP || p->phase != INSIDE ||
	    !(in = p->priv)->pending)
		return;
	in->pending = 0;
	if (in->active)
		data_command(p, ip, port, out);
	else {
		data_reply(p, ip, port, out);
		answer_ours(p, out);
	}
	held = in->held;
	memset(&in->held, 0, sizeof(in->held));
	for (s = held.data; s != NULL && s < held.data + held.len &&
	    p->phase == INSIDE; s = nl + 1) {
		struct iline	l;

		nl = memchr(s, '\n', held.len - (size_t)(s - held.data));
		l.s = l.head = s;
		l.len = l.headlen = (size_t)(nl - s) + 1;
		l.whole = 1;
		if (in->active)
			on_command(p, &l, out);
		else
			on_reply(p, &l, out);
	}
	free(held.data);
}

void
ftp_in_free(struct negotiation *p)
{
	free(in_of(p)->held.data);
}
