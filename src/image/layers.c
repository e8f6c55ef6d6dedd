/* layers.c — the unpacked-layer cache and flat unpack of whole images.
 *
 * Each layer is unpacked once, in OVERLAY mode, into layers/<diffid-hex>/:
 * its own diff only, with whiteouts in overlayfs form, so the directory does
 * not depend on the layers below it and any image with the same diff_id
 * shares it. Keyed by diff_id, which unpack verifies against the
 * uncompressed stream: a hostile image cannot plant content under another
 * image's diff_id. The unpack goes to tmp/ first and is renamed into place;
 * when two processes race, the loser's copy is thrown away. A failed layer
 * leaves nothing under layers/.
 *
 * The flat unpack (`subnode-image unpack`) applies the layers in order onto
 * one directory, for tools and for hosts without overlayfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "image/internal.h"

static int unpack_one(struct image_store *s, const struct image_layer *l, int dfd,
		      enum image_unpack_mode mode, struct sn_err *err)
{
	_cleanup_close_ int fd = -1;
	int r = image_store_open_blob(s, l->digest, &fd, NULL, err);
	if (r < 0)
		return r;
	char what[160];
	snprintf(what, sizeof(what), "layer %.19s", l->digest);
	return image_unpack_layer_fd(fd, dfd, mode, l->diffid, what, err);
}

int image_layers_prepare(struct image_store *s, const struct image *img,
			 image_progress_fn progress, void *progress_data, struct sn_err *err)
{
	_cleanup_unlock_ int lk = -1;
	int r = store_lock(s, "gc.lock", LOCK_SH, &lk, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < img->n_layers; i++) {
		const struct image_layer *l = &img->layers[i];
		char rel[128];
		snprintf(rel, sizeof(rel), "layers/%s", l->diffid + 7);
		struct stat st;
		if (fstatat(s->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			continue;
		progress_emit(progress, progress_data, IMAGE_PROGRESS_UNPACK, "layer", l->digest, 0,
			      l->size, (unsigned)i, (unsigned)img->n_layers);
		_cleanup_free_ char *tmp = NULL;
		r = store_tmpdir(s, NULL, "layer", &tmp, err);
		if (r < 0)
			return r;
		if (chmod(tmp, 0755) < 0) {
			r = sn_err_sys(err, "chmod `%s`", tmp);
			sn_rm_rf(tmp, &(struct sn_err){ 0 });
			return r;
		}
		int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			r = sn_err_sys(err, "open `%s`", tmp);
			sn_rm_rf(tmp, &(struct sn_err){ 0 });
			return r;
		}
		r = unpack_one(s, l, dfd, IMAGE_UNPACK_OVERLAY, err);
		close(dfd);
		if (r < 0) {
			sn_rm_rf(tmp, &(struct sn_err){ 0 });
			return r;
		}
		_cleanup_free_ char *dst = store_path(s, rel);
		if (!dst)
			return sn_err_set(err, ENOMEM, "layers");
		if (rename(tmp, dst) < 0) {
			int e = errno;
			sn_rm_rf(tmp, &(struct sn_err){ 0 });
			if (e != EEXIST && e != ENOTEMPTY)
				return sn_err_set(err, e, "rename `%s` to `%s`", tmp, dst);
		}
	}
	return 0;
}

int image_unpack(struct image_store *s, const char *ref, const char *dest, struct sn_err *err)
{
	struct image *img = NULL;
	int r = image_load(s, ref, &img, err);
	if (r < 0)
		return r;
	bool made = false;
	if (mkdir(dest, 0755) == 0)
		made = true;
	else if (errno != EEXIST) {
		r = sn_err_sys(err, "mkdir `%s`", dest);
		image_free(img);
		return r;
	}
	int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		r = sn_err_sys(err, "open `%s`", dest);
		image_free(img);
		return r;
	}
	if (!made) {
		_cleanup_closedir_ DIR *d = fdopendir(dup(dfd));
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
				close(dfd);
				image_free(img);
				return sn_err_msg(err, ENOTEMPTY, "unpack into `%s`: not empty", dest);
			}
	}
	for (size_t i = 0; i < img->n_layers && r == 0; i++)
		r = unpack_one(s, &img->layers[i], dfd, IMAGE_UNPACK_FLAT, err);
	close(dfd);
	if (r < 0) {
		sn_err_wrap(err, "unpack `%s`", ref);
		if (made)
			sn_rm_rf(dest, &(struct sn_err){ 0 });
	}
	image_free(img);
	return r;
}
