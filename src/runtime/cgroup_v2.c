/* cgroup_v2.c — the unified hierarchy: controller delegation, resources,
 * cgroup.freeze (statistics: cgroup_stats.c).
 *
 * Controllers. A v2 cgroup only has a controller's files when every
 * ancestor enables it in cgroup.subtree_control. At create time we enable,
 * on each ancestor that offers it (its cgroup.controllers), every controller
 * the resources need plus cpu, memory, pids and io for stats; a failure to
 * enable one that is only wanted for stats is ignored, one that a limit
 * needs is an error. On update only what the new limits need is enabled. An
 * ancestor without cgroup.controllers (a fake tree) is skipped. hugetlb and
 * others are never enabled unless a limit asks for them, so creating a
 * container does not change the host's delegation more than needed.
 *
 * Conversions (OCI is written for v1), the same as runc/crun:
 *   cpu.weight      = 1 + ((shares - 2) * 9999) / 262142   (shares in 2..262144)
 *   cpu.max         = "<quota|max> <period>"
 *   memory.max      = limit, -1 -> "max"; memory.low = reservation
 *   memory.swap.max = swap - limit (OCI swap is memory+swap), -1 -> "max"
 *   io.weight       = 1 + (w - 10) * 9999 / 990             (w in 10..1000)
 *                     or the raw weight to io.bfq.weight when BFQ is active
 *   io.max          = "maj:min rbps=N wbps=N riops=N wiops=N", one line a device
 *   pids.max        = limit, <= 0 -> "max"
 *   hugetlb.<size>.max
 *   unified         = key/value written as given, last, so it wins
 * Not available on v2 and therefore refused when set: cpu realtime,
 * net_cls classid, net_prio priorities. Ignored (deprecated, no v2 file, as
 * runc does): memory.kernel, memory.kernelTCP, memory.swappiness,
 * disableOOMKiller, useHierarchy, blockIO.leafWeight.
 */
#include "runtime/cgroup_internal.h"

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

uint64_t cg_v2_cpu_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cg_v2_io_weight(uint64_t w)
{
	if (w == 0)
		return 0;
	if (w < 10)
		w = 10;
	if (w > 1000)
		w = 1000;
	return 1 + (w - 10) * 9999 / 990;
}

int cg_v2_swap_max(int64_t swap, int64_t limit, int64_t *out, struct sn_err *err)
{
	if (swap == SPEC_UNSET) {
		/* memory unlimited and swap not given: swap unlimited too (v1 compat) */
		if (limit == -1) {
			*out = -1;
			return 1;
		}
		return 0;
	}
	if (swap == -1) {
		*out = -1;
		return 1;
	}
	if (swap == 0) {
		*out = 0;
		return 1;
	}
	if (limit == SPEC_UNSET || limit == -1)
		return sn_err_msg(err, EINVAL,
				  "linux.resources.memory.swap: %" PRId64
				  " cannot be set without a memory limit", swap);
	if (limit < 0 || swap < limit)
		return sn_err_msg(err, EINVAL,
				  "linux.resources.memory.swap: %" PRId64
				  " must be >= memory limit %" PRId64, swap, limit);
	*out = swap - limit;
	return 1;
}

/* ------------------------------------------------------------ controllers */

static bool word_in(const char *list, const char *w)
{
	size_t wl = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += wl) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
		bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n';
		if (start && end)
			return true;
	}
	return false;
}

/* want[] gets the controllers needed by res; returns their count. */
static size_t needed_controllers(const struct spec_resources *res, bool all_stats,
				 const char **want, bool *required, size_t cap)
{
	size_t n = 0;
#define WANT(name, req)                                                  \
	do {                                                             \
		size_t k_;                                               \
		for (k_ = 0; k_ < n && strcmp(want[k_], (name)) != 0; k_++) \
			;                                                \
		if (k_ == n && n < cap) {                                \
			want[n] = (name);                                \
			required[n++] = (req);                           \
		} else if (k_ < n && (req)) {                            \
			required[k_] = true;                             \
		}                                                        \
	} while (0)
	if (res) {
		if (cg_res_has_memory(res))
			WANT("memory", true);
		if (cg_res_has_cpu(res))
			WANT("cpu", true);
		if (cg_res_has_cpuset(res))
			WANT("cpuset", true);
		if (cg_res_has_blkio(res))
			WANT("io", true);
		if (res->pids_limit != SPEC_UNSET)
			WANT("pids", true);
		if (res->n_hugepage_limits)
			WANT("hugetlb", true);
	}
	if (all_stats) {
		WANT("cpu", false);
		WANT("memory", false);
		WANT("pids", false);
		WANT("io", false);
	}
#undef WANT
	return n;
}

/* Enable ctrl in dir's subtree_control when dir offers it. */
static int enable_in(const char *dir, const char *ctrl, bool required, struct sn_err *err)
{
	_cleanup_free_ char *avail = NULL, *enabled = NULL;
	struct sn_err ignored = { 0 };
	if (cg_read(dir, "cgroup.controllers", &avail, &ignored) < 0)
		return 0;  /* not a cgroup2 directory (fake tree): nothing to delegate */
	if (!word_in(avail, ctrl)) {
		if (!required)
			return 0;
		return sn_err_msg(err, EOPNOTSUPP,
				  "cgroup v2 controller `%s` is not available in `%s/cgroup.controllers`",
				  ctrl, dir);
	}
	if (cg_read(dir, "cgroup.subtree_control", &enabled, &ignored) == 0 &&
	    word_in(enabled, ctrl))
		return 0;
	int r = cg_writef(dir, "cgroup.subtree_control", required ? err : &ignored, "+%s", ctrl);
	return required ? r : 0;
}

/* Enable, in dir, the controllers wanted (each required or not) and the
 * extra ones the unified keys name (never required). */
static int enable_all(const char *dir, const char *const *want, const bool *required, size_t n,
		      char *const *extra, size_t n_extra, struct sn_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = enable_in(dir, want[i], required[i], err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_extra; i++) {
		int r = enable_in(dir, extra[i], false, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_v2_enable_controllers(const char *root, const char *path,
			     const struct spec_resources *res, bool all_stats,
			     struct sn_err *err)
{
	const char *want[16];
	bool required[16];
	size_t n = needed_controllers(res, all_stats, want, required, 16);
	/* unified keys "memory.high" need controller "memory" */
	_cleanup_strv_ char **extra = calloc((res ? res->n_unified : 0) + 1, sizeof(char *));
	if (!extra)
		return sn_err_set(err, ENOMEM, "cgroup controllers");
	size_t n_extra = 0;
	for (size_t i = 0; res && i < res->n_unified; i++) {
		const char *key = res->unified[i].key;
		const char *dot = strchr(key, '.');
		if (!dot || dot == key || strncmp(key, "cgroup.", 7) == 0)
			continue;
		if (!(extra[n_extra++] = strndup(key, (size_t)(dot - key))))
			return sn_err_set(err, ENOMEM, "cgroup controllers");
	}
	if (n == 0 && n_extra == 0)
		return 0;
	/* every ancestor of the leaf, root first */
	_cleanup_free_ char *dir = strdup(root);
	if (!dir)
		return sn_err_set(err, ENOMEM, "cgroup controllers");
	const char *p = path;
	for (;;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 0 || p[len] == '\0' || !p[len + strspn(p + len, "/")])
			break;  /* p is the leaf: its parent (dir) was the last one */
		int r = enable_all(dir, want, required, n, extra, n_extra, err);
		if (r < 0)
			return r;
		char *next;
		if (asprintf(&next, "%s/%.*s", dir, (int)len, p) < 0)
			return sn_err_set(err, ENOMEM, "cgroup controllers");
		free(dir);
		dir = next;
		p += len;
	}
	return enable_all(dir, want, required, n, extra, n_extra, err);
}

/* ------------------------------------------------------------ resources */

static int w_i64_or_max(const char *dir, const char *file, int64_t v, struct sn_err *err)
{
	if (v == -1)
		return cg_write(dir, file, "max", err);
	return cg_writef(dir, file, err, "%" PRId64, v);
}

static int v2_memory(const char *dir, const struct spec_memory *m, struct sn_err *err)
{
	int64_t swap;
	int has_swap = cg_v2_swap_max(m->swap, m->limit, &swap, err);
	if (has_swap < 0)
		return has_swap;
	int r;
	if (m->check_before_update && m->limit > 0) {
		uint64_t cur = 0;
		struct sn_err ignored = { 0 };
		if (cg_read_u64(dir, "memory.current", &cur, &ignored) == 0 &&
		    cur > (uint64_t)m->limit)
			return sn_err_msg(err, EBUSY,
					  "memory limit %" PRId64 " is below current usage %" PRIu64
					  " of `%s`", m->limit, cur, dir);
	}
	/* swap first: lowering memory.max may push pages to swap */
	if (has_swap && (r = w_i64_or_max(dir, "memory.swap.max", swap, err)) < 0)
		return r;
	if (m->limit != SPEC_UNSET && (r = w_i64_or_max(dir, "memory.max", m->limit, err)) < 0)
		return r;
	if (m->reservation != SPEC_UNSET &&
	    (r = w_i64_or_max(dir, "memory.low", m->reservation, err)) < 0)
		return r;
	return 0;
}

static int v2_cpu(const char *dir, const struct spec_cpu *c, struct sn_err *err)
{
	int r;
	if (c->realtime_runtime != SPEC_UNSET || c->realtime_period != SPEC_UNSET)
		return sn_err_msg(err, EOPNOTSUPP,
				  "linux.resources.cpu.realtimeRuntime/realtimePeriod: not supported on cgroup v2");
	if (c->shares != SPEC_UNSET && c->shares != 0) {
		if (c->shares < 0)
			return sn_err_msg(err, EINVAL, "linux.resources.cpu.shares: %" PRId64
					  " is negative", c->shares);
		if ((r = cg_writef(dir, "cpu.weight", err, "%" PRIu64,
				   cg_v2_cpu_weight((uint64_t)c->shares))) < 0)
			return r;
	}
	if (c->idle != SPEC_UNSET && (r = cg_writef(dir, "cpu.idle", err, "%" PRId64, c->idle)) < 0)
		return r;
	if (c->quota != SPEC_UNSET || c->period != SPEC_UNSET) {
		char buf[64];
		int n;
		if (c->quota != SPEC_UNSET && c->quota > 0)
			n = snprintf(buf, sizeof(buf), "%" PRId64, c->quota);
		else
			n = snprintf(buf, sizeof(buf), "max");
		if (c->period != SPEC_UNSET && c->period > 0)
			snprintf(buf + n, sizeof(buf) - (size_t)n, " %" PRId64, c->period);
		if ((r = cg_write(dir, "cpu.max", buf, err)) < 0)
			return r;
	}
	if (c->burst != SPEC_UNSET &&
	    (r = cg_writef(dir, "cpu.max.burst", err, "%" PRId64, c->burst)) < 0)
		return r;
	if (c->cpus && (r = cg_write(dir, "cpuset.cpus", c->cpus, err)) < 0)
		return r;
	if (c->mems && (r = cg_write(dir, "cpuset.mems", c->mems, err)) < 0)
		return r;
	return 0;
}

struct io_dev {
	int64_t major, minor;
	uint64_t v[4];           /* rbps wbps riops wiops; UINT64_MAX = unset */
};

static int io_max_add(struct io_dev **devs, size_t *n, const struct spec_throttle_device *t,
		      size_t nt, int slot)
{
	for (size_t i = 0; i < nt; i++) {
		size_t k;
		for (k = 0; k < *n; k++)
			if ((*devs)[k].major == t[i].major && (*devs)[k].minor == t[i].minor)
				break;
		if (k == *n) {
			struct io_dev *nd = realloc(*devs, (*n + 1) * sizeof(**devs));
			if (!nd)
				return -ENOMEM;
			*devs = nd;
			nd[k] = (struct io_dev){ t[i].major, t[i].minor,
						 { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } };
			(*n)++;
		}
		(*devs)[k].v[slot] = t[i].rate;
	}
	return 0;
}

static int v2_io(const char *dir, const struct spec_blockio *b, struct sn_err *err)
{
	int r;
	_cleanup_free_ char *bfqp = sn_path_join(dir, "io.bfq.weight");
	bool bfq = bfqp && sn_path_exists(bfqp);
	if (b->weight != SPEC_UNSET && b->weight > 0) {
		if (bfq)
			r = cg_writef(dir, "io.bfq.weight", err, "%" PRId64, b->weight);
		else
			r = cg_writef(dir, "io.weight", err, "%" PRIu64,
				      cg_v2_io_weight((uint64_t)b->weight));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < b->n_weight_devices; i++) {
		const struct spec_weight_device *d = &b->weight_devices[i];
		if (d->weight == SPEC_UNSET || d->weight <= 0)
			continue;
		if (bfq)
			r = cg_writef(dir, "io.bfq.weight", err, "%" PRId64 ":%" PRId64 " %" PRId64,
				      d->major, d->minor, d->weight);
		else
			r = cg_writef(dir, "io.weight", err, "%" PRId64 ":%" PRId64 " %" PRIu64,
				      d->major, d->minor, cg_v2_io_weight((uint64_t)d->weight));
		if (r < 0)
			return r;
	}
	_cleanup_free_ struct io_dev *devs = NULL;
	size_t n = 0;
	if (io_max_add(&devs, &n, b->throttle_read_bps, b->n_throttle_read_bps, 0) < 0 ||
	    io_max_add(&devs, &n, b->throttle_write_bps, b->n_throttle_write_bps, 1) < 0 ||
	    io_max_add(&devs, &n, b->throttle_read_iops, b->n_throttle_read_iops, 2) < 0 ||
	    io_max_add(&devs, &n, b->throttle_write_iops, b->n_throttle_write_iops, 3) < 0)
		return sn_err_set(err, ENOMEM, "io.max");
	static const char *const keys[4] = { "rbps", "wbps", "riops", "wiops" };
	for (size_t i = 0; i < n; i++) {
		char line[256];
		int len = snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64, devs[i].major,
				   devs[i].minor);
		for (int k = 0; k < 4; k++)
			if (devs[i].v[k] != UINT64_MAX)
				len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=%" PRIu64,
						keys[k], devs[i].v[k]);
		if ((r = cg_write(dir, "io.max", line, err)) < 0)
			return r;
	}
	return 0;
}

int cg_v2_apply_unified(const char *dir, const struct spec_resources *res,
			struct sn_err *err)
{
	for (size_t i = 0; i < res->n_unified; i++) {
		const char *key = res->unified[i].key, *val = res->unified[i].value;
		if (!key || !key[0] || strchr(key, '/') || strcmp(key, ".") == 0 ||
		    strcmp(key, "..") == 0)
			return sn_err_msg(err, EINVAL, "linux.resources.unified: invalid key `%s`",
					  key ? key : "");
		int r = cg_write(dir, key, val ? val : "", err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_v2_apply(const char *root, const char *path, const struct spec_resources *res,
		bool devices, struct sn_err *err)
{
	_cleanup_free_ char *dir = sn_path_join(root, path);
	if (!dir)
		return sn_err_set(err, ENOMEM, "cgroup `%s`", path);
	int r;
	if (res->net_class_id != SPEC_UNSET || res->n_net_priorities)
		return sn_err_msg(err, EOPNOTSUPP,
				  "linux.resources.network (classID/priorities): not supported on cgroup v2");
	if (devices && res->n_devices &&
	    (r = cg_bpf_apply_devices(dir, res->devices, res->n_devices, err)) < 0)
		return r;
	if (cg_res_has_memory(res) && (r = v2_memory(dir, &res->memory, err)) < 0)
		return r;
	if ((cg_res_has_cpu(res) || cg_res_has_cpuset(res)) && (r = v2_cpu(dir, &res->cpu, err)) < 0)
		return r;
	if (res->pids_limit != SPEC_UNSET) {
		r = res->pids_limit <= 0 ? cg_write(dir, "pids.max", "max", err)
					 : cg_writef(dir, "pids.max", err, "%" PRId64, res->pids_limit);
		if (r < 0)
			return r;
	}
	if (cg_res_has_blkio(res) && (r = v2_io(dir, &res->blockio, err)) < 0)
		return r;
	if ((r = cg_write_hugepage_limits(dir, res, "max", err)) < 0)
		return r;
	return cg_v2_apply_unified(dir, res, err);
}

/* ------------------------------------------------------------ freeze */

int cg_v2_is_frozen(const char *dir, bool *frozen, struct sn_err *err)
{
	_cleanup_free_ char *ev = NULL;
	uint64_t v = 0;
	int r = cg_read(dir, "cgroup.events", &ev, err);
	if (r < 0)
		return r;
	if (!cg_kv_u64(ev, "frozen", &v))
		return sn_err_msg(err, EOPNOTSUPP, "`%s/cgroup.events` has no `frozen` key", dir);
	*frozen = v == 1;
	return 0;
}

int cg_v2_freeze(const char *dir, bool frozen, struct sn_err *err)
{
	int r = cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err);
	if (r < 0)
		return r;
	for (int i = 0; i < 500; i++) {
		bool now;
		if ((r = cg_v2_is_frozen(dir, &now, err)) < 0)
			return r;
		if (now == frozen)
			return 0;
		sleep_ms(i < 20 ? 1 : 10);
	}
	if (frozen) {
		struct sn_err ignored = { 0 };
		cg_write(dir, "cgroup.freeze", "0", &ignored);
	}
	return sn_err_msg(err, EBUSY, "`%s/cgroup.events` did not reach frozen %d", dir, frozen);
}

