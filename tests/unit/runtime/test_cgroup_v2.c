/* test_cgroup_v2.c — the cgroup layer against a real cgroup2 hierarchy.
 *
 * The host may be v1 or hybrid, so each test runs in a forked child that
 * makes its own mount namespace (unshare(CLONE_NEWNS), / made rprivate) and
 * mounts a cgroup2 filesystem on a temp directory. That is the host's one
 * unified hierarchy (the same one a hybrid host shows at
 * /sys/fs/cgroup/unified), so everything below is real: cgroup.procs,
 * cgroup.freeze, cgroup.kill and the eBPF device filter. The child reports
 * by exit code (0 pass, 77 skip, else fail) and a message over a pipe; the
 * parent turns that into the cmocka result. When the kernel refuses the
 * mount the test is skipped with the reason, never passed.
 *
 * Cleanup: the child kills and reaps what it forked and removes its cgroups;
 * the teardown mounts cgroup2 again in a fresh child and removes the unique
 * tree in case the test child died half-way. Grandchildren carry
 * PR_SET_PDEATHSIG so they die with the child.
 */
#include "test_fork.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_internal.h"

static void res_init(struct spec_resources *r)
{
	memset(r, 0, sizeof(*r));
	r->memory.limit = r->memory.reservation = r->memory.swap = SPEC_UNSET;
	r->memory.kernel = r->memory.kernel_tcp = r->memory.swappiness = SPEC_UNSET;
	r->cpu.shares = r->cpu.quota = r->cpu.period = SPEC_UNSET;
	r->cpu.realtime_runtime = r->cpu.realtime_period = SPEC_UNSET;
	r->cpu.burst = r->cpu.idle = SPEC_UNSET;
	r->pids_limit = SPEC_UNSET;
	r->blockio.weight = r->blockio.leaf_weight = SPEC_UNSET;
	r->net_class_id = SPEC_UNSET;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct t {
	char mnt[64];             /* temp dir, the cgroup2 mount point in the child */
	char base[96];            /* "/sn-unit2-<pid>-<rand>" */
	char path[128];           /* base + "/ct" */
	volatile uint64_t *counter;
};

typedef int (*v2_fn)(struct t *t, char *msg, size_t size);

/* Run fn in a child with a private cgroup2 mount at t->mnt. */
static int in_private_cgroup2(struct t *t, v2_fn fn, char *msg, size_t size)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid_t c = test_fork();
	assert_true(c >= 0);
	if (c == 0) {
		close(p[0]);
		char m[1024] = "";
		int rc;
		if (unshare(CLONE_NEWNS) < 0) {
			snprintf(m, sizeof(m), "unshare(CLONE_NEWNS): %s", strerror(errno));
			rc = 77;
		} else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
			snprintf(m, sizeof(m), "make / rprivate: %s", strerror(errno));
			rc = 77;
		} else if (mount("cgroup2", t->mnt, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
				 NULL) < 0) {
			snprintf(m, sizeof(m), "the kernel refused to mount cgroup2 at `%s`: %s",
				 t->mnt, strerror(errno));
			rc = 77;
		} else {
			rc = fn(t, m, sizeof(m));
			umount2(t->mnt, MNT_DETACH);
		}
		if (write(p[1], m, strlen(m)) < 0)
			rc = rc ? rc : 3;
		_exit(rc);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < size && (r = read(p[0], msg + n, size - n - 1)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	msg[n] = '\0';
	close(p[0]);
	int st;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st)) {
		snprintf(msg + n, size - n, " (test child killed by signal %d)", WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return WEXITSTATUS(st);
}

static int fn_cleanup(struct t *t, char *msg, size_t size)
{
	_cleanup_free_ char *dir = sn_path_join(t->mnt, t->base);
	struct sn_err e = { 0 };
	_cleanup_free_ char *ct = sn_path_join(t->mnt, t->path);
	cg_write(ct, "cgroup.freeze", "0", &e);
	if (cg_rmdir_tree(dir, &e) < 0) {
		snprintf(msg, size, "%s", e.msg);
		return 1;
	}
	return 0;
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	snprintf(t->mnt, sizeof(t->mnt), "/tmp/sn-cg2-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(t->mnt))
		return -1;
	unsigned int rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (unsigned int)time(NULL);
	snprintf(t->base, sizeof(t->base), "/sn-unit2-%d-%08x", (int)getpid(), rnd);
	snprintf(t->path, sizeof(t->path), "%s/ct", t->base);
	t->counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->counter == MAP_FAILED)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char msg[1024];
	int rc = in_private_cgroup2(t, fn_cleanup, msg, sizeof(msg));
	if (rc != 0 && rc != 77)
		fprintf(stderr, "teardown: %s\n", msg);
	rmdir(t->mnt);
	munmap((void *)t->counter, 4096);
	free(t);
	return 0;
}

static void run(struct t *t, v2_fn fn)
{
	char msg[1024];
	int rc = in_private_cgroup2(t, fn, msg, sizeof(msg));
	if (rc == 77) {
		print_message("skipped: %s\n", msg);
		skip();
	}
	if (rc != 0)
		fail_msg("%s (exit %d)", msg, rc);
}

#define CHECK(cond, ...)                                         \
	do {                                                     \
		if (!(cond)) {                                   \
			int n_ = snprintf(msg, size, "%s:%d: ", __FILE__, __LINE__); \
			snprintf(msg + n_, size - (size_t)n_, __VA_ARGS__); \
			rc = 1;                                  \
			goto out;                                \
		}                                                \
	} while (0)

/* End of a test function: remove the test's base cgroup (and all below). */
static void drop_cgroups(struct cgroup *cg, struct cgroup *base)
{
	if (base) {
		struct sn_err ignored = { 0 };
		cgroup_destroy(base, &ignored);
	}
	cgroup_free(cg);
	cgroup_free(base);
}

/* ------------------------------------------------------------ helpers */

static pid_t spawn_counter(struct t *t)
{
	pid_t p = test_fork();
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			(*t->counter)++;
			usleep(1000);
		}
	}
	return p;
}

static bool counter_moves(struct t *t, long ms)
{
	uint64_t a = *t->counter;
	sleep_ms(ms);
	return *t->counter != a;
}

static int reap(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0)
			return -1;
		sleep_ms(10);
	}
	return -1;
}

static void kill_reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		reap(*pid);
		*pid = 0;
	}
}

struct probe {
	const char *path;
	int flags;
};

/* Fork a process, move it into cg, let it open each path; errs[i] = 0 or
 * the errno of the open. */
static int probe_in(const struct cgroup *cg, const struct probe *pr, size_t n, int *errs,
		    struct sn_err *e)
{
	int go[2], res[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		return sn_err_sys(e, "pipe");
	pid_t c = test_fork();
	if (c < 0)
		return sn_err_sys(e, "fork");
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char b;
		if (read(go[0], &b, 1) != 1)
			_exit(2);
		int out[8] = { 0 };
		for (size_t i = 0; i < n && i < 8; i++) {
			int fd = open(pr[i].path, pr[i].flags | O_CLOEXEC);
			out[i] = fd < 0 ? errno : 0;
			if (fd >= 0)
				close(fd);
		}
		_exit(write(res[1], out, n * sizeof(int)) == (ssize_t)(n * sizeof(int)) ? 0 : 3);
	}
	close(go[0]);
	close(res[1]);
	int r = cgroup_enter(cg, c, e);
	if (r == 0 && write(go[1], "g", 1) != 1)
		r = sn_err_sys(e, "write go");
	close(go[1]);
	if (r == 0 && read(res[0], errs, n * sizeof(int)) != (ssize_t)(n * sizeof(int)))
		r = sn_err_msg(e, EIO, "probe child did not report");
	close(res[0]);
	kill_reap(&c);
	return r;
}

static bool file_is(const char *dir, const char *file, const char *want)
{
	_cleanup_free_ char *s = NULL;
	struct sn_err e = { 0 };
	if (cg_read(dir, file, &s, &e) < 0)
		return false;
	return strcmp(s, want) == 0;
}

/* ------------------------------------------------------------ tests */

static int fn_lifecycle(struct t *t, char *msg, size_t size)
{
	int rc = 0;
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL, *base = NULL;
	pid_t kid = 0;
	_cleanup_free_ char *dir = sn_path_join(t->mnt, t->path);
	_cleanup_free_ char *pc = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *killf = NULL;
	size_t n = 0;
	bool frozen = false;
	struct cgroup_counters *cc = NULL;
	struct sn_buf scratch = { 0 };
	struct cgroup_stats c0, c1;

	CHECK(cgroup_new(t->mnt, t->base, 0, &base, &e) == 0, "%s", e.msg);
	CHECK(cgroup_new(t->mnt, t->path, 0, &cg, &e) == 0, "%s", e.msg);
	CHECK(cg->mode == CGROUP_V2, "mode of a cgroup2 mount detected as %d", cg->mode);
	kid = spawn_counter(t);
	CHECK(kid > 0, "fork: %s", strerror(errno));
	struct spec_resources r;
	res_init(&r);
	/* a core file every cgroup2 has: proves `unified` is written as-is */
	struct spec_unified_kv uni[] = { { "cgroup.max.descendants", "7" } };
	r.unified = uni;
	r.n_unified = 1;
	CHECK(cgroup_create(cg, kid, &r, &e) == 0, "create: %s", e.msg);
	CHECK(file_is(dir, "cgroup.max.descendants", "7\n"), "cgroup.max.descendants not 7");

	char procf[64], want[160];
	snprintf(procf, sizeof(procf), "/proc/%d/cgroup", (int)kid);
	snprintf(want, sizeof(want), "0::%s\n", t->path);
	CHECK(sn_read_file(procf, 0, &pc, NULL, &e) == 0, "%s", e.msg);
	CHECK(strstr(pc, want) != NULL, "child not in `%s`: %s", t->path, pc);

	/* counters kept open: a pread at offset 0 shows the current values */
	CHECK(cgroup_counters_open(cg, &cc, &e) == 0, "counters: %s", e.msg);
	CHECK(cgroup_counters_fds(cc) <= CGROUP_COUNTERS_MAX_FDS, "%zu fds", cgroup_counters_fds(cc));
	CHECK(cgroup_counters_read(cc, &c0, &scratch, &e) == 0, "counters: %s", e.msg);
	CHECK(counter_moves(t, 100), "child does not run");
	CHECK(cgroup_counters_read(cc, &c1, &scratch, &e) == 0, "counters: %s", e.msg);
	CHECK(c1.cpu_usage_ns > c0.cpu_usage_ns, "cpu usage through a kept fd did not rise: %llu",
	      (unsigned long long)c1.cpu_usage_ns);
	CHECK(c1.processes == 1, "%llu processes", (unsigned long long)c1.processes);
	struct cgroup_stats st;
	CHECK(cgroup_stats(cg, &st, &e) == 0, "stats: %s", e.msg);
	CHECK(st.cpu_usage_ns > 0, "cpu.stat usage is 0");

	CHECK(cgroup_freeze(cg, true, &e) == 0, "freeze: %s", e.msg);
	CHECK(file_is(dir, "cgroup.freeze", "1\n"), "cgroup.freeze is not 1");
	CHECK(cgroup_is_frozen(cg, &frozen, &e) == 0 && frozen, "not frozen: %s", e.msg);
	CHECK(!counter_moves(t, 150), "frozen child still runs");
	CHECK(cgroup_freeze(cg, false, &e) == 0, "thaw: %s", e.msg);
	CHECK(cgroup_is_frozen(cg, &frozen, &e) == 0 && !frozen, "still frozen");
	CHECK(counter_moves(t, 150), "thawed child does not run");

	CHECK(cgroup_pids(cg, &pids, &n, &e) == 0, "pids: %s", e.msg);
	CHECK(n == 1 && pids[0] == kid, "pids: %zu pids, first %d", n, n ? pids[0] : 0);

	killf = sn_path_join(dir, "cgroup.kill");
	bool has_kill = sn_path_exists(killf);
	CHECK(cgroup_kill_all(cg, SIGKILL, &e) == 0, "kill: %s", e.msg);
	int ws = reap(kid);
	kid = 0;
	CHECK(ws != -1 && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL,
	      "child not killed by SIGKILL (cgroup.kill %s)", has_kill ? "present" : "absent");

	/* a value the kernel refuses names file and value */
	uni[0].value = "abc";
	CHECK(cgroup_apply(cg, &r, &e) == -EINVAL, "bad unified value accepted");
	CHECK(strstr(e.msg, "write `abc` to `") && strstr(e.msg, "cgroup.max.descendants`"),
	      "message: %s", e.msg);

	CHECK(cgroup_destroy(cg, &e) == 0, "destroy: %s", e.msg);
	CHECK(!sn_path_exists(dir), "`%s` still there", dir);
	/* the kept-open files of a removed cgroup say so (the reader reopens) */
	CHECK(cgroup_counters_read(cc, &c1, &scratch, &e) == -ENODEV, "read after removal: %s", e.msg);
out:
	cgroup_counters_close(cc);
	sn_buf_free(&scratch);
	kill_reap(&kid);
	if (base) {
		struct sn_err ignored = { 0 };
		if (cg)
			cgroup_freeze(cg, false, &ignored);
		cgroup_destroy(base, &ignored);
	}
	cgroup_free(cg);
	cgroup_free(base);
	return rc;
}

static void v2_real_create_enter_freeze_kill_destroy(void **state)
{
	run(*state, fn_lifecycle);
}

static int fn_devices(struct t *t, char *msg, size_t size)
{
	int rc = 0;
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL, *base = NULL;
	_cleanup_free_ char *dir = sn_path_join(t->mnt, t->path);
	int errs[4];
	uint32_t count = 0;

	CHECK(cgroup_new(t->mnt, t->base, CGROUP_V2, &base, &e) == 0, "%s", e.msg);
	CHECK(cgroup_new(t->mnt, t->path, CGROUP_V2, &cg, &e) == 0, "%s", e.msg);
	struct spec_resources r;
	res_init(&r);
	struct spec_device_rule rules1[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 5, "rwm" },   /* /dev/zero */
	};
	r.devices = rules1;
	r.n_devices = 2;
	CHECK(cgroup_create(cg, 0, &r, &e) == 0, "create: %s", e.msg);
	const struct probe p1[] = { { "/dev/null", O_RDONLY }, { "/dev/zero", O_RDONLY } };
	CHECK(probe_in(cg, p1, 2, errs, &e) == 0, "probe: %s", e.msg);
	CHECK(errs[0] == EPERM, "open /dev/null in the cgroup: %s, want EPERM",
	      errs[0] ? strerror(errs[0]) : "allowed");
	CHECK(errs[1] == 0, "open /dev/zero in the cgroup: %s", strerror(errs[1]));
	CHECK(cg_bpf_count(dir, &count, &e) == 0 && count == 1, "%u programs attached", count);

	/* update: the old program is replaced, not stacked */
	struct spec_device_rule rules2[] = {
		{ true, 'a', -1, -1, "rwm" },
		{ false, 'c', 1, 3, "w" },    /* /dev/null read-only */
	};
	r.devices = rules2;
	CHECK(cgroup_apply(cg, &r, &e) == 0, "update: %s", e.msg);
	CHECK(cg_bpf_count(dir, &count, &e) == 0 && count == 1, "%u programs after update", count);
	const struct probe p2[] = {
		{ "/dev/null", O_RDONLY }, { "/dev/null", O_WRONLY }, { "/dev/zero", O_RDWR },
	};
	CHECK(probe_in(cg, p2, 3, errs, &e) == 0, "probe: %s", e.msg);
	CHECK(errs[0] == 0, "read /dev/null after update: %s", strerror(errs[0]));
	CHECK(errs[1] == EPERM, "write /dev/null after update: %s, want EPERM",
	      errs[1] ? strerror(errs[1]) : "allowed");
	CHECK(errs[2] == 0, "rw /dev/zero after update: %s", strerror(errs[2]));

	/* rules combine per access bit: r from one rule, w from the next */
	struct spec_device_rule rules3[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 5, "r" },
		{ true, 'c', 1, -1, "w" },
	};
	r.devices = rules3;
	r.n_devices = 3;
	CHECK(cgroup_apply(cg, &r, &e) == 0, "update: %s", e.msg);
	const struct probe p3[] = {
		{ "/dev/zero", O_RDWR }, { "/dev/null", O_RDONLY }, { "/dev/null", O_WRONLY },
	};
	CHECK(probe_in(cg, p3, 3, errs, &e) == 0, "probe: %s", e.msg);
	CHECK(errs[0] == 0, "rw /dev/zero with r+w rules: %s", strerror(errs[0]));
	CHECK(errs[1] == EPERM, "read /dev/null: %s, want EPERM",
	      errs[1] ? strerror(errs[1]) : "allowed");
	CHECK(errs[2] == 0, "write /dev/null (c 1:* w): %s", strerror(errs[2]));

	CHECK(cgroup_destroy(cg, &e) == 0, "destroy: %s", e.msg);
out:
	drop_cgroups(cg, base);
	return rc;
}

static void v2_devices_bpf_denies_dev_null_allows_dev_zero(void **state)
{
	run(*state, fn_devices);
}

static int fn_nested_kill(struct t *t, char *msg, size_t size)
{
	int rc = 0;
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL, *sub = NULL, *base = NULL;
	pid_t a = 0, b = 0;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *dir = sn_path_join(t->mnt, t->path);
	size_t n = 0;
	char subp[160];
	snprintf(subp, sizeof(subp), "%s/sub", t->path);
	CHECK(cgroup_new(t->mnt, t->base, CGROUP_V2, &base, &e) == 0, "%s", e.msg);
	CHECK(cgroup_new(t->mnt, t->path, CGROUP_V2, &cg, &e) == 0, "%s", e.msg);
	CHECK(cgroup_new(t->mnt, subp, CGROUP_V2, &sub, &e) == 0, "%s", e.msg);
	/* v2: no processes in inner nodes once children have controllers; with
	 * none enabled here both levels may hold processes */
	a = spawn_counter(t);
	b = spawn_counter(t);
	CHECK(a > 0 && b > 0, "fork");
	CHECK(cgroup_create(cg, a, NULL, &e) == 0, "create: %s", e.msg);
	CHECK(cgroup_create(sub, b, NULL, &e) == 0, "create sub: %s", e.msg);
	CHECK(cgroup_pids(cg, &pids, &n, &e) == 0 && n == 2, "recursive pids: %zu", n);
	CHECK(cgroup_freeze(cg, true, &e) == 0, "freeze: %s", e.msg);
	CHECK(cgroup_kill_all(cg, SIGKILL, &e) == 0, "kill: %s", e.msg);
	int wa = reap(a), wb = reap(b);
	a = b = 0;
	CHECK(wa != -1 && WIFSIGNALED(wa) && wb != -1 && WIFSIGNALED(wb), "not both killed");
	CHECK(cgroup_destroy(cg, &e) == 0, "destroy: %s", e.msg);
	CHECK(!sn_path_exists(dir), "`%s` still there", dir);
out:
	kill_reap(&a);
	kill_reap(&b);
	if (base) {
		struct sn_err ignored = { 0 };
		if (cg)
			cgroup_freeze(cg, false, &ignored);
		cgroup_destroy(base, &ignored);
	}
	cgroup_free(cg);
	cgroup_free(sub);
	cgroup_free(base);
	return rc;
}

static void v2_real_kill_all_frozen_nested_tree(void **state)
{
	run(*state, fn_nested_kill);
}

/* Born in the cgroup: clone3(CLONE_INTO_CGROUP) with the directory that
 * cgroup_join_open opened; no v1 files on a cgroup2-only root. */
static int fn_clone_into(struct t *t, char *msg, size_t size)
{
	int rc = 0;
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL, *base = NULL;
	struct cgroup_join j = { .n = 0, .v2_dir = -1 };
	pid_t kid = 0;
	_cleanup_free_ char *pc = NULL;
	CHECK(cgroup_new(t->mnt, t->base, 0, &base, &e) == 0, "%s", e.msg);
	CHECK(cgroup_new(t->mnt, t->path, 0, &cg, &e) == 0, "%s", e.msg);
	CHECK(cgroup_create(cg, 0, NULL, &e) == 0, "create: %s", e.msg);
	CHECK(cgroup_join_open(cg, &j, &e) == 0, "join_open: %s", e.msg);
	CHECK(j.n == 0 && j.v2_dir >= 0, "join fds: %zu v1, v2 %d", j.n, j.v2_dir);
	bool enter_v2 = true;
	CHECK(cgroup_join_clone(&j, 0, &kid, &enter_v2, &e) == 0, "clone: %s", e.msg);
	if (kid == 0) {
		test_child_reset();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	CHECK(!enter_v2, "clone3 did not place the child (kernel without CLONE_INTO_CGROUP?)");
	char procf[64], want[160];
	snprintf(procf, sizeof(procf), "/proc/%d/cgroup", (int)kid);
	snprintf(want, sizeof(want), "0::%s\n", t->path);
	CHECK(sn_read_file(procf, 0, &pc, NULL, &e) == 0, "%s", e.msg);
	CHECK(strstr(pc, want) != NULL, "child not in `%s`: %s", t->path, pc);
	CHECK(cgroup_kill_all(cg, SIGKILL, &e) == 0, "kill: %s", e.msg);
	CHECK(reap(kid) != -1, "child not reaped");
	kid = 0;
	CHECK(cgroup_destroy(cg, &e) == 0, "destroy: %s", e.msg);
out:
	cgroup_join_close(&j);
	kill_reap(&kid);
	drop_cgroups(cg, base);
	return rc;
}

static void v2_real_clone_into_cgroup(void **state)
{
	run(*state, fn_clone_into);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(v2_real_create_enter_freeze_kill_destroy),
		T(v2_devices_bpf_denies_dev_null_allows_dev_zero),
		T(v2_real_kill_all_frozen_nested_tree),
		T(v2_real_clone_into_cgroup),
	};
	return cmocka_run_group_tests_name("cgroup_v2", tests, NULL, NULL);
}
