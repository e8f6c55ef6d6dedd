/* store_write.c — blobs coming into the store: the streaming writer,
 * one-shot puts, and staging (verified blobs kept in tmp/ until a whole
 * image checks out).
 *
 * Design. Bytes come in through a writer: a temp file under tmp/ that every
 * byte passes through sha256 on its way to; commit compares the digest with
 * the one expected (when the caller had one), fsyncs and renames into
 * place. A mismatch unlinks the temp file, so nothing partial ever appears
 * under blobs/. Two processes writing the same blob is harmless: the second
 * rename replaces identical content.
 *
 * Trade-off: we fsync every blob (a power cut must not leave a truncated
 * blob that its name claims is whole). That costs a little on import
 * benchmarks; containerd makes the same choice.
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

/* ---- writer */
struct image_blob_writer {
	struct image_store *s;
	int fd;
	char *tmp;
	struct sn_sha256 *h;
	uint64_t size;
	char expected[IMAGE_DIGEST_SIZE];
};

int image_blob_writer_new(struct image_store *s, const char *expected_digest,
			  struct image_blob_writer **out, struct sn_err *err)
{
	if (expected_digest && !digest_hex(expected_digest))
		return sn_err_msg(err, EINVAL, "blob `%s`: not a sha256 digest", expected_digest);
	_cleanup_free_ struct image_blob_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return sn_err_set(err, ENOMEM, "blob writer");
	w->s = s;
	w->fd = -1;
	if (expected_digest)
		snprintf(w->expected, sizeof(w->expected), "%s", expected_digest);
	int r = sn_sha256_new(&w->h, err);
	if (r < 0)
		return r;
	r = store_tmpfile(s, "blob", &w->fd, &w->tmp, err);
	if (r < 0) {
		sn_sha256_free(w->h);
		return r;
	}
	*out = steal_ptr(w);
	return 0;
}

int image_blob_writer_write(struct image_blob_writer *w, const void *buf, size_t len,
			    struct sn_err *err)
{
	int r = sn_sha256_update(w->h, buf, len, err);
	if (r < 0)
		return r;
	r = sn_write_all(w->fd, buf, len);
	if (r < 0)
		return sn_err_set(err, -r, "write `%s`", w->tmp);
	w->size += len;
	return 0;
}

uint64_t image_blob_writer_size(const struct image_blob_writer *w)
{
	return w->size;
}

void image_blob_writer_abort(struct image_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	sn_sha256_free(w->h);
	free(w);
}

/* Finish the hash into got ("sha256:<hex>") and check it against the
 * expected digest, if one was given. */
static int writer_verify(struct image_blob_writer *w, char got[IMAGE_DIGEST_SIZE],
			 struct sn_err *err)
{
	char hex[SN_SHA256_HEX_LEN + 1];
	int r = sn_sha256_final_hex(w->h, hex, err);
	if (r < 0)
		return r;
	snprintf(got, IMAGE_DIGEST_SIZE, "sha256:%s", hex);
	if (w->expected[0] && strcmp(got, w->expected) != 0)
		return sn_err_msg(err, EBADMSG, "blob %s: digest mismatch: content is %s (%llu bytes)",
				  w->expected, got, (unsigned long long)w->size);
	return 0;
}

int image_blob_writer_commit(struct image_blob_writer *w, char out[IMAGE_DIGEST_SIZE],
			     struct sn_err *err)
{
	char got[IMAGE_DIGEST_SIZE];
	int r = writer_verify(w, got, err);
	if (r < 0)
		goto fail;
	if (fsync(w->fd) < 0) {
		r = sn_err_sys(err, "fsync `%s`", w->tmp);
		goto fail;
	}
	if (fchmod(w->fd, 0644) < 0) {
		r = sn_err_sys(err, "chmod `%s`", w->tmp);
		goto fail;
	}
	r = store_adopt_file(w->s, w->tmp, got, err);
	if (r < 0)
		goto fail;
	if (out)
		memcpy(out, got, IMAGE_DIGEST_SIZE);
	free(w->tmp);
	w->tmp = NULL;
	image_blob_writer_abort(w);
	return 0;
fail:
	image_blob_writer_abort(w);
	return r;
}

int store_adopt_file(struct image_store *s, const char *path, const char *digest,
		     struct sn_err *err)
{
	_cleanup_free_ char *dst = image_store_blob_path(s, digest);
	if (!dst)
		return sn_err_msg(err, EINVAL, "blob `%s`: bad digest", digest);
	if (rename(path, dst) < 0)
		return sn_err_sys(err, "rename `%s` to `%s`", path, dst);
	return 0;
}

int image_store_put_blob(struct image_store *s, const void *data, size_t len,
			 const char *expected_digest, char out[IMAGE_DIGEST_SIZE],
			 struct sn_err *err)
{
	struct image_blob_writer *w = NULL;
	int r = image_blob_writer_new(s, expected_digest, &w, err);
	if (r < 0)
		return r;
	r = image_blob_writer_write(w, data, len, err);
	if (r < 0) {
		image_blob_writer_abort(w);
		return r;
	}
	return image_blob_writer_commit(w, out, err);
}

/* Stream fd into w (hashed as it goes), refusing more than max bytes
 * (0: no limit). */
static int writer_fill_from_fd(struct image_blob_writer *w, int fd, const char *expected,
			       uint64_t max, struct sn_err *err)
{
	_cleanup_free_ char *buf = malloc(STORE_IO_BUF);
	if (!buf)
		return sn_err_set(err, ENOMEM, "blob");
	for (;;) {
		ssize_t n = read(fd, buf, STORE_IO_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sn_err_sys(err, "read");
		}
		if (n == 0)
			return 0;
		if (max && w->size + (uint64_t)n > max)
			return sn_err_msg(err, EFBIG, "blob %s: larger than its declared %llu bytes",
					  expected ? expected : "", (unsigned long long)max);
		int r = image_blob_writer_write(w, buf, (size_t)n, err);
		if (r < 0)
			return r;
	}
}

int image_store_put_blob_fd(struct image_store *s, int fd, const char *expected_digest,
			    uint64_t max, char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	struct image_blob_writer *w = NULL;
	int r = image_blob_writer_new(s, expected_digest, &w, err);
	if (r < 0)
		return r;
	if ((r = writer_fill_from_fd(w, fd, expected_digest, max, err)) < 0) {
		image_blob_writer_abort(w);
		return r;
	}
	return image_blob_writer_commit(w, out, err);
}

int hash_fd(int fd, char digest[IMAGE_DIGEST_SIZE], uint64_t *size, struct sn_err *err)
{
	struct sn_sha256 *h = NULL;
	int r = sn_sha256_new(&h, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *buf = malloc(STORE_IO_BUF);
	if (!buf) {
		sn_sha256_free(h);
		return sn_err_set(err, ENOMEM, "hash");
	}
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, STORE_IO_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = sn_err_sys(err, "read");
			break;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		r = sn_sha256_update(h, buf, (size_t)n, err);
		if (r < 0)
			break;
	}
	char hex[SN_SHA256_HEX_LEN + 1];
	if (r == 0)
		r = sn_sha256_final_hex(h, hex, err);
	sn_sha256_free(h);
	if (r < 0)
		return r;
	snprintf(digest, IMAGE_DIGEST_SIZE, "sha256:%s", hex);
	if (size)
		*size = total;
	return 0;
}

int copy_fd_to_path(int fd_in, const char *path, struct sn_err *err)
{
	_cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return sn_err_sys(err, "create `%s`", path);
	for (;;) {
		ssize_t n = copy_file_range(fd_in, NULL, out, NULL, 1 << 30, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			    errno == EOPNOTSUPP)
				break; /* fall back to read/write below */
			return sn_err_sys(err, "copy to `%s`", path);
		}
		if (n == 0)
			return 0;
	}
	_cleanup_free_ char *buf = malloc(STORE_IO_BUF);
	if (!buf)
		return sn_err_set(err, ENOMEM, "copy to `%s`", path);
	for (;;) {
		ssize_t n = read(fd_in, buf, STORE_IO_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sn_err_sys(err, "read for `%s`", path);
		}
		if (n == 0)
			return 0;
		int r = sn_write_all(out, buf, (size_t)n);
		if (r < 0)
			return sn_err_set(err, -r, "write `%s`", path);
	}
}

/* ---- staging: verified blobs kept in tmp/ until the whole image is good */
/* Add a staged file (path is taken over on success). */
static int stage_push(struct blob_stage *st, char *path, const char *digest, uint64_t size,
		      struct sn_err *err)
{
	if (st->n == st->cap) {
		size_t nc = st->cap ? st->cap * 2 : 16;
		struct blob_stage_item *ni = realloc(st->items, nc * sizeof(*ni));
		if (!ni)
			return sn_err_set(err, ENOMEM, "stage blob");
		st->items = ni;
		st->cap = nc;
	}
	struct blob_stage_item *it = &st->items[st->n++];
	memset(it, 0, sizeof(*it));
	it->path = path;
	it->size = size;
	snprintf(it->digest, IMAGE_DIGEST_SIZE, "%s", digest);
	return 0;
}

int image_blob_writer_stage(struct image_blob_writer *w, struct blob_stage *st,
			    char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	char got[IMAGE_DIGEST_SIZE];
	int r = writer_verify(w, got, err);
	if (r < 0)
		goto fail;
	if (fsync(w->fd) < 0 || fchmod(w->fd, 0644) < 0) {
		r = sn_err_sys(err, "fsync `%s`", w->tmp);
		goto fail;
	}
	r = stage_push(st, w->tmp, got, w->size, err);
	if (r < 0)
		goto fail;
	w->tmp = NULL;
	if (out)
		memcpy(out, got, IMAGE_DIGEST_SIZE);
	image_blob_writer_abort(w);
	return 0;
fail:
	image_blob_writer_abort(w);
	return r;
}

int stage_commit(struct image_store *s, struct blob_stage *st, bool only_marked,
		 struct sn_err *err)
{
	for (size_t i = 0; i < st->n; i++) {
		struct blob_stage_item *it = &st->items[i];
		if (!it->path || (only_marked && !it->keep))
			continue;
		if (image_store_has_blob(s, it->digest))
			continue; /* already there (maybe held by another image) */
		int r = store_adopt_file(s, it->path, it->digest, err);
		if (r < 0)
			return r;
		free(it->path);
		it->path = NULL;
	}
	return 0;
}

void stage_free(struct blob_stage *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->items[i].name);
		if (st->items[i].path) {
			unlink(st->items[i].path);
			free(st->items[i].path);
		}
	}
	free(st->items);
	memset(st, 0, sizeof(*st));
}

/* Copy fd to a staged blob; expected digest/size checked when given. */
int stage_fd(struct image_store *s, struct blob_stage *st, int fd, const char *expected,
	     uint64_t max, char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	struct image_blob_writer *w = NULL;
	int r = image_blob_writer_new(s, expected, &w, err);
	if (r < 0)
		return r;
	if ((r = writer_fill_from_fd(w, fd, expected, max, err)) < 0) {
		image_blob_writer_abort(w);
		return r;
	}
	return image_blob_writer_stage(w, st, out, err);
}

int stage_buf(struct image_store *s, struct blob_stage *st, const void *buf, size_t len,
	      const char *expected, char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	struct image_blob_writer *w = NULL;
	int r = image_blob_writer_new(s, expected, &w, err);
	if (r < 0)
		return r;
	r = image_blob_writer_write(w, buf, len, err);
	if (r < 0) {
		image_blob_writer_abort(w);
		return r;
	}
	return image_blob_writer_stage(w, st, out, err);
}

int stage_link(struct image_store *s, struct blob_stage *st, const char *path, const char *digest,
	       uint64_t size, struct sn_err *err)
{
	static unsigned long counter;
	for (int tries = 0; tries < 8; tries++) {
		char *p = NULL;
		if (asprintf(&p, "%s/tmp/link-%d-%lu-%d", s->root, (int)getpid(),
			     __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), tries) < 0)
			return sn_err_set(err, ENOMEM, "stage blob");
		if (link(path, p) == 0) {
			int r = stage_push(st, p, digest, size, err);
			if (r < 0) {
				unlink(p);
				free(p);
			}
			return r;
		}
		int e = errno;
		free(p);
		if (e != EEXIST)
			return sn_err_set(err, e, "link `%s` into the stage", path);
	}
	return sn_err_msg(err, EEXIST, "link `%s` into the stage: no free name", path);
}

void stage_uncommit(struct image_store *s, struct blob_stage *st)
{
	for (size_t i = 0; i < st->n; i++) {
		if (st->items[i].path)
			continue;
		_cleanup_free_ char *p = image_store_blob_path(s, st->items[i].digest);
		if (p)
			unlink(p);
	}
}
