/* reconcile.c — repair at daemon start, after a clean stop, a kill -9 at
 * any point, or a reboot of the host. For every row:
 *
 *   creating   the API never acknowledged it: undo everything (runtime
 *              state, snapshot, bundle, directory, row).
 *   removing   finish the removal.
 *   otherwise  a live supervisor (its flock held) is adopted: its status is
 *              folded into the row — unless a stop was under way (desired
 *              stopped + stop mark), which is finished with SIGKILL. Without one, a container the runtime
 *              still knows is an orphan and is deleted (kill + cgroup);
 *              then, if the row wants it running (desired=running and no
 *              stop mark) and the supervisor did not end on its own (its
 *              status is not `exited`), it is started again. A start that
 *              was written but never reached the supervisor is thus
 *              finished, and an acknowledged subnode runs.
 * Left-over runtime containers with no row at all (a create killed between
 * `runtime create` and the row) are deleted too.
 *
 * A reboot (the host's boot id differs from the one recorded at the last
 * start) took every container, supervisor, cgroup and overlay mount; the
 * db, the image store, the snapshots' upper layers and the logs are on
 * disk. Then the runtime's state directories are stale by definition and
 * are removed as they are (no `runtime delete`: a pid in them may belong to
 * some other process now); a subnode that should run is started again only
 * when its policy says so on a daemon start — `always` or `unless-stopped`,
 * as Docker does — and the others are recorded as ended (exit code 255,
 * "the host restarted"). Starting a subnode mounts its snapshot again
 * first (lifecycle.c), so stopped ones stay startable.
 */
#include "node/node.h"
#include "node/network.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The runtime's record of container id, now that nothing of it runs. */
static void drop_runtime_state(struct node *n, const char *id, bool rebooted)
{
	struct sn_err e = { 0 };
	if (!rebooted) {
		node_runtime(n, NULL, &e, "delete", "--force", id, (char *)NULL);
		return;
	}
	_cleanup_free_ char *dir = sn_path_join(n->runtime_root, id);
	if (dir && sn_rm_rf(dir, &e) < 0)
		sn_warn("repair: %s", e.msg);
}

/* Policies under which a daemon start (re)starts a subnode that ran. */
static bool restarts_on_boot(json_t *row)
{
	const char *p = json_string_value(json_object_get(json_object_get(row, "config"), "Restart"));
	return p && (strcmp(p, "always") == 0 || strcmp(p, "unless-stopped") == 0);
}

/* Record that the reboot ended a subnode (as its supervisor would have,
 * had it seen the end): the status file, then the row. */
static int ended_by_reboot(struct node *n, const char *id, json_t *st, struct sn_err *err)
{
	_cleanup_free_ char *p = node_subnode_dir(n, id, "status");
	_cleanup_free_ char *txt = NULL;
	if (!p || asprintf(&txt, "state=exited\nexit_code=255\nrestart_count=%lld\nstarted_at=%lld\n"
			   "finished_at=%lld\nerror=the host restarted while it ran\n",
			   (long long)json_integer_value(json_object_get(st, "restart_count")),
			   (long long)json_integer_value(json_object_get(st, "started_at")),
			   (long long)node_now_ns()) < 0)
		return sn_err_set(err, ENOMEM, "status");
	int r = sn_write_file_atomic(p, txt, strlen(txt), 0644, err);
	return r < 0 ? r : node_sync_status(n, id, err);
}

static int repair_row(struct node *n, json_t *row, bool rebooted, struct sn_err *err)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *name = json_string_value(json_object_get(row, "name"));
	const char *state = json_string_value(json_object_get(row, "state"));
	bool alive = node_supervisor_alive(n, id, NULL);
	if (strcmp(state, "creating") == 0 || strcmp(state, "removing") == 0) {
		sn_info("repair: %s of `%s` was interrupted; removing it",
			state[0] == 'c' ? "create" : "remove", name);
		if (rebooted && !alive)
			drop_runtime_state(n, id, true);
		return node_destroy(n, row, err);
	}
	_cleanup_free_ char *stopmark = node_subnode_dir(n, id, "stop");
	bool stopped = strcmp(json_string_value(json_object_get(row, "desired")), "stopped") == 0 &&
		       stopmark && sn_path_exists(stopmark);
	if (alive) {
		if (!stopped)
			return node_sync_status(n, id, err);
		/* A stop was under way: finish it (it had been signalled, or was
		 * about to be; its timeout is not kept, so KILL). */
		sn_info("repair: the stop of `%s` was interrupted; finishing it", name);
		int pid = 0;
		struct sn_err e1 = { 0 };
		node_runtime(n, NULL, &e1, "kill", id, "9", (char *)NULL);
		if (node_supervisor_alive(n, id, &pid) && pid > 1)
			kill(pid, SIGUSR1);
		for (int i = 0; i < 500 && node_supervisor_alive(n, id, NULL); i++)
			nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
		return node_sync_status(n, id, err);
	}
	/* No supervisor: any runtime container is an orphan. */
	drop_runtime_state(n, id, rebooted);
	_cleanup_json_ json_t *st = NULL;
	int r = node_read_status(n, id, &st, err);
	if (r < 0)
		return r;
	const char *sst = json_string_value(json_object_get(st, "state"));
	bool want = strcmp(json_string_value(json_object_get(row, "desired")), "running") == 0 &&
		    stopmark && !sn_path_exists(stopmark);
	bool ran = sst && strcmp(sst, "exited") != 0;   /* its supervisor did not see it end */
	if (rebooted && want && (restarts_on_boot(row) || !sst)) {
		sn_info("repair: the host restarted; starting `%s` %s", name,
			sst ? "again (its restart policy)" : "(its start was under way)");
		r = node_start(n, id, err);
		return r < 0 ? r : 0;
	}
	if (rebooted && ran) {
		sn_info("repair: the host restarted while `%s` ran; it stays ended", name);
		return ended_by_reboot(n, id, st, err);
	}
	if (!rebooted && want && (ran || !sst)) {
		sn_info("repair: `%s` should run and has no supervisor; starting it", name);
		r = node_start(n, id, err);
		return r < 0 ? r : 0;
	}
	if (ran) {
		/* The supervisor died uncleanly and the subnode should not run. */
		_cleanup_json_ json_t *f = json_pack("{s:s, s:I}", "state", "exited", "finished_at",
						     (json_int_t)node_now_ns());
		pthread_mutex_lock(&n->lock);
		r = node_db_update(n->db, id, f, err);
		pthread_mutex_unlock(&n->lock);
		return r;
	}
	return node_sync_status(n, id, err);
}

/* Runtime containers under our runtime root without a row. */
static void sweep_runtime(struct node *n, bool rebooted)
{
	_cleanup_closedir_ DIR *d = opendir(n->runtime_root);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) != 64)
			continue;
		_cleanup_json_ json_t *row = NULL;
		struct sn_err e = { 0 };
		int r = node_find(n, de->d_name, &row, &e);
		if (r == -ENOENT) {
			sn_info("repair: deleting runtime container `%s` that has no subnode", de->d_name);
			drop_runtime_state(n, de->d_name, rebooted);
		}
	}
}

/* subnodes/<id>/ directories without a row (create killed before commit
 * of the row cannot happen — the row comes first — but a remove killed
 * after the row went can leave the directory). */
static void sweep_dirs(struct node *n, bool rebooted)
{
	_cleanup_closedir_ DIR *d = opendir(n->subnodes_dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_json_ json_t *row = NULL;
		struct sn_err e = { 0 };
		int r = node_find(n, de->d_name, &row, &e);
		if (r == -ENOENT && strlen(de->d_name) == 64) {
			_cleanup_json_ json_t *fake = json_pack("{s:s, s:s}", "id", de->d_name, "name", de->d_name);
			sn_info("repair: removing leftovers of `%s`", de->d_name);
			if (rebooted && !node_supervisor_alive(n, de->d_name, NULL))
				drop_runtime_state(n, de->d_name, true);
			/* node_destroy deletes a row that is not there: harmless. */
			if (fake && node_destroy(n, fake, &e) < 0)
				sn_warn("repair `%s`: %s", de->d_name, e.msg);
		}
	}
}

/* The host's boot id ($SUBNODED_BOOT_ID instead, for the tests that
 * simulate a reboot); "" when unknown. */
static void boot_id(char out[64])
{
	const char *env = getenv("SUBNODED_BOOT_ID");
	out[0] = '\0';
	if (env && *env) {
		snprintf(out, 64, "%s", env);
		return;
	}
	_cleanup_free_ char *txt = NULL;
	size_t len = 0;
	if (sn_read_file("/proc/sys/kernel/random/boot_id", 64, &txt, &len, &(struct sn_err){ 0 }) == 0) {
		while (len && (txt[len - 1] == '\n' || txt[len - 1] == ' '))
			txt[--len] = '\0';
		snprintf(out, 64, "%s", txt);
	}
}

int node_reconcile(struct node *n, struct sn_err *err)
{
	_cleanup_json_ json_t *rows = NULL;
	_cleanup_free_ char *last = NULL;
	char boot[64];
	boot_id(boot);
	pthread_mutex_lock(&n->lock);
	int r = node_db_list(n->db, &rows, err);
	if (r == 0 && (r = node_db_meta_get(n->db, "boot_id", &last, err)) == -ENOENT)
		r = 0;
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	bool rebooted = last && *boot && strcmp(last, boot) != 0;
	if (rebooted)
		sn_info("repair: the host restarted since the last start (boot id %s, was %s)", boot, last);
	size_t i;
	json_t *row;
	unsigned failed = 0;
	json_array_foreach(rows, i, row) {
		struct sn_err e = { 0 };
		if (repair_row(n, row, rebooted, &e) < 0) {
			failed++;
			sn_warn("repair `%s`: %s", json_string_value(json_object_get(row, "name")), e.msg);
		}
	}
	sweep_dirs(n, rebooted);
	sweep_runtime(n, rebooted);
	struct sn_err en = { 0 };
	if (node_net_reconcile(n, &en) < 0) {
		failed++;
		sn_warn("repair: networks: %s", en.msg);
	}
	if (failed)
		sn_warn("repair: %u subnode%s could not be repaired (see above)", failed, failed == 1 ? "" : "s");
	/* Recorded once all is repaired: a crash before this repeats it. */
	if (*boot) {
		pthread_mutex_lock(&n->lock);
		r = node_db_meta_set(n->db, "boot_id", boot, err);
		pthread_mutex_unlock(&n->lock);
	}
	return r;
}
