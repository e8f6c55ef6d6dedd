/* fixture.h — what the manager core's tests share: a manager on a fresh
 * SQLite store in a temporary directory, simulated nodes joining and
 * heartbeating (with nothing running, or with every member the manager
 * gave them running), chains created, and the whole log verified. */
#ifndef SN_TEST_MANAGER_FIXTURE_H
#define SN_TEST_MANAGER_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "manager/dlog.h"
#include "manager/manager.h"

struct fx {
	char *dir;
	struct mgr *m;
	char cred[8][65];
};

/* grace 1 s, steady 0.3 s, 4 members by default, a fixed genesis. */
static inline int fx_open(void **state, int64_t rotation_ms)
{
	struct fx *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/sn-unit-reg-XXXXXX";
	f->dir = strdup(mkdtemp(tmpl));
	struct mgr_config cfg;
	mgr_config_defaults(&cfg);
	cfg.grace_ms = 1000;
	cfg.steady_ms = 300;
	cfg.default_members = 4;
	cfg.genesis_hex = "00112233";
	cfg.rotation_ms = rotation_ms;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_open(f->dir, &cfg, &f->m, &err), 0);
	*state = f;
	return 0;
}

static inline int fx_close(void **state)
{
	struct fx *f = *state;
	struct sn_err err = { 0 };
	mgr_close(f->m);
	sn_rm_rf(f->dir, &err);
	free(f->dir);
	free(f);
	return 0;
}

static inline const char *fx_name(int i)
{
	static __thread char name[8][16];
	snprintf(name[i & 7], sizeof(name[0]), "node%d", i);
	return name[i & 7];
}

static inline void join(struct fx *f, int i, const char *op)
{
	char addr[32];
	snprintf(addr, sizeof(addr), "10.0.0.%d", i + 1);
	json_t *req = json_pack("{ss ss ss si si si}", "name", fx_name(i), "address", addr,
				"operator", op, "units", 8, "port_base", 20000, "api_port", 7000);
	json_t *reply = NULL;
	struct sn_err err = { 0 };
	int r = mgr_node_join(f->m, req, &reply, &err);
	if (r)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
	snprintf(f->cred[i], sizeof(f->cred[i]), "%s", json_string_value(json_object_get(reply,
										    "credential")));
	json_decref(req);
	json_decref(reply);
}

/* Nodes 0..n-1 (n ≤ 8), each its own operator. */
static inline void join_n(struct fx *f, int n)
{
	for (int i = 0; i < n; i++)
		join(f, i, (const char *[]){ "a", "b", "c", "d", "e", "f", "g", "h" }[i]);
}

static inline void beat_with(struct fx *f, int i, json_t *members)
{
	json_t *sum = json_pack("{si so}", "units_used", 0, "members", members);
	json_t *reply = NULL;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_node_heartbeat(f->m, fx_name(i), sum, &reply, &err), 0);
	json_decref(sum);
	json_decref(reply);
}

/* A heartbeat with nothing running. */
static inline void beat(struct fx *f, int i)
{
	beat_with(f, i, json_array());
}

/* A heartbeat with every member the manager gives node i running (and
 * with `health` as their health). */
static inline void beat_desired(struct fx *f, int i, const char *health)
{
	json_t *d = NULL, *a, *members = json_array();
	struct sn_err err = { 0 };
	size_t k;
	assert_int_equal(mgr_node_desired(f->m, fx_name(i), 0, 0, &d, &err), 0);
	json_array_foreach(json_object_get(d, "subnodes"), k, a)
		json_array_append_new(members, json_pack("{sO sO ss ss}", "chain",
			json_object_get(a, "chain"), "index", json_object_get(a, "index"), "state",
			"running", "health", health));
	json_decref(d);
	beat_with(f, i, members);
}

static inline void fx_tick(struct fx *f)
{
	struct sn_err err = { 0 };
	int r = mgr_tick(f->m, &err);
	if (r)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, 0);
}

/* `count` rounds 60 ms apart: nodes 0..n-1 but `silent` (-1: none)
 * heartbeat — with their members running when `running`, else with
 * nothing — then a tick. */
static inline void rounds(struct fx *f, int count, int n, int silent, bool running)
{
	for (int t = 0; t < count; t++) {
		for (int i = 0; i < n; i++) {
			if (i == silent)
				continue;
			if (running)
				beat_desired(f, i, "");
			else
				beat(f, i);
		}
		usleep(60 * 1000);
		fx_tick(f);
	}
}

static inline const char *node_state(struct fx *f, int i)
{
	static __thread char st[32];
	json_t *n = NULL;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_node_inspect(f->m, fx_name(i), &n, &err), 0);
	snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(n, "state")));
	json_decref(n);
	return st;
}

/* How many members node i is given. */
static inline size_t desired_count(struct fx *f, int i)
{
	json_t *d = NULL;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_node_desired(f->m, fx_name(i), 0, 0, &d, &err), 0);
	size_t n = json_array_size(json_object_get(d, "subnodes"));
	json_decref(d);
	return n;
}

static inline json_t *create_req(struct fx *f, json_t *req, int expect)
{
	json_t *out = NULL;
	struct sn_err err = { 0 };
	int r = mgr_chain_create(f->m, req, &out, &err);
	if (r != expect)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(r, expect);
	json_decref(req);
	return out;
}

static inline json_t *create(struct fx *f, const char *name, int members, int expect)
{
	return create_req(f, json_pack("{ss ss ss si s[s]}", "name", name, "size", "small", "image",
				       "busybox:latest", "members", members, "env", "A=1"), expect);
}

static inline json_t *inspect(struct fx *f, const char *chain)
{
	json_t *c = NULL;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_chain_inspect(f->m, chain, &c, &err), 0);
	return c;
}

static inline json_t *seat_of(json_t *chain, size_t i)
{
	return json_array_get(json_object_get(chain, "seats"), i);
}

static inline const char *seat_node(json_t *chain, size_t i)
{
	return json_string_value(json_object_get(seat_of(chain, i), "node"));
}

/* node<k> → k */
static inline int node_num(const char *name)
{
	return atoi(name + 4);
}

static inline void verify_ok(struct fx *f)
{
	char *buf;
	size_t len;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_dlog_read_all(mgr_get_store(f->m), &buf, &len, &err), 0);
	struct mgr_verify_report rep;
	int r = mgr_dlog_verify(buf, len, &rep, &err);
	if (r)
		fprintf(stderr, "%s\n%s", err.msg, rep.text);
	assert_int_equal(r, 0);
	/* and one byte changed fails */
	buf[len / 2] = buf[len / 2] == 'x' ? 'y' : 'x';
	mgr_verify_report_free(&rep);
	assert_int_equal(mgr_dlog_verify(buf, len, &rep, &err), -EBADMSG);
	mgr_verify_report_free(&rep);
	free(buf);
}

#endif
