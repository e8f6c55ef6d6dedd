/* fuzz_unpack.c — libFuzzer target: a layer blob (tar, tar+gzip, tar+zstd,
 * or anything) unpacked by image_unpack_layer_fd (unpack.c) into a scratch
 * directory, in both modes (FLAT, then OVERLAY). unpack.c promises that
 * nothing of a layer lands outside its target; this target checks it after
 * every input, and that no device node other than an overlay whiteout
 * (0/0) was made. Then it empties the scratch directory.
 *
 * Containment, so that a bug found cannot touch the host: at start the
 * process enters a mount namespace of its own (a user namespace too when
 * it is not root) and mounts a small tmpfs, the jail; the scratch
 * directory is jail/scratch. Around every unpack the process chroots into
 * the jail (and returns through a kept fd of the old root): an absolute
 * symlink or hardlink target, a `..` past the top, a path relative to the
 * cwd all resolve inside the jail, where the check sees them as entries
 * next to scratch/. The jail's size bounds a decompression bomb.
 *
 * Mutations keep tar header checksums right (fuzz_tar_mutate), so that
 * mutated names, types and link targets reach unpack.c.
 *
 * libFuzzer writes a crash found inside the chroot to -artifact_prefix,
 * resolved from the jail's root; when the prefix is a relative directory
 * (bench/fuzz/run.sh gives ../../artifacts/unpack/), the real directory is
 * bind-mounted at that place in the jail so that the input is kept.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <dirent.h>

#include "image/image.h"

static char *jail;
static int old_root = -1, old_cwd = -1, jail_fd = -1, layer_fd = -1;
static char artifacts_top[NAME_MAX + 1]; /* the jail entry the artifact mount lives under */

#define SYS(call, ...)                                                           \
	do {                                                                     \
		if ((call) < 0) {                                                \
			fprintf(stderr, "fuzz_unpack: ");                        \
			fprintf(stderr, __VA_ARGS__);                            \
			fprintf(stderr, ": %s\n", strerror(errno));              \
			abort();                                                 \
		}                                                                \
	} while (0)

static void write_map(const char *file, const char *text)
{
	struct sn_err err = { 0 };
	if (sn_write_existing(file, text, &err) < 0) {
		fprintf(stderr, "fuzz_unpack: %s\n", err.msg);
		abort();
	}
}

/* A mount namespace of our own; as non-root, inside a user namespace that
 * maps us to root (enough for chroot, mount of tmpfs, chown to ourselves). */
static void enter_namespaces(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		if (errno != EPERM)
			SYS(-1, "unshare(CLONE_NEWNS)");
		uid_t uid = geteuid();
		gid_t gid = getegid();
		SYS(unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS) (not root)");
		char map[64];
		write_map("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		write_map("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		write_map("/proc/self/gid_map", map);
	}
	SYS(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "make / private");
}

/* -artifact_prefix=REL/DIR/ → bind the real DIR at jail/<REL without ..>. */
static void bind_artifacts(int argc, char **argv)
{
	const char *prefix = NULL;
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "-artifact_prefix=", 17) == 0)
			prefix = argv[i] + 17;
	if (!prefix || !*prefix || prefix[0] == '/' || prefix[strlen(prefix) - 1] != '/') {
		fprintf(stderr, "fuzz_unpack: no relative -artifact_prefix=DIR/: a crash inside the "
				"jail is reported but its input is not saved\n");
		return;
	}
	char real[PATH_MAX];
	SYS(realpath(prefix, real) ? 0 : -1, "artifact dir `%s`", prefix);
	const char *inner = prefix;
	while (strncmp(inner, "../", 3) == 0 || strncmp(inner, "./", 2) == 0)
		inner += inner[1] == '.' ? 3 : 2;
	if (!*inner || strstr(inner, "/../") || strncmp(inner, "..", 2) == 0) {
		fprintf(stderr, "fuzz_unpack: -artifact_prefix `%s`: use DIR/ or ../DIR/\n", prefix);
		abort();
	}
	char *at;
	if (asprintf(&at, "%s/%s", jail, inner) < 0)
		abort();
	struct sn_err err = { 0 };
	if (sn_mkdir_p(at, 0755, &err) < 0) {
		fprintf(stderr, "fuzz_unpack: %s\n", err.msg);
		abort();
	}
	SYS(mount(real, at, NULL, MS_BIND, NULL), "bind `%s` at `%s`", real, at);
	snprintf(artifacts_top, sizeof(artifacts_top), "%.*s", (int)strcspn(inner, "/"), inner);
	free(at);
}

static void unmount_jail(void)
{
	if (jail)
		umount2(jail, MNT_DETACH); /* then fuzz_scratch_remove removes the dir */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	enter_namespaces();
	jail = fuzz_scratch_dir("unpack");
	SYS(mount("tmpfs", jail, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,nr_inodes=16384,mode=0755"),
	    "mount tmpfs on `%s`", jail);
	atexit(unmount_jail);
	SYS(jail_fd = open(jail, O_PATH | O_DIRECTORY | O_CLOEXEC), "open `%s`", jail);
	SYS(old_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), "open /");
	SYS(old_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), "open .");
	SYS(layer_fd = memfd_create("layer", MFD_CLOEXEC), "memfd_create");
	bind_artifacts(*argc, *argv);
	SYS(mkdirat(jail_fd, "scratch", 0755), "mkdir scratch");
	return 0;
}

static void enter_jail(void)
{
	SYS(fchdir(jail_fd), "fchdir jail");
	SYS(chroot("."), "chroot jail");
}

static void leave_jail(void)
{
	SYS(fchdir(old_root), "fchdir old root");
	SYS(chroot("."), "chroot old root");
	SYS(fchdir(old_cwd), "fchdir old cwd");
}

static int check_node(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	FUZZ_CHECK(!S_ISBLK(st->st_mode), "block device `%s` made", path);
	FUZZ_CHECK(!S_ISCHR(st->st_mode) || st->st_rdev == makedev(0, 0),
		   "character device %u:%u `%s` made", major(st->st_rdev), minor(st->st_rdev), path);
	return 0;
}

/* Nothing next to scratch/ (but the artifact mount); no device in it. */
static void check_jail(void)
{
	DIR *d = opendir(jail);
	SYS(d ? 0 : -1, "opendir `%s`", jail);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, "scratch") == 0 ||
		    (artifacts_top[0] && strcmp(n, artifacts_top) == 0))
			continue;
		FUZZ_CHECK(false, "`%s` appeared outside the target directory (in the jail's root)", n);
	}
	closedir(d);
	char *scratch;
	if (asprintf(&scratch, "%s/scratch", jail) < 0)
		abort();
	SYS(nftw(scratch, check_node, 16, FTW_PHYS), "walk `%s`", scratch);
	free(scratch);
}

static void reset_scratch(void)
{
	char *scratch;
	if (asprintf(&scratch, "%s/scratch", jail) < 0)
		abort();
	struct sn_err err = { 0 };
	if (sn_rm_rf(scratch, &err) < 0) {
		fprintf(stderr, "fuzz_unpack: %s\n", err.msg);
		abort();
	}
	SYS(mkdir(scratch, 0755), "mkdir `%s`", scratch);
	free(scratch);
}

static void unpack(const uint8_t *data, size_t size, enum image_unpack_mode mode)
{
	fuzz_memfd_load(layer_fd, data, size);
	int dest;
	SYS(dest = openat(jail_fd, "scratch", O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open scratch");
	struct sn_err err = { 0 };
	enter_jail();
	int r = image_unpack_layer_fd(layer_fd, dest, mode, NULL, "layer", &err);
	leave_jail();
	close(dest);
	fuzz_check_result(r, &err, mode == IMAGE_UNPACK_FLAT ? "unpack (flat)" : "unpack (overlay)");
	check_jail();
	reset_scratch();
}

/* Tar inputs: mutations keep header checksums right (fuzz.h). */
FUZZ_TAR_MUTATOR

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (4u << 20))
		return 0;
	unpack(data, size, IMAGE_UNPACK_FLAT);
	unpack(data, size, IMAGE_UNPACK_OVERLAY);
	return 0;
}
