/* rpc.h — a demochain member's RPC port (SUBNODE_PORT_FIRST + 1): plain
 * HTTP/1.0 answers, one request per connection.
 *
 *   GET /status              {index, members, quorum, chain, height,
 *                             last_hash, round, epoch, peers: [{index,
 *                             address, height, hash, seen_ms_ago}]}
 *   GET /blocks?from=H[&limit=N]  [{height, hash, prev, proposer, round,
 *                             time_ms, payload}] after height H (default
 *                             0), at most N (default and cap 500)
 *   GET /metrics             Prometheus text: demochain_height,
 *                             demochain_rounds_total, demochain_votes_total…
 *
 * The consensus loop serves a connection between two of its ticks, so a
 * client gets 1 s to send its request and 2 s to take the answer (socket
 * timeouts); a slow or silent one cannot hold the member longer.
 */
#ifndef SN_DEMOCHAIN_RPC_H
#define SN_DEMOCHAIN_RPC_H

#include "chain.h"

/* Serves one connection waiting on the listening socket, if any. */
void dc_rpc_serve_one(struct dc_member *m, int listen_fd, int64_t now);
/* The answer to one request path: HTTP status, body (malloc'ed) and type. */
int dc_rpc_answer(struct dc_member *m, const char *path, int64_t now, char **body, size_t *len,
		  const char **type);

#endif
