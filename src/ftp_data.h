/*
 * An FTP data connection through the relay, for PROT P (src/ftp_data.c):
 * a listener of ours next to the FTP client's control connection, for one
 * connection from that client's address, and a connection to the FTP
 * server's data port (the other way round in active mode); TLS on the TLS
 * side; the bytes pumped between the two until both directions have
 * ended.
 */
#ifndef FTP_DATA_H
#define FTP_DATA_H

#include <stddef.h>

struct session;
struct ftp_data;

/*
 * For the data port of the session's FTP server, or of its FTP client if
 * active (PORT, EPRT): the address and port of the listener for the other
 * one.  The session holds it as s->data until it ends, on its own or
 * closed.  0, or a libuv error and err.  name: the TLS server's name to
 * verify, kept.
 */
int	 ftp_data_new(struct session *, unsigned port, int active,
	    const char *name, char *ip, size_t, unsigned *lport, char *err,
	    size_t);
/* End it now (a reset); cb, if not NULL, once all is released. */
void	 ftp_data_close(struct ftp_data *, void (*)(void *), void *);

#endif
