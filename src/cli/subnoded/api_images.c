/* api_images.c — the image routes: list, remove, pull (a progress stream
 * from the image tool), load from a path on the node, and load by upload.
 *
 * Pull: the image tool's JSON lines (imagejob.c) become Docker's progress
 * lines as they come; between them the connection waits in the hub for the
 * tool's stdout. A client that leaves ends the pull (the tool is killed:
 * the store stays as it was).
 *
 * Load by upload (`POST /images/load` with the archive as the body, the
 * Docker API's shape): the tool is started on the request's headers with
 * its stdin on a pipe, and each piece of the body libmicrohttpd hands over
 * is written into that pipe — non-blocking: when the pipe is full the
 * piece is left unconsumed and the connection waits in the hub until the
 * tool has read (or written progress, which is drained so it never blocks
 * on its stdout). So an archive of any size passes through a 64 KiB pipe
 * and libmicrohttpd's connection buffer, never whole in memory. When the
 * tool refuses the archive early (its stdin closes), the rest of the body
 * is read and dropped, and the reply carries the tool's message with its
 * status (400 for a bad archive). A client that leaves mid-upload kills the
 * tool; in every case a refused or interrupted load leaves the store as it
 * was.
 */
#include "api_internal.h"
#include "docker.h"
#include "base/fd.h"
#include "node/imagejob.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* ---- pull */

struct pull_stream {
	struct api *a;
	struct MHD_Connection *c;
	struct node_image_job *job;
	char *pending;            /* JSON lines not yet sent */
	size_t plen, poff;
	bool finished;
};

static void pull_progress(const struct image_progress *ip, void *data)
{
	static const char *const names[] = { "Pulling", "Downloading", "Resuming", "Already exists",
					     "Download complete", "Extracting" };
	struct pull_stream *p = data;
	char id[16];
	snprintf(id, sizeof(id), "%.12s", ip->digest && strlen(ip->digest) > 7 ? ip->digest + 7 : "");
	api_pending_line(&p->pending, &p->plen, json_pack("{s:s, s:s, s:s, s:{s:I, s:I}, s:i, s:i}", "status",
		names[ip->event <= IMAGE_PROGRESS_UNPACK ? ip->event : 0], "id", id, "what",
		ip->what ? ip->what : "", "progressDetail", "current", (json_int_t)ip->done, "total",
		(json_int_t)ip->total, "index", (int)ip->index, "count", (int)ip->count));
}

static ssize_t pull_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct pull_stream *p = cls;
	for (;;) {
		ssize_t got = api_drain_pending(&p->pending, &p->plen, &p->poff, buf, max);
		if (got > 0)
			return got;
		if (p->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (api_client_gone(p->c))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (node_image_job_read(p->job, pull_progress, p) == 1) {
			struct sn_err e = { 0 };
			char digest[72] = "";
			if (node_image_job_finish(p->a->n, p->job, digest, &e) < 0)
				api_pending_line(&p->pending, &p->plen, json_pack("{s:s, s:{s:s}}", "error", e.msg,
						 "errorDetail", "message", e.msg));
			else
				api_pending_line(&p->pending, &p->plen, json_pack("{s:s, s:s}", "status", "Pulled",
						 "digest", digest));
			p->finished = true;
			continue;
		}
		if (p->plen)
			continue;
		struct hub_want w = api_want();
		w.fd[0] = node_image_job_fd(p->job);
		w.events[0] = EPOLLIN;
		return api_stream_wait(p->a, p->c, &w);
	}
}

static void pull_free(void *cls)
{
	struct pull_stream *p = cls;
	node_image_job_free(p->job);   /* killed if still running: the store stays as it was */
	free(p->pending);
	free(p);
}

static enum MHD_Result h_pull(struct api *a, struct MHD_Connection *c)
{
	const char *from = api_arg(c, "fromImage"), *tag = api_arg(c, "tag");
	if (!from || !*from)
		return api_send_error(c, 400, "fromImage: required");
	_cleanup_free_ char *ref = NULL;
	if (asprintf(&ref, "%s%s%s", from, tag && *tag ? ":" : "", tag && *tag ? tag : "") < 0)
		return api_send_error(c, 500, "out of memory");
	struct sn_err e = { 0 };
	struct image_ref ir;
	if (image_ref_parse(ref, &ir, &e) < 0)
		return api_send_err(c, -EINVAL, &e);
	image_ref_free(&ir);
	struct pull_stream *p = calloc(1, sizeof(*p));
	if (!p)
		return api_send_error(c, 500, "out of memory");
	p->a = a;
	p->c = c;
	struct node_image_job_opts o = { .kind = NODE_IMAGE_PULL, .ref = ref,
					 .insecure = api_arg_bool(c, "insecure"), .unpack = true };
	int r = node_image_job_start(a->n, &o, &p->job, NULL, &e);
	if (r < 0) {
		free(p);
		return api_send_err(c, r, &e);
	}
	return api_send_stream(c, "application/json", 4096, pull_reader, p, pull_free);
}

/* ---- load by upload */

struct load {
	struct node_image_job *job;
	int in;                   /* the tool's stdin (O_NONBLOCK); -1 once closed */
	bool refused;             /* the tool stopped reading: drop the rest */
	api_cont_fn reply;        /* once the tool has written its last line */
	void (*done)(void *arg);  /* after the tool is gone (an import's undo) */
	void *done_arg;
};

static void load_free(void *cls)
{
	struct load *ld = cls;
	if (ld->in >= 0)
		close(ld->in);
	node_image_job_free(ld->job);   /* killed if still running */
	if (ld->done)
		ld->done(ld->done_arg);
	free(ld);
}

/* Docker's answer: a "Loaded image" line per name the load gave (or the
 * ID when it gave none), then the digest. */
static json_t *loaded_lines(json_t *tags, const char *digest)
{
	json_t *out = json_array();
	char line[600];
	size_t i;
	json_t *v;
	json_array_foreach(tags, i, v) {
		snprintf(line, sizeof(line), "Loaded image: %s\n", json_string_value(v));
		json_array_append_new(out, json_pack("{s:s}", "stream", line));
	}
	if (json_array_size(out) == 0) {
		snprintf(line, sizeof(line), "Loaded image ID: %s\n", digest);
		json_array_append_new(out, json_pack("{s:s}", "stream", line));
	}
	json_array_append_new(out, json_pack("{s:s}", "Digest", digest));
	return out;
}

static enum MHD_Result load_reply(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	struct load *ld = rq->ctx;
	char digest[72] = "";
	struct sn_err e = { 0 };
	int r = node_image_job_finish(a->n, ld->job, digest, &e);
	if (r < 0)
		return api_send_err(c, r, &e);
	_cleanup_json_ json_t *lines = loaded_lines(node_image_job_tags(ld->job), digest);
	_cleanup_free_ char *body = NULL;
	size_t blen = 0;
	size_t i;
	json_t *v;
	json_array_foreach(lines, i, v)
		api_pending_line(&body, &blen, json_incref(v));
	struct MHD_Response *resp = MHD_create_response_from_buffer(blen, steal_ptr(body),
								      MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The body is all in and the tool's stdin closed: wait for its last line. */
static enum MHD_Result load_finish(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	struct load *ld = rq->ctx;
	if (node_image_job_read(ld->job, NULL, NULL) == 1)
		return ld->reply(a, c, rq);
	struct hub_want w = api_want();
	w.fd[0] = node_image_job_fd(ld->job);
	w.events[0] = EPOLLIN;
	return api_wait(a, c, rq, &w, load_finish);
}

static enum MHD_Result load_upload(struct api *a, struct MHD_Connection *c, struct req *rq,
				   const char *data, size_t *size)
{
	struct load *ld = rq->ctx;
	if (*size == 0) {   /* the whole body is in */
		close(ld->in);
		ld->in = -1;
		return load_finish(a, c, rq);
	}
	/* Keep the tool's stdout drained (progress lines), else it could
	 * block writing them while we wait for it to read. */
	if (node_image_job_read(ld->job, NULL, NULL) == 1)
		ld->refused = true;   /* it has finished (failed) before the end */
	while (!ld->refused && *size) {
		ssize_t n = write(ld->in, data, *size);
		if (n > 0) {
			data += n;
			*size -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* The pipe is full: the rest waits in libmicrohttpd's buffer
			 * until the tool reads (or talks). */
			struct hub_want w = api_want();
			w.fd[0] = ld->in;
			w.events[0] = EPOLLOUT;
			w.fd[1] = node_image_job_fd(ld->job);
			w.events[1] = EPOLLIN;
			if (!api_suspend(a, c, &w))
				return MHD_NO;
			return MHD_YES;
		}
		ld->refused = true;   /* EPIPE: the tool is gone */
	}
	*size = 0;   /* written, or dropped after a refusal */
	return MHD_YES;
}

enum MHD_Result api_upload_start(struct api *a, struct MHD_Connection *c, struct req *rq,
				 const struct node_image_job_opts *o, api_cont_fn reply,
				 void (*done)(void *arg), void *done_arg)
{
	struct load *ld = calloc(1, sizeof(*ld));
	if (!ld) {
		if (done)
			done(done_arg);
		return api_send_error(c, 500, "out of memory");
	}
	ld->in = -1;
	ld->reply = reply;
	ld->done = done;
	ld->done_arg = done_arg;
	struct sn_err e = { 0 };
	int r = node_image_job_start(a->n, o, &ld->job, &ld->in, &e);
	if (r < 0) {
		load_free(ld);
		return api_send_err(c, r, &e);
	}
	if ((r = sn_fd_set_nonblock(ld->in, true, &e)) < 0) {
		load_free(ld);
		return api_send_err(c, r, &e);
	}
	rq->ctx = ld;
	rq->ctx_free = load_free;
	rq->upload = load_upload;
	return MHD_YES;
}

struct node_image_job *api_upload_job(struct req *rq)
{
	return ((struct load *)rq->ctx)->job;
}

void *api_upload_arg(struct req *rq)
{
	return ((struct load *)rq->ctx)->done_arg;
}

static enum MHD_Result h_load_upload(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	const char *name = api_arg(c, "name");
	struct node_image_job_opts o = { .kind = NODE_IMAGE_LOAD, .name = name && *name ? name : NULL,
					 .unpack = true };
	return api_upload_start(a, c, rq, &o, load_reply, NULL, NULL);
}

/* ---- load from a path, remove */

static void work_import(struct api *a, struct req *rq)
{
	char digest[72] = "";
	rq->r = node_image_import(a->n, rq->arg1, rq->arg2, (int)rq->num, digest, &rq->e);
	if (rq->r == 0)
		rq->out = json_pack("{s:s}", "Digest", digest);
}

static void work_remove(struct api *a, struct req *rq)
{
	/* Docker's image Id (docker rmi 299e0c67e54d): the image, all its tags */
	_cleanup_json_ json_t *by_id = NULL;
	rq->r = docker_image_by_id(a->n, rq->arg1, rq->flag, &by_id, &rq->e);
	if (rq->r < 0)
		return;
	const char *ref = by_id ? json_string_value(json_object_get(by_id, "digest")) : rq->arg1;
	rq->r = node_image_remove(a->n, ref, rq->flag, &rq->e);
	if (rq->r == 0 && !by_id)
		rq->out = json_pack("[{s:s}]", "Untagged", rq->arg1);
	if (rq->r == 0 && by_id) {
		rq->out = json_array();
		size_t i;
		json_t *t;
		json_array_foreach(json_object_get(by_id, "tags"), i, t)
			json_array_append_new(rq->out, json_pack("{s:O}", "Untagged", t));
		json_array_append_new(rq->out, json_pack("{s:O}", "Deleted", json_object_get(by_id, "config")));
	}
}

enum MHD_Result api_images(struct api *a, struct MHD_Connection *c, struct req *rq, const char *url,
			   const char *method)
{
	struct sn_err e = { 0 };
	json_t *out = NULL;
	if (strcmp(url, "/images/json") == 0 && strcmp(method, "GET") == 0) {
		_cleanup_json_ json_t *filters = NULL;
		static const char *const keys[] = { "reference", NULL };
		int r = api_parse_filters(c, keys, &filters, &e);
		if (r == 0)
			r = node_image_list(a->n, &out, &e);
		if (r == 0)
			docker_image_summaries(out, filters);
		return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
	}
	size_t ul = strlen(url);
	if (strcmp(method, "GET") == 0 && ul > 13 && strcmp(url + ul - 5, "/json") == 0) {
		_cleanup_free_ char *ref = strndup(url + 8, ul - 13);
		if (!ref)
			return api_send_error(c, 500, "out of memory");
		int r = docker_image_inspect(a->n, ref, &out, &e);
		return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
	}
	if (strcmp(url, "/images/create") == 0 && strcmp(method, "POST") == 0)
		return h_pull(a, c);
	if (strcmp(url, "/images/load") == 0 && strcmp(method, "POST") == 0) {
		const char *path = api_arg(c, "path"), *name = api_arg(c, "name");
		if (!path)
			return h_load_upload(a, c, rq);
		if (!(rq->arg1 = strdup(path)) || (name && !(rq->arg2 = strdup(name))))
			return api_send_error(c, 500, "out of memory");
		rq->num = hub_conn_fd(c);   /* a client that leaves ends the tool */
		return api_defer_slow(a, c, rq, work_import, NULL);
	}
	if (strncmp(url, "/images/", 8) == 0 && strcmp(method, "DELETE") == 0) {
		if (!(rq->arg1 = strdup(url + 8)))
			return api_send_error(c, 500, "out of memory");
		rq->flag = api_arg_bool(c, "force");
		return api_defer(a, c, rq, work_remove, NULL);
	}
	return api_send_error(c, 404, "page not found");
}
