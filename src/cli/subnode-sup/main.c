/* subnode-sup — the supervisor of one subnode (what conmon is to podman and
 * containerd-shim to containerd), kept tiny: libc only (linked statically
 * against musl, see the Makefile: glibc-only extensions stay out), no heap,
 * large buffers zero-initialised so they stay in .bss and cost nothing until
 * used, a poll loop over signalfd + the container's two output pipes + a
 * timerfd.
 *
 * subnoded starts it detached (its own session, reparented to init), so it
 * outlives a daemon restart. It:
 *   1. takes DIR/sup.lock (flock; the daemon tests liveness with it),
 *   2. becomes a child subreaper, runs `RUNTIME create` with the container's
 *      stdout/stderr on two pipes it keeps, then `RUNTIME start`,
 *   3. writes every line the container prints to DIR/container.log in the
 *      CRI format (`<RFC3339Nano> stdout|stderr F|P <text>`): timestamps and
 *      streams kept apart in one ordered file, rotated at --log-max-size
 *      into container.log.1..N (--log-max-files),
 *   4. reaps the container's init, records the exit status in DIR/status
 *      (key=value lines, replaced atomically) and runs `RUNTIME delete`,
 *   5. applies the restart policy with exponential back-off (100 ms doubling
 *      to 60 s; reset once the container stayed up 10 s) unless DIR/stop
 *      exists (the daemon's "stopped by a user" mark; SIGUSR1 makes us look
 *      again at once),
 *   6. tells the daemon after every change with a datagram holding the id on
 *      the daemon's notify socket (ignored when the daemon is down: the
 *      daemon reads every status file when it starts).
 * The first start's outcome goes to --sync-fd as "ok PID" or "error MSG" so
 * the daemon's start request can answer with the real error. Health checks
 * (--health-*) are in health.c; their state is part of the status file.
 */
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "base/fd.h"
#include "health.h"

#define LINE_MAX_LEN 16384
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 60000
#define BACKOFF_RESET_S 10

enum policy { P_NO, P_ON_FAILURE, P_ALWAYS, P_UNLESS_STOPPED };

static struct {
	const char *dir, *id, *bundle, *runtime, *runtime_root, *notify;
	enum policy policy;
	unsigned max_retries;
	unsigned long long log_max;
	unsigned log_files;
	int sync_fd;
	bool force_restart;     /* unhealthy with restart on: restart once, whatever the policy */
	const char *console;    /* --console-socket: the subnode has a terminal */
	const char *attach;     /* --attach-socket */
	int pty;                /* the terminal's master while it runs */
} o = { .pty = -1, .log_max = 10u << 20, .log_files = 3, .sync_fd = -1 };

static struct {
	const char *state;     /* starting running restarting exited */
	pid_t pid;
	int exit_code;
	unsigned restarts;
	long long started_at, finished_at; /* unix ns */
	char error[512];
	bool oom;
} st = { .state = "starting" };

/* The line buffers are apart from the initialised streams so that they
 * stay in .bss (untouched pages cost nothing; see attach.c). */
static char out_buf[LINE_MAX_LEN], err_buf[LINE_MAX_LEN];
struct stream {
	int fd;                 /* read end, -1 at EOF */
	const char *name;
	char *buf;              /* LINE_MAX_LEN bytes */
	size_t len;
};
static struct stream out_s = { .fd = -1, .name = "stdout", .buf = out_buf },
		     err_s = { .fd = -1, .name = "stderr", .buf = err_buf };
static int log_fd = -1;
static unsigned long long log_size;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void path_in_dir(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", o.dir, name);
}

/* ---- status file and notification */

static void write_status(void)
{
	char tmp[4096], path[4096], body[2048];
	path_in_dir(tmp, sizeof(tmp), "status.tmp");
	path_in_dir(path, sizeof(path), "status");
	int n = snprintf(body, sizeof(body),
			 "state=%s\npid=%d\nexit_code=%d\nrestart_count=%u\nstarted_at=%lld\n"
			 "finished_at=%lld\nsup_pid=%d\noom=%d\nerror=%s\nhealth=%s\nhealth_failing=%u\n"
			 "health_output=%s\nhealth_check_ms=%lld\n",
			 st.state, (int)st.pid, st.exit_code, st.restarts, st.started_at,
			 st.finished_at, (int)getpid(), st.oom, st.error, health_status(), health_failing(),
			 health_output(), health_last_check_ms());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	bool ok = write(fd, body, (size_t)n) == n;
	close(fd);
	if (ok && rename(tmp, path) < 0)
		unlink(tmp);
}

static void notify(void)
{
	if (!o.notify)
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", o.notify);
	/* The daemon may be down: a failure here is expected and harmless. */
	(void)sendto(fd, o.id, strlen(o.id), 0, (struct sockaddr *)&a, sizeof(a));
	close(fd);
}

static void publish(void)
{
	write_status();
	notify();
}

static void sync_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sync_reply(const char *fmt, ...)
{
	if (o.sync_fd < 0)
		return;
	char b[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(b) - 1)
		n = (int)sizeof(b) - 1;
	(void)!write(o.sync_fd, b, (size_t)n);
	close(o.sync_fd);
	o.sync_fd = -1;
}

/* ---- the log file */

static void log_open(void)
{
	char p[4096];
	path_in_dir(p, sizeof(p), "container.log");
	log_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	struct stat sb;
	log_size = log_fd >= 0 && fstat(log_fd, &sb) == 0 ? (unsigned long long)sb.st_size : 0;
}

static void log_rotate(void)
{
	char a[4096], b[4096];
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	if (o.log_files == 0) {
		path_in_dir(a, sizeof(a), "container.log");
		(void)truncate(a, 0);
	} else {
		for (unsigned i = o.log_files; i >= 1; i--) {
			char na[64], nb[64];
			if (i == 1)
				snprintf(na, sizeof(na), "container.log");
			else
				snprintf(na, sizeof(na), "container.log.%u", i - 1);
			snprintf(nb, sizeof(nb), "container.log.%u", i);
			path_in_dir(a, sizeof(a), na);
			path_in_dir(b, sizeof(b), nb);
			(void)rename(a, b);
		}
	}
	log_open();
}

static void log_line(const char *stream, const char *text, size_t len, bool partial)
{
	char ts[64];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t tn = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + tn, sizeof(ts) - tn, ".%09ldZ %s %c ", now.tv_nsec, stream, partial ? 'P' : 'F');
	size_t hl = strlen(ts);
	if (log_fd >= 0 && log_size + hl + len + 1 > o.log_max && log_size > 0)
		log_rotate();
	if (log_fd < 0)
		return;
	struct iovec iov[3] = { { ts, hl }, { (void *)text, len }, { "\n", 1 } };
	ssize_t w = writev(log_fd, iov, 3);
	if (w > 0)
		log_size += (unsigned long long)w;
}

/* Read what is there; emit complete lines; flush a full buffer as partial. */
static void stream_read(struct stream *s, bool at_end)
{
	for (;;) {
		ssize_t n = read(s->fd, s->buf + s->len, LINE_MAX_LEN - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
				if (s->len)
					log_line(s->name, s->buf, s->len, false);
				s->len = 0;
				close(s->fd);
				s->fd = -1;
			}
			return;
		}
		if (s == &out_s && o.pty >= 0)
			attach_output(s->buf + s->len, (size_t)n);
		s->len += (size_t)n;
		char *start = s->buf, *nl;
		while ((nl = memchr(start, '\n', s->len - (size_t)(start - s->buf)))) {
			log_line(s->name, start, (size_t)(nl - start), false);
			start = nl + 1;
		}
		size_t rest = s->len - (size_t)(start - s->buf);
		memmove(s->buf, start, rest);
		s->len = rest;
		if (s->len == LINE_MAX_LEN) {
			log_line(s->name, s->buf, s->len, true);
			s->len = 0;
		}
		if (!at_end)
			return;
	}
}

/* ---- running the runtime */

static pid_t spawn(char *const argv[], int out_fd, int err_fd)
{
	pid_t p = fork();
	if (p != 0)
		return p;
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	int nul = open("/dev/null", O_RDWR);
	if (nul < 0)
		_exit(126);
	if (dup2(nul, 0) < 0 || dup2(out_fd >= 0 ? out_fd : nul, 1) < 0 ||
	    dup2(err_fd >= 0 ? err_fd : nul, 2) < 0)
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

static int wait_for(pid_t p)
{
	int status;
	while (waitpid(p, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Last "msg" of a JSON-lines runtime log, for error messages. */
static void runtime_error(char *out, size_t n)
{
	char p[4096];
	path_in_dir(p, sizeof(p), "runtime.log");
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	snprintf(out, n, "runtime failed (see %s)", p);
	if (fd < 0)
		return;
	static char buf[8192];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (r <= 0)
		return;
	buf[r] = '\0';
	char *m = NULL, *s = buf;
	while ((s = strstr(s, "\"msg\":\""))) {
		m = s + 7;
		s = m;
	}
	if (!m)
		return;
	size_t i = 0;
	for (char *c = m; *c && *c != '"' && i + 1 < n; c++)
		out[i++] = *c == '\\' && c[1] ? *++c : *c;
	out[i] = '\0';
}

static int runtime_cmd(const char *cmd, const char *arg)
{
	char logp[4096];
	path_in_dir(logp, sizeof(logp), "runtime.log");
	char *argv[16];
	int i = 0;
	argv[i++] = (char *)o.runtime;
	argv[i++] = "--root";
	argv[i++] = (char *)o.runtime_root;
	argv[i++] = "--log";
	argv[i++] = logp;
	argv[i++] = "--log-format";
	argv[i++] = "json";
	argv[i++] = (char *)cmd;
	if (arg)
		argv[i++] = (char *)arg;
	argv[i++] = (char *)o.id;
	argv[i] = NULL;
	pid_t p = spawn(argv, -1, -1);
	return p < 0 ? -1 : wait_for(p);
}

/* Bring `lo` up in the container's network namespace, as the CNI loopback
 * plugin does for podman (some runtimes leave a new netns' lo down). Only
 * when the container has a netns of its own: the host's is not ours. */
static void loopback_up(pid_t pid)
{
	char p[64];
	struct stat a, b;
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	if (stat(p, &a) < 0 || stat("/proc/self/ns/net", &b) < 0 || a.st_ino == b.st_ino)
		return;
	pid_t c = fork();
	if (c == 0) {
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(1);
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct ifreq ifr = { 0 };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			_exit(1);
		if (!(ifr.ifr_flags & IFF_UP)) {
			ifr.ifr_flags |= IFF_UP;
			if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
				_exit(1);
		}
		_exit(0);
	}
	if (c > 0)
		wait_for(c);
}

/* The terminal's master, sent by the runtime on the console socket during
 * `create` (the OCI console-socket protocol). */
static int console_listen(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(o.console) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, o.console);
	unlink(o.console);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int console_receive(int lfd)
{
	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	if (poll(&pf, 1, 5000) <= 0)
		return -1;
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return -1;
	char buf[256];
	int fd = -1;
	if (sn_fd_recv(c, &fd, buf, sizeof(buf), NULL, NULL) < 0)
		fd = -1;
	close(c);
	return fd;
}

/* runtime create + start; on success st.pid is the container's init. */
static int container_start(char *msg, size_t msgn)
{
	runtime_cmd("delete", "--force");   /* leftovers of a crash: fine when absent */
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0)
		return snprintf(msg, msgn, "pipe: %s", strerror(errno)), -1;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]); close(po[1]);
		return snprintf(msg, msgn, "pipe: %s", strerror(errno)), -1;
	}
	char logp[4096], pidp[4096];
	path_in_dir(logp, sizeof(logp), "runtime.log");
	path_in_dir(pidp, sizeof(pidp), "init.pid");
	unlink(pidp);
	char *argv[] = { (char *)o.runtime, "--root", (char *)o.runtime_root, "--log", logp,
			 "--log-format", "json", "create", "--bundle", (char *)o.bundle,
			 "--pid-file", pidp, NULL, NULL, NULL };
	int clfd = -1;
	if (o.console) {
		clfd = console_listen();
		argv[12] = "--console-socket";
		argv[13] = (char *)o.console;
		argv[14] = (char *)o.id;
	} else {
		argv[12] = (char *)o.id;
	}
	pid_t p = spawn(argv, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	int rc = p < 0 ? -1 : wait_for(p);
	out_s.fd = po[0];
	err_s.fd = pe[0];
	if (o.console) {
		int master = rc == 0 && clfd >= 0 ? console_receive(clfd) : -1;
		if (clfd >= 0)
			close(clfd);
		unlink(o.console);
		if (master < 0 && rc == 0) {
			runtime_cmd("delete", "--force");
			close(po[0]);
			close(pe[0]);
			out_s.fd = err_s.fd = -1;
			return snprintf(msg, msgn, "the runtime sent no terminal"), -1;
		}
		if (master >= 0) {
			/* the terminal is the subnode's stdout (its log's "stdout") */
			close(po[0]);
			out_s.fd = dup(master);
			o.pty = master;
			attach_set_pty(master);
		}
	}
	/* Not fatal: a blocking read only delays the other stream. */
	sn_fd_set_nonblock(out_s.fd, true, NULL);
	sn_fd_set_nonblock(err_s.fd, true, NULL);
	char pidbuf[32] = "";
	int fd = rc == 0 ? open(pidp, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		ssize_t n = read(fd, pidbuf, sizeof(pidbuf) - 1);
		pidbuf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	st.pid = (pid_t)atoi(pidbuf);
	if (rc == 0 && st.pid > 0)
		loopback_up(st.pid);
	if (rc != 0 || st.pid <= 0 || runtime_cmd("start", NULL) != 0) {
		runtime_error(msg, msgn);
		runtime_cmd("delete", "--force");
		st.pid = 0;
		return -1;
	}
	return 0;
}

/* `RUNTIME kill ID SIG`, not waited for here (the reaper collects it). */
static void kill_container(int sig)
{
	char logp[4096], sigs[16];
	path_in_dir(logp, sizeof(logp), "runtime.log");
	snprintf(sigs, sizeof(sigs), "%d", sig);
	char *argv[] = { (char *)o.runtime, "--root", (char *)o.runtime_root, "--log", logp,
			 "--log-format", "json", "kill", (char *)o.id, sigs, NULL };
	spawn(argv, -1, -1);
}

static bool stop_requested(void)
{
	char p[4096];
	path_in_dir(p, sizeof(p), "stop");
	return access(p, F_OK) == 0;
}

static bool should_restart(int code)
{
	if (stop_requested())
		return false;
	if (o.force_restart) {
		o.force_restart = false;
		return true;
	}
	switch (o.policy) {
	case P_NO: return false;
	case P_ON_FAILURE: return code != 0 && (o.max_retries == 0 || st.restarts < o.max_retries);
	default: return true;
	}
}

static int parse_policy(const char *s)
{
	if (strcmp(s, "no") == 0) o.policy = P_NO;
	else if (strcmp(s, "always") == 0) o.policy = P_ALWAYS;
	else if (strcmp(s, "unless-stopped") == 0) o.policy = P_UNLESS_STOPPED;
	else if (strncmp(s, "on-failure", 10) == 0 && (s[10] == '\0' || s[10] == ':')) {
		o.policy = P_ON_FAILURE;
		o.max_retries = s[10] ? (unsigned)strtoul(s + 11, NULL, 10) : 0;
	} else
		return -1;
	return 0;
}

static void arm_timer(int tfd, unsigned ms)
{
	struct itimerspec it = { .it_value = { ms / 1000, (long)(ms % 1000) * 1000000L } };
	timerfd_settime(tfd, 0, &it, NULL);
}

/* The container's init is gone: drain its output, clean the runtime state,
 * record the status. */
static void container_exited(int code)
{
	struct pollfd pf[2];
	for (int round = 0; round < 20 && (out_s.fd >= 0 || err_s.fd >= 0); round++) {
		pf[0] = (struct pollfd){ .fd = out_s.fd, .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = err_s.fd, .events = POLLIN };
		if (poll(pf, 2, 100) <= 0)
			continue;
		if (out_s.fd >= 0 && pf[0].revents)
			stream_read(&out_s, true);
		if (err_s.fd >= 0 && pf[1].revents)
			stream_read(&err_s, true);
	}
	health_stopped();
	runtime_cmd("delete", "--force");
	for (struct stream *s = &out_s; s; s = s == &out_s ? &err_s : NULL)
		if (s->fd >= 0) {
			stream_read(s, true);
			if (s->fd >= 0) {
				close(s->fd);
				s->fd = -1;
			}
		}
	st.exit_code = code;
	st.finished_at = now_ns();
	st.pid = 0;
	if (o.pty >= 0) {
		attach_set_pty(-1);
		close(o.pty);
		o.pty = -1;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", 1, 0, 'd' }, { "id", 1, 0, 'i' }, { "bundle", 1, 0, 'b' },
		{ "runtime", 1, 0, 'r' }, { "runtime-root", 1, 0, 'R' }, { "restart", 1, 0, 'p' },
		{ "restart-count", 1, 0, 'c' }, { "log-max-size", 1, 0, 's' },
		{ "log-max-files", 1, 0, 'f' }, { "notify", 1, 0, 'n' }, { "sync-fd", 1, 0, 'y' },
		{ "health-kind", 1, 0, 'K' }, { "health-arg", 1, 0, 'A' }, { "health-interval-ms", 1, 0, 'I' },
		{ "health-timeout-ms", 1, 0, 'T' }, { "health-retries", 1, 0, 'N' },
		{ "health-start-ms", 1, 0, 'S' }, { "health-restart", 0, 0, 'X' },
		{ "console-socket", 1, 0, 'C' }, { "attach-socket", 1, 0, 'a' },
		{ 0, 0, 0, 0 } };
	struct health_opts hopt = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'i': o.id = optarg; break;
		case 'b': o.bundle = optarg; break;
		case 'r': o.runtime = optarg; break;
		case 'R': o.runtime_root = optarg; break;
		case 'p':
			if (parse_policy(optarg) < 0) {
				fprintf(stderr, "subnode-sup: bad restart policy `%s`\n", optarg);
				return 2;
			}
			break;
		case 'c': st.restarts = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': o.log_max = strtoull(optarg, NULL, 10); break;
		case 'f': o.log_files = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': o.notify = optarg; break;
		case 'y': o.sync_fd = atoi(optarg); break;
		case 'K':
			hopt.kind = strcmp(optarg, "CMD") == 0 ? HEALTH_CMD : strcmp(optarg, "CMD-SHELL") == 0
				? HEALTH_SHELL : strcmp(optarg, "HTTP") == 0 ? HEALTH_HTTP
				: strcmp(optarg, "TCP") == 0 ? HEALTH_TCP : HEALTH_NONE;
			break;
		case 'A':
			if (hopt.argc < 63)
				hopt.argv[hopt.argc++] = optarg;
			break;
		case 'I': hopt.interval_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': hopt.timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'N': hopt.retries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S': hopt.start_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'X': hopt.restart = true; break;
		case 'C': o.console = optarg; break;
		case 'a': o.attach = optarg; break;
		default: return 2;
		}
	}
	if (!o.dir || !o.id || !o.bundle || !o.runtime || !o.runtime_root) {
		fprintf(stderr, "usage: subnode-sup --dir D --id ID --bundle B --runtime R "
				"--runtime-root RR [--restart P] [--restart-count N] [--log-max-size N] "
				"[--log-max-files N] [--notify SOCK] [--sync-fd FD]\n");
		return 2;
	}
	if (o.sync_fd >= 0)
		fcntl(o.sync_fd, F_SETFD, FD_CLOEXEC);
	char p[4096];
	path_in_dir(p, sizeof(p), "sup.lock");
	int lock = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		sync_reply("error supervisor lock `%s`: %s", p, strerror(errno));
		return 1;
	}
	char pidtxt[32];
	int pl = snprintf(pidtxt, sizeof(pidtxt), "%d\n", (int)getpid());
	(void)!ftruncate(lock, 0);
	(void)!pwrite(lock, pidtxt, (size_t)pl, 0);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		sync_reply("error supervisor setup: %s", strerror(errno));
		return 1;
	}
	log_open();
	if (hopt.kind != HEALTH_NONE && hopt.argc == 0)
		hopt.kind = HEALTH_NONE;
	int hfd = health_init(&hopt, o.runtime, o.runtime_root, o.id);
	int afd = o.console && o.attach ? attach_init(o.attach) : -1;

	if (container_start(st.error, sizeof(st.error)) < 0) {
		st.state = "exited";
		st.exit_code = 127;
		st.finished_at = now_ns();
		publish();
		sync_reply("error %s", st.error);
		return 1;
	}
	st.state = "running";
	st.started_at = now_ns();
	st.error[0] = '\0';
	health_started(st.pid);
	publish();
	sync_reply("ok %d", (int)st.pid);

	unsigned backoff = BACKOFF_MIN_MS;
	bool waiting = false;   /* in back-off before a restart */
	for (;;) {
		struct pollfd pf[6 + ATTACH_MAX_CLIENTS] = { { .fd = sfd, .events = POLLIN },
					{ .fd = tfd, .events = POLLIN }, { .fd = out_s.fd, .events = POLLIN },
					{ .fd = err_s.fd, .events = POLLIN }, { .fd = hfd, .events = POLLIN },
					{ .fd = afd, .events = POLLIN } };
		attach_pollfds(pf + 6);
		if (poll(pf, 6 + ATTACH_MAX_CLIENTS, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pf[2].revents)
			stream_read(&out_s, false);
		if (pf[3].revents)
			stream_read(&err_s, false);
		if (pf[4].revents && health_on_timer())
			publish();
		if (pf[5].revents)
			attach_accept();
		for (int k = 0; k < ATTACH_MAX_CLIENTS; k++)
			if (pf[6 + k].fd >= 0 && pf[6 + k].revents)
				attach_ready(k);
		if (pf[0].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1 && waiting && stop_requested()) {
					st.state = "exited";
					publish();
					return 0;
				}
			}
			int status;
			pid_t w;
			while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
				bool hchanged = false;
				if (health_on_child(w, status, &hchanged)) {
					if (hchanged)
						publish();
					else
						write_status();   /* the check's duration, for metrics */
					if (health_take_restart() && st.pid > 0) {
						o.force_restart = true;
						kill_container(SIGKILL);
					}
					continue;
				}
				if (w != st.pid || st.pid == 0)
					continue;
				int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
				long long up_ns = now_ns() - st.started_at;
				container_exited(code);
				if (!should_restart(code)) {
					st.state = "exited";
					publish();
					return 0;
				}
				if (up_ns >= BACKOFF_RESET_S * 1000000000LL)
					backoff = BACKOFF_MIN_MS;
				st.state = "restarting";
				publish();
				arm_timer(tfd, backoff);
				waiting = true;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			}
		}
		if (pf[1].revents) {
			uint64_t ticks;
			(void)!read(tfd, &ticks, sizeof(ticks));
			if (!waiting)
				continue;
			waiting = false;
			if (stop_requested()) {
				st.state = "exited";
				publish();
				return 0;
			}
			st.restarts++;
			if (container_start(st.error, sizeof(st.error)) < 0) {
				container_exited(127);
				if (!should_restart(127)) {
					st.state = "exited";
					publish();
					return 0;
				}
				st.state = "restarting";
				publish();
				arm_timer(tfd, backoff);
				waiting = true;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			st.state = "running";
			st.started_at = now_ns();
			st.error[0] = '\0';
			health_started(st.pid);
			publish();
		}
	}
}
