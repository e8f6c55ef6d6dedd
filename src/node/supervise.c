/* supervise.c — the daemon's side of the per-subnode supervisors
 * (src/cli/subnode-sup): spawning one, telling whether one is alive, reading
 * its status file, and listening to its notifications.
 *
 * Liveness is the supervisor's flock on subnodes/<id>/sup.lock: the kernel
 * drops it when the process dies, so there is no pid to go stale. A
 * supervisor is spawned detached (a new session, and not our child) so it
 * survives us — by vfork-like clones rather than fork, since copying the
 * daemon's page tables for each start was a tenth of its CPU in a burst of
 * starts. Its first start's outcome comes back on a pipe ("ok PID" /
 * "error MSG"). Notifications are datagrams carrying the id on
 * notify.sock; one thread reads them and folds the status file into
 * the db (node_sync_status), emitting events on each change of state.
 */
#include "node/node.h"
#include "node/metrics.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

char *node_subnode_dir(struct node *n, const char *id, const char *file)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s%s%s", n->subnodes_dir, id, file ? "/" : "", file ? file : "") < 0)
		return NULL;
	return p;
}

void node_spawnattr_clean(posix_spawnattr_t *a)
{
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(a);
	posix_spawnattr_setsigmask(a, &none);
	posix_spawnattr_setsigdefault(a, &all);
	posix_spawnattr_setflags(a, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

int node_runtime(struct node *n, char **out, struct sn_err *err, ...)
{
	const char *argv[32];
	int i = 0;
	argv[i++] = n->runtime_path;
	argv[i++] = "--root";
	argv[i++] = n->runtime_root;
	va_list ap;
	va_start(ap, err);
	const char *a;
	while ((a = va_arg(ap, const char *)) && i < 30)
		argv[i++] = a;
	va_end(ap);
	argv[i] = NULL;
	int p[2] = { -1, -1 };
	if (pipe2(p, O_CLOEXEC) < 0)
		return sn_err_sys(err, "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	posix_spawnattr_t sa;
	node_spawnattr_clean(&sa);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, &sa, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		return sn_err_set(err, rc, "run `%s`", argv[0]);
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap += 8192);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t r = read(p[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(p[0]);
	if (buf)
		buf[len] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			free(buf);
			return sn_err_sys(err, "wait for `%s`", argv[0]);
		}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (code != 0) {
		while (len && (buf[len - 1] == '\n'))
			buf[--len] = '\0';
		sn_err_msg(err, EIO, "%s %s %s: %s", argv[0], argv[3], argv[i - 1],
			   buf && *buf ? buf : "failed");
	}
	if (out)
		*out = buf;
	else
		free(buf);
	return code;
}

int node_read_status(struct node *n, const char *id, json_t **out, struct sn_err *err)
{
	_cleanup_free_ char *p = node_subnode_dir(n, id, "status");
	_cleanup_free_ char *txt = NULL;
	size_t len;
	json_t *o = json_object();
	if (!p || !o) {
		json_decref(o);
		return sn_err_set(err, ENOMEM, "status");
	}
	int r = sn_read_file(p, 65536, &txt, &len, err);
	if (r == -ENOENT) {
		*out = o;
		return 0;
	}
	if (r < 0) {
		json_decref(o);
		return r;
	}
	char *save = NULL;
	for (char *l = strtok_r(txt, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');
		if (!eq)
			continue;
		*eq = '\0';
		long long v;
		if (strcmp(l, "state") == 0 || strcmp(l, "error") == 0 || strcmp(l, "health") == 0 ||
		    strcmp(l, "health_output") == 0)
			json_object_set_new(o, l, json_string(eq + 1));
		else if (sn_parse_i64(eq + 1, &v) == 0)
			json_object_set_new(o, l, json_integer(v));
	}
	*out = o;
	return 0;
}

bool node_supervisor_alive(struct node *n, const char *id, int *pid)
{
	_cleanup_free_ char *p = node_subnode_dir(n, id, "sup.lock");
	if (!p)
		return false;
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		return false;
	}
	if (pid) {
		char b[32] = "";
		ssize_t r = pread(fd, b, sizeof(b) - 1, 0);
		b[r > 0 ? r : 0] = '\0';
		*pid = atoi(b);
	}
	return errno == EWOULDBLOCK;
}

struct detach {
	const char *const *argv;
	int sync_fd;
};

/* The supervisor is started detached — a new session, and not our child,
 * so it outlives us and we never reap it — without copying the daemon's
 * address space: this runs in a child sharing our memory (clone with
 * CLONE_VM | CLONE_VFORK, as posix_spawn does), which starts a session
 * and vforks the supervisor's process, then exits. The grandchild execs
 * with stdin/out/err on /dev/null and the sync pipe as fd 3. Only system
 * calls here: the memory is the daemon's. */
static int detach_main(void *arg)
{
	const struct detach *d = arg;
	if (setsid() < 0)
		_exit(126);
	pid_t g = vfork();
	if (g != 0)
		_exit(g < 0 ? 126 : 0);
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 ||
	    dup2(d->sync_fd, 3) < 0)
		_exit(126);
	if (sn_fds_close_from(4, SN_FDS_CLOSE, NULL) < 0)
		_exit(126);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(d->argv[0], (char *const *)d->argv, environ);
	_exit(127);
}

int node_spawn_supervisor(struct node *n, json_t *row, struct sn_err *err)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	json_t *cfg = json_object_get(row, "config");
	_cleanup_free_ char *dir = node_subnode_dir(n, id, NULL);
	_cleanup_free_ char *bundle = node_subnode_dir(n, id, "bundle");
	if (!dir || !bundle)
		return sn_err_set(err, ENOMEM, "spawn supervisor");
	char count[32], lmax[32], lfiles[32];
	snprintf(count, sizeof(count), "%lld", (long long)json_integer_value(json_object_get(row, "restart_count")));
	snprintf(lmax, sizeof(lmax), "%llu", (unsigned long long)n->cfg.log_max_size);
	snprintf(lfiles, sizeof(lfiles), "%u", n->cfg.log_max_files);
	const char *policy = json_string_value(json_object_get(cfg, "Restart"));
	const char *argv[128] = { n->sup_path, "--dir", dir, "--id", id, "--bundle", bundle,
		"--runtime", n->runtime_path, "--runtime-root", n->runtime_root,
		"--restart", policy ? policy : "no", "--restart-count", count,
		"--log-max-size", lmax, "--log-max-files", lfiles, "--notify", n->notify_path,
		"--sync-fd", "3", NULL };
	/* Health check: Test[0] is the kind, the rest its arguments; times in
	 * ns in the API, ms for the supervisor. */
	json_t *hc = json_object_get(cfg, "Healthcheck");
	json_t *test = json_object_get(hc, "Test");
	const char *kind = json_string_value(json_array_get(test, 0));
	char hms[4][32];
	if (kind && strcmp(kind, "NONE") != 0 && json_array_size(test) > 1) {
		size_t k = 0;
		while (argv[k])
			k++;
		argv[k++] = "--health-kind";
		argv[k++] = kind;
		for (size_t t = 1; t < json_array_size(test) && k < 110; t++) {
			argv[k++] = "--health-arg";
			argv[k++] = json_string_value(json_array_get(test, t));
		}
		static const char *const keys[] = { "Interval", "Timeout", "StartPeriod", "Retries" };
		static const char *const flags[] = { "--health-interval-ms", "--health-timeout-ms",
						     "--health-start-ms", "--health-retries" };
		for (int t = 0; t < 4; t++) {
			json_int_t v = json_integer_value(json_object_get(hc, keys[t]));
			if (v <= 0)
				continue;
			snprintf(hms[t], sizeof(hms[t]), "%lld", (long long)(t < 3 ? v / 1000000 : v));
			argv[k++] = flags[t];
			argv[k++] = hms[t];
		}
		const char *on = json_string_value(json_object_get(hc, "OnUnhealthy"));
		if (on && strcmp(on, "restart") == 0)
			argv[k++] = "--health-restart";
		argv[k] = NULL;
	}
	_cleanup_free_ char *con = NULL, *att = NULL;
	if (json_is_true(json_object_get(cfg, "Tty"))) {
		con = node_tty_socket(n, id, "con");
		att = node_tty_socket(n, id, "att");
		if (!con || !att)
			return sn_err_set(err, ENOMEM, "spawn supervisor");
		size_t k = 0;
		while (argv[k])
			k++;
		argv[k++] = "--console-socket";
		argv[k++] = con;
		argv[k++] = "--attach-socket";
		argv[k++] = att;
		argv[k] = NULL;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sn_err_sys(err, "pipe");
	struct detach d = { .argv = argv, .sync_fd = p[1] };
	/* The child runs on a piece of this thread's stack: we are suspended
	 * until it has exited (CLONE_VFORK). */
	_Alignas(16) char stack[16384];
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t child = clone(detach_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &d);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return sn_err_set(err, e, "start the supervisor of `%s`", id);
	}
	close(p[1]);
	int status;
	SN_RETRY_EINTR(waitpid(child, &status, 0));
	char buf[1024];
	size_t len = 0;
	/* The supervisor answers after `runtime create` + `start`: allow a slow
	 * host plenty of time, but never hang a request forever. */
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	while (len < sizeof(buf) - 1) {
		int pr = poll(&pf, 1, 120000);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		ssize_t r = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(p[0]);
	buf[len] = '\0';
	if (strncmp(buf, "ok ", 3) == 0)
		return 0;
	if (strncmp(buf, "error ", 6) == 0)
		return sn_err_msg(err, EIO, "start `%s`: %s", id, buf + 6);
	return sn_err_msg(err, EIO, "start `%s`: the supervisor `%s` gave no answer", id, n->sup_path);
}

struct autoremove { struct node *n; char id[80]; };

static void *autoremove_main(void *arg)
{
	struct autoremove *a = arg;
	struct sn_err e = { 0 };
	/* busy (a stop or start still folding its status): try again shortly */
	for (int i = 0; i < 50; i++) {
		int r = node_remove(a->n, a->id, true, &e);
		if (r != -EBUSY)
			break;
		nanosleep(&(struct timespec){ 0, 100 * 1000000L }, NULL);
	}
	free(a);
	return NULL;
}

/* HostConfig.AutoRemove: remove the subnode once it has ended for good. */
static void autoremove(struct node *n, const char *id)
{
	struct autoremove *a = calloc(1, sizeof(*a));
	if (!a)
		return;
	a->n = n;
	snprintf(a->id, sizeof(a->id), "%s", id);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, autoremove_main, a) != 0)
		free(a);
	pthread_attr_destroy(&at);
}

static const char *status_to_state(const char *s)
{
	if (!s || !*s)
		return NULL;
	if (strcmp(s, "starting") == 0 || strcmp(s, "running") == 0)
		return "running";
	return s;  /* restarting, exited */
}

int node_sync_status(struct node *n, const char *id, struct sn_err *err)
{
	/* Read, compare and update under the node lock so that the notify
	 * thread and a request folding the same change emit its events once. */
	pthread_mutex_lock(&n->lock);
	_cleanup_json_ json_t *st = NULL, *row = NULL, *f = NULL;
	int r = node_read_status(n, id, &st, err);
	const char *state = r == 0 ? status_to_state(json_string_value(json_object_get(st, "state"))) : NULL;
	if (state)
		r = node_db_find(n->db, id, &row, err);
	if (r < 0 || !state) {
		pthread_mutex_unlock(&n->lock);
		return r == -ENOENT ? 0 : r;
	}
	const char *old = json_string_value(json_object_get(row, "state"));
	if (strcmp(old, "creating") == 0 || strcmp(old, "removing") == 0) {
		pthread_mutex_unlock(&n->lock);
		return 0;
	}
	json_int_t old_started = json_integer_value(json_object_get(row, "started_at"));
	json_int_t old_finished = json_integer_value(json_object_get(row, "finished_at"));
	json_int_t started = json_integer_value(json_object_get(st, "started_at"));
	json_int_t finished = json_integer_value(json_object_get(st, "finished_at"));
	f = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s}", "state", state,
		"exit_code", json_integer_value(json_object_get(st, "exit_code")),
		"restart_count", json_integer_value(json_object_get(st, "restart_count")),
		"started_at", started, "finished_at", finished,
		"error", json_string_value(json_object_get(st, "error")) ?: "");
	const char *health = json_string_value(json_object_get(st, "health"));
	const char *old_health = json_string_value(json_object_get(row, "health"));
	bool health_changed = health && strcmp(health, old_health ? old_health : "") != 0;
	if (f && health)
		json_object_set_new(f, "health", json_string(health));
	r = f ? node_db_update(n->db, id, f, err) : sn_err_set(err, ENOMEM, "status");
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	if (strcmp(state, "running") != 0)
		node_collect_forget(n, id);   /* its files are of a cgroup that went */
	json_t *cfg = json_object_get(row, "config");
	const char *name = json_string_value(json_object_get(row, "name"));
	const char *image = json_string_value(json_object_get(cfg, "Image"));
	if (started != old_started && started && (strcmp(state, "running") == 0 || finished >= started))
		node_event(n, "container", old_started ? "restart" : "start", id,
			   json_pack("{s:s, s:s}", "name", name, "image", image));
	if (health_changed && *health) {
		char action[64];
		snprintf(action, sizeof(action), "health_status: %s", health);
		node_event(n, "container", action, id, json_pack("{s:s, s:s}", "name", name, "image", image));
	}
	if (finished != old_finished && finished) {
		char code[16];
		snprintf(code, sizeof(code), "%lld", (long long)json_integer_value(json_object_get(st, "exit_code")));
		node_event(n, "container", "die", id, json_pack("{s:s, s:s, s:s}", "name", name,
			   "image", image, "exitCode", code));
		if (strcmp(state, "exited") == 0 && json_is_true(json_object_get(cfg, "AutoRemove")))
			autoremove(n, id);
	}
	return 0;
}

static void *notify_main(void *arg)
{
	struct node *n = arg;
	char buf[256];
	/* Wake every 2 s when idle to give freed heap back to the system: a
	 * burst of requests (128 creates) leaves it fragmented otherwise. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(n->notify_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	bool busy = false;
	for (;;) {
		ssize_t r = recv(n->notify_fd, buf, sizeof(buf) - 1, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (busy)
					malloc_trim(0);
				busy = false;
				continue;
			}
			break;
		}
		busy = true;
		buf[r] = '\0';
		if (r == 0 || strcmp(buf, "\x04quit") == 0)
			break;
		if (strspn(buf, "0123456789abcdef") != (size_t)r)
			continue;
		struct sn_err e = { 0 };
		if (node_sync_status(n, buf, &e) < 0)
			sn_warn("status of `%s`: %s", buf, e.msg);
	}
	return NULL;
}

int node_notify_start(struct node *n, struct sn_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(n->notify_path) >= sizeof(a.sun_path))
		return sn_err_msg(err, ENAMETOOLONG, "notify socket `%s`: path too long", n->notify_path);
	strcpy(a.sun_path, n->notify_path);
	unlink(n->notify_path);
	n->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->notify_fd < 0)
		return sn_err_sys(err, "socket");
	if (bind(n->notify_fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return sn_err_sys(err, "bind `%s`", n->notify_path);
	int rc = pthread_create(&n->notify_thread, NULL, notify_main, n);
	if (rc)
		return sn_err_set(err, rc, "notify thread");
	n->notify_running = true;
	return 0;
}

void node_notify_stop(struct node *n)
{
	if (n->notify_running) {
		int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", n->notify_path);
		if (fd >= 0) {
			(void)!sendto(fd, "\x04quit", 5, 0, (struct sockaddr *)&a, sizeof(a));
			close(fd);
		}
		pthread_join(n->notify_thread, NULL);
		n->notify_running = false;
	}
	if (n->notify_fd >= 0) {
		close(n->notify_fd);
		n->notify_fd = -1;
		unlink(n->notify_path);
	}
}
