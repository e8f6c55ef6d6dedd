/* dlog.c — sealing and reading entries of the decision log (dlog.h). */
#include "manager/dlog.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/sha256.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char zero_hash[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

char *mgr_dlog_canonical(json_t *entry)
{
	return json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
}

int mgr_dlog_entry_hash(json_t *entry, char hash[65], struct sn_err *err)
{
	_cleanup_json_ json_t *body = json_deep_copy(entry);
	if (!body)
		return sn_err_set(err, ENOMEM, "decision log: hash");
	json_object_del(body, "hash");
	_cleanup_free_ char *text = mgr_dlog_canonical(body);
	if (!text)
		return sn_err_set(err, ENOMEM, "decision log: hash");
	return sn_sha256_hex(text, strlen(text), hash, err);
}

int mgr_dlog_head(struct mgr_store *s, struct mgr_dlog_head *h, struct sn_err *err)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->hash, zero_hash, sizeof(zero_hash));
	struct mgr_kv kv;
	int r = mgr_store_get(s, MGR_LOG_HEAD_KEY, &kv, err);
	if (r == -ENOENT) {
		sn_err_clear(err);
		return 0;
	}
	if (r)
		return r;
	_cleanup_json_ json_t *j = NULL;
	r = sn_json_loadb(kv.value, strlen(kv.value), MGR_LOG_HEAD_KEY, &j, err);
	h->mod_rev = kv.mod_rev;
	mgr_kv_clear(&kv);
	if (r)
		return r;
	uint64_t seq;
	const char *hash;
	if (sn_json_uint(j, MGR_LOG_HEAD_KEY, "seq", &seq, err) != 1 ||
	    sn_json_string(j, MGR_LOG_HEAD_KEY, "hash", &hash, err) != 1 || strlen(hash) != 64)
		return sn_err_msg(err, EIO, "decision log: `%s` is damaged", MGR_LOG_HEAD_KEY);
	h->seq = seq;
	memcpy(h->hash, hash, 65);
	return 0;
}

int mgr_dlog_seal(const struct mgr_dlog_head *h, json_t *body, int64_t time_ms,
		  struct mgr_dlog_append *a, struct sn_err *err)
{
	memset(a, 0, sizeof(*a));
	_cleanup_json_ json_t *e = json_deep_copy(body);
	if (!e)
		return sn_err_set(err, ENOMEM, "decision log: append");
	a->seq = h->seq + 1;
	if (json_object_set_new(e, "seq", json_integer((json_int_t)a->seq)) ||
	    json_object_set_new(e, "prev", json_string(h->hash)) ||
	    json_object_set_new(e, "time", json_integer(time_ms)))
		return sn_err_set(err, ENOMEM, "decision log: append");
	char hash[65];
	int r = mgr_dlog_entry_hash(e, hash, err);
	if (r)
		return r;
	memcpy(a->hash, hash, sizeof(a->hash));
	if (json_object_set_new(e, "hash", json_string(hash)))
		return sn_err_set(err, ENOMEM, "decision log: append");
	a->line = mgr_dlog_canonical(e);
	_cleanup_json_ json_t *head = json_pack("{sI ss}", "seq", (json_int_t)a->seq, "hash", hash);
	a->head = head ? mgr_dlog_canonical(head) : NULL;
	if (!a->line || !a->head) {
		mgr_dlog_append_free(a);
		return sn_err_set(err, ENOMEM, "decision log: append");
	}
	snprintf(a->key, sizeof(a->key), MGR_LOG_PREFIX "%016" PRIx64, a->seq);
	a->cmp = (struct mgr_cmp){ MGR_LOG_HEAD_KEY, h->mod_rev };
	a->ops[0] = (struct mgr_op){ .kind = MGR_OP_PUT, .key = a->key, .value = a->line };
	a->ops[1] = (struct mgr_op){ .kind = MGR_OP_PUT, .key = MGR_LOG_HEAD_KEY, .value = a->head };
	return 0;
}

void mgr_dlog_append_free(struct mgr_dlog_append *a)
{
	free(a->line);
	free(a->head);
	a->line = a->head = NULL;
}

int mgr_dlog_read_all(struct mgr_store *s, char **buf, size_t *len, struct sn_err *err)
{
	struct mgr_kv *kvs = NULL;
	size_t n = 0;
	int r = mgr_store_range(s, MGR_LOG_PREFIX, &kvs, &n, NULL, err);
	if (r)
		return r;
	size_t total = 1;
	for (size_t i = 0; i < n; i++)
		total += strlen(kvs[i].value) + 1;
	char *b = malloc(total);
	if (!b) {
		mgr_kvs_free(kvs, n);
		return sn_err_set(err, ENOMEM, "decision log: read");
	}
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(kvs[i].value);
		memcpy(b + off, kvs[i].value, l);
		off += l;
		b[off++] = '\n';
	}
	b[off] = 0;
	mgr_kvs_free(kvs, n);
	*buf = b;
	*len = off;
	return 0;
}

int mgr_dlog_export(struct mgr_store *s, FILE *out, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = mgr_dlog_read_all(s, &buf, &len, err);
	if (r)
		return r;
	if (fwrite(buf, 1, len, out) != len || fflush(out) != 0)
		return sn_err_sys(err, "decision log: write the export");
	return 0;
}
