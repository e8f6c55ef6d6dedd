/* manager.c — opening the manager (the store, the genesis of the seed
 * chain at the first start), the registry snapshot every step works on,
 * epochs, the state-change step and the metrics (manager.h). */
#include "manager/manager_internal.h"
#include "base/clock.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void mgr_config_defaults(struct mgr_config *c)
{
	memset(c, 0, sizeof(*c));
	c->grace_ms = 5000;
	c->steady_ms = 10000;
	c->default_members = 16;
	static const struct mgr_size def[] = { { "small", 1 }, { "medium", 4 }, { "large", 128 } };
	memcpy(c->sizes, def, sizeof(def));
	c->nsizes = 3;
}

int64_t mgr_now_ms(void)
{
	return sn_wall_ms();
}

const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

int64_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* [a-z0-9][A-Za-z0-9_.-]{0,62}: safe in a key, a path, a URL and a
 * subnode name. */
bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int check_name(const char *s, const char *field, struct sn_err *err)
{
	if (s && valid_name(s))
		return 0;
	return sn_err_msg(err, EINVAL, "%s: must be 1 to 63 of [A-Za-z0-9_.-], starting with a"
			  " lower-case letter or digit", field);
}

json_t *live_of(struct mgr *m, const char *name)
{
	json_t *l = json_object_get(m->live, name);
	if (!l) {
		l = json_pack("{sI sI}", "last", (json_int_t)mgr_now_ms(), "back", (json_int_t)0);
		if (!l || json_object_set_new(m->live, name, l))
			return NULL;
	}
	return l;
}

/* The first start: a genesis value (given or random), seed_0, epoch 0 and
 * the log's first entry, in one transaction; a second manager racing on
 * the same store loses the compare and reads the winner's. */
static int ensure_genesis(struct mgr *m, struct sn_err *err)
{
	struct mgr_kv kv;
	int r = mgr_store_get(m->store, "epoch", &kv, err);
	if (r == 0) {
		mgr_kv_clear(&kv);
		return 0;
	}
	if (r != -ENOENT)
		return r;
	sn_err_clear(err);
	uint8_t g[64];
	size_t gl = 32;
	if (m->cfg.genesis_hex) {
		if (mgr_unhex(m->cfg.genesis_hex, g, sizeof(g), &gl) || gl == 0)
			return sn_err_msg(err, EINVAL, "genesis seed: must be 2 to 128 hex digits");
	} else if (getrandom(g, gl, 0) != (ssize_t)gl) {
		return sn_err_sys(err, "getrandom for the genesis seed");
	}
	uint8_t seed[MGR_SEED_LEN];
	r = mgr_seed_genesis(g, gl, seed, err);
	if (r)
		return r;
	char ghex[129], shex[65];
	mgr_hex(g, gl, ghex);
	mgr_hex(seed, MGR_SEED_LEN, shex);
	struct mgr_dlog_head h;
	r = mgr_dlog_head(m->store, &h, err);
	if (r)
		return r;
	struct mgr_batch b;
	mgr_batch_init(&b, &h, mgr_now_ms());
	_cleanup_json_ json_t *body = json_pack("{ss ss ss}", "kind", "genesis", "genesis", ghex,
						"seed", shex);
	_cleanup_json_ json_t *ep = json_pack("{sI ss}", "epoch", (json_int_t)0, "seed", shex);
	if (!body || !ep)
		return sn_err_set(err, ENOMEM, "genesis");
	r = mgr_batch_cmp(&b, "epoch", 0, err);
	if (r == 0)
		r = mgr_batch_put_json(&b, "epoch", ep, err);
	if (r == 0)
		r = mgr_batch_log(&b, body, err);
	if (r == 0)
		r = mgr_batch_commit(&b, m->store, err);
	mgr_batch_free(&b);
	if (r == -ECANCELED) {
		sn_err_clear(err);
		return 0;
	}
	return r;
}

int mgr_open(const char *store_spec, const struct mgr_config *cfg, struct mgr **out,
	     struct sn_err *err)
{
	struct mgr *m = calloc(1, sizeof(*m));
	if (!m)
		return sn_err_set(err, ENOMEM, "manager");
	m->cfg = *cfg;
	pthread_mutex_init(&m->mu, NULL);
	m->live = json_object();
	m->pending = json_object();
	m->moving = json_object();
	m->started_ms = mgr_now_ms();
	int r = dash_init(m) == 0 && m->live && m->pending && m->moving ? 0 :
		sn_err_set(err, ENOMEM, "manager");
	if (r == 0)
		r = mgr_store_open(store_spec, &m->store, err);
	if (r == 0)
		r = ensure_genesis(m, err);
	struct snap s;
	if (r == 0 && (r = snap_load(m, &s, err)) == 0) {
		live_sync(m, &s);  /* every node starts a full grace period from now */
		motion_sync(m, &s, mgr_now_ms());
	}
	if (r == 0)
		snap_free(&s);
	m->vacancies = true;    /* the first tick looks */
	if (r) {
		mgr_close(m);
		return r;
	}
	*out = m;
	return 0;
}

void mgr_close(struct mgr *m)
{
	if (!m)
		return;
	mgr_store_close(m->store);
	json_decref(m->live);
	json_decref(m->pending);
	json_decref(m->moving);
	dash_free(m);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

struct mgr_store *mgr_get_store(struct mgr *m)
{
	return m->store;
}

/* name of a key after its prefix ("nodes/x" → "x") */
static const char *tail(const char *key, const char *prefix)
{
	return key + strlen(prefix);
}

static int load_map(struct mgr *m, const char *prefix, json_t *map, json_t *revs,
		    struct sn_err *err)
{
	struct mgr_kv *kvs = NULL;
	size_t n = 0;
	int r = mgr_store_range(m->store, prefix, &kvs, &n, NULL, err);
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *v = json_loads(kvs[i].value, 0, NULL);
		if (!v) {
			r = sn_err_msg(err, EIO, "store: `%s` is not JSON", kvs[i].key);
			break;
		}
		if (json_object_set_new(map, tail(kvs[i].key, prefix), v) ||
		    json_object_set_new(revs, tail(kvs[i].key, prefix),
					json_integer(kvs[i].mod_rev)))
			r = sn_err_set(err, ENOMEM, "snapshot");
	}
	mgr_kvs_free(kvs, n);
	return r;
}

/* The empty maps of a snapshot. */
static int snap_init(struct snap *s, struct sn_err *err)
{
	memset(s, 0, sizeof(*s));
	s->nodes = json_object();
	s->node_rev = json_object();
	s->chains = json_object();
	s->chain_rev = json_object();
	s->used = json_object();
	if (!s->nodes || !s->node_rev || !s->chains || !s->chain_rev || !s->used)
		return sn_err_set(err, ENOMEM, "snapshot");
	return 0;
}

int snap_load(struct mgr *m, struct snap *s, struct sn_err *err)
{
	int r0 = snap_init(s, err);
	if (r0)
		return r0;
	int r = mgr_dlog_head(m->store, &s->head, err);
	if (r == 0)
		r = load_map(m, "nodes/", s->nodes, s->node_rev, err);
	if (r == 0)
		r = load_map(m, "chains/", s->chains, s->chain_rev, err);
	if (r)
		return r;
	struct mgr_kv kv;
	r = mgr_store_get(m->store, "epoch", &kv, err);
	if (r)
		return r;
	_cleanup_json_ json_t *ep = json_loads(kv.value, 0, NULL);
	mgr_kv_clear(&kv);
	size_t sl = 0;
	if (!ep || mgr_unhex(jstr(ep, "seed"), s->seed, sizeof(s->seed), &sl) || sl != MGR_SEED_LEN)
		return sn_err_msg(err, EIO, "store: `epoch` is damaged");
	s->epoch = (uint64_t)jint(ep, "epoch");
	const char *cname;
	json_t *c;
	json_object_foreach(s->chains, cname, c) {
		json_t *seat;
		size_t i;
		json_array_foreach(json_object_get(c, "seats"), i, seat) {
			if (*jstr(seat, "node"))
				snap_add_used(s, jstr(seat, "node"), jint(c, "units"));
			if (*jstr(seat, "from"))   /* the old member of a move runs on */
				snap_add_used(s, jstr(seat, "from"), jint(c, "units"));
		}
	}
	s->full = true;
	return 0;
}

void snap_free(struct snap *s)
{
	json_decref(s->nodes);
	json_decref(s->node_rev);
	json_decref(s->chains);
	json_decref(s->chain_rev);
	json_decref(s->used);
	memset(s, 0, sizeof(*s));
}

int64_t snap_used(struct snap *s, const char *node)
{
	return json_integer_value(json_object_get(s->used, node));
}

void snap_add_used(struct snap *s, const char *node, int64_t units)
{
	json_object_set_new(s->used, node, json_integer(snap_used(s, node) + units));
}

int snap_free_slot(struct snap *s, const char *node, struct sn_err *err)
{
	uint8_t used[128] = { 0 };
	const char *cname;
	json_t *c;
	json_object_foreach(s->chains, cname, c) {
		json_t *seat;
		size_t i;
		json_array_foreach(json_object_get(c, "seats"), i, seat) {
			int64_t slot = jint(seat, "slot"), from_slot = jint(seat, "from_slot");
			if (strcmp(jstr(seat, "node"), node) == 0 && slot >= 0 && slot < 128)
				used[slot] = 1;
			if (strcmp(jstr(seat, "from"), node) == 0 && from_slot >= 0 && from_slot < 128)
				used[from_slot] = 1;
		}
	}
	int64_t units = jint(json_object_get(s->nodes, node), "units");
	for (int i = 0; i < 128 && i < units; i++)
		if (!used[i])
			return i;
	return sn_err_msg(err, ENOSPC, "node `%s`: no free port slot", node);
}

int snap_view(struct mgr *m, bool chains, const char *name, snap_view_fn fn, json_t **out,
	      struct sn_err *err)
{
	const char *what = chains ? "chain" : "node";
	pthread_mutex_lock(&m->mu);
	struct snap s;
	int r = snap_load(m, &s, err);
	json_t *map = chains ? s.chains : s.nodes;
	json_t *res = NULL;
	if (r == 0 && name) {
		json_t *v = json_object_get(map, name);
		if (!v)
			r = sn_err_msg(err, ENOENT, "no %s `%s`", what, name);
		else if (!(res = fn(m, &s, name, v)))
			r = sn_err_set(err, ENOMEM, "%s `%s`", what, name);
	} else if (r == 0) {
		res = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(map, k, v) {
			json_t *one = res ? fn(m, &s, k, v) : NULL;
			if (!one || json_array_append_new(res, one)) {
				r = sn_err_set(err, ENOMEM, "%ss", what);
				break;
			}
		}
	}
	snap_free(&s);
	pthread_mutex_unlock(&m->mu);
	if (r) {
		json_decref(res);
		return r;
	}
	*out = res;
	return 0;
}

void step_begin(struct snap *s, struct mgr_batch *b)
{
	mgr_batch_init(b, &s->head, mgr_now_ms());
}

int step_commit(struct mgr *m, struct snap *s, struct mgr_batch *b, struct sn_err *err)
{
	int r = mgr_batch_commit(b, m->store, err);
	if (r == -ECANCELED) {
		m->steps_lost++;
		sn_err_wrap(err, "the registry changed meanwhile, try again");
	}
	if (r == 0) {
		live_sync(m, s);
		dash_changed(m);
	}
	if (r == 0 && s->full)
		motion_sync(m, s, b->time_ms);
	return r;
}

void live_sync(struct mgr *m, struct snap *s)
{
	const char *name;
	json_t *n;
	json_object_foreach(s->nodes, name, n) {
		json_t *l = live_of(m, name);
		if (!l)
			continue;
		json_object_set_new(l, "state", json_string(jstr(n, "state")));
		json_object_set_new(l, "cred", json_string(jstr(n, "credential_sha256")));
		json_object_set_new(l, "units", json_integer(jint(n, "units")));
	}
}

int snap_load_one(struct mgr *m, struct snap *s, const char *name, struct sn_err *err)
{
	int r0 = snap_init(s, err);
	if (r0)
		return r0;
	int r = mgr_dlog_head(m->store, &s->head, err);
	if (r)
		return r;
	char key[128];
	snprintf(key, sizeof(key), "nodes/%s", name);
	struct mgr_kv kv;
	r = mgr_store_get(m->store, key, &kv, err);
	if (r == -ENOENT) {
		sn_err_clear(err);
		return 0;
	}
	if (r)
		return r;
	json_t *v = json_loads(kv.value, 0, NULL);
	int64_t rev = kv.mod_rev;
	mgr_kv_clear(&kv);
	if (!v)
		return sn_err_msg(err, EIO, "store: `%s` is not JSON", key);
	if (json_object_set_new(s->nodes, name, v) ||
	    json_object_set_new(s->node_rev, name, json_integer(rev)))
		return sn_err_set(err, ENOMEM, "snapshot");
	return 0;
}

int step_node_state(struct mgr *m, struct snap *s, struct mgr_batch *b, const char *name,
		    const char *to, const char *cause, struct sn_err *err)
{
	json_t *n = json_object_get(s->nodes, name);
	if (!n)
		return sn_err_msg(err, ENOENT, "no node `%s`", name);
	char from[32];
	snprintf(from, sizeof(from), "%s", jstr(n, "state"));
	int64_t now = b->time_ms;
	json_t *hist = json_object_get(n, "history");
	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(n, "history", hist);
	}
	if (json_array_append_new(hist, json_pack("{sI ss ss ss}", "time", (json_int_t)now, "from",
						  from, "to", to, "cause", cause)) ||
	    json_object_set_new(n, "state", json_string(to)) ||
	    json_object_set_new(n, "since", json_integer(now)))
		return sn_err_set(err, ENOMEM, "node `%s`", name);
	while (json_array_size(hist) > 64)
		json_array_remove(hist, 0);
	char key[128];
	snprintf(key, sizeof(key), "nodes/%s", name);
	_cleanup_json_ json_t *body = json_pack("{ss ss ss ss ss}", "kind", "node", "node", name,
						"from", from, "to", to, "cause", cause);
	if (!body)
		return sn_err_set(err, ENOMEM, "node `%s`", name);
	int r = mgr_batch_cmp(b, key, jint(s->node_rev, name), err);
	if (r == 0)
		r = mgr_batch_put_json(b, key, n, err);
	if (r == 0)
		r = mgr_batch_log(b, body, err);
	return r;
}

int mgr_epoch_get(struct mgr *m, json_t **out, struct sn_err *err)
{
	struct mgr_kv kv;
	int r = mgr_store_get(m->store, "epoch", &kv, err);
	if (r)
		return r;
	r = sn_json_loadb(kv.value, strlen(kv.value), "epoch", out, err);
	mgr_kv_clear(&kv);
	return r;
}

int mgr_epoch_advance(struct mgr *m, const char *beacon_hex, json_t **out, struct sn_err *err)
{
	uint8_t beacon[256], seed[MGR_SEED_LEN];
	size_t bl = 0;
	if (!beacon_hex)
		beacon_hex = "";
	if (mgr_unhex(beacon_hex, beacon, sizeof(beacon), &bl))
		return sn_err_msg(err, EINVAL, "beacon: must be hex, at most 512 digits");
	pthread_mutex_lock(&m->mu);
	struct snap s;
	int r = snap_load(m, &s, err);
	struct mgr_kv kv = { 0 };
	if (r == 0)
		r = mgr_store_get(m->store, "epoch", &kv, err);
	uint64_t e = s.epoch + 1;
	if (r == 0)
		r = mgr_seed_next(s.seed, e, beacon, bl, seed, err);
	char shex[65];
	mgr_hex(seed, MGR_SEED_LEN, shex);
	_cleanup_json_ json_t *ep = json_pack("{sI ss}", "epoch", (json_int_t)e, "seed", shex);
	_cleanup_json_ json_t *body = json_pack("{ss sI ss ss}", "kind", "epoch", "epoch",
						(json_int_t)e, "beacon", beacon_hex, "seed", shex);
	if (r == 0 && (!ep || !body))
		r = sn_err_set(err, ENOMEM, "epoch");
	struct mgr_batch b;
	step_begin(&s, &b);
	if (r == 0)
		r = mgr_batch_cmp(&b, "epoch", kv.mod_rev, err);
	if (r == 0)
		r = mgr_batch_put_json(&b, "epoch", ep, err);
	if (r == 0)
		r = mgr_batch_log(&b, body, err);
	if (r == 0)
		r = step_commit(m, &s, &b, err);
	mgr_batch_free(&b);
	mgr_kv_clear(&kv);
	snap_free(&s);
	pthread_mutex_unlock(&m->mu);
	if (r == 0)
		*out = json_incref(ep);
	return r;
}

static const double fo_bounds[FAILOVER_BUCKETS] = { 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120 };

/* A failover finished: from the dead node's last heartbeat to the new
 * member reported running. Called with mu held. */
void mgr_observe_failover(struct mgr *m, double seconds)
{
	for (size_t i = 0; i < FAILOVER_BUCKETS; i++)
		if (seconds <= fo_bounds[i])
			m->fo_buckets[i]++;
	m->fo_buckets[FAILOVER_BUCKETS]++;
	m->fo_sum += seconds;
	m->fo_count++;
}

int mgr_metrics(struct mgr *m, char **out, struct sn_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return sn_err_sys(err, "metrics buffer");
	pthread_mutex_lock(&m->mu);
	struct snap s;
	int r = snap_load(m, &s, err);
	if (r == 0) {
		static const char *const states[] = { "active", "maintenance", "leaving", "left",
						      "down" };
		fprintf(f, "# HELP subnode_manager_nodes Nodes by state.\n"
			"# TYPE subnode_manager_nodes gauge\n");
		for (size_t i = 0; i < SN_ARRAY_SIZE(states); i++) {
			size_t k = 0;
			const char *name;
			json_t *n;
			json_object_foreach(s.nodes, name, n)
				k += strcmp(jstr(n, "state"), states[i]) == 0;
			fprintf(f, "subnode_manager_nodes{state=\"%s\"} %zu\n", states[i], k);
		}
		size_t seats = 0, vacant = 0, moving = 0;
		const char *cname;
		json_t *c;
		json_object_foreach(s.chains, cname, c) {
			json_t *seat;
			size_t i;
			json_array_foreach(json_object_get(c, "seats"), i, seat) {
				seats++;
				vacant += !*jstr(seat, "node");
			}
			moving += motion_count(c);
		}
		fprintf(f, "# HELP subnode_manager_chains Chains.\n# TYPE subnode_manager_chains gauge\n"
			"subnode_manager_chains %zu\n", json_object_size(s.chains));
		fprintf(f, "# HELP subnode_manager_seats Chain seats, and those without a node.\n"
			"# TYPE subnode_manager_seats gauge\nsubnode_manager_seats{vacant=\"false\"} %zu\n"
			"subnode_manager_seats{vacant=\"true\"} %zu\n", seats - vacant, vacant);
		fprintf(f, "# HELP subnode_manager_epoch The current epoch.\n"
			"# TYPE subnode_manager_epoch gauge\nsubnode_manager_epoch %" PRIu64 "\n", s.epoch);
		fprintf(f, "# HELP subnode_manager_log_entries Entries in the decision log.\n"
			"# TYPE subnode_manager_log_entries gauge\nsubnode_manager_log_entries %" PRIu64 "\n",
			s.head.seq);
		fprintf(f, "# HELP subnode_manager_placements_total Members placed (this process).\n"
			"# TYPE subnode_manager_placements_total counter\n"
			"subnode_manager_placements_total %" PRIu64 "\n", m->placements);
		fprintf(f, "# HELP subnode_manager_failovers_total Seats given away from nodes that"
			" went down (this process).\n# TYPE subnode_manager_failovers_total counter\n"
			"subnode_manager_failovers_total %" PRIu64 "\n", m->failovers);
		fprintf(f, "# HELP subnode_manager_seats_in_motion Seats whose new member does not run"
			" yet, the old one still running.\n# TYPE subnode_manager_seats_in_motion gauge\n"
			"subnode_manager_seats_in_motion %zu\n", moving);
		fprintf(f, "# HELP subnode_manager_moves_total Moves begun: leave and rotate (this"
			" process).\n# TYPE subnode_manager_moves_total counter\n"
			"subnode_manager_moves_total{cause=\"leave\"} %" PRIu64 "\n"
			"subnode_manager_moves_total{cause=\"rotate\"} %" PRIu64 "\n",
			m->moves - m->rotations, m->rotations);
		fprintf(f, "# HELP subnode_manager_releases_total Old members retired after their"
			" move (this process).\n# TYPE subnode_manager_releases_total counter\n"
			"subnode_manager_releases_total %" PRIu64 "\n", m->releases);
		fprintf(f, "# HELP subnode_manager_failover_seconds From a dead node's last heartbeat"
			" to its member running on another node.\n"
			"# TYPE subnode_manager_failover_seconds histogram\n");
		for (size_t i = 0; i < FAILOVER_BUCKETS; i++)
			fprintf(f, "subnode_manager_failover_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
				fo_bounds[i], m->fo_buckets[i]);
		fprintf(f, "subnode_manager_failover_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
			"subnode_manager_failover_seconds_sum %.3f\n"
			"subnode_manager_failover_seconds_count %" PRIu64 "\n",
			m->fo_buckets[FAILOVER_BUCKETS], m->fo_sum, m->fo_count);
	}
	snap_free(&s);
	pthread_mutex_unlock(&m->mu);
	if (fclose(f) != 0 && r == 0)
		r = sn_err_sys(err, "metrics buffer");
	if (r) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}
