/* stats.c — a subnode's resource usage in Docker's /containers/{id}/stats
 * shape: cpu_stats (total_usage, usage_in_usermode, usage_in_kernelmode
 * ns, system_cpu_usage ns, online_cpus, throttling_data), memory_stats
 * (usage, limit, stats.cache/rss/inactive_file), pids_stats (current,
 * limit), blkio_stats (bytes read and written), networks (every device of
 * the subnode's namespace, lo too).
 *
 * The figures come from sample.c, the reader /metrics and the heartbeat
 * use too, so `subnode stats` and a Prometheus graph agree. A stopped
 * subnode has no cgroup: its stats are zeros rather than an error.
 */
#include "node/metrics.h"
#include "node/node.h"
#include "node/db.h"
#include "node/volume.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned long long system_cpu_ns(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
	unsigned long long v[8] = { 0 }, sum = 0;
	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
			 &v[4], &v[5], &v[6], &v[7]) < 4)
		return 0;
	for (int i = 0; i < 8; i++)
		sum += v[i];
	long hz = sysconf(_SC_CLK_TCK);
	return sum * (1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100));
}

static json_t *networks(const struct node_sample *s)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < s->n_net; i++) {
		const struct node_netdev *d = &s->net[i];
		json_object_set_new(o, d->name, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"rx_bytes", (json_int_t)d->rx_bytes, "rx_packets", (json_int_t)d->rx_packets,
			"rx_errors", (json_int_t)d->rx_errors, "rx_dropped", (json_int_t)d->rx_dropped,
			"tx_bytes", (json_int_t)d->tx_bytes, "tx_packets", (json_int_t)d->tx_packets,
			"tx_errors", (json_int_t)d->tx_errors, "tx_dropped", (json_int_t)d->tx_dropped));
	}
	return o;
}

/* UINT64_MAX (no limit) as 0, Docker's way. */
static json_int_t lim(uint64_t v)
{
	return v == UINT64_MAX ? 0 : (json_int_t)v;
}

static json_t *stats_json(const struct node_sample *s)
{
	const struct cgroup_stats *c = &s->cg;
	char now[40], name[160];
	node_time_str(node_now_ns(), now);
	snprintf(name, sizeof(name), "/%s", s->name);   /* Docker's "/name" */
	json_t *blkio = json_pack("[{s:s, s:I}, {s:s, s:I}]", "op", "read", "value",
				  (json_int_t)c->io_read_bytes, "op", "write", "value",
				  (json_int_t)c->io_write_bytes);
	return json_pack("{s:s, s:s, s:s,"
			 " s:{s:{s:I, s:I, s:I}, s:I, s:i, s:{s:I, s:I}},"
			 " s:{s:I, s:I, s:I, s:{s:I, s:I, s:I}},"
			 " s:{s:I, s:I}, s:{s:o}, s:o, s:i}",
		"read", now, "id", s->id, "name", name,
		"cpu_stats", "cpu_usage", "total_usage", (json_int_t)c->cpu_usage_ns,
		"usage_in_usermode", (json_int_t)c->cpu_user_ns,
		"usage_in_kernelmode", (json_int_t)c->cpu_system_ns,
		"system_cpu_usage", (json_int_t)system_cpu_ns(),
		"online_cpus", (int)sysconf(_SC_NPROCESSORS_ONLN),
		"throttling_data", "throttled_periods", (json_int_t)c->cpu_throttled_periods,
		"throttled_time", (json_int_t)c->cpu_throttled_ns,
		"memory_stats", "usage", (json_int_t)c->memory_usage, "limit", lim(c->memory_limit),
		"failcnt", (json_int_t)c->memory_failcnt,
		"stats", "cache", (json_int_t)c->memory_cache, "rss", (json_int_t)c->memory_rss,
		"inactive_file", (json_int_t)c->memory_inactive_file,
		"pids_stats", "current", (json_int_t)c->pids_current, "limit", lim(c->pids_limit),
		"blkio_stats", "io_service_bytes_recursive", blkio,
		"networks", networks(s), "units", (int)s->units);
}

int node_stats(struct node *n, const char *ref, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	struct node_sample s;
	if ((r = node_sample_read(n, row, true, &s, err)) < 0)
		return r;
	*out = stats_json(&s);
	if (*out)
		json_object_set(*out, "volumes", s.volumes ? s.volumes : json_object());
	node_sample_free(&s);
	return *out ? 0 : sn_err_set(err, ENOMEM, "stats");
}
