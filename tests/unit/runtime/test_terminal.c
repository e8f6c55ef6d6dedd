/* test_terminal.c — the console socket and the container's pty.
 *
 * terminal_setup runs in a forked child with its own mount namespace, a
 * fresh devpts (newinstance, ptmxmode=0666) on /dev/pts and /dev/ptmx bound
 * to its ptmx — what a container has after pivot_root — so the host's
 * /dev/console and devpts are never touched. The parent plays conmon:
 * receives the master, types into it and reads what the child prints.
 * terminal_relay is driven with pipes and with a tty on its stdin (a second
 * pty), the latter to prove raw mode, SIGWINCH size propagation and the
 * termios restore.
 */
#include "test_fork.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/fs.h"
#include "runtime/terminal.h"

/* Read from fd until `needle` shows up (or timeout / EOF / EIO). */
static bool read_until(int fd, const char *needle, char *buf, size_t len, int timeout_ms)
{
	size_t have = strlen(buf);
	while (!strstr(buf, needle)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);
		if (r <= 0)
			return false;
		ssize_t n = read(fd, buf + have, len - 1 - have);
		if (n <= 0)
			return strstr(buf, needle) != NULL;
		have += (size_t)n;
		buf[have] = '\0';
		if (have >= len - 1)
			break;
	}
	return strstr(buf, needle) != NULL;
}

static void write_str(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* recvmsg by hand, to see the name payload terminal_send_fd sent. */
static int recv_fd_and_name(int sock, char *name, size_t len)
{
	struct iovec iov = { .iov_base = name, .iov_len = len - 1 };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	name[n] = '\0';
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static void send_recv_fd_round_trip_passes_a_working_fd(void **state)
{
	int sv[2], pp[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
	struct sn_err e = { 0 };
	assert_int_equal(terminal_send_fd(sv[0], pp[1], "/dev/pts/7", &e), 0);
	int got = -1;
	assert_int_equal(terminal_recv_fd(sv[1], &got, &e), 0);
	assert_true(got >= 0 && got != pp[1]);
	assert_true(fcntl(got, F_GETFD) & FD_CLOEXEC);
	write_str(got, "through");
	char buf[16] = "";
	assert_int_equal(read(pp[0], buf, sizeof(buf) - 1), 7);
	assert_string_equal(buf, "through");
	/* The name travels as the payload, as runc sends the pty's name. */
	assert_int_equal(terminal_send_fd(sv[0], pp[0], "/dev/pts/7", &e), 0);
	char name[64];
	int fd2 = recv_fd_and_name(sv[1], name, sizeof(name));
	assert_true(fd2 >= 0);
	assert_string_equal(name, "/dev/pts/7");
	close(fd2);
	close(got);
	close(pp[0]);
	close(pp[1]);
	close(sv[0]);
	close(sv[1]);
}

static void recv_fd_refuses_message_without_fd_and_closed_socket(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	write_str(sv[0], "no fd here");
	struct sn_err e = { 0 };
	int fd = -1;
	assert_int_equal(terminal_recv_fd(sv[1], &fd, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "no fd"));
	close(sv[0]);
	assert_int_equal(terminal_recv_fd(sv[1], &fd, &e), -ECONNRESET);
	assert_non_null(strstr(e.msg, "closed"));
	close(sv[1]);
}

static int listen_at(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) < sizeof(a.sun_path)) {
		strcpy(a.sun_path, path);
		assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	} else {
		/* bind a long path from inside its directory */
		char dir[1024];
		snprintf(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		assert_int_equal(chdir(dir), 0);
		strcpy(a.sun_path, strrchr(path, '/') + 1);
		assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(fchdir(cwd), 0);
		close(cwd);
	}
	assert_int_equal(listen(s, 4), 0);
	return s;
}

static void connect_reaches_console_socket_even_past_sun_path_length(void **state)
{
	char tmpl[] = "/tmp/sn-term-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char shortp[256], longdir[512], longp[600];
	snprintf(shortp, sizeof(shortp), "%s/console.sock", tmpl);
	snprintf(longdir, sizeof(longdir),
		 "%s/a-rather-long-directory-name-to-pass-the-sun-path-limit/"
		 "and-another-level-to-be-sure-it-is-well-past-108-bytes", tmpl);
	struct sn_err e = { 0 };
	assert_int_equal(sn_mkdir_p(longdir, 0755, &e), 0);
	snprintf(longp, sizeof(longp), "%s/console.sock", longdir);
	assert_true(strlen(longp) > 108);
	const char *paths[] = { shortp, longp };
	for (size_t i = 0; i < 2; i++) {
		int l = listen_at(paths[i]);
		int c = -1;
		assert_int_equal(terminal_connect(paths[i], &c, &e), 0);
		int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		assert_true(a >= 0);
		assert_int_equal(terminal_send_fd(c, 0, "stdin", &e), 0);
		int got = -1;
		assert_int_equal(terminal_recv_fd(a, &got, &e), 0);
		close(got);
		close(a);
		close(c);
		close(l);
	}
	int c = -1;
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/missing.sock", tmpl);
	assert_int_equal(terminal_connect(missing, &c, &e), -ENOENT);
	assert_non_null(strstr(e.msg, missing));
	assert_int_equal(sn_rm_rf(tmpl, &e), 0);
}

/* --- terminal_setup */

static void __attribute__((noreturn)) setup_child(int sock)
{
	alarm(20);
	struct sn_err e = { 0 };
	/* What the container has after pivot: its own devpts and ptmx. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0 ||
	    mount("/dev/pts/ptmx", "/dev/ptmx", NULL, MS_BIND, NULL) < 0)
		_exit(10);
	if (terminal_setup(sock, true, 30, 100, &e) < 0) {
		dprintf(sock, "setup failed: %s", e.msg);
		_exit(11);
	}
	close(sock);
	struct winsize ws = { 0 };
	struct stat a, b;
	const char *why = NULL;
	if (!isatty(0) || !isatty(1) || !isatty(2))
		why = "stdio is not a tty";
	else if (ioctl(0, TIOCGWINSZ, &ws) < 0 || ws.ws_row != 30 || ws.ws_col != 100)
		why = "window size not 30x100";
	else if (getsid(0) != getpid() || tcgetsid(0) != getpid())
		why = "the pty is not our controlling terminal";
	else if (fstat(0, &a) < 0 || stat("/dev/console", &b) < 0 || a.st_rdev != b.st_rdev)
		why = "/dev/console is not the pty";
	if (why) {
		printf("FAIL: %s\n", why);
		fflush(stdout);
		_exit(12);
	}
	printf("tty-ok\n");
	fflush(stdout);
	char line[256];
	if (!fgets(line, sizeof(line), stdin))
		_exit(13);
	line[strcspn(line, "\r\n")] = '\0';
	printf("got:%s\n", line);
	fflush(stdout);
	_exit(0);
}

static void setup_sends_master_and_child_stdio_is_the_pty(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = test_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		setup_child(sv[1]);
	}
	close(sv[1]);
	char name[256];
	int master = recv_fd_and_name(sv[0], name, sizeof(name));
	if (master < 0) {
		print_error("no master received: %s\n", name);
		fail();
	}
	assert_true(strncmp(name, "/dev/pts/", 9) == 0);
	char buf[4096] = "";
	assert_true(read_until(master, "tty-ok", buf, sizeof(buf), 10000) || (print_error("%s\n", buf), 0));
	write_str(master, "hello\n");
	assert_true(read_until(master, "got:hello", buf, sizeof(buf), 10000) || (print_error("%s\n", buf), 0));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(master);
	close(sv[0]);
}

/* --- terminal_relay */

static void open_pty(int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(*master >= 0);
	assert_int_equal(grantpt(*master), 0);
	assert_int_equal(unlockpt(*master), 0);
	*slave = open(ptsname(*master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(*slave >= 0);
}

/* The "container": answers each line on its pty; "size" reports the
 * window size; ends at EOF. */
static void __attribute__((noreturn)) echo_container(int slave)
{
	alarm(20);
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		_exit(20);
	dup2(slave, 0);
	dup2(slave, 1);
	char line[256];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "size") == 0) {
			struct winsize ws = { 0 };
			ioctl(0, TIOCGWINSZ, &ws);
			printf("size:%ux%u\n", ws.ws_row, ws.ws_col);
		} else {
			printf("echo:%s\n", line);
		}
		fflush(stdout);
	}
	printf("eof\n");
	fflush(stdout);
	_exit(0);
}

static void relay_copies_both_ways_until_hangup(void **state)
{
	int master, slave, in[2], out[2];
	open_pty(&master, &slave);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid_t ct = test_fork();
	assert_true(ct >= 0);
	if (ct == 0) {
		close(master);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		echo_container(slave);
	}
	close(slave);
	pid_t relay = test_fork();
	assert_true(relay >= 0);
	if (relay == 0) {
		alarm(20);
		close(in[1]);  /* or our stdin would never end */
		close(out[0]);
		dup2(in[0], 0);
		dup2(out[1], 1);
		struct sn_err e = { 0 };
		_exit(terminal_relay(master, &e) == 0 ? 0 : 1);
	}
	close(master);
	close(in[0]);
	close(out[1]);
	char buf[4096] = "";
	write_str(in[1], "ping\n");
	assert_true(read_until(out[0], "echo:ping", buf, sizeof(buf), 10000) || (print_error("%s\n", buf), 0));
	close(in[1]);  /* our EOF becomes the pty's EOF character */
	assert_true(read_until(out[0], "eof", buf, sizeof(buf), 10000) || (print_error("%s\n", buf), 0));
	int st;
	assert_int_equal(waitpid(ct, &st, 0), ct);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(waitpid(relay, &st, 0), relay);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);  /* ended on hang-up */
	close(out[0]);
}

static void relay_on_a_tty_goes_raw_forwards_sigwinch_and_restores(void **state)
{
	int master, slave, omaster, oslave;
	open_pty(&master, &slave);   /* the container's pty */
	open_pty(&omaster, &oslave); /* the user's terminal */
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	assert_int_equal(ioctl(omaster, TIOCSWINSZ, &ws), 0);
	pid_t ct = test_fork();
	assert_true(ct >= 0);
	if (ct == 0) {
		close(master);
		close(omaster);
		close(oslave);
		echo_container(slave);
	}
	close(slave);
	pid_t relay = test_fork();
	assert_true(relay >= 0);
	if (relay == 0) {
		alarm(20);
		close(omaster);
		/* The relay runs in the user's session: SIGWINCH comes to it. */
		if (setsid() < 0 || ioctl(oslave, TIOCSCTTY, 0) < 0)
			_exit(30);
		dup2(oslave, 0);
		dup2(oslave, 1);
		struct termios before, after;
		tcgetattr(0, &before);
		struct sn_err e = { 0 };
		int r = terminal_relay(master, &e);
		tcgetattr(0, &after);
		if (r < 0)
			_exit(31);
		if (memcmp(&before.c_lflag, &after.c_lflag, sizeof(before.c_lflag)) != 0 ||
		    memcmp(&before.c_iflag, &after.c_iflag, sizeof(before.c_iflag)) != 0)
			_exit(32);  /* not restored */
		_exit(0);
	}
	close(master);
	close(oslave);
	char buf[8192] = "";
	write_str(omaster, "size\n");
	assert_true(read_until(omaster, "size:24x80", buf, sizeof(buf), 10000) || (print_error("%s\n", buf), 0));
	/* Raw mode: the user's terminal no longer echoes on its own, so the
	 * only "size" we saw came back through the container's pty. */
	struct termios t;
	int oslave2 = open(ptsname(omaster), O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(oslave2 >= 0);
	assert_int_equal(tcgetattr(oslave2, &t), 0);
	assert_false(t.c_lflag & (ICANON | ECHO));
	close(oslave2);
	ws.ws_row = 50;
	ws.ws_col = 132;
	assert_int_equal(ioctl(omaster, TIOCSWINSZ, &ws), 0);  /* SIGWINCH to the relay */
	buf[0] = '\0';
	bool ok = false;
	for (int i = 0; i < 50 && !ok; i++) {
		usleep(100000);
		write_str(omaster, "size\n");
		ok = read_until(omaster, "size:50x132", buf, sizeof(buf), 300);
	}
	if (!ok)
		print_error("%s\n", buf);
	assert_true(ok);
	write_str(omaster, "\x04");  /* ^D: the container sees EOF and exits */
	int st;
	assert_int_equal(waitpid(ct, &st, 0), ct);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(waitpid(relay, &st, 0), relay);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		print_error("relay status %#x\n", st);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(omaster);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(send_recv_fd_round_trip_passes_a_working_fd),
		cmocka_unit_test(recv_fd_refuses_message_without_fd_and_closed_socket),
		cmocka_unit_test(connect_reaches_console_socket_even_past_sun_path_length),
		cmocka_unit_test(setup_sends_master_and_child_stdio_is_the_pty),
		cmocka_unit_test(relay_copies_both_ways_until_hangup),
		cmocka_unit_test(relay_on_a_tty_goes_raw_forwards_sigwinch_and_restores),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
