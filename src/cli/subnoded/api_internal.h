/* api_internal.h — what the files of subnoded's HTTP layer share: the
 * server, the per-request state, response helpers, and the three ways a
 * request is served (api.c explains them). */
#ifndef SN_SUBNODED_API_INTERNAL_H
#define SN_SUBNODED_API_INTERNAL_H

#include "api.h"
#include "hub.h"
#include "workers.h"
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
	struct workers *slow;         /* those that may take long: stop, restart, exec output, import */
	struct api_http http[API_MAX_LISTENERS];
	size_t n_http;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned relays;      /* upgraded streams (exec, attach) still relaying */
};

struct req;
/* Runs on an HTTP thread when the request is called again after a resume:
 * sends the reply, or suspends again. */
typedef enum MHD_Result (*api_cont_fn)(struct api *a, struct MHD_Connection *c, struct req *rq);
/* Runs on a worker: the blocking part of an operation. */
typedef void (*api_work_fn)(struct api *a, struct req *rq);

/* One request, from its headers to its completion. */
struct req {
	struct api *a;
	struct api_http *http;  /* the listener it came in on */
	char *body;           /* the JSON body (<= API_BODY_MAX) */
	size_t len;
	bool too_big;
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

/* ---- api.c: replies and query arguments */
enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned status, json_t *j);
enum MHD_Result api_send_error(struct MHD_Connection *c, int status, const char *msg);
enum MHD_Result api_send_err(struct MHD_Connection *c, int r, const struct sn_err *e);
enum MHD_Result api_send_empty(struct MHD_Connection *c, unsigned status);
/* The outcome of a deferred operation (rq->r, rq->e, rq->status, rq->out). */
enum MHD_Result api_send_result(struct api *a, struct MHD_Connection *c, struct req *rq);
const char *api_arg(struct MHD_Connection *c, const char *k);
bool api_arg_bool(struct MHD_Connection *c, const char *k);
long api_arg_long(struct MHD_Connection *c, const char *k);   /* -1 absent, -2 malformed */
int api_parse_filters(struct MHD_Connection *c, json_t **out, struct sn_err *e);
/* A queued response whose body comes from reader (a stream). */
enum MHD_Result api_send_stream(struct MHD_Connection *c, const char *type, size_t block,
				MHD_ContentReaderCallback reader, void *cls,
				MHD_ContentReaderFreeCallback fr);

/* ---- the three ways to serve (api.c) */
/* Hand fn to a worker with c suspended; then cont (api_send_result when
 * NULL) runs on an HTTP thread. */
enum MHD_Result api_defer(struct api *a, struct MHD_Connection *c, struct req *rq, api_work_fn fn,
			  api_cont_fn cont);
/* The same on the pool for operations that may take long (a stop waits up
 * to its timeout), so that they cannot hold up the short ones. */
enum MHD_Result api_defer_slow(struct api *a, struct MHD_Connection *c, struct req *rq,
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
/* Has the client hung up? (no wait) */
bool api_client_gone(struct MHD_Connection *c);
bool api_stopping(struct api *a);
/* An empty want (no fd, no timeout). */
struct hub_want api_want(void);

/* Hand out what is left of a stream's pending chunk; once it is used up,
 * free it and return 0 so the caller produces the next one. */
ssize_t api_drain_pending(char **pending, size_t *plen, size_t *poff, char *buf, size_t max);
/* Append a JSON line to a pending buffer. */
void api_pending_line(char **pending, size_t *plen, json_t *j);

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

#endif
