/* cgroup_bpf.c — the cgroup v2 device filter: an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE, hand-assembled from the OCI device rules,
 * loaded and attached with the raw bpf(2) syscall (no libbpf).
 *
 * Semantics. The kernel calls the program with struct bpf_cgroup_dev_ctx
 * { access_type = type | access << 16, major, minor } and allows the access
 * when it returns 1. OCI rules are evaluated as the v1 devices controller
 * and runc do: the later rule wins, the default is deny. We evaluate that
 * *per access bit*: a register holds the set of allowed bits (m, r, w),
 * starting empty; every rule that matches the device's type/major/minor
 * sets its bits (allow) or clears them (deny); at the end the access is
 * allowed only when every requested bit is in the set. So "allow c 1:5 r"
 * then "allow c 1:5 w" allows an O_RDWR open, and "allow a rwm" then "deny
 * c 1:3 w" still allows reading /dev/null — the same answers v1 gives.
 * The program is straight-line (only forward jumps), its size linear in the
 * number of rules, so the verifier accepts any rule list.
 *
 *   r2 = ctx->access_type; r3 = r2 & 0xffff (type); r4 = r2 >> 16 (access)
 *   r5 = ctx->major; r6 = ctx->minor; r8 = 0 (allowed bits)
 *   per rule: [if r3 != T goto next] [if r5 != MAJ goto next]
 *             [if r6 != MIN goto next]  r8 |= bits | r8 &= ~bits
 *   r7 = (r8 ^ 7) & r4; return r7 == 0
 *
 * Attaching. BPF_F_ALLOW_MULTI, as runc and systemd do, so a program a
 * parent cgroup carries keeps working (all must allow). On update the new
 * program is attached first and the ones attached before are detached
 * after, so there is no moment without a filter. A program attached by
 * someone else without ALLOW_MULTI makes our attach fail (EPERM) and is
 * reported, not replaced.
 */
#include "runtime/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"

#define MAX_OLD_PROGS 64

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	return i;
}

#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define MOV_REG(dst, src) insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND_IMM(dst, imm) insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define AND_REG(dst, src) insn(BPF_ALU64 | BPF_AND | BPF_X, dst, src, 0, 0)
#define OR_IMM(dst, imm) insn(BPF_ALU64 | BPF_OR | BPF_K, dst, 0, 0, imm)
#define XOR_IMM(dst, imm) insn(BPF_ALU64 | BPF_XOR | BPF_K, dst, 0, 0, imm)
#define RSH_IMM(dst, imm) insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static int access_bits(const char *acc, const struct spec_device_rule *r, int *out,
		       struct sn_err *err)
{
	int bits = 0;
	if (!acc[0])
		acc = "rwm";
	for (const char *p = acc; *p; p++) {
		switch (*p) {
		case 'r': bits |= BPF_DEVCG_ACC_READ; break;
		case 'w': bits |= BPF_DEVCG_ACC_WRITE; break;
		case 'm': bits |= BPF_DEVCG_ACC_MKNOD; break;
		default:
			return sn_err_msg(err, EINVAL, "device rule `%c %" PRId64 ":%" PRId64
					  " %s`: invalid access `%c`", r->type, r->major, r->minor,
					  acc, *p);
		}
	}
	*out = bits;
	return 0;
}

int cg_bpf_build(const struct spec_device_rule *rules, size_t n_rules,
		 void **insns_out, size_t *n_out, struct sn_err *err)
{
	size_t cap = 7 + n_rules * 4 + 8;
	_cleanup_free_ struct bpf_insn *p = calloc(cap, sizeof(*p));
	if (!p)
		return sn_err_set(err, ENOMEM, "device filter");
	size_t n = 0;
	p[n++] = LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[n++] = MOV_REG(BPF_REG_3, BPF_REG_2);
	p[n++] = AND_IMM(BPF_REG_3, 0xffff);
	p[n++] = MOV_REG(BPF_REG_4, BPF_REG_2);
	p[n++] = RSH_IMM(BPF_REG_4, 16);
	p[n++] = LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major));
	p[n++] = LDX_W(BPF_REG_6, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor));
	p[n++] = MOV_IMM(BPF_REG_8, 0);
	for (size_t i = 0; i < n_rules; i++) {
		const struct spec_device_rule *r = &rules[i];
		int bits = 0, r2;
		if ((r2 = access_bits(r->access, r, &bits, err)) < 0)
			return r2;
		int type;
		switch (r->type) {
		case 'a': case 0: type = 0; break;
		case 'c': type = BPF_DEVCG_DEV_CHAR; break;
		case 'b': type = BPF_DEVCG_DEV_BLOCK; break;
		default:
			return sn_err_msg(err, EINVAL, "device rule: invalid type `%c`", r->type);
		}
		bool any = type == 0;  /* "a" matches every device, whatever major:minor */
		if (!any && (r->major > INT32_MAX || r->minor > INT32_MAX))
			return sn_err_msg(err, EINVAL, "device rule `%c %" PRId64 ":%" PRId64
					  "`: number out of range", r->type, r->major, r->minor);
		int checks = any ? 0 : 1 + (r->major >= 0) + (r->minor >= 0);
		/* each jump skips the remaining checks and the one ALU op */
		int left = checks;
		if (!any) {
			p[n++] = JNE_IMM(BPF_REG_3, type, (int16_t)left--);
			if (r->major >= 0)
				p[n++] = JNE_IMM(BPF_REG_5, (int32_t)r->major, (int16_t)left--);
			if (r->minor >= 0)
				p[n++] = JNE_IMM(BPF_REG_6, (int32_t)r->minor, (int16_t)left--);
		}
		if (r->allow)
			p[n++] = OR_IMM(BPF_REG_8, bits);
		else
			p[n++] = AND_IMM(BPF_REG_8, ACC_ALL & ~bits);
	}
	p[n++] = MOV_REG(BPF_REG_7, BPF_REG_8);
	p[n++] = XOR_IMM(BPF_REG_7, ACC_ALL);
	p[n++] = AND_REG(BPF_REG_7, BPF_REG_4);
	p[n++] = JNE_IMM(BPF_REG_7, 0, 2);
	p[n++] = MOV_IMM(BPF_REG_0, 1);
	p[n++] = EXIT();
	p[n++] = MOV_IMM(BPF_REG_0, 0);
	p[n++] = EXIT();
	*insns_out = steal_ptr(p);
	*n_out = n;
	return 0;
}

static int load_prog(const struct bpf_insn *insns, size_t n, struct sn_err *err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)"GPL";
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e != EINVAL && e != EACCES)
		return sn_err_set(err, e, "bpf(BPF_PROG_LOAD) of the device filter (%zu insns)", n);
	/* the verifier said no: load again with its log for the message */
	_cleanup_free_ char *log = calloc(1, 16384);
	if (log) {
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = 16384;
		a.log_level = 1;
		fd = sys_bpf(BPF_PROG_LOAD, &a);
		if (fd >= 0)
			return fd;
		size_t l = strlen(log);
		while (l > 0 && log[l - 1] == '\n')
			log[--l] = '\0';
		const char *last = strrchr(log, '\n');
		return sn_err_msg(err, e, "bpf(BPF_PROG_LOAD) of the device filter: %s: %s",
				  strerror(e), last ? last + 1 : log);
	}
	return sn_err_set(err, e, "bpf(BPF_PROG_LOAD) of the device filter");
}

static int query_ids(int cgfd, const char *dir, uint32_t *ids, uint32_t *cnt,
		     struct sn_err *err)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = *cnt;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return sn_err_sys(err, "bpf(BPF_PROG_QUERY) on `%s`", dir);
	*cnt = a.query.prog_cnt;
	return 0;
}

int cg_bpf_count(const char *dir, uint32_t *count, struct sn_err *err)
{
	_cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return sn_err_sys(err, "open `%s`", dir);
	uint32_t ids[MAX_OLD_PROGS];
	*count = MAX_OLD_PROGS;
	return query_ids(cgfd, dir, ids, count, err);
}

int cg_bpf_apply_devices(const char *dir, const struct spec_device_rule *rules,
			 size_t n_rules, struct sn_err *err)
{
	_cleanup_free_ void *insns = NULL;
	size_t n = 0;
	int r = cg_bpf_build(rules, n_rules, &insns, &n, err);
	if (r < 0)
		return r;
	_cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return sn_err_sys(err, "open `%s`", dir);
	uint32_t old[MAX_OLD_PROGS];
	uint32_t n_old = MAX_OLD_PROGS;
	if ((r = query_ids(cgfd, dir, old, &n_old, err)) < 0)
		return r;
	_cleanup_close_ int prog = load_prog(insns, n, err);
	if (prog < 0)
		return prog;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return sn_err_sys(err, "bpf(BPF_PROG_ATTACH) device filter to `%s`", dir);
	for (uint32_t i = 0; i < n_old; i++) {
		union bpf_attr g;
		memset(&g, 0, sizeof(g));
		g.prog_id = old[i];
		_cleanup_close_ int ofd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
		if (ofd < 0) {
			if (errno == ENOENT)
				continue;
			return sn_err_sys(err, "bpf(BPF_PROG_GET_FD_BY_ID %" PRIu32 ") for `%s`",
					  old[i], dir);
		}
		union bpf_attr d;
		memset(&d, 0, sizeof(d));
		d.target_fd = (uint32_t)cgfd;
		d.attach_bpf_fd = (uint32_t)ofd;
		d.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT)
			return sn_err_sys(err, "bpf(BPF_PROG_DETACH) old device filter %" PRIu32
					  " from `%s`", old[i], dir);
	}
	return 0;
}
