/*
 * LDAP server role (RFC 4511 4.14, RFC 4513 3): the StartTLS extended
 * request is answered here, and so is a search of the root DSE, which
 * clients read to learn whether the server offers StartTLS (RFC 4512
 * 5.1: supportedExtension): the plaintext backend would not list it.
 * So is the anonymous Bind that comes before such a search.
 * Before TLS every other request is refused
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

/*
 * A base-object search of "" (RFC 4512 5.1), whatever its filter: one
 * entry with supportedExtension (StartTLS) and supportedLDAPVersion 3,
 * then success.
 */
static int
root_dse(struct proto_out *out, const struct ldap_msg *m)
{
	static const struct {
		const char	*name, *val;
		unsigned char	 nlen, vlen;
	} attrs[] = {
		{ "supportedExtension", LDAP_STARTTLS_OID, 18, 22 },
		{ "supportedLDAPVersion", "3", 20, 1 }
	};
	unsigned char	 b[160];
	struct ber	 v = m->val, base, scope;
	unsigned	 tag;
	long		 sc;
	size_t		 n, alen = 0;

	if (m->op != 0x63 || ber_get(&v, &tag, &base) == -1 || tag != 0x04 ||
	    base.len != 0 || ber_get(&v, &tag, &scope) == -1 || tag != 0x0a ||
	    ber_int(&scope, &sc) == -1 || sc != 0)
		return 0;
	for (size_t i = 0; i < 2; i++)
		alen += 2 + 2 + attrs[i].nlen + 2 + 2 + attrs[i].vlen;
	b[0] = 0x30;
	b[1] = (unsigned char)(2 + m->rawid.len + 2 + 2 + 2 + alen);
	b[2] = 0x02;
	b[3] = (unsigned char)m->rawid.len;
	memcpy(b + 4, m->rawid.p, m->rawid.len);
	n = 4 + m->rawid.len;
	b[n++] = 0x64;			/* SearchResultEntry */
	b[n++] = (unsigned char)(2 + 2 + alen);
	b[n++] = 0x04;			/* objectName "" */
	b[n++] = 0;
	b[n++] = 0x30;			/* attributes */
	b[n++] = (unsigned char)alen;
	for (size_t i = 0; i < 2; i++) {
		b[n++] = 0x30;
		b[n++] = (unsigned char)(2 + attrs[i].nlen + 2 + 2 +
		    attrs[i].vlen);
		b[n++] = 0x04;
		b[n++] = attrs[i].nlen;
		memcpy(b + n, attrs[i].name, attrs[i].nlen);
		n += attrs[i].nlen;
		b[n++] = 0x31;
		b[n++] = (unsigned char)(2 + attrs[i].vlen);
		b[n++] = 0x04;
		b[n++] = attrs[i].vlen;
		memcpy(b + n, attrs[i].val, attrs[i].vlen);
		n += attrs[i].vlen;
	}
	pbuf_add(&out->to_tls, b, n);
	pbuf_str(&out->log, "S: SearchResultEntry (the root DSE: "
	    "supportedExtension " LDAP_STARTTLS_OID ")\n");
	reply(out, m, 0x65, 0, "", NULL);
	return 1;
}

/*
 * An anonymous simple Bind (no name, no password), which ldapsearch -x
 * sends before it reads the root DSE: it carries no credentials, and the
 * backend's connection is anonymous until a Bind inside TLS anyway.
 */
static int
anonymous_bind(struct proto_out *out, const struct ldap_msg *m)
{
	struct ber	 v = m->val, version, name, auth;
	unsigned	 tag;

	if (m->op != 0x60 || ber_get(&v, &tag, &version) == -1 ||
	    tag != 0x02 || ber_get(&v, &tag, &name) == -1 || tag != 0x04 ||
	    name.len != 0 || ber_get(&v, &tag, &auth) == -1 || tag != 0x80 ||
	    auth.len != 0)
		return 0;
	reply(out, m, 0x61, 0, "", NULL);
	return 1;
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
	if (m.op == 0x42 || m.op == 0x50 || anonymous_bind(out, &m) ||
	    root_dse(out, &m))
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
