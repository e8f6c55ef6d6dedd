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

/* What a route takes in its query: each argument's name and type. */
enum api_arg_type {
	API_ARG_STR,    /* any text; the handler checks it */
	API_ARG_BOOL,   /* "", 1, 0, true, false (any case) */
	API_ARG_UINT,   /* digits only, fitting 64 bits */
};
struct api_arg_spec {
	const char *name;   /* NULL ends a list */
	enum api_arg_type type;
};
/* Every query argument of c is one that specs lists, of its type, and
 * given once: else -EINVAL naming the first that is not. */
int api_args_check(struct MHD_Connection *c, const struct api_arg_spec *specs, struct sn_err *e);
/* A filters= object (Docker's) whose keys are all in keys (NULL-ended)
 * and whose values are an array of strings or an object of string: true;
 * -EINVAL naming the key otherwise. filters NULL: fine. */
int api_filters_check(json_t *filters, const char *const *keys, struct sn_err *e);

/* Does c carry "Authorization: Bearer <token>"? Compared in constant time;
 * token NULL: nothing needed. */
bool api_bearer_ok(struct MHD_Connection *c, const char *token);
/* The request's bearer token (after "Bearer "), or NULL. */
const char *api_bearer(struct MHD_Connection *c);
/* given == want, in time that depends on want's length only. */
bool api_token_eq(const char *given, const char *want);
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
