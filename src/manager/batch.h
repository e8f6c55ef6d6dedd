/* batch.h — one manager step as one store transaction.
 *
 * A step of the manager (a chain created, a node marked down with all its
 * seats given away, …) writes several keys and one or more log entries;
 * it must land whole or not at all, and only if nothing it read has
 * changed since. A batch collects the compares (each key read, at the
 * revision read), the puts and deletes (copied, so callers may build
 * values in temporaries) and the log entries (sealed one after the other
 * from the log head read at the start), then commits them with
 * mgr_store_txn. A lost race is -ECANCELED; the caller re-reads and
 * decides again.
 */
#ifndef SN_MANAGER_BATCH_H
#define SN_MANAGER_BATCH_H

#include <jansson.h>
#include "base/err.h"
#include "manager/dlog.h"
#include "manager/store.h"

struct mgr_batch {
	struct mgr_cmp *cmps;
	size_t ncmps, capc;
	struct mgr_op *ops;
	size_t nops, capo;
	char **owned;            /* strings the cmps and ops point into */
	size_t nowned, capw;
	struct mgr_dlog_head head;   /* advanced by every log entry added */
	int64_t time_ms;
	int log_started;
};

/* head: the log head as read at the start of the step. */
void mgr_batch_init(struct mgr_batch *b, const struct mgr_dlog_head *head, int64_t time_ms);
void mgr_batch_free(struct mgr_batch *b);
int mgr_batch_cmp(struct mgr_batch *b, const char *key, int64_t mod_rev, struct sn_err *err);
int mgr_batch_put(struct mgr_batch *b, const char *key, const char *value, struct sn_err *err);
/* Put a JSON value (dumped compact with sorted keys). */
int mgr_batch_put_json(struct mgr_batch *b, const char *key, json_t *v, struct sn_err *err);
int mgr_batch_delete(struct mgr_batch *b, const char *key, struct sn_err *err);
/* Seal body as the next log entry. */
int mgr_batch_log(struct mgr_batch *b, json_t *body, struct sn_err *err);
int mgr_batch_commit(struct mgr_batch *b, struct mgr_store *s, struct sn_err *err);

#endif
