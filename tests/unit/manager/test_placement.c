/* test_placement.c — the placement rule (placement.h): deterministic,
 * independent of the order of the nodes, distinct nodes, room, the
 * operator rule, the heap shortcut giving the full sort's answer, and the
 * seed chain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager/placement.h"
#include "base/sha256.h"

/* The rule of placement.h written out plainly (score every candidate, sort
 * everything, walk): the reference the fast path must equal. */
static uint64_t ref_mix(uint64_t z)
{
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ULL;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct ref_item { uint64_t score; const struct mgr_cand *c; };

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_item *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return strcmp(x->c->name, y->c->name);
}

static size_t ref_place(const struct mgr_cand *c, size_t n, const struct mgr_place_req *req,
			const char **out)
{
	uint8_t buf[256], h[32];
	size_t l = strlen(req->chain_id), hl;
	memcpy(buf, req->seed, MGR_SEED_LEN);
	memcpy(buf + MGR_SEED_LEN, req->chain_id, l);
	char hex[65];
	struct sn_err err = { 0 };
	assert_int_equal(sn_sha256_hex(buf, MGR_SEED_LEN + l, hex, &err), 0);
	assert_int_equal(mgr_unhex(hex, h, 32, &hl), 0);
	uint64_t k1 = 0, k2 = 0;
	for (int i = 0; i < 8; i++) {
		k1 = k1 << 8 | h[i];
		k2 = k2 << 8 | h[8 + i];
	}
	struct ref_item *all = calloc(n, sizeof(*all));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (c[i].free_units >= req->units)
			all[k++] = (struct ref_item){ ref_mix(ref_mix(c[i].key ^ k1) ^ k2), &c[i] };
	qsort(all, k, sizeof(*all), ref_cmp);
	size_t got = 0, cap = mgr_operator_cap(req->members);
	for (size_t i = 0; i < k && got < req->need; i++) {
		size_t same = 0;
		for (size_t j = 0; j < got; j++)
			for (size_t m = 0; m < n; m++)
				if (strcmp(c[m].name, out[j]) == 0 &&
				    strcmp(c[m].operator, all[i].c->operator) == 0)
					same++;
		if (same < cap)
			out[got++] = all[i].c->name;
	}
	free(all);
	return got;
}

static const uint8_t seed[MGR_SEED_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* n nodes "n<i>", operator "op<i % nops>", free units `free`. */
static struct mgr_cand *make_nodes(size_t n, size_t nops, int64_t free_units)
{
	struct mgr_cand *c = calloc(n, sizeof(*c));
	assert_non_null(c);
	for (size_t i = 0; i < n; i++) {
		char *name, *op;
		assert_true(asprintf(&name, "n%zu", i) > 0);
		assert_true(asprintf(&op, "op%zu", nops ? i % nops : i) > 0);
		c[i].name = name;
		c[i].operator = op;
		c[i].free_units = free_units;
	}
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place_prepare(c, n, &err), 0);
	return c;
}

static void free_nodes(struct mgr_cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)c[i].name);
		free((char *)c[i].operator);
	}
	free(c);
}

static struct mgr_place_req req_for(const char *chain, size_t members, size_t need)
{
	return (struct mgr_place_req){ .seed = seed, .chain_id = chain, .units = 1,
				       .members = members, .need = need };
}

static void same_input_same_answer_in_any_order(void **state)
{
	size_t n = 200;
	struct mgr_cand *c = make_nodes(n, 0, 8);
	struct mgr_place_req req = req_for("chain-a.1", 16, 16);
	size_t a[16], b[16];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, n, &req, a, &err), 0);
	/* reverse the array: the picks are the same nodes in the same order */
	for (size_t i = 0; i < n / 2; i++) {
		struct mgr_cand t = c[i];
		c[i] = c[n - 1 - i];
		c[n - 1 - i] = t;
	}
	assert_int_equal(mgr_place(c, n, &req, b, &err), 0);
	for (size_t i = 0; i < 16; i++)
		assert_string_equal(c[b[i]].name, c[n - 1 - a[i]].name);
	free_nodes(c, n);
}

static void members_on_distinct_nodes_with_room(void **state)
{
	size_t n = 40;
	struct mgr_cand *c = make_nodes(n, 0, 8);
	for (size_t i = 0; i < n; i += 2)
		c[i].free_units = 3;  /* too small for 4 units */
	struct mgr_place_req req = req_for("big.1", 16, 16);
	req.units = 4;
	size_t p[16];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, n, &req, p, &err), 0);
	for (size_t i = 0; i < 16; i++) {
		assert_true(c[p[i]].free_units >= 4);
		for (size_t j = 0; j < i; j++)
			assert_true(p[i] != p[j]);
	}
	free_nodes(c, n);
}

static void different_chains_or_seeds_differ(void **state)
{
	size_t n = 100;
	struct mgr_cand *c = make_nodes(n, 0, 8);
	struct mgr_place_req r1 = req_for("x.1", 4, 4), r2 = req_for("y.2", 4, 4);
	size_t a[4], b[4];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, n, &r1, a, &err), 0);
	assert_int_equal(mgr_place(c, n, &r2, b, &err), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	uint8_t seed2[MGR_SEED_LEN] = { 9 };
	r2 = r1;
	r2.seed = seed2;
	assert_int_equal(mgr_place(c, n, &r2, b, &err), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	free_nodes(c, n);
}

static void too_few_nodes_is_refused_naming_the_chain(void **state)
{
	struct mgr_cand *c = make_nodes(3, 0, 8);
	struct mgr_place_req req = req_for("short.1", 4, 4);
	size_t p[4];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, 3, &req, p, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "`short.1`"));
	assert_non_null(strstr(err.msg, "3 eligible"));
	free_nodes(c, 3);
}

static void two_operators_cannot_hold_a_chain_of_four(void **state)
{
	struct mgr_cand *c = make_nodes(6, 2, 8);
	struct mgr_place_req req = req_for("bft.1", 4, 4);
	size_t p[4];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, 6, &req, p, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "at most 1 on the nodes of one operator"));
	assert_non_null(strstr(err.msg, "2 operators"));
	free_nodes(c, 6);
}

static void operators_hold_one_member_each_when_n_is_four(void **state)
{
	/* A chain of 4 allows ⌊3/3⌋ = 1 member per operator, so it needs 4
	 * operators: over 6 nodes of 3 operators it is refused too (issue 15's
	 * "3 operators → placed" cannot hold with its own rule); a chain of 3
	 * is placed one per operator there, and a chain of 4 over 8 nodes of 4
	 * operators one per operator. */
	struct mgr_cand *c = make_nodes(6, 3, 8);
	struct mgr_place_req req = req_for("bft.2", 4, 4);
	size_t p[4];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, 6, &req, p, &err), -ENOSPC);
	/* a chain of 3 (cap max(1, 0) = 1) is placed on the 3 operators */
	req = req_for("bft.3", 3, 3);
	assert_int_equal(mgr_place(c, 6, &req, p, &err), 0);
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(c[p[i]].operator, c[p[j]].operator);
	free_nodes(c, 6);
	c = make_nodes(8, 4, 8);
	req = req_for("bft.4", 4, 4);
	assert_int_equal(mgr_place(c, 8, &req, p, &err), 0);
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(c[p[i]].operator, c[p[j]].operator);
	free_nodes(c, 8);
}

static void cap_counts_the_members_kept(void **state)
{
	/* chain of 7: cap 2. Two kept members of op0: no new one on op0, so 4
	 * new ones fit (2 on op1, 2 on op2) and a 5th does not. */
	struct mgr_cand *c = make_nodes(30, 3, 8);
	struct mgr_member_ref fixed[] = { { "k1", "op0" }, { "k2", "op0" } };
	struct mgr_place_req req = req_for("keep.1", 7, 4);
	req.fixed = fixed;
	req.nfixed = 2;
	size_t p[5];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, 30, &req, p, &err), 0);
	size_t per[3] = { 0 };
	for (size_t i = 0; i < 4; i++)
		per[atoi(c[p[i]].operator + 2)]++;
	assert_int_equal(per[0], 0);
	assert_int_equal(per[1], 2);
	assert_int_equal(per[2], 2);
	req.need = 5;
	assert_int_equal(mgr_place(c, 30, &req, p, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "at most 2"));
	free_nodes(c, 30);
}

static void excluded_and_kept_nodes_are_not_picked(void **state)
{
	struct mgr_cand *c = make_nodes(10, 0, 8);
	struct mgr_place_req full = req_for("ex.1", 4, 4);
	size_t a[4], b[1];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, 10, &full, a, &err), 0);
	/* the first pick's node dies: the replacement is the 5th of the same
	 * order, the three kept stay */
	struct mgr_member_ref kept[3];
	for (int i = 0; i < 3; i++)
		kept[i] = (struct mgr_member_ref){ c[a[i + 1]].name, c[a[i + 1]].operator };
	const char *dead[] = { c[a[0]].name };
	struct mgr_place_req rep = req_for("ex.1", 4, 1);
	rep.fixed = kept;
	rep.nfixed = 3;
	rep.exclude = dead;
	rep.nexclude = 1;
	assert_int_equal(mgr_place(c, 10, &rep, b, &err), 0);
	for (int i = 0; i < 4; i++)
		assert_true(b[0] != a[i]);
	free_nodes(c, 10);
}

static void heap_shortcut_equals_full_sort(void **state)
{
	/* 1,000 nodes: 950 of one operator, 50 each its own. A chain of 40
	 * (cap 13) needs 27 of the 50 singles, more than the heap of 176 best
	 * holds, so the full-sort path runs: compare it with the reference. */
	size_t n = 1000;
	struct mgr_cand *c = make_nodes(n, 0, 8);
	for (size_t i = 0; i < n; i++) {
		free((char *)c[i].operator);
		char *op;
		assert_true(asprintf(&op, "op%zu", i % 20 == 0 ? i : 1) > 0);
		c[i].operator = op;
	}
	struct mgr_place_req req = req_for("deep.1", 40, 40);
	size_t p[40];
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place(c, n, &req, p, &err), 0);
	size_t cap = mgr_operator_cap(40);
	assert_int_equal(cap, 13);
	for (size_t i = 0; i < 40; i++) {
		size_t same = 0;
		for (size_t j = 0; j < 40; j++)
			same += strcmp(c[p[i]].operator, c[p[j]].operator) == 0;
		assert_true(same <= cap);
	}
	const char *ref[40];
	assert_int_equal(ref_place(c, n, &req, ref), 40);
	for (size_t i = 0; i < 40; i++)
		assert_string_equal(c[p[i]].name, ref[i]);
	/* and for a small chain, served by the heap alone */
	struct mgr_place_req small = req_for("deep.2", 4, 4);
	size_t ps[4];
	assert_int_equal(mgr_place(c, n, &small, ps, &err), 0);
	assert_int_equal(ref_place(c, n, &small, ref), 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(c[ps[i]].name, ref[i]);
	size_t q[40];
	assert_int_equal(mgr_place(c, n, &req, q, &err), 0);
	assert_memory_equal(p, q, sizeof(p));
	free_nodes(c, n);
}

static void operator_cap_is_a_third(void **state)
{
	assert_int_equal(mgr_operator_cap(1), 1);
	assert_int_equal(mgr_operator_cap(3), 1);
	assert_int_equal(mgr_operator_cap(4), 1);
	assert_int_equal(mgr_operator_cap(7), 2);
	assert_int_equal(mgr_operator_cap(16), 5);
}

static void seed_chain_is_a_hash_chain(void **state)
{
	uint8_t s0[MGR_SEED_LEN], s1[MGR_SEED_LEN], s1b[MGR_SEED_LEN], s1c[MGR_SEED_LEN];
	struct sn_err err = { 0 };
	const uint8_t g[] = "genesis";
	assert_int_equal(mgr_seed_genesis(g, 7, s0, &err), 0);
	assert_int_equal(mgr_seed_next(s0, 1, NULL, 0, s1, &err), 0);
	assert_int_equal(mgr_seed_next(s0, 1, NULL, 0, s1b, &err), 0);
	assert_memory_equal(s1, s1b, MGR_SEED_LEN);
	const uint8_t beacon[] = { 0xde, 0xad };
	assert_int_equal(mgr_seed_next(s0, 1, beacon, 2, s1c, &err), 0);
	assert_memory_not_equal(s1, s1c, MGR_SEED_LEN);
	char hex[65];
	mgr_hex(s0, 32, hex);
	uint8_t back[32];
	size_t bl;
	assert_int_equal(mgr_unhex(hex, back, 32, &bl), 0);
	assert_int_equal(bl, 32);
	assert_memory_equal(back, s0, 32);
	assert_int_equal(mgr_unhex("zz", back, 32, &bl), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_input_same_answer_in_any_order),
		cmocka_unit_test(members_on_distinct_nodes_with_room),
		cmocka_unit_test(different_chains_or_seeds_differ),
		cmocka_unit_test(too_few_nodes_is_refused_naming_the_chain),
		cmocka_unit_test(two_operators_cannot_hold_a_chain_of_four),
		cmocka_unit_test(operators_hold_one_member_each_when_n_is_four),
		cmocka_unit_test(cap_counts_the_members_kept),
		cmocka_unit_test(excluded_and_kept_nodes_are_not_picked),
		cmocka_unit_test(heap_shortcut_equals_full_sort),
		cmocka_unit_test(operator_cap_is_a_third),
		cmocka_unit_test(seed_chain_is_a_hash_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
