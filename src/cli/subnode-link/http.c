/* http.c — libcurl calls of subnode-link (http.h). */
#include "http.h"
#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int peer_init(struct peer *p, const char *base, const char *unix_path, struct sn_err *err)
{
	memset(p, 0, sizeof(*p));
	p->h = curl_easy_init();
	if (!p->h)
		return sn_err_msg(err, ENOMEM, "curl: no handle");
	p->base = base;
	p->unix_path = unix_path;
	return 0;
}

void peer_free(struct peer *p)
{
	if (p->h)
		curl_easy_cleanup(p->h);
	p->h = NULL;
}

struct buf {
	char *d;
	size_t n;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t add = size * nmemb;
	if (b->n + add > (16u << 20))
		return 0;
	char *g = realloc(b->d, b->n + add + 1);
	if (!g)
		return 0;
	memcpy(g + b->n, ptr, add);
	b->d = g;
	b->n += add;
	b->d[b->n] = 0;
	return add;
}

/* The handle reset for METHOD base+PATH, with the headers (Content-Type
 * ctype, the bearer token) in *hdr and the URL in url. */
static CURL *prepare(struct peer *p, const char *method, const char *path, const char *ctype,
		     long timeout_s, struct curl_slist **hdr, char url[2048])
{
	char auth[300];
	snprintf(url, 2048, "%s%s", p->base, path);
	char ct[100];
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
	*hdr = curl_slist_append(NULL, ct);
	if (p->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->token);
		*hdr = curl_slist_append(*hdr, auth);
	}
	CURL *h = p->h;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 3L);
	if (p->unix_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, p->unix_path);
	return h;
}

/* After the transfer: *status, and for a status ≥ 300 the error message
 * (the body's "message", else the body). -EHOSTUNREACH when no answer. */
static int finish(CURL *h, CURLcode rc, struct curl_slist *hdr, const char *method,
		  const char *url, const struct buf *b, long *status, struct sn_err *err)
{
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK)
		return sn_err_msg(err, EHOSTUNREACH, "%s %s: %s", method, url, curl_easy_strerror(rc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 300) {
		json_t *j = b->d ? json_loadb(b->d, b->n, 0, NULL) : NULL;
		const char *m = json_string_value(json_object_get(j, "message"));
		sn_err_msg(err, EIO, "%s %s: %ld %s", method, url, *status, m ? m : b->d ? b->d : "");
		json_decref(j);
	}
	return 0;
}

int peer_call(struct peer *p, const char *method, const char *path, json_t *body,
	      long timeout_s, long *status, json_t **out, struct sn_err *err)
{
	char url[2048];
	struct curl_slist *hdr;
	CURL *h = prepare(p, method, path, "application/json", timeout_s, &hdr, url);
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct buf b = { 0 };
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (text) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	int r = finish(h, curl_easy_perform(h), hdr, method, url, &b, status, err);
	if (r == 0 && out)
		*out = b.d ? json_loadb(b.d, b.n, 0, NULL) : NULL;
	free(b.d);
	return r;
}

static size_t to_fd(char *ptr, size_t size, size_t nmemb, void *ud)
{
	return sn_write_all(*(int *)ud, ptr, size * nmemb) < 0 ? 0 : size * nmemb;
}

static size_t from_fd(char *ptr, size_t size, size_t nmemb, void *ud)
{
	ssize_t n = SN_RETRY_EINTR(read(*(int *)ud, ptr, size * nmemb));
	return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

int peer_stream(struct peer *p, const char *method, const char *path, int in_fd, int out_fd,
		long timeout_s, long *status, struct sn_err *err)
{
	char url[2048];
	struct curl_slist *hdr;
	CURL *h = prepare(p, method, path, "application/x-tar", timeout_s, &hdr, url);
	struct buf b = { 0 };
	if (out_fd >= 0) {
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_fd);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &out_fd);
	} else {
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	}
	if (in_fd >= 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);   /* chunked: the size is the stream's */
		curl_easy_setopt(h, CURLOPT_READFUNCTION, from_fd);
		curl_easy_setopt(h, CURLOPT_READDATA, &in_fd);
	}
	int r = finish(h, curl_easy_perform(h), hdr, method, url, &b, status, err);
	free(b.d);
	return r;
}
