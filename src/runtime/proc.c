/* proc.c — see proc.h. */
#include "runtime/proc.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* /proc/<pid>/stat: "pid (comm) S ppid ..." — comm may hold spaces and
 * parentheses, so parse from the last ')'. */
static int read_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return e == ESRCH ? -ESRCH : -e;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	if (state)
		*state = *p;
	/* fields after comm: 3=state ... 22=starttime -> 19 more spaces */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	if (start)
		*start = strtoull(p, NULL, 10);
	return 0;
}

int proc_start_time(pid_t pid, uint64_t *out, struct sn_err *err)
{
	int r = read_stat(pid, NULL, out);
	if (r < 0)
		return sn_err_set(err, -r, "read /proc/%d/stat", (int)pid);
	return 0;
}

int proc_state(pid_t pid, char *state)
{
	return read_stat(pid, state, NULL);
}

bool proc_is_alive(pid_t pid, uint64_t start_time)
{
	char st;
	uint64_t t;
	if (pid <= 0 || read_stat(pid, &st, &t) < 0)
		return false;
	if (st == 'Z' || st == 'X')
		return false;
	return start_time == 0 || t == start_time;
}

int proc_find_executable(const char *cmd, char *const *env, char **out,
			 struct sn_err *err)
{
	if (strchr(cmd, '/')) {
		if (access(cmd, X_OK) < 0)
			return sn_err_sys(err, "exec `%s`", cmd);
		*out = strdup(cmd);
		return *out ? 0 : sn_err_set(err, ENOMEM, "exec `%s`", cmd);
	}
	const char *path = NULL;
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int last = ENOENT;
	const char *p = path;
	while (*p) {
		const char *end = strchrnul(p, ':');
		char cand[4096];
		int n = snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - p), end == p ? "." : p, cmd);
		if (n > 0 && (size_t)n < sizeof(cand)) {
			struct stat st;
			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(cand, X_OK) == 0) {
					*out = strdup(cand);
					return *out ? 0 : sn_err_set(err, ENOMEM, "exec `%s`", cmd);
				}
				last = EACCES;
			}
		}
		p = *end ? end + 1 : end;
	}
	return sn_err_msg(err, last, "exec: \"%s\": executable file not found in $PATH", cmd);
}

int proc_wait_exit(pid_t pid, uint64_t start_time, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		if (!proc_is_alive(pid, start_time)) {
			close(pfd);
			return 0;
		}
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r;
		r = SN_RETRY_EINTR(poll(&p, 1, timeout_ms));
		close(pfd);
		if (r == 0)
			return proc_is_alive(pid, start_time) ? -ETIMEDOUT : 0;
		/* pidfd readable = exited; a zombie whose parent is slow still counts */
		return 0;
	}
	/* fallback: poll /proc */
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	for (int waited = 0; timeout_ms < 0 || waited < timeout_ms; waited += 10) {
		if (!proc_is_alive(pid, start_time))
			return 0;
		nanosleep(&ts, NULL);
	}
	return proc_is_alive(pid, start_time) ? -ETIMEDOUT : 0;
}

int proc_signal_from_name(const char *name)
{
	static const struct { const char *n; int s; } t[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
		{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS },
		{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
		{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
		{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
		{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
		{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
		{ "WINCH", SIGWINCH }, { "IO", SIGIO }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
	};
	unsigned long long n;
	if (sn_parse_u64(name, &n) == 0)
		return (n > 0 && n < 65) ? (int)n : -1;
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < SN_ARRAY_SIZE(t); i++)
		if (strcasecmp(name, t[i].n) == 0)
			return t[i].s;
	if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
		long long off = 0;
		const char *rest = name + 5;
		if (*rest && sn_parse_i64(rest, &off) < 0)
			return -1;
		int s = (strncasecmp(name, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX) + (int)off;
		return (s >= SIGRTMIN && s <= SIGRTMAX) ? s : -1;
	}
	return -1;
}
