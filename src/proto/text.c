/*
 * Reading protocol text: words, reply codes, header lists, literals.
 * Pure functions of their arguments, shared by the modules.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "proto_impl.h"

size_t
proto_word_len(const char *s, size_t len)
{
	size_t	n = 0;

	while (n < len && s[n] != ' ' && s[n] != '\t')
		n++;
	return n;
}

/* The first word of s is w, ignoring case. */
int
proto_word_eq(const char *s, size_t len, const char *w)
{
	size_t	n = proto_word_len(s, len);

	return n == strlen(w) && strncasecmp(s, w, n) == 0;
}

/*
 * A comma-separated header value (RFC 7230 #list) holds tok, ignoring
 * case; a tok ending in '/' ("TLS/") matches any version after it.
 */
int
proto_list_token(const char *s, size_t len, const char *tok)
{
	size_t	i = 0, start, end, n = strlen(tok);
	int	prefix = n > 0 && tok[n - 1] == '/';

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		start = i;
		while (i < len && s[i] != ',')
			i++;
		end = i;
		while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		if ((prefix ? end - start > n : end - start == n) &&
		    strncasecmp(s + start, tok, n) == 0)
			return 1;
	}
	return 0;
}

/* A command that carries credentials (or starts an exchange of them). */
int
proto_is_login_word(const char *s, size_t len)
{
	static const char *const words[] = { "AUTH", "AUTHENTICATE", "LOGIN",
	    "PASS", "APOP", "AUTHINFO", NULL };

	for (const char *const *w = words; *w != NULL; w++)
		if (proto_word_eq(s, len, *w))
			return 1;
	return 0;
}

/*
 * The line ends in a literal announcement {N} or {N+}: N, else 0.  *sync
 * says the sender waits for a "+" before it sends the N bytes ({N}).  An N
 * of ten digits or more is SIZE_MAX: inside TLS all that follows is the
 * literal's, as the peer reads it too; in the opening it is too long.
 */
size_t
proto_literal_size(const char *s, size_t len, int *sync)
{
	size_t	i, n = 0, mul = 1;
	int	huge = 0;

	if (len < 3 || s[len - 1] != '}')
		return 0;
	i = len - 2;
	*sync = s[i] != '+';
	if (!*sync)
		i--;
	for (; i > 0 && isdigit((unsigned char)s[i]); i--) {
		if (mul > 100000000)
			huge |= s[i] != '0';
		else {
			n += (size_t)(s[i] - '0') * mul;
			mul *= 10;
		}
	}
	if (s[i] != '{')
		return 0;
	return huge ? SIZE_MAX : n;
}

/*
 * A reply's code: three digits, then the line's end or one of the bytes
 * in then ("-" for more lines, " " before text); NULL lets anything
 * follow.  -1 if it is not one.
 */
int
proto_reply_code(const char *s, size_t len, const char *then)
{
	if (len < 3 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
		return -1;
	if (len > 3 && then != NULL && memchr(then, s[3], strlen(then)) == NULL)
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* A line's length without its line end. */
size_t
proto_line_len(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	return len;
}

/* A 32-bit big-endian number (PostgreSQL's lengths and codes). */
unsigned long
proto_be32(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;

	return (unsigned long)u[0] << 24 | (unsigned long)u[1] << 16 |
	    (unsigned long)u[2] << 8 | u[3];
}
