/* workers.h — a bounded, elastic pool of threads for the API's blocking
 * operations (create, start, stop, remove, exec, imports...). See
 * workers.c. */
#ifndef SN_API_WORKERS_H
#define SN_API_WORKERS_H

#include <microhttpd.h>
#include <stdbool.h>

struct work {
	void (*fn)(struct work *w);   /* runs on a worker thread */
	struct MHD_Connection *c;     /* suspended by the submitter; resumed after fn */
	struct work *next;
};

struct workers;

/* Up to max threads, started when work waits and none is idle; a thread
 * idle for idle_s seconds ends. Past max, up to queue_max jobs wait (0: no
 * bound); the submitter asks workers_full first. */
int workers_start(unsigned max, unsigned idle_s, unsigned queue_max, struct workers **out);
/* Would a job submitted now wait past queue_max (every thread busy, the
 * queue at its bound)? Then the caller refuses it (503) instead. */
bool workers_full(struct workers *p);
void workers_submit(struct workers *p, struct work *w);
/* Wait for every queued and running job to finish and end the threads;
 * work submitted afterwards runs on the submitter's thread. */
void workers_drain(struct workers *p);
/* workers_drain, then free p. */
void workers_free(struct workers *p);

/* For a thread about to end: give back its stack pages below the caller's
 * frame (glibc caches the stack with 16 KiB of it still resident). Nothing
 * below the caller may be in use: no signal handler runs on our threads. */
void thread_release_stack(void);

#endif
