/*
 * A small bounded XML tokenizer for the XMPP stream opening (RFC 6120):
 * tags with attributes in either quote style, namespaces resolved by
 * prefix, text between tags.  Comments, CDATA, DTDs and processing
 * instructions other than the XML declaration are refused, as XMPP does.
 */
#ifndef XML_H
#define XML_H

#include <stddef.h>

#include "proto_impl.h"

#define XML_MAX_TAG	 4096	/* one tag with its attributes */
#define XML_MAX_DEPTH	 16
#define XML_MAX_NAME	 64	/* a qualified name */
#define XML_MAX_NS	 256	/* a namespace name */
#define XML_MAX_ATTRS	 16
#define XML_MAX_BINDINGS 32

#define NS_STREAMS	"http://etherx.jabber.org/streams"
#define NS_TLS		"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_STREAM_ERR	"urn:ietf:params:xml:ns:xmpp-streams"

enum xml_kind { XML_DECL, XML_TEXT, XML_START, XML_END };

struct xml_attr {
	const char	*name, *value;	/* raw, as in the input */
	size_t		 nlen, vlen;
};

struct xml_token {
	enum xml_kind	 kind;
	int		 empty;		/* START: <x/>, no END follows */
	int		 blank;		/* TEXT: white space only */
	int		 depth;		/* START, END: 1 for the root;
					   TEXT: its element's */
	const char	*local;		/* START, END: the local name */
	size_t		 llen;
	const char	*ns;		/* its namespace, "" for none */
	struct xml_attr	 attrs[XML_MAX_ATTRS];
	int		 nattrs;
};

struct xml_frame {
	char	name[XML_MAX_NAME + 1];
	char	ns[XML_MAX_NS + 1];
};

struct xml_binding {
	int	depth;
	char	prefix[XML_MAX_NAME + 1];
	char	uri[XML_MAX_NS + 1];
};

struct xml {
	int			 depth;
	int			 started;	/* a token was read */
	struct xml_frame	 frames[XML_MAX_DEPTH];
	struct xml_binding	 b[XML_MAX_BINDINGS];
	int			 nb;
};

int	 xml_next(struct xml *, const char *, size_t, struct xml_token *,
	    size_t *, char *, size_t);
int	 xml_is(const struct xml_token *, const char *, const char *);
int	 xml_attr(const struct xml_token *, const char *, const char **,
	    size_t *);
int		 xmpp_safe_name(const char *, size_t);
int		 xmpp_version1(const struct xml_token *);
void	 xmpp_send(struct negotiation *, struct proto_out *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 xmpp_log(struct negotiation *, struct proto_out *, const char *,
	    size_t);

#endif
