/* docker_archive.c — `docker save` archives in and out.
 *
 * Import. The archive is a tar (maybe compressed) read once, in order, with
 * libarchive: manifest.json can come anywhere (docker writes it last), so
 * every regular file is streamed through sha256 into a staged temp file as
 * it passes, and symlinks are remembered (newer docker links the legacy
 * <id>/layer.tar names to blobs/sha256/...). Then manifest.json says which
 * files are the config and the layers. Both forms work: the old one
 * (<id>/layer.tar, <hex>.json) and the OCI-layout-inside one (docker 25+:
 * blobs/sha256/<hex> + index.json). For the latter the original OCI
 * manifest is kept when index.json has one for that config, so digests
 * match what docker and skopeo report; otherwise an OCI manifest is written
 * for the image. Uncompressed layers must hash to the config's diff_ids
 * (checked here); compressed ones are checked at unpack. Only the config,
 * the layers and the manifest are committed to the store; everything else
 * in tmp/ is removed, and nothing is committed if any check fails.
 *
 * A tar without manifest.json but with index.json is an OCI image layout in
 * a tar (skopeo's oci-archive, `tar -C layout -c .`): its staged files are
 * handed to oci_layout.c, which walks index.json as for a directory. The
 * archive may also come from a pipe (image_import_archive_fd: the node
 * daemon streams an upload into `subnode-image import -`); it is read once
 * either way, so nothing is held in memory but the small JSON files.
 *
 * Export writes the legacy form every tool reads (docker load, skopeo,
 * podman): <diffid>/layer.tar (uncompressed: compressed layers are
 * decompressed once into a temp file, since a tar header needs the size
 * first), <config-hex>.json, manifest.json and repositories.
 */
#include <archive.h>
#include <archive_entry.h>
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

struct link { char *path, *target; };
struct links { struct link *v; size_t n; };
struct archive_files { struct blob_stage *st; struct links *links; };

static void links_free(struct links *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].target);
	}
	free(l->v);
}

/* Lexically normalise (handles `..` inside the archive's namespace). */
static void norm_path(const char *in, char *out, size_t outsz)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", in);
	size_t o = 0;
	char *save = NULL;
	out[0] = '\0';
	for (char *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			char *sl = strrchr(out, '/');
			o = sl ? (size_t)(sl - out) : 0;
			out[o] = '\0';
			continue;
		}
		int n = snprintf(out + o, outsz - o, "%s%s", o ? "/" : "", c);
		if (n < 0 || (size_t)n >= outsz - o)
			return;
		o += (size_t)n;
	}
}

static struct blob_stage_item *find_file(struct blob_stage *st, struct links *l, const char *p0)
{
	char p[PATH_MAX];
	norm_path(p0, p, sizeof(p));
	for (int hops = 0; hops < 16; hops++) {
		for (size_t i = 0; i < st->n; i++)
			if (st->items[i].name && strcmp(st->items[i].name, p) == 0)
				return &st->items[i];
		bool moved = false;
		for (size_t i = 0; i < l->n; i++) {
			if (strcmp(l->v[i].path, p) != 0)
				continue;
			char joined[PATH_MAX * 2];
			const char *sl = strrchr(p, '/');
			if (l->v[i].target[0] == '/')
				snprintf(joined, sizeof(joined), "%s", l->v[i].target);
			else
				snprintf(joined, sizeof(joined), "%.*s%s%s", sl ? (int)(sl - p) : 0, p,
					 sl ? "/" : "", l->v[i].target);
			norm_path(joined, p, sizeof(p));
			moved = true;
			break;
		}
		if (!moved)
			return NULL;
	}
	return NULL;
}

static int read_staged(struct blob_stage_item *it, size_t max, json_t **out, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = sn_read_file(it->path, max, &buf, &len, err);
	if (r == -EFBIG)
		return sn_err_msg(err, EFBIG, "`%s`: larger than %zu bytes", it->name, max);
	if (r < 0)
		return r;
	return sn_json_loadb(buf, len, it->name, out, err);
}

static const char *layer_media_type(const char *path)
{
	unsigned char m[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, m, 4) : -1;
	if (fd >= 0)
		close(fd);
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return IMAGE_MT_OCI_LAYER_GZ;
	if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return IMAGE_MT_OCI_LAYER_ZST;
	return IMAGE_MT_OCI_LAYER;
}

/* Read the tar — from the file at path, or from fd when path is NULL (a
 * pipe: read once, in order) — staging every regular file. */
static int read_archive(struct image_store *s, const char *path, int fd, const char *label,
			struct blob_stage *st, struct links *links, const struct image_import_opts *o,
			struct sn_err *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return sn_err_set(err, ENOMEM, "docker archive");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	int r = 0;
	_cleanup_free_ char *buf = malloc(STORE_IO_BUF);
	if (!buf) {
		r = sn_err_set(err, ENOMEM, "docker archive");
		goto out;
	}
	if ((path ? archive_read_open_filename(a, path, 1 << 17)
		  : archive_read_open_fd(a, fd, 1 << 17)) != ARCHIVE_OK) {
		r = sn_err_msg(err, EINVAL, "not a tar archive: %s", archive_error_string(a));
		goto out;
	}
	struct stat stt;
	uint64_t total = (path ? stat(path, &stt) : fstat(fd, &stt)) == 0 && S_ISREG(stt.st_mode)
				 ? (uint64_t)stt.st_size : 0;
	for (;;) {
		struct archive_entry *e;
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			r = sn_err_msg(err, EINVAL, "not a tar, or corrupt or truncated: %s",
				       archive_error_string(a));
			goto out;
		}
		const char *name = archive_entry_pathname(e);
		char np[PATH_MAX];
		norm_path(name ? name : "", np, sizeof(np));
		mode_t t = archive_entry_filetype(e);
		if (t == AE_IFLNK || archive_entry_hardlink(e)) {
			const char *tg = archive_entry_hardlink(e) ? archive_entry_hardlink(e)
								   : archive_entry_symlink(e);
			struct link *nv = realloc(links->v, (links->n + 1) * sizeof(*nv));
			if (!nv) {
				r = sn_err_set(err, ENOMEM, "docker archive");
				goto out;
			}
			links->v = nv;
			/* Hardlink targets are archive-root-relative: make them absolute. */
			char tgt[PATH_MAX];
			snprintf(tgt, sizeof(tgt), "%s%s", archive_entry_hardlink(e) ? "/" : "", tg ? tg : "");
			links->v[links->n].path = strdup(np);
			links->v[links->n].target = strdup(tgt);
			links->n++;
			continue;
		}
		if (t != AE_IFREG)
			continue;
		struct image_blob_writer *w = NULL;
		r = image_blob_writer_new(s, NULL, &w, err);
		if (r < 0)
			goto out;
		for (;;) {
			la_ssize_t n = archive_read_data(a, buf, STORE_IO_BUF);
			if (n < 0) {
				r = sn_err_msg(err, EINVAL, "entry `%s`: %s", np, archive_error_string(a));
				break;
			}
			if (n == 0)
				break;
			r = image_blob_writer_write(w, buf, (size_t)n, err);
			if (r < 0)
				break;
		}
		if (r < 0) {
			image_blob_writer_abort(w);
			goto out;
		}
		r = image_blob_writer_stage(w, st, NULL, err);
		if (r < 0)
			goto out;
		st->items[st->n - 1].name = strdup(np);
		progress_emit(o->progress, o->progress_data, IMAGE_PROGRESS_DATA, "archive", "",
			      (uint64_t)archive_filter_bytes(a, -1), total, 0, 0);
	}
out:
	archive_read_free(a);
	return r;
}

/* In the OCI-inside form: an original manifest for this config, if any. */
static struct blob_stage_item *find_oci_manifest(struct blob_stage *st, struct links *l,
						 const char *config_digest)
{
	struct blob_stage_item *idx = find_file(st, l, "index.json");
	if (!idx)
		return NULL;
	_cleanup_json_ json_t *ij = NULL;
	if (read_staged(idx, IMAGE_MANIFEST_MAX, &ij, &(struct sn_err){ 0 }) < 0)
		return NULL;
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(ij, "manifests"), i, d) {
		const char *dg = json_string_value(json_object_get(d, "digest"));
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		if (!dg || !sn_digest_is_valid(dg) || !media_type_is_manifest(mt))
			continue;
		char p[128];
		snprintf(p, sizeof(p), "blobs/sha256/%s", dg + 7);
		struct blob_stage_item *it = find_file(st, l, p);
		if (!it || strcmp(it->digest, dg) != 0)
			continue;
		_cleanup_json_ json_t *m = NULL;
		if (read_staged(it, IMAGE_MANIFEST_MAX, &m, &(struct sn_err){ 0 }) < 0)
			continue;
		const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
		if (cd && strcmp(cd, config_digest) == 0)
			return it;
	}
	return NULL;
}

static int import_one(struct image_store *s, struct blob_stage *st, struct links *l, json_t *item,
		      size_t idx, char mdigest[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	const char *cfgp = json_string_value(json_object_get(item, "Config"));
	json_t *layers = json_object_get(item, "Layers");
	if (!cfgp || !json_is_array(layers))
		return sn_err_msg(err, EINVAL, "manifest.json[%zu]: Config or Layers missing", idx);
	struct blob_stage_item *cfg = find_file(st, l, cfgp);
	if (!cfg)
		return sn_err_msg(err, ENOENT, "manifest.json[%zu]: config `%s` missing from the archive",
				  idx, cfgp);
	_cleanup_json_ json_t *cj = NULL;
	int r = read_staged(cfg, IMAGE_MANIFEST_MAX, &cj, err);
	if (r < 0)
		return sn_err_wrap(err, "config");
	json_t *diffids = json_object_get(json_object_get(cj, "rootfs"), "diff_ids");
	if (!json_is_array(diffids) || json_array_size(diffids) != json_array_size(layers))
		return sn_err_msg(err, EINVAL, "config `%s`: rootfs.diff_ids has %zu entries for %zu layers",
				  cfgp, json_array_size(diffids), json_array_size(layers));
	cfg->keep = true;
	_cleanup_json_ json_t *ldescs = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(layers, i, v) {
		const char *lp = json_string_value(v);
		struct blob_stage_item *it = lp ? find_file(st, l, lp) : NULL;
		if (!it)
			return sn_err_msg(err, ENOENT, "manifest.json[%zu]: layer `%s` missing from the archive",
					  idx, lp ? lp : "");
		const char *mt = layer_media_type(it->path);
		const char *did = json_string_value(json_array_get(diffids, i));
		if (strcmp(mt, IMAGE_MT_OCI_LAYER) == 0 && (!did || strcmp(did, it->digest) != 0))
			return sn_err_msg(err, EBADMSG, "layer `%s`: content is %s, config diff_id is %s", lp,
					  it->digest, did ? did : "(none)");
		it->keep = true;
		json_array_append_new(ldescs, json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest",
							it->digest, "size", (json_int_t)it->size));
	}
	struct blob_stage_item *orig = find_oci_manifest(st, l, cfg->digest);
	if (orig) {
		orig->keep = true;
		snprintf(mdigest, IMAGE_DIGEST_SIZE, "%s", orig->digest);
		return 0;
	}
	_cleanup_json_ json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2,
		"mediaType", IMAGE_MT_OCI_MANIFEST, "config", "mediaType", IMAGE_MT_OCI_CONFIG,
		"digest", cfg->digest, "size", (json_int_t)cfg->size, "layers", ldescs);
	_cleanup_free_ char *txt = m ? sn_json_dump(m, false) : NULL;
	if (!txt)
		return sn_err_set(err, ENOMEM, "manifest");
	r = stage_buf(s, st, txt, strlen(txt), NULL, mdigest, err);
	if (r < 0)
		return r;
	st->items[st->n - 1].keep = true;
	return 0;
}

static struct blob_stage_item *find_cb(void *ctx, const char *name)
{
	struct archive_files *f = ctx;
	return find_file(f->st, f->links, name);
}

/* A tar read once (path, or fd when path is NULL): a docker-archive (it has
 * manifest.json) or an OCI layout (index.json, oci-layout, blobs/). */
static int import_archive(struct image_store *s, const char *path, int fd, const char *label,
			  const struct image_import_opts *o, char out[IMAGE_DIGEST_SIZE],
			  struct sn_err *err)
{
	static const struct image_import_opts none = { 0 };
	if (!o)
		o = &none;
	_cleanup_unlock_ int lk = -1;
	int r = store_lock(s, "gc.lock", LOCK_SH, &lk, err);
	if (r < 0)
		return r;
	struct blob_stage st = { 0 };
	struct links links = { 0 };
	_cleanup_json_ json_t *mj = NULL;
	r = read_archive(s, path, fd, label, &st, &links, o, err);
	struct blob_stage_item *mf = r == 0 ? find_file(&st, &links, "manifest.json") : NULL;
	if (r < 0 || !mf) {
		/* no manifest.json: an OCI layout in a tar, or nothing we know */
		bool oci = r == 0 && find_file(&st, &links, "index.json");
		if (r == 0 && !oci)
			r = sn_err_msg(err, EINVAL, "neither manifest.json (docker-archive) nor index.json "
				       "(OCI layout) in it");
		if (r < 0)
			sn_err_wrap(err, "import `%s`", label);
		else {
			struct archive_files f = { &st, &links };
			r = layout_import_staged(s, &st, find_cb, &f, label, o, out, err);
		}
		stage_free(&st);
		links_free(&links);
		return r;
	}
	if (r == 0)
		r = read_staged(mf, IMAGE_MANIFEST_MAX, &mj, err);
	if (r == 0 && (!json_is_array(mj) || json_array_size(mj) == 0))
		r = sn_err_msg(err, EINVAL, "docker archive `%s`: manifest.json: not a non-empty array",
			       label);
	size_t n = r == 0 ? json_array_size(mj) : 0;
	char (*digests)[IMAGE_DIGEST_SIZE] = calloc(n ? n : 1, IMAGE_DIGEST_SIZE);
	if (!digests && r == 0)
		r = sn_err_set(err, ENOMEM, "docker archive");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = import_one(s, &st, &links, json_array_get(mj, i), i, digests[i], err);
	if (r == 0)
		r = stage_commit(s, &st, true, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *tags = json_object_get(json_array_get(mj, i), "RepoTags");
		size_t k;
		json_t *t;
		bool tagged = false;
		if (o->name && i == 0) {
			r = index_add_tagged(s, o->name, digests[i], o->tagged, err);
			tagged = true;
		}
		json_array_foreach(tags, k, t) {
			if (r < 0 || tagged)
				break;
			if (json_is_string(t))
				r = index_add_tagged(s, json_string_value(t), digests[i], o->tagged, err);
			tagged = true;
		}
		if (r == 0 && !tagged)
			r = image_index_add(s, NULL, digests[i], err);
	}
	if (r < 0)
		stage_uncommit(s, &st);
	if (r == 0 && out)
		snprintf(out, IMAGE_DIGEST_SIZE, "%s", digests[0]);
	free(digests);
	stage_free(&st);
	links_free(&links);
	return r < 0 ? sn_err_wrap(err, "import docker archive `%s`", label) : 0;
}

int image_import_docker_archive(struct image_store *s, const char *tar_path,
				const struct image_import_opts *o, char out[IMAGE_DIGEST_SIZE],
				struct sn_err *err)
{
	return import_archive(s, tar_path, -1, tar_path, o, out, err);
}

int image_import_archive_fd(struct image_store *s, int fd, const char *label,
			    const struct image_import_opts *o, char out[IMAGE_DIGEST_SIZE],
			    struct sn_err *err)
{
	return import_archive(s, NULL, fd, label ? label : "-", o, out, err);
}

/* ---- export */
static int add_file_entry(struct archive *a, const char *name, int fd, uint64_t size,
			  struct sn_err *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return sn_err_set(err, ENOMEM, "export");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	int r = 0;
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		r = sn_err_msg(err, EIO, "export: `%s`: %s", name, archive_error_string(a));
		archive_entry_free(e);
		return r;
	}
	archive_entry_free(e);
	_cleanup_free_ char *buf = malloc(STORE_IO_BUF);
	if (!buf)
		return sn_err_set(err, ENOMEM, "export");
	uint64_t done = 0;
	while (done < size) {
		ssize_t n = read(fd, buf, STORE_IO_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sn_err_sys(err, "export: read for `%s`", name);
		}
		if (n == 0)
			return sn_err_msg(err, EIO, "export: `%s`: source shrank", name);
		if (archive_write_data(a, buf, (size_t)n) < 0)
			return sn_err_msg(err, EIO, "export: `%s`: %s", name, archive_error_string(a));
		done += (uint64_t)n;
	}
	return 0;
}

static int add_buf_entry(struct archive *a, const char *name, const char *txt, struct sn_err *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return sn_err_set(err, ENOMEM, "export");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)strlen(txt));
	int ok = archive_write_header(a, e) == ARCHIVE_OK &&
		 archive_write_data(a, txt, strlen(txt)) >= 0;
	archive_entry_free(e);
	return ok ? 0 : sn_err_msg(err, EIO, "export: `%s`: %s", name, archive_error_string(a));
}

/* Decompress a layer blob into a temp file (fd positioned at 0). */
static int decompress_to_tmp(struct image_store *s, const char *digest, int *ofd, char **opath,
			     uint64_t *osize, struct sn_err *err)
{
	_cleanup_close_ int in = -1;
	int r = image_store_open_blob(s, digest, &in, NULL, err);
	if (r < 0)
		return r;
	r = store_tmpfile(s, "export", ofd, opath, err);
	if (r < 0)
		return r;
	unlink(*opath);
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	struct archive_entry *e;
	_cleanup_free_ char *buf = malloc(STORE_IO_BUF);
	uint64_t total = 0;
	if (!buf) {
		r = sn_err_set(err, ENOMEM, "layer %s", digest);
		goto out;
	}
	if (archive_read_open_fd(a, in, 1 << 17) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		r = sn_err_msg(err, EINVAL, "layer %s: %s", digest, archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, STORE_IO_BUF);
		if (n < 0) {
			r = sn_err_msg(err, EINVAL, "layer %s: %s", digest, archive_error_string(a));
			goto out;
		}
		if (n == 0)
			break;
		r = sn_write_all(*ofd, buf, (size_t)n);
		if (r < 0) {
			r = sn_err_set(err, -r, "write `%s`", *opath);
			goto out;
		}
		total += (uint64_t)n;
	}
	if (lseek(*ofd, 0, SEEK_SET) < 0)
		r = sn_err_sys(err, "seek `%s`", *opath);
	*osize = total;
out:
	archive_read_free(a);
	if (r < 0) {
		close(*ofd);
		*ofd = -1;
	}
	return r;
}

int image_export_docker_archive(struct image_store *s, const char *ref, const char *path,
				struct sn_err *err)
{
	struct image *img = NULL;
	int r = image_load(s, ref, &img, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp%d", path, (int)getpid()) < 0) {
		image_free(img);
		return sn_err_set(err, ENOMEM, "export");
	}
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		r = sn_err_msg(err, EIO, "export: create `%s`: %s", tmp, archive_error_string(a));
		archive_write_free(a);
		image_free(img);
		return r;
	}
	_cleanup_json_ json_t *layers = json_array();
	char name[256];
	for (size_t i = 0; r == 0 && i < img->n_layers; i++) {
		const struct image_layer *l = &img->layers[i];
		snprintf(name, sizeof(name), "%s/layer.tar", l->diffid + 7);
		int fd = -1;
		uint64_t size = 0;
		bool plain = strcmp(l->media_type, IMAGE_MT_OCI_LAYER) == 0 ||
			     strcmp(l->media_type, "application/vnd.docker.image.rootfs.diff.tar") == 0;
		if (plain) {
			r = image_store_open_blob(s, l->digest, &fd, &size, err);
		} else {
			_cleanup_free_ char *tp = NULL;
			r = decompress_to_tmp(s, l->digest, &fd, &tp, &size, err);
		}
		if (r == 0)
			r = add_file_entry(a, name, fd, size, err);
		if (fd >= 0)
			close(fd);
		json_array_append_new(layers, json_string(name));
	}
	snprintf(name, sizeof(name), "%s.json", img->config_digest + 7);
	if (r == 0) {
		int fd = -1;
		uint64_t size = 0;
		r = image_store_open_blob(s, img->config_digest, &fd, &size, err);
		if (r == 0) {
			r = add_file_entry(a, name, fd, size, err);
			close(fd);
		}
	}
	/* RepoTags: docker's short form of the name. */
	_cleanup_json_ json_t *tags = json_array();
	_cleanup_json_ json_t *repos = json_object();
	struct image_ref pr;
	if (!sn_digest_is_valid(ref) && image_ref_parse(ref, &pr, &(struct sn_err){ 0 }) == 0) {
		if (pr.tag) {
			char full[1024];
			const char *repo = pr.repository;
			if (strcmp(pr.registry, "docker.io") == 0) {
				if (strncmp(repo, "library/", 8) == 0)
					repo += 8;
				snprintf(full, sizeof(full), "%s", repo);
			} else {
				snprintf(full, sizeof(full), "%s/%s", pr.registry, repo);
			}
			char tagged[1200];
			snprintf(tagged, sizeof(tagged), "%s:%s", full, pr.tag);
			json_array_append_new(tags, json_string(tagged));
			if (img->n_layers)
				json_object_set_new(repos, full, json_pack("{s:s}", pr.tag,
					img->layers[img->n_layers - 1].diffid + 7));
		}
		image_ref_free(&pr);
	}
	if (r == 0) {
		_cleanup_json_ json_t *m = json_pack("[{s:s, s:O, s:O}]", "Config", name, "RepoTags", tags,
						     "Layers", layers);
		_cleanup_free_ char *txt = sn_json_dump(m, false);
		r = txt ? add_buf_entry(a, "manifest.json", txt, err) : sn_err_set(err, ENOMEM, "export");
	}
	if (r == 0) {
		_cleanup_free_ char *txt = sn_json_dump(repos, false);
		r = txt ? add_buf_entry(a, "repositories", txt, err) : sn_err_set(err, ENOMEM, "export");
	}
	if (archive_write_close(a) != ARCHIVE_OK && r == 0)
		r = sn_err_msg(err, EIO, "export: `%s`: %s", tmp, archive_error_string(a));
	archive_write_free(a);
	image_free(img);
	if (r == 0 && rename(tmp, path) < 0)
		r = sn_err_sys(err, "rename `%s` to `%s`", tmp, path);
	if (r < 0) {
		unlink(tmp);
		return sn_err_wrap(err, "export `%s` to `%s`", ref, path);
	}
	return 0;
}
