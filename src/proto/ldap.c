/*
 * LDAP client role (RFC 4511 4.14, RFC 4513 3): the StartTLS extended
 * operation as message 1; its ExtendedResponse must say success.  The plain
 * client's own requests follow inside TLS.
 */
#include "config.h"

#include <stdio.h>

#include "ber.h"
#include "proto_impl.h"

/* SEQUENCE { messageID 1, [APPLICATION 23] { [0] requestName } } */
static const char starttls[] = "\x30\x1d\x02\x01\x01\x77\x18\x80\x16"
    LDAP_STARTTLS_OID;

static void
ldap_start(struct negotiation *p, struct proto_out *out)
{
	(void)p;
	pbuf_add(&out->to_tls, starttls, sizeof(starttls) - 1);
	pbuf_str(&out->log, "C: ExtendedRequest StartTLS (messageID 1)\n");
}

/*
 * An LDAPResult (resultCode, matchedDN, diagnosticMessage, referral), then
 * an ExtendedResponse's responseName if there is one.
 */
static int
result(struct ber v, long *code, struct ber *diag, struct ber *name)
{
	struct ber	e;
	unsigned	tag;

	name->len = 0;
	name->p = NULL;
	if (ber_get(&v, &tag, &e) == -1 || tag != 0x0a ||
	    ber_int(&e, code) == -1 || ber_get(&v, &tag, &e) == -1 ||
	    tag != 0x04 || ber_get(&v, &tag, diag) == -1 || tag != 0x04)
		return -1;
	while (v.len > 0) {
		if (ber_get(&v, &tag, &e) == -1)
			return -1;
		if (tag == 0x8a)
			*name = e;
	}
	return 0;
}

static size_t
ldap_data(struct negotiation *p, int tls_side, const char *buf, size_t len,
    struct proto_out *out)
{
	struct ldap_msg	 m;
	struct ber	 diag, name;
	size_t		 total;
	long		 code;
	int		 rc;
	char		 line[200], text[81];

	(void)tls_side;
	if ((rc = ber_msg_len(buf, len, &total)) <= 0) {
		if (rc == -1)
			proto_fail(p, out,
			    "not an LDAP message (a definite-length "
			    "BER SEQUENCE of at most %d bytes)", BER_MAX_MSG);
		return 0;
	}
	if (ber_ldap_msg(buf, total, &m) == -1 || (m.op == 0x78 &&
	    result(m.val, &code, &diag, &name) == -1)) {
		proto_fail(p, out, "malformed LDAP message");
		return 0;
	}
	snprintf(line, sizeof(line), "S: %s (messageID %ld", ldap_op_name(m.op),
	    m.id);
	pbuf_str(&out->log, line);
	if (m.op == 0x78) {
		ber_text(&diag, text, sizeof(text));
		snprintf(line, sizeof(line), ", resultCode %ld, '%s'", code,
		    text);
		pbuf_str(&out->log, line);
	}
	pbuf_str(&out->log, ")\n");
	if (m.op != 0x78 || m.id != 1) {
		proto_fail(p, out, "%s (messageID %ld) instead of the StartTLS "
		    "response%s", ldap_op_name(m.op), m.id, m.id == 0 ?
		    ": the server is closing the connection" : "");
		return 0;
	}
	if (code != 0) {
		snprintf(line, sizeof(line), "resultCode %ld, '%s'", code,
		    text);
		pbuf_str(&p->caps, line);
		/* --opportunistic: what follows is clear text for it. */
		proto_not_offered(p, out, "StartTLS");
		return total;
	}
	if (name.p != NULL && !ber_eq(&name, LDAP_STARTTLS_OID)) {
		proto_fail(p, out,
		    "the StartTLS response names another operation");
		return 0;
	}
	proto_switch_now(p, out);
	return total;
}

const struct proto_ops ldap_client_ops = {
	.start = ldap_start,
	.data = ldap_data,
};
