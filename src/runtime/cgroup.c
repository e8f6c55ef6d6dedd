/* cgroup.c — the public cgroup interface (cgroup.h): mode detection, the
 * object and its JSON form, and the operations every layout shares.
 *
 * Design. A struct cgroup is only (mode, root, path); where each v1
 * controller lives is discovered by cgroup_layout.c (once per process while
 * the mount table stays the same), and a
 * cgroupsPath is resolved once by cgroup_path.c. Mode detection is by
 * statfs: a cgroup2 root is v2; otherwise a cgroup2 mount at root/unified
 * makes the host hybrid; otherwise v1. On hybrid hosts root/unified is the
 * v2 side: the container is created, entered and removed there too, so
 * tools reading the v2 tree see it, but limits go to v1 (only `unified`
 * keys are written there).
 *
 * Here: create (mkdir in every hierarchy, apply, enter; a failure removes
 * exactly the directories this call made), enter (on a partial failure the
 * pid is moved back where /proc/<pid>/cgroup said it was, so the rollback
 * can rmdir), join (a new process placed without writing its pid into a
 * cgroup.procs: see cgroup.h), apply/freeze/stats dispatch by mode, recursive pid listing
 * from cgroup.procs, kill (cgroup.kill on v2 for SIGKILL; otherwise signal
 * every pid and, for SIGKILL, repeat until the cgroup is empty, thawing a
 * frozen cgroup so the signal can be delivered), destroy (rmdir deepest
 * first in every hierarchy, EBUSY retried for ~2 s, missing is fine).
 *
 * Trade-offs: resources are applied *before* the pid enters, so a refused
 * value never leaves a process in a half-configured cgroup and the rollback
 * can always rmdir; the price is that limits below the process's current
 * usage are only checked by the kernel after the move (v1 memory charges
 * are not moved anyway).
 */
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/log.h"

#define CG_DEFAULT_ROOT "/sys/fs/cgroup"
#define CG_READ_MAX (4u << 20)

static void cg_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	SN_RETRY_EINTR(nanosleep(&ts, &ts));
}

/* ------------------------------------------------------------ file helpers */

int cg_write(const char *dir, const char *file, const char *val, struct sn_err *err)
{
	_cleanup_free_ char *p = sn_path_join(dir, file);
	if (!p)
		return sn_err_set(err, ENOMEM, "write `%s` to `%s/%s`", val, dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sn_err_sys(err, "write `%s` to `%s`", val, p);
	size_t len = strlen(val);
	ssize_t w;
	w = SN_RETRY_EINTR(write(fd, val, len));
	if (w < 0)
		return sn_err_sys(err, "write `%s` to `%s`", val, p);
	if ((size_t)w != len)
		return sn_err_msg(err, EIO, "write `%s` to `%s`: short write", val, p);
	return 0;
}

int cg_writef(const char *dir, const char *file, struct sn_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *val = NULL;
	int n = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (n < 0) {
		val = NULL;
		return sn_err_set(err, ENOMEM, "write `%s/%s`", dir, file);
	}
	return cg_write(dir, file, val, err);
}

int cg_write_hugepage_limits(const char *dir, const struct spec_resources *res,
			     const char *suffix, struct sn_err *err)
{
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const struct spec_hugepage_limit *h = &res->hugepage_limits[i];
		char file[128];
		if ((size_t)snprintf(file, sizeof(file), "hugetlb.%s.%s", h->page_size, suffix) >=
		    sizeof(file))
			return sn_err_msg(err, EINVAL, "hugepageLimits[%zu].pageSize: `%s` too long", i,
					  h->page_size);
		int r = cg_writef(dir, file, err, "%" PRIu64, h->limit);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_read(const char *dir, const char *file, char **out, struct sn_err *err)
{
	int r = cg_read_opt(dir, file, out, err);
	if (r == 0 && !*out)
		return sn_err_set(err, ENOENT, "open `%s/%s`", dir, file);
	return r;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* cgroup files are kernfs seq_files: a read hands out every record that
 * fits in the buffer, so one that fills less than half of it has given
 * all there is and the read at EOF can be spared (a scrape of 128
 * subnodes reads ~1,700 files); a larger file is read again to its end. */
int cg_read_opt(const char *dir, const char *file, char **out, struct sn_err *err)
{
	*out = NULL;
	_cleanup_free_ char *p = sn_path_join(dir, file);
	if (!p)
		return sn_err_set(err, ENOMEM, "read `%s/%s`", dir, file);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : sn_err_sys(err, "open `%s`", p);
	char buf[8192];
	ssize_t n = SN_RETRY_EINTR(read(fd, buf, sizeof(buf)));
	if (n < 0)
		return sn_err_sys(err, "read `%s`", p);
	if ((size_t)n <= sizeof(buf) / 2)
		return (*out = strndup(buf, (size_t)n)) ? 0 : sn_err_set(err, ENOMEM, "read `%s`", p);
	struct sn_err e = { 0 };
	int r = sn_read_file(p, CG_READ_MAX, out, NULL, &e);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		*err = e;
	return r;
}

static int parse_u64(const char *dir, const char *file, char *buf, uint64_t *out,
		     struct sn_err *err)
{
	char *s = trim(buf);
	if (strcmp(s, "max") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	unsigned long long v;
	if (sn_parse_u64(s, &v) < 0) {
		long long sv;
		/* v1 files may say -1 for "no limit". */
		if (sn_parse_i64(s, &sv) == 0 && sv < 0) {
			*out = UINT64_MAX;
			return 0;
		}
		return sn_err_msg(err, EINVAL, "read `%s/%s`: not a number: `%s`", dir, file, s);
	}
	*out = v;
	return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r = cg_read(dir, file, &buf, err);
	if (r < 0)
		return r;
	return parse_u64(dir, file, buf, out, err);
}

int cg_read_u64_opt(const char *dir, const char *file, uint64_t *out, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r = cg_read_opt(dir, file, &buf, err);
	if (r < 0 || !buf)
		return r;
	return parse_u64(dir, file, buf, out, err);
}

bool cg_kv_u64(const char *text, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	for (const char *line = text; line && *line;) {
		if (strncmp(line, key, kl) == 0 && (line[kl] == ' ' || line[kl] == '\t')) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(line + kl + 1, &end, 10);
			if (errno == 0 && end != line + kl + 1) {
				*out = v;
				return true;
			}
			return false;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

static int mkdir_levels_once(const char *base, const char *path, char **first_new,
			     struct sn_err *err)
{
	*first_new = NULL;
	_cleanup_free_ char *dir = strdup(base);
	if (!dir)
		return sn_err_set(err, ENOMEM, "mkdir `%s%s`", base, path);
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		char *next;
		if (asprintf(&next, "%s/%.*s", dir, (int)len, p) < 0)
			return sn_err_set(err, ENOMEM, "mkdir `%s%s`", base, path);
		free(dir);
		dir = next;
		p += len;
		if (mkdir(dir, 0755) == 0) {
			if (!*first_new && !(*first_new = strdup(dir)))
				return sn_err_set(err, ENOMEM, "mkdir `%s`", dir);
			continue;
		}
		if (errno != EEXIST)
			return sn_err_sys(err, "mkdir `%s`", dir);
		struct stat st;
		if (stat(dir, &st) < 0)
			return sn_err_sys(err, "stat `%s`", dir);
		if (!S_ISDIR(st.st_mode))
			return sn_err_msg(err, ENOTDIR, "mkdir `%s`: exists and is not a directory", dir);
	}
	return 0;
}

int cg_mkdir_levels(const char *base, const char *path, char **first_new,
		    struct sn_err *err)
{
	/* A shared parent (the default subrun/) may be removed by someone
	 * else between our mkdir of it and of the level below: ENOENT. A
	 * fresh walk makes it again. */
	for (int tries = 0;; tries++) {
		int r = mkdir_levels_once(base, path, first_new, err);
		if (r != -ENOENT || tries == 2)
			return r;
		free(*first_new);
		*first_new = NULL;
	}
}

static int rmdir_retry(const char *dir, struct sn_err *err)
{
	/* Up to ~2 s: killed processes leave their cgroup asynchronously. */
	for (int i = 0;; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || i >= 100)
			return sn_err_sys(err, "rmdir `%s`", dir);
		cg_sleep_ms(i < 10 ? 2 : 20);
	}
}

int cg_rmdir_tree(const char *dir, struct sn_err *err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return sn_err_sys(err, "open `%s`", dir);
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		bool is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			is_dir = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				 S_ISDIR(st.st_mode);
		}
		if (!is_dir)
			continue;
		_cleanup_free_ char *sub = sn_path_join(dir, de->d_name);
		if (!sub)
			return sn_err_set(err, ENOMEM, "rmdir `%s`", dir);
		int r = cg_rmdir_tree(sub, err);
		if (r < 0)
			return r;
		errno = 0;
	}
	if (errno)
		return sn_err_sys(err, "read directory `%s`", dir);
	return rmdir_retry(dir, err);
}

int cg_enter_dir(const char *dir, pid_t pid, struct sn_err *err)
{
	return cg_writef(dir, "cgroup.procs", err, "%d", (int)pid);
}

int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap,
		    struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r = cg_read(dir, "cgroup.procs", &buf, err);
	if (r < 0)
		return r;
	for (char *save = NULL, *tok = strtok_r(buf, "\n", &save); tok;
	     tok = strtok_r(NULL, "\n", &save)) {
		long long v;
		if (sn_parse_i64(trim(tok), &v) < 0 || v <= 0 || v > INT_MAX)
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			pid_t *np = realloc(*pids, nc * sizeof(**pids));
			if (!np)
				return sn_err_set(err, ENOMEM, "list pids of `%s`", dir);
			*pids = np;
			*cap = nc;
		}
		(*pids)[(*n)++] = (pid_t)v;
	}
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return sn_err_sys(err, "open `%s`", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *sub = sn_path_join(dir, de->d_name);
		if (!sub)
			return sn_err_set(err, ENOMEM, "list pids of `%s`", dir);
		r = cg_collect_pids(sub, pids, n, cap, err);
		if (r == -ENOENT)  /* removed while we walked */
			continue;
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------ resources */

bool cg_res_has_memory(const struct spec_resources *r)
{
	const struct spec_memory *m = &r->memory;
	return m->limit != SPEC_UNSET || m->reservation != SPEC_UNSET ||
	       m->swap != SPEC_UNSET || m->kernel != SPEC_UNSET ||
	       m->kernel_tcp != SPEC_UNSET || m->swappiness != SPEC_UNSET ||
	       m->has_disable_oom_killer || m->has_use_hierarchy;
}

bool cg_res_has_cpu(const struct spec_resources *r)
{
	const struct spec_cpu *c = &r->cpu;
	return c->shares != SPEC_UNSET || c->quota != SPEC_UNSET ||
	       c->period != SPEC_UNSET || c->realtime_runtime != SPEC_UNSET ||
	       c->realtime_period != SPEC_UNSET || c->burst != SPEC_UNSET ||
	       c->idle != SPEC_UNSET;
}

bool cg_res_has_cpuset(const struct spec_resources *r)
{
	return r->cpu.cpus || r->cpu.mems;
}

bool cg_res_has_blkio(const struct spec_resources *r)
{
	const struct spec_blockio *b = &r->blockio;
	if (!r->has_blockio)
		return false;
	return b->weight != SPEC_UNSET || b->leaf_weight != SPEC_UNSET ||
	       b->n_weight_devices || b->n_throttle_read_bps || b->n_throttle_write_bps ||
	       b->n_throttle_read_iops || b->n_throttle_write_iops;
}

/* ------------------------------------------------------------ layout helpers */

/* Every directory the cgroup has: the v1 hierarchies and the unified side.
 * Returns a malloc'ed strv. */
static int all_dirs(const struct cgroup *cg, const struct cg_layout *l, char ***out,
		    struct sn_err *err)
{
	char **v = calloc(l->n_v1 + 2, sizeof(*v));
	if (!v)
		return sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
	size_t k = 0;
	for (size_t i = 0; i < l->n_v1; i++)
		if (!(v[k++] = sn_path_join(l->v1[i].dir, cg->path)))
			goto oom;
	if (l->unified && !(v[k++] = sn_path_join(l->unified, cg->path)))
		goto oom;
	*out = v;
	return 0;
oom:
	sn_strv_free(v);
	return sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
}

/* The directory whose cgroup.procs is authoritative for ps / kill. */
char *cg_procs_dir(const struct cgroup *cg, const struct cg_layout *l)
{
	if (cg->mode == CGROUP_V2)
		return sn_path_join(l->unified, cg->path);
	static const char *const pref[] = { "pids", "freezer", "devices", "memory", "cpu", NULL };
	for (const char *const *p = pref; *p; p++) {
		const struct cg_hier *h = cg_v1_find(l, *p);
		if (h)
			return sn_path_join(h->dir, cg->path);
	}
	return sn_path_join(l->v1[0].dir, cg->path);
}

/* ------------------------------------------------------------ mode, paths */

int cgroup_detect_mode(const char *root, enum cgroup_mode *mode, struct sn_err *err)
{
	struct statfs fs;
	if (statfs(root, &fs) < 0)
		return sn_err_sys(err, "statfs `%s`", root);
	if (fs.f_type == CGROUP2_SUPER_MAGIC) {
		*mode = CGROUP_V2;
		return 0;
	}
	_cleanup_free_ char *uni = sn_path_join(root, "unified");
	if (!uni)
		return sn_err_set(err, ENOMEM, "statfs `%s/unified`", root);
	if (statfs(uni, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		*mode = CGROUP_HYBRID;
	else
		*mode = CGROUP_V1;
	return 0;
}

/* ------------------------------------------------------------ object */

int cgroup_new(const char *root, const char *path, enum cgroup_mode mode,
	       struct cgroup **out, struct sn_err *err)
{
	if (!root || !root[0])
		root = CG_DEFAULT_ROOT;
	if (!path || path[0] != '/')
		return sn_err_msg(err, EINVAL, "cgroup path `%s`: must be absolute",
				  path ? path : "");
	if (mode != 0 && mode != CGROUP_V1 && mode != CGROUP_V2 && mode != CGROUP_HYBRID)
		return sn_err_msg(err, EINVAL, "cgroup mode %d: unknown", (int)mode);
	if (mode == 0) {
		int r = cgroup_detect_mode(root, &mode, err);
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *norm = NULL;
	int r = cg_normalize_path(path, "cgroup path", &norm, err);
	if (r < 0)
		return r;
	struct cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg)
		return sn_err_set(err, ENOMEM, "cgroup `%s`", path);
	cg->mode = mode;
	cg->root = strdup(root);
	cg->path = steal_ptr(norm);
	if (!cg->root) {
		cgroup_free(cg);
		return sn_err_set(err, ENOMEM, "cgroup `%s`", path);
	}
	/* no trailing '/' on root */
	size_t rl = strlen(cg->root);
	while (rl > 1 && cg->root[rl - 1] == '/')
		cg->root[--rl] = '\0';
	*out = cg;
	return 0;
}

void cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return;
	free(cg->root);
	free(cg->path);
	free(cg);
}

static const char *mode_name(enum cgroup_mode m)
{
	switch (m) {
	case CGROUP_V1: return "v1";
	case CGROUP_V2: return "v2";
	case CGROUP_HYBRID: return "hybrid";
	}
	return "?";
}

json_t *cgroup_to_json(const struct cgroup *cg)
{
	return json_pack("{s:s, s:s, s:s}", "mode", mode_name(cg->mode), "root", cg->root,
			 "path", cg->path);
}

int cgroup_from_json(json_t *j, struct cgroup **out, struct sn_err *err)
{
	static const char *const keys[] = { "mode", "root", "path", NULL };
	if (!json_is_object(j))
		return sn_err_msg(err, EINVAL, "cgroup: must be an object");
	int r = sn_json_only_keys(j, "cgroup", keys, err);
	if (r < 0)
		return r;
	const char *mode = NULL, *root = NULL, *path = NULL;
	if ((r = sn_json_string(j, "cgroup", "mode", &mode, err)) < 0 ||
	    (r = sn_json_string(j, "cgroup", "root", &root, err)) < 0 ||
	    (r = sn_json_string(j, "cgroup", "path", &path, err)) < 0)
		return r;
	if (!mode || !root || !path)
		return sn_err_msg(err, EINVAL, "cgroup: `mode`, `root` and `path` are required");
	enum cgroup_mode m;
	if (strcmp(mode, "v1") == 0)
		m = CGROUP_V1;
	else if (strcmp(mode, "v2") == 0)
		m = CGROUP_V2;
	else if (strcmp(mode, "hybrid") == 0)
		m = CGROUP_HYBRID;
	else
		return sn_err_msg(err, EINVAL, "cgroup.mode: unknown mode `%s`", mode);
	return cgroup_new(root, path, m, out, err);
}

/* ------------------------------------------------------------ operations */

/* Is the controller list "a,b" (from /proc/<pid>/cgroup) exactly h's set? */
static bool same_ctrls(const char *list, const struct cg_hier *h)
{
	_cleanup_strv_ char **lc = cg_split_ctrls(list, NULL);
	if (!lc)
		return false;
	size_t nl = 0, nh = 0;
	for (char **c = lc; *c; c++, nl++) {
		bool found = false;
		for (char **x = h->ctrls; *x; x++)
			found |= strcmp(*x, *c) == 0;
		if (!found)
			return false;
	}
	for (char **x = h->ctrls; *x; x++)
		nh++;
	return nl == nh;
}

/* Where /proc/<pid>/cgroup content says pid is in hierarchy h (NULL =
 * unified): a pointer into content, or NULL. content is modified. */
static const char *orig_path(char *content, const struct cg_hier *h)
{
	for (char *line = content; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c2 = '\0';
			bool match = h ? same_ctrls(c1 + 1, h) : c1[1] == '\0';
			*c2 = ':';
			if (match)
				return c2 + 1;
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* Move pid into every directory; on a failure move it back to where
 * /proc/<pid>/cgroup said it was (best effort), so a rollback can rmdir. */
static int enter_all(const struct cgroup *cg, const struct cg_layout *l, pid_t pid,
		     struct sn_err *err)
{
	char procf[64];
	snprintf(procf, sizeof(procf), "/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *orig = NULL;
	struct sn_err ignored = { 0 };
	if (sn_read_file(procf, 1u << 20, &orig, NULL, &ignored) < 0)
		orig = NULL;

	_cleanup_strv_ char **dirs = NULL;
	int r = all_dirs(cg, l, &dirs, err);
	if (r < 0)
		return r;
	size_t i;
	for (i = 0; dirs[i]; i++) {
		r = cg_enter_dir(dirs[i], pid, err);
		if (r < 0)
			break;
	}
	for (size_t k = 0; r < 0 && orig && k < i; k++) {
		_cleanup_free_ char *copy = strdup(orig);
		const struct cg_hier *h = k < l->n_v1 ? &l->v1[k] : NULL;
		const char *p = copy ? orig_path(copy, h) : NULL;
		_cleanup_free_ char *back = p ? sn_path_join(h ? h->dir : l->unified, p) : NULL;
		if (back)
			cg_enter_dir(back, pid, &ignored);
	}
	return r;
}

int cgroup_create(struct cgroup *cg, pid_t pid, const struct spec_resources *res,
		  struct sn_err *err)
{
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r < 0)
		return sn_err_wrap(err, "create cgroup `%s`", cg->path);
	_cleanup_free_ char **made = calloc(l.n_v1 + 2, sizeof(char *));
	size_t n_made = 0;
	if (!made) {
		cg_layout_free(&l);
		return sn_err_set(err, ENOMEM, "create cgroup `%s`", cg->path);
	}
	if (cg->mode != CGROUP_V2)
		r = cg_v1_create(cg, &l, made, &n_made, err);
	if (r == 0 && l.unified) {
		char *first = NULL;
		r = cg_mkdir_levels(l.unified, cg->path, &first, err);
		if (first)
			made[n_made++] = first;
	}
	if (r == 0 && cg->mode == CGROUP_V2)
		r = cg_v2_enable_controllers(l.unified, cg->path, res, true, err);
	cg_layout_free(&l);
	if (r < 0)
		sn_err_wrap(err, "create cgroup `%s`", cg->path);
	/* apply and enter name the cgroup themselves */
	if (r == 0 && res)
		r = cgroup_apply(cg, res, err);
	if (r == 0 && pid > 0)
		r = cgroup_enter(cg, pid, err);
	if (r < 0) {
		struct sn_err ignored = { 0 };
		for (size_t i = n_made; i-- > 0;)
			cg_rmdir_tree(made[i], &ignored);
	}
	for (size_t i = 0; i < n_made; i++)
		free(made[i]);
	return r;
}

int cgroup_enter(const struct cgroup *cg, pid_t pid, struct sn_err *err)
{
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r == 0)
		r = enter_all(cg, &l, pid, err);
	cg_layout_free(&l);
	if (r < 0)
		return sn_err_wrap(err, "move pid %d into cgroup `%s`", (int)pid, cg->path);
	return 0;
}

void cgroup_join_close(struct cgroup_join *j)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->tasks[i] >= 0)
			close(j->tasks[i]);
	j->n = 0;
	if (j->v2_dir >= 0)
		close(j->v2_dir);
	j->v2_dir = -1;
}

int cgroup_join_open(const struct cgroup *cg, struct cgroup_join *j, struct sn_err *err)
{
	j->n = 0;
	j->v2_dir = -1;
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r < 0)
		return sn_err_wrap(err, "cgroup `%s`", cg->path);
	if (l.n_v1 > CGROUP_JOIN_MAX) {
		r = sn_err_msg(err, E2BIG, "cgroup `%s`: %zu v1 hierarchies, at most %d",
			       cg->path, l.n_v1, CGROUP_JOIN_MAX);
		goto out;
	}
	for (size_t i = 0; i < l.n_v1; i++) {
		_cleanup_free_ char *dir = sn_path_join(l.v1[i].dir, cg->path);
		_cleanup_free_ char *f = dir ? sn_path_join(dir, "tasks") : NULL;
		if (!f) {
			r = sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
			goto out;
		}
		int fd = open(f, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			r = sn_err_sys(err, "open `%s`", f);
			goto out;
		}
		j->tasks[j->n++] = fd;
	}
	if (l.unified) {
		_cleanup_free_ char *dir = sn_path_join(l.unified, cg->path);
		if (!dir) {
			r = sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
			goto out;
		}
		if ((j->v2_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			r = sn_err_sys(err, "open `%s`", dir);
			goto out;
		}
	}
out:
	cg_layout_free(&l);
	if (r < 0)
		cgroup_join_close(j);
	return r;
}

int cgroup_join_self(struct cgroup_join *j, struct sn_err *err)
{
	int r = 0;
	for (size_t i = 0; i < j->n; i++) {
		if (r == 0 && write(j->tasks[i], "0", 1) != 1)
			r = sn_err_sys(err, "join cgroup: write `0` to a v1 `tasks` file (hierarchy %zu)", i);
		close(j->tasks[i]);
		j->tasks[i] = -1;
	}
	j->n = 0;
	return r;
}

int cgroup_join_clone(const struct cgroup_join *j, unsigned long flags, pid_t *child,
		      bool *enter_v2, struct sn_err *err)
{
	*enter_v2 = false;
	if (j->v2_dir >= 0) {
		struct clone_args a = {
			.flags = (uint64_t)flags | CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = (uint64_t)j->v2_dir,
		};
		*child = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
		if (*child >= 0)
			return 0;
		*enter_v2 = true;
		/* ENOSYS/E2BIG: a kernel before 5.7; EBUSY, EOPNOTSUPP...:
		 * the cgroup cannot take it so; the caller's cgroup_enter_v2
		 * then fails with the message that names the file */
		sn_debug("clone3 into a cgroup: %s; a plain clone instead", strerror(errno));
	}
	*child = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (*child < 0)
		return sn_err_sys(err, "clone (flags 0x%lx)", flags);
	return 0;
}

int cgroup_enter_v2(const struct cgroup *cg, pid_t pid, struct sn_err *err)
{
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r == 0 && l.unified) {
		_cleanup_free_ char *dir = sn_path_join(l.unified, cg->path);
		r = dir ? cg_enter_dir(dir, pid, err) : sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
	}
	cg_layout_free(&l);
	if (r < 0)
		return sn_err_wrap(err, "move pid %d into cgroup `%s`", (int)pid, cg->path);
	return 0;
}

int cgroup_apply(const struct cgroup *cg, const struct spec_resources *res,
		 struct sn_err *err)
{
	if (!res)
		return 0;
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r < 0)
		return sn_err_wrap(err, "cgroup `%s`", cg->path);
	switch (cg->mode) {
	case CGROUP_V1:
		if (res->n_unified) {
			r = sn_err_msg(err, EOPNOTSUPP,
				       "linux.resources.unified (`%s`) needs cgroup v2, but the host has only cgroup v1",
				       res->unified[0].key);
			break;
		}
		r = cg_v1_apply(cg, &l, res, err);
		break;
	case CGROUP_HYBRID:
		r = cg_v1_apply(cg, &l, res, err);
		if (r == 0 && res->n_unified) {
			_cleanup_free_ char *dir = sn_path_join(l.unified, cg->path);
			r = dir ? cg_v2_apply_unified(dir, res, err)
				: sn_err_set(err, ENOMEM, "cgroup `%s`", cg->path);
		}
		break;
	case CGROUP_V2:
		r = cg_v2_enable_controllers(l.unified, cg->path, res, false, err);
		if (r == 0)
			r = cg_v2_apply(l.unified, cg->path, res, true, err);
		break;
	}
	cg_layout_free(&l);
	if (r < 0)
		return sn_err_wrap(err, "cgroup `%s`", cg->path);
	return 0;
}

int cgroup_freeze(const struct cgroup *cg, bool frozen, struct sn_err *err)
{
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r == 0) {
		if (cg->mode == CGROUP_V2) {
			_cleanup_free_ char *dir = sn_path_join(l.unified, cg->path);
			r = dir ? cg_v2_freeze(dir, frozen, err) : sn_err_set(err, ENOMEM, "freeze");
		} else {
			r = cg_v1_freeze(cg, &l, frozen, err);
		}
	}
	cg_layout_free(&l);
	if (r < 0)
		return sn_err_wrap(err, "%s cgroup `%s`", frozen ? "freeze" : "thaw", cg->path);
	return 0;
}

int cgroup_is_frozen(const struct cgroup *cg, bool *frozen, struct sn_err *err)
{
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r == 0) {
		if (cg->mode == CGROUP_V2) {
			_cleanup_free_ char *dir = sn_path_join(l.unified, cg->path);
			r = dir ? cg_v2_is_frozen(dir, frozen, err) : sn_err_set(err, ENOMEM, "state");
		} else {
			r = cg_v1_is_frozen(cg, &l, frozen, err);
		}
	}
	cg_layout_free(&l);
	if (r < 0)
		return sn_err_wrap(err, "freezer state of cgroup `%s`", cg->path);
	return 0;
}

int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n, struct sn_err *err)
{
	*pids = NULL;
	*n = 0;
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r < 0)
		return sn_err_wrap(err, "list pids of cgroup `%s`", cg->path);
	_cleanup_free_ char *dir = cg_procs_dir(cg, &l);
	cg_layout_free(&l);
	if (!dir)
		return sn_err_set(err, ENOMEM, "list pids of cgroup `%s`", cg->path);
	size_t cap = 0;
	r = cg_collect_pids(dir, pids, n, &cap, err);
	if (r < 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
		return r;
	}
	return 0;
}

int cgroup_kill_all(const struct cgroup *cg, int sig, struct sn_err *err)
{
	if (cg->mode == CGROUP_V2 && sig == SIGKILL) {
		_cleanup_free_ char *dir = sn_path_join(cg->root, cg->path);
		_cleanup_free_ char *killf = dir ? sn_path_join(dir, "cgroup.kill") : NULL;
		if (!killf)
			return sn_err_set(err, ENOMEM, "kill cgroup `%s`", cg->path);
		if (access(killf, F_OK) == 0)
			return cg_write(dir, "cgroup.kill", "1", err);
	}
	bool was_frozen = false;
	struct sn_err ignored = { 0 };
	if (sig == SIGKILL && cgroup_is_frozen(cg, &was_frozen, &ignored) < 0)
		was_frozen = false;
	for (int round = 0;; round++) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		int r = cgroup_pids(cg, &pids, &n, err);
		if (r < 0)
			return sn_err_wrap(err, "kill cgroup `%s`", cg->path);
		if (n == 0)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (kill(pids[i], sig) < 0 && errno != ESRCH)
				return sn_err_sys(err, "kill pid %d of cgroup `%s` with signal %d",
						  (int)pids[i], cg->path, sig);
		if (sig != SIGKILL)
			return 0;
		if (was_frozen && round == 0) {
			/* frozen tasks die only once thawed */
			if (cgroup_freeze(cg, false, err) < 0)
				return r;
		}
		/* dying tasks are usually gone within a millisecond: poll fast
		 * first, then back off; about 5 s in all */
		if (round >= 510)
			return sn_err_msg(err, EBUSY,
					  "kill cgroup `%s`: processes still there after SIGKILL for 5s",
					  cg->path);
		cg_sleep_ms(round < 10 ? 1 : 10);
	}
}

int cgroup_destroy(const struct cgroup *cg, struct sn_err *err)
{
	struct cg_layout l;
	int r = cg_layout_load(cg, &l, err);
	if (r < 0)
		return sn_err_wrap(err, "remove cgroup `%s`", cg->path);
	_cleanup_strv_ char **dirs = NULL;
	r = all_dirs(cg, &l, &dirs, err);
	cg_layout_free(&l);
	if (r < 0)
		return r;
	int first = 0;
	struct sn_err e = { 0 };
	for (char **d = dirs; *d; d++) {
		int rr = cg_rmdir_tree(*d, &e);
		if (rr < 0 && first == 0) {
			first = rr;
			*err = e;
		}
	}
	if (first < 0)
		return sn_err_wrap(err, "remove cgroup `%s`", cg->path);
	return 0;
}

