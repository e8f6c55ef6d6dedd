/* exec.c — see exec.h.
 *
 * An exec is kept in a small table (at most 256; finished ones are
 * dropped oldest first) under the node lock. Start spawns
 *   RUNTIME --root R exec [--env K=V]... [--cwd D] [--user U] ID CMD...
 * or, with a TTY, through a reaper of ours (spawn_exec_reaper),
 *   RUNTIME --root R exec --tty --detach --console-socket S --pid-file P
 *           --process F ID
 * where F is the subnode's process with the exec's changes and the
 * terminal's size (write_process_file). The runtime connects to S, a unix socket we listen on under
 * the root, and passes the pty master with SCM_RIGHTS (the OCI console
 * socket protocol; runc and subrun both speak it). The runtime process
 * stays until the process ends and exits with its code, which
 * node_exec_finish records.
 */
#include "node/exec.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/frame.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

#define EXEC_MAX 256

struct exec {
	char id[33];
	char sub[65];
	json_t *cfg;      /* the validated body */
	pid_t pid;        /* runtime exec process */
	int pty;          /* master, kept for resize (the relay has its own dup) */
	bool started, running;
	int exit_code;
	int64_t created;
};

static struct exec *table[EXEC_MAX];

static struct exec *find(const char *id)
{
	for (int i = 0; i < EXEC_MAX; i++)
		if (table[i] && strcmp(table[i]->id, id) == 0)
			return table[i];
	return NULL;
}

static void exec_free(struct exec *e)
{
	if (!e)
		return;
	json_decref(e->cfg);
	if (e->pty >= 0)
		close(e->pty);
	free(e);
}

void node_exec_free_all(struct node *n)
{
	pthread_mutex_lock(&n->lock);
	for (int i = 0; i < EXEC_MAX; i++) {
		exec_free(table[i]);
		table[i] = NULL;
	}
	pthread_mutex_unlock(&n->lock);
}

/* "uid[:gid]", numbers only (what the runtimes' --user takes). */
/* One id of UID[:GID]: digits, below (uid_t)-1 (which means "no change"
 * to setresuid and so is no user). */
static bool parse_id(const char *s, size_t n, uint32_t *out)
{
	char buf[16];
	unsigned long long v;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sn_parse_u64(buf, &v) < 0 || v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_user(const char *s, uint32_t *uid, uint32_t *gid)
{
	const char *colon = strchr(s, ':');
	uint32_t u, g;
	if (!parse_id(s, colon ? (size_t)(colon - s) : strlen(s), &u))
		return false;
	g = u;
	if (colon && !parse_id(colon + 1, strlen(colon + 1), &g))
		return false;
	if (uid)
		*uid = u;
	if (gid)
		*gid = g;
	return true;
}

/* Docker's ConsoleSize: [height, width], both 1..65535; 0 when absent. */
static int console_size(json_t *body, unsigned *h, unsigned *w, struct sn_err *err)
{
	json_t *cs = json_object_get(body, "ConsoleSize");
	if (h)
		*h = *w = 0;
	if (!cs || json_is_null(cs))
		return 0;
	json_t *a = json_array_get(cs, 0), *b = json_array_get(cs, 1);
	if (!json_is_array(cs) || json_array_size(cs) != 2 || !json_is_integer(a) || !json_is_integer(b) ||
	    json_integer_value(a) < 1 || json_integer_value(a) > 65535 ||
	    json_integer_value(b) < 1 || json_integer_value(b) > 65535)
		return sn_err_msg(err, EINVAL, "ConsoleSize: must be [height, width], each 1 to 65535");
	if (h) {
		*h = (unsigned)json_integer_value(a);
		*w = (unsigned)json_integer_value(b);
	}
	return 0;
}

/* What one exec may carry: the runtime gets Cmd and Env on its command
 * line (2 arguments per Env entry), and execve refuses more than the
 * kernel's MAX_ARG_STRLEN (128 KiB) in one string and, in all, what
 * RLIMIT_STACK / 4 allows (2 MiB by default). A request past these is
 * refused whole (E2BIG: 400), never cut short. */
#define EXEC_ARGS_MAX 4096u
#define EXEC_ARG_BYTES_MAX (128u * 1024u)
#define EXEC_TOTAL_BYTES_MAX (1024u * 1024u)

static int exec_check_size(const char *field, char **v, size_t n, struct sn_err *err)
{
	if (n > EXEC_ARGS_MAX)
		return sn_err_msg(err, E2BIG, "%s: %zu entries; at most %u", field, n, EXEC_ARGS_MAX);
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;
		if (l > EXEC_ARG_BYTES_MAX)
			return sn_err_msg(err, E2BIG, "%s[%zu]: %zu bytes; at most %u", field, i, l - 1,
					  EXEC_ARG_BYTES_MAX - 1);
		total += l;
	}
	if (total > EXEC_TOTAL_BYTES_MAX)
		return sn_err_msg(err, E2BIG, "%s: %zu bytes in all; at most %u", field, total,
				  EXEC_TOTAL_BYTES_MAX);
	return 0;
}

int node_exec_create(struct node *n, const char *ref, json_t *body, json_t **out,
		     struct sn_err *err)
{
	if (!json_is_object(body))
		return sn_err_msg(err, EINVAL, "request body: must be a JSON object");
	/* Docker's ExecConfig; Detach, DetachKeys and Container (docker-py
	 * sends it, spelling detachKeys so) are the client's and ignored */
	static const char *const keys[] = { "Cmd", "Tty", "AttachStdin", "AttachStdout", "AttachStderr",
					    "Env", "WorkingDir", "User", "DetachKeys", "detachKeys",
					    "Privileged", "ConsoleSize", "Detach", "Container", NULL };
	int r = sn_json_only_keys(body, "", keys, err);
	if (r < 0)
		return r;
	_cleanup_strv_ char **cmd = NULL, **env = NULL;
	size_t nc = 0, ne = 0;
	if ((r = sn_json_strv(body, "", "Cmd", &cmd, &nc, err)) < 0)
		return r;
	if (nc == 0)
		return sn_err_msg(err, EINVAL, "Cmd: required (an array of strings)");
	if (!*cmd[0])
		return sn_err_msg(err, EINVAL, "Cmd[0]: the command to run is an empty string");
	if ((r = sn_json_strv(body, "", "Env", &env, &ne, err)) < 0)
		return r;
	for (size_t i = 0; i < ne; i++)
		if (!strchr(env[i], '=') || env[i][0] == '=')
			return sn_err_msg(err, EINVAL, "Env[%zu]: `%s` is not KEY=VALUE", i, env[i]);
	if ((r = exec_check_size("Cmd", cmd, nc, err)) < 0 ||
	    (r = exec_check_size("Env", env, ne, err)) < 0)
		return r;
	static const char *const bools[] = { "Tty", "AttachStdin", "AttachStdout", "AttachStderr", "Privileged" };
	for (size_t i = 0; i < SN_ARRAY_SIZE(bools); i++) {
		bool b;
		if ((r = sn_json_bool(body, "", bools[i], &b, err)) < 0)
			return r;
		if (i == 4 && r && b)
			return sn_err_msg(err, EINVAL, "Privileged: not supported");
	}
	const char *s;
	if ((r = sn_json_string(body, "", "WorkingDir", &s, err)) < 0)
		return r;
	if (r && *s && s[0] != '/')
		return sn_err_msg(err, EINVAL, "WorkingDir: `%s` must be an absolute path", s);
	if ((r = sn_json_string(body, "", "User", &s, err)) < 0)
		return r;
	if (r && *s && !parse_user(s, NULL, NULL))
		return sn_err_msg(err, EINVAL, "User: `%s`: must be a numeric UID[:GID]", s);
	if ((r = console_size(body, NULL, NULL, err)) < 0)
		return r;
	_cleanup_json_ json_t *row = NULL;
	r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	const char *sub = json_string_value(json_object_get(row, "id"));
	if (!node_supervisor_alive(n, sub, NULL) ||
	    strcmp(json_string_value(json_object_get(row, "state")), "running") != 0)
		return sn_err_msg(err, EBUSY, "subnode %s is not running",
				  json_string_value(json_object_get(row, "name")));
	struct exec *e = calloc(1, sizeof(*e));
	unsigned char rnd[16];
	if (!e || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		free(e);
		return sn_err_set(err, ENOMEM, "exec");
	}
	for (int i = 0; i < 16; i++)
		snprintf(e->id + 2 * i, 3, "%02x", rnd[i]);
	snprintf(e->sub, sizeof(e->sub), "%s", sub);
	e->cfg = json_incref(body);
	e->pty = -1;
	e->created = node_now_ns();
	pthread_mutex_lock(&n->lock);
	int slot = -1, oldest = -1;
	for (int i = 0; i < EXEC_MAX && slot < 0; i++) {
		if (!table[i])
			slot = i;
		else if (!table[i]->running && (oldest < 0 || table[i]->created < table[oldest]->created))
			oldest = i;
	}
	if (slot < 0 && oldest >= 0) {
		exec_free(table[oldest]);
		table[oldest] = NULL;
		slot = oldest;
	}
	if (slot >= 0)
		table[slot] = e;
	pthread_mutex_unlock(&n->lock);
	if (slot < 0) {
		exec_free(e);
		return sn_err_msg(err, EBUSY, "too many execs running (%d)", EXEC_MAX);
	}
	*out = json_pack("{s:s}", "Id", e->id);
	return 0;
}

/* Receive the pty master the runtime sends over the console socket. */
static int recv_fd(int lfd, pid_t child, struct sn_err *err)
{
	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	for (int waited = 0; waited < 30000; waited += 100) {
		int pr = poll(&pf, 1, 100);
		if (pr > 0)
			break;
		int st;
		if (waitpid(child, &st, WNOHANG) == child)
			return sn_err_msg(err, EIO, "exec: the runtime exited (status %d) before sending "
					  "the terminal", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	_cleanup_close_ int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return sn_err_sys(err, "exec: accept on the console socket");
	char buf[256];
	int fd = -1;
	int r = sn_fd_recv(c, &fd, buf, sizeof(buf), NULL, err);
	if (r < 0) {
		sn_err_wrap(err, "exec: receive the terminal");
		return r;
	}
	if (fd < 0)
		return sn_err_msg(err, EIO, "exec: the runtime sent no terminal");
	return fd;
}

/* For a terminal, the whole process goes to the runtime as an OCI process
 * file (--process): the subnode's own process with Cmd, Env, WorkingDir,
 * User and, above all, the terminal's size (consoleSize) set before the
 * program starts — a resize after the runtime hands over the pty races
 * with a program that reads its size at once (runc loses that race). */
static int write_process_file(struct node *n, const struct exec *e, const char *path,
			      struct sn_err *err)
{
	_cleanup_free_ char *cfgp = node_subnode_dir(n, e->sub, "bundle/config.json");
	if (!cfgp)
		return sn_err_set(err, ENOMEM, "exec");
	_cleanup_json_ json_t *cfg = NULL;
	int r = sn_json_load_file(cfgp, 1 << 20, &cfg, err);
	if (r < 0)
		return r;
	json_t *p = json_deep_copy(json_object_get(cfg, "process"));
	_cleanup_json_ json_t *proc = p ? p : json_object();
	json_t *args = json_deep_copy(json_object_get(e->cfg, "Cmd"));
	json_t *env = json_object_get(proc, "env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(proc, "env", env);
	}
	size_t i, k;
	json_t *v, *have;
	json_array_foreach(json_object_get(e->cfg, "Env"), i, v) {
		const char *kv = json_string_value(v);
		size_t klen = (size_t)(strchr(kv, '=') - kv) + 1;
		bool replaced = false;
		json_array_foreach(env, k, have) {
			const char *h = json_string_value(have);
			if (h && strncmp(h, kv, klen) == 0) {
				json_array_set(env, k, v);
				replaced = true;
				break;
			}
		}
		if (!replaced)
			json_array_append(env, v);
	}
	json_object_set_new(proc, "args", args);
	json_object_set_new(proc, "terminal", json_true());
	unsigned h, w;
	console_size(e->cfg, &h, &w, NULL);
	if (h)
		json_object_set_new(proc, "consoleSize", json_pack("{s:I, s:I}", "height", (json_int_t)h,
								   "width", (json_int_t)w));
	const char *wd = json_string_value(json_object_get(e->cfg, "WorkingDir"));
	if (wd && *wd)
		json_object_set_new(proc, "cwd", json_string(wd));
	const char *user = json_string_value(json_object_get(e->cfg, "User"));
	uint32_t uid, gid;
	if (user && *user && parse_user(user, &uid, &gid))
		json_object_set_new(proc, "user", json_pack("{s:I, s:I}", "uid", (json_int_t)uid,
							    "gid", (json_int_t)gid));
	_cleanup_free_ char *text = sn_json_dump(proc, false);
	if (!text)
		return sn_err_set(err, ENOMEM, "exec");
	return sn_write_file(path, text, strlen(text), 0600, err);
}

/* The runtime's exec with a terminal, through a small reaper of ours:
 * runc hands a pty to a console socket only when it detaches (`exec -d`),
 * and a detached runtime does not wait for the process, so its exit code
 * would be lost. The daemon forks a child that makes itself a child
 * subreaper, runs RUNTIME exec -d --pid-file P ..., and when the runtime
 * has gone, reaps the process (reparented to it) and exits with its
 * status — the daemon waits for that child as for any runtime exec. (What
 * conmon does for podman.) Only async-signal-safe calls after the fork:
 * the daemon has threads. */
static pid_t spawn_exec_reaper(const char *const *argv, const char *pidfile, struct sn_err *err)
{
	sigset_t all;
	sigemptyset(&all);
	pid_t pid = fork();
	if (pid < 0)
		return sn_err_sys(err, "exec: fork");
	if (pid > 0)
		return pid;
	/* the daemon blocks its signals for sigwait: not for these */
	sigprocmask(SIG_SETMASK, &all, NULL);
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		_exit(126);
	pid_t rt = fork();
	if (rt < 0)
		_exit(126);
	if (rt == 0) {
		execve(argv[0], (char *const *)argv, environ);
		_exit(127);
	}
	int st, code = 255;
	pid_t target = -1;
	for (;;) {
		pid_t w = waitpid(-1, &st, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;  /* ECHILD: nothing left */
		}
		int c = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (w == rt) {
			if (c != 0)
				_exit(c);  /* the runtime failed: its error is in its log */
			char b[24] = "";
			int fd = open(pidfile, O_RDONLY);
			ssize_t n = fd >= 0 ? read(fd, b, sizeof(b) - 1) : -1;
			if (fd >= 0)
				close(fd);
			target = 0;
			for (ssize_t i = 0; i < n && b[i] >= '0' && b[i] <= '9'; i++)
				target = target * 10 + (b[i] - '0');
		} else if (w == target || target < 0) {
			code = c;  /* the process (also when it ended before the runtime) */
		}
	}
	_exit(code);
}

int node_exec_start(struct node *n, const char *id, bool *tty, int *pty, int *in, int *out,
		    int *errfd, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	struct exec *e = find(id);
	if (e && e->started) {
		pthread_mutex_unlock(&n->lock);
		return sn_err_msg(err, EBUSY, "exec %s has already been started", id);
	}
	if (e)
		e->started = true;
	pthread_mutex_unlock(&n->lock);
	if (!e)
		return sn_err_msg(err, ENOENT, "no such exec instance: %s", id);
	*tty = json_is_true(json_object_get(e->cfg, "Tty"));
	bool want_in = json_is_true(json_object_get(e->cfg, "AttachStdin"));
	*pty = *in = *out = *errfd = -1;
	/* 16 fixed arguments at most, 2 per Env entry, then Cmd: sized from
	 * the request (node_exec_create bounded it), nothing dropped. */
	size_t cap = 18 + 2 * json_array_size(json_object_get(e->cfg, "Env")) +
		     json_array_size(json_object_get(e->cfg, "Cmd"));
	_cleanup_free_ const char **argv = calloc(cap + 1, sizeof(*argv));
	if (!argv)
		return sn_err_set(err, ENOMEM, "exec: arguments");
	size_t k = 0;
	char sockp[4096] = "", procp[4096] = "", pidp[4096] = "";
	argv[k++] = n->runtime_path;
	argv[k++] = "--root";
	argv[k++] = n->runtime_root;
	argv[k++] = "exec";
	_cleanup_close_ int lfd = -1;
	if (*tty) {
		snprintf(sockp, sizeof(sockp), "%s/exec-%.16s.sock", n->cfg.root, e->id);
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		if (strlen(sockp) >= sizeof(a.sun_path))
			return sn_err_msg(err, ENAMETOOLONG, "exec: console socket path `%s` too long", sockp);
		strcpy(a.sun_path, sockp);
		unlink(sockp);
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1) < 0)
			return sn_err_sys(err, "exec: console socket `%s`", sockp);
		argv[k++] = "--tty";
		argv[k++] = "--detach";
		argv[k++] = "--console-socket";
		argv[k++] = sockp;
		snprintf(pidp, sizeof(pidp), "%s/exec-%.16s.pid", n->cfg.root, e->id);
		argv[k++] = "--pid-file";
		argv[k++] = pidp;
		snprintf(procp, sizeof(procp), "%s/exec-%.16s.json", n->cfg.root, e->id);
		int r = write_process_file(n, e, procp, err);
		if (r < 0) {
			unlink(sockp);
			return r;
		}
		argv[k++] = "--process";
		argv[k++] = procp;
		argv[k++] = e->sub;
	} else {
		/* the process's pid, for node_exec_cancel */
		snprintf(pidp, sizeof(pidp), "%s/exec-%.16s.pid", n->cfg.root, e->id);
		argv[k++] = "--pid-file";
		argv[k++] = pidp;
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(e->cfg, "Env"), i, v) {
			argv[k++] = "--env";
			argv[k++] = json_string_value(v);
		}
		const char *wd = json_string_value(json_object_get(e->cfg, "WorkingDir"));
		if (wd && *wd) {
			argv[k++] = "--cwd";
			argv[k++] = wd;
		}
		const char *user = json_string_value(json_object_get(e->cfg, "User"));
		if (user && *user) {
			argv[k++] = "--user";
			argv[k++] = user;
		}
		argv[k++] = e->sub;
		json_array_foreach(json_object_get(e->cfg, "Cmd"), i, v)
			argv[k++] = json_string_value(v);
	}
	argv[k] = NULL;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (!*tty) {
		if ((want_in && pipe2(pin, O_CLOEXEC) < 0) || pipe2(pout, O_CLOEXEC) < 0 ||
		    pipe2(perr, O_CLOEXEC) < 0) {
			int r = sn_err_sys(err, "exec: pipe");
			for (int p = 0; p < 2; p++) {
				if (pin[p] >= 0) close(pin[p]);
				if (pout[p] >= 0) close(pout[p]);
				if (perr[p] >= 0) close(perr[p]);
			}
			posix_spawn_file_actions_destroy(&fa);
			return r;
		}
		if (want_in)
			posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
		else
			posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
		posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	pid_t pid = -1;
	int rc = 0;
	if (*tty) {
		pid = spawn_exec_reaper(argv, pidp, err);
		if (pid < 0) {
			unlink(sockp);
			unlink(procp);
			posix_spawn_file_actions_destroy(&fa);
			return (int)pid;
		}
	} else {
		posix_spawnattr_t sa;
		node_spawnattr_clean(&sa);
		rc = posix_spawn(&pid, argv[0], &fa, &sa, (char *const *)argv, environ);
		posix_spawnattr_destroy(&sa);
	}
	posix_spawn_file_actions_destroy(&fa);
	if (pin[0] >= 0) close(pin[0]);
	if (pout[1] >= 0) close(pout[1]);
	if (perr[1] >= 0) close(perr[1]);
	if (rc != 0) {
		if (pin[1] >= 0) close(pin[1]);
		if (pout[0] >= 0) close(pout[0]);
		if (perr[0] >= 0) close(perr[0]);
		if (*sockp)
			unlink(sockp);
		if (*procp)
			unlink(procp);
		return sn_err_set(err, rc, "exec: run `%s`", argv[0]);
	}
	pthread_mutex_lock(&n->lock);
	e->pid = pid;
	e->running = true;
	pthread_mutex_unlock(&n->lock);
	if (*tty) {
		int fd = recv_fd(lfd, pid, err);
		unlink(sockp);
		unlink(procp);  /* read by the runtime before it made the pty */
		/* the pid file is read by the reaper once the runtime is gone:
		 * it stays until node_exec_finish */
		if (fd < 0) {
			kill(pid, SIGKILL);
			node_exec_finish(n, id);
			return fd;
		}
		*pty = fd;
		pthread_mutex_lock(&n->lock);
		e->pty = dup(fd);
		pthread_mutex_unlock(&n->lock);
	} else {
		*in = pin[1];
		*out = pout[0];
		*errfd = perr[0];
	}
	return 0;
}

int node_exec_cancel(struct node *n, const char *id, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	struct exec *e = find(id);
	bool running = e && e->pid > 0 && e->running;
	pthread_mutex_unlock(&n->lock);
	if (!running)
		return 0;
	char pidp[4096];
	snprintf(pidp, sizeof(pidp), "%s/exec-%.16s.pid", n->cfg.root, id);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = sn_read_file(pidp, 32, &text, &len, err);
	if (r < 0)
		return r == -ENOENT ? 0 : r;   /* not started yet, or gone */
	long long pid;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (sn_parse_i64(text, &pid) < 0 || pid <= 1 || pid > INT32_MAX)
		return sn_err_msg(err, EINVAL, "exec pid file `%s`: `%s` is not a pid", pidp, text);
	/* The runtime exec still runs (not yet reaped by node_exec_finish), so
	 * its process's pid has not been reused. */
	if (kill((pid_t)pid, SIGKILL) < 0 && errno != ESRCH)
		return sn_err_sys(err, "kill exec process %lld", pid);
	return 0;
}

void node_exec_finish(struct node *n, const char *id)
{
	pthread_mutex_lock(&n->lock);
	struct exec *e = find(id);
	pid_t pid = e ? e->pid : 0;
	pthread_mutex_unlock(&n->lock);
	if (pid <= 0)
		return;
	int st = 0;
	/* When the daemon stops, the process is left to run on (as subnodes
	 * are): waiting for it would hold the daemon's exit. */
	bool stopping = __atomic_load_n(&n->stopping, __ATOMIC_RELAXED);
	pid_t w;
	w = SN_RETRY_EINTR(waitpid(pid, &st, stopping ? WNOHANG : 0));
	if (w != pid)
		return;
	char pidp[4096];
	snprintf(pidp, sizeof(pidp), "%s/exec-%.16s.pid", n->cfg.root, id);
	unlink(pidp);
	pthread_mutex_lock(&n->lock);
	if ((e = find(id))) {
		e->running = false;
		e->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (e->pty >= 0) {
			close(e->pty);
			e->pty = -1;
		}
	}
	pthread_mutex_unlock(&n->lock);
}

int node_exec_resize(struct node *n, const char *id, unsigned h, unsigned w, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	struct exec *e = find(id);
	int r = 0;
	if (!e)
		r = sn_err_msg(err, ENOENT, "no such exec instance: %s", id);
	else if (e->pty < 0)
		r = sn_err_msg(err, EBUSY, "exec %s has no terminal (not started, ended, or no Tty)", id);
	else {
		struct winsize ws = { .ws_row = (unsigned short)h, .ws_col = (unsigned short)w };
		if (ioctl(e->pty, TIOCSWINSZ, &ws) < 0)
			r = sn_err_sys(err, "exec %s: resize", id);
	}
	pthread_mutex_unlock(&n->lock);
	return r;
}

int node_exec_inspect(struct node *n, const char *id, json_t **out, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	struct exec *e = find(id);
	if (!e) {
		pthread_mutex_unlock(&n->lock);
		return sn_err_msg(err, ENOENT, "no such exec instance: %s", id);
	}
	*out = json_pack("{s:s, s:b, s:i, s:s, s:I, s:{s:O, s:b}}", "ID", e->id, "Running", e->running,
			 "ExitCode", e->exit_code, "ContainerID", e->sub, "Pid", (json_int_t)e->pid,
			 "ProcessConfig", "arguments", json_object_get(e->cfg, "Cmd"),
			 "tty", json_is_true(json_object_get(e->cfg, "Tty")));
	pthread_mutex_unlock(&n->lock);
	return *out ? 0 : sn_err_set(err, ENOMEM, "exec");
}

void node_exec_relay(struct node *n, int sock, bool tty, int pty, int in, int out, int errfd,
		     const char *extra, size_t extra_len)
{
	int to_proc = tty ? pty : in;
	if (extra_len && to_proc >= 0)
		(void)sn_write_all(to_proc, extra, extra_len);
	bool sock_open = true, gone = false;
	char buf[16384];
	/* Ends when the process's output ends, the client goes away (a TTY has
	 * no half-close: its end closes the terminal, and the process gets
	 * SIGHUP), or the daemon stops. Without a TTY, the client's half-close
	 * is EOF on the process's stdin. */
	while (!gone && !__atomic_load_n(&n->stopping, __ATOMIC_RELAXED)) {
		struct pollfd pf[3] = {
			{ .fd = sock_open ? sock : -1, .events = POLLIN | POLLRDHUP },
			{ .fd = tty ? pty : out, .events = POLLIN },
			{ .fd = tty ? -1 : errfd, .events = POLLIN },
		};
		if (pf[1].fd < 0 && pf[2].fd < 0)
			break;
		int pr = poll(pf, 3, 500);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		if (pf[0].revents) {
			ssize_t r = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				sock_open = false;
				if (tty)
					gone = true;
				if (!tty && in >= 0) {   /* client closed its side: EOF to the process */
					close(in);
					in = to_proc = -1;
				}
			} else if (r > 0 && (to_proc < 0 || sn_write_all(to_proc, buf, (size_t)r) < 0)) {
				if (to_proc >= 0)
					sock_open = false;
			}
		}
		for (int s = 1; s <= 2; s++) {
			if (!pf[s].revents)
				continue;
			ssize_t r = read(pf[s].fd, buf + 8, sizeof(buf) - 8);
			if (r <= 0) {   /* EOF, or EIO once the pty's last user is gone */
				if (tty) {
					close(pty);
					pty = -1;
				} else if (s == 1) {
					close(out);
					out = -1;
				} else {
					close(errfd);
					errfd = -1;
				}
				continue;
			}
			if (tty) {
				if (sn_send_all(sock, buf + 8, (size_t)r, 0) < 0)
					gone = true;
			} else {
				sn_frame_header((unsigned char *)buf, s, (uint32_t)r);
				if (sn_send_all(sock, buf, (size_t)r + 8, 0) < 0)
					gone = true;
			}
		}
		if (tty && pty < 0)
			break;
	}
	if (tty && pty >= 0)
		close(pty);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
}
