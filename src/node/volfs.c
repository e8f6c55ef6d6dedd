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
 *   ROOT/volumes/NAME.img   the image (sparse; its blocks are the data)
 *   ROOT/volumes/NAME/      its mount point: nodev, nosuid; what
 *                           subnodes bind
 *   .import-NAME.img, .import-NAME/   an import being unpacked
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

int node_volfs_make(struct node_volumes *v, const char *prefix, const char *name, uint64_t size,
		    struct sn_err *err)
{
	int r = node_volfs_unmake(v, prefix, name, err);   /* what a crash may have left */
	if (r < 0)
		return r;
	_cleanup_free_ char *img = node_volfs_path(v, prefix, name, ".img");
	if (!img)
		return sn_err_set(err, ENOMEM, "volume %s", name);
	_cleanup_close_ int fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sn_err_sys(err, "volume %s: create `%s`", name, img);
	if (ftruncate(fd, (off_t)size) < 0)
		return sn_err_sys(err, "volume %s: size `%s` to %llu bytes", name, img,
				  (unsigned long long)size);
	if ((r = run_mkfs(img, err)) < 0)
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

/* The staging import becomes the volume: its image renamed (atomic), then
 * mounted where the volume lives. */
int node_volfs_promote(struct node_volumes *v, const char *prefix, const char *name,
		       struct sn_err *err)
{
	_cleanup_free_ char *simg = node_volfs_path(v, prefix, name, ".img");
	_cleanup_free_ char *sdir = node_volfs_path(v, prefix, name, "");
	_cleanup_free_ char *img = node_volfs_path(v, "", name, ".img");
	if (!simg || !sdir || !img)
		return sn_err_set(err, ENOMEM, "volume %s", name);
	while (sn_is_mount_point(sdir))
		if (umount2(sdir, MNT_DETACH) < 0)
			return sn_err_sys(err, "volume %s: umount `%s`", name, sdir);
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
