/* seats.c — moving seats when nodes fail, and the periodic tick that
 * detects failures and drives the moves of motion.c (manager.h, mgr_tick).
 *
 * A node silent past the grace period is marked down and, in the same
 * transaction, each of its seats is placed on another node (one placement
 * per chain, logged like any other, the dead node excluded and the chain's
 * other members kept): a chain has at most one member per node, so one
 * failure moves at most one member of each chain — within ⌊(N−1)/3⌋. A
 * seat that cannot be placed (no eligible node) stays vacant and is filled
 * by a later tick when room appears. A dead node that was the old node of
 * a move is released from it (motion.c). Leaving nodes are not emptied
 * here: their members move make-before-break, in motion.c.
 */
#include "manager/manager_internal.h"
#include "base/cleanup.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Place seat idx of chain c, whose node `node` is dead, elsewhere. */
static int reseat_one(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *c, size_t idx,
		      const char *node, const char *cause, struct sn_err *err)
{
	const char *cname = jstr(c, "name");
	json_t *seat = json_array_get(json_object_get(c, "seats"), idx);
	struct sn_err perr = { 0 };
	int r = step_place_seats(m, s, b, c, &idx, 1, node, cause, &perr);
	if (r == -ENOSPC && *jstr(seat, "from")) {
		/* a move whose new node died: back to the old member, which runs */
		sn_warn("chain `%s`: member %zu stays on `%s`: %s", cname, idx, jstr(seat, "from"),
			perr.msg);
		return step_release_seat(m, s, b, c, idx, node, cause, err);
	}
	if (r == -ENOSPC) {
		/* no eligible node: the seat waits, vacant, for room */
		sn_warn("chain `%s`: member %zu leaves node `%s` without a replacement: %s",
			cname, idx, node, perr.msg);
		json_object_set_new(seat, "node", json_string(""));
		json_object_set_new(seat, "slot", json_integer(-1));
		m->vacancies = true;
	} else if (r) {
		*err = perr;
		return r;
	} else if (strcmp(cause, "down") == 0) {
		char key[200];
		snprintf(key, sizeof(key), "%s/%zu", cname, idx);
		json_t *l = json_object_get(m->live, node);
		json_object_set_new(m->pending, key, json_pack("{ss sI}", "node",
			jstr(seat, "node"), "since", (json_int_t)(l ? jint(l, "last") : b->time_ms)));
		m->failovers++;
	}
	snap_add_used(s, node, -jint(c, "units"));
	return 0;
}

int step_reseat_node(struct mgr *m, struct snap *s, struct mgr_batch *b, const char *node,
		     const char *cause, struct sn_err *err)
{
	const char *cname;
	json_t *c;
	json_object_foreach(s->chains, cname, c) {
		json_t *seat;
		size_t i;
		int r = 0;
		bool touched = false;
		json_array_foreach(json_object_get(c, "seats"), i, seat) {
			if (r)
				break;
			if (strcmp(jstr(seat, "from"), node) == 0) {
				/* the old member of a move died: the new one carries on */
				r = step_release_seat(m, s, b, c, i, node, cause, err);
				touched = true;
			} else if (strcmp(jstr(seat, "node"), node) == 0) {
				r = reseat_one(m, s, b, c, i, node, cause, err);
				touched = true;
			}
		}
		if (r == 0 && touched)
			r = step_chain_write(s, b, c, node, err);
		if (r)
			return r;
	}
	return 0;
}

/* Fill the vacant seats of every chain that has some, where possible. */
static int fill_vacancies(struct mgr *m, struct snap *s, struct mgr_batch *b, bool *changed,
			  struct sn_err *err)
{
	const char *cname;
	json_t *c;
	json_object_foreach(s->chains, cname, c) {
		size_t vac[128], nv = 0;
		json_t *seat;
		size_t i;
		json_array_foreach(json_object_get(c, "seats"), i, seat)
			if (!*jstr(seat, "node") && nv < 128)
				vac[nv++] = i;
		if (nv == 0)
			continue;
		/* as many as fit, one at a time: a partial fill beats none */
		for (size_t k = 0; k < nv; k++) {
			struct sn_err perr = { 0 };
			int r = step_place_seats(m, s, b, c, &vac[k], 1, NULL, "vacancy", &perr);
			if (r == -ENOSPC)
				break;
			if (r) {
				*err = perr;
				return r;
			}
			*changed = true;
		}
		if (*changed) {
			int r = step_chain_write(s, b, c, NULL, err);
			if (r)
				return r;
		}
	}
	return 0;
}

static bool is(json_t *n, const char *state)
{
	return strcmp(jstr(n, "state"), state) == 0;
}

/* Is there anything for a full tick to do? Read from the live map alone,
 * so that a quiet network costs no store read four times a second. */
static bool tick_due(struct mgr *m, int64_t now)
{
	if (m->vacancies || motion_due(m, now))
		return true;
	const char *name;
	json_t *l;
	json_object_foreach(m->live, name, l) {
		const char *st = jstr(l, "state");
		bool silent = now - jint(l, "last") > m->cfg.grace_ms;
		if (silent && (!strcmp(st, "active") || !strcmp(st, "maintenance") ||
			       !strcmp(st, "leaving")))
			return true;
		if (!strcmp(st, "down") && !silent && jint(l, "back") > 0 &&
		    now - jint(l, "back") >= m->cfg.steady_ms)
			return true;
		if (!strcmp(st, "leaving") && json_object_get(l, "summary") &&
		    json_array_size(json_object_get(json_object_get(l, "summary"), "members")) == 0)
			return true;
	}
	return false;
}

/* Does a seat name node, as its node or as the old node of a move? */
static bool holds_seat(struct snap *s, const char *node)
{
	const char *cname;
	json_t *c, *seat;
	size_t i;
	json_object_foreach(s->chains, cname, c)
		json_array_foreach(json_object_get(c, "seats"), i, seat)
			if (!strcmp(jstr(seat, "node"), node) || !strcmp(jstr(seat, "from"), node))
				return true;
	return false;
}

/* Are seats left without a node? */
static bool any_vacancy(struct snap *s)
{
	const char *cname;
	json_t *c, *seat;
	size_t i;
	json_object_foreach(s->chains, cname, c)
		json_array_foreach(json_object_get(c, "seats"), i, seat)
			if (!*jstr(seat, "node"))
				return true;
	return false;
}

int mgr_tick(struct mgr *m, struct sn_err *err)
{
	pthread_mutex_lock(&m->mu);
	if (!tick_due(m, mgr_now_ms())) {
		pthread_mutex_unlock(&m->mu);
		return 0;
	}
	struct snap s;
	int r = snap_load(m, &s, err);
	int64_t now = mgr_now_ms();
	struct mgr_batch b;
	step_begin(&s, &b);
	bool changed = false;
	const char *name;
	json_t *n;
	json_object_foreach(s.nodes, name, n) {
		if (r)
			break;
		json_t *l = live_of(m, name);
		if (!l) {
			r = sn_err_set(err, ENOMEM, "tick");
			break;
		}
		int64_t last = jint(l, "last");
		json_t *sum = json_object_get(l, "summary");
		bool silent = now - last > m->cfg.grace_ms;
		char cause[96];
		if (silent && (is(n, "active") || is(n, "maintenance") || is(n, "leaving"))) {
			snprintf(cause, sizeof(cause), "no heartbeat for %.1f s",
				 (double)(now - last) / 1000.0);
			sn_info("node `%s`: down (%s)", name, cause);
			r = step_reseat_node(m, &s, &b, name, "down", err);
			if (r == 0)
				r = step_node_state(m, &s, &b, name, is(n, "leaving") ? "left" : "down",
						    cause, err);
			json_object_set_new(l, "back", json_integer(0));
			changed = true;
		} else if (is(n, "down") && !silent && jint(l, "back") > 0 &&
			   now - jint(l, "back") >= m->cfg.steady_ms) {
			snprintf(cause, sizeof(cause), "back: heartbeats steady for %.1f s",
				 (double)(now - jint(l, "back")) / 1000.0);
			r = step_node_state(m, &s, &b, name, "active", cause, err);
			changed = true;
		} else if (is(n, "leaving") && sum && json_array_size(json_object_get(sum, "members")) == 0 &&
			   jint(l, "last") >= jint(n, "since") && !holds_seat(&s, name)) {
			r = step_node_state(m, &s, &b, name, "left", "left: no member running", err);
			changed = true;
		}
	}
	if (r == 0)
		r = step_motions(m, &s, &b, now, &changed, err);
	if (r == 0)
		r = fill_vacancies(m, &s, &b, &changed, err);
	if (r == 0 && changed)
		r = step_commit(m, &s, &b, err);
	else if (r == 0)
		motion_sync(m, &s, now);
	if (r == 0)
		m->vacancies = any_vacancy(&s);
	mgr_batch_free(&b);
	snap_free(&s);
	pthread_mutex_unlock(&m->mu);
	return r;
}
