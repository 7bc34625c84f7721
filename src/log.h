/* Diagnostics on stderr: one line per message, prefixed with the program name. */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level {
	LOG_ERR,	/* always shown */
	LOG_WARN,	/* shown unless -q */
	LOG_INFO,	/* -v: transcript, TLS parameters, sessions */
	LOG_DEBUG	/* -vv */
};

void	 log_set_level(int);
int	 log_enabled(enum log_level);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_security(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
int	 errorf(char *, size_t, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
