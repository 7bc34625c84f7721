#include "config.h"

#include <errno.h>

#include "address.h"
#include "tap.h"

static void
good(const char *s, enum addr_kind kind, const char *host, const char *port)
{
	struct address	a;
	char		err[256] = "";

	if (!ok(address_parse(s, &a, err, sizeof(err)) == 0, "'%s' parses", s)) {
		printf("# %s\n", err);
		return;
	}
	is_int(a.kind, kind, "  its kind");
	if (host != NULL)
		is_str(a.host, host, "  its host");
	if (port != NULL)
		is_str(a.port, port, "  its port");
}

static void
bad(const char *s, const char *why)
{
	struct address	a;
	char		err[256] = "";
	int		rc = address_parse(s, &a, err, sizeof(err));

	ok(rc == -EINVAL && strncmp(err, "bad address '", 13) == 0 &&
	    strchr(err, '\n') == NULL && strstr(err, why) != NULL,
	    "'%.40s' is refused: %s", s, err);
}

int
main(void)
{
	struct address	a;
	char		err[256], longpath[300], longhost[400];

	good("-", ADDR_STDIO, NULL, NULL);
	good("stdio", ADDR_STDIO, NULL, NULL);
	good("example.org:25", ADDR_TCP, "example.org", "25");
	good("tcp:example.org:465", ADDR_TCP, "example.org", "465");
	good("127.0.0.1:143", ADDR_TCP, "127.0.0.1", "143");
	good("[::1]:25", ADDR_TCP, "::1", "25");
	good("tcp:[2001:db8::1]:587", ADDR_TCP, "2001:db8::1", "587");
	good("mail.example.org:smtp", ADDR_TCP, "mail.example.org", "smtp");
	good("listen:8080", ADDR_TCP_LISTEN, "", "8080");
	good("listen:0", ADDR_TCP_LISTEN, "", "0");
	good("listen:127.0.0.1:8443", ADDR_TCP_LISTEN, "127.0.0.1", "8443");
	good("listen:[::1]:8443", ADDR_TCP_LISTEN, "::1", "8443");
	good("tcp-listen:localhost:25", ADDR_TCP_LISTEN, "localhost", "25");
	good("unix:/run/x.sock", ADDR_UNIX, NULL, NULL);
	good("unix-listen:/tmp/y.sock", ADDR_UNIX_LISTEN, NULL, NULL);
	good("fd:0", ADDR_FD, NULL, NULL);
	good("fd:3", ADDR_FD, NULL, NULL);

	address_parse("unix:/run/x.sock", &a, err, sizeof(err));
	is_str(a.path, "/run/x.sock", "unix: keeps the path");
	address_parse("fd:17", &a, err, sizeof(err));
	is_int(a.fd, 17, "fd:17 is descriptor 17");
	good("systemd", ADDR_FD, NULL, NULL);
	address_parse("systemd:smtp", &a, err, sizeof(err));
	ok(a.systemd && strcmp(a.path, "smtp") == 0,
	    "systemd:smtp names the socket smtp");
	address_parse("listen:1", &a, err, sizeof(err));
	ok(address_is_listen(&a), "listen: listens");
	address_parse("unix-listen:/a", &a, err, sizeof(err));
	ok(address_is_listen(&a), "unix-listen: listens");
	address_parse("x:1", &a, err, sizeof(err));
	ok(!address_is_listen(&a), "HOST:PORT does not listen");
	address_parse("10.0.0.1:1", &a, err, sizeof(err));
	ok(address_host_is_ip(&a), "10.0.0.1 is an IP address");
	address_parse("[::1]:1", &a, err, sizeof(err));
	ok(address_host_is_ip(&a), "::1 is an IP address");
	address_parse("localhost:1", &a, err, sizeof(err));
	ok(!address_host_is_ip(&a), "localhost is a name");

	bad("", "empty");
	bad("example.org", "expected HOST:PORT");
	bad("example.org:", "missing port");
	bad(":25", "empty host");
	bad("example.org:0", "port must be");
	bad("example.org:65536", "port must be");
	bad("example.org:99999999999999999999", "port must be");
	bad("example.org:nosuchservice", "unknown service");
	bad("::1:25", "brackets");
	bad("udp:1.2.3.4:5", "unknown address type 'udp'");
	bad("[::1]", "expected ':PORT'");
	bad("[::1:25", "missing ']'");
	bad("[1.2.3.4]:5", "brackets are for IPv6");
	bad("[]:5", "empty host");
	bad("[fe80::zz]:5", "not an IPv6 address");
	bad("listen:", "missing port");
	bad("listen:70000", "port must be");
	bad("fd:", "descriptor number");
	bad("fd:-1", "descriptor number");
	bad("fd:abc", "descriptor number");
	bad("fd:3x", "descriptor number");
	bad("systemd:", "socket name");
	bad("systemd:a:b", "socket name");
	bad("unix:", "missing path");
	bad("unix-listen:", "missing path");
	memset(longpath, 'p', sizeof(longpath));
	memcpy(longpath, "unix:/", 6);
	longpath[sizeof(longpath) - 1] = '\0';
	bad(longpath, "path longer than");
	memset(longhost, 'h', sizeof(longhost));
	memcpy(longhost + sizeof(longhost) - 4, ":25", 4);
	bad(longhost, "host name too long");
	bad("exa mple.org:25", "invalid character");
	return done_testing();
}
