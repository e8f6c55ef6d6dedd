/* proc.h — facts about processes from /proc, and PATH lookup.
 *
 * A container is identified by its init pid *and* that process's start time
 * (field 22 of /proc/<pid>/stat), so a recycled pid is never mistaken for
 * the container (the same guard runc keeps in its state).
 */
#ifndef SN_RUNTIME_PROC_H
#define SN_RUNTIME_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/err.h"

/* Start time in clock ticks since boot; -ESRCH if the process is gone. */
int proc_start_time(pid_t pid, uint64_t *out, struct sn_err *err);
/* Single-letter state (R, S, D, Z, T, ...); -ESRCH if gone. */
int proc_state(pid_t pid, char *state);
/* Alive, not a zombie, and started at start_time (0 = don't check). */
bool proc_is_alive(pid_t pid, uint64_t start_time);
/* Resolve cmd against the PATH in env (or a default PATH) the way execvp
 * does, looking inside the current root. Result malloc'ed in *out. */
int proc_find_executable(const char *cmd, char *const *env, char **out,
			 struct sn_err *err);
/* Wait (up to timeout_ms, -1 forever) for a non-child pid to exit. */
int proc_wait_exit(pid_t pid, uint64_t start_time, int timeout_ms);
/* Signal number from "KILL", "SIGKILL" or "9"; -1 if unknown. */
int proc_signal_from_name(const char *name);

#endif
