/* TLS-ADDRESS and PLAIN-ADDRESS as written on the command line. */
#ifndef ADDRESS_H
#define ADDRESS_H

#include <stddef.h>
#include <sys/un.h>

enum addr_kind {
	ADDR_STDIO,		/* "-" or "stdio" */
	ADDR_TCP,		/* "HOST:PORT", "tcp:HOST:PORT" */
	ADDR_TCP_LISTEN,	/* "listen:[HOST:]PORT", "tcp-listen:[HOST:]PORT" */
	ADDR_UNIX,		/* "unix:PATH" */
	ADDR_UNIX_LISTEN,	/* "unix-listen:PATH" */
	ADDR_FD			/* "fd:N", "systemd[:NAME]" */
};

struct address {
	enum addr_kind	 kind;
	char		 host[256];	/* brackets removed; "" = any (listen only) */
	char		 port[32];	/* number or service name */
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int		 fd;
	int		 fd_listens;	/* fd:N is a listening socket (systemd) */
	int		 systemd;	/* fd from LISTEN_FDS; name in path */
	const char	*text;		/* as given, for messages */
};

int	address_parse(const char *, struct address *, char *, size_t);
int	address_is_listen(const struct address *);
int	address_host_is_ip(const struct address *);
int	address_fd_listens(struct address *);
int	address_systemd(struct address *, char *, size_t);

#endif
