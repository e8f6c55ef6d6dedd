/* unpack.c — layer unpack with libarchive, every path kept inside the target.
 *
 * Threat: a layer is attacker-controlled input unpacked as root. A crafted
 * tar can try to write outside the target through an absolute path, a `..`
 * component, a symlink it planted earlier (`link -> /etc`, then
 * `link/passwd`), a hardlink to a host file, or a device node giving raw
 * access to a disk. We refuse all of these and fail the whole layer with a
 * message naming the entry, rather than silently "sanitising" names, so an
 * operator sees that an image is hostile.
 *
 * How: every entry name is normalised (`.` and empty components dropped)
 * and refused if absolute or containing `..`. The parent directory is then
 * reached from the target's directory fd one component at a time with
 * openat(O_NOFOLLOW|O_DIRECTORY) and fstatat(AT_SYMLINK_NOFOLLOW): a
 * symlink on the way is refused; missing parents are created. The last
 * component is always created fresh (existing non-directories are unlinked
 * first, regular files are opened O_CREAT|O_EXCL|O_NOFOLLOW), so nothing is
 * ever written through a symlink. Hardlink targets go through the same walk
 * and are linked without following. Character and block devices are
 * refused; FIFOs are allowed; sockets are skipped. Xattrs in the
 * trusted.overlay.* namespace are refused (they would steer overlayfs).
 *
 * One pass, bounded memory: an outer libarchive reader (all filters, raw
 * format) decompresses the blob; its output is hashed (to check the
 * diff_id) and fed to an inner tar reader through a read callback. gzip,
 * zstd and uncompressed layers all go the same way.
 *
 * Whiteouts: in FLAT mode `.wh.NAME` deletes NAME and `.wh..wh..opq` empties
 * the directory of what lower layers put there (entries of this layer are
 * remembered and kept). In OVERLAY mode (one empty dir per layer) they are
 * turned into overlayfs' own form: a 0/0 character device, and the xattr
 * trusted.overlay.opaque=y.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/sha256.h"
#include "image/internal.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct unpack_ctx {
	int rootfd;
	enum image_unpack_mode mode;
	const char *what;
	struct sn_err *err;
	bool root;          /* running as root: chown, mknod whiteouts */
	json_t *created;    /* FLAT: paths this layer made (kept by opaque) */
	char entry[PATH_MAX]; /* current entry name, for messages: a copy, since
			       * libarchive frees its own at the next header */
};

static int entry_fail(struct unpack_ctx *c, int errnum, const char *why)
{
	return sn_err_msg(c->err, errnum, "%s: entry `%s`: %s", c->what, c->entry, why);
}

static int entry_sys(struct unpack_ctx *c, const char *call)
{
	int e = errno;
	return sn_err_set(c->err, e, "%s: entry `%s`: %s", c->what, c->entry, call);
}

/* Normalise p into out. 0, or -EPERM (absolute), -EXDEV (`..`), -ENAMETOOLONG. */
int unpack_check_path(const char *p, char *out, size_t outsz)
{
	if (p[0] == '/')
		return -EPERM;
	size_t o = 0;
	const char *s = p;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = s;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - s);
		if (n == 0)
			break;
		if (n == 1 && s[0] == '.') {
			s = e;
			continue;
		}
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return -EXDEV;
		if (o + n + 2 > outsz)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
		s = e;
	}
	out[o] = '\0';
	return 0;
}

/* Open the directory holding rel (all but the last component), creating
 * missing ones when create; refuses symlinks and non-directories on the
 * way. *base points into rel at the last component. */
static int open_parent(struct unpack_ctx *c, char *rel, bool create, int *out,
		       const char **base)
{
	int cur = dup(c->rootfd);
	if (cur < 0)
		return entry_sys(c, "dup");
	char *s = rel;
	for (;;) {
		char *slash = strchr(s, '/');
		if (!slash)
			break;
		*slash = '\0';
		struct stat st;
		if (fstatat(cur, s, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT || !create) {
				int r = entry_sys(c, "stat parent");
				*slash = '/';
				close(cur);
				return r;
			}
			if (mkdirat(cur, s, 0755) < 0 && errno != EEXIST) {
				int r = entry_sys(c, "mkdir parent");
				*slash = '/';
				close(cur);
				return r;
			}
		} else if (S_ISLNK(st.st_mode)) {
			*slash = '/';
			close(cur);
			return entry_fail(c, ELOOP, "path goes through a symlink (write through a symlink refused)");
		} else if (!S_ISDIR(st.st_mode)) {
			*slash = '/';
			close(cur);
			return entry_fail(c, ENOTDIR, "a parent is not a directory");
		}
		int next = openat(cur, s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		if (next < 0) {
			int r = errno == ELOOP || errno == ENOTDIR
					? entry_fail(c, ELOOP, "path goes through a symlink (write through a symlink refused)")
					: entry_sys(c, "open parent");
			close(cur);
			return r;
		}
		close(cur);
		cur = next;
		s = slash + 1;
	}
	*out = cur;
	*base = s;
	return 0;
}

/* rm -rf name inside dirfd, never following symlinks. */
static int rm_at(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) && r == 0) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = rm_at(dirfd(d), de->d_name);
	}
	closedir(d);
	if (r == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

/* Make room for a new non-directory at name. */
static int clear_slot(struct unpack_ctx *c, int pfd, const char *name)
{
	int r = rm_at(pfd, name);
	if (r < 0) {
		errno = -r;
		return entry_sys(c, "remove existing");
	}
	return 0;
}

static int apply_xattrs(struct unpack_ctx *c, struct archive_entry *e, int fd)
{
	const char *name;
	const void *val;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		if (strncmp(name, "trusted.overlay.", 16) == 0)
			return entry_fail(c, EPERM, "xattr trusted.overlay.* refused");
		if (fsetxattr(fd, name, val, size, 0) < 0) {
			if (errno == ENOTSUP || (!c->root && errno == EPERM))
				continue;
			return entry_sys(c, "set xattr");
		}
	}
	return 0;
}

/* Owner, mode, xattrs, times on an open fd (files and directories). */
static int apply_meta_fd(struct unpack_ctx *c, struct archive_entry *e, int fd)
{
	if (c->root && fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
		return entry_sys(c, "chown");
	if (fchmod(fd, archive_entry_mode(e) & 07777) < 0)
		return entry_sys(c, "chmod");
	int r = apply_xattrs(c, e, fd);
	if (r < 0)
		return r;
	struct timespec ts[2] = {
		{ .tv_sec = archive_entry_atime(e), .tv_nsec = archive_entry_atime_nsec(e) },
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
	};
	if (!archive_entry_atime_is_set(e))
		ts[0] = ts[1];
	if (futimens(fd, ts) < 0)
		return entry_sys(c, "set times");
	return 0;
}

static int write_file(struct unpack_ctx *c, struct archive *a, struct archive_entry *e,
		      int pfd, const char *name)
{
	int r = clear_slot(c, pfd, name);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					0600);
	if (fd < 0)
		return entry_sys(c, "create");
	const void *buf;
	size_t size;
	la_int64_t off;
	for (;;) {
		int ar = archive_read_data_block(a, &buf, &size, &off);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN)
			return sn_err_msg(c->err, EIO, "%s: entry `%s`: %s", c->what, c->entry,
					  archive_error_string(a));
		const char *p = buf;
		while (size > 0) {
			ssize_t w = pwrite(fd, p, size, off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return entry_sys(c, "write");
			}
			p += w;
			off += w;
			size -= (size_t)w;
		}
	}
	if (ftruncate(fd, archive_entry_size(e)) < 0)
		return entry_sys(c, "truncate");
	return apply_meta_fd(c, e, fd);
}

static int do_dir(struct unpack_ctx *c, struct archive_entry *e, int pfd, const char *name)
{
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
		int r = clear_slot(c, pfd, name);
		if (r < 0)
			return r;
	}
	if (mkdirat(pfd, name, 0700) < 0 && errno != EEXIST)
		return entry_sys(c, "mkdir");
	_cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return entry_sys(c, "open directory");
	return apply_meta_fd(c, e, fd);
}

static int do_symlink(struct unpack_ctx *c, struct archive_entry *e, int pfd, const char *name)
{
	const char *target = archive_entry_symlink(e);
	if (!target || !*target)
		return entry_fail(c, EINVAL, "symlink without a target");
	int r = clear_slot(c, pfd, name);
	if (r < 0)
		return r;
	if (symlinkat(target, pfd, name) < 0)
		return entry_sys(c, "symlink");
	if (c->root && fchownat(pfd, name, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
				AT_SYMLINK_NOFOLLOW) < 0)
		return entry_sys(c, "chown symlink");
	struct timespec ts[2] = {
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
	};
	utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW); /* best effort */
	return 0;
}

static int do_hardlink(struct unpack_ctx *c, const char *link, int pfd, const char *name)
{
	char norm[PATH_MAX];
	int r = unpack_check_path(link, norm, sizeof(norm));
	if (r == -EPERM)
		return entry_fail(c, EPERM, "hardlink to an absolute path (outside the target)");
	if (r == -EXDEV)
		return entry_fail(c, EPERM, "hardlink target has `..`: escapes the target");
	if (r < 0 || !norm[0])
		return entry_fail(c, EINVAL, "bad hardlink target");
	_cleanup_close_ int tfd = -1;
	const char *tbase;
	r = open_parent(c, norm, false, &tfd, &tbase);
	if (r < 0)
		return sn_err_wrap(c->err, "hardlink target `%s`", link);
	struct stat st;
	if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_fail(c, ENOENT, "hardlink target does not exist in the layer");
	if (S_ISDIR(st.st_mode))
		return entry_fail(c, EPERM, "hardlink to a directory");
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return entry_fail(c, EPERM, "hardlink to a device node");
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = clear_slot(c, pfd, name);
		if (r < 0)
			return r;
	}
	if (linkat(tfd, tbase, pfd, name, 0) < 0)
		return entry_sys(c, "link");
	return 0;
}

static bool created_has(struct unpack_ctx *c, const char *path)
{
	return c->created && json_object_get(c->created, path);
}

/* FLAT opaque: remove children of dir `dirpath` not made by this layer. */
static int flat_opaque(struct unpack_ctx *c, int dfd, const char *dirpath)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return entry_sys(c, "open directory");
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return entry_sys(c, "opendir");
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d)) && r == 0) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char p[PATH_MAX];
		int pn = snprintf(p, sizeof(p), "%s%s%s", dirpath, *dirpath ? "/" : "", de->d_name);
		if (pn < 0 || (size_t)pn >= sizeof(p))
			continue;
		if (created_has(c, p))
			continue;
		r = rm_at(dfd, de->d_name);
		if (r < 0) {
			errno = -r;
			r = entry_sys(c, "remove for opaque whiteout");
		}
	}
	closedir(d);
	return r;
}

static int do_whiteout(struct unpack_ctx *c, char *norm, int pfd, const char *base)
{
	if (strcmp(base, WH_OPAQUE) == 0) {
		char dirpath[PATH_MAX];
		snprintf(dirpath, sizeof(dirpath), "%.*s", (int)(base != norm ? base - norm - 1 : 0), norm);
		if (c->mode == IMAGE_UNPACK_OVERLAY) {
			if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
				return entry_sys(c, "set opaque xattr");
			return 0;
		}
		return flat_opaque(c, pfd, dirpath);
	}
	const char *name = base + strlen(WH_PREFIX);
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
		return entry_fail(c, EINVAL, "bad whiteout name");
	if (c->mode == IMAGE_UNPACK_OVERLAY) {
		int r = clear_slot(c, pfd, name);
		if (r < 0)
			return r;
		if (mknodat(pfd, name, S_IFCHR | 0000, makedev(0, 0)) < 0)
			return entry_sys(c, "make whiteout");
		return 0;
	}
	int r = rm_at(pfd, name);
	if (r < 0) {
		errno = -r;
		return entry_sys(c, "remove for whiteout");
	}
	return 0;
}

static int do_entry(struct unpack_ctx *c, struct archive *a, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e);
	snprintf(c->entry, sizeof(c->entry), "%s", path ? path : "");
	if (!path)
		return entry_fail(c, EINVAL, "entry without a name");
	char norm[PATH_MAX];
	int r = unpack_check_path(path, norm, sizeof(norm));
	if (r == -EPERM)
		return entry_fail(c, EPERM, "absolute path escapes the target");
	if (r == -EXDEV)
		return entry_fail(c, EPERM, "path escapes the target (`..`)");
	if (r < 0)
		return entry_fail(c, ENAMETOOLONG, "name too long");
	if (!norm[0])
		return 0; /* "./": the target itself keeps its own metadata */
	mode_t type = archive_entry_filetype(e);
	const char *hl = archive_entry_hardlink(e);
	if (type == AE_IFCHR || type == AE_IFBLK)
		return entry_fail(c, EPERM, "device node refused");
	_cleanup_close_ int pfd = -1;
	const char *base;
	r = open_parent(c, norm, true, &pfd, &base);
	if (r < 0)
		return r;
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
		return do_whiteout(c, norm, pfd, base);
	if (hl)
		r = do_hardlink(c, hl, pfd, base);
	else if (type == AE_IFDIR)
		r = do_dir(c, e, pfd, base);
	else if (type == AE_IFREG)
		r = write_file(c, a, e, pfd, base);
	else if (type == AE_IFLNK)
		r = do_symlink(c, e, pfd, base);
	else if (type == AE_IFIFO) {
		r = clear_slot(c, pfd, base);
		if (r == 0 && mknodat(pfd, base, S_IFIFO | (archive_entry_mode(e) & 07777), 0) < 0)
			r = entry_sys(c, "mkfifo");
		if (r == 0 && c->root)
			fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
				 AT_SYMLINK_NOFOLLOW);
	} else if (type == AE_IFSOCK)
		return 0;
	else
		return entry_fail(c, EINVAL, "unsupported entry type");
	if (r == 0 && c->created)
		json_object_set_new(c->created, norm, json_true());
	return r;
}

/* ---- the two-reader pipeline */
struct outer {
	struct archive *a;
	struct sn_sha256 *h;
	char buf[1 << 16];
};

static la_ssize_t inner_read(struct archive *ia, void *cd, const void **buf)
{
	struct outer *o = cd;
	la_ssize_t n = archive_read_data(o->a, o->buf, sizeof(o->buf));
	if (n < 0) {
		archive_set_error(ia, EIO, "%s", archive_error_string(o->a));
		return -1;
	}
	if (n > 0 && sn_sha256_update(o->h, o->buf, (size_t)n, &(struct sn_err){ 0 }) < 0) {
		archive_set_error(ia, EIO, "sha256 update failed");
		return -1;
	}
	*buf = o->buf;
	return n;
}

static void archive_freep(struct archive **a) { if (*a) archive_read_free(*a); }

struct cb_src {
	image_read_fn fn;
	void *arg;
};

static la_ssize_t cb_read(struct archive *a, void *cd, const void **buf)
{
	struct cb_src *src = cd;
	ssize_t n = src->fn(src->arg, buf);
	if (n < 0) {
		archive_set_error(a, (int)-n, "read: %s", strerror((int)-n));
		return -1;
	}
	return n;
}

static int unpack_layer(int fd, struct cb_src *src, int dest_fd, enum image_unpack_mode mode,
			const char *diffid, const char *what, struct sn_err *err);

int image_unpack_layer_fd(int fd, int dest_fd, enum image_unpack_mode mode, const char *diffid,
			  const char *what, struct sn_err *err)
{
	return unpack_layer(fd, NULL, dest_fd, mode, diffid, what, err);
}

int image_unpack_layer_read(image_read_fn fn, void *arg, int dest_fd, enum image_unpack_mode mode,
			    const char *diffid, const char *what, struct sn_err *err)
{
	struct cb_src src = { .fn = fn, .arg = arg };
	return unpack_layer(-1, &src, dest_fd, mode, diffid, what, err);
}

/* From fd, or (fd < 0) from src's reads. */
static int unpack_layer(int fd, struct cb_src *src, int dest_fd, enum image_unpack_mode mode,
			const char *diffid, const char *what, struct sn_err *err)
{
	_cleanup_free_ struct outer *o = calloc(1, sizeof(*o));
	if (!o)
		return sn_err_set(err, ENOMEM, "%s", what);
	int r = sn_sha256_new(&o->h, err);
	if (r < 0)
		return r;
	struct archive *outer __attribute__((cleanup(archive_freep))) = archive_read_new();
	struct archive *inner __attribute__((cleanup(archive_freep))) = archive_read_new();
	_cleanup_json_ json_t *created = mode == IMAGE_UNPACK_FLAT ? json_object() : NULL;
	struct unpack_ctx c = { .rootfd = dest_fd, .mode = mode, .what = what, .err = err,
				.root = geteuid() == 0, .created = created };
	if (!outer || !inner) {
		r = sn_err_set(err, ENOMEM, "%s", what);
		goto out;
	}
	o->a = outer;
	archive_read_support_filter_all(outer);
	archive_read_support_format_raw(outer);
	if ((src ? archive_read_open(outer, src, NULL, cb_read, NULL)
		 : archive_read_open_fd(outer, fd, 1 << 17)) != ARCHIVE_OK) {
		r = sn_err_msg(err, EINVAL, "%s: %s", what, archive_error_string(outer));
		goto out;
	}
	struct archive_entry *oe;
	int ar = archive_read_next_header(outer, &oe);
	if (ar != ARCHIVE_OK) {
		r = sn_err_msg(err, EINVAL, "%s: not a readable layer: %s", what,
			       ar == ARCHIVE_EOF ? "empty" : archive_error_string(outer));
		goto out;
	}
	archive_read_support_format_tar(inner);
	if (archive_read_open(inner, o, NULL, inner_read, NULL) != ARCHIVE_OK) {
		r = sn_err_msg(err, EINVAL, "%s: not a tar archive: %s", what,
			       archive_error_string(inner));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		ar = archive_read_next_header(inner, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			r = sn_err_msg(err, EINVAL, "%s: corrupt or truncated tar (after entry `%s`): %s",
				       what, c.entry, archive_error_string(inner));
			goto out;
		}
		r = do_entry(&c, inner, e);
		if (r < 0)
			goto out;
	}
	/* Hash what the tar reader left (end-of-archive padding). */
	for (;;) {
		la_ssize_t n = archive_read_data(outer, o->buf, sizeof(o->buf));
		if (n < 0) {
			r = sn_err_msg(err, EIO, "%s: %s", what, archive_error_string(outer));
			goto out;
		}
		if (n == 0)
			break;
		r = sn_sha256_update(o->h, o->buf, (size_t)n, err);
		if (r < 0)
			goto out;
	}
	char hex[SN_SHA256_HEX_LEN + 1];
	r = sn_sha256_final_hex(o->h, hex, err);
	if (r < 0)
		goto out;
	if (diffid && (strncmp(diffid, "sha256:", 7) != 0 || strcmp(diffid + 7, hex) != 0)) {
		r = sn_err_msg(err, EBADMSG, "%s: uncompressed content is sha256:%s, config says diff_id %s",
			       what, hex, diffid);
		goto out;
	}
	r = 0;
out:
	sn_sha256_free(o->h);
	return r;
}
