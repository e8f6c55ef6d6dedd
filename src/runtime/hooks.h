/* hooks.h — running OCI hooks.
 *
 * Each hook is a fork+execve of hook->path with hook->args/env, the
 * container state JSON on its stdin, stdout/stderr kept (stderr tail goes
 * into the error). A hook that exits non-zero, is killed, or outlives its
 * timeout (killed with SIGKILL) fails the call with a message naming the
 * kind, the index and the path. Hooks run in order; the first failure stops
 * them, except for poststart and poststop, where every hook still runs (the
 * spec) and the first failure is returned, later ones logged as warnings.
 */
#ifndef SN_RUNTIME_HOOKS_H
#define SN_RUNTIME_HOOKS_H

#include "base/err.h"
#include "runtime/spec.h"

int hooks_run(const struct spec_hooks *hooks, enum spec_hook_kind kind,
	      const char *state_json, struct sn_err *err);
const char *hooks_kind_name(enum spec_hook_kind kind); /* "prestart", ... */

#endif
