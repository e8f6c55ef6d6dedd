/* network.c — the network steps of a subnode's life, called by
 * lifecycle.c, reconcile.c, inspect.c and the update route (network.h):
 *
 *   create   reserve (address, slot, ports; with the row, under the node
 *            lock) → netns + veth [create-netns] → /etc files →
 *            firewall elements [create-firewall] → bundle joins the netns
 *   start    the netns and veth are there (made again after a reboot)
 *   remove   firewall elements [destroy-firewall] → veth + netns
 *            [destroy-netns] → reservation released (then the row)
 *   update   the new allow-list into the db, then one nft batch
 *   repair   reservations without a row released; netns files and veths
 *            without a reservation removed; the table rebuilt from the db
 *
 * Modes: none (the runtime makes a netns with lo only), host (no netns;
 * the node's /etc/hosts and resolv.conf), bridge, container:NAME (joins a
 * bridge subnode's netns and its /etc files).
 */
#include "node/node.h"
#include "node/network.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sval(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static const char *mode_of(json_t *cfg)
{
	const char *m = sval(json_object_get(cfg, "Net"), "Mode");
	return m ? m : "none";
}

int node_net_open(struct node *n, struct sn_err *err)
{
	n->net = calloc(1, sizeof(*n->net));
	if (!n->net)
		return sn_err_set(err, ENOMEM, "network");
	pthread_mutex_init(&n->net->lock, NULL);
	if (!(n->net->ns_dir = sn_path_join(n->cfg.root, "netns")))
		return sn_err_set(err, ENOMEM, "network");
	int r = sn_mkdir_p(n->net->ns_dir, 0700, err);
	if (r == 0)
		r = node_net_config_derive(n, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&n->lock);
	r = node_net_db_init(n, err);
	pthread_mutex_unlock(&n->lock);
	return r;
}

void node_net_close(struct node *n)
{
	if (!n->net)
		return;
	node_fw_close(n);
	pthread_mutex_destroy(&n->net->lock);
	free(n->net->ns_dir);
	free(n->net);
	n->net = NULL;
}

int node_net_create_reserve(struct node *n, const char *id, json_t *cfg, struct sn_err *err)
{
	json_t *net = json_object_get(cfg, "Net");
	const char *mode = mode_of(cfg);
	if (strcmp(mode, "bridge") && !json_object_get(net, "PortSlot"))
		return 0;
	_cleanup_json_ json_t *res = NULL;
	int r = node_net_reserve(n, id, net, &res, err);
	if (r == 0)
		r = node_net_check_allow(json_object_get(net, "Allow"), json_object_get(res, "Ports"),
					 "HostConfig.PortAllow", err);
	if (r < 0) {
		struct sn_err e2 = { 0 };
		node_net_release(n, id, &e2);
	}
	return r;
}

static void hostname_of(json_t *cfg, const char *id, const char *name, char out[64])
{
	const char *hn = sval(cfg, "Hostname");
	if (hn)
		snprintf(out, 64, "%s", hn);
	else if (strlen(name) <= 63)
		snprintf(out, 64, "%s", name);
	else
		snprintf(out, 64, "%.12s", id);
}

static int lookup(struct node *n, const char *id, json_t **res, struct sn_err *err)
{
	pthread_mutex_lock(&n->lock);
	int r = node_net_lookup(n, id, res, err);
	pthread_mutex_unlock(&n->lock);
	return r;
}

int node_net_create_make(struct node *n, const char *id, const char *name, json_t *cfg,
			 struct sn_err *err)
{
	if (strcmp(mode_of(cfg), "bridge") != 0)
		return 0;
	_cleanup_json_ json_t *res = NULL;
	int r = lookup(n, id, &res, err);
	if (r < 0)
		return r == -ENOENT ? sn_err_msg(err, EIO, "no address reserved for `%s`", name) : r;
	const char *ip = sval(res, "IP");
	if ((r = node_net_ns_ensure(n, id, ip, err)) < 0)
		return r;
	node_crashpoint(n, "create-netns");
	char hn[64];
	hostname_of(cfg, id, name, hn);
	if ((r = node_net_write_files(n, id, hn, ip, err)) < 0)
		return r;
	if ((r = node_fw_add(n, res, json_object_get(json_object_get(cfg, "Net"), "Allow"), err)) < 0)
		return r;
	node_crashpoint(n, "create-firewall");
	return 0;
}

int node_net_start(struct node *n, const char *id, json_t *cfg, struct sn_err *err)
{
	if (strcmp(mode_of(cfg), "bridge") != 0)
		return 0;
	_cleanup_json_ json_t *res = NULL;
	int r = lookup(n, id, &res, err);
	if (r < 0)
		return r == -ENOENT ? sn_err_msg(err, EIO, "no address reserved for subnode %s", id) : r;
	return node_net_ns_ensure(n, id, sval(res, "IP"), err);
}

int node_net_destroy(struct node *n, const char *id, json_t *cfg, struct sn_err *err)
{
	_cleanup_json_ json_t *res = NULL;
	int r = lookup(n, id, &res, err);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0 && sval(res, "IP")) {
		json_object_set_new(res, "Id", json_string(id));
		if ((r = node_fw_del(n, res, json_object_get(json_object_get(cfg, "Net"), "Allow"), err)) < 0)
			return r;
		node_crashpoint(n, "destroy-firewall");
	}
	if ((r = node_net_ns_remove(n, id, err)) < 0)
		return r;
	node_crashpoint(n, "destroy-netns");
	pthread_mutex_lock(&n->lock);
	r = node_net_release(n, id, err);
	pthread_mutex_unlock(&n->lock);
	return r;
}

int node_net_reconcile(struct node *n, struct sn_err *err)
{
	_cleanup_json_ json_t *all = NULL;
	pthread_mutex_lock(&n->lock);
	int r = node_net_release_orphans(n, err);
	if (r == 0)
		r = node_net_all(n, &all, err);
	pthread_mutex_unlock(&n->lock);
	if (r < 0 || (r = node_net_ns_sweep(n, all, err)) < 0)
		return r;
	const char *k;
	json_t *v;
	bool any = false;
	json_object_foreach(all, k, v)
		if (sval(v, "IP"))
			any = true;
	/* A daemon that never made a bridge subnode leaves nftables alone. */
	if (!any)
		return 0;
	if ((r = node_net_bridge_ensure(n, err)) < 0)
		return r;
	return node_fw_rebuild(n, NULL, err);
}

static void bind_mount(json_t *spec, const char *src, const char *dst, bool ro)
{
	json_array_append_new(json_object_get(spec, "mounts"),
		json_pack("{s:s, s:s, s:s, s:[s,s,s]}", "destination", dst, "type", "bind", "source", src,
			  "options", "rbind", "nosuid", ro ? "ro" : "rw"));
}

/* linux.namespaces: the network entry removed (path NULL) or given a path. */
static void netns_entry(json_t *spec, const char *path)
{
	json_t *nss = json_object_get(json_object_get(spec, "linux"), "namespaces");
	for (size_t i = 0; i < json_array_size(nss); i++) {
		json_t *e = json_array_get(nss, i);
		if (strcmp(sval(e, "type") ? sval(e, "type") : "", "network") != 0)
			continue;
		if (path)
			json_object_set_new(e, "path", json_string(path));
		else
			json_array_remove(nss, i);
		return;
	}
}

int node_net_bundle(struct node *n, const char *id, json_t *cfg, json_t *spec, struct sn_err *err)
{
	const char *mode = mode_of(cfg);
	if (strcmp(mode, "host") == 0) {
		netns_entry(spec, NULL);
		static const char *const files[] = { "/etc/hosts", "/etc/resolv.conf" };
		for (size_t i = 0; i < SN_ARRAY_SIZE(files); i++)
			if (sn_path_exists(files[i]))
				bind_mount(spec, files[i], files[i], true);
	} else if (strcmp(mode, "bridge") == 0 || strcmp(mode, "container") == 0) {
		const char *owner = mode[0] == 'b' ? id : sval(json_object_get(cfg, "Net"), "Container");
		_cleanup_free_ char *ns = node_net_ns_path(n, owner);
		_cleanup_free_ char *hosts = node_subnode_dir(n, owner, "hosts");
		_cleanup_free_ char *resolv = node_subnode_dir(n, owner, "resolv.conf");
		if (!ns || !hosts || !resolv)
			return sn_err_set(err, ENOMEM, "bundle");
		netns_entry(spec, ns);
		bind_mount(spec, hosts, "/etc/hosts", false);
		bind_mount(spec, resolv, "/etc/resolv.conf", false);
	}
	_cleanup_json_ json_t *res = NULL;
	struct sn_err e2 = { 0 };
	if (lookup(n, id, &res, &e2) == 0 && json_object_get(res, "PortBase")) {
		char kv[64];
		snprintf(kv, sizeof(kv), "SUBNODE_PORT_BASE=%lld",
			 (long long)json_integer_value(json_object_get(res, "PortBase")));
		json_t *env = json_object_get(json_object_get(spec, "process"), "env");
		if (!json_is_array(env)) {
			env = json_array();
			json_object_set_new(json_object_get(spec, "process"), "env", env);
		}
		json_array_append_new(env, json_string(kv));
	}
	return 0;
}

/* Docker's "Ports" shape from the reservation. */
static json_t *ports_json(json_t *res)
{
	json_t *o = json_object();
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(res, "Ports"), i, p) {
		unsigned first = (unsigned)json_integer_value(json_object_get(p, "First"));
		unsigned last = (unsigned)json_integer_value(json_object_get(p, "Last"));
		unsigned ctr = (unsigned)json_integer_value(json_object_get(p, "CtrFirst"));
		for (unsigned k = 0; k <= last - first && k < 4096; k++) {
			char key[32], hp[8];
			snprintf(key, sizeof(key), "%u/%s", ctr + k, sval(p, "Proto"));
			snprintf(hp, sizeof(hp), "%u", first + k);
			json_object_set_new(o, key, json_pack("[{s:s, s:s}]", "HostIp", "0.0.0.0", "HostPort", hp));
		}
	}
	return o;
}

/* The allow-list back in the request's shape. */
static json_t *allow_json(json_t *allow)
{
	json_t *o = json_object();
	size_t i;
	json_t *a;
	json_array_foreach(allow, i, a) {
		char key[32];
		unsigned f = (unsigned)json_integer_value(json_object_get(a, "From"));
		unsigned t = (unsigned)json_integer_value(json_object_get(a, "To"));
		if (f == t)
			snprintf(key, sizeof(key), "%u/%s", f, sval(a, "Proto"));
		else
			snprintf(key, sizeof(key), "%u-%u/%s", f, t, sval(a, "Proto"));
		json_object_set(o, key, json_object_get(a, "Sources"));
	}
	return o;
}

json_t *node_net_inspect(struct node *n, const char *id, json_t *cfg)
{
	json_t *net = json_object_get(cfg, "Net");
	const char *mode = mode_of(cfg);
	json_t *o = json_pack("{s:s}", "NetworkMode", mode);
	if (strcmp(mode, "container") == 0) {
		char m[80];
		snprintf(m, sizeof(m), "container:%s", sval(net, "Container"));
		json_object_set_new(o, "NetworkMode", json_string(m));
	}
	_cleanup_json_ json_t *res = NULL;
	struct sn_err e2 = { 0 };
	if (lookup(n, id, &res, &e2) < 0)
		return o;
	if (sval(res, "IP")) {
		char veth[16];
		node_net_veth_name(n, id, veth);
		char gw[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &n->net->gateway, gw, sizeof(gw));
		_cleanup_free_ char *ns = node_net_ns_path(n, id);
		json_object_set_new(o, "IPAddress", json_string(sval(res, "IP")));
		json_object_set_new(o, "IPPrefixLen", json_integer(n->net->prefix));
		json_object_set_new(o, "Gateway", json_string(gw));
		json_object_set_new(o, "Bridge", json_string(n->cfg.net.bridge));
		json_object_set_new(o, "SandboxKey", json_string(ns ? ns : ""));
		json_object_set_new(o, "HostVeth", json_string(veth));
	}
	json_object_set_new(o, "Ports", ports_json(res));
	if (json_object_get(res, "Slot")) {
		json_object_set(o, "PortSlot", json_object_get(res, "Slot"));
		json_object_set(o, "PortBase", json_object_get(res, "PortBase"));
	}
	json_object_set_new(o, "PortAllow", allow_json(json_object_get(net, "Allow")));
	return o;
}

static pthread_mutex_t update_lock = PTHREAD_MUTEX_INITIALIZER;

int node_net_update(struct node *n, const char *ref, json_t *body, struct sn_err *err)
{
	if (!json_is_object(body))
		return sn_err_msg(err, EINVAL, "request body: must be a JSON object");
	static const char *const keys[] = { "PortAllow", NULL };
	int r = sn_json_only_keys(body, "", keys, err);
	if (r < 0)
		return sn_err_wrap(err, "update (only PortAllow can be changed)");
	json_t *al = json_object_get(body, "PortAllow");
	if (!al)
		return 0;
	_cleanup_json_ json_t *allow = NULL, *row = NULL, *res = NULL;
	if (json_is_null(al))
		allow = json_array();
	else if ((r = node_net_parse_allow(al, "PortAllow", &allow, err)) < 0)
		return r;
	pthread_mutex_lock(&update_lock);
	pthread_mutex_lock(&n->lock);
	r = node_db_find(n->db, ref, &row, err);
	const char *id = r == 0 ? sval(row, "id") : NULL;
	if (r == 0 && (r = node_net_lookup(n, id, &res, err)) == -ENOENT)
		r = sn_err_msg(err, EINVAL, "PortAllow: subnode %s publishes no ports", ref);
	json_t *cfg = r == 0 ? json_object_get(row, "config") : NULL;
	if (r == 0 && strcmp(mode_of(cfg), "bridge") != 0)
		r = sn_err_msg(err, EINVAL, "PortAllow: subnode %s is not on the bridge", ref);
	if (r == 0)
		r = node_net_check_allow(allow, json_object_get(res, "Ports"), "PortAllow", err);
	_cleanup_json_ json_t *old = NULL;
	if (r == 0) {
		json_t *net = json_object_get(cfg, "Net");
		old = json_incref(json_object_get(net, "Allow"));
		json_object_set(net, "Allow", allow);
		_cleanup_json_ json_t *f = json_pack("{s:O}", "config", cfg);
		r = node_db_update(n->db, id, f, err);
	}
	pthread_mutex_unlock(&n->lock);
	if (r == 0)
		r = node_fw_replace_allow(n, res, old, allow, err);
	pthread_mutex_unlock(&update_lock);
	if (r == 0)
		node_event(n, "container", "update", id, json_pack("{s:s}", "name", sval(row, "name")));
	return r;
}
