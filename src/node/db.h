/* db.h — subnoded's state in SQLite (WAL): the subnodes, their sizes and
 * units, lifecycle phase, restart counts and health. Written before acting:
 * a row says what the daemon was about to do, so the next start can finish
 * or undo it (see reconcile.c).
 *
 * Rows cross this interface as JSON objects whose keys are the column
 * names; `config` is itself a JSON object (the validated create request).
 * The handle is not thread-safe: the daemon holds its node lock around it.
 */
#ifndef SN_NODE_DB_H
#define SN_NODE_DB_H

#include <stdint.h>
#include <jansson.h>
#include "base/err.h"

struct node_db;

/* Columns: id name state desired size units config created started_at
 * finished_at exit_code restart_count health error */
int node_db_open(const char *path, struct node_db **out, struct sn_err *err);
void node_db_close(struct node_db *db);
int node_db_insert(struct node_db *db, json_t *row, struct sn_err *err);
/* Set the given columns of row id (keys of fields; config as an object). */
int node_db_update(struct node_db *db, const char *id, json_t *fields, struct sn_err *err);
int node_db_delete(struct node_db *db, const char *id, struct sn_err *err);
/* By full id, unique id prefix, or name. -ENOENT when none, -EINVAL when
 * a prefix is ambiguous. */
int node_db_find(struct node_db *db, const char *ref, json_t **row, struct sn_err *err);
/* Every row, oldest first. */
int node_db_list(struct node_db *db, json_t **rows, struct sn_err *err);
/* Sum of units of rows not being removed. */
int node_db_units_used(struct node_db *db, unsigned *used, struct sn_err *err);
/* The `meta` table: key → text. get: -ENOENT when the key is not there. */
int node_db_meta_get(struct node_db *db, const char *key, char **value, struct sn_err *err);
int node_db_meta_set(struct node_db *db, const char *key, const char *value, struct sn_err *err);
/* Record the size table in use (for node info and later audits). */
int node_db_save_sizes(struct node_db *db, const char *const *names, const unsigned *units,
		       unsigned n, struct sn_err *err);
/* The SQLite handle, for the tables of other concerns (volume_db.c). */
struct sqlite3 *node_db_sqlite(struct node_db *db);

/* The SQLite handle, for the tables of other node files (network_db.c). */
struct sqlite3 *node_db_sqlite(struct node_db *db);

#endif
