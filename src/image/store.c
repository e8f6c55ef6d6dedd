/* store.c — the content-addressed blob store: opening it, its locks, paths
 * and temp files, and reading blobs. Writing blobs in is store_write.c.
 *
 * Design. A blob lives at blobs/sha256/<hex> and is immutable; it appears
 * only by rename of a complete, fsynced, verified file (store_write.c).
 * The temp files a crash leaves are swept at the next open, but only when
 * that open can take gc.lock exclusively (no other process is in the middle
 * of an operation whose temp files those might be).
 *
 * This file and the other read-side files (index, manifest, snapshot,
 * bundle, gc, ref) need neither OpenSSL nor libarchive nor libcurl: the
 * node daemon links only them and leaves pulls, imports and unpacks to
 * subnode-image (docs/NODE.md, "Images").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/sha256.h"
#include "image/internal.h"

const char *digest_hex(const char *digest)
{
	if (!digest || !sn_digest_is_valid(digest))
		return NULL;
	return digest + 7;
}

char *store_path(const struct image_store *s, const char *sub)
{
	return sn_path_join(s->root, sub);
}

int store_lock(struct image_store *s, const char *name, int op, int *fd, struct sn_err *err)
{
	int f = openat(s->rootfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0)
		return sn_err_sys(err, "open lock `%s/%s`", s->root, name);
	while (flock(f, op) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(f);
		return sn_err_set(err, e, "lock `%s/%s`", s->root, name);
	}
	*fd = f;
	return 0;
}

void store_unlock(int fd)
{
	int saved = errno;
	flock(fd, LOCK_UN);
	close(fd);
	errno = saved;
}

int image_store_open(const char *root, struct image_store **out, struct sn_err *err)
{
	static const char *const dirs[] = { "blobs", "blobs/sha256", "layers", "snapshots",
					    "tmp", "partial" };
	int r = sn_mkdir_p(root, 0700, err);
	if (r < 0)
		return sn_err_wrap(err, "open image store");
	_cleanup_free_ struct image_store *s = calloc(1, sizeof(*s));
	if (!s)
		return sn_err_set(err, ENOMEM, "open image store `%s`", root);
	s->root = realpath(root, NULL);
	if (!s->root)
		return sn_err_sys(err, "open image store `%s`", root);
	s->rootfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0) {
		r = sn_err_sys(err, "open image store `%s`", s->root);
		free(s->root);
		return r;
	}
	for (size_t i = 0; i < SN_ARRAY_SIZE(dirs); i++) {
		if (mkdirat(s->rootfd, dirs[i], 0700) < 0 && errno != EEXIST) {
			r = sn_err_sys(err, "mkdir `%s/%s`", s->root, dirs[i]);
			image_store_close(steal_ptr(s));
			return r;
		}
	}
	/* Sweep temp files of crashed processes, if nobody is working. */
	int lf = openat(s->rootfd, "gc.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lf < 0) {
		r = sn_err_sys(err, "open `%s/gc.lock`", s->root);
		image_store_close(steal_ptr(s));
		return r;
	}
	if (flock(lf, LOCK_EX | LOCK_NB) == 0) {
		_cleanup_free_ char *tmp = store_path(s, "tmp");
		struct sn_err e2 = { 0 };
		if (tmp && sn_rm_rf(tmp, &e2) == 0)
			mkdir(tmp, 0700);
		flock(lf, LOCK_UN);
	}
	close(lf);
	*out = steal_ptr(s);
	return 0;
}

void image_store_close(struct image_store *s)
{
	if (!s)
		return;
	if (s->rootfd >= 0)
		close(s->rootfd);
	free(s->root);
	free(s);
}

const char *image_store_root(const struct image_store *s)
{
	return s->root;
}

int store_tmpfile(struct image_store *s, const char *prefix, int *fd, char **path,
		  struct sn_err *err)
{
	char *p = NULL;
	if (asprintf(&p, "%s/tmp/%s-XXXXXX", s->root, prefix) < 0)
		return sn_err_set(err, ENOMEM, "temp file");
	int f = mkostemp(p, O_CLOEXEC);
	if (f < 0) {
		int r = sn_err_sys(err, "create temp file `%s`", p);
		free(p);
		return r;
	}
	*fd = f;
	*path = p;
	return 0;
}

int store_tmpdir(struct image_store *s, const char *sub, const char *prefix, char **path,
		 struct sn_err *err)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s/%s-XXXXXX", s->root, sub ? sub : "tmp", prefix) < 0)
		return sn_err_set(err, ENOMEM, "temp dir");
	if (!mkdtemp(p)) {
		int r = sn_err_sys(err, "create temp dir `%s`", p);
		free(p);
		return r;
	}
	*path = p;
	return 0;
}

char *image_store_blob_path(struct image_store *s, const char *digest)
{
	const char *hex = digest_hex(digest);
	if (!hex)
		return NULL;
	char *p = NULL;
	if (asprintf(&p, "%s/blobs/sha256/%s", s->root, hex) < 0)
		return NULL;
	return p;
}

bool image_store_has_blob(struct image_store *s, const char *digest)
{
	const char *hex = digest_hex(digest);
	if (!hex)
		return false;
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	struct stat st;
	return fstatat(s->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int image_store_open_blob(struct image_store *s, const char *digest, int *fd,
			  uint64_t *size, struct sn_err *err)
{
	const char *hex = digest_hex(digest);
	if (!hex)
		return sn_err_msg(err, EINVAL, "blob `%s`: not a sha256 digest", digest ? digest : "");
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	int f = openat(s->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (f < 0) {
		if (errno == ENOENT)
			return sn_err_msg(err, ENOENT, "blob %s: not in the store", digest);
		return sn_err_sys(err, "open blob %s", digest);
	}
	if (size) {
		struct stat st;
		if (fstat(f, &st) < 0) {
			int r = sn_err_sys(err, "stat blob %s", digest);
			close(f);
			return r;
		}
		*size = (uint64_t)st.st_size;
	}
	*fd = f;
	return 0;
}

int image_store_read_blob(struct image_store *s, const char *digest, size_t max,
			  char **buf, size_t *len, struct sn_err *err)
{
	const char *hex = digest_hex(digest);
	if (!hex)
		return sn_err_msg(err, EINVAL, "blob `%s`: not a sha256 digest", digest ? digest : "");
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	int r = sn_read_file_at(s->rootfd, rel, max, buf, len, err);
	if (r == -ENOENT)
		return sn_err_msg(err, ENOENT, "blob %s: not in the store", digest);
	if (r == -EFBIG)
		return sn_err_msg(err, EFBIG, "blob %s: larger than %zu bytes", digest, max);
	return r;
}

int store_read_json(struct image_store *s, const char *digest, json_t **out,
		    struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = image_store_read_blob(s, digest, IMAGE_MANIFEST_MAX, &buf, &len, err);
	if (r < 0)
		return r;
	return sn_json_loadb(buf, len, digest, out, err);
}
