/* gc.c — garbage collection of blobs and unpacked layers.
 *
 * Mark and sweep. Under gc.lock held exclusively (so no import, pull or
 * snapshot is half-way), mark every blob named by an image in the index
 * (manifest, config, layers) or by a snapshot (snapshots keep their image's
 * blobs and layers even after `rm` of the image), and every unpacked layer
 * whose diff_id such an image or snapshot uses; then delete the rest of
 * blobs/sha256, layers/, partial/ and tmp/.
 *
 * Deleting by mark-and-sweep from the index (rather than decrementing
 * stored counters) makes gc idempotent and crash-proof: kill it at any
 * point and the next run finishes the job.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "image/internal.h"

static void mark(json_t *set, const char *digest)
{
	if (digest && strncmp(digest, "sha256:", 7) == 0)
		json_object_set_new(set, digest + 7, json_true());
}

static void mark_array(json_t *set, json_t *arr)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		mark(set, json_string_value(v));
}

static int sweep_dir(struct image_store *s, const char *sub, json_t *keep, bool dirs,
		     unsigned *removed, uint64_t *bytes, struct sn_err *err)
{
	_cleanup_free_ char *path = store_path(s, sub);
	if (!path)
		return sn_err_set(err, ENOMEM, "gc");
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return sn_err_sys(err, "gc: open `%s`", path);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (keep && json_object_get(keep, de->d_name))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) || dirs) {
			_cleanup_free_ char *p = sn_path_join(path, de->d_name);
			if (!p)
				return sn_err_set(err, ENOMEM, "gc");
			int r = sn_rm_rf(p, err);
			if (r < 0)
				return sn_err_wrap(err, "gc");
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			return sn_err_sys(err, "gc: unlink `%s/%s`", path, de->d_name);
		}
		if (removed)
			(*removed)++;
		if (bytes && S_ISREG(st.st_mode))
			*bytes += (uint64_t)st.st_size;
	}
	return 0;
}

int image_gc(struct image_store *s, struct image_gc_stats *stats, struct sn_err *err)
{
	struct image_gc_stats st = { 0 };
	_cleanup_unlock_ int lk = -1;
	int r = store_lock(s, "gc.lock", LOCK_EX, &lk, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *j = NULL;
	r = index_load(s, &j, err);
	if (r < 0)
		return sn_err_wrap(err, "gc");
	_cleanup_json_ json_t *snaps = NULL;
	r = image_snapshot_list(s, &snaps, err);
	if (r < 0)
		return sn_err_wrap(err, "gc");
	_cleanup_json_ json_t *blobs = json_object();
	_cleanup_json_ json_t *layers = json_object();
	if (!blobs || !layers)
		return sn_err_set(err, ENOMEM, "gc");
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(j, "images"), key, v) {
		mark(blobs, key);
		mark(blobs, json_string_value(json_object_get(v, "config")));
		mark_array(blobs, json_object_get(v, "layers"));
		mark_array(layers, json_object_get(v, "diffids"));
	}
	size_t i;
	json_array_foreach(snaps, i, v) {
		mark(blobs, json_string_value(json_object_get(v, "image")));
		mark(blobs, json_string_value(json_object_get(v, "config")));
		mark_array(blobs, json_object_get(v, "layers"));
		mark_array(layers, json_object_get(v, "diffids"));
	}
	r = sweep_dir(s, "blobs/sha256", blobs, false, &st.blobs_removed, &st.bytes_freed, err);
	if (r < 0)
		return r;
	r = sweep_dir(s, "layers", layers, true, &st.layers_removed, NULL, err);
	if (r < 0)
		return r;
	r = sweep_dir(s, "partial", NULL, false, &st.partials_removed, &st.bytes_freed, err);
	if (r < 0)
		return r;
	r = sweep_dir(s, "tmp", NULL, false, NULL, NULL, err);
	if (r < 0)
		return r;
	if (stats)
		*stats = st;
	return 0;
}
