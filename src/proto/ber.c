#include "config.h"

#include <string.h>

#include "ber.h"

/*
 * The header of the element at p: tag, length of the contents, length of
 * the header.  1 done, 0 more bytes needed, -1 malformed: a multi-byte tag,
 * an indefinite length, a length field over 4 bytes or above BER_MAX_MSG.
 */
static int
header(const unsigned char *p, size_t len, unsigned *tag, size_t *clen,
    size_t *hlen)
{
	size_t	n, i;

	if (len < 2)
		return len == 1 && (p[0] & 0x1f) == 0x1f ? -1 : 0;
	if ((p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = p[0];
	if (!(p[1] & 0x80)) {
		*clen = p[1];
		*hlen = 2;
		return 1;
	}
	if ((n = p[1] & 0x7f) == 0 || n > 4)
		return -1;
	if (len < 2 + n)
		return 0;
	*clen = 0;
	for (i = 0; i < n; i++) {
		*clen = *clen << 8 | p[2 + i];
		if (*clen > BER_MAX_MSG)
			return -1;
	}
	*hlen = 2 + n;
	return 1;
}

/*
 * A whole LDAPMessage (a SEQUENCE) at the start of buf: its size in *total.
 * 1 complete, 0 incomplete so far, -1 not a bounded SEQUENCE.
 */
int
ber_msg_len(const char *buf, size_t len, size_t *total)
{
	unsigned	tag;
	size_t		clen, hlen;
	int		rc;

	if (len > 0 && (unsigned char)buf[0] != 0x30)
		return -1;
	if ((rc = header((const unsigned char *)buf, len, &tag, &clen,
	    &hlen)) != 1)
		return rc;
	if (hlen + clen > BER_MAX_MSG)
		return -1;
	*total = hlen + clen;
	return len >= *total;
}

/* The next element of a complete message: 0, or -1 if it does not fit. */
int
ber_get(struct ber *in, unsigned *tag, struct ber *val)
{
	size_t	clen, hlen;

	if (header(in->p, in->len, tag, &clen, &hlen) != 1 ||
	    clen > in->len - hlen)
		return -1;
	val->p = in->p + hlen;
	val->len = clen;
	in->p += hlen + clen;
	in->len -= hlen + clen;
	return 0;
}

/* An INTEGER or ENUMERATED in 0..2^31-1 (message IDs, result codes). */
int
ber_int(const struct ber *v, long *n)
{
	size_t	i;

	if (v->len == 0 || v->len > 4 || (v->p[0] & 0x80))
		return -1;
	*n = 0;
	for (i = 0; i < v->len; i++)
		*n = *n << 8 | v->p[i];
	return 0;
}

/* An OCTET STRING's contents are s. */
int
ber_eq(const struct ber *v, const char *s)
{
	return v->len == strlen(s) && memcmp(v->p, s, v->len) == 0;
}

/* A string for the transcript: printable, shortened to fit. */
void
ber_text(const struct ber *v, char *buf, size_t size)
{
	size_t	i;

	for (i = 0; i < v->len && i + 1 < size; i++)
		buf[i] = v->p[i] >= 0x20 && v->p[i] < 0x7f ? (char)v->p[i] :
		    '?';
	buf[i] = '\0';
}

/* A whole LDAPMessage: SEQUENCE { messageID, protocolOp, controls }. */
int
ber_ldap_msg(const char *buf, size_t len, struct ldap_msg *m)
{
	struct ber	in = { (const unsigned char *)buf, len }, seq;
	unsigned	tag;

	if (ber_get(&in, &tag, &seq) == -1 || tag != 0x30 || in.len != 0 ||
	    ber_get(&seq, &tag, &m->rawid) == -1 || tag != 0x02 ||
	    ber_int(&m->rawid, &m->id) == -1 ||
	    ber_get(&seq, &m->op, &m->val) == -1)
		return -1;
	return 0;
}

static const struct {
	unsigned	 tag;
	unsigned	 response;	/* of a request: its result's tag */
	const char	*name;
} ops[] = {
	{ 0x60, 0x61, "BindRequest" }, { 0x61, 0, "BindResponse" },
	{ 0x42, 0, "UnbindRequest" }, { 0x63, 0x65, "SearchRequest" },
	{ 0x64, 0, "SearchResultEntry" }, { 0x65, 0, "SearchResultDone" },
	{ 0x73, 0, "SearchResultReference" }, { 0x66, 0x67, "ModifyRequest" },
	{ 0x67, 0, "ModifyResponse" }, { 0x68, 0x69, "AddRequest" },
	{ 0x69, 0, "AddResponse" }, { 0x4a, 0x6b, "DelRequest" },
	{ 0x6b, 0, "DelResponse" }, { 0x6c, 0x6d, "ModifyDNRequest" },
	{ 0x6d, 0, "ModifyDNResponse" }, { 0x6e, 0x6f, "CompareRequest" },
	{ 0x6f, 0, "CompareResponse" }, { 0x50, 0, "AbandonRequest" },
	{ 0x77, 0x78, "ExtendedRequest" }, { 0x78, 0, "ExtendedResponse" },
	{ 0x79, 0, "IntermediateResponse" }
};

/* For the transcript. */
const char *
ldap_op_name(unsigned op)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].tag == op)
			return ops[i].name;
	return "an unknown operation";
}

/* The tag of a request's result (RFC 4511 4.2-4.12), 0 if it has none. */
unsigned
ldap_op_response(unsigned op)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].tag == op)
			return ops[i].response;
	return 0;
}
