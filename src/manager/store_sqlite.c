/* store_sqlite.c — the embedded store back-end: one SQLite file in WAL mode
 * (DIR/manager.db) that behaves as the etcd-shaped interface of store.h.
 *
 * Tables: kv (key, value, create_rev, mod_rev, lease), leases (id, ttl,
 * expiry in unix ms), events (rev, key, value; NULL value = deleted) — the
 * history a watch reads — and meta (the revision, the compacted revision).
 * A transaction runs inside BEGIN IMMEDIATE … COMMIT, so its compares and
 * its writes are one atomic step; it raises the revision by one however
 * many keys it writes (as etcd). Expired leases are swept, deleting their
 * keys as a write of their own, at the start of every operation.
 *
 * Watchers wait on a condition variable that every commit broadcasts; one
 * mutex serialises all use of the connection (the manager is one process;
 * several processes on one file would still be correct through SQLite's
 * locks, but watchers of the other process would only see changes on their
 * time-out). History older than KEEP_EVENTS revisions is dropped; a watch
 * from before it gets -ERANGE (etcd's "compacted").
 */
#include "manager/store.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/fs.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEEP_EVENTS 100000

struct sqlite_store {
	struct mgr_store base;
	sqlite3 *h;
	pthread_mutex_t mu;
	pthread_cond_t changed;
	int64_t rev;
	int64_t compact_rev;
	char *path;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
	" create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, lease INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS kv_lease ON kv(lease) WHERE lease != 0;"
	"CREATE TABLE IF NOT EXISTS leases (id INTEGER PRIMARY KEY, ttl_ms INTEGER NOT NULL,"
	" expires_ms INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS events (rev INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,"
	" PRIMARY KEY (rev, key));"
	"INSERT OR IGNORE INTO meta VALUES ('rev', 0), ('compact', 0);";

static int fail(struct sqlite_store *s, int rc, const char *what, struct sn_err *err)
{
	int e = rc == SQLITE_BUSY ? EBUSY : rc == SQLITE_NOMEM ? ENOMEM :
		rc == SQLITE_FULL ? ENOSPC : EIO;
	return sn_err_msg(err, e, "store `%s`: %s: %s", s->path, what, sqlite3_errmsg(s->h));
}

static int exec_sql(struct sqlite_store *s, const char *sql, struct sn_err *err)
{
	int rc = sqlite3_exec(s->h, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(s, rc, sql, err);
}

static void finalizep(sqlite3_stmt **st) { sqlite3_finalize(*st); }
#define _cleanup_stmt_ _cleanup_(finalizep)

static int prepare(struct sqlite_store *s, const char *sql, sqlite3_stmt **st, struct sn_err *err)
{
	int rc = sqlite3_prepare_v2(s->h, sql, -1, st, NULL);
	return rc == SQLITE_OK ? 0 : fail(s, rc, "prepare", err);
}

/* The bounds of a prefix as a key range [prefix, end): end is the prefix
 * with its last byte below 0xff raised by one (etcd's range_end rule);
 * *has_end false for "" or all-0xff prefixes (no upper bound). */
static void prefix_end(const char *prefix, char *end, size_t size, bool *has_end)
{
	size_t n = strlen(prefix);
	*has_end = false;
	if (n == 0 || n >= size)
		return;
	memcpy(end, prefix, n + 1);
	while (n > 0) {
		unsigned char c = (unsigned char)end[n - 1];
		if (c < 0xff) {
			end[n - 1] = (char)(c + 1);
			end[n] = 0;
			*has_end = true;
			return;
		}
		n--;
	}
}

static int meta_set(struct sqlite_store *s, const char *key, int64_t v, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, "UPDATE meta SET value = ? WHERE key = ?", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc, "write meta", err);
}

static int add_event(struct sqlite_store *s, int64_t rev, const char *key, const char *value,
		     struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, "INSERT OR REPLACE INTO events (rev, key, value) VALUES (?, ?, ?)",
			&st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, rev);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	int rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc, "record event", err);
}

/* Bind the selection of delete_where: a lease, or a key range [lo, hi)
 * (hi NULL = no upper bound). */
static void bind_selection(sqlite3_stmt *st, const char *lo, const char *hi, int64_t lease)
{
	if (lease) {
		sqlite3_bind_int64(st, 1, lease);
		return;
	}
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
	if (hi)
		sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
}

/* Delete the keys of a lease or of a key range, recording a delete event
 * for each at rev. *count gets how many. */
static int delete_where(struct sqlite_store *s, int64_t rev, const char *lo, const char *hi,
			int64_t lease, size_t *count, struct sn_err *err)
{
	const char *where = lease ? "lease = ?" : hi ? "key >= ? AND key < ?" : "key >= ?";
	char sql[96];
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	snprintf(sql, sizeof(sql), "SELECT key FROM kv WHERE %s", where);
	int r = prepare(s, sql, &st, err);
	if (r)
		return r;
	bind_selection(st, lo, hi, lease);
	int rc;
	*count = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = add_event(s, rev, (const char *)sqlite3_column_text(st, 0), NULL, err);
		if (r)
			return r;
		(*count)++;
	}
	if (rc != SQLITE_DONE)
		return fail(s, rc, "select keys to delete", err);
	_cleanup_stmt_ sqlite3_stmt *del = NULL;
	snprintf(sql, sizeof(sql), "DELETE FROM kv WHERE %s", where);
	r = prepare(s, sql, &del, err);
	if (r)
		return r;
	bind_selection(del, lo, hi, lease);
	rc = sqlite3_step(del);
	return rc == SQLITE_DONE ? 0 : fail(s, rc, "delete keys", err);
}

/* Drop the history before rev - KEEP_EVENTS, every 1000 revisions. */
static int compact(struct sqlite_store *s, struct sn_err *err)
{
	if (s->rev % 1000 != 0 || s->rev <= KEEP_EVENTS)
		return 0;
	int64_t keep_from = s->rev - KEEP_EVENTS;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, "DELETE FROM events WHERE rev < ?", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, keep_from);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return fail(s, rc, "compact history", err);
	r = meta_set(s, "compact", keep_from - 1, err);
	if (r == 0)
		s->compact_rev = keep_from - 1;
	return r;
}

static int commit_rev(struct sqlite_store *s, int64_t rev, struct sn_err *err)
{
	int r = meta_set(s, "rev", rev, err);
	if (r)
		return r;
	int64_t old = s->rev;
	s->rev = rev;
	r = compact(s, err);
	if (r == 0)
		r = exec_sql(s, "COMMIT", err);
	if (r) {
		s->rev = old;
		return r;
	}
	pthread_cond_broadcast(&s->changed);
	return 0;
}

/* Delete the keys of every expired lease, as one write. Called with mu held. */
static int sweep_leases(struct sqlite_store *s, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *q = NULL;
	int r = prepare(s, "SELECT id FROM leases WHERE expires_ms <= ? LIMIT 64", &q, err);
	if (r)
		return r;
	sqlite3_bind_int64(q, 1, sn_wall_ms());
	int64_t ids[64];
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && n < 64)
		ids[n++] = sqlite3_column_int64(q, 0);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(s, rc, "read leases", err);
	if (n == 0)
		return 0;
	r = exec_sql(s, "BEGIN IMMEDIATE", err);
	if (r)
		return r;
	int64_t rev = s->rev + 1;
	size_t total = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t c = 0;
		r = delete_where(s, rev, NULL, NULL, ids[i], &c, err);
		total += c;
		_cleanup_stmt_ sqlite3_stmt *d = NULL;
		if (r == 0)
			r = prepare(s, "DELETE FROM leases WHERE id = ?", &d, err);
		if (r == 0) {
			sqlite3_bind_int64(d, 1, ids[i]);
			rc = sqlite3_step(d);
			if (rc != SQLITE_DONE)
				r = fail(s, rc, "delete lease", err);
		}
	}
	if (r) {
		sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	if (total == 0)
		return exec_sql(s, "COMMIT", err);
	return commit_rev(s, rev, err);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static int sq_get(struct mgr_store *b, const char *key, struct mgr_kv *out, struct sn_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)b;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->mu);
	int r = sweep_leases(s, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = prepare(s, "SELECT key, value, create_rev, mod_rev, lease FROM kv WHERE key = ?",
			    &st, err);
	if (r == 0) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out->key = col_dup(st, 0);
			out->value = col_dup(st, 1);
			out->create_rev = sqlite3_column_int64(st, 2);
			out->mod_rev = sqlite3_column_int64(st, 3);
			out->lease = sqlite3_column_int64(st, 4);
			if (!out->key || !out->value) {
				mgr_kv_clear(out);
				r = sn_err_set(err, ENOMEM, "store: read `%s`", key);
			}
		} else if (rc == SQLITE_DONE) {
			r = sn_err_msg(err, ENOENT, "store: no key `%s`", key);
		} else {
			r = fail(s, rc, "read", err);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* Run a prepared select of (key, value, create_rev, mod_rev, lease) rows
 * into a growing array. */
static int collect(struct sqlite_store *s, sqlite3_stmt *st, struct mgr_kv **out, size_t *n,
		   struct sn_err *err)
{
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct mgr_kv *g = realloc(*out, cap * sizeof(**out));
			if (!g)
				goto nomem;
			*out = g;
		}
		struct mgr_kv *kv = &(*out)[*n];
		memset(kv, 0, sizeof(*kv));
		(*n)++;
		kv->key = col_dup(st, 0);
		kv->value = col_dup(st, 1);
		kv->create_rev = sqlite3_column_int64(st, 2);
		kv->mod_rev = sqlite3_column_int64(st, 3);
		kv->lease = sqlite3_column_int64(st, 4);
		if (!kv->key || (!kv->value && sqlite3_column_type(st, 1) != SQLITE_NULL))
			goto nomem;
	}
	if (rc == SQLITE_DONE)
		return 0;
	mgr_kvs_free(*out, *n);
	*out = NULL;
	*n = 0;
	return fail(s, rc, "range", err);
nomem:
	mgr_kvs_free(*out, *n);
	*out = NULL;
	*n = 0;
	return sn_err_set(err, ENOMEM, "store: range");
}

static int sq_range(struct mgr_store *b, const char *prefix, struct mgr_kv **out, size_t *n,
		    int64_t *rev, struct sn_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)b;
	char end[1024];
	bool has_end;
	prefix_end(prefix, end, sizeof(end), &has_end);
	pthread_mutex_lock(&s->mu);
	int r = sweep_leases(s, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = prepare(s, has_end ?
			    "SELECT key, value, create_rev, mod_rev, lease FROM kv"
			    " WHERE key >= ? AND key < ? ORDER BY key" :
			    "SELECT key, value, create_rev, mod_rev, lease FROM kv"
			    " WHERE key >= ? ORDER BY key", &st, err);
	if (r == 0) {
		sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
		if (has_end)
			sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
		r = collect(s, st, out, n, err);
	}
	if (r == 0 && rev)
		*rev = s->rev;
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* Does the compare hold? */
static int check_cmp(struct sqlite_store *s, const struct mgr_cmp *c, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT mod_rev FROM kv WHERE key = ?", &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t have = 0;
	if (rc == SQLITE_ROW)
		have = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		return fail(s, rc, "compare", err);
	if (have == c->mod_rev)
		return 0;
	if (c->mod_rev == 0)
		return sn_err_msg(err, ECANCELED, "`%s` already exists", c->key);
	if (have == 0)
		return sn_err_msg(err, ECANCELED, "`%s` was deleted since it was read", c->key);
	return sn_err_msg(err, ECANCELED, "`%s` changed since it was read (revision %lld, read at %lld)",
			  c->key, (long long)have, (long long)c->mod_rev);
}

static int apply_put(struct sqlite_store *s, int64_t rev, const struct mgr_op *op,
		     struct sn_err *err)
{
	if (op->lease) {
		_cleanup_stmt_ sqlite3_stmt *l = NULL;
		int r = prepare(s, "SELECT 1 FROM leases WHERE id = ?", &l, err);
		if (r)
			return r;
		sqlite3_bind_int64(l, 1, op->lease);
		if (sqlite3_step(l) != SQLITE_ROW)
			return sn_err_msg(err, ENOENT, "put `%s`: no lease %lld", op->key,
					  (long long)op->lease);
	}
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, "INSERT INTO kv (key, value, create_rev, mod_rev, lease)"
			" VALUES (?1, ?2, ?3, ?3, ?4) ON CONFLICT(key) DO UPDATE SET"
			" value = ?2, mod_rev = ?3, lease = ?4", &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, op->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, op->value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, rev);
	sqlite3_bind_int64(st, 4, op->lease);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return fail(s, rc, "put", err);
	return add_event(s, rev, op->key, op->value, err);
}

static int apply_op(struct sqlite_store *s, int64_t rev, const struct mgr_op *op,
		    struct sn_err *err)
{
	if (!op->key)
		return sn_err_msg(err, EINVAL, "store: op without a key");
	size_t c;
	switch (op->kind) {
	case MGR_OP_PUT:
		if (!op->value)
			return sn_err_msg(err, EINVAL, "store: put `%s` without a value", op->key);
		return apply_put(s, rev, op, err);
	case MGR_OP_DELETE: {
		char hi[1024];
		size_t n = strlen(op->key);
		if (n + 2 > sizeof(hi))
			return sn_err_msg(err, ENAMETOOLONG, "store: key `%.64s…` too long", op->key);
		memcpy(hi, op->key, n);
		hi[n] = '\x01';  /* [key, key"\x01") holds key alone: keys have no control bytes */
		hi[n + 1] = 0;
		return delete_where(s, rev, op->key, hi, 0, &c, err);
	}
	case MGR_OP_DELETE_PREFIX: {
		char end[1024];
		bool has_end;
		prefix_end(op->key, end, sizeof(end), &has_end);
		return delete_where(s, rev, op->key, has_end ? end : NULL, 0, &c, err);
	}
	}
	return sn_err_msg(err, EINVAL, "store: unknown op %d", (int)op->kind);
}

static int sq_txn(struct mgr_store *b, const struct mgr_cmp *cmps, size_t ncmp,
		  const struct mgr_op *ops, size_t nops, int64_t *rev, struct sn_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)b;
	pthread_mutex_lock(&s->mu);
	int r = sweep_leases(s, err);
	if (r == 0)
		r = exec_sql(s, "BEGIN IMMEDIATE", err);
	if (r) {
		pthread_mutex_unlock(&s->mu);
		return r;
	}
	int64_t next = s->rev + 1;
	for (size_t i = 0; i < ncmp && r == 0; i++)
		r = check_cmp(s, &cmps[i], err);
	for (size_t i = 0; i < nops && r == 0; i++)
		r = apply_op(s, next, &ops[i], err);
	if (r == 0)
		r = commit_rev(s, next, err);
	if (r)
		sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
	else if (rev)
		*rev = next;
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int sq_lease_grant(struct mgr_store *b, int64_t ttl_ms, int64_t *id, struct sn_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)b;
	if (ttl_ms <= 0)
		return sn_err_msg(err, EINVAL, "lease: ttl must be positive");
	pthread_mutex_lock(&s->mu);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, "INSERT INTO leases (ttl_ms, expires_ms) VALUES (?, ?)", &st, err);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, ttl_ms);
		sqlite3_bind_int64(st, 2, sn_wall_ms() + ttl_ms);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			*id = sqlite3_last_insert_rowid(s->h);
		else
			r = fail(s, rc, "grant lease", err);
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int sq_lease_keepalive(struct mgr_store *b, int64_t id, struct sn_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)b;
	pthread_mutex_lock(&s->mu);
	int r = sweep_leases(s, err);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (r == 0)
		r = prepare(s, "UPDATE leases SET expires_ms = ? + ttl_ms WHERE id = ?", &st, err);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, sn_wall_ms());
		sqlite3_bind_int64(st, 2, id);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			r = fail(s, rc, "keep lease alive", err);
		else if (sqlite3_changes(s->h) == 0)
			r = sn_err_msg(err, ENOENT, "lease %lld: expired or unknown", (long long)id);
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int sq_lease_revoke(struct mgr_store *b, int64_t id, struct sn_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)b;
	pthread_mutex_lock(&s->mu);
	/* Revoking is expiring now: the sweep deletes the keys as one write. */
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, "UPDATE leases SET expires_ms = 0 WHERE id = ?", &st, err);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, id);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			r = fail(s, rc, "revoke lease", err);
		else if (sqlite3_changes(s->h) == 0)
			r = sn_err_msg(err, ENOENT, "lease %lld: expired or unknown", (long long)id);
	}
	if (r == 0)
		r = sweep_leases(s, err);
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int read_events(struct sqlite_store *s, const char *prefix, int64_t after,
		       struct mgr_kv **out, size_t *n, struct sn_err *err)
{
	char end[1024];
	bool has_end;
	prefix_end(prefix, end, sizeof(end), &has_end);
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, has_end ?
			"SELECT key, value, rev, rev, 0 FROM events WHERE rev > ?"
			" AND key >= ? AND key < ? ORDER BY rev, key" :
			"SELECT key, value, rev, rev, 0 FROM events WHERE rev > ?"
			" AND key >= ? ORDER BY rev, key", &st, err);
	if (r)
		return r;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	if (has_end)
		sqlite3_bind_text(st, 3, end, -1, SQLITE_STATIC);
	return collect(s, st, out, n, err);
}

static int sq_watch(struct mgr_store *b, const char *prefix, int64_t after_rev, int timeout_ms,
		    struct mgr_kv **events, size_t *n, int64_t *rev, struct sn_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)b;
	struct timespec until = sn_deadline_after(timeout_ms);
	*events = NULL;
	*n = 0;
	pthread_mutex_lock(&s->mu);
	int r = 0;
	for (;;) {
		r = sweep_leases(s, err);
		if (r)
			break;
		if (after_rev < s->compact_rev) {
			r = sn_err_msg(err, ERANGE, "watch `%s`: revision %lld is compacted (history"
				       " kept from %lld)", prefix, (long long)after_rev,
				       (long long)s->compact_rev + 1);
			break;
		}
		if (s->rev > after_rev) {
			r = read_events(s, prefix, after_rev, events, n, err);
			if (r || *n > 0)
				break;
			after_rev = s->rev;
		}
		if (pthread_cond_timedwait(&s->changed, &s->mu, &until) == ETIMEDOUT) {
			/* one last sweep may have expired a lease meanwhile */
			r = sweep_leases(s, err);
			if (r == 0 && s->rev > after_rev)
				r = read_events(s, prefix, after_rev, events, n, err);
			break;
		}
	}
	if (rev)
		*rev = s->rev;
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void sq_close(struct mgr_store *b)
{
	struct sqlite_store *s = (struct sqlite_store *)b;
	sqlite3_close(s->h);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->changed);
	free(s->path);
	free(s);
}

static const struct mgr_store_ops sqlite_ops = {
	.name = "sqlite",
	.get = sq_get,
	.range = sq_range,
	.txn = sq_txn,
	.lease_grant = sq_lease_grant,
	.lease_keepalive = sq_lease_keepalive,
	.lease_revoke = sq_lease_revoke,
	.watch = sq_watch,
	.close = sq_close,
};

static int read_meta(struct sqlite_store *s, const char *key, int64_t *v, struct sn_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT value FROM meta WHERE key = ?", &st, err);
	if (r)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return fail(s, SQLITE_CORRUPT, "meta has no revision", err);
	*v = sqlite3_column_int64(st, 0);
	return 0;
}

int mgr_store_sqlite_open(const char *dir, struct mgr_store **out, struct sn_err *err)
{
	int r = sn_mkdir_p(dir, 0700, err);
	if (r)
		return sn_err_wrap(err, "store");
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if (!s)
		return sn_err_set(err, ENOMEM, "store");
	s->base.ops = &sqlite_ops;
	s->path = sn_path_join(dir, "manager.db");
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->mu, NULL);
	if (!s->path) {
		sq_close(&s->base);
		return sn_err_set(err, ENOMEM, "store");
	}
	/* node credentials and transfer tokens live in it: 0600, WAL too */
	if ((r = sn_sqlite_private(s->path, err)) < 0) {
		sq_close(&s->base);
		return r;
	}
	int rc = sqlite3_open_v2(s->path, &s->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = sn_err_msg(err, EIO, "store `%s`: %s", s->path,
			       s->h ? sqlite3_errmsg(s->h) : sqlite3_errstr(rc));
		sq_close(&s->base);
		return r;
	}
	sqlite3_busy_timeout(s->h, 5000);
	r = exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err);
	if (r == 0)
		r = exec_sql(s, schema, err);
	if (r == 0)
		r = read_meta(s, "rev", &s->rev, err);
	if (r == 0)
		r = read_meta(s, "compact", &s->compact_rev, err);
	if (r) {
		sq_close(&s->base);
		return r;
	}
	*out = &s->base;
	return 0;
}
