/* registry.c — pull from a registry (distribution spec v2) with libcurl.
 *
 * Flow: GET /v2/<repo>/manifests/<tag> accepting OCI and Docker schema2
 * manifests and indexes/lists; an index is resolved to the manifest for the
 * platform (linux/amd64 by default) and fetched by digest. Every manifest
 * is hashed: it must match the digest asked for, or the
 * Docker-Content-Digest the registry sent. Manifests and configs are capped
 * at 4 MiB (an oversized answer is refused, not buffered). The config blob
 * comes next, then the layers not yet in the store, in parallel over one
 * curl multi handle (default 4 at a time, one thread, no locks).
 *
 * Layers stream to partial/<hex> through sha256, never whole in memory.
 * partial/<hex> is flock()ed while in use, so two pulls of one layer do it
 * once (the second waits, then finds it complete). A transfer that breaks
 * is resumed with a Range request (3 tries in process); a partial file left
 * by an earlier, failed pull is resumed too: its bytes are re-hashed first.
 * A server that ignores Range (200 instead of 206) makes us start over.
 * Blobs move into blobs/ only when the whole image is there and verified,
 * config and manifest last, then the tag is written: a pull that fails
 * leaves blobs/ and the index as they were (partial/ keeps what can be
 * resumed; gc clears it).
 *
 * Transport: https with the system CAs (plus --ca-file); plain http only
 * for loopback registries or when `insecure` is set. Timeouts: connect
 * and stall (no byte for timeout_s) both fail with a message naming the
 * URL. Auth: see auth.c; a 401 triggers the challenge flow and one retry.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/sha256.h"
#include "image/registry_internal.h"

#define ACCEPT_MANIFESTS                                                                       \
	"Accept: " IMAGE_MT_OCI_MANIFEST ", " IMAGE_MT_DOCKER_MANIFEST ", " IMAGE_MT_OCI_INDEX \
	", " IMAGE_MT_DOCKER_LIST

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void reg_headers_free(struct reg_headers *h)
{
	free(h->www_authenticate);
	free(h->content_type);
	free(h->docker_digest);
	memset(h, 0, sizeof(*h));
}

static size_t body_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct reg_buf *b = ud;
	size_t len = sz * n;
	if (b->len + len > b->max) {
		b->overflow = true;
		return 0;
	}
	char *nd = realloc(b->data, b->len + len + 1);
	if (!nd)
		return 0;
	memcpy(nd + b->len, p, len);
	b->data = nd;
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);
	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return strndup(v, (size_t)(end - v));
}

static size_t header_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct reg_headers *h = ud;
	size_t len = sz * n;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		reg_headers_free(h); /* a new response (after a redirect) */
		return len;
	}
	char *v;
	if ((v = header_value(p, len, "WWW-Authenticate"))) {
		free(h->www_authenticate);
		h->www_authenticate = v;
	} else if ((v = header_value(p, len, "Content-Type"))) {
		free(h->content_type);
		h->content_type = v;
	} else if ((v = header_value(p, len, "Docker-Content-Digest"))) {
		free(h->docker_digest);
		h->docker_digest = v;
	}
	return len;
}

void reg_setup_handle(struct reg_client *c, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout_s);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->timeout_s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "subnode-image/0.1");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (c->o->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->o->ca_file);
	if (c->o->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

int reg_simple_get(struct reg_client *c, CURL *h, const char *url, const char *extra_header,
		   const char *accept, struct reg_buf *body, long *status, struct reg_headers *hd,
		   struct sn_err *err)
{
	struct reg_headers local = { 0 };
	if (!hd)
		hd = &local;
	struct curl_slist *hl = NULL;
	if (extra_header)
		hl = curl_slist_append(hl, extra_header);
	if (accept)
		hl = curl_slist_append(hl, accept);
	char ebuf[CURL_ERROR_SIZE] = "";
	curl_easy_reset(h);
	reg_setup_handle(c, h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, hd);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode cc = curl_easy_perform(h);
	curl_slist_free_all(hl);
	reg_headers_free(&local);
	if (cc == CURLE_WRITE_ERROR && body->overflow)
		return sn_err_msg(err, EFBIG, "GET %s: answer larger than %zu bytes (refused)", url,
				  body->max);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return sn_err_msg(err, ETIMEDOUT, "GET %s: timed out (no answer for %ld s)", url,
				  c->timeout_s);
	if (cc != CURLE_OK)
		return sn_err_msg(err, EIO, "GET %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

/* "404 MANIFEST_UNKNOWN: manifest unknown" from an errors body. */
static void registry_error_text(const struct reg_buf *b, char *out, size_t n)
{
	out[0] = '\0';
	if (!b->data)
		return;
	json_t *j = json_loadb(b->data, b->len, 0, NULL);
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	if (code)
		snprintf(out, n, " %s%s%s", code, msg ? ": " : "", msg ? msg : "");
	json_decref(j);
}

/* GET path with auth retry. */
static int reg_get(struct reg_client *c, CURL *h, const char *path, const char *accept,
		   size_t max, struct reg_buf *body, struct reg_headers *hd, struct sn_err *err)
{
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "%s%s", c->base, path) < 0)
		return sn_err_set(err, ENOMEM, "registry");
	for (int attempt = 0; attempt < 3; attempt++) {
		free(body->data);
		*body = (struct reg_buf){ .max = max };
		reg_headers_free(hd);
		long status = 0;
		int r = reg_simple_get(c, h, url, c->auth_header, accept, body, &status, hd, err);
		if (r < 0)
			return sn_err_wrap(err, "registry %s", c->ref.registry);
		if (status == 200)
			return 0;
		if (status == 401 && attempt < 2) {
			r = auth_handle_challenge(c, hd->www_authenticate, err);
			if (r < 0)
				return r;
			continue;
		}
		char et[512];
		registry_error_text(body, et, sizeof(et));
		int e = status == 404 ? ENOENT : status == 401 || status == 403 ? EACCES : EPROTO;
		return sn_err_msg(err, e, "registry %s: GET %s: HTTP %ld%s", c->ref.registry, path, status,
				  et);
	}
	return sn_err_msg(err, EACCES, "registry %s: GET %s: still unauthorized after auth",
			  c->ref.registry, path);
}

static int fetch_manifest(struct reg_client *c, CURL *h, const char *refpart, const char *expect,
			  struct blob_stage *st, json_t **out, char digest[IMAGE_DIGEST_SIZE],
			  char **media_type, struct sn_err *err)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "/v2/%s/manifests/%s", c->ref.repository, refpart) < 0)
		return sn_err_set(err, ENOMEM, "registry");
	struct reg_buf b = { 0 };
	struct reg_headers hd = { 0 };
	int r = reg_get(c, h, path, ACCEPT_MANIFESTS, IMAGE_MANIFEST_MAX, &b, &hd, err);
	if (r < 0)
		goto out;
	char hex[SN_SHA256_HEX_LEN + 1];
	r = sn_sha256_hex(b.data ? b.data : "", b.len, hex, err);
	if (r < 0)
		goto out;
	snprintf(digest, IMAGE_DIGEST_SIZE, "sha256:%s", hex);
	const char *want = expect ? expect : hd.docker_digest;
	if (want && strcmp(want, digest) != 0) {
		r = sn_err_msg(err, EBADMSG, "manifest %s: digest mismatch: content is %s", want, digest);
		goto out;
	}
	r = sn_json_loadb(b.data ? b.data : "", b.len, path, out, err);
	if (r < 0)
		goto out;
	const char *mt = json_string_value(json_object_get(*out, "mediaType"));
	if (!mt && hd.content_type)
		mt = hd.content_type;
	if (!mt || (!media_type_is_manifest(mt) && !media_type_is_index(mt))) {
		r = sn_err_msg(err, EMEDIUMTYPE, "manifest %s: unsupported media type `%s`%s", digest,
			       mt ? mt : "(none)",
			       mt && strstr(mt, "v1+") ? " (schema 1 is not supported)" : "");
		json_decref(*out);
		*out = NULL;
		goto out;
	}
	*media_type = strdup(mt);
	if (st && !media_type_is_index(mt))
		r = stage_buf(c->s, st, b.data, b.len, digest, NULL, err);
out:
	free(b.data);
	reg_headers_free(&hd);
	return r;
}

/* ---- parallel layer downloads */
struct dl {
	struct reg_client *c;
	CURL *h;
	struct curl_slist *hl;
	const struct image_layer *l;
	unsigned idx, cnt;
	int fd;
	char *path;
	struct sn_sha256 *hash;
	uint64_t have, last_report;
	int tries;
	bool checked_status, complete, failed, need_auth;
	char ebuf[CURL_ERROR_SIZE];
	struct sn_err err;
};

static size_t dl_write(char *p, size_t sz, size_t n, void *ud)
{
	struct dl *d = ud;
	size_t len = sz * n;
	if (!d->checked_status) {
		long st = 0;
		curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &st);
		d->checked_status = true;
		if (st == 401) {
			d->need_auth = true;
			return 0;
		}
		if (st != 200 && st != 206) {
			sn_err_msg(&d->err, st == 404 ? ENOENT : EPROTO, "HTTP %ld", st);
			d->failed = true;
			return 0;
		}
		if (st == 200 && d->have > 0) {
			/* Range ignored: start over. */
			if (ftruncate(d->fd, 0) < 0 || lseek(d->fd, 0, SEEK_SET) < 0)
				return 0;
			sn_sha256_free(d->hash);
			d->hash = NULL;
			if (sn_sha256_new(&d->hash, &d->err) < 0)
				return 0;
			d->have = 0;
		}
	}
	if (d->have + len > d->l->size) {
		sn_err_msg(&d->err, EFBIG, "more bytes than the manifest's %llu",
			   (unsigned long long)d->l->size);
		d->failed = true;
		return 0;
	}
	if (sn_write_all(d->fd, p, len) < 0 || sn_sha256_update(d->hash, p, len, &d->err) < 0) {
		sn_err_sys(&d->err, "write `%s`", d->path);
		d->failed = true;
		return 0;
	}
	d->have += len;
	if (d->have - d->last_report >= (256u << 10) || d->have == d->l->size) {
		d->last_report = d->have;
		progress_emit(d->c->o->progress, d->c->o->progress_data, IMAGE_PROGRESS_DATA, "layer",
			      d->l->digest, d->have, d->l->size, d->idx, d->cnt);
	}
	return len;
}

static int dl_start(struct dl *d, CURLM *m)
{
	struct reg_client *c = d->c;
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "%s/v2/%s/blobs/%s", c->base, c->ref.repository, d->l->digest) < 0)
		return sn_err_set(&d->err, ENOMEM, "download");
	if (!d->h)
		d->h = curl_easy_init();
	if (!d->h)
		return sn_err_set(&d->err, ENOMEM, "download");
	curl_easy_reset(d->h);
	reg_setup_handle(c, d->h);
	curl_slist_free_all(d->hl);
	d->hl = c->auth_header ? curl_slist_append(NULL, c->auth_header) : NULL;
	curl_easy_setopt(d->h, CURLOPT_URL, url);
	curl_easy_setopt(d->h, CURLOPT_HTTPHEADER, d->hl);
	curl_easy_setopt(d->h, CURLOPT_WRITEFUNCTION, dl_write);
	curl_easy_setopt(d->h, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(d->h, CURLOPT_ERRORBUFFER, d->ebuf);
	curl_easy_setopt(d->h, CURLOPT_PRIVATE, d);
	char range[64];
	if (d->have > 0) {
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)d->have);
		curl_easy_setopt(d->h, CURLOPT_RANGE, range);
	}
	d->checked_status = false;
	d->need_auth = false;
	d->ebuf[0] = '\0';
	d->tries++;
	if (curl_multi_add_handle(m, d->h) != CURLM_OK)
		return sn_err_msg(&d->err, EIO, "curl_multi_add_handle failed");
	return 0;
}

/* Open/lock partial/<hex>, re-hash what is there. 1 = blob appeared meanwhile. */
static int dl_prepare(struct dl *d)
{
	struct image_store *s = d->c->s;
	if (asprintf(&d->path, "%s/partial/%s", image_store_root(s), d->l->digest + 7) < 0)
		return sn_err_set(&d->err, ENOMEM, "download");
	d->fd = open(d->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->fd < 0)
		return sn_err_sys(&d->err, "open `%s`", d->path);
	if (flock(d->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return sn_err_sys(&d->err, "lock `%s`", d->path);
		while (flock(d->fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return sn_err_sys(&d->err, "lock `%s`", d->path);
		if (image_store_has_blob(s, d->l->digest))
			return 1;
		/* The other pull may have renamed it away: reopen. */
		close(d->fd);
		d->fd = open(d->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (d->fd < 0 || flock(d->fd, LOCK_EX) < 0)
			return sn_err_sys(&d->err, "open `%s`", d->path);
	}
	if (sn_sha256_new(&d->hash, &d->err) < 0)
		return -EIO;
	struct stat st;
	if (fstat(d->fd, &st) < 0)
		return sn_err_sys(&d->err, "stat `%s`", d->path);
	if ((uint64_t)st.st_size > d->l->size) {
		if (ftruncate(d->fd, 0) < 0)
			return sn_err_sys(&d->err, "truncate `%s`", d->path);
		return 0;
	}
	_cleanup_free_ char *buf = malloc(STORE_IO_BUF);
	if (!buf)
		return sn_err_set(&d->err, ENOMEM, "resume `%s`", d->path);
	for (;;) {
		ssize_t n = read(d->fd, buf, STORE_IO_BUF);
		if (n < 0)
			return sn_err_sys(&d->err, "read `%s`", d->path);
		if (n == 0)
			break;
		if (sn_sha256_update(d->hash, buf, (size_t)n, &d->err) < 0)
			return -EIO;
		d->have += (uint64_t)n;
	}
	return 0;
}

/* Check the finished download; leave it complete in partial/. */
static int dl_finish(struct dl *d)
{
	if (d->have != d->l->size)
		return sn_err_msg(&d->err, EIO, "got %llu of %llu bytes", (unsigned long long)d->have,
				  (unsigned long long)d->l->size);
	char hex[SN_SHA256_HEX_LEN + 1];
	if (sn_sha256_final_hex(d->hash, hex, &d->err) < 0)
		return -EIO;
	if (strcmp(hex, d->l->digest + 7) != 0) {
		if (ftruncate(d->fd, 0) < 0) { /* nothing to resume from */ }
		unlink(d->path);
		return sn_err_msg(&d->err, EBADMSG, "digest mismatch: content is sha256:%s", hex);
	}
	if (fsync(d->fd) < 0)
		return sn_err_sys(&d->err, "fsync `%s`", d->path);
	d->complete = true;
	return 0;
}

static void dl_release(struct dl *d)
{
	if (d->h)
		curl_easy_cleanup(d->h);
	curl_slist_free_all(d->hl);
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	sn_sha256_free(d->hash);
}

static int download_layers(struct reg_client *c, const struct image *img, struct sn_err *err)
{
	size_t n = img->n_layers;
	struct dl *dls = calloc(n ? n : 1, sizeof(*dls));
	if (!dls)
		return sn_err_set(err, ENOMEM, "download");
	CURLM *m = curl_multi_init();
	unsigned par = c->o->parallel ? c->o->parallel : 4;
	int r = 0;
	size_t next = 0, active = 0;
	for (size_t i = 0; i < n; i++) {
		dls[i].c = c;
		dls[i].l = &img->layers[i];
		dls[i].idx = (unsigned)i;
		dls[i].cnt = (unsigned)n;
		dls[i].fd = -1;
	}
	for (;;) {
		/* Start what we may. */
		while (r == 0 && next < n && active < par) {
			struct dl *d = &dls[next++];
			bool dup = false;
			for (size_t k = 0; k + 1 < next; k++)
				if (strcmp(img->layers[k].digest, d->l->digest) == 0)
					dup = true;
			if (dup || image_store_has_blob(c->s, d->l->digest)) {
				progress_emit(c->o->progress, c->o->progress_data, IMAGE_PROGRESS_EXISTS, "layer",
					      d->l->digest, d->l->size, d->l->size, d->idx, d->cnt);
				d->l = NULL;
				continue;
			}
			int pr = dl_prepare(d);
			if (pr == 1) {
				progress_emit(c->o->progress, c->o->progress_data, IMAGE_PROGRESS_EXISTS, "layer",
					      d->l->digest, d->l->size, d->l->size, d->idx, d->cnt);
				d->l = NULL;
				continue;
			}
			if (pr < 0) {
				*err = d->err;
				r = sn_err_wrap(err, "layer %s", d->l->digest);
				break;
			}
			if (d->have == d->l->size) {
				if (dl_finish(d) < 0) {
					*err = d->err;
					r = sn_err_wrap(err, "layer %s", d->l->digest);
				}
				continue;
			}
			progress_emit(c->o->progress, c->o->progress_data,
				      d->have ? IMAGE_PROGRESS_RESUME : IMAGE_PROGRESS_START, "layer",
				      d->l->digest, d->have, d->l->size, d->idx, d->cnt);
			if (dl_start(d, m) < 0) {
				*err = d->err;
				r = sn_err_wrap(err, "layer %s", d->l->digest);
				break;
			}
			active++;
		}
		if (active == 0)
			break;
		int running = 0;
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			r = sn_err_msg(err, EIO, "curl_multi_perform failed");
			break;
		}
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct dl *d = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
			CURLcode cc = msg->data.result;
			curl_multi_remove_handle(m, d->h);
			active--;
			if (r < 0)
				continue;
			if (d->need_auth) {
				struct reg_headers hd = { 0 };
				/* Re-run the challenge on a HEAD-less GET of the manifest. */
				struct reg_buf b = { 0 };
				_cleanup_free_ char *p = NULL;
				if (asprintf(&p, "/v2/%s/blobs/%s", c->ref.repository, d->l->digest) < 0 ||
				    d->tries > 3) {
					r = sn_err_msg(err, EACCES, "layer %s: unauthorized", d->l->digest);
				} else {
					free(c->auth_header);
					c->auth_header = NULL;
					CURL *h = curl_easy_init();
					long st = 0;
					_cleanup_free_ char *url = NULL;
					if (h && asprintf(&url, "%s%s", c->base, p) >= 0 &&
					    reg_simple_get(c, h, url, NULL, NULL, &(struct reg_buf){ .max = 0 }, &st,
							   &hd, err) == 0 && st == 401)
						r = auth_handle_challenge(c, hd.www_authenticate, err);
					if (h)
						curl_easy_cleanup(h);
					if (r == 0 && dl_start(d, m) == 0)
						active++;
				}
				free(b.data);
				reg_headers_free(&hd);
				continue;
			}
			if (d->failed || (cc != CURLE_OK && d->tries >= 4)) {
				if (!d->failed)
					sn_err_msg(&d->err, cc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO,
						   "%s%s", cc == CURLE_OPERATION_TIMEDOUT ? "timed out: " : "",
						   d->ebuf[0] ? d->ebuf : curl_easy_strerror(cc));
				*err = d->err;
				r = sn_err_wrap(err, "registry %s: layer %s", c->ref.registry, d->l->digest);
				continue;
			}
			if (cc != CURLE_OK) {
				/* Broken transfer: resume from what we have. */
				progress_emit(c->o->progress, c->o->progress_data, IMAGE_PROGRESS_RESUME, "layer",
					      d->l->digest, d->have, d->l->size, d->idx, d->cnt);
				if (dl_start(d, m) == 0)
					active++;
				else {
					*err = d->err;
					r = sn_err_wrap(err, "layer %s", d->l->digest);
				}
				continue;
			}
			if (dl_finish(d) < 0) {
				*err = d->err;
				r = sn_err_wrap(err, "registry %s: layer %s", c->ref.registry, d->l->digest);
				continue;
			}
			progress_emit(c->o->progress, c->o->progress_data, IMAGE_PROGRESS_DONE, "layer",
				      d->l->digest, d->have, d->l->size, d->idx, d->cnt);
		}
		if (r < 0 && active == 0)
			break;
		if (active > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) {
			r = sn_err_msg(err, EIO, "curl_multi_poll failed");
			break;
		}
	}
	/* Commit verified layers into blobs/ only if all went well. */
	for (size_t i = 0; i < n; i++) {
		struct dl *d = &dls[i];
		if (r == 0 && d->l && d->complete) {
			_cleanup_free_ char *dst = image_store_blob_path(c->s, d->l->digest);
			if (fchmod(d->fd, 0644) < 0 || !dst || rename(d->path, dst) < 0) {
				if (!(errno == ENOENT && image_store_has_blob(c->s, d->l->digest)))
					r = sn_err_sys(err, "commit layer %s", d->l->digest);
			}
		}
		if (d->h)
			curl_multi_remove_handle(m, d->h);
		dl_release(d);
	}
	curl_multi_cleanup(m);
	free(dls);
	return r;
}

static bool host_is_loopback(const char *reg)
{
	char host[256];
	snprintf(host, sizeof(host), "%s", reg);
	if (host[0] == '[') {
		char *e = strchr(host, ']');
		if (e)
			*e = '\0';
		return strcmp(host + 1, "::1") == 0;
	}
	char *colon = strchr(host, ':');
	if (colon)
		*colon = '\0';
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0;
}

int image_pull(struct image_store *s, const char *refstr, const struct image_pull_opts *o,
	       char out[IMAGE_DIGEST_SIZE], struct sn_err *err)
{
	static const struct image_pull_opts none = { 0 };
	if (!o)
		o = &none;
	pthread_once(&curl_once, curl_init_once);
	struct reg_client c = { .s = s, .o = o, .timeout_s = o->timeout_s > 0 ? o->timeout_s : 30 };
	int r = image_ref_parse(refstr, &c.ref, err);
	if (r < 0)
		return r;
	const char *host = strcmp(c.ref.registry, "docker.io") == 0 ? "registry-1.docker.io"
								     : c.ref.registry;
	bool plain = (o->insecure || host_is_loopback(host)) && !o->ca_file;
	if (asprintf(&c.base, "%s://%s", plain ? "http" : "https", host) < 0) {
		image_ref_free(&c.ref);
		return sn_err_set(err, ENOMEM, "pull");
	}
	_cleanup_unlock_ int lk = -1;
	CURL *h = curl_easy_init();
	struct blob_stage st = { 0 };
	json_t *m = NULL;
	struct image *img = NULL;
	_cleanup_free_ char *mt = NULL;
	char mdigest[IMAGE_DIGEST_SIZE];
	char cdigest[IMAGE_DIGEST_SIZE];
	if (!h) {
		r = sn_err_set(err, ENOMEM, "pull");
		goto out;
	}
	r = store_lock(s, "gc.lock", LOCK_SH, &lk, err);
	if (r < 0)
		goto out;
	r = fetch_manifest(&c, h, c.ref.digest ? c.ref.digest : c.ref.tag, c.ref.digest, &st, &m,
			   mdigest, &mt, err);
	if (r < 0)
		goto out;
	if (media_type_is_index(mt)) {
		json_t *pick = index_select_platform(m, o->platform, mdigest, err);
		const char *pd = NULL, *pmt = NULL;
		if (!pick || descriptor_parse(pick, "manifests[]", &pmt, &pd, NULL, err) < 0) {
			r = -(err->code ? err->code : EINVAL);
			goto out;
		}
		char pdigest[IMAGE_DIGEST_SIZE];
		snprintf(pdigest, sizeof(pdigest), "%s", pd);
		json_decref(m);
		m = NULL;
		free(mt);
		mt = NULL;
		r = fetch_manifest(&c, h, pdigest, pdigest, &st, &m, mdigest, &mt, err);
		if (r < 0)
			goto out;
		if (media_type_is_index(mt)) {
			r = sn_err_msg(err, EMEDIUMTYPE, "manifest %s: an index inside an index", mdigest);
			goto out;
		}
	}
	/* Config. */
	const char *cd = NULL, *cmt = NULL;
	uint64_t csize = 0;
	r = descriptor_parse(json_object_get(m, "config"), "config", &cmt, &cd, &csize, err);
	if (r < 0)
		goto out;
	snprintf(cdigest, sizeof(cdigest), "%s", cd);
	if (csize > IMAGE_MANIFEST_MAX) {
		r = sn_err_msg(err, EFBIG, "config %s: %llu bytes is too big", cdigest,
			       (unsigned long long)csize);
		goto out;
	}
	if (!image_store_has_blob(s, cdigest)) {
		_cleanup_free_ char *p = NULL;
		struct reg_buf b = { 0 };
		struct reg_headers hd = { 0 };
		if (asprintf(&p, "/v2/%s/blobs/%s", c.ref.repository, cdigest) < 0) {
			r = sn_err_set(err, ENOMEM, "pull");
			goto out;
		}
		r = reg_get(&c, h, p, NULL, IMAGE_MANIFEST_MAX, &b, &hd, err);
		if (r == 0)
			r = stage_buf(s, &st, b.data ? b.data : "", b.len, cdigest, NULL, err);
		free(b.data);
		reg_headers_free(&hd);
		if (r < 0)
			goto out;
		progress_emit(o->progress, o->progress_data, IMAGE_PROGRESS_DONE, "config", cdigest,
			      csize, csize, 0, 0);
	}
	/* The image is checked from the staged manifest and config; they go
	 * into blobs/ after the layers, so a pull that fails or is killed
	 * leaves no manifest behind (completed layers are kept: verified,
	 * and the next pull need not fetch them again). */
	r = image_from_manifest_staged(s, &st, mdigest, &img, err);
	if (r == 0)
		r = download_layers(&c, img, err);
	if (r == 0)
		r = stage_commit(s, &st, false, err);
	if (r == 0) {
		char *name = NULL;
		if (c.ref.tag) {
			free(c.ref.digest);
			c.ref.digest = NULL;
			name = image_ref_string(&c.ref);
		}
		r = image_index_add(s, name, mdigest, err);
		free(name);
	}
	if (r < 0) {
		stage_uncommit(s, &st);
		goto out;
	}
	if (out)
		snprintf(out, IMAGE_DIGEST_SIZE, "%s", mdigest);
out:
	stage_free(&st);
	image_free(img);
	if (m)
		json_decref(m);
	if (h)
		curl_easy_cleanup(h);
	free(c.base);
	free(c.auth_header);
	image_ref_free(&c.ref);
	return r < 0 ? sn_err_wrap(err, "pull `%s`", refstr) : 0;
}
