/* test_registry.c — the manager core (manager.h) on a real SQLite store:
 * joins and their bad inputs, chains placed on distinct nodes, the
 * operator rule, a node silent past the grace period marked down with its
 * seat given to another node in the same step, maintenance and leave, the
 * node's desired subnodes as a watch, and the whole run's log verifying
 * (and failing with one byte changed). */
#include "fixture.h"

#include <unistd.h>

static int setup(void **state)
{
	return fx_open(state, 0);
}

static int teardown(void **state)
{
	return fx_close(state);
}

static void joins_refuse_bad_input_and_duplicates(void **state)
{
	struct fx *f = *state;
	join(f, 0, "opA");
	struct { const char *json; const char *field; int code; } bad[] = {
		{ "{\"name\":\"node0\",\"address\":\"10.0.0.9\",\"units\":8,\"port_base\":20000}",
		  "already", EEXIST },
		{ "{\"name\":\"n\",\"address\":\"10.0.0.300\",\"units\":8,\"port_base\":20000}",
		  "address", EINVAL },
		{ "{\"name\":\"n\",\"address\":\"10.0.0.3\",\"units\":500,\"port_base\":20000}",
		  "units", EINVAL },
		{ "{\"name\":\"n\",\"address\":\"10.0.0.3\",\"units\":8,\"port_base\":65500}",
		  "port_base", EINVAL },
		{ "{\"name\":\"../x\",\"address\":\"10.0.0.3\",\"units\":8,\"port_base\":20000}",
		  "name", EINVAL },
		{ "{\"name\":\"n\",\"address\":\"10.0.0.3\",\"units\":8,\"port_base\":20000,\"x\":1}",
		  "unknown field", EINVAL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *req = json_loads(bad[i].json, 0, NULL);
		json_t *reply = NULL;
		struct sn_err err = { 0 };
		assert_int_equal(mgr_node_join(f->m, req, &reply, &err), -bad[i].code);
		assert_non_null(strstr(err.msg, bad[i].field));
		json_decref(req);
	}
	struct sn_err err = { 0 };
	assert_int_equal(mgr_node_auth(f->m, "node0", f->cred[0], &err), 0);
	char wrong[65];
	memcpy(wrong, f->cred[0], 65);
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	assert_int_equal(mgr_node_auth(f->m, "node0", wrong, &err), -EACCES);
	assert_int_equal(mgr_node_auth(f->m, "nobody", f->cred[0], &err), -EACCES);
	/* a heartbeat claiming more units than the node joined with */
	json_t *sum = json_pack("{si}", "units_used", 9), *reply = NULL;
	assert_int_equal(mgr_node_heartbeat(f->m, "node0", sum, &reply, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "units_used"));
	json_decref(sum);
	json_t *list;
	assert_int_equal(mgr_node_list(f->m, &list, &err), 0);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
}

static void chain_on_distinct_nodes_and_bad_chains_refused(void **state)
{
	struct fx *f = *state;
	join_n(f, 5);
	json_t *c = create(f, "c1", 4, 0);
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(seat_node(c, i), seat_node(c, j));
	json_decref(c);
	create(f, "c1", 4, -EEXIST);
	create(f, "c2", 6, -ENOSPC);
	json_t *req = json_pack("{ss ss ss}", "name", "c3", "size", "huge", "image", "x"), *out;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_chain_create(f->m, req, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "size: unknown size `huge`"));
	json_decref(req);
	req = json_pack("{ss ss s[s]}", "name", "c3", "image", "x", "env", "NOEQUALS");
	assert_int_equal(mgr_chain_create(f->m, req, &out, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "env[0]"));
	json_decref(req);
	/* nothing of the refused ones was written */
	json_t *list;
	assert_int_equal(mgr_chain_list(f->m, &list, &err), 0);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	assert_int_equal(mgr_chain_rm(f->m, "c1", &err), 0);
	assert_int_equal(mgr_chain_rm(f->m, "c1", &err), -ENOENT);
	verify_ok(f);
}

static void operator_rule_through_the_registry(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < 6; i++)
		join(f, i, i % 2 ? "odd" : "even");
	create(f, "bft", 4, -ENOSPC);
	/* a chain of 7 (cap 2) over 2 operators: still only 4 */
	create(f, "bft7", 7, -ENOSPC);
	/* a 4th operator with 2 more nodes: 4 operators, one member each */
	join(f, 6, "third");
	join(f, 7, "fourth");
	json_t *c = create(f, "bft", 4, 0);
	int odd = 0, even = 0;
	for (size_t i = 0; i < 4; i++) {
		int k = atoi(seat_node(c, i) + 4);
		odd += k < 6 && k % 2;
		even += k < 6 && !(k % 2);
	}
	assert_true(odd <= 1 && even <= 1);
	json_decref(c);
	verify_ok(f);
}

static void silent_node_goes_down_and_its_seat_moves(void **state)
{
	struct fx *f = *state;
	join_n(f, 5);
	json_t *c = create(f, "c1", 4, 0);
	/* the node outside the chain */
	int spare = -1;
	for (int i = 0; i < 5 && spare < 0; i++) {
		char n[16];
		snprintf(n, sizeof(n), "node%d", i);
		int in = 0;
		for (size_t s = 0; s < 4; s++)
			in |= strcmp(seat_node(c, s), n) == 0;
		if (!in)
			spare = i;
	}
	const char *dead = seat_node(c, 2);
	int dead_i = atoi(dead + 4);
	json_t *desired;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_node_desired(f->m, dead, 0, 0, &desired, &err), 0);
	assert_int_equal(json_array_size(json_object_get(desired, "subnodes")), 1);
	json_t *spare_view;
	char spare_name[16];
	snprintf(spare_name, sizeof(spare_name), "node%d", spare);
	assert_int_equal(mgr_node_desired(f->m, spare_name, 0, 0, &spare_view, &err), 0);
	assert_int_equal(json_array_size(json_object_get(spare_view, "subnodes")), 0);
	json_int_t rev = json_integer_value(json_object_get(spare_view, "revision"));
	json_decref(spare_view);
	/* everyone but `dead` heartbeats past the grace */
	rounds(f, 25, 5, dead_i, false);
	json_t *n;
	assert_int_equal(mgr_node_inspect(f->m, dead, &n, &err), 0);
	assert_string_equal(json_string_value(json_object_get(n, "state")), "down");
	json_t *hist = json_object_get(n, "history");
	json_t *last = json_array_get(hist, json_array_size(hist) - 1);
	assert_non_null(strstr(json_string_value(json_object_get(last, "cause")), "no heartbeat"));
	json_decref(n);
	json_t *c2;
	assert_int_equal(mgr_chain_inspect(f->m, "c1", &c2, &err), 0);
	assert_string_equal(seat_node(c2, 2), spare_name);
	for (size_t s = 0; s < 4; s++)
		if (s != 2)
			assert_string_equal(seat_node(c2, s), seat_node(c, s));
	json_decref(c2);
	/* the spare's watch from before sees its new member */
	assert_int_equal(mgr_node_desired(f->m, spare_name, rev, 1000, &spare_view, &err), 0);
	assert_int_equal(json_array_size(json_object_get(spare_view, "subnodes")), 1);
	json_t *a = json_array_get(json_object_get(spare_view, "subnodes"), 0);
	assert_string_equal(json_string_value(json_object_get(a, "name")), "c1-2");
	assert_int_equal(json_array_size(json_object_get(a, "peers")), 4);
	json_decref(spare_view);
	/* the dead node's own list is empty now */
	json_decref(desired);
	assert_int_equal(mgr_node_desired(f->m, dead, 0, 0, &desired, &err), 0);
	assert_int_equal(json_array_size(json_object_get(desired, "subnodes")), 0);
	json_decref(desired);
	/* it comes back: active again after heartbeating steadily */
	rounds(f, 10, 5, -1, false);
	assert_int_equal(mgr_node_inspect(f->m, dead, &n, &err), 0);
	assert_string_equal(json_string_value(json_object_get(n, "state")), "active");
	json_decref(n);
	json_decref(c);
	/* maintenance, then leave: its member moves */
	const char *victim = "node0";
	assert_int_equal(mgr_node_admin(f->m, victim, "maintenance", &err), 0);
	assert_int_equal(mgr_node_admin(f->m, victim, "maintenance", &err), -EPERM);
	assert_int_equal(mgr_node_admin(f->m, victim, "leave", &err), 0);
	assert_int_equal(mgr_node_inspect(f->m, victim, &n, &err), 0);
	assert_string_equal(json_string_value(json_object_get(n, "state")), "leaving");
	json_decref(n);
	/* its member moves make-before-break (test_motion.c): once the new one
	 * runs the old one is retired, and the node, empty, has left */
	for (int t = 0; t < 3; t++) {
		for (int i = 1; i < 5; i++)
			beat_desired(f, i, "");
		if (strcmp(node_state(f, 0), "left") != 0)
			beat(f, 0);
		assert_int_equal(mgr_tick(f->m, &err), 0);
	}
	assert_int_equal(mgr_node_inspect(f->m, victim, &n, &err), 0);
	assert_string_equal(json_string_value(json_object_get(n, "state")), "left");
	assert_int_equal(json_integer_value(json_object_get(n, "member_count")), 0);
	json_decref(n);
	json_t *sum = json_object(), *reply;
	assert_int_equal(mgr_node_heartbeat(f->m, victim, sum, &reply, &err), -ESHUTDOWN);
	json_decref(sum);
	/* a new epoch with a beacon, and a chain placed in it */
	json_t *ep;
	assert_int_equal(mgr_epoch_advance(f->m, "cafe", &ep, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(ep, "epoch")), 1);
	json_decref(ep);
	json_decref(create(f, "c9", 3, 0));
	char *metrics;
	assert_int_equal(mgr_metrics(f->m, &metrics, &err), 0);
	assert_non_null(strstr(metrics, "subnode_manager_nodes{state=\"left\"} 1"));
	assert_non_null(strstr(metrics, "subnode_manager_failovers_total 1"));
	free(metrics);
	verify_ok(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(joins_refuse_bad_input_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(chain_on_distinct_nodes_and_bad_chains_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(operator_rule_through_the_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(silent_node_goes_down_and_its_seat_moves, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
