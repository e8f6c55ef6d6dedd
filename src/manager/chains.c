/* chains.c — chains: create (validate, place every seat, write the chain,
 * its assignments and the decision in one step), remove, list, inspect;
 * and the two step helpers every seat change goes through: placing seats
 * and rewriting a chain with the assignment of each of its members (two
 * for a seat in motion: the new member and the old one it replaces). */
#include "manager/manager_internal.h"
#include "manager/decide.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* The data volume of a chain's member: `<chain>-<index>-data`. */
static const char *volume_of(json_t *chain, json_t *seat)
{
	static __thread char v[200];
	snprintf(v, sizeof(v), "%s-%lld-data", jstr(chain, "name"), (long long)jint(seat, "index"));
	return v;
}

/* Can node `name` serve a copy of its member's data? Up, with a TCP API. */
static json_t *source_node(struct snap *s, const char *name)
{
	json_t *n = *name ? json_object_get(s->nodes, name) : NULL;
	if (!n || jint(n, "api_port") <= 0)
		return NULL;
	const char *st = jstr(n, "state");
	return strcmp(st, "active") == 0 || strcmp(st, "maintenance") == 0 ||
	       strcmp(st, "leaving") == 0 ? n : NULL;
}

/* A source entry: seat p's data on node `node`, read with token. */
static int add_source(struct snap *s, json_t *sources, json_t *chain, json_t *p, const char *node,
		      const char *token)
{
	json_t *pn = source_node(s, node);
	if (!pn)
		return 0;
	return json_array_append_new(sources, json_pack("{sI ss ss sI ss ss}",
		"index", (json_int_t)jint(p, "index"), "node", node, "address", jstr(pn, "address"),
		"api_port", (json_int_t)jint(pn, "api_port"), "volume", volume_of(chain, p),
		"token", token));
}

/* A moved seat's data (its seat's `transfer`, step_place_seats): the seat
 * being filled lists the members that hold the chain's data as sources —
 * first its own old member when it is in motion (motion.c), then every
 * other seat's holder — each with the move's token; each holder's
 * assignment gets a grant for its own volume with that token. `old`: the
 * assignment of the old member of a seat in motion, a holder of its own
 * seat's data. The link does the copy (src/cli/subnode-link/transfer.c). */
static int transfers_of(struct snap *s, json_t *chain, json_t *seat, bool old, json_t *a)
{
	json_t *mine = old ? NULL : json_object_get(seat, "transfer");
	bool moving = *jstr(seat, "from") != 0;
	const char *here = old ? jstr(seat, "from") : jstr(seat, "node");
	bool holder = old || !moving;   /* this member has its seat's data */
	json_t *sources = json_array(), *grants = json_array();
	if (!sources || !grants)
		goto nomem;
	if (mine && moving && add_source(s, sources, chain, seat, jstr(seat, "from"),
					 jstr(mine, "token")))
		goto nomem;
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(chain, "seats"), i, p) {
		json_t *pt = json_object_get(p, "transfer");
		if (pt && holder && (p != seat || old) && source_node(s, here) &&
		    json_array_append_new(grants, json_pack("{ss ss sI}",
				"volume", volume_of(chain, seat), "token", jstr(pt, "token"),
				"expires", (json_int_t)jint(pt, "expires"))))
			goto nomem;
		if (p != seat && mine && add_source(s, sources, chain, p, seat_holder(p),
						    jstr(mine, "token")))
			goto nomem;
	}
	if (mine && json_object_set_new(a, "transfer_expires", json_integer(jint(mine, "expires"))))
		goto nomem;
	if (json_object_set_new(a, "sources", sources) || json_object_set_new(a, "grants", grants))
		return -ENOMEM;
	return 0;
nomem:
	json_decref(sources);
	json_decref(grants);
	return -ENOMEM;
}

/* The assignment of one member: what its node must run (manager.h); `old`:
 * the member a seat in motion leaves, on its `from` node. */
static json_t *assign_of(struct snap *s, json_t *chain, json_t *seat, bool old)
{
	json_t *node = json_object_get(s->nodes, jstr(seat, old ? "from" : "node"));
	int64_t slot = jint(seat, old ? "from_slot" : "slot");
	json_t *peers = json_array();
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(chain, "seats"), i, p) {
		json_t *pn = json_object_get(s->nodes, jstr(p, "node"));
		json_array_append_new(peers, json_pack(
			"{sI ss ss sI sI}", "index", (json_int_t)jint(p, "index"), "node",
			jstr(p, "node"), "address", pn ? jstr(pn, "address") : "", "slot",
			(json_int_t)jint(p, "slot"), "port", (json_int_t)(pn && *jstr(p, "node") ?
				jint(pn, "port_base") + jint(p, "slot") * MGR_PORTS_PER_SLOT : 0)));
	}
	char name[160];
	snprintf(name, sizeof(name), "%s-%lld", jstr(chain, "name"), (long long)jint(seat, "index"));
	json_t *a = json_pack("{ss ss ss sI sI sI sI ss ss sO so s{sI sI}}",
			      "name", name, "chain", jstr(chain, "name"), "chain_id",
			      jstr(chain, "id"), "index", (json_int_t)jint(seat, "index"),
			      "members", (json_int_t)jint(chain, "members"), "slot", (json_int_t)slot,
			      "units", (json_int_t)jint(chain, "units"), "size", jstr(chain, "size"),
			      "image", jstr(chain, "image"), "env", json_object_get(chain, "env"),
			      "peers", peers, "ports", "first",
			      (json_int_t)(jint(node, "port_base") + slot * MGR_PORTS_PER_SLOT),
			      "count", (json_int_t)MGR_PORTS_PER_SLOT);
	if (a && json_object_set_new(a, "volume", json_string(volume_of(chain, seat))))
		goto nomem;
	if (a && transfers_of(s, chain, seat, old, a))
		goto nomem;
	if (a && json_object_get(chain, "cmd"))
		json_object_set(a, "cmd", json_object_get(chain, "cmd"));
	if (a && json_object_get(chain, "health"))
		json_object_set(a, "health", json_object_get(chain, "health"));
	return a;
nomem:
	json_decref(a);
	return NULL;
}

int step_chain_write(struct snap *s, struct mgr_batch *b, json_t *chain, const char *gone_node,
		     struct sn_err *err)
{
	const char *name = jstr(chain, "name");
	char key[256];
	snprintf(key, sizeof(key), "chains/%s", name);
	int r = mgr_batch_cmp(b, key, jint(s->chain_rev, name), err);
	if (r == 0)
		r = mgr_batch_put_json(b, key, chain, err);
	json_t *seat;
	size_t i;
	json_array_foreach(json_object_get(chain, "seats"), i, seat) {
		if (r || !*jstr(seat, "node"))
			continue;
		for (int old = 0; r == 0 && old <= (*jstr(seat, "from") != 0); old++) {
			_cleanup_json_ json_t *a = assign_of(s, chain, seat, old);
			snprintf(key, sizeof(key), "assign/%s/%s", jstr(seat, old ? "from" : "node"), name);
			r = a ? mgr_batch_put_json(b, key, a, err) :
				sn_err_set(err, ENOMEM, "chain `%s`", name);
		}
	}
	if (r == 0 && gone_node && *gone_node) {
		snprintf(key, sizeof(key), "assign/%s/%s", gone_node, name);
		r = mgr_batch_delete(b, key, err);
	}
	return r;
}

/* A seat placed anew on a chain that has data (any cause but its create)
 * gets a transfer: a token for copying a live member's data, valid for
 * MGR_TRANSFER_TTL_MS. A seat placed at create has none. */
static int seat_transfer(json_t *seat, bool moved, int64_t now_ms)
{
	if (!moved)
		return json_object_del(seat, "transfer"), 0;
	unsigned char raw[32];
	char hex[65];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return json_object_set_new(seat, "transfer", json_pack("{ss sI}", "token", hex, "expires",
				   (json_int_t)(now_ms + MGR_TRANSFER_TTL_MS)));
}

int step_place_seats(struct mgr *m, struct snap *s, struct mgr_batch *b, json_t *chain,
		     const size_t *seats, size_t need, const char *exclude, const char *cause,
		     struct sn_err *err)
{
	size_t nn = json_object_size(s->nodes);
	json_t *seatv = json_object_get(chain, "seats");
	size_t ns = json_array_size(seatv);
	_cleanup_free_ struct mgr_cand *c = calloc(nn + 1, sizeof(*c));
	_cleanup_free_ struct mgr_member_ref *fixed = calloc(ns + 1, sizeof(*fixed));
	_cleanup_free_ size_t *picked = calloc(need + 1, sizeof(*picked));
	_cleanup_free_ const char **excl = calloc(ns + 2, sizeof(*excl));
	if (!c || !fixed || !picked || !excl)
		return sn_err_set(err, ENOMEM, "placement of chain `%s`", jstr(chain, "name"));
	size_t k = 0, nf = 0, nx = 0;
	if (exclude && *exclude)
		excl[nx++] = exclude;
	const char *name;
	json_t *n;
	json_object_foreach(s->nodes, name, n) {
		if (strcmp(jstr(n, "state"), "active") != 0)
			continue;
		c[k++] = (struct mgr_cand){ name, jstr(n, "operator"),
					    jint(n, "units") - snap_used(s, name), 0 };
	}
	json_t *seat;
	size_t i;
	json_array_foreach(seatv, i, seat) {
		bool filling = false;
		for (size_t j = 0; j < need; j++)
			filling |= seats[j] == i;
		const char *node = jstr(seat, "node");
		if (*jstr(seat, "from"))   /* its old member runs there until the new one does */
			excl[nx++] = jstr(seat, "from");
		if (filling || !*node)
			continue;
		fixed[nf++] = (struct mgr_member_ref){ node,
			jstr(json_object_get(s->nodes, node), "operator") };
	}
	int r = mgr_place_prepare(c, k, err);
	if (r)
		return r;
	/* a rotation draws anew (else it would pick the node it just left
	 * again), from the log position of its entry: nothing to choose */
	char draw[300];
	mgr_decide_draw(jstr(chain, "id"), b->head.seq + 1, draw, sizeof(draw));
	_cleanup_json_ json_t *body = NULL;
	struct mgr_place_in in = {
		.cands = c, .ncands = k, .seed = s->seed, .epoch = s->epoch,
		.chain = jstr(chain, "name"), .chain_id = jstr(chain, "id"),
		.draw = strcmp(cause, "rotate") == 0 ? draw : NULL,
		.units = jint(chain, "units"), .members = (size_t)jint(chain, "members"),
		.need = need, .fixed = fixed, .nfixed = nf, .exclude = excl,
		.nexclude = nx, .seats = seats, .cause = cause,
	};
	r = mgr_decide_place(&in, picked, &body, err);
	if (r == 0)
		r = mgr_batch_log(b, body, err);
	for (size_t j = 0; r == 0 && j < need; j++) {
		const char *node = c[picked[j]].name;
		int slot = snap_free_slot(s, node, err);
		if (slot < 0)
			return slot;
		seat = json_array_get(seatv, seats[j]);
		if (json_object_set_new(seat, "node", json_string(node)) ||
		    json_object_set_new(seat, "slot", json_integer(slot)) ||
		    json_object_set_new(seat, "since", json_integer(b->time_ms)) ||
		    seat_transfer(seat, strcmp(cause, "create") != 0, b->time_ms))
			return sn_err_set(err, ENOMEM, "chain `%s`", jstr(chain, "name"));
		snap_add_used(s, node, jint(chain, "units"));
	}
	if (r == 0)
		m->placements += need;
	return r;
}

static int size_units(struct mgr *m, const char *size, int64_t *units, struct sn_err *err)
{
	char list[256] = "";
	for (size_t i = 0; i < m->cfg.nsizes; i++) {
		if (strcmp(m->cfg.sizes[i].name, size) == 0) {
			*units = m->cfg.sizes[i].units;
			return 0;
		}
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s (%lld)", i ? ", " : "",
			 m->cfg.sizes[i].name, (long long)m->cfg.sizes[i].units);
	}
	return sn_err_msg(err, EINVAL, "size: unknown size `%s` (known: %s)", size, list);
}

static int check_strv(json_t *req, const char *key, bool env, struct sn_err *err)
{
	json_t *a = json_object_get(req, key);
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > 256)
		return sn_err_msg(err, EINVAL, "%s: must be an array of at most 256 strings", key);
	json_t *v;
	size_t i;
	json_array_foreach(a, i, v) {
		const char *s = json_string_value(v);
		if (!s || strlen(s) > 4096)
			return sn_err_msg(err, EINVAL, "%s[%zu]: must be a string of at most 4096"
					  " bytes", key, i);
		if (env && (!strchr(s, '=') || s[0] == '='))
			return sn_err_msg(err, EINVAL, "%s[%zu]: must be KEY=VALUE", key, i);
	}
	return 0;
}

/* The validated chain record of a create request, its seats vacant. */
static int chain_from_request(struct mgr *m, json_t *req, json_t **out, struct sn_err *err)
{
	static const char *const keys[] = { "name", "size", "members", "image", "env", "cmd",
					    "health", NULL };
	if (!json_is_object(req))
		return sn_err_msg(err, EINVAL, "chain: the body must be a JSON object");
	int r = sn_json_only_keys(req, "", keys, err);
	if (r)
		return r;
	const char *name = NULL, *size = NULL, *image = NULL;
	int64_t members = m->cfg.default_members, units = 0;
	if (sn_json_string(req, "", "name", &name, err) < 0 ||
	    sn_json_string(req, "", "size", &size, err) < 0 ||
	    sn_json_string(req, "", "image", &image, err) < 0 ||
	    sn_json_int(req, "", "members", &members, err) < 0)
		return -err->code;
	if (check_name(name, "name", err))
		return -EINVAL;
	if (!image || !*image || strlen(image) > 512)
		return sn_err_msg(err, EINVAL, "image: must be an image reference");
	if (members < 1 || members > 128)
		return sn_err_msg(err, EINVAL, "members: must be 1 to 128 (got %lld)",
				  (long long)members);
	r = size_units(m, size ? size : "small", &units, err);
	if (r == 0)
		r = check_strv(req, "env", true, err);
	if (r == 0)
		r = check_strv(req, "cmd", false, err);
	if (r)
		return r;
	json_t *health = json_object_get(req, "health");
	if (health && !json_is_object(health))
		return sn_err_msg(err, EINVAL, "health: must be an object (the node API's Healthcheck)");
	json_t *env = json_object_get(req, "env");
	json_t *c = json_pack("{ss ss sI sI ss so sI so}", "name", name, "size",
			      size ? size : "small", "units", (json_int_t)units, "members",
			      (json_int_t)members, "image", image, "env",
			      env ? json_incref(env) : json_array(), "created",
			      (json_int_t)mgr_now_ms(), "seats", json_array());
	if (!c)
		return sn_err_set(err, ENOMEM, "chain `%s`", name);
	if (json_object_get(req, "cmd"))
		json_object_set(c, "cmd", json_object_get(req, "cmd"));
	if (health)
		json_object_set(c, "health", health);
	for (int64_t i = 0; i < members; i++)
		json_array_append_new(json_object_get(c, "seats"),
				      json_pack("{sI ss sI sI}", "index", (json_int_t)i, "node", "",
						"slot", (json_int_t)-1, "since", (json_int_t)0));
	*out = c;
	return 0;
}

int mgr_chain_create(struct mgr *m, json_t *req, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *chain = NULL;
	int r = chain_from_request(m, req, &chain, err);
	if (r)
		return r;
	const char *name = jstr(chain, "name");
	pthread_mutex_lock(&m->mu);
	struct snap s;
	r = snap_load(m, &s, err);
	if (r == 0 && json_object_get(s.chains, name))
		r = sn_err_msg(err, EEXIST, "chain `%s` already exists", name);
	char id[128];
	snprintf(id, sizeof(id), "%s.%llu", name, (unsigned long long)s.head.seq + 1);
	if (r == 0)
		json_object_set_new(chain, "id", json_string(id));
	size_t n = (size_t)jint(chain, "members");
	_cleanup_free_ size_t *seats = calloc(n, sizeof(*seats));
	if (r == 0 && !seats)
		r = sn_err_set(err, ENOMEM, "chain `%s`", name);
	for (size_t i = 0; r == 0 && i < n; i++)
		seats[i] = i;
	struct mgr_batch b;
	step_begin(&s, &b);
	if (r == 0)
		r = step_place_seats(m, &s, &b, chain, seats, n, NULL, "create", err);
	if (r == 0)
		r = step_chain_write(&s, &b, chain, NULL, err);
	/* the snapshot as committed: the in-memory views (motion_sync) see it */
	if (r == 0 && json_object_set(s.chains, name, chain))
		r = sn_err_set(err, ENOMEM, "chain `%s`", name);
	if (r == 0)
		r = step_commit(m, &s, &b, err);
	mgr_batch_free(&b);
	snap_free(&s);
	pthread_mutex_unlock(&m->mu);
	if (r)
		return r;
	return mgr_chain_inspect(m, name, out, err);
}

int mgr_chain_rm(struct mgr *m, const char *name, struct sn_err *err)
{
	pthread_mutex_lock(&m->mu);
	struct snap s;
	int r = snap_load(m, &s, err);
	json_t *c = r == 0 ? json_object_get(s.chains, name) : NULL;
	if (r == 0 && !c)
		r = sn_err_msg(err, ENOENT, "no chain `%s`", name);
	struct mgr_batch b;
	step_begin(&s, &b);
	char key[256];
	snprintf(key, sizeof(key), "chains/%s", name);
	if (r == 0)
		r = mgr_batch_cmp(&b, key, jint(s.chain_rev, name), err);
	if (r == 0)
		r = mgr_batch_delete(&b, key, err);
	json_t *seat;
	size_t i;
	json_array_foreach(json_object_get(c, "seats"), i, seat) {
		for (int old = 0; r == 0 && old < 2; old++) {   /* its node, and a from node */
			const char *node = jstr(seat, old ? "from" : "node");
			snprintf(key, sizeof(key), "assign/%s/%s", node, name);
			if (*node)
				r = mgr_batch_delete(&b, key, err);
		}
	}
	_cleanup_json_ json_t *body = json_pack("{ss ss ss}", "kind", "chain-rm", "chain", name,
						"chain_id", c ? jstr(c, "id") : "");
	if (r == 0)
		r = body ? mgr_batch_log(&b, body, err) : sn_err_set(err, ENOMEM, "chain `%s`", name);
	if (r == 0) {
		json_object_del(s.chains, name);   /* the snapshot as committed (motion_sync) */
		r = step_commit(m, &s, &b, err);
	}
	mgr_batch_free(&b);
	snap_free(&s);
	pthread_mutex_unlock(&m->mu);
	return r;
}

json_t *live_member(struct mgr *m, const char *node, const char *chain, int64_t index)
{
	json_t *l = json_object_get(m->live, node);
	json_t *mem;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(l, "summary"), "members"), i, mem)
		if (strcmp(jstr(mem, "chain"), chain) == 0 && jint(mem, "index") == index)
			return mem;
	return NULL;
}

/* The chain as inspect shows it: the record plus, per member, its node's
 * address and state, its ports, and its state and health as last reported. */
static json_t *chain_view(struct mgr *m, struct snap *s, const char *cname, json_t *c)
{
	json_t *v = json_deep_copy(c);
	if (!v)
		return NULL;
	json_t *seat;
	size_t i;
	size_t running = 0, placed = 0;
	json_array_foreach(json_object_get(v, "seats"), i, seat) {
		const char *node = jstr(seat, "node");
		json_t *n = json_object_get(s->nodes, node);
		json_t *rep = *node ? live_member(m, node, jstr(c, "name"), jint(seat, "index")) : NULL;
		if (*jstr(seat, "from")) {   /* in motion: its old member, as its node reports it */
			json_t *old = live_member(m, jstr(seat, "from"), jstr(c, "name"),
						  jint(seat, "index"));
			json_object_set_new(seat, "from_state", json_string(old ? jstr(old, "state") :
									    "assigned"));
		}
		const char *state = !*node ? "vacant" : rep ? jstr(rep, "state") : "assigned";
		placed += *node != 0;
		running += strcmp(state, "running") == 0;
		json_t *tr = json_object_get(seat, "transfer");   /* never its token */
		if (tr)
			json_object_set_new(seat, "transfer", json_pack("{sI}", "expires",
					    (json_int_t)jint(tr, "expires")));
		json_object_set_new(seat, "state", json_string(state));
		json_object_set_new(seat, "health", json_string(rep ? jstr(rep, "health") : ""));
		json_object_set_new(seat, "address", json_string(n ? jstr(n, "address") : ""));
		json_object_set_new(seat, "node_state", json_string(n ? jstr(n, "state") : ""));
		int64_t first = n ? jint(n, "port_base") + jint(seat, "slot") * MGR_PORTS_PER_SLOT : 0;
		json_object_set_new(seat, "ports", n ? json_pack("{sI sI}", "first", (json_int_t)first,
								 "last", (json_int_t)(first + MGR_PORTS_PER_SLOT - 1))
						      : json_null());
	}
	json_object_set_new(v, "placed", json_integer((json_int_t)placed));
	json_object_set_new(v, "running", json_integer((json_int_t)running));
	return v;
}

int mgr_chain_inspect(struct mgr *m, const char *name, json_t **out, struct sn_err *err)
{
	return snap_view(m, true, name, chain_view, out, err);
}

int mgr_chain_list(struct mgr *m, json_t **out, struct sn_err *err)
{
	return snap_view(m, true, NULL, chain_view, out, err);
}
