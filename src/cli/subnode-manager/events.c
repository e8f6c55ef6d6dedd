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
 * a thread, and each change costs one snapshot per stream; past the bound
 * the answer is 503. A whole state per event is simple and, for a network
 * of a few hundred nodes, small; deltas are the step after.
 */
#include "events.h"
#include "web.h"
#include "base/log.h"

#include <jansson.h>
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

/* The next event into s->buf: the state, or an error event. */
static void make_event(struct stream *s)
{
	struct sn_err err = { 0 };
	json_t *d = NULL;
	char *text = NULL;
	int r = mgr_dashboard(s->api->m, !s->sent, &d, &err);
	if (r == 0) {
		s->gen = (uint64_t)json_integer_value(json_object_get(d, "gen"));
		text = json_dumps(d, JSON_COMPACT);
		json_decref(d);
	}
	free(s->buf);
	s->buf = NULL;
	s->off = 0;
	int n;
	if (text)
		n = asprintf(&s->buf, "event: state\ndata: %s\n\n", text);
	else
		n = asprintf(&s->buf, "event: problem\ndata: {\"message\":\"dashboard: %s\"}\n\n",
			     r ? "cannot read the registry" : "out of memory");
	if (r)
		sn_warn("events: %s", err.msg);
	bool made = text != NULL;
	free(text);
	s->len = n < 0 ? 0 : (size_t)n;
	if (n < 0)
		s->buf = NULL;
	s->sent = s->sent || made;
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
		int64_t gap = mono_ms() - s->last_ms;
		if (gap < MIN_GAP_MS)
			pause_ms(MIN_GAP_MS - gap);   /* changes in a burst: one event */
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
