/* test_node.c — unit tests of the node layer's pure parts: configuration,
 * the state db, admission messages, names and signals, log line parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "node/config.h"
#include "node/db.h"
#include "node/logs.h"
#include "node/node.h"

static char *mkscratch(void)
{
	char tmpl[] = "/tmp/sn-unit-node-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void config_defaults_need_no_file(void **state)
{
	struct node_config c;
	struct sn_err e = { 0 };
	assert_int_equal(node_config_defaults(&c, &e), 0);
	assert_int_equal(node_config_parse(&c, "", "x", &e), 0);
	assert_string_equal(c.root, "/var/lib/subnode");
	assert_string_equal(c.socket, "/run/subnode/subnoded.sock");
	assert_int_equal(c.socket_mode, 0660);
	assert_int_equal(node_config_size(&c, "small")->units, 1);
	assert_int_equal(node_config_size(&c, "medium")->units, 4);
	assert_int_equal(node_config_size(&c, "large")->units, 128);
	node_config_free(&c);
}

static void config_file_replaces_size_table_and_parses_units(void **state)
{
	struct node_config c;
	struct sn_err e = { 0 };
	assert_int_equal(node_config_defaults(&c, &e), 0);
	const char *txt = "# comment\nruntime = runc\n\nsize.tiny = 2   # two\nsize.huge=64\n"
			  "default_size = tiny\nreserve_memory = 1G\nlog_max_size = \"64K\"\nsocket_mode = 0600\n";
	assert_int_equal(node_config_parse(&c, txt, "f", &e), 0);
	assert_string_equal(c.runtime, "runc");
	assert_int_equal(c.n_sizes, 2);
	assert_null(node_config_size(&c, "small"));
	assert_int_equal(node_config_size(&c, "huge")->units, 64);
	assert_int_equal(c.reserve_memory, 1ull << 30);
	assert_int_equal(c.log_max_size, 64 << 10);
	assert_int_equal(c.socket_mode, 0600);
	node_config_free(&c);
}

static void config_refuses_unknown_keys_and_bad_values_naming_the_line(void **state)
{
	struct node_config c;
	struct sn_err e = { 0 };
	assert_int_equal(node_config_defaults(&c, &e), 0);
	assert_int_equal(node_config_parse(&c, "\nruntim = runc\n", "f.conf", &e), -EINVAL);
	assert_string_equal(e.msg, "f.conf:2: unknown key `runtim`");
	assert_int_equal(node_config_parse(&c, "size.x = 129\n", "f.conf", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "1..128"));
	assert_int_equal(node_config_parse(&c, "reserve_memory = lots\n", "f.conf", &e), -EINVAL);
	assert_int_equal(node_config_parse(&c, "tcp = 127.0.0.1:1\n", "f.conf", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "token_file"));
	node_config_free(&c);
}

static void parse_bytes_understands_suffixes(void **state)
{
	uint64_t v;
	assert_int_equal(node_parse_bytes("512M", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(node_parse_bytes("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(node_parse_bytes("10", &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(node_parse_bytes("-1", &v), -EINVAL);
	assert_int_equal(node_parse_bytes("1X", &v), -EINVAL);
}

static json_t *row(const char *id, const char *name, int units)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:{s:s}, s:I}", "id", id, "name", name,
			 "state", "created", "desired", "stopped", "size", "small", "units", units,
			 "config", "Image", "busybox", "created", (json_int_t)1);
}

static void db_finds_by_id_name_and_unique_prefix(void **state)
{
	_cleanup_free_ char *d = mkscratch();
	_cleanup_free_ char *p = sn_path_join(d, "state.db");
	struct node_db *db = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(node_db_open(p, &db, &e), 0);
	json_t *a = row("abc123", "one", 1), *b = row("abd456", "two", 4);
	assert_int_equal(node_db_insert(db, a, &e), 0);
	assert_int_equal(node_db_insert(db, b, &e), 0);
	assert_int_equal(node_db_insert(db, a, &e), -EEXIST);
	json_t *r = NULL;
	assert_int_equal(node_db_find(db, "one", &r, &e), 0);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "abc123");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "config"), "Image")), "busybox");
	json_decref(r);
	assert_int_equal(node_db_find(db, "abd", &r, &e), 0);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "two");
	json_decref(r);
	assert_int_equal(node_db_find(db, "ab", &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "ambiguous"));
	assert_int_equal(node_db_find(db, "zzz", &r, &e), -ENOENT);
	assert_string_equal(e.msg, "no such subnode: zzz");
	unsigned used = 0;
	assert_int_equal(node_db_units_used(db, &used, &e), 0);
	assert_int_equal(used, 5);
	json_t *f = json_pack("{s:s, s:i}", "state", "running", "restart_count", 7);
	assert_int_equal(node_db_update(db, "abc123", f, &e), 0);
	json_decref(f);
	f = json_pack("{s:s}", "bogus", "x");
	assert_int_equal(node_db_update(db, "abc123", f, &e), -EINVAL);
	json_decref(f);
	assert_int_equal(node_db_delete(db, "abd456", &e), 0);
	node_db_close(db);
	/* reopen: state survives */
	assert_int_equal(node_db_open(p, &db, &e), 0);
	assert_int_equal(node_db_find(db, "abc", &r, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "restart_count")), 7);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "running");
	json_decref(r);
	json_t *all = NULL;
	assert_int_equal(node_db_list(db, &all, &e), 0);
	assert_int_equal(json_array_size(all), 1);
	json_decref(all);
	node_db_close(db);
	json_decref(a);
	json_decref(b);
	sn_rm_rf(d, &e);
}

static void db_meta_keeps_a_value_across_reopen(void **state)
{
	_cleanup_free_ char *d = mkscratch();
	_cleanup_free_ char *p = sn_path_join(d, "state.db");
	struct node_db *db = NULL;
	struct sn_err e = { 0 };
	char *v = NULL;
	assert_int_equal(node_db_open(p, &db, &e), 0);
	assert_int_equal(node_db_meta_get(db, "boot_id", &v, &e), -ENOENT);
	assert_null(v);
	assert_int_equal(node_db_meta_set(db, "boot_id", "one", &e), 0);
	assert_int_equal(node_db_meta_set(db, "boot_id", "two", &e), 0);
	node_db_close(db);
	assert_int_equal(node_db_open(p, &db, &e), 0);
	assert_int_equal(node_db_meta_get(db, "boot_id", &v, &e), 0);
	assert_string_equal(v, "two");
	free(v);
	assert_int_equal(node_db_meta_get(db, "schema", &v, &e), 0);
	assert_string_equal(v, "1");
	free(v);
	node_db_close(db);
	sn_rm_rf(d, &e);
}

static void admission_refusal_says_what_is_free(void **state)
{
	_cleanup_free_ char *d = mkscratch();
	_cleanup_free_ char *p = sn_path_join(d, "state.db");
	struct node n = { 0 };
	struct sn_err e = { 0 };
	assert_int_equal(node_config_defaults(&n.cfg, &e), 0);
	assert_int_equal(node_db_open(p, &n.db, &e), 0);
	json_t *a = row("aa", "big", 126);
	assert_int_equal(node_db_insert(n.db, a, &e), 0);
	assert_int_equal(node_slices_admit(&n, "small", 1, &e), 0);
	assert_int_equal(node_slices_admit(&n, "medium", 4, &e), -ENOSPC);
	assert_string_equal(e.msg, "not enough room on this node: size medium needs 4 units, 2 of 128 "
				   "free (126 used); sizes that fit: small");
	node_db_close(n.db);
	node_config_free(&n.cfg);
	json_decref(a);
	sn_rm_rf(d, &e);
}

static void names_and_signals(void **state)
{
	assert_true(node_name_valid("chain-1_a.b"));
	assert_false(node_name_valid("-x"));
	assert_false(node_name_valid("a/b"));
	assert_false(node_name_valid(""));
	int s;
	assert_int_equal(node_parse_signal("SIGTERM", &s), 0);
	assert_int_equal(s, SIGTERM);
	assert_int_equal(node_parse_signal("kill", &s), 0);
	assert_int_equal(s, SIGKILL);
	assert_int_equal(node_parse_signal("9", &s), 0);
	assert_int_equal(node_parse_signal("NOPE", &s), -EINVAL);
	assert_int_equal(node_parse_signal("99", &s), -EINVAL);
}

static void log_lines_and_times_parse(void **state)
{
	const char *l = "2026-11-25T12:00:01.5Z stderr P half a line";
	int64_t ts;
	int stream;
	bool partial;
	const char *t;
	size_t tl;
	assert_int_equal(node_logs_parse_line(l, strlen(l), &ts, &stream, &partial, &t, &tl), 0);
	assert_int_equal(stream, 2);
	assert_true(partial);
	assert_int_equal(tl, strlen("half a line"));
	assert_int_equal(ts % 1000000000LL, 500000000LL);
	assert_int_equal(node_logs_parse_line("junk", 4, &ts, &stream, &partial, &t, &tl), -EINVAL);
	int64_t ns;
	assert_int_equal(node_parse_time("1700000000", &ns), 0);
	assert_int_equal(ns, 1700000000LL * 1000000000LL);
	assert_int_equal(node_parse_time("2023-11-14T22:13:20Z", &ns), 0);
	assert_int_equal(ns, 1700000000LL * 1000000000LL);
	assert_int_equal(node_parse_time("yesterday", &ns), -EINVAL);
	char buf[40];
	node_time_str(1700000000LL * 1000000000LL + 5, buf);
	assert_string_equal(buf, "2023-11-14T22:13:20.000000005Z");
}

/* since/until: exact numbers only, and none whose nanoseconds overflow */
static void parse_time_refuses_overflow_and_loose_numbers(void **state)
{
	int64_t ns = 0;
	assert_int_equal(node_parse_time("1700000000.5", &ns), 0);
	assert_int_equal(ns, 1700000000500000000LL);
	assert_int_equal(node_parse_time("2023-11-14T22:13:20.25Z", &ns), 0);
	assert_int_equal(ns, 1700000000250000000LL);
	assert_int_equal(node_parse_time("9223372035", &ns), 0);
	assert_int_equal(node_parse_time("9223372036", &ns), -ERANGE);
	assert_int_equal(node_parse_time("9223372037", &ns), -ERANGE);
	assert_int_equal(node_parse_time("99999999999999999999999", &ns), -ERANGE);
	assert_int_equal(node_parse_time("9999-12-31T23:59:59Z", &ns), -ERANGE);
	static const char *const bad[] = { "1e10", "0x10", "-5", "+5", " 5", "5 ", "1.", ".5",
					   "1.0000000001", "", "1.5e3", "2023-11-14T22:13:20",
					   "2023-11-14T22:13:20.Z", "inf", "nan" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(node_parse_time(bad[i], &ns), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_defaults_need_no_file),
		cmocka_unit_test(config_file_replaces_size_table_and_parses_units),
		cmocka_unit_test(config_refuses_unknown_keys_and_bad_values_naming_the_line),
		cmocka_unit_test(parse_bytes_understands_suffixes),
		cmocka_unit_test(db_finds_by_id_name_and_unique_prefix),
		cmocka_unit_test(db_meta_keeps_a_value_across_reopen),
		cmocka_unit_test(admission_refusal_says_what_is_free),
		cmocka_unit_test(names_and_signals),
		cmocka_unit_test(log_lines_and_times_parse),
		cmocka_unit_test(parse_time_refuses_overflow_and_loose_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
