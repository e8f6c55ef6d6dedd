/* conn.h — the state of an HTTP connection that a handler about to wait
 * needs: has the client gone, is it a TLS connection (served in place),
 * what to wait for, and waiting in place (see conn.c). */
#ifndef SN_API_CONN_H
#define SN_API_CONN_H

#include "hub.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>

/* Has the client hung up? (no wait) */
bool api_client_gone(struct MHD_Connection *c);
/* Is c a connection of a TLS listener (a thread of its own, on which
 * libmicrohttpd 0.9.75 does not resume a connection suspended from the
 * access handler: operations run in place and waits block there)? */
bool api_conn_tls(struct MHD_Connection *c);
/* An empty want (no fd, no event, no timeout). */
struct hub_want api_want(void);
/* Add the client's hangup to w (its last free fd slot). */
void api_want_hangup(struct hub_want *w, struct MHD_Connection *c);
/* Block until w happens or the client hangs up (w->event: at most 200
 * ms, nothing tells this thread of the daemon's events). */
void api_block_wait(struct MHD_Connection *c, const struct hub_want *w);
/* MHD_OPTION_EXTERNAL_LOGGER: libmicrohttpd's messages as debug lines. */
void api_mhd_log(void *cls, const char *fmt, va_list ap);

#endif
