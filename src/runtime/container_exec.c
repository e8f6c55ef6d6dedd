/* container_exec.c — `exec`: a new process in a running container.
 *
 * The process description is the container's own process (from the saved
 * config) with the caller's changes, or a whole --process file. The child
 * is forked after we setns into the container's pid (and time) namespace,
 * so it lands in it, born in the container's cgroup (it joins the v1
 * hierarchies itself, cgroup.h); then it joins the remaining namespaces
 * (user first), confines itself the same way the init did, and execs. The sync socket is close-on-exec: EOF
 * without an error message means execve succeeded.
 */
#include "runtime/container.h"
#include "runtime/confine.h"
#include "runtime/proc.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static void state_freep(struct container_state **s) { state_free(*s); }
static void spec_freep(struct spec **s) { spec_free(*s); }
static void process_freep(struct spec_process **p) { spec_process_free(*p); }

/* The container's process, changed as the command line says. */
static int build_process(const struct exec_opts *o, json_t *config, struct spec_process **out,
			 struct sn_err *err)
{
	_cleanup_json_ json_t *pj = NULL;
	int r;
	if (o->process_file) {
		if ((r = sn_json_load_file(o->process_file, 1 << 20, &pj, err)) < 0)
			return r;
		if (!json_is_object(pj))
			return sn_err_msg(err, EINVAL, "%s: must be a JSON object", o->process_file);
	} else {
		json_t *base = config ? json_object_get(config, "process") : NULL;
		pj = base ? json_deep_copy(base) : json_object();
		if (!pj)
			return sn_err_set(err, ENOMEM, "exec process");
		if (!o->args || !o->args[0])
			return sn_err_msg(err, EINVAL, "exec: no command given");
		json_t *args = json_array();
		for (char **a = o->args; *a; a++)
			json_array_append_new(args, json_string(*a));
		json_object_set_new(pj, "args", args);
		json_t *env = json_object_get(pj, "env");
		if (!json_is_array(env)) {
			env = json_array();
			json_object_set_new(pj, "env", env);
		}
		for (char **e = o->env; e && *e; e++)
			json_array_append_new(env, json_string(*e));
		if (o->cwd)
			json_object_set_new(pj, "cwd", json_string(o->cwd));
		if (!json_object_get(pj, "cwd"))
			json_object_set_new(pj, "cwd", json_string("/"));
		json_object_set_new(pj, "terminal", json_boolean(o->tty));
		if (o->no_new_privs)
			json_object_set_new(pj, "noNewPrivileges", json_true());
		if (o->user || o->additional_gids) {
			json_t *u = json_object_get(pj, "user");
			if (!json_is_object(u)) {
				u = json_object();
				json_object_set_new(pj, "user", u);
			}
			if (o->user) {
				unsigned long long uid, gid = 0;
				char tmp[64];
				snprintf(tmp, sizeof(tmp), "%s", o->user);
				char *colon = strchr(tmp, ':');
				if (colon)
					*colon++ = '\0';
				if (sn_parse_u64(tmp, &uid) < 0 || (colon && sn_parse_u64(colon, &gid) < 0))
					return sn_err_msg(err, EINVAL, "--user `%s`: expected uid[:gid]", o->user);
				json_object_set_new(u, "uid", json_integer((json_int_t)uid));
				json_object_set_new(u, "gid", json_integer((json_int_t)gid));
			}
			if (o->additional_gids) {
				json_t *g = json_array();
				for (char **a = o->additional_gids; *a; a++) {
					unsigned long long v;
					if (sn_parse_u64(*a, &v) < 0)
						return sn_err_msg(err, EINVAL, "--additional-gids `%s`: not a gid", *a);
					json_array_append_new(g, json_integer((json_int_t)v));
				}
				json_object_set_new(u, "additionalGids", g);
			}
		}
		if (o->caps && o->caps[0]) {
			json_t *c = json_object_get(pj, "capabilities");
			if (!json_is_object(c)) {
				c = json_object();
				json_object_set_new(pj, "capabilities", c);
			}
			static const char *const sets[] = { "bounding", "effective", "permitted", "inheritable", "ambient" };
			for (size_t i = 0; i < 5; i++) {
				json_t *s = json_object_get(c, sets[i]);
				if (!json_is_array(s)) {
					s = json_array();
					json_object_set_new(c, sets[i], s);
				}
				for (char **a = o->caps; *a; a++)
					json_array_append_new(s, json_string(*a));
			}
		}
	}
	return spec_parse_process(pj, "process", out, err);
}

static int open_container_ns(pid_t pid, const struct spec *s, int *fds, int *types, size_t *n,
			     struct sn_err *err)
{
	*n = 0;
	for (size_t i = 0; i < s->linux_.n_namespaces; i++) {
		int t = s->linux_.namespaces[i].type;
		const char *name = t == CLONE_NEWNS ? "mnt" : t == CLONE_NEWNET ? "net"
				 : t == CLONE_NEWTIME ? "time_for_children" : spec_namespace_name(t);
		char p[64], self[64];
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, name);
		snprintf(self, sizeof(self), "/proc/self/ns/%s", name);
		struct stat a, b;
		if (stat(p, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue; /* already there */
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return sn_err_sys(err, "open `%s`", p);
		fds[*n] = fd;
		types[(*n)++] = t;
	}
	return 0;
}

static int exec_child(const struct exec_opts *o, const struct spec *s, const struct spec_process *p,
		      int *fds, int *types, size_t n, int sync_sock, int console_sock,
		      struct sn_err *err)
{
	struct sync_msg m;
	int r = sync_expect(sync_sock, SYNC_NS_ACK, &m, NULL, err);
	if (r < 0)
		return r;
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < n; i++) {
			int t = types[i];
			/* user first, mount last, pid and time were joined by the parent */
			if (t == CLONE_NEWPID || t == CLONE_NEWTIME)
				continue;
			if ((t == CLONE_NEWUSER ? 0 : t == CLONE_NEWNS ? 2 : 1) != pass)
				continue;
			if (setns(fds[i], t) < 0)
				return sn_err_sys(err, "join %s namespace", spec_namespace_name(t));
		}
	if (p->terminal ? (r = terminal_setup(console_sock, false, p->console_height,
					      p->console_width, err)) < 0
			: (r = terminal_new_session(err)) < 0)
		return r;
	if (console_sock >= 0)
		close(console_sock);
	_cleanup_free_ char *exe = NULL;
	if ((r = proc_find_executable(p->args[0], p->env, &exe, err)) < 0)
		return r;
	_cleanup_(proc_env_home_freep) char **env_home = NULL;
	if ((r = proc_env_add_home(p->env, p->user.uid, &env_home, err)) < 0)
		return r;
	const struct spec_seccomp *sc = s->linux_.seccomp;
	if ((r = confine_reset_signals(err)) < 0 ||
	    (r = confine_rlimits(p->rlimits, p->n_rlimits, err)) < 0)
		return r;
	if (p->oom_score_adj != SPEC_UNSET && (r = confine_oom_score_adj(p->oom_score_adj, err)) < 0)
		return r;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sn_err_sys(err, "prctl NO_NEW_PRIVS");
	if (sc && !p->no_new_privileges && (r = confine_seccomp_load(sc, NULL, err)) < 0)
		return r;
	if ((r = confine_identity_and_caps(p, err)) < 0)
		return r;
	if (p->user.umask != SPEC_UNSET)
		umask((mode_t)p->user.umask);
	if (chdir(p->cwd) < 0)
		return sn_err_sys(err, "chdir to cwd `%s`", p->cwd);
	if (sc && p->no_new_privileges && (r = confine_seccomp_load(sc, NULL, err)) < 0)
		return r;
	unsigned keep = 3 + (unsigned)o->preserve_fds;
	if ((r = sn_fds_close_from(keep, SN_FDS_CLOEXEC, err)) < 0)
		return r;
	if (fcntl(sync_sock, F_SETFD, FD_CLOEXEC) < 0)
		return sn_err_sys(err, "mark the sync socket close-on-exec");
	char *const *envp = env_home ? env_home : p->env;
	execve(exe, p->args, envp ? envp : (char *[]){ NULL });
	return sn_err_sys(err, "exec `%s`", exe);
}

static volatile sig_atomic_t exec_forward_to;
static void exec_forward(int sig)
{
	if (exec_forward_to > 0)
		kill(exec_forward_to, sig);
}

int container_exec(const struct exec_opts *o, int *status, struct sn_err *err)
{
	_cleanup_(state_freep) struct container_state *st = NULL;
	_cleanup_(spec_freep) struct spec *s = NULL;
	_cleanup_(process_freep) struct spec_process *p = NULL;
	int r = state_load(o->root, o->id, &st, err);
	if (r < 0)
		return r;
	enum container_status cs = state_status(st);
	if (cs != STATUS_RUNNING && cs != STATUS_CREATED)
		return sn_err_msg(err, EINVAL, "cannot exec in container `%s`: it is %s",
				  o->id, state_status_name(cs));
	if (!st->config || (r = spec_parse(st->config, "saved config", &s, err)) < 0)
		return st->config ? r : sn_err_msg(err, EINVAL, "container `%s` has no saved config", o->id);
	if ((r = build_process(o, st->config, &p, err)) < 0)
		return r;
	char what[128];
	snprintf(what, sizeof(what), "exec in container `%s`", o->id);
	if (p->has_caps)
		caps_warn_skipped(&p->caps, what);
	confine_warn_lsm(p, what);
	if (p->terminal && o->detach && !o->console_socket)
		return sn_err_msg(err, EINVAL, "exec: --tty with --detach needs --console-socket");

	int fds[8], types[8];
	size_t n = 0;
	if ((r = open_container_ns(st->pid, s, fds, types, &n, err)) < 0)
		return r;
	_cleanup_close_ int console = -1, console_recv = -1;
	_cleanup_close_ int sp = -1, sc = -1;
	struct cgroup_join cj = { .n = 0, .v2_dir = -1 };
	for (size_t i = 0; i < n; i++)
		if (types[i] == CLONE_NEWPID || types[i] == CLONE_NEWTIME)
			if (setns(fds[i], types[i]) < 0) {
				r = sn_err_sys(err, "join %s namespace of `%s`", spec_namespace_name(types[i]), o->id);
				goto out;
			}
	if (p->terminal) {
		if (o->console_socket) {
			if ((r = terminal_connect(o->console_socket, &console, err)) < 0)
				goto out;
		} else {
			int sv[2];
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
				r = sn_err_sys(err, "socketpair");
				goto out;
			}
			console_recv = sv[0];
			console = sv[1];
		}
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = sn_err_sys(err, "socketpair");
		goto out;
	}
	sp = sv[0];
	sc = sv[1];
	/* the child joins the cgroup itself (cgroup.h, "Joining cheaply") */
	if (st->cgroup && (r = cgroup_join_open(st->cgroup, &cj, err)) < 0)
		goto out;
	pid_t child;
	bool v2_late = false;
	if ((r = cgroup_join_clone(&cj, 0, &child, &v2_late, err)) < 0)
		goto out;
	if (child == 0) {
		close(sp);
		struct sn_err e = { 0 };
		if (cgroup_join_self(&cj, &e) == 0)
			exec_child(o, s, p, fds, types, n, sc, console, &e);
		sync_send(sc, SYNC_ERROR, 0, &e, -1, NULL);
		_exit(127);
	}
	cgroup_join_close(&cj);
	close(sc);
	sc = -1;
	if (console >= 0) {
		close(console);
		console = -1;
	}
	if (v2_late && (r = cgroup_enter_v2(st->cgroup, child, err)) < 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		goto out;
	}
	if ((r = sync_send(sp, SYNC_NS_ACK, 0, NULL, -1, err)) < 0)
		goto out;
	struct sync_msg m;
	struct sn_err e2 = { 0 };
	r = sync_recv(sp, &m, NULL, &e2);
	if (r == 0 && m.type == SYNC_ERROR) {
		*err = m.err;
		r = -(m.err.code ? m.err.code : EIO);
		waitpid(child, NULL, 0);
		sn_err_wrap(err, "exec in container `%s`", o->id);
		goto out;
	}
	r = 0; /* EOF: execve succeeded */
	if (o->pid_file) {
		char buf[32];
		int len = snprintf(buf, sizeof(buf), "%d", (int)child);
		if ((r = sn_replace_file(o->pid_file, buf, (size_t)len, 0644, err)) < 0)
			goto out;
	}
	int master = -1;
	if (console_recv >= 0 && (r = terminal_recv_fd(console_recv, &master, err)) < 0)
		goto out;
	if (o->detach) {
		if (master >= 0)
			close(master);
		*status = 0;
		goto out;
	}
	exec_forward_to = child;
	struct sigaction sa = { .sa_handler = exec_forward, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if (master >= 0) {
		terminal_relay(master, &e2);
		close(master);
	}
	int ws = 0;
	SN_RETRY_EINTR(waitpid(child, &ws, 0));
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 255;
out:
	cgroup_join_close(&cj);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	return r;
}
