/* internal.h — what the image layer's files share and nobody else sees:
 * the store struct, the lock protocol, digest helpers and small fs helpers
 * (kept here until base grows them). */
#ifndef SN_IMAGE_INTERNAL_H
#define SN_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "image/image.h"

struct image_store {
	char *root;
	int rootfd;
};

/* Lock protocol (store.c):
 *  - gc.lock: every operation that adds blobs/layers or relies on them
 *    staying (import, pull, layer prepare, snapshot create) holds it
 *    LOCK_SH; gc holds it LOCK_EX, so gc never removes what a running
 *    operation has written but not yet indexed. The temp sweep at open runs
 *    only if LOCK_EX can be had at once.
 *  - index.lock: LOCK_EX around every read-modify-write of images.json and
 *    around a snapshot's removal. Readers read images.json without a lock
 *    (atomic rename). A snapshot is made without it: its mkdir makes the id
 *    the creator's, and gc, which must see snapshots whole, waits for the
 *    creator's gc.lock.
 * Each lock is a fresh open file description, so threads of one process
 * exclude each other as processes do. */
int store_lock(struct image_store *s, const char *name, int op, int *fd, struct sn_err *err);
static inline void store_unlockp(int *fd);

/* Buffer size of the read/write loops (on the heap: a static __thread
 * buffer would be allocated and zeroed in every thread of every program
 * linking the layer, the daemon's HTTP threads included). */
#define STORE_IO_BUF (1u << 17)

/* "sha256:<hex>" → pointer to hex, or NULL if not a valid digest. */
const char *digest_hex(const char *digest);
/* "<root>/<sub>" malloc'ed. */
char *store_path(const struct image_store *s, const char *sub);
/* Make a unique temp file under tmp/ (O_RDWR); *path malloc'ed. */
int store_tmpfile(struct image_store *s, const char *prefix, int *fd, char **path,
		  struct sn_err *err);
/* Make a unique temp dir under tmp/ (or under sub when given). */
int store_tmpdir(struct image_store *s, const char *sub, const char *prefix, char **path,
		 struct sn_err *err);
/* Move an existing file whose sha256 is already known into blobs/. */
int store_adopt_file(struct image_store *s, const char *path, const char *digest,
		     struct sn_err *err);

/* Staging: blobs verified and fsynced but kept in tmp/ until the whole
 * image checks out; stage_commit renames them into blobs/ (in the order
 * staged, so manifests staged last land last). stage_free unlinks what was
 * not committed: a failed import leaves the store as it was. */
struct blob_stage_item {
	char *path;
	char digest[IMAGE_DIGEST_SIZE];
	uint64_t size;
	bool keep;
	char *name;  /* docker archive: the path inside the tar */
};
struct blob_stage {
	struct blob_stage_item *items;
	size_t n, cap;
};
int image_blob_writer_stage(struct image_blob_writer *w, struct blob_stage *st,
			    char out[IMAGE_DIGEST_SIZE], struct sn_err *err);
int stage_fd(struct image_store *s, struct blob_stage *st, int fd, const char *expected,
	     uint64_t max, char out[IMAGE_DIGEST_SIZE], struct sn_err *err);
int stage_buf(struct image_store *s, struct blob_stage *st, const void *buf, size_t len,
	      const char *expected, char out[IMAGE_DIGEST_SIZE], struct sn_err *err);
int stage_commit(struct image_store *s, struct blob_stage *st, bool only_marked,
		 struct sn_err *err);
void stage_free(struct blob_stage *st);
/* Stage a hard link to an already verified file of another stage (same
 * store, tmp/): no copy. */
int stage_link(struct image_store *s, struct blob_stage *st, const char *path, const char *digest,
	       uint64_t size, struct sn_err *err);
/* After a commit, when indexing failed: remove the blobs this stage added. */
void stage_uncommit(struct image_store *s, struct blob_stage *st);

/* Write all of buf to fd. */
/* Copy fd_in to path (created 0644) with copy_file_range/read-write. */
int copy_fd_to_path(int fd_in, const char *path, struct sn_err *err);
/* Stream a file through sha256 into hex (size in *size). */
int hash_fd(int fd, char digest[IMAGE_DIGEST_SIZE], uint64_t *size, struct sn_err *err);

/* JSON helpers: parse a blob of the store as JSON (size-limited). */
int store_read_json(struct image_store *s, const char *digest, json_t **out,
		    struct sn_err *err);

/* manifest.c: parse a manifest JSON (OCI or docker schema2) plus its config
 * into an image; checks media types, digests, diff_ids count. */
int image_from_manifest(struct image_store *s, const char *manifest_digest,
			struct image **out, struct sn_err *err);
/* The same, reading the manifest and config from st when they are staged
 * there (a pull checks an image before anything of it is in blobs/). */
int image_from_manifest_staged(struct image_store *s, const struct blob_stage *st,
			       const char *manifest_digest, struct image **out, struct sn_err *err);
bool media_type_is_index(const char *mt);
bool media_type_is_manifest(const char *mt);
bool media_type_is_layer(const char *mt);
/* Pick the manifest descriptor for platform p from an index/list (json).
 * Returns a borrowed descriptor or NULL with err. */
json_t *index_select_platform(json_t *index, const struct image_platform *p,
			      const char *what, struct sn_err *err);
/* Descriptor basic validation: mediaType (string), digest (valid), size. */
int descriptor_parse(json_t *d, const char *path, const char **mt, const char **digest,
		     uint64_t *size, struct sn_err *err);

/* oci_layout.c: import an OCI layout whose files were staged from a tar
 * (docker_archive.c); find returns the staged file of a path in it. */
int layout_import_staged(struct image_store *s, struct blob_stage *files,
			 struct blob_stage_item *(*find)(void *ctx, const char *name), void *ctx,
			 const char *label, const struct image_import_opts *o,
			 char out[IMAGE_DIGEST_SIZE], struct sn_err *err);

/* index.c: image_index_add, and the name (canonical) appended to tagged
 * when both are given (an import reports what it tagged). */
int index_add_tagged(struct image_store *s, const char *name, const char *manifest_digest,
		     json_t *tagged, struct sn_err *err);

/* index.c: snapshots hold references too. */
int index_load(struct image_store *s, json_t **out, struct sn_err *err);

/* progress.c */
void progress_emit(image_progress_fn fn, void *data, enum image_progress_event ev,
		   const char *what, const char *digest, uint64_t done, uint64_t total,
		   unsigned index, unsigned count);

/* unpack.c: safe walk inside a root (no symlinks, no ..). */
int unpack_check_path(const char *p, char *out, size_t outsz);

static inline void store_unlockp(int *fd)
{
	extern void store_unlock(int fd);
	if (*fd >= 0)
		store_unlock(*fd);
	*fd = -1;
}
#define _cleanup_unlock_ __attribute__((cleanup(store_unlockp)))

#endif
