/* stats.c — a subnode's resource usage from its cgroup files, in Docker's
 * /containers/{id}/stats shape: cpu_stats (total_usage ns, system_cpu_usage
 * ns, online_cpus), memory_stats (usage, limit, stats.cache), pids_stats
 * (current, limit), blkio/networks where readable.
 *
 * cgroup v1 (and hybrid): <root>/<controller>/<parent>/<id>, cpuacct
 * possibly co-mounted as cpu,cpuacct. cgroup v2: <root>/<parent>/<id>.
 * Networks come from /proc/<init pid>/net/dev (the subnode's netns).
 * Missing files read as 0: a stopped subnode has no cgroup, and its stats
 * are zeros rather than an error.
 */
#include "node/node.h"
#include "node/db.h"
#include "node/volume.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static unsigned long long read_u64(const char *dir, const char *file, bool *ok)
{
	_cleanup_free_ char *p = sn_path_join(dir, file);
	_cleanup_free_ char *txt = NULL;
	size_t len;
	struct sn_err e;
	if (!p || sn_read_file(p, 4096, &txt, &len, &e) < 0)
		return 0;
	if (strncmp(txt, "max", 3) == 0)
		return 0;
	if (ok)
		*ok = true;
	return strtoull(txt, NULL, 10);
}

/* "key value" lines: the value of key. */
static unsigned long long read_kv(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *p = sn_path_join(dir, file);
	_cleanup_free_ char *txt = NULL;
	size_t len;
	struct sn_err e;
	if (!p || sn_read_file(p, 1 << 16, &txt, &len, &e) < 0)
		return 0;
	size_t kl = strlen(key);
	for (char *l = txt; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
			return strtoull(l + kl + 1, NULL, 10);
	return 0;
}

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

static json_t *networks(int pid)
{
	json_t *o = json_object();
	if (pid <= 0)
		return o;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/net/dev", pid);
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *name = line;
		while (*name == ' ')
			name++;
		unsigned long long rb, rp, re, rd, x, tb, tp, te, td;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &rb, &rp,
			   &re, &rd, &x, &x, &x, &x, &tb, &tp, &te, &td) != 12)
			continue;
		json_object_set_new(o, name, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"rx_bytes", (json_int_t)rb, "rx_packets", (json_int_t)rp, "rx_errors", (json_int_t)re,
			"rx_dropped", (json_int_t)rd, "tx_bytes", (json_int_t)tb, "tx_packets", (json_int_t)tp,
			"tx_errors", (json_int_t)te, "tx_dropped", (json_int_t)td));
	}
	return o;
}

int node_stats(struct node *n, const char *ref, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL, *status = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_db_find(n->db, ref, &row, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *parent = strcmp(n->cfg.cgroup_parent, "/") ? n->cfg.cgroup_parent : "";
	struct statfs sf;
	bool v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
	char cpu[4096], mem[4096], pids[4096];
	unsigned long long cpu_ns, mem_use, mem_lim, cache, pcur, plim;
	bool have_lim = false, have_plim = false, running = false;
	if (v2) {
		snprintf(cpu, sizeof(cpu), "/sys/fs/cgroup%s/%s", parent, id);
		running = access(cpu, F_OK) == 0;
		cpu_ns = read_kv(cpu, "cpu.stat", "usage_usec") * 1000;
		mem_use = read_u64(cpu, "memory.current", NULL);
		mem_lim = read_u64(cpu, "memory.max", &have_lim);
		cache = read_kv(cpu, "memory.stat", "file");
		pcur = read_u64(cpu, "pids.current", NULL);
		plim = read_u64(cpu, "pids.max", &have_plim);
	} else {
		snprintf(cpu, sizeof(cpu), "/sys/fs/cgroup/cpuacct%s/%s", parent, id);
		if (access(cpu, F_OK) < 0)
			snprintf(cpu, sizeof(cpu), "/sys/fs/cgroup/cpu,cpuacct%s/%s", parent, id);
		snprintf(mem, sizeof(mem), "/sys/fs/cgroup/memory%s/%s", parent, id);
		snprintf(pids, sizeof(pids), "/sys/fs/cgroup/pids%s/%s", parent, id);
		running = access(mem, F_OK) == 0;
		cpu_ns = read_u64(cpu, "cpuacct.usage", NULL);
		mem_use = read_u64(mem, "memory.usage_in_bytes", NULL);
		mem_lim = read_u64(mem, "memory.limit_in_bytes", &have_lim);
		cache = read_kv(mem, "memory.stat", "total_cache");
		pcur = read_u64(pids, "pids.current", NULL);
		plim = read_u64(pids, "pids.max", &have_plim);
	}
	struct sn_err e2 = { 0 };
	node_read_status(n, id, &status, &e2);
	int pid = running && status ? (int)json_integer_value(json_object_get(status, "pid")) : 0;
	char now[40];
	node_time_str(node_now_ns(), now);
	*out = json_pack("{s:s, s:s, s:s, s:{s:{s:I}, s:I, s:i}, s:{s:I, s:I, s:{s:I}}, s:{s:I, s:I}, s:o, s:I}",
		"read", now, "id", id, "name", json_string_value(json_object_get(row, "name")),
		"cpu_stats", "cpu_usage", "total_usage", (json_int_t)cpu_ns,
		"system_cpu_usage", (json_int_t)system_cpu_ns(), "online_cpus", (int)sysconf(_SC_NPROCESSORS_ONLN),
		"memory_stats", "usage", (json_int_t)mem_use, "limit", (json_int_t)(have_lim ? mem_lim : 0),
		"stats", "cache", (json_int_t)cache,
		"pids_stats", "current", (json_int_t)pcur, "limit", (json_int_t)(have_plim ? plim : 0),
		"networks", networks(pid), "units", json_integer_value(json_object_get(row, "units")));
	if (*out)
		json_object_set_new(*out, "volumes", node_volumes_stats(n, json_object_get(row, "config")));
	return *out ? 0 : sn_err_set(err, ENOMEM, "stats");
}
