/* confine.h — the last steps of a container process before execve: limits,
 * identity, capabilities and seccomp, in the order that keeps each step
 * possible:
 *
 *   1. rlimits (setrlimit), oom_score_adj
 *   2. no_new_privs if asked
 *   3. seccomp now if no_new_privs is off (loading then needs CAP_SYS_ADMIN,
 *      which is still held)
 *   4. drop the bounding set; PR_SET_KEEPCAPS; setgroups, setresgid,
 *      setresuid; then effective/permitted/inheritable (libcap) and ambient
 *   5. umask (before the late filter, so the filter cannot get in its way)
 *   6. seccomp last when no_new_privs is on (so as few syscalls as possible
 *      run under the filter before execve)
 *
 * Used by the container init and by `exec`. Capabilities unknown to the
 * running kernel (above CAP_LAST_CAP) are skipped, as runc does.
 */
#ifndef SN_RUNTIME_CONFINE_H
#define SN_RUNTIME_CONFINE_H

#include "base/err.h"
#include "runtime/spec.h"

/* Run steps 1-6. *notify_fd gets the seccomp user-notification fd when the
 * profile uses SCMP_ACT_NOTIFY (else -1); the caller hands it to the
 * listener (seccomp_notify_send) before execve. */
int confine_process(const struct spec_process *p, const struct spec_seccomp *sc,
		    int *notify_fd, struct sn_err *err);

/* Every signal back to its default action and nothing blocked: a signal
 * disposition of SIG_IGN and the blocked mask survive execve, so whatever
 * our caller ignored or blocked (a daemon that takes SIGTERM by sigwait, a
 * shell that ignores SIGINT) would otherwise reach the container's
 * program. Done before the rest of the confinement (seccomp may forbid
 * rt_sigaction). */
int confine_reset_signals(struct sn_err *err);

/* subrun applies no LSM profile or label: say so in the log (what names
 * the container) when the process asks for one, so that nobody believes a
 * container confined that is not. docs/SUBRUN.md has the reasons. */
void confine_warn_lsm(const struct spec_process *p, const char *what);

/* Pieces, for tests and for callers that need a different order. */
int confine_rlimits(const struct spec_rlimit *r, size_t n, struct sn_err *err);
int confine_oom_score_adj(int64_t adj, struct sn_err *err);
int confine_drop_bounding(const struct spec_caps *caps, struct sn_err *err);
int confine_identity(const struct spec_user *u, struct sn_err *err);
/* Steps 4 together: bounding, KEEPCAPS, identity, the capability sets. */
int confine_identity_and_caps(const struct spec_process *p, struct sn_err *err);
int confine_caps(const struct spec_caps *caps, struct sn_err *err);
/* Build and load the filter. (Not named seccomp_load: that is libseccomp's
 * own symbol, and the two could not share a program.) */
int confine_seccomp_load(const struct spec_seccomp *sc, int *notify_fd,
			 struct sn_err *err);
/* Connect to the listener unix socket and send the notify fd with
 * SCM_RIGHTS and the container state JSON (as the OCI spec describes). */
int seccomp_notify_send(const char *listener_path, int notify_fd,
			const char *state_json, struct sn_err *err);
/* Ambient capabilities the kernel will not raise (not in both permitted
 * and inheritable): confine_caps skips them, as runc and crun do. The
 * parent calls caps_warn_skipped before it makes the process: one warning
 * in its log (prefixed with what) naming them. */
uint64_t caps_ambient_skipped(const struct spec_caps *caps);
void caps_warn_skipped(const struct spec_caps *caps, const char *what);
/* Capability name <-> number ("CAP_SYS_ADMIN"); -1 if unknown. */
int caps_from_name(const char *name);
const char *caps_name(int cap);
/* Highest capability the running kernel knows. */
int caps_last_cap(void);

#endif
