/* inspect.c — what the API shows: inspect (one subnode, Docker's
 * /containers/{id}/json shape where it fits), list (Docker's
 * /containers/json with its filters), node info and version.
 *
 * The db row holds the lifecycle; the supervisor's status file holds what
 * only it knows while it runs (the pid). Both are read on each call.
 */
#include "node/node.h"
#include "node/network.h"
#include "node/volume.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "image/image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *public_state(const char *s)
{
	if (strcmp(s, "creating") == 0)
		return "created";
	return s;
}

static json_t *state_obj(struct node *n, json_t *row)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *st = public_state(json_string_value(json_object_get(row, "state")));
	_cleanup_json_ json_t *status = NULL;
	struct sn_err e = { 0 };
	node_read_status(n, id, &status, &e);
	bool running = strcmp(st, "running") == 0;
	char started[40], finished[40];
	node_time_str(json_integer_value(json_object_get(row, "started_at")), started);
	node_time_str(json_integer_value(json_object_get(row, "finished_at")), finished);
	json_t *h = json_object_get(row, "health");
	json_t *o = json_pack("{s:s, s:b, s:b, s:b, s:b, s:I, s:I, s:s, s:s, s:s}",
		"Status", st, "Running", running, "Paused", 0,
		"Restarting", strcmp(st, "restarting") == 0, "OOMKilled",
		status && json_integer_value(json_object_get(status, "oom")) != 0,
		"Pid", running && status ? json_integer_value(json_object_get(status, "pid")) : 0,
		"ExitCode", json_integer_value(json_object_get(row, "exit_code")),
		"Error", json_string_value(json_object_get(row, "error")),
		"StartedAt", started, "FinishedAt", finished);
	if (o && json_string_length(h))
		json_object_set_new(o, "Health", json_pack("{s:O, s:I, s:[{s:s}]}", "Status", h,
			"FailingStreak", json_integer_value(json_object_get(status, "health_failing")),
			"Log", "Output", json_string_value(json_object_get(status, "health_output")) ?: ""));
	return o;
}

static json_t *inspect_row(struct node *n, json_t *row)
{
	json_t *cfg = json_object_get(row, "config");
	const char *id = json_string_value(json_object_get(row, "id"));
	char created[40];
	node_time_str(json_integer_value(json_object_get(row, "created")), created);
	_cleanup_free_ char *logp = node_subnode_dir(n, id, "container.log");
	_cleanup_free_ char *bundle = node_subnode_dir(n, id, "bundle");
	json_t *args = json_object_get(cfg, "Args");
	char slashed[160];   /* Docker's names start with a slash */
	snprintf(slashed, sizeof(slashed), "/%s", json_string_value(json_object_get(row, "name")) ?: "");
	char cg[4096];
	snprintf(cg, sizeof(cg), "%s/%s", strcmp(n->cfg.cgroup_parent, "/") ? n->cfg.cgroup_parent : "", id);
	unsigned units = (unsigned)json_integer_value(json_object_get(row, "units"));
	const char *restart = json_string_value(json_object_get(cfg, "Restart"));
	char rname[32] = "no";
	unsigned long max = 0;
	if (restart) {
		snprintf(rname, sizeof(rname), "%s", restart);
		char *colon = strchr(rname, ':');
		if (colon) {
			*colon = '\0';
			max = strtoul(colon + 1, NULL, 10);
		}
	}
	json_t *res = node_slices_resources(n, units);
	json_t *o = json_pack("{s:s, s:s, s:s, s:O, s:[], s:o, s:s, s:s, s:I, s:s, s:s, s:s, s:I,"
			      " s:s, s:o, s:{s:{s:s, s:I}, s:O, s:s}, s:{s:O, s:O, s:O, s:O, s:O, s:O, s:O}}",
		"Id", id, "Created", created, "Path", json_string_value(json_array_get(args, 0)) ?: "",
		"Args", args, "Mounts", "State", state_obj(n, row),
		"Image", json_string_value(json_object_get(cfg, "ImageDigest")) ?: "",
		"Name", slashed,
		"RestartCount", json_integer_value(json_object_get(row, "restart_count")),
		"LogPath", logp ? logp : "", "BundlePath", bundle ? bundle : "",
		"Size", json_string_value(json_object_get(row, "size")),
		"Units", (json_int_t)units, "CgroupPath", cg, "Resources", res ? res : json_object(),
		"HostConfig", "RestartPolicy", "Name", rname, "MaximumRetryCount", (json_int_t)max,
		"Binds", json_null(), "Runtime", n->cfg.runtime,
		"Config", "Image", json_object_get(cfg, "Image"),
		"Cmd", json_object_get(cfg, "Cmd") ?: json_null(),
		"Entrypoint", json_object_get(cfg, "Entrypoint") ?: json_null(),
		"Env", json_object_get(cfg, "Env") ?: json_array(),
		"Labels", json_object_get(cfg, "Labels") ?: json_object(),
		"Healthcheck", json_object_get(cfg, "Healthcheck") ?: json_null(),
		"Hostname", json_object_get(cfg, "Hostname") ?: json_null());
	json_object_set_new(o, "NetworkSettings", node_net_inspect(n, id, cfg));
	/* the rest of Docker's Config that its clients read (docker-py: Tty) */
	json_t *cj = json_object_get(o, "Config");
	const char *user = json_string_value(json_object_get(cfg, "User"));
	const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
	const char *ss = json_string_value(json_object_get(cfg, "StopSignal"));
	json_object_update_new(cj, json_pack("{s:b, s:b, s:b, s:b, s:b, s:s, s:s, s:s}",
		"Tty", json_is_true(json_object_get(cfg, "Tty")), "OpenStdin", 0, "AttachStdin", 0,
		"AttachStdout", 0, "AttachStderr", 0, "User", user ? user : "",
		"WorkingDir", wd ? wd : "", "StopSignal", ss ? ss : "SIGTERM"));
	json_object_set_new(json_object_get(o, "HostConfig"), "AutoRemove",
			    json_boolean(json_is_true(json_object_get(cfg, "AutoRemove"))));
	json_t *mounts = json_object_get(o, "Mounts");
	size_t i;
	json_t *b;
	json_t *binds = json_array();   /* Docker's "SRC:DST[:ro]" strings */
	json_object_set_new(json_object_get(o, "HostConfig"), "Binds", binds);
	json_array_foreach(json_object_get(cfg, "Binds"), i, b)
	{
		const char *src = json_string_value(json_object_get(b, "Name")) ?:
				  json_string_value(json_object_get(b, "Source"));
		char bs[8400];
		snprintf(bs, sizeof(bs), "%s:%s%s", src ? src : "",
			 json_string_value(json_object_get(b, "Destination")) ?: "",
			 json_is_true(json_object_get(b, "ReadOnly")) ? ":ro" : "");
		json_array_append_new(binds, json_string(bs));
		json_t *m = json_pack("{s:s, s:O, s:O, s:b}", "Type",
			json_string_value(json_object_get(b, "Type")) ?: "bind",
			"Source", json_object_get(b, "Source"), "Destination", json_object_get(b, "Destination"),
			"RW", !json_is_true(json_object_get(b, "ReadOnly")));
		if (m && json_object_get(b, "Name"))
			json_object_set(m, "Name", json_object_get(b, "Name"));
		json_array_append_new(mounts, m);
	}
	return o;
}

int node_inspect(struct node *n, const char *ref, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	*out = inspect_row(n, row);
	return *out ? 0 : sn_err_set(err, ENOMEM, "inspect");
}

static void human_duration(int64_t ns, char *buf, size_t n)
{
	int64_t s = ns / 1000000000LL;
	if (s < 1) snprintf(buf, n, "Less than a second");
	else if (s < 60) snprintf(buf, n, "%lld seconds", (long long)s);
	else if (s < 3600) snprintf(buf, n, "%lld minutes", (long long)s / 60);
	else if (s < 172800) snprintf(buf, n, "%lld hours", (long long)s / 3600);
	else snprintf(buf, n, "%lld days", (long long)s / 86400);
}

static bool filter_match(json_t *filters, const char *key, const char *value, bool prefix)
{
	json_t *want = json_object_get(filters, key);
	if (!want)
		return true;
	/* Docker sends {"name":{"x":true}} or {"name":["x"]}. */
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(want)) {
		json_object_foreach(want, k, v)
			if (prefix ? strncmp(value, k, strlen(k)) == 0 : strcmp(value, k) == 0)
				return true;
		return false;
	}
	json_array_foreach(want, i, v) {
		const char *s = json_string_value(v);
		if (s && (prefix ? strncmp(value, s, strlen(s)) == 0 : strcmp(value, s) == 0))
			return true;
	}
	return false;
}

static bool label_match(json_t *filters, json_t *labels)
{
	json_t *want = json_object_get(filters, "label");
	if (!want)
		return true;
	size_t i;
	json_t *v;
	const char *k;
	json_t *items = json_is_object(want) ? json_array() : json_incref(want);
	if (json_is_object(want))
		json_object_foreach(want, k, v)
			json_array_append_new(items, json_string(k));
	bool ok = true;
	json_array_foreach(items, i, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		const char *eq = strchr(s, '=');
		char key[256];
		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - s) : (int)strlen(s), s);
		const char *have = json_string_value(json_object_get(labels, key));
		if (!have || (eq && strcmp(have, eq + 1) != 0))
			ok = false;
	}
	json_decref(items);
	return ok;
}

int node_list(struct node *n, bool all, json_t *filters, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *rows = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_db_list(n->db, &rows, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	json_t *a = json_array();
	size_t i;
	json_t *row;
	int64_t now = node_now_ns();
	json_array_foreach(rows, i, row) {
		json_t *cfg = json_object_get(row, "config");
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *name = json_string_value(json_object_get(row, "name"));
		const char *st = public_state(json_string_value(json_object_get(row, "state")));
		if (!all && strcmp(st, "running") != 0 && strcmp(st, "restarting") != 0 &&
		    !json_object_get(filters, "status"))
			continue;
		if (!filter_match(filters, "name", name, false) || !filter_match(filters, "id", id, true) ||
		    !filter_match(filters, "status", st, false) ||
		    !filter_match(filters, "size", json_string_value(json_object_get(row, "size")), false) ||
		    !label_match(filters, json_object_get(cfg, "Labels")))
			continue;
		char status[128], dur[64];
		if (strcmp(st, "running") == 0) {
			human_duration(now - json_integer_value(json_object_get(row, "started_at")), dur, sizeof(dur));
			snprintf(status, sizeof(status), "Up %s", dur);
		} else if (strcmp(st, "exited") == 0) {
			human_duration(now - json_integer_value(json_object_get(row, "finished_at")), dur, sizeof(dur));
			snprintf(status, sizeof(status), "Exited (%lld) %s ago",
				 (long long)json_integer_value(json_object_get(row, "exit_code")), dur);
		} else if (strcmp(st, "restarting") == 0) {
			snprintf(status, sizeof(status), "Restarting (%lld)",
				 (long long)json_integer_value(json_object_get(row, "exit_code")));
		} else {
			snprintf(status, sizeof(status), "%c%s", st[0] - 32, st + 1);
		}
		const char *health = json_string_value(json_object_get(row, "health"));
		if (health && *health && strcmp(st, "running") == 0) {
			size_t l = strlen(status);
			snprintf(status + l, sizeof(status) - l, " (%s)", health);
		}
		_cleanup_free_ char *cmd = NULL;
		size_t cl = 0, j;
		json_t *arg;
		FILE *f = open_memstream(&cmd, &cl);
		json_array_foreach(json_object_get(cfg, "Args"), j, arg)
			fprintf(f, "%s%s", j ? " " : "", json_string_value(arg));
		fclose(f);
		char slashed[160];   /* Docker's names start with a slash */
		snprintf(slashed, sizeof(slashed), "/%s", name);
		json_array_append_new(a, json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:s, s:s, s:O, s:s, s:I, s:I}",
			"Id", id, "Names", slashed, "Image", json_string_value(json_object_get(cfg, "Image")),
			"ImageID", json_string_value(json_object_get(cfg, "ImageDigest")) ?: "",
			"Command", cmd ? cmd : "",
			"Created", (json_int_t)(json_integer_value(json_object_get(row, "created")) / 1000000000LL),
			"State", st, "Status", status, "Labels", json_object_get(cfg, "Labels") ?: json_object(),
			"Size", json_string_value(json_object_get(row, "size")),
			"Units", json_integer_value(json_object_get(row, "units")),
			"RestartCount", json_integer_value(json_object_get(row, "restart_count"))));
	}
	*out = a;
	return 0;
}

int node_version(json_t **out)
{
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	/* Docker names architectures as Go does */
	const char *arch = strcmp(u.machine, "x86_64") == 0 ? "amd64" :
			   strcmp(u.machine, "aarch64") == 0 ? "arm64" : u.machine;
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:s}]}", "Version", NODE_VERSION,
			 "ApiVersion", NODE_API_VERSION, "MinAPIVersion", NODE_API_MIN_VERSION, "Os", "linux",
			 "Arch", arch, "KernelVersion", u.release, "Platform", "Name", "subnode",
			 "Components", "Name", "Engine", "Version", NODE_VERSION);
	return *out ? 0 : -ENOMEM;
}

int node_info(struct node *n, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *rows = NULL;
	unsigned used = 0;
	pthread_mutex_lock(&n->lock);
	int r = node_db_list(n->db, &rows, err);
	if (r == 0)
		r = node_db_units_used(n->db, &used, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	unsigned running = 0, stopped = 0, restarting = 0;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *st = json_string_value(json_object_get(row, "state"));
		if (strcmp(st, "running") == 0) running++;
		else if (strcmp(st, "restarting") == 0) restarting++;
		else stopped++;
	}
	json_t *sizes = json_object();
	for (unsigned k = 0; k < n->cfg.n_sizes; k++)
		json_object_set_new(sizes, n->cfg.sizes[k].name, json_integer(n->cfg.sizes[k].units));
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	const struct node_slices *s = &n->slices;
	unsigned free_u = used >= NODE_UNITS ? 0 : NODE_UNITS - used;
	json_t *fits = json_array();
	for (unsigned k = 0; k < n->cfg.n_sizes; k++)
		json_array_append_new(fits, json_pack("{s:s, s:I}", "Size", n->cfg.sizes[k].name, "Count",
						      (json_int_t)(free_u / n->cfg.sizes[k].units)));
	char started[40];
	node_time_str(n->started_at, started);
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:I,"
			 " s:{s:i, s:i, s:i, s:f, s:I, s:I, s:f, s:I, s:I, s:b, s:o, s:o, s:I}, s:s, s:s}",
		"Name", host, "ServerVersion", NODE_VERSION, "Root", n->cfg.root, "Socket", n->cfg.socket,
		"Runtime", n->cfg.runtime, "RuntimePath", n->runtime_path, "CgroupParent", n->cfg.cgroup_parent,
		"Containers", (int)json_array_size(rows), "ContainersRunning", (int)running,
		"ContainersStopped", (int)stopped, "ContainersRestarting", (int)restarting,
		"NCPU", (int)sysconf(_SC_NPROCESSORS_ONLN), "CPUs", s->cpus,
		"MemTotal", (json_int_t)(s->memory + n->cfg.reserve_memory),
		"Slices", "Units", NODE_UNITS, "Used", (int)used, "Free", (int)free_u,
		"UnitCPUs", s->unit_cpus, "UnitMemory", (json_int_t)s->unit_memory,
		"UnitDisk", (json_int_t)s->unit_disk, "ReserveCPUs", n->cfg.reserve_cpus,
		"ReserveMemory", (json_int_t)n->cfg.reserve_memory,
		"ReserveDisk", (json_int_t)n->cfg.reserve_disk, "IOWeight", s->io_weight,
		"Sizes", sizes, "Fits", fits, "PidsPerUnit", (json_int_t)n->cfg.pids_per_unit,
		"SupervisorPath", n->sup_path, "StartedAt", started);
	if (*out)
		json_object_set_new(*out, "Volumes", node_volumes_info(n));
	/* what Docker's clients read besides (docker info; --device checks OSType) */
	struct utsname u;
	if (*out && uname(&u) == 0)
		json_object_update_new(*out, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "OSType", "linux",
			"OperatingSystem", "subnode", "Architecture", u.machine, "KernelVersion", u.release,
			"DockerRootDir", n->cfg.root, "Driver", "overlay"));
	return *out ? 0 : sn_err_set(err, ENOMEM, "info");
}
