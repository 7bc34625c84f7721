/*
 * What the session files share: session.c opens and ends a session,
 * opening.c feeds the protocol module and makes the switch, pump.c relays
 * between the two sides' transports.
 */
#ifndef SESSION_IMPL_H
#define SESSION_IMPL_H

#include <stdint.h>

#include "options.h"
#include "proto/proto.h"
#include "session.h"
#include "status.h"

struct side {
	struct session		*s;
	const struct address	*addr;
	struct stream		*st;	/* the stream under it all */
	struct transport	*tp;	/* what is pumped: st's, or TLS's */
	struct connector	*conn;	/* connect under way */
	int			 connected;	/* we connected to it */
	int			 begun;		/* it sent a byte, or we did */
	int			 reset;		/* connect() saw it reset */
	int			 in_done;	/* its input has ended */
	int			 out_done;	/* we ended its output */
	int			 paused;	/* not read: the sink is full */
	uint64_t		 relayed;	/* bytes relayed to this side */
	char			 name[340];	/* for messages */
};

struct session {
	uv_loop_t		*loop;
	const struct options	*o;
	struct tls_ctx		*tctx;
	struct tls		*tls;		/* for reports only */
	struct negotiation	*neg;		/* the STARTTLS opening */
	struct ftp_data		*data;		/* FTP: a data connection */
	struct side		 tside, pside;
	uv_timer_t		 timer;
	uint64_t		 last_active;
	uint64_t		 started;
	int			 established;
	int			 ending;
	struct side		*linger;	/* ending: its queue drains */
	int			 aborted;	/* SIGTERM: close_notify sent */
	int			 left_early;	/* client left with no data */
	int			 status;
	int			 closing;	/* handles still to close */
	char			 label[128];
	session_done_cb		 done_cb;
	void			*done_arg;
};

/* session.c */
void	 session_finish(struct session *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 session_end_linger(struct session *);
int	 session_unreached(struct side *, int);
int	 session_read_end(const struct side *, int);
const char *session_how_lost(const struct side *, int);
void	 session_on_timer(uv_timer_t *);

/* opening.c */
void	 opening_start(struct session *);
void	 opening_feed(struct side *, const uv_buf_t *, unsigned);

/* pump.c */
extern const struct transport_cbs pump_cbs;
void	 pump_written(void *, int);
void	 pump_relay(struct session *, int watched);
void	 pump_send(struct side *, char *, size_t);

#endif
