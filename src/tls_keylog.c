#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"
#include "tls_impl.h"

static int
keylog_line(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
	struct tls_check	*c = gnutls_session_get_ptr(s);
	gnutls_datum_t		 crand, srand;
	FILE			*f = c->ctx->keylog;

	gnutls_session_get_random(s, &crand, &srand);
	fprintf(f, "%s ", label);
	for (unsigned i = 0; i < crand.size; i++)
		fprintf(f, "%02x", crand.data[i]);
	fputc(' ', f);
	for (unsigned i = 0; i < secret->size; i++)
		fprintf(f, "%02x", secret->data[i]);
	fputc('\n', f);
	fflush(f);
	return 0;
}

/*
 * The key log holds every session's secrets: mode 0600, never through a
 * symbolic link, only a regular file (O_NONBLOCK: opening a FIFO must not
 * hang the start).  A file of ours that others can read is tightened; one
 * of someone else's is refused.
 */
static int
keylog_file(FILE **fp, const char *what, const char *path, char *err,
    size_t errlen)
{
	struct stat	sb;
	int		fd, rc = UV_EINVAL;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK, 0600);
	if (fd == -1)
		return errorf(err, errlen, UV_EINVAL, "%s %s: %s", what,
		    path, errno == ELOOP ? "a symbolic link: refused" :
		    errno == ENXIO ? "not a regular file" : strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))
		errorf(err, errlen, rc, "%s %s: not a regular file",
		    what, path);
	else if ((sb.st_mode & 077) != 0 && sb.st_uid != geteuid())
		errorf(err, errlen, rc, "%s %s: group or others may "
		    "read it, and it is not ours to tighten: refused", what,
		    path);
	else if ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) == -1)
		errorf(err, errlen, rc, "%s %s: %s", what, path,
		    strerror(errno));
	else {
		if ((sb.st_mode & 077) != 0)
			log_warn("%s %s: group or others could read it: now "
			    "mode 0600", what, path);
		if ((*fp = fdopen(fd, "a")) != NULL)
			return 0;
		rc = errorf(err, errlen, UV_EIO, "%s %s: %s", what, path,
		    strerror(errno));
	}
	close(fd);
	return rc;
}

/*
 * Without a key log function GnuTLS opens SSLKEYLOGFILE itself, mode
 * 0644: take it over, and out of the environment before any session.
 */
int
tls_keylog_open(struct tls_ctx *c, char *err, size_t errlen)
{
	const char	*opt = c->cfg.keylog, *path;
	int		 rc = 0;

	path = opt ? opt : getenv("SSLKEYLOGFILE");
	if (opt != NULL || (path != NULL && *path != '\0'))
		rc = keylog_file(&c->keylog, opt ? "--keylog" :
		    "SSLKEYLOGFILE", path, err, errlen);
	unsetenv("SSLKEYLOGFILE");
	return rc;
}

void
tls_keylog_attach(struct tls_ctx *c, gnutls_session_t s)
{
	if (c->keylog != NULL)
		gnutls_session_set_keylog_function(s, keylog_line);
}
