/* container_init.c — the container's init process, from clone to execve.
 *
 * Runs in the child of `subrun create`. Order matters and each step guards
 * something:
 *   1. (staged) join the namespaces given by path — the user namespace
 *      first — then unshare a new user namespace, so that namespaces made
 *      later are owned by it;
 *   2. ask the parent to write the id maps and to place us in the cgroup,
 *      and only then unshare the cgroup namespace (its root must be our
 *      cgroup);
 *   3. (staged, new pid ns) fork so that the init is pid 1;
 *   4. hostname, rootfs, create-time hooks, pivot_root, masked/read-only
 *      paths, sysctl, terminal (or, without one, a session of its own,
 *      as runc gives every container process);
 *   5. rlimits, no_new_privs, capabilities, identity, seccomp;
 *   6. tell the parent "created" and block on the exec fifo until `start`;
 *   7. startContainer hooks, close every fd we do not hand on, execve (its
 *      close-on-exec of the exec-done fifo tells `start` we are there).
 * Any failure before 6 travels to the parent as a struct sn_err; after 6
 * there is no parent to tell, so it goes to the container's stderr.
 */
#include "runtime/create_internal.h"
#include "runtime/confine.h"
#include "runtime/hooks.h"
#include "runtime/proc.h"
#include "runtime/rootfs.h"
#include "runtime/sync.h"
#include "runtime/terminal.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

char *container_hook_state(const char *id, const char *bundle, pid_t pid,
			   const char *status, json_t *annotations)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", "1.0.2", "id", id,
			      "status", status, "pid", (int)pid, "bundle", bundle);
	if (!j)
		return NULL;
	if (annotations)
		json_object_set(j, "annotations", annotations);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static int fail(struct create_ctx *c, struct sn_err *err)
{
	sync_send(c->sync_child, SYNC_ERROR, 0, err, -1, NULL);
	return 1;
}

static int join_namespaces(struct create_ctx *c, struct sn_err *err)
{
	/* user first: the others may be owned by it */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->n_join; i++) {
			bool is_user = c->join_type[i] == CLONE_NEWUSER;
			if ((pass == 0) != is_user)
				continue;
			if (setns(c->join_fd[i], c->join_type[i]) < 0)
				return sn_err_sys(err, "join %s namespace",
						  spec_namespace_name(c->join_type[i]));
		}
	return 0;
}

static int set_identity_root(void)
{
	/* In a fresh user namespace become its root if 0 is mapped; if not,
	 * the process keeps its overflow ids until confine sets the user. */
	if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

static int setup_namespaces(struct create_ctx *c, struct sn_err *err)
{
	int r;
	const struct spec *s = c->spec;
	bool new_user = c->new_flags & CLONE_NEWUSER;
	if (c->staged) {
		if ((r = join_namespaces(c, err)) < 0)
			return r;
		if (new_user && unshare(CLONE_NEWUSER) < 0)
			return sn_err_sys(err, "unshare user namespace");
	}
	struct sync_msg m;
	if ((r = sync_send(c->sync_child, SYNC_NS_READY, 0, NULL, -1, err)) < 0 ||
	    (r = sync_expect(c->sync_child, SYNC_NS_ACK, &m, NULL, err)) < 0)
		return r;
	if (new_user && (r = set_identity_root()) < 0)
		return sn_err_set(err, -r, "become root in the user namespace");
	int rest = c->staged ? (c->new_flags & ~CLONE_NEWUSER) : (c->new_flags & ~c->clone_flags);
	if (rest && unshare(rest) < 0)
		return sn_err_sys(err, "unshare namespaces (flags 0x%x)", rest);
	if (c->staged && (rest & CLONE_NEWPID)) {
		pid_t p = fork();
		if (p < 0)
			return sn_err_sys(err, "fork into the new pid namespace");
		if (p > 0) {
			sync_send(c->sync_child, SYNC_INIT_PID, p, NULL, -1, NULL);
			_exit(0);
		}
	}
	if (spec_find_namespace(s, CLONE_NEWUTS)) {
		if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
			return sn_err_sys(err, "sethostname `%s`", s->hostname);
		if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
			return sn_err_sys(err, "setdomainname `%s`", s->domainname);
	}
	return 0;
}

static int listen_fds(char *const *env)
{
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "LISTEN_FDS=", 11) == 0)
			return atoi(*e + 11);
	return 0;
}

static int load_seccomp_and_hand_over(struct create_ctx *c, struct sn_err *err)
{
	int nfd = -1;
	int r = confine_seccomp_load(c->spec->linux_.seccomp, &nfd, err);
	if (r < 0)
		return r;
	if (nfd >= 0) {
		struct sync_msg m;
		r = sync_send(c->sync_child, SYNC_SECCOMP_FD, 0, NULL, nfd, err);
		close(nfd);
		if (r == 0)
			r = sync_expect(c->sync_child, SYNC_SECCOMP_ACK, &m, NULL, err);
	}
	return r;
}

int container_init_main(struct create_ctx *c)
{
	struct sn_err err = { 0 };
	const struct spec *s = c->spec;
	const struct spec_process *p = s->process;
	int r;

	close(c->sync_parent);
	if (c->console_recv >= 0)
		close(c->console_recv);
	/* die with the create process while it still supervises us */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return sn_err_sys(&err, "prctl PDEATHSIG"), fail(c, &err);

	/* into the cgroup first: the limits hold from here on, and the
	 * cgroup namespace made below must be rooted there */
	if ((r = cgroup_join_self(&c->cg_join, &err)) < 0)
		return fail(c, &err);
	if ((r = setup_namespaces(c, &err)) < 0)
		return fail(c, &err);

	bool new_mnt = c->new_flags & CLONE_NEWNS;
	struct rootfs_ctx rc = {
		.spec = s, .rootfs = c->rootfs, .cgroup_path = c->cg ? c->cg->path : NULL,
		.new_cgroupns = c->new_flags & CLONE_NEWCGROUP,
		.in_userns = spec_find_namespace(s, CLONE_NEWUSER) != NULL,
		/* own netns, new or joined: a fresh sysfs shows its devices */
		.new_netns = spec_find_namespace(s, CLONE_NEWNET) != NULL,
	};
	if (new_mnt && (r = rootfs_prepare(&rc, &err)) < 0)
		return fail(c, &err);

	/* The exec fifo, opened by the parent (see container_create.c). */
	_cleanup_close_ int fifo = c->fifo_fd;
	c->fifo_fd = -1;
	/* c->done_fd stays open until execve closes it (close-on-exec): that
	 * EOF tells `start` the user's process is executed. */

	struct sync_msg m;
	if ((r = sync_send(c->sync_child, SYNC_HOOKS, 0, NULL, -1, &err)) < 0 ||
	    (r = sync_expect(c->sync_child, SYNC_HOOKS_ACK, &m, NULL, &err)) < 0)
		return fail(c, &err);
	pid_t host_pid = m.pid;
	if (s->hooks.n[SPEC_HOOK_CREATE_CONTAINER]) {
		_cleanup_free_ char *st = container_hook_state(c->o->id, c->bundle, host_pid,
							       "creating", s->annotations);
		if ((r = hooks_run(&s->hooks, SPEC_HOOK_CREATE_CONTAINER, st, &err)) < 0)
			return fail(c, &err);
	}
	/* sysctls and the terminal go before finalize: it makes /proc/sys
	 * read-only, and both need the container's /proc */
	if (new_mnt) {
		if ((r = rootfs_pivot(&rc, &err)) < 0)
			return fail(c, &err);
	} else if (chdir(c->rootfs) < 0 || chroot(".") < 0) {
		return sn_err_sys(&err, "chroot `%s`", c->rootfs), fail(c, &err);
	}
	if ((r = rootfs_sysctl(s, &err)) < 0)
		return fail(c, &err);
	if (p->terminal) {
		r = terminal_setup(c->console_sock, new_mnt, p->console_height, p->console_width, &err);
		if (r < 0)
			return fail(c, &err);
		close(c->console_sock);
		c->console_sock = -1;
	} else if ((r = terminal_new_session(&err)) < 0) {
		return fail(c, &err);
	}
	if (new_mnt && (r = rootfs_finalize(&rc, &err)) < 0)
		return fail(c, &err);
	if (s->linux_.personality.set) {
		unsigned long pers = strcmp(s->linux_.personality.domain, "LINUX32") == 0 ? PER_LINUX32 : PER_LINUX;
		if (personality(pers) < 0)
			return sn_err_sys(&err, "personality %s", s->linux_.personality.domain), fail(c, &err);
	}
	_cleanup_free_ char *exe = NULL;
	if ((r = proc_find_executable(p->args[0], p->env, &exe, &err)) < 0)
		return fail(c, &err);
	/* HOME from the container's /etc/passwd, while we can read it */
	_cleanup_(proc_env_home_freep) char **env_home = NULL;
	if ((r = proc_env_add_home(p->env, p->user.uid, &env_home, &err)) < 0)
		return fail(c, &err);
	char *const *envp = env_home ? env_home : p->env;

	/* confinement: see confine.h for why this order */
	const struct spec_seccomp *sc = s->linux_.seccomp;
	bool notify = false;
	if (sc) {
		notify = sc->default_action == SCMP_ACT_NOTIFY;
		for (size_t i = 0; i < sc->n_syscalls; i++)
			notify |= sc->syscalls[i].action == SCMP_ACT_NOTIFY;
	}
	if ((r = confine_reset_signals(&err)) < 0 ||
	    (r = confine_rlimits(p->rlimits, p->n_rlimits, &err)) < 0)
		return fail(c, &err);
	if (p->oom_score_adj != SPEC_UNSET && (r = confine_oom_score_adj(p->oom_score_adj, &err)) < 0)
		return fail(c, &err);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sn_err_sys(&err, "prctl NO_NEW_PRIVS"), fail(c, &err);
	bool seccomp_done = false;
	if (sc && (!p->no_new_privileges || notify)) {
		if ((r = load_seccomp_and_hand_over(c, &err)) < 0)
			return fail(c, &err);
		seccomp_done = true;
	}
	if ((r = confine_identity_and_caps(p, &err)) < 0)
		return fail(c, &err);
	if (p->user.umask != SPEC_UNSET)
		umask((mode_t)p->user.umask);
	if (chdir(p->cwd) < 0)
		return sn_err_sys(&err, "chdir to cwd `%s` set in config.json", p->cwd), fail(c, &err);

	if (prctl(PR_SET_PDEATHSIG, 0) < 0)
		return sn_err_sys(&err, "prctl PDEATHSIG"), fail(c, &err);
	if ((r = sync_send(c->sync_child, SYNC_CREATED, 0, NULL, -1, &err)) < 0)
		return 1;
	close(c->sync_child);

	/* Blocked here until `start`. */
	char b;
	ssize_t n;
	n = SN_RETRY_EINTR(read(fifo, &b, 1));
	if (n != 1) {
		fprintf(stderr, "subrun: container init: read exec fifo: %s\n", strerror(errno));
		return 1;
	}
	if (s->hooks.n[SPEC_HOOK_START_CONTAINER]) {
		_cleanup_free_ char *st = container_hook_state(c->o->id, c->bundle, host_pid,
							       "created", s->annotations);
		if (hooks_run(&s->hooks, SPEC_HOOK_START_CONTAINER, st, &err) < 0) {
			fprintf(stderr, "subrun: %s\n", err.msg);
			return 1;
		}
	}
	if (sc && !seccomp_done && (r = confine_seccomp_load(sc, NULL, &err)) < 0) {
		fprintf(stderr, "subrun: %s\n", err.msg);
		return 1;
	}
	int keep = 3 + c->o->preserve_fds + listen_fds(p->env);
	if (sn_fds_close_from((unsigned)keep, SN_FDS_CLOEXEC, &err) < 0) {
		fprintf(stderr, "subrun: %s\n", err.msg);
		return 1;
	}
	execve(exe, p->args, envp ? envp : (char *[]){ NULL });
	fprintf(stderr, "subrun: exec `%s`: %s\n", exe, strerror(errno));
	return 127;
}
