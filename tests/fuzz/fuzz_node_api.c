/* fuzz_node_api.c — libFuzzer target: the JSON bodies of the node API that
 * carry the most fields, as subnoded checks them before it writes or runs
 * anything: POST /containers/create (node_validate_create, validate.c) and
 * POST /containers/{id}/exec (node_exec_create, exec.c). The input is the
 * body; both are given it, so one corpus serves both.
 *
 * The node is real where validation reads it: an image store with one
 * small image, `fuzz:latest` (an empty layer, a config with a Cmd), and
 * a state db with no subnodes (an exec body that passes validation ends at
 * "no such subnode"). Checks: every refusal has a message (the API's 400
 * {"message"}); an accepted create yields the normalized config
 * lifecycle.c relies on (Image, ImageDigest, a non-empty Args of strings,
 * Size and Units, Restart).
 */
#include "fuzz.h"
#include "base/json.h"
#include "base/sha256.h"
#include "image/image.h"
#include "node/db.h"
#include "node/exec.h"
#include "node/node.h"

#include <errno.h>

static struct node node;

static void die(const char *what, const struct sn_err *err)
{
	fprintf(stderr, "fuzz: %s: %s\n", what, err->msg);
	abort();
}

/* One image: an empty tar layer, a config with a Cmd, a manifest. */
static void add_image(struct image_store *s)
{
	struct sn_err err = { 0 };
	static const char layer[1024];
	char ld[IMAGE_DIGEST_SIZE], cd[IMAGE_DIGEST_SIZE], md[IMAGE_DIGEST_SIZE];
	if (image_store_put_blob(s, layer, sizeof(layer), NULL, ld, &err) < 0)
		die("layer", &err);
	json_t *cfg = json_pack("{s:s, s:s, s:{s:[s], s:[s]}, s:{s:s, s:[s]}}", "architecture", "amd64",
				"os", "linux", "config", "Cmd", "sh", "Env", "PATH=/bin", "rootfs",
				"type", "layers", "diff_ids", ld);
	char *ct = json_dumps(cfg, JSON_COMPACT);
	if (!ct || image_store_put_blob(s, ct, strlen(ct), NULL, cd, &err) < 0)
		die("config", &err);
	json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2,
			      "mediaType", IMAGE_MT_OCI_MANIFEST, "config", "mediaType",
			      IMAGE_MT_OCI_CONFIG, "digest", cd, "size", (json_int_t)strlen(ct),
			      "layers", "mediaType", IMAGE_MT_OCI_LAYER, "digest", ld, "size",
			      (json_int_t)sizeof(layer));
	char *mt = json_dumps(m, JSON_COMPACT);
	if (!mt || image_store_put_blob(s, mt, strlen(mt), NULL, md, &err) < 0)
		die("manifest", &err);
	if (image_index_add(s, "fuzz:latest", md, &err) < 0)
		die("index", &err);
	free(ct);
	free(mt);
	json_decref(cfg);
	json_decref(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = fuzz_scratch_dir("node");
	struct sn_err err = { 0 };
	char *images = sn_path_join(dir, "images"), *db = sn_path_join(dir, "state.db");
	if (node_config_defaults(&node.cfg, &err) < 0)
		die("config", &err);
	if (image_store_open(images, &node.images, &err) < 0)
		die("store", &err);
	if (node_db_open(db, &node.db, &err) < 0)
		die("db", &err);
	pthread_mutex_init(&node.lock, NULL);
	pthread_mutex_init(&node.images_lock, NULL);
	add_image(node.images);
	free(images);
	free(db);
	return 0;
}

static void check_create(const json_t *c)
{
	FUZZ_CHECK(json_is_string(json_object_get(c, "Image")), "Image");
	FUZZ_CHECK(json_is_string(json_object_get(c, "ImageDigest")), "ImageDigest");
	json_t *args = json_object_get(c, "Args"), *a;
	size_t i;
	FUZZ_CHECK(json_array_size(args) > 0, "Args empty");
	json_array_foreach(args, i, a)
		FUZZ_CHECK(json_is_string(a), "Args[%zu] not a string", i);
	FUZZ_CHECK(json_is_string(json_object_get(c, "Size")) &&
		   json_integer_value(json_object_get(c, "Units")) > 0, "Size/Units");
	FUZZ_CHECK(json_is_string(json_object_get(c, "Restart")), "Restart");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = NULL;
	struct sn_err err = { 0 };
	if (sn_json_loadb((const char *)data, size, "request body", &body, &err) < 0)
		return 0;

	json_t *out = NULL;
	int r = node_validate_create(&node, "fuzz-1", body, &out, &err);
	fuzz_check_result(r, &err, "node_validate_create");
	if (r == 0)
		check_create(out);
	json_decref(out);

	out = NULL;
	struct sn_err xerr = { 0 };
	r = node_exec_create(&node, "no-such-subnode", body, &out, &xerr);
	fuzz_check_result(r, &xerr, "node_exec_create");
	FUZZ_CHECK(r != 0, "exec created in a node without subnodes");
	json_decref(body);
	return 0;
}
