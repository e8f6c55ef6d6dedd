/* api.c — the HTTP/JSON API: routing Docker Engine API shapes onto node.h.
 *
 * Threads. libmicrohttpd runs a pool of API_HTTP_THREADS threads over epoll
 * (MHD_OPTION_THREAD_POOL_SIZE) for the unix socket's (and plain TCP's)
 * connections; they never block. The TLS listener is served a thread per
 * connection (at most 64), because an upgraded TLS stream must be relayed
 * in its upgrade callback (api_exec.c); there, deferred operations run in
 * place and waits block (in_place below). Otherwise a request is served in
 * one of three ways:
 *
 *  - inline, on the HTTP thread: what takes microseconds to a few
 *    milliseconds and never waits on anything but the node lock — ping,
 *    version, info, ps, inspect, image list, exec create/inspect, resize,
 *    the start of a stream;
 *  - deferred (api_defer): what may block — create, start, stop (up to its
 *    timeout), kill, restart, remove, exec start, image import/remove —
 *    runs on a worker of a bounded pool (api/workers.c) with the connection
 *    suspended; the worker resumes it and the HTTP thread sends the result.
 *    Three pools: operations of a moment; those that last as long as a
 *    client's process or file does (exec output, import from a path; each
 *    ended when its client leaves); and stop, kill and restart, with a
 *    thread for each subnode, so that no other work can keep them waiting.
 *    A pool whose threads are all taken and whose queue is full answers
 *    503 with Retry-After rather than queueing without bound;
 *  - waiting (api_wait, api_stream_wait): streams (`logs -f`, `events`,
 *    `stats`, pull progress, image upload) and `wait` suspend their
 *    connection between chunks and register with the hub (api/hub.c) what
 *    would let them go on; no thread is held meanwhile.
 *
 * Upgraded connections (exec and attach: docker's hijack) are relayed by a
 * thread each, until the process or terminal ends (api_exec.c).
 *
 * Memory per connection: libmicrohttpd's pool is 16 KiB (headers and the
 * write buffer; the default 32 KiB was mostly unused), streams hand it
 * 4 KiB at a time. With 70 `logs -f` open the daemon grows by ~1.8 MiB.
 *
 * On TCP the bearer token is checked on the handler's first call, on the
 * headers alone: a refusal is a 401 queued before the body, which
 * libmicrohttpd then never reads (and the connection closes). Limits of
 * the listeners (timeout, per-client connections, query arguments):
 * api/limits.c, from the config's http_* keys.
 *
 * Request bodies are collected up to 1 MiB, then parsed as JSON — except
 * an image upload (`POST /images/load` without `path`), streamed into the
 * image tool (api_images.c). Paths may carry a version prefix
 * (/v1.41/containers/json), as Docker clients send; what makes Docker's
 * clients work (the versions, Docker's create body, its image shapes)
 * lives in docker_*.c behind docker.h. Errors are
 * {"message": "..."} with the status from the errno: EINVAL 400,
 * EACCES/EPERM 403, ENOENT 404, EEXIST/EBUSY/ENOSPC 409, others 500. See
 * docs/API.md.
 *
 * Stopping: the node's `stopping` flag ends relays and streams, the hub
 * resumes every waiting connection (libmicrohttpd aborts when stopped with
 * one suspended), running operations finish, then the listeners close.
 */
#include "api_internal.h"
#include "docker.h"
#include "api/grants.h"
#include "node/exec.h"
#include "node/logs.h"
#include "node/network.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/clock.h"
#include "base/log.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_HTTP_THREADS 2u
#define API_WORKERS_MAX 8u
#define API_WORKERS_IDLE_S 1u
#define API_QUEUE_MAX 64u        /* operations of a moment waiting for a worker */
#define API_SLOW_QUEUE_MAX 8u    /* exec output, imports: they may last as long as a client likes */
#define API_CONTROL_MAX 128u     /* stop, kill, restart: one per subnode at once, never behind others */

enum MHD_Result api_send_result(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	if (rq->r < 0)
		return api_send_err(c, rq->r, &rq->e);
	unsigned st = rq->status ? rq->status : MHD_HTTP_OK;
	if (rq->out)
		return api_send_json(c, st, steal_ptr(rq->out));
	return api_send_empty(c, st);
}

/* ---- serving: deferred, waiting */

bool api_stopping(struct api *a)
{
	return __atomic_load_n(&a->n->stopping, __ATOMIC_RELAXED) != 0;
}

static void run_work(struct work *w)
{
	struct req *rq = (struct req *)((char *)w - offsetof(struct req, work));
	rq->fn(rq->a, rq);
}

static enum MHD_Result defer(struct workers *p, struct MHD_Connection *c, struct req *rq,
			     api_work_fn fn, api_cont_fn cont)
{
	rq->fn = fn;
	rq->cont = cont ? cont : api_send_result;
	if (api_conn_tls(c)) {
		fn(rq->a, rq);
		api_conn_touch(c);
		api_cont_fn k = rq->cont;
		rq->cont = NULL;
		return k(rq->a, c, rq);
	}
	if (workers_full(p))
		return api_send_busy(c, 1, "the daemon is busy: every worker of this kind of operation "
				     "is taken and the queue is full; retry");
	rq->work.fn = run_work;
	rq->work.c = c;
	MHD_suspend_connection(c);
	workers_submit(p, &rq->work);
	return MHD_YES;
}

enum MHD_Result api_defer(struct api *a, struct MHD_Connection *c, struct req *rq, api_work_fn fn,
			  api_cont_fn cont)
{
	return defer(a->workers, c, rq, fn, cont);
}

enum MHD_Result api_defer_slow(struct api *a, struct MHD_Connection *c, struct req *rq,
			       api_work_fn fn, api_cont_fn cont)
{
	return defer(a->slow, c, rq, fn, cont);
}

enum MHD_Result api_defer_control(struct api *a, struct MHD_Connection *c, struct req *rq,
				  api_work_fn fn, api_cont_fn cont)
{
	return defer(a->control, c, rq, fn, cont);
}

enum MHD_Result api_wait(struct api *a, struct MHD_Connection *c, struct req *rq,
			 struct hub_want *w, api_cont_fn cont)
{
	if (api_stopping(a))
		return api_send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the daemon is stopping");
	if (api_conn_tls(c)) {
		api_block_wait(c, w);
		api_conn_touch(c);
		return cont(a, c, rq);
	}
	rq->cont = cont;
	api_suspend(a, c, w);
	return MHD_YES;
}

bool api_suspend(struct api *a, struct MHD_Connection *c, struct hub_want *w)
{
	if (api_stopping(a))
		return false;
	if (api_conn_tls(c)) {
		api_block_wait(c, w);
		api_conn_touch(c);
		return true;
	}
	api_want_hangup(w, c);
	MHD_suspend_connection(c);
	hub_wait(a->hub, c, w);
	return true;
}

ssize_t api_stream_wait(struct api *a, struct MHD_Connection *c, struct hub_want *w)
{
	return api_suspend(a, c, w) ? 0 : (ssize_t)MHD_CONTENT_READER_END_WITH_ERROR;
}

/* ---- containers */

static void work_create(struct api *a, struct req *rq)
{
	rq->r = node_create(a->n, rq->arg1, rq->in, rq->flag, &rq->out, &rq->e);
	rq->status = MHD_HTTP_CREATED;
}

/* POST /containers/create: Docker's body mapped onto the node's
 * (docker_create.c), then validated by the node. */
static enum MHD_Result h_create(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	_cleanup_json_ json_t *body = NULL;
	int r = sn_json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, "request body", &body,
			      &rq->e);
	if (r < 0 || (r = docker_create_body(a->n, body, &rq->in, &rq->e)) < 0)
		return api_send_err(c, r, &rq->e);
	const char *name = api_arg(c, "name");
	if (name && !(rq->arg1 = strdup(name)))
		return api_send_error(c, 500, "out of memory");
	rq->flag = api_arg_bool(c, "start");
	return api_defer(a, c, rq, work_create, NULL);
}

static void work_update(struct api *a, struct req *rq)
{
	rq->r = node_net_update(a->n, rq->id, rq->in, &rq->e);
	if (rq->r == 0)
		rq->out = json_pack("{s:[]}", "Warnings");
	rq->status = MHD_HTTP_OK;
}

/* POST /containers/{id}/update: a live allow-list (network.c). */
static enum MHD_Result h_update(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	int r = sn_json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, "request body", &rq->in,
			      &rq->e);
	if (r < 0)
		return api_send_err(c, r, &rq->e);
	return api_defer(a, c, rq, work_update, NULL);
}

enum lifecycle_verb { V_REMOVE, V_START, V_STOP, V_KILL, V_RESTART };

static void work_lifecycle(struct api *a, struct req *rq)
{
	struct node *n = a->n;
	int t = (int)rq->num;   /* -1: the subnode's own stop timeout */
	switch ((enum lifecycle_verb)rq->kind) {
	case V_REMOVE: rq->r = node_remove(n, rq->id, rq->flag, &rq->e); break;
	case V_START: rq->r = node_start(n, rq->id, &rq->e); break;
	case V_STOP: rq->r = node_stop(n, rq->id, rq->arg1, t, &rq->e); break;
	case V_KILL: rq->r = node_kill(n, rq->id, rq->arg1, &rq->e); break;
	case V_RESTART: rq->r = node_restart(n, rq->id, t, &rq->e); break;
	}
	rq->status = rq->r == 1 ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_NO_CONTENT;
}

static enum MHD_Result h_lifecycle(struct api *a, struct MHD_Connection *c, struct req *rq,
				   enum lifecycle_verb v)
{
	long t = api_arg_long(c, "t");
	if (t == -2 || t > 3600)
		return api_send_error(c, 400, "t: must be a number of seconds (0..3600)");
	const char *sig = api_arg(c, "signal");
	if (sig && !(rq->arg1 = strdup(sig)))
		return api_send_error(c, 500, "out of memory");
	rq->kind = v;
	rq->num = t;
	rq->flag = v == V_REMOVE && api_arg_bool(c, "force");
	if (v == V_STOP || v == V_RESTART || v == V_KILL)
		return api_defer_control(a, c, rq, work_lifecycle, NULL);
	return api_defer(a, c, rq, work_lifecycle, NULL);
}

static enum MHD_Result h_container(struct api *a, struct MHD_Connection *c, struct req *rq,
				   const char *method, const char *verb)
{
	struct sn_err e = { 0 };
	int r;
	json_t *out = NULL;
	const char *id = rq->id;
	if (!verb && strcmp(method, "DELETE") == 0)
		return h_lifecycle(a, c, rq, V_REMOVE);
	if (!verb)
		return api_send_error(c, 404, "page not found");
	if (strcmp(method, "GET") == 0) {
		if (strcmp(verb, "json") == 0) {
			r = node_inspect(a->n, id, &out, &e);
			return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
		}
		if (strcmp(verb, "logs") == 0)
			return api_logs(a, c, id);
		if (strcmp(verb, "stats") == 0)
			return api_stats(a, c, rq, id);
		if (strcmp(verb, "top") == 0) {
			const char *ps = api_arg(c, "ps_args");
			if (ps && *ps && strcmp(ps, "-ef") != 0)
				return api_send_error(c, 400, "ps_args: only ps -ef's columns are given");
			r = node_top(a->n, id, &out, &e);
			return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
		}
		return api_send_error(c, 404, "page not found");
	}
	if (strcmp(method, "POST") != 0)
		return api_send_error(c, 405, "method not allowed");
	if (strcmp(verb, "attach") == 0)
		return api_attach(a, c, rq, id);
	if (strcmp(verb, "resize") == 0) {
		long h = api_arg_long(c, "h"), w = api_arg_long(c, "w");
		if (h < 1 || w < 1 || h > 65535 || w > 65535)
			return api_send_error(c, 400, "h and w: must be 1..65535");
		r = node_resize(a->n, id, (unsigned)h, (unsigned)w, &e);
		return r < 0 ? api_send_err(c, r, &e) : api_send_empty(c, 200);
	}
	if (strcmp(verb, "exec") == 0)
		return api_exec_create(a, c, rq, id);
	if (strcmp(verb, "wait") == 0)
		return api_wait_exit(a, c, rq);
	if (strcmp(verb, "update") == 0)
		return h_update(a, c, rq);
	static const struct { const char *verb; enum lifecycle_verb v; } verbs[] = {
		{ "start", V_START }, { "stop", V_STOP }, { "kill", V_KILL }, { "restart", V_RESTART },
	};
	for (size_t i = 0; i < SN_ARRAY_SIZE(verbs); i++)
		if (strcmp(verb, verbs[i].verb) == 0)
			return h_lifecycle(a, c, rq, verbs[i].v);
	return api_send_error(c, 404, "page not found");
}

/* ---- routing */

/* PUT /transfers/grants: the node's whole set of transfer grants (grants.c);
 * GET: the set without its tokens. */
static enum MHD_Result h_grants(struct MHD_Connection *c, struct req *rq, const char *method)
{
	if (strcmp(method, "GET") == 0)
		return api_send_json(c, 200, grants_list());
	if (strcmp(method, "PUT") != 0)
		return api_send_error(c, 405, "method not allowed");
	int r = sn_json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, "request body", &rq->in,
			      &rq->e);
	if (r == 0)
		r = grants_set(rq->in, &rq->e);
	return r < 0 ? api_send_err(c, r, &rq->e) : api_send_empty(c, 204);
}

static enum MHD_Result route(struct api *a, struct MHD_Connection *c, const char *url,
			     const char *method, struct req *rq)
{
	struct sn_err e = { 0 };
	json_t *out = NULL;
	int r = docker_api_prefix(&url, &e);   /* strip /v1.41 */
	if (r < 0)
		return api_send_err(c, r, &e);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(url, "/_ping") == 0) {
		if (!get)
			return api_send_error(c, 405, "method not allowed");
		struct MHD_Response *resp = MHD_create_response_from_buffer(2, (void *)"OK", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "Api-Version", NODE_API_VERSION);
		/* Docker's clients take the OS from here (docker create --device) */
		MHD_add_response_header(resp, "Ostype", "linux");
		MHD_add_response_header(resp, "Docker-Experimental", "false");
		MHD_add_response_header(resp, "Cache-Control", "no-cache, no-store, must-revalidate");
		enum MHD_Result ret = MHD_queue_response(c, 200, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (get && strcmp(url, "/version") == 0) {
		if ((r = node_version(&out)) < 0)
			return api_send_error(c, 500, "uname failed");
		return api_send_json(c, 200, out);
	}
	if (get && strcmp(url, "/info") == 0) {
		r = node_info(a->n, &out, &e);
		return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
	}
	if (get && strcmp(url, "/events") == 0)
		return api_events(a, c);
	if (get && strcmp(url, "/metrics") == 0)
		return api_metrics(a, c, rq);
	if (get && strcmp(url, "/containers/json") == 0) {
		_cleanup_json_ json_t *filters = NULL;
		static const char *const keys[] = { "name", "id", "status", "size", "label", NULL };
		if ((r = api_parse_filters(c, keys, &filters, &e)) < 0)
			return api_send_err(c, r, &e);
		r = node_list(a->n, api_arg_bool(c, "all"), filters, &out, &e);
		/* docker ps -n N, -l: the newest N; -1 (docker-py): all */
		const char *ls = api_arg(c, "limit");
		long limit = ls && strcmp(ls, "-1") ? api_arg_long(c, "limit") : 0;
		if (limit < 0) {
			json_decref(out);
			return api_send_error(c, 400, "limit: must be a count or -1");
		}
		if (r == 0 && limit > 0 && (r = docker_list_limit(out, (size_t)limit)) < 0) {
			json_decref(steal_ptr(out));
			sn_err_set(&e, -r, "containers");
		}
		return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
	}
	if (strncmp(url, "/images/", 8) == 0)
		return api_images(a, c, rq, url, method);
	if (strncmp(url, "/exec/", 6) == 0)
		return api_exec(a, c, rq, url, method);
	if (strcmp(url, "/volumes") == 0 || strncmp(url, "/volumes/", 9) == 0)
		return api_volumes(a, c, rq, url, method);
	if (strcmp(url, "/transfers/grants") == 0)
		return h_grants(c, rq, method);
	if (strcmp(url, "/containers/create") == 0) {
		if (strcmp(method, "POST") != 0)
			return api_send_error(c, 405, "method not allowed");
		return h_create(a, c, rq);
	}
	if (strncmp(url, "/containers/", 12) == 0) {
		const char *rest = url + 12;
		const char *slash = strchr(rest, '/');
		size_t il = slash ? (size_t)(slash - rest) : strlen(rest);
		if (il == 0 || il >= sizeof(rq->id))
			return api_send_error(c, 404, "page not found");
		memcpy(rq->id, rest, il);
		rq->id[il] = '\0';
		return h_container(a, c, rq, method, slash ? slash + 1 : NULL);
	}
	return api_send_error(c, 404, "page not found");
}

/* An image upload streams its body elsewhere: decided on the headers. */
static bool is_upload(struct MHD_Connection *c, const char *url, const char *method)
{
	struct sn_err e;
	if (strcmp(method, "POST") != 0 || docker_api_prefix(&url, &e) < 0)
		return false;
	size_t ul = strlen(url);
	if (strncmp(url, "/volumes/", 9) == 0 && ul > 16 && strcmp(url + ul - 7, "/import") == 0)
		return true;   /* a volume import streams its body too */
	return strcmp(url, "/images/load") == 0 && !api_arg(c, "path");
}

static struct req *new_req(struct api_http *h)
{
	struct req *rq = calloc(1, sizeof(*rq));
	if (rq) {
		rq->a = h->a;
		rq->http = h;
		rq->t0_us = sn_now_us();
	}
	return rq;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line as sent, before it is
 * decoded; its verdict waits in the request for the handler's first call. */
static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *rq = new_req(cls);
	if (rq)
		rq->verdict = api_uri_check(uri, rq->a->n->cfg.http.max_args);
	return rq;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct api_http *h = cls;
	struct api *a = h->a;
	struct req *rq = *con_cls;
	if (!rq && !(rq = *con_cls = new_req(h)))
		return MHD_NO;
	if (!rq->seen) {
		rq->seen = true;
		api_route_name(url, rq->route, sizeof(rq->route));
		snprintf(rq->method, sizeof(rq->method), "%s", method);
		if (rq->verdict.status) {
			rq->routed = true;
			return api_send_verdict(c, rq->verdict);
		}
		/* the token before anything else: a refusal reads no body */
		if (!api_bearer_ok(c, h->token) && !grants_allow(method, url, api_bearer(c))) {
			rq->routed = true;
			return api_send_unauthorized(c);
		}
		if (is_upload(c, url, method)) {
			rq->routed = true;
			if (api_route_args_check(c, rq, &rq->e) < 0)
				return api_send_err(c, -EINVAL, &rq->e);
			return route(a, c, url, method, rq);   /* sets rq->upload */
		}
		return MHD_YES;
	}
	if (rq->upload && (*upload_size || !rq->cont))
		return rq->upload(a, c, rq, upload, upload_size);
	if (*upload_size) {
		if (api_body_append(&rq->body, API_BODY_MAX, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->routed) {
		if (!rq->cont)
			return MHD_YES;   /* a spurious call: nothing new */
		api_cont_fn cont = rq->cont;
		rq->cont = NULL;
		return cont(a, c, rq);
	}
	rq->routed = true;
	if (rq->body.too_big)
		return api_send_error(c, 413, "request body larger than 1 MiB");
	if (api_route_args_check(c, rq, &rq->e) < 0)
		return api_send_err(c, -EINVAL, &rq->e);
	sn_debug("%s %s", method, url);
	return route(a, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	if (!rq)
		return;
	api_request_done(rq->a, c, rq);
	hub_trim_later(rq->a->hub, 1000);
	if (rq->ctx_free)
		rq->ctx_free(rq->ctx);
	json_decref(rq->in);
	json_decref(rq->out);
	free(rq->arg1);
	free(rq->arg2);
	api_body_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

static int start_http(struct api *a, struct api_http *h, const struct api_listener *l,
		      struct sn_err *err)
{
	h->a = a;
	if (l->token && !(h->token = strdup(l->token)))
		return sn_err_set(err, ENOMEM, "api");
	bool tls = l->cert_pem != NULL;
	h->tls = tls;
	/* TLS: a thread per connection, so that an upgraded stream is relayed
	 * in its callback (api_exec.c says why); at most 64 of them. */
	struct MHD_OptionItem lim[API_LIMITS_MHD_OPTIONS];
	api_limits_mhd_options(&a->n->cfg.http, l->token != NULL, lim);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_UPGRADE |
			 (tls ? MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL : MHD_USE_EPOLL);
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, h,
				MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, h,
				MHD_OPTION_HTTPS_MEM_CERT, tls ? l->cert_pem : "",
				MHD_OPTION_HTTPS_MEM_KEY, tls ? l->key_pem : "",
				MHD_OPTION_LISTEN_SOCKET, l->fd,
				MHD_OPTION_THREAD_POOL_SIZE, tls ? 0u : API_HTTP_THREADS,
				MHD_OPTION_NOTIFY_COMPLETED, completed, h,
				MHD_OPTION_URI_LOG_CALLBACK, uri_seen, h,
				MHD_OPTION_CONNECTION_LIMIT, tls ? 64u : 1024u,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 << 10),
				MHD_OPTION_ARRAY, lim,
				MHD_OPTION_END);
	if (!h->d)
		return sn_err_msg(err, EIO, "start the HTTP server (libmicrohttpd)");
	return 0;
}

int api_start(struct node *n, const struct api_listener *l, size_t nl, struct api **out,
	      struct sn_err *err)
{
	if (nl == 0 || nl > API_MAX_LISTENERS)
		return sn_err_msg(err, EINVAL, "api: 1 or 2 listeners");
	struct api *a = calloc(1, sizeof(*a));
	if (!a)
		return sn_err_set(err, ENOMEM, "api");
	a->n = n;
	api_reply_header("Api-Version", NODE_API_VERSION);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	int r = api_reqstats_new(&a->reqstats);
	if (r < 0 || (r = hub_start(node_events_fd(n), &a->hub)) < 0) {
		sn_err_set(err, -r, "api: start the hub");
		api_stop(a);
		return r;
	}
	if ((r = workers_start(API_WORKERS_MAX, API_WORKERS_IDLE_S, API_QUEUE_MAX, &a->workers)) < 0 ||
	    (r = workers_start(API_WORKERS_MAX, API_WORKERS_IDLE_S, API_SLOW_QUEUE_MAX, &a->slow)) < 0 ||
	    (r = workers_start(API_CONTROL_MAX, API_WORKERS_IDLE_S, API_CONTROL_MAX, &a->control)) < 0) {
		sn_err_set(err, -r, "api: worker pool");
		api_stop(a);
		return r;
	}
	for (size_t i = 0; i < nl; i++) {
		a->n_http++;
		if ((r = start_http(a, &a->http[i], &l[i], err)) < 0) {
			api_stop(a);
			return r;
		}
	}
	*out = a;
	return 0;
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	__atomic_store_n(&a->n->stopping, 1, __ATOMIC_RELAXED);   /* relays and streams end */
	for (size_t i = 0; i < a->n_http; i++)
		if (a->http[i].d)
			MHD_quiesce_daemon(a->http[i].d);
	hub_drain(a->hub);
	workers_drain(a->workers);   /* from here on, work runs on the caller's thread */
	workers_drain(a->slow);
	workers_drain(a->control);
	api_relays_wait(a);
	for (size_t i = 0; i < a->n_http; i++) {
		if (a->http[i].d)
			MHD_stop_daemon(a->http[i].d);
		free(a->http[i].token);
	}
	workers_free(a->workers);
	workers_free(a->slow);
	workers_free(a->control);
	hub_free(a->hub);
	api_reqstats_free(a->reqstats);
	grants_free();
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
