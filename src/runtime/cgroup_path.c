/* cgroup_path.c — turning an OCI cgroupsPath into a hierarchy path.
 *
 *   NULL / ""            -> /subrun/<id>
 *   "/a/b"               -> /a/b (normalised: '//' and '.' collapse)
 *   "a/b"                -> <own cgroup>/a/b
 *   "slice:prefix:name"  -> /<expanded slice>/<prefix>-<name>.scope
 *
 * Any ".." component is refused, before and after joining, as is a path that
 * names the root cgroup itself (destroying it would be absurd). The systemd
 * form expands nested slices as systemd and runc do ("machine-vm.slice" ->
 * "/machine.slice/machine-vm.slice"); an empty slice means system.slice, a
 * name that already ends in .scope/.slice is used as the unit name. This is
 * a path computation only: subrun does not talk to systemd over D-Bus.
 *
 * The own cgroup for relative paths is one path for all hierarchies (the
 * unified "0::" line, else name=systemd, else the first line), because
 * struct cgroup carries one path; runc on v1 resolves per hierarchy. On
 * systemd hosts these agree.
 */
#include "runtime/cgroup_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"

/* Normalise an absolute path: collapse '/', drop '.', refuse '..' and the
 * root itself. */
int cg_normalize_path(const char *in, const char *what, char **out, struct sn_err *err)
{
	size_t cap = strlen(in) + 2;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return sn_err_set(err, ENOMEM, "cgroup path `%s`", in);
	size_t n = 0;
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return sn_err_msg(err, EINVAL, "%s `%s`: `..` is not allowed", what, in);
		if (!(len == 1 && p[0] == '.')) {
			buf[n++] = '/';
			memcpy(buf + n, p, len);
			n += len;
		}
		p += len;
	}
	if (n == 0)
		return sn_err_msg(err, EINVAL, "%s `%s`: names the root cgroup", what, in);
	buf[n] = '\0';
	*out = steal_ptr(buf);
	return 0;
}

static bool valid_unit_word(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] == '\0')
			return false;
	return true;
}

/* "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" -> "". */
static int expand_slice(const char *slice, char **out, struct sn_err *err)
{
	size_t len = strlen(slice);
	const char *suffix = ".slice";
	if (len <= 6 || strcmp(slice + len - 6, suffix) != 0 || strchr(slice, '/'))
		return sn_err_msg(err, EINVAL, "systemd slice `%s`: must end in `.slice`", slice);
	if (strcmp(slice, "-.slice") == 0) {
		*out = strdup("");
		return *out ? 0 : sn_err_set(err, ENOMEM, "slice `%s`", slice);
	}
	size_t base = len - 6;
	if (slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--"))
		return sn_err_msg(err, EINVAL, "systemd slice `%s`: invalid name", slice);
	_cleanup_free_ char *res = calloc(1, (len + 8) * (len + 1));
	if (!res)
		return sn_err_set(err, ENOMEM, "slice `%s`", slice);
	size_t n = 0;
	for (size_t i = 0; i <= base; i++) {
		if (i == base || slice[i] == '-') {
			n += (size_t)sprintf(res + n, "/%.*s.slice", (int)i, slice);
		}
	}
	*out = steal_ptr(res);
	return 0;
}

static int resolve_systemd(const char *in, char **out, struct sn_err *err)
{
	const char *c1 = strchr(in, ':');
	const char *c2 = strchr(c1 + 1, ':');
	_cleanup_free_ char *slice = strndup(in, (size_t)(c1 - in));
	_cleanup_free_ char *prefix = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
	const char *name = c2 + 1;
	if (!slice || !prefix)
		return sn_err_set(err, ENOMEM, "cgroupsPath `%s`", in);
	if (!valid_unit_word(name, strlen(name)) || strcmp(name, "..") == 0 ||
	    strcmp(name, ".") == 0)
		return sn_err_msg(err, EINVAL, "cgroupsPath `%s`: invalid unit name `%s`", in, name);
	if (strstr(prefix, "..") || strchr(prefix, '/'))
		return sn_err_msg(err, EINVAL, "cgroupsPath `%s`: invalid prefix `%s`", in, prefix);
	_cleanup_free_ char *exp = NULL;
	int r = expand_slice(slice[0] ? slice : "system.slice", &exp, err);
	if (r < 0)
		return sn_err_wrap(err, "cgroupsPath `%s`", in);
	size_t nl = strlen(name);
	bool is_unit = (nl > 6 && strcmp(name + nl - 6, ".scope") == 0) ||
		       (nl > 6 && strcmp(name + nl - 6, ".slice") == 0);
	int n;
	if (is_unit)
		n = asprintf(out, "%s/%s", exp, name);
	else if (prefix[0])
		n = asprintf(out, "%s/%s-%s.scope", exp, prefix, name);
	else
		n = asprintf(out, "%s/%s.scope", exp, name);
	if (n < 0) {
		*out = NULL;
		return sn_err_set(err, ENOMEM, "cgroupsPath `%s`", in);
	}
	return 0;
}

/* The calling process's own cgroup from /proc/self/cgroup content. */
static int own_cgroup(const char *content, char **out, struct sn_err *err)
{
	const char *unified = NULL, *systemd = NULL, *first = NULL;
	_cleanup_free_ char *copy = strdup(content ? content : "");
	if (!copy)
		return sn_err_set(err, ENOMEM, "own cgroup");
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1, *path = c2 + 1;
		if (!first)
			first = path;
		if (ctrls[0] == '\0' && strncmp(line, "0:", 2) == 0)
			unified = path;
		else if (strcmp(ctrls, "name=systemd") == 0)
			systemd = path;
	}
	const char *p = unified ? unified : systemd ? systemd : first;
	if (!p || p[0] != '/')
		return sn_err_msg(err, ENOENT, "cannot find the own cgroup in /proc/self/cgroup");
	*out = strdup(p);
	return *out ? 0 : sn_err_set(err, ENOMEM, "own cgroup");
}

int cg_resolve_path_in(const char *cgroups_path, const char *id,
		       const char *self_cgroup, char **out, struct sn_err *err)
{
	if (!cgroups_path || !cgroups_path[0]) {
		if (!id || !id[0] || strchr(id, '/') || strcmp(id, ".") == 0 ||
		    strcmp(id, "..") == 0)
			return sn_err_msg(err, EINVAL, "container id `%s`: not usable as a cgroup name",
					  id ? id : "");
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "/subrun/%s", id) < 0) {
			p = NULL;
			return sn_err_set(err, ENOMEM, "cgroup path");
		}
		return cg_normalize_path(p, "cgroup path", out, err);
	}
	if (cgroups_path[0] == '/')
		return cg_normalize_path(cgroups_path, "cgroupsPath", out, err);
	const char *c1 = strchr(cgroups_path, ':');
	if (c1 && !strchr(cgroups_path, '/')) {
		const char *c2 = strchr(c1 + 1, ':');
		if (!c2 || strchr(c2 + 1, ':'))
			return sn_err_msg(err, EINVAL,
					  "cgroupsPath `%s`: systemd form is `slice:prefix:name`",
					  cgroups_path);
		return resolve_systemd(cgroups_path, out, err);
	}
	/* relative: refuse ".." before looking at our own cgroup */
	_cleanup_free_ char *rel = NULL;
	int r = cg_normalize_path(cgroups_path, "cgroupsPath", &rel, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *own = NULL;
	r = own_cgroup(self_cgroup, &own, err);
	if (r < 0)
		return sn_err_wrap(err, "cgroupsPath `%s`", cgroups_path);
	_cleanup_free_ char *joined = sn_path_join(own, rel);
	if (!joined)
		return sn_err_set(err, ENOMEM, "cgroupsPath `%s`", cgroups_path);
	return cg_normalize_path(joined, "cgroupsPath", out, err);
}

int cgroup_resolve_path(const char *cgroups_path, const char *id, char **out,
			struct sn_err *err)
{
	_cleanup_free_ char *self = NULL;
	if (cgroups_path && cgroups_path[0] && cgroups_path[0] != '/' &&
	    (!strchr(cgroups_path, ':') || strchr(cgroups_path, '/'))) {
		int r = sn_read_file("/proc/self/cgroup", 1u << 20, &self, NULL, err);
		if (r < 0)
			return r;
	}
	return cg_resolve_path_in(cgroups_path, id, self, out, err);
}
