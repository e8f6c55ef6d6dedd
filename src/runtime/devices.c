/* devices.c — the container's /dev.
 *
 * When the spec gives the container a fresh /dev (a tmpfs mount on /dev,
 * the normal case), we fill it the way runc does:
 *   - default nodes null, zero, full, random, urandom, tty (0666, root);
 *   - symlinks fd -> /proc/self/fd, stdin/stdout/stderr -> /proc/self/fd/0..2,
 *     core -> /proc/kcore (only where the kernel has one, as runc: a
 *     dangling link is noise), ptmx -> pts/ptmx (the container's own devpts);
 *   - directories pts and shm, and an empty /dev/console that the terminal
 *     code bind-mounts the pty slave onto.
 * If the spec does not mount /dev (or binds a host dir there), the default
 * nodes are left alone: we must not mknod into a host directory.
 *
 * linux.devices are created in every case, at their path inside the rootfs
 * (OCI allows any path; it is resolved in the root like a mount
 * destination, so `dev -> /` in the image cannot put a node on the host).
 * Trailing slashes in a device path are dropped (`/dev/fuse/` is the node
 * /dev/fuse), as runc and crun clean the path. Types: c and u (char), b
 * (block), p (fifo). Mode defaults to 0666 and
 * owner to 0:0. An existing node is kept (runc does the same).
 *
 * In a user namespace mknod of devices is not allowed: we create an empty
 * file and bind-mount the host's node of the same path onto it (as runc
 * and crun do); an EPERM from mknod outside a user namespace (e.g. a
 * nodev-restricted caller) takes the same path.
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
#include "runtime/rootfs_internal.h"

struct dev_node {
	const char *path;
	char type;
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

static const struct dev_node default_devices[] = {
	{ "/dev/null", 'c', 1, 3, 0666, 0, 0 },
	{ "/dev/zero", 'c', 1, 5, 0666, 0, 0 },
	{ "/dev/full", 'c', 1, 7, 0666, 0, 0 },
	{ "/dev/random", 'c', 1, 8, 0666, 0, 0 },
	{ "/dev/urandom", 'c', 1, 9, 0666, 0, 0 },
	{ "/dev/tty", 'c', 5, 0, 0666, 0, 0 },
};

static const struct { const char *target, *name; bool if_target; } default_links[] = {
	{ "/proc/self/fd", "fd", false },
	{ "/proc/self/fd/0", "stdin", false },
	{ "/proc/self/fd/1", "stdout", false },
	{ "/proc/self/fd/2", "stderr", false },
	{ "/proc/kcore", "core", true }, /* CONFIG_PROC_KCORE may be off */
	{ "pts/ptmx", "ptmx", false },
};

/* Split "/dev/x/y" into a parent fd (resolved, created, in root) and name. */
static int open_parent(int root_fd, const char *path, int *parent, const char **name,
		       struct sn_err *err)
{
	const char *slash = strrchr(path, '/');
	if (!slash || !slash[1] || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)
		return sn_err_msg(err, EINVAL, "device path `%s` does not name a file", path);
	_cleanup_free_ char *dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return sn_err_set(err, ENOMEM, "device `%s`", path);
	int r = rfs_resolve(root_fd, *dir ? dir : "/", RFS_CREATE_DIR, parent, err);
	if (r < 0)
		return r;
	*name = slash + 1;
	return 0;
}

static int bind_host_node(int root_fd, const struct dev_node *d, struct sn_err *err)
{
	_cleanup_close_ int fd = -1;
	int r = rfs_resolve(root_fd, d->path, RFS_CREATE_FILE, &fd, err);
	if (r < 0)
		return r;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sn_err_sys(err, "stat `%s`", d->path);
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) &&
	    !S_ISFIFO(st.st_mode))
		return sn_err_msg(err, EEXIST, "device `%s`: something else is there", d->path);
	r = rfs_mount_on_fd(d->path, fd, NULL, MS_BIND, NULL);
	if (r < 0)
		return sn_err_set(err, -r, "bind host device `%s`", d->path);
	return 0;
}

static int make_node(int root_fd, const struct dev_node *d, bool in_userns, struct sn_err *err)
{
	if (in_userns)
		return bind_host_node(root_fd, d, err);
	mode_t type;
	switch (d->type) {
	case 'c': case 'u': type = S_IFCHR; break;
	case 'b': type = S_IFBLK; break;
	case 'p': type = S_IFIFO; break;
	default:
		return sn_err_msg(err, EINVAL, "device `%s`: unknown type `%c`", d->path, d->type);
	}
	_cleanup_close_ int parent = -1;
	const char *name = NULL;
	int r = open_parent(root_fd, d->path, &parent, &name, err);
	if (r < 0)
		return r;
	dev_t dev = type == S_IFIFO ? 0 : makedev(d->major, d->minor);
	if (mknodat(parent, name, type | (d->mode & 07777), dev) < 0) {
		if (errno == EEXIST)
			return 0;   /* keep what is there, like runc */
		if (errno == EPERM && type != S_IFIFO)
			return bind_host_node(root_fd, d, err);
		return sn_err_sys(err, "mknod `%s` (%c %u:%u)", d->path, d->type, d->major, d->minor);
	}
	/* Act on the node we just made, through an fd that did not follow a
	 * link: mknod's mode went through the umask, set it exactly. */
	_cleanup_close_ int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sn_err_sys(err, "open `%s`", d->path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sn_err_sys(err, "stat `%s`", d->path);
	if ((st.st_mode & S_IFMT) != type)
		return sn_err_msg(err, EEXIST, "device `%s` was replaced while created", d->path);
	if (fchownat(fd, "", d->uid, d->gid, AT_EMPTY_PATH) < 0)
		return sn_err_sys(err, "chown `%s` to %u:%u", d->path, (unsigned)d->uid, (unsigned)d->gid);
	char p[32];
	if (chmod(rfs_fd_path(fd, p), d->mode & 07777) < 0)
		return sn_err_sys(err, "chmod `%s` to %04o", d->path, (unsigned)(d->mode & 07777));
	return 0;
}

static int make_default_dev(int root_fd, bool in_userns, struct sn_err *err)
{
	for (size_t i = 0; i < SN_ARRAY_SIZE(default_devices); i++) {
		int r = make_node(root_fd, &default_devices[i], in_userns, err);
		if (r < 0)
			return r;
	}
	_cleanup_close_ int dev = -1;
	int r = rfs_resolve(root_fd, "/dev", RFS_CREATE_DIR, &dev, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < SN_ARRAY_SIZE(default_links); i++)
		if ((!default_links[i].if_target || access(default_links[i].target, F_OK) == 0) &&
		    symlinkat(default_links[i].target, dev, default_links[i].name) < 0 &&
		    errno != EEXIST)
			return sn_err_sys(err, "symlink `/dev/%s` -> `%s`", default_links[i].name,
					  default_links[i].target);
	static const char *const dirs[] = { "/dev/pts", "/dev/shm" };
	for (size_t i = 0; i < SN_ARRAY_SIZE(dirs); i++) {
		_cleanup_close_ int fd = -1;
		r = rfs_resolve(root_fd, dirs[i], RFS_CREATE_DIR, &fd, err);
		if (r < 0)
			return r;
	}
	/* The target the terminal binds the pty slave onto. */
	_cleanup_close_ int console = -1;
	return rfs_resolve(root_fd, "/dev/console", RFS_CREATE_FILE, &console, err);
}

int devices_setup(const struct rootfs_ctx *ctx, int root_fd, bool dev_fresh,
		  struct sn_err *err)
{
	if (dev_fresh) {
		int r = make_default_dev(root_fd, ctx->in_userns, err);
		if (r < 0)
			return sn_err_wrap(err, "populate /dev (in rootfs `%s`)", ctx->rootfs);
	}
	const struct spec_linux *l = &ctx->spec->linux_;
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct spec_device *sd = &l->devices[i];
		if (!sd->path || sd->path[0] != '/')
			return sn_err_msg(err, EINVAL, "linux.devices[%zu]: path `%s` is not absolute",
					  i, sd->path ? sd->path : "(null)");
		if (sd->type != 'p' && (sd->major < 0 || sd->minor < 0 ||
					sd->major > 0xfff || sd->minor > 0xfffff))
			return sn_err_msg(err, EINVAL, "linux.devices[%zu] `%s`: bad major/minor %lld:%lld",
					  i, sd->path, (long long)sd->major, (long long)sd->minor);
		_cleanup_free_ char *path = strdup(sd->path);
		if (!path)
			return sn_err_set(err, ENOMEM, "linux.devices[%zu]", i);
		for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
			path[n - 1] = '\0';
		struct dev_node d = {
			.path = path,
			.type = sd->type,
			.major = (unsigned)(sd->major < 0 ? 0 : sd->major),
			.minor = (unsigned)(sd->minor < 0 ? 0 : sd->minor),
			.mode = sd->file_mode == SPEC_UNSET ? 0666 : (mode_t)sd->file_mode,
			.uid = sd->uid == SPEC_UNSET ? 0 : (uid_t)sd->uid,
			.gid = sd->gid == SPEC_UNSET ? 0 : (gid_t)sd->gid,
		};
		int r = make_node(root_fd, &d, ctx->in_userns, err);
		if (r < 0)
			return sn_err_wrap(err, "linux.devices[%zu] (in rootfs `%s`)", i, ctx->rootfs);
	}
	return 0;
}
