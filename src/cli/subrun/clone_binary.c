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
 * command; see docs/BENCHMARKS.md. The environment marker only says "try
 * the check"; the check itself is the seals on our own executable, so the
 * marker cannot be used to skip the protection.
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
#include <sys/syscall.h>
#include <unistd.h>

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int self_is_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & SEALS) == SEALS;
}

extern char **environ;

int ensure_cloned_binary(int argc, char **argv, struct sn_err *err)
{
	(void)argc;
	if (self_is_sealed())
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
