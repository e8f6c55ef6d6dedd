/* lifecycle.c — create, start, stop, kill, restart and remove a subnode.
 *
 * Each operation writes its intent to the db before acting, so a crash at
 * any step leaves a row that reconcile.c can finish or undo:
 *   create:  row `creating` (+ network reservation) → netns, veth,
 *            firewall (network.c) → bundle (overlay snapshot + config.json
 *            with the slice's limits) → row `created`; a failure undoes all.
 *   start:   desired=running → the rootfs mounted again if it is not (a
 *            reboot) → supervisor (runtime create + start) → the
 *            supervisor's status folded in.
 *   stop:    desired=stopped + stop mark → runtime kill SIG → wait up to the
 *            timeout for the supervisor to end → runtime kill KILL.
 *   remove:  row `removing` → kill → runtime delete → bundle → dir → row.
 * Long operations on one subnode are serialised by a busy mark (409 on a
 * second one), without holding the node lock while waiting.
 */
#include "node/node.h"
#include "node/network.h"
#include "node/metrics.h"
#include "node/db.h"
#include "node/volume.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/log.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static int busy_take(struct node *n, const char *id, const char *name, const char *what,
		     struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	json_t *b = json_object_get(n->busy, id);
	if (b) {
		int r = sn_err_msg(err, EBUSY, "subnode %s is busy (%s); try again", name,
				   json_string_value(b));
		pthread_mutex_unlock(&n->lock);
		return r;
	}
	json_object_set_new(n->busy, id, json_string(what));
	pthread_mutex_unlock(&n->lock);
	return 0;
}

static void busy_release(struct node *n, const char *id)
{
	pthread_mutex_lock(&n->lock);
	json_object_del(n->busy, id);
	pthread_mutex_unlock(&n->lock);
}

int node_find(struct node *n, const char *ref, json_t **row, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	int r = node_db_find(n->db, ref, row, err);
	pthread_mutex_unlock(&n->lock);
	return r;
}

static int update(struct node *n, const char *id, json_t *fields, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	int r = node_db_update(n->db, id, fields, err);
	pthread_mutex_unlock(&n->lock);
	json_decref(fields);
	return r;
}

static int mark(struct node *n, const char *id, const char *file, bool on, struct sn_err *err)
{
	_cleanup_free_ char *p = node_subnode_dir(n, id, file);
	if (!p)
		return sn_err_set(err, ENOMEM, "mark");
	if (on)
		return sn_write_file(p, "", 0, 0644, err);
	if (unlink(p) < 0 && errno != ENOENT)
		return sn_err_sys(err, "unlink `%s`", p);
	return 0;
}

static const char *row_id(json_t *row) { return json_string_value(json_object_get(row, "id")); }
static const char *row_name(json_t *row) { return json_string_value(json_object_get(row, "name")); }

static void event(struct node *n, json_t *row, const char *action, json_t *extra)
{
	json_t *cfg = json_object_get(row, "config");
	json_t *a = json_pack("{s:s, s:s}", "name", row_name(row), "image",
			      json_string_value(json_object_get(cfg, "Image")));
	if (extra) {
		json_object_update(a, extra);
		json_decref(extra);
	}
	node_event(n, "container", action, row_id(row), a);
}

struct customize { struct node *n; const char *id; json_t *cfg; };

/* Put the node's choices into the bundle's spec (before its one write). */
static int bundle_customize(json_t *spec, void *arg, struct sn_err *err)
{
	struct customize *c = arg;
	struct node *n = c->n;
	const char *id = c->id;
	json_t *cfg = c->cfg;
	json_t *linux_ = json_object_get(spec, "linux");
	char cg[4096];
	snprintf(cg, sizeof(cg), "%s/%s", strcmp(n->cfg.cgroup_parent, "/") ? n->cfg.cgroup_parent : "", id);
	json_object_set_new(linux_, "cgroupsPath", json_string(cg));
	json_t *res = json_object_get(linux_, "resources");
	json_t *lim = node_slices_resources(n, (unsigned)json_integer_value(json_object_get(cfg, "Units")));
	if (!res || !lim) {
		json_decref(lim);
		return sn_err_msg(err, EINVAL, "bundle of `%s`: no linux.resources", id);
	}
	json_object_update(res, lim);
	json_decref(lim);
	/* The default devices every container gets (OCI "default devices"),
	 * allowed in the device cgroup after the image bundle's deny-all —
	 * what runc adds by itself and docker/podman write into the spec. */
	json_t *devs = json_object_get(res, "devices");
	if (json_is_array(devs)) {
		static const struct { char type; int major, minor; } def[] = {
			{ 'c', 1, 3 }, { 'c', 1, 5 }, { 'c', 1, 7 }, { 'c', 1, 8 }, { 'c', 1, 9 },
			{ 'c', 5, 0 }, { 'c', 5, 1 }, { 'c', 5, 2 }, { 'c', 136, -1 },
		};
		for (size_t k = 0; k < SN_ARRAY_SIZE(def); k++) {
			char t[2] = { def[k].type, 0 };
			json_t *d = json_pack("{s:b, s:s, s:I, s:s}", "allow", 1, "type", t, "major",
					      (json_int_t)def[k].major, "access", "rwm");
			if (d && def[k].minor >= 0)
				json_object_set_new(d, "minor", json_integer(def[k].minor));
			json_array_append_new(devs, d);
		}
	}
	const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
	if (wd)
		json_object_set_new(json_object_get(spec, "process"), "cwd", json_string(wd));
	if (json_is_true(json_object_get(cfg, "Tty")))
		json_object_set_new(json_object_get(spec, "process"), "terminal", json_true());
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(cfg, "Binds"), i, b) {
		bool ro = json_is_true(json_object_get(b, "ReadOnly"));
		json_array_append_new(json_object_get(spec, "mounts"),
			json_pack("{s:O, s:s, s:O, s:[s,s]}", "destination", json_object_get(b, "Destination"),
				  "type", "bind", "source", json_object_get(b, "Source"),
				  "options", "rbind", ro ? "ro" : "rw"));
	}
	json_t *ann = json_object_get(spec, "annotations");
	json_object_set_new(ann, "subnode.id", json_string(id));
	json_object_set(ann, "subnode.size", json_object_get(cfg, "Size"));
	return node_net_bundle(n, id, cfg, spec, err);
}

static int make_bundle(struct node *n, const char *id, const char *name, json_t *cfg,
		       struct sn_err *err)
{
	_cleanup_free_ char *bundle = node_subnode_dir(n, id, "bundle");
	if (!bundle)
		return sn_err_set(err, ENOMEM, "bundle");
	_cleanup_strv_ char **args = NULL, **env = NULL;
	size_t na, ne;
	int r = sn_json_strv(cfg, "", "Args", &args, &na, err);
	if (r >= 0)
		r = sn_json_strv(cfg, "", "Env", &env, &ne, err);
	if (r < 0)
		return r;
	const char *hn = json_string_value(json_object_get(cfg, "Hostname"));
	char hbuf[64];
	if (!hn) {
		snprintf(hbuf, sizeof(hbuf), "%s", strlen(name) <= 63 ? name : id);
		hbuf[strlen(name) <= 63 ? 63 : 12] = '\0';
		hn = hbuf;
	}
	struct customize c = { .n = n, .id = id, .cfg = cfg };
	struct image_bundle_opts o = {
		.snapshot_id = id, .args = args, .env = env,
		.user = json_string_value(json_object_get(cfg, "User")), .hostname = hn,
		.customize = bundle_customize, .customize_arg = &c,
	};
	/* A handle of our own: creates run in parallel (the store's file locks
	 * order them). */
	struct image_store *s = NULL;
	r = node_store_take(n, &s, err);
	if (r < 0)
		return r;
	const char *digest = json_string_value(json_object_get(cfg, "ImageDigest"));
	r = node_image_prepare(n, s, digest, err);
	if (r == 0)
		r = image_bundle_create(s, digest, bundle, &o, err);
	node_store_give(n, s);
	return r;
}

static int halt(struct node *n, json_t *row, const char *what, int sig, int timeout_s,
		struct sn_err *err);

int node_destroy(struct node *n, json_t *row, struct sn_err *err)
{
	const char *id = row_id(row);
	struct sn_err e2 = { 0 };
	/* A live supervisor would write its exit status into the directory
	 * removed below and so bring it back: a remove interrupted before the
	 * supervisor was halted is repaired with it still running. Stop mark
	 * first, so it cannot restart the container meanwhile. */
	if (node_supervisor_alive(n, id, NULL)) {
		int r0 = mark(n, id, "stop", true, err);
		if (r0 == 0)
			r0 = halt(n, row, "destroy", SIGKILL, 0, err);
		if (r0 < 0)
			return sn_err_wrap(err, "remove `%s`", row_name(row));
	}
	node_collect_forget(n, id);
	node_runtime(n, NULL, &e2, "delete", "--force", id, (char *)NULL);
	node_crashpoint(n, "destroy-runtime");
	int rn = node_net_destroy(n, id, json_object_get(row, "config"), err);
	if (rn < 0)
		return sn_err_wrap(err, "remove `%s`", row_name(row));
	_cleanup_free_ char *bundle = node_subnode_dir(n, id, "bundle");
	_cleanup_free_ char *dir = node_subnode_dir(n, id, NULL);
	if (!bundle || !dir)
		return sn_err_set(err, ENOMEM, "remove");
	struct image_store *s = NULL;
	int r = node_store_take(n, &s, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *cfgp = sn_path_join(bundle, "config.json");
	if (cfgp && sn_path_exists(cfgp))
		r = image_bundle_remove(s, bundle, id, err);
	if (r == 0)
		r = image_snapshot_remove(s, id, err);
	node_store_give(n, s);
	if (r < 0)
		return sn_err_wrap(err, "remove `%s`", row_name(row));
	node_crashpoint(n, "destroy-bundle");
	if ((r = sn_rm_rf(dir, err)) < 0)
		return r;
	static const char *const kinds[] = { "con", "att" };
	for (size_t k = 0; k < SN_ARRAY_SIZE(kinds); k++) {
		_cleanup_free_ char *sp = node_tty_socket(n, id, kinds[k]);
		if (sp && unlink(sp) < 0 && errno != ENOENT)
			return sn_err_sys(err, "remove `%s`", sp);
	}
	node_crashpoint(n, "destroy-dir");
	pthread_mutex_lock(&n->lock);
	r = node_db_delete(n->db, id, err);
	pthread_mutex_unlock(&n->lock);
	return r;
}

static int create_subnode(struct node *n, const char *name, json_t *cfg, bool start, json_t **out,
			  struct sn_err *err);

int node_create(struct node *n, const char *name, json_t *body, bool start, json_t **out,
		struct sn_err *err)
{
	_cleanup_json_ json_t *cfg = NULL;
	int r = node_validate_create(n, name, body, &cfg, err);
	if (r < 0)
		return r;
	/* Volumes it names are made first (and removed again if it fails). */
	_cleanup_json_ json_t *made = json_array();
	if (!made)
		return sn_err_set(err, ENOMEM, "create");
	if ((r = node_volumes_bind(n, cfg, made, err)) < 0) {
		node_volumes_unmake(n, made);
		return r;
	}
	r = create_subnode(n, name, cfg, start, out, err);
	if (r < 0)
		node_volumes_unmake(n, made);
	return r;
}

/* After the volumes: a failure leaves no subnode (with start, a failed
 * start removes the subnode again), the caller removes the volumes. */
static int create_subnode(struct node *n, const char *name, json_t *cfg, bool start, json_t **out,
			  struct sn_err *err)
{
	int r;
	unsigned char rnd[32];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return sn_err_sys(err, "getrandom");
	char id[65], gen[16];
	for (int i = 0; i < 32; i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	if (!name) {
		snprintf(gen, sizeof(gen), "sn-%.10s", id);
		name = gen;
	}
	const char *size = json_string_value(json_object_get(cfg, "Size"));
	unsigned units = (unsigned)json_integer_value(json_object_get(cfg, "Units"));
	_cleanup_json_ json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:O, s:I}", "id", id,
		"name", name, "state", "creating", "desired", start ? "running" : "stopped",
		"size", size, "units", (json_int_t)units, "config", cfg, "created", (json_int_t)node_now_ns());
	if (!row)
		return sn_err_set(err, ENOMEM, "create");
	/* Admission and the row in one critical section: two creates cannot
	 * both take the last free units. */
	pthread_mutex_lock(&n->lock);
	_cleanup_json_ json_t *other = NULL;
	struct sn_err e2 = { 0 };
	if (node_db_find(n->db, name, &other, &e2) == 0 &&
	    strcmp(json_string_value(json_object_get(other, "name")), name) == 0) {
		r = sn_err_msg(err, EEXIST, "Conflict. The name \"%s\" is already in use by subnode %s",
			       name, json_string_value(json_object_get(other, "id")));
	} else {
		r = node_slices_admit(n, size, units, err);
		if (r == 0)
			r = node_volumes_check_locked(n, cfg, err);
		if (r == 0)
			r = node_db_insert(n->db, row, err);
		/* Address, slot, ports: reserved with the row (a crash between
		 * the two leaves a `creating` row, removed with them). */
		if (r == 0 && (r = node_net_create_reserve(n, id, cfg, err)) < 0) {
			struct sn_err e4 = { 0 };
			node_db_delete(n->db, id, &e4);
		}
	}
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	node_crashpoint(n, "create-row");
	_cleanup_free_ char *dir = node_subnode_dir(n, id, NULL);
	r = dir ? sn_mkdir_p(dir, 0700, err) : sn_err_set(err, ENOMEM, "create");
	if (r == 0) {
		node_crashpoint(n, "create-dir");
		r = node_net_create_make(n, id, name, cfg, err);
	}
	if (r == 0) {
		r = make_bundle(n, id, name, cfg, err);
	}
	if (r == 0) {
		node_crashpoint(n, "create-bundle");
		r = update(n, id, json_pack("{s:s}", "state", "created"), err);
	}
	if (r == 0)
		node_crashpoint(n, "create-created");
	if (r < 0) {
		struct sn_err e3 = { 0 };
		if (node_destroy(n, row, &e3) < 0)
			sn_warn("undo create of `%s`: %s", name, e3.msg);
		return sn_err_wrap(err, "create `%s`", name);
	}
	event(n, row, "create", NULL);
	if (start && (r = node_start(n, id, err)) < 0) {
		/* one request made it and failed: it takes back all it made */
		struct sn_err e3 = { 0 };
		if (node_remove(n, id, true, &e3) < 0)
			sn_warn("undo create of `%s` after its start failed: %s", name, e3.msg);
		return r;
	}
	*out = json_pack("{s:s, s:s, s:[]}", "Id", id, "Name", name, "Warnings");
	return *out ? 0 : sn_err_set(err, ENOMEM, "create");
}

/* The overlay of a subnode's root file system is gone after a reboot (or
 * anyone's umount), its upper layer kept on disk: mount it again before a
 * start. A stat of two directories when it is there. */
static int ensure_rootfs(struct node *n, const char *id, const char *name, struct sn_err *err)
{
	_cleanup_free_ char *rootfs = node_subnode_dir(n, id, "bundle/rootfs");
	if (!rootfs)
		return sn_err_set(err, ENOMEM, "start");
	if (sn_is_mount_point(rootfs))
		return 0;
	struct image_store *s = NULL;
	bool mounted = false;
	int r = node_store_take(n, &s, err);
	if (r == 0) {
		r = image_snapshot_mount(s, id, &mounted, err);
		node_store_give(n, s);
	}
	if (r < 0)
		return sn_err_wrap(err, "start `%s`", name);
	if (mounted)
		sn_info("`%s`: its root file system was not mounted (after a reboot?); mounted it again", name);
	return 0;
}

int node_start(struct node *n, const char *ref, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	const char *id = row_id(row), *state = json_string_value(json_object_get(row, "state"));
	if (strcmp(state, "creating") == 0 || strcmp(state, "removing") == 0)
		return sn_err_msg(err, EBUSY, "subnode %s is %s", row_name(row), state);
	if ((r = busy_take(n, id, row_name(row), "starting", err)) < 0)
		return r;
	if (node_supervisor_alive(n, id, NULL)) {
		busy_release(n, id);
		return 1;
	}
	_cleanup_free_ char *status = node_subnode_dir(n, id, "status");
	if (status)
		unlink(status);
	r = mark(n, id, "stop", false, err);
	if (r == 0)
		r = update(n, id, json_pack("{s:s, s:s}", "desired", "running", "error", ""), err);
	if (r == 0) {
		node_crashpoint(n, "start-desired");
		r = ensure_rootfs(n, id, row_name(row), err);
	}
	if (r == 0)
		r = node_net_start(n, id, json_object_get(row, "config"), err);
	if (r == 0)
		r = node_spawn_supervisor(n, row, err);
	if (r == 0)
		node_crashpoint(n, "start-spawned");
	struct sn_err e2 = { 0 };
	node_sync_status(n, id, &e2);
	if (r < 0) {
		struct sn_err e3 = { 0 };
		update(n, id, json_pack("{s:s, s:s}", "state", "exited", "error", err->msg), &e3);
	}
	busy_release(n, id);
	return r;
}

/* Wait until the supervisor is gone; true when it is. */
static bool wait_gone(struct node *n, const char *id, int ms)
{
	for (int waited = 0;; waited += 20) {
		if (!node_supervisor_alive(n, id, NULL))
			return true;
		if (waited >= ms)
			return false;
		nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
	}
}

static void poke(struct node *n, const char *id)
{
	int pid = 0;
	if (node_supervisor_alive(n, id, &pid) && pid > 1)
		kill(pid, SIGUSR1);
}

/* Signal, wait, then KILL; with the supervisor's stop mark set first. */
static int halt(struct node *n, json_t *row, const char *what, int sig, int timeout_s,
		struct sn_err *err)
{
	const char *id = row_id(row);
	char sigs[16];
	snprintf(sigs, sizeof(sigs), "%d", sig);
	struct sn_err e2 = { 0 };
	char cp[32];
	snprintf(cp, sizeof(cp), "%s-marked", what);
	node_crashpoint(n, cp);
	node_runtime(n, NULL, &e2, "kill", id, sigs, (char *)NULL);
	poke(n, id);
	snprintf(cp, sizeof(cp), "%s-signalled", what);
	node_crashpoint(n, cp);
	if (wait_gone(n, id, timeout_s * 1000))
		return 0;
	node_runtime(n, NULL, &e2, "kill", id, "9", (char *)NULL);
	poke(n, id);
	if (wait_gone(n, id, 10000))
		return 0;
	return sn_err_msg(err, EIO, "subnode %s did not stop within %d s of SIGKILL", row_name(row),
			  timeout_s + 10);
}

int node_stop(struct node *n, const char *ref, const char *signal, int timeout,
	      struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	const char *id = row_id(row);
	json_t *cfg = json_object_get(row, "config");
	int sig = SIGTERM;
	const char *ss = signal ? signal : json_string_value(json_object_get(cfg, "StopSignal"));
	if (ss && node_parse_signal(ss, &sig) < 0)
		return sn_err_msg(err, EINVAL, "signal `%s`: not a signal", ss);
	if (timeout < 0)
		timeout = json_object_get(cfg, "StopTimeout")
			? (int)json_integer_value(json_object_get(cfg, "StopTimeout")) : (int)n->cfg.stop_timeout;
	if ((r = busy_take(n, id, row_name(row), "stopping", err)) < 0)
		return r;
	r = update(n, id, json_pack("{s:s}", "desired", "stopped"), err);
	if (r == 0)
		r = mark(n, id, "stop", true, err);
	bool was = r == 0 && node_supervisor_alive(n, id, NULL);
	if (was)
		r = halt(n, row, "stop", sig, timeout, err);
	struct sn_err e2 = { 0 };
	node_sync_status(n, id, &e2);
	busy_release(n, id);
	if (r < 0)
		return r;
	if (!was)
		return 1;
	event(n, row, "stop", NULL);
	return 0;
}

int node_kill(struct node *n, const char *ref, const char *signal, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	int sig = SIGKILL;
	if (signal && node_parse_signal(signal, &sig) < 0)
		return sn_err_msg(err, EINVAL, "signal `%s`: not a signal", signal);
	const char *id = row_id(row);
	if (!node_supervisor_alive(n, id, NULL) ||
	    strcmp(json_string_value(json_object_get(row, "state")), "running") != 0)
		return sn_err_msg(err, EBUSY, "subnode %s is not running", row_name(row));
	/* Docker's rule: a killed container is not restarted by its policy. */
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
		if ((r = update(n, id, json_pack("{s:s}", "desired", "stopped"), err)) < 0 ||
		    (r = mark(n, id, "stop", true, err)) < 0)
			return r;
	}
	char sigs[16];
	snprintf(sigs, sizeof(sigs), "%d", sig);
	r = node_runtime(n, NULL, err, "kill", id, sigs, (char *)NULL);
	if (r != 0)
		return r < 0 ? r : -EIO;
	char sigbuf[16];
	snprintf(sigbuf, sizeof(sigbuf), "%d", sig);
	event(n, row, "kill", json_pack("{s:s}", "signal", sigbuf));
	return 0;
}

int node_restart(struct node *n, const char *ref, int timeout, struct sn_err *err)
{
	int r = node_stop(n, ref, NULL, timeout, err);
	if (r < 0)
		return r;
	r = node_start(n, ref, err);
	return r < 0 ? r : 0;
}

int node_remove(struct node *n, const char *ref, bool force, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	const char *id = row_id(row);
	if (!force && node_supervisor_alive(n, id, NULL))
		return sn_err_msg(err, EBUSY, "You cannot remove a running subnode %s. Stop it before "
				  "removing it, or use force", row_name(row));
	if ((r = busy_take(n, id, row_name(row), "removing", err)) < 0)
		return r;
	r = update(n, id, json_pack("{s:s, s:s}", "state", "removing", "desired", "stopped"), err);
	if (r == 0)
		r = mark(n, id, "stop", true, err);
	if (r == 0 && node_supervisor_alive(n, id, NULL))
		r = halt(n, row, "remove", SIGKILL, 0, err);
	if (r == 0) {
		node_crashpoint(n, "remove-halted");
		r = node_destroy(n, row, err);
	}
	busy_release(n, id);
	if (r < 0)
		return r;
	event(n, row, "destroy", NULL);
	return 0;
}

int node_wait(struct node *n, const char *ref, int timeout_ms, int *code, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	char id[80];
	snprintf(id, sizeof(id), "%s", row_id(row));
	for (int waited = 0;; waited += 50) {
		if (!node_supervisor_alive(n, id, NULL)) {
			struct sn_err e2 = { 0 };
			node_sync_status(n, id, &e2);
			json_decref(row);
			row = NULL;
			if ((r = node_find(n, id, &row, err)) < 0)
				return r;
			const char *st = json_string_value(json_object_get(row, "state"));
			/* `created` with desired=running: a start is on its way. */
			bool starting = strcmp(st, "created") == 0 &&
					strcmp(json_string_value(json_object_get(row, "desired")), "running") == 0;
			if (!starting) {
				*code = (int)json_integer_value(json_object_get(row, "exit_code"));
				return 0;
			}
		}
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return sn_err_msg(err, ETIMEDOUT, "subnode %s still runs", row_name(row));
		nanosleep(&(struct timespec){ 0, 50 * 1000000L }, NULL);
	}
}
