/* cgroup_v1.c — cgroup v1 hierarchies: create, resources, freezer
 * (statistics: cgroup_stats.c).
 *
 * One directory per hierarchy (as discovered by cg_layout_load); a
 * controller's files are written in the hierarchy that carries it, so a
 * co-mounted cpu,cpuacct needs nothing special.
 *
 * Rules kept here:
 *  - A limit the spec leaves unset never causes a write (several files, e.g.
 *    blkio.leaf_weight or memory.kmem.*, are missing on newer kernels). A
 *    limit that *is* set but whose controller or file is missing is an
 *    error naming the file, never silently dropped.
 *  - cpuset: a new v1 cpuset cgroup starts with empty cpuset.cpus/mems and
 *    no process can join it; every level of the path gets its parent's
 *    values when empty, top down, before anything else happens.
 *  - memory: the kernel insists memsw >= memory at every moment, so limit
 *    and memory+swap are written in the order that keeps this true (runc's
 *    order): memsw first when it grows beyond the current limit.
 *  - cpu: cfs period before quota, rt period before runtime; on EINVAL
 *    (a quota that does not fit the old period) the other order is tried;
 *    a realtime budget the default parent subrun/ lacks is given to it
 *    first (cgroup_v1_rt.c).
 *  - devices: rules are written to devices.allow / devices.deny one per
 *    write, in order, so the kernel's last-match semantics equal OCI's.
 *  - freezer: FROZEN is written again until freezer.state reads FROZEN
 *    (it can stick in FREEZING while a task is in an uninterruptible
 *    sleep); after 5 s the cgroup is thawed again and EBUSY returned.
 */
#include "runtime/cgroup_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	SN_RETRY_EINTR(nanosleep(&ts, &ts));
}

/* The cgroup directory of controller ctrl, or an error naming what is
 * missing (the caller only asks when a limit needs it). */
static int need_dir(const struct cgroup *cg, const struct cg_layout *l, const char *ctrl,
		    const char *what, char **out, struct sn_err *err)
{
	*out = cg_v1_dir(l, ctrl, cg->path);
	if (*out)
		return 0;
	if (errno == ENOMEM)
		return sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
	return sn_err_msg(err, EOPNOTSUPP,
			  "%s is set but there is no cgroup v1 `%s` hierarchy under `%s`", what,
			  ctrl, cg->root);
}

static bool is_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* Give dir the parent's value of file when its own is empty. */
static int cpuset_inherit(const char *parent, const char *dir, const char *file,
			  struct sn_err *err)
{
	_cleanup_free_ char *cur = NULL;
	int r = cg_read(dir, file, &cur, err);
	if (r < 0)
		return r;
	if (!is_blank(cur))
		return 0;
	_cleanup_free_ char *pv = NULL;
	r = cg_read(parent, file, &pv, err);
	if (r < 0)
		return r;
	size_t n = strlen(pv);
	while (n > 0 && isspace((unsigned char)pv[n - 1]))
		pv[--n] = '\0';
	if (n == 0)
		return sn_err_msg(err, EINVAL, "`%s/%s` is empty, cannot inherit cpuset", parent, file);
	return cg_write(dir, file, pv, err);
}

static int cpuset_fill_levels(const char *base, const char *path, struct sn_err *err)
{
	_cleanup_free_ char *parent = strdup(base);
	if (!parent)
		return sn_err_set(err, ENOMEM, "cpuset `%s%s`", base, path);
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		_cleanup_free_ char *dir = NULL;
		if (asprintf(&dir, "%s/%.*s", parent, (int)len, p) < 0) {
			dir = NULL;
			return sn_err_set(err, ENOMEM, "cpuset `%s%s`", base, path);
		}
		int r = cpuset_inherit(parent, dir, "cpuset.cpus", err);
		if (r == 0)
			r = cpuset_inherit(parent, dir, "cpuset.mems", err);
		if (r < 0)
			return r;
		free(parent);
		parent = steal_ptr(dir);
		p += len;
	}
	return 0;
}

int cg_v1_create(const struct cgroup *cg, const struct cg_layout *l, char **made,
		 size_t *n_made, struct sn_err *err)
{
	for (size_t i = 0; i < l->n_v1; i++) {
		const struct cg_hier *h = &l->v1[i];
		char *first = NULL;
		int r = cg_mkdir_levels(h->dir, cg->path, &first, err);
		if (first)
			made[(*n_made)++] = first;
		if (r < 0)
			return r;
		for (char **c = h->ctrls; *c; c++) {
			if (strcmp(*c, "cpuset") == 0) {
				r = cpuset_fill_levels(h->dir, cg->path, err);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------ resources */

static int w_i64(const char *dir, const char *file, int64_t v, struct sn_err *err)
{
	return cg_writef(dir, file, err, "%" PRId64, v);
}

static int v1_memory(const struct cgroup *cg, const struct cg_layout *l,
		     const struct spec_memory *m, struct sn_err *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = need_dir(cg, l, "memory", "linux.resources.memory", &dir, err);
	if (r < 0)
		return r;
	if (m->limit != SPEC_UNSET && m->swap != SPEC_UNSET) {
		uint64_t cur = UINT64_MAX;
		r = cg_read_u64(dir, "memory.limit_in_bytes", &cur, err);
		if (r < 0)
			return r;
		if (cur >= V1_UNLIMITED_FLOOR)
			cur = UINT64_MAX;
		/* memsw must stay >= memory at every step */
		bool memsw_first = m->swap == -1 || (m->swap >= 0 && cur < (uint64_t)m->swap);
		if (memsw_first) {
			if ((r = w_i64(dir, "memory.memsw.limit_in_bytes", m->swap, err)) < 0 ||
			    (r = w_i64(dir, "memory.limit_in_bytes", m->limit, err)) < 0)
				return r;
		} else {
			if ((r = w_i64(dir, "memory.limit_in_bytes", m->limit, err)) < 0 ||
			    (r = w_i64(dir, "memory.memsw.limit_in_bytes", m->swap, err)) < 0)
				return r;
		}
	} else if (m->limit != SPEC_UNSET) {
		if ((r = w_i64(dir, "memory.limit_in_bytes", m->limit, err)) < 0)
			return r;
	} else if (m->swap != SPEC_UNSET) {
		if ((r = w_i64(dir, "memory.memsw.limit_in_bytes", m->swap, err)) < 0)
			return r;
	}
	if (m->reservation != SPEC_UNSET &&
	    (r = w_i64(dir, "memory.soft_limit_in_bytes", m->reservation, err)) < 0)
		return r;
	if (m->kernel != SPEC_UNSET &&
	    (r = w_i64(dir, "memory.kmem.limit_in_bytes", m->kernel, err)) < 0)
		return r;
	if (m->kernel_tcp != SPEC_UNSET &&
	    (r = w_i64(dir, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp, err)) < 0)
		return r;
	if (m->swappiness != SPEC_UNSET) {
		if (m->swappiness < 0 || m->swappiness > 100)
			return sn_err_msg(err, EINVAL,
					  "linux.resources.memory.swappiness: %" PRId64 " is not in 0..100",
					  m->swappiness);
		if ((r = w_i64(dir, "memory.swappiness", m->swappiness, err)) < 0)
			return r;
	}
	if (m->has_disable_oom_killer &&
	    (r = cg_write(dir, "memory.oom_control", m->disable_oom_killer ? "1" : "0", err)) < 0)
		return r;
	if (m->has_use_hierarchy &&
	    (r = cg_write(dir, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0", err)) < 0)
		return r;
	return 0;
}

/* Write a then b; if a is refused with EINVAL, try b then a. */
static int write_pair(const char *dir, const char *fa, int64_t a, const char *fb, int64_t b,
		      struct sn_err *err)
{
	if (a == SPEC_UNSET)
		return b == SPEC_UNSET ? 0 : w_i64(dir, fb, b, err);
	int r = w_i64(dir, fa, a, err);
	if (r == -EINVAL && b != SPEC_UNSET) {
		struct sn_err first = *err;
		if (w_i64(dir, fb, b, err) == 0 && w_i64(dir, fa, a, err) == 0)
			return 0;
		*err = first;
		return r;
	}
	if (r < 0)
		return r;
	return b == SPEC_UNSET ? 0 : w_i64(dir, fb, b, err);
}

static int v1_cpu(const struct cgroup *cg, const struct cg_layout *l,
		  const struct spec_cpu *c, struct sn_err *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = need_dir(cg, l, "cpu", "linux.resources.cpu", &dir, err);
	if (r < 0)
		return r;
	if (c->shares != SPEC_UNSET && (r = w_i64(dir, "cpu.shares", c->shares, err)) < 0)
		return r;
	if ((r = write_pair(dir, "cpu.cfs_period_us", c->period, "cpu.cfs_quota_us", c->quota,
			    err)) < 0)
		return r;
	if (c->burst != SPEC_UNSET && (r = w_i64(dir, "cpu.cfs_burst_us", c->burst, err)) < 0)
		return r;
	r = write_pair(dir, "cpu.rt_period_us", c->realtime_period, "cpu.rt_runtime_us",
		       c->realtime_runtime, err);
	if (r == -EINVAL) {
		/* subrun's default parent may have no realtime budget yet */
		struct sn_err first = *err;
		int m = cg_v1_rt_make_room(cg, dir, c->realtime_runtime, c->realtime_period, err);
		if (m == 0)
			r = write_pair(dir, "cpu.rt_period_us", c->realtime_period,
				       "cpu.rt_runtime_us", c->realtime_runtime, err);
		else if (m == 1)
			*err = first;
		else
			r = m;
	}
	if (r < 0)
		return r;
	if (c->idle != SPEC_UNSET && (r = w_i64(dir, "cpu.idle", c->idle, err)) < 0)
		return r;
	return 0;
}

static int v1_cpuset(const struct cgroup *cg, const struct cg_layout *l,
		     const struct spec_cpu *c, struct sn_err *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = need_dir(cg, l, "cpuset", "linux.resources.cpu.cpus/mems", &dir, err);
	if (r < 0)
		return r;
	if (c->cpus && (r = cg_write(dir, "cpuset.cpus", c->cpus, err)) < 0)
		return r;
	if (c->mems && (r = cg_write(dir, "cpuset.mems", c->mems, err)) < 0)
		return r;
	return 0;
}

static int v1_throttle(const char *dir, const char *file,
		       const struct spec_throttle_device *t, size_t n, struct sn_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = cg_writef(dir, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major,
				  t[i].minor, t[i].rate);
		if (r < 0)
			return r;
	}
	return 0;
}

static int v1_blkio(const struct cgroup *cg, const struct cg_layout *l,
		    const struct spec_blockio *b, struct sn_err *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = need_dir(cg, l, "blkio", "linux.resources.blockIO", &dir, err);
	if (r < 0)
		return r;
	/* CFQ's blkio.weight is gone on newer kernels; BFQ has blkio.bfq.weight */
	_cleanup_free_ char *wpath = sn_path_join(dir, "blkio.weight");
	bool bfq = wpath && !sn_path_exists(wpath);
	if (bfq) {
		_cleanup_free_ char *bp = sn_path_join(dir, "blkio.bfq.weight");
		bfq = bp && sn_path_exists(bp);
	}
	if (b->weight != SPEC_UNSET &&
	    (r = w_i64(dir, bfq ? "blkio.bfq.weight" : "blkio.weight", b->weight, err)) < 0)
		return r;
	if (b->leaf_weight != SPEC_UNSET &&
	    (r = w_i64(dir, "blkio.leaf_weight", b->leaf_weight, err)) < 0)
		return r;
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct spec_weight_device *d = &b->weight_devices[i];
		if (d->weight != SPEC_UNSET &&
		    (r = cg_writef(dir, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", err,
				   "%" PRId64 ":%" PRId64 " %" PRId64, d->major, d->minor,
				   d->weight)) < 0)
			return r;
		if (d->leaf_weight != SPEC_UNSET &&
		    (r = cg_writef(dir, "blkio.leaf_weight_device", err,
				   "%" PRId64 ":%" PRId64 " %" PRId64, d->major, d->minor,
				   d->leaf_weight)) < 0)
			return r;
	}
	if ((r = v1_throttle(dir, "blkio.throttle.read_bps_device", b->throttle_read_bps,
			     b->n_throttle_read_bps, err)) < 0 ||
	    (r = v1_throttle(dir, "blkio.throttle.write_bps_device", b->throttle_write_bps,
			     b->n_throttle_write_bps, err)) < 0 ||
	    (r = v1_throttle(dir, "blkio.throttle.read_iops_device", b->throttle_read_iops,
			     b->n_throttle_read_iops, err)) < 0 ||
	    (r = v1_throttle(dir, "blkio.throttle.write_iops_device", b->throttle_write_iops,
			     b->n_throttle_write_iops, err)) < 0)
		return r;
	return 0;
}

static void device_number(char *buf, size_t size, int64_t v)
{
	if (v < 0)
		snprintf(buf, size, "*");
	else
		snprintf(buf, size, "%" PRId64, v);
}

static int v1_devices(const struct cgroup *cg, const struct cg_layout *l,
		      const struct spec_device_rule *rules, size_t n, struct sn_err *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = need_dir(cg, l, "devices", "linux.resources.devices", &dir, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct spec_device_rule *d = &rules[i];
		char maj[24], min[24];
		device_number(maj, sizeof(maj), d->major);
		device_number(min, sizeof(min), d->minor);
		char type = d->type ? d->type : 'a';
		r = cg_writef(dir, d->allow ? "devices.allow" : "devices.deny", err, "%c %s:%s %s",
			      type, maj, min, d->access[0] ? d->access : "rwm");
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_v1_apply(const struct cgroup *cg, const struct cg_layout *l,
		const struct spec_resources *res, struct sn_err *err)
{
	int r = 0;
	/* devices first: the most security-relevant, and cheap */
	if (res->n_devices && (r = v1_devices(cg, l, res->devices, res->n_devices, err)) < 0)
		return r;
	if (cg_res_has_cpuset(res) && (r = v1_cpuset(cg, l, &res->cpu, err)) < 0)
		return r;
	if (cg_res_has_memory(res) && (r = v1_memory(cg, l, &res->memory, err)) < 0)
		return r;
	if (cg_res_has_cpu(res) && (r = v1_cpu(cg, l, &res->cpu, err)) < 0)
		return r;
	if (res->pids_limit != SPEC_UNSET) {
		_cleanup_free_ char *dir = NULL;
		if ((r = need_dir(cg, l, "pids", "linux.resources.pids", &dir, err)) < 0)
			return r;
		r = res->pids_limit <= 0 ? cg_write(dir, "pids.max", "max", err)
					 : w_i64(dir, "pids.max", res->pids_limit, err);
		if (r < 0)
			return r;
	}
	if (cg_res_has_blkio(res) && (r = v1_blkio(cg, l, &res->blockio, err)) < 0)
		return r;
	if (res->n_hugepage_limits) {
		_cleanup_free_ char *dir = NULL;
		if ((r = need_dir(cg, l, "hugetlb", "linux.resources.hugepageLimits", &dir, err)) < 0)
			return r;
		if ((r = cg_write_hugepage_limits(dir, res, "limit_in_bytes", err)) < 0)
			return r;
	}
	if (res->net_class_id != SPEC_UNSET) {
		_cleanup_free_ char *dir = NULL;
		if ((r = need_dir(cg, l, "net_cls", "linux.resources.network.classID", &dir, err)) < 0 ||
		    (r = w_i64(dir, "net_cls.classid", res->net_class_id, err)) < 0)
			return r;
	}
	if (res->n_net_priorities) {
		_cleanup_free_ char *dir = NULL;
		if ((r = need_dir(cg, l, "net_prio", "linux.resources.network.priorities", &dir,
				  err)) < 0)
			return r;
		for (size_t i = 0; i < res->n_net_priorities; i++) {
			const struct spec_net_priority *p = &res->net_priorities[i];
			if ((r = cg_writef(dir, "net_prio.ifpriomap", err, "%s %" PRIu32, p->name,
					   p->priority)) < 0)
				return r;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ freezer */

static int freezer_state(const char *dir, char *buf, size_t size, struct sn_err *err)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dir, "freezer.state", &s, err);
	if (r < 0)
		return r;
	size_t n = strcspn(s, " \n");
	snprintf(buf, size, "%.*s", (int)n, s);
	return 0;
}

int cg_v1_freeze(const struct cgroup *cg, const struct cg_layout *l, bool frozen,
		 struct sn_err *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = need_dir(cg, l, "freezer", frozen ? "freeze" : "thaw", &dir, err);
	if (r < 0)
		return r;
	const char *want = frozen ? "FROZEN" : "THAWED";
	/* ~5 s: 20 x 1 ms, then 10 ms steps */
	for (int i = 0; i < 500; i++) {
		if ((r = cg_write(dir, "freezer.state", want, err)) < 0)
			return r;
		char st[32];
		if ((r = freezer_state(dir, st, sizeof(st), err)) < 0)
			return r;
		if (strcmp(st, want) == 0)
			return 0;
		sleep_ms(i < 20 ? 1 : 10);
	}
	if (frozen) {
		struct sn_err ignored = { 0 };
		cg_write(dir, "freezer.state", "THAWED", &ignored);
	}
	return sn_err_msg(err, EBUSY, "`%s/freezer.state` did not reach %s within 5 s", dir, want);
}

int cg_v1_is_frozen(const struct cgroup *cg, const struct cg_layout *l, bool *frozen,
		    struct sn_err *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = need_dir(cg, l, "freezer", "freezer state", &dir, err);
	if (r < 0)
		return r;
	char st[32];
	if ((r = freezer_state(dir, st, sizeof(st), err)) < 0)
		return r;
	*frozen = strcmp(st, "FROZEN") == 0;
	return 0;
}
