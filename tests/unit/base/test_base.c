/* test_base.c — unit tests of the base layer: errors, fs helpers, JSON
 * field errors, sha256. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/frame.h"
#include "base/json.h"
#include "base/sha256.h"

static char *mkscratch(void)
{
	char tmpl[] = "/tmp/sn-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void err_set_appends_strerror_and_returns_negative(void **state)
{
	struct sn_err e = { 0 };
	int r = sn_err_set(&e, ENOENT, "open `%s`", "/x");
	assert_int_equal(r, -ENOENT);
	assert_int_equal(e.code, ENOENT);
	assert_string_equal(e.msg, "open `/x`: No such file or directory");
}

static void err_wrap_prefixes_context(void **state)
{
	struct sn_err e = { 0 };
	sn_err_msg(&e, EINVAL, "bad thing");
	int r = sn_err_wrap(&e, "create container `%s`", "abc");
	assert_int_equal(r, -EINVAL);
	assert_string_equal(e.msg, "create container `abc`: bad thing");
}

static void err_set_with_zero_errno_still_fails(void **state)
{
	struct sn_err e = { 0 };
	assert_int_equal(sn_err_msg(&e, 0, "x"), -EIO);
}

static void write_atomic_then_read_back(void **state)
{
	_cleanup_free_ char *d = mkscratch();
	_cleanup_free_ char *p = sn_path_join(d, "f.json");
	struct sn_err e = { 0 };
	assert_int_equal(sn_write_file_atomic(p, "hello", 5, 0600, &e), 0);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	assert_int_equal(sn_read_file(p, 0, &buf, &len, &e), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(sn_rm_rf(d, &e), 0);
	assert_false(sn_path_exists(d));
}

static void read_file_refuses_over_max_size(void **state)
{
	_cleanup_free_ char *d = mkscratch();
	_cleanup_free_ char *p = sn_path_join(d, "big");
	struct sn_err e = { 0 };
	char data[10000];
	memset(data, 'a', sizeof(data));
	assert_int_equal(sn_write_file(p, data, sizeof(data), 0600, &e), 0);
	_cleanup_free_ char *buf = NULL;
	assert_int_equal(sn_read_file(p, 100, &buf, NULL, &e), -EFBIG);
	assert_non_null(strstr(e.msg, "larger than 100 bytes"));
	sn_rm_rf(d, &e);
}

static void read_missing_file_names_the_path(void **state)
{
	struct sn_err e = { 0 };
	char *buf = NULL;
	assert_int_equal(sn_read_file("/nonexistent/zz", 0, &buf, NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "`/nonexistent/zz`"));
}

static void mkdir_p_and_rm_rf_nested(void **state)
{
	_cleanup_free_ char *d = mkscratch();
	_cleanup_free_ char *p = sn_path_join(d, "a/b/c");
	struct sn_err e = { 0 };
	assert_int_equal(sn_mkdir_p(p, 0755, &e), 0);
	assert_int_equal(sn_mkdir_p(p, 0755, &e), 0);
	_cleanup_free_ char *f = sn_path_join(p, "file");
	assert_int_equal(sn_write_file(f, "x", 1, 0600, &e), 0);
	_cleanup_free_ char *l = sn_path_join(d, "a/link");
	assert_int_equal(symlink("/etc", l), 0);
	assert_int_equal(sn_rm_rf(d, &e), 0);
	assert_false(sn_path_exists(d));
	assert_true(sn_path_exists("/etc/passwd")); /* the symlink was not followed */
}

static void path_join_collapses_slashes(void **state)
{
	_cleanup_free_ char *a = sn_path_join("/a/", "/b");
	assert_string_equal(a, "/a/b");
	_cleanup_free_ char *b = sn_path_join("/", "x");
	assert_string_equal(b, "/x");
}

static void parse_numbers_whole_string_only(void **state)
{
	unsigned long long u;
	long long i;
	assert_int_equal(sn_parse_u64("42", &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(sn_parse_u64("42x", &u), -EINVAL);
	assert_int_equal(sn_parse_u64("-1", &u), -EINVAL);
	assert_int_equal(sn_parse_i64("-7", &i), 0);
	assert_int_equal(i, -7);
	assert_int_equal(sn_parse_i64("", &i), -EINVAL);
	assert_int_equal(sn_parse_u64("\t5", &u), -EINVAL);
	assert_int_equal(sn_parse_u64("99999999999999999999", &u), -ERANGE);
}

static void parse_ports_and_health_targets_exactly(void **state)
{
	uint16_t p;
	assert_int_equal(sn_parse_port("65535", &p), 0);
	assert_int_equal(p, 65535);
	static const char *const bad_ports[] = { "0", "65536", "99999", "-1", "+80", "1e3", "0x10", "" };
	for (size_t k = 0; k < SN_ARRAY_SIZE(bad_ports); k++)
		assert_int_equal(sn_parse_port(bad_ports[k], &p), -EINVAL);
	struct sockaddr_in a;
	const char *path;
	assert_int_equal(sn_parse_inet_target("http://10.0.0.1:8080/x", &a, &path), 0);
	assert_int_equal(ntohs(a.sin_port), 8080);
	assert_string_equal(path, "/x");
	assert_int_equal(sn_parse_inet_target("9999", &a, &path), 0);
	assert_int_equal(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_string_equal(path, "/");
	static const char *const bad[] = { "99999", "host:-1", "host:80", "1.2.3.4:", ":80x", "/x" };
	for (size_t k = 0; k < SN_ARRAY_SIZE(bad); k++)
		assert_int_equal(sn_parse_inet_target(bad[k], &a, &path), -EINVAL);
}

static void json_type_error_names_the_field(void **state)
{
	struct sn_err e = { 0 };
	json_t *j = NULL;
	const char *doc = "{\"process\":{\"cwd\":5,\"args\":[\"a\",1]}}";
	assert_int_equal(sn_json_loadb(doc, strlen(doc), "config.json", &j, &e), 0);
	json_t *p = json_object_get(j, "process");
	const char *s;
	assert_int_equal(sn_json_string(p, "process", "cwd", &s, &e), -EINVAL);
	assert_string_equal(e.msg, "process.cwd: must be a string");
	char **v = NULL;
	assert_int_equal(sn_json_strv(p, "process", "args", &v, NULL, &e), -EINVAL);
	assert_string_equal(e.msg, "process.args[1]: must be a string");
	assert_int_equal(sn_json_string(p, "process", "missing", &s, &e), 0);
	json_decref(j);
}

static void json_invalid_document_names_line_and_column(void **state)
{
	struct sn_err e = { 0 };
	json_t *j = NULL;
	const char *doc = "{\n \"a\": ,\n}";
	assert_int_equal(sn_json_loadb(doc, strlen(doc), "config.json", &j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "config.json: invalid JSON at line 2"));
}

static void json_only_keys_refuses_unknown_field(void **state)
{
	struct sn_err e = { 0 };
	json_t *j = json_pack("{s:i,s:i}", "a", 1, "zz", 2);
	static const char *const allowed[] = { "a", "b", NULL };
	assert_int_equal(sn_json_only_keys(j, "body", allowed, &e), -EINVAL);
	assert_string_equal(e.msg, "body: unknown field `zz`");
	json_decref(j);
}

static void json_uint_accepts_max_u64_and_refuses_negative(void **state)
{
	struct sn_err e = { 0 };
	json_t *j = NULL;
	const char *doc = "{\"a\":18446744073709551615,\"b\":-1}";
	assert_int_equal(sn_json_loadb(doc, strlen(doc), "t", &j, &e), 0);
	uint64_t v;
	assert_int_equal(sn_json_uint(j, "", "a", &v, &e), 1);
	assert_true(v == UINT64_MAX);
	assert_int_equal(sn_json_uint(j, "", "b", &v, &e), -EINVAL);
	json_decref(j);
}

static void sha256_known_vectors(void **state)
{
	struct sn_err e = { 0 };
	char hex[65];
	assert_int_equal(sn_sha256_hex("abc", 3, hex, &e), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sn_sha256_hex("", 0, hex, &e), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_true(sn_digest_is_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	assert_false(sn_digest_is_valid("sha256:E3B0"));
	assert_false(sn_digest_is_valid("md5:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

struct collected {
	char out[64], err[64];
	size_t no, ne;
};

static bool collect(int stream, const char *p, size_t n, void *arg)
{
	struct collected *c = arg;
	char *dst = stream == 2 ? c->err : c->out;
	size_t *len = stream == 2 ? &c->ne : &c->no;
	memcpy(dst + *len, p, n);
	*len += n;
	return true;
}

/* Frames written by sn_frame_header come back whole from sn_frame_feed,
 * whatever the sizes of the pieces the bytes arrive in. */
static void frames_round_trip_in_pieces_of_any_size(void **state)
{
	unsigned char wire[64];
	size_t w = 0;
	sn_frame_header(wire + w, 1, 5);
	memcpy(wire + w + 8, "hello", 5);
	w += 13;
	sn_frame_header(wire + w, 2, 3);
	memcpy(wire + w + 8, "err", 3);
	w += 11;
	sn_frame_header(wire + w, 1, 0);
	w += 8;
	sn_frame_header(wire + w, 1, 6);
	memcpy(wire + w + 8, " world", 6);
	w += 14;
	assert_int_equal(wire[4] | wire[5] | wire[6], 0);
	assert_int_equal(wire[7], 5);
	for (size_t piece = 1; piece <= w; piece++) {
		struct sn_frame_reader r = { 0 };
		struct collected c = { 0 };
		for (size_t off = 0; off < w; off += piece) {
			size_t n = w - off < piece ? w - off : piece;
			assert_true(sn_frame_feed(&r, (const char *)wire + off, n, collect, &c));
		}
		assert_int_equal(c.no, 11);
		assert_memory_equal(c.out, "hello world", 11);
		assert_int_equal(c.ne, 3);
		assert_memory_equal(c.err, "err", 3);
	}
}

static void buf_grows_and_formats_numbers(void **state)
{
	(void)state;
	struct sn_buf b = { 0 };
	sn_buf_u64(&b, 0);
	sn_buf_putc(&b, ' ');
	sn_buf_u64(&b, UINT64_MAX);
	for (int i = 0; i < 100; i++)
		sn_buf_printf(&b, " %d", i);
	assert_false(b.oom);
	assert_int_equal(strncmp(b.p, "0 18446744073709551615 0 1 2", 28), 0);
	assert_int_equal(b.len, strlen(b.p));
	sn_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	sn_buf_free(&b);
}

/* pread from offset 0: the whole text each time, whatever was read
 * before, larger than the buffer's first size too */
static void buf_pread_reads_whole_file_again_each_time(void **state)
{
	(void)state;
	char path[] = "/tmp/sn-test-buf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	char big[10000];
	memset(big, 'x', sizeof(big));
	assert_int_equal(sn_write_all(fd, big, sizeof(big)), 0);
	struct sn_buf b = { 0 };
	struct sn_err e = { 0 };
	for (int one = 0; one < 2; one++) {
		assert_int_equal(sn_buf_pread(&b, fd, one, "f", &e), 0);
		assert_int_equal(b.len, sizeof(big));
		assert_int_equal(sn_buf_pread(&b, fd, one, "f", &e), 0);
		assert_int_equal(b.len, sizeof(big));
	}
	assert_int_equal(pwrite(fd, "y", 1, 0), 1);
	assert_int_equal(sn_buf_pread(&b, fd, true, "f", &e), 0);
	assert_int_equal(b.p[0], 'y');
	close(fd);
	assert_int_equal(sn_buf_pread(&b, fd, true, "f", &e), -EBADF);
	assert_non_null(strstr(e.msg, "read `f`"));
	sn_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(err_set_appends_strerror_and_returns_negative),
		cmocka_unit_test(err_wrap_prefixes_context),
		cmocka_unit_test(err_set_with_zero_errno_still_fails),
		cmocka_unit_test(write_atomic_then_read_back),
		cmocka_unit_test(read_file_refuses_over_max_size),
		cmocka_unit_test(read_missing_file_names_the_path),
		cmocka_unit_test(mkdir_p_and_rm_rf_nested),
		cmocka_unit_test(path_join_collapses_slashes),
		cmocka_unit_test(parse_numbers_whole_string_only),
		cmocka_unit_test(json_type_error_names_the_field),
		cmocka_unit_test(json_invalid_document_names_line_and_column),
		cmocka_unit_test(json_only_keys_refuses_unknown_field),
		cmocka_unit_test(json_uint_accepts_max_u64_and_refuses_negative),
		cmocka_unit_test(sha256_known_vectors),
		cmocka_unit_test(parse_ports_and_health_targets_exactly),
		cmocka_unit_test(frames_round_trip_in_pieces_of_any_size),
		cmocka_unit_test(buf_grows_and_formats_numbers),
		cmocka_unit_test(buf_pread_reads_whole_file_again_each_time),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
