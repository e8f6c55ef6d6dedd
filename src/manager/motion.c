/* motion.c — moving members without costing a chain its quorum: a node's
 * exit (leaving → left) and the periodic rotation (mgr_config.rotation_ms).
 *
 * Make before break. A move does not take a member away and then give it
 * elsewhere: the seat gets its new node in `node` (placed like any seat,
 * logged, with a transfer so that the new member copies the chain's data
 * first — from its own old member before any other) and keeps the old one
 * in `from`/`from_slot`. Both nodes have an assignment for the member; the
 * old one keeps running (and serving its data) until the new node reports
 * the new member running, and healthy when the chain has a health check.
 * Only then does the tick retire the old member (a `release` log entry, its
 * assignment deleted, the old node's link removes it). A chain therefore
 * never has fewer members running because of a move.
 *
 * Budget. At most max(1, ⌊(N−1)/3⌋) seats of a chain are in motion at once
 * (the f of a BFT chain of N = 3f+1; one for the smallest chains, whose
 * moves, being make-before-break, still never lower the running count). A
 * leaving node's seats start moving as the budget frees; a rotation starts
 * only on a chain with nothing in motion, every seat placed and every
 * member ready, and moves one member: the one seated longest (lowest index
 * on a tie), once it has sat rotation_ms. Its new node is drawn with the
 * seed of the epoch and a draw of its own (`<chain id>/<log seq>`, decide.h)
 * — with the chain's usual draw it would go back to the best-placed
 * node, usually the one the last rotation left — so verify re-computes it.
 *
 * Failures during a move: the new node dies → the seat is placed again
 * (cause down), still in motion; no room for it → the move is undone (the
 * seat goes back to its old node, a release of the dead one). The old node
 * dies → the new member carries on alone (a release, cause down).
 *
 * The tick looks at the store only when something is due: the live map of
 * heartbeats tells when a moving seat's new member runs (m->moving), and
 * motion_sync keeps when the next rotation is due and whether a leaving
 * node has a seat its chain's budget lets move.
 */
#include "manager/manager_internal.h"
#include "base/cleanup.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

size_t motion_budget(json_t *chain)
{
	return mgr_operator_cap((size_t)jint(chain, "members"));
}

size_t motion_count(json_t *chain)
{
	json_t *seat;
	size_t i, n = 0;
	json_array_foreach(json_object_get(chain, "seats"), i, seat)
		n += *jstr(seat, "from") != 0;
	return n;
}

const char *seat_holder(json_t *seat)
{
	return *jstr(seat, "from") ? jstr(seat, "from") : jstr(seat, "node");
}

/* A reported member that counts as up: running, and healthy when the
 * chain has a health check. */
static bool ready(json_t *rep, bool health)
{
	return rep && strcmp(jstr(rep, "state"), "running") == 0 &&
	       (!health || strcmp(jstr(rep, "health"), "healthy") == 0);
}

static bool seat_ready(struct mgr *m, json_t *chain, json_t *seat)
{
	const char *node = jstr(seat, "node");
	return *node && ready(live_member(m, node, jstr(chain, "name"), jint(seat, "index")),
			      json_object_get(chain, "health") != NULL);
}

int step_move_seat(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *chain, size_t idx,
		   const char *cause, struct sn_err *err)
{
	json_t *seat = json_array_get(json_object_get(chain, "seats"), idx);
	if (!seat || !*jstr(seat, "node") || *jstr(seat, "from"))
		return sn_err_msg(err, EINVAL, "chain `%s`: member %zu is not placed or already moving",
				  jstr(chain, "name"), idx);
	char old[128];
	snprintf(old, sizeof(old), "%s", jstr(seat, "node"));
	if (json_object_set_new(seat, "from", json_string(old)) ||
	    json_object_set_new(seat, "from_slot", json_integer(jint(seat, "slot"))))
		return sn_err_set(err, ENOMEM, "chain `%s`", jstr(chain, "name"));
	int r = step_place_seats(m, s, b, chain, &idx, 1, NULL, cause, err);
	if (r) {
		json_object_del(seat, "from");
		json_object_del(seat, "from_slot");
		return r;
	}
	m->moves++;
	m->rotations += strcmp(cause, "rotate") == 0;
	sn_info("chain `%s`: member %zu moves from `%s` to `%s` (%s)", jstr(chain, "name"), idx, old,
		jstr(seat, "node"), cause);
	return 0;
}

int step_release_seat(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *chain,
		      size_t idx, const char *retired, const char *cause, struct sn_err *err)
{
	const char *cname = jstr(chain, "name");
	json_t *seat = json_array_get(json_object_get(chain, "seats"), idx);
	char gone[128], from[128];
	snprintf(gone, sizeof(gone), "%s", retired);
	snprintf(from, sizeof(from), "%s", jstr(seat, "from"));
	bool undo = strcmp(gone, from) != 0;   /* the new member goes; the old one stays */
	if (undo && (json_object_set_new(seat, "node", json_string(from)) ||
		     json_object_set_new(seat, "slot", json_integer(jint(seat, "from_slot")))))
		return sn_err_set(err, ENOMEM, "chain `%s`", cname);
	json_object_del(seat, "from");
	json_object_del(seat, "from_slot");
	snap_add_used(s, gone, -jint(chain, "units"));
	_cleanup_json_ json_t *body = json_pack("{ss ss ss sI ss ss ss}", "kind", "release", "chain",
						cname, "chain_id", jstr(chain, "id"), "index",
						(json_int_t)jint(seat, "index"), "node", gone, "to", jstr(seat, "node"),
						"cause", cause);
	if (!body)
		return sn_err_set(err, ENOMEM, "chain `%s`", cname);
	char key[256];
	snprintf(key, sizeof(key), "assign/%s/%s", gone, cname);
	int r = mgr_batch_log(b, body, err);
	if (r == 0)
		r = mgr_batch_delete(b, key, err);
	if (r == 0 && !undo)
		m->releases++;
	if (r == 0)
		sn_info("chain `%s`: member %zu on `%s` retired, it runs on `%s` (%s)", cname, idx,
			gone, jstr(seat, "node"), cause);
	return r;
}

/* Old members whose new member is ready: retired. */
static int retire_ready(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *c,
			bool *touched, struct sn_err *err)
{
	json_t *seat;
	size_t i;
	json_array_foreach(json_object_get(c, "seats"), i, seat) {
		if (!*jstr(seat, "from") || !seat_ready(m, c, seat))
			continue;
		char from[128];
		snprintf(from, sizeof(from), "%s", jstr(seat, "from"));
		int r = step_release_seat(m, s, b, c, i, from, "running", err);
		if (r)
			return r;
		*touched = true;
	}
	return 0;
}

static bool on_leaving(struct snap *s, json_t *seat)
{
	json_t *n = json_object_get(s->nodes, jstr(seat, "node"));
	return n && !*jstr(seat, "from") && strcmp(jstr(n, "state"), "leaving") == 0;
}

/* The seats of chain c on leaving nodes, as many as its budget allows. */
static int drain_chain(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *c,
		       bool *touched, struct sn_err *err)
{
	size_t used = motion_count(c), budget = motion_budget(c);
	json_t *seat;
	size_t i;
	json_array_foreach(json_object_get(c, "seats"), i, seat) {
		if (used >= budget)
			break;
		if (!on_leaving(s, seat))
			continue;
		struct sn_err perr = { 0 };
		int r = step_move_seat(m, s, b, c, i, "leave", &perr);
		if (r == -ENOSPC) {   /* it stays, running, until a node has room */
			sn_debug("chain `%s`: member %zu cannot leave `%s` yet: %s", jstr(c, "name"),
				 i, jstr(seat, "node"), perr.msg);
			continue;
		}
		if (r) {
			*err = perr;
			return r;
		}
		used++;
		*touched = true;
	}
	return 0;
}

/* One member of chain c, when it is whole, steady and one has sat long
 * enough: the one seated longest. */
static int rotate_chain(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *c,
			int64_t now, bool *touched, struct sn_err *err)
{
	if (m->cfg.rotation_ms <= 0 || motion_count(c) > 0)
		return 0;
	json_t *seat;
	size_t i, oldest = SIZE_MAX;
	int64_t since = 0;
	json_array_foreach(json_object_get(c, "seats"), i, seat) {
		if (!seat_ready(m, c, seat))
			return 0;   /* vacant, or not running yet: not now */
		if (oldest == SIZE_MAX || jint(seat, "since") < since) {
			oldest = i;
			since = jint(seat, "since");
		}
	}
	if (oldest == SIZE_MAX || now - since < m->cfg.rotation_ms)
		return 0;
	struct sn_err perr = { 0 };
	int r = step_move_seat(m, s, b, c, oldest, "rotate", &perr);
	if (r == -ENOSPC) {
		sn_debug("chain `%s`: no node to rotate member %zu to: %s", jstr(c, "name"), oldest,
			 perr.msg);
		return 0;
	}
	if (r) {
		*err = perr;
		return r;
	}
	*touched = true;
	return 0;
}

/* Per chain: retire (all), drain, rotate (all); each chain written once. */
static int chains_step(struct mgr *m, struct snap *s, struct mgr_batch *b, int64_t now, bool all,
		       bool *changed, struct sn_err *err)
{
	const char *cname;
	json_t *c;
	json_object_foreach(s->chains, cname, c) {
		bool touched = false;
		int r = all ? retire_ready(m, s, b, c, &touched, err) : 0;
		if (r == 0)
			r = drain_chain(m, s, b, c, &touched, err);
		if (r == 0 && all)
			r = rotate_chain(m, s, b, c, now, &touched, err);
		if (r == 0 && touched)
			r = step_chain_write(s, b, c, NULL, err);
		if (r)
			return r;
		*changed |= touched;
	}
	return 0;
}

int step_drain(struct mgr *m, struct snap *s, struct mgr_batch *b, bool *changed,
	       struct sn_err *err)
{
	return chains_step(m, s, b, 0, false, changed, err);
}

int step_motions(struct mgr *m, struct snap *s, struct mgr_batch *b, int64_t now, bool *changed,
		 struct sn_err *err)
{
	return chains_step(m, s, b, now, true, changed, err);
}

void motion_sync(struct mgr *m, struct snap *s, int64_t now)
{
	json_object_clear(m->moving);
	m->drain = false;
	int64_t due = 0;
	const char *cname;
	json_t *c;
	json_object_foreach(s->chains, cname, c) {
		bool room = motion_count(c) < motion_budget(c), whole = motion_count(c) == 0;
		int64_t oldest = INT64_MAX;
		json_t *seat;
		size_t i;
		json_array_foreach(json_object_get(c, "seats"), i, seat) {
			if (*jstr(seat, "from")) {
				char key[200];
				snprintf(key, sizeof(key), "%s/%lld", cname, (long long)jint(seat, "index"));
				json_object_set_new(m->moving, key, json_pack("{ss sI ss sb}", "chain",
					cname, "index", (json_int_t)jint(seat, "index"), "node", jstr(seat, "node"),
					"health", json_object_get(c, "health") != NULL));
			}
			m->drain |= room && on_leaving(s, seat);
			whole &= *jstr(seat, "node") != 0;
			if (jint(seat, "since") < oldest)
				oldest = jint(seat, "since");
		}
		if (m->cfg.rotation_ms > 0 && whole && oldest != INT64_MAX &&
		    (due == 0 || oldest + m->cfg.rotation_ms < due))
			due = oldest + m->cfg.rotation_ms;
	}
	/* due already but not movable (a member not ready, no room): look
	 * again in a second rather than at every tick */
	m->rotate_at = due && due <= now ? now + 1000 : due;
}

bool motion_due(struct mgr *m, int64_t now)
{
	if (m->drain || (m->rotate_at && now >= m->rotate_at))
		return true;
	const char *key;
	json_t *mv;
	json_object_foreach(m->moving, key, mv)
		if (ready(live_member(m, jstr(mv, "node"), jstr(mv, "chain"), jint(mv, "index")),
			  json_is_true(json_object_get(mv, "health"))))
			return true;
	return false;
}
