/* chain.h — one demochain member's consensus: rounds, proposals, votes,
 * finality and catch-up, driven by received datagrams and the clock. No
 * sockets here: the member sends through a callback, so main.c owns the
 * I/O and a test can wire members together in memory.
 *
 * Heights and rounds. After block H is final, a member waits block_ms,
 * then works on H+1 in rounds of round_ms by its own clock; the proposer of
 * round r is (H+1+r) mod n (block.h). A dead or slow proposer costs one
 * round: the next member proposes. A member votes for the first valid
 * block of H+1 it sees (from a proposal, or carried in another's vote), so
 * votes converge on one block; a proposer that already voted re-sends that
 * vote instead of proposing a second block. Every round each member sends
 * its vote again, which repairs a lost datagram. Votes of a height that
 * arrive early (a peer already at H+2) wait in a short queue.
 *
 * Catch-up. Every status_ms each member sends its height and last hash;
 * a member that hears of a higher one (in a status, or a vote for a later
 * height) asks that peer for the blocks after its own height (G), 64 at a
 * time, and appends them as final: members trust each other's final
 * blocks (crash faults, not lies), but each must link to the one before.
 * A member that sees a peer's hash differ at its own height says so
 * (a fork would be a bug).
 */
#ifndef SN_DEMOCHAIN_CHAIN_H
#define SN_DEMOCHAIN_CHAIN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "block.h"
#include "store.h"

#define DC_PENDING_MAX 32
#define DC_FETCH_BATCH 64

struct dc_peer {
	bool listed;                  /* in SUBNODE_PEERS / peers.json */
	struct sockaddr_in addr;      /* its port block's first port */
	uint64_t height;              /* as it last told */
	char hash[DC_HASH_HEX + 1];
	int64_t seen_ms;              /* monotonic; 0 = never heard */
};

struct dc_counters {
	uint64_t rounds, proposals, votes_sent, votes_received, final_voted, final_fetched;
	uint64_t epochs, messages_in, messages_bad, forks_seen;
};

struct dc_member;
/* Sends one datagram to member `to`. */
typedef void dc_send_fn(struct dc_member *m, unsigned to, const char *buf, size_t len);

struct dc_member {
	unsigned index, members;
	int64_t block_ms, round_ms, status_ms;
	char tag[DC_TAG_LEN + 1];
	struct dc_store store;
	struct dc_tally tally;            /* height store.height + 1 */
	bool voted;                       /* in tally.epoch */
	struct dc_block my_vote;
	int64_t height_since_ms;          /* when store.height was reached */
	long round;                       /* -1: none entered at this height */
	struct dc_peer peer[DC_MEMBERS_MAX];
	struct dc_msg pending[DC_PENDING_MAX];
	unsigned npending;
	int64_t next_status_ms, last_get_ms;
	uint64_t get_until;               /* the last block asked for */
	struct dc_counters n;
	dc_send_fn *send;
	void *ctx;                        /* the sender's */
};

/* Parses SUBNODE_PEERS ("0=10.0.0.1:30000,1=…", IPv4) into m->peer. */
int dc_peers_parse(struct dc_member *m, const char *list, struct sn_err *err);
/* The same from /etc/subnode/peers.json's "peers" ([{index, address,
 * port}]), which the link rewrites when a peer moves. */
int dc_peers_load_json(struct dc_member *m, const char *path, struct sn_err *err);

/* After m->index, members, *_ms, tag, store, send are set: starts at the
 * store's height, with its saved vote if any. */
void dc_member_start(struct dc_member *m, int64_t now);
void dc_member_tick(struct dc_member *m, int64_t now);
void dc_member_receive(struct dc_member *m, const char *buf, size_t len, int64_t now);

#endif
