/* subnode-link — a node's link to the manager: join, heartbeat every
 * second, watch the node's desired subnodes, reconcile them through the
 * node daemon's API (docs/MANAGER.md, The node side).
 *
 *   subnode-link --manager URL --join-token-file F --advertise IP
 *                --node-socket PATH --state DIR
 *                [--name N] [--operator O] [--units N] [--port-base P]
 *
 * Why a process of its own: subnoded does not link libcurl (its RSS is a
 * target; docs/NODE.md), and the manager link needs an HTTP client for the
 * manager and for the node's own API. subnoded starts this program when it
 * is given --manager (it dies with the daemon: PR_SET_PDEATHSIG); it can
 * also run beside any node daemon by hand.
 *
 * The credential from the join is kept in DIR/link.json (0600) so a
 * restart heartbeats at once; a node that has left (410) or is unknown
 * (401) joins again. While the manager cannot be reached the node's
 * members keep running: nothing is removed except on the manager's word.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/log.h"
#include "http.h"
#include "link.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: subnode-link --manager URL --join-token-file F --advertise IP\n"
		   "         --node-socket PATH --state DIR [--name N] [--operator O]\n"
		   "         [--units N] [--port-base P] [--api-port P]\n");
}

static volatile sig_atomic_t stopping;
static void on_signal(int s) { stopping = 1; }

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Join, or load the credential of an earlier join. */
static int join(struct link *l, bool force, struct sn_err *err)
{
	_cleanup_free_ char *path = sn_path_join(l->state, "link.json");
	if (!path)
		return sn_err_set(err, ENOMEM, "link");
	_cleanup_json_ json_t *saved = NULL;
	if (!force && sn_json_load_file(path, 65536, &saved, err) == 0 &&
	    strcmp(json_string_value(json_object_get(saved, "name")) ?: "", l->name) == 0 &&
	    json_string_value(json_object_get(saved, "credential"))) {
		snprintf(l->cred, sizeof(l->cred), "%s",
			 json_string_value(json_object_get(saved, "credential")));
		return 0;
	}
	sn_err_clear(err);
	_cleanup_json_ json_t *req = json_pack("{ss ss ss sI sI}", "name", l->name, "address",
					       l->advertise, "operator", l->operator, "units",
					       (json_int_t)l->units, "port_base",
					       (json_int_t)l->port_base);
	if (req && l->api_port)
		json_object_set_new(req, "api_port", json_integer(l->api_port));
	json_t *out = NULL;
	long st = 0;
	l->mgr.token = l->join_token;
	int r = peer_call(&l->mgr, "POST", "/v1/join", req, 10, &st, &out, err);
	l->mgr.token = l->cred;
	_cleanup_json_ json_t *o = out;
	if (r)
		return r;
	if (st != 201)
		return -EIO;
	const char *cred = json_string_value(json_object_get(o, "credential"));
	if (!cred)
		return sn_err_msg(err, EIO, "join: no credential in the reply");
	snprintf(l->cred, sizeof(l->cred), "%s", cred);
	_cleanup_json_ json_t *keep = json_pack("{ss ss}", "name", l->name, "credential", cred);
	_cleanup_free_ char *text = json_dumps(keep, JSON_COMPACT);
	sn_info("joined the manager as `%s`", l->name);
	return text ? sn_write_file_atomic(path, text, strlen(text), 0600, err) :
		      sn_err_set(err, ENOMEM, "link");
}

/* The machine's CPU, memory and network into the summary; a figure that cannot be
 * read is left out (the dashboard's graph has a gap, nothing else). */
static void add_load(json_t *sum, struct link_cpu *cpu)
{
	struct sn_err e = { 0 };
	double pct;
	int64_t used, total;
	if (link_host_cpu(cpu, &pct, &e) == 0)
		json_object_set_new(sum, "cpu", json_real(pct));
	if (link_host_memory(&used, &total, &e) == 0) {
		json_object_set_new(sum, "memory", json_integer(used));
		json_object_set_new(sum, "memory_total", json_integer(total));
	}
	int64_t rx, tx;
	if (link_host_net(&rx, &tx, &e) == 0) {
		json_object_set_new(sum, "net_rx", json_integer(rx));
		json_object_set_new(sum, "net_tx", json_integer(tx));
	}
}

static void *heartbeats(void *arg)
{
	struct link *l = arg;
	struct peer mgr, node;
	struct sn_err err = { 0 };
	if (peer_init(&mgr, l->manager, NULL, &err) || peer_init(&node, "http://node", l->socket, &err)) {
		sn_error("heartbeat: %s", err.msg);
		return NULL;
	}
	char path[256];
	snprintf(path, sizeof(path), "/v1/nodes/%s/heartbeat", l->name);
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	struct link_cpu cpu = { 0 };
	while (!stopping) {
		/* on a fixed beat, not a sleep after the work: a slow round
		 * does not stretch the gaps the manager's grace period sees */
		next.tv_sec += 1;
		_cleanup_json_ json_t *sum = NULL;
		if (link_summary(l, &node, &sum, &err) == 0) {
			add_load(sum, &cpu);
			long st = 0;
			pthread_mutex_lock(&l->mu);
			mgr.token = l->cred;
			pthread_mutex_unlock(&l->mu);
			if (peer_call(&mgr, "POST", path, sum, 5, &st, NULL, &err) == 0 &&
			    (st == 401 || st == 410)) {
				sn_warn("heartbeat: %s; joining again", err.msg);
				pthread_mutex_lock(&l->mu);
				l->rejoin = true;
				pthread_mutex_unlock(&l->mu);
			}
		} else {
			sn_warn("heartbeat: %s", err.msg);
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec + 1)
			next = now;   /* far behind: start the beat again from now */
		else
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	peer_free(&mgr);
	peer_free(&node);
	return NULL;
}

static int run(struct link *l, struct sn_err *err)
{
	int r = peer_init(&l->mgr, l->manager, NULL, err);
	if (r == 0)
		r = peer_init(&l->node, "http://node", l->socket, err);
	if (r)
		return r;
	while (!stopping && (r = join(l, false, err)) != 0) {
		sn_warn("join: %s (retrying)", err->msg);
		sleep_ms(1000);
	}
	l->mgr.token = l->cred;
	pthread_t hb;
	if (pthread_create(&hb, NULL, heartbeats, l) != 0)
		return sn_err_set(err, EAGAIN, "heartbeat thread");
	int64_t rev = 0;
	bool again = false;   /* the last reconcile failed: look again in a second */
	_cleanup_json_ json_t *desired = NULL;
	char path[256];
	while (!stopping) {
		pthread_mutex_lock(&l->mu);
		bool rejoin = l->rejoin;
		l->rejoin = false;
		pthread_mutex_unlock(&l->mu);
		if (rejoin) {
			pthread_mutex_lock(&l->mu);
			r = join(l, true, err);
			pthread_mutex_unlock(&l->mu);
			if (r)
				sn_warn("join: %s", err->msg);
			l->mgr.token = l->cred;
			rev = 0;
		}
		snprintf(path, sizeof(path), "/v1/nodes/%s/desired?after=%lld&wait=%d", l->name,
			 (long long)rev, !rev ? 0 : again ? 1 : 20);
		json_t *out = NULL;
		long st = 0;
		r = peer_call(&l->mgr, "GET", path, NULL, 30, &st, &out, err);
		if (r || st != 200 || !json_is_object(out)) {
			json_decref(out);
			if (r || st >= 300)
				sn_warn("desired: %s", err->msg);
			/* the manager is away: keep what runs, look again soon */
			if (desired)
				link_reconcile(l, desired, err);
			sleep_ms(1000);
			continue;
		}
		rev = json_integer_value(json_object_get(out, "revision"));
		if (json_is_true(json_object_get(out, "changed"))) {
			json_decref(desired);
			desired = json_incref(json_object_get(out, "subnodes"));
		}
		json_decref(out);
		again = desired && link_reconcile(l, desired, err) != 0;
		if (again)
			sn_warn("reconcile: %s", err->msg);
	}
	pthread_join(hb, NULL);
	peer_free(&l->mgr);
	peer_free(&l->node);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "manager", 1, 0, 'm' }, { "join-token-file", 1, 0, 'j' }, { "advertise", 1, 0, 'a' },
		{ "node-socket", 1, 0, 's' }, { "state", 1, 0, 'd' }, { "name", 1, 0, 'n' },
		{ "operator", 1, 0, 'o' }, { "units", 1, 0, 'u' }, { "port-base", 1, 0, 'p' },
		{ "api-port", 1, 0, 'P' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
	struct link l = { .units = 0, .port_base = 20000 };
	sn_log_set_level(SN_LOG_INFO);   /* joins, members made and removed, transfers */
	pthread_mutex_init(&l.mu, NULL);
	const char *tokf = NULL;
	int c;
	struct sn_err err = { 0 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned long long v;
		switch (c) {
		case 'm': l.manager = optarg; break;
		case 'j': tokf = optarg; break;
		case 'a': l.advertise = optarg; break;
		case 's': l.socket = optarg; break;
		case 'd': l.state = optarg; break;
		case 'n': snprintf(l.name, sizeof(l.name), "%s", optarg); break;
		case 'o': l.operator = optarg; break;
		case 'u': if (sn_parse_u64(optarg, &v) || v < 1 || v > 128) goto bad; l.units = (int)v; break;
		case 'p': if (sn_parse_u64(optarg, &v) || v < 1024 || v > 65535) goto bad; l.port_base = (int)v; break;
		case 'P': if (sn_parse_u64(optarg, &v) || v < 1 || v > 65535) goto bad; l.api_port = (int)v; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (!l.manager || !tokf || !l.advertise || !l.socket || !l.state)
		goto bad;
	if (!l.operator)
		l.operator = "";
	_cleanup_free_ char *tok = NULL;
	size_t tl;
	if (sn_read_file(tokf, 4096, &tok, &tl, &err) || sn_mkdir_p(l.state, 0700, &err)) {
		fprintf(stderr, "subnode-link: %s\n", err.msg);
		return 1;
	}
	while (tl && (tok[tl - 1] == '\n' || tok[tl - 1] == ' '))
		tok[--tl] = 0;
	snprintf(l.join_token, sizeof(l.join_token), "%s", tok);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (link_node_defaults(&l, &err) || run(&l, &err)) {
		fprintf(stderr, "subnode-link: %s\n", err.msg);
		return 1;
	}
	return 0;
bad:
	usage(stderr);
	return 1;
}
