/* spec.c — parse and validate a bundle's config.json (OCI runtime spec 1.x)
 * into struct spec (spec.h): the root object, process, mounts and hooks.
 * The linux object is in spec_linux.c, name tables in spec_names.c.
 *
 * One pass, no partial results: on any error the partly built struct is
 * freed and err names the field (`mounts[2].destination: must be an
 * absolute path`). Unknown fields are ignored, as the spec requires of
 * runtimes (extensions must not break older runtimes).
 */
#include "runtime/spec_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/capability.h>
#include <sched.h>

void *spec_calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

int spec_dup_string(json_t *obj, const char *path, const char *key, char **out,
		    struct sn_err *err)
{
	const char *s;
	int r = sn_json_string(obj, path, key, &s, err);
	if (r <= 0)
		return r;
	*out = strdup(s);
	if (!*out)
		return sn_err_set(err, ENOMEM, "%s.%s", path, key);
	return 1;
}

int spec_opt_i64(json_t *obj, const char *path, const char *key, int64_t *out,
		 struct sn_err *err)
{
	*out = SPEC_UNSET;
	int64_t v;
	int r = sn_json_int(obj, path, key, &v, err);
	if (r == 1)
		*out = v;
	return r;
}

int spec_parse_id_maps(json_t *obj, const char *path, const char *key,
		       struct spec_id_map **out, size_t *n, struct sn_err *err)
{
	json_t *a;
	char p[256], pi[300];
	int r = sn_json_array(obj, path, key, &a, err);
	if (r <= 0)
		return r;
	size_t len = json_array_size(a);
	struct spec_id_map *m = spec_calloc(len, sizeof(*m));
	if (!m)
		return sn_err_set(err, ENOMEM, "%s", P(p, path, key));
	for (size_t i = 0; i < len; i++) {
		json_t *e = json_array_get(a, i);
		PI(pi, P(p, path, key), i);
		if (!json_is_object(e)) {
			free(m);
			return sn_err_msg(err, EINVAL, "%s: must be an object", pi);
		}
		uint64_t c = 0, h = 0, sz = 0;
		if ((r = sn_json_uint(e, pi, "containerID", &c, err)) < 0 ||
		    (r == 0 && (r = sn_err_msg(err, EINVAL, "%s.containerID: required", pi))) ||
		    (r = sn_json_uint(e, pi, "hostID", &h, err)) < 0 ||
		    (r == 0 && (r = sn_err_msg(err, EINVAL, "%s.hostID: required", pi))) ||
		    (r = sn_json_uint(e, pi, "size", &sz, err)) < 0 ||
		    (r == 0 && (r = sn_err_msg(err, EINVAL, "%s.size: required", pi)))) {
			free(m);
			return r;
		}
		if (c > UINT32_MAX || h > UINT32_MAX || sz == 0 || sz > UINT32_MAX) {
			free(m);
			return sn_err_msg(err, EINVAL, "%s: ids must fit in 32 bits and size be > 0", pi);
		}
		m[i] = (struct spec_id_map){ (uint32_t)c, (uint32_t)h, (uint32_t)sz };
	}
	*out = m;
	*n = len;
	return 1;
}

/* ------------------------------------------------------------ mounts */

static bool path_has_dotdot(const char *p)
{
	for (const char *c = p; (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return true;
	return false;
}

struct mount_opt {
	const char *name;
	unsigned long set, clear;
};

static const struct mount_opt mount_opts[] = {
	{ "ro", MS_RDONLY, 0 },          { "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },      { "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },        { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },      { "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 },   { "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },    { "remount", MS_REMOUNT, 0 },
	{ "mand", MS_MANDLOCK, 0 },      { "nomand", 0, MS_MANDLOCK },
	{ "atime", 0, MS_NOATIME },      { "noatime", MS_NOATIME, 0 },
	{ "diratime", 0, MS_NODIRATIME }, { "nodiratime", MS_NODIRATIME, 0 },
	{ "relatime", MS_RELATIME, 0 },  { "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 }, { "nostrictatime", 0, MS_STRICTATIME },
	{ "lazytime", MS_LAZYTIME, 0 },  { "nolazytime", 0, MS_LAZYTIME },
	{ "silent", MS_SILENT, 0 },      { "loud", 0, MS_SILENT },
	{ "bind", MS_BIND, 0 },          { "rbind", MS_BIND | MS_REC, 0 },
#ifdef MS_NOSYMFOLLOW
	{ "nosymfollow", MS_NOSYMFOLLOW, 0 }, { "symfollow", 0, MS_NOSYMFOLLOW },
#endif
};

/* Recursive forms (runc and crun take them; mount_setattr with
 * AT_RECURSIVE applies them to every mount of an rbind): set / clear are
 * MOUNT_ATTR_* bits; the atime ones clear the whole atime field first. */
static const struct mount_opt recursive_opts[] = {
	{ "rro", MOUNT_ATTR_RDONLY, 0 },          { "rrw", 0, MOUNT_ATTR_RDONLY },
	{ "rnosuid", MOUNT_ATTR_NOSUID, 0 },      { "rsuid", 0, MOUNT_ATTR_NOSUID },
	{ "rnodev", MOUNT_ATTR_NODEV, 0 },        { "rdev", 0, MOUNT_ATTR_NODEV },
	{ "rnoexec", MOUNT_ATTR_NOEXEC, 0 },      { "rexec", 0, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", MOUNT_ATTR_NODIRATIME, 0 }, { "rdiratime", 0, MOUNT_ATTR_NODIRATIME },
	{ "rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0 }, { "rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
	{ "rnorelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
	{ "ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
	{ "rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
	{ "rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
	{ "rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
};

static const struct mount_opt propagation_opts[] = {
	{ "shared", MS_SHARED, 0 },          { "rshared", MS_SHARED | MS_REC, 0 },
	{ "slave", MS_SLAVE, 0 },            { "rslave", MS_SLAVE | MS_REC, 0 },
	{ "private", MS_PRIVATE, 0 },        { "rprivate", MS_PRIVATE | MS_REC, 0 },
	{ "unbindable", MS_UNBINDABLE, 0 },  { "runbindable", MS_UNBINDABLE | MS_REC, 0 },
};

static int parse_mount_options(struct spec_mount *m, const char *path, struct sn_err *err)
{
	size_t datalen = 0;
	for (size_t i = 0; i < m->n_options; i++) {
		const char *o = m->options[i];
		bool known = false;
		for (size_t k = 0; k < SN_ARRAY_SIZE(mount_opts); k++)
			if (strcmp(o, mount_opts[k].name) == 0) {
				m->flags |= mount_opts[k].set;
				m->flags &= ~mount_opts[k].clear;
				m->clear |= mount_opts[k].clear;
				m->clear &= ~mount_opts[k].set;
				known = true;
				break;
			}
		for (size_t k = 0; !known && k < SN_ARRAY_SIZE(propagation_opts); k++)
			if (strcmp(o, propagation_opts[k].name) == 0) {
				m->propagation = propagation_opts[k].set;
				known = true;
			}
		for (size_t k = 0; !known && k < SN_ARRAY_SIZE(recursive_opts); k++)
			if (strcmp(o, recursive_opts[k].name) == 0) {
				const struct mount_opt *ro = &recursive_opts[k];
				bool atime = ro->clear == MOUNT_ATTR__ATIME;
				m->rec_attr_clr |= (unsigned)ro->clear;
				m->rec_attr_set &= ~(unsigned)(atime ? MOUNT_ATTR__ATIME : ro->clear);
				m->rec_attr_set |= (unsigned)ro->set;
				if (!atime)
					m->rec_attr_clr &= ~(unsigned)ro->set;
				known = true;
			}
		if (!known && strcmp(o, "tmpcopyup") == 0) {
			m->tmpcopyup = true;
			known = true;
		}
		if (!known && (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0))
			known = true; /* mappings come from uidMappings/gidMappings */
		if (known)
			continue;
		if (*o == '\0')
			return sn_err_msg(err, EINVAL, "%s.options[%zu]: empty option", path, i);
		/* everything else is filesystem data */
		size_t ol = strlen(o);
		char *nd = realloc(m->data, datalen + ol + 2);
		if (!nd)
			return sn_err_set(err, ENOMEM, "%s.options", path);
		m->data = nd;
		if (datalen)
			m->data[datalen++] = ',';
		memcpy(m->data + datalen, o, ol + 1);
		datalen += ol;
	}
	m->bind = (m->flags & MS_BIND) != 0;
	if (m->type && strcmp(m->type, "bind") == 0 && !m->bind) {
		m->flags |= MS_BIND;
		m->bind = true;
	}
	return 0;
}

static void mount_free(struct spec_mount *m)
{
	free(m->destination);
	free(m->type);
	free(m->source);
	sn_strv_free(m->options);
	free(m->data);
	free(m->uid_mappings);
	free(m->gid_mappings);
}

static int parse_mounts(json_t *root, struct spec *s, struct sn_err *err)
{
	json_t *a;
	int r = sn_json_array(root, "", "mounts", &a, err);
	if (r <= 0)
		return r;
	size_t n = json_array_size(a);
	s->mounts = spec_calloc(n, sizeof(*s->mounts));
	if (!s->mounts)
		return sn_err_set(err, ENOMEM, "mounts");
	for (size_t i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof(p), "mounts[%zu]", i);
		json_t *e = json_array_get(a, i);
		struct spec_mount *m = &s->mounts[i];
		s->n_mounts = i + 1;
		if (!json_is_object(e))
			return sn_err_msg(err, EINVAL, "%s: must be an object", p);
		if ((r = spec_dup_string(e, p, "destination", &m->destination, err)) < 0)
			return r;
		if (r == 0)
			return sn_err_msg(err, EINVAL, "%s.destination: required", p);
		if (m->destination[0] != '/') {
			/* runc treats relative destinations as relative to "/" */
			char *abs;
			if (asprintf(&abs, "/%s", m->destination) < 0)
				return sn_err_set(err, ENOMEM, "%s", p);
			free(m->destination);
			m->destination = abs;
		}
		if (path_has_dotdot(m->destination))
			return sn_err_msg(err, EINVAL, "%s.destination: `%s` must not contain `..`",
					  p, m->destination);
		if ((r = spec_dup_string(e, p, "type", &m->type, err)) < 0 ||
		    (r = spec_dup_string(e, p, "source", &m->source, err)) < 0 ||
		    (r = sn_json_strv(e, p, "options", &m->options, &m->n_options, err)) < 0 ||
		    (r = spec_parse_id_maps(e, p, "uidMappings", &m->uid_mappings,
					    &m->n_uid_mappings, err)) < 0 ||
		    (r = spec_parse_id_maps(e, p, "gidMappings", &m->gid_mappings,
					    &m->n_gid_mappings, err)) < 0)
			return r;
		if ((r = parse_mount_options(m, p, err)) < 0)
			return r;
		if (!m->bind && !m->type)
			return sn_err_msg(err, EINVAL, "%s: type is required unless the mount is a bind mount", p);
		if (m->bind && !m->source)
			return sn_err_msg(err, EINVAL, "%s.source: required for a bind mount", p);
	}
	return 0;
}

/* ------------------------------------------------------------ process */

/* An unknown name is refused: runc and crun leave it out with a warning,
 * but the spec says "Any value which cannot be mapped to a relevant
 * kernel interface MUST cause an error" (config.md, capabilities), and the
 * runtime-tools file process_capabilities_fail checks exactly that. */
static int parse_caps_set(json_t *c, const char *path, const char *key, uint64_t *out,
			  bool *present, struct sn_err *err)
{
	char p[256], pi[300];
	json_t *a;
	int r = sn_json_array(c, path, key, &a, err);
	if (r <= 0)
		return r;
	*present = true;
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		PI(pi, P(p, path, key), i);
		if (!json_is_string(e))
			return sn_err_msg(err, EINVAL, "%s: must be a string", pi);
		const char *name = json_string_value(e);
		cap_value_t v;
		if (strncasecmp(name, "CAP_", 4) != 0 || cap_from_name(name, &v) < 0 || v < 0 || v > 63)
			return sn_err_msg(err, EINVAL, "%s: unknown capability \"%s\"", pi, name);
		*out |= 1ULL << v;
	}
	return 1;
}

static int parse_rlimits(json_t *proc, struct spec_process *p, struct sn_err *err)
{
	json_t *a;
	int r = sn_json_array(proc, "process", "rlimits", &a, err);
	if (r <= 0)
		return r;
	size_t n = json_array_size(a);
	p->rlimits = spec_calloc(n, sizeof(*p->rlimits));
	if (!p->rlimits)
		return sn_err_set(err, ENOMEM, "process.rlimits");
	for (size_t i = 0; i < n; i++) {
		char pi[64];
		snprintf(pi, sizeof(pi), "process.rlimits[%zu]", i);
		json_t *e = json_array_get(a, i);
		struct spec_rlimit *rl = &p->rlimits[i];
		p->n_rlimits = i + 1;
		if (!json_is_object(e))
			return sn_err_msg(err, EINVAL, "%s: must be an object", pi);
		const char *type = NULL;
		if ((r = sn_json_string(e, pi, "type", &type, err)) < 0)
			return r;
		if (!type)
			return sn_err_msg(err, EINVAL, "%s.type: required", pi);
		rl->type = spec_rlimit_from_name(type);
		if (rl->type < 0)
			return sn_err_msg(err, EINVAL, "%s.type: unknown rlimit \"%s\"", pi, type);
		if (!(rl->name = strdup(type)))
			return sn_err_set(err, ENOMEM, "%s", pi);
		if ((r = sn_json_uint(e, pi, "hard", &rl->hard, err)) < 0)
			return r;
		if (r == 0)
			return sn_err_msg(err, EINVAL, "%s.hard: required", pi);
		if ((r = sn_json_uint(e, pi, "soft", &rl->soft, err)) < 0)
			return r;
		if (r == 0)
			return sn_err_msg(err, EINVAL, "%s.soft: required", pi);
		if (rl->soft > rl->hard)
			return sn_err_msg(err, EINVAL, "%s: soft limit %llu is above hard limit %llu",
					  pi, (unsigned long long)rl->soft, (unsigned long long)rl->hard);
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[j].type == rl->type)
				return sn_err_msg(err, EINVAL, "%s.type: \"%s\" given twice", pi, type);
	}
	return 0;
}

static int parse_user(json_t *proc, struct spec_user *u, struct sn_err *err)
{
	json_t *o;
	u->umask = SPEC_UNSET;
	int r = sn_json_object(proc, "process", "user", &o, err);
	if (r < 0)
		return r;
	if (r == 0)
		return 0;
	uint64_t v;
	if ((r = sn_json_uint(o, "process.user", "uid", &v, err)) < 0)
		return r;
	if (r == 1) {
		if (v > UINT32_MAX - 1)
			return sn_err_msg(err, EINVAL, "process.user.uid: out of range");
		u->uid = (uid_t)v;
	}
	if ((r = sn_json_uint(o, "process.user", "gid", &v, err)) < 0)
		return r;
	if (r == 1) {
		if (v > UINT32_MAX - 1)
			return sn_err_msg(err, EINVAL, "process.user.gid: out of range");
		u->gid = (gid_t)v;
	}
	if ((r = sn_json_uint(o, "process.user", "umask", &v, err)) < 0)
		return r;
	if (r == 1) {
		if (v > 0777)
			return sn_err_msg(err, EINVAL, "process.user.umask: %llu is not a file mode mask",
					  (unsigned long long)v);
		u->umask = (int64_t)v;
	}
	json_t *a;
	if ((r = sn_json_array(o, "process.user", "additionalGids", &a, err)) < 0)
		return r;
	if (r == 1) {
		u->n_additional_gids = json_array_size(a);
		u->additional_gids = spec_calloc(u->n_additional_gids, sizeof(gid_t));
		if (!u->additional_gids)
			return sn_err_set(err, ENOMEM, "process.user.additionalGids");
		for (size_t i = 0; i < u->n_additional_gids; i++) {
			json_t *e = json_array_get(a, i);
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) >= UINT32_MAX)
				return sn_err_msg(err, EINVAL,
						  "process.user.additionalGids[%zu]: must be a gid", i);
			u->additional_gids[i] = (gid_t)json_integer_value(e);
		}
	}
	return spec_dup_string(o, "process.user", "username", &u->username, err) < 0 ? -err->code : 0;
}

int spec_parse_process(json_t *proc, const char *path, struct spec_process **out,
		       struct sn_err *err)
{
	(void)path;
	struct spec_process *p = calloc(1, sizeof(*p));
	if (!p)
		return sn_err_set(err, ENOMEM, "process");
	int r;
	json_t *o;
	p->oom_score_adj = SPEC_UNSET;

	if ((r = sn_json_bool(proc, "process", "terminal", &p->terminal, err)) < 0)
		goto fail;
	if ((r = sn_json_object(proc, "process", "consoleSize", &o, err)) < 0)
		goto fail;
	if (r == 1) {
		uint64_t h = 0, w = 0;
		if ((r = sn_json_uint(o, "process.consoleSize", "height", &h, err)) < 0 ||
		    (r = sn_json_uint(o, "process.consoleSize", "width", &w, err)) < 0)
			goto fail;
		if (h > UINT16_MAX || w > UINT16_MAX) {
			r = sn_err_msg(err, EINVAL, "process.consoleSize: out of range");
			goto fail;
		}
		p->console_height = (uint32_t)h;
		p->console_width = (uint32_t)w;
	}
	if ((r = parse_user(proc, &p->user, err)) < 0)
		goto fail;
	if ((r = sn_json_strv(proc, "process", "args", &p->args, &p->n_args, err)) < 0)
		goto fail;
	if (p->n_args == 0) {
		r = sn_err_msg(err, EINVAL, "process.args: required and must not be empty");
		goto fail;
	}
	if (p->args[0][0] == '\0') {
		r = sn_err_msg(err, EINVAL, "process.args[0]: must not be empty");
		goto fail;
	}
	if ((r = sn_json_strv(proc, "process", "env", &p->env, &p->n_env, err)) < 0)
		goto fail;
	for (size_t i = 0; i < p->n_env; i++)
		if (!strchr(p->env[i], '=') || p->env[i][0] == '=') {
			r = sn_err_msg(err, EINVAL, "process.env[%zu]: \"%s\" is not KEY=value",
				       i, p->env[i]);
			goto fail;
		}
	if ((r = spec_dup_string(proc, "process", "cwd", &p->cwd, err)) < 0)
		goto fail;
	if (r == 0) {
		r = sn_err_msg(err, EINVAL, "process.cwd: required");
		goto fail;
	}
	if (p->cwd[0] != '/') {
		r = sn_err_msg(err, EINVAL, "process.cwd: `%s` must be an absolute path", p->cwd);
		goto fail;
	}
	if ((r = sn_json_object(proc, "process", "capabilities", &o, err)) < 0)
		goto fail;
	if (r == 1) {
		p->has_caps = true;
		struct spec_caps *c = &p->caps;
		if ((r = parse_caps_set(o, "process.capabilities", "bounding", &c->bounding,
					&c->has_bounding, err)) < 0 ||
		    (r = parse_caps_set(o, "process.capabilities", "effective", &c->effective,
					&c->has_effective, err)) < 0 ||
		    (r = parse_caps_set(o, "process.capabilities", "inheritable", &c->inheritable,
					&c->has_inheritable, err)) < 0 ||
		    (r = parse_caps_set(o, "process.capabilities", "permitted", &c->permitted,
					&c->has_permitted, err)) < 0 ||
		    (r = parse_caps_set(o, "process.capabilities", "ambient", &c->ambient,
					&c->has_ambient, err)) < 0)
			goto fail;
	}
	if ((r = parse_rlimits(proc, p, err)) < 0)
		goto fail;
	if ((r = sn_json_bool(proc, "process", "noNewPrivileges", &p->no_new_privileges, err)) < 0 ||
	    (r = spec_dup_string(proc, "process", "apparmorProfile", &p->apparmor_profile, err)) < 0 ||
	    (r = spec_dup_string(proc, "process", "selinuxLabel", &p->selinux_label, err)) < 0 ||
	    (r = spec_opt_i64(proc, "process", "oomScoreAdj", &p->oom_score_adj, err)) < 0)
		goto fail;
	if (p->oom_score_adj != SPEC_UNSET && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000)) {
		r = sn_err_msg(err, EINVAL, "process.oomScoreAdj: %lld is outside -1000..1000",
			       (long long)p->oom_score_adj);
		goto fail;
	}
	*out = p;
	return 0;
fail:
	spec_process_free(p);
	return r < 0 ? r : -EINVAL;
}

void spec_process_free(struct spec_process *p)
{
	if (!p)
		return;
	free(p->user.additional_gids);
	free(p->user.username);
	sn_strv_free(p->args);
	sn_strv_free(p->env);
	free(p->cwd);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].name);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}

/* ------------------------------------------------------------ hooks */

static const char *const hook_keys[SPEC_HOOK_KINDS] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static int parse_hooks(json_t *root, struct spec *s, struct sn_err *err)
{
	json_t *h;
	int r = sn_json_object(root, "", "hooks", &h, err);
	if (r <= 0)
		return r;
	for (int k = 0; k < SPEC_HOOK_KINDS; k++) {
		json_t *a;
		char p[64];
		snprintf(p, sizeof(p), "hooks.%s", hook_keys[k]);
		if ((r = sn_json_array(h, "hooks", hook_keys[k], &a, err)) < 0)
			return r;
		if (r == 0)
			continue;
		size_t n = json_array_size(a);
		s->hooks.list[k] = spec_calloc(n, sizeof(struct spec_hook));
		if (!s->hooks.list[k])
			return sn_err_set(err, ENOMEM, "%s", p);
		for (size_t i = 0; i < n; i++) {
			char pi[96];
			snprintf(pi, sizeof(pi), "%s[%zu]", p, i);
			json_t *e = json_array_get(a, i);
			struct spec_hook *hk = &s->hooks.list[k][i];
			s->hooks.n[k] = i + 1;
			hk->timeout = SPEC_UNSET;
			if (!json_is_object(e))
				return sn_err_msg(err, EINVAL, "%s: must be an object", pi);
			if ((r = spec_dup_string(e, pi, "path", &hk->path, err)) < 0)
				return r;
			if (r == 0)
				return sn_err_msg(err, EINVAL, "%s.path: required", pi);
			if (hk->path[0] != '/')
				return sn_err_msg(err, EINVAL, "%s.path: `%s` must be an absolute path",
						  pi, hk->path);
			if ((r = sn_json_strv(e, pi, "args", &hk->args, &hk->n_args, err)) < 0 ||
			    (r = sn_json_strv(e, pi, "env", &hk->env, &hk->n_env, err)) < 0 ||
			    (r = spec_opt_i64(e, pi, "timeout", &hk->timeout, err)) < 0)
				return r;
			if (hk->timeout != SPEC_UNSET && hk->timeout <= 0)
				return sn_err_msg(err, EINVAL, "%s.timeout: must be greater than zero", pi);
		}
	}
	return 0;
}

/* ociVersion MUST be SemVer 2.0 (spec, config.md); we run 1.x configs:
 * MAJOR.MINOR.PATCH, numbers without leading zeros, then an optional
 * -prerelease and +build of [0-9A-Za-z.-]. "1.0.2-dev" passes, "invalid",
 * "1.0" and "2.0.0" do not. */
static bool semver_number(const char **p)
{
	const char *s = *p;
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	*p = s;
	return true;
}

/* One or more dot-separated, non-empty identifiers of [0-9A-Za-z-]. */
static bool semver_idents(const char **p)
{
	const char *s = *p;
	for (;;) {
		const char *start = s;
		while (isalnum((unsigned char)*s) || *s == '-')
			s++;
		if (s == start)
			return false;
		if (*s != '.')
			break;
		s++;
	}
	*p = s;
	return true;
}

static bool oci_version_supported(const char *v)
{
	const char *p = v;
	if (strncmp(p, "1.", 2) != 0)
		return false;
	p += 2;
	if (!semver_number(&p) || *p++ != '.' || !semver_number(&p))
		return false;
	if (*p == '-' && (++p, !semver_idents(&p)))
		return false;
	if (*p == '+' && (++p, !semver_idents(&p)))
		return false;
	return *p == '\0';
}

/* ------------------------------------------------------------ root */

int spec_parse(json_t *doc, const char *what, struct spec **out, struct sn_err *err)
{
	if (!json_is_object(doc))
		return sn_err_msg(err, EINVAL, "%s: must be a JSON object", what);
	struct spec *s = calloc(1, sizeof(*s));
	if (!s)
		return sn_err_set(err, ENOMEM, "%s", what);
	s->json = json_incref(doc);
	int r;
	json_t *o;
	spec_parse_resources(NULL, "", &s->linux_.resources, NULL); /* all unset */

	if ((r = spec_dup_string(doc, "", "ociVersion", &s->oci_version, err)) < 0)
		goto fail;
	if (r == 0) {
		r = sn_err_msg(err, EINVAL, "ociVersion: required");
		goto fail;
	}
	if (!oci_version_supported(s->oci_version)) {
		r = sn_err_msg(err, EINVAL, "ociVersion: `%s` is not a 1.x SemVer version", s->oci_version);
		goto fail;
	}
	if ((r = sn_json_object(doc, "", "root", &o, err)) < 0)
		goto fail;
	if (r == 0) {
		r = sn_err_msg(err, EINVAL, "root: required");
		goto fail;
	}
	if ((r = spec_dup_string(o, "root", "path", &s->root_path, err)) < 0)
		goto fail;
	if (r == 0 || s->root_path[0] == '\0') {
		r = sn_err_msg(err, EINVAL, "root.path: required");
		goto fail;
	}
	if ((r = sn_json_bool(o, "root", "readonly", &s->root_readonly, err)) < 0)
		goto fail;
	if ((r = spec_dup_string(doc, "", "hostname", &s->hostname, err)) < 0 ||
	    (r = spec_dup_string(doc, "", "domainname", &s->domainname, err)) < 0)
		goto fail;
	if ((r = parse_mounts(doc, s, err)) < 0)
		goto fail;
	if ((r = sn_json_object(doc, "", "process", &o, err)) < 0)
		goto fail;
	if (r == 1 && (r = spec_parse_process(o, "process", &s->process, err)) < 0)
		goto fail;
	if ((r = parse_hooks(doc, s, err)) < 0)
		goto fail;
	if ((r = sn_json_object(doc, "", "annotations", &s->annotations, err)) < 0)
		goto fail;
	if (s->annotations) {
		const char *k;
		json_t *v;
		json_object_foreach(s->annotations, k, v)
			if (!json_is_string(v)) {
				r = sn_err_msg(err, EINVAL, "annotations.%s: must be a string", k);
				goto fail;
			}
	}
	if ((r = sn_json_object(doc, "", "linux", &o, err)) < 0)
		goto fail;
	if (r == 1 && (r = spec_parse_linux(o, "linux", s, err)) < 0)
		goto fail;

	/* Cross-field rules. */
	if (s->hostname && !spec_find_namespace(s, CLONE_NEWUTS)) {
		r = sn_err_msg(err, EINVAL, "hostname: needs a new uts namespace (linux.namespaces has none)");
		goto fail;
	}
	if (s->domainname && !spec_find_namespace(s, CLONE_NEWUTS)) {
		r = sn_err_msg(err, EINVAL, "domainname: needs a new uts namespace (linux.namespaces has none)");
		goto fail;
	}
	const struct spec_namespace *uns = spec_find_namespace(s, CLONE_NEWUSER);
	if ((s->linux_.n_uid_mappings || s->linux_.n_gid_mappings) && !uns) {
		r = sn_err_msg(err, EINVAL, "linux.uidMappings: given without a user namespace");
		goto fail;
	}
	if (uns && !uns->path && (!s->linux_.n_uid_mappings || !s->linux_.n_gid_mappings)) {
		r = sn_err_msg(err, EINVAL, "linux.uidMappings/gidMappings: a new user namespace needs both");
		goto fail;
	}
	if (s->linux_.n_time_offsets && !spec_find_namespace(s, CLONE_NEWTIME)) {
		r = sn_err_msg(err, EINVAL, "linux.timeOffsets: needs a time namespace");
		goto fail;
	}
	if ((r = spec_check_sysctls(s, err)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (what && err && err->code && strncmp(err->msg, what, strlen(what)) != 0)
		sn_err_wrap(err, "%s", what);
	spec_free(s);
	return r < 0 ? r : -EINVAL;
}

int spec_load(const char *bundle, struct spec **out, struct sn_err *err)
{
	_cleanup_free_ char *path = sn_path_join(bundle, "config.json");
	if (!path)
		return sn_err_set(err, ENOMEM, "bundle `%s`", bundle);
	_cleanup_json_ json_t *doc = NULL;
	int r = sn_json_load_file(path, SPEC_MAX_CONFIG_SIZE, &doc, err);
	if (r < 0)
		return r;
	return spec_parse(doc, path, out, err);
}

const struct spec_namespace *spec_find_namespace(const struct spec *s, int type)
{
	for (size_t i = 0; i < s->linux_.n_namespaces; i++)
		if (s->linux_.namespaces[i].type == type)
			return &s->linux_.namespaces[i];
	return NULL;
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	for (size_t i = 0; i < s->n_mounts; i++)
		mount_free(&s->mounts[i]);
	free(s->mounts);
	spec_process_free(s->process);
	for (int k = 0; k < SPEC_HOOK_KINDS; k++) {
		for (size_t i = 0; i < s->hooks.n[k]; i++) {
			free(s->hooks.list[k][i].path);
			sn_strv_free(s->hooks.list[k][i].args);
			sn_strv_free(s->hooks.list[k][i].env);
		}
		free(s->hooks.list[k]);
	}
	spec_linux_free(&s->linux_);
	json_decref(s->json);
	free(s);
}
