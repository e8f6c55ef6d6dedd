/* cgroup_v1_rt.c — room for a realtime budget (cpu.rt_runtime_us) on a
 * cgroup v1 cpu hierarchy.
 *
 * With CONFIG_RT_GROUP_SCHED the kernel hands out realtime CPU time down
 * the tree: the children's rt_runtime/rt_period may add up to no more
 * than their parent's, and a new cgroup starts with 0. runc and crun put
 * a container straight under the hierarchy's root (950000 of 1000000 us
 * by default), so `realtimeRuntime` just works there. subrun's default
 * parent `subrun/` sits in between with a budget of 0, and the same
 * bundle would fail with EINVAL. So when the container's cgroup is
 * subrun's own default parent's child, we give that parent what its
 * children use plus what the new one asks, then write the child again.
 * A path the caller chose (cgroupsPath) is left alone, as runc and crun
 * leave it: its parents' budgets are the caller's business.
 */
#include "runtime/cgroup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"

/* The default parent (cgroup_path.c: no cgroupsPath -> /subrun/<id>). */
#define RT_DEFAULT_PARENT "/subrun/"

/* runtime scaled to period p, rounded up. */
static uint64_t rt_share(uint64_t runtime, uint64_t period, uint64_t p)
{
	if (!period)
		return 0;
	return (runtime * p + period - 1) / period;
}

/* What the children of parent already use, in parent's period p. */
static int rt_children_use(const char *parent, uint64_t p, uint64_t *use, struct sn_err *err)
{
	*use = 0;
	_cleanup_closedir_ DIR *d = opendir(parent);
	if (!d)
		return sn_err_sys(err, "open cgroup `%s`", parent);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *child = NULL;
		if (asprintf(&child, "%s/%s", parent, de->d_name) < 0)
			return sn_err_set(err, ENOMEM, "cgroup `%s`", parent);
		uint64_t rt = 0, per = 0;
		struct sn_err ignored = { 0 };
		if (cg_read_u64(child, "cpu.rt_runtime_us", &rt, &ignored) < 0 ||
		    cg_read_u64(child, "cpu.rt_period_us", &per, &ignored) < 0)
			continue; /* gone meanwhile */
		*use += rt_share(rt, per, p);
	}
	return 0;
}

int cg_v1_rt_make_room(const struct cgroup *cg, const char *dir, int64_t runtime,
		       int64_t period, struct sn_err *err)
{
	size_t plen = strlen(RT_DEFAULT_PARENT);
	if (runtime <= 0 || strncmp(cg->path, RT_DEFAULT_PARENT, plen) != 0 ||
	    strchr(cg->path + plen, '/'))
		return 1; /* not ours to change */
	_cleanup_free_ char *parent = strdup(dir);
	if (!parent)
		return sn_err_set(err, ENOMEM, "cgroup `%s`", dir);
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return 1;
	*slash = '\0';
	uint64_t p = 0, have = 0, use = 0, child_period = 0;
	int r;
	if ((r = cg_read_u64(parent, "cpu.rt_period_us", &p, err)) < 0 ||
	    (r = cg_read_u64(parent, "cpu.rt_runtime_us", &have, err)) < 0)
		return r;
	if (period > 0)
		child_period = (uint64_t)period;
	else if ((r = cg_read_u64(dir, "cpu.rt_period_us", &child_period, err)) < 0)
		return r;
	if ((r = rt_children_use(parent, p, &use, err)) < 0)
		return r;
	uint64_t need = use + rt_share((uint64_t)runtime, child_period, p);
	if (need <= have)
		return 1; /* the parent was not the reason */
	if (need > p)
		return sn_err_msg(err, EINVAL,
				  "linux.resources.cpu.realtimeRuntime %" PRId64 ": `%s` would need %"
				  PRIu64 " of its %" PRIu64 " us period", runtime, parent, need, p);
	return cg_writef(parent, "cpu.rt_runtime_us", err, "%" PRIu64, need);
}
