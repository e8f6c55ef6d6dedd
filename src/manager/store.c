/* store.c — the back-end-neutral half of the store interface (store.h):
 * picking a back-end from its spec, the one-op shorthands, freeing. Each
 * back-end fills a struct mgr_store_ops; nothing here knows SQLite. */
#include "manager/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mgr_store_open(const char *spec, struct mgr_store **out, struct sn_err *err)
{
	if (!spec || !*spec)
		return sn_err_msg(err, EINVAL, "store: empty spec (want sqlite:DIR or DIR)");
	if (strncmp(spec, "sqlite:", 7) == 0)
		return mgr_store_sqlite_open(spec + 7, out, err);
	if (strncmp(spec, "etcd:", 5) == 0)
		return sn_err_msg(err, ENOTSUP, "store `%s`: the etcd back-end is not built yet", spec);
	if (strchr(spec, ':') && spec[0] != '/' && spec[0] != '.')
		return sn_err_msg(err, EINVAL, "store `%s`: unknown back-end (want sqlite:DIR or DIR)",
				  spec);
	return mgr_store_sqlite_open(spec, out, err);
}

void mgr_store_close(struct mgr_store *s)
{
	if (s)
		s->ops->close(s);
}

int mgr_store_get(struct mgr_store *s, const char *key, struct mgr_kv *out, struct sn_err *err)
{
	return s->ops->get(s, key, out, err);
}

int mgr_store_range(struct mgr_store *s, const char *prefix, struct mgr_kv **out, size_t *n,
		    int64_t *rev, struct sn_err *err)
{
	return s->ops->range(s, prefix, out, n, rev, err);
}

int mgr_store_txn(struct mgr_store *s, const struct mgr_cmp *cmps, size_t ncmp,
		  const struct mgr_op *ops, size_t nops, int64_t *rev, struct sn_err *err)
{
	return s->ops->txn(s, cmps, ncmp, ops, nops, rev, err);
}

int mgr_store_put(struct mgr_store *s, const char *key, const char *value, struct sn_err *err)
{
	struct mgr_op op = { .kind = MGR_OP_PUT, .key = key, .value = value };
	return s->ops->txn(s, NULL, 0, &op, 1, NULL, err);
}

int mgr_store_lease_grant(struct mgr_store *s, int64_t ttl_ms, int64_t *id, struct sn_err *err)
{
	return s->ops->lease_grant(s, ttl_ms, id, err);
}

int mgr_store_lease_keepalive(struct mgr_store *s, int64_t id, struct sn_err *err)
{
	return s->ops->lease_keepalive(s, id, err);
}

int mgr_store_lease_revoke(struct mgr_store *s, int64_t id, struct sn_err *err)
{
	return s->ops->lease_revoke(s, id, err);
}

int mgr_store_watch(struct mgr_store *s, const char *prefix, int64_t after_rev, int timeout_ms,
		    struct mgr_kv **events, size_t *n, int64_t *rev, struct sn_err *err)
{
	return s->ops->watch(s, prefix, after_rev, timeout_ms, events, n, rev, err);
}

void mgr_kv_clear(struct mgr_kv *kv)
{
	if (!kv)
		return;
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void mgr_kvs_free(struct mgr_kv *kvs, size_t n)
{
	if (!kvs)
		return;
	for (size_t i = 0; i < n; i++)
		mgr_kv_clear(&kvs[i]);
	free(kvs);
}
