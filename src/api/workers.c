/* workers.c — the pool that runs the API's blocking operations.
 *
 * The HTTP threads (libmicrohttpd's pool) must not block. An operation
 * that may — a create (snapshot, bundle, the runtime), a start (the
 * supervisor's first start), a stop (up to its timeout), a remove, an exec,
 * an import — is handed here with its connection suspended; a worker runs
 * it and resumes the connection, whose handler then sends the result.
 *
 * The pool is elastic and bounded: a thread is started when work is queued
 * and no thread is idle, up to `max`; a thread idle for `idle_s` seconds
 * ends, and the last one to end trims the heap (malloc_trim): the burst's
 * freed memory goes back a second after it. A burst of 16 parallel creates
 * gets `max` threads for a moment; an idle daemon has none. Past `max` the
 * work waits in the queue (in order), up to `queue_max` jobs: past that
 * the submitter answers 503 with Retry-After (workers_full) rather than
 * queueing without bound behind operations that may last.
 * Threads have 1 MiB of stack reserved (only what they touch is resident).
 * glibc keeps the stacks of ended threads for reuse, with all but the 16 KiB
 * below the last frame and the thread's control block given back; a thread
 * gives those 16 KiB back itself before it ends (thread_release_stack), so
 * a cached stack holds ~8 KiB and `max` bounds what a burst leaves behind.
 * (Before, the daemon re-executed itself with glibc.pthread.stack_cache_size
 * = 0 for the same end.) The daemon
 * has two pools (api.c): one for operations of a moment and one for those
 * that may wait long (a stop waits up to its timeout), so the second cannot
 * starve the first.
 *
 * Why not a thread per connection (as before): idle streams (`logs -f`,
 * `events`, `stats`) held a thread each for their whole life, and the
 * number of threads — with their stacks and glibc's per-thread state — was
 * bounded only by the connection limit. Streams now wait in hub.c, holding
 * no thread.
 */
#include "workers.h"
#include "base/clock.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;       /* work queued, or stop */
	pthread_cond_t done;       /* a thread ended */
	struct work *head, *tail;
	unsigned max, idle_s;
	unsigned queued, queue_max;   /* jobs waiting; their bound (0: none) */
	unsigned threads, idle;
	bool stop;
};

void thread_release_stack(void)
{
	pthread_attr_t at;
	void *addr = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &at) != 0)
		return;
	pthread_attr_getstack(&at, &addr, &size);
	pthread_attr_destroy(&at);
	long page = sysconf(_SC_PAGESIZE);
	char here;
	uintptr_t lo = (uintptr_t)addr, hi = ((uintptr_t)&here - (uintptr_t)page) & ~((uintptr_t)page - 1);
	if (addr && hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static void *worker_main(void *arg)
{
	struct workers *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stop) {
			struct timespec dl = sn_deadline_after((int64_t)p->idle_s * 1000);
			p->idle++;
			int r = pthread_cond_timedwait(&p->cond, &p->lock, &dl);
			p->idle--;
			if (r == ETIMEDOUT && !p->head)
				goto out;
		}
		if (!p->head)
			break;   /* stop, and nothing left */
		struct work *w = p->head;
		p->head = w->next;
		p->queued--;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		struct MHD_Connection *c = w->c;
		w->fn(w);            /* may free w: c was read before */
		if (c)
			MHD_resume_connection(c);
		pthread_mutex_lock(&p->lock);
	}
out:
	p->threads--;
	bool last = p->threads == 0;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->lock);
	if (last)
		malloc_trim(0);   /* the burst is over: give its freed heap back */
	thread_release_stack();
	return NULL;
}

int workers_start(unsigned max, unsigned idle_s, unsigned queue_max, struct workers **out)
{
	struct workers *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_cond_init(&p->done, &ca);
	pthread_condattr_destroy(&ca);
	p->max = max ? max : 1;
	p->idle_s = idle_s ? idle_s : 1;
	p->queue_max = queue_max;
	*out = p;
	return 0;
}

/* Start a thread if work waits and nobody is free (lock held). false: the
 * caller must run the queue itself (no thread at all, or drained). */
static bool grow(struct workers *p)
{
	if (p->stop)
		return false;
	if (p->idle > 0 || p->threads >= p->max)
		return true;
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 1 << 20);
	int r = pthread_create(&t, &at, worker_main, p);
	pthread_attr_destroy(&at);
	if (r != 0)
		return p->threads > 0;   /* the others will get to it */
	p->threads++;
	return true;
}

void workers_submit(struct workers *p, struct work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = w;
	else
		p->head = w;
	p->tail = w;
	p->queued++;
	bool ok = grow(p);
	pthread_cond_signal(&p->cond);
	if (!ok) {
		/* Drained, or no thread at all could be started: run the queue
		 * here rather than never. */
		struct work *q = p->head;
		p->head = p->tail = NULL;
		p->queued = 0;
		pthread_mutex_unlock(&p->lock);
		while (q) {
			struct work *next = q->next;
			struct MHD_Connection *c = q->c;
			q->fn(q);
			if (c)
				MHD_resume_connection(c);
			q = next;
		}
		return;
	}
	pthread_mutex_unlock(&p->lock);
}

bool workers_full(struct workers *p)
{
	pthread_mutex_lock(&p->lock);
	bool full = p->queue_max && !p->stop && p->idle <= p->queued && p->threads >= p->max &&
		    p->queued - p->idle >= p->queue_max;
	pthread_mutex_unlock(&p->lock);
	return full;
}

void workers_drain(struct workers *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	while (p->threads > 0)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void workers_free(struct workers *p)
{
	if (!p)
		return;
	workers_drain(p);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
