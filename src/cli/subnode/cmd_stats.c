/* cmd_stats.c — `subnode stats`: live usage of subnodes, refreshed every
 * second (or once with --no-stream; --json prints the raw samples). CPU %
 * is computed here from two samples: Δ cgroup CPU time / Δ host CPU time ×
 * CPUs × 100, as docker does. */
#include "cli.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static json_t *sample(const char *name, struct sn_err *err)
{
	_cleanup_free_ char *e = client_escape(name), *path = NULL;
	if (asprintf(&path, "/containers/%s/stats?stream=0&one-shot=1", e) < 0)
		return NULL;
	json_t *out = NULL;
	if (client_call(&g_cli, "GET", path, NULL, NULL, &out, err) < 0)
		return NULL;
	return out;
}

static void human(double b, char *buf, size_t n)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(buf, n, "%.1f%s", b, u[i]);
}

static double cpu_pct(json_t *prev, json_t *cur)
{
	if (!prev)
		return 0;
	json_t *pc = json_object_get(prev, "cpu_stats"), *cc = json_object_get(cur, "cpu_stats");
	double dc = (double)(json_integer_value(json_object_get(json_object_get(cc, "cpu_usage"), "total_usage")) -
			     json_integer_value(json_object_get(json_object_get(pc, "cpu_usage"), "total_usage")));
	double ds = (double)(json_integer_value(json_object_get(cc, "system_cpu_usage")) -
			     json_integer_value(json_object_get(pc, "system_cpu_usage")));
	double ncpu = (double)json_integer_value(json_object_get(cc, "online_cpus"));
	return ds > 0 && dc > 0 ? dc / ds * ncpu * 100.0 : 0;
}

int cmd_stats(int argc, char **argv)
{
	bool no_stream = false, as_json = false, all = false;
	_cleanup_json_ json_t *names = json_array(), *prev = json_object();
	for (int i = 1; i < argc; i++) {
		if (FLAG(NULL, "--no-stream")) no_stream = true;
		else if (FLAG(NULL, "--json")) as_json = true;
		else if (FLAG("-a", "--all")) all = true;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "subnode: stats: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		} else json_array_append_new(names, json_string(argv[i]));
	}
	bool tty = isatty(1);
	for (int round = 0;; round++) {
		struct sn_err err = { 0 };
		_cleanup_json_ json_t *list = NULL;
		if (json_array_size(names) == 0) {
			int r = client_call(&g_cli, "GET", all ? "/containers/json?all=1" : "/containers/json",
					    NULL, NULL, &list, &err);
			if (r < 0)
				return cli_fail(r, &err);
		}
		json_t *which = json_array_size(names) ? names : list;
		_cleanup_json_ json_t *cur = json_object();
		size_t i;
		json_t *w;
		json_array_foreach(which, i, w) {
			const char *nm = json_is_string(w) ? json_string_value(w)
				: json_string_value(json_array_get(json_object_get(w, "Names"), 0));
			if (nm && *nm == '/')   /* Docker's "/name" */
				nm++;
			json_t *s = sample(nm, &err);
			if (!s) {
				if (json_array_size(names))
					return cli_fail(-err.code, &err);
				continue;
			}
			json_object_set_new(cur, nm, s);
		}
		/* The first round only primes CPU deltas (short wait). */
		if (round == 0) {
			json_object_update(prev, cur);
			struct timespec ts = { 0, 500 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (as_json) {
			const char *k;
			json_t *v;
			json_object_foreach(cur, k, v) {
				char *t = json_dumps(v, JSON_COMPACT);
				if (t)
					printf("%s\n", t);
				free(t);
			}
		} else {
			if (tty && !no_stream)
				printf("\033[2J\033[H");
			printf("%-20s  %-12s  %7s  %-22s  %6s  %-9s  %s\n", "NAME", "ID", "CPU %", "MEM USAGE / LIMIT",
			       "MEM %", "PIDS", "NET I/O");
			const char *k;
			json_t *v;
			json_object_foreach(cur, k, v) {
				json_t *m = json_object_get(v, "memory_stats"), *p = json_object_get(v, "pids_stats");
				double use = (double)json_integer_value(json_object_get(m, "usage"));
				double lim = (double)json_integer_value(json_object_get(m, "limit"));
				char a[32], b[32], rx[32], tx[32], mem[64], pids[32], net[80];
				human(use, a, sizeof(a));
				human(lim, b, sizeof(b));
				snprintf(mem, sizeof(mem), "%s / %s", a, b);
				snprintf(pids, sizeof(pids), "%lld/%lld", (long long)json_integer_value(json_object_get(p, "current")),
					 (long long)json_integer_value(json_object_get(p, "limit")));
				double r = 0, t = 0;
				const char *ifn;
				json_t *nif;
				json_object_foreach(json_object_get(v, "networks"), ifn, nif) {
					r += (double)json_integer_value(json_object_get(nif, "rx_bytes"));
					t += (double)json_integer_value(json_object_get(nif, "tx_bytes"));
				}
				human(r, rx, sizeof(rx));
				human(t, tx, sizeof(tx));
				snprintf(net, sizeof(net), "%s / %s", rx, tx);
				printf("%-20s  %-12.12s  %6.2f%%  %-22s  %5.1f%%  %-9s  %s\n", k,
				       json_string_value(json_object_get(v, "id")), cpu_pct(json_object_get(prev, k), v),
				       mem, lim > 0 ? use / lim * 100 : 0, pids, net);
			}
		}
		fflush(stdout);
		if (no_stream)
			return 0;
		json_object_clear(prev);
		json_object_update(prev, cur);
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
}
