/* http.c — libcurl calls of subnode-link (http.h). */
#include "http.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

int peer_call(struct peer *p, const char *method, const char *path, json_t *body,
	      long timeout_s, long *status, json_t **out, struct sn_err *err)
{
	char url[2048], auth[300];
	snprintf(url, sizeof(url), "%s%s", p->base, path);
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct buf b = { 0 };
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (p->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->token);
		hdr = curl_slist_append(hdr, auth);
	}
	CURL *h = p->h;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 3L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	if (p->unix_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, p->unix_path);
	if (text) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	CURLcode rc = curl_easy_perform(h);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		free(b.d);
		return sn_err_msg(err, EHOSTUNREACH, "%s %s: %s", method, url, curl_easy_strerror(rc));
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (out) {
		*out = b.d ? json_loadb(b.d, b.n, 0, NULL) : NULL;
	}
	if (*status >= 300 && b.d) {
		json_t *j = json_loadb(b.d, b.n, 0, NULL);
		const char *m = json_string_value(json_object_get(j, "message"));
		sn_err_msg(err, EIO, "%s %s: %ld %s", method, path, *status, m ? m : b.d);
		json_decref(j);
	} else if (*status >= 300) {
		sn_err_msg(err, EIO, "%s %s: %ld", method, path, *status);
	}
	free(b.d);
	return 0;
}
