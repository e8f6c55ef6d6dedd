/* health.c — the supervisor's health checks.
 *
 * One check at a time, driven by one timerfd: armed for the interval (or
 * the start period's first interval), then, while a check runs, for its
 * timeout. Kinds:
 *   CMD / CMD-SHELL  `RUNTIME exec ID ARGS` (CMD-SHELL: /bin/sh -c ARG);
 *                    exit 0 is healthy; its output (last 200 bytes) kept.
 *   HTTP "[host:]port[/path]"  a child joins the container's network
 *                    namespace (setns on /proc/<init>/ns/net), GETs the
 *                    path; a 2xx or 3xx status is healthy.
 *   TCP "[host:]port"  the same child, a connect is healthy.
 * States (Docker's): starting until the first success or until the start
 * period is over and `retries` checks in a row failed; healthy; unhealthy
 * after `retries` failures in a row. Failures inside the start period do
 * not count. With restart on, becoming unhealthy asks the supervisor to
 * kill the container, which then restarts (whatever the policy).
 */
#include "health.h"
#include "base/clock.h"
#include "base/fd.h"
#include "base/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct health_opts ho;
static const char *rt, *rt_root, *cid;
static int tfd = -1;
static pid_t init_pid, check_pid;
static int out_fd = -1;
static const char *status = "";
static unsigned failing;
static char output[256];
static long long start_deadline_ms;
static bool restart_pending;
static long long check_started_ms, last_check_ms = -1;

static void arm(unsigned ms)
{
	struct itimerspec it = { .it_value = { ms / 1000, (long)(ms % 1000) * 1000000L } };
	if (ms == 0)
		it.it_value.tv_nsec = 1;
	timerfd_settime(tfd, 0, &it, NULL);
}

static void disarm(void)
{
	struct itimerspec it = { 0 };
	timerfd_settime(tfd, 0, &it, NULL);
}

int health_init(const struct health_opts *o, const char *runtime, const char *runtime_root,
		const char *id)
{
	ho = *o;
	rt = runtime;
	rt_root = runtime_root;
	cid = id;
	if (ho.kind == HEALTH_NONE)
		return -1;
	if (!ho.interval_ms) ho.interval_ms = 30000;
	if (!ho.timeout_ms) ho.timeout_ms = 30000;
	if (!ho.retries) ho.retries = 3;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return tfd;
}

void health_started(pid_t pid)
{
	if (tfd < 0)
		return;
	init_pid = pid;
	status = "starting";
	failing = 0;
	output[0] = '\0';
	start_deadline_ms = sn_now_ms() + ho.start_ms;
	arm(ho.interval_ms);
}

void health_stopped(void)
{
	if (tfd < 0)
		return;
	disarm();
	if (check_pid > 0)
		kill(check_pid, SIGKILL);   /* reaped by the main loop */
	init_pid = 0;
}

/* In the check child: join the netns, connect, maybe GET. Exit status is
 * the result; a short reason goes to stdout. */
static void net_check(void)
{
	char ns[64];
	snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)init_pid);
	int fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		printf("join the network namespace: %s\n", strerror(errno));
		_exit(2);
	}
	struct sockaddr_in a;
	const char *path;
	if (sn_parse_inet_target(ho.argv[0], &a, &path) < 0) {
		printf("bad target `%s`\n", ho.argv[0]);
		_exit(2);
	}
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("connect %s: %s\n", ho.argv[0], strerror(errno));
		_exit(1);
	}
	if (ho.kind == HEALTH_TCP)
		_exit(0);
	char req[512];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\nUser-Agent: subnode-health\r\n\r\n", path);
	if (write(s, req, (size_t)n) != n) {
		printf("send: %s\n", strerror(errno));
		_exit(1);
	}
	char resp[64] = "";
	ssize_t r = read(s, resp, sizeof(resp) - 1);
	resp[r > 0 ? r : 0] = '\0';
	int code = 0;
	if (sscanf(resp, "HTTP/%*s %d", &code) != 1) {
		printf("no HTTP status in the answer\n");
		_exit(1);
	}
	printf("HTTP %d\n", code);
	_exit(code >= 200 && code < 400 ? 0 : 1);
}

static void spawn_check(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	check_pid = fork();
	if (check_pid < 0) {
		close(p[0]);
		close(p[1]);
		check_pid = 0;
		return;
	}
	if (check_pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(2);
		if (ho.kind == HEALTH_HTTP || ho.kind == HEALTH_TCP) {
			setvbuf(stdout, NULL, _IONBF, 0);
			net_check();
		}
		char *argv[80];
		unsigned i = 0;
		argv[i++] = (char *)rt;
		argv[i++] = "--root";
		argv[i++] = (char *)rt_root;
		argv[i++] = "exec";
		argv[i++] = (char *)cid;
		if (ho.kind == HEALTH_SHELL) {
			argv[i++] = "/bin/sh";
			argv[i++] = "-c";
		}
		for (unsigned k = 0; k < ho.argc && i < 78; k++)
			argv[i++] = ho.argv[k];
		argv[i] = NULL;
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	out_fd = p[0];
	sn_fd_set_nonblock(out_fd, true, NULL); /* not fatal: reads are poll-driven */
	check_started_ms = sn_now_ms();
	arm(ho.timeout_ms);
}

static bool set_status(const char *s)
{
	bool changed = strcmp(status, s) != 0;
	status = s;
	return changed;
}

/* Keep the output's last line-ish part, newlines as spaces. */
static void take_output(void)
{
	char buf[4096];
	size_t len = 0;
	ssize_t r;
	while (out_fd >= 0 && len < sizeof(buf) && (r = read(out_fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)r;
	if (out_fd >= 0)
		close(out_fd);
	out_fd = -1;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	size_t from = len > sizeof(output) - 1 ? len - (sizeof(output) - 1) : 0;
	size_t j = 0;
	for (size_t i = from; i < len; i++)
		output[j++] = buf[i] == '\n' || buf[i] == '\r' ? ' ' : buf[i];
	output[j] = '\0';
}

static bool result(bool ok)
{
	check_pid = 0;
	last_check_ms = sn_now_ms() - check_started_ms;
	bool changed;
	if (ok) {
		failing = 0;
		changed = set_status("healthy");
	} else if (sn_now_ms() < start_deadline_ms) {
		changed = false;   /* the start period: failures do not count */
	} else if (++failing >= ho.retries) {
		changed = set_status("unhealthy");
		if (changed && ho.restart)
			restart_pending = true;
	} else {
		changed = false;
	}
	if (init_pid)
		arm(ho.interval_ms);
	return changed;
}

bool health_on_timer(void)
{
	uint64_t ticks;
	if (read(tfd, &ticks, sizeof(ticks)) < 0 || !init_pid)
		return false;
	if (check_pid > 0) {
		kill(check_pid, SIGKILL);   /* timed out; the reap reports it */
		snprintf(output, sizeof(output), "timed out after %u ms", ho.timeout_ms);
		return false;
	}
	spawn_check();
	return false;
}

bool health_on_child(pid_t pid, int st, bool *changed)
{
	if (pid != check_pid || pid <= 0)
		return false;
	bool timed_out = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	if (!timed_out)
		take_output();
	else if (out_fd >= 0) {
		close(out_fd);
		out_fd = -1;
	}
	*changed = result(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return true;
}

const char *health_status(void) { return status; }
long long health_last_check_ms(void) { return last_check_ms; }
unsigned health_failing(void) { return failing; }
const char *health_output(void) { return output; }

bool health_take_restart(void)
{
	bool r = restart_pending;
	restart_pending = false;
	return r;
}
