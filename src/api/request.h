/* request.h — reading an HTTP request on libmicrohttpd: query arguments,
 * the bearer token, the body collected up to a limit (see request.c). */
#ifndef SN_API_REQUEST_H
#define SN_API_REQUEST_H

#include "base/err.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* The query argument k, NULL when absent. */
const char *api_arg(struct MHD_Connection *c, const char *k);
/* k present as "1", "true" (any case) or empty ("?all"). */
bool api_arg_bool(struct MHD_Connection *c, const char *k);
/* k as a number >= 0; -1 absent, -2 malformed. */
long api_arg_long(struct MHD_Connection *c, const char *k);
/* k as a JSON object (Docker's filters=); *out NULL when absent or empty;
 * -EINVAL naming k when it is not JSON or not an object. */
int api_arg_json_object(struct MHD_Connection *c, const char *k, json_t **out, struct sn_err *e);

/* Does c carry "Authorization: Bearer <token>"? Compared in constant time;
 * token NULL: nothing needed. */
bool api_bearer_ok(struct MHD_Connection *c, const char *token);
/* 401 with WWW-Authenticate: Bearer. */
enum MHD_Result api_send_unauthorized(struct MHD_Connection *c);

/* A request body collected from the access handler's upload calls. */
struct api_body {
	char *data;      /* NUL-terminated; NULL while empty */
	size_t len;
	bool too_big;    /* more than max came: the rest is dropped */
};
/* Append n bytes of data; past max bytes in all, set too_big and keep
 * nothing more. -ENOMEM. */
int api_body_append(struct api_body *b, size_t max, const char *data, size_t n);
void api_body_free(struct api_body *b);

#endif
