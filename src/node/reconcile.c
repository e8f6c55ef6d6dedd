/* reconcile.c — repair at daemon start, after a clean stop or a kill -9 at
 * any point. For every row:
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
 */
#include "node/node.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static int repair_row(struct node *n, json_t *row, struct sn_err *err)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *name = json_string_value(json_object_get(row, "name"));
	const char *state = json_string_value(json_object_get(row, "state"));
	if (strcmp(state, "creating") == 0 || strcmp(state, "removing") == 0) {
		sn_info("repair: %s of `%s` was interrupted; removing it",
			state[0] == 'c' ? "create" : "remove", name);
		return node_destroy(n, row, err);
	}
	_cleanup_free_ char *stopmark = node_subnode_dir(n, id, "stop");
	bool stopped = strcmp(json_string_value(json_object_get(row, "desired")), "stopped") == 0 &&
		       stopmark && sn_path_exists(stopmark);
	if (node_supervisor_alive(n, id, NULL)) {
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
	struct sn_err e2 = { 0 };
	node_runtime(n, NULL, &e2, "delete", "--force", id, (char *)NULL);
	_cleanup_json_ json_t *st = NULL;
	int r = node_read_status(n, id, &st, err);
	if (r < 0)
		return r;
	const char *sst = json_string_value(json_object_get(st, "state"));
	_cleanup_free_ char *stop = node_subnode_dir(n, id, "stop");
	bool want = strcmp(json_string_value(json_object_get(row, "desired")), "running") == 0 &&
		    stop && !sn_path_exists(stop);
	if (want && (!sst || strcmp(sst, "exited") != 0)) {
		sn_info("repair: `%s` should run and has no supervisor; starting it", name);
		r = node_start(n, id, err);
		return r < 0 ? r : 0;
	}
	if (sst && strcmp(sst, "exited") != 0) {
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
static void sweep_runtime(struct node *n)
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
		pthread_mutex_lock(&n->lock);
		int r = node_db_find(n->db, de->d_name, &row, &e);
		pthread_mutex_unlock(&n->lock);
		if (r == -ENOENT) {
			sn_info("repair: deleting runtime container `%s` that has no subnode", de->d_name);
			node_runtime(n, NULL, &e, "delete", "--force", de->d_name, (char *)NULL);
		}
	}
}

/* subnodes/<id>/ directories without a row (create killed before commit
 * of the row cannot happen — the row comes first — but a remove killed
 * after the row went can leave the directory). */
static void sweep_dirs(struct node *n)
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
		pthread_mutex_lock(&n->lock);
		int r = node_db_find(n->db, de->d_name, &row, &e);
		pthread_mutex_unlock(&n->lock);
		if (r == -ENOENT && strlen(de->d_name) == 64) {
			_cleanup_json_ json_t *fake = json_pack("{s:s, s:s}", "id", de->d_name, "name", de->d_name);
			sn_info("repair: removing leftovers of `%s`", de->d_name);
			/* node_destroy deletes a row that is not there: harmless. */
			if (fake && node_destroy(n, fake, &e) < 0)
				sn_warn("repair `%s`: %s", de->d_name, e.msg);
		}
	}
}

int node_reconcile(struct node *n, struct sn_err *err)
{
	_cleanup_json_ json_t *rows = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_db_list(n->db, &rows, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	size_t i;
	json_t *row;
	unsigned failed = 0;
	json_array_foreach(rows, i, row) {
		struct sn_err e = { 0 };
		if (repair_row(n, row, &e) < 0) {
			failed++;
			sn_warn("repair `%s`: %s", json_string_value(json_object_get(row, "name")), e.msg);
		}
	}
	sweep_dirs(n);
	sweep_runtime(n);
	if (failed)
		sn_warn("repair: %u subnode%s could not be repaired (see above)", failed, failed == 1 ? "" : "s");
	return 0;
}
