/* fuzz_manifest.c — libFuzzer target: image manifests, their configs and
 * indexes (manifest.c), what a registry or an image archive hands us. The
 * input is up to three JSON documents separated by NUL bytes: a manifest
 * (OCI or Docker schema 2), its config, an index (OCI index or Docker
 * manifest list). The manifest and config are staged as a pull stages
 * them (files under a scratch dir; the config under the digest the
 * manifest names) and loaded with image_from_manifest_staged; the index
 * goes through platform selection and descriptor checks. On success the
 * image must be what manifest.c promises later stages: digests
 * well-formed, one diff_id per layer, known layer media types.
 */
#include "fuzz.h"
#include "base/json.h"
#include "base/sha256.h"
#include "image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static struct image_store *store;
static char *dir, *manifest_path, *config_path;
static const char manifest_digest[] =
	"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void put(const char *path, const char *text)
{
	struct sn_err err = { 0 };
	if (sn_write_file(path, text, strlen(text), 0644, &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	dir = fuzz_scratch_dir("manifest");
	struct sn_err err = { 0 };
	char *root = sn_path_join(dir, "store");
	manifest_path = sn_path_join(dir, "manifest");
	config_path = sn_path_join(dir, "config");
	if (!root || !manifest_path || !config_path || image_store_open(root, &store, &err) < 0) {
		fprintf(stderr, "fuzz: store: %s\n", err.msg);
		abort();
	}
	free(root);
	return 0;
}

static void check_image(const struct image *img)
{
	FUZZ_CHECK(sn_digest_is_valid(img->config_digest), "config digest `%s`", img->config_digest);
	FUZZ_CHECK(img->manifest_media_type && (media_type_is_manifest(img->manifest_media_type)),
		   "manifest media type `%s`", img->manifest_media_type);
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct image_layer *l = &img->layers[i];
		FUZZ_CHECK(sn_digest_is_valid(l->digest) && sn_digest_is_valid(l->diffid),
			   "layer %zu: `%s` `%s`", i, l->digest, l->diffid);
		FUZZ_CHECK(media_type_is_layer(l->media_type), "layer %zu: `%s`", i, l->media_type);
	}
	FUZZ_CHECK(json_is_object(img->config), "config not an object");
}

static void load_manifest(const char *manifest, const char *config)
{
	/* The config is staged under the digest the manifest asks for. */
	const char *cdg = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
	json_t *m = json_loads(manifest, 0, NULL);
	const char *want = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
	if (want && strlen(want) < IMAGE_DIGEST_SIZE)
		cdg = want;
	struct blob_stage_item items[2] = { { .path = manifest_path }, { .path = config_path } };
	snprintf(items[0].digest, IMAGE_DIGEST_SIZE, "%s", manifest_digest);
	snprintf(items[1].digest, IMAGE_DIGEST_SIZE, "%s", cdg);
	json_decref(m);
	put(manifest_path, manifest);
	put(config_path, config);
	struct blob_stage st = { .items = items, .n = 2, .cap = 2 };

	struct image *img = NULL;
	struct sn_err err = { 0 };
	int r = image_from_manifest_staged(store, &st, manifest_digest, &img, &err);
	fuzz_check_result(r, &err, "image_from_manifest_staged");
	if (r == 0) {
		check_image(img);
		image_free(img);
	}
}

static void select_from_index(const char *index)
{
	json_t *ix = json_loads(index, 0, NULL);
	if (!ix)
		return;
	static const struct image_platform plats[] = {
		{ "linux", "amd64", NULL }, { "linux", "arm64", "v8" }, { "linux", "arm", "v7" } };
	for (size_t i = 0; i < sizeof(plats) / sizeof(plats[0]); i++) {
		struct sn_err err = { 0 };
		json_t *d = index_select_platform(ix, &plats[i], "index", &err);
		if (!d) {
			FUZZ_CHECK(err.code && err.msg[0], "no manifest and no message");
			continue;
		}
		const char *mt = NULL, *dg = NULL;
		uint64_t sz = 0;
		int r = descriptor_parse(d, "index.manifests[]", &mt, &dg, &sz, &err);
		fuzz_check_result(r, &err, "descriptor_parse");
		if (r == 0)
			FUZZ_CHECK(sn_digest_is_valid(dg), "digest `%s`", dg);
	}
	json_decref(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	char *parts[3], *block;
	fuzz_split(data, size, parts, 3, &block);
	load_manifest(parts[0], parts[1]);
	select_from_index(parts[2]);
	free(block);
	return 0;
}
