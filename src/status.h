/* Exit statuses, as the man page's EXIT STATUS section defines them. */
#ifndef STATUS_H
#define STATUS_H

enum {
	STATUS_OK = 0,
	STATUS_IO = 1,		/* I/O error after set-up, or truncation */
	STATUS_USAGE = 2,	/* bad option, address or file */
	STATUS_CONNECT = 3,	/* could not connect, listen or open */
	STATUS_NEGOTIATION = 4,	/* the clear-text opening failed */
	STATUS_HANDSHAKE = 5,	/* TLS handshake failed or timed out */
	STATUS_VERIFY = 6	/* the peer certificate did not verify */
};

#endif
