/* test_demochain.c — unit tests of the demo chain (src/workload/demochain):
 * a block's line and hash, the hash chain, the quorum and the vote tally
 * (split votes, epochs), the peer messages, the block file (resume, a torn
 * tail cut, the vote kept per member), and four members wired together in
 * memory on a fake clock: blocks final with 4 and 3 members, none with 2,
 * and every member on the same hashes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/sha256.h"
#include "workload/demochain/block.h"
#include "workload/demochain/chain.h"
#include "workload/demochain/store.h"

static char genesis[DC_HASH_HEX + 1];

static struct dc_block make_block(uint64_t height, const char *prev, unsigned proposer, const char *payload)
{
	struct dc_block b = { .height = height, .proposer = proposer, .round = 0, .time_ms = 1700000000000 };
	struct sn_err err = { 0 };
	snprintf(b.prev, sizeof(b.prev), "%s", prev);
	snprintf(b.payload, sizeof(b.payload), "%s", payload);
	assert_int_equal(dc_block_seal(&b, &err), 0);
	return b;
}

static int setup(void **state)
{
	struct sn_err err = { 0 };
	return dc_genesis_hash("test-chain", genesis, &err);
}

static void block_line_round_trips_and_hash_is_sha256_of_its_content(void **state)
{
	struct dc_block b = make_block(1, genesis, 1, "tx=1"), back;
	char line[DC_LINE_MAX], want[DC_HASH_HEX + 1], content[DC_LINE_MAX];
	struct sn_err err = { 0 };
	assert_true(dc_block_format(&b, line, sizeof(line)) > 0);
	assert_int_equal(dc_block_parse(line, &back, &err), 0);
	assert_memory_equal(&b, &back, sizeof(b));
	snprintf(content, sizeof(content), "dc1 1 %s 1 0 1700000000000 tx=1", genesis);
	assert_int_equal(sn_sha256_hex(content, strlen(content), want, &err), 0);
	assert_string_equal(b.hash, want);
	/* two chains never share a block 1 */
	char other[DC_HASH_HEX + 1];
	assert_int_equal(dc_genesis_hash("other-chain", other, &err), 0);
	assert_string_not_equal(other, genesis);
}

static void refuses_a_block_whose_content_does_not_match_its_hash(void **state)
{
	struct dc_block b = make_block(1, genesis, 1, "tx=1"), back;
	char line[DC_LINE_MAX];
	struct sn_err err = { 0 };
	dc_block_format(&b, line, sizeof(line));
	line[strlen(line) - 1] = '2'; /* payload tx=2 */
	assert_int_equal(dc_block_parse(line, &back, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "does not match its content"));
	assert_int_equal(dc_block_parse("1 2 3", &back, &err), -EPROTO);
	assert_int_equal(dc_block_parse("", &back, &err), -EPROTO);
	b.payload[0] = ' ';
	dc_block_format(&b, line, sizeof(line));
	assert_int_equal(dc_block_parse(line, &back, &err), -EPROTO);
}

static void hash_chain_links_each_block_to_the_one_before(void **state)
{
	struct dc_block b1 = make_block(1, genesis, 1, "a"), b2 = make_block(2, b1.hash, 2, "b");
	struct dc_block stray = make_block(2, genesis, 2, "b");
	struct sn_err err = { 0 };
	assert_int_equal(dc_block_follows(&b1, 0, genesis, &err), 0);
	assert_int_equal(dc_block_follows(&b2, 1, b1.hash, &err), 0);
	assert_int_equal(dc_block_follows(&stray, 1, b1.hash, &err), -EPROTO);
	assert_int_equal(dc_block_follows(&b2, 0, genesis, &err), -EPROTO);
	assert_string_not_equal(b2.hash, stray.hash);
}

static void quorum_is_more_than_two_thirds(void **state)
{
	unsigned want[] = { 0, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7 };
	for (unsigned n = 1; n <= 10; n++) {
		assert_int_equal(dc_quorum(n), want[n]);
		assert_true(3 * dc_quorum(n) > 2 * n);
		assert_false(3 * (dc_quorum(n) - 1) > 2 * n);
	}
	assert_int_equal(dc_quorum(16), 11);
	assert_int_equal(dc_proposer(1, 0, 4), 1);
	assert_int_equal(dc_proposer(1, 3, 4), 0);
}

static void tally_counts_each_member_once_and_finds_the_final_block(void **state)
{
	struct dc_tally t;
	struct dc_block a = make_block(1, genesis, 1, "a"), b = make_block(1, genesis, 2, "b");
	dc_tally_reset(&t, 4, 1);
	assert_int_equal(dc_tally_add_block(&t, &a), 0);
	assert_int_equal(dc_tally_add_block(&t, &a), 0);
	assert_int_equal(t.ncand, 1);
	assert_int_equal(dc_tally_vote(&t, 0, a.hash), 0);
	assert_int_equal(dc_tally_vote(&t, 0, a.hash), 0);
	assert_int_equal(dc_tally_vote(&t, 0, b.hash), -EEXIST);
	assert_int_equal(dc_tally_vote(&t, 4, a.hash), -EINVAL);
	assert_int_equal(dc_tally_vote(&t, 1, a.hash), 0);
	assert_int_equal(dc_tally_count(&t, a.hash), 2);
	assert_null(dc_tally_final(&t)); /* 2 of 4 is not more than 2/3 */
	assert_int_equal(dc_tally_vote(&t, 2, a.hash), 0);
	assert_ptr_equal(dc_tally_final(&t), dc_tally_find(&t, a.hash));
	/* a quorum for a block whose content is unknown finalises nothing */
	dc_tally_reset(&t, 4, 1);
	for (unsigned i = 0; i < 3; i++)
		dc_tally_vote(&t, i, b.hash);
	assert_null(dc_tally_final(&t));
	struct dc_block wrong_height = make_block(2, genesis, 2, "b");
	assert_int_equal(dc_tally_add_block(&t, &wrong_height), -EINVAL);
}

static void split_votes_open_a_new_epoch_only_when_no_block_can_be_final(void **state)
{
	struct dc_tally t;
	struct dc_block a = make_block(1, genesis, 1, "a"), b = make_block(1, genesis, 2, "b");
	dc_tally_reset(&t, 4, 1);
	dc_tally_add_block(&t, &a);
	dc_tally_add_block(&t, &b);
	dc_tally_vote(&t, 0, a.hash);
	dc_tally_vote(&t, 1, a.hash);
	dc_tally_vote(&t, 2, b.hash);
	assert_false(dc_tally_hopeless(&t)); /* member 3 could still make a final */
	dc_tally_vote(&t, 3, b.hash);
	assert_true(dc_tally_hopeless(&t));
	const struct dc_block *low = dc_tally_lowest_voted(&t);
	assert_string_equal(low->hash, strcmp(a.hash, b.hash) < 0 ? a.hash : b.hash);
	dc_tally_new_epoch(&t, 1);
	assert_int_equal(t.epoch, 1);
	assert_int_equal(t.ncand, 2);
	assert_int_equal(dc_tally_count(&t, a.hash), 0);
	assert_false(dc_tally_hopeless(&t));
}

static void messages_round_trip_and_refuse_another_chain(void **state)
{
	const char *tag = "0123456789abcdef";
	struct dc_msg m = { .kind = DC_MSG_VOTE, .from = 2, .epoch = 3, .block = make_block(1, genesis, 1, "x") };
	struct dc_msg back;
	char buf[DC_MSG_MAX];
	struct sn_err err = { 0 };
	int n = dc_msg_format(&m, tag, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(dc_msg_parse(buf, (size_t)n, tag, 4, &back, &err), 0);
	assert_int_equal(back.kind, DC_MSG_VOTE);
	assert_int_equal(back.from, 2);
	assert_int_equal(back.epoch, 3);
	assert_memory_equal(&back.block, &m.block, sizeof(m.block));
	assert_int_equal(dc_msg_parse(buf, (size_t)n, "fedcba9876543210", 4, &back, &err), -EPROTO);
	assert_int_equal(dc_msg_parse(buf, (size_t)n, tag, 2, &back, &err), -EPROTO); /* from 2 of 2 */
	struct dc_msg g = { .kind = DC_MSG_GET, .from = 1, .height = 42 };
	n = dc_msg_format(&g, tag, buf, sizeof(buf));
	assert_int_equal(dc_msg_parse(buf, (size_t)n, tag, 4, &back, &err), 0);
	assert_int_equal(back.height, 42);
	assert_int_equal(dc_msg_parse("dc1 0123456789abcdef X 1 5", 26, tag, 4, &back, &err), -EPROTO);
	assert_int_equal(dc_msg_parse("dc1 0123456789abcdef P 1", 24, tag, 4, &back, &err), -EPROTO);
}

/* ---- the block file */

static char dir[64];

static int make_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sn-demochain-unit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	struct sn_err err = { 0 };
	return sn_rm_rf(dir, &err);
}

static void store_resumes_at_its_height_and_cuts_a_torn_tail(void **state)
{
	struct dc_store s;
	struct sn_err err = { 0 };
	assert_int_equal(dc_store_open(&s, dir, genesis, 0, &err), 0);
	assert_int_equal(s.height, 0);
	struct dc_block b1 = make_block(1, genesis, 1, "a"), b2 = make_block(2, b1.hash, 2, "b");
	struct dc_block stray = make_block(3, genesis, 3, "c");
	assert_int_equal(dc_store_append(&s, &b1, &err), 0);
	assert_int_equal(dc_store_append(&s, &b2, &err), 0);
	assert_int_equal(dc_store_append(&s, &stray, &err), -EPROTO);
	dc_store_close(&s);
	/* a crash in the middle of appending block 3 */
	char path[128];
	snprintf(path, sizeof(path), "%s/demochain.blocks", dir);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "3 abc", 5), 5);
	close(fd);
	assert_int_equal(dc_store_open(&s, dir, genesis, 0, &err), 0);
	assert_int_equal(s.height, 2);
	assert_string_equal(s.last_hash, b2.hash);
	assert_int_equal(s.cut_bytes, 5);
	struct dc_block got;
	assert_int_equal(dc_store_get(&s, 1, &got, &err), 0);
	assert_string_equal(got.hash, b1.hash);
	assert_int_equal(dc_store_get(&s, 3, &got, &err), -ENOENT);
	/* the vote: of this member only, for the next height only */
	struct dc_block v = make_block(3, b2.hash, 3, "v");
	unsigned epoch = 0;
	assert_int_equal(dc_store_save_vote(&s, 2, &v, &err), 0);
	assert_int_equal(dc_store_load_vote(&s, &epoch, &got), 1);
	assert_int_equal(epoch, 2);
	assert_string_equal(got.hash, v.hash);
	dc_store_close(&s);
	assert_int_equal(dc_store_open(&s, dir, genesis, 1, &err), 0);
	assert_int_equal(s.height, 2);
	assert_int_equal(dc_store_load_vote(&s, &epoch, &got), 0);
	dc_store_close(&s);
}

/* ---- four members in memory */

#define N 4
static struct dc_member net[N];
static bool alive[N];
struct packet {
	unsigned to;
	size_t len;
	char buf[DC_MSG_MAX];
};
static struct packet queue[4096];
static unsigned queued;

static void send_mem(struct dc_member *m, unsigned to, const char *buf, size_t len)
{
	if (queued == 4096)
		return; /* lost, as UDP may */
	queue[queued].to = to;
	queue[queued].len = len;
	memcpy(queue[queued].buf, buf, len);
	queued++;
}

static int saved_stdout = -1;

static int start_net(void **state)
{
	/* the members' progress lines would mix into cmocka's TAP */
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	int null = open("/dev/null", O_WRONLY);
	dup2(null, STDOUT_FILENO);
	close(null);
	make_dir(state);
	struct sn_err err = { 0 };
	queued = 0;
	for (unsigned i = 0; i < N; i++) {
		struct dc_member *m = &net[i];
		char d[128];
		memset(m, 0, sizeof(*m));
		m->index = i;
		m->members = N;
		m->block_ms = 100;
		m->round_ms = 500;
		m->status_ms = 100;
		memcpy(m->tag, genesis, DC_TAG_LEN);
		m->send = send_mem;
		assert_int_equal(dc_peers_parse(m, "0=127.0.0.1:1,1=127.0.0.2:1,2=127.0.0.3:1,3=127.0.0.4:1", &err), 0);
		snprintf(d, sizeof(d), "%s/m%u", dir, i);
		assert_int_equal(dc_store_open(&m->store, d, genesis, i, &err), 0);
		dc_member_start(m, 0);
		alive[i] = true;
	}
	return 0;
}

static int stop_net(void **state)
{
	for (unsigned i = 0; i < N; i++)
		dc_store_close(&net[i].store);
	fflush(stdout);
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	return remove_dir(state);
}

/* Runs the network from `from` to `to` ms in steps of 10 ms. */
static void run_net(int64_t from, int64_t to)
{
	static struct packet now_q[4096];
	for (int64_t t = from; t < to; t += 10) {
		unsigned n = queued;
		memcpy(now_q, queue, n * sizeof(now_q[0]));
		queued = 0;
		for (unsigned i = 0; i < n; i++)
			if (alive[now_q[i].to])
				dc_member_receive(&net[now_q[i].to], now_q[i].buf, now_q[i].len, t);
		for (unsigned i = 0; i < N; i++)
			if (alive[i])
				dc_member_tick(&net[i], t);
	}
}

static void same_block(uint64_t h)
{
	struct dc_block ref = { 0 }, b;
	struct sn_err err = { 0 };
	for (unsigned i = 0; i < N; i++) {
		if (net[i].store.height < h)
			continue;
		assert_int_equal(dc_store_get(&net[i].store, h, &b, &err), 0);
		if (!ref.height)
			ref = b;
		assert_string_equal(b.hash, ref.hash);
	}
}

static void members_finalise_with_three_of_four_and_not_with_two(void **state)
{
	run_net(0, 3000);
	for (unsigned i = 0; i < N; i++)
		assert_true(net[i].store.height >= 5);
	/* member 1 dies: its rounds time out, the other three go on */
	alive[1] = false;
	uint64_t h = net[0].store.height;
	run_net(3000, 9000);
	assert_true(net[0].store.height >= h + 5);
	for (uint64_t k = 1; k <= net[0].store.height; k++)
		same_block(k);
	/* member 2 dies too: 2 of 4 is not more than 2/3 */
	alive[2] = false;
	run_net(9000, 10000);
	h = net[0].store.height;
	uint64_t rounds = net[0].n.rounds;
	run_net(10000, 15000);
	assert_int_equal(net[0].store.height, h);
	assert_int_equal(net[3].store.height, h);
	assert_true(net[0].n.rounds >= rounds + 5); /* no hang: rounds go on */
	/* both come back: member 1 catches up and the chain goes on */
	alive[1] = alive[2] = true;
	run_net(15000, 20000);
	assert_true(net[1].store.height > h);
	assert_true(net[1].n.final_fetched > 0);
	for (uint64_t k = 1; k <= net[0].store.height; k++)
		same_block(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(block_line_round_trips_and_hash_is_sha256_of_its_content),
		cmocka_unit_test(refuses_a_block_whose_content_does_not_match_its_hash),
		cmocka_unit_test(hash_chain_links_each_block_to_the_one_before),
		cmocka_unit_test(quorum_is_more_than_two_thirds),
		cmocka_unit_test(tally_counts_each_member_once_and_finds_the_final_block),
		cmocka_unit_test(split_votes_open_a_new_epoch_only_when_no_block_can_be_final),
		cmocka_unit_test(messages_round_trip_and_refuse_another_chain),
		cmocka_unit_test_setup_teardown(store_resumes_at_its_height_and_cuts_a_torn_tail, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(members_finalise_with_three_of_four_and_not_with_two, start_net,
						stop_net),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
