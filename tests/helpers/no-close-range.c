/* no-close-range — run a command as on a kernel without close_range(2).
 *
 *   no-close-range CMD [ARGS...]
 *
 * Loads a seccomp filter that fails close_range with ENOSYS (what a
 * kernel before 5.9 answers), then execs CMD; the filter is inherited by
 * every child. The tests run subrun under it to prove that its fallback,
 * the /proc/self/fd walk, keeps every runtime fd from the container's
 * process (tests/integration/subrun_security.bats).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: no-close-range CMD [ARGS...]\n");
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		fprintf(stderr, "no-close-range: seccomp_init failed\n");
		return 1;
	}
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(close_range), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		fprintf(stderr, "no-close-range: load the filter: %s\n", strerror(-r));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-close-range: exec `%s`: %s\n", argv[1], strerror(errno));
	return 127;
}
