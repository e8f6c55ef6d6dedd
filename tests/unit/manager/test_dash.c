/* test_dash.c — what the dashboard reads (dash.c) and who may read it
 * (api.c): each heartbeat's CPU and memory kept in a ring of the last
 * MGR_SERIES_LEN samples (network counters with them when given), figures
 * that are not numbers left out, the change
 * counter raised by steps and heartbeats and waited on, and the view routes
 * open without a token only when the manager allows it. */
#include "fixture.h"
#include "manager/api.h"

#include <pthread.h>
#include <time.h>

static int setup(void **state) { return fx_open(state, 0); }
static int teardown(void **state) { return fx_close(state); }

static void beat_load(struct fx *f, int i, json_t *cpu, json_t *mem)
{
	json_t *sum = json_pack("{si s[] so so si}", "units_used", 0, "members", "cpu", cpu,
				"memory", mem, "memory_total", 1000000);
	json_t *reply = NULL;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_node_heartbeat(f->m, fx_name(i), sum, &reply, &err), 0);
	json_decref(sum);
	json_decref(reply);
}

static json_t *dashboard(struct fx *f, bool series)
{
	json_t *d = NULL;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_dashboard(f->m, series, &d, &err), 0);
	return d;
}

static json_t *node_row(json_t *d, const char *name)
{
	json_t *n;
	size_t i;
	json_array_foreach(json_object_get(d, "nodes"), i, n)
		if (strcmp(json_string_value(json_object_get(n, "name")), name) == 0)
			return n;
	fail_msg("no node %s", name);
	return NULL;
}

static void history_is_a_bounded_ring_of_numbers(void **state)
{
	struct fx *f = *state;
	join_n(f, 2);
	json_t *d = dashboard(f, true);
	/* no sample yet: null, and an empty history */
	assert_true(json_is_null(json_object_get(node_row(d, "node0"), "sample")));
	assert_int_equal(json_array_size(json_object_get(json_object_get(json_object_get(d,
			 "series"), "node0"), "cpu")), 0);
	json_decref(d);
	for (int k = 1; k <= MGR_SERIES_LEN + 30; k++)
		beat_load(f, 0, json_real(k), json_integer(k * 10));
	/* a heartbeat whose figures are not numbers adds nothing */
	beat_load(f, 0, json_string("lots"), json_integer(5));
	beat(f, 1);
	d = dashboard(f, true);
	json_t *s = json_object_get(json_object_get(d, "series"), "node0");
	json_t *cpu = json_object_get(s, "cpu"), *mem = json_object_get(s, "memory");
	assert_int_equal(json_array_size(cpu), MGR_SERIES_LEN);
	assert_int_equal(json_array_size(json_object_get(s, "time")), MGR_SERIES_LEN);
	/* oldest first: the first 30 went round the ring */
	assert_true(json_real_value(json_array_get(cpu, 0)) == 31.0);
	assert_true(json_real_value(json_array_get(cpu, MGR_SERIES_LEN - 1)) == MGR_SERIES_LEN + 30);
	assert_int_equal(json_integer_value(json_array_get(mem, MGR_SERIES_LEN - 1)),
			 (MGR_SERIES_LEN + 30) * 10);
	json_t *sample = json_object_get(node_row(d, "node0"), "sample");
	assert_int_equal(json_integer_value(json_object_get(sample, "memory_total")), 1000000);
	/* network counters: null where not reported, kept where they are */
	json_t *rx = json_object_get(s, "net_rx");
	assert_int_equal(json_array_size(rx), MGR_SERIES_LEN);
	assert_true(json_is_null(json_array_get(rx, 0)));
	assert_null(json_object_get(sample, "net_rx"));
	json_t *sum = json_pack("{s[] sf si si si}", "members", "cpu", 1.0, "memory", 2,
				"net_rx", 1000, "net_tx", 500);
	json_t *reply = NULL;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_node_heartbeat(f->m, fx_name(0), sum, &reply, &err), 0);
	json_decref(sum);
	json_decref(reply);
	json_decref(d);
	d = dashboard(f, true);
	s = json_object_get(json_object_get(d, "series"), "node0");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(s, "net_tx"),
							   MGR_SERIES_LEN - 1)), 500);
	sample = json_object_get(node_row(d, "node0"), "sample");
	assert_int_equal(json_integer_value(json_object_get(sample, "net_rx")), 1000);
	/* a node that never reported them has no history */
	assert_true(json_is_null(json_object_get(node_row(d, "node1"), "sample")));
	assert_non_null(json_object_get(d, "chains"));
	json_decref(d);
	/* without series: the rows' samples only */
	d = dashboard(f, false);
	assert_null(json_object_get(d, "series"));
	assert_non_null(json_object_get(node_row(d, "node0"), "sample"));
	json_decref(d);
}

struct waiter {
	struct mgr *m;
	uint64_t seen, got;
};

static void *wait_change(void *arg)
{
	struct waiter *w = arg;
	w->got = mgr_wait_change(w->m, w->seen, 5000);
	return NULL;
}

static void steps_and_heartbeats_wake_the_watchers(void **state)
{
	struct fx *f = *state;
	join_n(f, 4);
	json_t *d = dashboard(f, false);
	uint64_t g0 = (uint64_t)json_integer_value(json_object_get(d, "gen"));
	int64_t seq0 = json_integer_value(json_object_get(d, "log_seq"));
	json_decref(d);
	/* nothing changes: the wait times out with the same count */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mgr_wait_change(f->m, g0, 100), g0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 90);
	/* a waiter in another thread is woken by a heartbeat */
	struct waiter w = { f->m, g0, 0 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, wait_change, &w), 0);
	beat(f, 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(w.got > g0);
	/* a committed step raises it too, and the log grows */
	json_decref(create(f, "c1", 4, 0));
	d = dashboard(f, false);
	assert_true((uint64_t)json_integer_value(json_object_get(d, "gen")) > w.got);
	assert_true(json_integer_value(json_object_get(d, "log_seq")) > seq0);
	assert_int_equal(json_array_size(json_object_get(d, "chains")), 1);
	json_decref(d);
}

static int handle(struct mgr_api *a, const char *method, const char *path, const char *bearer)
{
	struct mgr_req req = { .method = method, .path = path, .bearer = bearer };
	struct mgr_resp resp;
	mgr_api_handle(a, &req, &resp);
	free(resp.body);
	return resp.status;
}

static void view_routes_open_only_with_public_read(void **state)
{
	struct fx *f = *state;
	join_n(f, 4);
	json_decref(create(f, "c1", 4, 0));
	struct mgr_api a = { .m = f->m, .admin_token = "admin-token-0123456789",
			     .join_token = "join-token-0123456789", .max_wait_ms = 1000 };
	static const char *const views[] = { "/v1/nodes", "/v1/nodes/node0", "/v1/chains",
					     "/v1/chains/c1", "/v1/epoch", "/v1/log", "/v1/verify",
					     "/v1/dashboard" };
	struct sn_err err = { 0 };
	for (int pub = 0; pub < 2; pub++) {
		a.public_read = pub;
		for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
			assert_int_equal(handle(&a, "GET", views[i], NULL), pub ? 200 : 401);
			assert_int_equal(handle(&a, "GET", views[i], a.admin_token), 200);
			/* a wrong token is refused even when none is needed */
			assert_int_equal(handle(&a, "GET", views[i], "wrong-token-0123456789"), 401);
		}
		assert_int_equal(mgr_api_may_view(&a, NULL, &err), pub ? 0 : -EACCES);
		assert_int_equal(mgr_api_may_view(&a, a.admin_token, &err), 0);
		/* actions need the admin token, always */
		assert_int_equal(handle(&a, "POST", "/v1/nodes/node0/maintenance", NULL), 401);
		assert_int_equal(handle(&a, "DELETE", "/v1/chains/c1", NULL), 401);
		assert_int_equal(handle(&a, "POST", "/v1/epochs", NULL), 401);
	}
	assert_int_equal(handle(&a, "POST", "/v1/nodes/node0/maintenance", a.admin_token), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(history_is_a_bounded_ring_of_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(steps_and_heartbeats_wake_the_watchers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(view_routes_open_only_with_public_read, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
