/* json.h — jansson helpers that turn type errors into messages naming the
 * field: "process.rlimits[1].hard: must be an unsigned integer".
 *
 * Getters take the parent object, the parent's path ("process.user") and
 * the key. They return 0 with *present = 0 when the key is absent (or null),
 * 1 when found, -EINVAL with err set when the value has the wrong type.
 */
#ifndef SN_BASE_JSON_H
#define SN_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "base/err.h"

/* Parse a file or buffer; the error names the file, line and column. */
int sn_json_load_file(const char *path, size_t max_size, json_t **out, struct sn_err *err);
int sn_json_loadb(const char *buf, size_t len, const char *what, json_t **out,
		  struct sn_err *err);

int sn_json_string(json_t *obj, const char *path, const char *key,
		   const char **out, struct sn_err *err);
int sn_json_bool(json_t *obj, const char *path, const char *key, bool *out,
		 struct sn_err *err);
int sn_json_int(json_t *obj, const char *path, const char *key, int64_t *out,
		struct sn_err *err);
int sn_json_uint(json_t *obj, const char *path, const char *key, uint64_t *out,
		 struct sn_err *err);
int sn_json_object(json_t *obj, const char *path, const char *key, json_t **out,
		   struct sn_err *err);
int sn_json_array(json_t *obj, const char *path, const char *key, json_t **out,
		  struct sn_err *err);
/* Array of strings to a malloc'ed NULL-terminated vector. */
int sn_json_strv(json_t *obj, const char *path, const char *key, char ***out,
		 size_t *n, struct sn_err *err);
/* Refuse keys not in allowed (NULL-terminated): "x.y: unknown field `z`". */
int sn_json_only_keys(json_t *obj, const char *path, const char *const *allowed,
		      struct sn_err *err);
/* Dump compact/pretty into a malloc'ed string; NULL on ENOMEM. */
char *sn_json_dump(json_t *j, bool pretty);
/* "a" + "b" -> "a.b"; "" + "b" -> "b"; written into buf. */
const char *sn_json_path(char *buf, size_t size, const char *parent, const char *key);
const char *sn_json_path_idx(char *buf, size_t size, const char *parent, size_t idx);

#endif
