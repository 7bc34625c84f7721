/*
 * The protocol table (PROTO_MAP in proto.h) made into what the rest of
 * proto/ looks up: each protocol's name, its modules, its "unavailable".
 */
#include "config.h"

#include <stddef.h>

#include "proto_impl.h"

#define DECLARE_OPS(id, name, note, module, unavailable, flags)	\
	extern const struct proto_ops module##_client_ops,		\
	    module##_server_ops;
PROTO_MAP(DECLARE_OPS)

struct proto_def {
	const char		*name;
	const struct proto_ops	*ops[2];	/* by enum role */
	const char		*unavailable;
	size_t			 unavailable_len;
	unsigned		 flags;
};

/* sizeof: the binary replies hold NUL bytes. */
#define DEFINE(id, name, note, module, unavailable, flags)		\
	[PROTO_##id] = { name,						\
	    { &module##_client_ops, &module##_server_ops },		\
	    unavailable, sizeof(unavailable) - 1, flags },

static const struct proto_def registry[PROTO_END] = {
	[PROTO_NONE] = { "none", { NULL, NULL }, NULL, 0, 0 },
	PROTO_MAP(DEFINE)
};

static const struct proto_def *
lookup(enum proto proto)
{
	if ((unsigned)proto >= PROTO_END)
		return NULL;
	return &registry[proto];
}

const char *
proto_name(enum proto proto)
{
	const struct proto_def	*d = lookup(proto);

	return d != NULL ? d->name : NULL;
}

/* NULL for none: TLS from the first byte has no module. */
const struct proto_ops *
proto_ops_of(enum proto proto, enum role role)
{
	const struct proto_def	*d = lookup(proto);

	if (d == NULL || (unsigned)role > ROLE_SERVER)
		return NULL;
	return d->ops[role];
}

unsigned
proto_flags(enum proto proto)
{
	const struct proto_def	*d = lookup(proto);

	return d != NULL ? d->flags : 0;
}

/* Server role: what a client is told when the backend cannot be reached. */
const char *
proto_unavailable(enum proto proto)
{
	const struct proto_def	*d = lookup(proto);

	return d != NULL ? d->unavailable : NULL;
}

/* Its length: binary ones hold NUL bytes. */
size_t
proto_unavailable_len(enum proto proto)
{
	const struct proto_def	*d = lookup(proto);

	return d != NULL ? d->unavailable_len : 0;
}
