/* test_cgroup.c — cgroup layer tests that need no real cgroup: path
 * resolution, JSON state, the OCI -> v2 conversions, the resource writers
 * run against fake trees (plain directories and files with the kernel's
 * file names), rollback of a failed create, the eBPF program builder.
 *
 * Files that are written several times in one apply (io.max, devices.allow,
 * net_prio.ifpriomap, blkio throttles) are FIFOs in the fake tree: the test
 * holds the read end, so every write is kept, in order, and the test
 * compares the concatenation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>

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

/* ------------------------------------------------------------ fake trees */

struct fake {
	char *dir;               /* temp root */
};

static int fake_setup(void **state)
{
	char tmpl[64];
	snprintf(tmpl, sizeof(tmpl), "/tmp/sn-cgfake-%d-XXXXXX", (int)getpid());
	char *d = mkdtemp(tmpl);
	if (!d)
		return -1;
	struct fake *f = calloc(1, sizeof(*f));
	f->dir = strdup(d);
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	struct sn_err e = { 0 };
	if (f) {
		sn_rm_rf(f->dir, &e);
		free(f->dir);
		free(f);
	}
	return 0;
}

/* Create dir/rel (and parents) as an empty file, or a dir when rel ends in '/'. */
static void touch(const char *dir, const char *rel, const char *content)
{
	_cleanup_free_ char *p = sn_path_join(dir, rel);
	struct sn_err e = { 0 };
	_cleanup_free_ char *parent = strdup(p);
	*strrchr(parent, '/') = '\0';
	assert_int_equal(sn_mkdir_p(parent, 0755, &e), 0);
	if (p[strlen(p) - 1] == '/')
		return;
	assert_int_equal(sn_write_file(p, content ? content : "", content ? strlen(content) : 0,
				       0644, &e), 0);
}

static int fifo(const char *dir, const char *rel)
{
	_cleanup_free_ char *p = sn_path_join(dir, rel);
	assert_int_equal(mkfifo(p, 0644), 0);
	int fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static char *drain(int fd)
{
	char *buf = calloc(1, 65536);
	ssize_t n = read(fd, buf, 65535);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return buf;
}

static char *slurp(const char *dir, const char *rel)
{
	_cleanup_free_ char *p = sn_path_join(dir, rel);
	char *out = NULL;
	struct sn_err e = { 0 };
	if (sn_read_file(p, 0, &out, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	return out;
}

#define assert_file(dir, rel, want)                       \
	do {                                              \
		_cleanup_free_ char *got_ = slurp(dir, rel); \
		assert_string_equal(got_, want);           \
	} while (0)

static const char *const v2_files[] = {
	"cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle", "memory.max", "memory.low",
	"memory.swap.max", "memory.high", "io.weight", "pids.max", "cpuset.cpus", "cpuset.mems",
	"hugetlb.2MB.max", "cgroup.procs", NULL,
};

static void v2_fake_writes_every_conversion(void **state)
{
	struct fake *f = *state;
	for (const char *const *p = v2_files; *p; p++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "ct/%s", *p);
		touch(f->dir, rel, NULL);
	}
	int io_max = fifo(f->dir, "ct/io.max");
	struct spec_resources r;
	res_init(&r);
	r.cpu.shares = 1024;
	r.cpu.quota = 50000;
	r.cpu.period = 100000;
	r.cpu.burst = 1000;
	r.cpu.idle = 1;
	r.cpu.cpus = "0-1";
	r.cpu.mems = "0";
	r.memory.limit = 100 << 20;
	r.memory.reservation = 50 << 20;
	r.memory.swap = 300 << 20;       /* OCI: memory+swap */
	r.pids_limit = 64;
	r.has_blockio = true;
	r.blockio.weight = 500;
	struct spec_throttle_device rbps[] = { { 8, 0, 1048576 } };
	struct spec_throttle_device wbps[] = { { 8, 0, 2097152 } };
	struct spec_throttle_device riops[] = { { 8, 16, 300 } };
	r.blockio.throttle_read_bps = rbps;
	r.blockio.n_throttle_read_bps = 1;
	r.blockio.throttle_write_bps = wbps;
	r.blockio.n_throttle_write_bps = 1;
	r.blockio.throttle_read_iops = riops;
	r.blockio.n_throttle_read_iops = 1;
	struct spec_hugepage_limit hp[] = { { "2MB", 4194304 } };
	r.hugepage_limits = hp;
	r.n_hugepage_limits = 1;
	struct spec_unified_kv uni[] = { { "memory.high", "90000000" } };
	r.unified = uni;
	r.n_unified = 1;

	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V2, &cg, &e), 0);
	int rc = cgroup_apply(cg, &r, &e);
	if (rc < 0)
		fail_msg("%s", e.msg);
	cgroup_free(cg);

	_cleanup_free_ char *ct = sn_path_join(f->dir, "ct");
	assert_file(ct, "cpu.weight", "39");          /* 1 + (1022*9999)/262142 */
	assert_file(ct, "cpu.max", "50000 100000");
	assert_file(ct, "cpu.max.burst", "1000");
	assert_file(ct, "cpu.idle", "1");
	assert_file(ct, "cpuset.cpus", "0-1");
	assert_file(ct, "cpuset.mems", "0");
	assert_file(ct, "memory.max", "104857600");
	assert_file(ct, "memory.low", "52428800");
	assert_file(ct, "memory.swap.max", "209715200"); /* swap - limit */
	assert_file(ct, "memory.high", "90000000");
	assert_file(ct, "pids.max", "64");
	assert_file(ct, "io.weight", "4950");          /* 1 + 490*9999/990 */
	assert_file(ct, "hugetlb.2MB.max", "4194304");
	_cleanup_free_ char *lines = drain(io_max);
	assert_string_equal(lines, "8:0 rbps=1048576 wbps=2097152" "8:16 riops=300");
	close(io_max);
}

static void v2_fake_unlimited_values_write_max(void **state)
{
	struct fake *f = *state;
	for (const char *const *p = v2_files; *p; p++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "ct/%s", *p);
		touch(f->dir, rel, NULL);
	}
	struct spec_resources r;
	res_init(&r);
	r.memory.limit = -1;
	r.memory.swap = -1;
	r.cpu.quota = -1;
	r.cpu.period = 250000;
	r.pids_limit = 0;
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V2, &cg, &e), 0);
	if (cgroup_apply(cg, &r, &e) < 0)
		fail_msg("%s", e.msg);
	cgroup_free(cg);
	_cleanup_free_ char *ct = sn_path_join(f->dir, "ct");
	assert_file(ct, "memory.max", "max");
	assert_file(ct, "memory.swap.max", "max");
	assert_file(ct, "cpu.max", "max 250000");
	assert_file(ct, "pids.max", "max");
	/* nothing else was written */
	assert_file(ct, "cpu.weight", "");
	assert_file(ct, "io.weight", "");
}

static void v2_conversions_match_runc(void **state)
{
	assert_int_equal(cg_v2_cpu_weight(2), 1);
	assert_int_equal(cg_v2_cpu_weight(262144), 10000);
	assert_int_equal(cg_v2_cpu_weight(1024), 39);
	assert_int_equal(cg_v2_cpu_weight(0), 0);
	assert_int_equal(cg_v2_io_weight(10), 1);
	assert_int_equal(cg_v2_io_weight(1000), 10000);
	assert_int_equal(cg_v2_io_weight(100), 910);
	int64_t out;
	struct sn_err e = { 0 };
	assert_int_equal(cg_v2_swap_max(SPEC_UNSET, 100, &out, &e), 0);
	assert_int_equal(cg_v2_swap_max(SPEC_UNSET, -1, &out, &e), 1);
	assert_int_equal(out, -1);
	assert_int_equal(cg_v2_swap_max(300, 100, &out, &e), 1);
	assert_int_equal(out, 200);
	assert_int_equal(cg_v2_swap_max(-1, 100, &out, &e), 1);
	assert_int_equal(out, -1);
	assert_int_equal(cg_v2_swap_max(50, 100, &out, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "memory.swap"));
	assert_int_equal(cg_v2_swap_max(300, SPEC_UNSET, &out, &e), -EINVAL);
}

static void v2_fake_refuses_realtime_and_net_cls(void **state)
{
	struct fake *f = *state;
	touch(f->dir, "ct/", NULL);
	struct spec_resources r;
	res_init(&r);
	r.cpu.realtime_runtime = 1000;
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V2, &cg, &e), 0);
	assert_int_equal(cgroup_apply(cg, &r, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "realtime"));
	res_init(&r);
	r.net_class_id = 0x100001;
	assert_int_equal(cgroup_apply(cg, &r, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "network"));
	cgroup_free(cg);
}

static void v2_fake_enables_needed_controller_in_parent(void **state)
{
	struct fake *f = *state;
	touch(f->dir, "cgroup.controllers", "cpu memory pids\n");
	touch(f->dir, "cgroup.subtree_control", NULL);
	touch(f->dir, "ct/pids.max", NULL);
	struct spec_resources r;
	res_init(&r);
	r.pids_limit = 10;
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V2, &cg, &e), 0);
	if (cgroup_apply(cg, &r, &e) < 0)
		fail_msg("%s", e.msg);
	assert_file(f->dir, "cgroup.subtree_control", "+pids");
	assert_file(f->dir, "ct/pids.max", "10");
	/* a limit whose controller the parent does not offer is an error */
	res_init(&r);
	r.has_blockio = true;
	r.blockio.weight = 100;
	assert_int_equal(cgroup_apply(cg, &r, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "`io`"));
	assert_non_null(strstr(e.msg, "cgroup.controllers"));
	cgroup_free(cg);
}

static void v2_fake_create_failure_removes_made_dirs(void **state)
{
	struct fake *f = *state;
	struct spec_resources r;
	res_init(&r);
	r.pids_limit = 5;  /* a/b/pids.max does not exist in a fake tree */
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(f->dir, "/a/b", CGROUP_V2, &cg, &e), 0);
	assert_int_equal(cgroup_create(cg, 0, &r, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "write `5` to `"));
	assert_non_null(strstr(e.msg, "/a/b/pids.max`"));
	_cleanup_free_ char *a = sn_path_join(f->dir, "a");
	assert_false(sn_path_exists(a));
	cgroup_free(cg);
}

static void v1_fake_writes_blkio_hugetlb_net_and_devices(void **state)
{
	struct fake *f = *state;
	static const char *const files[] = {
		"blkio/ct/blkio.weight", "blkio/ct/blkio.leaf_weight",
		"hugetlb/ct/hugetlb.2MB.limit_in_bytes", "net_cls,net_prio/ct/net_cls.classid",
		"cpu,cpuacct/ct/cpu.shares", "cpu,cpuacct/ct/cpu.cfs_quota_us",
		"cpu,cpuacct/ct/cpu.cfs_period_us", "memory/ct/memory.limit_in_bytes",
		"memory/ct/memory.memsw.limit_in_bytes", "memory/ct/memory.soft_limit_in_bytes",
		"memory/ct/memory.swappiness", "memory/ct/memory.oom_control", "devices/ct/",
		"pids/ct/pids.max", NULL,
	};
	for (const char *const *p = files; *p; p++)
		touch(f->dir, *p, NULL);
	touch(f->dir, "memory/ct/memory.limit_in_bytes", "9223372036854771712\n");
	int wdev = fifo(f->dir, "blkio/ct/blkio.weight_device");
	int rbps = fifo(f->dir, "blkio/ct/blkio.throttle.read_bps_device");
	int prio = fifo(f->dir, "net_cls,net_prio/ct/net_prio.ifpriomap");
	int allow = fifo(f->dir, "devices/ct/devices.allow");
	int deny = fifo(f->dir, "devices/ct/devices.deny");

	struct spec_resources r;
	res_init(&r);
	r.has_blockio = true;
	r.blockio.weight = 300;
	r.blockio.leaf_weight = 200;
	struct spec_weight_device wd[] = { { 8, 0, 400, SPEC_UNSET }, { 8, 16, 500, SPEC_UNSET } };
	r.blockio.weight_devices = wd;
	r.blockio.n_weight_devices = 2;
	struct spec_throttle_device tb[] = { { 8, 0, 1000 } };
	r.blockio.throttle_read_bps = tb;
	r.blockio.n_throttle_read_bps = 1;
	struct spec_hugepage_limit hp[] = { { "2MB", 2097152 } };
	r.hugepage_limits = hp;
	r.n_hugepage_limits = 1;
	r.net_class_id = 0x100001;
	struct spec_net_priority np[] = { { "eth0", 5 }, { "lo", 2 } };
	r.net_priorities = np;
	r.n_net_priorities = 2;
	r.cpu.shares = 512;
	r.cpu.quota = 20000;
	r.cpu.period = 100000;
	r.memory.limit = 1 << 26;
	r.memory.swap = 1 << 27;
	r.memory.reservation = 1 << 25;
	r.memory.swappiness = 10;
	r.memory.has_disable_oom_killer = true;
	r.memory.disable_oom_killer = true;
	r.pids_limit = -1;
	struct spec_device_rule dr[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 5, "rwm" },
		{ true, 'b', 8, -1, "r" },
	};
	r.devices = dr;
	r.n_devices = 3;

	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V1, &cg, &e), 0);
	if (cgroup_apply(cg, &r, &e) < 0)
		fail_msg("%s", e.msg);
	cgroup_free(cg);
	assert_file(f->dir, "blkio/ct/blkio.weight", "300");
	assert_file(f->dir, "blkio/ct/blkio.leaf_weight", "200");
	assert_file(f->dir, "hugetlb/ct/hugetlb.2MB.limit_in_bytes", "2097152");
	assert_file(f->dir, "net_cls,net_prio/ct/net_cls.classid", "1048577");
	/* co-mounted cpu,cpuacct found by its controllers, not its name */
	assert_file(f->dir, "cpu,cpuacct/ct/cpu.shares", "512");
	assert_file(f->dir, "cpu,cpuacct/ct/cpu.cfs_quota_us", "20000");
	assert_file(f->dir, "cpu,cpuacct/ct/cpu.cfs_period_us", "100000");
	/* limit and memsw both written (order: see the real v1 update test) */
	assert_file(f->dir, "memory/ct/memory.memsw.limit_in_bytes", "134217728");
	assert_file(f->dir, "memory/ct/memory.soft_limit_in_bytes", "33554432");
	assert_file(f->dir, "memory/ct/memory.swappiness", "10");
	assert_file(f->dir, "memory/ct/memory.oom_control", "1");
	assert_file(f->dir, "pids/ct/pids.max", "max");
	_cleanup_free_ char *w = drain(wdev), *t = drain(rbps), *pr = drain(prio);
	_cleanup_free_ char *al = drain(allow), *de = drain(deny);
	assert_string_equal(w, "8:0 400" "8:16 500");
	assert_string_equal(t, "8:0 1000");
	assert_string_equal(pr, "eth0 5" "lo 2");
	assert_string_equal(de, "a *:* rwm");
	assert_string_equal(al, "c 1:5 rwm" "b 8:* r");
	close(wdev);
	close(rbps);
	close(prio);
	close(allow);
	close(deny);
}

static void v1_fake_unset_limits_write_nothing(void **state)
{
	struct fake *f = *state;
	/* blkio.leaf_weight is absent (as on new kernels): unset must not touch it */
	touch(f->dir, "blkio/ct/blkio.weight", NULL);
	touch(f->dir, "memory/ct/memory.limit_in_bytes", NULL);
	touch(f->dir, "pids/ct/pids.max", NULL);
	struct spec_resources r;
	res_init(&r);
	r.has_blockio = true;
	r.blockio.weight = 100;
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V1, &cg, &e), 0);
	if (cgroup_apply(cg, &r, &e) < 0)
		fail_msg("%s", e.msg);
	assert_file(f->dir, "blkio/ct/blkio.weight", "100");
	assert_file(f->dir, "memory/ct/memory.limit_in_bytes", "");
	assert_file(f->dir, "pids/ct/pids.max", "");
	/* but a set leaf weight with no file is an error naming the file */
	r.blockio.leaf_weight = 50;
	assert_int_equal(cgroup_apply(cg, &r, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "write `50` to `"));
	assert_non_null(strstr(e.msg, "blkio.leaf_weight`"));
	cgroup_free(cg);
}

static void v1_fake_missing_hierarchy_for_set_limit_is_error(void **state)
{
	struct fake *f = *state;
	touch(f->dir, "memory/ct/memory.limit_in_bytes", NULL);
	struct spec_resources r;
	res_init(&r);
	r.net_class_id = 7;
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V1, &cg, &e), 0);
	assert_int_equal(cgroup_apply(cg, &r, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "net_cls"));
	/* unified keys are refused on a pure v1 host */
	res_init(&r);
	struct spec_unified_kv uni[] = { { "memory.high", "1" } };
	r.unified = uni;
	r.n_unified = 1;
	assert_int_equal(cgroup_apply(cg, &r, &e), -EOPNOTSUPP);
	assert_non_null(strstr(e.msg, "needs cgroup v2"));
	cgroup_free(cg);
}

static void v1_fake_stats_read_v1_files(void **state)
{
	struct fake *f = *state;
	touch(f->dir, "cpuacct/ct/cpuacct.usage", "123456789\n");
	touch(f->dir, "memory/ct/memory.usage_in_bytes", "4096\n");
	touch(f->dir, "memory/ct/memory.limit_in_bytes", "9223372036854771712\n");
	touch(f->dir, "memory/ct/memory.failcnt", "3\n");
	touch(f->dir, "memory/ct/memory.stat", "cache 10\nrss 20\ninactive_file 5\ntotal_cache 11\n"
					       "total_rss 21\ntotal_inactive_file 6\n");
	touch(f->dir, "memory/ct/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	touch(f->dir, "pids/ct/pids.current", "4\n");
	touch(f->dir, "pids/ct/pids.max", "max\n");
	touch(f->dir, "pids/ct/cgroup.procs", "7\n8\n");
	touch(f->dir, "blkio/ct/blkio.throttle.io_service_bytes",
	      "8:0 Read 100\n8:0 Write 200\n8:16 Read 1\n8:0 Total 300\nTotal 301\n");
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	struct cgroup_stats st;
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V1, &cg, &e), 0);
	if (cgroup_stats(cg, &st, &e) < 0)
		fail_msg("%s", e.msg);
	cgroup_free(cg);
	assert_int_equal(st.cpu_usage_ns, 123456789);
	assert_int_equal(st.memory_usage, 4096);
	assert_true(st.memory_limit == UINT64_MAX);
	assert_int_equal(st.memory_failcnt, 3);
	assert_int_equal(st.memory_cache, 11);
	assert_int_equal(st.memory_rss, 21);
	assert_int_equal(st.memory_inactive_file, 6);
	assert_int_equal(st.processes, 2);
	assert_int_equal(st.oom_kills, 2);
	assert_int_equal(st.pids_current, 4);
	assert_true(st.pids_limit == UINT64_MAX);
	assert_int_equal(st.io_read_bytes, 101);
	assert_int_equal(st.io_write_bytes, 200);
}

static void v2_fake_stats_read_v2_files(void **state)
{
	struct fake *f = *state;
	touch(f->dir, "ct/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
				     "nr_periods 9\nnr_throttled 2\nthrottled_usec 7\n");
	touch(f->dir, "ct/memory.current", "8192\n");
	touch(f->dir, "ct/memory.max", "max\n");
	touch(f->dir, "ct/memory.stat", "anon 100\nfile 200\ninactive_file 150\n");
	touch(f->dir, "ct/cgroup.procs", "41\n");
	touch(f->dir, "ct/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
	touch(f->dir, "ct/pids.current", "3\n");
	touch(f->dir, "ct/pids.max", "20\n");
	touch(f->dir, "ct/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2\n8:16 rbytes=5 wbytes=0\n");
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	struct cgroup_stats st;
	assert_int_equal(cgroup_new(f->dir, "/ct", CGROUP_V2, &cg, &e), 0);
	if (cgroup_stats(cg, &st, &e) < 0)
		fail_msg("%s", e.msg);
	cgroup_free(cg);
	assert_int_equal(st.cpu_usage_ns, 1500000);
	assert_int_equal(st.cpu_user_ns, 1000000);
	assert_int_equal(st.cpu_system_ns, 500000);
	assert_int_equal(st.cpu_throttled_periods, 2);
	assert_int_equal(st.cpu_throttled_ns, 7000);
	assert_int_equal(st.memory_usage, 8192);
	assert_true(st.memory_limit == UINT64_MAX);
	assert_int_equal(st.memory_cache, 200);
	assert_int_equal(st.memory_rss, 100);
	assert_int_equal(st.memory_inactive_file, 150);
	assert_int_equal(st.processes, 1);
	assert_int_equal(st.memory_failcnt, 5);
	assert_int_equal(st.oom_kills, 1);
	assert_int_equal(st.pids_current, 3);
	assert_int_equal(st.pids_limit, 20);
	assert_int_equal(st.io_read_bytes, 15);
	assert_int_equal(st.io_write_bytes, 20);
}

static void counters_parse_v1_and_v2_texts(void **state)
{
	(void)state;
	const char *v1[8] = { "42\n", "user 3\nsystem 1\n", "nr_periods 5\nnr_throttled 2\nthrottled_time 99\n",
			      "8192\n", "cache 1\nrss 2\ntotal_cache 10\ntotal_rss 20\ntotal_inactive_file 4\n",
			      "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "7\n", NULL };
	struct cgroup_stats st = { 0 };
	cg_parse_v1_counters(v1, &st);
	long hz = sysconf(_SC_CLK_TCK);
	assert_int_equal(st.cpu_usage_ns, 42);
	assert_int_equal(st.cpu_user_ns, 3 * (1000000000 / hz));
	assert_int_equal(st.cpu_system_ns, 1000000000 / hz);
	assert_int_equal(st.cpu_throttled_periods, 2);
	assert_int_equal(st.cpu_throttled_ns, 99);
	assert_int_equal(st.memory_usage, 8192);
	assert_int_equal(st.memory_cache, 10);
	assert_int_equal(st.memory_rss, 20);
	assert_int_equal(st.memory_inactive_file, 4);
	assert_int_equal(st.oom_kills, 3);
	assert_int_equal(st.pids_current, 7);
	const char *v2[8] = { NULL, NULL, "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_throttled 1\nthrottled_usec 4\n",
			      "4096\n", "anon 7\nfile 8\ninactive_file 6\n", "low 0\nmax 9\noom 1\noom_kill 2\n",
			      "3\n", NULL };
	memset(&st, 0, sizeof(st));
	cg_parse_v2_counters(v2, &st);
	assert_int_equal(st.cpu_usage_ns, 5000);
	assert_int_equal(st.cpu_user_ns, 3000);
	assert_int_equal(st.cpu_system_ns, 2000);
	assert_int_equal(st.cpu_throttled_periods, 1);
	assert_int_equal(st.cpu_throttled_ns, 4000);
	assert_int_equal(st.memory_usage, 4096);
	assert_int_equal(st.memory_rss, 7);
	assert_int_equal(st.memory_cache, 8);
	assert_int_equal(st.memory_inactive_file, 6);
	assert_int_equal(st.memory_failcnt, 9);
	assert_int_equal(st.oom_kills, 2);
	assert_int_equal(st.pids_current, 3);
}

static void fake_io_weight_is_asked_of_the_layout(void **state)
{
	struct fake *f = *state;
	struct sn_err e = { 0 };
	bool yes = true;
	/* v2: the root's controllers */
	touch(f->dir, "cgroup.controllers", "cpuset cpu memory pids\n");
	assert_int_equal(cgroup_io_weight_available(f->dir, CGROUP_V2, &yes, &e), 0);
	assert_false(yes);
	touch(f->dir, "cgroup.controllers", "cpuset cpu io memory pids\n");
	assert_int_equal(cgroup_io_weight_available(f->dir, CGROUP_V2, &yes, &e), 0);
	assert_true(yes);
	/* v1: a weight file in the blkio hierarchy (CFQ or BFQ); throttling alone is not one */
	touch(f->dir, "memory/memory.stat", "");
	touch(f->dir, "blkio/blkio.throttle.io_service_bytes", "");
	assert_int_equal(cgroup_io_weight_available(f->dir, CGROUP_V1, &yes, &e), 0);
	assert_false(yes);
	touch(f->dir, "blkio/blkio.bfq.weight", "100\n");
	assert_int_equal(cgroup_io_weight_available(f->dir, CGROUP_V1, &yes, &e), 0);
	assert_true(yes);
}

/* ------------------------------------------------------------ paths, json */

static void resolve_path_cases(void **state)
{
	struct sn_err e = { 0 };
	const char *self = "12:pids:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n";
	struct { const char *in, *want; } ok[] = {
		{ NULL, "/subrun/abc" },
		{ "", "/subrun/abc" },
		{ "/a/b", "/a/b" },
		{ "//a//./b/", "/a/b" },
		{ "rel/x", "/user.slice/session-1.scope/rel/x" },
		{ "system.slice:subrun:abc", "/system.slice/subrun-abc.scope" },
		{ "machine-vm.slice:libpod:abc", "/machine.slice/machine-vm.slice/libpod-abc.scope" },
		{ ":subrun:abc", "/system.slice/subrun-abc.scope" },
		{ "-.slice:subrun:abc", "/subrun-abc.scope" },
	};
	for (size_t i = 0; i < SN_ARRAY_SIZE(ok); i++) {
		_cleanup_free_ char *out = NULL;
		if (cg_resolve_path_in(ok[i].in, "abc", self, &out, &e) < 0)
			fail_msg("%s: %s", ok[i].in ? ok[i].in : "(null)", e.msg);
		assert_string_equal(out, ok[i].want);
	}
	const char *bad[] = { "/a/../b", "..", "rel/../../x", "/", "nosuffix:p:n", "system.slice:p:",
			      "a:b:c:d", "/a/..", };
	for (size_t i = 0; i < SN_ARRAY_SIZE(bad); i++) {
		char *out = NULL;
		if (cg_resolve_path_in(bad[i], "abc", self, &out, &e) != -EINVAL)
			fail_msg("`%s` was accepted as `%s`", bad[i], out ? out : "");
		assert_non_null(strstr(e.msg, bad[i]));
	}
	char *out = NULL;
	assert_int_equal(cg_resolve_path_in(NULL, "../x", self, &out, &e), -EINVAL);
	assert_int_equal(cg_resolve_path_in("a/..", "abc", self, &out, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "`..`"));
	/* v1-only /proc/self/cgroup: name=systemd is the reference */
	_cleanup_free_ char *v1 = NULL;
	assert_int_equal(cg_resolve_path_in("x", "abc", "4:memory:/m\n1:name=systemd:/s\n", &v1, &e), 0);
	assert_string_equal(v1, "/s/x");
	/* the real one works too */
	_cleanup_free_ char *real = NULL;
	assert_int_equal(cgroup_resolve_path("sub", "abc", &real, &e), 0);
	assert_true(real[0] == '/' && strstr(real, "/sub"));
}

static void json_round_trip_keeps_mode_root_path(void **state)
{
	enum cgroup_mode modes[] = { CGROUP_V1, CGROUP_V2, CGROUP_HYBRID };
	for (size_t i = 0; i < 3; i++) {
		struct cgroup *cg = NULL, *back = NULL;
		struct sn_err e = { 0 };
		assert_int_equal(cgroup_new("/x/cg", "/subrun/a", modes[i], &cg, &e), 0);
		json_t *j = cgroup_to_json(cg);
		assert_non_null(j);
		_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
		json_t *j2 = json_loads(s, 0, NULL);
		assert_int_equal(cgroup_from_json(j2, &back, &e), 0);
		assert_int_equal(back->mode, cg->mode);
		assert_string_equal(back->root, "/x/cg");
		assert_string_equal(back->path, "/subrun/a");
		json_decref(j);
		json_decref(j2);
		cgroup_free(cg);
		cgroup_free(back);
	}
	struct cgroup *cg = NULL;
	struct sn_err e = { 0 };
	json_t *bad = json_pack("{s:s, s:s, s:s}", "mode", "v3", "root", "/r", "path", "/p");
	assert_int_equal(cgroup_from_json(bad, &cg, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "v3"));
	json_decref(bad);
	bad = json_pack("{s:s, s:s, s:s}", "mode", "v2", "root", "/r", "path", "/p/../q");
	assert_int_equal(cgroup_from_json(bad, &cg, &e), -EINVAL);
	json_decref(bad);
}

static void detect_mode_of_this_host_and_fake_root(void **state)
{
	struct fake *f = *state;
	enum cgroup_mode m = 0;
	struct sn_err e = { 0 };
	assert_int_equal(cgroup_detect_mode("/sys/fs/cgroup", &m, &e), 0);
	assert_true(m == CGROUP_V1 || m == CGROUP_V2 || m == CGROUP_HYBRID);
	/* a plain directory is not v2 */
	assert_int_equal(cgroup_detect_mode(f->dir, &m, &e), 0);
	assert_int_equal(m, CGROUP_V1);
	assert_int_equal(cgroup_detect_mode("/nonexistent-sn", &m, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/nonexistent-sn"));
}

static void layout_from_mountinfo_handles_comount_names_and_escapes(void **state)
{
	struct fake *f = *state;
	_cleanup_free_ char *mi = sn_path_join(f->dir, "mountinfo");
	_cleanup_free_ char *text = NULL;
	const char *R = "/x/cg";
	assert_true(asprintf(&text,
		"31 23 0:28 / %s rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / %s/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
		"33 31 0:30 / %s/memory rw,relatime - cgroup cgroup rw,memory\n"
		"34 31 0:31 / %s/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
		"35 31 0:32 / %s/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
		"36 31 0:33 / %s/net\\040prio rw - cgroup cgroup rw,net_prio\n"
		"37 23 0:34 / /elsewhere/pids rw - cgroup cgroup rw,pids\n"
		"38 33 0:30 /sub %s/memory/deeper rw - cgroup cgroup rw,memory\n",
		R, R, R, R, R, R, R) > 0);
	struct sn_err e = { 0 };
	assert_int_equal(sn_write_file(mi, text, strlen(text), 0644, &e), 0);
	struct cg_layout l = { 0 };
	if (cg_layout_parse_mountinfo(&l, mi, R, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(l.n_v1, 4);
	const struct cg_hier *cpu = cg_v1_find(&l, "cpu"), *acct = cg_v1_find(&l, "cpuacct");
	assert_non_null(cpu);
	assert_ptr_equal(cpu, acct);
	assert_string_equal(cpu->dir, "/x/cg/cpu,cpuacct");
	assert_string_equal(cg_v1_find(&l, "memory")->dir, "/x/cg/memory");
	assert_non_null(cg_v1_find(&l, "name=systemd"));
	assert_null(cg_v1_find(&l, "xattr"));
	assert_string_equal(cg_v1_find(&l, "net_prio")->dir, "/x/cg/net prio");
	assert_null(cg_v1_find(&l, "pids"));   /* not under the root */
	_cleanup_free_ char *d = cg_v1_dir(&l, "cpuacct", "/subrun/a");
	assert_string_equal(d, "/x/cg/cpu,cpuacct/subrun/a");
	cg_layout_free(&l);
}

static void bpf_program_shape_for_rules(void **state)
{
	struct spec_device_rule dr[] = {
		{ false, 'a', -1, -1, "rwm" },
		{ true, 'c', 1, 5, "rwm" },
		{ true, 'c', 136, -1, "rw" },
	};
	_cleanup_free_ void *insns = NULL;
	size_t n = 0;
	struct sn_err e = { 0 };
	assert_int_equal(cg_bpf_build(dr, 3, &insns, &n, &e), 0);
	/* 8 prologue + (1) + (3+1) + (2+1) + 8 epilogue */
	assert_int_equal(n, 8 + 1 + 4 + 3 + 8);
	struct bpf_insn *p = insns;
	assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
	/* the "c 1:5" block: type check jumps over major, minor and the OR */
	assert_int_equal(p[9].code, BPF_JMP | BPF_JNE | BPF_K);
	assert_int_equal(p[9].imm, BPF_DEVCG_DEV_CHAR);
	assert_int_equal(p[9].off, 3);
	assert_int_equal(p[10].imm, 1);
	assert_int_equal(p[10].off, 2);
	assert_int_equal(p[11].imm, 5);
	assert_int_equal(p[11].off, 1);
	struct spec_device_rule bad[] = { { true, 'c', 1, 5, "rx" } };
	free(insns);
	insns = NULL;
	assert_int_equal(cg_bpf_build(bad, 1, &insns, &n, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "invalid access"));
}

#define FT(t) cmocka_unit_test_setup_teardown(t, fake_setup, fake_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FT(v2_fake_writes_every_conversion),
		FT(v2_fake_unlimited_values_write_max),
		cmocka_unit_test(v2_conversions_match_runc),
		FT(v2_fake_refuses_realtime_and_net_cls),
		FT(v2_fake_enables_needed_controller_in_parent),
		FT(v2_fake_create_failure_removes_made_dirs),
		FT(v1_fake_writes_blkio_hugetlb_net_and_devices),
		FT(v1_fake_unset_limits_write_nothing),
		FT(v1_fake_missing_hierarchy_for_set_limit_is_error),
		FT(v1_fake_stats_read_v1_files),
		FT(v2_fake_stats_read_v2_files),
		cmocka_unit_test(counters_parse_v1_and_v2_texts),
		FT(fake_io_weight_is_asked_of_the_layout),
		cmocka_unit_test(resolve_path_cases),
		cmocka_unit_test(json_round_trip_keeps_mode_root_path),
		FT(detect_mode_of_this_host_and_fake_root),
		cmocka_unit_test(bpf_program_shape_for_rules),
		FT(layout_from_mountinfo_handles_comount_names_and_escapes),
	};
	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
