/* images.c — the daemon's image verbs on its own store (root/images):
 * list, remove (refused while a subnode uses the image), import from a
 * path on the node, and pull from a registry with progress events.
 *
 * Each call opens its own store handle: handles are one-thread-at-a-time
 * and the store's file locks order concurrent imports, pulls and creates.
 */
#include "node/node.h"
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

int node_image_import(struct node *n, const char *path, const char *name, char out[72],
		      struct sn_err *err)
{
	if (!path || path[0] != '/')
		return sn_err_msg(err, EINVAL, "path: must be an absolute path on the node");
	struct image_store *s = NULL;
	int r = open_store(n, &s, err);
	if (r < 0)
		return r;
	struct image_import_opts o = { .name = name };
	r = image_import(s, path, &o, out, err);
	image_store_close(s);
	if (r == 0)
		node_event(n, "image", "import", out, json_pack("{s:s}", "name", name ? name : path));
	return r;
}

int node_image_pull(struct node *n, const char *ref, const struct node_pull_opts *po,
		    char out[72], struct sn_err *err)
{
	struct image_ref pr;
	int r = image_ref_parse(ref, &pr, err);
	if (r < 0)
		return r;
	image_ref_free(&pr);
	struct image_store *s = NULL;
	if ((r = open_store(n, &s, err)) < 0)
		return r;
	struct image_pull_opts o = { .insecure = po->insecure, .username = po->username,
				     .password = po->password, .progress = po->progress,
				     .progress_data = po->progress_data };
	r = image_pull(s, ref, &o, out, err);
	image_store_close(s);
	if (r == 0)
		node_event(n, "image", "pull", out, json_pack("{s:s}", "name", ref));
	return r;
}
