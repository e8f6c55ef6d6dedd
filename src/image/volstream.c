/* volstream.c — a volume as a checked stream: a tar of the tree, then a
 * trailer block with the tar's sha256 and length.
 *
 *   [ tar (pax), as libarchive writes it, ending with its zero blocks ]
 *   [ 512-byte trailer: "SUBNODE-VOLUME-STREAM 1\n"
 *                       "sha256:<64 hex>\n"      of every tar byte
 *                       "bytes <N>\n"            the tar's length
 *     then NUL bytes to 512 ]
 *
 * Why a trailer in the stream and not an HTTP trailer or header: the hash
 * is only known once the whole tree was read, the stream must start at
 * once and never be held in memory, and a file saved with `subnode volume
 * export NAME >F` must carry its own check to `volume import NAME <F`.
 * Plain tar tools still read it (`head -c -512 F | tar t`): the trailer
 * comes after the tar's end-of-archive blocks.
 *
 * Export walks the tree with libarchive's disk reader (symlinks not
 * followed, mounts not crossed) and writes through a callback that hashes
 * as it writes: constant memory, any size.
 *
 * Import reuses the image layer's safe unpack (unpack.c: no absolute
 * paths, no `..`, nothing through a symlink, hardlinks kept inside, no
 * device nodes), reading through a callback that holds back the last 512
 * bytes of the input (the trailer can only be told from the tar at the
 * end) and hashes the rest as it hands it on. A stream that is cut short (no trailer,
 * or a length that does not match), or whose hash does not match, is
 * refused; the caller unpacks into a staging directory and removes it.
 * Note: the unpack is the layers' flat mode, so a file named `.wh.X` in
 * a volume would be taken as a whiteout (documented in docs/NODE.md).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "image/image.h"

#define TRAILER_SIZE 512
#define TRAILER_MAGIC "SUBNODE-VOLUME-STREAM 1\n"
#define CHUNK (256u << 10)

/* ---- export */

struct out_ctx {
	int fd;
	struct sn_sha256 *h;
	uint64_t bytes;
	int err;          /* errno of a failed write */
	char *buf;        /* OUT_BUF bytes: the pipe gets large writes, so its
			   * reader (the daemon) wakes once per OUT_BUF, not
			   * per 10 KiB tar record */
	size_t len;
};

#define OUT_BUF (512u << 10)

static int out_flush(struct out_ctx *o)
{
	if (o->len && sn_write_all(o->fd, o->buf, o->len) < 0) {
		o->err = errno ? errno : EIO;
		return -1;
	}
	o->len = 0;
	return 0;
}

static la_ssize_t out_write(struct archive *a, void *cd, const void *buf, size_t n)
{
	struct out_ctx *o = cd;
	if (sn_sha256_update(o->h, buf, n, &(struct sn_err){ 0 }) < 0) {
		archive_set_error(a, EIO, "sha256 update failed");
		return -1;
	}
	for (size_t done = 0; done < n;) {
		size_t k = n - done < OUT_BUF - o->len ? n - done : OUT_BUF - o->len;
		memcpy(o->buf + o->len, (const char *)buf + done, k);
		o->len += k;
		done += k;
		if (o->len == OUT_BUF && out_flush(o) < 0) {
			archive_set_error(a, o->err, "write the stream: %s", strerror(o->err));
			return -1;
		}
	}
	o->bytes += n;
	return (la_ssize_t)n;
}

static void read_freep(struct archive **a) { if (*a) archive_read_free(*a); }
static void write_freep(struct archive **a) { if (*a) archive_write_free(*a); }

static void linkresolver_freep(struct archive_entry_linkresolver **l)
{
	if (*l)
		archive_entry_linkresolver_free(*l);
}

static int copy_entries(struct archive *disk, struct archive *w, const char *dir, char *buf,
			struct sn_err *err)
{
	/* Files with several links: the first is written whole, the others as
	 * hardlinks to it (tar's way), so the copy keeps them one file. */
	struct archive_entry_linkresolver *lr __attribute__((cleanup(linkresolver_freep))) =
		archive_entry_linkresolver_new();
	if (!lr)
		return sn_err_set(err, ENOMEM, "export `%s`", dir);
	archive_entry_linkresolver_set_strategy(lr, archive_format(w));
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		if (!e)
			return sn_err_set(err, ENOMEM, "export `%s`", dir);
		int ar = archive_read_next_header2(disk, e);
		if (ar == ARCHIVE_EOF) {
			archive_entry_free(e);
			return 0;
		}
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			int r = sn_err_msg(err, EIO, "export `%s`: %s", dir, archive_error_string(disk));
			archive_entry_free(e);
			return r;
		}
		archive_read_disk_descend(disk);
		const char *p = archive_entry_pathname(e);
		int r = 0;
		struct archive_entry *spare = NULL;
		if (p && strcmp(p, ".") != 0)
			archive_entry_linkify(lr, &e, &spare);
		if (p && strcmp(p, ".") != 0 && e) {   /* the root keeps the target's own metadata */
			if (archive_write_header(w, e) != ARCHIVE_OK)
				r = sn_err_msg(err, EIO, "export `%s`: entry `%s`: %s", dir, p,
					       archive_error_string(w));
			while (r == 0 && archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
				la_ssize_t n = archive_read_data(disk, buf, CHUNK);
				if (n < 0)
					r = sn_err_msg(err, EIO, "export `%s`: read `%s`: %s", dir, p,
						       archive_error_string(disk));
				else if (n == 0)
					break;
				else if (archive_write_data(w, buf, (size_t)n) != n)
					r = sn_err_msg(err, EIO, "export `%s`: entry `%s`: %s", dir, p,
						       archive_error_string(w));
			}
		}
		archive_entry_free(e);
		if (r < 0)
			return r;
	}
}

int image_volume_export(const char *dir, int out_fd, struct sn_err *err)
{
	struct out_ctx o = { .fd = out_fd };
	int r = sn_sha256_new(&o.h, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *buf = malloc(CHUNK);
	_cleanup_free_ char *obuf = o.buf = malloc(OUT_BUF);
	struct archive *disk __attribute__((cleanup(read_freep))) = archive_read_disk_new();
	struct archive *w __attribute__((cleanup(write_freep))) = archive_write_new();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!buf || !obuf || !disk || !w) {
		r = sn_err_set(err, ENOMEM, "export `%s`", dir);
		goto out;
	}
	if (dfd < 0 || fchdir(dfd) < 0) {
		r = sn_err_sys(err, "export: open `%s`", dir);
		goto out;
	}
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
					     ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS);
	archive_write_set_format_pax_restricted(w);
	if (archive_read_disk_open(disk, ".") != ARCHIVE_OK ||
	    archive_write_open(w, &o, NULL, out_write, NULL) != ARCHIVE_OK) {
		r = sn_err_msg(err, EIO, "export `%s`: %s", dir, o.err ? strerror(o.err) :
			       archive_error_string(disk));
		goto out;
	}
	if ((r = copy_entries(disk, w, dir, buf, err)) < 0)
		goto out;
	if (archive_write_close(w) != ARCHIVE_OK) {
		r = sn_err_msg(err, EIO, "export `%s`: %s", dir, archive_error_string(w));
		goto out;
	}
	char hex[SN_SHA256_HEX_LEN + 1];
	if ((r = sn_sha256_final_hex(o.h, hex, err)) < 0)
		goto out;
	char trailer[TRAILER_SIZE] = { 0 };
	snprintf(trailer, sizeof(trailer), TRAILER_MAGIC "sha256:%s\nbytes %llu\n", hex,
		 (unsigned long long)o.bytes);
	if (out_flush(&o) < 0 || sn_write_all(out_fd, trailer, sizeof(trailer)) < 0)
		r = sn_err_sys(err, "export `%s`: write the trailer", dir);
out:
	sn_sha256_free(o.h);
	return r;
}

/* ---- import */

/* The reader the unpack pulls from: the input less its last 512 bytes,
 * hashed as they go; what is held back at the end is the trailer. */
struct feed {
	int in;
	struct sn_sha256 *h;
	uint64_t bytes;           /* handed on (the tar) */
	char *buf;                /* CHUNK + TRAILER_SIZE */
	size_t held;              /* bytes at buf's start kept back */
	size_t handed;            /* bytes handed out by the last call */
	char trailer[TRAILER_SIZE];
	int err;                  /* errno of a failed read */
	bool eof;
};

static ssize_t feed_read(void *arg, const void **out)
{
	struct feed *f = arg;
	/* what was kept back moves to the front (the last piece handed out
	 * is no longer in use: the unpack asks for the next one) */
	memmove(f->buf, f->buf + f->handed, f->held);
	f->handed = 0;
	while (!f->eof) {
		ssize_t n = read(f->in, f->buf + f->held, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			f->err = errno;
			return -f->err;
		}
		if (n == 0) {
			f->eof = true;
			break;
		}
		f->held += (size_t)n;
		if (f->held > TRAILER_SIZE) {
			size_t give = f->held - TRAILER_SIZE;
			sn_sha256_update(f->h, f->buf, give, &(struct sn_err){ 0 });
			f->bytes += give;
			f->held = TRAILER_SIZE;
			f->handed = give;
			*out = f->buf;
			return (ssize_t)give;
		}
	}
	memcpy(f->trailer, f->buf, f->held);
	return 0;
}

static int check_trailer(struct feed *f, const char *hex, struct sn_err *err)
{
	if (f->err)
		return sn_err_set(err, f->err, "volume stream: read");
	char want[160];
	snprintf(want, sizeof(want), TRAILER_MAGIC "sha256:%s\nbytes %llu\n", hex,
		 (unsigned long long)f->bytes);
	if (f->held < TRAILER_SIZE || memcmp(f->trailer, TRAILER_MAGIC, strlen(TRAILER_MAGIC)) != 0)
		return sn_err_msg(err, EINVAL, "volume stream: truncated or not a volume export "
				  "(no trailer after %llu bytes)", (unsigned long long)f->bytes);
	size_t wl = strlen(want);
	bool zeros = true;
	for (size_t i = wl; i < TRAILER_SIZE; i++)
		zeros &= f->trailer[i] == 0;
	if (memcmp(f->trailer, want, wl) != 0 || !zeros) {
		char got[120];
		snprintf(got, sizeof(got), "%.*s", (int)strcspn(f->trailer + strlen(TRAILER_MAGIC), "\0"),
			 f->trailer + strlen(TRAILER_MAGIC));
		for (char *c = got; *c; c++)
			if (*c == '\n')
				*c = ' ';
		return sn_err_msg(err, EINVAL, "volume stream: corrupt: its trailer says `%s`, the "
				  "stream is sha256:%s of %llu bytes", got, hex, (unsigned long long)f->bytes);
	}
	return 0;
}

int image_volume_import(int in_fd, const char *dest, char digest[IMAGE_DIGEST_SIZE],
			struct sn_err *err)
{
	_cleanup_close_ int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return sn_err_sys(err, "volume import: open `%s`", dest);
	_cleanup_free_ char *buf = malloc(CHUNK + TRAILER_SIZE);
	if (!buf)
		return sn_err_set(err, ENOMEM, "volume import");
	struct feed f = { .in = in_fd, .buf = buf };
	int r = sn_sha256_new(&f.h, err);
	if (r < 0)
		return r;
	r = image_unpack_layer_read(feed_read, &f, dfd, IMAGE_UNPACK_FLAT, NULL, "volume stream", err);
	/* An unpack that stopped early (a bad entry): read on to the end, so
	 * the trailer says whether the stream itself was bad. */
	const void *p;
	while (!f.eof && !f.err && feed_read(&f, &p) > 0)
		;
	char hex[SN_SHA256_HEX_LEN + 1];
	struct sn_err e2 = { 0 };
	int rt = sn_sha256_final_hex(f.h, hex, &e2);
	if (rt == 0)
		rt = check_trailer(&f, hex, &e2);
	sn_sha256_free(f.h);
	/* A bad stream is what to report, even when the unpack failed first
	 * on the garbage it made (a flipped byte in a header). */
	if (rt < 0 && (r == 0 || e2.code == EINVAL)) {
		*err = e2;
		return rt;
	}
	if (r < 0)
		return r;
	snprintf(digest, IMAGE_DIGEST_SIZE, "sha256:%s", hex);
	return 0;
}
