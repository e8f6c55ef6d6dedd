/* test_spec_fuzz.c — regression tests for what fuzzing of the OCI config
 * parser (tests/fuzz/fuzz_spec.c) found. Each test replays the input the
 * fuzzer saved, reduced by hand to what matters, and checks the behaviour
 * that was broken. Run under ASan (build-asan/tests/runtime/), where a
 * leak fails the program at exit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base/json.h"
#include "runtime/spec.h"

static json_t *load(const char *text)
{
	json_t *doc = NULL;
	struct sn_err e = { 0 };
	if (sn_json_loadb(text, strlen(text), "input", &doc, &e) < 0)
		fail_msg("bad test input: %s", e.msg);
	return doc;
}

/* `subrun update -r` frees the resources only on success: a refusal after
 * cpu.cpus was parsed must leave nothing allocated (it leaked). */
static void refused_resources_leave_nothing_to_free(void **state)
{
	json_t *doc = load("{\"cpu\":{\"quota\":50000,\"cpus\":\"0\",\"mems\":\"0\"},"
			   "\"pids\":{\"*imit\":-1}}");
	struct spec_resources rs;
	struct sn_err e = { 0 };
	assert_int_equal(spec_parse_resources(doc, "resources", &rs, &e), -EINVAL);
	assert_string_equal(e.msg, "resources.pids.limit: required");
	assert_null(rs.cpu.cpus);
	assert_null(rs.cpu.mems);
	json_decref(doc);

	/* The same late refusal after every kind of allocated part. */
	doc = load("{\"devices\":[{\"allow\":true,\"access\":\"r\"}],"
		   "\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":5}]},"
		   "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":1}],"
		   "\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":1}]},"
		   "\"unified\":{\"a\":\"1\",\"b\":2}}");
	assert_int_equal(spec_parse_resources(doc, "resources", &rs, &e), -EINVAL);
	assert_string_equal(e.msg, "resources.unified.b: must be a string");
	assert_null(rs.devices);
	assert_null(rs.unified);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refused_resources_leave_nothing_to_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
