/* dlog.h — the decision log: append-only, hash-chained, self-contained.
 *
 * Every decision of the manager (the genesis seed, each new epoch seed,
 * each placement with the full input it was computed from, each node state
 * change) is one entry: a JSON object written in canonical form (compact,
 * keys sorted) with
 *   seq   1, 2, 3, … without gaps
 *   prev  the hash of the entry before (64 zeros for the first)
 *   hash  SHA-256 of the canonical entry without its "hash" member
 * so changing, dropping or reordering any byte of the log breaks a hash or
 * a link. Entries live in the store under log/<seq as 16 hex digits>, with
 * `loghead` ({seq, hash}) as the compare-and-swap point that orders every
 * appender; an append is part of the caller's own transaction (the log and
 * the state it explains are written together or not at all).
 * `subnode-manager verify` (verify.c) re-computes every decision from the
 * exported lines alone.
 */
#ifndef SN_MANAGER_DLOG_H
#define SN_MANAGER_DLOG_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "base/err.h"
#include "manager/store.h"

#define MGR_LOG_HEAD_KEY "loghead"
#define MGR_LOG_PREFIX "log/"

struct mgr_dlog_head {
	uint64_t seq;          /* of the last entry; 0 = empty log */
	char hash[65];         /* of the last entry; 64 zeros when empty */
	int64_t mod_rev;       /* of loghead; 0 = absent */
};

/* One append, to be added to a transaction: cmp holds loghead's revision,
 * ops[0] puts the entry, ops[1] the new head. */
struct mgr_dlog_append {
	char key[32];
	char *line;
	char *head;
	uint64_t seq;
	char hash[65];         /* of this entry: the new head */
	struct mgr_cmp cmp;
	struct mgr_op ops[2];
};

int mgr_dlog_head(struct mgr_store *s, struct mgr_dlog_head *h, struct sn_err *err);
/* Seal body (a JSON object with "kind" and the decision; "time" added
 * here) as the entry after h. body is not changed. */
int mgr_dlog_seal(const struct mgr_dlog_head *h, json_t *body, int64_t time_ms,
		  struct mgr_dlog_append *a, struct sn_err *err);
void mgr_dlog_append_free(struct mgr_dlog_append *a);
/* Canonical text of an entry object (compact, sorted keys). */
char *mgr_dlog_canonical(json_t *entry);
/* SHA-256 hex of the canonical text of entry without "hash". */
int mgr_dlog_entry_hash(json_t *entry, char hash[65], struct sn_err *err);
/* Write every entry, one line each, in order. */
int mgr_dlog_export(struct mgr_store *s, FILE *out, struct sn_err *err);
/* The entries as one buffer of lines (what export writes). */
int mgr_dlog_read_all(struct mgr_store *s, char **buf, size_t *len, struct sn_err *err);

/* Verification (verify.c): every line parsed, hashed, linked and every
 * decision re-computed. The report lists each problem on a line naming the
 * entry ("entry 7 (place `c1`): recomputed n1,n4,… but the log says …").
 * Returns 0 when the whole log holds, -EBADMSG when any problem was found
 * (err says how many), other -errno on failure to run. */
struct mgr_verify_report {
	size_t entries;
	size_t placements;
	size_t epochs;
	size_t problems;
	char *text;            /* malloc'ed; one problem a line */
};
int mgr_dlog_verify(const char *buf, size_t len, struct mgr_verify_report *rep,
		    struct sn_err *err);
void mgr_verify_report_free(struct mgr_verify_report *rep);

#endif
