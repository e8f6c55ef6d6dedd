/* mounts.c — one OCI spec mount into the prepared rootfs.
 *
 * mounts_apply() takes a spec_mount whose options the spec parser already
 * split into flags / clear / propagation / data, resolves the destination
 * inside the rootfs (rootfs_path.c: creating it as a dir, or an empty file
 * when a bind source is a file), and mounts onto the resolved fd:
 *
 *   bind, rbind  mount(src, fd, MS_BIND[|MS_REC]); then, if any per-mount
 *                flag is asked (ro, nosuid, nodev, noexec, atime), a
 *                MS_REMOUNT|MS_BIND of the new mount keeping the flags the
 *                source had unless the spec cleared them; flags locked by a
 *                user namespace are kept (see rfs_bind_remount). Only the top
 *                mount of an rbind is remounted (like runc's "ro"); the
 *                recursive forms ("rro", "rnosuid", ... as in runc and crun)
 *                go to every mount of the tree with one
 *                mount_setattr(AT_RECURSIVE), for any mount type.
 *   sysfs        fresh only with a new network namespace; otherwise (or on
 *                EPERM) rbind the host's /sys and remount it read-only, as
 *                runc does.
 *   cgroup       v1/hybrid hosts: a tmpfs with one mount per hierarchy
 *                (fresh "cgroup" mounts with a cgroupns, else binds of
 *                <hierarchy>/<cgroup_path>), combined controllers get
 *                symlinks (cpu -> cpu,cpuacct), hybrid adds "unified";
 *                v2: a cgroup2 mount or a bind.
 *   others       (proc, tmpfs, devpts, mqueue, overlay, ...) mount(source,
 *                fd, type, flags, data).
 *
 * Propagation (shared/slave/private/unbindable, r-forms) is a separate
 * mount() call after the mount exists, on the new mount: the O_PATH fd we
 * mounted on still names the directory *under* the mount, so the
 * destination is resolved again afterwards (still inside the root).
 *
 * tmpcopyup: the directory's old contents are read through an fd opened
 * before the tmpfs covers it and copied into the tmpfs (files, dirs,
 * symlinks, device nodes, fifos; modes and owners).
 *
 * Not done: idmapped mounts (uid/gid mappings on a mount) — refused with
 * EOPNOTSUPP; SELinux mount labels.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "runtime/rootfs_internal.h"

#define MOUNTINFO_MAX (4u << 20)
#define COPYUP_MAX_DEPTH 64

static const char *mtype(const struct spec_mount *m)
{
	return m->type ? m->type : "bind";
}

static bool is_bind(const struct spec_mount *m)
{
	return m->bind || (m->flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
}

/* "/dev", "//dev/", "/dev/." all name /dev. */
static bool dest_is(const char *dest, const char *want)
{
	while (*dest == '/')
		dest++;
	while (*want == '/')
		want++;
	size_t n = strlen(want);
	if (strncmp(dest, want, n) != 0)
		return false;
	dest += n;
	while (*dest == '/' || (dest[0] == '.' && (dest[1] == '/' || dest[1] == '\0')))
		dest++;
	return *dest == '\0';
}

bool mounts_is_fresh_dev(const struct spec_mount *m)
{
	return dest_is(m->destination, "/dev") && !is_bind(m);
}

/* ------------------------------------------------------------ tmpcopyup */

static int copy_tree(int src_dir, int dst_dir, int depth, const char **failed);

static int copy_one(int src_dir, int dst_dir, const char *name, int depth,
		    const char **failed)
{
	struct stat st;
	if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return *failed = name, -errno;
	mode_t perm = st.st_mode & 07777;
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dst_dir, name, 0700) < 0 && errno != EEXIST)
			return *failed = name, -errno;
		_cleanup_close_ int s = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return *failed = name, -errno;
		int r = copy_tree(s, d, depth + 1, failed);
		if (r < 0)
			return r;
		if (fchown(d, st.st_uid, st.st_gid) < 0 || fchmod(d, perm) < 0)
			return *failed = name, -errno;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int s = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0)
			return *failed = name, -errno;
		_cleanup_close_ int d = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d < 0)
			return *failed = name, -errno;
		char buf[65536];
		for (;;) {
			ssize_t n = read(s, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return *failed = name, -errno;
			if (n == 0)
				break;
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(d, buf + off, (size_t)(n - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return *failed = name, -errno;
				off += w;
			}
		}
		if (fchown(d, st.st_uid, st.st_gid) < 0 || fchmod(d, perm) < 0)
			return *failed = name, -errno;
		return 0;
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(src_dir, name, target, sizeof(target) - 1);
		if (n < 0)
			return *failed = name, -errno;
		target[n] = '\0';
		if (symlinkat(target, dst_dir, name) < 0 ||
		    fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			return *failed = name, -errno;
		return 0;
	}
	/* Device nodes, fifos, sockets. */
	if (mknodat(dst_dir, name, (st.st_mode & S_IFMT) | perm, st.st_rdev) < 0 ||
	    fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dst_dir, name, perm, 0) < 0)
		return *failed = name, -errno;
	return 0;
}

static int copy_tree(int src_dir, int dst_dir, int depth, const char **failed)
{
	if (depth > COPYUP_MAX_DEPTH)
		return *failed = "(tree too deep)", -ELOOP;
	int dup_fd = dup(src_dir);
	if (dup_fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return -errno;
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int r = copy_one(src_dir, dst_dir, de->d_name, depth, failed);
		if (r < 0)
			return r;
		errno = 0;
	}
	return errno ? -errno : 0;
}

/* ------------------------------------------------------------ helpers */

/* Re-resolve the destination: after mounting, this names the new mount. */
static int reopen_dest(int root_fd, const char *dest, int *fd, struct sn_err *err)
{
	return rfs_resolve(root_fd, dest, RFS_NO_CREATE, fd, err);
}

static int apply_propagation(int root_fd, const struct spec_mount *m, const char *rootfs,
			     struct sn_err *err)
{
	if (!m->propagation)
		return 0;
	_cleanup_close_ int fd = -1;
	int r = reopen_dest(root_fd, m->destination, &fd, err);
	if (r < 0)
		return sn_err_wrap(err, "rootfs `%s`", rootfs);
	r = rfs_mount_on_fd(NULL, fd, NULL, m->propagation, NULL);
	if (r < 0)
		return sn_err_set(err, -r, "set propagation %#lx of `%s` (in rootfs `%s`)",
				  m->propagation, m->destination, rootfs);
	return 0;
}

/* Bind `source` on fd, then remount with the spec's per-mount flags. */
static int do_bind(int root_fd, int fd, const char *source, const char *dest,
		   unsigned long flags, unsigned long clear, const char *rootfs,
		   struct sn_err *err)
{
	int r = rfs_mount_on_fd(source, fd, NULL, MS_BIND | (flags & MS_REC), NULL);
	if (r < 0)
		return sn_err_set(err, -r, "bind mount `%s` on `%s` (in rootfs `%s`)",
				  source, dest, rootfs);
	bool has_flags = (flags & RFS_MNT_FLAGS) != 0;
	if (!has_flags && !(clear & RFS_MNT_FLAGS))
		return 0;
	_cleanup_close_ int nfd = -1;
	r = reopen_dest(root_fd, dest, &nfd, err);
	if (r < 0)
		return sn_err_wrap(err, "rootfs `%s`", rootfs);
	if (!has_flags) {
		/* Only clears asked: remount only when the mount has one of them. */
		unsigned long have = 0;
		if (rfs_mount_flags_of(nfd, &have) == 0 && !(have & clear & RFS_MNT_FLAGS))
			return 0;
	}
	r = rfs_bind_remount(nfd, flags, clear);
	if (r < 0)
		return sn_err_set(err, -r, "remount bind `%s` on `%s` with flags %#lx (in rootfs `%s`)",
				  source, dest, flags & RFS_MNT_FLAGS, rootfs);
	return 0;
}

/* ------------------------------------------------------------ cgroup */

struct cg_hier {
	char *mountpoint;  /* host: /sys/fs/cgroup/memory */
	char *root;        /* root of the hierarchy seen by that mount */
	char *opts;        /* super options without rw/ro: "memory", "name=systemd" */
	bool v2;
};

struct cg_list {
	struct cg_hier *v;
	size_t n;
};

static void cg_list_free(struct cg_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].mountpoint);
		free(l->v[i].root);
		free(l->v[i].opts);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static char *strip_rw(const char *super)
{
	char *out = calloc(1, strlen(super) + 1);
	if (!out)
		return NULL;
	_cleanup_free_ char *copy = strdup(super);
	if (!copy) {
		free(out);
		return NULL;
	}
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "rw") == 0 || strcmp(t, "ro") == 0)
			continue;
		if (*out)
			strcat(out, ",");
		strcat(out, t);
	}
	return out;
}

/* The host's cgroup hierarchies under /sys/fs/cgroup, from our (still host)
 * /proc/self/mountinfo. */
static int cg_read_host(struct cg_list *l, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r = sn_read_file_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, &buf, NULL, err);
	if (r < 0)
		return r;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source super */
		char *f[6] = { 0 };
		char *s2 = NULL, *p = line;
		for (int i = 0; i < 5; i++) {
			f[i] = strtok_r(p, " ", &s2);
			p = NULL;
		}
		char *tok;
		while ((tok = strtok_r(NULL, " ", &s2)) && strcmp(tok, "-") != 0)
			;
		char *fstype = strtok_r(NULL, " ", &s2);
		strtok_r(NULL, " ", &s2); /* source */
		char *super = strtok_r(NULL, " ", &s2);
		if (!f[4] || !fstype || !super)
			continue;
		bool v2 = strcmp(fstype, "cgroup2") == 0;
		if (!v2 && strcmp(fstype, "cgroup") != 0)
			continue;
		if (strcmp(f[4], "/sys/fs/cgroup") != 0 && strncmp(f[4], "/sys/fs/cgroup/", 15) != 0)
			continue;
		struct cg_hier *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
		if (!nv)
			return sn_err_set(err, ENOMEM, "read cgroup mounts");
		l->v = nv;
		struct cg_hier *h = &l->v[l->n++];
		h->mountpoint = strdup(f[4]);
		h->root = strdup(f[3]);
		h->opts = v2 ? strdup("") : strip_rw(super);
		h->v2 = v2;
		if (!h->mountpoint || !h->root || !h->opts)
			return sn_err_set(err, ENOMEM, "read cgroup mounts");
	}
	if (l->n == 0)
		return sn_err_msg(err, ENOENT, "no cgroup filesystem mounted under /sys/fs/cgroup");
	return 0;
}

/* Host path of the container's cgroup in hierarchy h. */
static char *cg_host_path(const struct cg_hier *h, const char *cgroup_path)
{
	const char *rel = cgroup_path ? cgroup_path : "/";
	size_t rl = strlen(h->root);
	/* The mount may show a sub-tree (host in a cgroupns): strip its root. */
	if (strcmp(h->root, "/") != 0 && strncmp(rel, h->root, rl) == 0 &&
	    (rel[rl] == '/' || rel[rl] == '\0'))
		rel += rl;
	return sn_path_join(h->mountpoint, rel);
}

/* One hierarchy onto the directory `name` below dir_fd (the tmpfs, or the
 * destination itself when name is NULL). */
static int cg_mount_one(const struct rootfs_ctx *ctx, const struct spec_mount *m,
			int dir_fd, const char *name, const struct cg_hier *h,
			struct sn_err *err)
{
	_cleanup_close_ int fd = -1;
	if (name) {
		if (mkdirat(dir_fd, name, 0755) < 0 && errno != EEXIST)
			return sn_err_sys(err, "mkdir `%s/%s` (in rootfs `%s`)", m->destination, name, ctx->rootfs);
		fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return sn_err_sys(err, "open `%s/%s` (in rootfs `%s`)", m->destination, name, ctx->rootfs);
	} else {
		fd = dup(dir_fd);
		if (fd < 0)
			return sn_err_sys(err, "dup");
	}
	const char *shown = name ? name : "";
	unsigned long mflags = (m->flags & ~(MS_BIND | MS_REC)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (ctx->new_cgroupns) {
		const char *type = h->v2 ? "cgroup2" : "cgroup";
		int r = rfs_mount_on_fd(type, fd, type, mflags,
					h->opts && *h->opts ? h->opts : NULL);
		if (r < 0)
			return sn_err_set(err, -r, "mount `%s` (%s) on `%s/%s` (in rootfs `%s`)",
					  type, h->opts, m->destination, shown, ctx->rootfs);
		return 0;
	}
	_cleanup_free_ char *src = cg_host_path(h, ctx->cgroup_path);
	if (!src)
		return sn_err_set(err, ENOMEM, "cgroup path");
	int r = rfs_mount_on_fd(src, fd, NULL, MS_BIND | MS_REC, NULL);
	if (r < 0)
		return sn_err_set(err, -r, "bind cgroup `%s` on `%s/%s` (in rootfs `%s`)",
				  src, m->destination, shown, ctx->rootfs);
	if (!name)
		return 0;  /* the caller remounts the destination itself */
	/* fd names the dir under the bind: reach the bind through the parent. */
	_cleanup_close_ int nfd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (nfd < 0)
		return sn_err_sys(err, "open `%s/%s` (in rootfs `%s`)", m->destination, name, ctx->rootfs);
	r = rfs_bind_remount(nfd, mflags, m->clear);
	if (r < 0)
		return sn_err_set(err, -r, "remount cgroup bind `%s` (in rootfs `%s`)", src, ctx->rootfs);
	return 0;
}

static int mount_cgroup(const struct rootfs_ctx *ctx, int root_fd, int fd,
			const struct spec_mount *m, struct sn_err *err)
{
	struct cg_list l = { 0 };
	int r = cg_read_host(&l, err);
	if (r < 0) {
		cg_list_free(&l);
		return sn_err_wrap(err, "mount cgroup on `%s` (in rootfs `%s`)", m->destination, ctx->rootfs);
	}
	const struct cg_hier *unified_root = NULL;
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].v2 && strcmp(l.v[i].mountpoint, "/sys/fs/cgroup") == 0)
			unified_root = &l.v[i];

	if (unified_root) {
		/* Pure v2 host: one cgroup2 mount (or bind) on the destination. */
		if (ctx->new_cgroupns) {
			r = cg_mount_one(ctx, m, fd, NULL, unified_root, err);
		} else {
			_cleanup_free_ char *src = cg_host_path(unified_root, ctx->cgroup_path);
			r = src ? do_bind(root_fd, fd, src, m->destination,
					  m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, m->clear,
					  ctx->rootfs, err)
				: sn_err_set(err, ENOMEM, "cgroup path");
		}
		cg_list_free(&l);
		return r;
	}

	/* v1 or hybrid: a tmpfs holding one directory per hierarchy. */
	unsigned long tflags = (m->flags & ~(MS_BIND | MS_REC | MS_RDONLY)) |
			       MS_NOSUID | MS_NODEV | MS_NOEXEC;
	r = rfs_mount_on_fd("tmpfs", fd, "tmpfs", tflags, "mode=755");
	if (r < 0) {
		cg_list_free(&l);
		return sn_err_set(err, -r, "mount tmpfs for cgroups on `%s` (in rootfs `%s`)",
				  m->destination, ctx->rootfs);
	}
	_cleanup_close_ int tfd = -1;
	r = reopen_dest(root_fd, m->destination, &tfd, err);
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		const char *base = strrchr(l.v[i].mountpoint, '/') + 1;
		r = cg_mount_one(ctx, m, tfd, base, &l.v[i], err);
		/* Combined hierarchies: cpu -> cpu,cpuacct, as on the host. */
		if (r == 0 && !l.v[i].v2 && strchr(base, ',')) {
			_cleanup_free_ char *names = strdup(base);
			char *save = NULL;
			for (char *t = names ? strtok_r(names, ",", &save) : NULL; t;
			     t = strtok_r(NULL, ",", &save))
				if (symlinkat(base, tfd, t) < 0 && errno != EEXIST)
					r = sn_err_sys(err, "symlink `%s/%s` (in rootfs `%s`)",
						       m->destination, t, ctx->rootfs);
		}
	}
	cg_list_free(&l);
	if (r < 0)
		return r;
	if (m->flags & MS_RDONLY) {
		r = rfs_mount_on_fd(NULL, tfd, NULL, MS_REMOUNT | tflags | MS_RDONLY, "mode=755");
		if (r < 0)
			return sn_err_set(err, -r, "remount cgroup tmpfs `%s` read-only (in rootfs `%s`)",
					  m->destination, ctx->rootfs);
	}
	return 0;
}

/* ------------------------------------------------------------ sysfs */

static int mount_sysfs(const struct rootfs_ctx *ctx, int root_fd, int fd,
		       const struct spec_mount *m, struct sn_err *err)
{
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC);
	if (ctx->new_netns) {
		int r = rfs_mount_on_fd(m->source ? m->source : "sysfs", fd, "sysfs", flags, m->data);
		if (r == 0)
			return 0;
		if (r != -EPERM)
			return sn_err_set(err, -r, "mount `sysfs` on `%s` (in rootfs `%s`)",
					  m->destination, ctx->rootfs);
	}
	/* A sysfs mount shows the network devices of the mounter's netns: the
	 * kernel refuses it without a netns of our own. Like runc, show the
	 * host's /sys instead, read-only. */
	return do_bind(root_fd, fd, "/sys", m->destination,
		       flags | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		       m->clear & ~MS_RDONLY, ctx->rootfs, err);
}

/* The recursive options (rro, rnosuid, ...) on the new mount and every
 * mount below it, in one mount_setattr (Linux 5.12). */
static int apply_recursive_attrs(int root_fd, const struct spec_mount *m, const char *rootfs,
				 struct sn_err *err)
{
	_cleanup_close_ int fd = -1;
	int r = reopen_dest(root_fd, m->destination, &fd, err);
	if (r < 0)
		return sn_err_wrap(err, "rootfs `%s`", rootfs);
	struct mount_attr attr = { .attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr };
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return sn_err_sys(err, "mount_setattr (set %#x, clear %#x, recursive) on `%s` "
				  "(in rootfs `%s`)%s", m->rec_attr_set, m->rec_attr_clr, m->destination,
				  rootfs, errno == ENOSYS ? ": recursive mount options need Linux 5.12" : "");
	return 0;
}

/* ------------------------------------------------------------ entry */

int mounts_apply(const struct rootfs_ctx *ctx, int root_fd,
		 const struct spec_mount *m, struct sn_err *err)
{
	if (!m->destination || m->destination[0] != '/')
		return sn_err_msg(err, EINVAL, "mount destination `%s` is not absolute",
				  m->destination ? m->destination : "(null)");
	if (m->n_uid_mappings || m->n_gid_mappings)
		return sn_err_msg(err, EOPNOTSUPP, "mount on `%s`: idmapped mounts are not supported",
				  m->destination);
	bool bind = is_bind(m);
	enum rfs_create create = RFS_CREATE_DIR;
	if (bind) {
		if (!m->source)
			return sn_err_msg(err, EINVAL, "bind mount on `%s`: no source", m->destination);
		struct stat st;
		if (stat(m->source, &st) < 0)
			return sn_err_sys(err, "bind mount source `%s` for `%s`", m->source, m->destination);
		if (!S_ISDIR(st.st_mode))
			create = RFS_CREATE_FILE;
	}
	_cleanup_close_ int fd = -1;
	int r = rfs_resolve(root_fd, m->destination, create, &fd, err);
	if (r < 0)
		return sn_err_wrap(err, "mount `%s` on `%s` (in rootfs `%s`)", mtype(m),
				   m->destination, ctx->rootfs);

	if (bind) {
		r = do_bind(root_fd, fd, m->source, m->destination, m->flags, m->clear,
			    ctx->rootfs, err);
	} else if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0) {
		r = mount_cgroup(ctx, root_fd, fd, m, err);
	} else if (strcmp(m->type, "sysfs") == 0) {
		r = mount_sysfs(ctx, root_fd, fd, m, err);
	} else {
		unsigned long flags = m->flags & ~(MS_BIND | MS_REC);
		_cleanup_close_ int old = -1;
		if (m->tmpcopyup) {
			if (strcmp(m->type, "tmpfs") != 0)
				return sn_err_msg(err, EINVAL, "mount on `%s`: tmpcopyup needs a tmpfs",
						  m->destination);
			/* The old contents stay reachable through this fd once the
			 * tmpfs covers them. */
			old = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (old < 0)
				return sn_err_sys(err, "open `%s` for tmpcopyup (in rootfs `%s`)",
						  m->destination, ctx->rootfs);
			flags &= ~MS_RDONLY;  /* write first, remount ro after */
		}
		const char *src = m->source ? m->source : m->type;
		r = rfs_mount_on_fd(src, fd, m->type, flags, m->data);
		if (r < 0)
			return sn_err_set(err, -r, "mount `%s` on `%s` (in rootfs `%s`)",
					  src, m->destination, ctx->rootfs);
		if (old >= 0) {
			_cleanup_close_ int nfd = -1;
			r = reopen_dest(root_fd, m->destination, &nfd, err);
			if (r < 0)
				return sn_err_wrap(err, "rootfs `%s`", ctx->rootfs);
			_cleanup_close_ int dst = openat(nfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dst < 0)
				return sn_err_sys(err, "open tmpfs `%s` (in rootfs `%s`)",
						  m->destination, ctx->rootfs);
			const char *failed = "";
			r = copy_tree(old, dst, 0, &failed);
			if (r < 0)
				return sn_err_set(err, -r, "tmpcopyup into `%s`: copy `%s` (in rootfs `%s`)",
						  m->destination, failed, ctx->rootfs);
			struct stat st;
			if (fstat(old, &st) < 0 || fchown(dst, st.st_uid, st.st_gid) < 0 ||
			    fchmod(dst, st.st_mode & 07777) < 0)
				return sn_err_sys(err, "tmpcopyup: owner/mode of `%s` (in rootfs `%s`)",
						  m->destination, ctx->rootfs);
			if (m->flags & MS_RDONLY) {
				r = rfs_mount_on_fd(NULL, nfd, NULL, MS_REMOUNT | flags | MS_RDONLY, m->data);
				if (r < 0)
					return sn_err_set(err, -r, "remount `%s` read-only (in rootfs `%s`)",
							  m->destination, ctx->rootfs);
			}
		}
	}
	if (r < 0)
		return r;
	if ((m->rec_attr_set || m->rec_attr_clr) && (r = apply_recursive_attrs(root_fd, m, ctx->rootfs, err)) < 0)
		return r;
	return apply_propagation(root_fd, m, ctx->rootfs, err);
}

/* ------------------------------------------------------------ finalize */

int rfs_mask_path(int root_fd, const char *path, struct sn_err *err)
{
	_cleanup_close_ int fd = -1;
	struct sn_err e2 = { 0 };
	int r = rfs_resolve(root_fd, path, RFS_NO_CREATE, &fd, &e2);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;  /* nothing there to hide */
	if (r < 0) {
		*err = e2;
		return sn_err_wrap(err, "mask");
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sn_err_sys(err, "mask `%s`: stat", path);
	if (S_ISDIR(st.st_mode))
		r = rfs_mount_on_fd("tmpfs", fd, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				    "mode=555");
	else
		r = rfs_mount_on_fd("/dev/null", fd, NULL, MS_BIND, NULL);
	if (r < 0)
		return sn_err_set(err, -r, "mask `%s` with %s", path,
				  S_ISDIR(st.st_mode) ? "an empty read-only tmpfs" : "/dev/null");
	return 0;
}

int rfs_readonly_path(int root_fd, const char *path, struct sn_err *err)
{
	_cleanup_close_ int fd = -1;
	struct sn_err e2 = { 0 };
	int r = rfs_resolve(root_fd, path, RFS_NO_CREATE, &fd, &e2);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0) {
		*err = e2;
		return sn_err_wrap(err, "make read-only");
	}
	char p[32];
	r = rfs_mount_on_fd(rfs_fd_path(fd, p), fd, NULL, MS_BIND | MS_REC, NULL);
	if (r < 0)
		return sn_err_set(err, -r, "bind `%s` onto itself", path);
	_cleanup_close_ int nfd = -1;
	r = rfs_resolve(root_fd, path, RFS_NO_CREATE, &nfd, err);
	if (r < 0)
		return sn_err_wrap(err, "make read-only");
	r = rfs_bind_remount(nfd, MS_RDONLY, 0);
	if (r < 0)
		return sn_err_set(err, -r, "remount `%s` read-only", path);
	return 0;
}
