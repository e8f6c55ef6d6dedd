/* volfs.c — a volume's own file system: an ext4 image file on a loop
 * device, the size of the volume, so the kernel enforces the size.
 *
 * Why a loop-mounted file system per volume: the size must hold inside
 * the subnode as ENOSPC, and this host's kernel has neither generic quota
 * support (CONFIG_QUOTA: ext4 refuses prjquota) nor XFS quotas ("quota
 * support not available in this kernel"); btrfs qgroups would answer
 * EDQUOT, not ENOSPC. A file system of exactly the volume's size needs no
 * quota at all: a write past it is ENOSPC from the file system itself,
 * for root too. Built with `-m 0` (no blocks reserved for root): with 5 %
 * reserved, a writer holding CAP_SYS_RESOURCE would get more room than one
 * without (this host's bounding set lacks it), so both now see the same
 * size. The cost per volume, measured in docs/BENCHMARKS.md: a sparse
 * file (about 1 MiB written by mkfs: inode tables are left to be
 * zero — `lazy_itable_init` with `noinit_itable`, right for a file that
 * reads as zeros — and the journal is not zeroed), one mkfs.ext4 run,
 * one loop device and one mount. The loop device is configured with
 * LO_FLAGS_AUTOCLEAR, so it goes away with the last mount (or with the
 * daemon, if it dies between the two): nothing to track.
 *
 * mkfs runs once per size: its image is kept as a template
 * (.tmpl-SIZE.img) and a new volume of that size is a copy of the
 * template's few written extents (SEEK_DATA/SEEK_HOLE + copy_file_range:
 * ~1 MiB in the kernel, no process to start), so 128 subnodes of one size
 * cost one mkfs. Copies share the file system UUID, which ext4 does not
 * mind (each is its own loop device and superblock).
 *
 *   ROOT/volumes/NAME.img   the image (sparse; its blocks are the data)
 *   ROOT/volumes/NAME/      its mount point: nodev, nosuid; what
 *                           subnodes bind
 *   .import-NAME.img, .import-NAME/   an import being unpacked
 *   .tmpl-SIZE.img          a fresh file system of SIZE bytes to copy
 */
#include "node/volume.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *node_volfs_path(struct node_volumes *v, const char *prefix, const char *name,
		      const char *suffix)
{
	char *p = NULL;
	return asprintf(&p, "%s/%s%s%s", v->dir, prefix, name, suffix) < 0 ? NULL : p;
}

static int run_mkfs(const char *img, struct sn_err *err)
{
	static const char *const paths[] = { "/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4" };
	const char *mkfs = NULL;
	for (size_t i = 0; i < SN_ARRAY_SIZE(paths) && !mkfs; i++)
		if (access(paths[i], X_OK) == 0)
			mkfs = paths[i];
	if (!mkfs)
		return sn_err_msg(err, ENOENT, "mkfs.ext4 not found (install e2fsprogs)");
	const char *argv[] = { mkfs, "-q", "-F", "-m", "0", "-E",
			       "lazy_itable_init=1,lazy_journal_init=1,nodiscard", img, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	node_spawnattr_clean(&at);
	pid_t pid;
	int rc = posix_spawn(&pid, mkfs, &fa, &at, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return sn_err_set(err, rc, "run `%s`", mkfs);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return sn_err_sys(err, "wait for mkfs.ext4");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return sn_err_msg(err, EIO, "mkfs.ext4 `%s` failed (status %d)", img, st);
	return 0;
}

/* A free loop device bound to img (autoclear): *loopfd keeps it until the
 * mount holds it. */
static int loop_attach(const char *img, char dev[32], int *loopfd, struct sn_err *err)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return sn_err_sys(err, "open /dev/loop-control");
	_cleanup_close_ int imgfd = open(img, O_RDWR | O_CLOEXEC);
	if (imgfd < 0)
		return sn_err_sys(err, "open `%s`", img);
	/* Another process may take the device between GET_FREE and CONFIGURE:
	 * EBUSY, ask again. */
	for (int tries = 0; tries < 64; tries++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0)
			return sn_err_sys(err, "LOOP_CTL_GET_FREE");
		snprintf(dev, 32, "/dev/loop%d", nr);
		int fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return sn_err_sys(err, "open `%s`", dev);
		struct loop_config lc = { .fd = (unsigned)imgfd };
		lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		snprintf((char *)lc.info.lo_file_name, sizeof(lc.info.lo_file_name), "%s", img);
		if (ioctl(fd, LOOP_CONFIGURE, &lc) == 0) {
			*loopfd = fd;
			return 0;
		}
		int e = errno;
		close(fd);
		if (e != EBUSY)
			return sn_err_set(err, e, "LOOP_CONFIGURE `%s` on `%s`", dev, img);
	}
	return sn_err_msg(err, EBUSY, "no free loop device for `%s`", img);
}

int node_volfs_mount(struct node_volumes *v, const char *prefix, const char *name,
		     struct sn_err *err)
{
	_cleanup_free_ char *img = node_volfs_path(v, prefix, name, ".img");
	_cleanup_free_ char *dir = node_volfs_path(v, prefix, name, "");
	if (!img || !dir)
		return sn_err_set(err, ENOMEM, "volume %s", name);
	if (sn_is_mount_point(dir))
		return 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return sn_err_sys(err, "volume %s: mkdir `%s`", name, dir);
	char dev[32];
	int loopfd = -1;
	int r = loop_attach(img, dev, &loopfd, err);
	if (r < 0)
		return sn_err_wrap(err, "volume %s", name);
	if (mount(dev, dir, "ext4", MS_NOSUID | MS_NODEV, "noinit_itable") < 0)
		r = sn_err_sys(err, "volume %s: mount `%s` (ext4) on `%s`", name, dev, dir);
	/* autoclear: after a failed mount this close frees the device, after
	 * a good one the umount will. */
	close(loopfd);
	return r;
}

/* Copy the written extents of src into dst (both size bytes; dst is new
 * and sparse). */
static int copy_extents(int src, int dst, uint64_t size, const char *what, struct sn_err *err)
{
	off_t off = 0;
	while ((uint64_t)off < size) {
		off_t data = lseek(src, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;   /* only a hole is left */
		if (data < 0)
			return sn_err_sys(err, "%s: SEEK_DATA", what);
		off_t hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			return sn_err_sys(err, "%s: SEEK_HOLE", what);
		loff_t in = data, out = data;
		while (in < hole) {
			ssize_t n = copy_file_range(src, &in, dst, &out, (size_t)(hole - in), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? sn_err_sys(err, "%s: copy_file_range", what)
					     : sn_err_msg(err, EIO, "%s: the template ended early", what);
		}
		off = hole;
	}
	return 0;
}

/* The template of this size, made once (under the lock: creates of one
 * size wait for the first). */
static int template_fd(struct node_volumes *v, uint64_t size, int *out, struct sn_err *err)
{
	char name[64];
	snprintf(name, sizeof(name), "%llu", (unsigned long long)size);
	_cleanup_free_ char *tmpl = node_volfs_path(v, TEMPLATE_PREFIX, name, ".img");
	_cleanup_free_ char *tmp = node_volfs_path(v, TEMPLATE_PREFIX, name, ".img.tmp");
	if (!tmpl || !tmp)
		return sn_err_set(err, ENOMEM, "volume template");
	pthread_mutex_lock(&v->template_lock);
	int r = 0, fd = open(tmpl, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* made under a temporary name: a crash leaves no half template */
		int t = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (t < 0)
			r = sn_err_sys(err, "create `%s`", tmp);
		else if (ftruncate(t, (off_t)size) < 0)
			r = sn_err_sys(err, "size `%s` to %llu bytes", tmp, (unsigned long long)size);
		if (t >= 0)
			close(t);
		if (r == 0)
			r = run_mkfs(tmp, err);
		if (r == 0 && rename(tmp, tmpl) < 0)
			r = sn_err_sys(err, "rename `%s`", tmp);
		if (r < 0)
			unlink(tmp);
		else if ((fd = open(tmpl, O_RDONLY | O_CLOEXEC)) < 0)
			r = sn_err_sys(err, "open `%s`", tmpl);
	} else if (fd < 0) {
		r = sn_err_sys(err, "open `%s`", tmpl);
	}
	pthread_mutex_unlock(&v->template_lock);
	if (r == 0)
		*out = fd;
	return r;
}

int node_volfs_make(struct node_volumes *v, const char *prefix, const char *name, uint64_t size,
		    struct sn_err *err)
{
	int r = node_volfs_unmake(v, prefix, name, err);   /* what a crash may have left */
	if (r < 0)
		return r;
	_cleanup_free_ char *img = node_volfs_path(v, prefix, name, ".img");
	if (!img)
		return sn_err_set(err, ENOMEM, "volume %s", name);
	_cleanup_close_ int tfd = -1;
	if ((r = template_fd(v, size, &tfd, err)) < 0)
		return sn_err_wrap(err, "volume %s", name);
	_cleanup_close_ int fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sn_err_sys(err, "volume %s: create `%s`", name, img);
	if (ftruncate(fd, (off_t)size) < 0)
		return sn_err_sys(err, "volume %s: size `%s` to %llu bytes", name, img,
				  (unsigned long long)size);
	if ((r = copy_extents(tfd, fd, size, img, err)) < 0)
		return sn_err_wrap(err, "volume %s", name);
	return node_volfs_mount(v, prefix, name, err);
}

int node_volfs_unmake(struct node_volumes *v, const char *prefix, const char *name,
		      struct sn_err *err)
{
	_cleanup_free_ char *img = node_volfs_path(v, prefix, name, ".img");
	_cleanup_free_ char *dir = node_volfs_path(v, prefix, name, "");
	if (!img || !dir)
		return sn_err_set(err, ENOMEM, "volume %s", name);
	/* Detached: the file system (and so its loop device) goes as soon as
	 * nothing holds it; no subnode does (the caller checked). */
	while (sn_is_mount_point(dir))
		if (umount2(dir, MNT_DETACH) < 0)
			return sn_err_sys(err, "volume %s: umount `%s`", name, dir);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return sn_err_sys(err, "volume %s: rmdir `%s`", name, dir);
	if (unlink(img) < 0 && errno != ENOENT)
		return sn_err_sys(err, "volume %s: remove `%s`", name, img);
	return 0;
}

/* The staging import becomes the volume: its mount moved to the volume's
 * place (no umount, so no writeback of the whole tree on the way; the
 * loop device keeps the open file across the rename), its image renamed
 * (atomic: this is the commit). Where the mount cannot be moved (a shared
 * parent mount refuses MS_MOVE), it is unmounted and node_volfs_mount
 * mounts the renamed image afterwards. */
int node_volfs_promote(struct node_volumes *v, const char *prefix, const char *name,
		       struct sn_err *err)
{
	_cleanup_free_ char *simg = node_volfs_path(v, prefix, name, ".img");
	_cleanup_free_ char *sdir = node_volfs_path(v, prefix, name, "");
	_cleanup_free_ char *img = node_volfs_path(v, "", name, ".img");
	_cleanup_free_ char *dir = node_volfs_path(v, "", name, "");
	if (!simg || !sdir || !img || !dir)
		return sn_err_set(err, ENOMEM, "volume %s", name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return sn_err_sys(err, "volume %s: mkdir `%s`", name, dir);
	if (!sn_is_mount_point(dir) && mount(sdir, dir, NULL, MS_MOVE, NULL) < 0) {
		while (sn_is_mount_point(sdir))
			if (umount2(sdir, MNT_DETACH) < 0)
				return sn_err_sys(err, "volume %s: umount `%s`", name, sdir);
	}
	if (rename(simg, img) < 0)
		return sn_err_sys(err, "volume %s: rename `%s`", name, simg);
	if (rmdir(sdir) < 0 && errno != ENOENT)
		return sn_err_sys(err, "volume %s: rmdir `%s`", name, sdir);
	return 0;
}

int node_volfs_usage(struct node_volumes *v, const char *name, uint64_t *used, struct sn_err *err)
{
	_cleanup_free_ char *dir = node_volfs_path(v, "", name, "");
	if (!dir)
		return sn_err_set(err, ENOMEM, "volume %s", name);
	struct statfs st;
	if (statfs(dir, &st) < 0)
		return sn_err_sys(err, "volume %s: statfs `%s`", name, dir);
	*used = (uint64_t)(st.f_blocks - st.f_bfree) * (uint64_t)st.f_bsize;
	return 0;
}
