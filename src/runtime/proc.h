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
/* HOME as runc and crun set it (proc_env.c): when env has no HOME=, *out
 * is a new NULL-terminated array — env's own strings (not copied) plus
 * "HOME=<home of uid in /etc/passwd, or />" — read from the current root;
 * else *out is NULL. Free *out's last string and the array only. */
int proc_env_add_home(char *const *env, uid_t uid, char ***out, struct sn_err *err);
/* Cleanup for proc_env_add_home's *out (NULL is fine). */
void proc_env_home_freep(char ***e);
/* The home field of uid's line in passwd (the file's text); -ENOENT if no
 * line has it (or its home is empty or longer than len - 1). */
int proc_passwd_home(const char *passwd, uid_t uid, char *home, size_t len);
/* Wait (up to timeout_ms, -1 forever) for a non-child pid to exit. */
int proc_wait_exit(pid_t pid, uint64_t start_time, int timeout_ms);
/* Signal number from "KILL", "SIGKILL" or "9"; -1 if unknown. */
int proc_signal_from_name(const char *name);

#endif
