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
	uint64_t memory_inactive_file;  /* usage minus this = working set */
	uint64_t memory_failcnt;        /* v1 failcnt / v2 memory.events max */
	uint64_t oom_kills;
	uint64_t pids_current, pids_limit; /* pids_limit UINT64_MAX = none */
	uint64_t io_read_bytes, io_write_bytes;
	uint64_t processes;             /* pids in cgroup.procs, sub-cgroups included */
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

/* Create the cgroup in every hierarchy, apply res (may be NULL) and move pid
 * in. On failure, whatever was created is removed again. */
int cgroup_create(struct cgroup *cg, pid_t pid, const struct spec_resources *res,
		  struct sn_err *err);
/* Joining cheaply. Moving *another* process into a cgroup (its pid into
 * cgroup.procs) takes the cgroup core's global threadgroup lock for
 * writing, and that waits for an RCU grace period: milliseconds, most of a
 * container's start. A new process can avoid it:
 *   v1  the process, still single-threaded, writes "0" into the `tasks`
 *       file of each hierarchy itself: moving only the calling thread does
 *       not take that lock. The files are opened here, by the creating
 *       process as root: the kernel checks the opener's credentials, so the
 *       write also works from inside a new user namespace.
 *   v2  the process is born in the cgroup: clone3(CLONE_INTO_CGROUP) with
 *       the directory opened here (v2_dir).
 * The cgroup must exist (cgroup_create with pid 0). All fds close-on-exec. */
#define CGROUP_JOIN_MAX 32
struct cgroup_join {
	int tasks[CGROUP_JOIN_MAX];
	size_t n;
	int v2_dir;                      /* unified directory, or -1 */
};
int cgroup_join_open(const struct cgroup *cg, struct cgroup_join *j, struct sn_err *err);
/* In the new process: move the calling thread into every v1 hierarchy and
 * close those fds. No allocation (safe right after a raw clone). */
int cgroup_join_self(struct cgroup_join *j, struct sn_err *err);
void cgroup_join_close(struct cgroup_join *j);
/* Start a child, fork-like (0 in the child), with clone flags `flags`:
 * clone3(CLONE_INTO_CGROUP) when j has a unified directory, else (or
 * when the kernel refuses that) a plain clone. *enter_v2: j has a unified
 * side the child was not born in — the caller moves it there with
 * cgroup_enter_v2. */
int cgroup_join_clone(const struct cgroup_join *j, unsigned long flags, pid_t *child,
		      bool *enter_v2, struct sn_err *err);
/* Move pid into the unified side only (when clone3 could not place it). */
int cgroup_enter_v2(const struct cgroup *cg, pid_t pid, struct sn_err *err);
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
/* The one reader of a cgroup's statistics (subrun, subnoded's stats and
 * metrics). A cgroup that does not exist is -ENOENT. Pass the mode to
 * cgroup_new when reading many: detection is two statfs calls. */
int cgroup_stats(const struct cgroup *cg, struct cgroup_stats *st, struct sn_err *err);
/* A cgroup's counter files kept open, for a reader that reads them again
 * and again (subnoded's /metrics; cgroup_stats.c says which files): one
 * pread each instead of open + read + close. cgroup_counters_fds tells
 * how many fds it holds (at most CGROUP_COUNTERS_MAX_FDS). -ENOENT: the
 * cgroup does not exist. */
#define CGROUP_COUNTERS_MAX_FDS 9
struct cgroup_counters;
struct sn_buf;
int cgroup_counters_open(const struct cgroup *cg, struct cgroup_counters **out, struct sn_err *err);
/* Every field of cgroup_stats but the limits (left UINT64_MAX), v1's
 * memory_failcnt and the io bytes; scratch is the caller's buffer, reused
 * from call to call. -ENODEV: the cgroup was removed since the open (open
 * again: a restarted container has a new cgroup of the same path). */
int cgroup_counters_read(struct cgroup_counters *c, struct cgroup_stats *st, struct sn_buf *scratch,
			 struct sn_err *err);
/* The rest of cgroup_stats (limits, failcnt, io), read by path. */
int cgroup_counters_read_rest(struct cgroup_counters *c, struct cgroup_stats *st, struct sn_err *err);
size_t cgroup_counters_fds(const struct cgroup_counters *c);
void cgroup_counters_close(struct cgroup_counters *c);
/* Can a blkio/io weight be applied to cgroups under root? v1 and hybrid:
 * the blkio hierarchy has blkio.weight or blkio.bfq.weight (CFQ or BFQ);
 * v2: the root's cgroup.controllers lists io. (cgroup_probe.c) */
int cgroup_io_weight_available(const char *root, enum cgroup_mode mode, bool *yes,
			       struct sn_err *err);

/* Persist in / restore from the container state. */
json_t *cgroup_to_json(const struct cgroup *cg);
int cgroup_from_json(json_t *j, struct cgroup **out, struct sn_err *err);

#endif
