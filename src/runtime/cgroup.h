/* cgroup.h — one interface over the three cgroup layouts a host can have.
 *
 *   CGROUP_V1      controllers each mounted at <root>/<ctrl> (cpu, memory, ...)
 *   CGROUP_V2      one unified hierarchy at <root>
 *   CGROUP_HYBRID  v1 controllers, plus a cgroup2 mount at <root>/unified
 *                  that carries no (or few) controllers; the container is also
 *                  placed there so tools that read the v2 tree see it.
 *
 * A struct cgroup names one container's cgroup: the layout, the root of the
 * cgroup filesystem(s) (normally /sys/fs/cgroup; tests use a private mount
 * or a fake tree) and the path inside each hierarchy ("/subrun/abc").
 * It is saved in the container's state (cgroup_to_json) so every later
 * command (kill --all, pause, ps, update, delete) finds the same cgroup.
 *
 * Resource mapping follows the OCI spec and the conversions runc/crun use for
 * v2 (cpu.weight from shares, io.weight from blkio weight, memory.swap.max =
 * swap - limit). Device rules: v1 devices.allow/deny; v2 an eBPF
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup.
 */
#ifndef SN_RUNTIME_CGROUP_H
#define SN_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/err.h"
#include "runtime/spec.h"

enum cgroup_mode { CGROUP_V1 = 1, CGROUP_V2, CGROUP_HYBRID };

struct cgroup {
	enum cgroup_mode mode;
	char *root;              /* "/sys/fs/cgroup" */
	char *path;              /* "/subrun/abc", always absolute within the hierarchy */
};

struct cgroup_stats {
	uint64_t cpu_usage_ns;          /* total CPU time */
	uint64_t cpu_user_ns, cpu_system_ns;
	uint64_t cpu_throttled_periods, cpu_throttled_ns;
	uint64_t memory_usage;          /* bytes */
	uint64_t memory_limit;          /* bytes, UINT64_MAX = none */
	uint64_t memory_cache, memory_rss;
	uint64_t memory_failcnt;        /* v1 failcnt / v2 memory.events max */
	uint64_t oom_kills;
	uint64_t pids_current, pids_limit; /* pids_limit UINT64_MAX = none */
	uint64_t io_read_bytes, io_write_bytes;
};

/* Detect the layout of the cgroup filesystem(s) under root. */
int cgroup_detect_mode(const char *root, enum cgroup_mode *mode, struct sn_err *err);

/* Turn the spec's cgroupsPath into an absolute hierarchy path:
 *   NULL/""            -> "/subrun/<id>"
 *   "/a/b"             -> "/a/b"
 *   "a/b" (relative)   -> relative to the calling process's own cgroup
 *   "slice:prefix:name" (systemd form) -> "/<slice>/<prefix>-<name>.scope"
 * Paths with ".." components are refused. */
int cgroup_resolve_path(const char *cgroups_path, const char *id, char **out,
			struct sn_err *err);

/* Fill a struct cgroup for root/path (mode detected unless given != 0). */
int cgroup_new(const char *root, const char *path, enum cgroup_mode mode,
	       struct cgroup **out, struct sn_err *err);
void cgroup_free(struct cgroup *cg);

/* When res has device rules, append the rules every container gets
 * after its own (runc's AllowedDevices): mknod of any char/block device,
 * rwm on null, zero, full, random, urandom, tty, ptmx, the pts and tun.
 * Without rules nothing is added (no rule means no device filter). */
int cgroup_add_default_device_rules(struct spec_resources *res, struct sn_err *err);

/* Create the cgroup in every hierarchy, apply res (may be NULL) and move pid
 * in. On failure, whatever was created is removed again. */
int cgroup_create(struct cgroup *cg, pid_t pid, const struct spec_resources *res,
		  struct sn_err *err);
/* Move another pid in (exec). */
int cgroup_enter(const struct cgroup *cg, pid_t pid, struct sn_err *err);
/* Apply (or update) resource limits. */
int cgroup_apply(const struct cgroup *cg, const struct spec_resources *res,
		 struct sn_err *err);
/* Freeze or thaw all processes; waits until the state is reached. */
int cgroup_freeze(const struct cgroup *cg, bool frozen, struct sn_err *err);
int cgroup_is_frozen(const struct cgroup *cg, bool *frozen, struct sn_err *err);
/* All pids in the cgroup and below it. *pids is malloc'ed. */
int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n, struct sn_err *err);
/* Send sig to every process in the cgroup (v2 SIGKILL uses cgroup.kill). */
int cgroup_kill_all(const struct cgroup *cg, int sig, struct sn_err *err);
/* Remove the cgroup from every hierarchy (children first). A missing
 * cgroup is not an error; a populated one is (EBUSY). */
int cgroup_destroy(const struct cgroup *cg, struct sn_err *err);
int cgroup_stats(const struct cgroup *cg, struct cgroup_stats *st, struct sn_err *err);

/* Persist in / restore from the container state. */
json_t *cgroup_to_json(const struct cgroup *cg);
int cgroup_from_json(json_t *j, struct cgroup **out, struct sn_err *err);

#endif
