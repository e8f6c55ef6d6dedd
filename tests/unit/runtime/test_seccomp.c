/* test_seccomp.c — building and loading the seccomp filter, every action,
 * arg conditions, architectures, flags, the place of the filter in
 * confine_process, and the NOTIFY hand-over to a listener. The filter is
 * always loaded in a forked child; the child reports through its exit code
 * (0 = saw what it should) or a line on a pipe. */
#include "test_fork.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/fs.h"
#include "runtime/confine.h"
#include "child_helpers.h"

static char scratch[64];

static int setup_scratch(void **state)
{
	strcpy(scratch, "/tmp/sn-seccomp-XXXXXX");
	return mkdtemp(scratch) ? 0 : -1;
}

static int teardown_scratch(void **state)
{
	struct sn_err e = { 0 };
	return sn_rm_rf(scratch, &e);
}

/* A one-rule profile over the default action ALLOW. */
struct profile {
	struct spec_seccomp sc;
	struct spec_seccomp_rule rule;
	struct spec_seccomp_arg args[4];
	char *names[4];
	uint32_t arches[2];
	char *flags[4];
};

static void profile_init(struct profile *pr, uint32_t action, int64_t errno_ret,
			 const char *n0, const char *n1)
{
	memset(pr, 0, sizeof(*pr));
	pr->sc.default_action = SCMP_ACT_ALLOW;
	pr->sc.default_errno_ret = SPEC_UNSET;
	pr->names[0] = (char *)n0;
	pr->names[1] = (char *)n1;
	pr->rule.names = pr->names;
	pr->rule.n_names = n1 ? 2 : 1;
	pr->rule.action = action;
	pr->rule.errno_ret = errno_ret;
	pr->rule.args = pr->args;
	pr->sc.syscalls = &pr->rule;
	pr->sc.n_syscalls = 1;
}

static void profile_arg(struct profile *pr, unsigned idx, int op, uint64_t v, uint64_t v2)
{
	pr->args[pr->rule.n_args++] = (struct spec_seccomp_arg){ .index = idx, .op = op,
								 .value = v, .value_two = v2 };
}

/* Load pr in the child; report load errors as "LOAD <msg>", exit 100. */
static int load_or_report(struct profile *pr, int fd, int *nfd)
{
	struct sn_err err = { 0 };
	if (confine_seccomp_load(&pr->sc, nfd, &err) < 0) {
		child_printf(fd, "LOAD %s", err.msg);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- ERRNO */
static int child_mkdir_gets_exdev(void *arg, int fd)
{
	int nfd;
	if (load_or_report(arg, fd, &nfd) < 0)
		return 100;
	char path[128];
	snprintf(path, sizeof(path), "%s/d", scratch);
	int r = mkdir(path, 0755);
	child_printf(fd, "mkdir=%d errno=%d getpid_ok=%d", r, r < 0 ? errno : 0,
		     syscall(SYS_getpid) == getpid());
	return 0;
}

static void errno_action_with_errno_ret_makes_mkdir_fail_with_exdev(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EXDEV, "mkdir", "mkdirat");
	char buf[512];
	int st = run_child(child_mkdir_gets_exdev, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "mkdir=-1 errno=%d getpid_ok=1", EXDEV);
	assert_string_equal(buf, want);
}

static void errno_action_without_errno_ret_means_eperm(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), SPEC_UNSET, "mkdir", "mkdirat");
	char buf[512];
	run_child(child_mkdir_gets_exdev, &pr, buf, sizeof(buf));
	char want[64];
	snprintf(want, sizeof(want), "mkdir=-1 errno=%d getpid_ok=1", EPERM);
	assert_string_equal(buf, want);
}

static void unknown_syscall_name_is_skipped(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EXDEV, "no_such_syscall_at_all", "mkdir");
	pr.names[2] = "mkdirat";
	pr.rule.n_names = 3;
	char buf[512];
	int st = run_child(child_mkdir_gets_exdev, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "mkdir=-1 errno=%d getpid_ok=1", EXDEV);
	assert_string_equal(buf, want);
}

static void rule_with_the_default_action_is_skipped(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ALLOW, SPEC_UNSET, "mkdir", "mkdirat");
	char buf[512];
	int st = run_child(child_mkdir_gets_exdev, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(buf, "mkdir=0 errno=0 getpid_ok=1");
}

static void flags_tsync_log_spec_allow_are_accepted(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EXDEV, "mkdir", "mkdirat");
	pr.flags[0] = "SECCOMP_FILTER_FLAG_TSYNC";
	pr.flags[1] = "SECCOMP_FILTER_FLAG_LOG";
	pr.flags[2] = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
	pr.sc.flags = pr.flags;
	pr.sc.n_flags = 3;
	char buf[512];
	int st = run_child(child_mkdir_gets_exdev, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "mkdir=-1 errno=%d getpid_ok=1", EXDEV);
	assert_string_equal(buf, want);
}

static void unknown_flag_fails_naming_it(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EXDEV, "mkdir", NULL);
	pr.flags[0] = "SECCOMP_FILTER_FLAG_BOGUS";
	pr.sc.flags = pr.flags;
	pr.sc.n_flags = 1;
	char buf[512];
	int st = run_child(child_mkdir_gets_exdev, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 100);
	assert_string_equal(buf, "LOAD seccomp flag `SECCOMP_FILTER_FLAG_BOGUS`: not supported");
}

/* ---------------------------------------------------------------- args */
static int child_personality(void *arg, int fd)
{
	int nfd;
	if (load_or_report(arg, fd, &nfd) < 0)
		return 100;
	long q = syscall(SYS_personality, 0xffffffffUL, 0UL);
	int qe = q < 0 ? errno : 0;
	long s8 = syscall(SYS_personality, 8UL, 0UL);
	int e8 = s8 < 0 ? errno : 0;
	long s9 = syscall(SYS_personality, 9UL, 0UL);
	int e9 = s9 < 0 ? errno : 0;
	child_printf(fd, "query=%d 8=%d 9=%d", q >= 0 ? 0 : qe, s8 >= 0 ? 0 : e8,
		     s9 >= 0 ? 0 : e9);
	return 0;
}

static void arg_condition_denies_personality_8_but_allows_the_query(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EPERM, "personality", NULL);
	profile_arg(&pr, 0, SCMP_CMP_NE, 0xffffffffUL, 0);
	profile_arg(&pr, 1, SCMP_CMP_EQ, 0, 0); /* second arg on another index: AND */
	char buf[512];
	int st = run_child(child_personality, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "query=0 8=%d 9=%d", EPERM, EPERM);
	assert_string_equal(buf, want);
}

static void same_arg_twice_becomes_separate_rules_like_runc(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EPERM, "personality", NULL);
	profile_arg(&pr, 0, SCMP_CMP_EQ, 8, 0);
	profile_arg(&pr, 0, SCMP_CMP_EQ, 9, 0);
	char buf[512];
	int st = run_child(child_personality, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "query=0 8=%d 9=%d", EPERM, EPERM);
	assert_string_equal(buf, want);
}

static int child_dup3(void *arg, int fd)
{
	int nfd;
	if (load_or_report(arg, fd, &nfd) < 0)
		return 100;
	int a = dup3(0, 200, O_CLOEXEC);
	int ae = a < 0 ? errno : 0;
	int b = dup3(0, 201, 0);
	int be = b < 0 ? errno : 0;
	child_printf(fd, "cloexec=%d plain=%d", ae, be);
	return 0;
}

static void masked_eq_denies_dup3_with_o_cloexec_only(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EXDEV, "dup3", NULL);
	profile_arg(&pr, 2, SCMP_CMP_MASKED_EQ, O_CLOEXEC, O_CLOEXEC);
	char buf[512];
	int st = run_child(child_dup3, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "cloexec=%d plain=0", EXDEV);
	assert_string_equal(buf, want);
}

static void bad_arg_index_fails_naming_the_rule(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EPERM, "personality", NULL);
	profile_arg(&pr, 6, SCMP_CMP_EQ, 1, 0);
	char buf[512];
	int st = run_child(child_personality, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 100);
	assert_string_equal(buf, "LOAD seccomp syscalls[0].args[0]: index 6 out of range");
}

/* ---------------------------------------------------------------- actions */
static int child_getppid(void *arg, int fd)
{
	int nfd;
	if (load_or_report(arg, fd, &nfd) < 0)
		return 100;
	long r = syscall(SYS_getppid);
	child_printf(fd, "r=%ld errno=%d", r, r < 0 ? errno : 0);
	return 0;
}

static void kill_process_kills_the_child_with_sigsys(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_KILL_PROCESS, SPEC_UNSET, "getppid", NULL);
	char buf[512];
	int st = run_child(child_getppid, &pr, buf, sizeof(buf));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	assert_string_equal(buf, "");
}

static void kill_thread_kills_the_only_thread_with_sigsys(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_KILL, SPEC_UNSET, "getppid", NULL);
	char buf[512];
	int st = run_child(child_getppid, &pr, buf, sizeof(buf));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static volatile sig_atomic_t trapped_nr = -1;
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	trapped_nr = si->si_syscall;
}

static int child_trap(void *arg, int fd)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	sigaction(SIGSYS, &sa, NULL);
	int nfd;
	if (load_or_report(arg, fd, &nfd) < 0)
		return 100;
	syscall(SYS_getppid);
	child_printf(fd, "trapped=%d", (int)trapped_nr);
	return 0;
}

static void trap_sends_sigsys_naming_the_syscall(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_TRAP, SPEC_UNSET, "getppid", NULL);
	char buf[512];
	int st = run_child(child_trap, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[32];
	snprintf(want, sizeof(want), "trapped=%d", (int)SYS_getppid);
	assert_string_equal(buf, want);
}

static void trace_without_a_tracer_fails_with_enosys(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_TRACE(0), SPEC_UNSET, "getppid", NULL);
	char buf[512];
	int st = run_child(child_getppid, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[32];
	snprintf(want, sizeof(want), "r=-1 errno=%d", ENOSYS);
	assert_string_equal(buf, want);
}

static void log_action_lets_the_syscall_through(void **state)
{
	struct profile pr;
	profile_init(&pr, SCMP_ACT_LOG, SPEC_UNSET, "getppid", NULL);
	char buf[512];
	int st = run_child(child_getppid, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[48];
	snprintf(want, sizeof(want), "r=%d errno=0", (int)getpid());
	assert_string_equal(buf, want);
}

/* ---------------------------------------------------------------- arches */
#if defined(__x86_64__)
static long ia32_getpid(void)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret;
}

static int child_ia32_getpid(void *arg, int fd)
{
	int nfd;
	if (arg && load_or_report(arg, fd, &nfd) < 0)
		return 100;
	child_printf(fd, "r=%ld", ia32_getpid());
	return 0;
}

static void architecture_x86_added_filters_ia32_syscalls(void **state)
{
	char buf[512];
	/* Without IA32 emulation (CONFIG_IA32_EMULATION off, or ia32_emulation=0
	 * on the kernel's command line) `int $0x80` is not a syscall at all:
	 * the probe gets SIGSEGV, or -ENOSYS on kernels that still decode it. */
	int st = run_child(child_ia32_getpid, NULL, buf, sizeof(buf));
	if (!WIFEXITED(st) || strstr(buf, "r=-") == buf) {
		if (WIFSIGNALED(st))
			print_message("skipped: no IA32 emulation on this kernel: "
				      "`int $0x80` killed the probe with signal %d\n", WTERMSIG(st));
		else
			print_message("skipped: no IA32 emulation on this kernel: "
				      "`int $0x80` returned %s\n", buf);
		skip();
	}

	struct profile pr;
	profile_init(&pr, SCMP_ACT_ERRNO(0), EXDEV, "getpid", NULL);
	pr.arches[0] = SCMP_ARCH_X86;
	pr.arches[1] = SCMP_ARCH_X86_64; /* native: already there, fine */
	pr.sc.architectures = pr.arches;
	pr.sc.n_architectures = 2;
	st = run_child(child_ia32_getpid, &pr, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[32];
	snprintf(want, sizeof(want), "r=%d", -EXDEV);
	assert_string_equal(buf, want);

	/* Without it, an ia32 syscall is a bad architecture: killed. */
	pr.sc.n_architectures = 0;
	st = run_child(child_ia32_getpid, &pr, buf, sizeof(buf));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}
#endif

/* ------------------------------------------------- order in confine_process */
struct order_case {
	struct profile pr;
	struct spec_process p;
};

static int child_confine_then_mkdir(void *arg, int fd)
{
	struct order_case *oc = arg;
	struct sn_err err = { 0 };
	int nfd;
	if (confine_process(&oc->p, &oc->pr.sc, &nfd, &err) < 0) {
		child_printf(fd, "ERR %s", err.msg);
		return 1;
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/o", scratch);
	int r = mkdir(path, 0755);
	child_printf(fd, "uid=%u mkdir_errno=%d", (unsigned)getuid(), r < 0 ? errno : 0);
	return 0;
}

static void order_case_init(struct order_case *oc, bool nnp)
{
	memset(oc, 0, sizeof(*oc));
	oc->p.user.uid = 1000;
	oc->p.user.gid = 1000;
	oc->p.user.umask = SPEC_UNSET;
	oc->p.oom_score_adj = SPEC_UNSET;
	oc->p.no_new_privileges = nnp;
	oc->p.has_caps = true; /* all sets empty */
}

static void without_nnp_filter_loads_while_still_privileged(void **state)
{
	struct order_case oc;
	order_case_init(&oc, false);
	profile_init(&oc.pr, SCMP_ACT_ERRNO(0), EXDEV, "mkdir", "mkdirat");
	char buf[512];
	int st = run_child(child_confine_then_mkdir, &oc, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "uid=1000 mkdir_errno=%d", EXDEV);
	assert_string_equal(buf, want);
}

static void with_nnp_filter_loads_after_the_uid_change(void **state)
{
	/* The profile refuses setresuid: confine_process only gets through
	 * when the filter comes after the identity step. */
	struct order_case oc;
	order_case_init(&oc, true);
	profile_init(&oc.pr, SCMP_ACT_ERRNO(0), EXDEV, "setresuid", "mkdir");
	oc.pr.names[2] = "mkdirat";
	oc.pr.rule.n_names = 3;
	char buf[512];
	int st = run_child(child_confine_then_mkdir, &oc, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "uid=1000 mkdir_errno=%d", EXDEV);
	assert_string_equal(buf, want);

	/* The same profile without NNP is loaded early and refuses it. */
	oc.p.no_new_privileges = false;
	st = run_child(child_confine_then_mkdir, &oc, buf, sizeof(buf));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_string_equal(buf, "ERR setresuid 1000: Invalid cross-device link");
}

/* ---------------------------------------------------------------- notify */
struct notify_case {
	struct profile pr;
	char sock_path[108];
	const char *state_json;
};

static int child_notify(void *arg, int fd)
{
	struct notify_case *nc = arg;
	int nfd = -1;
	if (load_or_report(&nc->pr, fd, &nfd) < 0)
		return 100;
	if (nfd < 0) {
		child_printf(fd, "no notify fd");
		return 101;
	}
	struct sn_err err = { 0 };
	if (seccomp_notify_send(nc->sock_path, nfd, nc->state_json, &err) < 0) {
		child_printf(fd, "SEND %s", err.msg);
		return 102;
	}
	close(nfd);
	char path[160];
	snprintf(path, sizeof(path), "%s/n", scratch);
	long r = syscall(SYS_mkdir, path, 0755);
	child_printf(fd, "mkdir=%ld errno=%d", r, r < 0 ? errno : 0);
	return 0;
}

/* The agent: accept, take state + fd, answer one mkdir with EOWNERDEAD. */
static void run_listener(int lfd, const char *want_state)
{
	struct pollfd pfd = { lfd, POLLIN, 0 };
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	_cleanup_close_ int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c >= 0);

	char data[8192];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { data, sizeof(data) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			      .msg_controllen = sizeof(cm.buf) };
	ssize_t n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
	assert_true(n > 0);
	size_t got = (size_t)n;
	/* the rest of the state, if it came in pieces */
	for (;;) {
		ssize_t m = recv(c, data + got, sizeof(data) - 1 - got, 0);
		if (m <= 0)
			break;
		got += (size_t)m;
	}
	data[got] = '\0';
	assert_string_equal(data, want_state);
	struct cmsghdr *ch = CMSG_FIRSTHDR(&msg);
	assert_non_null(ch);
	assert_int_equal(ch->cmsg_type, SCM_RIGHTS);
	_cleanup_close_ int nfd = -1;
	memcpy(&nfd, CMSG_DATA(ch), sizeof(int));
	assert_true(nfd >= 0);

	struct seccomp_notif req;
	memset(&req, 0, sizeof(req));
	pfd = (struct pollfd){ nfd, POLLIN, 0 };
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
	assert_int_equal(req.data.nr, SYS_mkdir);
	struct seccomp_notif_resp resp = { .id = req.id, .error = -EOWNERDEAD };
	assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
}

static void notify_case_run(struct notify_case *nc)
{
	snprintf(nc->sock_path, sizeof(nc->sock_path), "%s/agent.sock", scratch);
	_cleanup_close_ int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, nc->sock_path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);

	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = test_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(child_notify(nc, p[1]));
	}
	close(p[1]);
	run_listener(lfd, nc->state_json);
	char buf[512] = "";
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	if (n > 0)
		buf[n] = '\0';
	assert_int_equal(WEXITSTATUS(st), 0);
	char want[64];
	snprintf(want, sizeof(want), "mkdir=-1 errno=%d", EOWNERDEAD);
	assert_string_equal(buf, want);
	unlink(nc->sock_path);
}

static void notify_fd_reaches_the_listener_which_answers_mkdir(void **state)
{
	struct notify_case nc;
	profile_init(&nc.pr, SCMP_ACT_NOTIFY, SPEC_UNSET, "mkdir", NULL);
	nc.state_json = "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":1,"
			"\"metadata\":\"m\",\"state\":{\"id\":\"c1\",\"status\":\"creating\"}}";
	notify_case_run(&nc);
}

static void notify_with_wait_killable_recv_and_tsync(void **state)
{
	struct notify_case nc;
	profile_init(&nc.pr, SCMP_ACT_NOTIFY, SPEC_UNSET, "mkdir", NULL);
	nc.pr.flags[0] = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";
	nc.pr.flags[1] = "SECCOMP_FILTER_FLAG_TSYNC";
	nc.pr.sc.flags = nc.pr.flags;
	nc.pr.sc.n_flags = 2;
	/* a state larger than one socket buffer write */
	static char big[6000];
	memset(big, 0, sizeof(big));
	strcpy(big, "{\"pad\":\"");
	memset(big + 8, 'x', 5000);
	strcpy(big + 5008, "\"}");
	nc.state_json = big;
	notify_case_run(&nc);
}

static void notify_send_to_missing_listener_names_the_path(void **state)
{
	struct sn_err err = { 0 };
	char path[128];
	snprintf(path, sizeof(path), "%s/nobody.sock", scratch);
	assert_int_equal(seccomp_notify_send(path, 0, "{}", &err), -ENOENT);
	char want[256];
	snprintf(want, sizeof(want), "connect to seccomp listener `%s`: No such file or directory",
		 path);
	assert_string_equal(err.msg, want);
}

static void no_profile_loads_nothing(void **state)
{
	struct sn_err err = { 0 };
	int nfd = 5;
	assert_int_equal(confine_seccomp_load(NULL, &nfd, &err), 0);
	assert_int_equal(nfd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errno_action_with_errno_ret_makes_mkdir_fail_with_exdev),
		cmocka_unit_test(errno_action_without_errno_ret_means_eperm),
		cmocka_unit_test(unknown_syscall_name_is_skipped),
		cmocka_unit_test(rule_with_the_default_action_is_skipped),
		cmocka_unit_test(flags_tsync_log_spec_allow_are_accepted),
		cmocka_unit_test(unknown_flag_fails_naming_it),
		cmocka_unit_test(arg_condition_denies_personality_8_but_allows_the_query),
		cmocka_unit_test(same_arg_twice_becomes_separate_rules_like_runc),
		cmocka_unit_test(masked_eq_denies_dup3_with_o_cloexec_only),
		cmocka_unit_test(bad_arg_index_fails_naming_the_rule),
		cmocka_unit_test(kill_process_kills_the_child_with_sigsys),
		cmocka_unit_test(kill_thread_kills_the_only_thread_with_sigsys),
		cmocka_unit_test(trap_sends_sigsys_naming_the_syscall),
		cmocka_unit_test(trace_without_a_tracer_fails_with_enosys),
		cmocka_unit_test(log_action_lets_the_syscall_through),
#if defined(__x86_64__)
		cmocka_unit_test(architecture_x86_added_filters_ia32_syscalls),
#endif
		cmocka_unit_test(without_nnp_filter_loads_while_still_privileged),
		cmocka_unit_test(with_nnp_filter_loads_after_the_uid_change),
		cmocka_unit_test(notify_fd_reaches_the_listener_which_answers_mkdir),
		cmocka_unit_test(notify_with_wait_killable_recv_and_tsync),
		cmocka_unit_test(notify_send_to_missing_listener_names_the_path),
		cmocka_unit_test(no_profile_loads_nothing),
	};
	return cmocka_run_group_tests(tests, setup_scratch, teardown_scratch);
}
