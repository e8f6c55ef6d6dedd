/* rootfs_path.c — resolving spec paths inside the container root, and
 * mounting onto what was resolved.
 *
 * Threat: the rootfs comes from an image (or a user) and may contain
 * symlinks chosen to point a runtime operation at the host: `evil ->
 * /tmp/hostdir` with a mount destination `/evil/x`, `dev -> /` with a
 * device path `/dev/sda`, `a -> ../../../etc`. A runtime that joins
 * "<rootfs>" + "<dest>" and calls mount() follows those links on the host.
 *
 * Defence, in two halves:
 *  1. Resolve inside the root. With openat2(RESOLVE_IN_ROOT |
 *     RESOLVE_NO_MAGICLINKS) the kernel treats root_fd as "/" for the whole
 *     lookup: an absolute symlink restarts at root_fd, ".." at root_fd stays
 *     there, /proc magic links are refused. Where openat2 is missing (kernel
 *     < 5.6, or seccomp'd), rfs_walk() does the same in user space, one
 *     component at a time, each opened with O_NOFOLLOW so the kernel never
 *     follows a link for us; link targets are read and pushed back on the
 *     path to walk, absolute ones restarting at the root, ".." popping a
 *     stack of fds we opened ourselves (never opening "..", which could
 *     climb out of a directory moved out of the root meanwhile).
 *     Missing components are created with mkdirat/openat(O_EXCL) on the
 *     parent fd we hold: a single name, so it cannot escape either.
 *     Decision: an escaping symlink is *clamped*, not refused — `/evil/x`
 *     with `evil -> /tmp/h` lands on <rootfs>/tmp/h/x, as runc (securejoin)
 *     and crun do, so images with absolute symlinks keep working.
 *  2. Act on the fd, not the path: mount onto "/proc/self/fd/N" of the
 *     O_PATH fd. The kernel follows that magic link to the very inode we
 *     resolved, so swapping a component for a symlink after the check
 *     (CVE-2021-30465) changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/rootfs_internal.h"

#define RFS_MAX_LINKS 40        /* like the kernel's MAXSYMLINKS */
#define RFS_MAX_DEPTH 256

bool rfs_force_walk = false;

const char *rfs_fd_path(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

int rfs_mount_on_fd(const char *source, int fd, const char *type,
		    unsigned long flags, const void *data)
{
	char p[32];
	if (mount(source, rfs_fd_path(fd, p), type, flags, data) < 0)
		return -errno;
	return 0;
}

int rfs_mount_flags_of(int fd, unsigned long *flags)
{
	struct statfs st;
	if (fstatfs(fd, &st) < 0)
		return -errno;
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_RDONLY, MS_RDONLY },     { ST_NOSUID, MS_NOSUID },
		{ ST_NODEV, MS_NODEV },       { ST_NOEXEC, MS_NOEXEC },
		{ ST_NOATIME, MS_NOATIME },   { ST_NODIRATIME, MS_NODIRATIME },
		{ ST_RELATIME, MS_RELATIME },
	};
	unsigned long f = 0;
	for (size_t i = 0; i < SN_ARRAY_SIZE(map); i++)
		if ((unsigned long)st.f_flags & map[i].st)
			f |= map[i].ms;
	/* statfs has no bit for strictatime: it is the absence of the others.
	 * Say it, or a remount would silently get the kernel's default
	 * relatime (and EPERM where the atime mode is locked). */
	if (!(f & (MS_NOATIME | MS_RELATIME)))
		f |= MS_STRICTATIME;
	*flags = f;
	return 0;
}

int rfs_bind_remount(int fd, unsigned long set, unsigned long clear)
{
	unsigned long have = 0;
	int r = rfs_mount_flags_of(fd, &have);
	if (r < 0)
		return r;
	set &= RFS_MNT_FLAGS;
	unsigned long keep = have & ~clear;
	if (set & RFS_ATIME_FLAGS)
		keep &= ~RFS_ATIME_FLAGS;   /* an explicit atime mode replaces the old */
	r = rfs_mount_on_fd(NULL, fd, NULL, MS_REMOUNT | MS_BIND | set | keep, NULL);
	if (r == -EPERM) {
		/* In a user namespace the flags of a mount inherited from the
		 * host are locked (nosuid, nodev, noexec, ro, atime): asking to
		 * drop one is EPERM. Keep them all, as runc does. */
		unsigned long atime = (set & RFS_ATIME_FLAGS) ? 0 : (have & RFS_ATIME_FLAGS);
		r = rfs_mount_on_fd(NULL, fd, NULL,
				    MS_REMOUNT | MS_BIND | set | (have & ~RFS_ATIME_FLAGS) | atime,
				    NULL);
	}
	return r;
}

/* ------------------------------------------------------------ openat2 */

static int rfs_openat2(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	for (int tries = 0; tries < 16; tries++) {
		long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a rename raced the lookup; the kernel asks us to retry. */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

/* ------------------------------------------------------------ the walk */

struct walk {
	int root_fd;
	int stack[RFS_MAX_DEPTH];  /* stack[0] is root_fd (not owned) */
	int depth;                 /* index of the current dir */
};

static void walk_pop_to(struct walk *w, int depth)
{
	while (w->depth > depth)
		close(w->stack[w->depth--]);
}

/* Build "<target>/<rest>" (rest may be empty) as the new path to walk. */
static char *join_rest(const char *target, const char *rest)
{
	size_t a = strlen(target), b = strlen(rest);
	char *s = malloc(a + b + 2);
	if (!s)
		return NULL;
	memcpy(s, target, a);
	s[a] = '/';
	memcpy(s + a + 1, rest, b + 1);
	return s;
}

static int create_missing(int dir_fd, const char *name, bool file)
{
	if (file) {
		/* O_EXCL|O_NOFOLLOW: never follow or reuse anything already there. */
		int fd = openat(dir_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		close(fd);
		return 0;
	}
	if (mkdirat(dir_fd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rfs_walk(int root_fd, const char *path, enum rfs_create create,
		    int *out_fd)
{
	struct walk w = { .root_fd = root_fd, .depth = 0 };
	w.stack[0] = root_fd;
	_cleanup_free_ char *todo = strdup(path);
	if (!todo)
		return -ENOMEM;
	char *cur = todo;
	int links = 0, r = 0;

	for (;;) {
		while (*cur == '/')
			cur++;
		if (!*cur)
			break;
		char *slash = strchr(cur, '/');
		char *rest = slash ? slash + 1 : cur + strlen(cur);
		if (slash)
			*slash = '\0';
		const char *name = cur;
		while (*rest == '/')
			rest++;
		bool last = *rest == '\0';

		if (strcmp(name, ".") == 0) {
			cur = rest;
			continue;
		}
		if (strcmp(name, "..") == 0) {
			/* Pop to the parent we opened; at the root, stay. */
			walk_pop_to(&w, w.depth > 0 ? w.depth - 1 : 0);
			cur = rest;
			continue;
		}
		if (strlen(name) > NAME_MAX) {
			r = -ENAMETOOLONG;
			goto out;
		}
		int dir = w.stack[w.depth];
		int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create != RFS_NO_CREATE) {
			r = create_missing(dir, name, last && create == RFS_CREATE_FILE);
			if (r < 0)
				goto out;
			fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			r = -errno;
			goto out;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (n < 0) {
				r = -errno;
				goto out;
			}
			target[n] = '\0';
			if (++links > RFS_MAX_LINKS) {
				r = -ELOOP;
				goto out;
			}
			/* The link's text, not the kernel, decides: an absolute
			 * target restarts at our root, never the host's "/". */
			if (target[0] == '/')
				walk_pop_to(&w, 0);
			char *next = join_rest(target, rest);
			if (!next) {
				r = -ENOMEM;
				goto out;
			}
			free(todo);
			todo = cur = next;
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			close(fd);
			r = -ENOTDIR;
			goto out;
		}
		if (w.depth + 1 >= RFS_MAX_DEPTH) {
			close(fd);
			r = -ENAMETOOLONG;
			goto out;
		}
		w.stack[++w.depth] = fd;
		cur = rest;
	}
	if (w.depth == 0) {
		int fd = openat(root_fd, ".", O_PATH | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			goto out;
		}
		*out_fd = fd;
	} else {
		*out_fd = w.stack[w.depth--];
	}
out:
	walk_pop_to(&w, 0);
	return r;
}

int rfs_resolve(int root_fd, const char *path, enum rfs_create create,
		int *out_fd, struct sn_err *err)
{
	int r = -ENOSYS;
	if (!rfs_force_walk) {
		r = rfs_openat2(root_fd, path);
		if (r >= 0) {
			*out_fd = r;
			return 0;
		}
		if (r == -EXDEV || r == -ELOOP)
			/* ELOOP: a magic link (RESOLVE_NO_MAGICLINKS) or a real loop;
			 * EXDEV: an escape the kernel refused. Both are final. */
			return sn_err_set(err, -r, "resolve `%s` inside the root", path);
	}
	/* No openat2 (ENOSYS, or E2BIG/EINVAL from an older struct), or a missing
	 * component to create: walk it ourselves. */
	if (r == -ENOSYS || r == -E2BIG || r == -EINVAL || r == -EPERM ||
	    (r == -ENOENT && create != RFS_NO_CREATE) || rfs_force_walk)
		r = rfs_walk(root_fd, path, create, out_fd);
	if (r < 0)
		return sn_err_set(err, -r, "resolve `%s` inside the root", path);
	return 0;
}
