/* test_hooks.c — hooks_run: the state on stdin, args and env, failure
 * messages with the stderr tail, timeouts, order and stop at the first
 * failure, fds not leaked into hooks, hooks that do not read stdin or
 * leave a background child behind. Hooks are small /bin/sh scripts in a
 * scratch directory that write what they saw into files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/fs.h"
#include "runtime/hooks.h"

static char scratch[64];

static int setup_scratch(void **state)
{
	strcpy(scratch, "/tmp/sn-hooks-XXXXXX");
	return mkdtemp(scratch) ? 0 : -1;
}

static int teardown_scratch(void **state)
{
	struct sn_err e = { 0 };
	return sn_rm_rf(scratch, &e);
}

/* Write an executable script <scratch>/<name>; returns its path. */
static char *script(const char *name, const char *body)
{
	char *path = sn_path_join(scratch, name);
	assert_non_null(path);
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, "#!/bin/sh\n%s\n", body) > 0);
	struct sn_err e = { 0 };
	assert_int_equal(sn_write_file(path, text, strlen(text), 0755, &e), 0);
	return path;
}

static char *scratch_file(const char *name)
{
	char *p = sn_path_join(scratch, name);
	assert_non_null(p);
	return p;
}

static char *read_text(const char *path)
{
	char *s = NULL;
	struct sn_err e = { 0 };
	if (sn_read_file(path, 0, &s, NULL, &e) < 0)
		return NULL;
	return s;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct spec_hook hook(char *path)
{
	return (struct spec_hook){ .path = path, .timeout = SPEC_UNSET };
}

static void state_arrives_on_stdin(void **state)
{
	_cleanup_free_ char *out = scratch_file("state.out");
	_cleanup_free_ char *body = NULL;
	assert_true(asprintf(&body, "/bin/cat > '%s'", out) > 0);
	_cleanup_free_ char *path = script("state.sh", body);
	struct spec_hook h = hook(path);
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_PRESTART] = &h;
	hs.n[SPEC_HOOK_PRESTART] = 1;

	const char *json = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"created\",\"pid\":42}";
	struct sn_err err = { 0 };
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_PRESTART, json, &err), 0);
	_cleanup_free_ char *got = read_text(out);
	assert_non_null(got);
	assert_string_equal(got, json);
}

static void large_state_reaches_a_reading_hook_whole(void **state)
{
	_cleanup_free_ char *out = scratch_file("big.out");
	_cleanup_free_ char *body = NULL;
	assert_true(asprintf(&body, "/bin/cat > '%s'", out) > 0);
	_cleanup_free_ char *path = script("big.sh", body);
	struct spec_hook h = hook(path);
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_CREATE_RUNTIME] = &h;
	hs.n[SPEC_HOOK_CREATE_RUNTIME] = 1;

	size_t n = 1 << 20; /* far more than a pipe holds */
	_cleanup_free_ char *json = malloc(n + 1);
	assert_non_null(json);
	memset(json, 'a', n);
	json[n] = '\0';
	struct sn_err err = { 0 };
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_CREATE_RUNTIME, json, &err), 0);
	_cleanup_free_ char *got = read_text(out);
	assert_non_null(got);
	assert_int_equal(strlen(got), n);
}

static void hook_that_ignores_stdin_is_fine(void **state)
{
	_cleanup_free_ char *path = script("ignore.sh", "exit 0");
	struct spec_hook h = hook(path);
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_POSTSTOP] = &h;
	hs.n[SPEC_HOOK_POSTSTOP] = 1;
	size_t n = 1 << 20;
	_cleanup_free_ char *json = malloc(n + 1);
	assert_non_null(json);
	memset(json, 'b', n);
	json[n] = '\0';
	struct sn_err err = { 0 };
	/* EPIPE, and no SIGPIPE killing the runner */
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_POSTSTOP, json, &err), 0);
	sigset_t pending;
	sigpending(&pending);
	assert_int_equal(sigismember(&pending, SIGPIPE), 0);
}

static void args_and_env_are_passed_and_nothing_else_inherited(void **state)
{
	_cleanup_free_ char *out = scratch_file("args.out");
	_cleanup_free_ char *body = NULL;
	assert_true(asprintf(&body,
			     "echo \"$0|$1|$2|$FOO|${SN_HOOK_TEST_LEAK:-unset}\" > '%s'", out) > 0);
	_cleanup_free_ char *path = script("args.sh", body);
	setenv("SN_HOOK_TEST_LEAK", "leaked", 1);

	char *args[] = { "my-hook", "one", "two words", NULL };
	char *env[] = { "FOO=bar baz", NULL };
	struct spec_hook h = hook(path);
	h.args = args;
	h.n_args = 3;
	h.env = env;
	h.n_env = 1;
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_CREATE_CONTAINER] = &h;
	hs.n[SPEC_HOOK_CREATE_CONTAINER] = 1;
	struct sn_err err = { 0 };
	int r = hooks_run(&hs, SPEC_HOOK_CREATE_CONTAINER, "{}", &err);
	unsetenv("SN_HOOK_TEST_LEAK");
	assert_int_equal(r, 0);
	_cleanup_free_ char *got = read_text(out);
	assert_non_null(got);
	/* $0 of a script is its path; argv[0] ("my-hook") went to the shell */
	char want[256];
	snprintf(want, sizeof(want), "%s|one|two words|bar baz|unset\n", path);
	assert_string_equal(got, want);
}

/* Without an `env` key the hook inherits the runtime's environment (as
 * runc and crun); `env: []` is an empty one. */
static void without_args_argv0_is_the_path_and_without_env_ours_is_inherited(void **state)
{
	_cleanup_free_ char *out = scratch_file("noargs.out");
	_cleanup_free_ char *body = NULL;
	assert_true(asprintf(&body, "echo \"$#|${SN_HOOK_TEST_MARK:-unset}\" >> '%s'", out) > 0);
	_cleanup_free_ char *path = script("noargs.sh", body);
	struct spec_hook h = hook(path);
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_START_CONTAINER] = &h;
	hs.n[SPEC_HOOK_START_CONTAINER] = 1;
	struct sn_err err = { 0 };
	setenv("SN_HOOK_TEST_MARK", "inherited", 1);
	int r1 = hooks_run(&hs, SPEC_HOOK_START_CONTAINER, NULL, &err);
	char *none[] = { NULL };
	h.env = none;
	int r2 = hooks_run(&hs, SPEC_HOOK_START_CONTAINER, NULL, &err);
	unsetenv("SN_HOOK_TEST_MARK");
	assert_int_equal(r1, 0);
	assert_int_equal(r2, 0);
	_cleanup_free_ char *got = read_text(out);
	assert_non_null(got);
	assert_string_equal(got, "0|inherited\n0|unset\n");
}

static void failing_hook_error_names_kind_index_path_status_and_stderr(void **state)
{
	_cleanup_free_ char *ok = script("ok.sh", "exit 0");
	_cleanup_free_ char *bad = script("bad.sh",
		"echo 'some noise' >&2; echo 'stdout is not in the error'; "
		"echo 'cannot reach the network plugin' >&2; exit 3");
	struct spec_hook hl[2] = { hook(ok), hook(bad) };
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_POSTSTART] = hl;
	hs.n[SPEC_HOOK_POSTSTART] = 2;
	struct sn_err err = { 0 };
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_POSTSTART, "{}", &err), -EIO);
	char want[512];
	snprintf(want, sizeof(want),
		 "hook poststart[1] `%s` exited with status 3: some noise\n"
		 "cannot reach the network plugin", bad);
	assert_string_equal(err.msg, want);
}

static void hook_killed_by_a_signal_says_which(void **state)
{
	_cleanup_free_ char *path = script("segv.sh", "kill -USR1 $$");
	struct spec_hook h = hook(path);
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_PRESTART] = &h;
	hs.n[SPEC_HOOK_PRESTART] = 1;
	struct sn_err err = { 0 };
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_PRESTART, "{}", &err), -EIO);
	char want[256];
	snprintf(want, sizeof(want), "hook prestart[0] `%s` was killed by signal 10 (SIGUSR1)",
		 path);
	assert_string_equal(err.msg, want);
}

static void long_stderr_keeps_its_end(void **state)
{
	_cleanup_free_ char *path = script("chatty.sh",
		"i=0; while [ $i -lt 2000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; "
		"echo 'the real reason' >&2; exit 1");
	struct spec_hook h = hook(path);
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_PRESTART] = &h;
	hs.n[SPEC_HOOK_PRESTART] = 1;
	struct sn_err err = { 0 };
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_PRESTART, "{}", &err), -EIO);
	assert_non_null(strstr(err.msg, "exited with status 1: ..."));
	size_t n = strlen(err.msg);
	const char *end = "line 1999\nthe real reason";
	assert_true(n > strlen(end));
	assert_string_equal(err.msg + n - strlen(end), end);
}

static void timeout_kills_the_hook_and_what_it_started(void **state)
{
	_cleanup_free_ char *pidfile = scratch_file("sleeper.pid");
	_cleanup_free_ char *body = NULL;
	assert_true(asprintf(&body, "/bin/sleep 30 & echo $! > '%s'; wait", pidfile) > 0);
	_cleanup_free_ char *path = script("slow.sh", body);
	struct spec_hook h = hook(path);
	h.timeout = 1;
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_CREATE_RUNTIME] = &h;
	hs.n[SPEC_HOOK_CREATE_RUNTIME] = 1;
	struct sn_err err = { 0 };
	double t0 = now_s();
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_CREATE_RUNTIME, "{}", &err), -ETIMEDOUT);
	double took = now_s() - t0;
	assert_true(took >= 0.9 && took < 2.0);
	char want[256];
	snprintf(want, sizeof(want), "hook createRuntime[0] `%s` timed out after 1 s", path);
	assert_string_equal(err.msg, want);

	/* the background sleep went with it (gone, or a zombie for init) */
	_cleanup_free_ char *pidtxt = read_text(pidfile);
	assert_non_null(pidtxt);
	pid_t sleeper = (pid_t)atoi(pidtxt);
	assert_true(sleeper > 0);
	bool dead = false;
	for (int i = 0; i < 100 && !dead; i++) {
		char sp[64];
		snprintf(sp, sizeof(sp), "/proc/%d/stat", (int)sleeper);
		_cleanup_free_ char *st = read_text(sp);
		const char *rp = st ? strrchr(st, ')') : NULL;
		dead = !st || (rp && rp[2] == 'Z');
		if (!dead)
			usleep(10000);
	}
	if (!dead)
		kill(sleeper, SIGKILL);
	assert_true(dead);
}

static void background_child_holding_the_pipes_does_not_block(void **state)
{
	_cleanup_free_ char *pidfile = scratch_file("daemon.pid");
	_cleanup_free_ char *body = NULL;
	assert_true(asprintf(&body, "/bin/sleep 5 & echo $! > '%s'; exit 0", pidfile) > 0);
	_cleanup_free_ char *path = script("daemonize.sh", body);
	struct spec_hook h = hook(path);
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_POSTSTART] = &h;
	hs.n[SPEC_HOOK_POSTSTART] = 1;
	struct sn_err err = { 0 };
	double t0 = now_s();
	int r = hooks_run(&hs, SPEC_HOOK_POSTSTART, "{}", &err);
	double took = now_s() - t0;
	_cleanup_free_ char *pidtxt = read_text(pidfile);
	if (pidtxt && atoi(pidtxt) > 0)
		kill((pid_t)atoi(pidtxt), SIGKILL);
	assert_int_equal(r, 0);
	assert_true(took < 2.0);
}

static void hooks_run_in_order_and_stop_at_the_first_failure(void **state)
{
	_cleanup_free_ char *log = scratch_file("order.log");
	_cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL;
	assert_true(asprintf(&b1, "echo first >> '%s'", log) > 0);
	assert_true(asprintf(&b2, "echo second >> '%s'; exit 7", log) > 0);
	assert_true(asprintf(&b3, "echo third >> '%s'", log) > 0);
	_cleanup_free_ char *p1 = script("h1.sh", b1);
	_cleanup_free_ char *p2 = script("h2.sh", b2);
	_cleanup_free_ char *p3 = script("h3.sh", b3);
	struct spec_hook hl[3] = { hook(p1), hook(p2), hook(p3) };
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_PRESTART] = hl;
	hs.n[SPEC_HOOK_PRESTART] = 3;
	struct sn_err err = { 0 };
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_PRESTART, "{}", &err), -EIO);
	char want[256];
	snprintf(want, sizeof(want), "hook prestart[1] `%s` exited with status 7", p2);
	assert_string_equal(err.msg, want);
	_cleanup_free_ char *got = read_text(log);
	assert_non_null(got);
	assert_string_equal(got, "first\nsecond\n");
}

static void poststart_and_poststop_run_every_hook_after_a_failure(void **state)
{
	enum spec_hook_kind kinds[2] = { SPEC_HOOK_POSTSTART, SPEC_HOOK_POSTSTOP };
	for (int k = 0; k < 2; k++) {
		_cleanup_free_ char *log = scratch_file(k ? "after-stop.log" : "after-start.log");
		unlink(log);
		_cleanup_free_ char *b1 = NULL, *b2 = NULL, *b3 = NULL;
		assert_true(asprintf(&b1, "echo first >> '%s'; exit 5", log) > 0);
		assert_true(asprintf(&b2, "echo second >> '%s'; exit 6", log) > 0);
		assert_true(asprintf(&b3, "echo third >> '%s'", log) > 0);
		_cleanup_free_ char *p1 = script(k ? "s1.sh" : "f1.sh", b1);
		_cleanup_free_ char *p2 = script(k ? "s2.sh" : "f2.sh", b2);
		_cleanup_free_ char *p3 = script(k ? "s3.sh" : "f3.sh", b3);
		struct spec_hook hl[3] = { hook(p1), hook(p2), hook(p3) };
		struct spec_hooks hs = { 0 };
		hs.list[kinds[k]] = hl;
		hs.n[kinds[k]] = 3;
		struct sn_err err = { 0 };
		/* the first failure is what the caller gets */
		assert_int_equal(hooks_run(&hs, kinds[k], "{}", &err), -EIO);
		char want[256];
		snprintf(want, sizeof(want), "hook %s[0] `%s` exited with status 5",
			 hooks_kind_name(kinds[k]), p1);
		assert_string_equal(err.msg, want);
		_cleanup_free_ char *got = read_text(log);
		assert_non_null(got);
		assert_string_equal(got, "first\nsecond\nthird\n");
	}
}

static void missing_hook_binary_fails_with_enoent_naming_it(void **state)
{
	_cleanup_free_ char *path = scratch_file("does-not-exist");
	struct spec_hook h = hook(path);
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_POSTSTOP] = &h;
	hs.n[SPEC_HOOK_POSTSTOP] = 1;
	struct sn_err err = { 0 };
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_POSTSTOP, "{}", &err), -ENOENT);
	char want[256];
	snprintf(want, sizeof(want), "hook poststop[0] `%s`: execve: No such file or directory",
		 path);
	assert_string_equal(err.msg, want);
}

static void hook_gets_only_stdin_stdout_stderr(void **state)
{
	/* an fd of ours without O_CLOEXEC */
	int leak = open("/dev/null", O_RDONLY);
	assert_true(leak > 2);
	_cleanup_free_ char *out = scratch_file("fds.out");
	_cleanup_free_ char *cmd = NULL;
	/* ls itself opens one directory fd (3) */
	assert_true(asprintf(&cmd, "/bin/ls /proc/self/fd > '%s'", out) > 0);
	char *args[] = { "sh", "-c", cmd, NULL };
	struct spec_hook h = hook("/bin/sh");
	h.args = args;
	h.n_args = 3;
	struct spec_hooks hs = { 0 };
	hs.list[SPEC_HOOK_PRESTART] = &h;
	hs.n[SPEC_HOOK_PRESTART] = 1;
	struct sn_err err = { 0 };
	int r = hooks_run(&hs, SPEC_HOOK_PRESTART, "{}", &err);
	close(leak);
	assert_int_equal(r, 0);
	_cleanup_free_ char *got = read_text(out);
	assert_non_null(got);
	assert_string_equal(got, "0\n1\n2\n3\n");
}

static void no_hooks_of_a_kind_is_success(void **state)
{
	struct spec_hooks hs = { 0 };
	struct sn_err err = { 0 };
	assert_int_equal(hooks_run(&hs, SPEC_HOOK_POSTSTOP, "{}", &err), 0);
	assert_int_equal(hooks_run(NULL, SPEC_HOOK_POSTSTOP, "{}", &err), 0);
}

static void kind_names_are_the_oci_names(void **state)
{
	assert_string_equal(hooks_kind_name(SPEC_HOOK_PRESTART), "prestart");
	assert_string_equal(hooks_kind_name(SPEC_HOOK_CREATE_RUNTIME), "createRuntime");
	assert_string_equal(hooks_kind_name(SPEC_HOOK_CREATE_CONTAINER), "createContainer");
	assert_string_equal(hooks_kind_name(SPEC_HOOK_START_CONTAINER), "startContainer");
	assert_string_equal(hooks_kind_name(SPEC_HOOK_POSTSTART), "poststart");
	assert_string_equal(hooks_kind_name(SPEC_HOOK_POSTSTOP), "poststop");
	assert_string_equal(hooks_kind_name(SPEC_HOOK_KINDS), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_arrives_on_stdin),
		cmocka_unit_test(large_state_reaches_a_reading_hook_whole),
		cmocka_unit_test(hook_that_ignores_stdin_is_fine),
		cmocka_unit_test(args_and_env_are_passed_and_nothing_else_inherited),
		cmocka_unit_test(without_args_argv0_is_the_path_and_without_env_ours_is_inherited),
		cmocka_unit_test(failing_hook_error_names_kind_index_path_status_and_stderr),
		cmocka_unit_test(hook_killed_by_a_signal_says_which),
		cmocka_unit_test(long_stderr_keeps_its_end),
		cmocka_unit_test(timeout_kills_the_hook_and_what_it_started),
		cmocka_unit_test(background_child_holding_the_pipes_does_not_block),
		cmocka_unit_test(hooks_run_in_order_and_stop_at_the_first_failure),
		cmocka_unit_test(poststart_and_poststop_run_every_hook_after_a_failure),
		cmocka_unit_test(missing_hook_binary_fails_with_enoent_naming_it),
		cmocka_unit_test(hook_gets_only_stdin_stdout_stderr),
		cmocka_unit_test(no_hooks_of_a_kind_is_success),
		cmocka_unit_test(kind_names_are_the_oci_names),
	};
	return cmocka_run_group_tests(tests, setup_scratch, teardown_scratch);
}
