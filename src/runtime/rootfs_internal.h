/* rootfs_internal.h — private helpers shared by rootfs.c, mounts.c,
 * devices.c and terminal.c (and their unit tests). Not part of the runtime
 * interface: other modules use rootfs.h / terminal.h.
 *
 * The one rule these helpers exist for: a path that comes from the spec (a
 * mount destination, a device path, a masked path) is only ever resolved
 * *inside* the container's root, never by handing "<rootfs>/<dest>" to the
 * kernel. The rootfs belongs to the image and may hold symlinks such as
 * `etc -> /etc` or `evil -> /tmp/host`; resolved naively they would point a
 * mount at the host. We resolve to an O_PATH fd (openat2 RESOLVE_IN_ROOT, or
 * our own component walk that does the same) and then mount onto
 * "/proc/self/fd/N", so the kernel acts on exactly the inode we checked and
 * a symlink swapped in after the check cannot redirect it (runc's fix for
 * CVE-2021-30465).
 */
#ifndef SN_RUNTIME_ROOTFS_INTERNAL_H
#define SN_RUNTIME_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include "base/err.h"
#include "runtime/rootfs.h"
#include "runtime/spec.h"

/* Tests set this to force the component walk even where openat2 exists. */
extern bool rfs_force_walk;

enum rfs_create {
	RFS_NO_CREATE = 0,
	RFS_CREATE_DIR,     /* missing components, the last one included, become dirs */
	RFS_CREATE_FILE,    /* missing parents become dirs, the last one an empty file */
};

/* Resolve path (absolute or relative, taken relative to root_fd either way)
 * inside root_fd to an O_PATH|O_CLOEXEC fd. Symlinks are followed but
 * clamped to the root, "/.." stays at the root, magic links are refused.
 * Missing components are created per `create`. Returns 0 / -errno; the
 * message names path only (callers wrap it with the rootfs). */
int rfs_resolve(int root_fd, const char *path, enum rfs_create create,
		int *out_fd, struct sn_err *err);

/* "/proc/self/fd/<fd>" into buf. */
const char *rfs_fd_path(int fd, char buf[static 32]);

/* mount(2) onto the inode fd refers to; returns 0 / -errno (errno kept). */
int rfs_mount_on_fd(const char *source, int fd, const char *type,
		    unsigned long flags, const void *data);

/* The per-mount flags (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC and the
 * atime ones) that the mount holding fd has now, from fstatfs. */
int rfs_mount_flags_of(int fd, unsigned long *flags);

/* Per-mount flags: what MS_REMOUNT|MS_BIND can change. */
#define RFS_MNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | \
		       MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)
#define RFS_ATIME_FLAGS (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)

/* Remount the bind mount at fd with `set` (per-mount flags), keeping the
 * flags it already has unless named in `clear`; on EPERM (flags locked by a
 * user namespace) retry keeping every flag it has. */
int rfs_bind_remount(int fd, unsigned long set, unsigned long clear);

/* One spec mount, destination resolved in root_fd (mounts.c). */
int mounts_apply(const struct rootfs_ctx *ctx, int root_fd,
		 const struct spec_mount *m, struct sn_err *err);

/* Is this mount the container's own fresh /dev (not a bind of a host dir)? */
bool mounts_is_fresh_dev(const struct spec_mount *m);

/* /dev contents (devices.c): default nodes and symlinks when dev_fresh,
 * linux.devices always. */
int devices_setup(const struct rootfs_ctx *ctx, int root_fd, bool dev_fresh,
		  struct sn_err *err);

/* Mask / make read-only one path inside root_fd (after pivot). Missing
 * paths are skipped. */
int rfs_mask_path(int root_fd, const char *path, struct sn_err *err);
int rfs_readonly_path(int root_fd, const char *path, struct sn_err *err);

#endif
