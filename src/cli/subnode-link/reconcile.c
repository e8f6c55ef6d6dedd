/* reconcile.c — subnode-link's work on the node: the summary a heartbeat
 * carries, and the reconcile of desired members against the node's
 * subnodes (link.h).
 *
 * A managed subnode carries the labels subnode.member (its name,
 * `<chain>-<index>`), subnode.chain, subnode.chain_id and subnode.index;
 * only those are ever removed. Each member gets its generated config:
 *   - environment: SUBNODE_CHAIN, SUBNODE_CHAIN_ID, SUBNODE_INDEX,
 *     SUBNODE_MEMBERS, SUBNODE_PORT_FIRST, SUBNODE_PORT_COUNT and
 *     SUBNODE_PEERS ("index=address:port,…" of every member), after the
 *     chain's own env;
 *   - a data volume `<name>-data` (the node's default size for its slice)
 *     at /data (SUBNODE_DATA), removed with the member;
 *   - a file /etc/subnode/peers.json (a read-only bind of
 *     STATE/members/<name>/), the assignment as the manager gave it,
 *     rewritten whenever the manager changes it (a peer moved), so a
 *     member can follow its peers without a restart.
 * The port slot (ports.first … +63) is in both; publishing those ports is
 * the networks issue's work.
 */
#include "link.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>

#define MEMBER_VOLUME_SUFFIX "-data"
#define MEMBER_DATA "/data"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int link_node_defaults(struct link *l, struct sn_err *err)
{
	struct peer node;
	int r = peer_init(&node, "http://node", l->socket, err);
	if (r)
		return r;
	json_t *info = NULL;
	long st = 0;
	for (int i = 0; i < 100; i++) {   /* the daemon may still be starting */
		r = peer_call(&node, "GET", "/info", NULL, 10, &st, &info, err);
		if (r == 0 && st == 200)
			break;
		json_decref(info);
		info = NULL;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	peer_free(&node);
	if (!info)
		return r ? r : sn_err_msg(err, EIO, "node `%s`: /info failed", l->socket);
	if (!l->name[0])
		snprintf(l->name, sizeof(l->name), "%s",
			 json_string_value(json_object_get(info, "Name")) ?: "node");
	if (!l->units)
		l->units = (int)json_integer_value(json_object_get(json_object_get(info, "Slices"),
								   "Units"));
	if (l->units < 1 || l->units > 128)
		l->units = 128;
	json_decref(info);
	return 0;
}

static int list_managed(struct peer *node, json_t **out, struct sn_err *err)
{
	long st = 0;
	json_t *all = NULL;
	int r = peer_call(node, "GET", "/containers/json?all=1", NULL, 10, &st, &all, err);
	if (r)
		return r;
	if (st != 200 || !json_is_array(all)) {
		json_decref(all);
		return err->code ? -err->code : sn_err_msg(err, EIO, "node: bad list");
	}
	*out = all;
	return 0;
}

static const char *label(json_t *c, const char *k)
{
	return json_string_value(json_object_get(json_object_get(c, "Labels"), k));
}

int link_summary(struct link *l, struct peer *node, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *all = NULL;
	int r = list_managed(node, &all, err);
	if (r)
		return r;
	json_t *members = json_array();
	json_int_t used = 0;
	json_t *c;
	size_t i;
	json_array_foreach(all, i, c) {
		used += json_integer_value(json_object_get(c, "Units"));
		if (!label(c, "subnode.member"))
			continue;
		const char *status = json_string_value(json_object_get(c, "Status")) ?: "";
		const char *health = strstr(status, "(unhealthy)") ? "unhealthy" :
				     strstr(status, "(healthy)") ? "healthy" :
				     strstr(status, "(health: starting)") ? "starting" : "";
		json_array_append_new(members, json_pack(
			"{ss sI ss ss ss}", "chain", label(c, "subnode.chain") ?: "", "index",
			(json_int_t)atoll(label(c, "subnode.index") ?: "0"), "state",
			json_string_value(json_object_get(c, "State")) ?: "", "health", health,
			"name", label(c, "subnode.member")));
	}
	*out = json_pack("{sI so}", "units_used", used, "members", members);
	return *out ? 0 : sn_err_set(err, ENOMEM, "summary");
}

static char *member_dir(struct link *l, const char *name)
{
	char *d = NULL;
	return asprintf(&d, "%s/members/%s", l->state, name) < 0 ? NULL : d;
}

static int write_peers(struct link *l, json_t *a, struct sn_err *err)
{
	_cleanup_free_ char *dir = member_dir(l, json_string_value(json_object_get(a, "name")));
	_cleanup_free_ char *file = dir ? sn_path_join(dir, "peers.json") : NULL;
	_cleanup_free_ char *text = json_dumps(a, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!file || !text)
		return sn_err_set(err, ENOMEM, "peer file");
	int r = sn_mkdir_p(dir, 0755, err);
	if (r)
		return r;
	/* in place, not renamed: the bind mount holds the directory, so a
	 * rename would do too, but readers may hold the file open */
	return sn_write_file(file, text, strlen(text), 0644, err);
}

static json_t *member_env(json_t *a)
{
	json_t *env = json_deep_copy(json_object_get(a, "env"));
	if (!json_is_array(env)) {
		json_decref(env);
		env = json_array();
	}
	char buf[8192] = "";
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(a, "peers"), i, p) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, "%s%lld=%s:%lld", i ? "," : "",
			 (long long)json_integer_value(json_object_get(p, "index")),
			 json_string_value(json_object_get(p, "address")) ?: "",
			 (long long)json_integer_value(json_object_get(p, "port")));
	}
	json_t *ports = json_object_get(a, "ports");
	char line[8300];
#define ADD(...) do { snprintf(line, sizeof(line), __VA_ARGS__); \
		json_array_append_new(env, json_string(line)); } while (0)
	ADD("SUBNODE_CHAIN=%s", json_string_value(json_object_get(a, "chain")) ?: "");
	ADD("SUBNODE_CHAIN_ID=%s", json_string_value(json_object_get(a, "chain_id")) ?: "");
	ADD("SUBNODE_INDEX=%lld", (long long)json_integer_value(json_object_get(a, "index")));
	ADD("SUBNODE_MEMBERS=%lld", (long long)json_integer_value(json_object_get(a, "members")));
	ADD("SUBNODE_PORT_FIRST=%lld", (long long)json_integer_value(json_object_get(ports, "first")));
	ADD("SUBNODE_PORT_COUNT=%lld", (long long)json_integer_value(json_object_get(ports, "count")));
	ADD("SUBNODE_PEERS=%s", buf);
	ADD("SUBNODE_DATA=%s", MEMBER_DATA);
#undef ADD
	return env;
}

static int create_member(struct link *l, json_t *a, struct sn_err *err)
{
	const char *name = json_string_value(json_object_get(a, "name"));
	const char *image = json_string_value(json_object_get(a, "image"));
	_cleanup_free_ char *dir = member_dir(l, name);
	char bind[4200], data[300], index[32];
	snprintf(bind, sizeof(bind), "%s:/etc/subnode:ro", dir ? dir : "");
	snprintf(data, sizeof(data), "%s" MEMBER_VOLUME_SUFFIX ":" MEMBER_DATA, name ?: "");
	snprintf(index, sizeof(index), "%lld", (long long)json_integer_value(json_object_get(a, "index")));
	_cleanup_json_ json_t *req = json_pack(
		"{ss so ss s{ss ss ss ss} s{s[ss] s{ss}}}", "Image", image ?: "", "Env", member_env(a),
		"Size", json_string_value(json_object_get(a, "size")) ?: "small", "Labels",
		"subnode.member", name, "subnode.chain",
		json_string_value(json_object_get(a, "chain")) ?: "", "subnode.chain_id",
		json_string_value(json_object_get(a, "chain_id")) ?: "", "subnode.index", index,
		"HostConfig", "Binds", bind, data, "RestartPolicy", "Name", "always");
	if (!req || !dir)
		return sn_err_set(err, ENOMEM, "member `%s`", name);
	if (json_object_get(a, "cmd"))
		json_object_set(req, "Cmd", json_object_get(a, "cmd"));
	if (json_object_get(a, "health"))
		json_object_set(req, "Healthcheck", json_object_get(a, "health"));
	char path[256];
	snprintf(path, sizeof(path), "/containers/create?name=%s&start=1", name);
	for (int attempt = 0; attempt < 2; attempt++) {
		long st = 0;
		json_t *out = NULL;
		int r = peer_call(&l->node, "POST", path, req, 60, &st, &out, err);
		json_decref(out);
		if (r)
			return r;
		if (st == 201) {
			sn_info("member `%s`: created and started", name);
			return 0;
		}
		if (st != 404 || attempt)
			return -EIO;
		/* the node lacks the image: pull it, then once more */
		char pull[1200];
		snprintf(pull, sizeof(pull), "/images/create?fromImage=%s", image);
		sn_info("member `%s`: pulling `%s`", name, image);
		r = peer_call(&l->node, "POST", pull, NULL, 600, &st, NULL, err);
		if (r)
			return r;
	}
	return -EIO;
}

int link_reconcile(struct link *l, json_t *desired, struct sn_err *err)
{
	_cleanup_json_ json_t *all = NULL;
	int r = list_managed(&l->node, &all, err);
	if (r)
		return r;
	int first = 0;
	json_t *a, *c;
	size_t i, j;
	json_array_foreach(desired, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		if (!name)
			continue;
		r = write_peers(l, a, err);
		bool have = false;
		json_array_foreach(all, j, c)
			have |= label(c, "subnode.member") && strcmp(label(c, "subnode.member"), name) == 0;
		if (r == 0 && !have)
			r = create_member(l, a, err);
		if (r && !first)
			first = r;
		if (r)
			sn_warn("member `%s`: %s", name, err->msg);
	}
	json_array_foreach(all, j, c) {
		const char *m = label(c, "subnode.member");
		if (!m)
			continue;
		bool want = false;
		json_array_foreach(desired, i, a)
			want |= strcmp(json_string_value(json_object_get(a, "name")) ?: "", m) == 0;
		if (want)
			continue;
		char path[256];
		long st = 0;
		snprintf(path, sizeof(path), "/containers/%s?force=1",
			 json_string_value(json_object_get(c, "Id")) ?: m);
		r = peer_call(&l->node, "DELETE", path, NULL, 60, &st, NULL, err);
		if (r == 0 && st < 300) {
			sn_info("member `%s`: no longer ours, removed", m);
			/* its data volume goes with it: a member placed here
			 * again starts from a live member's data, not stale data */
			snprintf(path, sizeof(path), "/volumes/%s" MEMBER_VOLUME_SUFFIX, m);
			struct sn_err ev = { 0 };
			if (peer_call(&l->node, "DELETE", path, NULL, 60, &st, NULL, &ev) || (st >= 300 && st != 404))
				sn_warn("member `%s`: its volume stays (%ld %s)", m, st, ev.msg);
			_cleanup_free_ char *dir = member_dir(l, m);
			struct sn_err e2 = { 0 };
			if (dir)
				sn_rm_rf(dir, &e2);
		} else if (!first) {
			first = r ? r : -EIO;
		}
	}
	return first;
}
