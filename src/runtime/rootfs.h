/* rootfs.h — the container's filesystem view, built inside its new mount
 * namespace by the container init:
 *
 *   rootfs_prepare   make "/" private (or the spec's rootfsPropagation),
 *                    bind the rootfs onto itself, do every spec mount
 *                    in order (bind/rbind with flags remounted, tmpfs, proc,
 *                    sysfs, devpts, mqueue, cgroup, ...), create /dev (the
 *                    default devices, linux.devices, the standard symlinks,
 *                    /dev/pts, /dev/shm, /dev/console target), all with every
 *                    destination resolved inside the rootfs (no symlink may
 *                    point a mount outside it).
 *   rootfs_pivot     pivot_root into it (fallback MS_MOVE + chroot when the
 *                    root is on ramfs/initramfs), detach the old root.
 *   rootfs_finalize  after pivot: maskedPaths, readonlyPaths, read-only root,
 *                    sysctls, rootfs propagation.
 *
 * createContainer hooks run between prepare and pivot (the caller's job).
 */
#ifndef SN_RUNTIME_ROOTFS_H
#define SN_RUNTIME_ROOTFS_H

#include <stdbool.h>
#include "base/err.h"
#include "runtime/spec.h"

struct rootfs_ctx {
	const struct spec *spec;
	const char *rootfs;          /* absolute host path of the rootfs */
	const char *cgroup_path;     /* the container's cgroup path ("/subrun/x"),
				      * for "cgroup" mounts without a cgroupns */
	bool new_cgroupns;           /* container has its own cgroup namespace */
	bool in_userns;              /* container has a user namespace: device
				      * nodes are bind-mounted from the host */
	bool new_netns;              /* sysfs can be mounted fresh only then */
};

int rootfs_prepare(const struct rootfs_ctx *ctx, struct sn_err *err);
int rootfs_pivot(const struct rootfs_ctx *ctx, struct sn_err *err);
int rootfs_finalize(const struct rootfs_ctx *ctx, struct sn_err *err);
/* Apply linux.sysctl (writes under /proc/sys); after pivot. */
int rootfs_sysctl(const struct spec *s, struct sn_err *err);

#endif
