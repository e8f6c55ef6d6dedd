/* hooks.c — running OCI hooks (prestart, createRuntime, createContainer,
 * startContainer, poststart, poststop).
 *
 * One hook = fork + execve(path, args or [path], env), with:
 *  - env: the hook's own when the config gives one (`[]` is an empty
 *    environment); without an `env` key the hook inherits ours, as runc
 *    and crun do (the spec leaves it open, and hooks such as the NVIDIA
 *    one expect PATH and their variables from the caller's environment);
 *  - stdin: a pipe carrying the container state JSON. Hooks may exit
 *    without reading it, so SIGPIPE is blocked in the calling thread while
 *    the hook runs (EPIPE is then just "the hook did not want it"), and a
 *    SIGPIPE raised by us is consumed before the old mask comes back;
 *  - stdout, stderr: pipes we read. stdout goes to the debug log only;
 *    the last ~4 KiB of stderr go into the error message when the hook fails;
 *  - no other fd of ours (everything above 2 closed in the child), default
 *    signal dispositions and an empty signal mask, its own process group;
 *  - exec failure reported back through a close-on-exec pipe, so "no such
 *    file" is an error about the path, not "exited with status 127".
 *
 * Waiting is one poll loop over the pipes and a pidfd (pidfd_open; on a
 * kernel without it the loop ticks every 50 ms and tries waitpid WNOHANG).
 * The hook's exit ends the loop even when a grandchild it left behind
 * still holds the pipes open (a daemonizing hook must not hang us). A hook
 * past its timeout is killed with SIGKILL, its process group too.
 *
 * Error codes: ETIMEDOUT for a timeout, EIO for a non-zero exit or a
 * signal, the errno of execve when it could not start.
 */
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/clock.h"
#include "base/fd.h"
#include "base/log.h"

#define HOOK_OUT_KEEP 4096

static const char *const hook_kind_names[SPEC_HOOK_KINDS] = {
	[SPEC_HOOK_PRESTART] = "prestart",
	[SPEC_HOOK_CREATE_RUNTIME] = "createRuntime",
	[SPEC_HOOK_CREATE_CONTAINER] = "createContainer",
	[SPEC_HOOK_START_CONTAINER] = "startContainer",
	[SPEC_HOOK_POSTSTART] = "poststart",
	[SPEC_HOOK_POSTSTOP] = "poststop",
};

const char *hooks_kind_name(enum spec_hook_kind kind)
{
	if ((int)kind < 0 || kind >= SPEC_HOOK_KINDS)
		return "unknown";
	return hook_kind_names[kind];
}

/* The tail of a stream: at most HOOK_OUT_KEEP bytes, the newest ones. */
struct tailbuf {
	char data[2 * HOOK_OUT_KEEP];
	size_t len;
	bool cut;                /* older bytes were dropped */
};

static void tail_add(struct tailbuf *t, const char *p, size_t n)
{
	if (n >= HOOK_OUT_KEEP) {
		p += n - HOOK_OUT_KEEP;
		n = HOOK_OUT_KEEP;
		t->len = 0;
		t->cut = true;
	}
	if (t->len + n > sizeof(t->data)) {
		size_t drop = t->len + n - HOOK_OUT_KEEP;
		if (drop > t->len)
			drop = t->len;
		memmove(t->data, t->data + drop, t->len - drop);
		t->len -= drop;
		t->cut = true;
	}
	memcpy(t->data + t->len, p, n);
	t->len += n;
}

/* The last HOOK_OUT_KEEP bytes as a C string, trailing blanks removed. */
static const char *tail_str(struct tailbuf *t)
{
	size_t start = t->len > HOOK_OUT_KEEP ? t->len - HOOK_OUT_KEEP : 0;
	size_t end = t->len;
	while (end > start && (t->data[end - 1] == '\n' || t->data[end - 1] == ' ' ||
			       t->data[end - 1] == '\r' || t->data[end - 1] == '\t'))
		end--;
	if (end == sizeof(t->data))
		end--;
	t->data[end] = '\0';
	return t->data + start;
}

/* Read what is there (non-blocking fd); returns false on EOF or error. */
static bool drain(int fd, struct tailbuf *t)
{
	char buf[4096];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r > 0) {
			tail_add(t, buf, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return true;
		return false;
	}
}

/* In the child: put fd on target, leaving it open across exec. */
static int child_move(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target);
}

/* The child after fork: only async-signal-safe calls. Never returns. */
static void hook_child(const char *path, char *const argv[], char *const envp[],
		       int in_fd, int out_fd, int errfd_, int report_fd)
{
	int e;
	/* Lift every fd above the stdio range first, so dup2 cannot clobber
	 * one we still need. */
	int in = fcntl(in_fd, F_DUPFD_CLOEXEC, 10);
	int out = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
	int errf = fcntl(errfd_, F_DUPFD_CLOEXEC, 10);
	int rep = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
	if (in < 0 || out < 0 || errf < 0 || rep < 0)
		goto fail;
	if (rep != 3 && dup3(rep, 3, O_CLOEXEC) < 0)
		goto fail;
	rep = 3;
	if (child_move(in, 0) < 0 || child_move(out, 1) < 0 || child_move(errf, 2) < 0)
		goto fail;
	if (sn_fds_close_from(4, SN_FDS_CLOSE, NULL) < 0)
		goto fail;

	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* SIGKILL/SIGSTOP refuse: fine */
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		goto fail;
	/* Own group, so a timeout can kill what the hook started too. */
	setpgid(0, 0);

	execve(path, argv, envp);
fail:
	e = errno;
	if (write(rep >= 0 ? rep : report_fd, &e, sizeof(e)) < 0) {
		/* nothing left to tell anyone */
	}
	_exit(127);
}

struct hook_io {
	struct tailbuf out, err;
};

static int hook_run_one(const struct spec_hook *h, const char *label,
			const char *state_json, struct hook_io *io, struct sn_err *err)
{
	_cleanup_close_ int in_r = -1, in_w = -1, out_r = -1, out_w = -1,
			    err_r = -1, err_w = -1, rep_r = -1, rep_w = -1, pidfd = -1;
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return sn_err_sys(err, "%s: pipe", label);
	in_r = p[0], in_w = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sn_err_sys(err, "%s: pipe", label);
	out_r = p[0], out_w = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sn_err_sys(err, "%s: pipe", label);
	err_r = p[0], err_w = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sn_err_sys(err, "%s: pipe", label);
	rep_r = p[0], rep_w = p[1];

	/* argv / envp before fork: the child may not allocate. */
	char *argv_path[2] = { h->path, NULL };
	char *const *argv = (h->args && h->n_args) ? h->args : argv_path;
	char *const *envp = h->env ? h->env : environ;

	pid_t pid = fork();
	if (pid < 0)
		return sn_err_sys(err, "%s: fork", label);
	if (pid == 0)
		hook_child(h->path, argv, envp, in_r, out_w, err_w, rep_w);

	sn_closep(&in_r), in_r = -1;
	sn_closep(&out_w), out_w = -1;
	sn_closep(&err_w), err_w = -1;
	sn_closep(&rep_w), rep_w = -1;

	/* Did execve happen? EOF = yes; an int = its errno. */
	int exec_errno = 0;
	ssize_t n;
	n = SN_RETRY_EINTR(read(rep_r, &exec_errno, sizeof(exec_errno)));
	if (n == (ssize_t)sizeof(exec_errno)) {
		int st;
		SN_RETRY_EINTR(waitpid(pid, &st, 0));
		return sn_err_set(err, exec_errno, "%s: execve", label);
	}

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int nb = 0;
	if ((nb = sn_fd_set_nonblock(in_w, true, err)) < 0 ||
	    (nb = sn_fd_set_nonblock(out_r, true, err)) < 0 ||
	    (nb = sn_fd_set_nonblock(err_r, true, err)) < 0) {
		kill(pid, SIGKILL);
		SN_RETRY_EINTR(waitpid(pid, NULL, 0));
		sn_err_wrap(err, "%s", label);
		return nb;
	}

	const char *in_data = state_json ? state_json : "";
	size_t in_len = strlen(in_data), in_off = 0;
	if (in_len == 0)
		sn_closep(&in_w), in_w = -1;

	int64_t timeout_ms = h->timeout == SPEC_UNSET || h->timeout <= 0 ? -1 : h->timeout * 1000;
	int64_t deadline = timeout_ms >= 0 ? sn_now_ms() + timeout_ms : -1;
	bool timed_out = false;
	int status = 0;
	bool reaped = false;

	for (;;) {
		struct pollfd pf[4];
		nfds_t np = 0;
		int i_in = -1, i_out = -1, i_err = -1, i_pid = -1;
		if (in_w >= 0)
			i_in = (int)np, pf[np++] = (struct pollfd){ in_w, POLLOUT, 0 };
		if (out_r >= 0)
			i_out = (int)np, pf[np++] = (struct pollfd){ out_r, POLLIN, 0 };
		if (err_r >= 0)
			i_err = (int)np, pf[np++] = (struct pollfd){ err_r, POLLIN, 0 };
		if (pidfd >= 0)
			i_pid = (int)np, pf[np++] = (struct pollfd){ pidfd, POLLIN, 0 };

		int wait_ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - sn_now_ms();
			wait_ms = left > 0 ? (int)left : 0;
		}
		if (pidfd < 0 && (wait_ms < 0 || wait_ms > 50))
			wait_ms = 50;
		int r = poll(pf, np, wait_ms);
		if (r < 0 && errno != EINTR) {
			int e = errno;
			kill(pid, SIGKILL);
			SN_RETRY_EINTR(waitpid(pid, NULL, 0));
			return sn_err_set(err, e, "%s: poll", label);
		}
		if (r > 0) {
			if (i_in >= 0 && pf[i_in].revents) {
				ssize_t w = write(in_w, in_data + in_off, in_len - in_off);
				if (w > 0)
					in_off += (size_t)w;
				/* EPIPE: the hook does not read stdin. Fine. */
				if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_len)
					sn_closep(&in_w), in_w = -1;
			}
			if (i_out >= 0 && pf[i_out].revents && !drain(out_r, &io->out))
				sn_closep(&out_r), out_r = -1;
			if (i_err >= 0 && pf[i_err].revents && !drain(err_r, &io->err))
				sn_closep(&err_r), err_r = -1;
		}
		bool exited = false;
		if (pidfd >= 0)
			exited = r > 0 && i_pid >= 0 && pf[i_pid].revents;
		else
			exited = true; /* probe below */
		if (exited) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				reaped = true;
				break;
			}
		}
		if (deadline >= 0 && sn_now_ms() >= deadline) {
			timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
	}
	if (!reaped) {
		SN_RETRY_EINTR(waitpid(pid, &status, 0));
	}
	/* What the hook wrote before it ended; a grandchild holding the pipes
	 * gets no more of our time. */
	if (out_r >= 0)
		drain(out_r, &io->out);
	if (err_r >= 0)
		drain(err_r, &io->err);

	if (io->out.len)
		sn_debug("%s stdout: %s", label, tail_str(&io->out));
	if (timed_out)
		return sn_err_msg(err, ETIMEDOUT, "%s timed out after %lld s", label,
				  (long long)h->timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;

	char how[64];
	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));
		snprintf(how, sizeof(how), "was killed by signal %d (SIG%s)", WTERMSIG(status),
			 abbrev ? abbrev : "?");
	} else
		snprintf(how, sizeof(how), "ended with wait status %#x", status);
	const char *tail = tail_str(&io->err);
	if (!*tail)
		return sn_err_msg(err, EIO, "%s %s", label, how);
	/* The message has room for about 1 KiB: keep the end of stderr, where
	 * the reason usually is. */
	size_t room = SN_ERR_MSG_MAX - 1;
	size_t used = strlen(label) + strlen(how) + 8;
	size_t tl = strlen(tail);
	if (used < room && tl > room - used) {
		tail += tl - (room - used) + 3;
		return sn_err_msg(err, EIO, "%s %s: ...%s", label, how, tail);
	}
	return sn_err_msg(err, EIO, "%s %s: %s", label, how, tail);
}

int hooks_run(const struct spec_hooks *hooks, enum spec_hook_kind kind,
	      const char *state_json, struct sn_err *err)
{
	if (!hooks || (int)kind < 0 || kind >= SPEC_HOOK_KINDS)
		return 0;

	/* Writing the state to a hook that does not read it raises SIGPIPE:
	 * block it here, and swallow the one we cause. */
	sigset_t pipe_set, old_mask, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	int r = pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	if (r != 0)
		return sn_err_set(err, r, "hooks: block SIGPIPE");
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE) == 1;

	/* The spec: a failing poststart/poststop hook is a warning and "the
	 * remaining hooks and lifecycle continue": those kinds run every hook
	 * and return the first failure (the caller logs it); later failures
	 * are logged here. Every other kind stops at the first failure. */
	bool go_on = kind == SPEC_HOOK_POSTSTART || kind == SPEC_HOOK_POSTSTOP;
	int ret = 0;
	for (size_t i = 0; i < hooks->n[kind]; i++) {
		const struct spec_hook *h = &hooks->list[kind][i];
		struct sn_err later = { 0 };
		struct sn_err *e = ret < 0 ? &later : err;
		char label[512];
		snprintf(label, sizeof(label), "hook %s[%zu] `%s`", hooks_kind_name(kind), i,
			 h->path ? h->path : "(null)");
		int r1;
		struct hook_io *io = NULL;
		if (!h->path) {
			r1 = sn_err_msg(e, EINVAL, "%s: no path", label);
		} else if (!(io = calloc(1, sizeof(*io)))) {
			r1 = sn_err_set(e, ENOMEM, "%s", label);
		} else {
			sn_debug("running %s", label);
			r1 = hook_run_one(h, label, state_json, io, e);
			free(io);
		}
		if (r1 < 0 && ret < 0)
			sn_warn("%s", later.msg);
		else if (r1 < 0)
			ret = r1;
		if (ret < 0 && !go_on)
			break;
	}

	sigemptyset(&pending);
	sigpending(&pending);
	if (!was_pending && sigismember(&pending, SIGPIPE) == 1) {
		struct timespec zero = { 0, 0 };
		SN_RETRY_EINTR(sigtimedwait(&pipe_set, NULL, &zero));
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	return ret;
}
