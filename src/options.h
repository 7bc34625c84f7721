/* The command line: options and the two addresses. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "address.h"

#define MAX_PINS	8
#define PIN_LEN		32	/* SHA-256 */

enum proto {
	PROTO_NONE,		/* TLS from the first byte */
	PROTO_SMTP,		/* STARTTLS, RFC 3207 */
	PROTO_IMAP,		/* STARTTLS, RFC 3501 */
	PROTO_POP3,		/* STLS, RFC 2595 */
	PROTO_HTTP,		/* Upgrade: TLS/1.0, RFC 2817 */
	PROTO_POSTGRES,		/* SSLRequest, PostgreSQL protocol 3.0 */
	PROTO_LDAP,		/* StartTLS extended operation, RFC 4511 */
	PROTO_LMTP,		/* STARTTLS after LHLO, RFC 2033 */
	PROTO_NNTP,		/* STARTTLS, RFC 4642 */
	PROTO_SIEVE,		/* ManageSieve STARTTLS, RFC 5804 */
	PROTO_FTP,		/* AUTH TLS, RFC 4217 */
	PROTO_XMPP		/* STARTTLS, RFC 6120 */
};

enum role {
	ROLE_CLIENT,
	ROLE_SERVER
};

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
const char *proto_name(enum proto);

#endif
