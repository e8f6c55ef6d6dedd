/* api_volumes.c — the volume routes (Docker's shapes where they fit):
 *
 *   POST   /volumes/create            {"Name", "Driver": "local", "DriverOpts": {"size"}, "Labels"}
 *   GET    /volumes                   {"Volumes": [...], "Warnings": []}
 *   GET    /volumes/{name}
 *   DELETE /volumes/{name}            409 while a subnode uses it
 *   GET    /volumes/{name}/export[?pause=1]   the stream (src/image/volstream.c)
 *   POST   /volumes/{name}/import?size=N      the stream as the body
 *
 * Create and remove run on a worker (the first create makes the pool: a
 * mkfs). Export: the image tool (`volume-export DIR`) writes the stream
 * on a pipe which becomes the chunked body as it comes, the connection
 * waiting in the hub whenever the pipe is empty — constant memory; a tool
 * that fails ends the body with an error (the client sees a cut transfer,
 * and the missing trailer makes any import refuse it). Import: the row
 * and a staging directory with the quota are made on the headers, the
 * body streams into the tool (`volume-import DIR`, as an image upload
 * does), and only a stream that checked out is renamed into place; a
 * refused one, or a client that leaves, leaves no volume.
 */
#include "api_internal.h"
#include "node/imagejob.h"
#include "node/volume.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EXPORT_BLOCK (256u << 10)

static void work_create(struct api *a, struct req *rq)
{
	uint64_t size = (uint64_t)rq->num;
	rq->r = node_volume_create(a->n, rq->arg1, size, json_object_get(rq->in, "Labels"), &rq->out,
				   &rq->e);
	rq->status = MHD_HTTP_CREATED;
}

static enum MHD_Result h_create(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	int r = sn_json_loadb(rq->body.data ? rq->body.data : "{}", rq->body.data ? rq->body.len : 2, "request body",
			      &rq->in, &rq->e);
	if (r < 0)
		return api_send_err(c, r, &rq->e);
	static const char *const keys[] = { "Name", "Driver", "DriverOpts", "Labels", NULL };
	if ((r = sn_json_only_keys(rq->in, "", keys, &rq->e)) < 0)
		return api_send_err(c, r, &rq->e);
	const char *name = json_string_value(json_object_get(rq->in, "Name"));
	const char *driver = json_string_value(json_object_get(rq->in, "Driver"));
	json_t *opts = json_object_get(rq->in, "DriverOpts"), *labels = json_object_get(rq->in, "Labels");
	if (!name)
		return api_send_error(c, 400, "Name: required (a string)");
	if (driver && *driver && strcmp(driver, "local") != 0)
		return api_send_error(c, 400, "Driver: only `local` is known");
	if (labels && !json_is_null(labels) && !json_is_object(labels))
		return api_send_error(c, 400, "Labels: must be an object of strings");
	const char *k;
	json_t *v;
	json_object_foreach(labels, k, v)
		if (!json_is_string(v))
			return api_send_error(c, 400, "Labels: must be an object of strings");
	uint64_t size = 0;
	if (opts && !json_is_null(opts)) {
		if (!json_is_object(opts))
			return api_send_error(c, 400, "DriverOpts: must be an object");
		json_object_foreach(opts, k, v) {
			if (strcmp(k, "size") != 0)
				return api_send_error(c, 400, "DriverOpts: only `size` is known");
			if (!json_is_string(v) || node_volume_parse_size(json_string_value(v), &size) < 0)
				return api_send_error(c, 400, "DriverOpts.size: must be a size such as 10G "
						      "(bytes, or with K, M, G, T)");
		}
	}
	if (!(rq->arg1 = strdup(name)))
		return api_send_error(c, 500, "out of memory");
	rq->num = (long)size;
	return api_defer(a, c, rq, work_create, NULL);
}

static void work_remove(struct api *a, struct req *rq)
{
	rq->r = node_volume_remove(a->n, rq->id, &rq->e);
	rq->status = MHD_HTTP_NO_CONTENT;
}

/* ---- export */

struct vexport {
	struct api *a;
	struct MHD_Connection *c;
	struct node_image_job *job;
	char name[256];
};

static ssize_t export_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct vexport *x = cls;
	size_t got = 0;
	for (;;) {
		ssize_t n = read(node_image_job_fd(x->job), buf + got, max - got);
		if (n > 0) {
			got += (size_t)n;
			if (got < max)
				continue;   /* fill the block: fewer, larger chunks */
		}
		if (got)
			return (ssize_t)got;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (api_client_gone(x->c))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			struct hub_want w = api_want();
			w.fd[0] = node_image_job_fd(x->job);
			w.events[0] = EPOLLIN;
			return api_stream_wait(x->a, x->c, &w);
		}
		struct sn_err e = { 0 };
		if (n < 0 || node_image_job_exit(x->a->n, x->job, &e) < 0) {
			sn_warn("export of volume %s: %s", x->name, e.msg[0] ? e.msg : strerror(errno));
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
}

static void export_free(void *cls)
{
	struct vexport *x = cls;
	node_image_job_free(x->job);   /* killed if still running */
	node_volume_export_end(x->a->n, x->name);
	free(x);
}

static enum MHD_Result h_export(struct api *a, struct MHD_Connection *c, const char *name)
{
	struct vexport *x = calloc(1, sizeof(*x));
	if (!x)
		return api_send_error(c, 500, "out of memory");
	x->a = a;
	x->c = c;
	snprintf(x->name, sizeof(x->name), "%s", name);
	struct sn_err e = { 0 };
	_cleanup_free_ char *dir = NULL;
	int r = node_volume_export_begin(a->n, name, api_arg_bool(c, "pause"), &dir, &e);
	if (r < 0) {
		free(x);
		return api_send_err(c, r, &e);
	}
	struct node_image_job_opts o = { .kind = NODE_IMAGE_VOLUME_EXPORT, .ref = dir };
	if ((r = node_image_job_start(a->n, &o, &x->job, NULL, &e)) < 0) {
		node_volume_export_end(a->n, name);
		free(x);
		return api_send_err(c, r, &e);
	}
	return api_send_stream(c, "application/x-tar", EXPORT_BLOCK, export_reader, x, export_free);
}

/* ---- import */

struct vimport {
	struct node *n;
	char name[256];
	bool settled;   /* committed, or undone before the reply */
};

/* When the request ends: an import that was not settled (the client left,
 * the daemon stops) is undone. */
static void import_done(void *arg)
{
	struct vimport *vi = arg;
	if (!vi->settled)
		node_volume_import_abort(vi->n, vi->name);   /* nothing left of it */
	free(vi);
}

static enum MHD_Result import_reply(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	struct vimport *vi = api_upload_arg(rq);
	char digest[72] = "";
	struct sn_err e = { 0 };
	int r = node_image_job_finish(a->n, api_upload_job(rq), digest, &e);
	if (r == 0)
		r = node_volume_import_commit(a->n, vi->name, &e);
	vi->settled = true;
	if (r < 0) {
		/* undone before the client hears of it: nothing left when it does */
		node_volume_import_abort(a->n, vi->name);
		return api_send_err(c, r, &e);
	}
	json_t *out = NULL;
	if ((r = node_volume_inspect(a->n, vi->name, &out, &e)) < 0)
		return api_send_err(c, r, &e);
	json_object_set_new(out, "Digest", json_string(digest));
	return api_send_json(c, MHD_HTTP_CREATED, out);
}

static enum MHD_Result h_import(struct api *a, struct MHD_Connection *c, struct req *rq,
				const char *name)
{
	const char *sz = api_arg(c, "size");
	uint64_t size = 0;
	if (sz && node_volume_parse_size(sz, &size) < 0)
		return api_send_error(c, 400, "size: must be a size such as 10G (bytes, or with K, M, G, T)");
	struct vimport *vi = calloc(1, sizeof(*vi));
	if (!vi)
		return api_send_error(c, 500, "out of memory");
	vi->n = a->n;
	snprintf(vi->name, sizeof(vi->name), "%s", name);
	struct sn_err e = { 0 };
	_cleanup_free_ char *staging = NULL;
	int r = node_volume_import_begin(a->n, name, size, NULL, &staging, &e);
	if (r < 0) {
		free(vi);
		return api_send_err(c, r, &e);
	}
	struct node_image_job_opts o = { .kind = NODE_IMAGE_VOLUME_IMPORT, .ref = staging };
	return api_upload_start(a, c, rq, &o, import_reply, import_done, vi);
}

enum MHD_Result api_volumes(struct api *a, struct MHD_Connection *c, struct req *rq, const char *url,
			    const char *method)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	struct sn_err e = { 0 };
	json_t *out = NULL;
	int r;
	if (strcmp(url, "/volumes") == 0 || strcmp(url, "/volumes/") == 0) {
		if (!get)
			return api_send_error(c, 405, "method not allowed");
		r = node_volume_list(a->n, &out, &e);
		return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
	}
	if (strcmp(url, "/volumes/create") == 0) {
		if (strcmp(method, "POST") != 0)
			return api_send_error(c, 405, "method not allowed");
		return h_create(a, c, rq);
	}
	const char *rest = url + 9;
	const char *slash = strchr(rest, '/');
	size_t nl = slash ? (size_t)(slash - rest) : strlen(rest);
	if (nl == 0 || nl >= sizeof(rq->id))
		return api_send_error(c, 404, "page not found");
	memcpy(rq->id, rest, nl);
	rq->id[nl] = '\0';
	const char *verb = slash ? slash + 1 : NULL;
	if (!verb && get) {
		r = node_volume_inspect(a->n, rq->id, &out, &e);
		return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
	}
	if (!verb && strcmp(method, "DELETE") == 0)
		return api_defer(a, c, rq, work_remove, NULL);
	if (verb && strcmp(verb, "export") == 0 && get)
		return h_export(a, c, rq->id);
	if (verb && strcmp(verb, "import") == 0 && strcmp(method, "POST") == 0)
		return h_import(a, c, rq, rq->id);
	return api_send_error(c, 404, "page not found");
}
