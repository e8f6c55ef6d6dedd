/* request.c — what a handler reads from an HTTP request: query arguments
 * (typed, with "absent" told from "malformed" so the handler can name the
 * field in its 400), the bearer token of a TCP listener, and the body,
 * collected up to a limit so that a huge upload costs no memory. */
#include "request.h"
#include "base/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *api_arg(struct MHD_Connection *c, const char *k)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

bool api_arg_bool(struct MHD_Connection *c, const char *k)
{
	const char *v = api_arg(c, k);
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || (!*v));
}

long api_arg_long(struct MHD_Connection *c, const char *k)
{
	const char *v = api_arg(c, k);
	if (!v)
		return -1;
	char *end;
	long x = strtol(v, &end, 10);
	return *end || !*v || x < 0 ? -2 : x;
}

int api_arg_json_object(struct MHD_Connection *c, const char *k, json_t **out, struct sn_err *e)
{
	const char *f = api_arg(c, k);
	*out = NULL;
	if (!f || !*f)
		return 0;
	int r = sn_json_loadb(f, strlen(f), k, out, e);
	if (r < 0)
		return r;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return sn_err_msg(e, EINVAL, "%s: must be a JSON object", k);
	}
	return 0;
}

bool api_bearer_ok(struct MHD_Connection *c, const char *token)
{
	if (!token)
		return true;
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!v || strncasecmp(v, "Bearer ", 7) != 0)
		return false;
	const char *t = v + 7;
	size_t n = strlen(token);
	if (strlen(t) != n)
		return false;
	unsigned char d = 0;   /* constant time */
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(t[i] ^ token[i]);
	return d == 0;
}

enum MHD_Result api_send_unauthorized(struct MHD_Connection *c)
{
	static const char msg[] = "{\"message\":\"unauthorized: a valid bearer token is required\"}";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
								  MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return ret;
}

int api_body_append(struct api_body *b, size_t max, const char *data, size_t n)
{
	if (b->too_big || b->len + n > max) {
		b->too_big = true;
		return 0;
	}
	char *nb = realloc(b->data, b->len + n + 1);
	if (!nb)
		return -ENOMEM;
	b->data = nb;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

void api_body_free(struct api_body *b)
{
	free(b->data);
	*b = (struct api_body){ 0 };
}
