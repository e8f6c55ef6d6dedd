/* container_create.c — `create`, `start` and `run`: the parent side.
 *
 * The parent validates everything it can before making anything (config,
 * rootfs, namespace paths, console socket), then makes the state dir, the
 * exec fifo and the init process, and serves the init's requests over the
 * sync socket: id maps and cgroup, the prestart/createRuntime hooks, the
 * seccomp listener hand-over. It writes state.json only when the init says
 * "created". Any failure on the way runs one cleanup: kill the init, remove
 * its cgroup and the state dir — nothing is left behind.
 *
 * Fast path: with no namespace to join, the init is cloned straight into
 * all its new namespaces (one clone, no intermediate process). With joins,
 * the child joins first and unshares after ("staged"), and forks once more
 * when it needs a new pid namespace.
 */
#include "runtime/create_internal.h"
#include "runtime/device_rules.h"
#include "runtime/hooks.h"
#include "runtime/confine.h"
#include "runtime/proc.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static void ctx_release(struct create_ctx *c)
{
	cgroup_join_close(&c->cg_join);
	for (size_t i = 0; i < c->n_join; i++)
		close(c->join_fd[i]);
	if (c->sync_parent >= 0)
		close(c->sync_parent);
	if (c->sync_child >= 0)
		close(c->sync_child);
	if (c->console_sock >= 0)
		close(c->console_sock);
	if (c->console_recv >= 0)
		close(c->console_recv);
	if (c->fifo_fd >= 0)
		close(c->fifo_fd);
	if (c->done_fd >= 0)
		close(c->done_fd);
	spec_free(c->spec);
	cgroup_free(c->cg);
	free(c->bundle);
	free(c->rootfs);
	free(c->dir);
	free(c->fifo_path);
}

/* Undo a failed create: the init, its cgroup, the state dir. */
static void ctx_abort(struct create_ctx *c, pid_t child)
{
	struct sn_err e = { 0 };
	if (c->init_pid > 0)
		kill(c->init_pid, SIGKILL);
	if (child > 0) {
		kill(child, SIGKILL);
		SN_RETRY_EINTR(waitpid(child, NULL, 0));
	}
	if (c->init_pid > 0 && c->init_pid != child)
		proc_wait_exit(c->init_pid, 0, 2000);
	if (c->cg && cgroup_destroy(c->cg, &e) < 0)
		sn_warn("cleanup: %s", e.msg);
	if (c->dir && sn_rm_rf(c->dir, &e) < 0)
		sn_warn("cleanup: %s", e.msg);
}

static int write_id_map(pid_t pid, const char *file, const struct spec_id_map *m, size_t n,
			struct sn_err *err)
{
	char buf[4096];
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
				 m[i].container_id, m[i].host_id, m[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return sn_err_msg(err, E2BIG, "%s: too many mappings", file);
		len += (size_t)w;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	return sn_write_existing(path, buf, err);
}

static int open_joins(struct create_ctx *c, struct sn_err *err)
{
	const struct spec_linux *l = &c->spec->linux_;
	for (size_t i = 0; i < l->n_namespaces; i++) {
		const struct spec_namespace *ns = &l->namespaces[i];
		if (!ns->path) {
			if (ns->type != CLONE_NEWTIME)
				c->new_flags |= ns->type;
			continue;
		}
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return sn_err_sys(err, "linux.namespaces[%zu]: open `%s`", i, ns->path);
		int t = ioctl(fd, NS_GET_NSTYPE);
		if (t >= 0 && t != ns->type) {
			close(fd);
			return sn_err_msg(err, EINVAL, "linux.namespaces[%zu]: `%s` is not a %s namespace",
					  i, ns->path, spec_namespace_name(ns->type));
		}
		if (ns->type == CLONE_NEWPID || ns->type == CLONE_NEWTIME) {
			/* affects only our children: done here, before clone */
			int r = setns(fd, ns->type);
			int e = errno;
			close(fd);
			if (r < 0)
				return sn_err_set(err, e, "join %s namespace `%s`",
						  spec_namespace_name(ns->type), ns->path);
			continue;
		}
		c->join_fd[c->n_join] = fd;
		c->join_type[c->n_join++] = ns->type;
	}
	const struct spec_namespace *tns = spec_find_namespace(c->spec, CLONE_NEWTIME);
	if (tns && !tns->path) {
		if (unshare(CLONE_NEWTIME) < 0)
			return sn_err_sys(err, "unshare time namespace");
		for (size_t i = 0; i < l->n_time_offsets; i++) {
			char line[128];
			snprintf(line, sizeof(line), "%s %lld %u",
				 l->time_offsets[i].clock == CLOCK_MONOTONIC ? "monotonic" : "boottime",
				 (long long)l->time_offsets[i].secs, l->time_offsets[i].nanosecs);
			int r = sn_write_existing("/proc/self/timens_offsets", line, err);
			if (r < 0)
				return r;
		}
	}
	c->staged = c->n_join > 0;
	c->clone_flags = c->staged ? 0 : (c->new_flags & ~CLONE_NEWCGROUP);
	return 0;
}

static int prepare(const struct container_opts *o, bool foreground, struct create_ctx *c,
		   struct sn_err *err)
{
	int r = state_validate_id(o->id, err);
	if (r < 0)
		return r;
	char buf[PATH_MAX];
	const char *bundle = o->bundle ? o->bundle : ".";
	if (!realpath(bundle, buf))
		return sn_err_sys(err, "bundle `%s`", bundle);
	if (!(c->bundle = strdup(buf)))
		return sn_err_set(err, ENOMEM, "bundle");
	if ((r = spec_load(c->bundle, &c->spec, err)) < 0)
		return r;
	if (!c->spec->process)
		return sn_err_msg(err, EINVAL, "%s/config.json: process: required to create a container",
				  c->bundle);
	/* what runc and crun also let through, said in the log */
	char what[128];
	snprintf(what, sizeof(what), "container `%s`", o->id);
	if (c->spec->process->has_caps)
		caps_warn_skipped(&c->spec->process->caps, what);
	confine_warn_lsm(c->spec->process, what);
	_cleanup_free_ char *rp = c->spec->root_path[0] == '/' ? strdup(c->spec->root_path)
							       : sn_path_join(c->bundle, c->spec->root_path);
	if (!rp || !realpath(rp, buf))
		return sn_err_sys(err, "root.path `%s`", c->spec->root_path);
	struct stat st;
	if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
		return sn_err_msg(err, ENOTDIR, "root.path `%s`: not a directory", buf);
	if (!(c->rootfs = strdup(buf)))
		return sn_err_set(err, ENOMEM, "rootfs");
	if (c->spec->process->terminal && !o->console_socket && !foreground)
		return sn_err_msg(err, EINVAL,
				  "process.terminal is true but there is no --console-socket to send the terminal to");
	if (c->spec->process->terminal) {
		if (o->console_socket) {
			if ((r = terminal_connect(o->console_socket, &c->console_sock, err)) < 0)
				return r;
		} else {
			int sv[2];
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
				return sn_err_sys(err, "socketpair for the terminal");
			c->console_recv = sv[0];
			c->console_sock = sv[1];
		}
	}
	_cleanup_free_ char *cgpath = NULL;
	if ((r = cgroup_resolve_path(c->spec->linux_.cgroups_path, o->id, &cgpath, err)) < 0)
		return r;
	if ((r = cgroup_new(o->cgroup_root ? o->cgroup_root : "/sys/fs/cgroup", cgpath, 0, &c->cg, err)) < 0)
		return r;
	if ((r = open_joins(c, err)) < 0)
		return r;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return sn_err_sys(err, "socketpair");
	c->sync_parent = sv[0];
	c->sync_child = sv[1];
	return 0;
}

/* prestart sees status "created", createRuntime "creating". The spec does
 * not pin prestart's status; "created" is what the legacy hook saw when it
 * ran at `start` (runtime-spec 1.0.0/1.0.1), what crun passes and what the
 * runtime-tools suite checks (hooks_stdin). runc passes "creating". */
static int run_parent_hooks(struct create_ctx *c, struct sn_err *err)
{
	const struct spec_hooks *h = &c->spec->hooks;
	static const struct { enum spec_hook_kind kind; const char *status; } steps[] = {
		{ SPEC_HOOK_PRESTART, "created" },
		{ SPEC_HOOK_CREATE_RUNTIME, "creating" },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (!h->n[steps[i].kind])
			continue;
		_cleanup_free_ char *st = container_hook_state(c->o->id, c->bundle, c->init_pid,
							       steps[i].status, c->spec->annotations);
		if (!st)
			return sn_err_set(err, ENOMEM, "hook state");
		int r = hooks_run(h, steps[i].kind, st, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Serve the init until it is created. */
static int serve_child(struct create_ctx *c, pid_t child, struct sn_err *err)
{
	struct sync_msg m;
	int r, fd;
	const struct spec_linux *l = &c->spec->linux_;
	c->init_pid = child;
	if ((r = sync_expect(c->sync_parent, SYNC_NS_READY, &m, NULL, err)) < 0)
		return r;
	if (c->new_flags & CLONE_NEWUSER) {
		if ((r = write_id_map(child, "uid_map", l->uid_mappings, l->n_uid_mappings, err)) < 0 ||
		    (r = write_id_map(child, "gid_map", l->gid_mappings, l->n_gid_mappings, err)) < 0)
			return sn_err_wrap(err, "user namespace");
	}
	/* the init joined the v1 hierarchies itself (cgroup_join_self) */
	if (c->cg_v2_late && (r = cgroup_enter_v2(c->cg, child, err)) < 0)
		return r;
	if ((r = sync_send(c->sync_parent, SYNC_NS_ACK, 0, NULL, -1, err)) < 0)
		return r;
	for (;;) {
		if ((r = sync_recv(c->sync_parent, &m, &fd, err)) < 0)
			return r;
		switch (m.type) {
		case SYNC_INIT_PID:
			c->init_pid = m.pid;
			SN_RETRY_EINTR(waitpid(child, NULL, 0));
			break;
		case SYNC_HOOKS:
			r = run_parent_hooks(c, err);
			if (r < 0) {
				sync_send(c->sync_parent, SYNC_ERROR, 0, err, -1, NULL);
				return r;
			}
			if ((r = sync_send(c->sync_parent, SYNC_HOOKS_ACK, c->init_pid, NULL, -1, err)) < 0)
				return r;
			break;
		case SYNC_SECCOMP_FD: {
			_cleanup_free_ char *st = container_hook_state(c->o->id, c->bundle, c->init_pid,
								       "creating", c->spec->annotations);
			r = seccomp_notify_send(l->seccomp->listener_path, fd, st, err);
			close(fd);
			if (r < 0) {
				sync_send(c->sync_parent, SYNC_ERROR, 0, err, -1, NULL);
				return r;
			}
			if ((r = sync_send(c->sync_parent, SYNC_SECCOMP_ACK, 0, NULL, -1, err)) < 0)
				return r;
			break;
		}
		case SYNC_CREATED:
			return 0;
		case SYNC_ERROR:
			*err = m.err;
			return -(m.err.code ? m.err.code : EIO);
		default:
			return sn_err_msg(err, EPROTO, "sync: unexpected message %d", m.type);
		}
	}
}

static int write_pid_file(const char *path, pid_t pid, struct sn_err *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	char abs[PATH_MAX];
	if (path[0] != '/') {
		if (!getcwd(abs, sizeof(abs)))
			return sn_err_sys(err, "getcwd");
		strncat(abs, "/", sizeof(abs) - strlen(abs) - 1);
		strncat(abs, path, sizeof(abs) - strlen(abs) - 1);
		path = abs;
	}
	return sn_replace_file(path, buf, (size_t)n, 0644, err);
}

/* The cgroup is made, limits applied, before the init exists, and the
 * files it joins by are opened here (cgroup.h: "Joining cheaply"): the
 * init is born in the unified side and moves itself into each v1
 * hierarchy, so no one writes its pid into a cgroup.procs file — that
 * write waits for an RCU grace period, the largest part of a `run`. */
static int make_cgroup(struct create_ctx *c, struct sn_err *err)
{
	struct spec_resources eff;
	int r = device_rules_effective(c->spec, &eff, err);
	if (r < 0)
		return r;
	r = cgroup_create(c->cg, 0, &eff, err);
	device_rules_free(&eff);
	if (r < 0)
		return r;
	return cgroup_join_open(c->cg, &c->cg_join, err);
}

/* create; on success *c holds the created container (init_pid set). */
static int do_create(const struct container_opts *o, bool foreground, struct create_ctx *c,
		     struct sn_err *err)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->sync_parent = c->sync_child = c->console_sock = c->console_recv = c->fifo_fd = c->done_fd = -1;
	c->cg_join.v2_dir = -1;
	int r = prepare(o, foreground, c, err);
	if (r < 0)
		return r;
	if ((r = state_create_dir(o->root, o->id, &c->dir, err)) < 0)
		return r;
	pid_t child = -1;
	_cleanup_free_ char *done = NULL;
	if (!(c->fifo_path = sn_path_join(c->dir, "exec.fifo"))) {
		r = sn_err_set(err, ENOMEM, "fifo");
		goto fail;
	}
	if (mkfifo(c->fifo_path, 0600) < 0) {
		r = sn_err_sys(err, "mkfifo `%s`", c->fifo_path);
		goto fail;
	}
	/* Opened here, not in the init: an init in a user namespace is not
	 * root on the host and could not open the root-owned 0600 fifo in
	 * the root-only state dir. O_RDWR does not block without a writer. */
	if ((c->fifo_fd = open(c->fifo_path, O_RDWR | O_CLOEXEC)) < 0) {
		r = sn_err_sys(err, "open `%s`", c->fifo_path);
		goto fail;
	}
	/* The init inherits this one and holds it, close-on-exec, until its
	 * execve: a reader sees EOF exactly then (see wait_init_exec). */
	if (!(done = state_exec_done_path(c->dir))) {
		r = sn_err_set(err, ENOMEM, "fifo");
		goto fail;
	}
	if (mkfifo(done, 0600) < 0) {
		r = sn_err_sys(err, "mkfifo `%s`", done);
		goto fail;
	}
	if ((c->done_fd = open(done, O_RDWR | O_CLOEXEC)) < 0) {
		r = sn_err_sys(err, "open `%s`", done);
		goto fail;
	}
	if ((r = make_cgroup(c, err)) < 0)
		goto fail;
	if ((r = cgroup_join_clone(&c->cg_join, (unsigned long)c->clone_flags, &child,
				   &c->cg_v2_late, err)) < 0)
		goto fail;
	if (child == 0)
		_exit(container_init_main(c));
	cgroup_join_close(&c->cg_join);
	close(c->sync_child);
	c->sync_child = -1;
	/* only the init may hold the fifo: its death must leave no reader */
	close(c->fifo_fd);
	c->fifo_fd = -1;
	close(c->done_fd);
	c->done_fd = -1;
	if ((r = serve_child(c, child, err)) < 0)
		goto fail;

	struct container_state st = {
		.id = (char *)o->id, .dir = c->dir, .pid = c->init_pid,
		.bundle = c->bundle, .rootfs = c->rootfs, .cgroup = c->cg,
		.config = c->spec->json,
	};
	char created[64];
	state_now_rfc3339(created, sizeof(created));
	st.created = created;
	if ((r = proc_start_time(c->init_pid, &st.start_time, err)) < 0 ||
	    (r = state_save(&st, err)) < 0)
		goto fail;
	if (o->pid_file && (r = write_pid_file(o->pid_file, c->init_pid, err)) < 0)
		goto fail;
	return 0;
fail:
	ctx_abort(c, child);
	return sn_err_wrap(err, "create container `%s`", o->id);
}

int container_create(const struct container_opts *o, struct sn_err *err)
{
	struct create_ctx c;
	int r = do_create(o, false, &c, err);
	ctx_release(&c);
	return r;
}

/* Release the init: one byte into the fifo, then the fifo goes. */
static int release_init(struct container_state *st, struct sn_err *err)
{
	_cleanup_free_ char *fifo = state_fifo_path(st);
	if (!fifo)
		return sn_err_set(err, ENOMEM, "fifo");
	_cleanup_close_ int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENXIO || errno == ENOENT)
			return sn_err_msg(err, EINVAL, "container `%s` is not in the created state", st->id);
		return sn_err_sys(err, "open `%s`", fifo);
	}
	if (write(fd, "0", 1) != 1)
		return sn_err_sys(err, "write `%s`", fifo);
	if (unlink(fifo) < 0)
		return sn_err_sys(err, "unlink `%s`", fifo);
	return 0;
}

/* Block until the released init has called execve (or died): the init
 * holds the only writer of exec-done.fifo, close-on-exec. read() on a fifo
 * without writers returns 0 at once (poll would not report POLLHUP if the
 * writer was gone before our open), so the init winning the race is fine.
 * A state dir without the fifo (older subrun) is not waited for. */
static int wait_init_exec(struct container_state *st, struct sn_err *err)
{
	_cleanup_free_ char *done = state_exec_done_path(st->dir);
	if (!done)
		return sn_err_set(err, ENOMEM, "fifo");
	_cleanup_close_ int fd = open(done, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return sn_err_sys(err, "open `%s`", done);
	}
	if (unlink(done) < 0)
		return sn_err_sys(err, "unlink `%s`", done);
	int r = sn_fd_set_nonblock(fd, false, err);
	if (r < 0) {
		sn_err_wrap(err, "`%s`", done);
		return r;
	}
	char b[64];
	for (;;) {
		ssize_t n = read(fd, b, sizeof(b));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return sn_err_sys(err, "wait for the init's execve: read `%s`", done);
	}
}

static int run_poststart(struct container_state *st, struct sn_err *err)
{
	struct spec *s = NULL;
	if (!st->config || !json_object_get(st->config, "hooks"))
		return 0; /* nothing to run: skip re-parsing the config */
	int r = spec_parse(st->config, "state config", &s, err);
	if (r < 0)
		return r;
	if (s->hooks.n[SPEC_HOOK_POSTSTART]) {
		_cleanup_free_ char *j = container_hook_state(st->id, st->bundle, st->pid, "running",
							      s->annotations);
		r = hooks_run(&s->hooks, SPEC_HOOK_POSTSTART, j, err);
	}
	spec_free(s);
	return r;
}

int container_start(const char *root, const char *id, struct sn_err *err)
{
	struct container_state *st = NULL;
	int r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = -1;
	if ((r = state_lock(st->dir, &lock, err)) < 0)
		goto out;
	enum container_status s = state_status(st);
	if (s != STATUS_CREATED) {
		r = sn_err_msg(err, EINVAL, "container `%s` is %s, not created", id, state_status_name(s));
		goto out;
	}
	bool frozen = false;
	if (st->cgroup && cgroup_is_frozen(st->cgroup, &frozen, NULL) == 0 && frozen) {
		/* it could not exec, and we would wait for it forever */
		r = sn_err_msg(err, EINVAL, "container `%s` is paused: resume it first", id);
		goto out;
	}
	if ((r = release_init(st, err)) < 0 || (r = wait_init_exec(st, err)) < 0)
		goto out;
	if ((r = run_poststart(st, err)) < 0) {
		/* the spec: a failing poststart hook is logged, the container runs on */
		sn_warn("%s", err->msg);
		r = 0;
	}
out:
	state_free(st);
	return r;
}

static volatile sig_atomic_t forward_to;

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

int container_run(const struct container_opts *o, int *status, struct sn_err *err)
{
	/* the init may be a grandchild (staged pid namespace): adopt it */
	if (!o->detach && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return sn_err_sys(err, "prctl CHILD_SUBREAPER");
	struct create_ctx c;
	int r = do_create(o, !o->detach, &c, err);
	if (r < 0) {
		ctx_release(&c);
		return r;
	}
	pid_t init = c.init_pid;
	int master = -1;
	if (c.console_recv >= 0) {
		if ((r = terminal_recv_fd(c.console_recv, &master, err)) < 0)
			goto fail;
	}
	if ((r = container_start(o->root, o->id, err)) < 0)
		goto fail;
	if (o->detach) {
		ctx_release(&c);
		if (master >= 0)
			close(master);
		*status = 0;
		return 0;
	}
	forward_to = init;
	struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if (master >= 0) {
		struct sn_err e2 = { 0 };
		terminal_relay(master, &e2);
		close(master);
	}
	int ws = 0;
	for (;;) {
		pid_t w = waitpid(-1, &ws, 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ws = 0;
			break;
		}
		if (w == init)
			break;
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 255;
	ctx_release(&c);
	if (!o->keep) {
		struct sn_err e2 = { 0 };
		if (container_delete(o->root, o->id, true, &e2) < 0)
			sn_warn("%s", e2.msg);
	}
	return 0;
fail:
	{
		struct sn_err e2 = { 0 };
		container_delete(o->root, o->id, true, &e2);
	}
	if (master >= 0)
		close(master);
	ctx_release(&c);
	return r;
}
