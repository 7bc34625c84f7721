/*
 * FTP inside TLS, both roles (proto/ftp_inside.c): the control connection
 * watched for the whole session, and its data connections.
 */
#ifndef FTP_INSIDE_H
#define FTP_INSIDE_H

#include "proto_impl.h"

/* The first member of both modules' state (p->priv). */
struct ftp_in {
	struct cmdq	 q;
	int		 multi;		/* a multi-line reply's code */
	int		 feat_list;	/* the FEAT reply is a 211 list */
	int		 pbsz;		/* server role: PBSZ came */
	int		 relay_data;	/* PROT P: data goes through us */
	int		 pending;	/* proto_data_ready() is due */
	int		 active;	/* for PORT or EPRT (else PASV,
					   EPSV) */
	int		 epsv;		/* for a 229 reply, not 227 */
	struct pbuf	 held;		/* the other side's lines
					   meanwhile: the client's if
					   active, else the server's */
};

/* Client role: PBSZ 0 and PROT P go first, then the greeting. */
void	 ftp_in_setup(struct negotiation *, struct proto_out *);
void	 ftp_in_tls(struct negotiation *, const struct iline *,
	    struct proto_out *);
void	 ftp_in_plain(struct negotiation *, const struct iline *,
	    struct proto_out *);
void	 ftp_in_free(struct negotiation *);

#endif
