/* validate.c — the create request, checked field by field before anything
 * is written: unknown fields, wrong types, names, sizes, restart policies,
 * binds and the image (which must be in the store) are refused with a
 * message naming the field. The result is a normalized config object that
 * lifecycle.c turns into a bundle and the db keeps.
 *
 * Accepted (Docker's create shape where it fits, plus Size):
 *   Image (required), Cmd, Entrypoint, Env, WorkingDir, User, Hostname,
 *   Labels, StopSignal, StopTimeout, Tty, OpenStdin, AttachStdin,
 *   AttachStdout, AttachStderr, Healthcheck {Test, Interval, Timeout,
 *   Retries, StartPeriod}, Size, HostConfig {Binds, RestartPolicy {Name,
 *   MaximumRetryCount}, AutoRemove, NetworkMode, PortBindings, PortSlot,
 *   PortAllow (network_spec.c)}
 */
#include "node/node.h"
#include "node/network.h"
#include "node/volume.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/parse.h"
#include "image/image.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

bool node_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || !isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

int node_parse_signal(const char *s, int *sig)
{
	static const struct { const char *n; int v; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
		{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
		{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
		{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
		{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
		{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
		{ "PWR", SIGPWR }, { "SYS", SIGSYS },
	};
	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)*s)) {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end || v < 1 || v > 64)
			return -EINVAL;
		*sig = (int)v;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < SN_ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i].n) == 0) {
			*sig = names[i].v;
			return 0;
		}
	return -EINVAL;
}

static int strv_field(json_t *body, const char *key, json_t *out, struct sn_err *err)
{
	json_t *v = json_object_get(body, key);
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v) && strcmp(key, "Cmd") != 0 && strcmp(key, "Entrypoint") != 0)
		return sn_err_msg(err, EINVAL, "%s: must be an array of strings", key);
	if (json_is_string(v)) {   /* Docker accepts a string for Cmd/Entrypoint */
		json_object_set_new(out, key, json_pack("[s,s,s]", "/bin/sh", "-c", json_string_value(v)));
		return 0;
	}
	if (!json_is_array(v))
		return sn_err_msg(err, EINVAL, "%s: must be an array of strings", key);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return sn_err_msg(err, EINVAL, "%s[%zu]: must be a string", key, i);
		if (strlen(json_string_value(e)) != json_string_length(e))
			return sn_err_msg(err, EINVAL, "%s[%zu]: contains a NUL byte", key, i);
	}
	json_object_set(out, key, v);
	return 0;
}

static int restart_policy(json_t *hc, json_t *out, struct sn_err *err)
{
	json_t *rp = json_object_get(hc, "RestartPolicy");
	if (!rp || json_is_null(rp)) {
		json_object_set_new(out, "Restart", json_string("no"));
		return 0;
	}
	if (!json_is_object(rp))
		return sn_err_msg(err, EINVAL, "HostConfig.RestartPolicy: must be an object");
	static const char *const keys[] = { "Name", "MaximumRetryCount", NULL };
	int r = sn_json_only_keys(rp, "HostConfig.RestartPolicy", keys, err);
	if (r < 0)
		return r;
	const char *name = "no";
	int64_t max = 0;
	bool present;
	if ((r = sn_json_string(rp, "HostConfig.RestartPolicy", "Name", &name, err)) < 0)
		return r;
	if (r == 0 || !*name)
		name = "no";
	if ((r = sn_json_int(rp, "HostConfig.RestartPolicy", "MaximumRetryCount", &max, err)) < 0)
		return r;
	present = r > 0;
	if (strcmp(name, "no") && strcmp(name, "always") && strcmp(name, "unless-stopped") &&
	    strcmp(name, "on-failure"))
		return sn_err_msg(err, EINVAL, "HostConfig.RestartPolicy.Name: `%s` is not one of no, "
				  "on-failure, always, unless-stopped", name);
	if (max < 0 || max > 1000000)
		return sn_err_msg(err, EINVAL, "HostConfig.RestartPolicy.MaximumRetryCount: must be 0..1000000");
	if (present && max > 0 && strcmp(name, "on-failure") != 0)
		return sn_err_msg(err, EINVAL, "HostConfig.RestartPolicy.MaximumRetryCount: only with on-failure");
	char buf[64];
	if (strcmp(name, "on-failure") == 0 && max > 0)
		snprintf(buf, sizeof(buf), "on-failure:%lld", (long long)max);
	else
		snprintf(buf, sizeof(buf), "%s", name);
	json_object_set_new(out, "Restart", json_string(buf));
	return 0;
}

/* One bind: a host path (absolute, must exist) or a volume name (made on
 * create when missing, of size `size`, else the subnode's share). */
static int bind_add(json_t *res, const char *what, const char *src, const char *dst, bool ro,
		    uint64_t size, struct sn_err *err)
{
	if (!dst || dst[0] != '/' || strstr(dst, ".."))
		return sn_err_msg(err, EINVAL, "%s: container path `%s` must be absolute, without `..`",
				  what, dst ? dst : "");
	if (src[0] == '/') {
		if (access(src, F_OK) < 0)
			return sn_err_msg(err, EINVAL, "%s: host path `%s` does not exist", what, src);
		return json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind",
			"Source", src, "Destination", dst, "ReadOnly", ro)) ? sn_err_set(err, ENOMEM, "binds") : 0;
	}
	if (!node_name_valid(src))
		return sn_err_msg(err, EINVAL, "%s: `%s` is neither an absolute host path nor a volume "
				  "name ([a-zA-Z0-9][a-zA-Z0-9_.-]{0,127})", what, src);
	json_t *b = json_pack("{s:s, s:s, s:s, s:b}", "Type", "volume", "Name", src,
			      "Destination", dst, "ReadOnly", ro);
	if (b && size)
		json_object_set_new(b, "SizeBytes", json_integer((json_int_t)size));
	return json_array_append_new(res, b) ? sn_err_set(err, ENOMEM, "binds") : 0;
}

/* "src:dst[:opts]": src a host path or a volume name; opts a comma list of
 * ro, rw and (for a volume made on the fly) size=N. */
static int bind_string(json_t *res, size_t i, const char *s, struct sn_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "HostConfig.Binds[%zu]", i);
	_cleanup_free_ char *c = strdup(s);
	if (!c)
		return sn_err_set(err, ENOMEM, "binds");
	char *src = c, *dst = strchr(c, ':'), *mode = NULL;
	if (dst) {
		*dst++ = '\0';
		mode = strchr(dst, ':');
		if (mode)
			*mode++ = '\0';
	}
	bool ro = false;
	uint64_t size = 0;
	char *save = NULL;
	for (char *o = mode ? strtok_r(mode, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
		if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0)
			ro = strcmp(o, "ro") == 0;
		else if (strncmp(o, "size=", 5) == 0 && src[0] != '/' &&
			 node_volume_parse_size(o + 5, &size) == 0)
			;
		else
			return sn_err_msg(err, EINVAL, "%s: `%s` is not SRC:/container/path[:ro|rw[,size=N]] "
					  "(bad option `%s`)", what, s, o);
	}
	if (!dst || !*src)
		return sn_err_msg(err, EINVAL, "%s: `%s` is not SRC:/container/path[:ro|rw]", what, s);
	return bind_add(res, what, src, dst, ro, size, err);
}

/* Docker's HostConfig.Mounts: {"Type": "bind"|"volume", "Source", "Target",
 * "ReadOnly", "VolumeOptions": {"Labels", "DriverConfig": {"Options":
 * {"size"}}}}. */
static int mount_object(json_t *res, size_t i, json_t *m, struct sn_err *err)
{
	char what[64];
	snprintf(what, sizeof(what), "HostConfig.Mounts[%zu]", i);
	static const char *const keys[] = { "Type", "Source", "Target", "ReadOnly", "VolumeOptions",
					    "Consistency", NULL };
	if (!json_is_object(m))
		return sn_err_msg(err, EINVAL, "%s: must be an object", what);
	int r = sn_json_only_keys(m, what, keys, err);
	if (r < 0)
		return r;
	const char *type = json_string_value(json_object_get(m, "Type"));
	const char *src = json_string_value(json_object_get(m, "Source"));
	const char *dst = json_string_value(json_object_get(m, "Target"));
	bool ro = json_is_true(json_object_get(m, "ReadOnly"));
	if (!type || (strcmp(type, "bind") && strcmp(type, "volume")))
		return sn_err_msg(err, EINVAL, "%s.Type: must be bind or volume", what);
	if (!src || !*src || (strcmp(type, "volume") == 0) != (src[0] != '/'))
		return sn_err_msg(err, EINVAL, "%s.Source: a %s needs %s", what, type,
				  strcmp(type, "bind") == 0 ? "an absolute host path" : "a volume name");
	uint64_t size = 0;
	json_t *sz = json_object_get(json_object_get(json_object_get(json_object_get(m, "VolumeOptions"),
								     "DriverConfig"), "Options"), "size");
	if (sz && (!json_is_string(sz) || node_volume_parse_size(json_string_value(sz), &size) < 0))
		return sn_err_msg(err, EINVAL, "%s.VolumeOptions.DriverConfig.Options.size: must be a size "
				  "such as 10G", what);
	return bind_add(res, what, src, dst, ro, size, err);
}

static int binds(json_t *hc, json_t *out, struct sn_err *err)
{
	json_t *b = json_object_get(hc, "Binds"), *m = json_object_get(hc, "Mounts");
	if ((!b || json_is_null(b)) && (!m || json_is_null(m)))
		return 0;
	if (b && !json_is_null(b) && !json_is_array(b))
		return sn_err_msg(err, EINVAL, "HostConfig.Binds: must be an array of strings");
	if (m && !json_is_null(m) && !json_is_array(m))
		return sn_err_msg(err, EINVAL, "HostConfig.Mounts: must be an array of objects");
	json_t *res = json_array();
	json_object_set_new(out, "Binds", res);
	size_t i;
	json_t *e;
	int r;
	json_array_foreach(b, i, e) {
		if (!json_is_string(e))
			return sn_err_msg(err, EINVAL, "HostConfig.Binds[%zu]: must be a string", i);
		if ((r = bind_string(res, i, json_string_value(e), err)) < 0)
			return r;
	}
	json_array_foreach(m, i, e)
		if ((r = mount_object(res, i, e, err)) < 0)
			return r;
	return 0;
}

/* HTTP "[host:]port[/path]", TCP "[host:]port": what the supervisor will
 * connect to, parsed now by the same parser (base/parse.h). */
static int health_target(const char *kind, json_t *t, struct sn_err *err)
{
	if (strcmp(kind, "HTTP") && strcmp(kind, "TCP"))
		return 0;
	const char *s = json_string_value(json_array_get(t, 1)), *path;
	struct sockaddr_in a;
	if (sn_parse_inet_target(s, &a, &path) < 0 || (strcmp(kind, "TCP") == 0 && strcmp(path, "/")))
		return sn_err_msg(err, EINVAL, "Healthcheck.Test: %s `%s`: must be [IPv4:]PORT%s "
				  "with PORT 1..65535", kind, s, kind[0] == 'H' ? "[/PATH]" : "");
	return 0;
}

static int health(json_t *body, json_t *out, unsigned min_ms, struct sn_err *err)
{
	json_t *h = json_object_get(body, "Healthcheck");
	if (!h || json_is_null(h))
		return 0;
	if (!json_is_object(h))
		return sn_err_msg(err, EINVAL, "Healthcheck: must be an object");
	static const char *const keys[] = { "Test", "Interval", "Timeout", "Retries", "StartPeriod",
					    "StartInterval", "OnUnhealthy", NULL };
	int r = sn_json_only_keys(h, "Healthcheck", keys, err);
	if (r < 0)
		return r;
	_cleanup_json_ json_t *hc = json_object();
	if ((r = strv_field(h, "Test", hc, err)) < 0)
		return sn_err_wrap(err, "Healthcheck");
	json_t *t = json_object_get(hc, "Test");
	if (t) {
		const char *kind = json_string_value(json_array_get(t, 0));
		if (!kind || (strcmp(kind, "NONE") && strcmp(kind, "CMD") && strcmp(kind, "CMD-SHELL") &&
			      strcmp(kind, "HTTP") && strcmp(kind, "TCP")))
			return sn_err_msg(err, EINVAL, "Healthcheck.Test: first element must be NONE, CMD, "
					  "CMD-SHELL, HTTP or TCP");
		if (strcmp(kind, "NONE") != 0 && json_array_size(t) < 2)
			return sn_err_msg(err, EINVAL, "Healthcheck.Test: %s needs an argument", kind);
		if ((r = health_target(kind, t, err)) < 0)
			return r;
	}
	static const char *const nums[] = { "Interval", "Timeout", "Retries", "StartPeriod",
					    "StartInterval" };
	for (size_t i = 0; i < SN_ARRAY_SIZE(nums); i++) {
		int64_t v;
		if ((r = sn_json_int(h, "Healthcheck", nums[i], &v, err)) < 0)
			return r;
		if (r == 0)
			continue;
		if (v < 0 || (i != 2 && v != 0 && v < 1000000))
			return sn_err_msg(err, EINVAL, "Healthcheck.%s: must be 0 or at least 1 ms (in ns)",
					  nums[i]);
		/* each check is a runtime exec from outside the subnode's cgroup:
		 * the node sets how often one subnode may ask for one */
		if ((i == 0 || i == 4) && v != 0 && v < (int64_t)min_ms * 1000000)
			return sn_err_msg(err, EINVAL, "Healthcheck.%s: at least %u ms on this node "
					  "(health_interval_min)", nums[i], min_ms);
		json_object_set_new(hc, nums[i], json_integer(v));
	}
	const char *on;
	if ((r = sn_json_string(h, "Healthcheck", "OnUnhealthy", &on, err)) < 0)
		return r;
	if (r) {
		if (strcmp(on, "none") && strcmp(on, "restart"))
			return sn_err_msg(err, EINVAL, "Healthcheck.OnUnhealthy: `%s` is not none or restart", on);
		json_object_set_new(hc, "OnUnhealthy", json_string(on));
	}
	json_object_set(out, "Healthcheck", hc);
	return 0;
}

int node_validate_create(struct node *n, const char *name, json_t *body, json_t **out,
			 struct sn_err *err)
{
	if (!json_is_object(body))
		return sn_err_msg(err, EINVAL, "request body: must be a JSON object");
	static const char *const keys[] = { "Image", "Cmd", "Entrypoint", "Env", "WorkingDir", "User",
		"Hostname", "Labels", "StopSignal", "StopTimeout", "Tty", "OpenStdin", "AttachStdin",
		"AttachStdout", "AttachStderr", "Healthcheck", "Size", "HostConfig", NULL };
	int r = sn_json_only_keys(body, "", keys, err);
	if (r < 0)
		return r;
	if (name && !node_name_valid(name))
		return sn_err_msg(err, EINVAL, "name `%s`: must be 1-128 of [a-zA-Z0-9_.-], "
				  "starting with a letter or digit", name);
	_cleanup_json_ json_t *c = json_object();
	const char *s;
	if ((r = sn_json_string(body, "", "Image", &s, err)) < 0)
		return r;
	if (r == 0 || !*s)
		return sn_err_msg(err, EINVAL, "Image: required");
	struct image_ref ref;
	if ((r = image_ref_parse(s, &ref, err)) < 0)
		return sn_err_wrap(err, "Image");
	image_ref_free(&ref);
	struct image *img = NULL;
	pthread_mutex_lock(&n->images_lock);
	r = image_load(n->images, s, &img, err);
	pthread_mutex_unlock(&n->images_lock);
	if (r == -ENOENT)
		return sn_err_msg(err, ENOENT, "No such image: %s", s);
	if (r < 0)
		return r;
	json_object_set_new(c, "Image", json_string(s));
	json_object_set_new(c, "ImageDigest", json_string(img->manifest_digest));
	json_t *icfg = json_object_get(img->config, "config");
	if ((r = strv_field(body, "Cmd", c, err)) == 0 && (r = strv_field(body, "Entrypoint", c, err)) == 0)
		r = strv_field(body, "Env", c, err);
	if (r < 0) {
		image_free(img);
		return r;
	}
	/* Args: Docker's rule — an Entrypoint given drops the image's Cmd. */
	json_t *ep = json_object_get(c, "Entrypoint"), *cmd = json_object_get(c, "Cmd");
	json_t *args = json_array();
	json_t *eps = ep ? ep : json_object_get(icfg, "Entrypoint");
	if (json_is_array(eps))
		json_array_extend(args, eps);
	if (cmd)
		json_array_extend(args, cmd);
	else if (!ep && json_is_array(json_object_get(icfg, "Cmd")))
		json_array_extend(args, json_object_get(icfg, "Cmd"));
	image_free(img);
	if (json_array_size(args) == 0) {
		json_decref(args);
		return sn_err_msg(err, EINVAL, "Cmd: the image has no command; give Cmd or Entrypoint");
	}
	if (!*json_string_value(json_array_get(args, 0))) {
		json_decref(args);
		return sn_err_msg(err, EINVAL, "Cmd: the command to run is an empty string");
	}
	json_object_set_new(c, "Args", args);
	json_t *env = json_object_get(c, "Env");
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *kv = json_string_value(e);
		if (!strchr(kv, '=') || kv[0] == '=')
			return sn_err_msg(err, EINVAL, "Env[%zu]: `%s` is not KEY=VALUE", i, kv);
	}
	static const char *const strs[] = { "WorkingDir", "User", "Hostname", "StopSignal" };
	for (size_t k = 0; k < SN_ARRAY_SIZE(strs); k++) {
		if ((r = sn_json_string(body, "", strs[k], &s, err)) < 0)
			return r;
		if (r && *s)
			json_object_set_new(c, strs[k], json_string(s));
	}
	const char *wd = json_string_value(json_object_get(c, "WorkingDir"));
	if (wd && wd[0] != '/')
		return sn_err_msg(err, EINVAL, "WorkingDir: `%s` must be an absolute path", wd);
	const char *hn = json_string_value(json_object_get(c, "Hostname"));
	if (hn && (strlen(hn) > 63 || !node_name_valid(hn)))
		return sn_err_msg(err, EINVAL, "Hostname: `%s` is not a valid host name", hn);
	int sig;
	const char *ss = json_string_value(json_object_get(c, "StopSignal"));
	if (ss && node_parse_signal(ss, &sig) < 0)
		return sn_err_msg(err, EINVAL, "StopSignal: `%s` is not a signal", ss);
	int64_t to;
	if ((r = sn_json_int(body, "", "StopTimeout", &to, err)) < 0)
		return r;
	if (r) {
		if (to < 0 || to > 3600)
			return sn_err_msg(err, EINVAL, "StopTimeout: must be 0..3600 seconds");
		json_object_set_new(c, "StopTimeout", json_integer(to));
	}
	static const char *const bools[] = { "Tty", "OpenStdin", "AttachStdin", "AttachStdout",
					     "AttachStderr" };
	for (size_t k = 0; k < SN_ARRAY_SIZE(bools); k++) {
		bool b;
		if ((r = sn_json_bool(body, "", bools[k], &b, err)) < 0)
			return r;
		if (r && k == 0 && b)
			json_object_set_new(c, "Tty", json_true());
	}
	json_t *labels = json_object_get(body, "Labels");
	if (labels && !json_is_null(labels)) {
		const char *k;
		json_t *v;
		if (!json_is_object(labels))
			return sn_err_msg(err, EINVAL, "Labels: must be an object of strings");
		json_object_foreach(labels, k, v)
			if (!json_is_string(v))
				return sn_err_msg(err, EINVAL, "Labels.%s: must be a string", k);
		json_object_set(c, "Labels", labels);
	}
	const char *size = n->cfg.default_size;
	if ((r = sn_json_string(body, "", "Size", &s, err)) < 0)
		return r;
	if (r && *s)
		size = s;
	const struct node_size *sz = node_config_size(&n->cfg, size);
	if (!sz) {
		char buf[512];
		return sn_err_msg(err, EINVAL, "Size: `%s` is not one of %s", size,
				  node_config_sizes_str(&n->cfg, buf, sizeof(buf)));
	}
	json_object_set_new(c, "Size", json_string(sz->name));
	json_object_set_new(c, "Units", json_integer(sz->units));
	if ((r = health(body, c, n->cfg.health_interval_min_ms, err)) < 0)
		return r;
	json_t *hc = json_object_get(body, "HostConfig");
	if (hc && !json_is_null(hc)) {
		if (!json_is_object(hc))
			return sn_err_msg(err, EINVAL, "HostConfig: must be an object");
		static const char *const hkeys[] = { "Binds", "Mounts", "RestartPolicy", "AutoRemove", "NetworkMode",
						     "PortBindings", "PortSlot", "PortAllow", NULL };
		if ((r = sn_json_only_keys(hc, "HostConfig", hkeys, err)) < 0)
			return r;
		bool ar;
		if ((r = sn_json_bool(hc, "HostConfig", "AutoRemove", &ar, err)) < 0)
			return r;
		if (r && ar)
			json_object_set_new(c, "AutoRemove", json_true());
	}
	if ((r = restart_policy(hc, c, err)) < 0 || (r = binds(hc, c, err)) < 0 ||
	    (r = node_net_validate(n, json_is_object(hc) ? hc : NULL, c, err)) < 0)
		return r;
	*out = steal_ptr(c);
	return 0;
}
