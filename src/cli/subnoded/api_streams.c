/* api_streams.c — the API's long responses: logs (follow), events, stats
 * (a line a second) and wait. None holds a thread while it has nothing to
 * send: its content reader (or handler) suspends the connection and asks
 * the hub (api/hub.c) to resume it — logs after 100 ms (the file may have
 * grown), events at the next node event, stats at the next second, wait
 * at the next node event or after 200 ms — or when the client hangs up.
 */
#include "api_internal.h"
#include "base/clock.h"
#include "node/logs.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>

/* ---- logs */

struct log_stream {
	struct api *a;
	struct node_logs *l;
	struct MHD_Connection *c;
};

static ssize_t log_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct log_stream *s = cls;
	ssize_t r = node_logs_read(s->l, buf, max);
	if (r > 0)
		return r;
	if (r == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (api_client_gone(s->c))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	struct hub_want w = api_want();
	w.timeout_ms = 100;   /* the supervisor appends to the file: look again */
	return api_stream_wait(s->a, s->c, &w);
}

static void log_free(void *cls)
{
	struct log_stream *s = cls;
	node_logs_close(s->l);
	free(s);
}

enum MHD_Result api_logs(struct api *a, struct MHD_Connection *c, const char *id)
{
	struct node_logs_opts o = { .out = api_arg_bool(c, "stdout"), .err = api_arg_bool(c, "stderr"),
				    .timestamps = api_arg_bool(c, "timestamps"),
				    .follow = api_arg_bool(c, "follow"), .raw = api_arg_bool(c, "raw"),
				    .tail = -1 };
	if (!o.out && !o.err)
		return api_send_error(c, 400, "you must choose at least one stream (stdout=1 or stderr=1)");
	const char *s;
	if ((s = api_arg(c, "since")) && strcmp(s, "0") && node_parse_time(s, &o.since) < 0)
		return api_send_error(c, 400, "since: not a time (unix seconds or RFC 3339)");
	if ((s = api_arg(c, "until")) && strcmp(s, "0") && node_parse_time(s, &o.until) < 0)
		return api_send_error(c, 400, "until: not a time (unix seconds or RFC 3339)");
	if ((s = api_arg(c, "tail")) && strcmp(s, "all") != 0) {
		long t = api_arg_long(c, "tail");
		if (t < 0)
			return api_send_error(c, 400, "tail: must be a number or `all`");
		o.tail = t;
	}
	struct sn_err e = { 0 };
	struct log_stream *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return api_send_error(c, 500, "out of memory");
	int r = node_logs_open(a->n, id, &o, &ls->l, &e);
	if (r < 0) {
		free(ls);
		return api_send_err(c, r, &e);
	}
	ls->a = a;
	ls->c = c;
	return api_send_stream(c, o.raw ? "text/plain" : "application/vnd.docker.raw-stream", 4096,
			       log_reader, ls, log_free);
}

/* ---- events */

struct ev_stream {
	struct api *a;
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
		const char *wk;
		_cleanup_json_ json_t *vals = json_is_array(want) ? json_incref(want) : json_array();
		json_object_foreach(want, wk, w)   /* Docker's {"x": true} shape */
			if (json_is_true(w))
				json_array_append_new(vals, json_string(wk));
		json_array_foreach(vals, j, w) {
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
	size_t i;
	json_t *ev;
	json_array_foreach(evs, i, ev)
		if (ev_match(s->filters, ev))
			api_pending_line(&s->pending, &s->plen, json_incref(ev));
	s->poff = 0;
}

static ssize_t ev_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ev_stream *s = cls;
	for (;;) {
		ssize_t got = api_drain_pending(&s->pending, &s->plen, &s->poff, buf, max);
		if (got > 0)
			return got;
		int64_t now = node_now_ns() / 1000000000LL;
		if (s->until && now > s->until)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (api_client_gone(s->c))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		json_t *evs = node_events_wait(s->a->n, s->next, 0, &s->next);
		ev_queue(s, evs);
		json_decref(evs);
		if (s->plen)
			continue;
		struct hub_want w = api_want();
		w.event = true;
		if (s->until)
			w.timeout_ms = (int)((s->until - now + 1) * 1000);
		return api_stream_wait(s->a, s->c, &w);
	}
}

static void ev_free(void *cls)
{
	struct ev_stream *s = cls;
	json_decref(s->filters);
	free(s->pending);
	free(s);
}

enum MHD_Result api_events(struct api *a, struct MHD_Connection *c)
{
	struct sn_err e = { 0 };
	struct ev_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return api_send_error(c, 500, "out of memory");
	s->a = a;
	s->c = c;
	static const char *const keys[] = { "type", "event", "container", NULL };
	int r = api_parse_filters(c, keys, &s->filters, &e);
	if (r < 0) {
		free(s);
		return api_send_err(c, r, &e);
	}
	int64_t since = 0, until = 0;
	const char *v;
	if (((v = api_arg(c, "since")) && node_parse_time(v, &since) < 0) ||
	    ((v = api_arg(c, "until")) && node_parse_time(v, &until) < 0)) {
		ev_free(s);
		return api_send_error(c, 400, "since/until: not a time (unix seconds or RFC 3339)");
	}
	s->until = until / 1000000000LL;
	if (since) {
		json_t *past = node_events_since(a->n, since / 1000000000LL, s->until, &s->next);
		ev_queue(s, past);
		json_decref(past);
	} else {
		s->next = node_events_seq(a->n);
	}
	return api_send_stream(c, "application/json", 4096, ev_reader, s, ev_free);
}

/* ---- stats: one-shot (stream=0) or a JSON line a second, each carrying
 * the previous sample as precpu_stats (Docker's shape). */

struct stats_stream {
	struct api *a;
	struct MHD_Connection *c;
	char id[256];
	json_t *prev;
	char *pending;
	size_t plen, poff;
	int64_t next_ms;     /* when the next sample is due */
};

static json_t *stats_sample(struct stats_stream *s, struct sn_err *e)
{
	json_t *cur = NULL;
	if (node_stats(s->a->n, s->id, &cur, e) < 0)
		return NULL;
	json_object_set_new(cur, "precpu_stats",
			    s->prev ? json_incref(json_object_get(s->prev, "cpu_stats")) : json_object());
	json_decref(s->prev);
	s->prev = json_incref(cur);
	return cur;
}

static ssize_t stats_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stats_stream *s = cls;
	for (;;) {
		ssize_t got = api_drain_pending(&s->pending, &s->plen, &s->poff, buf, max);
		if (got > 0)
			return got;
		if (api_client_gone(s->c))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		int64_t now = sn_now_ms();
		if (now < s->next_ms) {
			struct hub_want w = api_want();
			w.timeout_ms = (int)(s->next_ms - now);
			return api_stream_wait(s->a, s->c, &w);
		}
		s->next_ms = now + 1000;
		struct sn_err e = { 0 };
		json_t *j = stats_sample(s, &e);
		if (!j)
			return MHD_CONTENT_READER_END_OF_STREAM;   /* removed meanwhile */
		api_pending_line(&s->pending, &s->plen, j);
		if (!s->plen)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void stats_free(void *cls)
{
	struct stats_stream *s = cls;
	json_decref(s->prev);
	free(s->pending);
	free(s);
}

/* stream=0 without one-shot: the second sample, 100 ms after the first. */
static enum MHD_Result stats_second(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	struct stats_stream *s = rq->ctx;
	struct sn_err e = { 0 };
	json_t *j = stats_sample(s, &e);
	return j ? api_send_json(c, 200, j) : api_send_err(c, -e.code, &e);
}

enum MHD_Result api_stats(struct api *a, struct MHD_Connection *c, struct req *rq, const char *id)
{
	struct stats_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return api_send_error(c, 500, "out of memory");
	s->a = a;
	s->c = c;
	snprintf(s->id, sizeof(s->id), "%s", id);
	struct sn_err e = { 0 };
	json_t *j = stats_sample(s, &e);
	if (!j) {
		stats_free(s);
		return api_send_err(c, -e.code, &e);
	}
	const char *st = api_arg(c, "stream");
	if (st && (strcmp(st, "0") == 0 || strcasecmp(st, "false") == 0)) {
		/* Sample twice 100 ms apart so precpu_stats is useful, unless the
		 * client asked for one-shot (it keeps its own previous sample). */
		if (api_arg_bool(c, "one-shot")) {
			stats_free(s);
			return api_send_json(c, 200, j);
		}
		json_decref(j);
		rq->ctx = s;
		rq->ctx_free = stats_free;
		struct hub_want w = api_want();
		w.timeout_ms = 100;
		return api_wait(a, c, rq, &w, stats_second);
	}
	api_pending_line(&s->pending, &s->plen, j);
	s->next_ms = sn_now_ms() + 1000;
	return api_send_stream(c, "application/json", 4096, stats_reader, s, stats_free);
}

/* ---- wait: until the subnode is not running (nor restarting)
 *
 * Docker's conditions: not-running (the default) answers at once for a
 * subnode that does not run; next-exit, which `docker run` asks before it
 * starts the container, also waits through `created` (never started) for
 * the exit to come; removed waits on after that exit until the subnode is
 * gone (AutoRemove, or a remove), with the exit code it had.
 *
 * A wait that must wait answers 200 at once and sends its JSON when the
 * condition holds, as Docker's daemon does: Docker's clients return from
 * ContainerWait only once the response has begun, and `docker run` starts
 * the container after that. */

enum wait_cond { W_NOT_RUNNING, W_NEXT_EXIT, W_REMOVED };

struct wait_stream {
	struct api *a;
	struct MHD_Connection *c;
	char id[256];
	enum wait_cond cond;
	bool seen;           /* found once: for removed, its end is to come */
	int code;            /* the exit code seen last (removed) */
	bool done;
	char *pending;
	size_t plen, poff;
};

/* 1 and *code when the condition holds, 0 not yet, -errno. */
static int wait_holds(struct wait_stream *w, int *code, struct sn_err *e)
{
	struct node *n = w->a->n;
	if (w->cond != W_NOT_RUNNING) {
		_cleanup_json_ json_t *row = NULL;
		int r = node_find(n, w->id, &row, e);
		if (r == -ENOENT && w->cond == W_REMOVED && w->seen) {
			*code = w->code;   /* gone: the code it ended with */
			return 1;
		}
		if (r < 0)
			return r;
		if (!w->seen)   /* from here on, by id: a name may be reused */
			snprintf(w->id, sizeof(w->id), "%s", json_string_value(json_object_get(row, "id")));
		w->seen = true;
		if (strcmp(json_string_value(json_object_get(row, "state")) ?: "", "created") == 0)
			return 0;   /* not started yet: its exit is to come */
	}
	int r = node_wait(n, w->id, 0, code, e);
	if (r == -ETIMEDOUT)
		return 0;
	if (r == 0 && w->cond == W_REMOVED) {
		w->code = *code;
		return 0;
	}
	return r < 0 ? r : 1;
}

static ssize_t wait_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct wait_stream *w = cls;
	ssize_t got = api_drain_pending(&w->pending, &w->plen, &w->poff, buf, max);
	if (got > 0)
		return got;
	if (w->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (api_client_gone(w->c))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	int code = 0;
	struct sn_err e = { 0 };
	int r = wait_holds(w, &code, &e);
	if (r == 0) {
		/* a die event, or the supervisor gone without one: look again */
		struct hub_want hw = api_want();
		hw.event = true;
		hw.timeout_ms = 200;
		return api_stream_wait(w->a, w->c, &hw);
	}
	w->done = true;
	api_pending_line(&w->pending, &w->plen, r < 0 ?
		json_pack("{s:i, s:{s:s}}", "StatusCode", -1, "Error", "Message", e.msg) :
		json_pack("{s:i, s:n}", "StatusCode", code, "Error"));
	got = api_drain_pending(&w->pending, &w->plen, &w->poff, buf, max);
	return got > 0 ? got : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void wait_free(void *cls)
{
	struct wait_stream *w = cls;
	free(w->pending);
	free(w);
}

enum MHD_Result api_wait_exit(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	long t = api_arg_long(c, "t");
	if (t == -2 || t > 3600)
		return api_send_error(c, 400, "t: must be a number of seconds (0..3600)");
	const char *cond = api_arg(c, "condition");
	enum wait_cond wc;
	if (!cond || !*cond || strcmp(cond, "not-running") == 0)
		wc = W_NOT_RUNNING;
	else if (strcmp(cond, "next-exit") == 0)
		wc = W_NEXT_EXIT;
	else if (strcmp(cond, "removed") == 0)
		wc = W_REMOVED;
	else
		return api_send_error(c, 400, "condition: must be not-running, next-exit or removed");
	struct wait_stream *w = calloc(1, sizeof(*w));
	if (!w)
		return api_send_error(c, 500, "out of memory");
	w->a = a;
	w->c = c;
	w->cond = wc;
	snprintf(w->id, sizeof(w->id), "%s", rq->id);
	int code = 0;
	struct sn_err e = { 0 };
	int r = wait_holds(w, &code, &e);   /* an error or an answer at once: a plain reply */
	if (r != 0) {
		wait_free(w);
		return r < 0 ? api_send_err(c, r, &e) :
		       api_send_json(c, 200, json_pack("{s:i, s:n}", "StatusCode", code, "Error"));
	}
	return api_send_stream(c, "application/json", 256, wait_reader, w, wait_free);
}
