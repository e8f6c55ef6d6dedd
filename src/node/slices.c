/* slices.c — the node divided into 128 units, and admission control.
 *
 * Capacity: CPUs online, MemTotal and the free space of the root's file
 * system, each minus its reserve (config), divided by 128. A subnode of u
 * units gets, through the OCI linux.resources the runtime applies:
 *   cpu.shares (v1) / cpu.weight (v2, the runtime converts) = 64·u,
 *   cpu quota = u · unit_cpus · period (min 1 ms), period 100 ms,
 *   memory limit = u · unit_memory,
 *   pids limit = u · pids_per_unit,
 *   blkio/io weight = 10 + 990·u/128, only where the host has a weight
 *   file (BFQ or CFQ, or cgroup2's io controller: asked of the runtime's
 *   cgroup layer, which knows v1, v2 and hybrid layouts); without one it
 *   is left out (node info says so) instead of failing every create.
 * Nothing is over-committed: the sum of units of all subnodes that exist
 * (running or not) never passes 128, so a stopped subnode keeps its room.
 */
#include "node/node.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "runtime/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static uint64_t mem_total(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	return (uint64_t)kb * 1024;
}

int node_slices_init(struct node *n, struct sn_err *err)
{
	struct node_slices *s = &n->slices;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		return sn_err_sys(err, "sysconf(_SC_NPROCESSORS_ONLN)");
	s->cpus = (double)ncpu - n->cfg.reserve_cpus;
	if (s->cpus < 0.128)
		return sn_err_msg(err, EINVAL, "reserve_cpus %.2f leaves %.2f of %ld cores for subnodes",
				  n->cfg.reserve_cpus, s->cpus, ncpu);
	uint64_t mem = mem_total();
	if (mem <= n->cfg.reserve_memory + (128ull << 20))
		return sn_err_msg(err, EINVAL, "reserve_memory leaves too little of %llu MiB",
				  (unsigned long long)(mem >> 20));
	s->memory = mem - n->cfg.reserve_memory;
	struct statvfs vf;
	if (statvfs(n->cfg.root, &vf) < 0)
		return sn_err_sys(err, "statvfs `%s`", n->cfg.root);
	uint64_t disk = (uint64_t)vf.f_blocks * vf.f_frsize;
	s->disk = disk > n->cfg.reserve_disk ? disk - n->cfg.reserve_disk : 0;
	s->unit_cpus = s->cpus / NODE_UNITS;
	s->unit_memory = s->memory / NODE_UNITS;
	s->unit_disk = s->disk / NODE_UNITS;
	enum cgroup_mode mode;
	int r = cgroup_detect_mode(NODE_CGROUP_ROOT, &mode, err);
	if (r < 0 || (r = cgroup_io_weight_available(NODE_CGROUP_ROOT, mode, &s->io_weight, err)) < 0)
		return r;
	n->cgroup_mode = (int)mode;
	return 0;
}

void node_slices_cpu(const struct node *n, unsigned units, uint64_t *shares, uint64_t *quota,
		     uint64_t *period)
{
	*period = 100000;
	*quota = (uint64_t)(units * n->slices.unit_cpus * (double)*period);
	if (*quota < 1000)
		*quota = 1000;
	*shares = (uint64_t)units * 64;
}

void node_slices_limits(const struct node *n, unsigned units, uint64_t *memory, uint64_t *pids)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t pg = page > 0 ? (uint64_t)page : 4096;
	*memory = units * n->slices.unit_memory / pg * pg;
	int64_t p = (int64_t)units * n->cfg.pids_per_unit;
	*pids = p > 0 ? (uint64_t)p : UINT64_MAX;
}

json_t *node_slices_resources(struct node *n, unsigned units)
{
	const struct node_slices *s = &n->slices;
	uint64_t shares, quota, period;
	node_slices_cpu(n, units, &shares, &quota, &period);
	json_t *r = json_pack("{s:{s:I, s:I, s:I}, s:{s:I}, s:{s:I}}",
		"cpu", "shares", (json_int_t)shares, "quota", (json_int_t)quota, "period", (json_int_t)period,
		"memory", "limit", (json_int_t)(units * s->unit_memory),
		"pids", "limit", (json_int_t)units * n->cfg.pids_per_unit);
	if (r && s->io_weight)
		json_object_set_new(r, "blockIO",
				    json_pack("{s:I}", "weight", (json_int_t)(10 + 990 * units / NODE_UNITS)));
	return r;
}

int node_slices_admit(struct node *n, const char *size, unsigned units, struct sn_err *err)
{
	unsigned used = 0;
	int r = node_db_units_used(n->db, &used, err);
	if (r < 0)
		return r;
	if (used + units <= NODE_UNITS)
		return 0;
	unsigned free_u = used >= NODE_UNITS ? 0 : NODE_UNITS - used;
	char fits[256] = "";
	size_t off = 0;
	for (unsigned i = 0; i < n->cfg.n_sizes; i++)
		if (n->cfg.sizes[i].units <= free_u)
			off += (size_t)snprintf(fits + off, sizeof(fits) - off, "%s%s", off ? ", " : "",
						n->cfg.sizes[i].name);
	return sn_err_msg(err, ENOSPC,
			  "not enough room on this node: size %s needs %u unit%s, %u of %u free "
			  "(%u used); %s%s",
			  size, units, units == 1 ? "" : "s", free_u, NODE_UNITS, used,
			  off ? "sizes that fit: " : "no size fits", fits);
}
