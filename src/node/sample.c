/* sample.c — the one reader of a subnode's and the node's figures (see
 * metrics.h for who uses it).
 *
 * A subnode: its db row (name, image, labels, units, restarts, health),
 * its supervisor's status file (init pid, the last health check's
 * duration), its cgroup <cgroup_parent>/<id> through the runtime layer's
 * cgroup_stats (v1, v2 or hybrid: the runtime knows the layout; the mode
 * is detected once, at node_open), and /proc/<init>/net/dev, which lists
 * the devices of the subnode's network namespace, whatever they are (lo
 * today, veths with bridge networking).
 *
 * The node: one db list under the node lock, then each subnode read
 * without it (a read never blocks lifecycle operations). Rows in state
 * `creating` or `removing` are counted but not sampled: their cgroup,
 * supervisor and labels may be half there.
 */
#include "node/metrics.h"
#include "node/volume.h"
#include "node/node.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const node_state_names[NODE_STATES] = {
	"creating", "created", "running", "restarting", "exited", "removing",
};

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int node_netdev_read(int pid, struct node_netdev **out, size_t *n, struct sn_err *err)
{
	*out = NULL;
	*n = 0;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/net/dev", pid);
	_cleanup_free_ char *txt = NULL;
	int r = sn_read_file(p, 1u << 20, &txt, NULL, err);
	if (r < 0)
		return r;
	return node_netdev_parse(txt, out, n, err);
}

int node_netdev_parse(char *txt, struct node_netdev **out, size_t *n, struct sn_err *err)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	for (char *line = txt, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *colon = strchr(line, ':');
		if (!colon)
			continue;   /* the two header lines */
		*colon = '\0';
		char *name = line + strspn(line, " ");
		struct node_netdev d = { 0 };
		unsigned long long v[16];
		if (strlen(name) >= sizeof(d.name) ||
		    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
			   &v[11], &v[12], &v[13], &v[14], &v[15]) != 16)
			continue;
		strcpy(d.name, name);
		d.rx_bytes = v[0], d.rx_packets = v[1], d.rx_errors = v[2], d.rx_dropped = v[3];
		d.tx_bytes = v[8], d.tx_packets = v[9], d.tx_errors = v[10], d.tx_dropped = v[11];
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct node_netdev *nd = realloc(*out, nc * sizeof(*nd));
			if (!nd) {
				free(*out);
				*out = NULL;
				*n = 0;
				return sn_err_set(err, ENOMEM, "network devices");
			}
			*out = nd;
			cap = nc;
		}
		(*out)[(*n)++] = d;
	}
	return 0;
}

/* Its cgroup's counters and network devices, through the files the
 * collector keeps open (collect.c); the limits are the ones its units
 * gave (slices.c), not read back. full: also what the stats API alone
 * shows (failcnt, io), read by path. Not running, or gone meanwhile:
 * zeros, no cgroup. */
static int read_cgroup(struct node *n, const char *state, bool full, struct node_sample *s,
		       struct sn_err *err)
{
	if (strcmp(state, "running") != 0 && strcmp(state, "restarting") != 0) {
		node_collect_forget(n, s->id);
		return 0;
	}
	struct sn_err e = { 0 };
	int r = node_collect(n, s->id, s->started_ns, s, full, &e);
	if (r == -ENOMEM)
		return sn_err_set(err, ENOMEM, "read subnode `%s`", s->name);
	if (r < 0) {
		if (r != -ENOENT && r != -ENODEV)
			sn_warn("metrics of `%s`: %s", s->name, e.msg);
		free(s->net);
		s->net = NULL;
		s->n_net = 0;
		s->pid = 0;
		memset(&s->cg, 0, sizeof(s->cg));
		return 0;
	}
	s->has_cgroup = true;
	if (!full)
		node_slices_limits(n, s->units, &s->cg.memory_limit, &s->cg.pids_limit);
	return 0;
}

int node_sample_read(struct node *n, json_t *row, bool full, struct node_sample *s, struct sn_err *err)
{
	memset(s, 0, sizeof(*s));
	s->health_check_ms = -1;
	json_t *cfg = json_object_get(row, "config");
	s->id = dup_or_empty(json_string_value(json_object_get(row, "id")));
	s->name = dup_or_empty(json_string_value(json_object_get(row, "name")));
	s->image = dup_or_empty(json_string_value(json_object_get(cfg, "Image")));
	s->state = dup_or_empty(json_string_value(json_object_get(row, "state")));
	s->size = dup_or_empty(json_string_value(json_object_get(row, "size")));
	s->health = dup_or_empty(json_string_value(json_object_get(row, "health")));
	json_t *labels = json_object_get(cfg, "Labels");
	s->labels = json_is_object(labels) ? json_incref(labels) : json_object();
	if (!s->id || !s->name || !s->image || !s->state || !s->size || !s->health || !s->labels) {
		node_sample_free(s);
		return sn_err_set(err, ENOMEM, "read subnode");
	}
	s->units = (unsigned)json_integer_value(json_object_get(row, "units"));
	s->created_ns = json_integer_value(json_object_get(row, "created"));
	s->started_ns = json_integer_value(json_object_get(row, "started_at"));
	s->restarts = (uint64_t)json_integer_value(json_object_get(row, "restart_count"));
	node_slices_cpu(n, s->units, &s->cpu_shares, &s->cpu_quota_us, &s->cpu_period_us);
	if (read_cgroup(n, s->state, full, s, err) < 0) {
		node_sample_free(s);
		return -ENOMEM;
	}
	/* the last health check's duration: only subnodes with a check have one */
	_cleanup_json_ json_t *st = NULL;
	struct sn_err e = { 0 };
	if (s->health[0] && node_read_status(n, s->id, &st, &e) == 0) {
		json_t *hc = json_object_get(st, "health_check_ms");
		if (json_is_integer(hc))
			s->health_check_ms = json_integer_value(hc);
	}
	s->volumes = node_volumes_stats(n, cfg);
	return 0;
}

void node_sample_free(struct node_sample *s)
{
	free(s->id);
	free(s->name);
	free(s->image);
	free(s->state);
	free(s->size);
	free(s->health);
	json_decref(s->labels);
	free(s->net);
	json_decref(s->volumes);
	memset(s, 0, sizeof(*s));
}

static int state_index(const char *st)
{
	for (int i = 0; i < NODE_STATES; i++)
		if (st && strcmp(st, node_state_names[i]) == 0)
			return i;
	return -1;
}

int node_summary_read(struct node *n, struct node_summary *s, struct sn_err *err)
{
	memset(s, 0, sizeof(*s));
	_cleanup_json_ json_t *rows = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_db_list(n->db, &rows, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return sn_err_wrap(err, "node summary");
	s->at_ns = node_now_ns();
	s->units_total = NODE_UNITS;
	s->cpus = n->slices.cpus;
	s->unit_cpus = n->slices.unit_cpus;
	s->memory = n->slices.memory;
	s->unit_memory = n->slices.unit_memory;
	s->disk = n->slices.disk;
	s->unit_disk = n->slices.unit_disk;
	s->subs = calloc(json_array_size(rows) + 1, sizeof(*s->subs));
	if (!s->subs)
		return sn_err_set(err, ENOMEM, "node summary");
	size_t i;
	json_t *row;
	node_collect_pass_begin(n);
	json_array_foreach(rows, i, row) {
		const char *st = json_string_value(json_object_get(row, "state"));
		int k = state_index(st);
		if (k >= 0)
			s->by_state[k]++;
		if (!st || strcmp(st, "removing") != 0)
			s->units_used += (unsigned)json_integer_value(json_object_get(row, "units"));
		if (!st || strcmp(st, "creating") == 0 || strcmp(st, "removing") == 0)
			continue;
		struct node_sample *sm = &s->subs[s->n_subs];
		if ((r = node_sample_read(n, row, false, sm, err)) < 0) {
			node_collect_pass_end(n);
			node_summary_free(s);
			return sn_err_wrap(err, "node summary");
		}
		s->n_subs++;
		s->cpu_usage_ns += sm->cg.cpu_usage_ns;
		s->memory_usage += sm->cg.memory_usage;
	}
	node_collect_pass_end(n);
	return 0;
}

void node_summary_free(struct node_summary *s)
{
	for (size_t i = 0; i < s->n_subs; i++)
		node_sample_free(&s->subs[i]);
	free(s->subs);
	memset(s, 0, sizeof(*s));
}

json_t *node_summary_json(const struct node_summary *s)
{
	json_t *subs = json_array(), *states = json_object();
	for (int i = 0; subs && states && i < NODE_STATES; i++)
		json_object_set_new(states, node_state_names[i], json_integer(s->by_state[i]));
	for (size_t i = 0; subs && i < s->n_subs; i++) {
		const struct node_sample *sm = &s->subs[i];
		json_array_append_new(subs, json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:s, s:I, s:I}",
			"id", sm->id, "name", sm->name, "state", sm->state, "size", sm->size,
			"units", (int)sm->units, "restarts", (json_int_t)sm->restarts,
			"health", sm->health, "cpu_usage_ns", (json_int_t)sm->cg.cpu_usage_ns,
			"memory_usage", (json_int_t)sm->cg.memory_usage));
	}
	return json_pack("{s:I, s:{s:i, s:i, s:i}, s:{s:f, s:I}, s:o, s:o}",
		"at_ns", (json_int_t)s->at_ns,
		"units", "total", (int)s->units_total, "used", (int)s->units_used,
		"free", (int)(s->units_total - (s->units_used < s->units_total ? s->units_used : s->units_total)),
		"usage", "cpu_seconds", (double)s->cpu_usage_ns / 1e9,
		"memory_bytes", (json_int_t)s->memory_usage,
		"states", states, "subnodes", subs);
}
