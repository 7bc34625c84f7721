#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"

enum {
	OPT_CERT = 256,
	OPT_KEY,
	OPT_SELF_SIGNED,
	OPT_CAFILE,
	OPT_INSECURE,
	OPT_SERVERNAME,
	OPT_PIN,
	OPT_PRIORITY,
	OPT_ALPN,
	OPT_VERIFY_CLIENT,
	OPT_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_SESSIONS,
	OPT_KEYLOG,
	OPT_EHLO,
	OPT_OPPORTUNISTIC,
	OPT_ALLOW_PLAIN
};

static const struct option longopts[] = {
	{ "proto",		required_argument,	NULL, 'p' },
	{ "role",		required_argument,	NULL, 'r' },
	{ "cert",		required_argument,	NULL, OPT_CERT },
	{ "key",		required_argument,	NULL, OPT_KEY },
	{ "self-signed",	no_argument,		NULL, OPT_SELF_SIGNED },
	{ "cafile",		required_argument,	NULL, OPT_CAFILE },
	{ "insecure",		no_argument,		NULL, OPT_INSECURE },
	{ "servername",		required_argument,	NULL, OPT_SERVERNAME },
	{ "pin",		required_argument,	NULL, OPT_PIN },
	{ "priority",		required_argument,	NULL, OPT_PRIORITY },
	{ "alpn",		required_argument,	NULL, OPT_ALPN },
	{ "verify-client",	no_argument,		NULL, OPT_VERIFY_CLIENT },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "idle-timeout",	required_argument,	NULL, OPT_IDLE_TIMEOUT },
	{ "max-sessions",	required_argument,	NULL, OPT_MAX_SESSIONS },
	{ "keylog",		required_argument,	NULL, OPT_KEYLOG },
	{ "ehlo",		required_argument,	NULL, OPT_EHLO },
	{ "opportunistic",	no_argument,		NULL, OPT_OPPORTUNISTIC },
	{ "allow-plain",	no_argument,		NULL, OPT_ALLOW_PLAIN },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

/* What --proto takes, for its error message: "none, smtp, ...". */
#define NAME_ITEM(id, name, note, module, unavailable, flags)	", " name
#define PROTO_NAMES	"none" PROTO_MAP(NAME_ITEM)

#define USAGE_INDENT	27	/* the column option descriptions start at */
#define USAGE_WIDTH	79

/* One protocol in --help: its name, its note, and what ends it. */
#define HELP_ITEM(id, name, note, module, unavailable, flags)	\
	{ name, note, flags },

/*
 * The STARTTLS protocols as --help says them, from the protocol table:
 * "STARTTLS: smtp, ...", ", " between them, "; " where a group begins.
 */
static void
protos_text(char *text, size_t size)
{
	static const struct {
		const char	*name, *note;
		unsigned	 flags;
	} protos[] = { PROTO_MAP(HELP_ITEM) };
	size_t		 n = sizeof(protos) / sizeof(protos[0]), len = 0;
	int		 r;

	for (size_t i = 0; i < n; i++) {
		r = snprintf(text + len, size - len, "%s %s%s%s%s",
		    i == 0 ? "STARTTLS:" : "",
		    protos[i].name, *protos[i].note ? " " : "",
		    protos[i].note, i + 1 == n ? "" :
		    protos[i + 1].flags & PROTO_HELP_GROUP ? ";" : ",");
		if (r < 0 || (size_t)r >= size - len)
			return;		/* cut short: text is far larger */
		len += (size_t)r;
	}
}

/* Filled into the description column, word by word. */
static void
usage_protos(FILE *f)
{
	char	 text[1024], *w, *save = NULL;
	size_t	 col = 0;

	protos_text(text, sizeof(text));
	for (w = strtok_r(text, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (col > 0 && col + 1 + strlen(w) > USAGE_WIDTH) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0)
			col = (size_t)fprintf(f, "%*s%s", USAGE_INDENT, "", w);
		else
			col += (size_t)fprintf(f, " %s", w);
	}
	fputc('\n', f);
}

void
options_usage(FILE *f)
{
	fputs(
"Usage: " PACKAGE_NAME " [OPTION]... TLS-ADDRESS [PLAIN-ADDRESS]\n"
"Relay between a TLS side and a plain side (default: standard input/output).\n"
"\n"
"Addresses:\n"
"  -, stdio                 standard input and output\n"
"  HOST:PORT, tcp:HOST:PORT connect over TCP ([::1]:PORT for IPv6)\n"
"  listen:[HOST:]PORT       accept TCP connections, one session each\n"
"  unix:PATH, unix-listen:PATH  the same over a Unix-domain socket\n"
"  fd:N                     an inherited descriptor: connected (inetd), or\n"
"                           listening (systemd socket activation)\n"
"  systemd, systemd:NAME    the socket systemd passed (LISTEN_FDS), checked\n"
"                           against LISTEN_PID; by FileDescriptorName\n"
"\n"
"Mode:\n"
"  -p, --proto=PROTO        none: TLS from the first byte (default);\n", f);
	usage_protos(f);
	fputs(
"  -r, --role=ROLE          client (default) or server toward the TLS side\n"
"  -s                       same as --role=server\n"
"\n"
"TLS:\n"
"      --cert=FILE          certificate chain (PEM), server role\n"
"      --key=FILE           private key (PEM); default: the --cert file\n"
"      --self-signed        server role: throwaway certificate made in memory\n"
"      --cafile=FILE        trust anchors (default: the system trust store)\n"
"      --insecure           client role: do not verify the peer (dangerous)\n"
"      --servername=NAME    SNI and name to verify (default: the TLS-ADDRESS host)\n"
"      --pin=sha256:BASE64  require this public key hash (repeatable)\n"
"      --priority=STRING    GnuTLS priority string (default: TLS 1.2 and 1.3)\n"
"      --alpn=P1[,P2...]    ALPN protocols to offer or accept\n"
"      --verify-client      server role: require a client certificate (--cafile)\n"
"      --keylog=FILE        append NSS key-log lines (also SSLKEYLOGFILE)\n"
"\n"
"STARTTLS:\n"
"      --ehlo=NAME          name sent in SMTP EHLO (default localhost)\n"
"      --opportunistic      client: relay in clear text (with a warning) when\n"
"                           the server does not offer the switch\n"
"      --allow-plain        server: forward commands sent before the switch\n"
"                           instead of refusing them\n"
"\n"
"Limits:\n"
"      --timeout=SECONDS    connect + negotiation + handshake (default 30, 0: none)\n"
"      --idle-timeout=SECONDS  close a session idle that long (default: none)\n"
"      --max-sessions=N     listen mode: concurrent sessions at most\n"
"\n"
"Output:\n"
"  -v, --verbose            transcript and TLS parameters on stderr (repeatable)\n"
"  -q, --quiet              only errors\n"
"  -h, --help               this help\n"
"  -V, --version            version, with the GnuTLS and libuv versions\n"
"\n"
"Exit status: 0 ok, 1 I/O error, 2 usage, 3 connect/listen, 4 negotiation,\n"
"5 handshake or timeout, 6 certificate verification.\n", f);
}

static int
parse_proto(const char *s, enum proto *p)
{
	for (int i = PROTO_NONE; i < PROTO_END; i++)
		if (strcmp(s, proto_name((enum proto)i)) == 0) {
			*p = (enum proto)i;
			return 0;
		}
	return -1;
}

/* Every failure here is EINVAL (the error idiom of log.h). */
#define bad_option(err, errlen, ...) \
	errorf(err, errlen, -EINVAL, __VA_ARGS__)

/* Seconds, fractions allowed, as milliseconds; 0 means no limit. */
static int
parse_seconds(const char *name, const char *s, unsigned *ms, char *err,
    size_t errlen)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(d) ||
	    d < 0 || d > 1e6)
		return bad_option(err, errlen,
		    "--%s: '%s' is not a number of seconds (0 to 1000000)",
		    name, s);
	*ms = (unsigned)(d * 1000 + 0.5);
	if (*ms == 0 && d > 0)
		*ms = 1;
	return 0;
}

static int
b64val(int c)
{
	const char	*tab =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char	*p;

	if (c == '\0' || (p = strchr(tab, c)) == NULL)
		return -1;
	return (int)(p - tab);
}

/* sha256:BASE64 of the SubjectPublicKeyInfo: exactly 32 bytes, padding optional. */
static int
parse_pin(const char *s, unsigned char *out, char *err, size_t errlen)
{
	const char	*p;
	unsigned	 acc = 0;
	int		 bits = 0, v;
	size_t		 n = 0;

	if (strncmp(s, "sha256:", 7) != 0)
		return bad_option(err, errlen, "--pin: expected sha256:BASE64, got '%s'",
		    s);
	for (p = s + 7; *p != '\0' && *p != '='; p++) {
		if ((v = b64val(*p)) < 0)
			return bad_option(err, errlen,
			    "--pin: invalid base64 character '%c'", *p);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == PIN_LEN)
				return bad_option(err, errlen,
				    "--pin: not a SHA-256 hash (too long)");
			out[n++] = (acc >> bits) & 0xff;
		}
	}
	while (*p == '=')
		p++;
	if (*p != '\0')
		return bad_option(err, errlen, "--pin: junk after padding");
	if (n != PIN_LEN)
		return bad_option(err, errlen,
		    "--pin: not a SHA-256 hash (%zu bytes instead of 32)", n);
	return 0;
}

static int
parse_alpn(const char *s, char *err, size_t errlen)
{
	const char	*p = s, *comma;
	size_t		 len;

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len > 255)
			return bad_option(err, errlen,
			    "--alpn: each protocol name must have 1 to 255 bytes");
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int
check(struct options *o, char *err, size_t errlen)
{
	int	server = o->role == ROLE_SERVER;

	if (address_is_listen(&o->tls_addr) && address_is_listen(&o->plain_addr))
		return bad_option(err, errlen, "at most one of the addresses may listen");
	if (o->tls_addr.kind == ADDR_STDIO && o->plain_addr.kind == ADDR_STDIO)
		return bad_option(err, errlen, "TLS-ADDRESS is standard input/output, "
		    "so PLAIN-ADDRESS must be something else");
	if (server) {
		if (o->opportunistic)
			return bad_option(err, errlen,
			    "--opportunistic is for the client role");
		if (o->insecure)
			return bad_option(err, errlen,
			    "--insecure is for the client role");
		if (o->npins > 0)
			return bad_option(err, errlen, "--pin is for the client role");
		if (o->self_signed && o->cert != NULL)
			return bad_option(err, errlen,
			    "--self-signed and --cert exclude each other");
		if (!o->self_signed && o->cert == NULL)
			return bad_option(err, errlen,
			    "the server role needs --cert (and --key) or "
			    "--self-signed");
		if (o->verify_client && o->cafile == NULL)
			return bad_option(err, errlen,
			    "--verify-client needs --cafile");
	} else {
		if (o->allow_plain)
			return bad_option(err, errlen,
			    "--allow-plain is for the server role");
		if (o->self_signed)
			return bad_option(err, errlen,
			    "--self-signed is for the server role");
		if (o->verify_client)
			return bad_option(err, errlen,
			    "--verify-client is for the server role");
		if (o->key != NULL && o->cert == NULL)
			return bad_option(err, errlen, "--key needs --cert");
	}
	if ((o->opportunistic || o->allow_plain) && o->proto == PROTO_NONE)
		return bad_option(err, errlen, "--%s needs a STARTTLS --proto",
		    o->opportunistic ? "opportunistic" : "allow-plain");
	if (o->key == NULL)
		o->key = o->cert;
	if (o->ehlo == NULL)
		o->ehlo = "localhost";
	return 0;
}

enum opts_result
options_parse(int argc, char **argv, struct options *o, char *err,
    size_t errlen)
{
	char		*end;
	unsigned long	 n;
	int		 c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 30000;
	o->verbosity = 1;
	err[0] = '\0';

	optind = 0;	/* GNU: start afresh, so that tests can parse many times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:r:shqvV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_proto(optarg, &o->proto) == -1) {
				bad_option(err, errlen, "--proto: unknown protocol "
				    "'%s' (%s)", optarg, PROTO_NAMES);
				return OPTS_ERROR;
			}
			break;
		case 'r':
			if (strcmp(optarg, "client") == 0)
				o->role = ROLE_CLIENT;
			else if (strcmp(optarg, "server") == 0)
				o->role = ROLE_SERVER;
			else {
				bad_option(err, errlen, "--role: expected client or "
				    "server, got '%s'", optarg);
				return OPTS_ERROR;
			}
			break;
		case 's':
			o->role = ROLE_SERVER;
			break;
		case OPT_CERT:
			o->cert = optarg;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_SELF_SIGNED:
			o->self_signed = 1;
			break;
		case OPT_CAFILE:
			o->cafile = optarg;
			break;
		case OPT_INSECURE:
			o->insecure = 1;
			break;
		case OPT_SERVERNAME:
			if (*optarg == '\0' || strlen(optarg) > 253) {
				bad_option(err, errlen, "--servername: expected a "
				    "host name of 1 to 253 characters");
				return OPTS_ERROR;
			}
			o->servername = optarg;
			break;
		case OPT_PIN:
			if (o->npins == MAX_PINS) {
				bad_option(err, errlen, "--pin: at most %d pins",
				    MAX_PINS);
				return OPTS_ERROR;
			}
			if (parse_pin(optarg, o->pins[o->npins], err,
			    errlen) != 0)
				return OPTS_ERROR;
			o->npins++;
			break;
		case OPT_PRIORITY:
			o->priority = optarg;
			break;
		case OPT_ALPN:
			if (parse_alpn(optarg, err, errlen) != 0)
				return OPTS_ERROR;
			o->alpn = optarg;
			break;
		case OPT_VERIFY_CLIENT:
			o->verify_client = 1;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds("timeout", optarg, &o->timeout_ms,
			    err, errlen) != 0)
				return OPTS_ERROR;
			break;
		case OPT_IDLE_TIMEOUT:
			if (parse_seconds("idle-timeout", optarg,
			    &o->idle_timeout_ms, err, errlen) != 0)
				return OPTS_ERROR;
			break;
		case OPT_MAX_SESSIONS:
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (*optarg < '1' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || n > 1000000) {
				bad_option(err, errlen, "--max-sessions: expected a "
				    "number from 1 to 1000000, got '%s'",
				    optarg);
				return OPTS_ERROR;
			}
			o->max_sessions = (unsigned)n;
			break;
		case OPT_KEYLOG:
			o->keylog = optarg;
			break;
		case OPT_EHLO:
			if (*optarg == '\0' || strlen(optarg) > 255 ||
			    strpbrk(optarg, " \t\r\n") != NULL) {
				bad_option(err, errlen, "--ehlo: expected a name of 1 "
				    "to 255 characters without spaces");
				return OPTS_ERROR;
			}
			o->ehlo = optarg;
			break;
		case OPT_OPPORTUNISTIC:
			o->opportunistic = 1;
			break;
		case OPT_ALLOW_PLAIN:
			o->allow_plain = 1;
			break;
		case 'v':
			if (o->verbosity < 3)
				o->verbosity++;
			break;
		case 'q':
			o->verbosity = 0;
			break;
		case 'h':
			return OPTS_HELP;
		case 'V':
			return OPTS_VERSION;
		case ':':
			bad_option(err, errlen, "option '%s' needs an argument",
			    argv[optind - 1]);
			return OPTS_ERROR;
		default:
			if (optopt != 0)
				bad_option(err, errlen, "unknown option '-%c' "
				    "(try --help)", optopt);
			else
				bad_option(err, errlen, "unknown option '%s' "
				    "(try --help)", argv[optind - 1]);
			return OPTS_ERROR;
		}
	}
	if (optind >= argc) {
		bad_option(err, errlen, "missing TLS-ADDRESS (try --help)");
		return OPTS_ERROR;
	}
	if (argc - optind > 2) {
		bad_option(err, errlen, "too many arguments: '%s' (try --help)",
		    argv[optind + 2]);
		return OPTS_ERROR;
	}
	if (address_parse(argv[optind], &o->tls_addr, err, errlen) != 0)
		return OPTS_ERROR;
	if (address_parse(optind + 1 < argc ? argv[optind + 1] : "-",
	    &o->plain_addr, err, errlen) != 0)
		return OPTS_ERROR;
	if (check(o, err, errlen) != 0)
		return OPTS_ERROR;
	return OPTS_RUN;
}
