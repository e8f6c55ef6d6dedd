/* test_rootfs.c — rootfs_prepare / rootfs_pivot / rootfs_finalize /
 * rootfs_sysctl with real mounts.
 *
 * Every test builds a small busybox rootfs in a fresh mkdtemp dir, then
 * runs the container side in a forked child that unshares mount + pid (+
 * net, ipc, uts) namespaces and makes "/" rprivate at once, so the test
 * runner's own mount namespace is never touched. The child forks again (to
 * be pid 1 of the new pid namespace), does the work and checks the result
 * from inside; a failed check writes its line and message to a pipe and
 * exits 1. The parent then asserts the exit status, and that the host's
 * /proc/self/mountinfo got no new entry and the host dirs are untouched.
 */
#include "test_fork.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/fs.h"
#include "runtime/rootfs.h"
#include "runtime/rootfs_internal.h"
#include "runtime/spec.h"

#define PROC_MAGIC 0x9fa0
#define DEVPTS_MAGIC 0x1cd1
#define SYSFS_MAGIC_ 0x62656572
#define TMPFS_MAGIC_ 0x01021994
#define CGROUP_MAGIC_ 0x27e0eb
#define CGROUP2_MAGIC_ 0x63677270
#define MQUEUE_MAGIC_ 0x19800202

/* ------------------------------------------------------------ child side */

static int report_fd = -1;
static struct sn_err cerr;

static void __attribute__((noreturn, format(printf, 3, 4)))
child_fail(int line, const char *expr, const char *fmt, ...)
{
	char buf[4096];
	int saved = errno;
	int n = snprintf(buf, sizeof(buf), "line %d: %s: ", line, expr);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(buf + n, sizeof(buf) - (size_t)n, " [errno: %s]\n", strerror(saved));
	if (write(report_fd, buf, strlen(buf)) < 0)
		_exit(3);
	_exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) child_fail(__LINE__, #cond, "-" __VA_ARGS__); } while (0)
/* For sn_err calls: pass &cerr. */
#define CHECK_SN(call) do { sn_err_clear(&cerr); if ((call) < 0) \
	child_fail(__LINE__, #call, "%s", cerr.msg); } while (0)

static bool has_flag(const char *path, unsigned long stflag)
{
	struct statvfs v;
	if (statvfs(path, &v) < 0)
		return false;
	return (v.f_flag & stflag) != 0;
}

static long fs_type(const char *path)
{
	struct statfs s;
	if (statfs(path, &s) < 0)
		return -1;
	return (long)s.f_type;
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n == 0;
}

/* The mountinfo line whose mount point is exactly `mp` (last one wins). */
static bool mountinfo_line(const char *mp, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		char a[64], b[64], c[64], root[1024], point[1024];
		if (sscanf(line, "%63s %63s %63s %1023s %1023s", a, b, c, root, point) == 5 &&
		    strcmp(point, mp) == 0) {
			snprintf(out, len, "%s", line);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0, "create %s", path);
	CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
	close(fd);
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* ------------------------------------------------------------ fixture */

struct fixture {
	char dir[64];         /* the test's temp dir: everything goes here */
	char rootfs[128];
	char hostdir[64];     /* a separate host dir the container must not touch */
	char *mountinfo_before;
};

static void copy_file(const char *from, const char *to, mode_t mode)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0);
	_cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_true(n == 0);
}

static void mkdir_in(const struct fixture *f, const char *rel, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", f->rootfs, rel);
	assert_int_equal(mkdir(p, mode), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sn-rootfs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->hostdir, sizeof(f->hostdir), "/tmp/sn-host-XXXXXX");
	assert_non_null(mkdtemp(f->hostdir));
	snprintf(f->rootfs, sizeof(f->rootfs), "%s/rootfs", f->dir);
	assert_int_equal(mkdir(f->rootfs, 0755), 0);
	static const char *const dirs[] = { "bin", "proc", "sys", "dev", "tmp", "etc", "secret", "mnt" };
	for (size_t i = 0; i < SN_ARRAY_SIZE(dirs); i++)
		mkdir_in(f, dirs[i], 0755);
	char p[512], q[512];
	snprintf(p, sizeof(p), "%s/bin/busybox", f->rootfs);
	copy_file("/bin/busybox", p, 0755);
	snprintf(q, sizeof(q), "%s/bin/sh", f->rootfs);
	assert_int_equal(symlink("busybox", q), 0);
	snprintf(p, sizeof(p), "%s/etc/hostname", f->rootfs);
	struct sn_err e = { 0 };
	assert_int_equal(sn_write_file(p, "ct\n", 3, 0644, &e), 0);
	snprintf(p, sizeof(p), "%s/secret/key", f->rootfs);
	assert_int_equal(sn_write_file(p, "s3cr3t", 6, 0600, &e), 0);
	assert_int_equal(sn_read_file("/proc/self/mountinfo", 0, &f->mountinfo_before, NULL, &e), 0);
	*state = f;
	return 0;
}

/* New host mounts since the fixture was made that could be ours: any under
 * our dirs, or any outside /tmp (other suites may mount under their own
 * /tmp dirs concurrently). */
static void assert_host_mounts_unchanged(const struct fixture *f)
{
	_cleanup_free_ char *now = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(sn_read_file("/proc/self/mountinfo", 0, &now, NULL, &e), 0);
	char *save = NULL;
	for (char *line = strtok_r(now, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(f->mountinfo_before, line))
			continue;
		char a[64], b[64], c[64], root[1024], point[1024];
		if (sscanf(line, "%63s %63s %63s %1023s %1023s", a, b, c, root, point) != 5)
			continue;
		if (strstr(line, f->dir) || strstr(line, f->hostdir) || strncmp(point, "/tmp/", 5) != 0) {
			print_error("new host mount: %s\n", line);
			fail();
		}
	}
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	assert_host_mounts_unchanged(f);
	/* The host dir the rootfs symlinks point at must still be empty. */
	assert_true(dir_is_empty(f->hostdir));
	struct sn_err e = { 0 };
	assert_int_equal(sn_rm_rf(f->dir, &e), 0);
	assert_int_equal(sn_rm_rf(f->hostdir, &e), 0);
	free(f->mountinfo_before);
	free(f);
	return 0;
}

/* Run fn in a child with new mount+pid(+extra) namespaces, as pid 1 there. */
static void run_contained(void (*fn)(struct fixture *), struct fixture *f, int extra_ns)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = test_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		CHECK(unshare(CLONE_NEWNS | CLONE_NEWPID | extra_ns) == 0);
		/* Before anything else: nothing we do may propagate back. */
		CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
		pid_t g = test_fork();
		CHECK(g >= 0);
		if (g == 0) {
			fn(f);
			_exit(0);
		}
		int st;
		CHECK(waitpid(g, &st, 0) == g);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	close(p[1]);
	char msg[8192];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(msg) - 1 && (n = read(p[0], msg + len, sizeof(msg) - 1 - len)) > 0)
		len += (size_t)n;
	msg[len] = '\0';
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_error("container child failed (status %#x): %s\n", st, msg);
		fail();
	}
}

static struct spec_mount mnt(const char *dest, const char *type, const char *src,
			     unsigned long flags, const char *data)
{
	struct spec_mount m = { 0 };
	m.destination = (char *)dest;
	m.type = (char *)type;
	m.source = (char *)src;
	m.flags = flags;
	m.data = (char *)data;
	m.bind = (flags & MS_BIND) != 0;
	return m;
}

/* The mounts of runc's default spec, as the spec parser would give them. */
#define DEFAULT_MOUNTS \
	mnt("/proc", "proc", "proc", 0, NULL), \
	mnt("/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"), \
	mnt("/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, \
	    "newinstance,ptmxmode=0666,mode=0620"), \
	mnt("/dev/shm", "tmpfs", "shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"), \
	mnt("/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL), \
	mnt("/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL)

static void enter(struct fixture *f, struct spec *s, struct rootfs_ctx *ctx)
{
	ctx->spec = s;
	ctx->rootfs = f->rootfs;
	CHECK_SN(rootfs_prepare(ctx, &cerr));
	CHECK_SN(rootfs_pivot(ctx, &cerr));
	CHECK_SN(rootfs_finalize(ctx, &cerr));
}

/* ------------------------------------------------------------ tests */

static void full_container(struct fixture *f)
{
	struct spec_mount mounts[] = {
		DEFAULT_MOUNTS,
		mnt("/sys/fs/cgroup", "cgroup", "cgroup",
		    MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY, NULL),
		mnt("/tmp", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
	};
	/* This kernel may lack /proc/kcore (CONFIG_PROC_KCORE): mask a file
	 * every kernel has as well. */
	char *masked[] = { "/proc/kcore", "/proc/version", "/secret", "/proc/does-not-exist",
			   "/no/such/dir" };
	char *ro[] = { "/proc/sys", "/etc", "/missing" };
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	s.root_readonly = true;
	s.linux_.masked_paths = masked;
	s.linux_.n_masked_paths = SN_ARRAY_SIZE(masked);
	s.linux_.readonly_paths = ro;
	s.linux_.n_readonly_paths = SN_ARRAY_SIZE(ro);
	struct rootfs_ctx ctx = { .new_netns = true, .new_cgroupns = true };
	enter(f, &s, &ctx);

	char buf[4096];
	struct stat st;
	CHECK(fs_type("/proc") == PROC_MAGIC, "/proc is proc");
	CHECK(getpid() == 1);
	CHECK(readlink("/proc/self", buf, sizeof(buf)) == 1 && buf[0] == '1', "our own pid ns in /proc");
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	      minor(st.st_rdev) == 3 && (st.st_mode & 0777) == 0666, "/dev/null is c 1:3 0666");
	CHECK(stat("/dev/urandom", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 9);
	CHECK(stat("/dev/tty", &st) == 0 && major(st.st_rdev) == 5 && minor(st.st_rdev) == 0);
	CHECK(lstat("/dev/fd", &st) == 0 && S_ISLNK(st.st_mode), "/dev/fd is a symlink");
	ssize_t n = readlink("/dev/fd", buf, sizeof(buf) - 1);
	CHECK(n > 0 && (buf[n] = 0, strcmp(buf, "/proc/self/fd") == 0), "/dev/fd -> %s", buf);
	n = readlink("/dev/stderr", buf, sizeof(buf) - 1);
	CHECK(n > 0 && (buf[n] = 0, strcmp(buf, "/proc/self/fd/2") == 0));
	n = readlink("/dev/ptmx", buf, sizeof(buf) - 1);
	CHECK(n > 0 && (buf[n] = 0, strcmp(buf, "pts/ptmx") == 0));
	/* /dev/core only where the kernel has a /proc/kcore (as runc) */
	CHECK((lstat("/dev/core", &st) == 0 && S_ISLNK(st.st_mode)) == (access("/proc/kcore", F_OK) == 0),
	      "/dev/core is there exactly when /proc/kcore is");
	CHECK(stat("/dev/console", &st) == 0 && S_ISREG(st.st_mode), "/dev/console target exists");
	CHECK(fs_type("/dev/pts") == DEVPTS_MAGIC, "/dev/pts is devpts");
	int ptm = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	CHECK(ptm >= 0, "our own devpts gives a pty");
	close(ptm);
	CHECK(fs_type("/dev/shm") == TMPFS_MAGIC_ && fs_type("/dev/mqueue") == MQUEUE_MAGIC_);
	CHECK(fs_type("/sys") == SYSFS_MAGIC_ && has_flag("/sys", ST_RDONLY), "/sys is sysfs ro");
	CHECK(fs_type("/sys/fs/cgroup") == TMPFS_MAGIC_ && has_flag("/sys/fs/cgroup", ST_RDONLY));
	CHECK(fs_type("/sys/fs/cgroup/memory") == CGROUP_MAGIC_, "v1 memory hierarchy");
	CHECK(has_flag("/sys/fs/cgroup/memory", ST_RDONLY | ST_NOSUID));
	CHECK(fs_type("/sys/fs/cgroup/unified") == CGROUP2_MAGIC_, "hybrid: unified is cgroup2");
	/* maskedPaths */
	CHECK(read_small("/proc/version", buf, sizeof(buf)) == 0, "masked /proc/version reads empty");
	CHECK(access("/proc/kcore", F_OK) < 0 || read_small("/proc/kcore", buf, sizeof(buf)) == 0,
	      "masked /proc/kcore reads empty");
	CHECK(dir_is_empty("/secret"), "masked dir is empty");
	CHECK(open("/secret/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 && errno == EROFS);
	/* readonlyPaths */
	CHECK(open("/etc/new", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 && errno == EROFS,
	      "readonly /etc");
	CHECK(open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS,
	      "readonly /proc/sys");
	CHECK(read_small("/etc/hostname", buf, sizeof(buf)) == 3, "still readable");
	/* root.readonly, while a tmpfs mount stays writable */
	CHECK(mkdir("/newdir", 0755) < 0 && errno == EROFS, "read-only root");
	write_file("/tmp/scratch", "ok");
	/* The old root is gone: the host's test dir does not exist in here. */
	CHECK(access(f->dir, F_OK) < 0 && errno == ENOENT);
	CHECK(!mountinfo_line(f->rootfs, buf, sizeof(buf)), "no host path in mountinfo");
	/* And the busybox in it runs. */
	pid_t c = test_fork();
	CHECK(c >= 0);
	if (c == 0) {
		execl("/bin/sh", "sh", "-c",
		      "test -c /dev/null && test -L /dev/fd && test \"$(cat /proc/version | wc -c)\" = 0",
		      (char *)NULL);
		_exit(127);
	}
	int wst;
	CHECK(waitpid(c, &wst, 0) == c && WIFEXITED(wst) && WEXITSTATUS(wst) == 0,
	      "busybox sh in the container: status %#x", wst);
}

static void prepares_pivots_and_finalizes_busybox_rootfs(void **state)
{
	run_contained(full_container, *state, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS);
}

static void host_mountinfo_has_no_new_entries_after_container_exits(void **state)
{
	struct fixture *f = *state;
	run_contained(full_container, f, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS);
	assert_host_mounts_unchanged(f);
	/* And the rootfs on disk got nothing from the container's mounts. */
	char p[512];
	snprintf(p, sizeof(p), "%s/dev", f->rootfs);
	assert_true(dir_is_empty(p));
	snprintf(p, sizeof(p), "%s/tmp/scratch", f->rootfs);
	assert_false(sn_path_exists(p));
}

/* --- bind flags */

static void bind_flags_child(struct fixture *f)
{
	char src[256], nodev[256], file[256];
	snprintf(src, sizeof(src), "%s/src", f->dir);
	snprintf(nodev, sizeof(nodev), "%s/nodev", f->dir);
	snprintf(file, sizeof(file), "%s/src/data", f->dir);
	CHECK(mkdir(src, 0755) == 0 && mkdir(nodev, 0755) == 0);
	write_file(file, "payload");
	/* A source that is itself nodev: a bind asking only nosuid keeps it. */
	CHECK(mount("tmpfs", nodev, "tmpfs", MS_NODEV, NULL) == 0);
	char strict[256];
	snprintf(strict, sizeof(strict), "%s/strict", f->dir);
	CHECK(mkdir(strict, 0755) == 0);
	CHECK(mount("tmpfs", strict, "tmpfs", MS_STRICTATIME, NULL) == 0);
	struct spec_mount mounts[] = {
		mnt("/mnt/strict", NULL, strict, MS_BIND | MS_RDONLY, NULL),
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/mnt/ro", NULL, src, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, NULL),
		mnt("/etc/bound-file", "bind", file, MS_BIND | MS_RDONLY, NULL),
		mnt("/mnt/keep", "none", nodev, MS_BIND | MS_NOSUID, NULL),
		mnt("/mnt/rw", NULL, src, MS_BIND, NULL),
	};
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	struct rootfs_ctx ctx = { 0 };
	enter(f, &s, &ctx);
	CHECK(has_flag("/mnt/ro", ST_RDONLY) && has_flag("/mnt/ro", ST_NOSUID), "ro,nosuid bind");
	CHECK(!has_flag("/mnt/ro", ST_NODEV));
	CHECK(open("/mnt/ro/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 && errno == EROFS);
	char buf[64];
	CHECK(read_small("/etc/bound-file", buf, sizeof(buf)) == 7 && strcmp(buf, "payload") == 0,
	      "file bind onto a created empty file");
	CHECK(open("/etc/bound-file", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
	CHECK(has_flag("/mnt/keep", ST_NOSUID) && has_flag("/mnt/keep", ST_NODEV),
	      "source's nodev kept when only nosuid was asked");
	CHECK(!has_flag("/mnt/rw", ST_RDONLY));
	char line[4096];
	CHECK(mountinfo_line("/mnt/strict", line, sizeof(line)) && (strstr(line, " ro,") || strstr(line, " ro - ")) &&
	      !strstr(line, "relatime"), "source's strictatime kept: %s", line);
	write_file("/mnt/rw/written", "x");
}

static void bind_mount_ro_nosuid_shows_flags_in_statvfs(void **state)
{
	run_contained(bind_flags_child, *state, 0);
}

/* --- rbind */

static void rbind_child(struct fixture *f)
{
	char src[256], sub[256], marker[256];
	snprintf(src, sizeof(src), "%s/tree", f->dir);
	snprintf(sub, sizeof(sub), "%s/tree/sub", f->dir);
	snprintf(marker, sizeof(marker), "%s/tree/sub/marker", f->dir);
	CHECK(mkdir(src, 0755) == 0 && mkdir(sub, 0755) == 0);
	CHECK(mount("tmpfs", sub, "tmpfs", 0, NULL) == 0);
	write_file(marker, "m");
	struct spec_mount mounts[] = {
		mnt("/rb", NULL, src, MS_BIND | MS_REC, NULL),
		mnt("/b", NULL, src, MS_BIND, NULL),
	};
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	struct rootfs_ctx ctx = { 0 };
	enter(f, &s, &ctx);
	CHECK(access("/rb/sub/marker", F_OK) == 0, "rbind keeps the submount");
	CHECK(access("/b/sub", F_OK) == 0 && access("/b/sub/marker", F_OK) < 0,
	      "plain bind does not");
}

static void rbind_keeps_submounts(void **state)
{
	run_contained(rbind_child, *state, 0);
}

/* --- propagation */

static void propagation_child(struct fixture *f)
{
	/* A shared mount in this namespace, then a new namespace whose copy
	 * of it is its peer: like a host mount seen by a container. */
	char peer[256];
	snprintf(peer, sizeof(peer), "%s/peer", f->dir);
	CHECK(mkdir(peer, 0755) == 0);
	CHECK(mount("tmpfs", peer, "tmpfs", 0, NULL) == 0);
	CHECK(mount(NULL, peer, NULL, MS_SHARED, NULL) == 0);
	CHECK(unshare(CLONE_NEWNS) == 0);
	struct spec_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/shared", "tmpfs", "tmpfs", 0, NULL),
		mnt("/slave", NULL, peer, MS_BIND | MS_REC, NULL),
		mnt("/private", "tmpfs", "tmpfs", 0, NULL),
		mnt("/unbindable", "tmpfs", "tmpfs", 0, NULL),
	};
	mounts[1].propagation = MS_SHARED;
	mounts[2].propagation = MS_SLAVE | MS_REC;
	mounts[3].propagation = MS_PRIVATE;
	mounts[4].propagation = MS_UNBINDABLE;
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	s.linux_.rootfs_propagation = MS_SLAVE | MS_REC;
	struct rootfs_ctx ctx = { 0 };
	enter(f, &s, &ctx);
	char line[4096];
	CHECK(mountinfo_line("/shared", line, sizeof(line)) && strstr(line, " shared:"), "%s", line);
	CHECK(mountinfo_line("/slave", line, sizeof(line)) && strstr(line, " master:") &&
	      !strstr(line, " shared:"), "%s", line);
	CHECK(mountinfo_line("/private", line, sizeof(line)) && !strstr(line, " master:") &&
	      !strstr(line, " shared:"), "%s", line);
	CHECK(mountinfo_line("/unbindable", line, sizeof(line)) && strstr(line, " unbindable"),
	      "%s", line);
}

static void propagation_flags_visible_in_mountinfo(void **state)
{
	run_contained(propagation_child, *state, 0);
}

static void shared_root_child(struct fixture *f)
{
	struct spec_mount mounts[] = { mnt("/proc", "proc", "proc", 0, NULL) };
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = 1;
	s.linux_.rootfs_propagation = MS_SHARED | MS_REC;
	struct rootfs_ctx ctx = { 0 };
	enter(f, &s, &ctx);
	char line[4096];
	CHECK(mountinfo_line("/", line, sizeof(line)) && strstr(line, " shared:"), "%s", line);
	CHECK(mountinfo_line("/proc", line, sizeof(line)) && strstr(line, " shared:"), "%s", line);
}

static void rootfs_propagation_shared_makes_root_shared(void **state)
{
	run_contained(shared_root_child, *state, 0);
}

/* --- tmpcopyup */

static void tmpcopyup_child(struct fixture *f)
{
	struct spec_mount mounts[] = {
		mnt("/etc/copyme", "tmpfs", "tmpfs", MS_NOSUID, "size=1m"),
	};
	mounts[0].tmpcopyup = true;
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = 1;
	struct rootfs_ctx ctx = { 0 };
	enter(f, &s, &ctx);
	struct stat st;
	char buf[64];
	CHECK(fs_type("/etc/copyme") == TMPFS_MAGIC_, "is a tmpfs");
	CHECK(stat("/etc/copyme", &st) == 0 && (st.st_mode & 07777) == 0750, "mode %o", st.st_mode);
	CHECK(read_small("/etc/copyme/a.txt", buf, sizeof(buf)) == 5 && strcmp(buf, "hello") == 0);
	CHECK(stat("/etc/copyme/a.txt", &st) == 0 && (st.st_mode & 0777) == 0640 && st.st_uid == 42);
	CHECK(read_small("/etc/copyme/sub/deep/b", buf, sizeof(buf)) == 4 && strcmp(buf, "deep") == 0);
	ssize_t n = readlink("/etc/copyme/link", buf, sizeof(buf) - 1);
	CHECK(n > 0 && (buf[n] = 0, strcmp(buf, "a.txt") == 0), "symlink kept");
	write_file("/etc/copyme/written-in-ct", "x");
}

static void tmpcopyup_copies_original_contents(void **state)
{
	struct fixture *f = *state;
	char p[512];
	snprintf(p, sizeof(p), "%s/etc/copyme", f->rootfs);
	assert_int_equal(mkdir(p, 0750), 0);
	assert_int_equal(chmod(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/etc/copyme/a.txt", f->rootfs);
	struct sn_err e = { 0 };
	assert_int_equal(sn_write_file(p, "hello", 5, 0640, &e), 0);
	assert_int_equal(chown(p, 42, 42), 0);
	snprintf(p, sizeof(p), "%s/etc/copyme/sub/deep", f->rootfs);
	assert_int_equal(sn_mkdir_p(p, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/etc/copyme/sub/deep/b", f->rootfs);
	assert_int_equal(sn_write_file(p, "deep", 4, 0644, &e), 0);
	snprintf(p, sizeof(p), "%s/etc/copyme/link", f->rootfs);
	assert_int_equal(symlink("a.txt", p), 0);
	run_contained(tmpcopyup_child, f, 0);
	snprintf(p, sizeof(p), "%s/etc/copyme/written-in-ct", f->rootfs);
	assert_false(sn_path_exists(p));  /* the writes went to the tmpfs */
}

/* --- symlink escape */

static void escape_child(struct fixture *f)
{
	char file[256];
	snprintf(file, sizeof(file), "%s/payload", f->dir);
	write_file(file, "p");
	struct spec_mount mounts[] = {
		mnt("/evil/x", "tmpfs", "tmpfs", 0, NULL),
		mnt("/evil/file", NULL, file, MS_BIND, NULL),
		mnt("/rel/y", "tmpfs", "tmpfs", 0, NULL),
		mnt("/../../../../..//evil/z", "tmpfs", "tmpfs", 0, NULL),
	};
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	struct spec_device dev = { .type = 'c', .path = "/evil/null", .major = 1, .minor = 3,
				   .file_mode = 0666, .uid = SPEC_UNSET, .gid = SPEC_UNSET };
	s.linux_.devices = &dev;
	s.linux_.n_devices = 1;
	struct rootfs_ctx ctx = { .spec = &s, .rootfs = f->rootfs };
	CHECK_SN(rootfs_prepare(&ctx, &cerr));
	/* Seen from the host's side of our namespace: nothing in hostdir... */
	CHECK(dir_is_empty(f->hostdir), "host dir untouched");
	/* ...and the mounts landed inside the rootfs, clamped to it. */
	char p[512];
	snprintf(p, sizeof(p), "%s%s/x", f->rootfs, f->hostdir);
	CHECK(fs_type(p) == TMPFS_MAGIC_, "clamped mount at %s", p);
	snprintf(p, sizeof(p), "%s%s/z", f->rootfs, f->hostdir);
	CHECK(fs_type(p) == TMPFS_MAGIC_, "dotdot clamped at %s", p);
	snprintf(p, sizeof(p), "%s%s/y", f->rootfs, f->hostdir);
	CHECK(fs_type(p) == TMPFS_MAGIC_, "relative escape clamped at %s", p);
	snprintf(p, sizeof(p), "%s%s/null", f->rootfs, f->hostdir);
	struct stat st;
	CHECK(stat(p, &st) == 0 && S_ISCHR(st.st_mode), "device clamped at %s", p);
}

static void add_escape_links(struct fixture *f)
{
	char p[512], rel[512];
	snprintf(p, sizeof(p), "%s/evil", f->rootfs);
	assert_int_equal(symlink(f->hostdir, p), 0);   /* evil -> /tmp/sn-host-XXXX */
	snprintf(p, sizeof(p), "%s/rel", f->rootfs);
	snprintf(rel, sizeof(rel), "../../../../../../..%s", f->hostdir);
	assert_int_equal(symlink(rel, p), 0);
}

static void escape_child_walk(struct fixture *f)
{
	rfs_force_walk = true;
	escape_child(f);
}

static void refuses_mount_destination_symlink_escape(void **state)
{
	add_escape_links(*state);
	run_contained(escape_child, *state, 0);
}

static void refuses_mount_destination_symlink_escape_without_openat2(void **state)
{
	add_escape_links(*state);
	run_contained(escape_child_walk, *state, 0);
}

/* --- magic links */

static void magic_child(struct fixture *f)
{
	/* With the container's proc mounted, /proc/self/root is a magic link
	 * to the host's root (we have not pivoted yet). */
	struct spec_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/proc/self/root/tmp/x", "tmpfs", "tmpfs", 0, NULL),
	};
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	struct rootfs_ctx ctx = { .spec = &s, .rootfs = f->rootfs };
	sn_err_clear(&cerr);
	int r = rootfs_prepare(&ctx, &cerr);
	if (rfs_force_walk) {
		/* The walk never follows a link in the kernel: the text "/" is
		 * clamped to the rootfs. */
		CHECK(r == 0, "%s", cerr.msg);
		char p[512];
		snprintf(p, sizeof(p), "%s/tmp/x", f->rootfs);
		CHECK(fs_type(p) == TMPFS_MAGIC_, "clamped into the rootfs");
	} else {
		/* openat2 answers a magic link under RESOLVE_NO_MAGICLINKS with ELOOP */
		CHECK((r == -ELOOP || r == -EXDEV) && strstr(cerr.msg, "/proc/self/root/tmp/x"), "%d %s", r, cerr.msg);
	}
	CHECK(access("/tmp/x", F_OK) < 0 && errno == ENOENT, "nothing on the host");
}

static void magic_child_walk(struct fixture *f)
{
	rfs_force_walk = true;
	magic_child(f);
}

static void refuses_mount_destination_through_proc_magic_link(void **state)
{
	struct stat st;
	if (stat("/tmp/x", &st) == 0) {
		skip();  /* cannot tell ours from someone else's */
		return;
	}
	run_contained(magic_child, *state, 0);
	run_contained(magic_child_walk, *state, 0);
	assert_false(sn_path_exists("/tmp/x"));
}

/* --- resolver unit cases (no mounts) */

static void resolver_walk_clamps_dotdot_and_absolute_links(void **state)
{
	struct fixture *f = *state;
	char p[512];
	snprintf(p, sizeof(p), "%s/etc/abs", f->rootfs);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	snprintf(p, sizeof(p), "%s/etc/loop", f->rootfs);
	assert_int_equal(symlink("loop", p), 0);
	_cleanup_close_ int root = open(f->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);
	for (int walk = 0; walk <= 1; walk++) {
		rfs_force_walk = walk;
		struct sn_err e = { 0 };
		_cleanup_close_ int fd = -1;
		assert_int_equal(rfs_resolve(root, "/../../etc/abs", RFS_NO_CREATE, &fd, &e), 0);
		struct stat a, b;
		assert_int_equal(fstat(fd, &a), 0);
		snprintf(p, sizeof(p), "%s/etc/hostname", f->rootfs);
		assert_int_equal(stat(p, &b), 0);
		assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
		_cleanup_close_ int l = -1;
		assert_int_equal(rfs_resolve(root, "/etc/loop", RFS_NO_CREATE, &l, &e), -ELOOP);
		assert_non_null(strstr(e.msg, "/etc/loop"));
		_cleanup_close_ int c = -1;
		assert_int_equal(rfs_resolve(root, walk ? "/new/w/file" : "/new/o/file",
					     RFS_CREATE_FILE, &c, &e), 0);
		assert_int_equal(fstat(c, &a), 0);
		assert_true(S_ISREG(a.st_mode));
		_cleanup_close_ int nd = -1;
		assert_int_equal(rfs_resolve(root, "/etc/hostname/x", RFS_CREATE_DIR, &nd, &e), -ENOTDIR);
	}
	rfs_force_walk = false;
}

/* --- devices */

static void devices_child(struct fixture *f)
{
	struct spec_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/dev", "tmpfs", "tmpfs", MS_NOSUID, "mode=755"),
	};
	struct spec_device devs[] = {
		{ .type = 'c', .path = "/dev/mydev", .major = 1, .minor = 3, .file_mode = 0640,
		  .uid = 1234, .gid = 5678 },
		{ .type = 'b', .path = "/dev/blk/loopx", .major = 7, .minor = 200, .file_mode = 0660,
		  .uid = SPEC_UNSET, .gid = 6 },
		{ .type = 'p', .path = "/dev/fifo", .major = 0, .minor = 0, .file_mode = SPEC_UNSET,
		  .uid = SPEC_UNSET, .gid = SPEC_UNSET },
		{ .type = 'u', .path = "/dev/unbuf", .major = 1, .minor = 5, .file_mode = 0600,
		  .uid = SPEC_UNSET, .gid = SPEC_UNSET },
	};
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	s.linux_.devices = devs;
	s.linux_.n_devices = SN_ARRAY_SIZE(devs);
	struct rootfs_ctx ctx = { 0 };
	umask(022);  /* the node's mode must not depend on it */
	enter(f, &s, &ctx);
	struct stat st;
	CHECK(stat("/dev/mydev", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
	      minor(st.st_rdev) == 3 && (st.st_mode & 07777) == 0640 && st.st_uid == 1234 &&
	      st.st_gid == 5678, "mode %o uid %u gid %u", st.st_mode, st.st_uid, st.st_gid);
	CHECK(stat("/dev/blk/loopx", &st) == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == 7 &&
	      minor(st.st_rdev) == 200 && (st.st_mode & 0777) == 0660 && st.st_gid == 6);
	CHECK(stat("/dev/fifo", &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0666);
	CHECK(stat("/dev/unbuf", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 5);
	char line[4096];
	CHECK(!mountinfo_line("/dev/mydev", line, sizeof(line)), "made by mknod, not a bind");
}

static void linux_devices_created_with_major_minor_mode_owner(void **state)
{
	run_contained(devices_child, *state, 0);
}

static void devices_userns_child(struct fixture *f)
{
	struct spec_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/dev", "tmpfs", "tmpfs", MS_NOSUID, "mode=755"),
	};
	struct spec_device devs[] = {
		{ .type = 'c', .path = "/dev/zero", .major = 1, .minor = 5, .file_mode = 0666,
		  .uid = SPEC_UNSET, .gid = SPEC_UNSET },
	};
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	s.linux_.devices = devs;
	s.linux_.n_devices = 1;
	struct rootfs_ctx ctx = { .in_userns = true };
	enter(f, &s, &ctx);
	struct stat st;
	char line[4096];
	CHECK(stat("/dev/zero", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 5);
	CHECK(mountinfo_line("/dev/zero", line, sizeof(line)), "/dev/zero is a bind of the host node");
	CHECK(mountinfo_line("/dev/null", line, sizeof(line)), "default devices bound too");
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 3);
	char buf[8];
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) && buf[0] == 0);
	close(fd);
}

static void in_userns_devices_are_bind_mounted_from_host(void **state)
{
	run_contained(devices_userns_child, *state, 0);
}

/* --- inside a user namespace: locked flags, device binds */

static void write_proc(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open %s", path);
	CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s), "write %s", path);
	close(fd);
}

static void userns_child(struct fixture *f)
{
	/* A nosuid,nodev source made while still fully privileged... */
	char src[256];
	snprintf(src, sizeof(src), "%s/locked", f->dir);
	CHECK(mkdir(src, 0755) == 0);
	CHECK(mount("tmpfs", src, "tmpfs", MS_NOSUID | MS_NODEV, NULL) == 0);
	/* ...then a user namespace (root mapped to root) with its own mount
	 * namespace: every inherited mount's flags are now locked. */
	CHECK(unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0);
	write_proc("/proc/self/setgroups", "deny");
	write_proc("/proc/self/uid_map", "0 0 1");
	write_proc("/proc/self/gid_map", "0 0 1");
	struct spec_mount mounts[] = {
		/* proc cannot be mounted fresh: the pid namespace is not ours */
		mnt("/proc", NULL, "/proc", MS_BIND | MS_REC, NULL),
		mnt("/dev", "tmpfs", "tmpfs", MS_NOSUID, "mode=755"),
		/* "suid,dev" asked: cannot be granted, ro must still apply */
		mnt("/mnt/locked", NULL, src, MS_BIND | MS_RDONLY, NULL),
	};
	mounts[2].clear = MS_NOSUID | MS_NODEV;
	struct spec_device dev = { .type = 'c', .path = "/dev/zero", .major = 1, .minor = 5,
				   .file_mode = 0666, .uid = SPEC_UNSET, .gid = SPEC_UNSET };
	char *masked[] = { "/secret" };
	char *ro[] = { "/etc" };
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	s.linux_.devices = &dev;
	s.linux_.n_devices = 1;
	s.linux_.masked_paths = masked;
	s.linux_.n_masked_paths = 1;
	s.linux_.readonly_paths = ro;
	s.linux_.n_readonly_paths = 1;
	s.root_readonly = true;
	struct rootfs_ctx ctx = { .in_userns = true };
	ctx.spec = &s;
	ctx.rootfs = f->rootfs;
	CHECK_SN(rootfs_prepare(&ctx, &cerr));
	CHECK_SN(rootfs_pivot(&ctx, &cerr));
	CHECK_SN(rootfs_finalize(&ctx, &cerr));
	CHECK(fs_type("/dev") == TMPFS_MAGIC_);
	CHECK(dir_is_empty("/secret"), "masked in a user namespace");
	CHECK(open("/etc/x", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 && errno == EROFS);
	CHECK(mkdir("/newdir", 0755) < 0 && errno == EROFS, "read-only root");
	struct stat st;
	CHECK(stat("/dev/zero", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 5,
	      "device bound from the host");
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 3);
	CHECK(has_flag("/mnt/locked", ST_RDONLY) && has_flag("/mnt/locked", ST_NOSUID) &&
	      has_flag("/mnt/locked", ST_NODEV), "ro added, locked nosuid/nodev kept");
}

static void userns_keeps_locked_flags_and_binds_device_nodes(void **state)
{
	run_contained(userns_child, *state, 0);
}

/* --- cgroup bind without a cgroupns, sysfs without a netns */

static void cgroup_sysfs_child(struct fixture *f)
{
	struct spec_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/sys", "sysfs", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL),
		mnt("/sys/fs/cgroup", "cgroup", "cgroup", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL),
	};
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	struct rootfs_ctx ctx = { .cgroup_path = "/", .new_netns = false, .new_cgroupns = false };
	enter(f, &s, &ctx);
	char line[4096];
	CHECK(fs_type("/sys") == SYSFS_MAGIC_ && has_flag("/sys", ST_RDONLY), "host /sys bound ro");
	CHECK(access("/sys/kernel", F_OK) == 0);
	CHECK(fs_type("/sys/fs/cgroup/memory") == CGROUP_MAGIC_);
	CHECK(has_flag("/sys/fs/cgroup/memory", ST_RDONLY), "cgroup bind remounted ro");
	CHECK(access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0);
	CHECK(mountinfo_line("/sys/fs/cgroup/pids", line, sizeof(line)));
	CHECK(fs_type("/sys/fs/cgroup/unified") == CGROUP2_MAGIC_);
}

static void cgroup_binds_host_hierarchies_and_sysfs_falls_back_to_bind(void **state)
{
	struct stat st;
	if (stat("/sys/fs/cgroup/memory", &st) < 0) {
		skip();
		return;
	}
	run_contained(cgroup_sysfs_child, *state, 0);
}

/* --- errors */

static void missing_source_child(struct fixture *f)
{
	struct spec_mount mounts[] = {
		mnt("/proc", "proc", "proc", 0, NULL),
		mnt("/data", NULL, "/nonexistent-sn-src", MS_BIND, NULL),
	};
	struct spec s = { 0 };
	s.mounts = mounts;
	s.n_mounts = SN_ARRAY_SIZE(mounts);
	struct rootfs_ctx ctx = { .spec = &s, .rootfs = f->rootfs };
	sn_err_clear(&cerr);
	CHECK(rootfs_prepare(&ctx, &cerr) == -ENOENT);
	CHECK(strstr(cerr.msg, "mounts[1]") && strstr(cerr.msg, "/nonexistent-sn-src") &&
	      strstr(cerr.msg, "/data"), "%s", cerr.msg);
	/* A mount failure names type, destination and rootfs. */
	struct spec_mount bad[] = { mnt("/x", "nosuchfs", "none", 0, NULL) };
	s.mounts = bad;
	s.n_mounts = 1;
	sn_err_clear(&cerr);
	CHECK(rootfs_prepare(&ctx, &cerr) < 0);
	CHECK(strstr(cerr.msg, "mount `none` on `/x` (in rootfs `") && strstr(cerr.msg, f->rootfs),
	      "%s", cerr.msg);
}

static void mount_errors_name_the_mount_and_rootfs(void **state)
{
	run_contained(missing_source_child, *state, 0);
}

/* --- sysctl */

static void sysctl_child(struct fixture *f)
{
	struct spec_sysctl kv[] = {
		{ "net.ipv4.ip_forward", "1" },
		{ "kernel.shmmax", "123456789" },
	};
	struct spec s = { 0 };
	s.linux_.sysctl = kv;
	s.linux_.n_sysctl = SN_ARRAY_SIZE(kv);
	CHECK_SN(rootfs_sysctl(&s, &cerr));
	char buf[64];
	CHECK(read_small("/proc/sys/net/ipv4/ip_forward", buf, sizeof(buf)) > 0 && buf[0] == '1');
	CHECK(read_small("/proc/sys/kernel/shmmax", buf, sizeof(buf)) > 0 &&
	      strncmp(buf, "123456789", 9) == 0, "%s", buf);
}

static void sysctl_sets_values_in_new_net_and_ipc_namespaces(void **state)
{
	char before_fwd[64] = "", before_shm[64] = "", after[64];
	assert_true(read_small("/proc/sys/net/ipv4/ip_forward", before_fwd, sizeof(before_fwd)) > 0);
	assert_true(read_small("/proc/sys/kernel/shmmax", before_shm, sizeof(before_shm)) > 0);
	run_contained(sysctl_child, *state, CLONE_NEWNET | CLONE_NEWIPC);
	/* The host's values did not move. */
	assert_true(read_small("/proc/sys/net/ipv4/ip_forward", after, sizeof(after)) > 0);
	assert_string_equal(after, before_fwd);
	assert_true(read_small("/proc/sys/kernel/shmmax", after, sizeof(after)) > 0);
	assert_string_equal(after, before_shm);
}

static void sysctl_refuses_dotdot_and_slash_keys(void **state)
{
	static const char *const bad[] = { "net..ipv4", "..", "kernel/../../etc", "a/b", "",
					   ".kernel", "kernel." };
	for (size_t i = 0; i < SN_ARRAY_SIZE(bad); i++) {
		struct spec_sysctl kv = { (char *)bad[i], "1" };
		struct spec s = { 0 };
		s.linux_.sysctl = &kv;
		s.linux_.n_sysctl = 1;
		struct sn_err e = { 0 };
		assert_int_equal(rootfs_sysctl(&s, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "invalid key"));
	}
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_rootfs needs root (mount namespaces)\n");
		return 77;
	}
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(prepares_pivots_and_finalizes_busybox_rootfs),
		T(host_mountinfo_has_no_new_entries_after_container_exits),
		T(bind_mount_ro_nosuid_shows_flags_in_statvfs),
		T(rbind_keeps_submounts),
		T(propagation_flags_visible_in_mountinfo),
		T(rootfs_propagation_shared_makes_root_shared),
		T(tmpcopyup_copies_original_contents),
		T(refuses_mount_destination_symlink_escape),
		T(refuses_mount_destination_symlink_escape_without_openat2),
		T(refuses_mount_destination_through_proc_magic_link),
		T(resolver_walk_clamps_dotdot_and_absolute_links),
		T(linux_devices_created_with_major_minor_mode_owner),
		T(in_userns_devices_are_bind_mounted_from_host),
		T(userns_keeps_locked_flags_and_binds_device_nodes),
		T(cgroup_binds_host_hierarchies_and_sysfs_falls_back_to_bind),
		T(mount_errors_name_the_mount_and_rootfs),
		T(sysctl_sets_values_in_new_net_and_ipc_namespaces),
		cmocka_unit_test(sysctl_refuses_dotdot_and_slash_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
