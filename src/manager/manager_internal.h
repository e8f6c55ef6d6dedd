/* manager_internal.h — what the files of the manager core share (not for
 * callers of manager.h): the struct, the snapshot of the registry a step
 * works on, and the small helpers every step uses. */
#ifndef SN_MANAGER_INTERNAL_H
#define SN_MANAGER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include "manager/batch.h"
#include "manager/dlog.h"
#include "manager/manager.h"
#include "manager/placement.h"

#define FAILOVER_BUCKETS 10

struct mgr {
	struct mgr_store *store;
	struct mgr_config cfg;
	pthread_mutex_t mu;        /* one step at a time; guards live and the counters */
	json_t *live;              /* name → {last, back, summary} (ms) */
	json_t *pending;           /* "chain/index" → {node, since}: failovers not yet running */
	int64_t started_ms;
	uint64_t placements, failovers, steps_lost;
	bool vacancies;            /* the last full tick left seats without a node */
	/* motions (motion.c), as of the last full snapshot: */
	json_t *moving;            /* "chain/index" → {chain, index, node, health}: seats in motion */
	bool drain;                /* a leaving node holds a seat its chain's budget lets move */
	int64_t rotate_at;         /* when a member is next due a rotation (0: none) */
	uint64_t moves, rotations, releases;
	uint64_t fo_buckets[FAILOVER_BUCKETS + 1];
	double fo_sum;
	uint64_t fo_count;
	/* what the dashboard watches (dash.c): */
	pthread_cond_t changed;    /* broadcast when gen moves (CLOCK_MONOTONIC) */
	uint64_t gen;              /* raised by every committed step and heartbeat */
	json_t *series_idx;        /* node name → index in series */
	struct dash_series *series;
	size_t nseries;
};

/* The registry as one step reads it. */
struct snap {
	json_t *nodes;       /* name → node */
	json_t *node_rev;    /* name → mod_rev */
	json_t *chains;      /* name → chain */
	json_t *chain_rev;   /* name → mod_rev */
	json_t *used;        /* node name → units held by seats */
	struct mgr_dlog_head head;
	uint8_t seed[MGR_SEED_LEN];
	uint64_t epoch;
	bool full;           /* every node and chain (snap_load), not one node */
};

int snap_load(struct mgr *m, struct snap *s, struct sn_err *err);
void snap_free(struct snap *s);
int64_t snap_used(struct snap *s, const char *node);
void snap_add_used(struct snap *s, const char *node, int64_t units);
/* The lowest slot of node that no seat holds. */
int snap_free_slot(struct snap *s, const char *node, struct sn_err *err);

/* One record (name) or all (name NULL, an array) of the chains or the
 * nodes, each passed through fn, on a fresh snapshot; -ENOENT names it. */
typedef json_t *(*snap_view_fn)(struct mgr *m, struct snap *s, const char *name, json_t *v);
int snap_view(struct mgr *m, bool chains, const char *name, snap_view_fn fn, json_t **out,
	      struct sn_err *err);

/* Record a node's state change into node (history) and the batch (log
 * entry + compare + put). */
int step_node_state(struct mgr *m, struct snap *s, struct mgr_batch *b, const char *name,
		    const char *to, const char *cause, struct sn_err *err);
/* Put the chain, compare its revision, and rewrite every seat's assign
 * key (delete_node: a node whose assign key goes). */
int step_chain_write(struct snap *s, struct mgr_batch *b, json_t *chain, const char *gone_node,
		     struct sn_err *err);
/* Fill `need` seats of chain (their indexes in seats[]) by placement;
 * updates the chain's seats and the snapshot's usage, logs the decision. */
int step_place_seats(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *chain,
		     const size_t *seats, size_t need, const char *exclude, const char *cause,
		     struct sn_err *err);
/* Give away every seat that `node` holds (down, leave). */
int step_reseat_node(struct mgr *m, struct snap *s, struct mgr_batch *b, const char *node,
		     const char *cause, struct sn_err *err);

/* Moves that keep a chain's quorum (motion.c). A seat in motion has its
 * new node in `node` and the old one, still running its member, in
 * `from`/`from_slot`. */
/* How many members of chain may be in motion at once: max(1, ⌊(N−1)/3⌋). */
size_t motion_budget(json_t *chain);
size_t motion_count(json_t *chain);
/* The node that holds a seat's data: its old node while in motion. */
const char *seat_holder(json_t *seat);
/* Start moving seat idx off its node (cause leave, rotate): placed anew
 * with the old node excluded, the old member kept until the new one runs.
 * -ENOSPC with nothing changed when no node can take it. */
int step_move_seat(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *chain, size_t idx,
		   const char *cause, struct sn_err *err);
/* End a seat's motion: retire `retired` (its old node, or its new one when
 * the move is undone), delete that node's assignment, log a release. The
 * caller writes the chain. */
int step_release_seat(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *chain,
		      size_t idx, const char *retired, const char *cause, struct sn_err *err);
/* The tick's motion work: retire the old members whose new one runs, move
 * seats off leaving nodes within each chain's budget, rotate. */
int step_motions(struct mgr *m, struct snap *s, struct mgr_batch *b, int64_t now, bool *changed,
		 struct sn_err *err);
/* Start the moves of a leaving node's seats that the budgets allow. */
int step_drain(struct mgr *m, struct snap *s, struct mgr_batch *b, bool *changed,
	       struct sn_err *err);
/* The in-memory view of motions (m->moving, drain, rotate_at) from a full
 * snapshot, so that the tick knows when to look without the store. */
void motion_sync(struct mgr *m, struct snap *s, int64_t now);
/* Is a motion's end, a drain or a rotation due? From memory alone. */
bool motion_due(struct mgr *m, int64_t now);
/* The member a node's last heartbeat reported for chain/index, or NULL. */
json_t *live_member(struct mgr *m, const char *node, const char *chain, int64_t index);

/* Begin a batch on the snapshot's log head. */
void step_begin(struct snap *s, struct mgr_batch *b);
/* Commit; a lost race counts and says so. On success the live map takes
 * the state, credential and units of every node in the snapshot. */
int step_commit(struct mgr *m, struct snap *s, struct mgr_batch *b, struct sn_err *err);
/* The live map's copy of each node's state, credential hash and units
 * (what heartbeats and the tick read without the store). */
void live_sync(struct mgr *m, struct snap *s);
/* A snapshot of the log head and one node only (a join needs no more). */
int snap_load_one(struct mgr *m, struct snap *s, const char *name, struct sn_err *err);

void mgr_observe_failover(struct mgr *m, double seconds);

/* The dashboard's view (dash.c). Called with mu held: something changed
 * (gen raised, watchers woken). */
void dash_changed(struct mgr *m);
/* A heartbeat's cpu and memory into the node's ring (mu held). */
void dash_sample(struct mgr *m, const char *name, int64_t now, json_t *summary);
int dash_init(struct mgr *m);
void dash_free(struct mgr *m);

/* A value of the live map, made when missing. */
json_t *live_of(struct mgr *m, const char *name);
bool valid_name(const char *s);
/* -EINVAL naming field unless s is a valid name. */
int check_name(const char *s, const char *field, struct sn_err *err);
const char *jstr(json_t *o, const char *key);
int64_t jint(json_t *o, const char *key);

#endif
