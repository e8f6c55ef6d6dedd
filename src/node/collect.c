/* collect.c — every running subnode's counter files, kept open between
 * scrapes (the collector behind sample.c).
 *
 * A scrape reads 128 subnodes; opening, reading and closing each of their
 * files every time is most of its cost (docs/BENCHMARKS.md, Metrics). So
 * the first read of a running subnode opens its files once — its cgroup's
 * counters (runtime/cgroup.h: cgroup_counters, at most
 * CGROUP_COUNTERS_MAX_FDS) and /proc/<init>/net/dev — and each later read
 * is one pread at offset 0 per file, which the kernel answers with the
 * current values (seq_files are generated afresh at offset 0). Nothing is
 * cached: every read shows the counters as they are.
 *
 * An entry is keyed by the subnode's id and the start time it was opened
 * for. Its files are closed and opened again when
 *   - the row's started_at differs (the supervisor restarted it: a new
 *     init, a new cgroup of the same path), or
 *   - a read says ENODEV (the cgroup was removed meanwhile);
 * and closed for good when the subnode stops or goes (node_sync_status,
 * node_destroy call node_collect_forget) or a scrape no longer sees it
 * running (node_collect_sweep). At most 10 fds a running subnode (9 on
 * v1/hybrid cgroups + net/dev; 8 on v2), 1,280 for 128.
 *
 * The init pid (for net/dev) comes from the supervisor's status file,
 * read when the entry is opened, not at every scrape.
 *
 * Thread safety: one lock guards the entries and the scratch buffer every
 * file is read into; node_summary_read holds `pass` across a whole scrape
 * so that two scrapes do not sweep each other's entries.
 */
#include "node/metrics.h"
#include "node/node.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kept {
	char *id;
	int64_t started_ns;
	int pid;
	struct cgroup_counters *cg;
	int net;                 /* /proc/<pid>/net/dev, or -1 */
	unsigned gen;            /* the last scrape that read it */
};

struct node_collector {
	pthread_mutex_t lock;    /* v, n, scratch */
	pthread_mutex_t pass;    /* one scrape at a time (node_collect_pass_*) */
	struct kept *v;
	size_t n, cap;
	unsigned gen;
	struct sn_buf scratch;
	struct sn_buf text;      /* node_collect_buf_*: the renderer's, between scrapes */
	bool text_lent;
};

int node_collector_new(struct node_collector **out, struct sn_err *err)
{
	struct node_collector *c = calloc(1, sizeof(*c));
	if (!c)
		return sn_err_set(err, ENOMEM, "collector");
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->pass, NULL);
	*out = c;
	return 0;
}

static void kept_close(struct kept *k)
{
	cgroup_counters_close(k->cg);
	k->cg = NULL;
	sn_close_and_reset(&k->net);
	free(k->id);
	k->id = NULL;
}

/* Remove entry i (the last takes its place). */
static void drop(struct node_collector *c, size_t i)
{
	kept_close(&c->v[i]);
	c->v[i] = c->v[--c->n];
}

void node_collector_free(struct node_collector *c)
{
	if (!c)
		return;
	while (c->n)
		drop(c, c->n - 1);
	free(c->v);
	sn_buf_free(&c->scratch);
	sn_buf_free(&c->text);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->pass);
	free(c);
}

static ssize_t find(struct node_collector *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].id, id) == 0)
			return (ssize_t)i;
	return -1;
}

void node_collect_forget(struct node *n, const char *id)
{
	struct node_collector *c = n->collector;
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	ssize_t i = find(c, id);
	if (i >= 0)
		drop(c, (size_t)i);
	pthread_mutex_unlock(&c->lock);
}

void node_collect_pass_begin(struct node *n)
{
	pthread_mutex_lock(&n->collector->pass);
	pthread_mutex_lock(&n->collector->lock);
	n->collector->gen++;
	pthread_mutex_unlock(&n->collector->lock);
}

void node_collect_pass_end(struct node *n)
{
	struct node_collector *c = n->collector;
	pthread_mutex_lock(&c->lock);
	for (size_t i = c->n; i-- > 0;)
		if (c->v[i].gen != c->gen)
			drop(c, i);   /* not running any more */
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->pass);
}

void node_collect_buf_take(struct node *n, struct sn_buf *b)
{
	struct node_collector *c = n->collector;
	memset(b, 0, sizeof(*b));
	pthread_mutex_lock(&c->lock);
	if (!c->text_lent) {
		*b = c->text;
		memset(&c->text, 0, sizeof(c->text));
		c->text_lent = true;
	}
	pthread_mutex_unlock(&c->lock);
	sn_buf_reset(b);
}

void node_collect_buf_give(struct node *n, struct sn_buf *b)
{
	struct node_collector *c = n->collector;
	pthread_mutex_lock(&c->lock);
	if (c->text_lent && !c->text.p) {
		c->text = *b;
		c->text_lent = false;
		memset(b, 0, sizeof(*b));
	}
	pthread_mutex_unlock(&c->lock);
	sn_buf_free(b);
}

size_t node_collect_fds(struct node *n)
{
	struct node_collector *c = n->collector;
	size_t fds = 0;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++)
		fds += cgroup_counters_fds(c->v[i].cg) + (c->v[i].net >= 0);
	pthread_mutex_unlock(&c->lock);
	return fds;
}

/* Open the files of subnode id started at started_ns; -ENOENT: it has no
 * cgroup (not running). */
static int kept_open(struct node *n, const char *id, int64_t started_ns, struct kept *k,
		     struct sn_err *err)
{
	memset(k, 0, sizeof(*k));
	k->net = -1;
	k->started_ns = started_ns;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", strcmp(n->cfg.cgroup_parent, "/") ? n->cfg.cgroup_parent : "", id);
	struct cgroup *cg = NULL;
	int r = cgroup_new(NODE_CGROUP_ROOT, path, (enum cgroup_mode)n->cgroup_mode, &cg, err);
	if (r == 0)
		r = cgroup_counters_open(cg, &k->cg, err);
	cgroup_free(cg);
	if (r < 0)
		return r;
	if (!(k->id = strdup(id))) {
		kept_close(k);
		return sn_err_set(err, ENOMEM, "collector");
	}
	_cleanup_json_ json_t *st = NULL;
	struct sn_err e = { 0 };
	if (node_read_status(n, id, &st, &e) == 0)
		k->pid = (int)json_integer_value(json_object_get(st, "pid"));
	if (k->pid > 0) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/net/dev", k->pid);
		k->net = open(p, O_RDONLY | O_CLOEXEC);   /* gone meanwhile: no devices */
	}
	return 0;
}

/* The entry of id, opened (again) when missing or of another start. */
static int entry(struct node *n, const char *id, int64_t started_ns, struct kept **out,
		 struct sn_err *err)
{
	struct node_collector *c = n->collector;
	ssize_t i = find(c, id);
	if (i >= 0 && c->v[i].started_ns == started_ns) {
		*out = &c->v[i];
		return 0;
	}
	if (i >= 0)
		drop(c, (size_t)i);
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		struct kept *nv = realloc(c->v, nc * sizeof(*nv));
		if (!nv)
			return sn_err_set(err, ENOMEM, "collector");
		c->v = nv;
		c->cap = nc;
	}
	int r = kept_open(n, id, started_ns, &c->v[c->n], err);
	if (r < 0)
		return r;
	*out = &c->v[c->n++];
	return 0;
}

static int read_kept(struct node_collector *c, struct kept *k, bool full, struct node_sample *s,
		     struct sn_err *err)
{
	int r = cgroup_counters_read(k->cg, &s->cg, &c->scratch, err);
	if (r == 0 && full)
		r = cgroup_counters_read_rest(k->cg, &s->cg, err);
	if (r < 0)
		return r;
	s->pid = k->pid;
	if (k->net < 0)
		return 0;
	struct sn_err e = { 0 };
	if (sn_buf_pread(&c->scratch, k->net, false, "net/dev", &e) < 0)
		return 0;   /* its namespace gone: no devices */
	return node_netdev_parse(c->scratch.p, &s->net, &s->n_net, err);
}

int node_collect(struct node *n, const char *id, int64_t started_ns, struct node_sample *s, bool full,
		 struct sn_err *err)
{
	struct node_collector *c = n->collector;
	pthread_mutex_lock(&c->lock);
	struct kept *k = NULL;
	int r = entry(n, id, started_ns, &k, err);
	if (r == 0 && (r = read_kept(c, k, full, s, err)) == -ENODEV) {
		/* its cgroup was made anew (a restart the row does not show yet) */
		drop(c, (size_t)(k - c->v));
		if ((r = entry(n, id, started_ns, &k, err)) == 0)
			r = read_kept(c, k, full, s, err);
	}
	ssize_t i;
	if (r == 0)
		k->gen = c->gen;
	else if ((i = find(c, id)) >= 0)
		drop(c, (size_t)i);
	pthread_mutex_unlock(&c->lock);
	return r;
}
