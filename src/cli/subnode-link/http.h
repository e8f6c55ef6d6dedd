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

#endif
