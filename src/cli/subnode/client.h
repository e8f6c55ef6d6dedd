/* client.h — the CLI's HTTP client to subnoded (libcurl; a unix socket via
 * CURLOPT_UNIX_SOCKET_PATH, or TCP with a bearer token). */
#ifndef SN_CLI_CLIENT_H
#define SN_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
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

/* POST the content of fd (a file: its size is sent; a pipe: chunked) as the
 * body (application/x-tar); *body gets the reply (malloc'ed). */
int client_upload(struct client *c, const char *path, int fd, long *status, char **body,
		  size_t *len, struct sn_err *err);

/* URL-escape s into a malloc'ed string. */
char *client_escape(const char *s);

#endif
