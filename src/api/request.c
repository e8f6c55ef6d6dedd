/* request.c — what a handler reads from an HTTP request: query arguments
 * (typed, with "absent" told from "malformed" so the handler can name the
 * field in its 400), the bearer token of a TCP listener, and the body,
 * collected up to a limit so that a huge upload costs no memory.
 *
 * A route lists the arguments it takes (api_args_check): one it does not
 * know, or one of the wrong type, is a 400 rather than silently ignored —
 * `start=yes` does not start, and a client's typo does not go unnoticed.
 * Filters are checked the same way. */
#include "request.h"
#include "base/parse.h"
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

static bool bool_ok(const char *v)
{
	return !*v || strcmp(v, "0") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
	       strcasecmp(v, "false") == 0;
}

static bool type_ok(enum api_arg_type t, const char *v)
{
	unsigned long long u;
	switch (t) {
	case API_ARG_STR: return true;
	case API_ARG_BOOL: return bool_ok(v);
	case API_ARG_UINT: return sn_parse_u64(v, &u) == 0;
	}
	return false;
}

static const char *const type_names[] = {
	[API_ARG_STR] = "text", [API_ARG_BOOL] = "a boolean (1, 0, true, false)",
	[API_ARG_UINT] = "a whole number",
};

struct args_check {
	const struct api_arg_spec *specs;
	unsigned seen;       /* a bit per spec */
	int r;
	struct sn_err *e;
};

static enum MHD_Result check_one(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct args_check *ck = cls;
	size_t i = 0;
	while (ck->specs[i].name && strcmp(ck->specs[i].name, k) != 0)
		i++;
	if (!ck->specs[i].name)
		ck->r = sn_err_msg(ck->e, EINVAL, "query argument `%s`: not one this route takes", k);
	else if (i < 32 && (ck->seen & (1u << i)))
		ck->r = sn_err_msg(ck->e, EINVAL, "query argument `%s`: given twice", k);
	else if (!type_ok(ck->specs[i].type, v ? v : ""))
		ck->r = sn_err_msg(ck->e, EINVAL, "query argument `%s`: must be %s", k,
				   type_names[ck->specs[i].type]);
	if (i < 32)
		ck->seen |= 1u << i;
	return ck->r < 0 ? MHD_NO : MHD_YES;
}

int api_args_check(struct MHD_Connection *c, const struct api_arg_spec *specs, struct sn_err *e)
{
	struct args_check ck = { .specs = specs, .e = e };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_one, &ck);
	return ck.r;
}

int api_filters_check(json_t *filters, const char *const *keys, struct sn_err *e)
{
	const char *k;
	json_t *v;
	json_object_foreach(filters, k, v) {
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i])
			return sn_err_msg(e, EINVAL, "filters: unknown filter `%s`", k);
		bool ok = json_is_array(v) || json_is_object(v);
		size_t j;
		json_t *x;
		const char *xk;
		if (json_is_array(v))
			json_array_foreach(v, j, x)
				ok = ok && json_is_string(x);
		else if (json_is_object(v))
			json_object_foreach(v, xk, x)
				ok = ok && json_is_true(x);
		if (!ok)
			return sn_err_msg(e, EINVAL, "filters.%s: must be an array of strings "
					  "(or an object of string: true)", k);
	}
	return 0;
}

const char *api_bearer(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	return v && strncasecmp(v, "Bearer ", 7) == 0 ? v + 7 : NULL;
}

bool api_token_eq(const char *given, const char *want)
{
	size_t n = strlen(want);
	if (strlen(given) != n)
		return false;
	unsigned char d = 0;   /* constant time over the token's bytes */
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(given[i] ^ want[i]);
	return d == 0;
}

bool api_bearer_ok(struct MHD_Connection *c, const char *token)
{
	if (!token)
		return true;
	const char *t = api_bearer(c);
	return t && api_token_eq(t, token);
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
