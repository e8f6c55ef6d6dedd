/* rootfs.c — the container's filesystem view, step by step (see rootfs.h).
 *
 * Runs in the container init, inside its new mount namespace, as root of
 * that namespace. The order follows runc's:
 *
 *   prepare   1. "/" gets the rootfs propagation, recursively: rprivate by
 *                default, or the spec's rslave/rprivate; for "shared" forms
 *                rprivate first (pivot_root refuses a shared parent) and the
 *                rootfs mount is made shared after the bind; "unbindable"
 *                would forbid the rootfs bind, so it too waits for finalize.
 *                Nothing we mount from here on propagates to the host.
 *             2. bind the rootfs onto itself (MS_BIND|MS_REC): pivot_root
 *                needs a mount point, and the container gets its own mount.
 *             3. open the rootfs (O_PATH) once — every later path is resolved
 *                from this fd, never from the string (rootfs_path.c).
 *             4. each spec mount, in order (mounts.c).
 *             5. /dev contents (devices.c).
 *   pivot     pivot_root(".", ".") with the rootfs as cwd stacks the old
 *             root on top of the new one; we make it rslave (so the detach
 *             cannot propagate anywhere) and detach it — no temporary
 *             directory in the image is needed. On ramfs/initramfs, where
 *             pivot_root is EINVAL, MS_MOVE the rootfs onto / and chroot.
 *   finalize  readonlyPaths, maskedPaths, read-only root, then the final
 *             rootfs propagation on "/" alone (not recursive: the spec
 *             mounts keep the propagation their own options gave them).
 *   sysctl    writes /proc/sys/<key with dots as slashes>; keys with ".."
 *             or "/" are refused so a key cannot name a file outside
 *             /proc/sys, and the open is done beneath a /proc/sys fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fd.h"
#include "runtime/rootfs.h"
#include "runtime/rootfs_internal.h"

/* The propagation "/" gets before anything is mounted. */
static unsigned long initial_propagation(unsigned long spec)
{
	if (spec & (MS_SLAVE | MS_PRIVATE))
		return spec;
	return MS_REC | MS_PRIVATE;   /* default, and first step of shared/unbindable */
}

/* The rootfs path names the topmost mount on it: open that one. The path
 * is ours (the bundle's), and the mount just made on it is on the rootfs
 * itself, so this reaches nothing outside it. */
static int reopen_root(const char *rootfs, int *root_fd, struct sn_err *err)
{
	int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sn_err_sys(err, "open rootfs `%s` after a mount on `/`", rootfs);
	close(*root_fd);
	*root_fd = fd;
	return 0;
}

int rootfs_prepare(const struct rootfs_ctx *ctx, struct sn_err *err)
{
	if (!ctx->rootfs || ctx->rootfs[0] != '/')
		return sn_err_msg(err, EINVAL, "rootfs `%s` is not an absolute path",
				  ctx->rootfs ? ctx->rootfs : "(null)");
	const struct spec *s = ctx->spec;
	unsigned long prop = s->linux_.rootfs_propagation;

	if (mount(NULL, "/", NULL, initial_propagation(prop), NULL) < 0)
		return sn_err_sys(err, "set propagation %#lx of `/`", initial_propagation(prop));
	if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sn_err_sys(err, "bind rootfs `%s` onto itself", ctx->rootfs);
	if ((prop & MS_SHARED) && mount(NULL, ctx->rootfs, NULL, MS_SHARED, NULL) < 0)
		return sn_err_sys(err, "make rootfs `%s` shared", ctx->rootfs);

	/* From here on, only this fd names the rootfs. */
	_cleanup_close_ int root_fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return sn_err_sys(err, "open rootfs `%s`", ctx->rootfs);

	bool dev_fresh = false;
	for (size_t i = 0; i < s->n_mounts; i++) {
		int r = mounts_apply(ctx, root_fd, &s->mounts[i], err);
		if (r < 0)
			return sn_err_wrap(err, "mounts[%zu]", i);
		dev_fresh = dev_fresh || mounts_is_fresh_dev(&s->mounts[i]);
		/* A mount on "/" covers the rootfs (runc allows it): the later
		 * mounts and the pivot go onto the new top, not under it. */
		if (strcmp(s->mounts[i].destination, "/") == 0 &&
		    (r = reopen_root(ctx->rootfs, &root_fd, err)) < 0)
			return sn_err_wrap(err, "mounts[%zu]", i);
	}
	return devices_setup(ctx, root_fd, dev_fresh, err);
}

int rootfs_pivot(const struct rootfs_ctx *ctx, struct sn_err *err)
{
	_cleanup_close_ int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (old_root < 0)
		return sn_err_sys(err, "open `/`");
	_cleanup_close_ int new_root = open(ctx->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (new_root < 0)
		return sn_err_sys(err, "open rootfs `%s`", ctx->rootfs);
	if (fchdir(new_root) < 0)
		return sn_err_sys(err, "chdir to rootfs `%s`", ctx->rootfs);

	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		if (errno != EINVAL)
			return sn_err_sys(err, "pivot_root into `%s`", ctx->rootfs);
		/* The root is ramfs/initramfs (cannot be pivoted away): move
		 * the rootfs over "/" and chroot into it. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return sn_err_sys(err, "move rootfs `%s` onto `/` (pivot_root EINVAL)", ctx->rootfs);
		if (chroot(".") < 0)
			return sn_err_sys(err, "chroot into `%s`", ctx->rootfs);
		if (chdir("/") < 0)
			return sn_err_sys(err, "chdir `/` after chroot");
		return 0;
	}
	/* The old root is now mounted on top of "."; the kernel does not
	 * promise where our cwd is, so go to it explicitly. */
	if (fchdir(old_root) < 0)
		return sn_err_sys(err, "chdir to the old root");
	/* rslave: our detach must not propagate to the host's mounts. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return sn_err_sys(err, "make the old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		return sn_err_sys(err, "detach the old root");
	if (chdir("/") < 0)
		return sn_err_sys(err, "chdir `/` in the new root");
	return 0;
}

int rootfs_finalize(const struct rootfs_ctx *ctx, struct sn_err *err)
{
	const struct spec *s = ctx->spec;
	_cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return sn_err_sys(err, "open `/`");
	for (size_t i = 0; i < s->linux_.n_readonly_paths; i++) {
		int r = rfs_readonly_path(root_fd, s->linux_.readonly_paths[i], err);
		if (r < 0)
			return sn_err_wrap(err, "linux.readonlyPaths[%zu]", i);
	}
	for (size_t i = 0; i < s->linux_.n_masked_paths; i++) {
		int r = rfs_mask_path(root_fd, s->linux_.masked_paths[i], err);
		if (r < 0)
			return sn_err_wrap(err, "linux.maskedPaths[%zu]", i);
	}
	if (s->root_readonly) {
		int r = rfs_bind_remount(root_fd, MS_RDONLY, 0);
		if (r < 0)
			return sn_err_set(err, -r, "remount `/` read-only (root.readonly)");
	}
	/* The recursive part of rootfsPropagation was applied in prepare, to
	 * the host mounts we inherited; the spec mounts carry their own
	 * propagation option, which a recursive change here would undo. So
	 * only "/" itself gets it now (this is where "unbindable" lands). */
	unsigned long prop = s->linux_.rootfs_propagation & ~MS_REC;
	if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
		return sn_err_sys(err, "set rootfs propagation %#lx of `/`", prop);
	return 0;
}

static int open_beneath(int dir_fd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dir_fd, rel, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS && errno != E2BIG && errno != EPERM)
		return -1;
	/* No openat2: the key was checked for ".." and "/" already. */
	return openat(dir_fd, rel, flags | O_CLOEXEC | O_NOFOLLOW);
}

int rootfs_sysctl(const struct spec *s, struct sn_err *err)
{
	if (s->linux_.n_sysctl == 0)
		return 0;
	_cleanup_close_ int dir = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return sn_err_sys(err, "open `/proc/sys`");
	for (size_t i = 0; i < s->linux_.n_sysctl; i++) {
		const struct spec_sysctl *kv = &s->linux_.sysctl[i];
		const char *k = kv->key;
		if (!k || !*k || strstr(k, "..") || strchr(k, '/') || k[0] == '.' ||
		    k[strlen(k) - 1] == '.')
			return sn_err_msg(err, EINVAL, "linux.sysctl: invalid key `%s`", k ? k : "(null)");
		if (!kv->value)
			return sn_err_msg(err, EINVAL, "linux.sysctl `%s`: no value", k);
		_cleanup_free_ char *rel = strdup(k);
		if (!rel)
			return sn_err_set(err, ENOMEM, "sysctl `%s`", k);
		for (char *p = rel; *p; p++)
			if (*p == '.')
				*p = '/';
		_cleanup_close_ int fd = open_beneath(dir, rel, O_WRONLY);
		if (fd < 0)
			return sn_err_sys(err, "linux.sysctl: open `/proc/sys/%s`", rel);
		size_t len = strlen(kv->value);
		ssize_t w;
		w = SN_RETRY_EINTR(write(fd, kv->value, len));
		if (w < 0)
			return sn_err_sys(err, "linux.sysctl: write `%s` to `/proc/sys/%s`", kv->value, rel);
		if ((size_t)w != len)
			return sn_err_msg(err, EIO, "linux.sysctl: short write to `/proc/sys/%s`", rel);
	}
	return 0;
}
