/* fuzz_archive.c — libFuzzer target: an image archive as `subnode image
 * load` reads it from a stream (image_import_archive_fd,
 * docker_archive.c): a `docker save` tar (manifest.json, configs, layer
 * tars) or an OCI layout in a tar (oci-layout, index.json, blobs/). The
 * input is the tar, read from a memfd into a real store on a tmpfs.
 *
 * Checks beyond crashes: every refusal has a message, and leaves the
 * store as it was (docker_archive.c stages blobs and removes them when
 * the import fails: nothing in blobs/, nothing left in tmp/); an import
 * that succeeds yields a digest that image_load finds. After a success
 * the image is removed and the store collected, so every input starts
 * from an empty store.
 */
#include "fuzz.h"
#include "base/sha256.h"
#include "image/image.h"

#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

static struct image_store *store;
static char *blobs, *tmp;
static int layer_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = fuzz_scratch_dir("archive");
	struct sn_err err = { 0 };
	char *root = sn_path_join(dir, "store");
	if (!root || image_store_open(root, &store, &err) < 0) {
		fprintf(stderr, "fuzz: store: %s\n", err.msg);
		abort();
	}
	blobs = sn_path_join(root, "blobs/sha256");
	tmp = sn_path_join(root, "tmp");
	layer_fd = memfd_create("archive", MFD_CLOEXEC);
	if (!blobs || !tmp || layer_fd < 0)
		abort();
	free(root);
	return 0;
}

/* Entries of dir other than . and .. (a missing dir has none). */
static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void forget(const char *digest)
{
	struct sn_err err = { 0 };
	struct image_gc_stats st;
	json_t *list = NULL;
	if (image_index_list(store, &list, &err) < 0)
		goto fail;
	size_t i;
	json_t *img;
	json_array_foreach(list, i, img)
		if (image_index_remove(store, json_string_value(json_object_get(img, "digest")), &err) < 0)
			goto fail;
	json_decref(list);
	if (image_gc(store, &st, &err) < 0)
		goto fail;
	return;
fail:
	fprintf(stderr, "fuzz: removing `%s`: %s\n", digest, err.msg);
	abort();
}

/* Tar inputs: mutations keep header checksums right (fuzz.h). */
FUZZ_TAR_MUTATOR

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (4u << 20))
		return 0;
	fuzz_memfd_load(layer_fd, data, size);
	char out[IMAGE_DIGEST_SIZE] = "";
	struct sn_err err = { 0 };
	struct image_import_opts o = { 0 };
	int r = image_import_archive_fd(store, layer_fd, "archive", &o, out, &err);
	fuzz_check_result(r, &err, "image_import_archive_fd");
	if (r < 0) {
		FUZZ_CHECK(count_entries(blobs) == 0, "a refused import left %zu blobs (%s)",
			   count_entries(blobs), err.msg);
		FUZZ_CHECK(count_entries(tmp) == 0, "a refused import left %zu files in tmp/ (%s)",
			   count_entries(tmp), err.msg);
		return 0;
	}
	FUZZ_CHECK(sn_digest_is_valid(out), "imported digest `%s`", out);
	struct image *img = NULL;
	struct sn_err lerr = { 0 };
	FUZZ_CHECK(image_load(store, out, &img, &lerr) == 0, "load %s: %s", out, lerr.msg);
	image_free(img);
	forget(out);
	return 0;
}
