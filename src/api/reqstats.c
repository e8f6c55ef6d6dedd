/* reqstats.c — a histogram of request durations by (route, method, code).
 *
 * Series live in one array under a mutex, found by a linear search: an API
 * has a few dozen routes, a request ends a few hundred times a second at
 * most, and a search of 256 short strings costs less than the request's
 * own parsing. Bucket bounds are fixed (1 ms .. 10 s): request latencies
 * of a node API, from an inline `ps` to a stop that waits for its timeout;
 * streams (logs -f, events) end in +Inf. Observations are counted in
 * microseconds (integers: no rounding drift in the sum).
 */
#include "reqstats.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t bounds_us[] = { 1000, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000,
				     10000000 };
#define N_BOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))

struct series {
	char route[64], method[16];
	unsigned code;
	uint64_t buckets[N_BOUNDS];   /* non-cumulative here; summed when shown */
	uint64_t count;
	uint64_t sum_us;
};

struct api_reqstats {
	pthread_mutex_t lock;
	struct series *v;
	size_t n, cap;
};

int api_reqstats_new(struct api_reqstats **out)
{
	struct api_reqstats *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void api_reqstats_free(struct api_reqstats *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->v);
	free(s);
}

static struct series *find(struct api_reqstats *s, const char *route, const char *method,
			   unsigned code)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].code == code && strcmp(s->v[i].route, route) == 0 &&
		    strcmp(s->v[i].method, method) == 0)
			return &s->v[i];
	return NULL;
}

static struct series *add(struct api_reqstats *s, const char *route, const char *method,
			  unsigned code)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		struct series *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		s->v = nv;
		s->cap = nc;
	}
	struct series *x = &s->v[s->n++];
	memset(x, 0, sizeof(*x));
	snprintf(x->route, sizeof(x->route), "%s", route);
	snprintf(x->method, sizeof(x->method), "%s", method);
	x->code = code;
	return x;
}

void api_reqstats_observe(struct api_reqstats *s, const char *route, const char *method,
			  unsigned status, int64_t us)
{
	if (!s)
		return;
	if (us < 0)
		us = 0;
	pthread_mutex_lock(&s->lock);
	struct series *x = find(s, route, method, status);
	if (!x && s->n >= API_REQSTATS_MAX)
		x = find(s, "other", "other", 0) ?: add(s, "other", "other", 0);
	else if (!x)
		x = add(s, route, method, status);
	if (x) {
		size_t b = 0;
		while (b < N_BOUNDS && us > bounds_us[b])
			b++;
		if (b < N_BOUNDS)
			x->buckets[b]++;
		x->count++;
		x->sum_us += (uint64_t)us;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Label values come from the daemon's route names and MHD's method
 * strings: escape them anyway. */
static void put_escaped(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void labels(FILE *f, const struct series *x)
{
	fputs("route=\"", f);
	put_escaped(f, x->route);
	fputs("\",method=\"", f);
	put_escaped(f, x->method);
	fprintf(f, "\",code=\"%u\"", x->code);
}

int api_reqstats_render(struct api_reqstats *s, const char *name, char **text, size_t *len)
{
	*text = NULL;
	*len = 0;
	FILE *f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# HELP %s Duration of API requests by route, method and status.\n"
		   "# TYPE %s histogram\n", name, name);
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		const struct series *x = &s->v[i];
		uint64_t cum = 0;
		for (size_t b = 0; b < N_BOUNDS; b++) {
			cum += x->buckets[b];
			fprintf(f, "%s_bucket{", name);
			labels(f, x);
			fprintf(f, ",le=\"%g\"} %llu\n", (double)bounds_us[b] / 1e6, (unsigned long long)cum);
		}
		fprintf(f, "%s_bucket{", name);
		labels(f, x);
		fprintf(f, ",le=\"+Inf\"} %llu\n%s_sum{", (unsigned long long)x->count, name);
		labels(f, x);
		fprintf(f, "} %llu.%06llu\n%s_count{", (unsigned long long)(x->sum_us / 1000000),
			(unsigned long long)(x->sum_us % 1000000), name);
		labels(f, x);
		fprintf(f, "} %llu\n", (unsigned long long)x->count);
	}
	pthread_mutex_unlock(&s->lock);
	if (fclose(f) != 0) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}
