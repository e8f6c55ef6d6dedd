/* spec_sysctl.c — which linux.sysctl keys a container may set.
 *
 * A sysctl is written from inside the container, but most of /proc/sys is
 * the host's: only a few keys are namespaced, and then only in the
 * namespace that owns them. Writing `kernel.panic`, or `net.ipv4.ip_forward`
 * without a network namespace of the container's own, changes the host.
 * runc and crun both refuse such a config before anything is made; so do
 * we, with their rules:
 *   - the System V IPC keys (kernel.msg*, kernel.sem, kernel.shm*) and
 *     fs.mqueue.* need an ipc namespace;
 *   - net.* needs a network namespace — a joined one (by path) that is the
 *     runtime's own network namespace counts as the host's, as in runc;
 *   - kernel.domainname needs a uts namespace; kernel.hostname too, and
 *     not together with the `hostname` field (they would fight);
 *   - anything else is not namespaced and is refused.
 * Checked at parse time (spec_parse calls spec_check_sysctls), so `create`
 * fails with the key named and leaves nothing behind.
 */
#include "runtime/spec_internal.h"
#include "base/cleanup.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const ipc_keys[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

/* The namespace the container has of this type, unless it is the one the
 * runtime itself runs in (joined by a path that leads back to ours). */
static bool has_own_namespace(const struct spec *s, int type, const char *proc_name)
{
	const struct spec_namespace *ns = spec_find_namespace(s, type);
	if (!ns)
		return false;
	if (!ns->path)
		return true;
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/ns/%s", proc_name);
	struct stat a, b;
	if (stat(ns->path, &a) < 0 || stat(self, &b) < 0)
		return true; /* joining it will fail with its own message */
	return !(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

static int check_key(const struct spec *s, const char *k, struct sn_err *err)
{
	bool ipc = strncmp(k, "fs.mqueue.", 10) == 0;
	for (size_t i = 0; !ipc && i < SN_ARRAY_SIZE(ipc_keys); i++)
		ipc = strcmp(k, ipc_keys[i]) == 0;
	if (ipc) {
		if (has_own_namespace(s, CLONE_NEWIPC, "ipc"))
			return 0;
		return sn_err_msg(err, EINVAL,
				  "linux.sysctl.%s: needs an ipc namespace of the container's own "
				  "(else it is the host's)", k);
	}
	if (strncmp(k, "net.", 4) == 0) {
		if (has_own_namespace(s, CLONE_NEWNET, "net"))
			return 0;
		return sn_err_msg(err, EINVAL,
				  "linux.sysctl.%s: needs a network namespace of the container's own "
				  "(else it is the host's)", k);
	}
	if (strcmp(k, "kernel.domainname") == 0 || strcmp(k, "kernel.hostname") == 0) {
		if (!has_own_namespace(s, CLONE_NEWUTS, "uts"))
			return sn_err_msg(err, EINVAL,
					  "linux.sysctl.%s: needs a uts namespace of the container's own "
					  "(else it is the host's)", k);
		if (k[7] == 'h' && s->hostname)
			return sn_err_msg(err, EINVAL,
					  "linux.sysctl.%s: conflicts with the `hostname` field", k);
		return 0;
	}
	return sn_err_msg(err, EINVAL,
			  "linux.sysctl.%s: not a namespaced sysctl: it would change the host", k);
}

int spec_check_sysctls(const struct spec *s, struct sn_err *err)
{
	for (size_t i = 0; i < s->linux_.n_sysctl; i++) {
		int r = check_key(s, s->linux_.sysctl[i].key, err);
		if (r < 0)
			return r;
	}
	return 0;
}
