/* images.c — the daemon's image verbs on its own store (root/images):
 * list and remove (refused while a subnode uses the image) here; import
 * from a path on the node and the unpack of an image's layers before a
 * create by the image tool (imagejob.c; pulls and uploads stream from it
 * in the HTTP layer).
 *
 * Each call opens its own store handle: handles are one-thread-at-a-time
 * and the store's file locks order concurrent imports, pulls and creates.
 */
#include "node/imagejob.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "image/image.h"

#include <errno.h>
#include <string.h>

static int open_store(struct node *n, struct image_store **s, struct sn_err *err)
{
	return image_store_open(image_store_root(n->images), s, err);
}

int node_image_list(struct node *n, json_t **out, struct sn_err *err)
{
	struct image_store *s = NULL;
	int r = open_store(n, &s, err);
	if (r < 0)
		return r;
	r = image_index_list(s, out, err);
	image_store_close(s);
	return r;
}

int node_image_remove(struct node *n, const char *ref, bool force, struct sn_err *err)
{
	struct image_store *s = NULL;
	int r = open_store(n, &s, err);
	if (r < 0)
		return r;
	char digest[IMAGE_DIGEST_SIZE];
	r = image_index_resolve(s, ref, digest, err);
	if (r == -ENOENT)
		r = sn_err_msg(err, ENOENT, "No such image: %s", ref);
	if (r == 0 && !force) {
		_cleanup_json_ json_t *rows = NULL;
		pthread_mutex_lock(&n->lock);
		r = node_db_list(n->db, &rows, err);
		pthread_mutex_unlock(&n->lock);
		size_t i;
		json_t *row;
		json_array_foreach(rows, i, row) {
			const char *d = json_string_value(json_object_get(json_object_get(row, "config"),
									 "ImageDigest"));
			if (r == 0 && d && strcmp(d, digest) == 0)
				r = sn_err_msg(err, EBUSY, "image %s is used by subnode %s; remove it first", ref,
					       json_string_value(json_object_get(row, "name")));
		}
	}
	if (r == 0)
		r = image_index_remove(s, ref, err);
	if (r == 0)
		node_event(n, "image", "delete", digest, json_pack("{s:s}", "name", ref));
	image_store_close(s);
	return r;
}

int node_image_import(struct node *n, const char *path, const char *name, int cancel_fd,
		      char out[72], struct sn_err *err)
{
	if (!path || path[0] != '/')
		return sn_err_msg(err, EINVAL, "path: must be an absolute path on the node");
	struct node_image_job_opts o = { .kind = NODE_IMAGE_IMPORT, .ref = path, .name = name,
					 .unpack = true };
	return node_image_job_run(n, &o, NULL, NULL, cancel_fd, out, err);
}

int node_image_prepare(struct node *n, struct image_store *s, const char *ref, struct sn_err *err)
{
	struct image *img = NULL;
	int r = image_load(s, ref, &img, err);
	if (r < 0)
		return r;
	bool ready = image_layers_ready(s, img, NULL);
	if (ready) {
		image_free(img);
		return 0;
	}
	/* One unpack at a time: 16 creates of a new image wait for the first
	 * instead of unpacking it 16 times. */
	pthread_mutex_lock(&n->prepare_lock);
	if (!image_layers_ready(s, img, NULL)) {
		char d[IMAGE_DIGEST_SIZE];
		struct node_image_job_opts o = { .kind = NODE_IMAGE_PREPARE, .ref = img->manifest_digest };
		r = node_image_job_run(n, &o, NULL, NULL, -1, d, err);
	}
	pthread_mutex_unlock(&n->prepare_lock);
	image_free(img);
	return r;
}
