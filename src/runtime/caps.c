/* caps.c — Linux capabilities of the container process: names, the
 * bounding set, and the effective/permitted/inheritable/ambient sets.
 *
 * Design:
 *  - Names come from one fixed table (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE
 *    = 40), upper case as the OCI spec writes them, so caps_name() can hand
 *    out static strings and the spec parser gets the same answer on every
 *    host. A name libcap or the table does not know is -1.
 *  - The running kernel may know fewer capabilities than the spec names
 *    (an old kernel, a new config). Every set is clipped to
 *    /proc/sys/kernel/cap_last_cap, silently, as runc does: a profile
 *    written for a newer kernel must still start a container.
 *  - The bounding set is shrunk with raw prctl(PR_CAPBSET_DROP) (it needs
 *    CAP_SETPCAP, so it runs while we are still root); effective, permitted
 *    and inheritable are set in one cap_set_proc() (libcap); ambient caps
 *    are raised one by one with prctl(PR_CAP_AMBIENT_RAISE) after clearing
 *    the set, and only after the uid change (setresuid clears them).
 *  - With a `capabilities` object, a set that is absent means empty, as in
 *    runc. Without the object (has_caps false) nothing is touched here.
 *  - An ambient capability outside the permitted or inheritable set is one
 *    the kernel will not raise (EPERM). runc and crun skip it, and
 *    `runc spec` writes exactly such a config (ambient without any
 *    inheritable set), so we skip it too: caps_ambient_skipped() names
 *    them, the parent warns in its log before the process is made
 *    (caps_warn_skipped), and confine_caps leaves them out.
 */
#include "runtime/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "base/cleanup.h"
#include "base/log.h"

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

int caps_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < SN_ARRAY_SIZE(cap_names); i++)
		if (strcmp(name, cap_names[i]) == 0)
			return (int)i;
	/* A capability newer than this table but known to libcap: accept the
	 * upper-case spelling only, like the table. */
	if (strncmp(name, "CAP_", 4) != 0 || !name[4])
		return -1;
	char lower[64];
	size_t n = strlen(name);
	if (n >= sizeof(lower))
		return -1;
	for (size_t i = 0; i <= n; i++) {
		char c = name[i];
		if (c >= 'a' && c <= 'z')
			return -1;
		lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	cap_value_t v;
	if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
		return -1;
	return (int)v;
}

const char *caps_name(int cap)
{
	if (cap < 0 || (size_t)cap >= SN_ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int caps_last_cap(void)
{
	static int cached = -1;
	int last = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (last >= 0)
		return last;

	char buf[32] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r > 0) {
			buf[r] = '\0';
			last = atoi(buf);
		}
	}
	if (last <= 0 || last > 63) {
		/* No /proc (early in container setup): probe the bounding set;
		 * the kernel answers EINVAL above its last capability. */
		last = 0;
		while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
			last++;
	}
	__atomic_store_n(&cached, last, __ATOMIC_RELAXED);
	return last;
}

/* Print a capability for messages: its name or its number. */
static const char *cap_label(int cap, char *buf, size_t len)
{
	const char *n = caps_name(cap);
	if (n)
		return n;
	snprintf(buf, len, "capability %d", cap);
	return buf;
}

int confine_drop_bounding(const struct spec_caps *caps, struct sn_err *err)
{
	uint64_t keep = caps->has_bounding ? caps->bounding : 0;
	int last = caps_last_cap();

	for (int cap = 0; cap <= last; cap++) {
		if (keep & (UINT64_C(1) << cap))
			continue;
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0) {
			if (errno == EINVAL)
				continue; /* unknown to this kernel after all */
			char b[32];
			return sn_err_sys(err, "prctl(PR_CAPBSET_READ, %s)",
					  cap_label(cap, b, sizeof(b)));
		}
		if (r == 0)
			continue; /* already out: no CAP_SETPCAP needed */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			char b[32];
			return sn_err_sys(err, "drop %s from the bounding set",
					  cap_label(cap, b, sizeof(b)));
		}
	}
	return 0;
}

uint64_t caps_ambient_skipped(const struct spec_caps *caps)
{
	if (!caps->has_ambient)
		return 0;
	uint64_t prm = caps->has_permitted ? caps->permitted : 0;
	uint64_t inh = caps->has_inheritable ? caps->inheritable : 0;
	return caps->ambient & ~(prm & inh);
}

void caps_warn_skipped(const struct spec_caps *caps, const char *what)
{
	uint64_t skip = caps_ambient_skipped(caps);
	if (!skip)
		return;
	char list[512] = "";
	size_t off = 0;
	for (int cap = 0; cap < 64 && off < sizeof(list); cap++) {
		if (!(skip & (UINT64_C(1) << cap)))
			continue;
		char b[32];
		int w = snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "",
				 cap_label(cap, b, sizeof(b)));
		if (w < 0)
			break;
		off += (size_t)w;
	}
	sn_warn("%s: process.capabilities: ambient %s not in both the permitted and inheritable sets: not raised, "
		"as runc and crun do", what, list);
}

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}

/* Add the caps of mask (clipped to the kernel) to flag of c. */
static int caps_fill(cap_t c, cap_flag_t flag, uint64_t mask, int last)
{
	for (int cap = 0; cap <= last; cap++) {
		if (!(mask & (UINT64_C(1) << cap)))
			continue;
		cap_value_t v = cap;
		if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
			return -errno;
	}
	return 0;
}

int confine_caps(const struct spec_caps *caps, struct sn_err *err)
{
	int last = caps_last_cap();
	uint64_t kmask = last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
	uint64_t eff = (caps->has_effective ? caps->effective : 0) & kmask;
	uint64_t prm = (caps->has_permitted ? caps->permitted : 0) & kmask;
	uint64_t inh = (caps->has_inheritable ? caps->inheritable : 0) & kmask;
	/* the kernel would refuse these: skipped, the parent warned */
	uint64_t amb = (caps->has_ambient ? caps->ambient : 0) & ~caps_ambient_skipped(caps) & kmask;

	/* Check first, so the message names the capability instead of
	 * saying "Operation not permitted" about a whole set. */
	for (int cap = 0; cap <= last; cap++) {
		uint64_t bit = UINT64_C(1) << cap;
		char b[32];
		if ((eff & bit) && !(prm & bit))
			return sn_err_msg(err, EINVAL,
					  "effective capability %s is not in the permitted set",
					  cap_label(cap, b, sizeof(b)));
	}

	_cleanup_(cap_freep) cap_t c = cap_init();
	if (!c)
		return sn_err_sys(err, "cap_init");
	int r = caps_fill(c, CAP_EFFECTIVE, eff, last);
	if (r == 0)
		r = caps_fill(c, CAP_PERMITTED, prm, last);
	if (r == 0)
		r = caps_fill(c, CAP_INHERITABLE, inh, last);
	if (r < 0)
		return sn_err_set(err, -r, "cap_set_flag");
	if (cap_set_proc(c) < 0)
		return sn_err_sys(err,
				  "cap_set_proc (effective %#llx, permitted %#llx, inheritable %#llx)",
				  (unsigned long long)eff, (unsigned long long)prm,
				  (unsigned long long)inh);

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		/* Kernels before 4.3 have no ambient set: fine unless asked. */
		if (errno != EINVAL || amb)
			return sn_err_sys(err, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
	}
	for (int cap = 0; cap <= last; cap++) {
		if (!(amb & (UINT64_C(1) << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
			char b[32];
			return sn_err_sys(err, "raise ambient capability %s",
					  cap_label(cap, b, sizeof(b)));
		}
	}
	return 0;
}
