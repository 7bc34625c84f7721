/*
 * libFuzzer target for one STARTTLS state machine in one role, chosen at
 * build time (FUZZ_PROTO, FUZZ_ROLE).  The input is a list of chunks, each
 * a control byte (bit 7: from the plain side; bits 0-6: length) and its
 * bytes, after a first byte of flags (1: --opportunistic, 2: --allow-plain),
 * fed until the machine switches, fails or falls back.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
finished(struct proto_out *out)
{
	int	end = out->start_tls || out->fail || out->fallback;

	proto_out_free(out);
	return end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_cfg	 cfg = { FUZZ_PROTO, FUZZ_ROLE, "localhost",
				    "localhost", size > 0 && data[0] & 1,
				    size > 0 && data[0] & 2, 0 };
	struct negotiation	*p;
	struct proto_out	 out;
	size_t			 i = 1, len;	/* data[0]: the flags */
	int			 plain, end;

	if ((p = proto_new(&cfg)) == NULL)
		return 0;
	proto_out_init(&out);
	proto_start(p, &out);
	end = finished(&out);
	while (!end && i < size) {
		plain = data[i] & 0x80;
		len = data[i] & 0x7f;
		i++;
		if (len > size - i)
			len = size - i;
		proto_out_init(&out);
		if (plain && FUZZ_ROLE == ROLE_SERVER)
			proto_from_plain(p, (const char *)data + i, len, &out);
		else
			proto_from_tls(p, (const char *)data + i, len, &out);
		i += len;
		end = finished(&out);
	}
	proto_out_init(&out);
	proto_established(p, &out);
	proto_out_free(&out);
	proto_free(p);
	return 0;
}
