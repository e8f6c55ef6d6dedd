/* api_metrics.c — GET /metrics: the node's Prometheus exposition
 * (node/metrics.h), on the unix socket and on TCP with the bearer token
 * (Prometheus sends it with its `authorization` scrape setting).
 *
 * The read (a db list, then every subnode's cgroup and status) may take a
 * few milliseconds with 128 subnodes: it runs on a worker with the
 * connection suspended. The text is then streamed family by family from
 * the HTTP thread, never held whole.
 */
#include "api_internal.h"
#include "node/metrics.h"
#include "base/cleanup.h"

#include <stdlib.h>

static void metrics_ctx_free(void *ctx)
{
	node_metrics_free(ctx);
}

static void work_metrics(struct api *a, struct req *rq)
{
	struct node_metrics *m = NULL;
	rq->r = node_metrics_open(a->n, &m, &rq->e);
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
