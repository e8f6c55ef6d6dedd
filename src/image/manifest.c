/* manifest.c — manifests, indexes and image configs: parse, check, select.
 *
 * One loader for both dialects: OCI image manifests/indexes and Docker
 * schema2 manifests/manifest lists (the same JSON shape with other media
 * type strings). Every descriptor is checked (media type known, digest
 * well-formed, size present) and the config's rootfs.diff_ids must match
 * the layers one for one, so that later stages can trust struct image.
 * Schema1 manifests are refused with a message saying so: registries
 * convert them for clients that ask for schema2, and we always ask.
 *
 * Platform selection follows the image-spec: os and architecture must
 * match; variant only when both sides name one. The default platform is
 * the host's (linux/amd64 on the machines we run).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "image/internal.h"

bool media_type_is_index(const char *mt)
{
	return mt && (strcmp(mt, IMAGE_MT_OCI_INDEX) == 0 || strcmp(mt, IMAGE_MT_DOCKER_LIST) == 0);
}

bool media_type_is_manifest(const char *mt)
{
	return mt && (strcmp(mt, IMAGE_MT_OCI_MANIFEST) == 0 ||
		      strcmp(mt, IMAGE_MT_DOCKER_MANIFEST) == 0);
}

bool media_type_is_layer(const char *mt)
{
	static const char *const ok[] = {
		IMAGE_MT_OCI_LAYER, IMAGE_MT_OCI_LAYER_GZ, IMAGE_MT_OCI_LAYER_ZST,
		IMAGE_MT_DOCKER_LAYER, "application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	};
	if (!mt)
		return false;
	for (size_t i = 0; i < SN_ARRAY_SIZE(ok); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

static bool media_type_is_config(const char *mt)
{
	return mt && (strcmp(mt, IMAGE_MT_OCI_CONFIG) == 0 || strcmp(mt, IMAGE_MT_DOCKER_CONFIG) == 0);
}

const struct image_platform *image_platform_default(void)
{
	static struct image_platform p = { "linux", NULL, NULL };
	if (!p.arch) {
		struct utsname u;
		const char *a = "amd64";
		if (uname(&u) == 0) {
			if (strcmp(u.machine, "aarch64") == 0)
				a = "arm64";
			else if (strcmp(u.machine, "x86_64") != 0 && strcmp(u.machine, "i686") != 0)
				a = "amd64";
		}
		p.arch = a;
	}
	return &p;
}

int descriptor_parse(json_t *d, const char *path, const char **mt, const char **digest,
		     uint64_t *size, struct sn_err *err)
{
	if (!json_is_object(d))
		return sn_err_msg(err, EINVAL, "%s: must be a descriptor object", path);
	const char *m = NULL, *dg = NULL;
	uint64_t sz = 0;
	int r = sn_json_string(d, path, "mediaType", &m, err);
	if (r < 0)
		return r;
	r = sn_json_string(d, path, "digest", &dg, err);
	if (r < 0)
		return r;
	if (r == 0 || !sn_digest_is_valid(dg))
		return sn_err_msg(err, EINVAL, "%s.digest: missing or not a sha256 digest (`%s`)", path,
				  dg ? dg : "");
	r = sn_json_uint(d, path, "size", &sz, err);
	if (r < 0)
		return r;
	if (r == 0)
		return sn_err_msg(err, EINVAL, "%s.size: missing", path);
	if (mt)
		*mt = m;
	*digest = dg;
	if (size)
		*size = sz;
	return 0;
}

json_t *index_select_platform(json_t *index, const struct image_platform *p,
			      const char *what, struct sn_err *err)
{
	if (!p)
		p = image_platform_default();
	json_t *ms = json_object_get(index, "manifests");
	if (!json_is_array(ms)) {
		sn_err_msg(err, EINVAL, "%s: manifests: missing or not an array", what);
		return NULL;
	}
	size_t i;
	json_t *d;
	json_t *fallback = NULL;
	size_t n_candidates = 0;
	json_array_foreach(ms, i, d) {
		json_t *pl = json_object_get(d, "platform");
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		if (mt && !media_type_is_manifest(mt) && !media_type_is_index(mt))
			continue; /* attestations and other artifacts */
		if (!pl) {
			n_candidates++;
			if (!fallback)
				fallback = d;
			continue;
		}
		const char *os = json_string_value(json_object_get(pl, "os"));
		const char *arch = json_string_value(json_object_get(pl, "architecture"));
		const char *var = json_string_value(json_object_get(pl, "variant"));
		if (!os || !arch || strcmp(os, p->os) != 0 || strcmp(arch, p->arch) != 0)
			continue;
		if (p->variant && var && strcmp(p->variant, var) != 0)
			continue;
		return d;
	}
	if (fallback && n_candidates == 1)
		return fallback;
	sn_err_msg(err, ENOENT, "%s: no manifest for platform %s/%s%s%s", what, p->os, p->arch,
		   p->variant ? "/" : "", p->variant ? p->variant : "");
	return NULL;
}

void image_free(struct image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->n_layers; i++)
		free(img->layers[i].media_type);
	free(img->layers);
	free(img->manifest_media_type);
	if (img->manifest)
		json_decref(img->manifest);
	if (img->config)
		json_decref(img->config);
	free(img);
}

static void image_freep(struct image **p) { image_free(*p); }

/* A manifest or config: staged (not yet in blobs/) or in the store. */
static int read_json_blob(struct image_store *s, const struct blob_stage *st, const char *digest,
			  json_t **out, struct sn_err *err)
{
	for (size_t i = 0; st && i < st->n; i++) {
		if (strcmp(st->items[i].digest, digest) != 0)
			continue;
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		int r = sn_read_file(st->items[i].path, IMAGE_MANIFEST_MAX, &buf, &len, err);
		return r < 0 ? r : sn_json_loadb(buf, len, digest, out, err);
	}
	return store_read_json(s, digest, out, err);
}

int image_from_manifest(struct image_store *s, const char *manifest_digest,
			struct image **out, struct sn_err *err)
{
	return image_from_manifest_staged(s, NULL, manifest_digest, out, err);
}

int image_from_manifest_staged(struct image_store *s, const struct blob_stage *st,
			       const char *manifest_digest, struct image **out, struct sn_err *err)
{
	struct image *img __attribute__((cleanup(image_freep))) = calloc(1, sizeof(*img));
	if (!img)
		return sn_err_set(err, ENOMEM, "load image");
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", manifest_digest);
	char what[128];
	snprintf(what, sizeof(what), "manifest %.19s", manifest_digest);
	int r = read_json_blob(s, st, manifest_digest, &img->manifest, err);
	if (r < 0)
		return r;
	json_t *m = img->manifest;
	int64_t ver = 0;
	r = sn_json_int(m, what, "schemaVersion", &ver, err);
	if (r < 0)
		return r;
	if (ver != 2)
		return sn_err_msg(err, EPROTONOSUPPORT,
				  "%s: schemaVersion %lld is not supported (schema 2 only)", what,
				  (long long)ver);
	const char *mt = json_string_value(json_object_get(m, "mediaType"));
	if (mt && media_type_is_index(mt))
		return sn_err_msg(err, EMEDIUMTYPE, "%s: is an index (%s), not an image manifest",
				  what, mt);
	if (mt && !media_type_is_manifest(mt))
		return sn_err_msg(err, EMEDIUMTYPE, "%s: unsupported media type `%s`", what, mt);
	if (!mt && json_object_get(m, "manifests"))
		return sn_err_msg(err, EMEDIUMTYPE, "%s: is an index, not an image manifest", what);
	img->manifest_media_type = strdup(mt ? mt : IMAGE_MT_OCI_MANIFEST);
	if (!img->manifest_media_type)
		return sn_err_set(err, ENOMEM, "load image");

	char p[256];
	const char *cmt = NULL, *cdg = NULL;
	r = descriptor_parse(json_object_get(m, "config"), sn_json_path(p, sizeof(p), what, "config"),
			     &cmt, &cdg, NULL, err);
	if (r < 0)
		return r;
	if (!media_type_is_config(cmt))
		return sn_err_msg(err, EMEDIUMTYPE, "%s.config: unsupported media type `%s`", what,
				  cmt ? cmt : "(none)");
	snprintf(img->config_digest, sizeof(img->config_digest), "%s", cdg);

	json_t *layers = json_object_get(m, "layers");
	if (!json_is_array(layers))
		return sn_err_msg(err, EINVAL, "%s.layers: missing or not an array", what);
	img->n_layers = json_array_size(layers);
	if (img->n_layers > 1000)
		return sn_err_msg(err, E2BIG, "%s: %zu layers is too many", what, img->n_layers);
	img->layers = calloc(img->n_layers ? img->n_layers : 1, sizeof(*img->layers));
	if (!img->layers)
		return sn_err_set(err, ENOMEM, "load image");
	for (size_t i = 0; i < img->n_layers; i++) {
		const char *lmt = NULL, *ldg = NULL;
		char lp[256];
		sn_json_path_idx(lp, sizeof(lp), "layers", i);
		r = descriptor_parse(json_array_get(layers, i), lp, &lmt, &ldg, &img->layers[i].size,
				     err);
		if (r < 0)
			return sn_err_wrap(err, "%s", what);
		if (!media_type_is_layer(lmt))
			return sn_err_msg(err, EMEDIUMTYPE, "%s.%s: unsupported layer media type `%s`",
					  what, lp, lmt ? lmt : "(none)");
		snprintf(img->layers[i].digest, IMAGE_DIGEST_SIZE, "%s", ldg);
		img->layers[i].media_type = strdup(lmt);
		if (!img->layers[i].media_type)
			return sn_err_set(err, ENOMEM, "load image");
	}

	r = read_json_blob(s, st, img->config_digest, &img->config, err);
	if (r < 0)
		return sn_err_wrap(err, "config of %s", what);
	if (!json_is_object(img->config))
		return sn_err_msg(err, EINVAL, "config %.19s: not an object", img->config_digest);
	json_t *rootfs = json_object_get(img->config, "rootfs");
	json_t *diffids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(diffids) || json_array_size(diffids) != img->n_layers)
		return sn_err_msg(err, EINVAL,
				  "config %.19s: rootfs.diff_ids has %zu entries for %zu layers",
				  img->config_digest, json_array_size(diffids), img->n_layers);
	for (size_t i = 0; i < img->n_layers; i++) {
		const char *d = json_string_value(json_array_get(diffids, i));
		if (!d || !sn_digest_is_valid(d))
			return sn_err_msg(err, EINVAL, "config %.19s: rootfs.diff_ids[%zu]: not a sha256 digest",
					  img->config_digest, i);
		snprintf(img->layers[i].diffid, IMAGE_DIGEST_SIZE, "%s", d);
	}
	*out = img;
	img = NULL;
	return 0;
}

int image_load(struct image_store *s, const char *ref, struct image **out, struct sn_err *err)
{
	char digest[IMAGE_DIGEST_SIZE];
	int r = image_index_resolve(s, ref, digest, err);
	if (r < 0)
		return r;
	r = image_from_manifest(s, digest, out, err);
	if (r < 0)
		return sn_err_wrap(err, "image `%s`", ref);
	return 0;
}
