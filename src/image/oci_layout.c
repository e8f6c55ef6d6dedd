/* oci_layout.c — import from and export to OCI image layout directories.
 *
 * Import reads oci-layout (version 1.0.0) and index.json, then every
 * manifest named there: a nested index (multi-platform) is resolved to the
 * manifest for the wanted platform; a manifest whose descriptor carries a
 * platform that does not match is skipped. Each blob read from the layout
 * goes through sha256 on its way into the store and must match its
 * descriptor (digest and size); blobs already in the store are not read.
 * All new blobs of an image are staged in tmp/ and renamed into blobs/ only
 * when the whole image checked out, so a bad layout leaves the store as it
 * was. The tag is the caller's name, else the descriptor's
 * org.opencontainers.image.ref.name: a full reference is used as is, a bare
 * tag ("latest", as umoci and skopeo write) becomes localhost/<dir name>:tag.
 *
 * The same walk imports a layout that came as a tar (docker_archive.c reads
 * the tar once and stages every file): its blobs are then checked against
 * their names and sizes and linked into the image's stage instead of being
 * copied. A bare tag there gives an untagged image (there is no directory
 * name to make a repository of) unless a name was given.
 *
 * Export writes the image's blobs (copy_file_range, so reflinks where the
 * filesystem has them) and adds a descriptor with ref.name = the tag to
 * index.json, replacing one with the same ref.name: the result is what
 * `skopeo copy oci:DIR:TAG` and umoci read.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

/* Where a layout's files come from: a directory, or the staged files of a
 * tar (docker_archive.c). */
struct layout_src {
	int lfd;              /* the directory; -1 for a tar */
	const char *label;    /* the directory or archive, for messages */
	const char *dir;      /* bare ref.names become localhost/<dir>:tag; NULL: untagged */
	struct blob_stage_item *(*find)(void *ctx, const char *name);   /* a tar's file */
	void *find_ctx;
};

static int src_read(const struct layout_src *src, const char *name, size_t max, char **buf,
		    size_t *len, struct sn_err *err)
{
	if (src->lfd >= 0)
		return sn_read_file_at(src->lfd, name, max, buf, len, err);
	struct blob_stage_item *it = src->find(src->find_ctx, name);
	if (!it)
		return sn_err_msg(err, ENOENT, "`%s`: not in the archive", name);
	return sn_read_file(it->path, max, buf, len, err);
}

/* Read a small blob of the layout and check its digest. */
static int layout_read_json(const struct layout_src *src, const char *digest, json_t **out,
			    struct sn_err *err)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = src_read(src, rel, IMAGE_MANIFEST_MAX, &buf, &len, err);
	if (r == -EFBIG)
		return sn_err_msg(err, EFBIG, "blob %s: larger than %u bytes (oversized manifest)",
				  digest, IMAGE_MANIFEST_MAX);
	if (r < 0)
		return r == -ENOENT ? sn_err_msg(err, ENOENT, "blob %s: missing from the layout", digest)
				    : r;
	char hex[SN_SHA256_HEX_LEN + 1];
	r = sn_sha256_hex(buf, len, hex, err);
	if (r < 0)
		return r;
	if (strcmp(hex, digest + 7) != 0)
		return sn_err_msg(err, EBADMSG, "blob %s: digest mismatch: content is sha256:%s", digest,
				  hex);
	return sn_json_loadb(buf, len, digest, out, err);
}

/* A blob of a tar: already staged and hashed; it must be what its name
 * and the descriptor say. Linked into st (no copy). */
static int tar_stage_blob(struct image_store *s, struct blob_stage *st, const struct layout_src *src,
			  const char *digest, uint64_t size, const char *what, struct sn_err *err)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	struct blob_stage_item *it = src->find(src->find_ctx, rel);
	if (!it)
		return sn_err_msg(err, ENOENT, "%s %s: missing from the layout", what, digest);
	if (strcmp(it->digest, digest) != 0)
		return sn_err_msg(err, EBADMSG, "%s %s: digest mismatch: content is %s", what, digest,
				  it->digest);
	if (it->size != size)
		return sn_err_msg(err, EBADMSG, "%s %s: %llu bytes, descriptor says %llu (truncated?)",
				  what, digest, (unsigned long long)it->size, (unsigned long long)size);
	return stage_link(s, st, it->path, digest, size, err);
}

static int layout_stage_blob(struct image_store *s, struct blob_stage *st,
			     const struct layout_src *src, const char *digest, uint64_t size,
			     const char *what, const struct image_import_opts *o, unsigned idx,
			     unsigned cnt, struct sn_err *err)
{
	if (image_store_has_blob(s, digest)) {
		progress_emit(o->progress, o->progress_data, IMAGE_PROGRESS_EXISTS, what, digest, size,
			      size, idx, cnt);
		return 0;
	}
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->items[i].digest, digest) == 0)
			return 0;
	progress_emit(o->progress, o->progress_data, IMAGE_PROGRESS_START, what, digest, 0, size,
		      idx, cnt);
	int r;
	if (src->lfd < 0) {
		r = tar_stage_blob(s, st, src, digest, size, what, err);
	} else {
		char rel[128];
		snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
		_cleanup_close_ int fd = openat(src->lfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? sn_err_msg(err, ENOENT, "%s %s: missing from the layout",
							    what, digest)
					       : sn_err_sys(err, "open %s %s", what, digest);
		struct stat stt;
		if (fstat(fd, &stt) < 0)
			return sn_err_sys(err, "stat %s %s", what, digest);
		if (!S_ISREG(stt.st_mode))
			return sn_err_msg(err, EINVAL, "%s %s: not a regular file", what, digest);
		if ((uint64_t)stt.st_size != size)
			return sn_err_msg(err, EBADMSG, "%s %s: %llu bytes, descriptor says %llu (truncated?)",
					  what, digest, (unsigned long long)stt.st_size,
					  (unsigned long long)size);
		r = stage_fd(s, st, fd, digest, size, NULL, err);
		if (r < 0)
			return sn_err_wrap(err, "%s", what);
	}
	if (r < 0)
		return r;
	progress_emit(o->progress, o->progress_data, IMAGE_PROGRESS_DONE, what, digest, size, size,
		      idx, cnt);
	return 0;
}

static int import_manifest(struct image_store *s, const struct layout_src *src, const char *mdigest,
			   uint64_t msize, const char *name, const struct image_import_opts *o,
			   struct sn_err *err)
{
	_cleanup_json_ json_t *m = NULL;
	int r = layout_read_json(src, mdigest, &m, err);
	if (r < 0)
		return r;
	const char *inner_mt = json_string_value(json_object_get(m, "mediaType"));
	if (inner_mt && !media_type_is_manifest(inner_mt))
		return sn_err_msg(err, EMEDIUMTYPE, "manifest %s: wrong media type `%s`", mdigest, inner_mt);
	json_t *cfg = json_object_get(m, "config");
	const char *cdg;
	uint64_t csize;
	const char *cmt;
	r = descriptor_parse(cfg, "config", &cmt, &cdg, &csize, err);
	if (r < 0)
		return sn_err_wrap(err, "manifest %s", mdigest);
	if (csize > IMAGE_MANIFEST_MAX)
		return sn_err_msg(err, EFBIG, "config %s: %llu bytes is too big", cdg,
				  (unsigned long long)csize);
	struct blob_stage st = { 0 };
	r = layout_stage_blob(s, &st, src, cdg, csize, "config", o, 0, 0, err);
	json_t *layers = json_object_get(m, "layers");
	if (r == 0 && !json_is_array(layers))
		r = sn_err_msg(err, EINVAL, "manifest %s: layers: missing or not an array", mdigest);
	size_t i;
	json_t *d;
	unsigned cnt = (unsigned)json_array_size(layers);
	json_array_foreach(layers, i, d) {
		if (r < 0)
			break;
		const char *ldg, *lmt;
		uint64_t lsize;
		char p[64];
		sn_json_path_idx(p, sizeof(p), "layers", i);
		r = descriptor_parse(d, p, &lmt, &ldg, &lsize, err);
		if (r == 0 && !media_type_is_layer(lmt))
			r = sn_err_msg(err, EMEDIUMTYPE, "%s: wrong media type `%s`", p, lmt ? lmt : "");
		if (r == 0)
			r = layout_stage_blob(s, &st, src, ldg, lsize, "layer", o, (unsigned)i, cnt, err);
		if (r < 0)
			sn_err_wrap(err, "manifest %s", mdigest);
	}
	if (r == 0)
		r = layout_stage_blob(s, &st, src, mdigest, msize, "manifest", o, 0, 0, err);
	if (r == 0)
		r = stage_commit(s, &st, false, err);
	if (r == 0) {
		r = index_add_tagged(s, name, mdigest, o->tagged, err);
		if (r < 0)
			stage_uncommit(s, &st);
	}
	stage_free(&st);
	return r;
}

static char *tag_name(const char *dir, const char *refname)
{
	if (!refname || !*refname)
		return NULL;
	if (strchr(refname, '/') || strchr(refname, ':') || strchr(refname, '@'))
		return strdup(refname);
	if (!dir)
		return NULL;
	_cleanup_free_ char *copy = strdup(dir);
	if (!copy)
		return NULL;
	char *b = basename(copy);
	char repo[256];
	size_t n = 0;
	for (const char *p = b; *p && n < sizeof(repo) - 1; p++) {
		char c = (char)tolower((unsigned char)*p);
		if (isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.')
			repo[n++] = c;
	}
	repo[n] = '\0';
	char *out = NULL;
	if (asprintf(&out, "localhost/%s:%s", n ? repo : "image", refname) < 0)
		return NULL;
	return out;
}

/* oci-layout and index.json, then each manifest for the platform. */
static int layout_import(struct image_store *s, const struct layout_src *src,
			 const struct image_import_opts *o, char out[IMAGE_DIGEST_SIZE],
			 struct sn_err *err)
{
	static const struct image_import_opts none = { 0 };
	if (!o)
		o = &none;
	const char *dir = src->label;
	_cleanup_free_ char *lay = NULL;
	size_t len;
	int r = src_read(src, "oci-layout", 4096, &lay, &len, err);
	if (r < 0)
		return sn_err_wrap(err, "OCI layout `%s`", dir);
	_cleanup_json_ json_t *lj = NULL;
	r = sn_json_loadb(lay, len, "oci-layout", &lj, err);
	if (r < 0)
		return sn_err_wrap(err, "OCI layout `%s`", dir);
	const char *ver = json_string_value(json_object_get(lj, "imageLayoutVersion"));
	if (!ver || strncmp(ver, "1.", 2) != 0)
		return sn_err_msg(err, EPROTONOSUPPORT, "OCI layout `%s`: imageLayoutVersion `%s` not supported",
				  dir, ver ? ver : "");
	_cleanup_free_ char *ib = NULL;
	r = src_read(src, "index.json", IMAGE_MANIFEST_MAX, &ib, &len, err);
	if (r < 0)
		return sn_err_wrap(err, "OCI layout `%s`", dir);
	_cleanup_json_ json_t *index = NULL;
	r = sn_json_loadb(ib, len, "index.json", &index, err);
	if (r < 0)
		return sn_err_wrap(err, "OCI layout `%s`", dir);
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms))
		return sn_err_msg(err, EINVAL, "OCI layout `%s`: index.json: manifests missing", dir);

	_cleanup_unlock_ int lk = -1;
	r = store_lock(s, "gc.lock", LOCK_SH, &lk, err);
	if (r < 0)
		return r;
	const struct image_platform *plat = o->platform ? o->platform : image_platform_default();
	size_t i;
	json_t *d;
	unsigned imported = 0;
	json_array_foreach(ms, i, d) {
		char p[64];
		sn_json_path_idx(p, sizeof(p), "index.json: manifests", i);
		const char *mt, *dg;
		uint64_t size;
		r = descriptor_parse(d, p, &mt, &dg, &size, err);
		if (r < 0)
			return sn_err_wrap(err, "OCI layout `%s`", dir);
		const char *refname = json_string_value(json_object_get(
			json_object_get(d, "annotations"), "org.opencontainers.image.ref.name"));
		_cleanup_json_ json_t *sub = NULL;
		if (media_type_is_index(mt)) {
			r = layout_read_json(src, dg, &sub, err);
			if (r < 0)
				return sn_err_wrap(err, "OCI layout `%s`", dir);
			json_t *pick = index_select_platform(sub, plat, dg, err);
			if (!pick)
				return sn_err_wrap(err, "OCI layout `%s`", dir);
			r = descriptor_parse(pick, "manifests[]", &mt, &dg, &size, err);
			if (r < 0)
				return sn_err_wrap(err, "OCI layout `%s`", dir);
		} else if (!media_type_is_manifest(mt)) {
			return sn_err_msg(err, EMEDIUMTYPE, "OCI layout `%s`: %s: wrong media type `%s`", dir,
					  p, mt ? mt : "");
		} else {
			json_t *pl = json_object_get(d, "platform");
			const char *os = json_string_value(json_object_get(pl, "os"));
			const char *arch = json_string_value(json_object_get(pl, "architecture"));
			if (pl && os && arch && (strcmp(os, plat->os) || strcmp(arch, plat->arch)))
				continue;
		}
		_cleanup_free_ char *name = o->name && imported == 0 ? strdup(o->name)
								    : tag_name(src->dir, refname);
		r = import_manifest(s, src, dg, size, name, o, err);
		if (r < 0)
			return sn_err_wrap(err, "import OCI layout `%s`", dir);
		if (imported == 0 && out)
			snprintf(out, IMAGE_DIGEST_SIZE, "%s", dg);
		imported++;
	}
	if (!imported)
		return sn_err_msg(err, ENOENT, "OCI layout `%s`: no image for %s/%s", dir, plat->os,
				  plat->arch);
	return 0;
}

int image_import_oci_layout(struct image_store *s, const char *dir, const struct image_import_opts *o,
			    char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	_cleanup_close_ int lfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0)
		return sn_err_sys(err, "open OCI layout `%s`", dir);
	struct layout_src src = { .lfd = lfd, .label = dir, .dir = dir };
	return layout_import(s, &src, o, out, err);
}

int layout_import_staged(struct image_store *s, struct blob_stage *files,
			 struct blob_stage_item *(*find)(void *ctx, const char *name), void *ctx,
			 const char *label, const struct image_import_opts *o,
			 char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	(void)files;
	struct layout_src src = { .lfd = -1, .label = label, .find = find, .find_ctx = ctx };
	return layout_import(s, &src, o, out, err);
}

/* ---- export */
static int export_blob(struct image_store *s, int bfd, const char *dir, const char *digest,
		       struct sn_err *err)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "%s", digest + 7);
	struct stat st;
	if (fstatat(bfd, rel, &st, 0) == 0)
		return 0;
	_cleanup_close_ int in = -1;
	int r = image_store_open_blob(s, digest, &in, NULL, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dst = NULL, *tmp = NULL;
	if (asprintf(&dst, "%s/blobs/sha256/%s", dir, rel) < 0 ||
	    asprintf(&tmp, "%s.tmp%d", dst, (int)getpid()) < 0)
		return sn_err_set(err, ENOMEM, "export");
	r = copy_fd_to_path(in, tmp, err);
	if (r == 0 && rename(tmp, dst) < 0)
		r = sn_err_sys(err, "rename `%s`", tmp);
	if (r < 0)
		unlink(tmp);
	return r;
}

int image_export_oci_layout(struct image_store *s, const char *ref, const char *dir,
			    struct sn_err *err)
{
	struct image *img = NULL;
	int r = image_load(s, ref, &img, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *blobs = sn_path_join(dir, "blobs/sha256");
	_cleanup_free_ char *layout = sn_path_join(dir, "oci-layout");
	_cleanup_free_ char *ipath = sn_path_join(dir, "index.json");
	if (!blobs || !layout || !ipath) {
		image_free(img);
		return sn_err_set(err, ENOMEM, "export");
	}
	r = sn_mkdir_p(blobs, 0755, err);
	static const char lay[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	if (r == 0)
		r = sn_write_file_atomic(layout, lay, strlen(lay), 0644, err);
	int bfd = r == 0 ? open(blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (r == 0 && bfd < 0)
		r = sn_err_sys(err, "open `%s`", blobs);
	for (size_t i = 0; r == 0 && i < img->n_layers; i++)
		r = export_blob(s, bfd, dir, img->layers[i].digest, err);
	if (r == 0)
		r = export_blob(s, bfd, dir, img->config_digest, err);
	if (r == 0)
		r = export_blob(s, bfd, dir, img->manifest_digest, err);
	if (bfd >= 0)
		close(bfd);
	uint64_t msize = 0;
	if (r == 0) {
		int fd;
		r = image_store_open_blob(s, img->manifest_digest, &fd, &msize, err);
		if (r == 0)
			close(fd);
	}
	if (r < 0) {
		image_free(img);
		return sn_err_wrap(err, "export `%s` to `%s`", ref, dir);
	}
	/* index.json: replace the descriptor with the same ref.name. */
	_cleanup_json_ json_t *index = NULL;
	if (sn_path_exists(ipath)) {
		r = sn_json_load_file(ipath, IMAGE_MANIFEST_MAX, &index, err);
		if (r < 0) {
			image_free(img);
			return r;
		}
	} else {
		index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", IMAGE_MT_OCI_INDEX,
				  "manifests");
	}
	char tag[256] = "";
	struct image_ref pr;
	if (!sn_digest_is_valid(ref) && image_ref_parse(ref, &pr, &(struct sn_err){ 0 }) == 0) {
		if (pr.tag)
			snprintf(tag, sizeof(tag), "%s", pr.tag);
		image_ref_free(&pr);
	}
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms)) {
		image_free(img);
		return sn_err_msg(err, EINVAL, "`%s`: manifests is not an array", ipath);
	}
	for (size_t i = json_array_size(ms); tag[0] && i-- > 0;) {
		const char *rn = json_string_value(json_object_get(
			json_object_get(json_array_get(ms, i), "annotations"),
			"org.opencontainers.image.ref.name"));
		if (rn && strcmp(rn, tag) == 0)
			json_array_remove(ms, i);
	}
	json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", img->manifest_media_type, "digest",
				 img->manifest_digest, "size", (json_int_t)msize);
	if (tag[0])
		json_object_set_new(desc, "annotations",
				    json_pack("{s:s}", "org.opencontainers.image.ref.name", tag));
	json_array_append_new(ms, desc);
	image_free(img);
	_cleanup_free_ char *txt = sn_json_dump(index, false);
	if (!txt)
		return sn_err_set(err, ENOMEM, "export");
	return sn_write_file_atomic(ipath, txt, strlen(txt), 0644, err);
}

int image_import(struct image_store *s, const char *path, const struct image_import_opts *o,
		 char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return sn_err_sys(err, "import `%s`", path);
	if (S_ISDIR(st.st_mode))
		return image_import_oci_layout(s, path, o, out, err);
	return image_import_docker_archive(s, path, o, out, err);
}
