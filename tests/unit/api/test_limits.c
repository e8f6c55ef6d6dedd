/* test_limits.c — the raw URI's verdict (a %00, too many query arguments,
 * cut off in the buffer so that libmicrohttpd parses none) and the
 * listeners' limits as config keys (api/limits.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/limits.h"

static void uri_with_pct_nul_is_400(void **state)
{
	char u[] = "/containers/ab%00zzz";
	assert_int_equal(api_uri_check(u, 64).status, 400);
	char ok[] = "/containers/ab%20zz?x=%01";
	assert_int_equal(api_uri_check(ok, 64).status, 0);
}

static void too_many_args_are_414_and_cut_off(void **state)
{
	char u[4096] = "/_ping?";
	for (int i = 0; i < 65; i++)
		snprintf(u + strlen(u), sizeof(u) - strlen(u), "a%d=b&", i);
	struct api_uri_verdict v = api_uri_check(u, 64);
	assert_int_equal(v.status, 414);
	assert_non_null(strstr(v.why, "http_max_args"));
	assert_string_equal(u, "/_ping?");   /* the arguments are gone */
	/* 64 are fine; empty ones (&&) do not count, as libmicrohttpd skips them */
	char w[4096] = "/_ping?&&";
	for (int i = 0; i < 64; i++)
		snprintf(w + strlen(w), sizeof(w) - strlen(w), "a%d&&", i);
	size_t len = strlen(w);
	assert_int_equal(api_uri_check(w, 64).status, 0);
	assert_int_equal(strlen(w), len);
	char none[] = "/_ping?";
	assert_int_equal(api_uri_check(none, 1).status, 0);
}

static void limits_keys_are_exact(void **state)
{
	struct api_limits l;
	struct sn_err e = { 0 };
	api_limits_default(&l);
	assert_int_equal(l.timeout_s, API_TIMEOUT_S_DEFAULT);
	assert_int_equal(l.per_client, API_PER_CLIENT_DEFAULT);
	assert_int_equal(l.max_args, API_MAX_ARGS_DEFAULT);
	assert_int_equal(api_limits_set(&l, "http_timeout", "5", &e), 0);
	assert_int_equal(l.timeout_s, 5);
	assert_int_equal(api_limits_set(&l, "http_max_args", "128", &e), 0);
	assert_int_equal(api_limits_set(&l, "http_client_connections", "2", &e), 0);
	assert_int_equal(l.per_client, 2);
	assert_int_equal(api_limits_set(&l, "tcp", "x", &e), 1);   /* not one of them */
	const char *bad[][2] = { { "http_timeout", "0" }, { "http_timeout", "1e3" },
				 { "http_max_args", "129" }, { "http_client_connections", "-1" },
				 { "http_timeout", "" }, { "http_timeout", " 5" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(api_limits_set(&l, bad[i][0], bad[i][1], &e), -EINVAL);
		assert_non_null(strstr(e.msg, bad[i][0]));
	}
	assert_int_equal(l.timeout_s, 5);
}

static void options_cap_clients_on_tcp_only(void **state)
{
	struct api_limits l;
	api_limits_default(&l);
	struct MHD_OptionItem o[API_LIMITS_MHD_OPTIONS];
	api_limits_mhd_options(&l, true, o);
	assert_int_equal(o[0].option, MHD_OPTION_CONNECTION_TIMEOUT);
	assert_int_equal(o[0].value, API_TIMEOUT_S_DEFAULT);
	assert_int_equal(o[1].option, MHD_OPTION_PER_IP_CONNECTION_LIMIT);
	assert_int_equal(o[2].option, MHD_OPTION_END);
	api_limits_mhd_options(&l, false, o);
	assert_int_equal(o[1].option, MHD_OPTION_END);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uri_with_pct_nul_is_400),
		cmocka_unit_test(too_many_args_are_414_and_cut_off),
		cmocka_unit_test(limits_keys_are_exact),
		cmocka_unit_test(options_cap_clients_on_tcp_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
