/* hub.c — resuming suspended connections (the api layer: generic HTTP
 * plumbing that subnoded uses and the manager daemon will).
 *
 * libmicrohttpd runs the API on a small pool of threads that must never
 * block. A request that has to wait — a `logs -f` with nothing new, an
 * event stream between events, `wait` on a running subnode, a pull whose
 * image tool has not written yet, an upload whose tool is not reading yet —
 * suspends its connection (MHD_suspend_connection, from the access handler
 * or the content reader) and registers here what would let it go on. This
 * thread waits for all of them at once with one epoll set and a list of
 * deadlines, and resumes each connection once; libmicrohttpd then calls its
 * handler or reader again, which does the next bit of work or registers
 * again. So dozens of idle streams hold no thread and cost no CPU, and the
 * short requests never queue behind them.
 *
 * Registrations are one-shot and owned here: each has an id (the epoll
 * data), so an event already fetched for a registration that fired a moment
 * ago finds nothing and is dropped — the stream behind it may be gone. A
 * registration's fds are removed from the epoll set before its connection
 * is resumed, so its owner may close them as soon as it runs again.
 *
 * The client hanging up is watched as EPOLLRDHUP on the connection's socket
 * (libmicrohttpd does not look at suspended connections). Node events come
 * through events_fd, an eventfd; every registration that asked for
 * "the next node event" is resumed when it is readable.
 *
 * The hub also trims the heap (malloc_trim) a second after the last request
 * ended (hub_trim_later): a `ps` of 128 subnodes leaves ~0.5 MiB of freed
 * heap that nothing else would give back.
 *
 * hub_drain, at shutdown, resumes everything and then resumes new
 * registrations at once: libmicrohttpd aborts when stopped with a
 * connection still suspended.
 */
#include "hub.h"
#include "base/clock.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define ID_WAKE 1
#define ID_EVENTS 2
#define ID_FIRST 16

struct reg {
	uint64_t id;
	struct MHD_Connection *c;
	int fd[HUB_MAX_FDS];
	int64_t deadline;    /* CLOCK_MONOTONIC ms; -1: none */
	bool event;
	struct reg *next;
};

struct hub {
	pthread_mutex_t lock;
	struct reg *regs;
	uint64_t next_id;
	int ep, wake, events_fd;
	int64_t trim_at;     /* CLOCK_MONOTONIC ms; -1: none due */
	bool draining, stop;
	pthread_t thread;
};

int hub_conn_fd(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

/* Take r out of the list and the epoll set (lock held). */
static void unlink_reg(struct hub *h, struct reg *r)
{
	for (struct reg **p = &h->regs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	for (int i = 0; i < HUB_MAX_FDS; i++)
		if (r->fd[i] >= 0)
			epoll_ctl(h->ep, EPOLL_CTL_DEL, r->fd[i], NULL);
	r->next = NULL;
}

static void resume_all(struct reg *fired)
{
	while (fired) {
		struct reg *n = fired->next;
		MHD_resume_connection(fired->c);
		free(fired);
		fired = n;
	}
}

void hub_wait(struct hub *h, struct MHD_Connection *c, const struct hub_want *w)
{
	struct reg *r = calloc(1, sizeof(*r));
	pthread_mutex_lock(&h->lock);
	if (!r || h->draining) {
		pthread_mutex_unlock(&h->lock);
		free(r);
		MHD_resume_connection(c);
		return;
	}
	r->id = h->next_id++;
	r->c = c;
	r->deadline = w->timeout_ms >= 0 ? sn_now_ms() + w->timeout_ms : -1;
	r->event = w->event;
	bool ok = true;
	for (int i = 0; i < HUB_MAX_FDS; i++) {
		r->fd[i] = -1;
		if (w->fd[i] < 0 || !ok)
			continue;
		struct epoll_event ev = { .events = w->events[i], .data.u64 = r->id };
		if (epoll_ctl(h->ep, EPOLL_CTL_ADD, w->fd[i], &ev) == 0)
			r->fd[i] = w->fd[i];
		else
			ok = false;   /* resume at once: the caller will look again */
	}
	if (!ok) {
		unlink_reg(h, r);
		pthread_mutex_unlock(&h->lock);
		free(r);
		MHD_resume_connection(c);
		return;
	}
	r->next = h->regs;
	h->regs = r;
	/* r may be fired and freed by the hub as soon as the lock is gone */
	bool wake = r->deadline >= 0 || r->event;
	pthread_mutex_unlock(&h->lock);
	if (wake) {
		uint64_t one = 1;   /* let the hub recompute its timeout */
		(void)!write(h->wake, &one, sizeof(one));
	}
}

static void *hub_main(void *arg)
{
	struct hub *h = arg;
	struct epoll_event evs[64];
	for (;;) {
		pthread_mutex_lock(&h->lock);
		if (h->stop) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		int64_t next = h->trim_at, now = sn_now_ms();
		for (struct reg *r = h->regs; r; r = r->next)
			if (r->deadline >= 0 && (next < 0 || r->deadline < next))
				next = r->deadline;
		pthread_mutex_unlock(&h->lock);
		int timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
		int n = epoll_wait(h->ep, evs, 64, timeout);
		if (n < 0 && errno != EINTR)
			break;
		bool event = false;
		struct reg *fired = NULL;
		pthread_mutex_lock(&h->lock);
		for (int i = 0; i < n; i++) {
			uint64_t id = evs[i].data.u64, v;
			if (id == ID_WAKE) {
				(void)!read(h->wake, &v, sizeof(v));
				continue;
			}
			if (id == ID_EVENTS) {
				(void)!read(h->events_fd, &v, sizeof(v));
				event = true;
				continue;
			}
			for (struct reg *r = h->regs; r; r = r->next)
				if (r->id == id) {
					unlink_reg(h, r);
					r->next = fired;
					fired = r;
					break;
				}
		}
		now = sn_now_ms();
		bool trim = h->trim_at >= 0 && h->trim_at <= now;
		if (trim)
			h->trim_at = -1;
		for (struct reg **p = &h->regs; *p;) {
			struct reg *r = *p;
			if ((event && r->event) || (r->deadline >= 0 && r->deadline <= now)) {
				unlink_reg(h, r);
				r->next = fired;
				fired = r;
			} else {
				p = &r->next;
			}
		}
		pthread_mutex_unlock(&h->lock);
		resume_all(fired);
		if (trim)
			malloc_trim(0);
	}
	return NULL;
}

void hub_trim_later(struct hub *h, int ms)
{
	pthread_mutex_lock(&h->lock);
	bool was = h->trim_at >= 0;
	h->trim_at = sn_now_ms() + ms;
	pthread_mutex_unlock(&h->lock);
	if (!was) {
		uint64_t one = 1;   /* a new deadline: let the hub look */
		(void)!write(h->wake, &one, sizeof(one));
	}
}

int hub_start(int events_fd, struct hub **out)
{
	struct hub *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	h->next_id = ID_FIRST;
	h->events_fd = events_fd;
	h->trim_at = -1;
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ew = { .events = EPOLLIN, .data.u64 = ID_WAKE };
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = ID_EVENTS };
	int r = 0;
	if (h->ep < 0 || h->wake < 0 || epoll_ctl(h->ep, EPOLL_CTL_ADD, h->wake, &ew) < 0 ||
	    (events_fd >= 0 && epoll_ctl(h->ep, EPOLL_CTL_ADD, events_fd, &ee) < 0))
		r = -errno;
	if (r == 0) {
		/* A small stack: the loop uses a few hundred bytes of its own. */
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 64 << 10);
		r = -pthread_create(&h->thread, &at, hub_main, h);
		pthread_attr_destroy(&at);
	}
	if (r < 0) {
		if (h->ep >= 0)
			close(h->ep);
		if (h->wake >= 0)
			close(h->wake);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return r;
	}
	*out = h;
	return 0;
}

void hub_drain(struct hub *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->draining = true;
	struct reg *fired = NULL;
	while (h->regs) {
		struct reg *r = h->regs;
		unlink_reg(h, r);
		r->next = fired;
		fired = r;
	}
	pthread_mutex_unlock(&h->lock);
	resume_all(fired);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	hub_drain(h);
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_mutex_unlock(&h->lock);
	uint64_t one = 1;
	(void)!write(h->wake, &one, sizeof(one));
	pthread_join(h->thread, NULL);
	close(h->ep);
	close(h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
