/* spec_internal.h — helpers shared by the files of the spec parser
 * (spec.c: root, process, mounts, hooks; spec_linux.c: the linux object;
 * spec_names.c: name tables and the default config). Not for other modules. */
#ifndef SN_RUNTIME_SPEC_INTERNAL_H
#define SN_RUNTIME_SPEC_INTERNAL_H

#include "runtime/spec.h"
#include "base/json.h"

#define P(buf, parent, key) sn_json_path(buf, sizeof(buf), parent, key)
#define PI(buf, parent, i) sn_json_path_idx(buf, sizeof(buf), parent, i)

/* Allocate n zeroed elements (n may be 0: returns a non-NULL dummy). */
void *spec_calloc(size_t n, size_t size);
/* Copy an optional string field; 0 absent, 1 copied, <0 error. */
int spec_dup_string(json_t *obj, const char *path, const char *key, char **out,
		    struct sn_err *err);
/* An int64 field into *out (unchanged = SPEC_UNSET when absent). */
int spec_opt_i64(json_t *obj, const char *path, const char *key, int64_t *out,
		 struct sn_err *err);
/* Parse an array of id mappings. */
int spec_parse_id_maps(json_t *obj, const char *path, const char *key,
		       struct spec_id_map **out, size_t *n, struct sn_err *err);
/* Parse the linux object into s->linux_. */
int spec_parse_linux(json_t *lx, const char *path, struct spec *s, struct sn_err *err);
void spec_linux_free(struct spec_linux *l);
/* Refuse sysctls that are not in a namespace of the container's own
 * (spec_sysctl.c). */
int spec_check_sysctls(const struct spec *s, struct sn_err *err);
int spec_seccomp_action_from_name(const char *name, uint32_t *out);

#endif
