/* api.c — the HTTP/JSON API: routing Docker Engine API shapes onto node.h.
 *
 * libmicrohttpd runs one thread per connection (MHD_USE_THREAD_PER_CONNECTION
 * with small stacks), so a handler may block: a stop waits for its timeout,
 * `logs -f` and `events` stream from a content-reader callback that waits in
 * 100 ms steps and ends when the client hangs up (POLLRDHUP on its socket).
 * Request bodies are collected up to 1 MiB, then parsed as JSON.
 *
 * Paths may carry a version prefix (/v1.41/containers/json), as Docker
 * clients send. Errors are {"message": "..."} with the status from the
 * errno: EINVAL 400, EACCES/EPERM 403, ENOENT 404, EEXIST/EBUSY/ENOSPC 409,
 * others 500. See docs/API.md.
 */
#include "api.h"
#include "node/exec.h"
#include "node/imagejob.h"
#include "node/logs.h"
#include "image/image.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/log.h"

#include <errno.h>
#include <microhttpd.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define BODY_MAX (1u << 20)

struct api {
	struct MHD_Daemon *d;
	struct node *n;
	char *token;
};

struct req {
	char *body;
	size_t len;
	bool too_big;
};

static int status_of(int e)
{
	switch (e) {
	case EINVAL: case E2BIG: case ENAMETOOLONG: return MHD_HTTP_BAD_REQUEST;
	case EACCES: case EPERM: return MHD_HTTP_FORBIDDEN;
	case ENOENT: return MHD_HTTP_NOT_FOUND;
	case EEXIST: case EBUSY: case ENOSPC: return MHD_HTTP_CONFLICT;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *txt = j ? sn_json_dump(j, false) : NULL;
	json_decref(j);
	if (!txt)
		txt = strdup("{\"message\":\"out of memory\"}");
	size_t len = strlen(txt);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, txt, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Api-Version", NODE_API_VERSION);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *msg)
{
	return send_json(c, (unsigned)status, json_pack("{s:s}", "message", msg));
}

static enum MHD_Result send_err(struct MHD_Connection *c, int r, const struct sn_err *e)
{
	return send_error(c, status_of(e->code ? e->code : -r), e->msg[0] ? e->msg : strerror(-r));
}

static enum MHD_Result send_empty(struct MHD_Connection *c, unsigned status)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char *arg(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

static bool arg_bool(struct MHD_Connection *c, const char *k)
{
	const char *v = arg(c, k);
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || (!*v));
}

/* -1 when absent; -2 when malformed. */
static long arg_long(struct MHD_Connection *c, const char *k)
{
	const char *v = arg(c, k);
	if (!v)
		return -1;
	char *end;
	long x = strtol(v, &end, 10);
	return *end || !*v || x < 0 ? -2 : x;
}

static bool client_gone(struct MHD_Connection *c, int wait_ms)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return true;
	struct pollfd pf = { .fd = ci->connect_fd, .events = POLLRDHUP };
	int r = poll(&pf, 1, wait_ms);
	return r > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* ---- streaming: logs */

struct log_stream {
	struct node_logs *l;
	struct MHD_Connection *c;
};

static ssize_t log_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct log_stream *s = cls;
	for (;;) {
		ssize_t r = node_logs_read(s->l, buf, max);
		if (r > 0)
			return r;
		if (r == 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (client_gone(s->c, 100))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void log_free(void *cls)
{
	struct log_stream *s = cls;
	node_logs_close(s->l);
	free(s);
}

static enum MHD_Result h_logs(struct api *a, struct MHD_Connection *c, const char *id)
{
	struct node_logs_opts o = { .out = arg_bool(c, "stdout"), .err = arg_bool(c, "stderr"),
				    .timestamps = arg_bool(c, "timestamps"), .follow = arg_bool(c, "follow"),
				    .raw = arg_bool(c, "raw"), .tail = -1 };
	if (!o.out && !o.err)
		return send_error(c, 400, "you must choose at least one stream (stdout=1 or stderr=1)");
	const char *s;
	if ((s = arg(c, "since")) && strcmp(s, "0") && node_parse_time(s, &o.since) < 0)
		return send_error(c, 400, "since: not a time (unix seconds or RFC 3339)");
	if ((s = arg(c, "until")) && strcmp(s, "0") && node_parse_time(s, &o.until) < 0)
		return send_error(c, 400, "until: not a time (unix seconds or RFC 3339)");
	if ((s = arg(c, "tail")) && strcmp(s, "all") != 0) {
		long t = arg_long(c, "tail");
		if (t < 0)
			return send_error(c, 400, "tail: must be a number or `all`");
		o.tail = t;
	}
	struct sn_err e = { 0 };
	struct log_stream *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return send_error(c, 500, "out of memory");
	int r = node_logs_open(a->n, id, &o, &ls->l, &e);
	if (r < 0) {
		free(ls);
		return send_err(c, r, &e);
	}
	ls->c = c;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
								       log_reader, ls, log_free);
	MHD_add_response_header(resp, "Content-Type", o.raw ? "text/plain" :
				"application/vnd.docker.raw-stream");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- streaming: events */

struct ev_stream {
	struct node *n;
	struct MHD_Connection *c;
	uint64_t next;
	int64_t until;       /* unix s; 0 = forever */
	json_t *filters;
	char *pending;
	size_t plen, poff;
};

static bool ev_match(json_t *filters, json_t *ev)
{
	static const struct { const char *f; const char *path[3]; } keys[] = {
		{ "type", { "Type" } }, { "event", { "Action" } },
		{ "container", { "Actor", "ID" } },
	};
	for (size_t i = 0; i < SN_ARRAY_SIZE(keys); i++) {
		json_t *want = json_object_get(filters, keys[i].f);
		if (!want)
			continue;
		json_t *v = json_object_get(ev, keys[i].path[0]);
		if (keys[i].path[1])
			v = json_object_get(v, keys[i].path[1]);
		const char *have = json_string_value(v);
		const char *name = json_string_value(json_object_get(json_object_get(json_object_get(ev,
					"Actor"), "Attributes"), "name"));
		bool ok = false;
		size_t j;
		json_t *w;
		json_array_foreach(want, j, w) {
			const char *ws = json_string_value(w);
			if (ws && ((have && strncmp(have, ws, i == 2 ? strlen(ws) : strlen(have) + 1) == 0) ||
				   (i == 2 && name && strcmp(name, ws) == 0)))
				ok = true;
		}
		if (!ok)
			return false;
	}
	return true;
}

static void ev_queue(struct ev_stream *s, json_t *evs)
{
	FILE *f = open_memstream(&s->pending, &s->plen);
	size_t i;
	json_t *ev;
	json_array_foreach(evs, i, ev) {
		if (!ev_match(s->filters, ev))
			continue;
		char *t = sn_json_dump(ev, false);
		if (t && f)
			fprintf(f, "%s\n", t);
		free(t);
	}
	if (f)
		fclose(f);
	s->poff = 0;
}

/* Hand out what is left of a stream's pending chunk; once it is used up,
 * free it and return 0 so the caller produces the next one. */
static ssize_t drain_pending(char **pending, size_t *plen, size_t *poff, char *buf, size_t max)
{
	if (*poff < *plen) {
		size_t n = *plen - *poff < max ? *plen - *poff : max;
		memcpy(buf, *pending + *poff, n);
		*poff += n;
		return (ssize_t)n;
	}
	free(*pending);
	*pending = NULL;
	*plen = *poff = 0;
	return 0;
}

static ssize_t ev_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ev_stream *s = cls;
	for (;;) {
		ssize_t got = drain_pending(&s->pending, &s->plen, &s->poff, buf, max);
		if (got > 0)
			return got;
		if (s->until && node_now_ns() / 1000000000LL > s->until)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (client_gone(s->c, 0))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		json_t *evs = node_events_wait(s->n, s->next, 200, &s->next);
		ev_queue(s, evs);
		json_decref(evs);
	}
}

static void ev_free(void *cls)
{
	struct ev_stream *s = cls;
	json_decref(s->filters);
	free(s->pending);
	free(s);
}

static int parse_filters(struct MHD_Connection *c, json_t **out, struct sn_err *e)
{
	const char *f = arg(c, "filters");
	*out = NULL;
	if (!f || !*f)
		return 0;
	int r = sn_json_loadb(f, strlen(f), "filters", out, e);
	if (r < 0)
		return r;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return sn_err_msg(e, EINVAL, "filters: must be a JSON object");
	}
	return 0;
}

static enum MHD_Result h_events(struct api *a, struct MHD_Connection *c)
{
	struct sn_err e = { 0 };
	struct ev_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return send_error(c, 500, "out of memory");
	s->n = a->n;
	s->c = c;
	int r = parse_filters(c, &s->filters, &e);
	if (r < 0) {
		free(s);
		return send_err(c, r, &e);
	}
	int64_t since = 0, until = 0;
	const char *v;
	if (((v = arg(c, "since")) && node_parse_time(v, &since) < 0) ||
	    ((v = arg(c, "until")) && node_parse_time(v, &until) < 0)) {
		ev_free(s);
		return send_error(c, 400, "since/until: not a time (unix seconds or RFC 3339)");
	}
	s->until = until / 1000000000LL;
	if (since) {
		json_t *past = node_events_since(a->n, since / 1000000000LL, s->until, &s->next);
		ev_queue(s, past);
		json_decref(past);
	} else {
		s->next = node_events_seq(a->n);
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, ev_reader,
								       s, ev_free);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- stats: one-shot (stream=0) or a JSON line a second, each carrying
 * the previous sample as precpu_stats (Docker's shape). */

struct stats_stream {
	struct node *n;
	struct MHD_Connection *c;
	char id[256];
	json_t *prev;
	char *pending;
	size_t plen, poff;
	bool first;
};

static json_t *stats_sample(struct stats_stream *s, struct sn_err *e)
{
	json_t *cur = NULL;
	if (node_stats(s->n, s->id, &cur, e) < 0)
		return NULL;
	json_object_set(cur, "precpu_stats", s->prev ? json_object_get(s->prev, "cpu_stats") : json_object());
	json_decref(s->prev);
	s->prev = json_incref(cur);
	return cur;
}

static ssize_t stats_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stats_stream *s = cls;
	for (;;) {
		ssize_t got = drain_pending(&s->pending, &s->plen, &s->poff, buf, max);
		if (got > 0)
			return got;
		if (!s->first) {
			for (int i = 0; i < 10; i++)
				if (client_gone(s->c, 100))
					return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		s->first = false;
		struct sn_err e = { 0 };
		json_t *j = stats_sample(s, &e);
		if (!j)
			return MHD_CONTENT_READER_END_OF_STREAM;   /* removed meanwhile */
		char *t = sn_json_dump(j, false);
		json_decref(j);
		if (!t || asprintf(&s->pending, "%s\n", t) < 0) {
			free(t);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		free(t);
		s->plen = strlen(s->pending);
	}
}

static void stats_free(void *cls)
{
	struct stats_stream *s = cls;
	json_decref(s->prev);
	free(s->pending);
	free(s);
}

static enum MHD_Result h_stats(struct api *a, struct MHD_Connection *c, const char *id)
{
	struct stats_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return send_error(c, 500, "out of memory");
	s->n = a->n;
	s->c = c;
	s->first = true;
	snprintf(s->id, sizeof(s->id), "%s", id);
	struct sn_err e = { 0 };
	json_t *j = stats_sample(s, &e);
	if (!j) {
		stats_free(s);
		return send_err(c, -e.code, &e);
	}
	const char *st = arg(c, "stream");
	if (st && (strcmp(st, "0") == 0 || strcasecmp(st, "false") == 0)) {
		/* Sample twice 100 ms apart so precpu_stats is useful, unless the
		 * client asked for one-shot (it keeps its own previous sample). */
		if (!arg_bool(c, "one-shot")) {
			json_decref(j);
			nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL);
			j = stats_sample(s, &e);
		}
		stats_free(s);
		return j ? send_json(c, 200, j) : send_err(c, -e.code, &e);
	}
	json_decref(j);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 8192, stats_reader,
								       s, stats_free);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result h_attach(struct api *a, struct MHD_Connection *c, const char *id);

/* ---- containers */

static enum MHD_Result h_create(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	struct sn_err e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	int r = sn_json_loadb(rq->body ? rq->body : "", rq->len, "request body", &body, &e);
	if (r < 0)
		return send_err(c, r, &e);
	json_t *out = NULL;
	r = node_create(a->n, arg(c, "name"), body, arg_bool(c, "start"), &out, &e);
	if (r < 0)
		return send_err(c, r, &e);
	return send_json(c, MHD_HTTP_CREATED, out);
}

static enum MHD_Result h_container(struct api *a, struct MHD_Connection *c, const char *method,
				   const char *id, const char *verb, struct req *rq)
{
	struct sn_err e = { 0 };
	int r;
	json_t *out = NULL;
	if (!verb && strcmp(method, "DELETE") == 0) {
		r = node_remove(a->n, id, arg_bool(c, "force"), &e);
		return r < 0 ? send_err(c, r, &e) : send_empty(c, MHD_HTTP_NO_CONTENT);
	}
	if (!verb)
		return send_error(c, 404, "page not found");
	if (strcmp(method, "GET") == 0) {
		if (strcmp(verb, "json") == 0) {
			r = node_inspect(a->n, id, &out, &e);
			return r < 0 ? send_err(c, r, &e) : send_json(c, 200, out);
		}
		if (strcmp(verb, "logs") == 0)
			return h_logs(a, c, id);
		if (strcmp(verb, "stats") == 0)
			return h_stats(a, c, id);
		return send_error(c, 404, "page not found");
	}
	if (strcmp(method, "POST") != 0)
		return send_error(c, 405, "method not allowed");
	if (strcmp(verb, "attach") == 0)
		return h_attach(a, c, id);
	if (strcmp(verb, "resize") == 0) {
		long h = arg_long(c, "h"), w = arg_long(c, "w");
		if (h < 1 || w < 1 || h > 65535 || w > 65535)
			return send_error(c, 400, "h and w: must be 1..65535");
		r = node_resize(a->n, id, (unsigned)h, (unsigned)w, &e);
		return r < 0 ? send_err(c, r, &e) : send_empty(c, 200);
	}
	if (strcmp(verb, "exec") == 0) {
		_cleanup_json_ json_t *body = NULL;
		r = sn_json_loadb(rq->body ? rq->body : "", rq->len, "request body", &body, &e);
		if (r == 0)
			r = node_exec_create(a->n, id, body, &out, &e);
		return r < 0 ? send_err(c, r, &e) : send_json(c, MHD_HTTP_CREATED, out);
	}
	long t = arg_long(c, "t");
	if (t == -2 || t > 3600)
		return send_error(c, 400, "t: must be a number of seconds (0..3600)");
	if (strcmp(verb, "wait") == 0) {
		int code = 0;
		r = node_wait(a->n, id, -1, &code, &e);
		return r < 0 ? send_err(c, r, &e)
			     : send_json(c, 200, json_pack("{s:i, s:n}", "StatusCode", code, "Error"));
	}
	if (strcmp(verb, "start") == 0)
		r = node_start(a->n, id, &e);
	else if (strcmp(verb, "stop") == 0)
		r = node_stop(a->n, id, arg(c, "signal"), (int)t, &e);
	else if (strcmp(verb, "kill") == 0)
		r = node_kill(a->n, id, arg(c, "signal"), &e);
	else if (strcmp(verb, "restart") == 0)
		r = node_restart(a->n, id, (int)t, &e);
	else
		return send_error(c, 404, "page not found");
	if (r < 0)
		return send_err(c, r, &e);
	return send_empty(c, r == 1 ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_NO_CONTENT);
}

/* ---- images */

struct pull_stream {
	struct node *n;
	struct MHD_Connection *c;
	struct node_image_job *job;
	char *pending;            /* JSON lines not yet sent */
	size_t plen, poff;
	bool finished;
};

/* Queue one JSON line (Docker's progress shape) for the client. */
static void pull_line(struct pull_stream *p, json_t *j)
{
	char *txt = j ? sn_json_dump(j, false) : NULL;
	json_decref(j);
	if (!txt)
		return;
	size_t len = strlen(txt);
	char *nb = realloc(p->pending, p->plen + len + 1);
	if (nb) {
		memcpy(nb + p->plen, txt, len);
		nb[p->plen + len] = '\n';
		p->pending = nb;
		p->plen += len + 1;
	}
	free(txt);
}

static void pull_progress(const struct image_progress *ip, void *data)
{
	static const char *const names[] = { "Pulling", "Downloading", "Resuming", "Already exists",
					     "Download complete", "Extracting" };
	struct pull_stream *p = data;
	char id[16];
	snprintf(id, sizeof(id), "%.12s", ip->digest && strlen(ip->digest) > 7 ? ip->digest + 7 : "");
	pull_line(p, json_pack("{s:s, s:s, s:s, s:{s:I, s:I}, s:i, s:i}", "status",
		names[ip->event <= IMAGE_PROGRESS_UNPACK ? ip->event : 0], "id", id, "what",
		ip->what ? ip->what : "", "progressDetail", "current", (json_int_t)ip->done, "total",
		(json_int_t)ip->total, "index", (int)ip->index, "count", (int)ip->count));
}

static ssize_t pull_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct pull_stream *p = cls;
	for (;;) {
		ssize_t got = drain_pending(&p->pending, &p->plen, &p->poff, buf, max);
		if (got > 0)
			return got;
		if (p->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (node_image_job_read(p->job, pull_progress, p) == 1) {
			struct sn_err e = { 0 };
			char digest[72] = "";
			if (node_image_job_finish(p->n, p->job, digest, &e) < 0)
				pull_line(p, json_pack("{s:s, s:{s:s}}", "error", e.msg, "errorDetail", "message",
						       e.msg));
			else
				pull_line(p, json_pack("{s:s, s:s}", "status", "Pulled", "digest", digest));
			p->finished = true;
			continue;
		}
		if (p->plen)
			continue;
		/* Nothing yet: wait for the tool (the client leaving ends the pull). */
		struct pollfd pf = { .fd = node_image_job_fd(p->job), .events = POLLIN };
		if (poll(&pf, 1, 100) == 0 && client_gone(p->c, 0))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void pull_free(void *cls)
{
	struct pull_stream *p = cls;
	node_image_job_free(p->job);   /* killed if still running: the store stays as it was */
	free(p->pending);
	free(p);
}

static enum MHD_Result h_pull(struct api *a, struct MHD_Connection *c)
{
	const char *from = arg(c, "fromImage"), *tag = arg(c, "tag");
	if (!from || !*from)
		return send_error(c, 400, "fromImage: required");
	_cleanup_free_ char *ref = NULL;
	if (asprintf(&ref, "%s%s%s", from, tag && *tag ? ":" : "", tag && *tag ? tag : "") < 0)
		return send_error(c, 500, "out of memory");
	struct sn_err e = { 0 };
	struct image_ref ir;
	if (image_ref_parse(ref, &ir, &e) < 0)
		return send_err(c, -EINVAL, &e);
	image_ref_free(&ir);
	struct pull_stream *p = calloc(1, sizeof(*p));
	if (!p)
		return send_error(c, 500, "out of memory");
	p->n = a->n;
	p->c = c;
	struct node_image_job_opts o = { .kind = NODE_IMAGE_PULL, .ref = ref,
					 .insecure = arg_bool(c, "insecure"), .unpack = true };
	int r = node_image_job_start(a->n, &o, &p->job, NULL, &e);
	if (r < 0) {
		free(p);
		return send_err(c, r, &e);
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, pull_reader,
								       p, pull_free);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result h_images(struct api *a, struct MHD_Connection *c, const char *url,
				const char *method)
{
	struct sn_err e = { 0 };
	json_t *out = NULL;
	int r;
	if (strcmp(url, "/images/json") == 0 && strcmp(method, "GET") == 0) {
		r = node_image_list(a->n, &out, &e);
		return r < 0 ? send_err(c, r, &e) : send_json(c, 200, out);
	}
	if (strcmp(url, "/images/create") == 0 && strcmp(method, "POST") == 0)
		return h_pull(a, c);
	if (strcmp(url, "/images/load") == 0 && strcmp(method, "POST") == 0) {
		char digest[72] = "";
		r = node_image_import(a->n, arg(c, "path"), arg(c, "name"), digest, &e);
		return r < 0 ? send_err(c, r, &e)
			     : send_json(c, 200, json_pack("{s:s}", "Digest", digest));
	}
	if (strncmp(url, "/images/", 8) == 0 && strcmp(method, "DELETE") == 0) {
		r = node_image_remove(a->n, url + 8, arg_bool(c, "force"), &e);
		return r < 0 ? send_err(c, r, &e)
			     : send_json(c, 200, json_pack("[{s:s}]", "Untagged", url + 8));
	}
	return send_error(c, 404, "page not found");
}

/* ---- exec: create, start (HTTP upgrade to a raw stream, as docker's
 * hijack; without an Upgrade header the output is collected and sent as
 * the body), resize, inspect. */

struct exec_io {
	struct node *n;
	char id[40];
	bool tty;
	int pty, in, out, err;
};

static void exec_io_close(struct exec_io *x)
{
	if (x->pty >= 0) close(x->pty);
	if (x->in >= 0) close(x->in);
	if (x->out >= 0) close(x->out);
	if (x->err >= 0) close(x->err);
}

static void exec_upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
			  size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct exec_io *x = cls;
	node_exec_relay(x->n, sock, x->tty, x->pty, x->in, x->out, x->err, extra, extra_len);
	node_exec_finish(x->n, x->id);   /* the exit code is known before the client sees EOF */
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	free(x);
}

static void *exec_detached(void *arg)
{
	struct exec_io *x = arg;
	char buf[4096];
	for (int fd = 0; fd < 3; fd++) {
		int f = fd == 0 ? (x->tty ? x->pty : x->out) : fd == 1 ? (x->tty ? -1 : x->err) : -1;
		while (f >= 0 && read(f, buf, sizeof(buf)) > 0)
			;
	}
	exec_io_close(x);
	node_exec_finish(x->n, x->id);
	free(x);
	return NULL;
}

struct drain {
	int fd;
	FILE *f;
	char *buf;
	size_t len;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	ssize_t n;
	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, d->f);
	return NULL;
}

static enum MHD_Result h_exec_start(struct api *a, struct MHD_Connection *c, const char *id,
				    struct req *rq)
{
	struct sn_err e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	bool detach = false;
	if (rq->len) {
		int r = sn_json_loadb(rq->body, rq->len, "request body", &body, &e);
		if (r < 0)
			return send_err(c, r, &e);
		static const char *const keys[] = { "Detach", "Tty", "ConsoleSize", NULL };
		if ((r = sn_json_only_keys(body, "", keys, &e)) < 0 ||
		    (r = sn_json_bool(body, "", "Detach", &detach, &e)) < 0)
			return send_err(c, r, &e);
	}
	struct exec_io *x = calloc(1, sizeof(*x));
	if (!x)
		return send_error(c, 500, "out of memory");
	x->n = a->n;
	snprintf(x->id, sizeof(x->id), "%s", id);
	int r = node_exec_start(a->n, id, &x->tty, &x->pty, &x->in, &x->out, &x->err, &e);
	if (r < 0) {
		free(x);
		return send_err(c, r, &e);
	}
	if (detach) {
		if (x->in >= 0) {
			close(x->in);
			x->in = -1;
		}
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, exec_detached, x) != 0)
			exec_detached(x);
		pthread_attr_destroy(&at);
		return send_empty(c, 200);
	}
	const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade");
	if (up) {
		struct MHD_Response *resp = MHD_create_response_for_upgrade(exec_upgraded, x);
		MHD_add_response_header(resp, "Upgrade", "tcp");
		MHD_add_response_header(resp, "Connection", "Upgrade");
		MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
		enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	/* No upgrade: no stdin; collect the output (framed unless a TTY). */
	if (x->in >= 0) {
		close(x->in);
		x->in = -1;
	}
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		exec_io_close(x);
		node_exec_finish(a->n, id);
		free(x);
		return send_error(c, 500, "socketpair failed");
	}
	/* nobody writes into sp[1]: the relay sees no input, and no hang-up */
	struct drain d = { .fd = sp[1] };
	d.f = open_memstream(&d.buf, &d.len);
	pthread_t t;
	bool drained = d.f && pthread_create(&t, NULL, drain_main, &d) == 0;
	node_exec_relay(a->n, sp[0], x->tty, x->pty, -1, x->out, x->err, NULL, 0);
	close(sp[0]);   /* the drain thread sees EOF */
	node_exec_finish(a->n, id);
	free(x);
	if (drained)
		pthread_join(t, NULL);
	close(sp[1]);
	if (d.f)
		fclose(d.f);
	struct MHD_Response *resp = d.buf && d.len
		? MHD_create_response_from_buffer(d.len, d.buf, MHD_RESPMEM_MUST_FREE)
		: MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!d.len)
		free(d.buf);
	MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
	enum MHD_Result ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- attach to a Tty subnode's terminal (HTTP upgrade, like exec) */

struct attach_io { struct node *n; int sup; bool in; };

static void attach_upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
			    size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct attach_io *x = cls;
	node_attach_relay(x->n, sock, x->sup, extra, extra_len, x->in);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	free(x);
}

static enum MHD_Result h_attach(struct api *a, struct MHD_Connection *c, const char *id)
{
	if (!MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade"))
		return send_error(c, 400, "attach needs `Connection: Upgrade` and `Upgrade: tcp`");
	struct sn_err e = { 0 };
	struct attach_io *x = calloc(1, sizeof(*x));
	if (!x)
		return send_error(c, 500, "out of memory");
	int r = node_attach_connect(a->n, id, &x->sup, &e);
	if (r < 0) {
		free(x);
		return send_err(c, r, &e);
	}
	x->in = arg_bool(c, "stdin");
	x->n = a->n;
	struct MHD_Response *resp = MHD_create_response_for_upgrade(attach_upgraded, x);
	MHD_add_response_header(resp, "Upgrade", "tcp");
	MHD_add_response_header(resp, "Connection", "Upgrade");
	MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result h_exec(struct api *a, struct MHD_Connection *c, const char *url,
			      const char *method, struct req *rq)
{
	char id[64];
	const char *rest = url + 6;   /* after "/exec/" */
	const char *slash = strchr(rest, '/');
	size_t il = slash ? (size_t)(slash - rest) : strlen(rest);
	if (il == 0 || il >= sizeof(id) || !slash)
		return send_error(c, 404, "page not found");
	memcpy(id, rest, il);
	id[il] = '\0';
	const char *verb = slash + 1;
	struct sn_err e = { 0 };
	int r;
	if (strcmp(verb, "start") == 0 && strcmp(method, "POST") == 0)
		return h_exec_start(a, c, id, rq);
	if (strcmp(verb, "resize") == 0 && strcmp(method, "POST") == 0) {
		long h = arg_long(c, "h"), w = arg_long(c, "w");
		if (h < 1 || w < 1 || h > 65535 || w > 65535)
			return send_error(c, 400, "h and w: must be 1..65535");
		r = node_exec_resize(a->n, id, (unsigned)h, (unsigned)w, &e);
		return r < 0 ? send_err(c, r, &e) : send_empty(c, 200);
	}
	if (strcmp(verb, "json") == 0 && strcmp(method, "GET") == 0) {
		json_t *out = NULL;
		r = node_exec_inspect(a->n, id, &out, &e);
		return r < 0 ? send_err(c, r, &e) : send_json(c, 200, out);
	}
	return send_error(c, 404, "page not found");
}

static enum MHD_Result route(struct api *a, struct MHD_Connection *c, const char *url,
			     const char *method, struct req *rq)
{
	/* strip /v1.41 */
	if (strncmp(url, "/v", 2) == 0 && url[2] >= '0' && url[2] <= '9') {
		const char *slash = strchr(url + 1, '/');
		url = slash ? slash : "/";
	}
	struct sn_err e = { 0 };
	json_t *out = NULL;
	int r;
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(url, "/_ping") == 0) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(2, (void *)"OK", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "Api-Version", NODE_API_VERSION);
		enum MHD_Result ret = MHD_queue_response(c, 200, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (get && strcmp(url, "/version") == 0) {
		node_version(&out);
		return send_json(c, 200, out);
	}
	if (get && strcmp(url, "/info") == 0) {
		r = node_info(a->n, &out, &e);
		return r < 0 ? send_err(c, r, &e) : send_json(c, 200, out);
	}
	if (get && strcmp(url, "/events") == 0)
		return h_events(a, c);
	if (get && strcmp(url, "/containers/json") == 0) {
		_cleanup_json_ json_t *filters = NULL;
		if ((r = parse_filters(c, &filters, &e)) < 0)
			return send_err(c, r, &e);
		r = node_list(a->n, arg_bool(c, "all"), filters, &out, &e);
		return r < 0 ? send_err(c, r, &e) : send_json(c, 200, out);
	}
	if (strncmp(url, "/images/", 8) == 0)
		return h_images(a, c, url, method);
	if (strncmp(url, "/exec/", 6) == 0)
		return h_exec(a, c, url, method, rq);
	if (strcmp(url, "/containers/create") == 0) {
		if (strcmp(method, "POST") != 0)
			return send_error(c, 405, "method not allowed");
		return h_create(a, c, rq);
	}
	if (strncmp(url, "/containers/", 12) == 0) {
		char id[256];
		const char *rest = url + 12;
		const char *slash = strchr(rest, '/');
		size_t il = slash ? (size_t)(slash - rest) : strlen(rest);
		if (il == 0 || il >= sizeof(id))
			return send_error(c, 404, "page not found");
		memcpy(id, rest, il);
		id[il] = '\0';
		return h_container(a, c, method, id, slash ? slash + 1 : NULL, rq);
	}
	return send_error(c, 404, "page not found");
}

static bool token_ok(struct api *a, struct MHD_Connection *c)
{
	if (!a->token)
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	const char *t = h + 7;
	size_t n = strlen(a->token);
	if (strlen(t) != n)
		return false;
	unsigned char d = 0;   /* constant time */
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(t[i] ^ a->token[i]);
	return d == 0;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	struct req *rq = *con_cls;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->len + *upload_size > BODY_MAX) {
			rq->too_big = true;
		} else {
			char *nb = realloc(rq->body, rq->len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			rq->body = nb;
			memcpy(rq->body + rq->len, upload, *upload_size);
			rq->len += *upload_size;
			rq->body[rq->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!token_ok(a, c)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			strlen("{\"message\":\"unauthorized: a valid bearer token is required\"}"),
			(void *)"{\"message\":\"unauthorized: a valid bearer token is required\"}",
			MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Content-Type", "application/json");
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
		enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (rq->too_big)
		return send_error(c, 413, "request body larger than 1 MiB");
	sn_debug("%s %s", method, url);
	return route(a, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t l = strlen(buf);
	while (l && buf[l - 1] == '\n')
		buf[--l] = '\0';
	sn_debug("http: %s", buf);
}

static int start(struct node *n, int listen_fd, const char *token, const char *cert,
		 const char *key, struct api **out, struct sn_err *err)
{
	struct api *a = calloc(1, sizeof(*a));
	if (!a)
		return sn_err_set(err, ENOMEM, "api");
	a->n = n;
	if (token && !(a->token = strdup(token))) {
		free(a);
		return sn_err_set(err, ENOMEM, "api");
	}
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE | (cert ? MHD_USE_TLS : 0);
	a->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, a,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
				MHD_OPTION_HTTPS_MEM_CERT, cert ? cert : "",
				MHD_OPTION_HTTPS_MEM_KEY, key ? key : "",
				MHD_OPTION_LISTEN_SOCKET, listen_fd,
				MHD_OPTION_NOTIFY_COMPLETED, completed, a,
				MHD_OPTION_CONNECTION_LIMIT, 1024u,
				MHD_OPTION_END);
	if (!a->d) {
		free(a->token);
		free(a);
		return sn_err_msg(err, EIO, "start the HTTP server (libmicrohttpd)");
	}
	*out = a;
	return 0;
}

int api_start(struct node *n, int listen_fd, const char *token, struct api **out,
	      struct sn_err *err)
{
	return start(n, listen_fd, token, NULL, NULL, out, err);
}

int api_start_tls(struct node *n, int listen_fd, const char *token, const char *cert_pem,
		  const char *key_pem, struct api **out, struct sn_err *err)
{
	return start(n, listen_fd, token, cert_pem, key_pem, out, err);
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	__atomic_store_n(&a->n->stopping, 1, __ATOMIC_RELAXED);   /* upgraded streams end */
	MHD_stop_daemon(a->d);
	free(a->token);
	free(a);
}
