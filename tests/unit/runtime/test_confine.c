/* test_confine.c — rlimits, oom_score_adj, identity, capabilities and
 * no_new_privs of confine_process. Each case confines a forked child and
 * reads the result back (its /proc/self/status, getuid, getgroups, the
 * error message) over a pipe; the test runner itself is never confined. */
#include "test_fork.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/fs.h"
#include "runtime/confine.h"
#include "child_helpers.h"

#define CAPBIT(c) (UINT64_C(1) << (c))
#define CAP_CHOWN_ 0
#define CAP_NET_BIND_SERVICE_ 10

static struct spec_process base_process(void)
{
	struct spec_process p = { 0 };
	p.user.uid = 0;
	p.user.gid = 0;
	p.user.umask = SPEC_UNSET;
	p.oom_score_adj = SPEC_UNSET;
	return p;
}

/* Child body: confine, then report "ERR <msg>" or the status file. */
static int confine_and_report(void *arg, int fd)
{
	const struct spec_process *p = arg;
	struct sn_err err = { 0 };
	int nfd = -1;
	if (confine_process(p, NULL, &nfd, &err) < 0) {
		child_printf(fd, "ERR %s", err.msg);
		return 1;
	}
	_cleanup_free_ char *status = NULL;
	if (sn_read_file("/proc/self/status", 0, &status, NULL, &err) < 0) {
		child_printf(fd, "ERR %s", err.msg);
		return 1;
	}
	gid_t groups[64];
	int ng = getgroups(64, groups);
	child_printf(fd, "\nUID:\t%u\nGID:\t%u\nUmask2:\t%o\nGROUPS:", (unsigned)getuid(),
		     (unsigned)getgid(), (unsigned)umask(0));
	for (int i = 0; i < ng; i++)
		child_printf(fd, " %u", (unsigned)groups[i]);
	child_printf(fd, " \n%s", status);
	return 0;
}

static void rlimits_nofile_soft_lowered_and_read_back_in_child(void **state)
{
	struct rlimit cur;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &cur), 0);
	uint64_t soft = cur.rlim_max >= 200 ? 100 : cur.rlim_max / 2;
	struct spec_rlimit rl = { .type = RLIMIT_NOFILE, .name = "RLIMIT_NOFILE",
				  .soft = soft, .hard = cur.rlim_max };
	struct spec_process p = base_process();
	p.rlimits = &rl;
	p.n_rlimits = 1;

	char buf[16384];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	/* and directly, with getrlimit in the child */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = test_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sn_err e = { 0 };
		struct rlimit got;
		if (confine_rlimits(&rl, 1, &e) < 0 || getrlimit(RLIMIT_NOFILE, &got) < 0)
			_exit(2);
		child_printf(pfd[1], "%llu %llu", (unsigned long long)got.rlim_cur,
			     (unsigned long long)got.rlim_max);
		_exit(0);
	}
	close(pfd[1]);
	char out[64] = "";
	ssize_t n = read(pfd[0], out, sizeof(out) - 1);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	assert_true(n > 0);
	char want[64];
	snprintf(want, sizeof(want), "%llu %llu", (unsigned long long)soft,
		 (unsigned long long)cur.rlim_max);
	assert_string_equal(out, want);
	/* the runner kept its own limit */
	struct rlimit after;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &after), 0);
	assert_int_equal(after.rlim_cur, cur.rlim_cur);
}

static void rlimit_above_hard_limit_fails_naming_rlimit_and_values(void **state)
{
	struct rlimit cur;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &cur), 0);
	/* Above both the hard limit and fs.nr_open: refused with or without
	 * CAP_SYS_RESOURCE. */
	unsigned long long nr_open = 1048576;
	_cleanup_free_ char *s = NULL;
	struct sn_err e = { 0 };
	if (sn_read_file("/proc/sys/fs/nr_open", 64, &s, NULL, &e) == 0)
		nr_open = strtoull(s, NULL, 10);
	unsigned long long v = (cur.rlim_max > nr_open ? cur.rlim_max : nr_open) + 1;
	struct spec_rlimit rl = { .type = RLIMIT_NOFILE, .name = "RLIMIT_NOFILE",
				  .soft = v, .hard = v };
	struct spec_process p = base_process();
	p.rlimits = &rl;
	p.n_rlimits = 1;

	char buf[4096];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	char want[160];
	snprintf(want, sizeof(want),
		 "ERR setrlimit RLIMIT_NOFILE (soft %llu, hard %llu): Operation not permitted", v, v);
	assert_string_equal(buf, want);
}

static void oom_score_adj_written_in_child(void **state)
{
	struct spec_process p = base_process();
	p.oom_score_adj = 777; /* raising needs no privilege */
	char buf[16384];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);

	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = test_fork();
	if (pid == 0) {
		struct sn_err e = { 0 };
		_cleanup_free_ char *v = NULL;
		if (confine_oom_score_adj(777, &e) < 0 ||
		    sn_read_file("/proc/self/oom_score_adj", 64, &v, NULL, &e) < 0)
			_exit(2);
		child_printf(pfd[1], "%s", v);
		_exit(0);
	}
	close(pfd[1]);
	char out[32] = "";
	ssize_t n = read(pfd[0], out, sizeof(out) - 1);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	assert_true(n > 0);
	assert_string_equal(out, "777\n");
}

static void oom_score_adj_refused_names_the_value(void **state)
{
	_cleanup_free_ char *mine = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(sn_read_file("/proc/self/status", 0, &mine, NULL, &e), 0);
	char mine_nl[16384];
	snprintf(mine_nl, sizeof(mine_nl), "\n%s", mine);
	if (status_hex(mine_nl, "CapEff") & CAPBIT(24 /* CAP_SYS_RESOURCE */))
		skip(); /* lowering is allowed here */
	struct spec_process p = base_process();
	p.oom_score_adj = -1000;
	char buf[4096];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_string_equal(buf, "ERR set oom_score_adj -1000: write `-1000` to "
				 "`/proc/self/oom_score_adj`: Permission denied");
}

static void user_1000_gets_exactly_the_given_caps_and_groups(void **state)
{
	gid_t extra[] = { 44, 100 };
	struct spec_process p = base_process();
	p.user.uid = 1000;
	p.user.gid = 1000;
	p.user.additional_gids = extra;
	p.user.n_additional_gids = 2;
	p.has_caps = true;
	p.caps.has_bounding = p.caps.has_effective = p.caps.has_permitted = true;
	p.caps.bounding = CAPBIT(CAP_NET_BIND_SERVICE_) | CAPBIT(CAP_CHOWN_);
	p.caps.effective = CAPBIT(CAP_NET_BIND_SERVICE_);
	p.caps.permitted = CAPBIT(CAP_NET_BIND_SERVICE_);
	p.no_new_privileges = true;

	char buf[16384];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("child: %s", buf);
	assert_int_equal(status_hex(buf, "CapEff"), 0x400);
	assert_int_equal(status_hex(buf, "CapPrm"), 0x400);
	assert_int_equal(status_hex(buf, "CapBnd"), 0x401);
	assert_int_equal(status_hex(buf, "CapInh"), 0);
	assert_int_equal(status_hex(buf, "CapAmb"), 0);
	assert_int_equal(status_dec(buf, "NoNewPrivs"), 1);
	assert_int_equal(status_dec(buf, "UID"), 1000);
	assert_int_equal(status_dec(buf, "GID"), 1000);
	assert_non_null(strstr(buf, "GROUPS: 44 100 \n"));
}

static void ambient_cap_is_raised_and_survives_execve_as_user(void **state)
{
	struct spec_process p = base_process();
	p.user.uid = 1000;
	p.user.gid = 1000;
	p.has_caps = true;
	p.caps.has_bounding = p.caps.has_effective = p.caps.has_permitted = true;
	p.caps.has_inheritable = p.caps.has_ambient = true;
	p.caps.bounding = p.caps.effective = p.caps.permitted = p.caps.inheritable =
		p.caps.ambient = CAPBIT(CAP_NET_BIND_SERVICE_);

	char buf[16384];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	if (WEXITSTATUS(st) != 0)
		fail_msg("child: %s", buf);
	assert_int_equal(status_hex(buf, "CapAmb"), 0x400);
	assert_int_equal(status_hex(buf, "CapInh"), 0x400);
	assert_int_equal(status_dec(buf, "NoNewPrivs"), 0);

	/* After execve of an ordinary binary as uid 1000 only ambient caps
	 * remain effective: the point of ambient. */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = test_fork();
	if (pid == 0) {
		struct sn_err e = { 0 };
		int nfd;
		if (confine_process(&p, NULL, &nfd, &e) < 0)
			_exit(2);
		dup2(pfd[1], 1);
		execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
		_exit(3);
	}
	close(pfd[1]);
	char out[16384] = "\n";
	size_t off = 1;
	ssize_t n;
	while ((n = read(pfd[0], out + off, sizeof(out) - 1 - off)) > 0)
		off += (size_t)n;
	out[off] = '\0';
	close(pfd[0]);
	waitpid(pid, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(status_hex(out, "CapEff"), 0x400);
	assert_int_equal(status_hex(out, "CapPrm"), 0x400);
	assert_int_equal(status_hex(out, "CapAmb"), 0x400);
	assert_int_equal(status_dec(out, "Uid"), 1000);
}

/* What `runc spec` writes: ambient caps without an inheritable set. The
 * kernel will not raise them; like runc and crun we skip them and keep
 * the rest of the confinement. */
static void ambient_cap_outside_inheritable_is_skipped_like_runc(void **state)
{
	struct spec_process p = base_process();
	p.user.uid = 1000;
	p.user.gid = 1000;
	p.has_caps = true;
	p.caps.has_bounding = p.caps.has_effective = p.caps.has_permitted = true;
	p.caps.has_ambient = true;
	p.caps.bounding = p.caps.effective = p.caps.permitted = p.caps.ambient =
		CAPBIT(CAP_NET_BIND_SERVICE_) | CAPBIT(CAP_CHOWN_);
	assert_int_equal(caps_ambient_skipped(&p.caps),
			 CAPBIT(CAP_NET_BIND_SERVICE_) | CAPBIT(CAP_CHOWN_));

	char buf[16384];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	if (WEXITSTATUS(st) != 0)
		fail_msg("child: %s", buf);
	assert_int_equal(status_hex(buf, "CapAmb"), 0);
	assert_int_equal(status_hex(buf, "CapEff"), 0x401);
	assert_int_equal(status_hex(buf, "CapPrm"), 0x401);

	/* in both sets it is raised; only the other one is skipped */
	p.caps.has_inheritable = true;
	p.caps.inheritable = CAPBIT(CAP_NET_BIND_SERVICE_);
	assert_int_equal(caps_ambient_skipped(&p.caps), CAPBIT(CAP_CHOWN_));
	st = run_child(confine_and_report, &p, buf, sizeof(buf));
	if (WEXITSTATUS(st) != 0)
		fail_msg("child: %s", buf);
	assert_int_equal(status_hex(buf, "CapAmb"), 0x400);
}

static void without_capabilities_object_setuid_rules_apply(void **state)
{
	struct spec_process p = base_process();
	p.user.uid = 1000;
	p.user.gid = 1000;
	p.has_caps = false;

	char buf[16384];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	if (WEXITSTATUS(st) != 0)
		fail_msg("child: %s", buf);
	assert_int_equal(status_hex(buf, "CapEff"), 0);
	assert_int_equal(status_hex(buf, "CapPrm"), 0);
	/* bounding untouched: same as ours */
	_cleanup_free_ char *mine = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(sn_read_file("/proc/self/status", 0, &mine, NULL, &e), 0);
	char mine_nl[16384];
	snprintf(mine_nl, sizeof(mine_nl), "\n%s", mine);
	assert_int_equal(status_hex(buf, "CapBnd"), status_hex(mine_nl, "CapBnd"));
	assert_non_null(strstr(buf, "GROUPS: \n")); /* setgroups(0) */
	assert_int_equal(status_dec(buf, "UID"), 1000);
}

static void root_with_empty_sets_keeps_no_caps_and_sets_umask(void **state)
{
	struct spec_process p = base_process();
	p.has_caps = true; /* object present, every set absent: all empty */
	p.user.umask = 027;

	char buf[16384];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	if (WEXITSTATUS(st) != 0)
		fail_msg("child: %s", buf);
	assert_int_equal(status_hex(buf, "CapEff"), 0);
	assert_int_equal(status_hex(buf, "CapBnd"), 0);
	assert_int_equal(status_dec(buf, "UID"), 0);
	assert_int_equal(status_dec(buf, "Umask2"), 27);
}

static void caps_above_the_kernels_last_cap_are_skipped(void **state)
{
	struct spec_process p = base_process();
	p.has_caps = true;
	p.caps.has_bounding = p.caps.has_effective = p.caps.has_permitted = true;
	p.caps.bounding = p.caps.effective = p.caps.permitted =
		CAPBIT(CAP_CHOWN_) | CAPBIT(63);

	char buf[16384];
	int st = run_child(confine_and_report, &p, buf, sizeof(buf));
	if (WEXITSTATUS(st) != 0)
		fail_msg("child: %s", buf);
	assert_int_equal(status_hex(buf, "CapEff"), 1);
	assert_int_equal(status_hex(buf, "CapBnd"), 1);
}

static void caps_names_map_both_ways(void **state)
{
	assert_int_equal(caps_from_name("CAP_CHOWN"), 0);
	assert_int_equal(caps_from_name("CAP_SYS_ADMIN"), 21);
	assert_int_equal(caps_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(caps_from_name("cap_sys_admin"), -1);
	assert_int_equal(caps_from_name("CAP_NOPE"), -1);
	assert_int_equal(caps_from_name("SYS_ADMIN"), -1);
	assert_int_equal(caps_from_name(""), -1);
	assert_int_equal(caps_from_name(NULL), -1);
	assert_string_equal(caps_name(10), "CAP_NET_BIND_SERVICE");
	assert_null(caps_name(-1));
	assert_null(caps_name(64));
	for (int c = 0; c <= 40; c++)
		assert_int_equal(caps_from_name(caps_name(c)), c);

	_cleanup_free_ char *s = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(sn_read_file("/proc/sys/kernel/cap_last_cap", 64, &s, NULL, &e), 0);
	assert_int_equal(caps_last_cap(), atoi(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rlimits_nofile_soft_lowered_and_read_back_in_child),
		cmocka_unit_test(rlimit_above_hard_limit_fails_naming_rlimit_and_values),
		cmocka_unit_test(oom_score_adj_written_in_child),
		cmocka_unit_test(oom_score_adj_refused_names_the_value),
		cmocka_unit_test(user_1000_gets_exactly_the_given_caps_and_groups),
		cmocka_unit_test(ambient_cap_is_raised_and_survives_execve_as_user),
		cmocka_unit_test(ambient_cap_outside_inheritable_is_skipped_like_runc),
		cmocka_unit_test(without_capabilities_object_setuid_rules_apply),
		cmocka_unit_test(root_with_empty_sets_keeps_no_caps_and_sets_umask),
		cmocka_unit_test(caps_above_the_kernels_last_cap_are_skipped),
		cmocka_unit_test(caps_names_map_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
