/* test_workers.c — the api layer's worker pool (api/workers.c) with real
 * threads: every task runs, no more than `max` run at once, idle threads
 * end by themselves, draining waits for the running tasks, and a pool is
 * full only when its threads are all taken and its queue is at its bound. An alarm
 * ends the program if anything hangs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "api/workers.h"

/* A gate the tasks wait at, and what they saw. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	unsigned ran, running, peak;
	pthread_t last_thread;
};

struct task {
	struct work w;
	struct gate *g;
	int sleep_ms;    /* > 0: sleep instead of waiting at the gate */
	bool done;
};

static void task_fn(struct work *w)
{
	struct task *t = (struct task *)w;
	struct gate *g = t->g;
	pthread_mutex_lock(&g->lock);
	g->running++;
	if (g->running > g->peak)
		g->peak = g->running;
	pthread_cond_broadcast(&g->cond);
	if (t->sleep_ms > 0) {
		pthread_mutex_unlock(&g->lock);
		struct timespec ts = { t->sleep_ms / 1000, (t->sleep_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&g->lock);
	} else {
		while (!g->open)
			pthread_cond_wait(&g->cond, &g->lock);
	}
	g->running--;
	g->ran++;
	g->last_thread = pthread_self();
	t->done = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void gate_init(struct gate *g)
{
	*g = (struct gate){ .open = false };
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* Wait (up to 20 s) until n tasks run at once; false on timeout. */
static bool wait_running(struct gate *g, unsigned n)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 20;
	pthread_mutex_lock(&g->lock);
	int r = 0;
	while (g->running < n && r == 0)
		r = pthread_cond_timedwait(&g->cond, &g->lock, &dl);
	bool ok = g->running >= n;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

/* The process's threads, as the kernel counts them. */
static int count_threads(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	assert_non_null(f);
	char line[256];
	int n = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	assert_true(n > 0);
	return n;
}

static void every_task_runs(void **state)
{
	struct gate g;
	gate_init(&g);
	gate_open(&g);
	struct workers *p = NULL;
	assert_int_equal(workers_start(4, 1, 0, &p), 0);
	struct task t[32];
	for (int i = 0; i < 32; i++) {
		t[i] = (struct task){ .w.fn = task_fn, .g = &g };
		workers_submit(p, &t[i].w);
	}
	workers_free(p);   /* waits for the queue and the running ones */
	assert_int_equal(g.ran, 32);
	for (int i = 0; i < 32; i++)
		assert_true(t[i].done);
}

static void no_more_than_max_run_at_once(void **state)
{
	struct gate g;
	gate_init(&g);
	struct workers *p = NULL;
	assert_int_equal(workers_start(2, 5, 0, &p), 0);
	struct task t[6];
	for (int i = 0; i < 6; i++) {
		t[i] = (struct task){ .w.fn = task_fn, .g = &g };
		workers_submit(p, &t[i].w);
	}
	assert_true(wait_running(&g, 2));
	/* two are held at the gate: the other four wait in the queue */
	pthread_mutex_lock(&g.lock);
	unsigned ran = g.ran, running = g.running;
	pthread_mutex_unlock(&g.lock);
	assert_int_equal(ran, 0);
	assert_int_equal(running, 2);
	gate_open(&g);
	workers_free(p);
	assert_int_equal(g.ran, 6);
	assert_int_equal(g.peak, 2);
}

/* Wait (up to 30 s) until only n threads are left; the count. Threads
 * of an earlier drained pool may still be on their way out. */
static int settle_threads(int n)
{
	int now = -1;
	for (int i = 0; i < 300 && (now = count_threads()) != n; i++)
		usleep(100 * 1000);
	return now;
}

static void idle_workers_end(void **state)
{
	int before = settle_threads(1);   /* this test's thread alone */
	assert_int_equal(before, 1);
	struct gate g;
	gate_init(&g);
	struct workers *p = NULL;
	assert_int_equal(workers_start(3, 1, 0, &p), 0);
	struct task t[3];
	for (int i = 0; i < 3; i++) {
		t[i] = (struct task){ .w.fn = task_fn, .g = &g };
		workers_submit(p, &t[i].w);
	}
	assert_true(wait_running(&g, 3));
	assert_int_equal(count_threads(), before + 3);
	gate_open(&g);
	/* idle for 1 s, each thread ends; up to 30 s on a busy host */
	assert_int_equal(settle_threads(before), before);
	assert_int_equal(g.ran, 3);
	/* the pool still serves after its threads have ended */
	struct task more = { .w.fn = task_fn, .g = &g };
	workers_submit(p, &more.w);
	workers_free(p);
	assert_true(more.done);
}

static void drain_waits_for_running_tasks(void **state)
{
	struct gate g;
	gate_init(&g);
	struct workers *p = NULL;
	assert_int_equal(workers_start(2, 5, 0, &p), 0);
	struct task slow = { .w.fn = task_fn, .g = &g, .sleep_ms = 300 };
	workers_submit(p, &slow.w);
	assert_true(wait_running(&g, 1));
	workers_drain(p);
	assert_true(slow.done);     /* finished before drain returned */
	/* after the drain, work runs on the submitter's thread */
	struct task after = { .w.fn = task_fn, .g = &g, .sleep_ms = 1 };
	workers_submit(p, &after.w);
	assert_true(after.done);
	assert_true(pthread_equal(g.last_thread, pthread_self()));
	workers_free(p);
}

static void full_past_its_queue_bound(void **state)
{
	struct gate g;
	gate_init(&g);
	struct workers *p = NULL;
	assert_int_equal(workers_start(2, 5, 2, &p), 0);
	struct task t[4];
	for (int i = 0; i < 4; i++)
		t[i] = (struct task){ .w.fn = task_fn, .g = &g };
	workers_submit(p, &t[0].w);
	workers_submit(p, &t[1].w);
	bool ran = wait_running(&g, 2);
	bool full[3];
	full[0] = workers_full(p);
	workers_submit(p, &t[2].w);
	full[1] = workers_full(p);
	workers_submit(p, &t[3].w);
	full[2] = workers_full(p);   /* 2 running, 2 waiting: the bound */
	gate_open(&g);   /* before any assert: the tasks live on this stack */
	workers_drain(p);
	assert_true(ran);
	assert_false(full[0]);
	assert_false(full[1]);
	assert_true(full[2]);
	workers_drain(p);
	assert_false(workers_full(p));
	for (int i = 0; i < 4; i++)
		assert_true(t[i].done);
	workers_free(p);
}

int main(void)
{
	alarm(120);   /* a hang ends the program (SIGALRM) instead of the suite */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_task_runs),
		cmocka_unit_test(no_more_than_max_run_at_once),
		cmocka_unit_test(idle_workers_end),
		cmocka_unit_test(drain_waits_for_running_tasks),
		cmocka_unit_test(full_past_its_queue_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
