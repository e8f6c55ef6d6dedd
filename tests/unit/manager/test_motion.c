/* test_motion.c — moves that keep a chain's quorum (src/manager/motion.c)
 * on the manager core with simulated nodes: a node's exit moves its
 * members make-before-break, never more than ⌊(N−1)/3⌋ of a chain at once,
 * the old member kept (and granting its data to the new one) until the new
 * one reports running — healthy, when the chain has a health check; a node
 * in maintenance takes no new member; the periodic rotation moves the
 * longest-seated member of each chain, one at a time, each move logged
 * with its own draw, and verify re-computes all of it. */
#include "fixture.h"

#include <unistd.h>

static int setup(void **state)
{
	return fx_open(state, 0);
}

static int setup_rotating(void **state)
{
	return fx_open(state, 200);
}

static int teardown(void **state)
{
	return fx_close(state);
}


static size_t in_motion(json_t *chain)
{
	size_t n = 0;
	json_t *seat;
	size_t i;
	json_array_foreach(json_object_get(chain, "seats"), i, seat)
		n += json_object_get(seat, "from") != NULL;
	return n;
}

static const char *from_of(json_t *chain, size_t i)
{
	return json_string_value(json_object_get(seat_of(chain, i), "from"));
}

/* Seat i of chain runs on node `node`, in motion from `from` (NULL: not). */
static void expect_seat(struct fx *f, const char *chain, size_t i, const char *node,
			const char *from)
{
	json_t *c = inspect(f, chain);
	assert_string_equal(seat_node(c, i), node);
	if (from)
		assert_string_equal(from_of(c, i), from);
	else
		assert_null(from_of(c, i));
	json_decref(c);
}

static void admin(struct fx *f, const char *node, const char *verb)
{
	struct sn_err err = { 0 };
	int r = mgr_node_admin(f->m, node, verb, &err);
	if (r)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
}

/* The assignment node i has for chain/index, or NULL (a new reference). */
static json_t *assignment(struct fx *f, int i, const char *chain, int index)
{
	json_t *d = NULL, *a, *found = NULL;
	struct sn_err err = { 0 };
	size_t k;
	assert_int_equal(mgr_node_desired(f->m, fx_name(i), 0, 0, &d, &err), 0);
	json_array_foreach(json_object_get(d, "subnodes"), k, a)
		if (!strcmp(json_string_value(json_object_get(a, "chain")), chain) &&
		    json_integer_value(json_object_get(a, "index")) == index)
			found = json_incref(a);
	json_decref(d);
	return found;
}

static void log_has(struct fx *f, const char *what, bool want)
{
	char *buf;
	size_t len;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_dlog_read_all(mgr_get_store(f->m), &buf, &len, &err), 0);
	if ((strstr(buf, what) != NULL) != want)
		fprintf(stderr, "log %s `%s`:\n%s", want ? "lacks" : "has", what, buf);
	assert_int_equal(strstr(buf, what) != NULL, want);
	free(buf);
}

static void leave_moves_members_one_at_a_time_and_keeps_the_old_until_the_new_runs(void **state)
{
	struct fx *f = *state;
	join_n(f, 7);
	json_t *c = create(f, "c1", 4, 0);
	int a = node_num(seat_node(c, 0)), b = node_num(seat_node(c, 1));
	json_decref(c);
	for (int i = 0; i < 7; i++)
		beat_desired(f, i, "");
	/* two nodes of the chain leave at once: only one member moves */
	admin(f, fx_name(a), "leave");
	admin(f, fx_name(b), "leave");
	c = inspect(f, "c1");
	assert_int_equal(in_motion(c), 1);
	assert_string_equal(from_of(c, 0), fx_name(a));
	assert_string_equal(seat_node(c, 1), fx_name(b));
	assert_null(from_of(c, 1));
	int x = node_num(seat_node(c, 0));
	assert_true(x != a && x != b);
	assert_string_equal(json_string_value(json_object_get(seat_of(c, 0), "from_state")), "running");
	json_decref(c);
	/* the old member is still a's, granting its volume to the move's token,
	 * and it is the new member's first source */
	json_t *old = assignment(f, a, "c1", 0), *neu = assignment(f, x, "c1", 0);
	assert_non_null(old);
	assert_non_null(neu);
	json_t *src = json_array_get(json_object_get(neu, "sources"), 0);
	assert_string_equal(json_string_value(json_object_get(src, "node")), fx_name(a));
	assert_string_equal(json_string_value(json_object_get(src, "volume")), "c1-0-data");
	assert_int_equal(json_array_size(json_object_get(neu, "sources")), 4);
	json_t *g, *tok = json_object_get(src, "token");
	size_t k;
	bool granted = false;
	json_array_foreach(json_object_get(old, "grants"), k, g)
		granted |= json_equal(json_object_get(g, "token"), tok) &&
			   !strcmp(json_string_value(json_object_get(g, "volume")), "c1-0-data");
	assert_true(granted);
	assert_int_equal(json_array_size(json_object_get(old, "sources")), 0);
	json_decref(old);
	json_decref(neu);
	/* the new member not running yet: nothing retired, nothing more moves;
	 * a reports nothing left, yet it holds the old member: still leaving */
	for (int t = 0; t < 3; t++) {
		for (int i = 0; i < 7; i++)
			if (i != x)
				beat_desired(f, i, "");
		beat_with(f, x, json_pack("[{ss si ss ss}]", "chain", "c1", "index", 0, "state",
					  "created", "health", ""));
		fx_tick(f);
	}
	beat(f, a);
	fx_tick(f);
	assert_string_equal(node_state(f, a), "leaving");
	c = inspect(f, "c1");
	assert_int_equal(in_motion(c), 1);
	assert_string_equal(from_of(c, 0), fx_name(a));
	json_decref(c);
	assert_int_equal(desired_count(f, a), 1);
	/* it runs: a's member is retired, and b's starts moving */
	beat_desired(f, x, "");
	fx_tick(f);
	c = inspect(f, "c1");
	assert_int_equal(in_motion(c), 1);
	assert_null(from_of(c, 0));
	assert_string_equal(seat_node(c, 0), fx_name(x));
	assert_string_equal(from_of(c, 1), fx_name(b));
	json_decref(c);
	assert_int_equal(desired_count(f, a), 0);
	assert_int_equal(desired_count(f, b), 1);
	/* the rest as nodes report: both gone, both left, never 2 in motion */
	for (int t = 0; t < 6; t++) {
		for (int i = 0; i < 7; i++)
			if (strcmp(node_state(f, i), "left") != 0)
				beat_desired(f, i, "");
		fx_tick(f);
		c = inspect(f, "c1");
		assert_true(in_motion(c) <= 1);
		json_decref(c);
	}
	assert_string_equal(node_state(f, a), "left");
	assert_string_equal(node_state(f, b), "left");
	c = inspect(f, "c1");
	assert_int_equal(in_motion(c), 0);
	for (size_t s = 0; s < 4; s++) {
		assert_int_not_equal(node_num(seat_node(c, s)), a);
		assert_int_not_equal(node_num(seat_node(c, s)), b);
	}
	json_decref(c);
	log_has(f, "\"cause\":\"leave\"", true);
	log_has(f, "\"kind\":\"release\"", true);
	char *metrics;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_metrics(f->m, &metrics, &err), 0);
	assert_non_null(strstr(metrics, "subnode_manager_moves_total{cause=\"leave\"} 2"));
	assert_non_null(strstr(metrics, "subnode_manager_releases_total 2"));
	assert_non_null(strstr(metrics, "subnode_manager_seats_in_motion 0"));
	free(metrics);
	verify_ok(f);
}

static void a_chain_with_a_health_check_waits_for_healthy(void **state)
{
	struct fx *f = *state;
	join_n(f, 5);
	json_t *c = create_req(f, json_pack("{ss ss si s{s[ss]}}", "name", "h", "image", "busybox",
					    "members", 4, "health", "Test", "CMD", "true"), 0);
	int a = node_num(seat_node(c, 2));
	json_decref(c);
	admin(f, fx_name(a), "leave");
	c = inspect(f, "h");
	int x = node_num(seat_node(c, 2));
	json_decref(c);
	for (int t = 0; t < 3; t++) {
		for (int i = 0; i < 5; i++)
			beat_desired(f, i, "starting");
		fx_tick(f);
	}
	expect_seat(f, "h", 2, fx_name(x), fx_name(a));
	beat_desired(f, x, "healthy");
	fx_tick(f);
	expect_seat(f, "h", 2, fx_name(x), NULL);
	verify_ok(f);
}

static void the_old_node_or_the_new_one_dying_mid_move(void **state)
{
	struct fx *f = *state;
	join_n(f, 5);
	json_t *c = create(f, "c1", 4, 0);
	int a = node_num(seat_node(c, 1));
	json_decref(c);
	admin(f, fx_name(a), "leave");
	c = inspect(f, "c1");
	int x = node_num(seat_node(c, 1));
	json_decref(c);
	/* the new node dies before its member runs; no other node has room
	 * (the fifth is the leaving one): the move is undone, a's runs on */
	rounds(f, 25, 5, x, true);
	assert_string_equal(node_state(f, x), "down");
	expect_seat(f, "c1", 1, fx_name(a), NULL);
	assert_int_equal(desired_count(f, a), 1);
	log_has(f, "\"kind\":\"release\"", true);
	/* x comes back, steady and active: a's member moves there again, and a
	 * dies mid-move: the new member carries on alone */
	rounds(f, 10, 5, -1, false);
	assert_string_equal(node_state(f, x), "active");
	expect_seat(f, "c1", 1, fx_name(x), fx_name(a));
	rounds(f, 25, 5, a, false);
	assert_string_equal(node_state(f, a), "left");
	expect_seat(f, "c1", 1, fx_name(x), NULL);
	assert_int_equal(desired_count(f, x), 1);
	verify_ok(f);
}

static void maintenance_takes_no_new_member(void **state)
{
	struct fx *f = *state;
	join_n(f, 5);
	admin(f, "node3", "maintenance");
	json_t *c = create(f, "c1", 4, 0);
	for (size_t s = 0; s < 4; s++)
		assert_string_not_equal(seat_node(c, s), "node3");
	int dead = node_num(seat_node(c, 0));
	json_decref(c);
	json_decref(create(f, "c5", 5, -ENOSPC));
	/* a member's node dies: no active node has room, so the seat waits
	 * vacant rather than go to the node in maintenance */
	rounds(f, 25, 5, dead, true);
	expect_seat(f, "c1", 0, "", NULL);
	assert_int_equal(desired_count(f, 3), 0);
	/* back to active: it takes the seat */
	admin(f, "node3", "activate");
	fx_tick(f);
	expect_seat(f, "c1", 0, "node3", NULL);
	verify_ok(f);
}

static void rotation_moves_the_longest_seated_member_one_at_a_time(void **state)
{
	struct fx *f = *state;
	join_n(f, 6);
	fx_tick(f);   /* the manager's first look is over before the chain exists */
	json_t *c = create(f, "c1", 4, 0);
	char first[4][16];
	for (size_t s = 0; s < 4; s++)
		snprintf(first[s], sizeof(first[s]), "%s", seat_node(c, s));
	json_decref(c);
	/* ~3 s with members seated 0.2 s: each rotates, oldest first */
	bool moved[4] = { false };
	int order[16], norder = 0;
	for (int t = 0; t < 60; t++) {
		for (int i = 0; i < 6; i++)
			beat_desired(f, i, "");
		usleep(50 * 1000);
		fx_tick(f);
		c = inspect(f, "c1");
		assert_true(in_motion(c) <= 1);
		for (size_t s = 0; s < 4; s++) {
			const char *from = from_of(c, s);
			if (from && (norder == 0 || order[norder - 1] != (int)s) && norder < 16)
				order[norder++] = (int)s;
			/* in motion: the old member is still assigned to its node */
			if (from) {
				json_t *old = assignment(f, node_num(from), "c1", (int)s);
				assert_non_null(old);
				json_decref(old);
			}
			moved[s] |= strcmp(seat_node(c, s), first[s]) != 0;
		}
		json_decref(c);
	}
	for (size_t s = 0; s < 4; s++)
		assert_true(moved[s]);
	assert_true(norder >= 4);
	for (int k = 0; k < 4; k++)   /* the first round: by seat, all seated at once */
		assert_int_equal(order[k], k);
	log_has(f, "\"cause\":\"rotate\"", true);
	log_has(f, "\"draw\":\"c1.", true);
	verify_ok(f);
}

static void rotation_without_a_free_node_changes_nothing(void **state)
{
	struct fx *f = *state;
	join_n(f, 4);
	json_decref(create(f, "c1", 4, 0));
	rounds(f, 10, 4, -1, true);
	json_t *c = inspect(f, "c1");
	assert_int_equal(in_motion(c), 0);
	json_decref(c);
	log_has(f, "\"cause\":\"rotate\"", false);
	verify_ok(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			leave_moves_members_one_at_a_time_and_keeps_the_old_until_the_new_runs, setup,
			teardown),
		cmocka_unit_test_setup_teardown(a_chain_with_a_health_check_waits_for_healthy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(the_old_node_or_the_new_one_dying_mid_move, setup,
						teardown),
		cmocka_unit_test_setup_teardown(maintenance_takes_no_new_member, setup, teardown),
		cmocka_unit_test_setup_teardown(rotation_moves_the_longest_seated_member_one_at_a_time,
						setup_rotating, teardown),
		cmocka_unit_test_setup_teardown(rotation_without_a_free_node_changes_nothing,
						setup_rotating, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
