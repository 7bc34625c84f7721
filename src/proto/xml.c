/* The XML of the XMPP stream opening: a bounded tokenizer (see xml.h). */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A name ends at white space, '/', '>', '=', a quote, '<', '&' or NUL. */
static size_t
name_len(const char *s, size_t len)
{
	size_t	n = 0;

	while (n < len && !is_space(s[n]) && strchr("/>='\"<&", s[n]) == NULL)
		n++;
	return n;
}

static int
bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static void
pop(struct xml *x)
{
	x->depth--;
	while (x->nb > 0 && x->b[x->nb - 1].depth > x->depth)
		x->nb--;
}

static int
bind(struct xml *x, const char *prefix, size_t plen, const struct xml_attr *a,
    char *why, size_t whylen)
{
	struct xml_binding	*b;

	if (plen > XML_MAX_NAME)
		return bad(why, whylen, "a name longer than %d bytes",
		    XML_MAX_NAME);
	if (a->vlen > XML_MAX_NS)
		return bad(why, whylen, "a namespace name longer than %d bytes",
		    XML_MAX_NS);
	if (x->nb == XML_MAX_BINDINGS)
		return bad(why, whylen, "more than %d namespace declarations",
		    XML_MAX_BINDINGS);
	b = &x->b[x->nb++];
	b->depth = x->depth;
	memcpy(b->prefix, prefix, plen);
	b->prefix[plen] = '\0';
	memcpy(b->uri, a->value, a->vlen);
	b->uri[a->vlen] = '\0';
	return 0;
}

/* The element's namespace, by its prefix, from the innermost binding. */
static int
resolve(struct xml *x, struct xml_frame *f, struct xml_token *t, char *why,
    size_t whylen)
{
	char	*colon = strchr(f->name, ':');
	size_t	 plen = colon != NULL ? (size_t)(colon - f->name) : 0;
	int	 i;

	t->local = colon != NULL ? colon + 1 : f->name;
	t->llen = strlen(t->local);
	for (i = x->nb - 1; i >= 0; i--)
		if (strlen(x->b[i].prefix) == plen &&
		    strncmp(x->b[i].prefix, f->name, plen) == 0)
			break;
	if (i < 0 && plen > 0)
		return bad(why, whylen, "the prefix of <%s> is not declared",
		    f->name);
	snprintf(f->ns, sizeof(f->ns), "%s", i < 0 ? "" : x->b[i].uri);
	t->ns = f->ns;
	return 0;
}

/* s: the tag between '<' and '>'. */
static int
start_tag(struct xml *x, const char *s, size_t n, struct xml_token *t,
    char *why, size_t whylen)
{
	struct xml_frame	*f;
	struct xml_attr		*a;
	const char		*v;
	size_t			 nl, i;
	char			 q;

	if ((t->empty = n > 0 && s[n - 1] == '/'))
		n--;
	if ((nl = name_len(s, n)) == 0)
		return bad(why, whylen, "a tag without a name");
	if (nl > XML_MAX_NAME)
		return bad(why, whylen, "a name longer than %d bytes",
		    XML_MAX_NAME);
	for (i = nl; i < n; ) {
		if (!is_space(s[i]))
			return bad(why, whylen, "malformed attributes");
		while (i < n && is_space(s[i]))
			i++;
		if (i == n)
			break;
		if (t->nattrs == XML_MAX_ATTRS)
			return bad(why, whylen, "more than %d attributes",
			    XML_MAX_ATTRS);
		a = &t->attrs[t->nattrs++];
		a->name = s + i;
		if ((a->nlen = name_len(s + i, n - i)) == 0)
			return bad(why, whylen, "malformed attributes");
		for (i += a->nlen; i < n && is_space(s[i]); i++)
			;
		if (i == n || s[i++] != '=')
			return bad(why, whylen, "an attribute without a value");
		while (i < n && is_space(s[i]))
			i++;
		if (i == n || (s[i] != '"' && s[i] != '\''))
			return bad(why, whylen, "an attribute value without "
			    "quotes");
		q = s[i++];
		if ((v = memchr(s + i, q, n - i)) == NULL)
			return bad(why, whylen, "an unterminated attribute");
		a->value = s + i;
		a->vlen = (size_t)(v - (s + i));
		i = (size_t)(v - s) + 1;
	}
	if (x->depth == XML_MAX_DEPTH)
		return bad(why, whylen, "elements nested deeper than %d",
		    XML_MAX_DEPTH);
	f = &x->frames[x->depth++];
	memcpy(f->name, s, nl);
	f->name[nl] = '\0';
	for (int k = 0; k < t->nattrs; k++) {
		a = &t->attrs[k];
		if (a->nlen == 5 && strncmp(a->name, "xmlns", 5) == 0 &&
		    bind(x, "", 0, a, why, whylen) == -1)
			return -1;
		if (a->nlen > 6 && strncmp(a->name, "xmlns:", 6) == 0 &&
		    bind(x, a->name + 6, a->nlen - 6, a, why, whylen) == -1)
			return -1;
	}
	if (resolve(x, f, t, why, whylen) == -1)
		return -1;
	t->kind = XML_START;
	t->depth = x->depth;
	if (t->empty)
		pop(x);
	return 1;
}

static int
end_tag(struct xml *x, const char *s, size_t n, struct xml_token *t,
    char *why, size_t whylen)
{
	struct xml_frame	*f;
	const char		*colon;
	size_t			 nl;

	while (n > 0 && is_space(s[n - 1]))
		n--;
	if ((nl = name_len(s, n)) != n || n == 0)
		return bad(why, whylen, "a malformed end tag");
	if (x->depth == 0)
		return bad(why, whylen, "an end tag outside the stream");
	f = &x->frames[x->depth - 1];
	if (strlen(f->name) != n || strncmp(f->name, s, n) != 0)
		return bad(why, whylen, "</%.*s> closes <%s>", (int)n, s,
		    f->name);
	t->kind = XML_END;
	t->depth = x->depth;
	t->ns = f->ns;
	t->local = (colon = strchr(f->name, ':')) != NULL ? colon + 1 : f->name;
	t->llen = strlen(t->local);
	pop(x);
	return 1;
}

/*
 * The next token in s: 1 and its length in *used, 0 if it is not all
 * there yet, -1 if it is malformed or too big (why says which).
 */
int
xml_next(struct xml *x, const char *s, size_t len, struct xml_token *t,
    size_t *used, char *why, size_t whylen)
{
	const char	*lt;
	size_t		 gt, i;
	char		 q = 0;
	int		 first = !x->started;

	memset(t, 0, sizeof(*t));
	if (len == 0)
		return 0;
	x->started = 1;
	if (s[0] != '<') {
		lt = memchr(s, '<', len);
		*used = lt != NULL ? (size_t)(lt - s) : len;
		t->kind = XML_TEXT;
		t->depth = x->depth;
		t->blank = 1;
		for (i = 0; i < *used; i++)
			if (!is_space(s[i]))
				t->blank = 0;
		if (!t->blank && x->depth == 0)
			return bad(why, whylen, "text outside the stream");
		return 1;
	}
	for (gt = 1; gt < len && gt < XML_MAX_TAG; gt++) {
		if (q != 0) {
			if (s[gt] == q)
				q = 0;
			else if (s[gt] == '<')
				return bad(why, whylen, "'<' in an attribute");
		} else if (s[gt] == '"' || s[gt] == '\'')
			q = s[gt];
		else if (s[gt] == '>')
			break;
		else if (s[gt] == '<')
			return bad(why, whylen, "'<' inside a tag");
	}
	if (gt == XML_MAX_TAG)
		return bad(why, whylen, "a tag longer than %d bytes",
		    XML_MAX_TAG);
	if (gt == len) {
		x->started = !first;
		return 0;
	}
	*used = gt + 1;
	switch (s[1]) {
	case '?':
		if (!first || gt < 6 || strncmp(s, "<?xml", 5) != 0 ||
		    !is_space(s[5]) || s[gt - 1] != '?')
			return bad(why, whylen, "a processing instruction");
		t->kind = XML_DECL;
		return 1;
	case '!':
		return bad(why, whylen, "a comment, CDATA or DTD");
	case '/':
		return end_tag(x, s + 2, gt - 2, t, why, whylen);
	default:
		return start_tag(x, s + 1, gt - 1, t, why, whylen);
	}
}

int
xml_is(const struct xml_token *t, const char *ns, const char *local)
{
	return t->ns != NULL && strcmp(t->ns, ns) == 0 &&
	    t->llen == strlen(local) && strncmp(t->local, local, t->llen) == 0;
}

/* The raw value of the attribute with this (qualified) name. */
int
xml_attr(const struct xml_token *t, const char *name, const char **v,
    size_t *vlen)
{
	for (int i = 0; i < t->nattrs; i++)
		if (t->attrs[i].nlen == strlen(name) &&
		    strncmp(t->attrs[i].name, name, t->attrs[i].nlen) == 0) {
			*v = t->attrs[i].value;
			*vlen = t->attrs[i].vlen;
			return 1;
		}
	return 0;
}

/* A stream header of XMPP 1.0 or later: before it, no STARTTLS. */
int
xmpp_version1(const struct xml_token *t)
{
	const char	*v;
	size_t		 vlen;

	return xml_attr(t, "version", &v, &vlen) && vlen >= 2 &&
	    v[0] >= '1' && v[0] <= '9' && v[1] == '.';
}

/*
 * A name we may put in a stream header's 'to' or 'from' as it is: a domain
 * or an address, nothing XML would read as markup.
 */
int
xmpp_safe_name(const char *s, size_t len)
{
	static const char	safe[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]";

	if (len == 0 || len > 255)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (strchr(safe, s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

/* XML of ours for the TLS-side peer: no line end, which TLS would get. */
void
xmpp_send(struct negotiation *p, struct proto_out *out, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pbuf_str(&out->to_tls, buf);
	pbuf_str(&out->log, p->cfg.role == ROLE_CLIENT ? "C: " : "S: ");
	pbuf_str(&out->log, buf);
	pbuf_add(&out->log, "\n", 1);
}

/* A tag from the TLS-side peer, in the transcript. */
void
xmpp_log(struct negotiation *p, struct proto_out *out, const char *s,
    size_t n)
{
	pbuf_str(&out->log, p->cfg.role == ROLE_CLIENT ? "S: " : "C: ");
	for (size_t i = 0; i < n && i < 200; i++)
		pbuf_add(&out->log, isprint((unsigned char)s[i]) ? &s[i] : "?",
		    1);
	pbuf_add(&out->log, "\n", 1);
}
