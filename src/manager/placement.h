/* placement.h — where a chain's members go: a pure, deterministic function
 * of (the eligible nodes with their free units and operators, the chain's
 * id, the epoch's seed), so anyone holding those inputs — the decision log
 * records them — gets the same answer (docs/MANAGER.md, Placement).
 *
 * The rule, in full:
 *   1. chain key: h = SHA-256(seed ‖ draw); k1, k2 = its first two
 *      64-bit words (big-endian). The draw is the chain id, except for a
 *      rotation, which draws anew (`<chain id>/<log seq>`, decide.h).
 *   2. node key: n = first 64-bit word of SHA-256(node name).
 *   3. score(node) = mix(mix(n ⊕ k1) ⊕ k2), mix = splitmix64's finaliser.
 *   4. Candidates: the given nodes with free units ≥ the chain's units,
 *      minus the nodes already holding a member of the chain (fixed) and
 *      the excluded ones.
 *   5. Walk the candidates by ascending (score, name); take a node unless
 *      its operator already has cap members (counting the fixed ones);
 *      stop at `need`. cap = max(1, ⌊(N−1)/3⌋) for a chain of N members.
 * The result depends on the set of candidates only, never on their order.
 * Rendezvous hashing: a node joining or leaving moves only the members it
 * wins or held.
 */
#ifndef SN_MANAGER_PLACEMENT_H
#define SN_MANAGER_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>
#include "base/err.h"

#define MGR_SEED_LEN 32

struct mgr_cand {
	const char *name;
	const char *operator;  /* "" = the node is its own operator */
	int64_t free_units;
	uint64_t key;          /* filled by mgr_place_prepare */
};

struct mgr_member_ref {
	const char *node;
	const char *operator;
};

struct mgr_place_req {
	const uint8_t *seed;          /* MGR_SEED_LEN bytes */
	const char *chain_id;
	const char *draw;             /* what the chain key hashes; NULL: chain_id */
	int64_t units;                /* per member */
	size_t members;               /* N: the chain's size, for the operator cap */
	size_t need;                  /* how many to pick now */
	const struct mgr_member_ref *fixed;  /* members the chain keeps */
	size_t nfixed;
	const char *const *exclude;   /* more nodes not to pick (e.g. the one left) */
	size_t nexclude;
};

/* Fill each candidate's key (SHA-256 of its name); once per snapshot. */
int mgr_place_prepare(struct mgr_cand *c, size_t n, struct sn_err *err);
/* Pick req->need candidates into picked[] (indexes into c, in walk order).
 * -ENOSPC with a message naming the chain and what is short when there are
 * too few candidates or the operator rule cannot be met. */
int mgr_place(const struct mgr_cand *c, size_t n, const struct mgr_place_req *req,
	      size_t *picked, struct sn_err *err);
/* max(1, ⌊(N−1)/3⌋). */
size_t mgr_operator_cap(size_t members);

/* The epoch seed chain (docs/MANAGER.md, Seeds):
 *   seed_0     = SHA-256("subnode/genesis/v1" ‖ genesis)
 *   seed_{e}   = SHA-256("subnode/epoch/v1" ‖ seed_{e−1} ‖ be64(e) ‖ beacon_e)
 * beacon_e is the optional external value the admin supplies (may be empty). */
int mgr_seed_genesis(const uint8_t *genesis, size_t len, uint8_t out[MGR_SEED_LEN],
		     struct sn_err *err);
int mgr_seed_next(const uint8_t prev[MGR_SEED_LEN], uint64_t epoch, const uint8_t *beacon,
		  size_t beacon_len, uint8_t out[MGR_SEED_LEN], struct sn_err *err);

/* Hex of len bytes into out (2·len + 1); and back (-EINVAL on bad hex or a
 * length other than the one expected; max_len bounds a variable one). */
void mgr_hex(const uint8_t *b, size_t len, char *out);
int mgr_unhex(const char *s, uint8_t *out, size_t max_len, size_t *len);

#endif
