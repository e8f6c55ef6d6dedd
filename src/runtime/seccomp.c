/* seccomp.c — the container's seccomp filter (libseccomp) and the hand-over
 * of its user-notification fd to a seccomp agent.
 *
 * Building follows runc, so a profile behaves the same under both:
 *  - default action (+ defaultErrnoRet), extra architectures (the native
 *    one is always there), one libseccomp rule per syscall name;
 *  - a syscall name this libseccomp cannot resolve is skipped with a debug
 *    line: the name may exist only on another architecture or kernel;
 *  - a rule whose action equals the default action is skipped (libseccomp
 *    refuses it and it would change nothing);
 *  - args of one rule are ANDed in one libseccomp rule; when two args name
 *    the same index (libseccomp refuses that) every arg becomes its own
 *    rule, as runc does — which makes them ORed;
 *  - libseccomp must not set no_new_privs by itself (CTL_NNP off): NNP is
 *    the spec's choice and confine.c sets it in its place in the order.
 *
 * Flags map to libseccomp attributes (TSYNC, LOG, SPEC_ALLOW = CTL_SSB).
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV has no attribute before libseccomp
 * 2.6; with an older libseccomp the filter is exported as BPF and loaded
 * with seccomp(2) directly, with the flags the kernel wants (NEW_LISTENER
 * when a rule notifies, TSYNC_ESRCH with TSYNC + a listener), so the flag
 * works on any kernel that has it (5.19+).
 *
 * The notify fd is handed to the agent over its unix socket: one sendmsg
 * with the container state JSON as the payload and the fd as SCM_RIGHTS
 * (OCI runtime spec, "seccomp listener"). The state already carries
 * "fds": ["seccompFd"] and listenerMetadata; the caller builds it.
 */
#include "runtime/confine.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fd.h"
#include "base/log.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define SN_HAVE_SCMP_WAITKILL \
	(SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6))

static void scmp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* The full libseccomp action for a spec action (a base value; ERRNO and
 * TRACE carry errno_ret). */
static int seccomp_action(uint32_t base, int64_t errno_ret, uint32_t *out,
			  const char *what, struct sn_err *err)
{
	uint32_t data = base & 0xffffu;
	switch (base & 0xffff0000u) {
	case SCMP_ACT_KILL_PROCESS:
	case SCMP_ACT_KILL_THREAD:
	case SCMP_ACT_TRAP:
	case SCMP_ACT_NOTIFY:
	case SCMP_ACT_LOG:
	case SCMP_ACT_ALLOW:
		*out = base;
		return 0;
	case SCMP_ACT_ERRNO(0):
	case SCMP_ACT_TRACE(0): {
		int64_t v = errno_ret;
		if (v == SPEC_UNSET)
			v = data ? data : ((base & 0xffff0000u) == SCMP_ACT_ERRNO(0) ? EPERM : 0);
		if (v < 0 || v > 0xffff)
			return sn_err_msg(err, EINVAL, "%s: errnoRet %lld out of range",
					  what, (long long)v);
		*out = (base & 0xffff0000u) | (uint32_t)v;
		return 0;
	}
	default:
		return sn_err_msg(err, EINVAL, "%s: unknown action %#x", what, base);
	}
}

enum { FLAG_RAW_WAIT_KILLABLE = 1 };

static int seccomp_apply_flags(scmp_filter_ctx ctx, const struct spec_seccomp *sc,
			       unsigned *raw_flags, struct sn_err *err)
{
	*raw_flags = 0;
	for (size_t i = 0; i < sc->n_flags; i++) {
		const char *f = sc->flags[i];
		int attr = -1;
		if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			attr = SCMP_FLTATR_CTL_TSYNC;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			attr = SCMP_FLTATR_CTL_LOG;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			attr = SCMP_FLTATR_CTL_SSB;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0) {
#if SN_HAVE_SCMP_WAITKILL
			attr = SCMP_FLTATR_CTL_WAITKILL;
#else
			*raw_flags |= FLAG_RAW_WAIT_KILLABLE;
			continue;
#endif
		} else {
			return sn_err_msg(err, EINVAL, "seccomp flag `%s`: not supported", f);
		}
		int r = seccomp_attr_set(ctx, (enum scmp_filter_attr)attr, 1);
		if (r < 0)
			return sn_err_set(err, -r, "seccomp flag `%s`", f);
	}
	return 0;
}

/* Add the rule for one syscall number with the spec's args. */
static int seccomp_add_one(scmp_filter_ctx ctx, uint32_t action, int nr,
			   const struct spec_seccomp_rule *rule, size_t ri,
			   const char *name, struct sn_err *err)
{
	struct scmp_arg_cmp conds[6];
	size_t n = rule->n_args;
	bool same_index = false;
	int r;

	if (n > SN_ARRAY_SIZE(conds)) {
		/* More than 6 args must repeat an index: split (below). */
		same_index = true;
	}
	for (size_t i = 0; i < n; i++) {
		const struct spec_seccomp_arg *a = &rule->args[i];
		if (a->index > 5)
			return sn_err_msg(err, EINVAL, "seccomp syscalls[%zu].args[%zu]: index %u out of range",
					  ri, i, a->index);
		if (a->op < SCMP_CMP_NE || a->op > SCMP_CMP_MASKED_EQ)
			return sn_err_msg(err, EINVAL, "seccomp syscalls[%zu].args[%zu]: unknown op %d",
					  ri, i, a->op);
		for (size_t j = 0; j < i; j++)
			if (rule->args[j].index == a->index)
				same_index = true;
	}

	if (!same_index) {
		for (size_t i = 0; i < n; i++) {
			const struct spec_seccomp_arg *a = &rule->args[i];
			conds[i] = (struct scmp_arg_cmp){ .arg = a->index,
							  .op = (enum scmp_compare)a->op,
							  .datum_a = a->value,
							  .datum_b = a->value_two };
		}
		r = seccomp_rule_add_array(ctx, action, nr, (unsigned)n, n ? conds : NULL);
		if (r < 0)
			return sn_err_set(err, -r, "seccomp syscalls[%zu] `%s`: add rule (action %#x)",
					  ri, name, action);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct spec_seccomp_arg *a = &rule->args[i];
		struct scmp_arg_cmp c = { .arg = a->index, .op = (enum scmp_compare)a->op,
					  .datum_a = a->value, .datum_b = a->value_two };
		r = seccomp_rule_add_array(ctx, action, nr, 1, &c);
		if (r < 0)
			return sn_err_set(err, -r, "seccomp syscalls[%zu] `%s` args[%zu]: add rule (action %#x)",
					  ri, name, i, action);
	}
	return 0;
}

/* Load an already built filter with seccomp(2) ourselves: for flags this
 * libseccomp cannot express. Returns the listener fd (or -1) in *nfd. */
static int seccomp_load_raw(scmp_filter_ctx ctx, const struct spec_seccomp *sc,
			    bool has_notify, unsigned raw_flags, int *nfd,
			    struct sn_err *err)
{
	_cleanup_close_ int mfd = memfd_create("sn-seccomp-bpf", MFD_CLOEXEC);
	if (mfd < 0)
		return sn_err_sys(err, "memfd_create for the seccomp filter");
	int r = seccomp_export_bpf(ctx, mfd);
	if (r < 0)
		return sn_err_set(err, -r, "seccomp_export_bpf");
	off_t size = lseek(mfd, 0, SEEK_END);
	if (size < 0)
		return sn_err_sys(err, "lseek seccomp filter");
	if (size == 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return sn_err_msg(err, EINVAL, "seccomp filter: bad BPF size %lld",
				  (long long)size);
	_cleanup_free_ struct sock_filter *prog_buf = malloc((size_t)size);
	if (!prog_buf)
		return sn_err_set(err, ENOMEM, "seccomp filter");
	ssize_t got = pread(mfd, prog_buf, (size_t)size, 0);
	if (got != size)
		return sn_err_set(err, got < 0 ? errno : EIO, "read back seccomp filter");

	unsigned long flags = 0;
	for (size_t i = 0; i < sc->n_flags; i++) {
		if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			flags |= SECCOMP_FILTER_FLAG_TSYNC;
		else if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
			flags |= SECCOMP_FILTER_FLAG_LOG;
		else if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	}
	if (has_notify) {
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		if (flags & SECCOMP_FILTER_FLAG_TSYNC)
			flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
		if (raw_flags & FLAG_RAW_WAIT_KILLABLE)
			flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	} else if (raw_flags & FLAG_RAW_WAIT_KILLABLE) {
		/* The kernel only accepts it with a listener; it means nothing
		 * without one. */
		sn_debug("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: no SCMP_ACT_NOTIFY rule");
	}

	struct sock_fprog prog = {
		.len = (unsigned short)(size / (off_t)sizeof(struct sock_filter)),
		.filter = prog_buf,
	};
	long ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (ret < 0)
		return sn_err_sys(err, "seccomp(SECCOMP_SET_MODE_FILTER, flags %#lx)", flags);
	if (!has_notify && ret > 0)
		return sn_err_msg(err, ESRCH, "seccomp TSYNC: thread %ld could not be synchronized", ret);
	*nfd = has_notify ? (int)ret : -1;
	return 0;
}

int confine_seccomp_load(const struct spec_seccomp *sc, int *notify_fd, struct sn_err *err)
{
	int r;
	if (notify_fd)
		*notify_fd = -1;
	if (!sc)
		return 0;

	uint32_t def;
	r = seccomp_action(sc->default_action, sc->default_errno_ret, &def,
			   "seccomp defaultAction", err);
	if (r < 0)
		return r;
	bool has_notify = (def == SCMP_ACT_NOTIFY);

	_cleanup_(scmp_releasep) scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return sn_err_msg(err, EINVAL, "seccomp_init (default action %#x) failed", def);
	/* NNP is the spec's decision, taken in confine_process. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return sn_err_set(err, -r, "seccomp: clear the no_new_privs attribute");
	/* Real errnos from seccomp_load instead of ECANCELED. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (r < 0)
		return sn_err_set(err, -r, "seccomp: set the SYSRAWRC attribute");

	for (size_t i = 0; i < sc->n_architectures; i++) {
		r = seccomp_arch_add(ctx, sc->architectures[i]);
		if (r < 0 && r != -EEXIST)
			return sn_err_set(err, -r, "seccomp architectures[%zu] (%#x)", i,
					  sc->architectures[i]);
	}

	unsigned raw_flags;
	r = seccomp_apply_flags(ctx, sc, &raw_flags, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct spec_seccomp_rule *rule = &sc->syscalls[i];
		char what[48];
		snprintf(what, sizeof(what), "seccomp syscalls[%zu]", i);
		uint32_t act;
		r = seccomp_action(rule->action, rule->errno_ret, &act, what, err);
		if (r < 0)
			return r;
		if (act == def) {
			sn_debug("seccomp syscalls[%zu]: action equals the default action, skipped", i);
			continue;
		}
		for (size_t k = 0; k < rule->n_names; k++) {
			const char *name = rule->names[k];
			int nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR) {
				sn_debug("seccomp: unknown syscall `%s` skipped", name);
				continue;
			}
			r = seccomp_add_one(ctx, act, nr, rule, i, name, err);
			if (r < 0)
				return r;
			if (act == SCMP_ACT_NOTIFY)
				has_notify = true;
		}
	}

	if (raw_flags) {
		int fd = -1;
		r = seccomp_load_raw(ctx, sc, has_notify, raw_flags, &fd, err);
		if (r < 0)
			return r;
		if (notify_fd)
			*notify_fd = fd;
		else if (fd >= 0)
			close(fd);
		return 0;
	}

	r = seccomp_load(ctx);
	if (r < 0)
		return sn_err_set(err, -r, "seccomp_load");
	if (has_notify) {
		int fd = seccomp_notify_fd(ctx);
		if (fd < 0)
			return sn_err_set(err, -fd, "seccomp_notify_fd");
		if (notify_fd)
			*notify_fd = fd;
		else
			close(fd);
	}
	return 0;
}

int seccomp_notify_send(const char *listener_path, int notify_fd,
			const char *state_json, struct sn_err *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (!listener_path || strlen(listener_path) >= sizeof(addr.sun_path))
		return sn_err_msg(err, ENAMETOOLONG, "seccomp listener `%s`: path too long",
				  listener_path ? listener_path : "(null)");
	strcpy(addr.sun_path, listener_path);
	if (notify_fd < 0)
		return sn_err_msg(err, EBADF, "seccomp listener `%s`: no notify fd", listener_path);

	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return sn_err_sys(err, "seccomp listener `%s`: socket", listener_path);
	if (SN_RETRY_EINTR(connect(s, (struct sockaddr *)&addr, sizeof(addr))) < 0)
		return sn_err_sys(err, "connect to seccomp listener `%s`", listener_path);

	const char *data = state_json ? state_json : "";
	size_t len = strlen(data);
	/* The payload must not be empty: the fd travels with the first byte. */
	int r = sn_fd_send(s, notify_fd, len ? data : "", len ? len : 1, err);
	if (r < 0)
		sn_err_wrap(err, "send state and notify fd to seccomp listener `%s`", listener_path);
	return r;
}
