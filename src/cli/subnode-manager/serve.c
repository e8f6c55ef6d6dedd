/* serve.c — `subnode-manager serve`: the manager's API over HTTP on TCP.
 *
 * The routes are src/manager/api.c; this file moves bytes: libmicrohttpd
 * with a thread per connection (a desired-subnodes watch blocks its own
 * connection's thread for up to 30 s; nothing else waits), request bodies
 * up to 1 MiB (read only once the token was found good: first_call), the
 * listener's limits of api/limits.h (--http-timeout,
 * --http-client-connections, --http-max-args; the same defaults as
 * subnoded), and a tick thread that runs the failure detector four times
 * a second. A thread per connection is the plainest correct server for
 * now (its cost: one thread per node's watch; fine for tests and small
 * networks, not for 10,000 nodes). Request bodies and
 * query arguments go through src/api's helpers (request.h); the hub and
 * its workers wait on file descriptors, while a watch waits on the store's
 * condition variable — moving the watch onto the hub needs the store to
 * signal an fd (an eventfd per watcher), the next step.
 *
 * Besides the API: the dashboard's page and files at / and /ui/ (web.c,
 * built into the binary), its live feed at /v1/events (events.c), and the
 * Content-Security-Policy and other headers of web.h on every response.
 */
#include "serve.h"
#include "events.h"
#include "web.h"
#include "api/limits.h"
#include "api/request.h"
#include "base/cleanup.h"
#include "base/log.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (1 << 20)

static const char *query_get(void *ctx, const char *key)
{
	return api_arg(ctx, key);
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct mgr_resp *r)
{
	size_t len = r->body ? strlen(r->body) : 0;
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, r->body ? r->body : (char *)"",
								    r->body ? MHD_RESPMEM_MUST_FREE :
								    MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(r->body);
		return MHD_NO;
	}
	return web_queue(conn, (unsigned)r->status, resp, r->content_type, false);
}

/* {"message": msg} with status. */
static enum MHD_Result send_message(struct MHD_Connection *conn, int status, const char *msg)
{
	struct mgr_resp r = { .status = status, .content_type = "application/json" };
	json_t *j = json_pack("{ss}", "message", msg);
	r.body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return r.body ? send_resp(conn, &r) : MHD_NO;
}

static enum MHD_Result send_asset(struct MHD_Connection *conn, const struct web_asset *a)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(a->len, (void *)a->data,
								    MHD_RESPMEM_PERSISTENT);
	return resp ? web_queue(conn, MHD_HTTP_OK, resp, a->type, true) : MHD_NO;
}

/* A request: its raw URI's verdict (api/limits.h), then its body. */
struct conn_req {
	struct api_uri_verdict verdict;
	bool seen, answered;
	struct api_body body;
};

static const char *bearer_of(struct MHD_Connection *conn)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	return auth && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line before it is decoded. */
static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
	const struct api_limits *lim = cls;
	struct conn_req *q = calloc(1, sizeof(*q));
	if (q)
		q->verdict = api_uri_check(uri, lim->max_args);
	return q;
}

/* The handler's first call, on the headers alone: a refused URI, then the
 * token (before any byte of the body is read: a 401 queued now makes
 * libmicrohttpd drop the body and close). */
static enum MHD_Result first_call(struct mgr_api *api, struct MHD_Connection *conn,
				  struct conn_req *q, const char *url, const char *method)
{
	q->seen = true;
	if (q->verdict.status) {
		q->answered = true;
		return api_send_verdict(conn, q->verdict);
	}
	/* the page's files and the event feed are not API routes: served
	 * (or refused) on the last call, and they carry no body */
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (get && (web_find(url) || strcmp(url, "/v1/events") == 0))
		return MHD_YES;
	struct mgr_req req = { .method = method, .path = url, .bearer = bearer_of(conn) };
	struct mgr_resp r;
	if (mgr_api_authorize(api, &req, &r) == 0)
		return MHD_YES;
	q->answered = true;
	return send_resp(conn, &r);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *data,
			       size_t *data_size, void **con_cls)
{
	struct mgr_api *api = cls;
	struct conn_req *q = *con_cls;
	if (!q && !(q = *con_cls = calloc(1, sizeof(*q))))
		return MHD_NO;
	struct api_body *up = &q->body;
	if (!q->seen)
		return first_call(api, conn, q, url, method);
	if (q->answered) {
		*data_size = 0;   /* answered already: the body goes nowhere */
		return MHD_YES;
	}
	if (*data_size) {
		if (api_body_append(up, MAX_BODY, data, *data_size) < 0)
			return MHD_NO;
		*data_size = 0;
		return MHD_YES;
	}
	if (up->too_big)
		return send_message(conn, 413, "request body: larger than 1 MiB");
	struct mgr_resp r = { 0 };
	const char *bearer = bearer_of(conn);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	const struct web_asset *file = get ? web_find(url) : NULL;
	if (file)
		return send_asset(conn, file);
	if (get && strcmp(url, "/v1/events") == 0) {
		struct sn_err err = { 0 };
		if (mgr_api_may_view(api, bearer && *bearer ? bearer : NULL, &err) == 0)
			return events_start(conn, api);
		return send_message(conn, 401, err.msg);
	}
	struct mgr_req req = { .method = method, .path = url, .query = query_get,
			       .query_ctx = conn, .bearer = bearer, .body = up->data,
			       .body_len = up->len };
	mgr_api_handle(api, &req, &r);   /* a watch holds this thread up to 30 s */
	api_conn_touch(conn);
	return send_resp(conn, &r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn_req *q = *con_cls;
	if (q) {
		api_body_free(&q->body);
		free(q);
		*con_cls = NULL;
	}
}

static volatile int stopping;   /* set by a signal; read by event streams too */

static void on_signal(int sig)
{
	stopping = 1;
}

int serve_run(struct mgr_api *api, const struct api_limits *lim, int listen_fd, int events_max,
	      struct sn_err *err)
{
	struct MHD_OptionItem lo[API_LIMITS_MHD_OPTIONS];
	api_limits_mhd_options(lim, true, lo);
	events_setup(events_max, &stopping);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL,
		0, NULL, NULL, handler, api, MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_URI_LOG_CALLBACK, uri_seen, (void *)lim,
		MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 << 10),
		MHD_OPTION_ARRAY, lo, MHD_OPTION_END);
	if (!d)
		return sn_err_msg(err, EIO, "serve: libmicrohttpd could not start");
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL)) {
		MHD_stop_daemon(d);
		return sn_err_sys(err, "sigaction");
	}
	while (!stopping) {
		struct sn_err terr = { 0 };
		if (mgr_tick(api->m, &terr))
			sn_warn("tick: %s", terr.msg);
		struct timespec ts = { 0, 250 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	sn_info("stopping");
	MHD_stop_daemon(d);
	return 0;
}
