/* test_store.c — the SQLite back-end of the store interface (store.h):
 * revisions, compare-and-swap transactions, prefix ranges and deletes,
 * leases that delete their keys, watches woken by a write, and a reopen
 * that keeps everything. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "manager/store.h"

static char *scratch(void)
{
	char tmpl[] = "/tmp/sn-unit-mgr-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void cleanup_dir(char *d)
{
	struct sn_err err = { 0 };
	sn_rm_rf(d, &err);
	free(d);
}

static void put_get_and_revisions(void **state)
{
	char *d = scratch();
	struct mgr_store *s;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_store_open(d, &s, &err), 0);
	assert_int_equal(mgr_store_put(s, "a/1", "one", &err), 0);
	assert_int_equal(mgr_store_put(s, "a/2", "two", &err), 0);
	assert_int_equal(mgr_store_put(s, "a/1", "uno", &err), 0);
	struct mgr_kv kv;
	assert_int_equal(mgr_store_get(s, "a/1", &kv, &err), 0);
	assert_string_equal(kv.value, "uno");
	assert_int_equal(kv.create_rev, 1);
	assert_int_equal(kv.mod_rev, 3);
	mgr_kv_clear(&kv);
	assert_int_equal(mgr_store_get(s, "a/3", &kv, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "a/3"));
	mgr_store_close(s);
	/* reopen: the revision goes on from 3 */
	assert_int_equal(mgr_store_open(d, &s, &err), 0);
	int64_t rev;
	struct mgr_op op = { .kind = MGR_OP_PUT, .key = "b", .value = "x" };
	assert_int_equal(mgr_store_txn(s, NULL, 0, &op, 1, &rev, &err), 0);
	assert_int_equal(rev, 4);
	mgr_store_close(s);
	cleanup_dir(d);
}

static void txn_compare_and_swap(void **state)
{
	char *d = scratch();
	struct mgr_store *s;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_store_open(d, &s, &err), 0);
	/* create only if absent */
	struct mgr_cmp absent = { "k", 0 };
	struct mgr_op put = { .kind = MGR_OP_PUT, .key = "k", .value = "v1" };
	int64_t rev;
	assert_int_equal(mgr_store_txn(s, &absent, 1, &put, 1, &rev, &err), 0);
	assert_int_equal(mgr_store_txn(s, &absent, 1, &put, 1, NULL, &err), -ECANCELED);
	assert_non_null(strstr(err.msg, "`k` already exists"));
	/* swap on the revision read; a second writer with the old read loses
	 * and writes nothing, not even its other ops */
	struct mgr_cmp at = { "k", rev };
	struct mgr_op two[] = { { .kind = MGR_OP_PUT, .key = "k", .value = "v2" },
				{ .kind = MGR_OP_PUT, .key = "other", .value = "o" } };
	assert_int_equal(mgr_store_txn(s, &at, 1, two, 2, NULL, &err), 0);
	assert_int_equal(mgr_store_txn(s, &at, 1, two, 2, NULL, &err), -ECANCELED);
	assert_non_null(strstr(err.msg, "changed since it was read"));
	struct mgr_kv *kvs;
	size_t n;
	assert_int_equal(mgr_store_range(s, "", &kvs, &n, &rev, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rev, 2);
	mgr_kvs_free(kvs, n);
	mgr_store_close(s);
	cleanup_dir(d);
}

static void range_and_delete_prefix(void **state)
{
	char *d = scratch();
	struct mgr_store *s;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_store_open(d, &s, &err), 0);
	const char *keys[] = { "nodes/a", "nodes/b", "nodesx", "chains/c", "nodes0" };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(mgr_store_put(s, keys[i], "v", &err), 0);
	struct mgr_kv *kvs;
	size_t n;
	assert_int_equal(mgr_store_range(s, "nodes/", &kvs, &n, NULL, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[0].key, "nodes/a");
	assert_string_equal(kvs[1].key, "nodes/b");
	mgr_kvs_free(kvs, n);
	struct mgr_op del[] = { { .kind = MGR_OP_DELETE_PREFIX, .key = "nodes/" },
				{ .kind = MGR_OP_DELETE, .key = "nodes0" } };
	assert_int_equal(mgr_store_txn(s, NULL, 0, del, 2, NULL, &err), 0);
	assert_int_equal(mgr_store_range(s, "", &kvs, &n, NULL, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kvs[0].key, "chains/c");
	assert_string_equal(kvs[1].key, "nodesx");
	mgr_kvs_free(kvs, n);
	mgr_store_close(s);
	cleanup_dir(d);
}

static void lease_expiry_deletes_its_keys(void **state)
{
	char *d = scratch();
	struct mgr_store *s;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_store_open(d, &s, &err), 0);
	int64_t lease, keep;
	assert_int_equal(mgr_store_lease_grant(s, 1000, &lease, &err), 0);
	assert_int_equal(mgr_store_lease_grant(s, 60000, &keep, &err), 0);
	struct mgr_op ops[] = { { .kind = MGR_OP_PUT, .key = "l/a", .value = "1", .lease = lease },
				{ .kind = MGR_OP_PUT, .key = "l/b", .value = "2", .lease = keep } };
	assert_int_equal(mgr_store_txn(s, NULL, 0, ops, 2, NULL, &err), 0);
	struct mgr_op bad = { .kind = MGR_OP_PUT, .key = "l/c", .value = "3", .lease = 999 };
	assert_int_equal(mgr_store_txn(s, NULL, 0, &bad, 1, NULL, &err), -ENOENT);
	usleep(600 * 1000);
	assert_int_equal(mgr_store_lease_keepalive(s, lease, &err), 0);
	usleep(600 * 1000);  /* 1.2 s after the grant, 0.6 after the keep-alive */
	struct mgr_kv kv;
	assert_int_equal(mgr_store_get(s, "l/a", &kv, &err), 0);
	mgr_kv_clear(&kv);
	usleep(1500 * 1000);
	assert_int_equal(mgr_store_get(s, "l/a", &kv, &err), -ENOENT);
	assert_int_equal(mgr_store_lease_keepalive(s, lease, &err), -ENOENT);
	assert_int_equal(mgr_store_lease_revoke(s, keep, &err), 0);
	assert_int_equal(mgr_store_get(s, "l/b", &kv, &err), -ENOENT);
	mgr_store_close(s);
	cleanup_dir(d);
}

struct writer { struct mgr_store *s; };

static void *write_later(void *p)
{
	struct writer *w = p;
	struct sn_err err = { 0 };
	usleep(100 * 1000);
	mgr_store_put(w->s, "other/x", "ignored", &err);
	usleep(50 * 1000);
	mgr_store_put(w->s, "assign/n1/c1", "seat", &err);
	return NULL;
}

static void watch_wakes_on_a_write_under_its_prefix(void **state)
{
	char *d = scratch();
	struct mgr_store *s;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_store_open(d, &s, &err), 0);
	int64_t rev;
	struct mgr_kv *ev;
	size_t n;
	/* nothing: times out with no events */
	assert_int_equal(mgr_store_watch(s, "assign/n1/", 0, 50, &ev, &n, &rev, &err), 0);
	assert_int_equal(n, 0);
	free(ev);
	struct writer w = { s };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, write_later, &w), 0);
	assert_int_equal(mgr_store_watch(s, "assign/n1/", rev, 10000, &ev, &n, &rev, &err), 0);
	pthread_join(t, NULL);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].key, "assign/n1/c1");
	assert_string_equal(ev[0].value, "seat");
	assert_int_equal(rev, 2);
	mgr_kvs_free(ev, n);
	/* a delete is an event with no value */
	struct mgr_op del = { .kind = MGR_OP_DELETE, .key = "assign/n1/c1" };
	assert_int_equal(mgr_store_txn(s, NULL, 0, &del, 1, NULL, &err), 0);
	assert_int_equal(mgr_store_watch(s, "assign/n1/", rev, 1000, &ev, &n, &rev, &err), 0);
	assert_int_equal(n, 1);
	assert_null(ev[0].value);
	mgr_kvs_free(ev, n);
	mgr_store_close(s);
	cleanup_dir(d);
}

static void bad_specs_are_refused(void **state)
{
	struct mgr_store *s;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_store_open("", &s, &err), -EINVAL);
	assert_int_equal(mgr_store_open("zk:host", &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown back-end"));
	assert_int_equal(mgr_store_open("etcd:http://127.0.0.1:2379", &s, &err), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_get_and_revisions),
		cmocka_unit_test(txn_compare_and_swap),
		cmocka_unit_test(range_and_delete_prefix),
		cmocka_unit_test(lease_expiry_deletes_its_keys),
		cmocka_unit_test(watch_wakes_on_a_write_under_its_prefix),
		cmocka_unit_test(bad_specs_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
