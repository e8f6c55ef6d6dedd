/* store.h — a demochain member's data on its volume (SUBNODE_DATA, /data).
 *
 *   DIR/demochain.blocks      the final blocks, one line each (block.h),
 *                             height 1 first; appended and fdatasync'ed
 *                             before the member says a block is final
 *   DIR/demochain.vote.<i>    member i's vote at the height it works on:
 *                             "<height> <epoch> <block line>", replaced
 *                             atomically before the vote is sent
 *
 * Opening reads the whole block file and checks every line and its link to
 * the one before; a line that fails (a torn write at a crash, a copy taken
 * in the middle of an append) is cut off with everything after it, and the
 * member fetches those blocks again from its peers. A member whose volume
 * was filled with a copy of another member's therefore resumes from the
 * copied height. The vote file carries its member's index in its name: a
 * copy holds the source's vote, which is not the new member's. Only the
 * offset of each line stays in memory; blocks are read back with pread.
 */
#ifndef SN_DEMOCHAIN_STORE_H
#define SN_DEMOCHAIN_STORE_H

#include <stdint.h>

#include "block.h"

struct dc_store {
	int fd;                          /* block file, O_APPEND */
	char dir[4096];
	uint64_t height;                 /* last final block, 0 = none */
	char last_hash[DC_HASH_HEX + 1]; /* its hash, or the genesis hash */
	uint64_t *offset;                /* offset[h - 1]: where block h starts */
	uint64_t end;                    /* file size */
	size_t cap;
	uint64_t cut_bytes;              /* dropped at open (a torn tail) */
	unsigned index;
};

int dc_store_open(struct dc_store *s, const char *dir, const char *genesis, unsigned index,
		  struct sn_err *err);
void dc_store_close(struct dc_store *s);
/* Appends b (which must follow the last block) and syncs it. */
int dc_store_append(struct dc_store *s, const struct dc_block *b, struct sn_err *err);
/* Block `height` (1 .. s->height). */
int dc_store_get(const struct dc_store *s, uint64_t height, struct dc_block *b, struct sn_err *err);
/* This member's vote: saved (synced) before it is sent; loaded at start. */
int dc_store_save_vote(struct dc_store *s, unsigned epoch, const struct dc_block *b,
		       struct sn_err *err);
/* 1 with *epoch and *b when a vote for the height after the last block is
 * on disk, 0 when none. */
int dc_store_load_vote(const struct dc_store *s, unsigned *epoch, struct dc_block *b);

#endif
