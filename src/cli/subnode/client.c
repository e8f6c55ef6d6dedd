/* client.c — see client.h. One curl easy handle a call: the CLI makes few
 * calls, and a fresh handle keeps the code free of shared state. */
#include "client.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int client_init(struct client *c, const char *host, const char *token, const char *ca,
		struct sn_err *err)
{
	memset(c, 0, sizeof(*c));
	if (!host || !*host)
		host = "unix:///run/subnode/subnoded.sock";
	if (strncmp(host, "unix://", 7) == 0) {
		c->unix_path = strdup(host + 7);
		c->base = strdup("http://localhost");
	} else if (strncmp(host, "tcp://", 6) == 0) {
		if (asprintf(&c->base, "http://%s", host + 6) < 0)
			c->base = NULL;
	} else if (strncmp(host, "http://", 7) == 0 || strncmp(host, "https://", 8) == 0) {
		c->base = strdup(host);
	} else if (host[0] == '/') {
		c->unix_path = strdup(host);
		c->base = strdup("http://localhost");
	} else {
		return sn_err_msg(err, EINVAL, "host `%s`: use unix:///path or tcp://host:port", host);
	}
	if (!c->base || (strncmp(host, "unix://", 7) == 0 && !c->unix_path))
		return sn_err_set(err, ENOMEM, "client");
	if ((token && *token && !(c->token = strdup(token))) || (ca && *ca && !(c->ca = strdup(ca))))
		return sn_err_set(err, ENOMEM, "client");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

void client_free(struct client *c)
{
	free(c->unix_path);
	free(c->base);
	free(c->token);
	free(c->ca);
	curl_global_cleanup();
	memset(c, 0, sizeof(*c));
}

char *client_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r = e ? strdup(e) : NULL;
	curl_free(e);
	return r;
}

struct sink {
	FILE *f;               /* buffering */
	client_stream_fn fn;   /* or streaming */
	void *arg;
	long status;
	CURL *h;
	char *errbuf; size_t errlen; FILE *ef;  /* error bodies are buffered */
	int upload_fd;         /* > 0: the request body comes from this fd */
	long long upload_size; /* its size; -1: unknown (sent chunked) */
};

static size_t on_read(char *p, size_t size, size_t n, void *userdata)
{
	struct sink *s = userdata;
	for (;;) {
		ssize_t r = read(s->upload_fd, p, size * n);
		if (r >= 0)
			return (size_t)r;
		if (errno != EINTR)
			return CURL_READFUNC_ABORT;
	}
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata)
{
	struct sink *s = userdata;
	size_t len = size * n;
	if (!s->status)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->fn && s->status < 400)
		return s->fn(p, len, s->arg) ? len : 0;
	FILE *f = s->fn ? s->ef : s->f;
	return fwrite(p, 1, len, f);
}

/* A handle for base + path with what every call shares: the socket, the
 * CA, no signals, a connect timeout. */
static CURL *handle(struct client *c, const char *path)
{
	_cleanup_free_ char *url = NULL;
	CURL *h = asprintf(&url, "%s%s", c->base, path) < 0 ? NULL : curl_easy_init();
	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (c->unix_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	if (c->ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* Large buffers for streams (volume export/import, image loads):
	 * 16 KiB pieces cost a syscall and a write each. */
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L << 10);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 256L << 10);
	return h;
}

static int unreachable(struct client *c, struct sn_err *err)
{
	return sn_err_msg(err, ECONNREFUSED, "cannot connect to subnoded at %s: is the daemon "
			  "running? (set -H or SUBNODE_HOST)", c->unix_path ? c->unix_path : c->base);
}

static int perform(struct client *c, const char *method, const char *path, json_t *body,
		   struct sink *s, struct sn_err *err)
{
	CURL *h = handle(c, path);
	if (!h)
		return sn_err_set(err, ENOMEM, "curl");
	s->h = h;
	_cleanup_free_ char *txt = body ? sn_json_dump(body, false) : NULL;
	_cleanup_free_ char *auth = NULL;
	struct curl_slist *hdr = NULL;
	hdr = curl_slist_append(hdr, s->upload_fd > 0 ? "Content-Type: application/x-tar"
					      : "Content-Type: application/json");
	if (c->token && asprintf(&auth, "Authorization: Bearer %s", c->token) >= 0)
		hdr = curl_slist_append(hdr, auth);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	if (s->upload_fd > 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, s);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->upload_size);
	} else if (txt) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, txt);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	CURLcode rc = curl_easy_perform(h);
	if (!s->status)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s->status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return unreachable(c, err);
	if (rc == CURLE_WRITE_ERROR && s->fn)
		return 0;   /* the stream consumer stopped */
	if (rc != CURLE_OK)
		return sn_err_msg(err, EIO, "%s %s: %s", method, path, curl_easy_strerror(rc));
	return 0;
}

static int error_from(long status, const char *buf, size_t len, struct sn_err *err)
{
	json_t *j = len ? json_loadb(buf, len, 0, NULL) : NULL;
	const char *m = json_string_value(json_object_get(j, "message"));
	int e = status == 404 ? ENOENT : status == 409 ? EBUSY : status == 400 ? EINVAL :
		status == 401 || status == 403 ? EACCES : EIO;
	int r = sn_err_msg(err, e, "%s", m ? m : len ? buf : "request failed");
	json_decref(j);
	if (!m && !len)
		sn_err_msg(err, e, "request failed with HTTP status %ld", status);
	return r;
}

int client_call(struct client *c, const char *method, const char *path, json_t *body,
		long *status, json_t **out, struct sn_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct sink s = { .f = open_memstream(&buf, &len) };
	if (!s.f)
		return sn_err_set(err, ENOMEM, "client");
	int r = perform(c, method, path, body, &s, err);
	fclose(s.f);
	if (status)
		*status = s.status;
	if (out)
		*out = NULL;
	if (r == 0 && s.status >= 400)
		r = error_from(s.status, buf, len, err);
	else if (r == 0 && out && len)
		*out = json_loadb(buf, len, 0, NULL);
	free(buf);
	return r;
}

int client_stream(struct client *c, const char *method, const char *path, client_stream_fn fn,
		  void *arg, long *status, struct sn_err *err)
{
	char *ebuf = NULL;
	size_t elen = 0;
	struct sink s = { .fn = fn, .arg = arg, .ef = open_memstream(&ebuf, &elen) };
	if (!s.ef)
		return sn_err_set(err, ENOMEM, "client");
	int r = perform(c, method, path, NULL, &s, err);
	fclose(s.ef);
	if (status)
		*status = s.status;
	if (r == 0 && s.status >= 400)
		r = error_from(s.status, ebuf, elen, err);
	free(ebuf);
	return r;
}

int client_raw_open(struct client *c, struct client_raw *r, struct sn_err *err)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	CURL *h = handle(c, "/");
	if (!h)
		return sn_err_set(err, ENOMEM, "curl");
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	CURLcode rc = curl_easy_perform(h);
	curl_socket_t fd = CURL_SOCKET_BAD;
	if (rc == CURLE_OK)
		rc = curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &fd);
	if (rc != CURLE_OK || fd == CURL_SOCKET_BAD) {
		curl_easy_cleanup(h);
		if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
			return unreachable(c, err);
		return sn_err_msg(err, EIO, "connect to %s: %s", c->unix_path ? c->unix_path : c->base,
				  curl_easy_strerror(rc));
	}
	r->h = h;
	r->fd = fd;
	return 0;
}

ssize_t client_raw_recv(struct client_raw *r, void *buf, size_t len)
{
	size_t n = 0;
	CURLcode rc = curl_easy_recv(r->h, buf, len, &n);
	if (rc == CURLE_AGAIN)
		return -EAGAIN;
	return rc == CURLE_OK ? (ssize_t)n : 0;   /* an error ends the stream as EOF does */
}

bool client_raw_send_all(struct client_raw *r, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(r->h, c, n, &sent);
		if (rc == CURLE_AGAIN) {
			struct pollfd pf = { .fd = r->fd, .events = POLLOUT };
			if (poll(&pf, 1, -1) < 0 && errno != EINTR)
				return false;
			continue;
		}
		if (rc != CURLE_OK)
			return false;
		c += sent;
		n -= sent;
	}
	return true;
}

void client_raw_close(struct client_raw *r)
{
	if (r->h)
		curl_easy_cleanup(r->h);
	r->h = NULL;
	r->fd = -1;
}

int client_upload(struct client *c, const char *path, int fd, long *status, char **body,
		  size_t *len, struct sn_err *err)
{
	struct stat st;
	struct sink s = { .f = open_memstream(body, len), .upload_fd = fd, .upload_size = -1 };
	if (!s.f)
		return sn_err_set(err, ENOMEM, "client");
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		s.upload_size = (long long)st.st_size - lseek(fd, 0, SEEK_CUR);
	int r = perform(c, "POST", path, NULL, &s, err);
	fclose(s.f);
	if (status)
		*status = s.status;
	if (r == 0 && s.status >= 400)
		r = error_from(s.status, *body, *len, err);
	return r;
}
