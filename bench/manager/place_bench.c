/* place_bench.c — member placements per second over simulated nodes: the
 * placement rule of src/manager/placement.h alone (what every decision
 * runs), and with its log entry built (decide.h: the whole input recorded).
 * Usage: place_bench NODES MEMBERS SECONDS. Prints one line per variant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manager/decide.h"
#include "manager/placement.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	size_t members = argc > 2 ? strtoul(argv[2], NULL, 10) : 16;
	double secs = argc > 3 ? atof(argv[3]) : 3;
	struct mgr_cand *c = calloc(n, sizeof(*c));
	if (!c)
		return 1;
	srand(42);
	for (size_t i = 0; i < n; i++) {
		char *name, *op;
		if (asprintf(&name, "node-%06zu", i) < 0 || asprintf(&op, "op-%zu", i / 10) < 0)
			return 1;
		c[i] = (struct mgr_cand){ name, op, rand() % 129, 0 };  /* 0..128 free units */
	}
	struct sn_err err = { 0 };
	double t0 = now_s();
	if (mgr_place_prepare(c, n, &err))
		return fprintf(stderr, "%s\n", err.msg), 1;
	double prep = now_s() - t0;
	uint8_t seed[MGR_SEED_LEN] = { 7 };
	size_t picked[128];
	for (int variant = 0; variant < 2; variant++) {
		size_t chains = 0;
		double start = now_s(), cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), el;
		do {
			char id[32];
			snprintf(id, sizeof(id), "chain-%zu.%zu", chains, chains + 1);
			int r;
			if (variant == 0) {
				struct mgr_place_req req = { .seed = seed, .chain_id = id, .units = 4,
							     .members = members, .need = members };
				r = mgr_place(c, n, &req, picked, &err);
			} else {
				json_t *body = NULL;
				struct mgr_place_in in = { .cands = c, .ncands = n, .seed = seed,
							   .chain = id, .chain_id = id, .units = 4,
							   .members = members, .need = members };
				r = mgr_decide_place(&in, picked, &body, &err);
				json_decref(body);
			}
			if (r)
				return fprintf(stderr, "%s\n", err.msg), 1;
			chains++;
			el = now_s() - start;
		} while (el < secs);
		double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
		printf("%s nodes=%zu members=%zu chains=%zu wall_s=%.2f cpu_s=%.2f"
		       " placements_per_wall_second=%.0f placements_per_cpu_second=%.0f"
		       " prepare_ms=%.1f\n", variant ? "decide+log-entry" : "place", n, members, chains,
		       el, cpu, (double)(chains * members) / el, (double)(chains * members) / cpu,
		       prep * 1000);
		if (variant == 0 && secs > 1)
			secs = secs / 3;
	}
	return 0;
}
