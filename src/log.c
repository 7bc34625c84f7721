#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

/*
 * The level is set once from the command line before the loop starts, like
 * syslog's mask; passing it through every call would only add noise.
 */
static int level = LOG_WARN;

void
log_set_level(int l)
{
	level = l;
}

int
log_enabled(enum log_level l)
{
	return (int)l <= level;
}

/*
 * Messages quote what peers sent (a greeting, a reply, a name): whatever is
 * not printable ASCII goes out as \xNN, so that no byte from the network
 * reaches a terminal as a control sequence, whatever the level.
 */
static void
escape(const char *in, char *out, size_t outlen)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			o = 0;
	unsigned char		c;

	for (; *in != '\0' && o + 5 < outlen; in++) {
		c = (unsigned char)*in;
		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	out[o] = '\0';
}

static void
vlog(const char *prefix, const char *fmt, va_list ap)
{
	char	line[1024], shown[4 * sizeof(line)];

	vsnprintf(line, sizeof(line), fmt, ap);
	escape(line, shown, sizeof(shown));
	/* One write per line keeps lines whole when several processes share stderr. */
	fprintf(stderr, "%s: %s%s\n", PACKAGE_NAME, prefix, shown);
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	va_list	ap;

	if (!log_enabled(l))
		return;
	va_start(ap, fmt);
	vlog(l == LOG_WARN ? "warning: " : "", fmt, ap);
	va_end(ap);
}

/*
 * A warning that -q does not hide: the session is not what the user may
 * think it is (clear text, an unverified peer).
 */
void
log_security(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

/*
 * The core's error idiom, as libuv's: a function returns 0 or a negative
 * errno-style code, and says why in the caller's buffer.
 */
int
errorf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}
