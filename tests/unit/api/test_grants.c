/* test_grants.c — transfer grants: a set is taken whole or refused whole
 * with the entry named; a grant's token opens exactly one volume's export,
 * only while it lives; the listing never shows a token. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/grants.h"
#include "api/request.h"
#include "base/clock.h"

#define TOK_A "0123456789abcdef0123456789abcdef"
#define TOK_B "fedcba9876543210fedcba9876543210fedcba9876543210"

static json_t *set_of(const char *vol, const char *tok, int64_t expires)
{
	return json_pack("[{ss ss sI}]", "volume", vol, "token", tok, "expires", (json_int_t)expires);
}

static int put(json_t *list, struct sn_err *e)
{
	int r = grants_set(list, e);
	json_decref(list);
	return r;
}

static void a_grant_opens_one_export_only(void **state)
{
	struct sn_err e = { 0 };
	int64_t later = sn_wall_ms() + 60000;
	json_t *l = json_pack("[{ss ss sI} {ss ss sI}]", "volume", "c1-0-data", "token", TOK_A,
			      "expires", (json_int_t)later, "volume", "c1-3-data", "token", TOK_B,
			      "expires", (json_int_t)later);
	assert_int_equal(put(l, &e), 0);
	assert_true(grants_allow("GET", "/volumes/c1-0-data/export", TOK_A));
	assert_true(grants_allow("GET", "/volumes/c1-3-data/export", TOK_B));
	/* another volume, another route, another method, no or a wrong token */
	assert_false(grants_allow("GET", "/volumes/c1-3-data/export", TOK_A));
	assert_false(grants_allow("GET", "/volumes/c1-0-data", TOK_A));
	assert_false(grants_allow("GET", "/volumes/c1-0-data/export/x", TOK_A));
	assert_false(grants_allow("GET", "/volumes//export", TOK_A));
	assert_false(grants_allow("DELETE", "/volumes/c1-0-data/export", TOK_A));
	assert_false(grants_allow("POST", "/volumes/c1-0-data/import", TOK_A));
	assert_false(grants_allow("GET", "/containers/json", TOK_A));
	assert_false(grants_allow("GET", "/volumes/c1-0-data/export", NULL));
	assert_false(grants_allow("GET", "/volumes/c1-0-data/export", TOK_A "0"));
	assert_false(grants_allow("GET", "/volumes/c1-0-data/export", ""));
	/* a prefix of the volume's name is another volume */
	assert_false(grants_allow("GET", "/volumes/c1-0-dat/export", TOK_A));
	grants_free();
	assert_false(grants_allow("GET", "/volumes/c1-0-data/export", TOK_A));
}

static void an_expired_grant_opens_nothing(void **state)
{
	struct sn_err e = { 0 };
	assert_int_equal(put(set_of("v", TOK_A, sn_wall_ms() - 1), &e), 0);
	assert_false(grants_allow("GET", "/volumes/v/export", TOK_A));
	json_t *l = grants_list();
	assert_int_equal(json_array_size(l), 1);
	assert_true(json_is_true(json_object_get(json_array_get(l, 0), "expired")));
	json_decref(l);
	grants_free();
}

static void the_listing_shows_no_token(void **state)
{
	struct sn_err e = { 0 };
	int64_t later = sn_wall_ms() + 60000;
	assert_int_equal(put(set_of("v", TOK_A, later), &e), 0);
	json_t *l = grants_list();
	char *s = json_dumps(l, 0);
	assert_null(strstr(s, TOK_A));
	assert_null(strstr(s, "token"));
	assert_non_null(strstr(s, "\"volume\": \"v\""));
	free(s);
	json_decref(l);
	grants_free();
}

static void a_bad_set_is_refused_whole_and_the_old_one_stays(void **state)
{
	struct sn_err e = { 0 };
	int64_t later = sn_wall_ms() + 60000;
	assert_int_equal(put(set_of("keep", TOK_A, later), &e), 0);
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "{}", "must be a JSON array" },
		{ "[{\"volume\":\"v\",\"token\":\"" TOK_A "\",\"expires\":1,\"x\":1}]", "grants[0]" },
		{ "[{\"volume\":\"\",\"token\":\"" TOK_A "\",\"expires\":1}]", "grants[0].volume" },
		{ "[{\"volume\":\"a/b\",\"token\":\"" TOK_A "\",\"expires\":1}]", "grants[0].volume" },
		{ "[{\"volume\":\"v\",\"token\":\"0123\",\"expires\":1}]", "grants[0].token" },
		{ "[{\"volume\":\"v\",\"token\":\"0123456789ABCDEF0123456789ABCDEF\",\"expires\":1}]",
		  "grants[0].token" },
		{ "[{\"volume\":\"v\",\"token\":\"" TOK_A "\",\"expires\":\"soon\"}]", "grants[0].expires" },
		{ "[{\"volume\":\"v\",\"token\":\"" TOK_A "\",\"expires\":1},{\"volume\":\"w\"}]",
		  "grants[1]" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *l = json_loads(bad[i].json, 0, NULL);
		assert_non_null(l);
		memset(&e, 0, sizeof(e));
		assert_int_equal(put(l, &e), -EINVAL);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("case %zu: `%s` does not name `%s`", i, e.msg, bad[i].msg);
		assert_true(grants_allow("GET", "/volumes/keep/export", TOK_A));
	}
	grants_free();
}

static void token_eq_compares_whole_tokens(void **state)
{
	assert_true(api_token_eq("abc", "abc"));
	assert_false(api_token_eq("abd", "abc"));
	assert_false(api_token_eq("ab", "abc"));
	assert_false(api_token_eq("abcd", "abc"));
	assert_false(api_token_eq("", "abc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_grant_opens_one_export_only),
		cmocka_unit_test(an_expired_grant_opens_nothing),
		cmocka_unit_test(the_listing_shows_no_token),
		cmocka_unit_test(a_bad_set_is_refused_whole_and_the_old_one_stays),
		cmocka_unit_test(token_eq_compares_whole_tokens),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
