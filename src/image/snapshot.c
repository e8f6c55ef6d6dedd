/* snapshot.c — per-container root filesystems on overlayfs.
 *
 * A snapshot is snapshots/<id>/{upper,work,snapshot.json} plus an overlay
 * mount: lowerdir = the image's unpacked layers (layers/<diffid>, shared by
 * every container of every image using that layer, never written), upper
 * and work private to the container. 128 containers of one image therefore
 * hold one copy of the image; each costs only what it writes.
 *
 * snapshot.json records the image (manifest, config, layer blobs and
 * diff_ids) so gc keeps them while the snapshot exists, even after the
 * image itself is removed from the index.
 *
 * mount(2) options are limited to one page. With absolute paths that is
 * about 40 layers; past that the mount is done by a short-lived child that
 * chdir()s into layers/ and passes relative lower dirs (the trick
 * containers/storage uses), which allows ~60 (64-hex names). Doing the
 * chdir in a child keeps the caller's cwd (the daemon is multi-threaded).
 *
 * The layers must be unpacked before (image_layers_prepare, layers.c):
 * creating a snapshot only checks they are there, so this file needs no
 * libarchive and the node daemon can link it (it asks subnode-image to
 * prepare an image whose layers are missing).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "image/internal.h"

static bool id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 128 || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

bool image_layers_ready(struct image_store *s, const struct image *img, const char **missing)
{
	for (size_t i = 0; i < img->n_layers; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "layers/%s", img->layers[i].diffid + 7);
		struct stat st;
		if (fstatat(s->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
			if (missing)
				*missing = img->layers[i].diffid;
			return false;
		}
	}
	return true;
}

static int do_mount(const char *layers_dir, const char *opts, const char *mp, bool in_child,
		    struct sn_err *err)
{
	if (!in_child) {
		if (mount("overlay", mp, "overlay", 0, opts) < 0)
			return sn_err_sys(err, "mount overlay on `%s`", mp);
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0)
		return sn_err_sys(err, "fork for overlay mount");
	if (pid == 0) {
		if (chdir(layers_dir) < 0)
			_exit(120);
		_exit(mount("overlay", mp, "overlay", 0, opts) < 0 ? errno : 0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return sn_err_sys(err, "wait for overlay mount");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return sn_err_set(err, WIFEXITED(st) ? WEXITSTATUS(st) : EIO,
				  "mount overlay on `%s`", mp);
	return 0;
}

/* Mount the overlay of snapshot dir (upper, work; empty when there are no
 * layers) on mp: diffids (sha256:..., bottom layer first) under layers/. */
static int mount_layers(struct image_store *s, const char *dir, json_t *diffids, const char *mp,
			const char *id, struct sn_err *err)
{
	_cleanup_free_ char *upper = sn_path_join(dir, "upper");
	_cleanup_free_ char *work = sn_path_join(dir, "work");
	_cleanup_free_ char *empty = sn_path_join(dir, "empty");
	_cleanup_free_ char *layers_dir = store_path(s, "layers");
	if (!upper || !work || !empty || !layers_dir)
		return sn_err_set(err, ENOMEM, "snapshot");
	size_t n = json_array_size(diffids);
	for (size_t i = 0; i < n; i++) {
		const char *d = json_string_value(json_array_get(diffids, i));
		if (!d || strncmp(d, "sha256:", 7) != 0 || strchr(d + 7, '/'))
			return sn_err_msg(err, EINVAL, "snapshot `%s`: bad layer diff_id", id);
	}
	/* lowerdir: top layer first. */
	size_t cap = 64 + n * (strlen(layers_dir) + 70) + strlen(upper) + strlen(work) + strlen(empty);
	_cleanup_free_ char *abs_opts = malloc(cap), *rel_opts = malloc(cap);
	if (!abs_opts || !rel_opts)
		return sn_err_set(err, ENOMEM, "snapshot");
	size_t a = 0, b = 0;
	a += (size_t)snprintf(abs_opts + a, cap - a, "lowerdir=");
	b += (size_t)snprintf(rel_opts + b, cap - b, "lowerdir=");
	if (n == 0) {
		a += (size_t)snprintf(abs_opts + a, cap - a, "%s", empty);
		b += (size_t)snprintf(rel_opts + b, cap - b, "%s", empty);
	}
	for (size_t i = n; i-- > 0;) {
		const char *sep = i + 1 == n ? "" : ":";
		const char *d = json_string_value(json_array_get(diffids, i)) + 7;
		a += (size_t)snprintf(abs_opts + a, cap - a, "%s%s/%s", sep, layers_dir, d);
		b += (size_t)snprintf(rel_opts + b, cap - b, "%s%s", sep, d);
	}
	a += (size_t)snprintf(abs_opts + a, cap - a, ",upperdir=%s,workdir=%s", upper, work);
	b += (size_t)snprintf(rel_opts + b, cap - b, ",upperdir=%s,workdir=%s", upper, work);
	long page = sysconf(_SC_PAGESIZE);
	if ((long)a < page - 1)
		return do_mount(layers_dir, abs_opts, mp, false, err);
	if ((long)b < page - 1)
		return do_mount(layers_dir, rel_opts, mp, true, err);
	return sn_err_msg(err, E2BIG, "snapshot `%s`: %zu layers are too many for one overlay mount",
			  id, n);
}

int image_snapshot_create(struct image_store *s, const struct image *img, const char *id,
			  const char *mountpoint, struct sn_err *err)
{
	if (!id_valid(id))
		return sn_err_msg(err, EINVAL, "snapshot `%s`: id must be [A-Za-z0-9_.-]{1,128}", id);
	_cleanup_unlock_ int gl = -1;
	int r = store_lock(s, "gc.lock", LOCK_SH, &gl, err);
	if (r < 0)
		return r;
	const char *missing = NULL;
	if (!image_layers_ready(s, img, &missing))
		return sn_err_msg(err, ENOENT, "snapshot `%s`: layer %s is not unpacked (prepare the image first)",
				  id, missing);
	r = sn_mkdir_p(mountpoint, 0755, err);
	if (r < 0)
		return sn_err_wrap(err, "snapshot `%s`", id);
	_cleanup_free_ char *mp = realpath(mountpoint, NULL);
	if (!mp)
		return sn_err_sys(err, "snapshot `%s`: resolve `%s`", id, mountpoint);

	/* No store-wide lock beyond gc.lock (shared): mkdir makes the id ours,
	 * and gc, the only reader that must see a snapshot whole, waits for
	 * gc.lock. So creates run side by side, fsyncs and mounts included. */
	_cleanup_free_ char *dir = NULL;
	if (asprintf(&dir, "%s/snapshots/%s", s->root, id) < 0)
		return sn_err_set(err, ENOMEM, "snapshot");
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return sn_err_msg(err, EEXIST, "snapshot `%s`: exists", id);
		return sn_err_sys(err, "mkdir `%s`", dir);
	}
	_cleanup_free_ char *upper = sn_path_join(dir, "upper");
	_cleanup_free_ char *work = sn_path_join(dir, "work");
	_cleanup_free_ char *empty = sn_path_join(dir, "empty");
	_cleanup_free_ char *meta = sn_path_join(dir, "snapshot.json");
	_cleanup_json_ json_t *lj = json_array();
	_cleanup_json_ json_t *dj = json_array();
	if (!upper || !work || !empty || !meta || !lj || !dj) {
		rmdir(dir);
		return sn_err_set(err, ENOMEM, "snapshot");
	}
	for (size_t i = 0; i < img->n_layers; i++) {
		json_array_append_new(lj, json_string(img->layers[i].digest));
		json_array_append_new(dj, json_string(img->layers[i].diffid));
	}
	_cleanup_json_ json_t *m = json_pack("{s:s, s:s, s:s, s:O, s:O, s:s, s:I}", "id", id,
		"image", img->manifest_digest, "config", img->config_digest, "layers", lj,
		"diffids", dj, "mountpoint", mp, "created", (json_int_t)time(NULL));
	_cleanup_free_ char *txt = m ? sn_json_dump(m, true) : NULL;
	if (!txt) {
		rmdir(dir);
		return sn_err_set(err, ENOMEM, "snapshot");
	}
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 ||
	    (img->n_layers == 0 && mkdir(empty, 0755) < 0)) {
		r = sn_err_sys(err, "snapshot `%s`: mkdir", id);
		goto fail;
	}
	r = sn_write_file_atomic(meta, txt, strlen(txt), 0600, err);
	if (r < 0)
		goto fail;

	r = mount_layers(s, dir, dj, mp, id, err);
	if (r < 0)
		goto fail;
	return 0;
fail:
	sn_rm_rf(dir, &(struct sn_err){ 0 });
	return sn_err_wrap(err, "snapshot `%s`", id);
}

/* Check id, take the store's lock (name, mode) into *lock and give the
 * snapshot's directory. */
static int snapshot_dir(struct image_store *s, const char *id, const char *lock_name, int mode,
			int *lock, char **dir, struct sn_err *err)
{
	if (!id_valid(id))
		return sn_err_msg(err, EINVAL, "snapshot `%s`: bad id", id);
	int r = store_lock(s, lock_name, mode, lock, err);
	if (r < 0)
		return r;
	if (asprintf(dir, "%s/snapshots/%s", s->root, id) < 0) {
		*dir = NULL;
		return sn_err_set(err, ENOMEM, "snapshot");
	}
	return 0;
}

int image_snapshot_mount(struct image_store *s, const char *id, bool *mounted, struct sn_err *err)
{
	if (mounted)
		*mounted = false;
	_cleanup_unlock_ int gl = -1;
	_cleanup_free_ char *dir = NULL;
	int r = snapshot_dir(s, id, "gc.lock", LOCK_SH, &gl, &dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *meta = sn_path_join(dir, "snapshot.json");
	_cleanup_json_ json_t *m = NULL;
	if (!meta)
		return sn_err_set(err, ENOMEM, "snapshot");
	if ((r = sn_json_load_file(meta, 1 << 20, &m, err)) < 0)
		return sn_err_wrap(err, "snapshot `%s`", id);
	const char *mp = json_string_value(json_object_get(m, "mountpoint"));
	json_t *diffids = json_object_get(m, "diffids");
	if (!mp || !json_is_array(diffids))
		return sn_err_msg(err, EINVAL, "snapshot `%s`: `%s` has no mountpoint or diffids", id, meta);
	if (sn_is_mount_point(mp))
		return 0;
	if ((r = sn_mkdir_p(mp, 0755, err)) < 0 || (r = mount_layers(s, dir, diffids, mp, id, err)) < 0)
		return sn_err_wrap(err, "mount snapshot `%s` again", id);
	if (mounted)
		*mounted = true;
	return 0;
}

int image_snapshot_remove(struct image_store *s, const char *id, struct sn_err *err)
{
	_cleanup_unlock_ int il = -1;
	_cleanup_free_ char *dir = NULL;
	int r = snapshot_dir(s, id, "index.lock", LOCK_EX, &il, &dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *meta = sn_path_join(dir, "snapshot.json");
	if (!meta)
		return sn_err_set(err, ENOMEM, "snapshot");
	if (!sn_path_exists(dir))
		return 0;
	_cleanup_json_ json_t *m = NULL;
	if (sn_json_load_file(meta, 1 << 20, &m, &(struct sn_err){ 0 }) == 0) {
		const char *mp = json_string_value(json_object_get(m, "mountpoint"));
		if (mp && umount2(mp, 0) < 0 && errno != EINVAL && errno != ENOENT) {
			if (errno != EBUSY || umount2(mp, MNT_DETACH) < 0)
				return sn_err_sys(err, "snapshot `%s`: unmount `%s`", id, mp);
		}
	}
	r = sn_rm_rf(dir, err);
	return r < 0 ? sn_err_wrap(err, "snapshot `%s`", id) : 0;
}

int image_snapshot_list(struct image_store *s, json_t **out, struct sn_err *err)
{
	_cleanup_free_ char *dir = store_path(s, "snapshots");
	_cleanup_json_ json_t *list = json_array();
	if (!dir || !list)
		return sn_err_set(err, ENOMEM, "snapshots");
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT) {
			*out = steal_ptr(list);
			return 0;
		}
		return sn_err_sys(err, "open `%s`", dir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s/snapshot.json", dir, de->d_name);
		json_t *m = NULL;
		if (sn_json_load_file(p, 1 << 20, &m, &(struct sn_err){ 0 }) == 0)
			json_array_append_new(list, m);
	}
	*out = steal_ptr(list);
	return 0;
}
