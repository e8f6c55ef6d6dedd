/* spec_linux.c — the `linux` object of config.json: namespaces, id maps,
 * devices, cgroupsPath, resources, sysctl, seccomp, propagation, masked and
 * read-only paths, time offsets, personality. See spec.h for conventions. */
#include "runtime/spec_internal.h"
#include "base/cleanup.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <seccomp.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int parse_namespaces(json_t *lx, struct spec_linux *l, struct sn_err *err)
{
	json_t *a;
	int r = sn_json_array(lx, "linux", "namespaces", &a, err);
	if (r <= 0)
		return r;
	size_t n = json_array_size(a);
	l->namespaces = spec_calloc(n, sizeof(*l->namespaces));
	if (!l->namespaces)
		return sn_err_set(err, ENOMEM, "linux.namespaces");
	for (size_t i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "linux.namespaces[%zu]", i);
		json_t *e = json_array_get(a, i);
		struct spec_namespace *ns = &l->namespaces[i];
		l->n_namespaces = i + 1;
		if (!json_is_object(e))
			return sn_err_msg(err, EINVAL, "%s: must be an object", p);
		const char *type = NULL;
		if ((r = sn_json_string(e, p, "type", &type, err)) < 0)
			return r;
		if (!type)
			return sn_err_msg(err, EINVAL, "%s.type: required", p);
		ns->type = spec_namespace_from_name(type);
		if (!ns->type)
			return sn_err_msg(err, EINVAL, "%s.type: unknown namespace \"%s\"", p, type);
		for (size_t j = 0; j < i; j++)
			if (l->namespaces[j].type == ns->type)
				return sn_err_msg(err, EINVAL, "%s.type: namespace \"%s\" given twice", p, type);
		if ((r = spec_dup_string(e, p, "path", &ns->path, err)) < 0)
			return r;
		if (ns->path && ns->path[0] != '/')
			return sn_err_msg(err, EINVAL, "%s.path: `%s` must be an absolute path", p, ns->path);
	}
	return 0;
}

static int parse_devices(json_t *lx, struct spec_linux *l, struct sn_err *err)
{
	json_t *a;
	int r = sn_json_array(lx, "linux", "devices", &a, err);
	if (r <= 0)
		return r;
	size_t n = json_array_size(a);
	l->devices = spec_calloc(n, sizeof(*l->devices));
	if (!l->devices)
		return sn_err_set(err, ENOMEM, "linux.devices");
	for (size_t i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "linux.devices[%zu]", i);
		json_t *e = json_array_get(a, i);
		struct spec_device *d = &l->devices[i];
		l->n_devices = i + 1;
		if (!json_is_object(e))
			return sn_err_msg(err, EINVAL, "%s: must be an object", p);
		const char *type = NULL;
		if ((r = sn_json_string(e, p, "type", &type, err)) < 0)
			return r;
		if (!type || strlen(type) != 1 || !strchr("cubp", type[0]))
			return sn_err_msg(err, EINVAL, "%s.type: must be one of c, u, b, p", p);
		d->type = type[0];
		if ((r = spec_dup_string(e, p, "path", &d->path, err)) < 0)
			return r;
		if (!d->path || d->path[0] != '/')
			return sn_err_msg(err, EINVAL, "%s.path: required, an absolute path", p);
		if ((r = spec_opt_i64(e, p, "major", &d->major, err)) < 0 ||
		    (r = spec_opt_i64(e, p, "minor", &d->minor, err)) < 0 ||
		    (r = spec_opt_i64(e, p, "fileMode", &d->file_mode, err)) < 0 ||
		    (r = spec_opt_i64(e, p, "uid", &d->uid, err)) < 0 ||
		    (r = spec_opt_i64(e, p, "gid", &d->gid, err)) < 0)
			return r;
		if (d->type != 'p' && (d->major == SPEC_UNSET || d->minor == SPEC_UNSET))
			return sn_err_msg(err, EINVAL, "%s: major and minor are required for type %c", p, d->type);
		if (d->file_mode != SPEC_UNSET && (d->file_mode < 0 || d->file_mode > 07777))
			return sn_err_msg(err, EINVAL, "%s.fileMode: not a file mode", p);
	}
	return 0;
}

/* ------------------------------------------------------------ resources */

static int parse_device_rules(json_t *res, const char *path, struct spec_resources *rs,
			      struct sn_err *err)
{
	json_t *a;
	int r = sn_json_array(res, path, "devices", &a, err);
	if (r <= 0)
		return r;
	size_t n = json_array_size(a);
	rs->devices = spec_calloc(n, sizeof(*rs->devices));
	if (!rs->devices)
		return sn_err_set(err, ENOMEM, "%s.devices", path);
	for (size_t i = 0; i < n; i++) {
		char p[96];
		snprintf(p, sizeof(p), "%s.devices[%zu]", path, i);
		json_t *e = json_array_get(a, i);
		struct spec_device_rule *d = &rs->devices[i];
		rs->n_devices = i + 1;
		if (!json_is_object(e))
			return sn_err_msg(err, EINVAL, "%s: must be an object", p);
		if ((r = sn_json_bool(e, p, "allow", &d->allow, err)) < 0)
			return r;
		if (r == 0)
			return sn_err_msg(err, EINVAL, "%s.allow: required", p);
		const char *type = "a", *access = "rwm";
		if ((r = sn_json_string(e, p, "type", &type, err)) < 0 ||
		    (r = sn_json_string(e, p, "access", &access, err)) < 0)
			return r;
		if (strlen(type) != 1 || !strchr("acb", type[0]))
			return sn_err_msg(err, EINVAL, "%s.type: must be a, c or b", p);
		d->type = type[0];
		if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
			return sn_err_msg(err, EINVAL, "%s.access: \"%s\" is not a subset of rwm", p, access);
		snprintf(d->access, sizeof(d->access), "%s", access);
		if ((r = spec_opt_i64(e, p, "major", &d->major, err)) < 0 ||
		    (r = spec_opt_i64(e, p, "minor", &d->minor, err)) < 0)
			return r;
		if (d->major == SPEC_UNSET)
			d->major = -1;
		if (d->minor == SPEC_UNSET)
			d->minor = -1;
	}
	return 0;
}

static int parse_memory(json_t *res, const char *path, struct spec_memory *m,
			struct sn_err *err)
{
	json_t *o;
	char p[96];
	m->limit = m->reservation = m->swap = m->kernel = m->kernel_tcp = m->swappiness = SPEC_UNSET;
	int r = sn_json_object(res, path, "memory", &o, err);
	if (r <= 0)
		return r;
	P(p, path, "memory");
	uint64_t sw;
	if ((r = spec_opt_i64(o, p, "limit", &m->limit, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "reservation", &m->reservation, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "swap", &m->swap, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "kernel", &m->kernel, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "kernelTCP", &m->kernel_tcp, err)) < 0)
		return r;
	if ((r = sn_json_uint(o, p, "swappiness", &sw, err)) < 0)
		return r;
	if (r == 1) {
		/* runc/docker use -1 (as uint64 max) for "unset" */
		if (sw == UINT64_MAX)
			m->swappiness = SPEC_UNSET;
		else if (sw > 100)
			return sn_err_msg(err, EINVAL, "%s.swappiness: %llu is above 100", p,
					  (unsigned long long)sw);
		else
			m->swappiness = (int64_t)sw;
	}
	if ((r = sn_json_bool(o, p, "disableOOMKiller", &m->disable_oom_killer, err)) < 0)
		return r;
	m->has_disable_oom_killer = r == 1;
	if ((r = sn_json_bool(o, p, "useHierarchy", &m->use_hierarchy, err)) < 0)
		return r;
	m->has_use_hierarchy = r == 1;
	if ((r = sn_json_bool(o, p, "checkBeforeUpdate", &m->check_before_update, err)) < 0)
		return r;
	if (m->limit != SPEC_UNSET && m->limit < -1)
		return sn_err_msg(err, EINVAL, "%s.limit: must be -1 (unlimited) or a byte count", p);
	if (m->limit > 0 && m->swap > 0 && m->swap < m->limit)
		return sn_err_msg(err, EINVAL, "%s.swap: %lld is below the memory limit %lld (swap counts memory + swap)",
				  p, (long long)m->swap, (long long)m->limit);
	return 0;
}

static int parse_cpu(json_t *res, const char *path, struct spec_cpu *c, struct sn_err *err)
{
	json_t *o;
	char p[96];
	c->shares = c->quota = c->period = c->realtime_runtime = c->realtime_period =
		c->burst = c->idle = SPEC_UNSET;
	int r = sn_json_object(res, path, "cpu", &o, err);
	if (r <= 0)
		return r;
	P(p, path, "cpu");
	if ((r = spec_opt_i64(o, p, "shares", &c->shares, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "quota", &c->quota, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "period", &c->period, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "realtimeRuntime", &c->realtime_runtime, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "realtimePeriod", &c->realtime_period, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "burst", &c->burst, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "idle", &c->idle, err)) < 0 ||
	    (r = spec_dup_string(o, p, "cpus", &c->cpus, err)) < 0 ||
	    (r = spec_dup_string(o, p, "mems", &c->mems, err)) < 0)
		return r;
	if (c->shares != SPEC_UNSET && c->shares < 0)
		return sn_err_msg(err, EINVAL, "%s.shares: must not be negative", p);
	if (c->period != SPEC_UNSET && c->period < 0)
		return sn_err_msg(err, EINVAL, "%s.period: must not be negative", p);
	return 0;
}

static int parse_throttle(json_t *o, const char *path, const char *key,
			  struct spec_throttle_device **out, size_t *n, struct sn_err *err)
{
	json_t *a;
	char p[128];
	int r = sn_json_array(o, path, key, &a, err);
	if (r <= 0)
		return r;
	size_t len = json_array_size(a);
	*out = spec_calloc(len, sizeof(**out));
	if (!*out)
		return sn_err_set(err, ENOMEM, "%s.%s", path, key);
	for (size_t i = 0; i < len; i++) {
		snprintf(p, sizeof(p), "%s.%s[%zu]", path, key, i);
		json_t *e = json_array_get(a, i);
		struct spec_throttle_device *t = &(*out)[i];
		*n = i + 1;
		if (!json_is_object(e))
			return sn_err_msg(err, EINVAL, "%s: must be an object", p);
		if ((r = spec_opt_i64(e, p, "major", &t->major, err)) < 0 ||
		    (r = spec_opt_i64(e, p, "minor", &t->minor, err)) < 0)
			return r;
		if (t->major == SPEC_UNSET || t->minor == SPEC_UNSET)
			return sn_err_msg(err, EINVAL, "%s: major and minor are required", p);
		if ((r = sn_json_uint(e, p, "rate", &t->rate, err)) < 0)
			return r;
		if (r == 0)
			return sn_err_msg(err, EINVAL, "%s.rate: required", p);
	}
	return 0;
}

static int parse_blockio(json_t *res, const char *path, struct spec_resources *rs,
			 struct sn_err *err)
{
	json_t *o, *a;
	char p[96];
	struct spec_blockio *b = &rs->blockio;
	b->weight = b->leaf_weight = SPEC_UNSET;
	int r = sn_json_object(res, path, "blockIO", &o, err);
	if (r <= 0)
		return r;
	rs->has_blockio = true;
	P(p, path, "blockIO");
	if ((r = spec_opt_i64(o, p, "weight", &b->weight, err)) < 0 ||
	    (r = spec_opt_i64(o, p, "leafWeight", &b->leaf_weight, err)) < 0)
		return r;
	if (b->weight != SPEC_UNSET && b->weight != 0 && (b->weight < 10 || b->weight > 1000))
		return sn_err_msg(err, EINVAL, "%s.weight: %lld is outside 10..1000", p, (long long)b->weight);
	if ((r = sn_json_array(o, p, "weightDevice", &a, err)) < 0)
		return r;
	if (r == 1) {
		size_t n = json_array_size(a);
		b->weight_devices = spec_calloc(n, sizeof(*b->weight_devices));
		if (!b->weight_devices)
			return sn_err_set(err, ENOMEM, "%s.weightDevice", p);
		for (size_t i = 0; i < n; i++) {
			char pi[128];
			snprintf(pi, sizeof(pi), "%s.weightDevice[%zu]", p, i);
			json_t *e = json_array_get(a, i);
			struct spec_weight_device *w = &b->weight_devices[i];
			b->n_weight_devices = i + 1;
			if (!json_is_object(e))
				return sn_err_msg(err, EINVAL, "%s: must be an object", pi);
			if ((r = spec_opt_i64(e, pi, "major", &w->major, err)) < 0 ||
			    (r = spec_opt_i64(e, pi, "minor", &w->minor, err)) < 0 ||
			    (r = spec_opt_i64(e, pi, "weight", &w->weight, err)) < 0 ||
			    (r = spec_opt_i64(e, pi, "leafWeight", &w->leaf_weight, err)) < 0)
				return r;
			if (w->major == SPEC_UNSET || w->minor == SPEC_UNSET)
				return sn_err_msg(err, EINVAL, "%s: major and minor are required", pi);
		}
	}
	if ((r = parse_throttle(o, p, "throttleReadBpsDevice", &b->throttle_read_bps,
				&b->n_throttle_read_bps, err)) < 0 ||
	    (r = parse_throttle(o, p, "throttleWriteBpsDevice", &b->throttle_write_bps,
				&b->n_throttle_write_bps, err)) < 0 ||
	    (r = parse_throttle(o, p, "throttleReadIOPSDevice", &b->throttle_read_iops,
				&b->n_throttle_read_iops, err)) < 0 ||
	    (r = parse_throttle(o, p, "throttleWriteIOPSDevice", &b->throttle_write_iops,
				&b->n_throttle_write_iops, err)) < 0)
		return r;
	return 0;
}

static int parse_resources(json_t *res, const char *path, struct spec_resources *rs,
			   struct sn_err *err)
{
	memset(rs, 0, sizeof(*rs));
	rs->pids_limit = SPEC_UNSET;
	rs->net_class_id = SPEC_UNSET;
	int r;
	json_t *o, *a;
	char p[96];
	if ((r = parse_device_rules(res, path, rs, err)) < 0 ||
	    (r = parse_memory(res, path, &rs->memory, err)) < 0 ||
	    (r = parse_cpu(res, path, &rs->cpu, err)) < 0 ||
	    (r = parse_blockio(res, path, rs, err)) < 0)
		return r;
	if ((r = sn_json_object(res, path, "pids", &o, err)) < 0)
		return r;
	if (r == 1) {
		if ((r = spec_opt_i64(o, P(p, path, "pids"), "limit", &rs->pids_limit, err)) < 0)
			return r;
		if (rs->pids_limit == SPEC_UNSET)
			return sn_err_msg(err, EINVAL, "%s.pids.limit: required", path);
	}
	if ((r = sn_json_array(res, path, "hugepageLimits", &a, err)) < 0)
		return r;
	if (r == 1) {
		size_t n = json_array_size(a);
		rs->hugepage_limits = spec_calloc(n, sizeof(*rs->hugepage_limits));
		if (!rs->hugepage_limits)
			return sn_err_set(err, ENOMEM, "%s.hugepageLimits", path);
		for (size_t i = 0; i < n; i++) {
			char pi[128];
			snprintf(pi, sizeof(pi), "%s.hugepageLimits[%zu]", path, i);
			json_t *e = json_array_get(a, i);
			rs->n_hugepage_limits = i + 1;
			if (!json_is_object(e))
				return sn_err_msg(err, EINVAL, "%s: must be an object", pi);
			if ((r = spec_dup_string(e, pi, "pageSize", &rs->hugepage_limits[i].page_size, err)) < 0)
				return r;
			if (r == 0)
				return sn_err_msg(err, EINVAL, "%s.pageSize: required", pi);
			if ((r = sn_json_uint(e, pi, "limit", &rs->hugepage_limits[i].limit, err)) < 0)
				return r;
			if (r == 0)
				return sn_err_msg(err, EINVAL, "%s.limit: required", pi);
		}
	}
	if ((r = sn_json_object(res, path, "network", &o, err)) < 0)
		return r;
	if (r == 1) {
		P(p, path, "network");
		if ((r = spec_opt_i64(o, p, "classID", &rs->net_class_id, err)) < 0)
			return r;
		if ((r = sn_json_array(o, p, "priorities", &a, err)) < 0)
			return r;
		if (r == 1) {
			size_t n = json_array_size(a);
			rs->net_priorities = spec_calloc(n, sizeof(*rs->net_priorities));
			if (!rs->net_priorities)
				return sn_err_set(err, ENOMEM, "%s.priorities", p);
			for (size_t i = 0; i < n; i++) {
				char pi[128];
				snprintf(pi, sizeof(pi), "%s.priorities[%zu]", p, i);
				json_t *e = json_array_get(a, i);
				rs->n_net_priorities = i + 1;
				uint64_t prio = 0;
				if (!json_is_object(e))
					return sn_err_msg(err, EINVAL, "%s: must be an object", pi);
				if ((r = spec_dup_string(e, pi, "name", &rs->net_priorities[i].name, err)) < 0)
					return r;
				if (r == 0)
					return sn_err_msg(err, EINVAL, "%s.name: required", pi);
				if ((r = sn_json_uint(e, pi, "priority", &prio, err)) < 0)
					return r;
				rs->net_priorities[i].priority = (uint32_t)prio;
			}
		}
	}
	if ((r = sn_json_object(res, path, "unified", &o, err)) < 0)
		return r;
	if (r == 1) {
		size_t n = json_object_size(o), i = 0;
		rs->unified = spec_calloc(n, sizeof(*rs->unified));
		if (!rs->unified)
			return sn_err_set(err, ENOMEM, "%s.unified", path);
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v) {
			if (!json_is_string(v))
				return sn_err_msg(err, EINVAL, "%s.unified.%s: must be a string", path, k);
			if (strchr(k, '/') || k[0] == '.')
				return sn_err_msg(err, EINVAL, "%s.unified: bad file name `%s`", path, k);
			rs->unified[i].key = strdup(k);
			rs->unified[i].value = strdup(json_string_value(v));
			rs->n_unified = ++i;
			if (!rs->unified[i - 1].key || !rs->unified[i - 1].value)
				return sn_err_set(err, ENOMEM, "%s.unified", path);
		}
	}
	return 0;
}

/* On failure what was parsed is freed: callers (`subrun update -r`) free
 * the resources only on success. */
int spec_parse_resources(json_t *res, const char *path, struct spec_resources *rs,
			 struct sn_err *err)
{
	int r = parse_resources(res, path, rs, err);
	if (r < 0)
		spec_resources_free(rs);
	return r;
}

void spec_resources_free(struct spec_resources *r)
{
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->blockio.weight_devices);
	free(r->blockio.throttle_read_bps);
	free(r->blockio.throttle_write_bps);
	free(r->blockio.throttle_read_iops);
	free(r->blockio.throttle_write_iops);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	for (size_t i = 0; i < r->n_net_priorities; i++)
		free(r->net_priorities[i].name);
	free(r->net_priorities);
	for (size_t i = 0; i < r->n_unified; i++) {
		free(r->unified[i].key);
		free(r->unified[i].value);
	}
	free(r->unified);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ seccomp */

static const struct { const char *name; int op; } seccomp_ops[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static int parse_arch(const char *name, uint32_t *out)
{
	if (strncmp(name, "SCMP_ARCH_", 10) != 0)
		return -1;
	char low[64];
	size_t n = 0;
	for (const char *c = name + 10; *c && n < sizeof(low) - 1; c++)
		low[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
	low[n] = '\0';
	uint32_t a = seccomp_arch_resolve_name(low);
	if (a == 0)
		return -1;
	*out = a;
	return 0;
}

static int parse_seccomp(json_t *lx, struct spec_linux *l, struct sn_err *err)
{
	json_t *o, *a;
	int r = sn_json_object(lx, "linux", "seccomp", &o, err);
	if (r <= 0)
		return r;
	const char *p = "linux.seccomp";
	struct spec_seccomp *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return sn_err_set(err, ENOMEM, "%s", p);
	l->seccomp = sc;
	const char *s = NULL;
	if ((r = sn_json_string(o, p, "defaultAction", &s, err)) < 0)
		return r;
	if (!s)
		return sn_err_msg(err, EINVAL, "%s.defaultAction: required", p);
	if (spec_seccomp_action_from_name(s, &sc->default_action) < 0)
		return sn_err_msg(err, EINVAL, "%s.defaultAction: unknown action \"%s\"", p, s);
	if ((r = spec_opt_i64(o, p, "defaultErrnoRet", &sc->default_errno_ret, err)) < 0)
		return r;
	if ((r = sn_json_array(o, p, "architectures", &a, err)) < 0)
		return r;
	if (r == 1) {
		sc->architectures = spec_calloc(json_array_size(a), sizeof(uint32_t));
		if (!sc->architectures)
			return sn_err_set(err, ENOMEM, "%s.architectures", p);
		for (size_t i = 0; i < json_array_size(a); i++) {
			json_t *e = json_array_get(a, i);
			if (!json_is_string(e) || parse_arch(json_string_value(e), &sc->architectures[i]) < 0)
				return sn_err_msg(err, EINVAL, "%s.architectures[%zu]: unknown architecture %s",
						  p, i, json_is_string(e) ? json_string_value(e) : "(not a string)");
			sc->n_architectures = i + 1;
		}
	}
	if ((r = sn_json_strv(o, p, "flags", &sc->flags, &sc->n_flags, err)) < 0)
		return r;
	for (size_t i = 0; i < sc->n_flags; i++)
		if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_TSYNC") != 0 &&
		    strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_LOG") != 0 &&
		    strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") != 0 &&
		    strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") != 0)
			return sn_err_msg(err, EINVAL, "%s.flags[%zu]: unknown flag \"%s\"", p, i, sc->flags[i]);
	if ((r = spec_dup_string(o, p, "listenerPath", &sc->listener_path, err)) < 0 ||
	    (r = spec_dup_string(o, p, "listenerMetadata", &sc->listener_metadata, err)) < 0)
		return r;
	if ((r = sn_json_array(o, p, "syscalls", &a, err)) < 0)
		return r;
	bool uses_notify = sc->default_action == SCMP_ACT_NOTIFY;
	if (r == 1) {
		size_t n = json_array_size(a);
		sc->syscalls = spec_calloc(n, sizeof(*sc->syscalls));
		if (!sc->syscalls)
			return sn_err_set(err, ENOMEM, "%s.syscalls", p);
		for (size_t i = 0; i < n; i++) {
			char pi[96];
			snprintf(pi, sizeof(pi), "%s.syscalls[%zu]", p, i);
			json_t *e = json_array_get(a, i), *args;
			struct spec_seccomp_rule *rule = &sc->syscalls[i];
			sc->n_syscalls = i + 1;
			rule->errno_ret = SPEC_UNSET;
			if (!json_is_object(e))
				return sn_err_msg(err, EINVAL, "%s: must be an object", pi);
			if ((r = sn_json_strv(e, pi, "names", &rule->names, &rule->n_names, err)) < 0)
				return r;
			if (rule->n_names == 0)
				return sn_err_msg(err, EINVAL, "%s.names: required and must not be empty", pi);
			s = NULL;
			if ((r = sn_json_string(e, pi, "action", &s, err)) < 0)
				return r;
			if (!s)
				return sn_err_msg(err, EINVAL, "%s.action: required", pi);
			if (spec_seccomp_action_from_name(s, &rule->action) < 0)
				return sn_err_msg(err, EINVAL, "%s.action: unknown action \"%s\"", pi, s);
			uses_notify |= rule->action == SCMP_ACT_NOTIFY;
			if ((r = spec_opt_i64(e, pi, "errnoRet", &rule->errno_ret, err)) < 0)
				return r;
			if ((r = sn_json_array(e, pi, "args", &args, err)) < 0)
				return r;
			if (r == 0)
				continue;
			size_t na = json_array_size(args);
			rule->args = spec_calloc(na, sizeof(*rule->args));
			if (!rule->args)
				return sn_err_set(err, ENOMEM, "%s.args", pi);
			for (size_t j = 0; j < na; j++) {
				char pa[128];
				snprintf(pa, sizeof(pa), "%s.args[%zu]", pi, j);
				json_t *ea = json_array_get(args, j);
				struct spec_seccomp_arg *sa = &rule->args[j];
				rule->n_args = j + 1;
				uint64_t idx = 0;
				if (!json_is_object(ea))
					return sn_err_msg(err, EINVAL, "%s: must be an object", pa);
				if ((r = sn_json_uint(ea, pa, "index", &idx, err)) < 0)
					return r;
				if (r == 0 || idx > 5)
					return sn_err_msg(err, EINVAL, "%s.index: required, 0..5", pa);
				sa->index = (unsigned)idx;
				if ((r = sn_json_uint(ea, pa, "value", &sa->value, err)) < 0)
					return r;
				if (r == 0)
					return sn_err_msg(err, EINVAL, "%s.value: required", pa);
				if ((r = sn_json_uint(ea, pa, "valueTwo", &sa->value_two, err)) < 0)
					return r;
				s = NULL;
				if ((r = sn_json_string(ea, pa, "op", &s, err)) < 0)
					return r;
				if (!s)
					return sn_err_msg(err, EINVAL, "%s.op: required", pa);
				sa->op = 0;
				for (size_t k = 0; k < SN_ARRAY_SIZE(seccomp_ops); k++)
					if (strcmp(s, seccomp_ops[k].name) == 0)
						sa->op = seccomp_ops[k].op;
				if (!sa->op)
					return sn_err_msg(err, EINVAL, "%s.op: unknown operator \"%s\"", pa, s);
			}
		}
	}
	if (uses_notify && !sc->listener_path)
		return sn_err_msg(err, EINVAL, "%s.listenerPath: required when SCMP_ACT_NOTIFY is used", p);
	return 0;
}

static void seccomp_free(struct spec_seccomp *sc)
{
	if (!sc)
		return;
	free(sc->architectures);
	sn_strv_free(sc->flags);
	free(sc->listener_path);
	free(sc->listener_metadata);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		sn_strv_free(sc->syscalls[i].names);
		free(sc->syscalls[i].args);
	}
	free(sc->syscalls);
	free(sc);
}

/* ------------------------------------------------------------ the rest */

static unsigned long propagation_from_name(const char *s)
{
	static const struct { const char *n; unsigned long f; } t[] = {
		{ "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
		{ "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
		{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};
	for (size_t i = 0; i < SN_ARRAY_SIZE(t); i++)
		if (strcmp(s, t[i].n) == 0)
			return t[i].f;
	return 0;
}

static int parse_abs_paths(json_t *lx, const char *key, char ***out, size_t *n,
			   struct sn_err *err)
{
	int r = sn_json_strv(lx, "linux", key, out, n, err);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < *n; i++)
		if ((*out)[i][0] != '/')
			return sn_err_msg(err, EINVAL, "linux.%s[%zu]: `%s` must be an absolute path",
					  key, i, (*out)[i]);
	return 0;
}

int spec_parse_linux(json_t *lx, const char *path, struct spec *s, struct sn_err *err)
{
	struct spec_linux *l = &s->linux_;
	json_t *o;
	int r;
	if ((r = parse_namespaces(lx, l, err)) < 0 ||
	    (r = spec_parse_id_maps(lx, path, "uidMappings", &l->uid_mappings, &l->n_uid_mappings, err)) < 0 ||
	    (r = spec_parse_id_maps(lx, path, "gidMappings", &l->gid_mappings, &l->n_gid_mappings, err)) < 0 ||
	    (r = parse_devices(lx, l, err)) < 0 ||
	    (r = spec_dup_string(lx, path, "cgroupsPath", &l->cgroups_path, err)) < 0)
		return r;
	if ((r = sn_json_object(lx, path, "resources", &o, err)) < 0)
		return r;
	if (r == 1) {
		l->has_resources = true;
		if ((r = spec_parse_resources(o, "linux.resources", &l->resources, err)) < 0)
			return r;
	} else {
		spec_parse_resources(NULL, "", &l->resources, NULL);
	}
	if ((r = sn_json_object(lx, path, "sysctl", &o, err)) < 0)
		return r;
	if (r == 1) {
		size_t n = json_object_size(o), i = 0;
		l->sysctl = spec_calloc(n, sizeof(*l->sysctl));
		if (!l->sysctl)
			return sn_err_set(err, ENOMEM, "linux.sysctl");
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v) {
			if (!json_is_string(v))
				return sn_err_msg(err, EINVAL, "linux.sysctl.%s: must be a string", k);
			if (!*k || strstr(k, "..") || k[0] == '/' || k[0] == '.')
				return sn_err_msg(err, EINVAL, "linux.sysctl: bad key `%s`", k);
			l->sysctl[i].key = strdup(k);
			l->sysctl[i].value = strdup(json_string_value(v));
			l->n_sysctl = ++i;
			if (!l->sysctl[i - 1].key || !l->sysctl[i - 1].value)
				return sn_err_set(err, ENOMEM, "linux.sysctl");
		}
	}
	if ((r = parse_seccomp(lx, l, err)) < 0)
		return r;
	const char *prop = NULL;
	if ((r = sn_json_string(lx, path, "rootfsPropagation", &prop, err)) < 0)
		return r;
	if (prop && *prop) {
		l->rootfs_propagation = propagation_from_name(prop);
		if (!l->rootfs_propagation)
			return sn_err_msg(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"", prop);
	}
	if ((r = parse_abs_paths(lx, "maskedPaths", &l->masked_paths, &l->n_masked_paths, err)) < 0 ||
	    (r = parse_abs_paths(lx, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths, err)) < 0 ||
	    (r = spec_dup_string(lx, path, "mountLabel", &l->mount_label, err)) < 0)
		return r;
	if ((r = sn_json_object(lx, path, "timeOffsets", &o, err)) < 0)
		return r;
	if (r == 1) {
		size_t n = json_object_size(o), i = 0;
		l->time_offsets = spec_calloc(n, sizeof(*l->time_offsets));
		if (!l->time_offsets)
			return sn_err_set(err, ENOMEM, "linux.timeOffsets");
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v) {
			char pk[96];
			snprintf(pk, sizeof(pk), "linux.timeOffsets.%s", k);
			struct spec_time_offset *t = &l->time_offsets[i];
			if (strcmp(k, "monotonic") == 0)
				t->clock = CLOCK_MONOTONIC;
			else if (strcmp(k, "boottime") == 0)
				t->clock = CLOCK_BOOTTIME;
			else
				return sn_err_msg(err, EINVAL, "%s: unknown clock (monotonic or boottime)", pk);
			if (!json_is_object(v))
				return sn_err_msg(err, EINVAL, "%s: must be an object", pk);
			int64_t secs = 0;
			uint64_t ns = 0;
			if ((r = sn_json_int(v, pk, "secs", &secs, err)) < 0 ||
			    (r = sn_json_uint(v, pk, "nanosecs", &ns, err)) < 0)
				return r;
			if (ns >= 1000000000ULL)
				return sn_err_msg(err, EINVAL, "%s.nanosecs: must be below 1e9", pk);
			t->secs = secs;
			t->nanosecs = (uint32_t)ns;
			l->n_time_offsets = ++i;
		}
	}
	if ((r = sn_json_object(lx, path, "personality", &o, err)) < 0)
		return r;
	if (r == 1) {
		if ((r = spec_dup_string(o, "linux.personality", "domain", &l->personality.domain, err)) < 0)
			return r;
		if (!l->personality.domain ||
		    (strcmp(l->personality.domain, "LINUX") != 0 && strcmp(l->personality.domain, "LINUX32") != 0))
			return sn_err_msg(err, EINVAL, "linux.personality.domain: must be LINUX or LINUX32");
		l->personality.set = true;
	}
	return 0;
}

void spec_linux_free(struct spec_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	spec_resources_free(&l->resources);
	for (size_t i = 0; i < l->n_sysctl; i++) {
		free(l->sysctl[i].key);
		free(l->sysctl[i].value);
	}
	free(l->sysctl);
	seccomp_free(l->seccomp);
	sn_strv_free(l->masked_paths);
	sn_strv_free(l->readonly_paths);
	free(l->mount_label);
	free(l->time_offsets);
	free(l->personality.domain);
}
