/* container.h — the container lifecycle, as the subrun commands see it.
 *
 * create  parse the bundle, make the state dir, clone the init into its
 *         namespaces, put it in its cgroup, build its rootfs, run the
 *         create-time hooks, leave it blocked on the exec fifo; write state.
 * start   release the init (one byte into the fifo), run poststart hooks.
 * run     create + start, then (unless detached) wait, relay signals and the
 *         terminal, delete, and return the exit status.
 * exec    a new process inside a running container's namespaces and cgroup.
 * kill, delete, state, list, pause, resume, update, ps.
 *
 * Every failure during create removes what it made: state dir, cgroup,
 * processes. Mounts live in the container's own mount namespace and go with
 * it.
 */
#ifndef SN_RUNTIME_CONTAINER_H
#define SN_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/err.h"
#include "runtime/spec.h"
#include "runtime/state.h"

struct container_opts {
	const char *root;            /* state root (--root) */
	const char *id;
	const char *bundle;          /* default "." */
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	bool detach;                 /* run: return after start */
	bool no_pivot;
	bool no_new_keyring;
	bool keep;                   /* run: don't delete after exit */
	const char *cgroup_root;     /* default /sys/fs/cgroup (tests) */
};

struct exec_opts {
	const char *root;
	const char *id;
	const char *process_file;    /* --process JSON, else the fields below */
	char **args;
	char **env;                  /* extra KEY=VALUE, added to the config's */
	const char *cwd;
	const char *user;            /* "uid[:gid]" */
	char **additional_gids;
	char **caps;                 /* added capabilities */
	bool tty, detach, no_new_privs;
	const char *console_socket;
	const char *pid_file;
	int preserve_fds;
};

int container_create(const struct container_opts *o, struct sn_err *err);
int container_start(const char *root, const char *id, struct sn_err *err);
/* *status: exit code, or 128+signal. */
int container_run(const struct container_opts *o, int *status, struct sn_err *err);
int container_exec(const struct exec_opts *o, int *status, struct sn_err *err);
int container_kill(const char *root, const char *id, int sig, bool all, struct sn_err *err);
int container_delete(const char *root, const char *id, bool force, struct sn_err *err);
int container_state(const char *root, const char *id, json_t **out, struct sn_err *err);
int container_list(const char *root, json_t **out, struct sn_err *err);
int container_pause(const char *root, const char *id, bool pause, struct sn_err *err);
int container_update(const char *root, const char *id, const struct spec_resources *res,
		     struct sn_err *err);
int container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
		   struct sn_err *err);

#endif
