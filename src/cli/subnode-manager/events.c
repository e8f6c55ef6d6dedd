/* events.c — GET /v1/events, the dashboard's live feed (events.h;
 * docs/API.md, Manager): a text/event-stream whose first event `state`
 * carries everything the dashboard shows with the nodes' CPU and memory
 * history (mgr_dashboard with series), then one `state` event (without
 * the history: each node's last sample) after every change — a committed
 * step or a heartbeat — at most four a second, and a comment every 15 s
 * of quiet so that proxies and the browser keep the connection.
 *
 * The server has a thread per connection, so the stream's reader blocks
 * in mgr_wait_change (a condition variable the manager broadcasts on each
 * change) for at most a second at a time, then looks whether the server
 * is stopping. Streams are bounded (--events-max, default 64): each holds
 * a thread of the server; past the bound the answer is 503. Events after the first are made once a quarter
 * second and shared by every stream (shared_event), so the cost of a change
 * does not grow with the pages open. A whole state per event is simple
 * and, for a network of a few hundred nodes, small (~33 KB for 100 nodes);
 * deltas are the step after.
 */
#include "events.h"
#include "web.h"
#include "base/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUIET_MS 15000
#define MIN_GAP_MS 250

static atomic_int open_streams;
static int max_streams = 64;
static volatile int *stopping;

struct stream {
	struct mgr_api *api;
	uint64_t gen;
	bool sent;             /* the first event (with history) is out */
	char *buf;
	size_t len, off;
	int64_t last_ms;       /* when the last event was made (monotonic) */
};

void events_setup(int max, volatile int *stop)
{
	max_streams = max;
	stopping = stop;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An event's text (malloc'ed): the state (ok), or a problem; gen: the
 * change count the state was read at. */
static char *render(struct mgr_api *api, bool series, size_t *len, uint64_t *gen, bool *ok)
{
	struct sn_err err = { 0 };
	json_t *d = NULL;
	char *text = NULL, *ev = NULL;
	int r = mgr_dashboard(api->m, series, &d, &err);
	if (r == 0) {
		*gen = (uint64_t)json_integer_value(json_object_get(d, "gen"));
		text = json_dumps(d, JSON_COMPACT);
		json_decref(d);
	} else {
		sn_warn("events: %s", err.msg);
	}
	int n = text ? asprintf(&ev, "event: state\ndata: %s\n\n", text) :
		asprintf(&ev, "event: problem\ndata: {\"message\":\"dashboard: %s\"}\n\n",
			 r ? "cannot read the registry" : "out of memory");
	*ok = text != NULL;
	free(text);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return ev;
}

/* The state without history, made once a slot of MIN_GAP_MS for every
 * stream: streams send at the start of a slot (reader), so ten pages cost
 * the manager one snapshot a slot, not ten. */
static struct {
	pthread_mutex_t mu;
	int64_t slot;
	char *text;
	size_t len;
	uint64_t gen;
} shared = { .mu = PTHREAD_MUTEX_INITIALIZER, .slot = -1 };

static char *shared_event(struct mgr_api *api, size_t *len, uint64_t *gen)
{
	int64_t slot = mono_ms() / MIN_GAP_MS;
	pthread_mutex_lock(&shared.mu);
	if (shared.slot != slot || !shared.text) {
		uint64_t g = shared.gen;
		size_t n = 0;
		bool ok;
		char *t = render(api, false, &n, &g, &ok);
		if (t) {
			free(shared.text);
			shared.text = t;
			shared.len = n;
			shared.gen = g;
			shared.slot = slot;
		}
	}
	char *copy = shared.text ? malloc(shared.len + 1) : NULL;
	if (copy) {
		memcpy(copy, shared.text, shared.len + 1);
		*len = shared.len;
		*gen = shared.gen;
	}
	pthread_mutex_unlock(&shared.mu);
	return copy;
}

/* The next event into s->buf: the first with the history, made for this
 * stream alone; the later ones shared. */
static void make_event(struct stream *s)
{
	free(s->buf);
	s->off = 0;
	s->len = 0;
	bool ok = true;
	s->buf = s->sent ? shared_event(s->api, &s->len, &s->gen) :
		 render(s->api, true, &s->len, &s->gen, &ok);
	s->sent = s->sent || ok;
	s->last_ms = mono_ms();
}

static void pause_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;   /* EINTR: go on with the rest */
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *s = cls;
	int quiet = 0;
	while (s->off >= s->len) {
		if (stopping && *stopping)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!s->sent) {
			if (s->last_ms)
				pause_ms(1000);   /* the first failed: a problem event a second */
			make_event(s);
			continue;
		}
		uint64_t g = mgr_wait_change(s->api->m, s->gen, 1000);
		if (g == s->gen) {
			quiet += 1000;
			if (quiet < QUIET_MS)
				continue;
			free(s->buf);
			s->buf = strdup(": quiet\n\n");
			s->len = s->buf ? strlen(s->buf) : 0;
			s->off = 0;
			break;
		}
		/* at most one event a slot: a change in the slot of the last
		 * event waits for the next slot (changes in a burst: one event) */
		int64_t now = mono_ms();
		if (now / MIN_GAP_MS == s->last_ms / MIN_GAP_MS)
			pause_ms(MIN_GAP_MS - now % MIN_GAP_MS);
		make_event(s);
	}
	size_t n = s->len - s->off < max ? s->len - s->off : max;
	memcpy(out, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	free(s->buf);
	free(s);
	atomic_fetch_sub(&open_streams, 1);
}

static enum MHD_Result refuse(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(msg), (void *)msg,
								 MHD_RESPMEM_PERSISTENT);
	return r ? web_queue(conn, status, r, "application/json", false) : MHD_NO;
}

enum MHD_Result events_start(struct MHD_Connection *conn, struct mgr_api *api)
{
	if (atomic_fetch_add(&open_streams, 1) >= max_streams) {
		atomic_fetch_sub(&open_streams, 1);
		return refuse(conn, 503, "{\"message\":\"too many event streams open"
			      " (--events-max); try again later\"}");
	}
	struct stream *s = calloc(1, sizeof(*s));
	if (!s) {
		atomic_fetch_sub(&open_streams, 1);
		return MHD_NO;
	}
	s->api = api;
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
								   reader, s, stream_free);
	if (!r) {
		stream_free(s);
		return MHD_NO;
	}
	return web_queue(conn, MHD_HTTP_OK, r, "text/event-stream", false);
}
