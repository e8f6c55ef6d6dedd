/* terminal.c — the container's pty and the console socket (see terminal.h).
 *
 * Container side (terminal_setup, after pivot_root): open the container's
 * own /dev/ptmx (so the pty lives in the container's devpts and its slave
 * name is valid inside), unlock it, get the slave, size it, optionally bind
 * the slave onto /dev/console, send the master over the console socket with
 * the slave's name as payload (what runc sends and podman's conmon reads),
 * then become a session leader with the slave as controlling terminal and
 * stdin/stdout/stderr. The master is closed on our side once sent: from then
 * on only the receiver holds it.
 *
 * Receiver side: terminal_recv_fd, or terminal_relay for the foreground
 * case: the local tty goes raw, a poll loop copies stdin -> master and
 * master -> stdout, SIGWINCH (taken through a signalfd, so no handler and no
 * global state) copies our window size onto the master, and the loop ends
 * when the slave side is gone (EIO/HUP on the master), restoring the tty.
 *
 * Console socket paths longer than sun_path are reached through
 * /proc/self/fd/<dir fd>/<name>.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/rootfs_internal.h"
#include "runtime/terminal.h"
#include "base/fd.h"

#define TERMINAL_NAME_MAX 4096

int terminal_send_fd(int sock, int fd, const char *name, struct sn_err *err)
{
	const char *payload = name && *name ? name : "fd";
	int r = sn_fd_send(sock, fd, payload, strlen(payload), err);
	if (r < 0)
		sn_err_wrap(err, "send fd `%s` over the console socket", payload);
	return r;
}

int terminal_recv_fd(int sock, int *fd, struct sn_err *err)
{
	char name[TERMINAL_NAME_MAX];
	size_t n = 0;
	int r = sn_fd_recv(sock, fd, name, sizeof(name) - 1, &n, err);
	if (r < 0) {
		sn_err_wrap(err, "receive fd from the console socket");
		return r;
	}
	if (*fd >= 0)
		return 0;
	if (n == 0)
		return sn_err_msg(err, ECONNRESET, "receive fd: console socket closed");
	return sn_err_msg(err, EBADMSG, "receive fd: message carried no fd");
}

int terminal_connect(const char *path, int *sock, struct sn_err *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int dir = -1;
	if (strlen(path) < sizeof(addr.sun_path)) {
		memcpy(addr.sun_path, path, strlen(path) + 1);
	} else {
		/* Too long for sun_path: go through an fd on its directory. */
		_cleanup_free_ char *d1 = strdup(path), *d2 = strdup(path);
		if (!d1 || !d2)
			return sn_err_set(err, ENOMEM, "console socket `%s`", path);
		dir = open(dirname(d1), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return sn_err_sys(err, "open directory of console socket `%s`", path);
		int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s",
				 dir, basename(d2));
		if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
			return sn_err_msg(err, ENAMETOOLONG, "console socket `%s`: name too long", path);
	}
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return sn_err_sys(err, "socket for console socket `%s`", path);
	int r;
	r = SN_RETRY_EINTR(connect(s, (struct sockaddr *)&addr, sizeof(addr)));
	if (r < 0)
		return sn_err_sys(err, "connect to console socket `%s`", path);
	*sock = steal_fd(s);
	return 0;
}

/* Bind the slave onto /dev/console, resolved inside "/" (the container's
 * root by now) and created if missing. */
static int mount_console(const char *slave_name, struct sn_err *err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return sn_err_sys(err, "open `/`");
	_cleanup_close_ int fd = -1;
	int r = rfs_resolve(root, "/dev/console", RFS_CREATE_FILE, &fd, err);
	if (r < 0)
		return r;
	r = rfs_mount_on_fd(slave_name, fd, NULL, MS_BIND, NULL);
	if (r < 0)
		return sn_err_set(err, -r, "bind `%s` onto `/dev/console`", slave_name);
	return 0;
}

int terminal_setup(int sock, bool mount_console_, uint32_t rows, uint32_t cols,
		   struct sn_err *err)
{
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return sn_err_sys(err, "open `/dev/ptmx`");
	if (unlockpt(master) < 0)
		return sn_err_sys(err, "unlockpt");
	char name[TERMINAL_NAME_MAX];
	int r = ptsname_r(master, name, sizeof(name));
	if (r != 0)
		return sn_err_set(err, r, "ptsname");
	/* TIOCGPTPEER opens the slave from the master itself, no path lookup
	 * that a container could redirect; fall back to the name. */
	_cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			return sn_err_sys(err, "open pty slave `%s`", name);
	}
	if (rows && cols) {
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return sn_err_sys(err, "set window size %ux%u of `%s`", rows, cols, name);
	}
	if (mount_console_) {
		r = mount_console(name, err);
		if (r < 0)
			return r;
	}
	r = terminal_send_fd(sock, master, name, err);
	if (r < 0)
		return r;
	if ((r = terminal_new_session(err)) < 0)
		return r;
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return sn_err_sys(err, "make `%s` the controlling terminal", name);
	for (int i = 0; i <= 2; i++)
		if (dup2(slave, i) < 0)
			return sn_err_sys(err, "dup2 `%s` to fd %d", name, i);
	if (slave <= 2)
		slave = -1;  /* it is one of our stdio fds now: keep it open */
	return 0;
}

int terminal_new_session(struct sn_err *err)
{
	if (setsid() < 0 && getsid(0) != getpid())
		return sn_err_sys(err, "setsid");
	return 0;
}

/* ------------------------------------------------------------ relay */

static void copy_winsize(int from, int to)
{
	struct winsize ws;
	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(to, TIOCSWINSZ, &ws);  /* best effort: a size is cosmetic */
}

static int relay_loop(int master, bool tty, int sfd, struct sn_err *err)
{
	char buf[16384];
	bool in_open = true;
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = master, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return sn_err_sys(err, "poll the terminal");
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) > 0 && tty)
				copy_winsize(STDIN_FILENO, master);
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			/* EIO: every slave fd is closed — the container is done. */
			if (n == 0 || (n < 0 && errno == EIO))
				return 0;
			if (n < 0)
				return sn_err_sys(err, "read the pty master");
			int r = sn_write_all(STDOUT_FILENO, buf, (size_t)n);
			if (r < 0)
				return sn_err_set(err, -r, "write pty output to stdout");
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* Our input ended: tell the pty with an EOF character
				 * (a pipe has no ^D of its own) and stop reading. */
				in_open = false;
				if (!tty) {
					struct termios t;
					char eof = 4;
					if (tcgetattr(master, &t) == 0)
						eof = (char)t.c_cc[VEOF];
					(void)sn_write_all(master, &eof, 1);
				}
				continue;
			}
			int r = sn_write_all(master, buf, (size_t)n);
			if (r < 0 && r != -EIO)
				return sn_err_set(err, -r, "write input to the pty master");
		}
	}
}

int terminal_relay(int master, struct sn_err *err)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios saved;
	if (tty) {
		if (tcgetattr(STDIN_FILENO, &saved) < 0)
			return sn_err_sys(err, "read terminal settings of stdin");
		struct termios raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
			return sn_err_sys(err, "put stdin in raw mode");
		copy_winsize(STDIN_FILENO, master);
	}
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	int r = 0;
	if (sigprocmask(SIG_BLOCK, &mask, &old) < 0) {
		r = sn_err_sys(err, "block SIGWINCH");
	} else {
		_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
		if (sfd < 0)
			r = sn_err_sys(err, "signalfd for SIGWINCH");
		else
			r = relay_loop(master, tty, sfd, err);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	if (tty && tcsetattr(STDIN_FILENO, TCSANOW, &saved) < 0 && r == 0)
		r = sn_err_sys(err, "restore terminal settings of stdin");
	return r;
}
