/* api_metrics.c — GET /metrics: the node's Prometheus exposition
 * (node/metrics.h), on the unix socket and on TCP with the bearer token
 * (Prometheus sends it with its `authorization` scrape setting).
 *
 * The read (a db list, then every subnode's cgroup and status) may take
 * tens of milliseconds with 128 subnodes: it runs on a worker with the
 * connection suspended. The text is then streamed family by family from
 * the HTTP thread, never held whole.
 *
 * The API's own figures are added here: subnoded_api_request_duration_seconds,
 * a histogram by route template (api_route_name: ids and image names
 * replaced, so the series stay few), method and status, kept by the api
 * layer (api/reqstats.h) and fed as each request ends.
 */
#include "api_internal.h"
#include "node/metrics.h"
#include "base/clock.h"
#include "base/cleanup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ_FAMILY "subnoded_api_request_duration_seconds"

static void metrics_ctx_free(void *ctx)
{
	node_metrics_free(ctx);
}

static void work_metrics(struct api *a, struct req *rq)
{
	struct node_metrics *m = NULL;
	rq->r = node_metrics_open(a->n, &m, &rq->e);
	_cleanup_free_ char *req = NULL;
	size_t len = 0;
	if (rq->r == 0 && (api_reqstats_render(a->reqstats, REQ_FAMILY, &req, &len) < 0 ||
			   node_metrics_append(m, req, len) < 0)) {
		node_metrics_free(m);
		rq->r = sn_err_set(&rq->e, ENOMEM, "metrics");
	}
	if (rq->r == 0) {
		rq->ctx = m;
		rq->ctx_free = metrics_ctx_free;
	}
}

static ssize_t metrics_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	size_t n = node_metrics_read(cls, buf, max);
	return n ? (ssize_t)n : (ssize_t)MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result metrics_send(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	(void)a;
	if (rq->r < 0)
		return api_send_err(c, rq->r, &rq->e);
	rq->ctx_free = NULL;   /* the response owns it now */
	return api_send_stream(c, NODE_METRICS_CONTENT_TYPE, 16384, metrics_reader,
			       steal_ptr(rq->ctx), metrics_ctx_free);
}

enum MHD_Result api_metrics(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	return api_defer(a, c, rq, work_metrics, metrics_send);
}

/* ---- the request histogram */

static bool is_version(const char *seg, size_t n)
{
	return n >= 2 && seg[0] == 'v' && seg[1] >= '0' && seg[1] <= '9';
}

void api_route_name(const char *url, char *out, size_t size)
{
	if (strncmp(url, "/v", 2) == 0 && is_version(url + 1, strlen(url + 1))) {
		const char *slash = strchr(url + 1, '/');
		url = slash ? slash : "/";
	}
	static const char *const fixed[] = {
		"/_ping", "/version", "/info", "/events", "/metrics", "/containers/json",
		"/containers/create", "/images/json", "/images/create", "/images/load", "/volumes",
		"/volumes/create", "/transfers/grants",
	};
	for (size_t i = 0; i < SN_ARRAY_SIZE(fixed); i++)
		if (strcmp(url, fixed[i]) == 0) {
			snprintf(out, size, "%s", url);
			return;
		}
	/* /containers/{id}[/verb], /exec/{id}[/verb]: one segment of id */
	static const char *const by_id[] = { "/containers/", "/exec/", "/volumes/" };
	for (size_t i = 0; i < SN_ARRAY_SIZE(by_id); i++) {
		size_t pl = strlen(by_id[i]);
		if (strncmp(url, by_id[i], pl) != 0 || !url[pl])
			continue;
		const char *verb = strchr(url + pl, '/');
		if (verb && (strlen(verb) > 16 || strchr(verb + 1, '/')))
			break;   /* not one of ours */
		snprintf(out, size, "%s{%s}%s", by_id[i], i == 2 ? "name" : "id", verb ? verb : "");
		return;
	}
	/* /images/{name}[/json]: the name may hold slashes */
	if (strncmp(url, "/images/", 8) == 0 && url[8]) {
		size_t n = strlen(url);
		snprintf(out, size, "/images/{name}%s", n > 5 && strcmp(url + n - 5, "/json") == 0 ? "/json" : "");
		return;
	}
	snprintf(out, size, "other");
}

void api_request_done(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	unsigned status = ci ? ci->http_status : 0;   /* 0: ended before a reply */
	api_reqstats_observe(a->reqstats, rq->route[0] ? rq->route : "other",
			     rq->method[0] ? rq->method : "other", status, sn_now_us() - rq->t0_us);
}
