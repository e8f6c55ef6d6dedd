/* index.c — the image and tag index, and reference counts.
 *
 * images.json holds
 *   {"version":1,
 *    "images":{"sha256:<manifest>":{"created":<unix s>,"config":"sha256:..",
 *                                   "layers":["sha256:..",...],"size":N}},
 *    "tags":{"docker.io/library/busybox:latest":"sha256:<manifest>"}}
 * Every change is a read-modify-write under index.lock (LOCK_EX) ending in
 * an atomic rename (sn_write_file_atomic), so readers never see half a file
 * and two processes never lose each other's update.
 *
 * Reference counts are derived, not stored: a blob's count is the number of
 * images whose manifest names it plus snapshots whose image does. Deriving
 * them from the one index means a crash can never leave a count wrong; gc
 * (gc.c) is a mark-and-sweep over the same data.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/sha256.h"
#include "image/internal.h"

int index_load(struct image_store *s, json_t **out, struct sn_err *err)
{
	_cleanup_free_ char *path = store_path(s, "images.json");
	if (!path)
		return sn_err_set(err, ENOMEM, "index");
	if (!sn_path_exists(path)) {
		*out = json_pack("{s:i, s:{}, s:{}}", "version", 1, "images", "tags");
		return *out ? 0 : sn_err_set(err, ENOMEM, "index");
	}
	json_t *j = NULL;
	int r = sn_json_load_file(path, 64u << 20, &j, err);
	if (r < 0)
		return r;
	if (!json_is_object(json_object_get(j, "images")) ||
	    !json_is_object(json_object_get(j, "tags"))) {
		json_decref(j);
		return sn_err_msg(err, EINVAL, "index `%s`: images or tags missing", path);
	}
	*out = j;
	return 0;
}

static int index_save(struct image_store *s, json_t *j, struct sn_err *err)
{
	_cleanup_free_ char *path = store_path(s, "images.json");
	_cleanup_free_ char *txt = sn_json_dump(j, true);
	if (!path || !txt)
		return sn_err_set(err, ENOMEM, "save index");
	return sn_write_file_atomic(path, txt, strlen(txt), 0600, err);
}

/* "busybox" → "docker.io/library/busybox:latest"; a tag is required. */
static int canon_tag(const char *name, char **canon, struct sn_err *err)
{
	struct image_ref ref;
	int r = image_ref_parse(name, &ref, err);
	if (r < 0)
		return r;
	if (!ref.tag) {
		image_ref_free(&ref);
		return sn_err_msg(err, EINVAL, "tag `%s`: a tag is needed, not only a digest", name);
	}
	free(ref.digest);
	ref.digest = NULL;
	*canon = image_ref_string(&ref);
	image_ref_free(&ref);
	return *canon ? 0 : sn_err_set(err, ENOMEM, "tag");
}

int index_add_tagged(struct image_store *s, const char *name, const char *manifest_digest,
		     json_t *tagged, struct sn_err *err)
{
	int r = image_index_add(s, name, manifest_digest, err);
	_cleanup_free_ char *canon = NULL;
	if (r == 0 && name && tagged && canon_tag(name, &canon, err) == 0)
		json_array_append_new(tagged, json_string(canon));
	return r;
}

int image_index_add(struct image_store *s, const char *name, const char *manifest_digest,
		    struct sn_err *err)
{
	_cleanup_free_ char *canon = NULL;
	if (name) {
		int r = canon_tag(name, &canon, err);
		if (r < 0)
			return r;
	}
	/* The image must be whole before anything points at it. */
	struct image *img = NULL;
	int r = image_from_manifest(s, manifest_digest, &img, err);
	if (r < 0)
		return r;
	uint64_t size = 0;
	_cleanup_json_ json_t *layers = json_array();
	_cleanup_json_ json_t *diffids = json_array();
	for (size_t i = 0; i < img->n_layers; i++) {
		if (!image_store_has_blob(s, img->layers[i].digest)) {
			r = sn_err_msg(err, ENOENT, "layer %s: not in the store", img->layers[i].digest);
			image_free(img);
			return r;
		}
		size += img->layers[i].size;
		json_array_append_new(layers, json_string(img->layers[i].digest));
		json_array_append_new(diffids, json_string(img->layers[i].diffid));
	}
	const char *created = json_string_value(json_object_get(img->config, "created"));
	_cleanup_json_ json_t *entry = json_pack("{s:I, s:s, s:O, s:O, s:I, s:s}",
		"added", (json_int_t)time(NULL), "config", img->config_digest, "layers", layers,
		"diffids", diffids,
		"size", (json_int_t)size, "created", created ? created : "");
	image_free(img);
	if (!entry)
		return sn_err_set(err, ENOMEM, "index");

	_cleanup_unlock_ int lk = -1;
	r = store_lock(s, "index.lock", LOCK_EX, &lk, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *j = NULL;
	r = index_load(s, &j, err);
	if (r < 0)
		return r;
	json_t *images = json_object_get(j, "images");
	json_t *old = json_object_get(images, manifest_digest);
	if (old && json_object_get(old, "added"))
		json_object_set(entry, "added", json_object_get(old, "added"));
	json_object_set(images, manifest_digest, entry);
	if (canon)
		json_object_set_new(json_object_get(j, "tags"), canon, json_string(manifest_digest));
	r = index_save(s, j, err);
	return r < 0 ? sn_err_wrap(err, "add image %s", manifest_digest) : 0;
}

/* Resolve against a loaded index. */
static int resolve_in(json_t *j, const char *ref, char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	json_t *images = json_object_get(j, "images");
	if (sn_digest_is_valid(ref)) {
		if (!json_object_get(images, ref))
			return sn_err_msg(err, ENOENT, "image %s: not in the store", ref);
		snprintf(out, IMAGE_DIGEST_SIZE, "%s", ref);
		return 0;
	}
	/* A hex prefix (12+ chars), as `ls` prints. */
	const char *hx = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
	size_t hl = strlen(hx);
	bool all_hex = hl >= 12 && hl <= 64;
	for (size_t i = 0; all_hex && i < hl; i++)
		if (!isxdigit((unsigned char)hx[i]) || isupper((unsigned char)hx[i]))
			all_hex = false;
	if (all_hex) {
		const char *key, *found = NULL;
		json_t *v;
		int n = 0;
		json_object_foreach(images, key, v) {
			if (strncmp(key + 7, hx, hl) == 0) {
				found = key;
				n++;
			}
		}
		if (n == 1) {
			snprintf(out, IMAGE_DIGEST_SIZE, "%s", found);
			return 0;
		}
		if (n > 1)
			return sn_err_msg(err, EINVAL, "image `%s`: ambiguous digest prefix", ref);
	}
	struct image_ref r;
	int rc = image_ref_parse(ref, &r, err);
	if (rc < 0)
		return rc;
	if (r.digest) {
		bool have = json_object_get(images, r.digest) != NULL;
		snprintf(out, IMAGE_DIGEST_SIZE, "%s", r.digest);
		image_ref_free(&r);
		return have ? 0 : sn_err_msg(err, ENOENT, "image `%s`: not in the store", ref);
	}
	_cleanup_free_ char *canon = image_ref_string(&r);
	image_ref_free(&r);
	if (!canon)
		return sn_err_set(err, ENOMEM, "resolve");
	const char *d = json_string_value(json_object_get(json_object_get(j, "tags"), canon));
	if (!d)
		return sn_err_msg(err, ENOENT, "image `%s`: not in the store", ref);
	snprintf(out, IMAGE_DIGEST_SIZE, "%s", d);
	return 0;
}

int image_index_resolve(struct image_store *s, const char *ref, char out[IMAGE_DIGEST_SIZE],
			struct sn_err *err)
{
	_cleanup_json_ json_t *j = NULL;
	int r = index_load(s, &j, err);
	if (r < 0)
		return r;
	return resolve_in(j, ref, out, err);
}

int image_index_remove(struct image_store *s, const char *ref, struct sn_err *err)
{
	_cleanup_unlock_ int lk = -1;
	int r = store_lock(s, "index.lock", LOCK_EX, &lk, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *j = NULL;
	r = index_load(s, &j, err);
	if (r < 0)
		return r;
	char digest[IMAGE_DIGEST_SIZE];
	r = resolve_in(j, ref, digest, err);
	if (r < 0)
		return r;
	json_t *tags = json_object_get(j, "tags");
	/* Was ref a tag? Then remove that tag only. */
	bool by_tag = false;
	struct image_ref pr;
	if (!sn_digest_is_valid(ref) && image_ref_parse(ref, &pr, &(struct sn_err){ 0 }) == 0) {
		if (pr.tag && !pr.digest) {
			_cleanup_free_ char *canon = image_ref_string(&pr);
			if (canon && json_object_get(tags, canon)) {
				json_object_del(tags, canon);
				by_tag = true;
			}
		}
		image_ref_free(&pr);
	}
	const char *key;
	json_t *v;
	void *tmp;
	bool still_tagged = false;
	json_object_foreach_safe(tags, tmp, key, v) {
		if (strcmp(json_string_value(v), digest) == 0) {
			if (by_tag)
				still_tagged = true;
			else
				json_object_del(tags, key);
		}
	}
	if (!still_tagged)
		json_object_del(json_object_get(j, "images"), digest);
	r = index_save(s, j, err);
	return r < 0 ? sn_err_wrap(err, "remove image `%s`", ref) : 0;
}

int image_index_list(struct image_store *s, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *j = NULL;
	int r = index_load(s, &j, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *list = json_array();
	if (!list)
		return sn_err_set(err, ENOMEM, "list images");
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(j, "images"), key, v) {
		json_t *tags = json_array();
		const char *t;
		json_t *d;
		json_object_foreach(json_object_get(j, "tags"), t, d)
			if (strcmp(json_string_value(d), key) == 0)
				json_array_append_new(tags, json_string(t));
		json_t *e = json_deep_copy(v);
		json_object_set_new(e, "digest", json_string(key));
		json_object_set_new(e, "tags", tags);
		json_array_append_new(list, e);
	}
	*out = steal_ptr(list);
	return 0;
}

int image_index_blob_refcount(struct image_store *s, const char *digest, unsigned *count,
			      struct sn_err *err)
{
	_cleanup_json_ json_t *j = NULL;
	int r = index_load(s, &j, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *snaps = NULL;
	r = image_snapshot_list(s, &snaps, err);
	if (r < 0)
		return r;
	unsigned n = 0;
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(j, "images"), key, v) {
		unsigned held = 0;
		size_t i;
		json_t *l;
		if (strcmp(key, digest) == 0 ||
		    strcmp(json_string_value(json_object_get(v, "config")) ?: "", digest) == 0)
			held = 1;
		json_array_foreach(json_object_get(v, "layers"), i, l)
			if (strcmp(json_string_value(l), digest) == 0)
				held = 1;
		if (!held)
			continue;
		n++;
		json_array_foreach(snaps, i, l)
			if (strcmp(json_string_value(json_object_get(l, "image")) ?: "", key) == 0)
				n++;
	}
	*count = n;
	return 0;
}
