/* metrics.c — the node's figures in Prometheus' text exposition format
 * 0.0.4 (GET /metrics), read by sample.c.
 *
 * Names. Per subnode, cAdvisor's names and units (container_cpu_*,
 * container_memory_*, container_spec_*, container_network_*, ...), so the
 * dashboards written for cAdvisor work unchanged. Every per-subnode
 * series carries cAdvisor's labels: id (the cgroup path, as cAdvisor
 * has it), name, image, and each of the subnode's own labels as
 * container_label_<key> (key with every character outside [A-Za-z0-9_]
 * made `_`), so a chain name set as a label is a label of every series.
 * container_* series exist for subnodes that have a cgroup (running or
 * paused), as in cAdvisor; subnode_* ones for every subnode that is made.
 * Network devices: every device of the subnode's namespace but lo (as
 * cAdvisor), with the `interface` label. The node: subnode_units,
 * subnode_cpu_cores, subnode_memory_bytes, subnode_disk_bytes by kind
 * (total, used, free), subnode_subnodes by state; the daemon itself:
 * process_* as the Prometheus client libraries name them.
 *
 * cAdvisor's container_memory_failcnt is left out: a counter without
 * _total, which promtool refuses (the stats API has it as failcnt).
 *
 * Volumes: container_fs_usage_bytes and container_fs_limit_bytes, one
 * series per volume a subnode binds (label device = the volume's name, as
 * cAdvisor labels a file system by its device), for every subnode made:
 * a volume's data outlives its subnode's run.
 *
 * Memory: the text of 128 subnodes is several hundred KiB, so it is not
 * built at once: the summary is read (a few KiB a subnode), then each
 * family is rendered when the HTTP layer asks for more bytes, and freed
 * once sent. A family's lines stay together, as the format requires.
 */
#include "node/metrics.h"
#include "node/node.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

struct node_metrics {
	struct node *n;
	struct node_summary sum;
	char **labels;         /* per sample: id="..",name="..",image="..",container_label_..=".." */
	size_t step;
	struct sn_buf out;     /* the step being sent; one buffer for every step */
	size_t poff;
	char *extra;           /* node_metrics_append */
	size_t extra_len;
};

/* ---- text helpers */

static void put_value_escaped(struct sn_buf *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			sn_buf_puts(f, "\\\\");
		else if (*v == '"')
			sn_buf_puts(f, "\\\"");
		else if (*v == '\n')
			sn_buf_puts(f, "\\n");
		else
			sn_buf_putc(f, *v);
	}
}

static void put_label(struct sn_buf *f, bool *first, const char *name, const char *value)
{
	sn_buf_printf(f, "%s%s=\"", *first ? "" : ",", name);
	put_value_escaped(f, value);
	sn_buf_putc(f, '"');
	*first = false;
}

/* container_label_<key>, key sanitized; false when it is not usable. */
static bool label_name(const char *key, char *out, size_t size)
{
	int n = snprintf(out, size, "container_label_%s", key);
	if (n < 0 || (size_t)n >= size || !key[0])
		return false;
	for (char *p = out + strlen("container_label_"); *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			*p = '_';
	return true;
}

static char *label_set(const struct node *n, const struct node_sample *s)
{
	struct sn_buf b = { 0 }, *f = &b;
	bool first = true;
	char id[4096];
	snprintf(id, sizeof(id), "%s/%s", strcmp(n->cfg.cgroup_parent, "/") ? n->cfg.cgroup_parent : "",
		 s->id);
	put_label(f, &first, "id", id);
	put_label(f, &first, "name", s->name);
	put_label(f, &first, "image", s->image);
	_cleanup_json_ json_t *seen = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(s->labels, key, v) {
		char name[256];
		if (!json_is_string(v) || !label_name(key, name, sizeof(name)) ||
		    json_object_get(seen, name))
			continue;   /* two keys alike once sanitized: the first wins */
		json_object_set_new(seen, name, json_true());
		put_label(f, &first, name, json_string_value(v));
	}
	if (b.oom || !b.p) {
		sn_buf_free(&b);
		return NULL;
	}
	return b.p;
}

static void head(struct sn_buf *f, const char *name, const char *type, const char *help)
{
	sn_buf_printf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A value: an integer, or nanoseconds written as seconds (exactly). */
static void put_u64(struct sn_buf *f, uint64_t v, bool ns)
{
	sn_buf_putc(f, ' ');
	sn_buf_u64(f, ns ? v / 1000000000u : v);
	if (ns) {
		char frac[11];
		snprintf(frac, sizeof(frac), ".%09llu", (unsigned long long)(v % 1000000000u));
		sn_buf_add(f, frac, 10);
	}
	sn_buf_putc(f, '\n');
}

/* name{labels} — the start of a series line */
static void put_series(struct sn_buf *f, const char *name, const char *labels)
{
	sn_buf_puts(f, name);
	sn_buf_putc(f, '{');
	sn_buf_puts(f, labels);
}

/* ---- per-subnode families (cAdvisor's) */

#define NS true
struct cfam {
	const char *name, *type, *help;
	bool ns;
	uint64_t (*get)(const struct node_sample *s, int64_t now_ns);
};

#define GET(fn, expr) \
	static uint64_t fn(const struct node_sample *s, int64_t now_ns) \
	{ (void)now_ns; return (expr); }
GET(g_cpu, s->cg.cpu_usage_ns)
GET(g_user, s->cg.cpu_user_ns)
GET(g_sys, s->cg.cpu_system_ns)
GET(g_thr_ns, s->cg.cpu_throttled_ns)
GET(g_thr_p, s->cg.cpu_throttled_periods)
GET(g_mem, s->cg.memory_usage)
GET(g_ws, s->cg.memory_usage > s->cg.memory_inactive_file ?
	  s->cg.memory_usage - s->cg.memory_inactive_file : 0)
GET(g_rss, s->cg.memory_rss)
GET(g_cache, s->cg.memory_cache)
GET(g_mem_lim, s->cg.memory_limit == UINT64_MAX ? 0 : s->cg.memory_limit)
GET(g_quota, s->cpu_quota_us)
GET(g_period, s->cpu_period_us)
GET(g_shares, s->cpu_shares)
GET(g_procs, s->cg.processes)
GET(g_threads, s->cg.pids_current)
GET(g_threads_max, s->cg.pids_limit == UINT64_MAX ? 0 : s->cg.pids_limit)
GET(g_oom, s->cg.oom_kills)
GET(g_start, s->started_ns > 0 ? (uint64_t)s->started_ns : 0)
GET(g_seen, (uint64_t)now_ns)
GET(g_restarts, s->restarts)

static const struct cfam container_fams[] = {
	{ "container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.", NS, g_cpu },
	{ "container_cpu_user_seconds_total", "counter", "Cumulative user cpu time consumed in seconds.", NS, g_user },
	{ "container_cpu_system_seconds_total", "counter", "Cumulative system cpu time consumed in seconds.", NS, g_sys },
	{ "container_cpu_cfs_throttled_seconds_total", "counter", "Total time duration the container has been throttled.", NS, g_thr_ns },
	{ "container_cpu_cfs_throttled_periods_total", "counter", "Number of throttled period intervals.", false, g_thr_p },
	{ "container_memory_usage_bytes", "gauge", "Current memory usage in bytes, including all memory regardless of when it was accessed.", false, g_mem },
	{ "container_memory_working_set_bytes", "gauge", "Current working set in bytes (usage minus inactive file cache).", false, g_ws },
	{ "container_memory_rss", "gauge", "Size of RSS (anonymous memory) in bytes.", false, g_rss },
	{ "container_memory_cache", "gauge", "Number of bytes of page cache memory.", false, g_cache },
	{ "container_spec_memory_limit_bytes", "gauge", "Memory limit for the container (0: none).", false, g_mem_lim },
	{ "container_spec_cpu_quota", "gauge", "CPU quota of the container (microseconds a period).", false, g_quota },
	{ "container_spec_cpu_period", "gauge", "CPU period of the container (microseconds).", false, g_period },
	{ "container_spec_cpu_shares", "gauge", "CPU share of the container.", false, g_shares },
	{ "container_processes", "gauge", "Number of processes running inside the container.", false, g_procs },
	{ "container_threads", "gauge", "Number of threads running inside the container.", false, g_threads },
	{ "container_threads_max", "gauge", "Maximum number of threads allowed inside the container (0: no limit).", false, g_threads_max },
	{ "container_oom_events_total", "counter", "Count of out of memory events observed for the container.", false, g_oom },
	{ "container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds.", NS, g_start },
	{ "container_last_seen", "gauge", "Last time a container was seen by the exporter.", NS, g_seen },
};

static void render_container_fam(struct node_metrics *m, struct sn_buf *f, const struct cfam *c)
{
	head(f, c->name, c->type, c->help);
	for (size_t i = 0; i < m->sum.n_subs; i++) {
		const struct node_sample *s = &m->sum.subs[i];
		if (!s->has_cgroup)
			continue;
		put_series(f, c->name, m->labels[i]);
		sn_buf_putc(f, '}');
		put_u64(f, c->get(s, m->sum.at_ns), c->ns);
	}
}

/* ---- network (per device but lo) */

struct nfam {
	const char *name, *help;
	size_t off;
};
#define NF(name, field, help) { name, help, offsetof(struct node_netdev, field) }
static const struct nfam net_fams[] = {
	NF("container_network_receive_bytes_total", rx_bytes, "Cumulative count of bytes received."),
	NF("container_network_receive_packets_total", rx_packets, "Cumulative count of packets received."),
	NF("container_network_receive_errors_total", rx_errors, "Cumulative count of errors encountered while receiving."),
	NF("container_network_receive_packets_dropped_total", rx_dropped, "Cumulative count of packets dropped while receiving."),
	NF("container_network_transmit_bytes_total", tx_bytes, "Cumulative count of bytes transmitted."),
	NF("container_network_transmit_packets_total", tx_packets, "Cumulative count of packets transmitted."),
	NF("container_network_transmit_errors_total", tx_errors, "Cumulative count of errors encountered while transmitting."),
	NF("container_network_transmit_packets_dropped_total", tx_dropped, "Cumulative count of packets dropped while transmitting."),
};

static void render_net_fam(struct node_metrics *m, struct sn_buf *f, const struct nfam *nf)
{
	head(f, nf->name, "counter", nf->help);
	for (size_t i = 0; i < m->sum.n_subs; i++) {
		const struct node_sample *s = &m->sum.subs[i];
		for (size_t k = 0; s->has_cgroup && k < s->n_net; k++) {
			if (strcmp(s->net[k].name, "lo") == 0)
				continue;
			uint64_t v;
			memcpy(&v, (const char *)&s->net[k] + nf->off, sizeof(v));
			put_series(f, nf->name, m->labels[i]);
			sn_buf_puts(f, ",interface=\"");
			put_value_escaped(f, s->net[k].name);
			sn_buf_printf(f, "\"} %llu\n", (unsigned long long)v);
		}
	}
}

/* ---- volumes (per volume a subnode binds) */

static void render_fs_fam(struct node_metrics *m, struct sn_buf *f, const char *name, const char *key,
			  const char *help)
{
	head(f, name, "gauge", help);
	for (size_t i = 0; i < m->sum.n_subs; i++) {
		const char *vol;
		json_t *v;
		json_object_foreach(m->sum.subs[i].volumes, vol, v) {
			sn_buf_printf(f, "%s{%s,device=\"", name, m->labels[i]);
			put_value_escaped(f, vol);
			sn_buf_printf(f, "\"} %lld\n", (long long)json_integer_value(json_object_get(v, key)));
		}
	}
}

static void render_volumes(struct node_metrics *m, struct sn_buf *f)
{
	render_fs_fam(m, f, "container_fs_usage_bytes", "usage",
		      "Number of bytes that are consumed by the container on this filesystem.");
	render_fs_fam(m, f, "container_fs_limit_bytes", "limit",
		      "Number of bytes that can be consumed by the container on this filesystem.");
}

/* ---- the node and its subnodes' lifecycle */

static void kinds(struct sn_buf *f, const char *name, const char *help, double total, double used)
{
	head(f, name, "gauge", help);
	double free_ = total > used ? total - used : 0;
	sn_buf_printf(f, "%s{kind=\"total\"} %.17g\n%s{kind=\"used\"} %.17g\n%s{kind=\"free\"} %.17g\n",
		name, total, name, used, name, free_);
}

static void render_node(struct node_metrics *m, struct sn_buf *f)
{
	const struct node_summary *s = &m->sum;
	kinds(f, "subnode_units", "Slice units of the node: total, used by subnodes, free.",
	      s->units_total, s->units_used);
	kinds(f, "subnode_cpu_cores", "CPU cores for subnodes (after the node's reserve) by slice use.",
	      s->cpus, s->units_used * s->unit_cpus);
	kinds(f, "subnode_memory_bytes", "Memory for subnodes (after the node's reserve) by slice use.",
	      (double)s->memory, (double)s->units_used * (double)s->unit_memory);
	kinds(f, "subnode_disk_bytes", "Disk for subnodes (after the node's reserve) by slice use.",
	      (double)s->disk, (double)s->units_used * (double)s->unit_disk);
	head(f, "subnode_subnodes", "gauge", "Subnodes by state.");
	for (int i = 0; i < NODE_STATES; i++)
		sn_buf_printf(f, "subnode_subnodes{state=\"%s\"} %u\n", node_state_names[i], s->by_state[i]);
}

static void render_lifecycle(struct node_metrics *m, struct sn_buf *f)
{
	const struct node_summary *s = &m->sum;
	head(f, "subnode_info", "gauge", "A subnode that exists: its state and size as labels, value 1.");
	for (size_t i = 0; i < s->n_subs; i++) {
		sn_buf_printf(f, "subnode_info{%s,state=\"", m->labels[i]);
		put_value_escaped(f, s->subs[i].state);
		sn_buf_puts(f, "\",size=\"");
		put_value_escaped(f, s->subs[i].size);
		sn_buf_printf(f, "\",units=\"%u\"} 1\n", s->subs[i].units);
	}
	head(f, "subnode_restarts_total", "counter", "Restarts of the subnode by its supervisor.");
	for (size_t i = 0; i < s->n_subs; i++) {
		sn_buf_printf(f, "subnode_restarts_total{%s}", m->labels[i]);
		put_u64(f, g_restarts(&s->subs[i], 0), false);
	}
	static const char *const hs[] = { "starting", "healthy", "unhealthy" };
	head(f, "subnode_health_status", "gauge",
	     "Health of subnodes with a health check: 1 for the state it is in.");
	for (size_t i = 0; i < s->n_subs; i++)
		for (size_t k = 0; s->subs[i].health[0] && k < SN_ARRAY_SIZE(hs); k++)
			sn_buf_printf(f, "subnode_health_status{%s,status=\"%s\"} %d\n", m->labels[i], hs[k],
				strcmp(s->subs[i].health, hs[k]) == 0);
	head(f, "subnode_health_check_duration_seconds", "gauge", "How long the last health check took.");
	for (size_t i = 0; i < s->n_subs; i++)
		if (s->subs[i].health_check_ms >= 0)
			sn_buf_printf(f, "subnode_health_check_duration_seconds{%s} %lld.%03lld\n", m->labels[i],
				s->subs[i].health_check_ms / 1000, s->subs[i].health_check_ms % 1000);
}

/* ---- the daemon itself */

/* Open fds: since Linux 6.2 the size of /proc/self/fd is their number
 * (one stat instead of a lookup per fd, ~1,300 with 128 subnodes'
 * files kept open); older kernels say 0 and the directory is listed. */
static int count_fds(void)
{
	struct stat sb;
	if (stat("/proc/self/fd", &sb) == 0 && sb.st_size > 0)
		return (int)sb.st_size;
	_cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	return d ? n - 1 : 0;   /* the directory's own fd */
}

static void render_process(struct node_metrics *m, struct sn_buf *f)
{
	(void)m;
	_cleanup_free_ char *stat = NULL, *pstat = NULL;
	struct sn_err e;
	unsigned long long ut = 0, st = 0, start = 0, vsize = 0, btime = 0;
	long long rss = 0;
	if (sn_read_file("/proc/self/stat", 4096, &stat, NULL, &e) == 0) {
		const char *p = strrchr(stat, ')');   /* comm may hold spaces */
		if (p)
			sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
			       &ut, &st, &start, &vsize, &rss);
	}
	if (sn_read_file("/proc/stat", 1u << 20, &pstat, NULL, &e) == 0) {
		const char *b = strstr(pstat, "\nbtime ");
		if (b)
			btime = strtoull(b + 7, NULL, 10);
	}
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	if (hz <= 0)
		hz = 100;
	struct rlimit rl = { 0 };
	getrlimit(RLIMIT_NOFILE, &rl);
	head(f, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
	sn_buf_printf(f, "process_cpu_seconds_total %.17g\n", (double)(ut + st) / (double)hz);
	head(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	sn_buf_printf(f, "process_resident_memory_bytes %lld\n", rss * (page > 0 ? page : 4096));
	head(f, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	sn_buf_printf(f, "process_virtual_memory_bytes %llu\n", vsize);
	head(f, "process_open_fds", "gauge", "Number of open file descriptors.");
	sn_buf_printf(f, "process_open_fds %d\n", count_fds());
	head(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
	sn_buf_printf(f, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	head(f, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
	sn_buf_printf(f, "process_start_time_seconds %.17g\n", (double)btime + (double)start / (double)hz);
}

/* ---- the steps of one exposition */

#define N_CONTAINER SN_ARRAY_SIZE(container_fams)
#define N_NET SN_ARRAY_SIZE(net_fams)
#define N_STEPS (N_CONTAINER + N_NET + 4)

static void render_step(struct node_metrics *m, struct sn_buf *f, size_t step)
{
	if (step < N_CONTAINER)
		render_container_fam(m, f, &container_fams[step]);
	else if (step < N_CONTAINER + N_NET)
		render_net_fam(m, f, &net_fams[step - N_CONTAINER]);
	else if (step == N_CONTAINER + N_NET)
		render_lifecycle(m, f);
	else if (step == N_CONTAINER + N_NET + 1)
		render_node(m, f);
	else if (step == N_CONTAINER + N_NET + 2)
		render_volumes(m, f);
	else
		render_process(m, f);
}

int node_metrics_open(struct node *n, struct node_metrics **out, struct sn_err *err)
{
	struct node_metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return sn_err_set(err, ENOMEM, "metrics");
	m->n = n;
	node_collect_buf_take(n, &m->out);
	int r = node_summary_read(n, &m->sum, err);
	if (r < 0) {
		free(m);
		return r;
	}
	m->labels = calloc(m->sum.n_subs + 1, sizeof(*m->labels));
	for (size_t i = 0; m->labels && i < m->sum.n_subs; i++)
		if (!(m->labels[i] = label_set(n, &m->sum.subs[i]))) {
			node_metrics_free(m);
			return sn_err_set(err, ENOMEM, "metrics");
		}
	if (!m->labels) {
		node_metrics_free(m);
		return sn_err_set(err, ENOMEM, "metrics");
	}
	*out = m;
	return 0;
}

int node_metrics_append(struct node_metrics *m, const char *text, size_t len)
{
	char *nb = realloc(m->extra, m->extra_len + len);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + m->extra_len, text, len);
	m->extra = nb;
	m->extra_len += len;
	return 0;
}

/* Render the next step into out; false at the end (or out of memory:
 * the text ends early, the scrape fails as Prometheus sees a cut body). */
static bool next_chunk(struct node_metrics *m)
{
	sn_buf_reset(&m->out);
	m->poff = 0;
	if (m->step > N_STEPS)
		return false;
	if (m->step == N_STEPS) {
		m->step++;
		sn_buf_add(&m->out, m->extra ? m->extra : "", m->extra_len);
	} else {
		render_step(m, &m->out, m->step++);
	}
	return !m->out.oom && m->out.len > 0;
}

size_t node_metrics_read(struct node_metrics *m, char *buf, size_t max)
{
	while (m->poff >= m->out.len)
		if (!next_chunk(m))
			return 0;
	size_t k = m->out.len - m->poff < max ? m->out.len - m->poff : max;
	memcpy(buf, m->out.p + m->poff, k);
	m->poff += k;
	return k;
}

void node_metrics_free(struct node_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; m->labels && i < m->sum.n_subs; i++)
		free(m->labels[i]);
	free(m->labels);
	node_summary_free(&m->sum);
	node_collect_buf_give(m->n, &m->out);
	free(m->extra);
	free(m);
}
