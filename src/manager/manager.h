/* manager.h — the network manager's core: the registry of nodes and
 * chains, their placement and the failure detector, on the store of
 * store.h. The HTTP API (src/cli/subnode-manager) is a thin layer over
 * these calls; everything here is testable without a socket.
 *
 * What lives in the store (all values JSON):
 *   nodes/<name>            a node: address, operator, units, port base,
 *                           state, credential hash, state history
 *   chains/<name>           a chain: id, size, units, N, image, env and its
 *                           seats [{index, node, slot, since, transfer?,
 *                           from?, from_slot?}] — `from`: a seat in motion,
 *                           its old member still running there (motion.c)
 *   assign/<node>/<chain>   what that node must run for that chain: the
 *                           member's index, slot, ports, image, env and the
 *                           peer list — what a node watches
 *   epoch                   the current epoch number and seed
 *   log/…, loghead          the decision log (dlog.h)
 * Every step (join, a chain created, a node marked down with its seats
 * given away, …) is one transaction with its log entries (batch.h).
 *
 * Heartbeats are kept in memory (last time, summary): a store write a
 * second per node would be the whole cost of the manager; what they cause
 * (down, back, left) is written. After a start every node gets a full grace
 * period before it can be marked down.
 *
 * Errors: -EINVAL bad input (message names the field), -ENOENT unknown
 * name, -EEXIST duplicate, -ENOSPC cannot place, -EACCES bad credential,
 * -ESHUTDOWN the node has left, -EPERM a state change not allowed from the
 * current state.
 */
#ifndef SN_MANAGER_MANAGER_H
#define SN_MANAGER_MANAGER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "base/err.h"
#include "manager/store.h"

#define MGR_MAX_SIZES 16
#define MGR_PORTS_PER_SLOT 64
/* How long a moved member's data may be copied from the others (chains.c). */
#define MGR_TRANSFER_TTL_MS (10 * 60 * 1000)

struct mgr_size {
	char name[32];
	int64_t units;
};

struct mgr_config {
	int64_t grace_ms;          /* silent this long: down (default 5000) */
	int64_t steady_ms;         /* back from down, heartbeating this long: active (10000) */
	struct mgr_size sizes[MGR_MAX_SIZES];
	size_t nsizes;             /* default small 1, medium 4, large 128 (the node's table) */
	int64_t default_members;   /* 16 */
	int64_t rotation_ms;       /* a member seated this long moves to another node; 0: never */
	const char *genesis_hex;   /* genesis value at the first start; random when NULL */
};

void mgr_config_defaults(struct mgr_config *c);

struct mgr;

int mgr_open(const char *store_spec, const struct mgr_config *cfg, struct mgr **out,
	     struct sn_err *err);
void mgr_close(struct mgr *m);
struct mgr_store *mgr_get_store(struct mgr *m);
int64_t mgr_now_ms(void);

/* Nodes. join: {name, address, operator, units, port_base} → {name,
 * credential}; the credential is shown once (its SHA-256 is kept). */
int mgr_node_join(struct mgr *m, json_t *req, json_t **reply, struct sn_err *err);
int mgr_node_auth(struct mgr *m, const char *name, const char *credential, struct sn_err *err);
/* summary: {units_used, cpu?, memory?, members: [{chain, index, state,
 * health}]} → {state}. */
int mgr_node_heartbeat(struct mgr *m, const char *name, json_t *summary, json_t **reply,
		       struct sn_err *err);
/* verb: maintenance, activate, leave. */
int mgr_node_admin(struct mgr *m, const char *name, const char *verb, struct sn_err *err);
int mgr_node_list(struct mgr *m, json_t **out, struct sn_err *err);
int mgr_node_inspect(struct mgr *m, const char *name, json_t **out, struct sn_err *err);
/* The node's assignments after revision `after` (0: all, at once), waiting
 * up to timeout_ms for a change: {revision, subnodes: [assign values]}. */
int mgr_node_desired(struct mgr *m, const char *name, int64_t after, int timeout_ms,
		     json_t **out, struct sn_err *err);

/* Chains. create: {name, size, members?, image, env?: ["K=V"], cmd?,
 * health?} → the chain as inspect shows it. */
int mgr_chain_create(struct mgr *m, json_t *req, json_t **out, struct sn_err *err);
int mgr_chain_rm(struct mgr *m, const char *name, struct sn_err *err);
int mgr_chain_list(struct mgr *m, json_t **out, struct sn_err *err);
int mgr_chain_inspect(struct mgr *m, const char *name, json_t **out, struct sn_err *err);

/* A new epoch: seed_{e+1} from seed_e and the optional beacon (hex). */
int mgr_epoch_advance(struct mgr *m, const char *beacon_hex, json_t **out, struct sn_err *err);
int mgr_epoch_get(struct mgr *m, json_t **out, struct sn_err *err);

/* Failure detection and repair, run about 4 times a second: nodes silent
 * past the grace period go down with their seats given away in the same
 * step; nodes back and steady go active; a moved member reported running
 * (healthy, with a health check) retires the old one; leaving nodes'
 * members move off, as many of a chain at once as its budget allows;
 * leaving nodes with nothing left go left; vacant seats are filled when a
 * node has room; members seated for rotation_ms move (motion.c). */
int mgr_tick(struct mgr *m, struct sn_err *err);

/* The dashboard (dash.c). Each heartbeat's `cpu` (percent of the node's
 * machine busy) and `memory` (bytes used; `memory_total` beside it), with
 * `net_rx`/`net_tx` (bytes received and sent by the machine since it
 * started) when given, go into a ring of the node's last MGR_SERIES_LEN
 * samples, in memory only. */
#define MGR_SERIES_LEN 120
/* All the dashboard shows at once: {time, gen, log_seq, nodes: [node as
 * listed, with "sample": {time, cpu, memory, memory_total, net_rx?,
 * net_tx?} or null], chains: [chain as inspected]}; with series also
 * "series": {node: {time: [], cpu: [], memory: [], net_rx: [], net_tx: []}}
 * (oldest first; null where not reported). gen: the change count
 * it was read at (mgr_wait_change). */
int mgr_dashboard(struct mgr *m, bool series, json_t **out, struct sn_err *err);
/* Wait up to timeout_ms for a change after gen `seen` (a committed step or
 * a heartbeat); returns the current gen. */
uint64_t mgr_wait_change(struct mgr *m, uint64_t seen, int timeout_ms);

/* Prometheus text of the manager's metrics (malloc'ed). */
int mgr_metrics(struct mgr *m, char **out, struct sn_err *err);

#endif
