/* cgroup_internal.h — private pieces shared by the cgroup files.
 *
 * The public struct cgroup only carries (mode, root, path) so it can be
 * saved in the container state and restored by a later command. Everything
 * else — where each v1 controller is mounted, where the unified tree is — is
 * the *layout*, discovered again on every call from /proc/self/mountinfo (or
 * by listing the root directory when root is not a real cgroup mount, e.g. a
 * fake tree in the tests). Discovery costs one read of mountinfo; in return
 * no stale mount table is ever saved in the state.
 *
 * Files:
 *   cgroup.c      mode detection, the public entry points (dispatch by
 *                 mode), create rollback, enter, pids, kill, destroy, JSON,
 *                 small read/write helpers
 *   cgroup_layout.c  where the v1 hierarchies / the unified tree are
 *   cgroup_path.c    cgroupsPath -> hierarchy path
 *   cgroup_v1.c   v1 hierarchies: create (cpuset inheritance), resources,
 *                 freezer
 *   cgroup_v2.c   unified hierarchy: controller delegation, resources
 *                 (OCI -> v2 conversions), cgroup.freeze
 *   cgroup_stats.c  statistics (v1, v2): read once, or kept open (counters)
 *   cgroup_bpf.c  the v2 device filter: eBPF program built from the rules
 */
#ifndef SN_RUNTIME_CGROUP_INTERNAL_H
#define SN_RUNTIME_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/err.h"
#include "runtime/cgroup.h"
#include "runtime/spec.h"

/* One v1 hierarchy: its mount point and the controllers bound to it
 * ("cpu", "cpuacct" for a co-mounted cpu,cpuacct; "name=systemd"). */
struct cg_hier {
	char *dir;
	char **ctrls;            /* NULL-terminated */
};

struct cg_layout {
	struct cg_hier *v1;      /* v1 and hybrid only */
	size_t n_v1;
	char *unified;           /* v2: root; hybrid: root/unified; v1: NULL */
};

int cg_layout_load(const struct cgroup *cg, struct cg_layout *l, struct sn_err *err);
void cg_layout_free(struct cg_layout *l);
/* Add the v1 hierarchies that a mountinfo file shows directly under root
 * (the tests feed their own file). */
int cg_layout_parse_mountinfo(struct cg_layout *l, const char *mountinfo, const char *root,
			      struct sn_err *err);
/* The v1 hierarchy that carries controller ctrl, or NULL. */
const struct cg_hier *cg_v1_find(const struct cg_layout *l, const char *ctrl);
/* Malloc'ed "<hierarchy of ctrl><cg->path>", or NULL when ctrl is absent
 * (or on ENOMEM: callers treat both as "absent" only after checking errno). */
char *cg_v1_dir(const struct cg_layout *l, const char *ctrl, const char *path);

/* The kernel's "no limit" in v1 byte counters is PAGE_COUNTER_MAX pages;
 * anything this large means unlimited. */
#define V1_UNLIMITED_FLOOR (UINT64_C(1) << 62)

/* The directory whose cgroup.procs is authoritative for ps / kill / stats
 * (v2: the unified one; v1 and hybrid: pids', else freezer's, ...). */
char *cg_procs_dir(const struct cgroup *cg, const struct cg_layout *l);

/* Write val to dir/file; the error names value and file:
 * "write `max` to `/sys/fs/cgroup/pids/x/pids.max`: Invalid argument". */
int cg_write(const char *dir, const char *file, const char *val, struct sn_err *err);
/* linux.resources.hugepageLimits into dir's hugetlb.<size>.<suffix> files
 * (v1: limit_in_bytes, v2: max). */
int cg_write_hugepage_limits(const char *dir, const struct spec_resources *res,
			     const char *suffix, struct sn_err *err);
int cg_writef(const char *dir, const char *file, struct sn_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Read dir/file into a malloc'ed string (trailing newline kept). */
int cg_read(const char *dir, const char *file, char **out, struct sn_err *err);
/* Read a single number; "max" gives UINT64_MAX. -ENOENT when missing. */
int cg_read_u64(const char *dir, const char *file, uint64_t *out, struct sn_err *err);
/* The same for files that may be missing (stats: a controller not there):
 * *out is left alone (cg_read_opt: set to NULL) and 0 returned. One open,
 * no access() first: statistics of 128 cgroups are read every scrape. */
int cg_read_opt(const char *dir, const char *file, char **out, struct sn_err *err);
int cg_read_u64_opt(const char *dir, const char *file, uint64_t *out, struct sn_err *err);
/* In "key value\n" files (memory.stat, cpu.stat): the value of key. */
bool cg_kv_u64(const char *text, const char *key, uint64_t *out);
/* mkdir -p base+path, one level at a time; *first_new gets the shallowest
 * directory this call created (NULL if none), so a failed create can remove
 * exactly what it made. */
int cg_mkdir_levels(const char *base, const char *path, char **first_new,
		    struct sn_err *err);
/* rmdir dir and every cgroup below it, deepest first; EBUSY is retried
 * for a short while (processes just killed take a moment to leave).
 * A missing dir is fine. */
int cg_rmdir_tree(const char *dir, struct sn_err *err);
/* Move pid into dir (cgroup.procs). */
int cg_enter_dir(const char *dir, pid_t pid, struct sn_err *err);
/* Recursive list of pids in dir (cgroup.procs of dir and below). */
int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap,
		    struct sn_err *err);

/* "a,b" -> strv, keeping the words keep() accepts (all when NULL). */
char **cg_split_ctrls(const char *s, bool (*keep)(const char *));
/* Normalise an absolute cgroup path ('//' and '.' collapse); refuses '..'
 * and the root itself; `what` names the input in the message. */
int cg_normalize_path(const char *in, const char *what, char **out, struct sn_err *err);

/* Relative-path resolution against given /proc/<pid>/cgroup content, so
 * tests can feed their own. */
int cg_resolve_path_in(const char *cgroups_path, const char *id,
		       const char *self_cgroup, char **out, struct sn_err *err);

/* Does the resource set ask for anything (per group)? */
bool cg_res_has_memory(const struct spec_resources *r);
bool cg_res_has_cpu(const struct spec_resources *r);
bool cg_res_has_cpuset(const struct spec_resources *r);
bool cg_res_has_blkio(const struct spec_resources *r);

/* ---- v1 (cgroup_v1.c) */
/* mkdir in every hierarchy (cpuset levels get the parent's cpus/mems).
 * made (capacity l->n_v1) receives the shallowest new directory of each
 * hierarchy, *n_made their count, for the caller's rollback. */
int cg_v1_create(const struct cgroup *cg, const struct cg_layout *l, char **made,
		 size_t *n_made, struct sn_err *err);
int cg_v1_apply(const struct cgroup *cg, const struct cg_layout *l,
		const struct spec_resources *res, struct sn_err *err);
/* Give subrun's default parent the realtime budget a child under it
 * asks for (cgroup_v1_rt.c): 0 done, 1 when the parent is not the cause
 * or not ours to change, <0 an error (err set). */
int cg_v1_rt_make_room(const struct cgroup *cg, const char *dir, int64_t runtime,
		       int64_t period, struct sn_err *err);
int cg_v1_freeze(const struct cgroup *cg, const struct cg_layout *l, bool frozen,
		 struct sn_err *err);
int cg_v1_is_frozen(const struct cgroup *cg, const struct cg_layout *l, bool *frozen,
		    struct sn_err *err);

/* ---- v2 (cgroup_v2.c); dir is the unified root */
int cg_v2_enable_controllers(const char *root, const char *path,
			     const struct spec_resources *res, bool all_stats,
			     struct sn_err *err);
int cg_v2_apply(const char *root, const char *path, const struct spec_resources *res,
		bool devices, struct sn_err *err);
int cg_v2_apply_unified(const char *dir, const struct spec_resources *res,
			struct sn_err *err);
int cg_v2_freeze(const char *dir, bool frozen, struct sn_err *err);
int cg_v2_is_frozen(const char *dir, bool *frozen, struct sn_err *err);

/* ---- statistics (cgroup_stats.c): the counter files' texts in the order
 * v1: cpuacct.usage, cpuacct.stat, cpu.stat, memory.usage_in_bytes,
 *     memory.stat, memory.oom_control, pids.current
 * v2: -, -, cpu.stat, memory.current, memory.stat, memory.events,
 *     pids.current
 * (NULL: not read) into st; exposed for the tests. */
void cg_parse_v1_counters(const char *const text[], struct cgroup_stats *st);
void cg_parse_v2_counters(const char *const text[], struct cgroup_stats *st);
/* The OCI -> v2 conversions, exposed for the tests. */
uint64_t cg_v2_cpu_weight(uint64_t shares);
uint64_t cg_v2_io_weight(uint64_t blkio_weight);
/* memory.swap.max from OCI swap (memory+swap) and limit; *out = -1 means
 * "max"; returns 1 when there is something to write, 0 when not, -EINVAL
 * with err set on an impossible pair. */
int cg_v2_swap_max(int64_t swap, int64_t limit, int64_t *out, struct sn_err *err);

/* ---- device filter (cgroup_bpf.c) */
/* Build the eBPF program for rules (last match wins per access bit,
 * default deny). *insns is malloc'ed (struct bpf_insn[]), *n its length. */
int cg_bpf_build(const struct spec_device_rule *rules, size_t n_rules,
		 void **insns, size_t *n, struct sn_err *err);
/* Load it and attach to the cgroup directory dir (BPF_F_ALLOW_MULTI),
 * then detach the programs that were attached there before. */
int cg_bpf_apply_devices(const char *dir, const struct spec_device_rule *rules,
			 size_t n_rules, struct sn_err *err);
/* Number of device programs attached directly to dir. */
int cg_bpf_count(const char *dir, uint32_t *count, struct sn_err *err);

#endif
