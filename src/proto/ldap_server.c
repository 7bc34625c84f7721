/*
 * LDAP server role (RFC 4511 4.14, RFC 4513 3): the StartTLS extended
 * request is answered here.  Before TLS every other request is refused
 * with confidentialityRequired (13) in its own result type, not forwarded:
 * a directory put behind TLS should not answer searches in clear text, and
 * a Bind carries credentials.  Unbind and Abandon have no result and are
 * dropped.  --allow-plain: the first other request and all that follows go
 * to the backend in clear text.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ber.h"
#include "proto_impl.h"

#define CONFIDENTIALITY_REQUIRED	13

/*
 * SEQUENCE { messageID, [APPLICATION op] { resultCode, matchedDN "",
 * diagnosticMessage, [10] responseName } }: short lengths all through.
 */
static void
reply(struct proto_out *out, const struct ldap_msg *m, unsigned op, int code,
    const char *diag, const char *name)
{
	unsigned char	b[128];
	size_t		n, dlen = strlen(diag), nlen = name ? strlen(name) : 0;
	size_t		oplen = 3 + 2 + 2 + dlen + (name ? 2 + nlen : 0);
	char		line[160];

	b[0] = 0x30;
	b[1] = (unsigned char)(2 + m->rawid.len + 2 + oplen);
	b[2] = 0x02;
	b[3] = (unsigned char)m->rawid.len;
	memcpy(b + 4, m->rawid.p, m->rawid.len);
	n = 4 + m->rawid.len;
	b[n++] = (unsigned char)op;
	b[n++] = (unsigned char)oplen;
	b[n++] = 0x0a;
	b[n++] = 1;
	b[n++] = (unsigned char)code;
	b[n++] = 0x04;
	b[n++] = 0;
	b[n++] = 0x04;
	b[n++] = (unsigned char)dlen;
	memcpy(b + n, diag, dlen);
	n += dlen;
	if (name != NULL) {
		b[n++] = 0x8a;
		b[n++] = (unsigned char)nlen;
		memcpy(b + n, name, nlen);
		n += nlen;
	}
	pbuf_add(&out->to_tls, b, n);
	snprintf(line, sizeof(line), "S: %s (messageID %ld, resultCode %d, "
	    "'%s')\n", ldap_op_name(op), m->id, code, diag);
	pbuf_str(&out->log, line);
}

static size_t
ldap_data(struct negotiation *p, int tls_side, const char *buf, size_t len,
    struct proto_out *out)
{
	struct ldap_msg	 m;
	struct ber	 v, name;
	size_t		 total;
	unsigned	 tag;
	int		 rc;
	char		 line[160];

	if ((rc = ber_msg_len(buf, len, &total)) <= 0) {
		if (rc == -1)
			proto_fail(p, out, "not an LDAP message from the %s (a "
			    "definite-length BER SEQUENCE of at most %d bytes)",
			    tls_side ? "client" : "backend", BER_MAX_MSG);
		return 0;
	}
	if (ber_ldap_msg(buf, total, &m) == -1) {
		proto_fail(p, out, "malformed LDAP message from the %s",
		    tls_side ? "client" : "backend");
		return 0;
	}
	snprintf(line, sizeof(line), "%s: %s (messageID %ld)\n",
	    tls_side ? "C" : "B", ldap_op_name(m.op), m.id);
	pbuf_str(&out->log, line);
	/* The backend speaks unasked only to say it goes (a Notice). */
	if (!tls_side) {
		pbuf_add(&out->to_tls, buf, total);
		return total;
	}
	v = m.val;
	if (m.op == 0x77 && ber_get(&v, &tag, &name) == 0 && tag == 0x80 &&
	    ber_eq(&name, LDAP_STARTTLS_OID)) {
		reply(out, &m, 0x78, 0, "", LDAP_STARTTLS_OID);
		proto_switch_now(p, out);
		return total;
	}
	if (m.op == 0x42 || m.op == 0x50)
		return total;
	if (p->cfg.allow_plain) {
		/* Nothing used: it and all after it go to the backend. */
		proto_fall_back(p, out, "%s before StartTLS: --allow-plain, so "
		    "relaying in CLEAR TEXT", ldap_op_name(m.op));
		return 0;
	}
	if (ldap_op_response(m.op) == 0) {
		proto_fail(p, out, "%s from the client (tag 0x%02x)",
		    ldap_op_name(m.op), m.op);
		return 0;
	}
	reply(out, &m, ldap_op_response(m.op), CONFIDENTIALITY_REQUIRED,
	    "StartTLS required", NULL);
	return total;
}

const struct proto_ops ldap_server_ops = {
	.data = ldap_data,
};
