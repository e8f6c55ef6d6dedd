/* node.h — the node daemon's core, independent of HTTP: the lifecycle of
 * subnodes on one server (create, start, stop, kill, restart, remove,
 * inspect, list), slices and admission, events, logs, and the repair of
 * state after a crash. subnoded's HTTP layer only maps requests onto these.
 *
 * Layout under cfg.root:
 *   state.db             SQLite (db.h)
 *   images/              the image store (image.h)
 *   runtime/             --root of the OCI runtime
 *   subnodes/<id>/       bundle/ (config.json, rootfs), status (written by
 *                        the supervisor), container.log*, runtime.log,
 *                        sup.lock (held by the live supervisor), stop
 *   notify.sock          datagrams from supervisors: "<id>"
 *
 * Errors: -errno with err set. The HTTP layer maps EINVAL→400, ENOENT→404,
 * EEXIST/EBUSY/ENOSPC→409, others→500. Thread-safe: one node lock guards
 * the db; a per-subnode busy mark serialises long operations on one
 * subnode without blocking the others.
 */
#ifndef SN_NODE_NODE_H
#define SN_NODE_NODE_H

#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "base/err.h"
#include "node/config.h"

#define NODE_VERSION "0.1.0"
#define NODE_API_VERSION "1.41"
/* The oldest API version a path may name (/v1.24/...): docker.h in subnoded. */
#define NODE_API_MIN_VERSION "1.24"
#define NODE_CGROUP_ROOT "/sys/fs/cgroup"   /* the runtimes' default; subnodes under cfg.cgroup_parent */

struct node_db;
struct image_store;
struct node_events;

struct node_slices {
	double cpus;            /* cores for subnodes (after the reserve) */
	uint64_t memory, disk;  /* bytes for subnodes */
	double unit_cpus;
	uint64_t unit_memory, unit_disk;
	bool io_weight;         /* the host has an io/blkio weight file */
};

struct node {
	struct node_config cfg;
	struct node_db *db;
	struct image_store *images;
	pthread_mutex_t lock;         /* db, busy */
	pthread_mutex_t images_lock;  /* the image store handle */
	pthread_mutex_t pool_lock;    /* spare image store handles (node_store_take) */
	struct image_store *pool[8];
	unsigned pool_n;
	pthread_mutex_t prepare_lock; /* one layer unpack (by the image tool) at a time */
	json_t *busy;                 /* {id: "what"} long operations under way */
	char *runtime_path, *sup_path, *image_tool_path, *runtime_root, *subnodes_dir, *notify_path;
	struct node_slices slices;
	struct node_events *events;
	int notify_fd;
	pthread_t notify_thread;
	bool notify_running;
	int64_t started_at;
	char *crash_at;               /* fault injection: see node_crashpoint */
	int stopping;                 /* set (atomically) when the daemon stops: relays end */
	int cgroup_mode;              /* the host's enum cgroup_mode (slices.c) */
	struct node_volumes *volumes; /* volume.h */
	struct node_net *net;         /* networks (network.h) */
	struct node_collector *collector;  /* metrics.h: subnodes' files kept open */
};

/* Fault injection for the crash tests: when $SUBNODED_CRASH_AT names this
 * step (read once by node_open), the daemon kills itself with SIGKILL
 * right here, as a kill -9 between two steps would. Steps: create-row,
 * create-dir, create-bundle, create-created, start-desired, start-spawned,
 * stop-marked, stop-signalled, remove-marked (running only),
 * remove-signalled (running only), remove-halted,
 * destroy-runtime, destroy-bundle, destroy-dir; with networks (network.c)
 * create-netns, create-firewall, destroy-firewall, destroy-netns. */
void node_crashpoint(struct node *n, const char *step);

/* Open the root (creating it), the db and the image store; find the runtime
 * and the supervisor; compute slices; repair the state (reconcile.c);
 * start listening to supervisors. */
int node_open(struct node *n, const struct node_config *cfg, const char *self_exe,
	      struct sn_err *err);
void node_close(struct node *n);
/* An image store handle for this thread's use until given back (handles
 * are one-thread-at-a-time; creates run in parallel). Reused: opening one
 * sweeps the store's tmp/ whenever nobody works in the store — a directory
 * freed and made again per create. */
int node_store_take(struct node *n, struct image_store **s, struct sn_err *err);
void node_store_give(struct node *n, struct image_store *s);

/* ---- lifecycle.c */
/* body: Docker's create shape (validate.c); name may be NULL. out: {"Id",
 * "Warnings"}. start: also start it (one round trip for `run -d`). */
int node_create(struct node *n, const char *name, json_t *body, bool start, json_t **out,
		struct sn_err *err);
/* 0 started, 1 already running (HTTP 304). */
int node_start(struct node *n, const char *ref, struct sn_err *err);
/* signal NULL: the subnode's stop signal; timeout < 0: its stop timeout.
 * 0 stopped, 1 was not running (304). */
int node_stop(struct node *n, const char *ref, const char *signal, int timeout,
	      struct sn_err *err);
int node_kill(struct node *n, const char *ref, const char *signal, struct sn_err *err);
int node_restart(struct node *n, const char *ref, int timeout, struct sn_err *err);
int node_remove(struct node *n, const char *ref, bool force, struct sn_err *err);
/* Internal, shared with reconcile.c: remove every trace of row. */
int node_destroy(struct node *n, json_t *row, struct sn_err *err);
/* Spawn a supervisor for row and wait for the first start's outcome. */
int node_spawn_supervisor(struct node *n, json_t *row, struct sn_err *err);

/* The row of a subnode by id, unique id prefix or name, read under the
 * node's lock (lifecycle.c). */
int node_find(struct node *n, const char *ref, json_t **row, struct sn_err *err);

/* ---- inspect.c */
int node_inspect(struct node *n, const char *ref, json_t **out, struct sn_err *err);
/* top.c: Docker's {"Titles": [ps -ef's columns], "Processes": [[...]]}
 * for the processes of a running subnode; EBUSY when it does not run. */
int node_top(struct node *n, const char *ref, json_t **out, struct sn_err *err);
/* all: include stopped ones. filters: Docker's {"name":[..],"status":[..],
 * "id":[..],"label":[..]} (may be NULL). */
int node_list(struct node *n, bool all, json_t *filters, json_t **out, struct sn_err *err);
int node_info(struct node *n, json_t **out, struct sn_err *err);
int node_version(json_t **out);

/* ---- supervise.c */
/* Read subnodes/<id>/status into an object (empty when missing). */
int node_read_status(struct node *n, const char *id, json_t **out, struct sn_err *err);
/* Is a supervisor holding subnodes/<id>/sup.lock? Sets *pid when known. */
bool node_supervisor_alive(struct node *n, const char *id, int *pid);
/* Fold a supervisor status into the db row (state, pid, exit, restarts)
 * and emit the matching events. Called on notifications and at start. */
int node_sync_status(struct node *n, const char *id, struct sn_err *err);
int node_notify_start(struct node *n, struct sn_err *err);
void node_notify_stop(struct node *n);
/* Attributes for posix_spawn of a helper (the runtime): no signal
 * blocked, every action the default — the daemon blocks the signals it
 * takes by sigwait, and a mask survives execve. */
void node_spawnattr_clean(posix_spawnattr_t *a);
/* Run the runtime CLI: runtime --root R ARGS...; *out (may be NULL) gets
 * stdout. Returns the exit status (>= 0) or -errno. */
int node_runtime(struct node *n, char **out, struct sn_err *err, ...) __attribute__((sentinel));
char *node_subnode_dir(struct node *n, const char *id, const char *file);

/* ---- slices.c */
int node_slices_init(struct node *n, struct sn_err *err);
/* OCI linux.resources for this many units. */
json_t *node_slices_resources(struct node *n, unsigned units);
/* The memory limit (bytes, as the kernel keeps it: whole pages) and pids
 * limit (UINT64_MAX: none) this many units give. */
void node_slices_limits(const struct node *n, unsigned units, uint64_t *memory, uint64_t *pids);
/* The CPU part of it: shares, CFS quota and period (µs). */
void node_slices_cpu(const struct node *n, unsigned units, uint64_t *shares, uint64_t *quota,
		     uint64_t *period);
/* ENOSPC with "medium needs 4 units; 2 of 128 free ..." when it does not fit;
 * call with the node lock held. */
int node_slices_admit(struct node *n, const char *size, unsigned units, struct sn_err *err);

/* ---- reconcile.c */
int node_reconcile(struct node *n, struct sn_err *err);

/* ---- validate.c */
/* Check a create body; out: normalized config object (Image, ImageDigest,
 * Args, Env, Size, Units, Restart, Binds, Hostname, Labels, StopSignal,
 * StopTimeout, Healthcheck...). Needs the image store (image must exist). */
int node_validate_create(struct node *n, const char *name, json_t *body, json_t **out,
			 struct sn_err *err);
bool node_name_valid(const char *name);
/* Signal by name ("TERM", "SIGKILL") or number into *sig; -EINVAL if bad. */
int node_parse_signal(const char *s, int *sig);

/* ---- attach.c: a subnode's terminal (Tty subnodes only) */
/* malloc'ed root/s/<id16>.<kind>: kind "con" (console) or "att" (attach). */
char *node_tty_socket(struct node *n, const char *id, const char *kind);
int node_attach_connect(struct node *n, const char *ref, int *fd, struct sn_err *err);
int node_resize(struct node *n, const char *ref, unsigned h, unsigned w, struct sn_err *err);
/* Relay client <-> supervisor until the terminal ends; closes sup. */
void node_attach_relay(struct node *n, int client, int sup, const char *extra, size_t extra_len,
		       bool stdin_on);
/* attach_logs.c: a subnode without a terminal: its stdout/stderr from
 * since_ns on, Docker-framed, to client until it ends (after its start,
 * when it has not started yet) or the client leaves. */
void node_attach_logs_relay(struct node *n, int client, const char *id, bool out, bool err,
			    int64_t since_ns);
/* Until subnode id has left `created` (looking every 100 ms); false when
 * it is gone, the client hung up or the daemon stops. */
bool node_attach_wait_started(struct node *n, int client, const char *id);
/* A terminal subnode attached to before its start: wait for it, then
 * node_attach_relay. */
void node_attach_pending_relay(struct node *n, int client, const char *id, const char *extra,
			       size_t extra_len, bool stdin_on);

/* ---- stats.c */
/* Docker's stats shape from the subnode's cgroup (zeros when not running). */
int node_stats(struct node *n, const char *ref, json_t **out, struct sn_err *err);

/* ---- images.c (pull and load: imagejob.h) */
int node_image_list(struct node *n, json_t **out, struct sn_err *err);
int node_image_remove(struct node *n, const char *ref, bool force, struct sn_err *err);
/* path: an OCI layout directory or a docker-archive tar on the node.
 * cancel_fd (-1: none): a client's socket whose hangup ends the import
 * (-ECANCELED, the image tool killed). */
int node_image_import(struct node *n, const char *path, const char *name, int cancel_fd,
		      char out[72], struct sn_err *err);
/* Make sure the layers of image ref (in store s) are unpacked, asking the
 * image tool when they are not (one at a time). */
int node_image_prepare(struct node *n, struct image_store *s, const char *ref, struct sn_err *err);

/* ---- wait (lifecycle.c) */
/* Wait until the subnode is not running (nor restarting); *code gets its
 * exit code. timeout_ms < 0: no limit (-ETIMEDOUT otherwise). */
int node_wait(struct node *n, const char *ref, int timeout_ms, int *code, struct sn_err *err);

/* ---- events.c */
int node_events_new(struct node_events **out);
void node_events_free(struct node_events *e);
void node_event(struct node *n, const char *type, const char *action, const char *id,
		json_t *attributes);
/* Events after seq (0 = from now on), waiting up to timeout_ms for one;
 * *next is where to continue. Returns an array (maybe empty). */
json_t *node_events_wait(struct node *n, uint64_t after, int timeout_ms, uint64_t *next);
uint64_t node_events_seq(struct node *n);
/* An eventfd (non-blocking) that turns readable after every event; one
 * reader resets it (read 8 bytes) and looks at the ring. */
int node_events_fd(struct node *n);
/* Past events since unix time `since` (0: none), up to until. */
json_t *node_events_since(struct node *n, int64_t since, int64_t until, uint64_t *next);

/* send(2) with MSG_NOSIGNAL until all of p is sent (EINTR retried); false
 * when the peer is gone. Shared by attach and exec streams. */

/* time helpers */
int64_t node_now_ns(void);
/* RFC 3339 with nanoseconds, "0001-01-01T00:00:00Z" for 0. */
void node_time_str(int64_t ns, char buf[40]);

#endif
