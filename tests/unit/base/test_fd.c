/* test_fd.c — unit tests of base/fd: closing every fd above N by
 * close_range and by the /proc walk (forced, as on a kernel without
 * close_range), the refusal of a /proc that is not procfs, fd passing,
 * non-blocking setup. Each case runs in a forked child (test_fork), since
 * it closes fds of the process it runs in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd.h"
#include "test_fork.h"

/* Open fds 20..24 (not CLOEXEC) and 5 (not CLOEXEC); the caller's child
 * then acts from 20 on. */
static void open_fds(void)
{
	for (int fd = 20; fd < 25; fd++)
		if (dup2(0, fd) != fd)
			_exit(90);
	if (dup2(0, 5) != 5)
		_exit(91);
}

/* 0 when fds 20..24 are as `how` leaves them and fd 5 is untouched. */
static int check_fds(enum sn_fds_how how)
{
	for (int fd = 20; fd < 25; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (how == SN_FDS_CLOSE && !(fl < 0 && errno == EBADF))
			return 10 + fd - 20;
		if (how == SN_FDS_CLOEXEC && !(fl >= 0 && (fl & FD_CLOEXEC)))
			return 20 + fd - 20;
	}
	int fl = fcntl(5, F_GETFD);
	return fl >= 0 && !(fl & FD_CLOEXEC) ? 0 : 30;
}

static int run_case(bool walk, enum sn_fds_how how)
{
	pid_t pid = test_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		open_fds();
		sn_fds_force_proc_walk = walk;
		struct sn_err e = { 0 };
		if (sn_fds_close_from(20, how, &e) < 0)
			_exit(99);
		_exit(check_fds(how));
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void close_from_closes_or_marks_every_fd_above_n(void **state)
{
	assert_int_equal(run_case(false, SN_FDS_CLOSE), 0);
	assert_int_equal(run_case(false, SN_FDS_CLOEXEC), 0);
}

static void proc_walk_does_the_same_as_close_range(void **state)
{
	assert_int_equal(run_case(true, SN_FDS_CLOSE), 0);
	assert_int_equal(run_case(true, SN_FDS_CLOEXEC), 0);
}

/* A tmpfs over /proc lists no fds: the walk must refuse it, not report
 * success with the real fds still open. */
static void proc_walk_refuses_a_proc_that_is_not_procfs(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = test_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", "/proc", "tmpfs", 0, NULL) < 0)
			_exit(77);
		/* a fake /proc/self/fd that lists nothing */
		if (mkdir("/proc/self", 0755) < 0 || mkdir("/proc/self/fd", 0755) < 0)
			_exit(78);
		sn_fds_force_proc_walk = true;
		struct sn_err e = { 0 };
		int r = sn_fds_close_from(20, SN_FDS_CLOSE, &e);
		dprintf(p[1], "%d %s", r, e.msg);
		_exit(0);
	}
	close(p[1]);
	char buf[512] = "";
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
		print_message("skipped: cannot mount a tmpfs over /proc in a mount namespace\n");
		skip();
	}
	assert_true(n > 0);
	assert_string_equal(buf, "-1 close fds from 20: /proc is not procfs (magic 0x1021994): its fd "
				 "list cannot be trusted");
}

static void fd_passing_carries_the_fd_and_the_bytes(void **state)
{
	int sv[2], p[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct sn_err e = { 0 };
	assert_int_equal(sn_fd_send(sv[0], p[1], "name", 4, &e), 0);
	char buf[16] = "";
	size_t got = 0;
	int fd = -1;
	assert_int_equal(sn_fd_recv(sv[1], &fd, buf, sizeof(buf), &got, &e), 0);
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "name", 4);
	assert_true(fd >= 0 && fd != p[1]);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* the received fd is the pipe's write end */
	assert_int_equal(write(fd, "x", 1), 1);
	char c = 0;
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	sn_close_and_reset(&fd);
	assert_int_equal(fd, -1);
	/* bytes without an fd: fd comes back -1 */
	assert_int_equal(sn_fd_send(sv[0], -1, "z", 1, &e), 0);
	assert_int_equal(sn_fd_recv(sv[1], &fd, buf, sizeof(buf), &got, &e), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(got, 1);
	/* a closed socket is an error naming the fd */
	close(sv[1]);
	assert_int_equal(sn_fd_send(sv[0], p[0], "y", 1, &e), -EPIPE);
	char want[64];
	snprintf(want, sizeof(want), "send fd %d: Broken pipe", p[0]);
	assert_string_equal(e.msg, want);
	close(sv[0]);
	close(p[0]);
	close(p[1]);
}

static void set_nonblock_sets_and_clears_and_names_a_bad_fd(void **state)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	struct sn_err e = { 0 };
	assert_int_equal(sn_fd_set_nonblock(p[0], true, &e), 0);
	assert_true(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	char c;
	assert_int_equal(read(p[0], &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(sn_fd_set_nonblock(p[0], false, &e), 0);
	assert_false(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	close(p[0]);
	close(p[1]);
	assert_int_equal(sn_fd_set_nonblock(p[0], true, &e), -EBADF);
	char want[64];
	snprintf(want, sizeof(want), "fcntl(F_GETFL) fd %d: Bad file descriptor", p[0]);
	assert_string_equal(e.msg, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(close_from_closes_or_marks_every_fd_above_n),
		cmocka_unit_test(proc_walk_does_the_same_as_close_range),
		cmocka_unit_test(proc_walk_refuses_a_proc_that_is_not_procfs),
		cmocka_unit_test(fd_passing_carries_the_fd_and_the_bytes),
		cmocka_unit_test(set_nonblock_sets_and_clears_and_names_a_bad_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
