/* volume_db.c — the `volumes` table of the node's state db.
 *
 * A row is written before the volume is acted on, and its state says
 * what was under way, so the next start can finish or undo it
 * (volumes.c, node_volumes_init):
 *   creating   the directory and its quota are being made
 *   importing  a stream is being unpacked into the staging directory
 *   ready      usable
 *   removing   the directory is being removed
 * The caller holds the node lock.
 */
#include "node/volume.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS volumes ("
	" name TEXT PRIMARY KEY,"
	" state TEXT NOT NULL,"
	" size INTEGER NOT NULL,"          /* bytes: its file system's size */
	" labels TEXT NOT NULL DEFAULT '{}',"
	" created INTEGER NOT NULL);";     /* unix ns */

static void finalizep(sqlite3_stmt **s) { sqlite3_finalize(*s); }
#define _cleanup_stmt_ _cleanup_(finalizep)

static int fail(sqlite3 *h, const char *what, struct sn_err *err)
{
	int rc = sqlite3_errcode(h);
	int e = rc == SQLITE_CONSTRAINT ? EEXIST : rc == SQLITE_BUSY ? EBUSY : EIO;
	return sn_err_msg(err, e, "state db: volumes: %s: %s", what, sqlite3_errmsg(h));
}

int node_voldb_init(struct node_db *db, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(db);
	if (sqlite3_exec(h, schema, NULL, NULL, NULL) != SQLITE_OK)
		return fail(h, "schema", err);
	return 0;
}

static json_t *row_json(sqlite3_stmt *st)
{
	const char *labels = (const char *)sqlite3_column_text(st, 3);
	json_t *l = labels ? json_loads(labels, 0, NULL) : NULL;
	return json_pack("{s:s, s:s, s:I, s:o, s:I}",
		"name", (const char *)sqlite3_column_text(st, 0),
		"state", (const char *)sqlite3_column_text(st, 1),
		"size", (json_int_t)sqlite3_column_int64(st, 2),
		"labels", l ? l : json_object(),
		"created", (json_int_t)sqlite3_column_int64(st, 4));
}

static const char cols[] = "SELECT name, state, size, labels, created FROM volumes";

int node_voldb_get(struct node_db *db, const char *name, json_t **row, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(db);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char sql[128];
	snprintf(sql, sizeof(sql), "%s WHERE name=?", cols);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(h, "get", err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return sn_err_msg(err, ENOENT, "no such volume: %s", name);
	if (rc != SQLITE_ROW)
		return fail(h, "get", err);
	*row = row_json(st);
	return *row ? 0 : sn_err_set(err, ENOMEM, "volume %s", name);
}

int node_voldb_list(struct node_db *db, json_t **rows, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(db);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char sql[128];
	snprintf(sql, sizeof(sql), "%s ORDER BY name", cols);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(h, "list", err);
	_cleanup_json_ json_t *a = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!a || json_array_append_new(a, row_json(st)) < 0)
			return sn_err_set(err, ENOMEM, "volumes");
	if (rc != SQLITE_DONE)
		return fail(h, "list", err);
	*rows = steal_ptr(a);
	return 0;
}

int node_voldb_insert(struct node_db *db, const char *name, const char *state, uint64_t size,
		      json_t *labels, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(db);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "INSERT INTO volumes (name, state, size, labels, created) "
			       "VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return fail(h, "insert", err);
	_cleanup_free_ char *l = labels ? sn_json_dump(labels, false) : strdup("{}");
	if (!l)
		return sn_err_set(err, ENOMEM, "volume %s", name);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
	sqlite3_bind_text(st, 4, l, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, node_now_ns());
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (sqlite3_errcode(h) == SQLITE_CONSTRAINT)
			return sn_err_msg(err, EEXIST, "volume %s already exists", name);
		return fail(h, "insert", err);
	}
	return 0;
}

int node_voldb_set_state(struct node_db *db, const char *name, const char *state,
			 struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(db);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "UPDATE volumes SET state=? WHERE name=?", -1, &st, NULL) != SQLITE_OK)
		return fail(h, "update", err);
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(h, "update", err);
	return sqlite3_changes(h) ? 0 : sn_err_msg(err, ENOENT, "no such volume: %s", name);
}

int node_voldb_delete(struct node_db *db, const char *name, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(db);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "DELETE FROM volumes WHERE name=?", -1, &st, NULL) != SQLITE_OK)
		return fail(h, "delete", err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail(h, "delete", err);
	return 0;
}

int node_voldb_bytes(struct node_db *db, uint64_t *used, unsigned *count, struct sn_err *err)
{
	sqlite3 *h = node_db_sqlite(db);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM volumes", -1, &st,
			       NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		return fail(h, "sizes", err);
	*used = (uint64_t)sqlite3_column_int64(st, 0);
	*count = (unsigned)sqlite3_column_int64(st, 1);
	return 0;
}
