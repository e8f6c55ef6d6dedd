/* http.h — the two HTTP peers of subnode-link, through libcurl: the
 * manager (HTTP on TCP, a bearer token) and the node daemon (its API on a
 * unix socket). One handle per peer per thread; bodies are JSON. */
#ifndef SN_LINK_HTTP_H
#define SN_LINK_HTTP_H

#include <curl/curl.h>
#include <jansson.h>
#include "base/err.h"

struct peer {
	CURL *h;
	const char *base;        /* http://host:port, or http://node for a socket */
	const char *unix_path;   /* NULL for TCP */
	const char *token;       /* bearer; NULL for none */
};

int peer_init(struct peer *p, const char *base, const char *unix_path, struct sn_err *err);
void peer_free(struct peer *p);
/* method path [body] → *status and *out (parsed JSON when the reply is
 * JSON, else NULL). timeout_s bounds the whole exchange. A transport
 * failure (refused, timed out) is -EHOSTUNREACH with the reason. */
int peer_call(struct peer *p, const char *method, const char *path, json_t *body,
	      long timeout_s, long *status, json_t **out, struct sn_err *err);

/* A stream: the body read from in_fd (chunked; -1: none), the reply's
 * body written to out_fd (-1: kept for the error message only). The
 * status as peer_call. */
int peer_stream(struct peer *p, const char *method, const char *path, int in_fd, int out_fd,
		long timeout_s, long *status, struct sn_err *err);

#endif
