#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <uv.h>

#include "log.h"
#include "options.h"
#include "server.h"
#include "session.h"
#include "status.h"
#include "tls.h"

struct run {
	struct server	*srv;
	struct session	*s;
	int		 status;
	uv_signal_t	 sig[2];
};

static void
on_signal(uv_signal_t *h, int signum)
{
	struct run	*r = h->data;

	log_info("signal %d: closing", signum);
	if (r->srv != NULL)
		server_stop(r->srv);
	else if (r->s != NULL)
		session_abort(r->s);
}

static void
session_done(void *arg, int status)
{
	struct run	*r = arg;

	r->status = status;
	r->s = NULL;
}

/* Every session needs two descriptors: take what the hard limit allows. */
static unsigned
session_limit(unsigned wanted)
{
	struct rlimit	rl;
	rlim_t		n;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	n = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 2000000 ?
	    1000000 : (rl.rlim_cur - 32) / 2;
	if (wanted > 0 && wanted < n)
		return wanted;
	if (wanted > n)
		log_warn("--max-sessions=%u is more than the descriptor limit "
		    "allows: using %u", wanted, (unsigned)n);
	return (unsigned)n;
}

/*
 * A closed descriptor 0, 1 or 2 would be the next one opened (libuv's epoll
 * descriptor, its signal pipe, a socket): written to as standard output,
 * closed as standard input, and libuv asserts that it never closes them.
 * Fill each gap with /dev/null before anything else opens a descriptor, and
 * say which were closed (bit N for descriptor N), or -1.
 */
static int
fill_stdio(void)
{
	int	fd, closed = 0;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			return -1;
		closed |= 1 << fd;
	}
	return closed;
}

/*
 * An address on a descriptor that was closed at start: a usage error for
 * "-", and for fd:N the status of any descriptor that is not open.
 */
static int
uses_closed(const struct address *a, int closed)
{
	if (a->kind == ADDR_STDIO && (closed & 3) != 0) {
		log_err("%s: standard %s is closed", a->text,
		    closed & 1 ? "input" : "output");
		return STATUS_USAGE;
	}
	if (a->kind == ADDR_FD && a->fd >= 0 && a->fd <= 2 &&
	    (closed & 1 << a->fd) != 0) {
		log_err("%s: descriptor %d is not open", a->text, a->fd);
		return STATUS_CONNECT;
	}
	return STATUS_OK;
}

/* What TLS needs of the options, once for the process. */
static void
tls_config_from(struct tls_config *c, const struct options *o)
{
	_Static_assert(PIN_LEN == TLS_PIN_LEN, "a pin is a SHA-256");
	memset(c, 0, sizeof(*c));
	c->server = o->role == ROLE_SERVER;
	c->cert = o->cert;
	c->key = o->key;
	c->self_signed = o->self_signed;
	c->cafile = o->cafile;
	c->insecure = o->insecure;
	c->pins = &o->pins[0][0];
	c->npins = o->npins;
	c->priority = o->priority;
	c->alpn = o->alpn;
	c->verify_client = o->verify_client;
	c->keylog = o->keylog;
	c->tickets = o->proto == PROTO_FTP;
}

static void
version(void)
{
	printf("%s %s (GnuTLS %s, libuv %s)\n", PACKAGE_NAME, PACKAGE_VERSION,
	    gnutls_check_version(NULL), uv_version_string());
}

int
main(int argc, char **argv)
{
	struct options		 o;
	struct tls_config	 tcfg;
	struct tls_ctx		*tctx;
	struct run		 r;
	uv_loop_t		*loop;
	char			 err[512];
	int			 status = STATUS_OK, closed, rc;

	if ((closed = fill_stdio()) == -1) {
		log_err("cannot open /dev/null: %s", strerror(errno));
		return STATUS_USAGE;
	}
	loop = uv_default_loop();
	switch (options_parse(argc, argv, &o, err, sizeof(err))) {
	case OPTS_HELP:
		options_usage(stdout);
		return STATUS_OK;
	case OPTS_VERSION:
		version();
		return STATUS_OK;
	case OPTS_ERROR:
		log_err("%s", err);
		return STATUS_USAGE;
	case OPTS_RUN:
		break;
	}
	log_set_level(o.verbosity == 0 ? LOG_ERR : o.verbosity == 1 ?
	    LOG_WARN : o.verbosity == 2 ? LOG_INFO : LOG_DEBUG);
	if ((status = uses_closed(&o.tls_addr, closed)) != STATUS_OK ||
	    (status = uses_closed(&o.plain_addr, closed)) != STATUS_OK)
		return status;
	/*
	 * Without a name the client could only check that some CA signed it.
	 * Only an address we connect to by host name gives one: a listening
	 * one names ourselves, not the servers that connect to it.
	 */
	if (o.role == ROLE_CLIENT && !o.insecure && o.npins == 0 &&
	    o.servername == NULL && o.tls_addr.kind != ADDR_TCP) {
		log_err("%s has no host name to verify%s: use --servername, "
		    "--pin or --insecure", o.tls_addr.text,
		    address_is_listen(&o.tls_addr) ? " (the servers that "
		    "connect to it could be anyone the CA vouches for)" : "");
		return STATUS_USAGE;
	}
	if (address_systemd(&o.tls_addr, err, sizeof(err)) != 0 ||
	    address_systemd(&o.plain_addr, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return STATUS_CONNECT;
	}
	/* Not for the programs this one may start or be followed by. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	address_fd_listens(&o.tls_addr);
	address_fd_listens(&o.plain_addr);
	if (address_is_listen(&o.tls_addr) &&
	    address_is_listen(&o.plain_addr)) {
		log_err("at most one of the addresses may listen");
		return STATUS_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
	/*
	 * Each read takes a 64 KiB buffer that is freed once written.  By
	 * default glibc gives the freed top of the heap back to the kernel
	 * and maps it again on the next read: page faults on every byte
	 * relayed.  Keep a few MiB for the whole process instead.
	 */
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
	tls_config_from(&tcfg, &o);
	if ((rc = tls_ctx_new(&tctx, &tcfg, err, sizeof(err))) != 0) {
		log_err("%s", err);
		return rc == UV_EINVAL ? STATUS_USAGE : STATUS_IO;
	}
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 2; i++) {
		uv_signal_init(loop, &r.sig[i]);
		r.sig[i].data = &r;
		uv_signal_start(&r.sig[i], on_signal, i ? SIGTERM : SIGINT);
		/* The loop ends when the work does, not when signals do. */
		uv_unref((uv_handle_t *)&r.sig[i]);
	}
	if (address_is_listen(&o.tls_addr) || address_is_listen(&o.plain_addr)) {
		if ((rc = server_new(loop, &o, tctx,
		    session_limit(o.max_sessions), &r.srv, err,
		    sizeof(err))) != 0) {
			log_err("%s", err);
			status = rc == UV_ENOMEM ? STATUS_IO : STATUS_CONNECT;
		}
	} else if ((r.s = session_new(loop, &o, tctx, "", NULL, NULL, NULL,
	    session_done, &r)) == NULL) {
		log_err("out of memory");
		status = STATUS_IO;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 2; i++)
		uv_close((uv_handle_t *)&r.sig[i], NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	if (r.srv != NULL) {
		status = server_status(r.srv);
		server_free(r.srv);
	} else if (status == STATUS_OK)
		status = r.status;
	tls_ctx_free(tctx);
	uv_tty_reset_mode();
	uv_loop_close(loop);
	return status;
}
