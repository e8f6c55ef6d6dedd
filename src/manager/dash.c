/* dash.c — what the web dashboard reads (manager.h, "The dashboard"): a
 * change counter that every committed step and heartbeat raises, with a
 * condition variable its event streams wait on, and a short history of
 * each node's CPU and memory from its heartbeats.
 *
 * The history is a ring of MGR_SERIES_LEN samples a node (48 bytes each,
 * ~5.8 KB a node: two minutes at one heartbeat a second), in memory only:
 * a graph of the last minutes needs no store write a second per node,
 * which would be the whole load of the manager (MANAGER.md, Store). A
 * restart of the manager starts the graphs empty. Rings are never freed
 * while the manager runs (a node that left keeps its last two minutes);
 * their number is bounded by the names that ever joined.
 */
#include "manager/manager_internal.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dash_sample {
	int64_t time;
	double cpu;
	int64_t memory, memory_total;
	int64_t net_rx, net_tx;  /* bytes since the machine started; -1: not reported */
};

struct dash_series {
	struct dash_sample s[MGR_SERIES_LEN];
	size_t head, len;        /* head: where the next sample goes */
};

int dash_init(struct mgr *m)
{
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&m->changed, &ca))
		return -ENOMEM;
	pthread_condattr_destroy(&ca);
	m->series_idx = json_object();
	return m->series_idx ? 0 : -ENOMEM;
}

void dash_free(struct mgr *m)
{
	pthread_cond_destroy(&m->changed);
	json_decref(m->series_idx);
	free(m->series);
}

void dash_changed(struct mgr *m)
{
	m->gen++;
	pthread_cond_broadcast(&m->changed);
}

/* A number of the summary, when it is one. */
static bool num(json_t *sum, const char *key, double *out)
{
	json_t *v = json_object_get(sum, key);
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return *out >= 0;
}

static struct dash_series *series_of(struct mgr *m, const char *name, bool make)
{
	json_t *i = json_object_get(m->series_idx, name);
	if (i)
		return &m->series[json_integer_value(i)];
	if (!make)
		return NULL;
	struct dash_series *n = realloc(m->series, (m->nseries + 1) * sizeof(*n));
	if (!n)
		return NULL;
	m->series = n;
	if (json_object_set_new(m->series_idx, name, json_integer((json_int_t)m->nseries)))
		return NULL;
	memset(&n[m->nseries], 0, sizeof(n[0]));
	return &n[m->nseries++];
}

void dash_sample(struct mgr *m, const char *name, int64_t now, json_t *summary)
{
	double cpu, mem, total = 0, rx = -1, tx = -1;
	if (!num(summary, "cpu", &cpu) || !num(summary, "memory", &mem))
		return;     /* a node that reports neither has no graph */
	num(summary, "memory_total", &total);
	if (!num(summary, "net_rx", &rx) || !num(summary, "net_tx", &tx))
		rx = tx = -1;
	struct dash_series *s = series_of(m, name, true);
	if (!s)
		return;     /* out of memory: a point missing from a graph */
	s->s[s->head] = (struct dash_sample){ now, cpu, (int64_t)mem, (int64_t)total, (int64_t)rx,
					      (int64_t)tx };
	s->head = (s->head + 1) % MGR_SERIES_LEN;
	if (s->len < MGR_SERIES_LEN)
		s->len++;
}

static const struct dash_sample *nth(const struct dash_series *s, size_t i)
{
	return &s->s[(s->head + MGR_SERIES_LEN - s->len + i) % MGR_SERIES_LEN];
}

static json_t *sample_json(const struct dash_series *s)
{
	if (!s || !s->len)
		return json_null();
	const struct dash_sample *x = nth(s, s->len - 1);
	json_t *o = json_pack("{sI sf sI sI}", "time", (json_int_t)x->time, "cpu", x->cpu, "memory",
			      (json_int_t)x->memory, "memory_total", (json_int_t)x->memory_total);
	if (o && x->net_rx >= 0) {
		json_object_set_new(o, "net_rx", json_integer(x->net_rx));
		json_object_set_new(o, "net_tx", json_integer(x->net_tx));
	}
	return o;
}

static json_t *series_json(const struct dash_series *s)
{
	json_t *t = json_array(), *c = json_array(), *mem = json_array();
	json_t *rx = json_array(), *tx = json_array();
	for (size_t i = 0; s && t && c && mem && rx && tx && i < s->len; i++) {
		const struct dash_sample *x = nth(s, i);
		json_array_append_new(t, json_integer(x->time));
		json_array_append_new(c, json_real(x->cpu));
		json_array_append_new(mem, json_integer(x->memory));
		json_array_append_new(rx, x->net_rx >= 0 ? json_integer(x->net_rx) : json_null());
		json_array_append_new(tx, x->net_tx >= 0 ? json_integer(x->net_tx) : json_null());
	}
	return json_pack("{so so so so so}", "time", t, "cpu", c, "memory", mem, "net_rx", rx,
			 "net_tx", tx);
}

/* Each node row gets its last sample; series, when asked, its ring. */
static int add_samples(struct mgr *m, json_t *out, json_t *nodes, bool series)
{
	json_t *all = series ? json_object() : NULL;
	if (series && (!all || json_object_set_new(out, "series", all)))
		return -ENOMEM;
	json_t *n;
	size_t i;
	json_array_foreach(nodes, i, n) {
		const char *name = jstr(n, "name");
		const struct dash_series *s = series_of(m, name, false);
		if (json_object_set_new(n, "sample", sample_json(s)))
			return -ENOMEM;
		if (all && json_object_set_new(all, name, series_json(s)))
			return -ENOMEM;
	}
	return 0;
}

int mgr_dashboard(struct mgr *m, bool series, json_t **out, struct sn_err *err)
{
	pthread_mutex_lock(&m->mu);
	uint64_t gen = m->gen;
	pthread_mutex_unlock(&m->mu);
	_cleanup_json_ json_t *nodes = NULL, *chains = NULL;
	int r = mgr_node_list(m, &nodes, err);
	if (r == 0)
		r = mgr_chain_list(m, &chains, err);
	struct mgr_dlog_head h;
	if (r == 0)
		r = mgr_dlog_head(m->store, &h, err);
	if (r)
		return r;
	json_t *o = json_pack("{sI sI sI sO sO}", "time", (json_int_t)mgr_now_ms(), "gen",
			      (json_int_t)gen, "log_seq", (json_int_t)h.seq, "nodes", nodes,
			      "chains", chains);
	if (!o)
		return sn_err_set(err, ENOMEM, "dashboard");
	pthread_mutex_lock(&m->mu);
	r = add_samples(m, o, nodes, series);
	pthread_mutex_unlock(&m->mu);
	if (r) {
		json_decref(o);
		return sn_err_set(err, ENOMEM, "dashboard");
	}
	*out = o;
	return 0;
}

uint64_t mgr_wait_change(struct mgr *m, uint64_t seen, int timeout_ms)
{
	struct timespec until;
	if (clock_gettime(CLOCK_MONOTONIC, &until))
		return seen;   /* cannot fail with a valid clock; no wait then */
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m->mu);
	while (m->gen == seen)
		if (pthread_cond_timedwait(&m->changed, &m->mu, &until) == ETIMEDOUT)
			break;
	uint64_t gen = m->gen;
	pthread_mutex_unlock(&m->mu);
	return gen;
}
