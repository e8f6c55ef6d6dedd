/* state.h — a container's state directory under the runtime root.
 *
 *   <root>/<id>/state.json   what every later command needs: init pid and
 *                            its start time, bundle, rootfs, creation time,
 *                            annotations, the cgroup, and the config itself
 *                            (exec takes its defaults from it)
 *   <root>/<id>/exec.fifo    exists while the container is "created": the
 *                            init blocks on it until `start` writes a byte
 *   <root>/<id>/exec-done.fifo  held open (close-on-exec) by the init until
 *                            its execve: `start` reads it to EOF, so the
 *                            poststart hooks run after the user's process
 *                            is executed, as the spec requires
 *
 * The directory is made with mkdir (exclusive), so two creates of one id
 * race safely; state.json is replaced atomically. The status is never
 * stored: it is derived from the init process, the fifo and the freezer,
 * so a crash can never leave a stale status behind.
 */
#ifndef SN_RUNTIME_STATE_H
#define SN_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/err.h"
#include "runtime/cgroup.h"

#define SUBRUN_DEFAULT_ROOT "/run/subrun"

enum container_status {
	STATUS_CREATING = 0,
	STATUS_CREATED,
	STATUS_RUNNING,
	STATUS_PAUSED,
	STATUS_STOPPED,
};

struct container_state {
	char *id;
	char *dir;               /* <root>/<id> */
	pid_t pid;
	uint64_t start_time;
	char *bundle;
	char *rootfs;
	char *created;           /* RFC 3339 */
	char *owner;
	struct cgroup *cgroup;   /* may be NULL */
	json_t *config;          /* the container's config.json (owned) */
};

int state_validate_id(const char *id, struct sn_err *err);
/* mkdir -p root (0700) and mkdir <root>/<id> exclusively. */
int state_create_dir(const char *root, const char *id, char **dir, struct sn_err *err);
int state_save(const struct container_state *st, struct sn_err *err);
/* ENOENT with "container `id` does not exist" when missing. */
int state_load(const char *root, const char *id, struct container_state **out,
	       struct sn_err *err);
void state_free(struct container_state *st);
enum container_status state_status(const struct container_state *st);
const char *state_status_name(enum container_status s);
/* The OCI/runc state object ("ociVersion","id","pid","status",...). */
json_t *state_to_json(const struct container_state *st, enum container_status s);
/* Ids of every container under root, sorted. */
int state_list_ids(const char *root, char ***ids, size_t *n, struct sn_err *err);
/* Path of the exec fifo (malloc'ed). */
char *state_fifo_path(const struct container_state *st);
/* Path of the exec-done fifo in state dir `dir` (malloc'ed). */
char *state_exec_done_path(const char *dir);
/* Exclusive lock on the container's directory for the duration of one
 * command (fd returned; close to release). */
int state_lock(const char *dir, int *fd, struct sn_err *err);
/* "2026-11-25T12:00:00.123456789Z" for now. */
void state_now_rfc3339(char *buf, size_t size);

#endif
