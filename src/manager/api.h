/* api.h — the manager's HTTP/JSON API as a transport-free function: a
 * request (method, path, query, bearer token, body) in, a status and a body
 * out. The server program (src/cli/subnode-manager) only moves bytes; the
 * routes, their authentication and their errors are here, testable without
 * a socket. Routes: docs/API.md, Manager.
 *
 * Authentication: admin routes take `Authorization: Bearer <admin token>`;
 * a node's own routes take its credential (or the admin token); join takes
 * the join token; the dashboard's reads (GETs of nodes, chains, epoch,
 * log, verify, dashboard) take the admin token, or none at all when
 * public_read is set. Tokens are compared in constant time. Errors are
 * {"message": "..."} with 400 (bad input, naming the field), 401 (no or
 * bad token), 404, 409 (duplicate, not allowed in this state, no room),
 * 410 (a node that has left), 500.
 */
#ifndef SN_MANAGER_API_H
#define SN_MANAGER_API_H

#include <stdbool.h>
#include <stddef.h>
#include "manager/manager.h"

struct mgr_api {
	struct mgr *m;
	char admin_token[128];
	char join_token[128];
	int max_wait_ms;     /* the longest a desired-subnodes watch is held (30000) */
	bool public_read;    /* the dashboard's reads need no token (--public-read) */
};

struct mgr_req {
	const char *method;
	const char *path;            /* without the query */
	const char *(*query)(void *ctx, const char *key);  /* NULL when absent */
	void *query_ctx;
	const char *bearer;          /* NULL when no Authorization: Bearer */
	const char *body;
	size_t body_len;
};

struct mgr_resp {
	int status;
	char *body;                  /* malloc'ed */
	const char *content_type;    /* static */
};

/* May req's caller use its route? Decided on the method, path and token
 * alone, before a body is read: 0, or an -errno with the answer in resp
 * (401 for a missing or bad token, 404 or 405 when no route matches). */
int mgr_api_authorize(struct mgr_api *a, const struct mgr_req *req, struct mgr_resp *resp);
/* Always fills resp (errors too); never fails itself. */
void mgr_api_handle(struct mgr_api *a, const struct mgr_req *req, struct mgr_resp *resp);
/* May a request with this bearer (NULL: none) read what the dashboard
 * shows? 0, or -EACCES with the message a 401 carries. */
int mgr_api_may_view(struct mgr_api *a, const char *bearer, struct sn_err *err);
/* HTTP status of an -errno of manager.h. */
int mgr_api_status(int err);

#endif
