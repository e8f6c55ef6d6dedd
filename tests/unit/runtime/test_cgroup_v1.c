/* test_cgroup_v1.c — the cgroup layer against the host's real cgroup v1
 * hierarchies (v1 or hybrid hosts; skipped on a pure v2 host).
 *
 * Every test works below a unique top-level cgroup "/sn-unit-<pid>-<rand>"
 * in every hierarchy, runs only processes it forked itself (which die with
 * the test runner: PR_SET_PDEATHSIG), and its teardown thaws, kills and
 * reaps them and removes the whole unique tree from every hierarchy, also
 * when an assertion failed half-way.
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

#define ROOT "/sys/fs/cgroup"

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
	enum cgroup_mode mode;
	char base[96];            /* "/sn-unit-<pid>-<rand>" */
	char path[128];           /* base + "/ct" */
	pid_t kids[4];
	volatile uint64_t *counter; /* shared with the kids */
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	struct sn_err e = { 0 };
	if (cgroup_detect_mode(ROOT, &t->mode, &e) < 0)
		t->mode = 0;
	unsigned int rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (unsigned int)time(NULL);
	snprintf(t->base, sizeof(t->base), "/sn-unit-%d-%08x", (int)getpid(), rnd);
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
	struct sn_err e = { 0 };
	struct cgroup *base = NULL;
	if (t->mode && cgroup_new(ROOT, t->base, t->mode, &base, &e) == 0) {
		/* frozen tasks cannot die: thaw every level we may have frozen */
		struct cgroup *ct = NULL;
		if (cgroup_new(ROOT, t->path, t->mode, &ct, &e) == 0) {
			cgroup_freeze(ct, false, &e);
			cgroup_free(ct);
		}
	}
	for (size_t i = 0; i < SN_ARRAY_SIZE(t->kids); i++) {
		if (t->kids[i] > 0) {
			kill(t->kids[i], SIGKILL);
			waitpid(t->kids[i], NULL, 0);
		}
	}
	if (base) {
		if (cgroup_destroy(base, &e) < 0)
			fprintf(stderr, "teardown: %s\n", e.msg);
		cgroup_free(base);
	}
	munmap((void *)t->counter, 4096);
	free(t);
	return 0;
}

static bool need_v1(struct t *t)
{
	if (t->mode == CGROUP_V1 || t->mode == CGROUP_HYBRID)
		return true;
	print_message("host has no cgroup v1 hierarchies\n");
	return false;
}

static pid_t spawn_counter(struct t *t, size_t slot)
{
	pid_t p = test_fork();
	assert_true(p >= 0);
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			(*t->counter)++;
			usleep(1000);
		}
	}
	t->kids[slot] = p;
	return p;
}

static bool counter_moves(struct t *t, long ms)
{
	uint64_t a = *t->counter;
	sleep_ms(ms);
	return *t->counter != a;
}

/* Reap pid within 5 s; returns the wait status or -1. */
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

static char *read_in(const struct cg_layout *l, const char *ctrl, const char *path,
		     const char *file)
{
	_cleanup_free_ char *dir = cg_v1_dir(l, ctrl, path);
	assert_non_null(dir);
	char *out = NULL;
	struct sn_err e = { 0 };
	if (cg_read(dir, file, &out, &e) < 0)
		fail_msg("%s", e.msg);
	return out;
}

#define assert_cg_file(l, ctrl, path, file, want)                           \
	do {                                                                \
		_cleanup_free_ char *got_ = read_in(l, ctrl, path, file);   \
		assert_string_equal(got_, want);                            \
	} while (0)

/* No directory for path is left in any hierarchy (nor the unified side). */
static void assert_gone_everywhere(const struct cgroup *cg, const char *path)
{
	struct cg_layout l;
	struct sn_err e = { 0 };
	assert_int_equal(cg_layout_load(cg, &l, &e), 0);
	for (size_t i = 0; i < l.n_v1; i++) {
		_cleanup_free_ char *d = sn_path_join(l.v1[i].dir, path);
		if (sn_path_exists(d))
			fail_msg("`%s` is still there", d);
	}
	if (l.unified) {
		_cleanup_free_ char *d = sn_path_join(l.unified, path);
		if (sn_path_exists(d))
			fail_msg("`%s` is still there", d);
	}
	cg_layout_free(&l);
}

/* How many lines of /proc/<pid>/cgroup end in ":<path>". */
static size_t lines_in(pid_t pid, const char *path)
{
	char procf[64];
	snprintf(procf, sizeof(procf), "/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *pc = NULL;
	struct sn_err e = { 0 };
	if (sn_read_file(procf, 0, &pc, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	char suffix[160];
	snprintf(suffix, sizeof(suffix), ":%s", path);
	size_t in = 0, sl = strlen(suffix);
	for (char *save = NULL, *line = strtok_r(pc, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t ll = strlen(line);
		if (ll >= sl && strcmp(line + ll - sl, suffix) == 0)
			in++;
	}
	return in;
}

/* A new process joins without anyone writing its pid into cgroup.procs:
 * born in the unified side (clone3 CLONE_INTO_CGROUP, hybrid hosts), it
 * writes "0" into every v1 `tasks` file that its parent opened. With
 * clone_flags CLONE_NEWUSER the child is an unmapped nobody in a new user
 * namespace when it writes: the kernel must judge the opener (root). */
static void join_and_check(struct t *t, unsigned long clone_flags)
{
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(ROOT, t->path, 0, &cg, &e), 0);
	struct spec_resources r;
	res_init(&r);
	r.pids_limit = 10;
	if (cgroup_create(cg, 0, &r, &e) < 0)
		fail_msg("%s", e.msg);
	struct cgroup_join j;
	if (cgroup_join_open(cg, &j, &e) < 0)
		fail_msg("%s", e.msg);
	struct cg_layout l;
	assert_int_equal(cg_layout_load(cg, &l, &e), 0);
	assert_int_equal(j.n, l.n_v1);
	assert_true((j.v2_dir >= 0) == (t->mode == CGROUP_HYBRID));
	int ready[2];
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	pid_t kid;
	bool enter_v2 = true;
	if (cgroup_join_clone(&j, clone_flags, &kid, &enter_v2, &e) < 0)
		fail_msg("%s", e.msg);
	if (kid == 0) {
		test_child_reset();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		struct sn_err ce = { 0 };
		char ok = cgroup_join_self(&j, &ce) == 0 ? 'y' : 'n';
		if (write(ready[1], &ok, 1) != 1 || ok != 'y')
			_exit(1);
		for (;;)
			pause();
	}
	t->kids[0] = kid;
	close(ready[1]);
	cgroup_join_close(&j);
	char ok = 0;
	assert_int_equal(read(ready[0], &ok, 1), 1);
	close(ready[0]);
	assert_int_equal(ok, 'y');
	if (t->mode == CGROUP_HYBRID)
		assert_false(enter_v2);   /* born in the unified side */
	assert_int_equal(lines_in(kid, t->path), l.n_v1 + (t->mode == CGROUP_HYBRID ? 1 : 0));
	/* the limit holds for it: pids.current counts it */
	uint64_t cur = 0;
	_cleanup_free_ char *pdir = cg_v1_dir(&l, "pids", t->path);
	assert_non_null(pdir);
	assert_int_equal(cg_read_u64(pdir, "pids.current", &cur, &e), 0);
	assert_int_equal(cur, 1);
	cg_layout_free(&l);
	cgroup_free(cg);
}

static void v1_join_self_places_new_process_in_every_hierarchy(void **state)
{
	struct t *t = *state;
	if (!need_v1(t))
		skip();
	join_and_check(t, 0);
}

static void v1_join_self_works_from_an_unmapped_user_namespace(void **state)
{
	struct t *t = *state;
	if (!need_v1(t))
		skip();
	join_and_check(t, CLONE_NEWUSER);
}

static void v1_create_limits_freeze_kill_destroy(void **state)
{
	struct t *t = *state;
	if (!need_v1(t))
		skip();
	pid_t kid = spawn_counter(t, 0);
	struct spec_resources r;
	res_init(&r);
	r.memory.limit = 64 << 20;
	r.pids_limit = 100;
	r.cpu.shares = 512;
	struct spec_device_rule dr[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 5, "rwm" },
	};
	r.devices = dr;
	r.n_devices = 2;
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(ROOT, t->path, 0, &cg, &e), 0);
	assert_int_equal(cg->mode, t->mode);
	if (cgroup_create(cg, kid, &r, &e) < 0)
		fail_msg("%s", e.msg);

	struct cg_layout l;
	assert_int_equal(cg_layout_load(cg, &l, &e), 0);
	assert_cg_file(&l, "memory", t->path, "memory.limit_in_bytes", "67108864\n");
	assert_cg_file(&l, "pids", t->path, "pids.max", "100\n");
	assert_cg_file(&l, "cpu", t->path, "cpu.shares", "512\n");
	assert_cg_file(&l, "devices", t->path, "devices.list", "c 1:5 rwm\n");
	/* cpuset levels inherited cpus/mems, else the child could not join */
	_cleanup_free_ char *cpus = read_in(&l, "cpuset", t->path, "cpuset.cpus");
	_cleanup_free_ char *rootcpus = read_in(&l, "cpuset", "/", "cpuset.cpus");
	assert_string_equal(cpus, rootcpus);

	/* the child is in our cgroup in every hierarchy (and the unified side) */
	char procf[64];
	snprintf(procf, sizeof(procf), "/proc/%d/cgroup", (int)kid);
	_cleanup_free_ char *pc = NULL;
	assert_int_equal(sn_read_file(procf, 0, &pc, NULL, &e), 0);
	char suffix[160];
	snprintf(suffix, sizeof(suffix), ":%s", t->path);
	size_t in = 0;
	for (char *save = NULL, *line = strtok_r(pc, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t ll = strlen(line), sl = strlen(suffix);
		if (ll >= sl && strcmp(line + ll - sl, suffix) == 0)
			in++;
	}
	assert_int_equal(in, l.n_v1 + (t->mode == CGROUP_HYBRID ? 1 : 0));
	cg_layout_free(&l);

	/* counters kept open: a pread at offset 0 shows the current values */
	struct cgroup_counters *cc = NULL;
	struct sn_buf scratch = { 0 };
	struct cgroup_stats c0, c1;
	if (cgroup_counters_open(cg, &cc, &e) < 0 || cgroup_counters_read(cc, &c0, &scratch, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(cgroup_counters_fds(cc) <= CGROUP_COUNTERS_MAX_FDS);
	assert_true(counter_moves(t, 100));
	if (cgroup_counters_read(cc, &c1, &scratch, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(c1.cpu_usage_ns > c0.cpu_usage_ns);
	assert_int_equal(c1.processes, 1);
	assert_int_equal(c1.pids_current, 1);
	struct cgroup_stats st;
	if (cgroup_stats(cg, &st, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(st.memory_limit, 64 << 20);
	assert_int_equal(st.pids_limit, 100);
	assert_int_equal(st.pids_current, 1);
	assert_true(st.cpu_usage_ns > 0);

	/* freeze: the counter stops; thaw: it runs again */
	if (cgroup_freeze(cg, true, &e) < 0)
		fail_msg("%s", e.msg);
	bool frozen = false;
	assert_int_equal(cgroup_is_frozen(cg, &frozen, &e), 0);
	assert_true(frozen);
	assert_false(counter_moves(t, 150));
	assert_int_equal(cgroup_freeze(cg, false, &e), 0);
	assert_int_equal(cgroup_is_frozen(cg, &frozen, &e), 0);
	assert_false(frozen);
	assert_true(counter_moves(t, 150));

	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(cgroup_pids(cg, &pids, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], kid);

	if (cgroup_kill_all(cg, SIGKILL, &e) < 0)
		fail_msg("%s", e.msg);
	int ws = reap(kid);
	assert_true(ws != -1 && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	t->kids[0] = 0;

	if (cgroup_destroy(cg, &e) < 0)
		fail_msg("%s", e.msg);
	assert_gone_everywhere(cg, t->path);
	/* the kept-open files of a removed cgroup say so (the reader reopens) */
	assert_int_equal(cgroup_counters_read(cc, &c1, &scratch, &e), -ENODEV);
	cgroup_counters_close(cc);
	sn_buf_free(&scratch);
	/* a missing cgroup is not an error */
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	cgroup_free(cg);
}

static void v1_kill_all_reaches_frozen_nested_processes(void **state)
{
	struct t *t = *state;
	if (!need_v1(t))
		skip();
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL, *sub = NULL;
	char subp[160];
	snprintf(subp, sizeof(subp), "%s/sub", t->path);
	assert_int_equal(cgroup_new(ROOT, t->path, t->mode, &cg, &e), 0);
	assert_int_equal(cgroup_new(ROOT, subp, t->mode, &sub, &e), 0);
	pid_t a = spawn_counter(t, 0), b = spawn_counter(t, 1);
	if (cgroup_create(cg, a, NULL, &e) < 0 || cgroup_create(sub, b, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	assert_int_equal(cgroup_pids(cg, &pids, &n, &e), 0);
	assert_int_equal(n, 2);  /* recursive: includes sub */
	assert_int_equal(cgroup_freeze(cg, true, &e), 0);
	assert_false(counter_moves(t, 100));
	if (cgroup_kill_all(cg, SIGKILL, &e) < 0)
		fail_msg("%s", e.msg);
	int wa = reap(a), wb = reap(b);
	assert_true(wa != -1 && WIFSIGNALED(wa));
	assert_true(wb != -1 && WIFSIGNALED(wb));
	t->kids[0] = t->kids[1] = 0;
	/* destroy removes the child cgroup first */
	if (cgroup_destroy(cg, &e) < 0)
		fail_msg("%s", e.msg);
	assert_gone_everywhere(cg, t->path);
	cgroup_free(cg);
	cgroup_free(sub);
}

static void v1_kill_all_with_sigterm_signals_each_process(void **state)
{
	struct t *t = *state;
	if (!need_v1(t))
		skip();
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL;
	assert_int_equal(cgroup_new(ROOT, t->path, t->mode, &cg, &e), 0);
	pid_t a = spawn_counter(t, 0);
	assert_int_equal(cgroup_create(cg, a, NULL, &e), 0);
	assert_int_equal(cgroup_kill_all(cg, SIGTERM, &e), 0);
	int wa = reap(a);
	assert_true(wa != -1 && WIFSIGNALED(wa) && WTERMSIG(wa) == SIGTERM);
	t->kids[0] = 0;
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	cgroup_free(cg);
}

static void hybrid_unified_side_created_and_removed(void **state)
{
	struct t *t = *state;
	if (t->mode != CGROUP_HYBRID) {
		print_message("host is not hybrid\n");
		skip();
	}
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL;
	assert_int_equal(cgroup_new(ROOT, t->path, 0, &cg, &e), 0);
	assert_int_equal(cg->mode, CGROUP_HYBRID);
	pid_t a = spawn_counter(t, 0);
	if (cgroup_create(cg, a, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	_cleanup_free_ char *uni = NULL;
	assert_true(asprintf(&uni, "%s/unified%s", ROOT, t->path) > 0);
	struct stat st;
	assert_int_equal(stat(uni, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* and the process was placed there too */
	_cleanup_free_ char *procs = NULL;
	_cleanup_free_ char *pf = sn_path_join(uni, "cgroup.procs");
	assert_int_equal(sn_read_file(pf, 0, &procs, NULL, &e), 0);
	assert_int_equal(atoi(procs), a);
	assert_int_equal(cgroup_kill_all(cg, SIGKILL, &e), 0);
	reap(a);
	t->kids[0] = 0;
	if (cgroup_destroy(cg, &e) < 0)
		fail_msg("%s", e.msg);
	assert_false(sn_path_exists(uni));
	assert_gone_everywhere(cg, t->path);
	cgroup_free(cg);
}

static void v1_bad_cpuset_value_names_file_and_leaves_nothing(void **state)
{
	struct t *t = *state;
	if (!need_v1(t))
		skip();
	struct spec_resources r;
	res_init(&r);
	r.cpu.cpus = "abc";
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL;
	assert_int_equal(cgroup_new(ROOT, t->path, t->mode, &cg, &e), 0);
	pid_t a = spawn_counter(t, 0);
	assert_int_equal(cgroup_create(cg, a, &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "write `abc` to `"));
	assert_non_null(strstr(e.msg, "/cpuset.cpus`"));
	assert_non_null(strstr(e.msg, t->path));
	/* the whole new tree (base and below) was removed in every hierarchy */
	assert_gone_everywhere(cg, t->base);
	cgroup_free(cg);
}

static void v1_memory_and_swap_update_in_either_direction(void **state)
{
	struct t *t = *state;
	if (!need_v1(t))
		skip();
	struct sn_err e = { 0 };
	struct cgroup *cg = NULL;
	assert_int_equal(cgroup_new(ROOT, t->path, t->mode, &cg, &e), 0);
	struct cg_layout l;
	assert_int_equal(cg_layout_load(cg, &l, &e), 0);
	_cleanup_free_ char *memroot = cg_v1_dir(&l, "memory", "/memory.memsw.limit_in_bytes");
	if (!memroot || !sn_path_exists(memroot)) {
		cg_layout_free(&l);
		cgroup_free(cg);
		print_message("no swap accounting (memory.memsw.*)\n");
		skip();
	}
	struct spec_resources r;
	res_init(&r);
	r.memory.limit = 64 << 20;
	r.memory.swap = 128 << 20;
	if (cgroup_create(cg, 0, &r, &e) < 0)
		fail_msg("%s", e.msg);
	/* up: memsw must be raised before memory */
	r.memory.limit = 256 << 20;
	r.memory.swap = 512 << 20;
	if (cgroup_apply(cg, &r, &e) < 0)
		fail_msg("%s", e.msg);
	assert_cg_file(&l, "memory", t->path, "memory.limit_in_bytes", "268435456\n");
	assert_cg_file(&l, "memory", t->path, "memory.memsw.limit_in_bytes", "536870912\n");
	/* down: memory must be lowered before memsw */
	r.memory.limit = 32 << 20;
	r.memory.swap = 48 << 20;
	if (cgroup_apply(cg, &r, &e) < 0)
		fail_msg("%s", e.msg);
	assert_cg_file(&l, "memory", t->path, "memory.limit_in_bytes", "33554432\n");
	assert_cg_file(&l, "memory", t->path, "memory.memsw.limit_in_bytes", "50331648\n");
	/* unlimited again */
	r.memory.limit = -1;
	r.memory.swap = -1;
	if (cgroup_apply(cg, &r, &e) < 0)
		fail_msg("%s", e.msg);
	/* a value the kernel refuses names file and value */
	r.memory.limit = 64 << 20;
	r.memory.swap = 32 << 20;
	assert_int_equal(cgroup_apply(cg, &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "memory.memsw.limit_in_bytes`"));
	assert_non_null(strstr(e.msg, "`33554432`"));
	cg_layout_free(&l);
	assert_int_equal(cgroup_destroy(cg, &e), 0);
	cgroup_free(cg);
}

static void v1_layout_from_mountinfo_names_real_hierarchies(void **state)
{
	struct t *t = *state;
	if (!need_v1(t))
		skip();
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(ROOT, t->path, t->mode, &cg, &e), 0);
	struct cg_layout l;
	assert_int_equal(cg_layout_load(cg, &l, &e), 0);
	/* every controller in /proc/self/cgroup's v1 lines has a hierarchy */
	_cleanup_free_ char *self = NULL;
	assert_int_equal(sn_read_file("/proc/self/cgroup", 0, &self, NULL, &e), 0);
	for (char *save = NULL, *line = strtok_r(self, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = strchr(c1 + 1, ':');
		*c2 = '\0';
		if (!c1[1])
			continue;
		char *first = strtok(c1 + 1, ",");
		if (!cg_v1_find(&l, first))
			fail_msg("no hierarchy found for `%s`", first);
	}
	assert_true(cg_v1_find(&l, "cpuacct") != NULL);
	cg_layout_free(&l);
	cgroup_free(cg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(v1_create_limits_freeze_kill_destroy),
		T(v1_join_self_places_new_process_in_every_hierarchy),
		T(v1_join_self_works_from_an_unmapped_user_namespace),
		T(v1_kill_all_reaches_frozen_nested_processes),
		T(v1_kill_all_with_sigterm_signals_each_process),
		T(hybrid_unified_side_created_and_removed),
		T(v1_bad_cpuset_value_names_file_and_leaves_nothing),
		T(v1_memory_and_swap_update_in_either_direction),
		T(v1_layout_from_mountinfo_names_real_hierarchies),
	};
	return cmocka_run_group_tests_name("cgroup_v1", tests, NULL, NULL);
}
