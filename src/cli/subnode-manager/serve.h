/* serve.h — the HTTP server of `subnode-manager serve` (serve.c). */
#ifndef SN_SUBNODE_MANAGER_SERVE_H
#define SN_SUBNODE_MANAGER_SERVE_H

#include "api/limits.h"
#include "base/err.h"
#include "manager/api.h"

/* Serve api on the listening socket until SIGTERM/SIGINT, with the limits
 * lim (api/limits.h), running the failure detector meanwhile; at most
 * events_max event streams at once. */
int serve_run(struct mgr_api *api, const struct api_limits *lim, int listen_fd, int events_max,
	      struct sn_err *err);

#endif
