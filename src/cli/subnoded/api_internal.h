/* api_internal.h — what the files of subnoded's HTTP layer share: the
 * server, the per-request state, response helpers, and the three ways a
 * request is served (api.c explains them). */
#ifndef SN_SUBNODED_API_INTERNAL_H
#define SN_SUBNODED_API_INTERNAL_H

#include "api.h"
#include "api/conn.h"
#include "api/hub.h"
#include "api/limits.h"
#include "api/reply.h"
#include "api/request.h"
#include "api/workers.h"
#include "api/reqstats.h"
#include "base/err.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#define API_BODY_MAX (1u << 20)
#define API_MAX_LISTENERS 2

struct api;

struct api_http {
	struct api *a;
	struct MHD_Daemon *d;
	char *token;          /* NULL: no token needed (the unix socket) */
	bool tls;             /* a thread per connection; upgrades relayed in place */
};

struct api {
	struct node *n;
	struct hub *hub;
	struct workers *workers;      /* operations of a moment: create, start, remove ... */
	struct workers *slow;         /* those that last as long as a client's process: exec output, import */
	struct workers *control;      /* stop, kill, restart: never behind other work */
	struct api_http http[API_MAX_LISTENERS];
	size_t n_http;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned relays;      /* upgraded streams (exec, attach) still relaying */
	struct api_reqstats *reqstats;  /* requests by route and status (/metrics) */
};

struct req;
/* Runs on an HTTP thread when the request is called again after a resume:
 * sends the reply, or suspends again. */
typedef enum MHD_Result (*api_cont_fn)(struct api *a, struct MHD_Connection *c, struct req *rq);
/* Runs on a worker: the blocking part of an operation. */
typedef void (*api_work_fn)(struct api *a, struct req *rq);

/* One request, from its headers to its completion. */
struct req {
	int64_t t0_us;        /* when its headers came (latency, /metrics) */
	char route[48];       /* its route's template (api_route_name) */
	char method[8];
	struct api *a;
	struct api_http *http;  /* the listener it came in on */
	struct api_body body; /* the JSON body (<= API_BODY_MAX) */
	struct api_uri_verdict verdict;  /* the raw URI's (api/limits.h) */
	bool seen;            /* the handler's first call is past */
	bool routed;          /* routed once: later calls go to cont */
	api_cont_fn cont;
	/* a blocking operation: inputs copied on the HTTP thread ... */
	struct work work;
	api_work_fn fn;
	char id[256];
	char *arg1, *arg2;
	int kind;
	long num;
	bool flag, flag2;
	json_t *in;
	/* ... and its outcome */
	int r;
	struct sn_err e;
	unsigned status;      /* on success (0: 200) */
	json_t *out;          /* on success: the JSON to send (NULL: empty body) */
	/* operation-specific state, freed with the request */
	void *ctx;
	void (*ctx_free)(void *ctx);
	/* a request body streamed somewhere else (image load) */
	enum MHD_Result (*upload)(struct api *a, struct MHD_Connection *c, struct req *rq,
				  const char *data, size_t *size);
};

/* ---- api.c: replies (the generic ones: api/reply.h, api/request.h) */
/* The outcome of a deferred operation (rq->r, rq->e, rq->status, rq->out). */
enum MHD_Result api_send_result(struct api *a, struct MHD_Connection *c, struct req *rq);
/* filters= as a JSON object whose keys are among keys (NULL-ended). */
static inline int api_parse_filters(struct MHD_Connection *c, const char *const *keys, json_t **out,
				    struct sn_err *e)
{
	int r = api_arg_json_object(c, "filters", out, e);
	return r < 0 ? r : api_filters_check(*out, keys, e);
}

/* ---- api_args.c: the query arguments of rq's route, checked (400) */
int api_route_args_check(struct MHD_Connection *c, const struct req *rq, struct sn_err *e);

/* ---- the three ways to serve (api.c) */
/* Hand fn to a worker with c suspended; then cont (api_send_result when
 * NULL) runs on an HTTP thread. */
enum MHD_Result api_defer(struct api *a, struct MHD_Connection *c, struct req *rq, api_work_fn fn,
			  api_cont_fn cont);
/* The same on the pool for operations that may take long (a stop waits up
 * to its timeout), so that they cannot hold up the short ones. */
enum MHD_Result api_defer_slow(struct api *a, struct MHD_Connection *c, struct req *rq,
			       api_work_fn fn, api_cont_fn cont);
/* The same on the pool of stop, kill and restart (a thread per subnode). */
enum MHD_Result api_defer_control(struct api *a, struct MHD_Connection *c, struct req *rq,
				  api_work_fn fn, api_cont_fn cont);
/* Suspend c until w happens (or the client hangs up: added here); then
 * cont runs (a request not yet answered). */
enum MHD_Result api_wait(struct api *a, struct MHD_Connection *c, struct req *rq,
			 struct hub_want *w, api_cont_fn cont);
/* Suspend c until w (or the client hangs up); false (and not suspended)
 * when the daemon is stopping. */
bool api_suspend(struct api *a, struct MHD_Connection *c, struct hub_want *w);
/* For a content reader: suspend c until w (or the client hangs up) and
 * return what the reader must return (0, or END_WITH_ERROR when the daemon
 * stops). */
ssize_t api_stream_wait(struct api *a, struct MHD_Connection *c, struct hub_want *w);
bool api_stopping(struct api *a);

/* ---- api_streams.c: logs, events, stats, wait */
enum MHD_Result api_logs(struct api *a, struct MHD_Connection *c, const char *id);
enum MHD_Result api_events(struct api *a, struct MHD_Connection *c);
enum MHD_Result api_stats(struct api *a, struct MHD_Connection *c, struct req *rq, const char *id);
enum MHD_Result api_wait_exit(struct api *a, struct MHD_Connection *c, struct req *rq);

/* ---- api_images.c */
enum MHD_Result api_images(struct api *a, struct MHD_Connection *c, struct req *rq, const char *url,
			   const char *method);

/* Stream the request body into the image tool's stdin (an image load, a
 * volume import; see api_images.c): reply runs once the body is in and
 * the tool has written its last line (it calls node_image_job_finish on
 * api_upload_job(rq)); done(done_arg) runs when the request is freed,
 * after the tool is gone (killed if it still ran: a client that left). */
struct node_image_job_opts;
enum MHD_Result api_upload_start(struct api *a, struct MHD_Connection *c, struct req *rq,
				 const struct node_image_job_opts *o, api_cont_fn reply,
				 void (*done)(void *arg), void *done_arg);
struct node_image_job *api_upload_job(struct req *rq);
void *api_upload_arg(struct req *rq);   /* done_arg */

/* ---- api_volumes.c */
enum MHD_Result api_volumes(struct api *a, struct MHD_Connection *c, struct req *rq, const char *url,
			    const char *method);

/* ---- api_exec.c: exec and attach */
enum MHD_Result api_exec(struct api *a, struct MHD_Connection *c, struct req *rq, const char *url,
			 const char *method);
enum MHD_Result api_exec_create(struct api *a, struct MHD_Connection *c, struct req *rq,
				const char *id);
enum MHD_Result api_attach(struct api *a, struct MHD_Connection *c, struct req *rq, const char *id);
/* Wait for the relays of upgraded streams to end (at shutdown). */
void api_relays_wait(struct api *a);

/* ---- api_metrics.c: GET /metrics (Prometheus) */
enum MHD_Result api_metrics(struct api *a, struct MHD_Connection *c, struct req *rq);
/* The route template of url ("/containers/{id}/json"; "other" when none):
 * a bounded label for the request histogram. */
void api_route_name(const char *url, char *out, size_t size);
/* A request ended: into the histogram. */
void api_request_done(struct api *a, struct MHD_Connection *c, struct req *rq);

#endif
