/* create_internal.h — what the create path (container_create.c, parent
 * side) hands to the container init (container_init.c, child side). The
 * child is a fork-like clone, so it reads this struct in its own copy of
 * the parent's memory. Not for other modules. */
#ifndef SN_RUNTIME_CREATE_INTERNAL_H
#define SN_RUNTIME_CREATE_INTERNAL_H

#include <stdbool.h>
#include "runtime/container.h"
#include "runtime/cgroup.h"

#define MAX_NS 8

struct create_ctx {
	const struct container_opts *o;
	struct spec *spec;
	char *bundle, *rootfs, *dir, *fifo_path;
	struct cgroup *cg;
	int sync_parent, sync_child;   /* socketpair ends */
	int console_sock;              /* where the pty master goes, or -1 */
	int console_recv;              /* run without --console-socket: our end */
	int fifo_fd;                   /* exec fifo, opened O_RDWR by the parent */
	int done_fd;                   /* exec-done fifo: the init holds it until execve */
	int join_fd[MAX_NS];           /* namespaces to join (not pid/time) */
	int join_type[MAX_NS];
	size_t n_join;
	int new_flags;                 /* every new namespace except time */
	int clone_flags;               /* what clone() creates directly */
	bool staged;                   /* child joins, unshares, forks for pid */
	struct cgroup_join cg_join;    /* the init joins its cgroup itself */
	bool cg_v2_late;               /* clone3 could not place it: parent moves it */
	pid_t init_pid;                /* in the parent: the init's pid */
};

/* Child side: never returns on success (execve). Returns the exit code for
 * _exit on failure, after telling the parent. */
int container_init_main(struct create_ctx *c);
/* State JSON handed to hooks (status as given). Caller frees. */
char *container_hook_state(const char *id, const char *bundle, pid_t pid,
			   const char *status, json_t *annotations);

#endif
