/* batch.c — collecting one manager step into one transaction (batch.h). */
#include "manager/batch.h"
#include "base/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mgr_batch_init(struct mgr_batch *b, const struct mgr_dlog_head *head, int64_t time_ms)
{
	memset(b, 0, sizeof(*b));
	b->head = *head;
	b->time_ms = time_ms;
}

void mgr_batch_free(struct mgr_batch *b)
{
	for (size_t i = 0; i < b->nowned; i++)
		free(b->owned[i]);
	free(b->owned);
	free(b->cmps);
	free(b->ops);
	memset(b, 0, sizeof(*b));
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 16;
	void *g = realloc(*p, c * size);
	if (!g)
		return -ENOMEM;
	*p = g;
	*cap = c;
	return 0;
}

/* Keep s (taken over) alive until the batch is freed. */
static const char *own(struct mgr_batch *b, char *s)
{
	if (!s || grow((void **)&b->owned, &b->capw, b->nowned, sizeof(char *))) {
		free(s);
		return NULL;
	}
	b->owned[b->nowned++] = s;
	return s;
}

int mgr_batch_cmp(struct mgr_batch *b, const char *key, int64_t mod_rev, struct sn_err *err)
{
	const char *k = own(b, strdup(key));
	if (!k || grow((void **)&b->cmps, &b->capc, b->ncmps, sizeof(*b->cmps)))
		return sn_err_set(err, ENOMEM, "step: compare `%s`", key);
	b->cmps[b->ncmps++] = (struct mgr_cmp){ k, mod_rev };
	return 0;
}

static int add_op(struct mgr_batch *b, enum mgr_op_kind kind, const char *key, char *value,
		  struct sn_err *err)
{
	const char *k = own(b, strdup(key));
	const char *v = value ? own(b, value) : NULL;
	if (!k || (kind == MGR_OP_PUT && !v) ||
	    grow((void **)&b->ops, &b->capo, b->nops, sizeof(*b->ops)))
		return sn_err_set(err, ENOMEM, "step: write `%s`", key);
	b->ops[b->nops++] = (struct mgr_op){ .kind = kind, .key = k, .value = v };
	return 0;
}

int mgr_batch_put(struct mgr_batch *b, const char *key, const char *value, struct sn_err *err)
{
	char *v = strdup(value);
	if (!v)
		return sn_err_set(err, ENOMEM, "step: write `%s`", key);
	return add_op(b, MGR_OP_PUT, key, v, err);
}

int mgr_batch_put_json(struct mgr_batch *b, const char *key, json_t *v, struct sn_err *err)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return sn_err_set(err, ENOMEM, "step: write `%s`", key);
	return add_op(b, MGR_OP_PUT, key, s, err);
}

int mgr_batch_delete(struct mgr_batch *b, const char *key, struct sn_err *err)
{
	return add_op(b, MGR_OP_DELETE, key, NULL, err);
}

int mgr_batch_log(struct mgr_batch *b, json_t *body, struct sn_err *err)
{
	struct mgr_dlog_append a;
	int r = mgr_dlog_seal(&b->head, body, b->time_ms, &a, err);
	if (r)
		return r;
	if (!b->log_started) {
		r = mgr_batch_cmp(b, MGR_LOG_HEAD_KEY, b->head.mod_rev, err);
		b->log_started = 1;
	}
	if (r == 0)
		r = add_op(b, MGR_OP_PUT, a.key, steal_ptr(a.line), err);
	if (r == 0) {
		/* the head is written once, by the last entry: drop an earlier one */
		for (size_t i = 0; i < b->nops; i++)
			if (b->ops[i].kind == MGR_OP_PUT &&
			    strcmp(b->ops[i].key, MGR_LOG_HEAD_KEY) == 0) {
				memmove(&b->ops[i], &b->ops[i + 1], (b->nops - i - 1) * sizeof(*b->ops));
				b->nops--;
				break;
			}
		r = add_op(b, MGR_OP_PUT, MGR_LOG_HEAD_KEY, steal_ptr(a.head), err);
	}
	mgr_dlog_append_free(&a);
	if (r)
		return r;
	b->head.seq = a.seq;
	memcpy(b->head.hash, a.hash, sizeof(b->head.hash));
	return 0;
}

int mgr_batch_commit(struct mgr_batch *b, struct mgr_store *s, struct sn_err *err)
{
	return mgr_store_txn(s, b->cmps, b->ncmps, b->ops, b->nops, NULL, err);
}
