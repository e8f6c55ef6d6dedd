/* events.h — GET /v1/events: the dashboard's live feed as server-sent
 * events (events.c). */
#ifndef SN_SUBNODE_MANAGER_EVENTS_H
#define SN_SUBNODE_MANAGER_EVENTS_H

#include <microhttpd.h>
#include "manager/api.h"

/* At most max streams open at once; stop: set when the server stops
 * (each stream ends within a second). */
void events_setup(int max, volatile int *stop);
/* Answer the request with a stream (200), or 503 when max are open. The
 * caller has checked the token. */
enum MHD_Result events_start(struct MHD_Connection *conn, struct mgr_api *api);

#endif
