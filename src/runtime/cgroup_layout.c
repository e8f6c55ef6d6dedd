/* cgroup_layout.c — where the cgroup hierarchies of a host are.
 *
 * For v1 and hybrid hosts the v1 hierarchies are found in
 * /proc/self/mountinfo: every mount of type "cgroup" whose mount point sits
 * directly under the root. The controllers come from the super options
 * ("rw,cpu,cpuacct" -> cpu, cpuacct; "name=systemd" is kept as a name), so a
 * co-mounted cpu,cpuacct is one hierarchy carrying two controllers whatever
 * its directory is called, and symlinks like cpu -> cpu,cpuacct are never
 * counted twice. When mountinfo shows no cgroup mount under root (a fake
 * tree in the tests, a copy of a layout), the sub-directories of root are
 * the hierarchies and their names, split at ',', the controllers; symlinks
 * are skipped there as aliases. "unified" is never a v1 hierarchy: on a
 * hybrid host it is the v2 side.
 *
 * Trade-off: the layout is not saved with the container; each process
 * reads it once (cached while the mount table is unchanged, see
 * cg_layout_load). That keeps the state small and right after a remount. Mounts whose mountinfo "root" is not "/" (a
 * container that sees a sub-tree) are treated as if their root were the
 * hierarchy root, which is what a cgroup namespace shows anyway.
 */
#include "runtime/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"

static void hier_free(struct cg_hier *h)
{
	free(h->dir);
	sn_strv_free(h->ctrls);
}

void cg_layout_free(struct cg_layout *l)
{
	for (size_t i = 0; i < l->n_v1; i++)
		hier_free(&l->v1[i]);
	free(l->v1);
	free(l->unified);
	memset(l, 0, sizeof(*l));
}

const struct cg_hier *cg_v1_find(const struct cg_layout *l, const char *ctrl)
{
	for (size_t i = 0; i < l->n_v1; i++)
		for (char **c = l->v1[i].ctrls; c && *c; c++)
			if (strcmp(*c, ctrl) == 0)
				return &l->v1[i];
	return NULL;
}

char *cg_v1_dir(const struct cg_layout *l, const char *ctrl, const char *path)
{
	const struct cg_hier *h = cg_v1_find(l, ctrl);
	if (!h) {
		errno = ENOENT;
		return NULL;
	}
	return sn_path_join(h->dir, path);
}

/* Split "a,b,c" into a strv, keeping only the words keep() accepts. */
char **cg_split_ctrls(const char *s, bool (*keep)(const char *))
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return NULL;
	size_t k = 0;
	_cleanup_free_ char *copy = strdup(s);
	if (!copy) {
		free(v);
		return NULL;
	}
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (keep && !keep(t))
			continue;
		if (!(v[k++] = strdup(t))) {
			sn_strv_free(v);
			return NULL;
		}
	}
	return v;
}

/* Super options of a v1 cgroup mount that are not controller names. */
static bool is_controller_opt(const char *o)
{
	static const char *const not_ctrl[] = {
		"rw", "ro", "noprefix", "xattr", "clone_children", "cpuset_v2_mode",
		"favordynmods", "none", "all", NULL,
	};
	for (const char *const *p = not_ctrl; *p; p++)
		if (strcmp(o, *p) == 0)
			return false;
	return strncmp(o, "release_agent=", 14) != 0;
}

/* mountinfo escapes ' ', '\t', '\n', '\\' as \ooo. In place. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static int layout_add(struct cg_layout *l, const char *dir, const char *ctrls,
		      struct sn_err *err)
{
	for (size_t i = 0; i < l->n_v1; i++)
		if (strcmp(l->v1[i].dir, dir) == 0)
			return 0;
	struct cg_hier *nv = realloc(l->v1, (l->n_v1 + 1) * sizeof(*nv));
	if (!nv)
		return sn_err_set(err, ENOMEM, "cgroup layout");
	l->v1 = nv;
	struct cg_hier h = { strdup(dir), cg_split_ctrls(ctrls, is_controller_opt) };
	if (!h.dir || !h.ctrls) {
		hier_free(&h);
		return sn_err_set(err, ENOMEM, "cgroup layout");
	}
	if (!h.ctrls[0]) {  /* a named-less, controller-less mount: useless */
		hier_free(&h);
		return 0;
	}
	l->v1[l->n_v1++] = h;
	return 0;
}

int cg_layout_parse_mountinfo(struct cg_layout *l, const char *mountinfo, const char *root,
			      struct sn_err *err)
{
	_cleanup_fclose_ FILE *f = fopen(mountinfo, "re");
	if (!f)
		return sn_err_sys(err, "open `%s`", mountinfo);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	size_t rl = strlen(root);
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char *fields[5] = { 0 };
		char *save = NULL;
		char *t = strtok_r(line, " ", &save);
		for (int i = 0; i < 5 && t; i++, t = strtok_r(NULL, " ", &save))
			fields[i] = t;
		if (!fields[4])
			continue;
		char *fstype = strtok_r(sep + 3, " ", &save);
		strtok_r(NULL, " ", &save);  /* source */
		char *super = strtok_r(NULL, " \n", &save);
		if (!fstype || !super || strcmp(fstype, "cgroup") != 0)
			continue;
		char *mp = fields[4];
		unescape_octal(mp);
		/* directly under root: root + "/" + name without further '/' */
		if (strncmp(mp, root, rl) != 0 || mp[rl] != '/' || !mp[rl + 1] ||
		    strchr(mp + rl + 1, '/'))
			continue;
		int r = layout_add(l, mp, super, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int layout_from_dir(struct cg_layout *l, const char *root, struct sn_err *err)
{
	_cleanup_closedir_ DIR *d = opendir(root);
	if (!d)
		return sn_err_sys(err, "open cgroup root `%s`", root);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "unified") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;  /* symlinks (cpu -> cpu,cpuacct) are aliases */
		_cleanup_free_ char *dir = sn_path_join(root, de->d_name);
		if (!dir)
			return sn_err_set(err, ENOMEM, "cgroup layout");
		int r = layout_add(l, dir, de->d_name, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* *from_mounts: the hierarchies came from the mount table (not from a
 * directory listing, which no mountinfo poll would see change) */
static int layout_read(const char *root, enum cgroup_mode mode, struct cg_layout *l,
		       bool *from_mounts, struct sn_err *err)
{
	int r = cg_layout_parse_mountinfo(l, "/proc/self/mountinfo", root, err);
	*from_mounts = r == 0 && l->n_v1 > 0;
	if (r == 0 && l->n_v1 == 0)
		r = layout_from_dir(l, root, err);
	if (r == 0 && mode == CGROUP_HYBRID && !(l->unified = sn_path_join(root, "unified")))
		r = sn_err_set(err, ENOMEM, "cgroup layout");
	if (r == 0 && l->n_v1 == 0)
		r = sn_err_msg(err, ENOENT, "no cgroup v1 hierarchy found under `%s`", root);
	if (r < 0)
		cg_layout_free(l);
	return r;
}

static int layout_copy(const struct cg_layout *from, struct cg_layout *to)
{
	memset(to, 0, sizeof(*to));
	/* zeroed entries, counted from the start: cg_layout_free takes a
	 * half-made copy apart */
	if (!(to->v1 = calloc(from->n_v1 ? from->n_v1 : 1, sizeof(*to->v1))))
		return -ENOMEM;
	to->n_v1 = from->n_v1;
	if (from->unified && !(to->unified = strdup(from->unified)))
		goto oom;
	for (size_t i = 0; i < from->n_v1; i++) {
		size_t n = 0;
		while (from->v1[i].ctrls[n])
			n++;
		struct cg_hier *h = &to->v1[i];
		if (!(h->dir = strdup(from->v1[i].dir)) || !(h->ctrls = calloc(n + 1, sizeof(char *))))
			goto oom;
		for (size_t k = 0; k < n; k++)
			if (!(h->ctrls[k] = strdup(from->v1[i].ctrls[k])))
				goto oom;
	}
	return 0;
oom:
	cg_layout_free(to);
	return -ENOMEM;
}

/* One parsed layout per process: a command asks for it several times
 * (create, apply, join, kill, destroy), and each read of mountinfo costs
 * the kernel a walk over every mount. It stays valid while the mount
 * table does: poll() on an open mountinfo reports POLLPRI after any
 * change, and then it is read again. A mutex guards it: the node daemon
 * reads statistics (cgroup_stats) from several threads at once. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int fd;                  /* /proc/self/mountinfo, or -1 */
	char *root;
	enum cgroup_mode mode;
	struct cg_layout l;
} cache = { .fd = -1 };

static bool cache_valid(const char *root, enum cgroup_mode mode)
{
	if (cache.fd < 0 || cache.mode != mode || strcmp(cache.root, root) != 0)
		return false;
	struct pollfd p = { .fd = cache.fd, .events = POLLPRI };
	return poll(&p, 1, 0) == 0;
}

static void cache_store(int fd, const char *root, enum cgroup_mode mode, const struct cg_layout *l)
{
	if (cache.fd >= 0)
		close(cache.fd);
	free(cache.root);
	cg_layout_free(&cache.l);
	cache.fd = -1;
	cache.root = strdup(root);
	if (!cache.root || layout_copy(l, &cache.l) < 0) {
		close(fd);
		return;
	}
	cache.fd = fd;
	cache.mode = mode;
}

int cg_layout_load(const struct cgroup *cg, struct cg_layout *l, struct sn_err *err)
{
	memset(l, 0, sizeof(*l));
	if (cg->mode == CGROUP_V2) {
		if (!(l->unified = strdup(cg->root)))
			return sn_err_set(err, ENOMEM, "cgroup layout");
		return 0;
	}
	char real[PATH_MAX];
	const char *root = realpath(cg->root, real) ? real : cg->root;
	pthread_mutex_lock(&cache_lock);
	bool hit = cache_valid(root, cg->mode);
	int copied = hit ? layout_copy(&cache.l, l) : 0;
	pthread_mutex_unlock(&cache_lock);
	if (hit)
		return copied < 0 ? sn_err_set(err, ENOMEM, "cgroup layout") : 0;
	/* opened before the read: a change during it shows at the next poll */
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	bool from_mounts = false;
	int r = layout_read(root, cg->mode, l, &from_mounts, err);
	if (r == 0 && fd >= 0 && from_mounts) {
		pthread_mutex_lock(&cache_lock);
		cache_store(fd, root, cg->mode, l);
		pthread_mutex_unlock(&cache_lock);
	} else if (fd >= 0)
		close(fd);
	return r;
}
