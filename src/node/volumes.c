/* volumes.c — named volumes of a node: create, list, inspect, remove,
 * usage, the volumes a subnode create names, and the repair at start.
 *
 * A volume NAME is its own ext4 of its size, ROOT/volumes/NAME.img
 * mounted on ROOT/volumes/NAME (volfs.c says why). Every step writes the
 * db first (volume_db.c), so a kill -9 anywhere leaves a row whose state
 * says what to finish or undo:
 *   create:  row `creating` (after the disk admission) → image, mkfs,
 *            mount → `ready`
 *   remove:  `removing` (only when no subnode uses it) → unmounted, image
 *            removed → row deleted
 *   import:  row `importing` → a staging file system .import-NAME of the
 *            volume's size → the image tool unpacks the stream there →
 *            checked → its image renamed to NAME.img (atomic) → mounted →
 *            `ready`
 * At start (node_volumes_open): every `ready` volume is mounted again if
 * it is not (a reboot); `creating` and `removing` rows are undone or
 * finished; an `importing` row whose rename happened is ready, else
 * undone; files of ROOT/volumes without a row are removed; subnodes an
 * export had paused (meta `volume-paused`) are resumed.
 *
 * Subnodes bind a volume's directory (rbind, ro or rw) into their root:
 * while any subnode that names it exists (running or not, as Docker has
 * it) the volume cannot be removed.
 */
#include "node/volume.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGING_PREFIX ".import-"
#define PAUSED_KEY "volume-paused"

static char *vol_path(struct node_volumes *v, const char *prefix, const char *name)
{
	return node_volfs_path(v, prefix, name, "");
}

int node_volume_parse_size(const char *s, uint64_t *out)
{
	uint64_t b = 0;
	int r = node_parse_bytes(s, &b);
	if (r < 0)
		return r;
	if (b == 0)
		return -EINVAL;
	*out = b;
	return 0;
}

/* Free disk for volumes, under the node lock: ENOSPC naming what is free. */
static int admit_locked(struct node *n, const char *name, uint64_t size, struct sn_err *err)
{
	struct node_volumes *v = n->volumes;
	uint64_t used = 0;
	unsigned count = 0;
	int r = node_voldb_bytes(n->db, &used, &count, err);
	if (r < 0)
		return r;
	if (used <= v->capacity && size <= v->capacity - used)
		return 0;
	char need[32], freeb[32], cap[32], unit[32];
	sn_human_bytes(size, need, sizeof(need));
	sn_human_bytes(used < v->capacity ? v->capacity - used : 0, freeb, sizeof(freeb));
	sn_human_bytes(v->capacity, cap, sizeof(cap));
	sn_human_bytes(n->slices.unit_disk, unit, sizeof(unit));
	return sn_err_msg(err, ENOSPC,
			  "not enough disk on this node: volume %s needs %s, %s of %s free "
			  "(%u volume%s; a unit of disk is %s)", name, need, freeb, cap, count,
			  count == 1 ? "" : "s", unit);
}

static int db_locked(struct node *n, int (*fn)(struct node_db *, const char *, const char *,
					      struct sn_err *),
		     const char *name, const char *arg, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	int r = fn(n->db, name, arg, err);
	pthread_mutex_unlock(&n->lock);
	return r;
}

static int set_state(struct node_db *db, const char *name, const char *state, struct sn_err *err)
{
	return node_voldb_set_state(db, name, state, err);
}

static int delete_row(struct node_db *db, const char *name, const char *unused, struct sn_err *err)
{
	(void)unused;
	return node_voldb_delete(db, name, err);
}

/* Remove what a volume has on disk (both its file systems). */
static int unmake(struct node *n, const char *name, struct sn_err *err)
{
	int r = node_volfs_unmake(n->volumes, STAGING_PREFIX, name, err);
	return r < 0 ? r : node_volfs_unmake(n->volumes, "", name, err);
}

/* The names of the subnodes (rows of the subnodes table) that name it. */
static json_t *users_in(json_t *rows, const char *name)
{
	json_t *users = json_array();
	if (!users)
		return NULL;
	size_t i, k;
	json_t *row, *b;
	json_array_foreach(rows, i, row)
		json_array_foreach(json_object_get(json_object_get(row, "config"), "Binds"), k, b) {
			const char *vn = json_string_value(json_object_get(b, "Name"));
			if (vn && strcmp(vn, name) == 0) {
				json_array_append(users, json_object_get(row, "name"));
				break;
			}
		}
	return users;
}

static json_t *users_locked(struct node *n, const char *name)
{
	_cleanup_json_ json_t *rows = NULL;
	struct sn_err e = { 0 };
	if (node_db_list(n->db, &rows, &e) < 0)
		return json_array();
	return users_in(rows, name);
}

static json_t *volume_json(struct node *n, json_t *row, json_t *users)
{
	const char *name = json_string_value(json_object_get(row, "name"));
	uint64_t size = (uint64_t)json_integer_value(json_object_get(row, "size"));
	uint64_t used = 0;
	struct sn_err e = { 0 };
	if (strcmp(json_string_value(json_object_get(row, "state")), "ready") == 0 &&
	    node_volfs_mount(n->volumes, "", name, &e) == 0)
		node_volfs_usage(n->volumes, name, &used, &e);
	_cleanup_free_ char *mp = vol_path(n->volumes, "", name);
	char created[40], sz[32];
	node_time_str(json_integer_value(json_object_get(row, "created")), created);
	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
	return json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:{s:s}, s:I, s:s,"
			 " s:{s:I, s:I}, s:o}",
		"Name", name, "Driver", "local", "Mountpoint", mp ? mp : "", "CreatedAt", created,
		"Labels", json_object_get(row, "labels"), "Scope", "local", "Options", "size", sz,
		"SizeBytes", (json_int_t)size, "State", json_string_value(json_object_get(row, "state")),
		"UsageData", "Size", (json_int_t)used, "RefCount", (json_int_t)json_array_size(users),
		"UsedBy", users ? users : json_array());
}

/* ---- create, list, inspect, remove */

static int create_locked_row(struct node *n, const char *name, uint64_t size, json_t *labels,
			     const char *state, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	int r = admit_locked(n, name, size, err);
	if (r == 0)
		r = node_voldb_insert(n->db, name, state, size, labels, err);
	pthread_mutex_unlock(&n->lock);
	return r;
}

static uint64_t default_size(struct node *n)
{
	const struct node_size *sz = node_config_size(&n->cfg, n->cfg.default_size);
	return (uint64_t)(sz ? sz->units : 1) * n->slices.unit_disk;
}

static int check_new(struct node *n, const char *name, uint64_t *size, struct sn_err *err)
{
	if (!name || !node_name_valid(name))
		return sn_err_msg(err, EINVAL, "Name: `%s` is not a valid volume name "
				  "([a-zA-Z0-9][a-zA-Z0-9_.-]{0,127})", name ? name : "");
	if (*size == 0)
		*size = default_size(n);
	if (*size < (1u << 20))
		return sn_err_msg(err, EINVAL, "size: %llu bytes is too small for a volume (at least 1M)",
				  (unsigned long long)*size);
	return 0;
}

int node_volume_create(struct node *n, const char *name, uint64_t size, json_t *labels,
		       json_t **out, struct sn_err *err)
{
	int r = check_new(n, name, &size, err);
	if (r < 0)
		return r;
	if ((r = create_locked_row(n, name, size, labels, "creating", err)) < 0)
		return r;
	node_crashpoint(n, "volume-create-row");
	r = node_volfs_make(n->volumes, "", name, size, err);
	if (r == 0) {
		node_crashpoint(n, "volume-create-mounted");
		r = db_locked(n, set_state, name, "ready", err);
	}
	if (r < 0) {
		struct sn_err e2 = { 0 };
		if (unmake(n, name, &e2) < 0)
			sn_warn("undo create of volume %s: %s", name, e2.msg);
		else if (db_locked(n, delete_row, name, NULL, &e2) < 0)
			sn_warn("undo create of volume %s: %s", name, e2.msg);
		return sn_err_wrap(err, "create volume %s", name);
	}
	node_crashpoint(n, "volume-create-ready");
	node_event(n, "volume", "create", name, NULL);
	if (out)
		return node_volume_inspect(n, name, out, err);
	return 0;
}

int node_volume_inspect(struct node *n, const char *name, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_voldb_get(n->db, name, &row, err);
	json_t *users = r == 0 ? users_locked(n, name) : NULL;
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	*out = volume_json(n, row, users);
	return *out ? 0 : sn_err_set(err, ENOMEM, "volume %s", name);
}

int node_volume_list(struct node *n, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *rows = NULL, *subnodes = NULL;
	_cleanup_json_ json_t *users = json_array();
	pthread_mutex_lock(&n->lock);
	int r = node_voldb_list(n->db, &rows, err);
	if (r == 0)
		r = node_db_list(n->db, &subnodes, err);
	pthread_mutex_unlock(&n->lock);
	size_t i;
	json_t *row;
	if (r == 0 && users)   /* one read of the subnodes for all volumes */
		json_array_foreach(rows, i, row)
			json_array_append_new(users, users_in(subnodes, json_string_value(json_object_get(row, "name"))));
	if (r < 0)
		return r;
	json_t *vols = json_array();
	json_array_foreach(rows, i, row)
		json_array_append_new(vols, volume_json(n, row, json_incref(json_array_get(users, i))));
	*out = json_pack("{s:o, s:[]}", "Volumes", vols, "Warnings");
	return *out ? 0 : sn_err_set(err, ENOMEM, "volumes");
}

int node_volume_usage(struct node *n, const char *name, uint64_t *used, uint64_t *limit,
		      struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_voldb_get(n->db, name, &row, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	*limit = (uint64_t)json_integer_value(json_object_get(row, "size"));
	if (strcmp(json_string_value(json_object_get(row, "state")), "ready") != 0) {
		*used = 0;
		return 0;
	}
	if ((r = node_volfs_mount(n->volumes, "", name, err)) < 0)
		return r;
	return node_volfs_usage(n->volumes, name, used, err);
}

json_t *node_volumes_info(struct node *n)
{
	uint64_t used = 0;
	unsigned count = 0;
	struct sn_err e = { 0 };
	pthread_mutex_lock(&n->lock);
	node_voldb_bytes(n->db, &used, &count, &e);
	pthread_mutex_unlock(&n->lock);
	uint64_t cap = n->volumes->capacity;
	return json_pack("{s:I, s:I, s:I}", "Count", (json_int_t)count, "Bytes", (json_int_t)used,
			 "Free", (json_int_t)(used < cap ? cap - used : 0));
}

json_t *node_volumes_stats(struct node *n, json_t *cfg)
{
	json_t *o = json_object();
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(cfg, "Binds"), i, b) {
		const char *name = json_string_value(json_object_get(b, "Name"));
		uint64_t used = 0, limit = 0;
		struct sn_err e = { 0 };
		if (name && o && node_volume_usage(n, name, &used, &limit, &e) == 0)
			json_object_set_new(o, name, json_pack("{s:I, s:I}", "usage", (json_int_t)used,
							      "limit", (json_int_t)limit));
	}
	return o;
}

/* Under the node lock: is it ready, not busy, used by nobody? */
static int removable_locked(struct node *n, const char *name, json_t **row, struct sn_err *err)
{
	int r = node_voldb_get(n->db, name, row, err);
	if (r < 0)
		return r;
	const char *state = json_string_value(json_object_get(*row, "state"));
	json_t *busy = json_object_get(n->volumes->busy, name);
	if (strcmp(state, "ready") != 0 || busy)
		return sn_err_msg(err, EBUSY, "volume %s is busy (%s); try again", name,
				  busy ? json_string_value(busy) : state);
	_cleanup_json_ json_t *users = users_locked(n, name);
	if (json_array_size(users)) {
		_cleanup_free_ char *list = sn_json_dump(users, false);
		return sn_err_msg(err, EBUSY, "volume %s is in use by subnode%s %s", name,
				  json_array_size(users) > 1 ? "s" : "", list ? list : "");
	}
	return node_voldb_set_state(n->db, name, "removing", err);
}

int node_volume_remove(struct node *n, const char *name, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	pthread_mutex_lock(&n->lock);
	int r = removable_locked(n, name, &row, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	node_crashpoint(n, "volume-remove-row");
	r = unmake(n, name, err);
	if (r == 0) {
		node_crashpoint(n, "volume-remove-unmade");
		r = db_locked(n, delete_row, name, NULL, err);
	}
	if (r < 0)
		return sn_err_wrap(err, "remove volume %s", name);
	node_event(n, "volume", "destroy", name, NULL);
	return 0;
}

/* ---- the volumes of a subnode create */

int node_volumes_bind(struct node *n, json_t *cfg, json_t *made, struct sn_err *err)
{
	size_t i;
	json_t *b;
	unsigned units = (unsigned)json_integer_value(json_object_get(cfg, "Units"));
	json_array_foreach(json_object_get(cfg, "Binds"), i, b) {
		const char *name = json_string_value(json_object_get(b, "Name"));
		if (!name)
			continue;
		_cleanup_json_ json_t *row = NULL;
		struct sn_err e2 = { 0 };
		pthread_mutex_lock(&n->lock);
		int r = node_voldb_get(n->db, name, &row, &e2);
		pthread_mutex_unlock(&n->lock);
		if (r == -ENOENT) {
			uint64_t size = (uint64_t)json_integer_value(json_object_get(b, "SizeBytes"));
			if (!size)
				size = (uint64_t)units * n->slices.unit_disk;
			r = node_volume_create(n, name, size, NULL, NULL, err);
			if (r == -EEXIST)   /* made meanwhile by another create: use it */
				r = 0;
			else if (r == 0)
				json_array_append_new(made, json_string(name));
		} else if (r < 0) {
			*err = e2;
		} else if (strcmp(json_string_value(json_object_get(row, "state")), "ready") != 0) {
			r = sn_err_msg(err, EBUSY, "volume %s is busy (%s); try again", name,
				       json_string_value(json_object_get(row, "state")));
		} else {
			r = node_volfs_mount(n->volumes, "", name, err);
		}
		if (r < 0)
			return r;
		_cleanup_free_ char *dir = vol_path(n->volumes, "", name);
		if (!dir)
			return sn_err_set(err, ENOMEM, "volume %s", name);
		json_object_set_new(b, "Source", json_string(dir));
	}
	return 0;
}

int node_volumes_check_locked(struct node *n, json_t *cfg, struct sn_err *err)
{
	size_t i;
	json_t *b;
	json_array_foreach(json_object_get(cfg, "Binds"), i, b) {
		const char *name = json_string_value(json_object_get(b, "Name"));
		if (!name)
			continue;
		_cleanup_json_ json_t *row = NULL;
		int r = node_voldb_get(n->db, name, &row, err);
		if (r < 0)
			return r;
		const char *state = json_string_value(json_object_get(row, "state"));
		if (strcmp(state, "ready") != 0)
			return sn_err_msg(err, EBUSY, "volume %s is busy (%s); try again", name, state);
	}
	return 0;
}

void node_volumes_unmake(struct node *n, json_t *made)
{
	size_t i;
	json_t *v;
	json_array_foreach(made, i, v) {
		struct sn_err e = { 0 };
		if (node_volume_remove(n, json_string_value(v), &e) < 0)
			sn_warn("undo: %s", e.msg);
	}
}

/* ---- import and export */

int node_volume_import_begin(struct node *n, const char *name, uint64_t size, json_t *labels,
			     char **staging, struct sn_err *err)
{
	int r = check_new(n, name, &size, err);
	if (r < 0)
		return r;
	if ((r = create_locked_row(n, name, size, labels, "importing", err)) < 0)
		return r;
	node_crashpoint(n, "volume-import-row");
	_cleanup_free_ char *stage = vol_path(n->volumes, STAGING_PREFIX, name);
	r = stage ? node_volfs_make(n->volumes, STAGING_PREFIX, name, size, err)
		  : sn_err_set(err, ENOMEM, "volume %s", name);
	if (r < 0) {
		node_volume_import_abort(n, name);
		return sn_err_wrap(err, "import volume %s", name);
	}
	*staging = steal_ptr(stage);
	return 0;
}

int node_volume_import_commit(struct node *n, const char *name, struct sn_err *err)
{
	node_crashpoint(n, "volume-import-unpacked");
	int r = node_volfs_promote(n->volumes, STAGING_PREFIX, name, err);
	if (r < 0)
		return sn_err_wrap(err, "import volume %s", name);
	node_crashpoint(n, "volume-import-renamed");
	if ((r = node_volfs_mount(n->volumes, "", name, err)) == 0)
		r = db_locked(n, set_state, name, "ready", err);
	if (r == 0)
		node_event(n, "volume", "import", name, NULL);
	return r;
}

void node_volume_import_abort(struct node *n, const char *name)
{
	_cleanup_json_ json_t *row = NULL;
	struct sn_err e = { 0 };
	pthread_mutex_lock(&n->lock);
	int r = node_voldb_get(n->db, name, &row, &e);
	pthread_mutex_unlock(&n->lock);
	if (r < 0 || strcmp(json_string_value(json_object_get(row, "state")), "importing") != 0)
		return;
	if (unmake(n, name, &e) < 0 || db_locked(n, delete_row, name, NULL, &e) < 0)
		sn_warn("undo import of volume %s: %s", name, e.msg);
}

/* The paused list in the db's meta table, so a crash mid-export is
 * repaired by resuming them. */
static void paused_save(struct node *n, json_t *ids)
{
	struct sn_err e = { 0 };
	_cleanup_free_ char *txt = sn_json_dump(ids, false);
	pthread_mutex_lock(&n->lock);
	if (!txt || node_db_meta_set(n->db, PAUSED_KEY, txt, &e) < 0)
		sn_warn("volume export: record paused subnodes: %s", e.msg);
	pthread_mutex_unlock(&n->lock);
}

static json_t *paused_load(struct node *n)
{
	_cleanup_free_ char *txt = NULL;
	struct sn_err e = { 0 };
	pthread_mutex_lock(&n->lock);
	int r = node_db_meta_get(n->db, PAUSED_KEY, &txt, &e);
	pthread_mutex_unlock(&n->lock);
	json_t *a = r == 0 && txt ? json_loads(txt, 0, NULL) : NULL;
	return json_is_array(a) ? a : (json_decref(a), json_array());
}

static void resume_ids(struct node *n, const char *only_volume)
{
	_cleanup_json_ json_t *all = paused_load(n);
	_cleanup_json_ json_t *keep = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(all, i, p) {
		const char *id = json_string_value(json_object_get(p, "id"));
		const char *vol = json_string_value(json_object_get(p, "volume"));
		if (!id || (only_volume && vol && strcmp(vol, only_volume) != 0)) {
			json_array_append(keep, p);
			continue;
		}
		struct sn_err e = { 0 };
		if (node_runtime(n, NULL, &e, "resume", id, (char *)NULL) != 0)
			sn_debug("resume %s: %s", id, e.msg);
	}
	paused_save(n, keep);
}

static void pause_users(struct node *n, const char *name)
{
	_cleanup_json_ json_t *rows = NULL;
	_cleanup_json_ json_t *ids = paused_load(n);
	struct sn_err e = { 0 };
	pthread_mutex_lock(&n->lock);
	_cleanup_json_ json_t *users = users_locked(n, name);
	int r = node_db_list(n->db, &rows, &e);
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return;
	size_t i, k;
	json_t *row, *u;
	json_array_foreach(rows, i, row)
		json_array_foreach(users, k, u)
			if (json_equal(u, json_object_get(row, "name")) &&
			    strcmp(json_string_value(json_object_get(row, "state")), "running") == 0)
				json_array_append_new(ids, json_pack("{s:O, s:s}", "id", json_object_get(row, "id"),
								     "volume", name));
	paused_save(n, ids);   /* before acting */
	json_array_foreach(ids, i, u) {
		const char *vol = json_string_value(json_object_get(u, "volume"));
		if (vol && strcmp(vol, name) == 0 &&
		    node_runtime(n, NULL, &e, "pause", json_string_value(json_object_get(u, "id")),
				 (char *)NULL) != 0)
			sn_warn("volume %s: pause %s: %s", name, json_string_value(json_object_get(u, "id")),
				e.msg);
	}
}

int node_volume_export_begin(struct node *n, const char *name, bool pause, char **path,
			     struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_voldb_get(n->db, name, &row, err);
	json_t *busy = json_object_get(n->volumes->busy, name);
	if (r == 0 && (busy || strcmp(json_string_value(json_object_get(row, "state")), "ready") != 0))
		r = sn_err_msg(err, EBUSY, "volume %s is busy (%s); try again", name,
			       busy ? json_string_value(busy) : json_string_value(json_object_get(row, "state")));
	if (r == 0)
		json_object_set_new(n->volumes->busy, name, json_string("export"));
	pthread_mutex_unlock(&n->lock);
	if (r < 0)
		return r;
	if ((r = node_volfs_mount(n->volumes, "", name, err)) < 0 ||
	    !(*path = vol_path(n->volumes, "", name))) {
		node_volume_export_end(n, name);
		return r < 0 ? r : sn_err_set(err, ENOMEM, "volume %s", name);
	}
	if (pause)
		pause_users(n, name);
	return 0;
}

void node_volume_export_end(struct node *n, const char *name)
{
	resume_ids(n, name);
	pthread_mutex_lock(&n->lock);
	json_object_del(n->volumes->busy, name);
	pthread_mutex_unlock(&n->lock);
}

/* ---- repair at start */

static void repair_row(struct node *n, json_t *row)
{
	struct node_volumes *v = n->volumes;
	const char *name = json_string_value(json_object_get(row, "name"));
	const char *state = json_string_value(json_object_get(row, "state"));
	struct sn_err e = { 0 };
	if (strcmp(state, "importing") == 0) {
		_cleanup_free_ char *img = node_volfs_path(v, "", name, ".img");
		_cleanup_free_ char *simg = node_volfs_path(v, STAGING_PREFIX, name, ".img");
		if (img && simg && sn_path_exists(img) && !sn_path_exists(simg)) {
			/* renamed: the stream had checked out */
			if (node_voldb_set_state(n->db, name, "ready", &e) < 0)
				sn_warn("repair volume %s: %s", name, e.msg);
			state = "ready";
		}
	}
	if (strcmp(state, "ready") == 0) {
		if (node_volfs_mount(v, "", name, &e) < 0)
			sn_warn("repair: %s", e.msg);
		return;
	}
	sn_info("repair: volume %s was %s: %s", name, state,
		strcmp(state, "removing") == 0 ? "removing it" : "undoing it");
	if (unmake(n, name, &e) < 0 || node_voldb_delete(n->db, name, &e) < 0)
		sn_warn("repair volume %s: %s", name, e.msg);
}

/* Files of ROOT/volumes that no row accounts for (an image whose row was
 * deleted by a remove that had not yet got rid of it cannot be: the row
 * goes last; this is for hand-made or foreign leftovers). */
static void sweep_orphans(struct node *n)
{
	_cleanup_closedir_ DIR *d = opendir(n->volumes->dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, TEMPLATE_PREFIX, strlen(TEMPLATE_PREFIX)) == 0) {
			size_t tl = strlen(de->d_name);
			if (tl > 4 && strcmp(de->d_name + tl - 4, ".tmp") == 0 && unlinkat(dirfd(d), de->d_name, 0) < 0)
				sn_warn("repair: remove `%s`: %s", de->d_name, strerror(errno));
			continue;   /* templates are kept; a half-made one (.tmp) goes */
		}
		char nm[256];
		snprintf(nm, sizeof(nm), "%s", de->d_name);
		size_t l = strlen(nm);
		if (l > 4 && strcmp(nm + l - 4, ".img") == 0)
			nm[l - 4] = '\0';
		bool staging = strncmp(nm, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0;
		const char *vn = staging ? nm + strlen(STAGING_PREFIX) : nm;
		_cleanup_json_ json_t *row = NULL;
		struct sn_err e = { 0 };
		if (node_voldb_get(n->db, vn, &row, &e) == 0)
			continue;
		sn_info("repair: removing `%s/%s` (no volume of that name)", n->volumes->dir, de->d_name);
		if (node_volfs_unmake(n->volumes, staging ? STAGING_PREFIX : "", vn, &e) < 0)
			sn_warn("repair: %s", e.msg);
	}
}

int node_volumes_open(struct node *n, struct sn_err *err)
{
	struct node_volumes *v = calloc(1, sizeof(*v));
	if (!v)
		return sn_err_set(err, ENOMEM, "volumes");
	n->volumes = v;
	pthread_mutex_init(&v->template_lock, NULL);
	v->dir = sn_path_join(n->cfg.root, "volumes");
	v->busy = json_object();
	v->capacity = n->slices.disk;
	if (!v->dir || !v->busy)
		return sn_err_set(err, ENOMEM, "volumes");
	int r = sn_mkdir_p(v->dir, 0711, err);
	if (r < 0 || (r = node_voldb_init(n->db, err)) < 0)
		return r;
	_cleanup_json_ json_t *rows = NULL;
	if ((r = node_voldb_list(n->db, &rows, err)) < 0)
		return r;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
		repair_row(n, row);
	sweep_orphans(n);
	resume_ids(n, NULL);
	return 0;
}

void node_volumes_close(struct node *n)
{
	struct node_volumes *v = n->volumes;
	if (!v)
		return;
	free(v->dir);
	json_decref(v->busy);
	pthread_mutex_destroy(&v->template_lock);
	free(v);
	n->volumes = NULL;
}
