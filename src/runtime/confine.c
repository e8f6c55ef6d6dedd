/* confine.c — the last steps of a container process before execve:
 * rlimits, oom_score_adj, no_new_privs, identity (groups, gid, uid), and the
 * order that ties them to capabilities (caps.c) and seccomp (seccomp.c).
 *
 * Order (confine.h has the reasons):
 *   1. rlimits, oom_score_adj   still fully privileged, so raising works
 *   2. no_new_privs
 *   3. seccomp, if no_new_privs is off: loading a filter without NNP needs
 *      CAP_SYS_ADMIN, which only holds until step 4
 *   4. bounding set (needs CAP_SETPCAP), PR_SET_KEEPCAPS so the uid change
 *      keeps the permitted set, setgroups/setresgid/setresuid, then the
 *      effective/permitted/inheritable/ambient sets, then KEEPCAPS off
 *   5. umask (a plain syscall that cannot fail; done before the filter so
 *      the filter cannot get in its way)
 *   6. seccomp, if no_new_privs is on: last, so the fewest syscalls of ours
 *      run under the container's filter
 *
 * Threat model: this runs in the container init (or the exec child) with
 * full privilege over a process that is about to run untrusted code. Every
 * step is checked; a step that fails aborts the whole confinement, because
 * a half-confined process must never reach execve. Errors name the object
 * and the values (`setrlimit RLIMIT_NOFILE (soft 30000, hard 30000): ...`).
 */
#include "runtime/confine.h"

#include <errno.h>
#include <signal.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

static const char *rlim_str(uint64_t v, char *buf, size_t len)
{
	if (v == (uint64_t)RLIM_INFINITY)
		return "unlimited";
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

int confine_reset_signals(struct sn_err *err)
{
	/* the kernel's struct: glibc's sigaction() refuses 32 and 33 (its own
	 * internal signals), and its posix_spawn leaves them ignored in every
	 * child — which would pass on to the container's program */
	struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; }
		dfl = { .handler = SIG_DFL };
	for (int sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask)) < 0)
			return sn_err_sys(err, "reset the action of signal %d", sig);
	}
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return sn_err_sys(err, "unblock every signal");
	return 0;
}

int confine_rlimits(const struct spec_rlimit *r, size_t n, struct sn_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct rlimit rl = { .rlim_cur = r[i].soft, .rlim_max = r[i].hard };
		if (setrlimit(r[i].type, &rl) == 0)
			continue;
		char nb[32], sb[24], hb[24];
		const char *name = r[i].name;
		if (!name) {
			snprintf(nb, sizeof(nb), "rlimit %d", r[i].type);
			name = nb;
		}
		return sn_err_sys(err, "setrlimit %s (soft %s, hard %s)", name,
				  rlim_str(r[i].soft, sb, sizeof(sb)),
				  rlim_str(r[i].hard, hb, sizeof(hb)));
	}
	return 0;
}

int confine_oom_score_adj(int64_t adj, struct sn_err *err)
{
	if (adj == SPEC_UNSET)
		return 0;
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRId64, adj);
	int r = sn_write_existing("/proc/self/oom_score_adj", buf, err);
	if (r < 0)
		return sn_err_wrap(err, "set oom_score_adj %s", buf);
	return 0;
}

/* setgroups(0) is refused in a user namespace whose /proc/<pid>/setgroups
 * says "deny"; having no supplementary groups is then already true. */
static bool setgroups_denied(void)
{
	_cleanup_free_ char *s = NULL;
	struct sn_err ignored = { 0 };
	if (sn_read_file("/proc/self/setgroups", 64, &s, NULL, &ignored) < 0)
		return false;
	return strncmp(s, "deny", 4) == 0;
}

int confine_identity(const struct spec_user *u, struct sn_err *err)
{
	if (setgroups(u->n_additional_gids, u->additional_gids) < 0) {
		if (!(u->n_additional_gids == 0 && errno == EPERM && setgroups_denied())) {
			if (u->n_additional_gids == 0)
				return sn_err_sys(err, "setgroups (none)");
			char list[256] = "";
			size_t off = 0;
			for (size_t i = 0; i < u->n_additional_gids && off < sizeof(list); i++) {
				int w = snprintf(list + off, sizeof(list) - off, "%s%u",
						 i ? "," : "", (unsigned)u->additional_gids[i]);
				if (w < 0)
					break;
				off += (size_t)w;
			}
			return sn_err_sys(err, "setgroups [%s]", list);
		}
	}
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return sn_err_sys(err, "setresgid %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return sn_err_sys(err, "setresuid %u", (unsigned)u->uid);
	return 0;
}

static int confine_no_new_privs(struct sn_err *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sn_err_sys(err, "prctl(PR_SET_NO_NEW_PRIVS)");
	return 0;
}

/* Step 4: bounding set, uid change with the permitted set kept, the other
 * capability sets. Without a `capabilities` object only the identity
 * changes, with the kernel's usual setuid rules (as runc). */
int confine_identity_and_caps(const struct spec_process *p, struct sn_err *err)
{
	int r;
	if (!p->has_caps)
		return confine_identity(&p->user, err);

	r = confine_drop_bounding(&p->caps, err);
	if (r < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return sn_err_sys(err, "prctl(PR_SET_KEEPCAPS, 1)");
	r = confine_identity(&p->user, err);
	if (r < 0)
		return r;
	r = confine_caps(&p->caps, err);
	if (r < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return sn_err_sys(err, "prctl(PR_SET_KEEPCAPS, 0)");
	return 0;
}

int confine_process(const struct spec_process *p, const struct spec_seccomp *sc,
		    int *notify_fd, struct sn_err *err)
{
	_cleanup_close_ int nfd = -1;
	int r;

	if (notify_fd)
		*notify_fd = -1;

	r = confine_rlimits(p->rlimits, p->n_rlimits, err);
	if (r < 0)
		return r;
	r = confine_oom_score_adj(p->oom_score_adj, err);
	if (r < 0)
		return r;
	if (p->no_new_privileges) {
		r = confine_no_new_privs(err);
		if (r < 0)
			return r;
	}
	if (sc && !p->no_new_privileges) {
		r = confine_seccomp_load(sc, &nfd, err);
		if (r < 0)
			return r;
	}
	r = confine_identity_and_caps(p, err);
	if (r < 0)
		return r;
	if (p->user.umask != SPEC_UNSET)
		umask((mode_t)(p->user.umask & 0777));
	if (sc && p->no_new_privileges) {
		r = confine_seccomp_load(sc, &nfd, err);
		if (r < 0)
			return r;
	}
	if (notify_fd)
		*notify_fd = steal_fd(nfd);
	return 0;
}

void confine_warn_lsm(const struct spec_process *p, const char *what)
{
	if (p->apparmor_profile && *p->apparmor_profile)
		sn_warn("%s: process.apparmorProfile `%s` is not applied: subrun loads no AppArmor "
			"profile (runc and crun apply it, and refuse it on a host without AppArmor)",
			what, p->apparmor_profile);
	if (p->selinux_label && *p->selinux_label)
		sn_warn("%s: process.selinuxLabel `%s` is not applied: subrun sets no SELinux label "
			"(runc and crun set it, and refuse it on a host without SELinux)",
			what, p->selinux_label);
}
