/* test_proc_env.c — HOME for a container process (proc_env.c): the home
 * field of the uid's /etc/passwd line, found by hand, and the environment
 * that gets it only when it has no HOME of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "runtime/proc.h"

static void passwd_home_is_the_sixth_field_of_the_uids_line(void **state)
{
	const char *pw = "root:x:0:0:root:/root:/bin/sh\n"
			 "# a comment:x:1:1::/nope:\n"
			 "broken line\n"
			 "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
			 "nohome:x:7:7:::/bin/sh\n"
			 "app:x:1000:1000:App User,,,:/home/app:/bin/bash"; /* no final newline */
	char home[64];
	assert_int_equal(proc_passwd_home(pw, 0, home, sizeof(home)), 0);
	assert_string_equal(home, "/root");
	assert_int_equal(proc_passwd_home(pw, 1, home, sizeof(home)), 0);
	assert_string_equal(home, "/usr/sbin");
	assert_int_equal(proc_passwd_home(pw, 1000, home, sizeof(home)), 0);
	assert_string_equal(home, "/home/app");
	assert_int_equal(proc_passwd_home(pw, 7, home, sizeof(home)), -ENOENT);   /* empty home */
	assert_int_equal(proc_passwd_home(pw, 4321, home, sizeof(home)), -ENOENT);
	assert_int_equal(proc_passwd_home(pw, 1000, home, 5), -ENOENT);          /* too long */
	assert_int_equal(proc_passwd_home("", 0, home, sizeof(home)), -ENOENT);
	/* "10" must not match uid 1 */
	assert_int_equal(proc_passwd_home("x:x:10:0::/ten:\n", 1, home, sizeof(home)), -ENOENT);
}

static void env_gets_home_only_when_it_has_none(void **state)
{
	struct sn_err err = { 0 };
	char *with[] = { "PATH=/bin", "HOME=/given", NULL };
	char **out = NULL;
	assert_int_equal(proc_env_add_home(with, 0, &out, &err), 0);
	assert_null(out);

	/* the test runs in the host's root: its /etc/passwd has root's line,
	 * and a uid no system gives has "/" */
	char *without[] = { "PATH=/bin", NULL };
	assert_int_equal(proc_env_add_home(without, 2147000000u, &out, &err), 0);
	assert_non_null(out);
	assert_string_equal(out[0], "PATH=/bin");
	assert_string_equal(out[1], "HOME=/");
	assert_null(out[2]);
	proc_env_home_freep(&out);
	assert_null(out);

	assert_int_equal(proc_env_add_home(NULL, 2147000000u, &out, &err), 0);
	assert_string_equal(out[0], "HOME=/");
	assert_null(out[1]);
	proc_env_home_freep(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passwd_home_is_the_sixth_field_of_the_uids_line),
		cmocka_unit_test(env_gets_home_only_when_it_has_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
