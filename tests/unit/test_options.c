#include "config.h"

#include "options.h"
#include "tap.h"

#define MAXARGS	16

static struct options	o;
static char		err[512];

/* Parse a NULL-terminated list of words after the program name. */
static enum opts_result
parse(const char *first, ...)
{
	char		*argv[MAXARGS + 2];
	va_list		 ap;
	int		 argc = 0;
	const char	*w;

	argv[argc++] = "starttls-relay";
	va_start(ap, first);
	for (w = first; w != NULL && argc <= MAXARGS; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc] = NULL;
	return options_parse(argc, argv, &o, err, sizeof(err));
}

static void
refused(enum opts_result r, const char *what, const char *needle)
{
	ok(r == OPTS_ERROR && err[0] != '\0' && strchr(err, '\n') == NULL &&
	    strstr(err, needle) != NULL, "%s is refused: %s", what, err);
}

int
main(void)
{
	static const unsigned char zero[PIN_LEN];

	is_int(parse("example.org:443", NULL), OPTS_RUN, "one address runs");
	is_int(o.proto, PROTO_NONE, "default protocol: none");
	is_int(o.role, ROLE_CLIENT, "default role: client");
	is_int(o.timeout_ms, 30000, "default timeout: 30 s");
	is_int(o.idle_timeout_ms, 0, "default idle timeout: none");
	is_int(o.verbosity, 1, "default verbosity 1");
	is_int(o.plain_addr.kind, ADDR_STDIO, "PLAIN-ADDRESS defaults to -");
	is_int(o.tls_addr.kind, ADDR_TCP, "TLS-ADDRESS is TCP");
	is_int(o.max_sessions, 0, "no session limit given");

	is_int(parse("-s", "--self-signed", "listen:4433", "127.0.0.1:80", NULL),
	    OPTS_RUN, "-s --self-signed runs");
	is_int(o.role, ROLE_SERVER, "-s is the server role");
	is_int(parse("--role=server", "--cert", "c.pem", "listen:1", NULL),
	    OPTS_RUN, "--role=server --cert runs");
	is_str(o.key, "c.pem", "--key defaults to the --cert file");
	is_int(parse("-r", "server", "--cert=c", "--key=k", "-", "x:1", NULL),
	    OPTS_RUN, "-r server with TLS-ADDRESS -");
	is_str(o.key, "k", "--key is kept");
	is_int(parse("-p", "none", "x:1", NULL), OPTS_RUN, "-p none");
	is_str(o.ehlo, "localhost", "--ehlo defaults to localhost");
	is_int(parse("-p", "smtp", "--ehlo=relay.example", "--opportunistic",
	    "x:25", NULL), OPTS_RUN, "-p smtp --ehlo --opportunistic");
	is_int(o.proto, PROTO_SMTP, "  smtp");
	is_str(o.ehlo, "relay.example", "  --ehlo kept");
	is_int(o.opportunistic, 1, "  --opportunistic kept");
	parse("--proto=imap", "x:1", NULL);
	is_int(o.proto, PROTO_IMAP, "--proto=imap");
	parse("--proto=pop3", "x:1", NULL);
	is_int(o.proto, PROTO_POP3, "--proto=pop3");
	parse("--proto=http-upgrade", "x:1", NULL);
	is_int(o.proto, PROTO_HTTP, "--proto=http-upgrade");
	parse("--proto=postgres", "x:1", NULL);
	is_int(o.proto, PROTO_POSTGRES, "--proto=postgres");
	parse("--proto=ldap", "x:1", NULL);
	is_int(o.proto, PROTO_LDAP, "--proto=ldap");
	parse("-p", "lmtp", "x:1", NULL);
	is_int(o.proto, PROTO_LMTP, "-p lmtp");
	parse("--proto=nntp", "x:1", NULL);
	is_int(o.proto, PROTO_NNTP, "--proto=nntp");
	parse("--proto=sieve", "x:1", NULL);
	is_int(o.proto, PROTO_SIEVE, "--proto=sieve");
	parse("--proto=ftp", "x:1", NULL);
	is_int(o.proto, PROTO_FTP, "--proto=ftp");
	parse("--proto=xmpp", "x:1", NULL);
	is_int(o.proto, PROTO_XMPP, "--proto=xmpp");

	parse("--timeout=1.5", "--idle-timeout", "0.25", "x:1", NULL);
	is_int(o.timeout_ms, 1500, "--timeout=1.5 is 1500 ms");
	is_int(o.idle_timeout_ms, 250, "--idle-timeout 0.25 is 250 ms");
	parse("--timeout=0", "x:1", NULL);
	is_int(o.timeout_ms, 0, "--timeout=0 is no limit");
	parse("--max-sessions=500", "listen:1", "x:1", NULL);
	is_int(o.max_sessions, 500, "--max-sessions=500");
	parse("-v", "-v", "x:1", NULL);
	is_int(o.verbosity, 3, "-v -v is verbosity 3");
	parse("-vvvv", "x:1", NULL);
	is_int(o.verbosity, 3, "verbosity stops at 3");
	parse("-q", "x:1", NULL);
	is_int(o.verbosity, 0, "-q is verbosity 0");

	is_int(parse("--pin=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    "--pin", "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "x:1", NULL), OPTS_RUN, "two pins, with and without padding");
	is_int(o.npins, 2, "both pins are kept");
	ok(memcmp(o.pins[0], zero, PIN_LEN) == 0, "the pin decodes to 32 zero bytes");
	parse("--pin=sha256://///////////////////////////////////////w8=", "x:1",
	    NULL);
	ok(o.pins[0][0] == 0xff && o.pins[0][31] == 0x0f,
	    "the pin decodes base64 exactly");
	is_int(parse("--alpn=h2,http/1.1", "x:1", NULL), OPTS_RUN, "--alpn list");
	is_str(o.alpn, "h2,http/1.1", "--alpn kept");
	is_int(parse("--servername=mail.example.org", "--cafile=ca.pem",
	    "--priority=NORMAL", "--keylog=k", "--insecure", "x:1", NULL),
	    OPTS_RUN, "client TLS options");
	is_str(o.servername, "mail.example.org", "--servername kept");

	is_int(parse("--help", NULL), OPTS_HELP, "--help");
	is_int(parse("-h", "x:1", NULL), OPTS_HELP, "-h");
	is_int(parse("--version", NULL), OPTS_VERSION, "--version");
	is_int(parse("-V", NULL), OPTS_VERSION, "-V");

	refused(parse("--bogus", "x:1", NULL), "an unknown long option",
	    "unknown option '--bogus'");
	refused(parse("-Z", "x:1", NULL), "an unknown short option",
	    "unknown option '-Z'");
	refused(parse("--bogus", "x:1", NULL), "an unknown option",
	    "(try --help)");
	refused(parse("x:1", "--cert", NULL), "a missing argument",
	    "needs an argument");
	refused(parse("--proto=gopher", "x:1", NULL), "an unknown protocol",
	    "unknown protocol");
	refused(parse("--role=both", "x:1", NULL), "a bad role", "--role");
	refused(parse("-s", "listen:1", NULL), "the server role without a cert",
	    "--self-signed");
	refused(parse("-s", "--self-signed", "--cert=c", "listen:1", NULL),
	    "--self-signed with --cert", "exclude");
	refused(parse("-s", "--self-signed", "--insecure", "listen:1", NULL),
	    "--insecure in the server role", "--insecure");
	refused(parse("-s", "--self-signed", "--verify-client", "listen:1",
	    NULL), "--verify-client without --cafile", "--cafile");
	refused(parse("--self-signed", "x:1", NULL),
	    "--self-signed in the client role", "server role");
	refused(parse("--verify-client", "x:1", NULL),
	    "--verify-client in the client role", "server role");
	refused(parse("--key=k", "x:1", NULL), "--key without --cert",
	    "--cert");
	refused(parse("listen:1", "listen:2", NULL), "two listening addresses",
	    "at most one");
	refused(parse("-", "stdio", NULL), "stdio on both sides", "standard");
	refused(parse(NULL), "no address", "missing TLS-ADDRESS");
	refused(parse("x:1", "y:2", "z:3", NULL), "three addresses",
	    "too many arguments");
	refused(parse("nohost", NULL), "a bad TLS-ADDRESS", "bad address");
	refused(parse("x:1", "y", NULL), "a bad PLAIN-ADDRESS", "bad address");
	refused(parse("--timeout=-1", "x:1", NULL), "a negative timeout",
	    "--timeout");
	refused(parse("--timeout=abc", "x:1", NULL), "a non-number timeout",
	    "--timeout");
	refused(parse("--timeout=1e9", "x:1", NULL), "a huge timeout",
	    "--timeout");
	refused(parse("--idle-timeout=", "x:1", NULL), "an empty idle timeout",
	    "--idle-timeout");
	refused(parse("--max-sessions=0", "listen:1", "x:1", NULL),
	    "--max-sessions=0", "--max-sessions");
	refused(parse("--max-sessions=-3", "listen:1", "x:1", NULL),
	    "--max-sessions=-3", "--max-sessions");
	refused(parse("--pin=AAAA", "x:1", NULL), "a pin without sha256:",
	    "sha256:");
	refused(parse("--pin=sha256:AAAA", "x:1", NULL), "a short pin",
	    "32");
	refused(parse("--pin=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "x:1", NULL), "a long pin", "too long");
	refused(parse("--pin=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!=",
	    "x:1", NULL), "a pin with a bad character", "invalid base64");
	refused(parse("--alpn=h2,,x", "x:1", NULL), "an empty ALPN name",
	    "--alpn");
	refused(parse("--servername=", "x:1", NULL), "an empty servername",
	    "--servername");
	refused(parse("--opportunistic", "x:1", NULL),
	    "--opportunistic without a STARTTLS protocol", "STARTTLS");
	refused(parse("--ehlo=a b", "-p", "smtp", "x:1", NULL),
	    "an EHLO name with a space", "--ehlo");
	refused(parse("--allow-plain", "-p", "smtp", "x:1", NULL),
	    "--allow-plain in the client role", "server role");
	refused(parse("-s", "--self-signed", "--allow-plain", "listen:1", "x:1",
	    NULL), "--allow-plain without a STARTTLS protocol", "STARTTLS");
	refused(parse("-s", "--self-signed", "--opportunistic", "-p", "smtp",
	    "listen:1", "x:1", NULL), "--opportunistic in the server role",
	    "client role");
	is_int(parse("-s", "--self-signed", "-p", "smtp", "--allow-plain",
	    "listen:1", "x:1", NULL), OPTS_RUN, "-s -p smtp --allow-plain");
	is_int(o.allow_plain, 1, "  --allow-plain kept");
	return done_testing();
}
