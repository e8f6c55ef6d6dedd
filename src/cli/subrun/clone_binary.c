/* clone_binary.c — run from a sealed in-memory copy of ourselves.
 *
 * Threat (CVE-2019-5736 class): while a subrun process joins a container
 * (create's init before execve, exec's child), a process inside can open
 * /proc/<pid>/exe and, once subrun exits, write through it to the host's
 * subrun binary. Defence: create/run/exec first copy /proc/self/exe into a
 * memfd, seal it against any write or resize, and re-exec from it; what the
 * container can reach is then the sealed copy, never the host file.
 *
 * Cost: one in-kernel copy (copy_file_range) and one extra execve per
 * command, ~1 ms: a sixth of a `run`; see docs/BENCHMARKS.md.
 *
 * Skipped when the host file cannot be written through what the container
 * can reach: our executable is already a sealed copy, or it sits on a
 * read-only mount (fstatvfs ST_RDONLY). /proc/<pid>/exe resolves to that
 * very mount; reopening it for writing fails with EROFS, and a container
 * cannot remount a mount of the host's mount namespace. (Install subrun on
 * a read-only mount — a read-only /usr, or a read-only bind of its
 * directory, docs/SUBRUN.md — and it pays nothing.) What remains is the
 * same as for crun's read-only bind: a container holding
 * CAP_DAC_READ_SEARCH in the host's user namespace can open_by_handle_at()
 * any inode through a writable mount of the same file system — which
 * already gives it every file of that file system, with or without a copy
 * of subrun. The environment marker SUBRUN_NO_CLONE (measurements, tests
 * of the guard itself) skips it; none of the checks trusts the caller.
 */
#include "commands.h"
#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Sealed copy already, or on a read-only mount: nothing to do. */
static int self_is_safe(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && (seals & SEALS) == SEALS)
		return 1;
	struct statvfs vfs;
	return fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

extern char **environ;

int ensure_cloned_binary(int argc, char **argv, struct sn_err *err)
{
	(void)argc;
	if (self_is_safe())
		return 0;
	if (getenv("SUBRUN_NO_CLONE"))  /* tests of the guard itself */
		return 0;
	_cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return sn_err_sys(err, "open /proc/self/exe");
	struct stat st;
	if (fstat(src, &st) < 0)
		return sn_err_sys(err, "fstat /proc/self/exe");
	_cleanup_close_ int mfd = memfd_create("subrun", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return sn_err_sys(err, "memfd_create");
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(src, NULL, mfd, NULL, (size_t)left, 0);
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS))
			n = sendfile(mfd, src, NULL, (size_t)left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sn_err_sys(err, "copy /proc/self/exe into a memfd");
		}
		if (n == 0)
			return sn_err_msg(err, EIO, "copy /proc/self/exe: unexpected end of file");
		left -= n;
	}
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		return sn_err_sys(err, "seal the memfd copy");
	fexecve(mfd, argv, environ);
	return sn_err_sys(err, "re-exec from the sealed copy");
}
