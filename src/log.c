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

void
log_msg(enum log_level l, const char *fmt, ...)
{
	char	line[1024];
	va_list	ap;

	if (!log_enabled(l))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line keeps lines whole when several processes share stderr. */
	fprintf(stderr, "%s: %s%s\n", PACKAGE_NAME,
	    l == LOG_WARN ? "warning: " : "", line);
}
