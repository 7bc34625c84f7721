/*
 * A small bounded BER reader for LDAP (RFC 4511 5.1): single-byte tags,
 * definite lengths only, nothing larger than BER_MAX_MSG.
 */
#ifndef BER_H
#define BER_H

#include <stddef.h>

#define BER_MAX_MSG	(16 * 1024)

struct ber {
	const unsigned char	*p;
	size_t			 len;
};

/* An LDAPMessage, without its controls. */
struct ldap_msg {
	long		 id;
	struct ber	 rawid;		/* the messageID's contents, for
					   replies */
	unsigned	 op;		/* the protocolOp's tag */
	struct ber	 val;		/* and its contents */
};

#define LDAP_STARTTLS_OID	"1.3.6.1.4.1.1466.20037"
#define LDAP_NOTICE_OID		"1.3.6.1.4.1.1466.20036"

int	ber_msg_len(const char *, size_t, size_t *);
int	ber_get(struct ber *, unsigned *, struct ber *);
int	ber_int(const struct ber *, long *);
int	ber_eq(const struct ber *, const char *);
void	ber_text(const struct ber *, char *, size_t);
int	ber_ldap_msg(const char *, size_t, struct ldap_msg *);
const char *ldap_op_name(unsigned);
unsigned ldap_op_response(unsigned);

#endif
