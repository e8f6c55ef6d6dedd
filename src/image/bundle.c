/* bundle.c — image config → OCI runtime bundle.
 *
 * Follows the image-spec's conversion rules (conversion.md): process.args =
 * Entrypoint + Cmd (a given command replaces Cmd, as `docker run IMG CMD`
 * does), Env (PATH added when the image has none), WorkingDir (default /),
 * User as name, uid, name:group or uid:gid resolved against the image's own
 * /etc/passwd and /etc/group (plus supplementary groups naming the user),
 * Labels → annotations, ExposedPorts → the annotation
 * org.opencontainers.image.exposedPorts, StopSignal → ...stopSignal,
 * Volumes → private bind mounts (snapshots/<id>/volumes/N) so data written
 * there stays out of the root filesystem.
 *
 * The rest of the spec is a conservative default close to docker's: new
 * pid/ipc/uts/mount/network/cgroup namespaces, docker's 14 default
 * capabilities, no_new_privileges, masked and read-only /proc paths, the
 * usual /dev, /proc, /sys mounts. The node daemon edits it further
 * (resources, network, volumes) through the customize hook, so that
 * config.json is written once.
 *
 * /etc/passwd is read with openat2(RESOLVE_IN_ROOT): a symlink in the image
 * (etc/passwd -> /etc/shadow on the host) resolves inside the rootfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "image/internal.h"

static const char *const default_caps[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
};

/* Read rootfs/<rel> without leaving rootfs. NULL content when missing. */
static int read_in_root(const char *rootfs, const char *rel, char **out, struct sn_err *err)
{
	*out = NULL;
	_cleanup_close_ int rfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return sn_err_sys(err, "open rootfs `%s`", rootfs);
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, rfd, rel, &how, sizeof(how));
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return sn_err_sys(err, "open `%s` in the image", rel);
	}
	char *buf = NULL;
	size_t len;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int r = sn_read_file(p, 4u << 20, &buf, &len, err);
	close(fd);
	if (r < 0)
		return sn_err_wrap(err, "read `/%s` of the image", rel);
	*out = buf;
	return 0;
}

/* Find a line "name:x:id:..." by name (field 0) or id (field 2). */
static bool db_find(const char *db, const char *name, long id, char f[][256], int nf)
{
	if (!db)
		return false;
	const char *line = db;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		int k = 0;
		const char *p = line;
		for (k = 0; k < nf; k++)
			f[k][0] = '\0';
		k = 0;
		while (p < line + len && k < nf) {
			const char *c = memchr(p, ':', (size_t)(line + len - p));
			size_t fl = c ? (size_t)(c - p) : (size_t)(line + len - p);
			snprintf(f[k], 256, "%.*s", (int)fl, p);
			k++;
			if (!c)
				break;
			p = c + 1;
		}
		if (k >= 3 && f[0][0] != '#') {
			if (name && strcmp(f[0], name) == 0)
				return true;
			if (!name && atol(f[2]) == id && f[2][0])
				return true;
		}
		if (!end)
			break;
		line = end + 1;
	}
	return false;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int resolve_user(const char *rootfs, const char *spec, json_t *user, struct sn_err *err)
{
	long uid = 0, gid = 0;
	char uname[256] = "";
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	_cleanup_free_ char *u = strdup(spec ? spec : "");
	if (!u)
		return sn_err_set(err, ENOMEM, "user");
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	int r = read_in_root(rootfs, "etc/passwd", &passwd, err);
	if (r < 0)
		return r;
	r = read_in_root(rootfs, "etc/group", &group, err);
	if (r < 0)
		return r;
	char f[7][256];
	if (!*u) {
		uid = 0;
		if (db_find(passwd, NULL, 0, f, 7)) {
			gid = atol(f[3]);
			snprintf(uname, sizeof(uname), "%s", f[0]);
		}
	} else if (is_number(u)) {
		uid = atol(u);
		if (db_find(passwd, NULL, uid, f, 7)) {
			gid = atol(f[3]);
			snprintf(uname, sizeof(uname), "%s", f[0]);
		} else {
			gid = 0;
		}
	} else {
		if (!db_find(passwd, u, 0, f, 7))
			return sn_err_msg(err, ENOENT, "user `%s`: not found in the image's /etc/passwd", u);
		uid = atol(f[2]);
		gid = atol(f[3]);
		snprintf(uname, sizeof(uname), "%s", f[0]);
	}
	if (g && *g) {
		if (is_number(g)) {
			gid = atol(g);
		} else {
			char gf[4][256];
			if (!db_find(group, g, 0, gf, 4))
				return sn_err_msg(err, ENOENT, "group `%s`: not found in the image's /etc/group", g);
			gid = atol(gf[2]);
		}
	}
	json_object_set_new(user, "uid", json_integer(uid));
	json_object_set_new(user, "gid", json_integer(gid));
	/* Supplementary groups: every group listing the user as a member. */
	json_t *extra = json_array();
	if (uname[0] && group && !(g && *g)) {
		const char *line = group;
		while (*line) {
			const char *end = strchr(line, '\n');
			size_t len = end ? (size_t)(end - line) : strlen(line);
			char buf[1024];
			snprintf(buf, sizeof(buf), "%.*s", (int)(len < 1023 ? len : 1023), line);
			char *save = NULL, *name = strtok_r(buf, ":", &save);
			strtok_r(NULL, ":", &save);
			char *gidf = strtok_r(NULL, ":", &save);
			char *mem = strtok_r(NULL, ":", &save);
			if (name && gidf && mem) {
				char *s2 = NULL;
				for (char *m = strtok_r(mem, ",", &s2); m; m = strtok_r(NULL, ",", &s2))
					if (strcmp(m, uname) == 0 && atol(gidf) != gid)
						json_array_append_new(extra, json_integer(atol(gidf)));
			}
			if (!end)
				break;
			line = end + 1;
		}
	}
	if (json_array_size(extra))
		json_object_set_new(user, "additionalGids", extra);
	else
		json_decref(extra);
	return 0;
}

static json_t *mount_entry(const char *dst, const char *type, const char *src, const char *opts)
{
	json_t *o = json_array();
	char *save = NULL;
	_cleanup_free_ char *c = strdup(opts);
	for (char *t = c ? strtok_r(c, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(o, json_string(t));
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
			 "options", o);
}

static json_t *strv_json(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Set KEY=VAL in env array (replace an existing KEY). */
static void env_set(json_t *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
	size_t i;
	json_t *v;
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && strncmp(s, kv, kl) == 0 && (s[kl] == '=' || s[kl] == '\0')) {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

int image_config_to_spec(const json_t *image_config, const char *rootfs,
			 const struct image_bundle_opts *o, json_t **spec, struct sn_err *err)
{
	static const struct image_bundle_opts none = { 0 };
	if (!o)
		o = &none;
	json_t *cfg = json_object_get(image_config, "config");
	/* args */
	_cleanup_json_ json_t *args = json_array();
	json_t *ep = json_object_get(cfg, "Entrypoint");
	json_t *cmd = json_object_get(cfg, "Cmd");
	size_t i;
	json_t *v;
	json_array_foreach(ep, i, v)
		if (json_is_string(v))
			json_array_append(args, v);
	if (o->args) {
		for (char *const *a = o->args; *a; a++)
			json_array_append_new(args, json_string(*a));
	} else {
		json_array_foreach(cmd, i, v)
			if (json_is_string(v))
				json_array_append(args, v);
	}
	if (json_array_size(args) == 0)
		return sn_err_msg(err, EINVAL, "image has no Entrypoint or Cmd, and no command was given");
	/* env */
	_cleanup_json_ json_t *env = json_array();
	bool has_path = false;
	json_array_foreach(json_object_get(cfg, "Env"), i, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		if (strncmp(s, "PATH=", 5) == 0)
			has_path = true;
		env_set(env, s);
	}
	if (!has_path)
		env_set(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	if (o->terminal)
		env_set(env, "TERM=xterm");
	for (char *const *e = o->env; e && *e; e++)
		env_set(env, *e);
	/* cwd */
	const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
	char cwd[4096];
	snprintf(cwd, sizeof(cwd), "%s%s", wd && wd[0] == '/' ? "" : "/", wd && *wd ? wd : "");
	/* user */
	_cleanup_json_ json_t *user = json_object();
	const char *us = o->user ? o->user : json_string_value(json_object_get(cfg, "User"));
	int r = resolve_user(rootfs, us, user, err);
	if (r < 0)
		return r;
	bool is_root = json_integer_value(json_object_get(user, "uid")) == 0;
	json_t *caps_all = strv_json(default_caps, SN_ARRAY_SIZE(default_caps));
	json_t *caps = json_pack("{s:O, s:o, s:o, s:o}", "bounding", caps_all, "permitted",
				 is_root ? json_incref(caps_all) : json_array(), "effective",
				 is_root ? json_deep_copy(caps_all) : json_array(), "inheritable", json_array());
	json_decref(caps_all);

	json_t *process = json_pack("{s:b, s:O, s:O, s:O, s:s, s:o, s:b, s:[{s:s, s:I, s:I}]}",
		"terminal", o->terminal, "user", user, "args", args, "env", env, "cwd", cwd,
		"capabilities", caps, "noNewPrivileges", 1, "rlimits", "type", "RLIMIT_NOFILE",
		"hard", (json_int_t)1024, "soft", (json_int_t)1024);
	json_t *mounts = json_array();
	json_array_append_new(mounts, mount_entry("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(mounts, mount_entry("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
	json_array_append_new(mounts, mount_entry("/dev/pts", "devpts", "devpts",
		"nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
	json_array_append_new(mounts, mount_entry("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
	json_array_append_new(mounts, mount_entry("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	json_array_append_new(mounts, mount_entry("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
	json_array_append_new(mounts, mount_entry("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"));

	json_t *annotations = json_object();
	const char *k;
	json_object_foreach(json_object_get(cfg, "Labels"), k, v)
		if (json_is_string(v))
			json_object_set(annotations, k, v);
	if (json_object_size(json_object_get(cfg, "ExposedPorts"))) {
		char ports[4096] = "";
		size_t n = 0;
		json_object_foreach(json_object_get(cfg, "ExposedPorts"), k, v)
			n += (size_t)snprintf(ports + n, n < sizeof(ports) ? sizeof(ports) - n : 0, "%s%s",
					      n ? "," : "", k);
		json_object_set_new(annotations, "org.opencontainers.image.exposedPorts", json_string(ports));
	}
	const char *sig = json_string_value(json_object_get(cfg, "StopSignal"));
	if (sig)
		json_object_set_new(annotations, "org.opencontainers.image.stopSignal", json_string(sig));
	const char *s;
	if ((s = json_string_value(json_object_get(image_config, "os"))))
		json_object_set_new(annotations, "org.opencontainers.image.os", json_string(s));
	if ((s = json_string_value(json_object_get(image_config, "architecture"))))
		json_object_set_new(annotations, "org.opencontainers.image.architecture", json_string(s));
	if ((s = json_string_value(json_object_get(image_config, "created"))))
		json_object_set_new(annotations, "org.opencontainers.image.created", json_string(s));

	json_t *linux_ = json_pack("{s:{s:[{s:b, s:s}]}, s:[{s:s},{s:s},{s:s},{s:s},{s:s},{s:s}], s:[s,s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s]}",
		"resources", "devices", "allow", 0, "access", "rwm",
		"namespaces", "type", "pid", "type", "network", "type", "ipc", "type", "uts",
		"type", "mount", "type", "cgroup",
		"maskedPaths", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/sys/firmware",
		"readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
		"/proc/sysrq-trigger", "/proc/scsi");
	json_t *sp = json_pack("{s:s, s:o, s:{s:s, s:b}, s:o, s:o, s:o}", "ociVersion", "1.0.2",
		"process", process, "root", "path", "rootfs", "readonly", 0, "mounts", mounts,
		"linux", linux_, "annotations", annotations);
	if (!sp)
		return sn_err_set(err, ENOMEM, "build spec");
	if (o->hostname)
		json_object_set_new(sp, "hostname", json_string(o->hostname));
	*spec = sp;
	return 0;
}

int image_bundle_create(struct image_store *s, const char *ref, const char *bundle_dir,
			const struct image_bundle_opts *o, struct sn_err *err)
{
	static const struct image_bundle_opts none = { 0 };
	if (!o)
		o = &none;
	const char *id = o->snapshot_id;
	if (!id)
		return sn_err_msg(err, EINVAL, "bundle `%s`: no snapshot id", bundle_dir);
	struct image *img = NULL;
	int r = image_load(s, ref, &img, err);
	if (r < 0)
		return r;
	r = sn_mkdir_p(bundle_dir, 0755, err);
	_cleanup_free_ char *rootfs = sn_path_join(bundle_dir, "rootfs");
	_cleanup_free_ char *cfgpath = sn_path_join(bundle_dir, "config.json");
	if (r == 0 && (!rootfs || !cfgpath))
		r = sn_err_set(err, ENOMEM, "bundle");
	if (r == 0)
		r = image_snapshot_create(s, img, id, rootfs, err);
	if (r < 0) {
		image_free(img);
		return sn_err_wrap(err, "bundle `%s`", bundle_dir);
	}
	_cleanup_json_ json_t *spec = NULL;
	r = image_config_to_spec(img->config, rootfs, o, &spec, err);
	/* Volumes → private bind mounts beside the snapshot. */
	const char *k;
	json_t *v;
	unsigned n = 0;
	json_t *cfg = json_object_get(img->config, "config");
	json_object_foreach(json_object_get(cfg, "Volumes"), k, v) {
		if (r < 0)
			break;
		if (k[0] != '/') {
			r = sn_err_msg(err, EINVAL, "image volume `%s`: not an absolute path", k);
			break;
		}
		_cleanup_free_ char *src = NULL;
		if (asprintf(&src, "%s/snapshots/%s/volumes/%u", s->root, id, n++) < 0) {
			r = sn_err_set(err, ENOMEM, "bundle");
			break;
		}
		r = sn_mkdir_p(src, 0755, err);
		if (r == 0)
			json_array_append_new(json_object_get(spec, "mounts"),
					      mount_entry(k, "bind", src, "rbind,rw"));
	}
	if (r == 0) {
		json_object_set_new(json_object_get(spec, "annotations"), "org.opencontainers.image.ref.name",
				    json_string(ref));
		json_object_set_new(json_object_get(spec, "annotations"), "subnode.image.digest",
				    json_string(img->manifest_digest));
		json_object_set_new(json_object_get(spec, "annotations"), "subnode.image.snapshot",
				    json_string(id));
		if (o->customize)
			r = o->customize(spec, o->customize_arg, err);
	}
	if (r == 0) {
		_cleanup_free_ char *txt = sn_json_dump(spec, true);
		r = txt ? sn_write_file_atomic(cfgpath, txt, strlen(txt), 0644, err)
			: sn_err_set(err, ENOMEM, "bundle");
	}
	image_free(img);
	if (r < 0) {
		image_snapshot_remove(s, id, &(struct sn_err){ 0 });
		return sn_err_wrap(err, "bundle `%s`", bundle_dir);
	}
	return 0;
}

int image_bundle_remove(struct image_store *s, const char *bundle_dir, const char *snapshot_id,
			struct sn_err *err)
{
	_cleanup_free_ char *cfgpath = sn_path_join(bundle_dir, "config.json");
	_cleanup_free_ char *rootfs = sn_path_join(bundle_dir, "rootfs");
	if (!cfgpath || !rootfs)
		return sn_err_set(err, ENOMEM, "bundle");
	/* Prefer the id recorded in config.json (a daemon may have chosen it). */
	_cleanup_json_ json_t *spec = NULL;
	const char *rec = NULL;
	if (sn_json_load_file(cfgpath, 4u << 20, &spec, &(struct sn_err){ 0 }) == 0)
		rec = json_string_value(json_object_get(json_object_get(spec, "annotations"),
							"subnode.image.snapshot"));
	if (!rec)
		rec = snapshot_id;
	if (!rec)
		return sn_err_msg(err, EINVAL, "remove bundle `%s`: no snapshot recorded in its config.json",
				  bundle_dir);
	int r = image_snapshot_remove(s, rec, err);
	if (r < 0)
		return sn_err_wrap(err, "remove bundle `%s`", bundle_dir);
	if (unlink(cfgpath) < 0 && errno != ENOENT)
		return sn_err_sys(err, "remove `%s`", cfgpath);
	if (rmdir(rootfs) < 0 && errno != ENOENT)
		return sn_err_sys(err, "remove `%s`", rootfs);
	rmdir(bundle_dir); /* only if empty */
	return 0;
}
