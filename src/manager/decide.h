/* decide.h — a placement as a decision-log entry: runs mgr_place and
 * writes the body that records its whole input (the candidate nodes with
 * their operators and free units, the kept members, the excluded nodes,
 * the chain id, the epoch) and its result, so that verify.c can run the
 * same function on the same input from the log alone. The one place that
 * turns a log body back into a placement request is here too, so the
 * manager and the verifier cannot drift apart.
 */
#ifndef SN_MANAGER_DECIDE_H
#define SN_MANAGER_DECIDE_H

#include <jansson.h>
#include "base/err.h"
#include "manager/placement.h"

struct mgr_place_in {
	struct mgr_cand *cands;       /* keys filled (mgr_place_prepare) */
	size_t ncands;
	const uint8_t *seed;
	uint64_t epoch;
	const char *chain;
	const char *chain_id;
	const char *draw;             /* NULL: the chain id; a rotation's own: `<chain_id>/<seq>` */
	int64_t units;
	size_t members;
	size_t need;
	const struct mgr_member_ref *fixed;
	size_t nfixed;
	const char *const *exclude;
	size_t nexclude;
	const size_t *seats;          /* the seat index each pick fills, need of them */
	const char *cause;            /* create, down, leave, vacancy, rotate */
};

/* Place and build the log body; picked[] as mgr_place. */
int mgr_decide_place(const struct mgr_place_in *in, size_t *picked, json_t **body,
		     struct sn_err *err);

/* The draw of a rotation placed as log entry seq: `<chain_id>/<seq>`, so
 * that the manager cannot choose it (verify checks it). */
void mgr_decide_draw(const char *chain_id, uint64_t seq, char *out, size_t size);

/* Re-run the placement recorded in body with seed; *same tells whether the
 * result equals the recorded one; when it differs, got (malloc'ed,
 * comma-separated) has the recomputed nodes or the error. */
int mgr_decide_recheck(json_t *body, const uint8_t *seed, int *same, char **got,
		       struct sn_err *err);

#endif
