/* test_reqstats.c — the request histogram: cumulative buckets, sum and
 * count per (route, method, code), exact in microseconds, the number of
 * series bounded, concurrent observers counted exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/reqstats.h"

static char *render(struct api_reqstats *s)
{
	char *t = NULL;
	size_t len = 0;
	assert_int_equal(api_reqstats_render(s, "x_seconds", &t, &len), 0);
	assert_int_equal(strlen(t), len);
	return t;
}

static void buckets_are_cumulative_with_sum_and_count(void **state)
{
	struct api_reqstats *s = NULL;
	assert_int_equal(api_reqstats_new(&s), 0);
	api_reqstats_observe(s, "/containers/{id}/json", "GET", 200, 500);      /* 0.5 ms */
	api_reqstats_observe(s, "/containers/{id}/json", "GET", 200, 7000);     /* 7 ms */
	api_reqstats_observe(s, "/containers/{id}/json", "GET", 200, 20000000); /* 20 s */
	api_reqstats_observe(s, "/containers/{id}/json", "GET", 404, 100);
	char *t = render(s);
	assert_non_null(strstr(t, "# HELP x_seconds "));
	assert_non_null(strstr(t, "# TYPE x_seconds histogram\n"));
	const char *l = "route=\"/containers/{id}/json\",method=\"GET\",code=\"200\"";
	static const char *const lines[] = {
		"bucket{%s,le=\"0.001\"} 1", "bucket{%s,le=\"0.005\"} 1", "bucket{%s,le=\"0.01\"} 2",
		"bucket{%s,le=\"10\"} 2", "bucket{%s,le=\"+Inf\"} 3", "sum{%s} 20.007500", "count{%s} 3",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char fmt[128], want[512];
		snprintf(fmt, sizeof(fmt), "x_seconds_%s\n", lines[i]);
		snprintf(want, sizeof(want), fmt, l);
		if (!strstr(t, want))
			fail_msg("missing: %s", want);
	}
	assert_non_null(strstr(t, "x_seconds_count{route=\"/containers/{id}/json\",method=\"GET\",code=\"404\"} 1\n"));
	free(t);
	api_reqstats_free(s);
}

static void series_past_the_limit_go_to_other(void **state)
{
	struct api_reqstats *s = NULL;
	assert_int_equal(api_reqstats_new(&s), 0);
	char route[32];
	for (int i = 0; i < API_REQSTATS_MAX + 10; i++) {
		snprintf(route, sizeof(route), "/r%d", i);
		api_reqstats_observe(s, route, "GET", 200, 1);
	}
	char *t = render(s);
	assert_non_null(strstr(t, "x_seconds_count{route=\"other\",method=\"other\",code=\"0\"} 10\n"));
	assert_null(strstr(t, "route=\"/r260\""));
	size_t counts = 0;
	for (const char *p = t; (p = strstr(p, "x_seconds_count{")); p++)
		counts++;
	assert_int_equal(counts, API_REQSTATS_MAX + 1);
	free(t);
	api_reqstats_free(s);
}

static void label_values_are_escaped(void **state)
{
	struct api_reqstats *s = NULL;
	assert_int_equal(api_reqstats_new(&s), 0);
	api_reqstats_observe(s, "a\"b\\c\nd", "GET", 200, 1);
	char *t = render(s);
	assert_non_null(strstr(t, "route=\"a\\\"b\\\\c\\nd\""));
	free(t);
	api_reqstats_free(s);
}

static void *observer(void *arg)
{
	for (int i = 0; i < 10000; i++)
		api_reqstats_observe(arg, "/metrics", "GET", 200, 2);
	return NULL;
}

static void concurrent_observers_are_all_counted(void **state)
{
	struct api_reqstats *s = NULL;
	assert_int_equal(api_reqstats_new(&s), 0);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, observer, s), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	char *t = render(s);
	assert_non_null(strstr(t, "x_seconds_count{route=\"/metrics\",method=\"GET\",code=\"200\"} 40000\n"));
	assert_non_null(strstr(t, "x_seconds_sum{route=\"/metrics\",method=\"GET\",code=\"200\"} 0.080000\n"));
	free(t);
	api_reqstats_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buckets_are_cumulative_with_sum_and_count),
		cmocka_unit_test(series_past_the_limit_go_to_other),
		cmocka_unit_test(label_values_are_escaped),
		cmocka_unit_test(concurrent_observers_are_all_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
