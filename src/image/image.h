/* image.h — the public interface of subnode's image layer.
 *
 * The node daemon (and the offline tool subnode-image) turn images into
 * runnable OCI bundles through this header only. Everything is rooted at a
 * store directory (default /var/lib/subnode/images):
 *
 *   blobs/sha256/<hex>     content-addressed blobs (manifests, configs, layers)
 *   images.json            the index: images by manifest digest, and tags
 *   layers/<diffid-hex>/   unpacked layers (overlay lower dirs, read-only use)
 *   snapshots/<id>/        per-container upper/ and work/ + snapshot.json
 *   tmp/                   temp files; swept when no process uses the store
 *   partial/               resumable downloads, removed by gc
 *   gc.lock, index.lock    flock(2) files (see store.c for the protocol)
 *
 * Every fallible function returns 0 or -errno and fills err with a message
 * naming the object. Nothing here prints or exits. Functions are safe to call
 * from several processes at once on the same root; a handle itself is used
 * by one thread at a time (open one handle per thread).
 */
#ifndef SN_IMAGE_IMAGE_H
#define SN_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/err.h"

#define IMAGE_DIGEST_LEN 71          /* "sha256:" + 64 hex */
#define IMAGE_DIGEST_SIZE (IMAGE_DIGEST_LEN + 1)
#define IMAGE_MANIFEST_MAX (4u << 20) /* manifests, indexes, configs */

/* ---- media types */
#define IMAGE_MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define IMAGE_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MT_OCI_CONFIG   "application/vnd.oci.image.config.v1+json"
#define IMAGE_MT_OCI_LAYER    "application/vnd.oci.image.layer.v1.tar"
#define IMAGE_MT_OCI_LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMAGE_MT_OCI_LAYER_ZST "application/vnd.oci.image.layer.v1.tar+zstd"
#define IMAGE_MT_DOCKER_LIST  "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMAGE_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMAGE_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define IMAGE_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* ---- progress (progress.c) */
enum image_progress_event {
	IMAGE_PROGRESS_START,    /* a blob transfer begins; total known or 0 */
	IMAGE_PROGRESS_DATA,     /* done advanced */
	IMAGE_PROGRESS_RESUME,   /* continuing a partial download at `done` */
	IMAGE_PROGRESS_EXISTS,   /* already in the store, not transferred */
	IMAGE_PROGRESS_DONE,     /* verified and stored */
	IMAGE_PROGRESS_UNPACK,   /* unpacking a layer (done = 0, total = size) */
};
struct image_progress {
	enum image_progress_event event;
	const char *digest;      /* the blob ("sha256:...") */
	const char *what;        /* "layer", "config", "manifest" */
	uint64_t done, total;    /* bytes */
	unsigned index, count;   /* layer i of n (0-based), 0/0 for others */
};
typedef void (*image_progress_fn)(const struct image_progress *p, void *data);
/* The event's name in subnode-image's JSON lines ("start", "data", "resume",
 * "exists", "done", "unpack") and back (-1 when unknown). */
const char *image_progress_event_name(enum image_progress_event ev);
int image_progress_event_parse(const char *name);

/* ---- store (store.c) */
struct image_store;

/* Open (creating if needed) the store at root. Sweeps temp files left by a
 * crash when no other process is using the store. */
int image_store_open(const char *root, struct image_store **out, struct sn_err *err);
void image_store_close(struct image_store *s);
const char *image_store_root(const struct image_store *s);

/* Streaming writer of one blob: bytes go to a temp file and through
 * sha256; commit verifies the digest (when expected was given) and renames
 * it into blobs/. A mismatch leaves nothing behind. */
struct image_blob_writer;
int image_blob_writer_new(struct image_store *s, const char *expected_digest,
			  struct image_blob_writer **out, struct sn_err *err);
int image_blob_writer_write(struct image_blob_writer *w, const void *buf, size_t len,
			    struct sn_err *err);
uint64_t image_blob_writer_size(const struct image_blob_writer *w);
/* Verifies, renames into place, writes the digest into out (may be NULL).
 * Frees the writer whatever the outcome. */
int image_blob_writer_commit(struct image_blob_writer *w, char out[IMAGE_DIGEST_SIZE],
			     struct sn_err *err);
void image_blob_writer_abort(struct image_blob_writer *w);

int image_store_put_blob(struct image_store *s, const void *data, size_t len,
			 const char *expected_digest, char out[IMAGE_DIGEST_SIZE],
			 struct sn_err *err);
/* Copy from fd to EOF (at most max bytes when max != 0). */
int image_store_put_blob_fd(struct image_store *s, int fd, const char *expected_digest,
			    uint64_t max, char out[IMAGE_DIGEST_SIZE], struct sn_err *err);
bool image_store_has_blob(struct image_store *s, const char *digest);
int image_store_open_blob(struct image_store *s, const char *digest, int *fd,
			  uint64_t *size, struct sn_err *err);
/* Read a small blob whole (at most max bytes, else EFBIG). */
int image_store_read_blob(struct image_store *s, const char *digest, size_t max,
			  char **buf, size_t *len, struct sn_err *err);
/* malloc'ed "<root>/blobs/sha256/<hex>" or NULL on ENOMEM/bad digest. */
char *image_store_blob_path(struct image_store *s, const char *digest);

/* ---- references (ref.c) */
struct image_ref {
	char *registry;   /* "docker.io", "127.0.0.1:5000", "localhost" */
	char *repository; /* "library/busybox" */
	char *tag;        /* "latest" when neither tag nor digest was given */
	char *digest;     /* "sha256:..." or NULL */
};
/* Parse "busybox", "reg:5000/a/b:tag", "a/b@sha256:...". docker.io names
 * get the library/ prefix like docker does. */
int image_ref_parse(const char *s, struct image_ref *out, struct sn_err *err);
void image_ref_free(struct image_ref *r);
/* Canonical "registry/repository:tag" (or @digest). malloc'ed. */
char *image_ref_string(const struct image_ref *r);

/* ---- the loaded image (manifest.c) */
struct image_layer {
	char digest[IMAGE_DIGEST_SIZE];   /* blob digest as stored */
	char diffid[IMAGE_DIGEST_SIZE];   /* digest of the uncompressed tar */
	char *media_type;
	uint64_t size;
};
struct image {
	char manifest_digest[IMAGE_DIGEST_SIZE];
	char config_digest[IMAGE_DIGEST_SIZE];
	char *manifest_media_type;
	size_t n_layers;
	struct image_layer *layers;
	json_t *manifest;   /* owned */
	json_t *config;     /* owned, the whole image config */
};
struct image_platform { const char *os, *arch, *variant; };
/* linux/amd64 (the host's architecture, really) */
const struct image_platform *image_platform_default(void);

/* Load by reference ("busybox:latest"), by manifest digest, or by a unique
 * digest prefix of at least 12 hex chars. */
int image_load(struct image_store *s, const char *ref, struct image **out,
	       struct sn_err *err);
void image_free(struct image *img);

/* ---- index, refs, gc (index.c, gc.c) */
/* Record an image (its manifest must be in the store with its config and
 * layers) and point name at it. name may be NULL for an untagged image. */
int image_index_add(struct image_store *s, const char *name, const char *manifest_digest,
		    struct sn_err *err);
/* Remove a tag; when the image has no tags left, the image entry too (its
 * blobs stay until gc). ref may also be a digest: removes it and its tags. */
int image_index_remove(struct image_store *s, const char *ref, struct sn_err *err);
/* Resolve a name or digest to a manifest digest. -ENOENT when unknown. */
int image_index_resolve(struct image_store *s, const char *ref,
			char out[IMAGE_DIGEST_SIZE], struct sn_err *err);
/* [{"digest","tags":[...],"config","size","created","layers"}] */
int image_index_list(struct image_store *s, json_t **out, struct sn_err *err);
/* How many images and snapshots hold this blob (for inspection). */
int image_index_blob_refcount(struct image_store *s, const char *digest,
			      unsigned *count, struct sn_err *err);

struct image_gc_stats { unsigned blobs_removed, layers_removed, partials_removed;
			uint64_t bytes_freed; };
/* Remove every blob and unpacked layer no image or snapshot refers to.
 * Takes the store's exclusive lock: waits for running imports and pulls. */
int image_gc(struct image_store *s, struct image_gc_stats *stats, struct sn_err *err);

/* ---- import and export (oci_layout.c, docker_archive.c) */
struct image_import_opts {
	const char *name;                    /* tag to give; NULL: from the source */
	json_t *tagged;                      /* NULL, or an array: each name tagged is appended */
	const struct image_platform *platform; /* NULL: default */
	image_progress_fn progress; void *progress_data;
};
/* Imports every image found (one per manifest matching the platform) and
 * returns the manifest digest of the first in out (may be NULL). */
int image_import_oci_layout(struct image_store *s, const char *dir,
			    const struct image_import_opts *o,
			    char out[IMAGE_DIGEST_SIZE], struct sn_err *err);
int image_import_docker_archive(struct image_store *s, const char *tar_path,
				const struct image_import_opts *o,
				char out[IMAGE_DIGEST_SIZE], struct sn_err *err);
/* A tar read once from fd (a pipe is fine): a docker-archive, or an OCI
 * layout in a tar (skopeo's oci-archive). label names it in messages. */
int image_import_archive_fd(struct image_store *s, int fd, const char *label,
			    const struct image_import_opts *o, char out[IMAGE_DIGEST_SIZE],
			    struct sn_err *err);
/* Detect: a directory with oci-layout → OCI layout; a file → a tar
 * (docker-archive or OCI layout). */
int image_import(struct image_store *s, const char *path, const struct image_import_opts *o,
		 char out[IMAGE_DIGEST_SIZE], struct sn_err *err);
/* Write an OCI layout dir (created or added to) with the image tagged
 * ref.name = the reference's tag. */
int image_export_oci_layout(struct image_store *s, const char *ref, const char *dir,
			    struct sn_err *err);
/* Write a `docker save`-style tar (legacy layout: <id>/layer.tar,
 * <config>.json, manifest.json, repositories). */
int image_export_docker_archive(struct image_store *s, const char *ref, const char *path,
				struct sn_err *err);

/* ---- registry (registry.c, auth.c) */
struct image_pull_opts {
	const char *username, *password;     /* NULL: anonymous */
	bool insecure;        /* allow plain http (and skip TLS verification) */
	const char *ca_file;  /* extra CA bundle for https */
	long timeout_s;       /* connect + stall timeout; 0 = 30 s */
	unsigned parallel;    /* concurrent layer downloads; 0 = 4 */
	const struct image_platform *platform;
	image_progress_fn progress; void *progress_data;
};
/* Pull ref into the store and tag it; out gets the manifest digest. */
int image_pull(struct image_store *s, const char *ref, const struct image_pull_opts *o,
	       char out[IMAGE_DIGEST_SIZE], struct sn_err *err);

/* ---- unpack (unpack.c, layers.c) */
enum image_unpack_mode {
	IMAGE_UNPACK_FLAT,     /* apply onto dest: whiteouts delete */
	IMAGE_UNPACK_OVERLAY,  /* dest is one layer dir: whiteouts → overlay form */
};
/* Unpack one layer blob (tar, tar+gzip or tar+zstd) read from fd into the
 * directory dest_fd. When diffid is given the uncompressed stream must hash
 * to it. what names the layer in errors. Refuses absolute paths, `..`,
 * writes through symlinks, hardlinks outside, device nodes. */
int image_unpack_layer_fd(int fd, int dest_fd, enum image_unpack_mode mode,
			  const char *diffid, const char *what, struct sn_err *err);
/* The same from a reader: fn sets *buf to its next piece of the stream
 * (valid until the next call) and returns its length, 0 at the end, or
 * -errno. */
typedef ssize_t (*image_read_fn)(void *arg, const void **buf);
int image_unpack_layer_read(image_read_fn fn, void *arg, int dest_fd, enum image_unpack_mode mode,
			    const char *diffid, const char *what, struct sn_err *err);
/* Flat unpack of a whole image into dest (created; must be empty). On
 * failure dest is removed if this call created it. */
int image_unpack(struct image_store *s, const char *ref, const char *dest,
		 struct sn_err *err);
/* Ensure every layer of img is unpacked under layers/ (shared, read-only). */
int image_layers_prepare(struct image_store *s, const struct image *img,
			 image_progress_fn progress, void *progress_data,
			 struct sn_err *err);
/* Are all of img's layers unpacked? (a stat each; no libarchive.) When not,
 * *missing (may be NULL) gets the diff_id of the first one missing. */
bool image_layers_ready(struct image_store *s, const struct image *img, const char **missing);

/* ---- volume streams (volstream.c): a tar of a tree + a trailer with
 * its sha256 and length (the format is described there and in
 * docs/API.md). */
/* Write dir as a stream to out_fd (constant memory). */
int image_volume_export(const char *dir, int out_fd, struct sn_err *err);
/* Unpack a stream read from in_fd into the existing directory dest, with
 * the layers' safe-unpack rules; EINVAL when it is truncated or its hash
 * does not match (dest then holds whatever was unpacked: the caller
 * removes it). digest: "sha256:<hex>" of the tar. */
int image_volume_import(int in_fd, const char *dest, char digest[IMAGE_DIGEST_SIZE],
			struct sn_err *err);

/* ---- snapshots (snapshot.c) */
/* Mount an overlay of img's layers at mountpoint with a private upper/work
 * under snapshots/<id>. id: [A-Za-z0-9_.-]{1,128}. The layers must have
 * been prepared (image_layers_prepare): ENOENT naming the layer otherwise. */
int image_snapshot_create(struct image_store *s, const struct image *img,
			  const char *id, const char *mountpoint, struct sn_err *err);
/* Mount an existing snapshot again at the mountpoint it was made for (after
 * a reboot, or anyone's umount); nothing when it is mounted already.
 * *mounted (may be NULL) says whether a mount was made. */
int image_snapshot_mount(struct image_store *s, const char *id, bool *mounted, struct sn_err *err);
/* Unmount and delete the snapshot (missing is fine). */
int image_snapshot_remove(struct image_store *s, const char *id, struct sn_err *err);
/* [{"id","image","mountpoint","created"}] */
int image_snapshot_list(struct image_store *s, json_t **out, struct sn_err *err);
/* Stable snapshot id for a bundle directory (hash of its absolute path;
 * snapshot_id.c, the only snapshot function needing OpenSSL). */
int image_snapshot_id_for_path(const char *path, char id[33], struct sn_err *err);

/* ---- bundle (bundle.c) */
struct image_bundle_opts {
	const char *snapshot_id;   /* required ([A-Za-z0-9_.-]{1,128}); tools naming a
				      bundle by its path use image_snapshot_id_for_path */
	char *const *args;         /* NULL: Entrypoint + Cmd */
	char *const *env;          /* extra KEY=VALUE, override the image's */
	const char *user;          /* NULL: the image's User */
	const char *hostname;      /* NULL: none */
	bool terminal;
	/* Called with the finished spec before config.json is written (its
	 * one write): the caller's own edits. NULL: none. */
	int (*customize)(json_t *spec, void *arg, struct sn_err *err);
	void *customize_arg;
};
/* Turn the image config into an OCI runtime spec for a rootfs (the rootfs
 * is read for /etc/passwd and /etc/group, without leaving it). */
int image_config_to_spec(const json_t *image_config, const char *rootfs,
			 const struct image_bundle_opts *o, json_t **spec,
			 struct sn_err *err);
/* bundle_dir/rootfs (overlay snapshot) + bundle_dir/config.json. The
 * image's layers must have been prepared (see image_snapshot_create). */
int image_bundle_create(struct image_store *s, const char *ref, const char *bundle_dir,
			const struct image_bundle_opts *o, struct sn_err *err);
/* Unmount the rootfs and remove the snapshot of a bundle made above: the
 * snapshot recorded in its config.json, else snapshot_id (NULL: EINVAL). */
int image_bundle_remove(struct image_store *s, const char *bundle_dir, const char *snapshot_id,
			struct sn_err *err);

#endif
