/* The command line: options and the two addresses. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "address.h"
#include "proto/proto.h"

#define MAX_PINS	8
#define PIN_LEN		32	/* SHA-256 */

struct options {
	enum proto	 proto;
	enum role	 role;
	const char	*cert;
	const char	*key;
	int		 self_signed;
	const char	*cafile;
	int		 insecure;
	const char	*servername;
	unsigned char	 pins[MAX_PINS][PIN_LEN];
	int		 npins;
	const char	*priority;	/* NULL: the built-in default */
	const char	*alpn;
	int		 verify_client;
	unsigned	 timeout_ms;	/* 0: none */
	unsigned	 idle_timeout_ms;	/* 0: none */
	unsigned	 max_sessions;	/* 0: as many as descriptors allow */
	const char	*keylog;
	const char	*ehlo;		/* SMTP EHLO name */
	int		 opportunistic;
	int		 allow_plain;
	int		 verbosity;	/* 0 -q, 1 default, 2 -v, 3 -vv */
	struct address	 tls_addr;
	struct address	 plain_addr;
};

enum opts_result {
	OPTS_RUN,
	OPTS_HELP,
	OPTS_VERSION,
	OPTS_ERROR
};

enum opts_result options_parse(int, char **, struct options *, char *, size_t);
void	 options_usage(FILE *);

#endif
