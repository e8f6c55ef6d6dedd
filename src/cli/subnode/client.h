/* client.h — the CLI's HTTP client to subnoded (libcurl; a unix socket via
 * CURLOPT_UNIX_SOCKET_PATH, or TCP/TLS with a bearer token). */
#ifndef SN_CLI_CLIENT_H
#define SN_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/err.h"

/* Exit codes the CLI uses (documented in docs/NODE.md). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_RUN_FAIL = 125 };

struct client {
	char *unix_path;   /* unix://PATH */
	char *base;        /* "http://localhost" or "http://host:port" */
	char *token;       /* bearer, TCP only */
	char *ca;          /* CA bundle for https:// (NULL: the system's) */
};

int client_init(struct client *c, const char *host, const char *token, const char *ca,
		struct sn_err *err);
void client_free(struct client *c);

/* A request with an optional JSON body; *status gets the HTTP status and
 * *out the parsed JSON body (NULL when empty or not JSON). A status >= 400
 * is an error whose message is the daemon's {"message"}. -ECONNREFUSED /
 * -ENOENT when the daemon cannot be reached. */
int client_call(struct client *c, const char *method, const char *path, json_t *body,
		long *status, json_t **out, struct sn_err *err);

/* Streaming: data is handed to fn as it arrives; fn returns false to stop. */
typedef bool (*client_stream_fn)(const char *data, size_t len, void *arg);
int client_stream(struct client *c, const char *method, const char *path, client_stream_fn fn,
		  void *arg, long *status, struct sn_err *err);

/* A raw connection to the daemon (unix, TCP or TLS as -H says, with the
 * same CA), for an HTTP upgrade: the caller writes the request and reads
 * the answer itself. fd is for poll(2) and shutdown(SHUT_WR) (the end of
 * stdin: a TCP half-close also under TLS, as Docker's client does). Data
 * may wait in the TLS layer: after POLLIN, receive until -EAGAIN. */
struct client_raw {
	void *h;   /* CURL * */
	int fd;
};
int client_raw_open(struct client *c, struct client_raw *r, struct sn_err *err);
/* > 0 bytes, 0 at the end (or an error), -EAGAIN when nothing is there yet. */
ssize_t client_raw_recv(struct client_raw *r, void *buf, size_t len);
bool client_raw_send_all(struct client_raw *r, const void *p, size_t n);
void client_raw_close(struct client_raw *r);

/* POST the content of fd (a file: its size is sent; a pipe: chunked) as the
 * body (application/x-tar); *body gets the reply (malloc'ed). */
int client_upload(struct client *c, const char *path, int fd, long *status, char **body,
		  size_t *len, struct sn_err *err);

/* URL-escape s into a malloc'ed string. */
char *client_escape(const char *s);

#endif
