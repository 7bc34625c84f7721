/* A minimal TAP producer for the unit tests. */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_UNUSED __attribute__((unused))

static TAP_UNUSED int
ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed = 1;
	return cond;
}

static TAP_UNUSED int
is_str(const char *got, const char *want, const char *what)
{
	int	same = got != NULL && want != NULL && strcmp(got, want) == 0;

	if (!ok(same, "%s", what))
		printf("# got '%s', want '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return same;
}

static TAP_UNUSED int
is_int(long got, long want, const char *what)
{
	if (!ok(got == want, "%s", what))
		printf("# got %ld, want %ld\n", got, want);
	return got == want;
}

static TAP_UNUSED int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed;
}

#endif
