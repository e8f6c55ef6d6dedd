/* test_summary.c — the node summary the heartbeat carries (the same struct
 * /metrics renders) and the network device reader of sample.c, on this
 * process's own namespace. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "node/metrics.h"

static void summary_json_has_units_usage_states_and_each_subnode(void **state)
{
	struct node_sample subs[2] = {
		{ .id = "aa", .name = "one", .image = "busybox", .state = "running", .size = "small",
		  .health = "healthy", .units = 1, .restarts = 2,
		  .cg = { .cpu_usage_ns = 1500000000, .memory_usage = 4096 } },
		{ .id = "bb", .name = "two", .image = "busybox", .state = "exited", .size = "medium",
		  .health = "", .units = 4 },
	};
	struct node_summary s = { .at_ns = 123, .units_total = 128, .units_used = 5, .subs = subs,
				  .n_subs = 2, .cpu_usage_ns = 1500000000, .memory_usage = 4096 };
	s.by_state[2] = 1;   /* running */
	s.by_state[4] = 1;   /* exited */
	_cleanup_json_ json_t *j = node_summary_json(&s);
	assert_non_null(j);
	json_t *u = json_object_get(j, "units");
	assert_int_equal(json_integer_value(json_object_get(u, "total")), 128);
	assert_int_equal(json_integer_value(json_object_get(u, "used")), 5);
	assert_int_equal(json_integer_value(json_object_get(u, "free")), 123);
	json_t *use = json_object_get(j, "usage");
	assert_true(json_real_value(json_object_get(use, "cpu_seconds")) == 1.5);
	assert_int_equal(json_integer_value(json_object_get(use, "memory_bytes")), 4096);
	json_t *st = json_object_get(j, "states");
	assert_string_equal(node_state_names[2], "running");
	assert_int_equal(json_integer_value(json_object_get(st, "running")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "exited")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "creating")), 0);
	json_t *a = json_object_get(j, "subnodes");
	assert_int_equal(json_array_size(a), 2);
	json_t *one = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(one, "name")), "one");
	assert_string_equal(json_string_value(json_object_get(one, "health")), "healthy");
	assert_int_equal(json_integer_value(json_object_get(one, "restarts")), 2);
	assert_int_equal(json_integer_value(json_object_get(one, "cpu_usage_ns")), 1500000000);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "state")), "exited");
}

static void summary_free_units_never_negative(void **state)
{
	struct node_summary s = { .units_total = 128, .units_used = 130 };
	_cleanup_json_ json_t *j = node_summary_json(&s);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "units"), "free")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "subnodes")), 0);
}

static void netdev_of_this_namespace_lists_lo(void **state)
{
	struct node_netdev *d = NULL;
	size_t n = 0;
	struct sn_err e = { 0 };
	assert_int_equal(node_netdev_read(getpid(), &d, &n, &e), 0);
	bool lo = false;
	for (size_t i = 0; i < n; i++)
		lo |= strcmp(d[i].name, "lo") == 0;
	assert_true(lo);
	free(d);
	assert_int_equal(node_netdev_read(0x7ffffff0, &d, &n, &e), -ENOENT);
	assert_null(d);
}

static void netdev_parse_takes_rx_and_tx_columns_and_skips_headers(void **state)
{
	char txt[] =
		"Inter-|   Receive                                                |  Transmit\n"
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
		"    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n"
		"  eth0: 5000 40 1 2 0 0 0 0 7000 50 3 4 0 0 0 0\n"
		"  bad: 1 2 3\n";
	struct node_netdev *d = NULL;
	size_t n = 0;
	struct sn_err e = { 0 };
	assert_int_equal(node_netdev_parse(txt, &d, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].name, "lo");
	assert_string_equal(d[1].name, "eth0");
	assert_int_equal(d[1].rx_bytes, 5000);
	assert_int_equal(d[1].rx_packets, 40);
	assert_int_equal(d[1].rx_errors, 1);
	assert_int_equal(d[1].rx_dropped, 2);
	assert_int_equal(d[1].tx_bytes, 7000);
	assert_int_equal(d[1].tx_packets, 50);
	assert_int_equal(d[1].tx_errors, 3);
	assert_int_equal(d[1].tx_dropped, 4);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(summary_json_has_units_usage_states_and_each_subnode),
		cmocka_unit_test(summary_free_units_never_negative),
		cmocka_unit_test(netdev_of_this_namespace_lists_lo),
		cmocka_unit_test(netdev_parse_takes_rx_and_tx_columns_and_skips_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
