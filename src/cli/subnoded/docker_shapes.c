/* docker_shapes.c — Docker's JSON where the node's own shape differs, and
 * the API version a path names.
 *
 * Versions: Docker's clients put the API version in every path
 * (/v1.41/containers/json) after asking /_ping or /version for the
 * daemon's (negotiation: the docker CLI takes the lower of its own and the
 * daemon's ApiVersion, docker-py with version="auto" takes the daemon's).
 * The node advertises 1.41 and takes any version from 1.24 (the oldest
 * docker-py and the Go SDK still speak) to 1.51 (what the newest clients
 * send when told a version): the routes and shapes subnode serves are the
 * same across them. Outside that range the answer is Docker's own 400.
 *
 * Images: the node's index rows ({"digest","tags","config","size",
 * "created" (RFC 3339)}) get Docker's ImageSummary keys beside them. Go's
 * encoding/json matches keys case-insensitively, so the index's "created"
 * (a string) would land in Summary.Created (an int64): it is renamed
 * "CreatedAt".
 */
#include "docker.h"
#include "node/node.h"
#include "node/logs.h"
#include "image/image.h"
#include "base/cleanup.h"

#include <errno.h>
#include <pthread.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int docker_api_prefix(const char **url, struct sn_err *e)
{
	const char *u = *url;
	if (strncmp(u, "/v", 2) != 0 || u[2] < '0' || u[2] > '9')
		return 0;
	const char *slash = strchr(u + 1, '/');
	size_t len = slash ? (size_t)(slash - u - 2) : strlen(u + 2);
	char v[16];
	if (len >= sizeof(v))
		return sn_err_msg(e, EINVAL, "invalid API version in the path");
	memcpy(v, u + 2, len);
	v[len] = '\0';
	char *end;
	long major = strtol(v, &end, 10), minor = -1;
	if (*end == '.' && end[1] >= '0' && end[1] <= '9')
		minor = strtol(end + 1, &end, 10);
	if (*end || minor < 0)
		return sn_err_msg(e, EINVAL, "invalid API version `%s` in the path", v);
	if (major < 1 || (major == 1 && minor < 24))
		return sn_err_msg(e, EINVAL, "client version %s is too old. Minimum supported API version "
				  "is %s, please upgrade your client to a newer version", v, DOCKER_API_MIN);
	if (major > 1 || minor > DOCKER_API_MAX_MINOR)
		return sn_err_msg(e, EINVAL, "client version %s is too new. Maximum supported API "
				  "version is 1.%d", v, DOCKER_API_MAX_MINOR);
	*url = slash ? slash : "/";
	return 0;
}

/* "docker.io/library/busybox:latest" -> "docker.io/library/busybox". */
static json_t *repo_digest(const char *tag, const char *digest)
{
	const char *slash = strrchr(tag, '/'), *colon = strrchr(tag, ':');
	size_t n = colon && (!slash || colon > slash) ? (size_t)(colon - tag) : strlen(tag);
	char buf[512];
	snprintf(buf, sizeof(buf), "%.*s@%s", (int)n, tag, digest);
	return json_string(buf);
}

/* Docker's familiar name: docker.io/library/busybox:latest -> busybox:latest. */
static const char *familiar(const char *tag)
{
	if (strncmp(tag, "docker.io/library/", 18) == 0)
		return tag + 18;
	return strncmp(tag, "docker.io/", 10) == 0 ? tag + 10 : tag;
}

/* A reference filter's pattern against a tag: "repo" matches any tag of
 * repo, "repo:tag" that tag; shell patterns as Docker takes them. */
static bool ref_match(const char *pattern, const char *tag)
{
	const char *f = familiar(tag), *colon = strrchr(f, ':'), *slash = strrchr(f, '/');
	if (fnmatch(pattern, f, 0) == 0 || fnmatch(pattern, tag, 0) == 0)
		return true;
	if (!colon || (slash && colon < slash))
		return false;
	char repo[512];
	snprintf(repo, sizeof(repo), "%.*s", (int)(colon - f), f);
	return fnmatch(pattern, repo, 0) == 0;
}

static bool image_wanted(json_t *im, json_t *filters)
{
	json_t *refs = json_object_get(filters, "reference");
	if (!refs)
		return true;
	const char *k;
	json_t *v, *t;
	size_t i, j;
	json_t *tags = json_object_get(im, "tags");
	if (json_is_array(refs)) {
		json_array_foreach(refs, i, v)
			json_array_foreach(tags, j, t)
				if (ref_match(json_string_value(v), json_string_value(t)))
					return true;
	} else {
		json_object_foreach(refs, k, v)
			json_array_foreach(tags, j, t)
				if (json_is_true(v) && ref_match(k, json_string_value(t)))
					return true;
	}
	return false;
}

void docker_image_summaries(json_t *list, json_t *filters)
{
	size_t i, j;
	json_t *im, *t;
	for (i = json_array_size(list); i-- > 0;)
		if (!image_wanted(json_array_get(list, i), filters))
			json_array_remove(list, i);
	json_array_foreach(list, i, im) {
		const char *digest = json_string_value(json_object_get(im, "digest"));
		const char *cfg = json_string_value(json_object_get(im, "config"));
		json_t *tags = json_object_get(im, "tags");
		int64_t ns = 0;
		json_t *created = json_object_get(im, "created");
		if (node_parse_time(json_string_value(created), &ns) < 0)
			ns = 0;
		if (created)
			json_object_set(im, "CreatedAt", created);
		json_object_del(im, "created");
		json_t *repo_digests = json_array();
		json_array_foreach(tags, j, t)
			if (digest)
				json_array_append_new(repo_digests, repo_digest(json_string_value(t), digest));
		json_int_t size = json_integer_value(json_object_get(im, "size"));
		json_object_set_new(im, "Id", json_string(cfg ? cfg : digest ? digest : ""));
		json_object_set_new(im, "ParentId", json_string(""));
		json_object_set_new(im, "RepoTags", tags ? json_copy(tags) : json_array());
		json_object_set_new(im, "RepoDigests", repo_digests);
		json_object_set_new(im, "Created", json_integer((json_int_t)(ns / 1000000000LL)));
		json_object_set_new(im, "Size", json_integer(size));
		json_object_set_new(im, "VirtualSize", json_integer(size));
		json_object_set_new(im, "SharedSize", json_integer(-1));
		json_object_set_new(im, "Containers", json_integer(-1));
		json_object_set_new(im, "Labels", json_object());
		json_object_del(im, "size");
	}
}

struct by_age { json_t *c; size_t i; };

/* Newest first; in one second, the later in the list (the node lists in
 * the order of creation). */
static int by_created_desc(const void *x, const void *y)
{
	const struct by_age *p = x, *q = y;
	json_int_t a = json_integer_value(json_object_get(p->c, "Created"));
	json_int_t b = json_integer_value(json_object_get(q->c, "Created"));
	if (a != b)
		return a < b ? 1 : -1;
	return p->i < q->i ? 1 : p->i > q->i ? -1 : 0;
}

int docker_list_limit(json_t *list, size_t n)
{
	size_t len = json_array_size(list);
	if (len <= n)
		return 0;
	struct by_age *v = calloc(len, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		v[i] = (struct by_age){ json_incref(json_array_get(list, i)), i };
	qsort(v, len, sizeof(*v), by_created_desc);
	json_array_clear(list);
	for (size_t i = 0; i < len; i++) {
		if (i < n)
			json_array_append(list, v[i].c);
		json_decref(v[i].c);
	}
	free(v);
	return 0;
}

/* The index row ref names: its config digest (Docker's image Id) or a
 * prefix of it (docker rmi 299e0c67e54d), its manifest digest, or a tag. */
static json_t *index_row(json_t *list, const char *ref)
{
	size_t i, j, rl = strlen(ref);
	json_t *im, *t;
	const char *hex = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
	bool is_hex = strlen(hex) >= 4 && strspn(hex, "0123456789abcdef") == strlen(hex);
	json_array_foreach(list, i, im) {
		const char *cfg = json_string_value(json_object_get(im, "config")) ?: "";
		const char *dg = json_string_value(json_object_get(im, "digest")) ?: "";
		if (strcmp(cfg, ref) == 0 || strcmp(dg, ref) == 0 ||
		    (is_hex && strlen(cfg) > 7 && strncmp(cfg + 7, hex, strlen(hex)) == 0))
			return im;
		json_array_foreach(json_object_get(im, "tags"), j, t) {
			const char *f = familiar(json_string_value(t));
			if (strcmp(json_string_value(t), ref) == 0 || strcmp(f, ref) == 0 ||
			    (strncmp(f, ref, rl) == 0 && strcmp(f + rl, ":latest") == 0))
				return im;
		}
	}
	return NULL;
}

int docker_image_inspect(struct node *n, const char *ref, json_t **out, struct sn_err *e)
{
	_cleanup_json_ json_t *list = NULL;
	int r = node_image_list(n, &list, e);
	if (r < 0)
		return r;
	json_t *row = index_row(list, ref);
	if (!row)
		return sn_err_msg(e, ENOENT, "No such image: %s", ref);
	struct image *img = NULL;
	pthread_mutex_lock(&n->images_lock);
	r = image_load(n->images, json_string_value(json_object_get(row, "digest")), &img, e);
	pthread_mutex_unlock(&n->images_lock);
	if (r < 0)
		return r;
	json_t *cfg = json_object_get(img->config, "config");
	json_t *tags = json_object_get(row, "tags");
	json_t *repo_digests = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t)
		json_array_append_new(repo_digests, repo_digest(json_string_value(t), img->manifest_digest));
	const char *created = json_string_value(json_object_get(img->config, "created"));
	const char *arch = json_string_value(json_object_get(img->config, "architecture"));
	const char *os = json_string_value(json_object_get(img->config, "os"));
	*out = json_pack("{s:s, s:O, s:o, s:s, s:s, s:s, s:s, s:I, s:I, s:O, s:{s:s, s:O}, s:{}}",
		"Id", img->config_digest, "RepoTags", tags ? tags : json_array(), "RepoDigests", repo_digests,
		"Parent", "", "Created", created ? created : "", "Architecture", arch ? arch : "",
		"Os", os ? os : "linux", "Size", json_integer_value(json_object_get(row, "size")),
		"VirtualSize", json_integer_value(json_object_get(row, "size")),
		"Config", cfg ? cfg : json_object(),
		"RootFS", "Type", "layers", "Layers", json_object_get(row, "diffids") ?: json_array(),
		"Metadata");
	image_free(img);
	return *out ? 0 : sn_err_set(e, ENOMEM, "image inspect");
}

int docker_image_by_id(struct node *n, const char *ref, bool force, json_t **row, struct sn_err *e)
{
	*row = NULL;
	const char *hex = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
	if (strlen(hex) < 4 || strspn(hex, "0123456789abcdef") != strlen(hex))
		return 0;
	_cleanup_json_ json_t *list = NULL;
	int r = node_image_list(n, &list, e);
	if (r < 0)
		return r;
	json_t *im = index_row(list, ref);
	const char *cfg = json_string_value(json_object_get(im, "config"));
	if (!im || !cfg || strncmp(cfg + 7, hex, strlen(hex)) != 0)
		return 0;   /* a tag that looks like hex, or nothing: as named */
	size_t i, rows = 0;
	json_t *x;
	json_array_foreach(list, i, x)   /* one config, several manifests (a load and a pull) */
		rows += strcmp(json_string_value(json_object_get(x, "config")) ?: "", cfg) == 0;
	if (rows > 1)
		return sn_err_msg(e, EBUSY, "conflict: unable to delete %.12s - the Id names %zu images "
				  "(one config, several manifests): remove them by name", cfg + 7, rows);
	if (json_array_size(json_object_get(im, "tags")) > 1 && !force)
		return sn_err_msg(e, EBUSY, "conflict: unable to delete %.12s (must be forced) - image is "
				  "referenced in multiple repositories", cfg + 7);
	*row = json_incref(im);
	return 0;
}
