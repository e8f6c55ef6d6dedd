/* test_reply.c — the api layer's pure helpers: the HTTP status of an errno,
 * a request body collected up to its limit, a stream's pending chunks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "api/request.h"

static void status_follows_errno(void **state)
{
	assert_int_equal(api_status_of(EINVAL), 400);
	assert_int_equal(api_status_of(E2BIG), 400);
	assert_int_equal(api_status_of(ENAMETOOLONG), 400);
	assert_int_equal(api_status_of(EPERM), 403);
	assert_int_equal(api_status_of(EACCES), 403);
	assert_int_equal(api_status_of(ENOENT), 404);
	assert_int_equal(api_status_of(EEXIST), 409);
	assert_int_equal(api_status_of(EBUSY), 409);
	assert_int_equal(api_status_of(ENOSPC), 409);
	assert_int_equal(api_status_of(EIO), 500);
}

static void body_collects_up_to_its_limit(void **state)
{
	struct api_body b = { 0 };
	assert_int_equal(api_body_append(&b, 8, "abc", 3), 0);
	assert_int_equal(api_body_append(&b, 8, "defgh", 5), 0);
	assert_false(b.too_big);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "abcdefgh");
	assert_int_equal(api_body_append(&b, 8, "i", 1), 0);
	assert_true(b.too_big);
	assert_int_equal(b.len, 8);            /* nothing past the limit kept */
	assert_int_equal(api_body_append(&b, 8, "", 0), 0);
	assert_true(b.too_big);                /* and it stays refused */
	api_body_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void pending_lines_drain_in_blocks(void **state)
{
	char *pending = NULL;
	size_t plen = 0, poff = 0;
	api_pending_line(&pending, &plen, json_pack("{s:i}", "a", 1));
	api_pending_line(&pending, &plen, json_pack("{s:s}", "b", "x"));
	const char want[] = "{\"a\":1}\n{\"b\":\"x\"}\n";
	assert_int_equal(plen, strlen(want));
	char out[64] = "", blk[5];
	ssize_t n;
	size_t got = 0;
	while ((n = api_drain_pending(&pending, &plen, &poff, blk, sizeof(blk))) > 0) {
		assert_true(n <= (ssize_t)sizeof(blk));
		memcpy(out + got, blk, (size_t)n);
		got += (size_t)n;
	}
	assert_int_equal(n, 0);
	assert_string_equal(out, want);
	assert_null(pending);              /* used up: freed */
	assert_int_equal(plen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_follows_errno),
		cmocka_unit_test(body_collects_up_to_its_limit),
		cmocka_unit_test(pending_lines_drain_in_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
