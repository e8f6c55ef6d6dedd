/* cgroup_stats.c — the one reader of a cgroup's statistics, v1, v2 and
 * hybrid: cgroup_stats (read once: subrun, the stats API) and the
 * counters kept open for repeated reads (subnoded's /metrics).
 *
 * Counters. What changes while a container runs is read from files kept
 * open (O_RDONLY | O_CLOEXEC) with pread at offset 0: every cgroup file is
 * a kernfs seq_file, and a read at offset 0 makes the kernel generate its
 * text afresh, so each read shows the current value for one system call
 * (open + read + close is three, and the open walks the path). Files that
 * give several values are read once for all of them:
 *
 *   v1 / hybrid (the v1 controllers; hybrid's unified side has none)
 *     cpuacct.usage            total CPU ns
 *     cpuacct.stat             user, system (ticks)
 *     cpu.stat                 nr_throttled, throttled_time
 *     memory.usage_in_bytes    usage
 *     memory.stat              (total_)cache, rss, inactive_file
 *     memory.oom_control       oom_kill
 *     pids.current
 *     cgroup.procs             processes (of the pids hierarchy's cgroup)
 *   v2
 *     cpu.stat                 usage, user, system, throttling
 *     memory.current, memory.stat, memory.events (max = failcnt, oom_kill)
 *     pids.current, cgroup.procs
 *
 * plus the cgroup directory (O_PATH) whose link count says whether it has
 * sub-cgroups: only then are their cgroup.procs walked (by path). That is
 * 9 fds a cgroup on v1 / hybrid, 7 on v2 (CGROUP_COUNTERS_MAX_FDS). A
 * file that is missing (a controller not there) is simply not read.
 *
 * The rest — the limits (memory, pids), v1's memory.failcnt and the io
 * bytes — is read by path on request only (cgroup_counters_read_rest):
 * the limits are what the caller set and does not need to read back each
 * time, and the others are shown by the stats API only.
 *
 * A cgroup removed while its files are open reads ENODEV (kernfs
 * deactivates the files): cgroup_counters_read returns -ENODEV and the
 * caller opens the counters again (a container restarted in a new cgroup
 * of the same path).
 */
#include "runtime/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"

enum { C_CPU_USAGE, C_CPU_ACCT, C_CPU_STAT, C_MEM_USAGE, C_MEM_STAT, C_MEM_EVENTS, C_PIDS, C_PROCS, C_N };

struct cgroup_counters {
	enum cgroup_mode mode;
	int fd[C_N];
	int dir;                     /* the cgroup.procs directory, O_PATH */
	char *procs_dir;             /* for the walk of sub-cgroups */
	char *mem_dir, *pids_dir, *io_dir;  /* the rest (by path); NULL: no such controller */
	char *path;                  /* for messages */
};

/* Which file, in which controller's hierarchy (v1; NULL: the procs dir). */
struct cfile {
	const char *ctrl, *file;
};
static const struct cfile v1_files[C_N] = {
	[C_CPU_USAGE] = { "cpuacct", "cpuacct.usage" },
	[C_CPU_ACCT] = { "cpuacct", "cpuacct.stat" },
	[C_CPU_STAT] = { "cpu", "cpu.stat" },
	[C_MEM_USAGE] = { "memory", "memory.usage_in_bytes" },
	[C_MEM_STAT] = { "memory", "memory.stat" },
	[C_MEM_EVENTS] = { "memory", "memory.oom_control" },
	[C_PIDS] = { "pids", "pids.current" },
	[C_PROCS] = { NULL, "cgroup.procs" },
};
static const char *const v2_files[C_N] = {
	[C_CPU_STAT] = "cpu.stat", [C_MEM_USAGE] = "memory.current", [C_MEM_STAT] = "memory.stat",
	[C_MEM_EVENTS] = "memory.events", [C_PIDS] = "pids.current", [C_PROCS] = "cgroup.procs",
};

void cgroup_counters_close(struct cgroup_counters *c)
{
	if (!c)
		return;
	for (int i = 0; i < C_N; i++)
		sn_close_and_reset(&c->fd[i]);
	sn_close_and_reset(&c->dir);
	free(c->procs_dir);
	free(c->mem_dir);
	free(c->pids_dir);
	free(c->io_dir);
	free(c->path);
	free(c);
}

size_t cgroup_counters_fds(const struct cgroup_counters *c)
{
	size_t n = c->dir >= 0;
	for (int i = 0; i < C_N; i++)
		n += c->fd[i] >= 0;
	return n;
}

/* dir/file opened for reading, -1 when missing (no controller, no file). */
static int open_opt(const char *dir, const char *file, int *fd, struct sn_err *err)
{
	*fd = -1;
	if (!dir || !file)
		return 0;
	_cleanup_free_ char *p = sn_path_join(dir, file);
	if (!p)
		return sn_err_set(err, ENOMEM, "open `%s/%s`", dir, file);
	*fd = open(p, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno != ENOENT)
		return sn_err_sys(err, "open `%s`", p);
	return 0;
}

/* A v1 controller's directory of the cgroup; NULL in *out when the
 * controller is not mounted. */
static int v1_dir(const struct cg_layout *l, const char *ctrl, const char *path, char **out,
		  struct sn_err *err)
{
	*out = cg_v1_dir(l, ctrl, path);
	if (!*out && errno == ENOMEM)
		return sn_err_set(err, ENOMEM, "cgroup `%s`", path);
	return 0;
}

static int open_files(struct cgroup_counters *c, const struct cgroup *cg, const struct cg_layout *l,
		      struct sn_err *err)
{
	int r;
	if (cg->mode == CGROUP_V2) {
		for (int i = 0; i < C_N; i++)
			if ((r = open_opt(c->procs_dir, v2_files[i], &c->fd[i], err)) < 0)
				return r;
		if (!(c->mem_dir = strdup(c->procs_dir)) || !(c->pids_dir = strdup(c->procs_dir)) ||
		    !(c->io_dir = strdup(c->procs_dir)))
			return sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
		return 0;
	}
	for (int i = 0; i < C_N; i++) {
		_cleanup_free_ char *dir = NULL;
		if (v1_files[i].ctrl && (r = v1_dir(l, v1_files[i].ctrl, cg->path, &dir, err)) < 0)
			return r;
		if ((r = open_opt(v1_files[i].ctrl ? dir : c->procs_dir, v1_files[i].file, &c->fd[i], err)) < 0)
			return r;
	}
	if ((r = v1_dir(l, "memory", cg->path, &c->mem_dir, err)) < 0 ||
	    (r = v1_dir(l, "pids", cg->path, &c->pids_dir, err)) < 0 ||
	    (r = v1_dir(l, "blkio", cg->path, &c->io_dir, err)) < 0)
		return r;
	return 0;
}

int cgroup_counters_open(const struct cgroup *cg, struct cgroup_counters **out, struct sn_err *err)
{
	*out = NULL;
	struct cgroup_counters *c = calloc(1, sizeof(*c));
	if (!c)
		return sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
	c->mode = cg->mode;
	c->dir = -1;
	for (int i = 0; i < C_N; i++)
		c->fd[i] = -1;
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r < 0) {
		cgroup_counters_close(c);
		return sn_err_wrap(err, "stats of cgroup `%s`", cg->path);
	}
	if (!(c->path = strdup(cg->path)) || !(c->procs_dir = cg_procs_dir(cg, &l)))
		r = sn_err_set(err, ENOMEM, "stats of cgroup `%s`", cg->path);
	else if ((c->dir = open(c->procs_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = sn_err_sys(err, "cgroup `%s`", c->procs_dir);
	else
		r = open_files(c, cg, &l, err);
	cg_layout_free(&l);
	if (r < 0) {
		cgroup_counters_close(c);
		return r == -ENOENT ? r : sn_err_wrap(err, "stats of cgroup `%s`", cg->path);
	}
	*out = c;
	return 0;
}

/* ---- parsing (exposed for the tests through cgroup_internal.h) */

void cg_parse_v1_counters(const char *const text[], struct cgroup_stats *st)
{
	const char *t;
	if ((t = text[C_CPU_USAGE]))
		st->cpu_usage_ns = strtoull(t, NULL, 10);
	if ((t = text[C_CPU_ACCT])) {
		long hz = sysconf(_SC_CLK_TCK);
		uint64_t u = 0, s = 0, ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
		if (cg_kv_u64(t, "user", &u))
			st->cpu_user_ns = u * ns;
		if (cg_kv_u64(t, "system", &s))
			st->cpu_system_ns = s * ns;
	}
	if ((t = text[C_CPU_STAT])) {
		cg_kv_u64(t, "nr_throttled", &st->cpu_throttled_periods);
		cg_kv_u64(t, "throttled_time", &st->cpu_throttled_ns);
	}
	if ((t = text[C_MEM_USAGE]))
		st->memory_usage = strtoull(t, NULL, 10);
	if ((t = text[C_MEM_STAT])) {
		if (!cg_kv_u64(t, "total_cache", &st->memory_cache))
			cg_kv_u64(t, "cache", &st->memory_cache);
		if (!cg_kv_u64(t, "total_rss", &st->memory_rss))
			cg_kv_u64(t, "rss", &st->memory_rss);
		if (!cg_kv_u64(t, "total_inactive_file", &st->memory_inactive_file))
			cg_kv_u64(t, "inactive_file", &st->memory_inactive_file);
	}
	if ((t = text[C_MEM_EVENTS]))
		cg_kv_u64(t, "oom_kill", &st->oom_kills);
	if ((t = text[C_PIDS]))
		st->pids_current = strtoull(t, NULL, 10);
}

void cg_parse_v2_counters(const char *const text[], struct cgroup_stats *st)
{
	const char *t;
	uint64_t v;
	if ((t = text[C_CPU_STAT])) {
		if (cg_kv_u64(t, "usage_usec", &v))
			st->cpu_usage_ns = v * 1000;
		if (cg_kv_u64(t, "user_usec", &v))
			st->cpu_user_ns = v * 1000;
		if (cg_kv_u64(t, "system_usec", &v))
			st->cpu_system_ns = v * 1000;
		cg_kv_u64(t, "nr_throttled", &st->cpu_throttled_periods);
		if (cg_kv_u64(t, "throttled_usec", &v))
			st->cpu_throttled_ns = v * 1000;
	}
	if ((t = text[C_MEM_USAGE]))
		st->memory_usage = strtoull(t, NULL, 10);
	if ((t = text[C_MEM_STAT])) {
		cg_kv_u64(t, "file", &st->memory_cache);
		cg_kv_u64(t, "anon", &st->memory_rss);
		cg_kv_u64(t, "inactive_file", &st->memory_inactive_file);
	}
	if ((t = text[C_MEM_EVENTS])) {
		cg_kv_u64(t, "max", &st->memory_failcnt);
		cg_kv_u64(t, "oom_kill", &st->oom_kills);
	}
	if ((t = text[C_PIDS]))
		st->pids_current = strtoull(t, NULL, 10);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Processes: the lines of cgroup.procs, and of every sub-cgroup's when
 * the directory has any (a kernfs directory's link count is 2 plus its
 * sub-directories). */
static int read_processes(struct cgroup_counters *c, struct sn_buf *b, struct cgroup_stats *st,
			  struct sn_err *err)
{
	struct stat sb;
	if (fstat(c->dir, &sb) < 0)
		return sn_err_sys(err, "stat `%s`", c->procs_dir);
	if (sb.st_nlink > 2) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0, cap = 0;
		int r = cg_collect_pids(c->procs_dir, &pids, &n, &cap, err);
		if (r == 0)
			st->processes = n;
		return r == -ENOENT ? -ENODEV : r;
	}
	if (c->fd[C_PROCS] < 0)
		return 0;
	int r = sn_buf_pread(b, c->fd[C_PROCS], false, "cgroup.procs", err);
	if (r < 0)
		return r;
	st->processes = count_lines(b->p);
	return 0;
}

int cgroup_counters_read(struct cgroup_counters *c, struct cgroup_stats *st, struct sn_buf *scratch,
			 struct sn_err *err)
{
	memset(st, 0, sizeof(*st));
	st->memory_limit = UINT64_MAX;
	st->pids_limit = UINT64_MAX;
	/* one scratch buffer for every file: each file's few values are
	 * parsed into st before the next is read */
	const char *text[C_N] = { 0 };
	for (int i = 0; i < C_N; i++) {
		if (c->fd[i] < 0 || i == C_PROCS)
			continue;
		int r = sn_buf_pread(scratch, c->fd[i], true, c->mode == CGROUP_V2 ? v2_files[i] : v1_files[i].file,
				     err);
		if (r < 0)
			return r == -ENODEV ? r : sn_err_wrap(err, "stats of cgroup `%s`", c->path);
		memset(text, 0, sizeof(text));
		text[i] = scratch->p;
		if (c->mode == CGROUP_V2)
			cg_parse_v2_counters(text, st);
		else
			cg_parse_v1_counters(text, st);
	}
	int r = read_processes(c, scratch, st, err);
	if (r < 0)
		return r == -ENODEV ? r : sn_err_wrap(err, "stats of cgroup `%s`", c->path);
	return 0;
}

/* ---- the rest, by path */

/* blkio "maj:min Read N" lines, summed. */
static void sum_blkio(const char *text, uint64_t *rd, uint64_t *wr)
{
	for (const char *line = text; line && *line;) {
		char op[16];
		unsigned long long v;
		if (sscanf(line, "%*s %15s %llu", op, &v) == 2) {
			if (strcmp(op, "Read") == 0)
				*rd += v;
			else if (strcmp(op, "Write") == 0)
				*wr += v;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

/* io.stat "maj:min rbytes=N wbytes=N ..." lines, summed. */
static void sum_io_stat(const char *io, uint64_t *rd, uint64_t *wr)
{
	for (const char *line = io; line && *line;) {
		const char *rb = strstr(line, "rbytes="), *wb = strstr(line, "wbytes=");
		const char *eol = strchr(line, '\n');
		if (rb && (!eol || rb < eol))
			*rd += strtoull(rb + 7, NULL, 10);
		if (wb && (!eol || wb < eol))
			*wr += strtoull(wb + 7, NULL, 10);
		line = eol ? eol + 1 : NULL;
	}
}

static int read_rest_v1(struct cgroup_counters *c, struct cgroup_stats *st, struct sn_err *err)
{
	int r;
	if (c->mem_dir &&
	    ((r = cg_read_u64_opt(c->mem_dir, "memory.limit_in_bytes", &st->memory_limit, err)) < 0 ||
	     (r = cg_read_u64_opt(c->mem_dir, "memory.failcnt", &st->memory_failcnt, err)) < 0))
		return r;
	if (st->memory_limit >= V1_UNLIMITED_FLOOR)
		st->memory_limit = UINT64_MAX;
	if (c->pids_dir && (r = cg_read_u64_opt(c->pids_dir, "pids.max", &st->pids_limit, err)) < 0)
		return r;
	static const char *const io_files[] = {
		"blkio.io_service_bytes_recursive",
		"blkio.throttle.io_service_bytes_recursive",
		"blkio.throttle.io_service_bytes",
	};
	for (size_t i = 0; c->io_dir && i < SN_ARRAY_SIZE(io_files); i++) {
		_cleanup_free_ char *io = NULL;
		if ((r = cg_read_opt(c->io_dir, io_files[i], &io, err)) < 0)
			return r;
		if (io) {
			sum_blkio(io, &st->io_read_bytes, &st->io_write_bytes);
			break;
		}
	}
	return 0;
}

static int read_rest_v2(struct cgroup_counters *c, struct cgroup_stats *st, struct sn_err *err)
{
	int r;
	_cleanup_free_ char *io = NULL;
	if ((r = cg_read_u64_opt(c->mem_dir, "memory.max", &st->memory_limit, err)) < 0 ||
	    (r = cg_read_u64_opt(c->pids_dir, "pids.max", &st->pids_limit, err)) < 0 ||
	    (r = cg_read_opt(c->io_dir, "io.stat", &io, err)) < 0)
		return r;
	sum_io_stat(io, &st->io_read_bytes, &st->io_write_bytes);
	return 0;
}

int cgroup_counters_read_rest(struct cgroup_counters *c, struct cgroup_stats *st, struct sn_err *err)
{
	int r = c->mode == CGROUP_V2 ? read_rest_v2(c, st, err) : read_rest_v1(c, st, err);
	return r < 0 ? sn_err_wrap(err, "stats of cgroup `%s`", c->path) : 0;
}

int cgroup_stats(const struct cgroup *cg, struct cgroup_stats *st, struct sn_err *err)
{
	memset(st, 0, sizeof(*st));
	struct cgroup_counters *c = NULL;
	int r = cgroup_counters_open(cg, &c, err);
	if (r == -ENOENT)
		return sn_err_set(err, ENOENT, "stats of cgroup `%s`", cg->path);
	if (r < 0)
		return r;
	struct sn_buf b = { 0 };
	r = cgroup_counters_read(c, st, &b, err);
	if (r == -ENODEV)
		r = sn_err_set(err, ENOENT, "stats of cgroup `%s`: removed while read", cg->path);
	if (r == 0)
		r = cgroup_counters_read_rest(c, st, err);
	sn_buf_free(&b);
	cgroup_counters_close(c);
	return r;
}
