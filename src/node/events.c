/* events.c — the node's event stream: a ring of the last 1024 events with a
 * sequence number, and a condition variable for streaming readers.
 *
 * The ring keeps each event as its JSON text (~300 bytes), not as a jansson
 * object (~900 bytes in a dozen small allocations): a full ring is ~0.3 MiB
 * of the daemon's heap instead of ~0.9 MiB, in 1024 blocks instead of
 * 12,000. Readers get objects, parsed as they are handed out.
 *
 * Shapes follow Docker's /events: {"Type":"container","Action":"start",
 * "Actor":{"ID":..,"Attributes":{"name":..,"image":..}},"time":s,"timeNano":ns}
 * plus "id" and "status" (the legacy fields docker clients still read).
 * Events are not persisted: a reader that needs history across a daemon
 * restart reads inspect instead.
 *
 * Besides the condition variable (for threads that block), an eventfd is
 * made readable by every event, for an event loop that waits on fds (the
 * HTTP layer's hub): it says "something new", the ring says what.
 */
#include "node/node.h"
#include "base/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define RING 1024

struct node_events {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *ring[RING];
	uint64_t seq;
	int efd;        /* readable after each event (reader resets it) */   /* number of events ever; event k (1-based) at ring[(k-1) % RING] */
};

int64_t node_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void node_time_str(int64_t ns, char buf[40])
{
	if (ns <= 0) {
		snprintf(buf, 40, "0001-01-01T00:00:00Z");
		return;
	}
	time_t s = (time_t)(ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 40 - n, ".%09lldZ", (long long)(ns % 1000000000LL));
}

int node_events_new(struct node_events **out)
{
	struct node_events *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->efd < 0) {
		int r = -errno;
		free(e);
		return r;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = e;
	return 0;
}

void node_events_free(struct node_events *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < RING; i++)
		free(e->ring[i]);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	close(e->efd);
	free(e);
}

void node_event(struct node *n, const char *type, const char *action, const char *id,
		json_t *attributes)
{
	struct node_events *e = n->events;
	int64_t ns = node_now_ns();
	json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:o}, s:I, s:I, s:s, s:s, s:s}", "Type", type,
		"Action", action, "Actor", "ID", id, "Attributes", attributes ? attributes : json_object(),
		"time", (json_int_t)(ns / 1000000000LL), "timeNano", (json_int_t)ns, "id", id,
		"status", action, "scope", "local");
	char *txt = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (!txt)
		return;
	pthread_mutex_lock(&e->lock);
	size_t slot = e->seq % RING;
	free(e->ring[slot]);
	e->ring[slot] = txt;
	e->seq++;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	uint64_t one = 1;
	(void)!write(e->efd, &one, sizeof(one));
}

int node_events_fd(struct node *n)
{
	return n->events->efd;
}

uint64_t node_events_seq(struct node *n)
{
	pthread_mutex_lock(&n->events->lock);
	uint64_t s = n->events->seq;
	pthread_mutex_unlock(&n->events->lock);
	return s;
}

/* Copy events (after, seq] into an array; caller holds the lock. */
static json_t *collect(struct node_events *e, uint64_t after)
{
	json_t *a = json_array();
	if (after + RING < e->seq)
		after = e->seq - RING;
	for (uint64_t k = after; k < e->seq; k++) {
		json_t *ev = json_loads(e->ring[k % RING], 0, NULL);
		if (ev)
			json_array_append_new(a, ev);
	}
	return a;
}

json_t *node_events_wait(struct node *n, uint64_t after, int timeout_ms, uint64_t *next)
{
	struct node_events *e = n->events;
	struct timespec dl = sn_deadline_after(timeout_ms);
	pthread_mutex_lock(&e->lock);
	while (e->seq <= after)
		if (pthread_cond_timedwait(&e->cond, &e->lock, &dl) == ETIMEDOUT)
			break;
	json_t *a = collect(e, after);
	*next = e->seq;
	pthread_mutex_unlock(&e->lock);
	return a;
}

json_t *node_events_since(struct node *n, int64_t since, int64_t until, uint64_t *next)
{
	struct node_events *e = n->events;
	pthread_mutex_lock(&e->lock);
	json_t *all = collect(e, 0);
	*next = e->seq;
	pthread_mutex_unlock(&e->lock);
	json_t *a = json_array();
	size_t i;
	json_t *ev;
	json_array_foreach(all, i, ev) {
		json_int_t t = json_integer_value(json_object_get(ev, "time"));
		if (t >= since && (until <= 0 || t <= until))
			json_array_append(a, ev);
	}
	json_decref(all);
	return a;
}
