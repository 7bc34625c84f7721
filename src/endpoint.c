#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "log.h"

struct connector {
	uv_loop_t		*loop;
	const struct address	*addr;
	connect_cb		 cb;
	void			*arg;
	uv_getaddrinfo_t	 gai;
	struct addrinfo		*res, *next;	/* candidates still to try */
	uv_connect_t		 req;
	uv_stream_t		*h;		/* the attempt under way */
	int			 cancelled;
	int			 busy;		/* a callback is still due */
	int			 last_err;
};

struct listener {
	union {				/* first: the close callback frees it */
		uv_tcp_t	 tcp;
		uv_pipe_t	 pipe;
	}			 u;
	uv_loop_t		*loop;
	const struct address	*addr;
	accept_cb		 cb;
	void			*arg;
	char			 name[300];
	int			 unlink_path;
	int			 is_pipe;	/* a Unix-domain socket */
};

static void
addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char	host[INET6_ADDRSTRLEN] = "?";
	int	port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		uv_ip4_name(in, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		uv_ip6_name(in6, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	} else
		snprintf(buf, len, "?");
}

int
endpoint_open_fds(uv_loop_t *loop, const struct address *a,
    struct stream **stp, char *err, size_t errlen)
{
	struct stream	*st;
	int		 rfd = 0, wfd = 1, rc;

	if (a->kind == ADDR_FD) {
		rfd = wfd = a->fd;
		if (fcntl(a->fd, F_GETFD) == -1)
			return errorf(err, errlen, UV_EBADF,
			    "%s: descriptor %d is not open", a->text, a->fd);
	}
	if ((st = stream_new(loop)) == NULL)
		return errorf(err, errlen, UV_ENOMEM, "%s: out of memory",
		    a->text);
	if ((rc = stream_adopt_fds(st, rfd, wfd)) != 0) {
		stream_close(st, NULL, NULL);
		return errorf(err, errlen, rc, "%s: cannot use descriptor: %s",
		    a->text, uv_strerror(rc));
	}
	*stp = st;
	return 0;
}

static void	try_next(struct connector *);

static void
connector_done(struct connector *c, struct stream *st, int rc, const char *err)
{
	if (c->res != NULL)
		uv_freeaddrinfo(c->res);
	if (!c->cancelled)
		c->cb(c->arg, st, rc, err);
	else if (st != NULL)
		stream_close(st, NULL, NULL);
	free(c);
}

static void
fail_connect(struct connector *c, int rc)
{
	char	err[512];

	snprintf(err, sizeof(err), "cannot connect to %s: %s", c->addr->text,
	    uv_strerror(rc));
	connector_done(c, NULL, rc, err);
}

static void
on_attempt_closed(uv_handle_t *h)
{
	struct connector	*c = h->data;

	free(h);
	c->busy = 0;
	if (c->cancelled)
		connector_done(c, NULL, 0, NULL);
	else
		try_next(c);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct connector	*c = req->data;
	struct stream		*st;

	if (c->cancelled)
		return;		/* endpoint_cancel closes the handle */
	/*
	 * ECONNRESET: the server accepted and reset before libuv looked (it
	 * reads SO_ERROR).  The connection was made: hand it over, reset and
	 * all, so that what the server sent first is still read (then end of
	 * file) and the reset is seen as on any later read or write.
	 */
	if (status == 0 || status == UV_ECONNRESET) {
		if ((st = stream_new(c->loop)) == NULL) {
			status = UV_ENOMEM;
		} else {
			stream_adopt_handle(st, c->h);
			c->h = NULL;
			c->busy = 0;
			connector_done(c, st, status, NULL);
			return;
		}
	}
	c->last_err = status != 0 ? status : UV_ECANCELED;
	c->h->data = c;
	uv_close((uv_handle_t *)c->h, on_attempt_closed);
	c->h = NULL;
}

/* Try the resolved addresses in order until one connects. */
static void
try_next(struct connector *c)
{
	struct addrinfo	*ai;
	uv_tcp_t	*tcp;
	int		 rc;

	while ((ai = c->next) != NULL) {
		c->next = ai->ai_next;
		if ((tcp = malloc(sizeof(*tcp))) == NULL) {
			fail_connect(c, UV_ENOMEM);
			return;
		}
		uv_tcp_init(c->loop, tcp);
		c->req.data = c;
		rc = uv_tcp_connect(&c->req, tcp, ai->ai_addr, on_connect);
		if (rc == 0) {
			c->h = (uv_stream_t *)tcp;
			c->busy = 1;
			return;
		}
		c->last_err = rc;
		uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
	}
	fail_connect(c, c->last_err);
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct connector	*c = req->data;
	char			 err[512];

	c->busy = 0;
	c->res = res;
	if (c->cancelled) {
		connector_done(c, NULL, 0, NULL);
		return;
	}
	if (status != 0) {
		snprintf(err, sizeof(err), "cannot resolve %s: %s",
		    c->addr->host, uv_strerror(status));
		connector_done(c, NULL, status, err);
		return;
	}
	c->next = res;
	c->last_err = UV_EADDRNOTAVAIL;
	try_next(c);
}

static void
on_unix_connect(uv_connect_t *req, int status)
{
	struct connector	*c = req->data;
	struct stream		*st;

	c->busy = 0;
	if (c->cancelled) {
		connector_done(c, NULL, 0, NULL);	/* the handle is closing */
		return;
	}
	if (status == 0 && (st = stream_new(c->loop)) != NULL) {
		stream_adopt_handle(st, c->h);
		connector_done(c, st, 0, NULL);
		return;
	}
	uv_close((uv_handle_t *)c->h, (uv_close_cb)free);
	fail_connect(c, status != 0 ? status : UV_ENOMEM);
}

struct connector *
endpoint_connect(uv_loop_t *loop, const struct address *a, connect_cb cb,
    void *arg)
{
	struct connector	*c;
	struct addrinfo		 hints;
	uv_pipe_t		*p;
	int			 rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->loop = loop;
	c->addr = a;
	c->cb = cb;
	c->arg = arg;
	c->busy = 1;
	if (a->kind == ADDR_UNIX) {
		if ((p = malloc(sizeof(*p))) == NULL) {
			free(c);
			return NULL;
		}
		uv_pipe_init(loop, p, 0);
		c->h = (uv_stream_t *)p;
		c->req.data = c;
		uv_pipe_connect(&c->req, p, a->path, on_unix_connect);
		return c;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	c->gai.data = c;
	/* Resolution runs in libuv's pool; the loop keeps serving meanwhile. */
	rc = uv_getaddrinfo(loop, &c->gai, on_resolved, a->host, a->port,
	    &hints);
	if (rc != 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* Stop an attempt; its callback will not be called. */
void
endpoint_cancel(struct connector *c)
{
	c->cancelled = 1;
	if (c->h != NULL) {
		/* on_connect / on_unix_connect run with UV_ECANCELED. */
		c->h->data = c;
		uv_close((uv_handle_t *)c->h,
		    c->addr->kind == ADDR_UNIX ? (uv_close_cb)free :
		    on_attempt_closed);
		c->h = NULL;
	} else if (c->busy)
		uv_cancel((uv_req_t *)&c->gai);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct listener	*l = server->data;

	(void)status;	/* an error surfaces again in listener_accept */
	l->cb(l->arg);
}

/* A Unix socket left over by a dead process is removed; a live one is not. */
static int
stale_socket(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	int			 fd, rc;

	if (lstat(path, &sb) == -1 || !S_ISSOCK(sb.st_mode))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc == -1 && errno == ECONNREFUSED;
}

/* getaddrinfo(3)'s failures as libuv names them, for the error idiom. */
static int
gai_code(int rc)
{
	switch (rc) {
	case EAI_AGAIN:
		return UV_EAI_AGAIN;
	case EAI_NONAME:
		return UV_EAI_NONAME;
	case EAI_SERVICE:
		return UV_EAI_SERVICE;
	default:
		return UV_EAI_FAIL;
	}
}

static int
listen_tcp(struct listener *l, char *err, size_t errlen)
{
	struct addrinfo		 hints, *res = NULL;
	struct sockaddr_storage	 ss;
	int			 rc, len = sizeof(ss);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	uv_tcp_init(l->loop, &l->u.tcp);
	/* No host: "::" takes IPv4 too, unless the kernel has no IPv6. */
	rc = getaddrinfo(l->addr->host[0] ? l->addr->host : "::",
	    l->addr->port, &hints, &res);
	if (rc != 0 && l->addr->host[0] == '\0')
		rc = getaddrinfo("0.0.0.0", l->addr->port, &hints, &res);
	if (rc != 0)
		return errorf(err, errlen, gai_code(rc),
		    "cannot listen on %s: %s", l->addr->text, gai_strerror(rc));
	rc = uv_tcp_bind(&l->u.tcp, res->ai_addr, 0);
	if (rc == UV_EAFNOSUPPORT && l->addr->host[0] == '\0') {
		struct sockaddr_in	in;

		uv_ip4_addr("0.0.0.0", ntohs(((struct sockaddr_in6 *)
		    res->ai_addr)->sin6_port), &in);
		rc = uv_tcp_bind(&l->u.tcp, (struct sockaddr *)&in, 0);
	}
	freeaddrinfo(res);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&l->u.tcp, SOMAXCONN, on_connection);
	if (rc != 0)
		return errorf(err, errlen, rc, "cannot listen on %s: %s",
		    l->addr->text, uv_strerror(rc));
	if (uv_tcp_getsockname(&l->u.tcp, (struct sockaddr *)&ss, &len) == 0)
		addr_text((struct sockaddr *)&ss, l->name, sizeof(l->name));
	return 0;
}

static int
listen_unix(struct listener *l, char *err, size_t errlen)
{
	int	rc;

	uv_pipe_init(l->loop, &l->u.pipe, 0);
	rc = uv_pipe_bind(&l->u.pipe, l->addr->path);
	if (rc == UV_EADDRINUSE && stale_socket(l->addr->path)) {
		unlink(l->addr->path);
		rc = uv_pipe_bind(&l->u.pipe, l->addr->path);
	}
	if (rc == 0) {
		l->unlink_path = 1;
		rc = uv_listen((uv_stream_t *)&l->u.pipe, SOMAXCONN,
		    on_connection);
	}
	if (rc != 0)
		return errorf(err, errlen, rc, "cannot listen on %s: %s",
		    l->addr->text, uv_strerror(rc));
	snprintf(l->name, sizeof(l->name), "%s", l->addr->path);
	return 0;
}

/* An inherited listening socket (systemd): TCP or Unix-domain. */
static int
listen_fd(struct listener *l, char *err, size_t errlen)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			rc;

	if (getsockname(l->addr->fd, (struct sockaddr *)&ss, &len) == -1)
		return errorf(err, errlen, -errno, "%s: %s", l->addr->text,
		    strerror(errno));
	if (ss.ss_family == AF_UNIX) {
		l->is_pipe = 1;
		uv_pipe_init(l->loop, &l->u.pipe, 0);
		rc = uv_pipe_open(&l->u.pipe, l->addr->fd);
	} else {
		uv_tcp_init(l->loop, &l->u.tcp);
		rc = uv_tcp_open(&l->u.tcp, l->addr->fd);
	}
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&l->u, SOMAXCONN, on_connection);
	if (rc != 0)
		return errorf(err, errlen, rc, "cannot listen on %s: %s",
		    l->addr->text, uv_strerror(rc));
	snprintf(l->name, sizeof(l->name), "%s", l->addr->text);
	return 0;
}

int
listener_new(uv_loop_t *loop, const struct address *a, accept_cb cb,
    void *arg, struct listener **lp, char *err, size_t errlen)
{
	struct listener	*l;
	int		 rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return errorf(err, errlen, UV_ENOMEM, "out of memory");
	l->loop = loop;
	l->addr = a;
	l->cb = cb;
	l->arg = arg;
	l->is_pipe = a->kind == ADDR_UNIX_LISTEN;
	rc = a->kind == ADDR_FD ? listen_fd(l, err, errlen) :
	    a->kind == ADDR_UNIX_LISTEN ? listen_unix(l, err, errlen) :
	    listen_tcp(l, err, errlen);
	l->u.tcp.data = l;
	if (rc != 0) {
		listener_close(l);
		return rc;
	}
	*lp = l;
	return 0;
}

int
listener_accept(struct listener *l, struct stream **stp, char *peer,
    size_t peerlen, char *err, size_t errlen)
{
	uv_stream_t	*h;
	struct stream	*st;
	int		 rc;

	if (l->is_pipe) {
		h = malloc(sizeof(uv_pipe_t));
		if (h != NULL)
			uv_pipe_init(l->loop, (uv_pipe_t *)h, 0);
	} else {
		h = malloc(sizeof(uv_tcp_t));
		if (h != NULL)
			uv_tcp_init(l->loop, (uv_tcp_t *)h);
	}
	if (h == NULL)
		return errorf(err, errlen, UV_ENOMEM, "accept: out of memory");
	if ((rc = uv_accept((uv_stream_t *)&l->u, h)) == 0 &&
	    (st = stream_new(l->loop)) == NULL)
		rc = UV_ENOMEM;
	if (rc != 0) {
		uv_close((uv_handle_t *)h, (uv_close_cb)free);
		return errorf(err, errlen, rc, "accept on %s: %s", l->name,
		    uv_strerror(rc));
	}
	if (l->is_pipe)
		snprintf(peer, peerlen, "%s", l->name);
	else {
		struct sockaddr_storage	ss;
		int			len = sizeof(ss);

		if (uv_tcp_getpeername((uv_tcp_t *)h, (struct sockaddr *)&ss,
		    &len) == 0)
			addr_text((struct sockaddr *)&ss, peer, peerlen);
		else
			snprintf(peer, peerlen, "?");
	}
	stream_adopt_handle(st, h);
	*stp = st;
	return 0;
}

const char *
listener_name(const struct listener *l)
{
	return l->name;
}

void
listener_close(struct listener *l)
{
	if (l->unlink_path)
		unlink(l->addr->path);
	uv_close((uv_handle_t *)&l->u, (uv_close_cb)free);
}
