/* store.h — the manager's state store: one interface, several back-ends.
 *
 * The manager keeps everything (nodes, chains, the epoch, the decision log)
 * as JSON values under string keys in a store shaped like etcd v3, so that
 * the etcd back-end of the HA issue can follow without touching the layers
 * above:
 *   - a store-wide revision that every write raises by one; each key keeps
 *     the revision it was created at and last modified at (mod_rev);
 *   - transactions: a list of compares (a key's mod_rev equals a value, or
 *     the key is absent) and a list of puts/deletes applied atomically only
 *     when every compare holds (etcd's Txn) — the one way to write, so that
 *     a writer working on an old read loses (-ECANCELED) instead of
 *     overwriting;
 *   - leases: a key may be bound to a lease with a TTL; when the lease
 *     expires (or is revoked) its keys are deleted;
 *   - watch: wait until some key under a prefix changes after a revision.
 *
 * Back-ends: store_sqlite.c (SQLite in WAL mode, one file DIR/manager.db,
 * the embedded default). Callers name a store as "sqlite:DIR" or plain DIR.
 * A store handle is safe to use from several threads.
 */
#ifndef SN_MANAGER_STORE_H
#define SN_MANAGER_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "base/err.h"

struct mgr_store;

struct mgr_kv {
	char *key;
	char *value;          /* NUL-terminated; NULL in a watch event = deleted */
	int64_t create_rev;
	int64_t mod_rev;
	int64_t lease;        /* 0 = none */
};

/* A compare of a transaction: the key's mod_rev equals mod_rev; mod_rev 0
 * means "the key does not exist". */
struct mgr_cmp {
	const char *key;
	int64_t mod_rev;
};

enum mgr_op_kind { MGR_OP_PUT = 1, MGR_OP_DELETE, MGR_OP_DELETE_PREFIX };
struct mgr_op {
	enum mgr_op_kind kind;
	const char *key;      /* the prefix for MGR_OP_DELETE_PREFIX */
	const char *value;    /* PUT only */
	int64_t lease;        /* PUT only; 0 = none */
};

struct mgr_store_ops {
	const char *name;
	int (*get)(struct mgr_store *s, const char *key, struct mgr_kv *out, struct sn_err *err);
	int (*range)(struct mgr_store *s, const char *prefix, struct mgr_kv **out, size_t *n,
		     int64_t *rev, struct sn_err *err);
	int (*txn)(struct mgr_store *s, const struct mgr_cmp *cmps, size_t ncmp,
		   const struct mgr_op *ops, size_t nops, int64_t *rev, struct sn_err *err);
	int (*lease_grant)(struct mgr_store *s, int64_t ttl_ms, int64_t *id, struct sn_err *err);
	int (*lease_keepalive)(struct mgr_store *s, int64_t id, struct sn_err *err);
	int (*lease_revoke)(struct mgr_store *s, int64_t id, struct sn_err *err);
	int (*watch)(struct mgr_store *s, const char *prefix, int64_t after_rev, int timeout_ms,
		     struct mgr_kv **events, size_t *n, int64_t *rev, struct sn_err *err);
	void (*close)(struct mgr_store *s);
};

struct mgr_store {
	const struct mgr_store_ops *ops;
};

/* Open "sqlite:DIR" or "DIR" (made when missing, mode 0700). */
int mgr_store_open(const char *spec, struct mgr_store **out, struct sn_err *err);
void mgr_store_close(struct mgr_store *s);

/* The key's value, or -ENOENT (err set) when absent. */
int mgr_store_get(struct mgr_store *s, const char *key, struct mgr_kv *out, struct sn_err *err);
/* Every key starting with prefix, in key order, and the store revision of
 * the read. Free with mgr_kvs_free. */
int mgr_store_range(struct mgr_store *s, const char *prefix, struct mgr_kv **out, size_t *n,
		    int64_t *rev, struct sn_err *err);
/* All ops when all compares hold; -ECANCELED ("... changed since it was
 * read") otherwise, with nothing written. *rev (may be NULL) gets the new
 * revision. */
int mgr_store_txn(struct mgr_store *s, const struct mgr_cmp *cmps, size_t ncmp,
		  const struct mgr_op *ops, size_t nops, int64_t *rev, struct sn_err *err);
/* A single unconditional put / delete (a txn of one op). */
int mgr_store_put(struct mgr_store *s, const char *key, const char *value, struct sn_err *err);
int mgr_store_lease_grant(struct mgr_store *s, int64_t ttl_ms, int64_t *id, struct sn_err *err);
int mgr_store_lease_keepalive(struct mgr_store *s, int64_t id, struct sn_err *err);
int mgr_store_lease_revoke(struct mgr_store *s, int64_t id, struct sn_err *err);
/* Changes under prefix with a revision > after_rev, waiting up to
 * timeout_ms for the first one (0 events on time-out). *rev gets the store
 * revision the caller should pass as after_rev next time. Events of keys
 * deleted have value NULL. -ERANGE when after_rev is older than the kept
 * history (the caller re-reads with range, as etcd's compacted error). */
int mgr_store_watch(struct mgr_store *s, const char *prefix, int64_t after_rev, int timeout_ms,
		    struct mgr_kv **events, size_t *n, int64_t *rev, struct sn_err *err);

void mgr_kv_clear(struct mgr_kv *kv);
void mgr_kvs_free(struct mgr_kv *kvs, size_t n);

/* Back-ends. */
int mgr_store_sqlite_open(const char *dir, struct mgr_store **out, struct sn_err *err);

#endif
