/* db.c — SQLite state of the node (see db.h).
 *
 * One table `subnodes` with a column per field the daemon filters or
 * repairs on, and `config` holding the validated create request as JSON
 * text. WAL journal with synchronous=NORMAL: a commit survives a crash of
 * the daemon (the WAL is in the page cache of the kernel, which outlives
 * us); on power loss the last commits may go, which a restart also repairs
 * because every step is idempotent. `meta` holds the schema version and
 * the boot id of the host at the last start (reconcile.c: a reboot).
 */
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct node_db {
	sqlite3 *h;
};

#define SCHEMA_VERSION 1

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS sizes (name TEXT PRIMARY KEY, units INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS subnodes ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" state TEXT NOT NULL,"          /* creating created running exited removing */
	" desired TEXT NOT NULL,"        /* running stopped */
	" size TEXT NOT NULL,"
	" units INTEGER NOT NULL,"
	" config TEXT NOT NULL,"
	" created INTEGER NOT NULL,"     /* unix ns */
	" started_at INTEGER NOT NULL DEFAULT 0,"
	" finished_at INTEGER NOT NULL DEFAULT 0,"
	" exit_code INTEGER NOT NULL DEFAULT 0,"
	" restart_count INTEGER NOT NULL DEFAULT 0,"
	" health TEXT NOT NULL DEFAULT '',"
	" error TEXT NOT NULL DEFAULT '');";

static const char *const text_cols[] = { "id", "name", "state", "desired", "size", "health",
					  "error", NULL };
static const char *const int_cols[] = { "units", "created", "started_at", "finished_at",
					 "exit_code", "restart_count", NULL };

static bool in(const char *const *v, const char *s)
{
	for (; *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static int db_fail(struct node_db *db, int rc, const char *what, struct sn_err *err)
{
	int e = rc == SQLITE_CONSTRAINT ? EEXIST : rc == SQLITE_BUSY ? EBUSY :
		rc == SQLITE_NOMEM ? ENOMEM : EIO;
	return sn_err_msg(err, e, "state db: %s: %s", what, sqlite3_errmsg(db->h));
}

int node_db_open(const char *path, struct node_db **out, struct sn_err *err)
{
	struct node_db *db = calloc(1, sizeof(*db));
	if (!db)
		return sn_err_set(err, ENOMEM, "state db");
	/* It holds every subnode's Env (secrets): 0600, and so are the WAL and
	 * shared-memory files SQLite makes beside it (they take its mode). */
	int r0 = sn_sqlite_private(path, err);
	if (r0 < 0) {
		free(db);
		return r0;
	}
	int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int r = sn_err_msg(err, EIO, "state db `%s`: %s", path,
				   db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		sqlite3_close(db->h);
		free(db);
		return r;
	}
	sqlite3_busy_timeout(db->h, 5000);
	char *msg = NULL;
	rc = sqlite3_exec(db->h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-256;", NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->h, schema, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->h, "INSERT OR IGNORE INTO meta VALUES ('schema', '1');", NULL,
				  NULL, &msg);
	if (rc != SQLITE_OK) {
		int r = sn_err_msg(err, EIO, "state db `%s`: %s", path, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_close(db->h);
		free(db);
		return r;
	}
	*out = db;
	return 0;
}

void node_db_close(struct node_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->h);
	free(db);
}

static void finalizep(sqlite3_stmt **s) { sqlite3_finalize(*s); }
#define _cleanup_stmt_ _cleanup_(finalizep)

/* Bind a JSON value to parameter i as the column wants it. */
static int bind_value(sqlite3_stmt *st, int i, const char *col, json_t *v)
{
	if (strcmp(col, "config") == 0) {
		_cleanup_free_ char *txt = sn_json_dump(v, false);
		if (!txt)
			return SQLITE_NOMEM;
		return sqlite3_bind_text(st, i, txt, -1, SQLITE_TRANSIENT);
	}
	if (in(int_cols, col))
		return sqlite3_bind_int64(st, i, json_integer_value(v));
	return sqlite3_bind_text(st, i, json_string_value(v) ? json_string_value(v) : "", -1,
				 SQLITE_TRANSIENT);
}

static int check_cols(json_t *row, struct sn_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach(row, k, v) {
		if (strcmp(k, "config") == 0) {
			if (!json_is_object(v))
				return sn_err_msg(err, EINVAL, "state db: config must be an object");
		} else if (in(int_cols, k)) {
			if (!json_is_integer(v))
				return sn_err_msg(err, EINVAL, "state db: `%s` must be an integer", k);
		} else if (in(text_cols, k)) {
			if (!json_is_string(v))
				return sn_err_msg(err, EINVAL, "state db: `%s` must be a string", k);
		} else {
			return sn_err_msg(err, EINVAL, "state db: no column `%s`", k);
		}
	}
	return 0;
}

int node_db_insert(struct node_db *db, json_t *row, struct sn_err *err)
{
	int r = check_cols(row, err);
	if (r < 0)
		return r;
	char cols[512] = "", qs[128] = "";
	size_t cn = 0, qn = 0;
	const char *k;
	json_t *v;
	json_object_foreach(row, k, v) {
		cn += (size_t)snprintf(cols + cn, sizeof(cols) - cn, "%s%s", cn ? "," : "", k);
		qn += (size_t)snprintf(qs + qn, sizeof(qs) - qn, "%s?", qn ? "," : "");
	}
	char sql[1024];
	snprintf(sql, sizeof(sql), "INSERT INTO subnodes (%s) VALUES (%s)", cols, qs);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "insert", err);
	int i = 1;
	json_object_foreach(row, k, v)
		if ((rc = bind_value(st, i++, k, v)) != SQLITE_OK)
			return db_fail(db, rc, "insert", err);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, sqlite3_extended_errcode(db->h) & 0xff, "insert", err);
	return 0;
}

int node_db_update(struct node_db *db, const char *id, json_t *fields, struct sn_err *err)
{
	int r = check_cols(fields, err);
	if (r < 0)
		return r;
	if (json_object_size(fields) == 0)
		return 0;
	char sql[1024];
	size_t n = (size_t)snprintf(sql, sizeof(sql), "UPDATE subnodes SET ");
	const char *k;
	json_t *v;
	bool first = true;
	json_object_foreach(fields, k, v) {
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s=?", first ? "" : ",", k);
		first = false;
	}
	snprintf(sql + n, sizeof(sql) - n, " WHERE id=?");
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "update", err);
	int i = 1;
	json_object_foreach(fields, k, v)
		if ((rc = bind_value(st, i++, k, v)) != SQLITE_OK)
			return db_fail(db, rc, "update", err);
	sqlite3_bind_text(st, i, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, "update", err);
	if (sqlite3_changes(db->h) == 0)
		return sn_err_msg(err, ENOENT, "no such subnode: %s", id);
	return 0;
}

int node_db_delete(struct node_db *db, const char *id, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "DELETE FROM subnodes WHERE id=?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "delete", err);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, "delete", err);
	return 0;
}

static json_t *row_to_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int n = sqlite3_column_count(st);
	for (int i = 0; i < n; i++) {
		const char *c = sqlite3_column_name(st, i);
		if (strcmp(c, "config") == 0) {
			const char *t = (const char *)sqlite3_column_text(st, i);
			json_t *cfg = t ? json_loads(t, 0, NULL) : NULL;
			json_object_set_new(o, c, cfg ? cfg : json_object());
		} else if (in(int_cols, c)) {
			json_object_set_new(o, c, json_integer(sqlite3_column_int64(st, i)));
		} else {
			const char *t = (const char *)sqlite3_column_text(st, i);
			json_object_set_new(o, c, json_string(t ? t : ""));
		}
	}
	return o;
}

int node_db_find(struct node_db *db, const char *ref, json_t **row, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	/* Exact id or name first, then an id prefix (docker's rule). */
	int rc = sqlite3_prepare_v2(db->h,
		"SELECT * FROM subnodes WHERE id=?1 OR name=?1 "
		"UNION ALL SELECT * FROM subnodes WHERE id LIKE ?2 AND id<>?1 AND name<>?1 LIMIT 3",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "find", err);
	_cleanup_free_ char *like = NULL;
	bool hex = *ref && strspn(ref, "0123456789abcdef") == strlen(ref);
	if (asprintf(&like, "%s%%", hex ? ref : "\x01") < 0)
		return sn_err_set(err, ENOMEM, "find");
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, like, -1, SQLITE_STATIC);
	_cleanup_json_ json_t *first = NULL;
	unsigned n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = row_to_json(st);
		if (!o)
			return sn_err_set(err, ENOMEM, "find");
		bool exact = strcmp(json_string_value(json_object_get(o, "id")), ref) == 0 ||
			     strcmp(json_string_value(json_object_get(o, "name")), ref) == 0;
		if (n == 0) {
			first = o;
			n = 1;
			if (exact)
				break;
		} else {
			json_decref(o);
			n++;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(db, rc, "find", err);
	if (n == 0)
		return sn_err_msg(err, ENOENT, "no such subnode: %s", ref);
	if (n > 1)
		return sn_err_msg(err, EINVAL, "subnode id prefix `%s` is ambiguous", ref);
	*row = steal_ptr(first);
	return 0;
}

int node_db_list(struct node_db *db, json_t **rows, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "SELECT * FROM subnodes ORDER BY created, id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "list", err);
	_cleanup_json_ json_t *a = json_array();
	if (!a)
		return sn_err_set(err, ENOMEM, "list");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = row_to_json(st);
		if (!o || json_array_append_new(a, o) < 0)
			return sn_err_set(err, ENOMEM, "list");
	}
	if (rc != SQLITE_DONE)
		return db_fail(db, rc, "list", err);
	*rows = steal_ptr(a);
	return 0;
}

int node_db_units_used(struct node_db *db, unsigned *used, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "SELECT COALESCE(SUM(units),0) FROM subnodes", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "units", err);
	if (sqlite3_step(st) != SQLITE_ROW)
		return db_fail(db, rc, "units", err);
	*used = (unsigned)sqlite3_column_int64(st, 0);
	return 0;
}

int node_db_save_sizes(struct node_db *db, const char *const *names, const unsigned *units,
		       unsigned n, struct sn_err *err)
{
	int rc = sqlite3_exec(db->h, "BEGIN; DELETE FROM sizes;", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "sizes", err);
	for (unsigned i = 0; i < n; i++) {
		_cleanup_stmt_ sqlite3_stmt *st = NULL;
		rc = sqlite3_prepare_v2(db->h, "INSERT INTO sizes VALUES (?, ?)", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, units[i]);
			rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		}
		if (rc != SQLITE_OK) {
			int r = db_fail(db, rc, "sizes", err);
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
	}
	rc = sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "sizes", err);
	return 0;
}

int node_db_meta_get(struct node_db *db, const char *key, char **value, struct sn_err *err)
{
	*value = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_fail(db, rc, "meta", err);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return db_fail(db, rc, "meta", err);
	const char *v = (const char *)sqlite3_column_text(st, 0);
	if (!(*value = strdup(v ? v : "")))
		return sn_err_set(err, ENOMEM, "meta");
	return 0;
}

int node_db_meta_set(struct node_db *db, const char *key, const char *value, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "INSERT OR REPLACE INTO meta VALUES (?, ?)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	return rc == SQLITE_OK ? 0 : db_fail(db, rc, "meta", err);
}

struct sqlite3 *node_db_sqlite(struct node_db *db)
{
	return db->h;
}
