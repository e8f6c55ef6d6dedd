/* json.c — see json.h. */
#include "base/json.h"
#include "base/fs.h"
#include "base/cleanup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sn_json_path(char *buf, size_t size, const char *parent, const char *key)
{
	if (!parent || !*parent)
		snprintf(buf, size, "%s", key);
	else
		snprintf(buf, size, "%s.%s", parent, key);
	return buf;
}

const char *sn_json_path_idx(char *buf, size_t size, const char *parent, size_t idx)
{
	snprintf(buf, size, "%s[%zu]", parent ? parent : "", idx);
	return buf;
}

/* jansson refuses integers outside int64 ("too big integer"), but OCI
 * documents carry uint64 values (rlimits, memory limits) up to 2^64-1. On
 * that error only, integer tokens beyond int64 are rewritten as reals
 * ("...0.0") and parsed again; sn_json_uint accepts integral reals (2^64-1
 * comes back exactly as UINT64_MAX; other values above 2^53 round). */
static char *widen_big_ints(const char *buf, size_t len)
{
	char *out = malloc(len * 2 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		char c = buf[i];
		if (c == '"') {
			out[o++] = buf[i++];
			while (i < len && buf[i] != '"') {
				if (buf[i] == '\\' && i + 1 < len)
					out[o++] = buf[i++];
				out[o++] = buf[i++];
			}
			if (i < len)
				out[o++] = buf[i++];
			continue;
		}
		if ((c >= '0' && c <= '9') || c == '-') {
			size_t j = i + (c == '-');
			while (j < len && buf[j] >= '0' && buf[j] <= '9')
				j++;
			size_t digits = j - i - (c == '-');
			bool is_int = j >= len || (buf[j] != '.' && buf[j] != 'e' && buf[j] != 'E');
			memcpy(out + o, buf + i, j - i);
			o += j - i;
			if (is_int && digits >= 19)
				out[o++] = '.', out[o++] = '0';
			i = j;
			continue;
		}
		out[o++] = buf[i++];
	}
	out[o] = '\0';
	return out;
}

int sn_json_loadb(const char *buf, size_t len, const char *what, json_t **out,
		  struct sn_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j && json_error_code(&je) == json_error_numeric_overflow) {
		_cleanup_free_ char *w = widen_big_ints(buf, len);
		if (!w)
			return sn_err_set(err, ENOMEM, "%s", what);
		j = json_loads(w, JSON_REJECT_DUPLICATES, &je);
	}
	if (!j)
		return sn_err_msg(err, EINVAL, "%s: invalid JSON at line %d column %d: %s",
				  what, je.line, je.column, je.text);
	*out = j;
	return 0;
}

int sn_json_load_file(const char *path, size_t max_size, json_t **out, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = sn_read_file(path, max_size, &buf, &len, err);
	if (r < 0)
		return r;
	return sn_json_loadb(buf, len, path, out, err);
}

static json_t *get(json_t *obj, const char *key)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;
	return (v && !json_is_null(v)) ? v : NULL;
}

#define FIELD(buf, path, key) sn_json_path(buf, sizeof(buf), path, key)

int sn_json_string(json_t *obj, const char *path, const char *key,
		   const char **out, struct sn_err *err)
{
	json_t *v = get(obj, key);
	char p[512];
	if (!v)
		return 0;
	if (!json_is_string(v))
		return sn_err_msg(err, EINVAL, "%s: must be a string", FIELD(p, path, key));
	*out = json_string_value(v);
	return 1;
}

int sn_json_bool(json_t *obj, const char *path, const char *key, bool *out,
		 struct sn_err *err)
{
	json_t *v = get(obj, key);
	char p[512];
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return sn_err_msg(err, EINVAL, "%s: must be true or false", FIELD(p, path, key));
	*out = json_is_true(v);
	return 1;
}

int sn_json_int(json_t *obj, const char *path, const char *key, int64_t *out,
		struct sn_err *err)
{
	json_t *v = get(obj, key);
	char p[512];
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return sn_err_msg(err, EINVAL, "%s: must be an integer", FIELD(p, path, key));
	*out = json_integer_value(v);
	return 1;
}

int sn_json_uint(json_t *obj, const char *path, const char *key, uint64_t *out,
		 struct sn_err *err)
{
	json_t *v = get(obj, key);
	char p[512];
	if (!v)
		return 0;
	/* jansson stores integers as long long: values above INT64_MAX arrive
	 * as reals; accept an exact integral real up to 2^64-1. */
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return sn_err_msg(err, EINVAL, "%s: must not be negative (%" PRId64 ")",
					  FIELD(p, path, key), (int64_t)json_integer_value(v));
		*out = (uint64_t)json_integer_value(v);
		return 1;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d >= 18446744073709551615.0 && d <= 18446744073709551616.0) {
			*out = UINT64_MAX;   /* 2^64-1 rounds up to 2^64 as a double */
			return 1;
		}
		if (d >= 0 && d < 18446744073709551615.0 && d == (double)(uint64_t)d) {
			*out = (uint64_t)d;
			return 1;
		}
	}
	return sn_err_msg(err, EINVAL, "%s: must be an unsigned integer", FIELD(p, path, key));
}

int sn_json_object(json_t *obj, const char *path, const char *key, json_t **out,
		   struct sn_err *err)
{
	json_t *v = get(obj, key);
	char p[512];
	if (!v)
		return 0;
	if (!json_is_object(v))
		return sn_err_msg(err, EINVAL, "%s: must be an object", FIELD(p, path, key));
	*out = v;
	return 1;
}

int sn_json_array(json_t *obj, const char *path, const char *key, json_t **out,
		  struct sn_err *err)
{
	json_t *v = get(obj, key);
	char p[512];
	if (!v)
		return 0;
	if (!json_is_array(v))
		return sn_err_msg(err, EINVAL, "%s: must be an array", FIELD(p, path, key));
	*out = v;
	return 1;
}

int sn_json_strv(json_t *obj, const char *path, const char *key, char ***out,
		 size_t *n, struct sn_err *err)
{
	json_t *a = NULL;
	char p[512], pi[600];
	int r = sn_json_array(obj, path, key, &a, err);
	if (r <= 0)
		return r;
	size_t len = json_array_size(a);
	char **v = calloc(len + 1, sizeof(char *));
	if (!v)
		return sn_err_set(err, ENOMEM, "%s", FIELD(p, path, key));
	for (size_t i = 0; i < len; i++) {
		json_t *e = json_array_get(a, i);
		if (!json_is_string(e)) {
			sn_strv_free(v);
			return sn_err_msg(err, EINVAL, "%s: must be a string",
					  sn_json_path_idx(pi, sizeof(pi), FIELD(p, path, key), i));
		}
		v[i] = strdup(json_string_value(e));
		if (!v[i]) {
			sn_strv_free(v);
			return sn_err_set(err, ENOMEM, "%s", FIELD(p, path, key));
		}
	}
	*out = v;
	if (n)
		*n = len;
	return 1;
}

int sn_json_only_keys(json_t *obj, const char *path, const char *const *allowed,
		      struct sn_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, k) == 0) {
				ok = true;
				break;
			}
		if (!ok)
			return sn_err_msg(err, EINVAL, "%s: unknown field `%s`",
					  (path && *path) ? path : "(body)", k);
	}
	return 0;
}

char *sn_json_dump(json_t *j, bool pretty)
{
	return json_dumps(j, pretty ? JSON_INDENT(2) | JSON_PRESERVE_ORDER
				    : JSON_COMPACT | JSON_PRESERVE_ORDER);
}
