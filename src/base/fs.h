/* fs.h — small filesystem helpers used by every layer.
 *
 * All return 0 / -errno and fill err with the path involved. Writes that
 * must survive a crash go through sn_write_file_atomic (temp file in the same
 * directory, fsync, rename, fsync of the directory), so a reader sees the old
 * or the new content, never half of one.
 */
#ifndef SN_BASE_FS_H
#define SN_BASE_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include "base/err.h"
#include "base/fd.h" /* sn_write_all */
#include "base/parse.h" /* sn_parse_u64 */

/* Read a whole file (NUL-terminated; *len excludes the NUL). max_size 0 =
 * no limit; a larger file fails with EFBIG. */
int sn_read_file(const char *path, size_t max_size, char **out, size_t *len,
		 struct sn_err *err);
int sn_read_file_at(int dirfd, const char *path, size_t max_size, char **out,
		    size_t *len, struct sn_err *err);
/* Write (create/truncate) a file in one go. */
int sn_write_file(const char *path, const void *data, size_t len, mode_t mode,
		  struct sn_err *err);
/* Write an existing file without O_CREAT/O_TRUNC (cgroup and /proc files). */
int sn_write_existing(const char *path, const char *data, struct sn_err *err);
int sn_write_existing_at(int dirfd, const char *name, const char *data,
			 struct sn_err *err);
/* Atomic replace: temp + fsync + rename + fsync(dir). */
int sn_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, struct sn_err *err);
/* Atomic against crashes of the process, not of the machine: temp +
 * rename, no fsync. For state that a reboot wipes anyway (a runtime's
 * state dir, pid files), where the fsyncs would be most of the cost. */
int sn_replace_file(const char *path, const void *data, size_t len, mode_t mode,
		    struct sn_err *err);
/* mkdir -p; existing directories are fine. */
int sn_mkdir_p(const char *path, mode_t mode, struct sn_err *err);
/* rm -rf without following symlinks and without crossing mount points. A
 * missing path is not an error. */
int sn_rm_rf(const char *path, struct sn_err *err);
/* Does path exist (lstat)? */
int sn_path_exists(const char *path);
/* Is path the root of a mount (its device differs from its parent's)? */
bool sn_is_mount_point(const char *path);
/* Make path a file only its owner may read or write (0600): created so
 * when absent and create is set (no window at another mode), chmod'ed
 * when it exists; absent and !create: nothing, 0. Not through a symlink. */
int sn_file_private(const char *path, bool create, struct sn_err *err);
/* The same for path and its SQLite companions path-wal, path-shm and
 * path-journal (SQLite gives those the database's mode when it makes them). */
int sn_sqlite_private(const char *path, struct sn_err *err);
/* Join a and b with exactly one '/'; returns malloc'ed string or NULL. */
char *sn_path_join(const char *a, const char *b);
/* "1.5 GiB", "512 B": bytes for people (binary units). */
void sn_human_bytes(uint64_t b, char *buf, size_t n);

#endif
