#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"

/* Every failure here is EINVAL; the message says which part is wrong. */
static int
bad_address(char *err, size_t errlen, const char *text, const char *fmt, ...)
{
	char	why[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Keep the reason visible after an over-long address. */
	if (strlen(text) > 64)
		snprintf(err, errlen, "bad address '%.60s...': %s", text, why);
	else
		snprintf(err, errlen, "bad address '%s': %s", text, why);
	return -EINVAL;
}

static int
starts(const char *s, const char *prefix, const char **rest)
{
	size_t	n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return 0;
	*rest = s + n;
	return 1;
}

/* A port is a number from 1 (0 when listening: any free port) to 65535, or a TCP service name. */
static int
parse_port(const char *p, int listening, struct address *a, char *err,
    size_t errlen)
{
	char		*end;
	unsigned long	 n;

	if (*p == '\0')
		return bad_address(err, errlen, a->text, "missing port");
	if (isdigit((unsigned char)*p)) {
		errno = 0;
		n = strtoul(p, &end, 10);
		if (*end != '\0' || errno != 0 || n > 65535 ||
		    (n == 0 && !listening))
			return bad_address(err, errlen, a->text,
			    "port must be a number from %d to 65535",
			    listening ? 0 : 1);
	} else if (getservbyname(p, "tcp") == NULL)
		return bad_address(err, errlen, a->text, "unknown service '%s'", p);
	if (strlen(p) >= sizeof(a->port))
		return bad_address(err, errlen, a->text, "port too long");
	strcpy(a->port, p);
	return 0;
}

/*
 * HOST:PORT with IPv6 literals in brackets. With hostopt (listen) a lone
 * PORT is accepted and means every local address.
 */
static int
parse_hostport(const char *s, int hostopt, struct address *a, char *err,
    size_t errlen)
{
	const char	*colon, *host = s, *close;
	size_t		 hlen;

	if (*s == '[') {
		if ((close = strchr(s, ']')) == NULL)
			return bad_address(err, errlen, a->text, "missing ']'");
		if (close[1] != ':')
			return bad_address(err, errlen, a->text,
			    "expected ':PORT' after ']'");
		host = s + 1;
		hlen = close - host;
		colon = close + 1;
		if (hlen == 0)
			return bad_address(err, errlen, a->text, "empty host");
		if (memchr(host, ':', hlen) == NULL)
			return bad_address(err, errlen, a->text,
			    "brackets are for IPv6 addresses");
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			if (!hostopt)
				return bad_address(err, errlen, a->text,
				    "expected HOST:PORT");
			a->host[0] = '\0';
			return parse_port(s, 1, a, err, errlen);
		}
		if (memchr(s, ':', colon - s) != NULL)
			return bad_address(err, errlen, a->text,
			    "write IPv6 addresses in brackets, as [::1]:PORT");
		hlen = colon - s;
		if (hlen == 0)
			return bad_address(err, errlen, a->text, "empty host");
	}
	if (hlen >= sizeof(a->host))
		return bad_address(err, errlen, a->text, "host name too long");
	memcpy(a->host, host, hlen);
	a->host[hlen] = '\0';
	for (size_t i = 0; i < hlen; i++)
		if (isspace((unsigned char)host[i]) || host[i] == '/')
			return bad_address(err, errlen, a->text,
			    "invalid character in host");
	if (*s == '[') {
		struct in6_addr	in6;

		if (inet_pton(AF_INET6, a->host, &in6) != 1)
			return bad_address(err, errlen, a->text,
			    "'%s' is not an IPv6 address", a->host);
	}
	return parse_port(colon + 1, hostopt, a, err, errlen);
}

static int
parse_path(const char *p, struct address *a, char *err, size_t errlen)
{
	if (*p == '\0')
		return bad_address(err, errlen, a->text, "missing path");
	if (strlen(p) >= sizeof(a->path))
		return bad_address(err, errlen, a->text,
		    "path longer than %zu bytes", sizeof(a->path) - 1);
	strcpy(a->path, p);
	return 0;
}

int
address_parse(const char *s, struct address *a, char *err, size_t errlen)
{
	const char	*rest;
	char		*end;
	long		 n;

	memset(a, 0, sizeof(*a));
	a->text = s;
	a->fd = -1;
	if (*s == '\0')
		return bad_address(err, errlen, s, "empty");
	if (strcmp(s, "-") == 0 || strcmp(s, "stdio") == 0) {
		a->kind = ADDR_STDIO;
		return 0;
	}
	if (starts(s, "fd:", &rest)) {
		a->kind = ADDR_FD;
		errno = 0;
		n = strtol(rest, &end, 10);
		if (*rest == '\0' || !isdigit((unsigned char)*rest) ||
		    *end != '\0' || errno != 0 || n < 0 || n > INT_MAX)
			return bad_address(err, errlen, s,
			    "fd: takes a file descriptor number");
		a->fd = (int)n;
		return 0;
	}
	if (strcmp(s, "systemd") == 0) {
		a->kind = ADDR_FD;
		a->systemd = 1;
		return 0;
	}
	if (starts(s, "systemd:", &rest)) {
		a->kind = ADDR_FD;
		a->systemd = 1;
		if (rest[0] == '\0' || strlen(rest) >= sizeof(a->path) ||
		    strchr(rest, ':') != NULL)
			return bad_address(err, errlen, s, "systemd: takes a socket name "
			    "(FileDescriptorName=)");
		strcpy(a->path, rest);
		return 0;
	}
	if (starts(s, "unix-listen:", &rest)) {
		a->kind = ADDR_UNIX_LISTEN;
		return parse_path(rest, a, err, errlen);
	}
	if (starts(s, "unix:", &rest)) {
		a->kind = ADDR_UNIX;
		return parse_path(rest, a, err, errlen);
	}
	if (starts(s, "listen:", &rest) || starts(s, "tcp-listen:", &rest)) {
		a->kind = ADDR_TCP_LISTEN;
		return parse_hostport(rest, 1, a, err, errlen);
	}
	a->kind = ADDR_TCP;
	if (starts(s, "tcp:", &rest))
		s = rest;
	else if ((rest = strchr(s, ':')) != NULL && rest > s &&
	    strchr(rest + 1, ':') &&
	    *s != '[' && strspn(s, "abcdefghijklmnopqrstuvwxyz-") ==
	    (size_t)(rest - s))
		return bad_address(err, errlen, s, "unknown address type '%.*s'",
		    (int)(rest - s), s);
	else if (strchr(s, ':') == NULL)
		return bad_address(err, errlen, s,
		    "expected HOST:PORT, listen:[HOST:]PORT, unix:PATH, "
		    "unix-listen:PATH, fd:N, systemd[:NAME] or -");
	return parse_hostport(s, 0, a, err, errlen);
}

int
address_is_listen(const struct address *a)
{
	return a->kind == ADDR_TCP_LISTEN || a->kind == ADDR_UNIX_LISTEN ||
	    a->fd_listens;
}

/*
 * fd:N handed over listening (systemd socket activation with Accept=no):
 * the program accepts on it.  A connected one (inetd, Accept=yes) is one
 * session.
 */
int
address_fd_listens(struct address *a)
{
	int		on = 0;
	socklen_t	len = sizeof(on);

	if (a->kind == ADDR_FD &&
	    getsockopt(a->fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
		a->fd_listens = 1;
	return a->fd_listens;
}

/*
 * systemd[:NAME]: a socket systemd passed (sd_listen_fds(3)): LISTEN_PID
 * must be this process, or the variables were meant for another one (a
 * parent that did not unset them); NAME picks one by LISTEN_FDNAMES.
 */
int
address_systemd(struct address *a, char *err, size_t errlen)
{
	const char	*pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char	*names = getenv("LISTEN_FDNAMES"), *p;
	char		*end;
	long		 n, i;
	size_t		 len = strlen(a->path);

	if (!a->systemd)
		return 0;
	if (pid == NULL || fds == NULL)
		return bad_address(err, errlen, a->text, "no sockets were passed "
		    "(LISTEN_PID and LISTEN_FDS are not set)");
	errno = 0;
	n = strtol(pid, &end, 10);
	if (*end != '\0' || errno != 0 || n != (long)getpid())
		return bad_address(err, errlen, a->text, "LISTEN_PID is %s, not this "
		    "process (%ld): the sockets were passed to another one",
		    pid, (long)getpid());
	n = strtol(fds, &end, 10);
	if (*end != '\0' || errno != 0 || n < 1 || n > 1000)
		return bad_address(err, errlen, a->text, "LISTEN_FDS is '%s'", fds);
	if (len == 0) {
		if (n > 1)
			return bad_address(err, errlen, a->text, "%ld sockets were "
			    "passed: name one, systemd:NAME", n);
		a->fd = 3;
		return 0;
	}
	for (i = 0, p = names; p != NULL && i < n; i++) {
		if (strncmp(p, a->path, len) == 0 &&
		    (p[len] == ':' || p[len] == '\0')) {
			a->fd = 3 + (int)i;
			return 0;
		}
		if ((p = strchr(p, ':')) != NULL)
			p++;
	}
	return bad_address(err, errlen, a->text, "no socket named '%s' among "
	    "LISTEN_FDNAMES '%s'", a->path, names ? names : "");
}

int
address_host_is_ip(const struct address *a)
{
	struct in6_addr	buf;

	return inet_pton(AF_INET, a->host, &buf) == 1 ||
	    inet_pton(AF_INET6, a->host, &buf) == 1;
}
