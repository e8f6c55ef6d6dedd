/* block.h — the demo chain's data: blocks, their one-line text form and
 * hash, the quorum rule, the vote tally of one height, and the peer
 * messages. Pure functions, no I/O: tests/unit/workload/test_demochain.c
 * drives them directly. Hashes are base/sha256's (OpenSSL EVP), the one
 * SHA-256 of the project; demochain links libcrypto statically.
 *
 * A block is one line of text (the same in the block file and on the wire):
 *
 *     <height> <hash> <prev> <proposer> <round> <time_ms> <payload>
 *
 * hash = SHA-256 of "dc1 <height> <prev> <proposer> <round> <time_ms>
 * <payload>" (everything but the hash itself), lowercase hex. The block at
 * height 1 links to the genesis hash, SHA-256 of "subnode-demochain genesis
 * <chain>", so two chains never share a block. The payload is 1 to 200
 * characters of [A-Za-z0-9._:=-] (no spaces, so the line splits simply).
 *
 * Finality: a block is final when MORE than 2/3 of all members voted for it
 * (quorum q = floor(2n/3) + 1: 3 of 4, 5 of 7, 11 of 16). A member votes
 * at most once a height and epoch (its vote is on disk before it is sent,
 * so a restart cannot vote again), so two final blocks of one epoch would
 * need 2q > 4n/3 votes from n members: impossible, whatever the timing.
 * Votes that split so that no block can reach q (2 and 2 of 4) would stall
 * the height for ever; once a member has seen every member's vote of an
 * epoch and no block can be final (dc_tally_hopeless), it opens the next
 * epoch, whose votes are fresh. Safe because no block of the dead epoch
 * can ever gain a vote, so none of them is or becomes final.
 */
#ifndef SN_DEMOCHAIN_BLOCK_H
#define SN_DEMOCHAIN_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/sha256.h"

#define DC_HASH_HEX SN_SHA256_HEX_LEN

#define DC_PAYLOAD_MAX 200
#define DC_LINE_MAX 512      /* a block line, with room to spare */
#define DC_MSG_MAX 640       /* a datagram */
#define DC_MEMBERS_MAX 64
#define DC_CANDIDATES_MAX (2 * DC_MEMBERS_MAX)
#define DC_TAG_LEN 16        /* the chain tag on every message: genesis[0:16] */

struct dc_block {
	uint64_t height;
	char hash[DC_HASH_HEX + 1];
	char prev[DC_HASH_HEX + 1];
	unsigned proposer;
	unsigned round;
	int64_t time_ms;
	char payload[DC_PAYLOAD_MAX + 1];
};

int dc_genesis_hash(const char *chain, char out[DC_HASH_HEX + 1], struct sn_err *err);
/* Sets b->hash from the other fields. */
int dc_block_seal(struct dc_block *b, struct sn_err *err);
/* The line without its newline; returns its length (< size) or -ENOSPC. */
int dc_block_format(const struct dc_block *b, char *buf, size_t size);
/* Parses one line (no newline) and checks its hash and payload. */
int dc_block_parse(const char *line, struct dc_block *b, struct sn_err *err);
/* Is b the next block after (height, hash)? -EPROTO with why if not. */
int dc_block_follows(const struct dc_block *b, uint64_t height, const char *hash,
		     struct sn_err *err);

unsigned dc_quorum(unsigned members);
unsigned dc_proposer(uint64_t height, unsigned round, unsigned members);

/* The votes of one height and epoch, and the blocks seen at that height. */
struct dc_tally {
	unsigned members;
	uint64_t height;
	unsigned epoch;
	char vote[DC_MEMBERS_MAX][DC_HASH_HEX + 1];   /* "" = none yet */
	struct dc_block cand[DC_CANDIDATES_MAX];      /* blocks seen */
	unsigned ncand;
};

void dc_tally_reset(struct dc_tally *t, unsigned members, uint64_t height);
/* Remembers a block of t->height (kept once). -ENOSPC when full. */
int dc_tally_add_block(struct dc_tally *t, const struct dc_block *b);
const struct dc_block *dc_tally_find(const struct dc_tally *t, const char *hash);
/* A member's first vote counts; a later different one is refused
 * (-EEXIST), the same one again is 0. */
int dc_tally_vote(struct dc_tally *t, unsigned member, const char *hash);
unsigned dc_tally_count(const struct dc_tally *t, const char *hash);
/* The block with a quorum of votes whose content is known, or NULL. */
const struct dc_block *dc_tally_final(const struct dc_tally *t);
/* Every member voted in this epoch and no block reached the quorum: none
 * can any more. */
bool dc_tally_hopeless(const struct dc_tally *t);
/* Opens epoch e (> t->epoch): no votes, the blocks kept. */
void dc_tally_new_epoch(struct dc_tally *t, unsigned e);
/* The known block with the lowest hash that got a vote: what every member
 * that saw the same votes picks for the next epoch. */
const struct dc_block *dc_tally_lowest_voted(const struct dc_tally *t);

/* Peer messages, one datagram each, text:
 *   dc1 <tag> P <from> <epoch> <block line>  proposal (and the proposer's vote)
 *   dc1 <tag> V <from> <epoch> <block line>  vote, carrying the block
 *   dc1 <tag> S <from> <height> <hash>  status: my last final block
 *   dc1 <tag> G <from> <height>         send me your final blocks after height
 *   dc1 <tag> B <from> <block line>     a final block, answering G */
enum dc_msg_kind {
	DC_MSG_PROPOSE = 'P',
	DC_MSG_VOTE = 'V',
	DC_MSG_STATUS = 'S',
	DC_MSG_GET = 'G',
	DC_MSG_BLOCK = 'B',
};

struct dc_msg {
	char kind;
	unsigned from;
	unsigned epoch;                  /* P, V */
	uint64_t height;                 /* S, G */
	char hash[DC_HASH_HEX + 1];      /* S */
	struct dc_block block;           /* P, V, B */
};

int dc_msg_format(const struct dc_msg *m, const char *tag, char *buf, size_t size);
/* Refuses another chain's tag, an unknown kind, a sender >= members. */
int dc_msg_parse(const char *buf, size_t len, const char *tag, unsigned members,
		 struct dc_msg *m, struct sn_err *err);

#endif
