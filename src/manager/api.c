/* api.c — the manager's routes (api.h). One table of (method, pattern,
 * who may call, handler); a pattern's `{}` matches one path segment, which
 * the handler gets as its argument. */
#include "manager/api.h"
#include "manager/dlog.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* VIEWER: the admin, or anyone when the manager allows reading without a
 * token (mgr_api.public_read). */
enum who { ANYONE, ADMIN, NODE, JOINER, VIEWER };

struct ctx {
	struct mgr_api *a;
	const struct mgr_req *req;
	struct mgr_resp *resp;
	const char *arg;             /* the {} segment */
	struct sn_err err;
};

int mgr_api_status(int e)
{
	switch (e < 0 ? -e : e) {
	case EINVAL: return 400;
	case EACCES: return 401;
	case ENOENT: return 404;
	case EEXIST: case EPERM: case ENOSPC: case ECANCELED: return 409;
	case ESHUTDOWN: return 410;
	case E2BIG: return 413;
	default: return 500;
	}
}

static void reply_json(struct ctx *c, int status, json_t *j)
{
	c->resp->status = status;
	c->resp->content_type = "application/json";
	c->resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!c->resp->body) {
		c->resp->status = 500;
		c->resp->body = strdup("{\"message\":\"out of memory\"}");
	}
}

static void reply_err(struct ctx *c, int r)
{
	_cleanup_json_ json_t *j = json_pack("{ss}", "message", c->err.code ? c->err.msg :
					     "internal error");
	reply_json(c, mgr_api_status(r), j);
}

/* Reply with j (taken) on success, the error otherwise. */
static void finish(struct ctx *c, int r, int status, json_t *j)
{
	if (r)
		reply_err(c, r);
	else
		reply_json(c, status, j);
	json_decref(j);
}

static int body_json(struct ctx *c, json_t **out)
{
	if (!c->req->body_len)
		return sn_err_msg(&c->err, EINVAL, "the request needs a JSON body");
	return sn_json_loadb(c->req->body, c->req->body_len, "request body", out, &c->err);
}

static bool token_is(const char *given, const char *want)
{
	size_t n = strlen(want);
	return given && *want && strlen(given) == n && CRYPTO_memcmp(given, want, n) == 0;
}

static void h_join(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL;
	json_t *out = NULL;
	int r = body_json(c, &req);
	if (r == 0)
		r = mgr_node_join(c->a->m, req, &out, &c->err);
	finish(c, r, 201, out);
}

static void h_heartbeat(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL;
	json_t *out = NULL;
	int r = c->req->body_len ? body_json(c, &req) : 0;
	if (r == 0 && !req)
		req = json_object();
	if (r == 0)
		r = mgr_node_heartbeat(c->a->m, c->arg, req, &out, &c->err);
	finish(c, r, 200, out);
}

static int query_int(struct ctx *c, const char *key, long long def, long long min, long long max,
		     long long *out)
{
	const char *v = c->req->query ? c->req->query(c->req->query_ctx, key) : NULL;
	*out = def;
	if (!v)
		return 0;
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < min || x > max)
		return sn_err_msg(&c->err, EINVAL, "%s: must be an integer from %lld to %lld", key,
				  min, max);
	*out = x;
	return 0;
}

static void h_desired(struct ctx *c)
{
	long long after, wait;
	json_t *out = NULL;
	int r = query_int(c, "after", 0, 0, INT64_MAX, &after);
	if (r == 0)
		r = query_int(c, "wait", 0, 0, c->a->max_wait_ms / 1000, &wait);
	if (r == 0)
		r = mgr_node_desired(c->a->m, c->arg, after, (int)wait * 1000, &out, &c->err);
	finish(c, r, 200, out);
}

static void h_nodes(struct ctx *c)
{
	json_t *out = NULL;
	int r = mgr_node_list(c->a->m, &out, &c->err);
	finish(c, r, 200, out);
}

static void h_node(struct ctx *c)
{
	json_t *out = NULL;
	int r = mgr_node_inspect(c->a->m, c->arg, &out, &c->err);
	finish(c, r, 200, out);
}

static void node_admin(struct ctx *c, const char *verb)
{
	json_t *out = NULL;
	int r = mgr_node_admin(c->a->m, c->arg, verb, &c->err);
	if (r == 0)
		r = mgr_node_inspect(c->a->m, c->arg, &out, &c->err);
	finish(c, r, 200, out);
}

static void h_maintenance(struct ctx *c) { node_admin(c, "maintenance"); }
static void h_activate(struct ctx *c) { node_admin(c, "activate"); }
static void h_leave(struct ctx *c) { node_admin(c, "leave"); }

static void h_chain_create(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL;
	json_t *out = NULL;
	int r = body_json(c, &req);
	if (r == 0)
		r = mgr_chain_create(c->a->m, req, &out, &c->err);
	finish(c, r, 201, out);
}

static void h_chains(struct ctx *c)
{
	json_t *out = NULL;
	int r = mgr_chain_list(c->a->m, &out, &c->err);
	finish(c, r, 200, out);
}

static void h_chain(struct ctx *c)
{
	json_t *out = NULL;
	int r = mgr_chain_inspect(c->a->m, c->arg, &out, &c->err);
	finish(c, r, 200, out);
}

static void h_chain_rm(struct ctx *c)
{
	int r = mgr_chain_rm(c->a->m, c->arg, &c->err);
	if (r) {
		reply_err(c, r);
		return;
	}
	c->resp->status = 204;
	c->resp->body = strdup("");
}

static void h_epoch(struct ctx *c)
{
	json_t *out = NULL;
	int r = mgr_epoch_get(c->a->m, &out, &c->err);
	finish(c, r, 200, out);
}

static void h_epoch_next(struct ctx *c)
{
	_cleanup_json_ json_t *req = NULL;
	json_t *out = NULL;
	const char *beacon = NULL;
	int r = c->req->body_len ? body_json(c, &req) : 0;
	static const char *const keys[] = { "beacon", NULL };
	if (r == 0 && req && (r = sn_json_only_keys(req, "", keys, &c->err)) == 0 &&
	    sn_json_string(req, "", "beacon", &beacon, &c->err) < 0)
		r = -EINVAL;
	if (r == 0)
		r = mgr_epoch_advance(c->a->m, beacon, &out, &c->err);
	finish(c, r, 201, out);
}

static void h_log(struct ctx *c)
{
	size_t len;
	int r = mgr_dlog_read_all(mgr_get_store(c->a->m), &c->resp->body, &len, &c->err);
	if (r) {
		reply_err(c, r);
		return;
	}
	c->resp->status = 200;
	c->resp->content_type = "application/x-ndjson";
}

static void h_verify(struct ctx *c)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = mgr_dlog_read_all(mgr_get_store(c->a->m), &buf, &len, &c->err);
	if (r) {
		reply_err(c, r);
		return;
	}
	struct mgr_verify_report rep;
	struct sn_err verr = { 0 };
	r = mgr_dlog_verify(buf, len, &rep, &verr);
	if (r && r != -EBADMSG) {
		c->err = verr;
		reply_err(c, r);
		return;
	}
	json_t *out = json_pack("{sb sI sI sI sI ss}", "ok", r == 0, "entries",
				(json_int_t)rep.entries, "placements", (json_int_t)rep.placements,
				"epochs", (json_int_t)rep.epochs, "problems", (json_int_t)rep.problems,
				"report", rep.text ? rep.text : "");
	mgr_verify_report_free(&rep);
	finish(c, 0, 200, out);
}

static void h_metrics(struct ctx *c)
{
	int r = mgr_metrics(c->a->m, &c->resp->body, &c->err);
	if (r) {
		reply_err(c, r);
		return;
	}
	c->resp->status = 200;
	c->resp->content_type = "text/plain; version=0.0.4";
}

static void h_dashboard(struct ctx *c)
{
	json_t *out = NULL;
	int r = mgr_dashboard(c->a->m, true, &out, &c->err);
	finish(c, r, 200, out);
}

struct route {
	const char *method;
	const char *pattern;
	enum who who;
	void (*fn)(struct ctx *c);
};

static const struct route routes[] = {
	{ "POST", "/v1/join", JOINER, h_join },
	{ "POST", "/v1/nodes/{}/heartbeat", NODE, h_heartbeat },
	{ "GET", "/v1/nodes/{}/desired", NODE, h_desired },
	{ "GET", "/v1/nodes", VIEWER, h_nodes },
	{ "GET", "/v1/nodes/{}", VIEWER, h_node },
	{ "POST", "/v1/nodes/{}/maintenance", ADMIN, h_maintenance },
	{ "POST", "/v1/nodes/{}/activate", ADMIN, h_activate },
	{ "POST", "/v1/nodes/{}/leave", ADMIN, h_leave },
	{ "POST", "/v1/chains", ADMIN, h_chain_create },
	{ "GET", "/v1/chains", VIEWER, h_chains },
	{ "GET", "/v1/chains/{}", VIEWER, h_chain },
	{ "DELETE", "/v1/chains/{}", ADMIN, h_chain_rm },
	{ "GET", "/v1/epoch", VIEWER, h_epoch },
	{ "POST", "/v1/epochs", ADMIN, h_epoch_next },
	{ "GET", "/v1/log", VIEWER, h_log },
	{ "GET", "/v1/verify", VIEWER, h_verify },
	{ "GET", "/v1/dashboard", VIEWER, h_dashboard },
	{ "GET", "/metrics", ANYONE, h_metrics },
};

/* Does path match pattern? The {} segment goes to arg (size bytes). */
static bool match(const char *pattern, const char *path, char *arg, size_t size)
{
	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= size)
				return false;
			memcpy(arg, path, n);
			arg[n] = 0;
			path += n;
			pattern += 2;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *pattern == 0 && *path == 0;
}

static int authorize(struct ctx *c, enum who who)
{
	const char *tok = c->req->bearer && *c->req->bearer ? c->req->bearer : NULL;
	if (who == ANYONE || token_is(tok, c->a->admin_token))
		return 0;
	if (who == VIEWER && !tok && c->a->public_read)
		return 0;
	if (who == JOINER && token_is(tok, c->a->join_token))
		return 0;
	if (who == NODE && tok)
		return mgr_node_auth(c->a->m, c->arg, tok, &c->err);
	return sn_err_msg(&c->err, EACCES, tok ? "bad token" : "this route needs"
			  " `Authorization: Bearer <token>`");
}

int mgr_api_authorize(struct mgr_api *a, const struct mgr_req *req, struct mgr_resp *resp)
{
	struct ctx c = { .a = a, .req = req, .resp = resp };
	char arg[256] = "";
	memset(resp, 0, sizeof(*resp));
	for (size_t i = 0; i < SN_ARRAY_SIZE(routes); i++) {
		if (strcmp(routes[i].method, req->method) != 0 ||
		    !match(routes[i].pattern, req->path, arg, sizeof(arg)))
			continue;
		c.arg = arg;
		int r = authorize(&c, routes[i].who);
		if (r)
			reply_err(&c, r);
		return r;
	}
	mgr_api_handle(a, req, resp);   /* no such route: its 404 or 405 */
	return -ENOENT;
}

int mgr_api_may_view(struct mgr_api *a, const char *bearer, struct sn_err *err)
{
	struct mgr_req req = { .bearer = bearer };
	struct ctx c = { .a = a, .req = &req };
	int r = authorize(&c, VIEWER);
	if (r)
		*err = c.err;
	return r;
}

void mgr_api_handle(struct mgr_api *a, const struct mgr_req *req, struct mgr_resp *resp)
{
	struct ctx c = { .a = a, .req = req, .resp = resp };
	char arg[256] = "";
	memset(resp, 0, sizeof(*resp));
	bool path_known = false;
	for (size_t i = 0; i < SN_ARRAY_SIZE(routes); i++) {
		if (!match(routes[i].pattern, req->path, arg, sizeof(arg)))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, req->method) != 0)
			continue;
		c.arg = arg;
		int r = authorize(&c, routes[i].who);
		if (r) {
			reply_err(&c, r);
			return;
		}
		routes[i].fn(&c);
		return;
	}
	sn_err_msg(&c.err, path_known ? EINVAL : ENOENT, path_known ?
		   "%s is not allowed on %s" : "no route %s %s", req->method, req->path);
	reply_err(&c, path_known ? -EINVAL : -ENOENT);
	if (path_known)
		resp->status = 405;
}
