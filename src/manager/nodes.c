/* nodes.c — the node registry: join (join token checked by the caller;
 * here the request, the credential and the record), credential checks,
 * heartbeats (in memory), admin state changes, listing, and the node's
 * desired subnodes as a watch on its assign/<node>/ keys (manager.h). */
#include "manager/manager_internal.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/sha256.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static int validate_join(json_t *req, struct sn_err *err)
{
	static const char *const keys[] = { "name", "address", "operator", "units", "port_base",
					    "api_port", NULL };
	if (!json_is_object(req))
		return sn_err_msg(err, EINVAL, "join: the body must be a JSON object");
	int r = sn_json_only_keys(req, "", keys, err);
	if (r)
		return r;
	const char *name = NULL, *addr = NULL, *op = NULL;
	int64_t units = 0, port_base = 0;
	if (sn_json_string(req, "", "name", &name, err) < 0 ||
	    sn_json_string(req, "", "address", &addr, err) < 0 ||
	    sn_json_string(req, "", "operator", &op, err) < 0 ||
	    sn_json_int(req, "", "units", &units, err) < 0 ||
	    sn_json_int(req, "", "port_base", &port_base, err) < 0)
		return -err->code;
	if (check_name(name, "name", err))
		return -EINVAL;
	unsigned char buf[16];
	if (!addr || (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1))
		return sn_err_msg(err, EINVAL, "address: must be an IPv4 or IPv6 address");
	if (op && *op && check_name(op, "operator", err))
		return -EINVAL;
	if (units < 1 || units > 128)
		return sn_err_msg(err, EINVAL, "units: must be 1 to 128 (got %lld)", (long long)units);
	json_t *api = json_object_get(req, "api_port");
	if (api && (!json_is_integer(api) || json_integer_value(api) < 1 || json_integer_value(api) > 65535))
		return sn_err_msg(err, EINVAL, "api_port: must be a port, 1 to 65535");
	if (port_base < 1024 || port_base + units * MGR_PORTS_PER_SLOT > 65536)
		return sn_err_msg(err, EINVAL, "port_base: must be at least 1024 and leave %lld ports"
				  " below 65536 (got %lld)", (long long)(units * MGR_PORTS_PER_SLOT),
				  (long long)port_base);
	return 0;
}

int mgr_node_join(struct mgr *m, json_t *req, json_t **reply, struct sn_err *err)
{
	int r = validate_join(req, err);
	if (r)
		return r;
	const char *name = jstr(req, "name");
	uint8_t raw[32];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return sn_err_sys(err, "getrandom for a node credential");
	char cred[65], hash[65];
	mgr_hex(raw, sizeof(raw), cred);
	r = sn_sha256_hex(cred, 64, hash, err);
	if (r)
		return r;
	pthread_mutex_lock(&m->mu);
	struct snap s;
	r = snap_load_one(m, &s, name, err);
	json_t *old = r == 0 ? json_object_get(s.nodes, name) : NULL;
	/* a node that left may join again under its name; any other is taken */
	if (old && strcmp(jstr(old, "state"), "left") != 0)
		r = sn_err_msg(err, EEXIST, "node `%s` is already in the network (%s)", name,
			       jstr(old, "state"));
	json_t *n = NULL;
	if (r == 0) {
		const char *op = json_string_value(json_object_get(req, "operator"));
		n = json_pack("{ss ss ss sI sI ss sI sI ss s[]}", "name", name, "address",
			      jstr(req, "address"), "operator", op && *op ? op : name, "units",
			      (json_int_t)jint(req, "units"), "port_base",
			      (json_int_t)jint(req, "port_base"), "state", "joining", "since",
			      (json_int_t)0, "joined", (json_int_t)mgr_now_ms(), "credential_sha256",
			      hash, "history");
		if (n)   /* its TCP API, where other nodes copy its members' data (0: none) */
			json_object_set_new(n, "api_port", json_integer(jint(req, "api_port")));
		if (n && old)  /* the history of the earlier membership stays */
			json_array_extend(json_object_get(n, "history"), json_object_get(old, "history"));
		if (!n || json_object_set_new(s.nodes, name, n))
			r = sn_err_set(err, ENOMEM, "node `%s`", name);
	}
	bool again = old != NULL;
	if (r == 0)
		json_object_del(m->live, name);   /* a fresh grace period */
	struct mgr_batch b;
	step_begin(&s, &b);
	if (r == 0)
		r = step_node_state(m, &s, &b, name, "active", again ? "joined again" : "joined", err);
	if (r == 0)
		r = step_commit(m, &s, &b, err);
	mgr_batch_free(&b);
	snap_free(&s);
	pthread_mutex_unlock(&m->mu);
	if (r)
		return r;
	*reply = json_pack("{ss ss}", "name", name, "credential", cred);
	return *reply ? 0 : sn_err_set(err, ENOMEM, "node `%s`", name);
}

int mgr_node_auth(struct mgr *m, const char *name, const char *credential, struct sn_err *err)
{
	char hash[65], want[65] = "", state[32] = "";
	if (!credential || strlen(credential) != 64)
		return sn_err_msg(err, EACCES, "node `%.64s`: bad credential", name);
	int r = sn_sha256_hex(credential, 64, hash, err);
	if (r)
		return r;
	pthread_mutex_lock(&m->mu);
	json_t *l = json_object_get(m->live, name);
	if (l) {
		snprintf(want, sizeof(want), "%s", jstr(l, "cred"));
		snprintf(state, sizeof(state), "%s", jstr(l, "state"));
	}
	pthread_mutex_unlock(&m->mu);
	if (strlen(want) != 64 || CRYPTO_memcmp(hash, want, 64) != 0)
		return sn_err_msg(err, EACCES, "node `%.64s`: bad credential", name);
	if (strcmp(state, "left") == 0)
		return sn_err_msg(err, ESHUTDOWN, "node `%s` has left the network; join again", name);
	return 0;
}

/* Members reported running by this heartbeat end pending failovers. */
static void close_failovers(struct mgr *m, const char *name, json_t *summary, int64_t now)
{
	json_t *mem;
	size_t i;
	json_array_foreach(json_object_get(summary, "members"), i, mem) {
		if (strcmp(jstr(mem, "state"), "running") != 0)
			continue;
		char key[200];
		snprintf(key, sizeof(key), "%s/%lld", jstr(mem, "chain"), (long long)jint(mem, "index"));
		json_t *p = json_object_get(m->pending, key);
		if (p && strcmp(jstr(p, "node"), name) == 0) {
			mgr_observe_failover(m, (double)(now - jint(p, "since")) / 1000.0);
			json_object_del(m->pending, key);
		}
	}
}

static int validate_summary(json_t *sum, int64_t units, const char *name, struct sn_err *err)
{
	if (!json_is_object(sum))
		return sn_err_msg(err, EINVAL, "heartbeat: the body must be a JSON object");
	json_t *u = json_object_get(sum, "units_used");
	if (u && (!json_is_integer(u) || json_integer_value(u) < 0))
		return sn_err_msg(err, EINVAL, "units_used: must be a non-negative integer");
	if (u && json_integer_value(u) > units)
		return sn_err_msg(err, EINVAL, "units_used: %lld exceeds the %lld units node `%s`"
				  " joined with", (long long)json_integer_value(u), (long long)units,
				  name);
	json_t *mem = json_object_get(sum, "members");
	if (mem && !json_is_array(mem))
		return sn_err_msg(err, EINVAL, "members: must be an array");
	json_t *e;
	size_t i;
	json_array_foreach(mem, i, e)
		if (!json_is_object(e) || !json_is_string(json_object_get(e, "chain")) ||
		    !json_is_integer(json_object_get(e, "index")))
			return sn_err_msg(err, EINVAL, "members[%zu]: must be {chain, index, state,"
					  " health}", i);
	return 0;
}

int mgr_node_heartbeat(struct mgr *m, const char *name, json_t *summary, json_t **reply,
		       struct sn_err *err)
{
	char state[32];
	int64_t now = mgr_now_ms();
	int r = 0;
	pthread_mutex_lock(&m->mu);
	json_t *l = json_object_get(m->live, name);
	if (!l || !json_object_get(l, "state")) {
		r = sn_err_msg(err, ENOENT, "no node `%.64s`", name);
		goto out;
	}
	snprintf(state, sizeof(state), "%s", jstr(l, "state"));
	if (strcmp(state, "left") == 0) {
		r = sn_err_msg(err, ESHUTDOWN, "node `%s` has left the network", name);
		goto out;
	}
	r = validate_summary(summary, jint(l, "units"), name, err);
	if (r)
		goto out;
	/* a node back from down: the steady period starts at its first
	 * heartbeat and restarts after any gap longer than the grace */
	if (strcmp(state, "down") == 0 &&
	    (jint(l, "back") == 0 || now - jint(l, "last") > m->cfg.grace_ms))
		json_object_set_new(l, "back", json_integer(now));
	json_object_set_new(l, "last", json_integer(now));
	json_object_set(l, "summary", summary);
	close_failovers(m, name, summary, now);
	dash_sample(m, name, now, summary);
	dash_changed(m);
out:
	pthread_mutex_unlock(&m->mu);
	if (r)
		return r;
	*reply = json_pack("{ss}", "state", state);
	return *reply ? 0 : sn_err_set(err, ENOMEM, "heartbeat");
}

int mgr_node_admin(struct mgr *m, const char *name, const char *verb, struct sn_err *err)
{
	pthread_mutex_lock(&m->mu);
	struct snap s;
	int r = snap_load(m, &s, err);
	json_t *n = r == 0 ? json_object_get(s.nodes, name) : NULL;
	if (r == 0 && !n)
		r = sn_err_msg(err, ENOENT, "no node `%s`", name);
	const char *state = n ? jstr(n, "state") : "";
	const char *to = NULL;
	if (r == 0) {
		if (strcmp(verb, "maintenance") == 0 && strcmp(state, "active") == 0)
			to = "maintenance";
		else if (strcmp(verb, "activate") == 0 && strcmp(state, "maintenance") == 0)
			to = "active";
		else if (strcmp(verb, "leave") == 0 && (strcmp(state, "active") == 0 ||
			 strcmp(state, "maintenance") == 0 || strcmp(state, "down") == 0))
			to = strcmp(state, "down") == 0 ? "left" : "leaving";
		else if (strcmp(verb, "maintenance") && strcmp(verb, "activate") && strcmp(verb, "leave"))
			r = sn_err_msg(err, EINVAL, "unknown node action `%s` (maintenance, activate,"
				       " leave)", verb);
		else
			r = sn_err_msg(err, EPERM, "node `%s` is %s: cannot %s%s", name, state, verb,
				       strcmp(state, "down") == 0 && strcmp(verb, "activate") == 0 ?
				       " (it becomes active by itself once it heartbeats steadily)" : "");
	}
	struct mgr_batch b;
	step_begin(&s, &b);
	char cause[64];
	snprintf(cause, sizeof(cause), "admin: %s", verb);
	if (r == 0)
		r = step_node_state(m, &s, &b, name, to, cause, err);
	/* a leaving node's members move make-before-break, as many of each
	 * chain at once as its budget allows; the tick moves the rest */
	bool moved = false;
	if (r == 0 && strcmp(to, "leaving") == 0)
		r = step_drain(m, &s, &b, &moved, err);
	if (r == 0)
		r = step_commit(m, &s, &b, err);
	mgr_batch_free(&b);
	snap_free(&s);
	pthread_mutex_unlock(&m->mu);
	return r;
}

/* The node as shown to admins: the record without the credential hash,
 * with its usage and its last heartbeat. */
static json_t *node_view(struct mgr *m, struct snap *s, const char *name, json_t *n, bool full)
{
	json_t *v = json_deep_copy(n);
	if (!v)
		return NULL;
	json_object_del(v, "credential_sha256");
	if (!full)
		json_object_del(v, "history");
	json_object_set_new(v, "units_used", json_integer(snap_used(s, name)));
	json_t *l = json_object_get(m->live, name);
	json_object_set_new(v, "last_heartbeat", json_integer(l ? jint(l, "last") : 0));
	if (full && l && json_object_get(l, "summary"))
		json_object_set(v, "summary", json_object_get(l, "summary"));
	size_t seats = 0;
	const char *cname;
	json_t *c, *seat;
	json_t *members = json_array();
	json_object_foreach(s->chains, cname, c) {
		size_t i;
		json_array_foreach(json_object_get(c, "seats"), i, seat) {
			bool old = strcmp(jstr(seat, "from"), name) == 0;  /* moving away */
			if (strcmp(jstr(seat, "node"), name) != 0 && !old)
				continue;
			seats++;
			json_t *mem = json_pack("{ss sI sI}", "chain", cname, "index",
						(json_int_t)jint(seat, "index"), "slot",
						(json_int_t)jint(seat, old ? "from_slot" : "slot"));
			if (mem && old)
				json_object_set_new(mem, "moving_to", json_string(jstr(seat, "node")));
			else if (mem && *jstr(seat, "from"))
				json_object_set_new(mem, "moving_from", json_string(jstr(seat, "from")));
			json_array_append_new(members, mem);
		}
	}
	json_object_set_new(v, "members", members);
	json_object_set_new(v, "member_count", json_integer((json_int_t)seats));
	return v;
}

static json_t *node_row(struct mgr *m, struct snap *s, const char *name, json_t *n)
{
	return node_view(m, s, name, n, false);
}

static json_t *node_full(struct mgr *m, struct snap *s, const char *name, json_t *n)
{
	return node_view(m, s, name, n, true);
}

int mgr_node_list(struct mgr *m, json_t **out, struct sn_err *err)
{
	return snap_view(m, false, NULL, node_row, out, err);
}

int mgr_node_inspect(struct mgr *m, const char *name, json_t **out, struct sn_err *err)
{
	return snap_view(m, false, name, node_full, out, err);
}

int mgr_node_desired(struct mgr *m, const char *name, int64_t after, int timeout_ms,
		     json_t **out, struct sn_err *err)
{
	char prefix[128];
	snprintf(prefix, sizeof(prefix), "assign/%s/", name);
	int64_t rev = 0;
	if (after > 0) {
		struct mgr_kv *ev = NULL;
		size_t n = 0;
		int r = mgr_store_watch(m->store, prefix, after, timeout_ms, &ev, &n, &rev, err);
		mgr_kvs_free(ev, n);
		if (r == -ERANGE)
			sn_err_clear(err);  /* history gone: answer with everything */
		else if (r)
			return r;
		else if (n == 0) {
			*out = json_pack("{sI s[] sb}", "revision", (json_int_t)rev, "subnodes",
					 "changed", 0);
			return *out ? 0 : sn_err_set(err, ENOMEM, "desired of `%s`", name);
		}
	}
	struct mgr_kv *kvs = NULL;
	size_t n = 0;
	int r = mgr_store_range(m->store, prefix, &kvs, &n, &rev, err);
	if (r)
		return r;
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *v = json_loads(kvs[i].value, 0, NULL);
		if (!v || json_array_append_new(a, v)) {
			json_decref(a);
			a = NULL;
		}
	}
	mgr_kvs_free(kvs, n);
	*out = a ? json_pack("{sI so sb}", "revision", (json_int_t)rev, "subnodes", a, "changed", 1)
		 : NULL;
	return *out ? 0 : sn_err_set(err, ENOMEM, "desired of `%s`", name);
}
