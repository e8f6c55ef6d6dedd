/* cmd_manager.c — the `subnode` verbs that talk to a manager instead of a
 * node: `node ls|inspect|maintenance|activate|leave` and
 * `chain create|ls|inspect|rm` (docs/MANAGER.md, docs/API.md Manager).
 *
 * The manager is -M URL or $SUBNODE_MANAGER; its admin token is --token or
 * $SUBNODE_TOKEN (the same global flag as for a TCP node). Tables for
 * people, --json for scripts (the API's JSON as it is).
 */
#include "cli.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct client mc;

static int call(const char *method, const char *path, json_t *body, json_t **out)
{
	struct sn_err err = { 0 };
	long st = 0;
	int r = client_call(&mc, method, path, body, &st, out, &err);
	return r < 0 ? cli_fail(r, &err) : 0;
}

static const char *s(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v && *v ? v : "-";
}

static long long n(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void ago(int64_t ms, char *buf, size_t size)
{
	if (ms <= 0) {
		snprintf(buf, size, "never");
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double d = ((double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6 - (double)ms) / 1000;
	snprintf(buf, size, d < 120 ? "%.0fs ago" : d < 7200 ? "%.0fm ago" : "%.0fh ago",
		 d < 120 ? d : d < 7200 ? d / 60 : d / 3600);
}

static int node_ls(bool as_json)
{
	_cleanup_json_ json_t *out = NULL;
	int rc = call("GET", "/v1/nodes", NULL, &out);
	if (rc || as_json)
		return rc ? rc : (cli_print_json(out), 0);
	printf("%-24s %-12s %-16s %-12s %-11s %-8s %s\n", "NAME", "STATE", "ADDRESS", "OPERATOR",
	       "UNITS", "MEMBERS", "HEARTBEAT");
	json_t *o;
	size_t i;
	json_array_foreach(out, i, o) {
		char units[32], hb[32];
		snprintf(units, sizeof(units), "%lld/%lld", n(o, "units_used"), n(o, "units"));
		ago(json_integer_value(json_object_get(o, "last_heartbeat")), hb, sizeof(hb));
		printf("%-24s %-12s %-16s %-12s %-11s %-8lld %s\n", s(o, "name"), s(o, "state"),
		       s(o, "address"), s(o, "operator"), units, n(o, "member_count"), hb);
	}
	return 0;
}

static int node_inspect(const char *name, bool as_json)
{
	_cleanup_free_ char *esc = client_escape(name);
	char path[512];
	snprintf(path, sizeof(path), "/v1/nodes/%s", esc ? esc : "");
	_cleanup_json_ json_t *out = NULL;
	int rc = call("GET", path, NULL, &out);
	if (rc || as_json)
		return rc ? rc : (cli_print_json(out), 0);
	printf("Name:       %s\nState:      %s\nAddress:    %s\nOperator:   %s\n"
	       "Units:      %lld used of %lld\nPort base:  %lld\n", s(out, "name"), s(out, "state"),
	       s(out, "address"), s(out, "operator"), n(out, "units_used"), n(out, "units"),
	       n(out, "port_base"));
	json_t *m;
	size_t i;
	printf("Members:\n");
	json_array_foreach(json_object_get(out, "members"), i, m)
		printf("  %s-%lld (slot %lld)\n", s(m, "chain"), n(m, "index"), n(m, "slot"));
	printf("History:\n");
	json_array_foreach(json_object_get(out, "history"), i, m) {
		time_t t = (time_t)(n(m, "time") / 1000);
		char when[32];
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		printf("  %s  %s → %s  (%s)\n", when, s(m, "from"), s(m, "to"), s(m, "cause"));
	}
	return 0;
}

static int node_action(const char *name, const char *verb)
{
	_cleanup_free_ char *esc = client_escape(name);
	char path[512];
	snprintf(path, sizeof(path), "/v1/nodes/%s/%s", esc ? esc : "", verb);
	_cleanup_json_ json_t *out = NULL;
	int rc = call("POST", path, NULL, &out);
	if (rc == 0)
		printf("%s: %s\n", name, s(out, "state"));
	return rc;
}

int cmd_manager_node(int argc, char **argv)
{
	bool as_json = false;
	const char *verb = NULL, *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (FLAG(NULL, "--json"))
			as_json = true;
		else if (!verb)
			verb = argv[i];
		else if (!name)
			name = argv[i];
		else
			goto usage;
	}
	if (verb && (!strcmp(verb, "ls") || !strcmp(verb, "list")) && !name)
		return node_ls(as_json);
	if (verb && name && !strcmp(verb, "inspect"))
		return node_inspect(name, as_json);
	if (verb && name && (!strcmp(verb, "maintenance") || !strcmp(verb, "activate") ||
			     !strcmp(verb, "leave")))
		return node_action(name, verb);
usage:
	fprintf(stderr, "subnode: node: ls [--json] | inspect NAME [--json] | maintenance NAME |"
			" activate NAME | leave NAME (with -M URL)\n");
	return EXIT_USAGE;
}

static void chain_table(json_t *c)
{
	printf("%-7s %-24s %-16s %-13s %-10s %s\n", "INDEX", "NODE", "ADDRESS", "PORTS", "STATE",
	       "HEALTH");
	json_t *seat;
	size_t i;
	json_array_foreach(json_object_get(c, "seats"), i, seat) {
		json_t *p = json_object_get(seat, "ports");
		char ports[32] = "-";
		if (json_is_object(p))
			snprintf(ports, sizeof(ports), "%lld-%lld", n(p, "first"), n(p, "last"));
		char node[160];   /* a seat in motion: its new node, and the old one still running */
		snprintf(node, sizeof(node), json_object_get(seat, "from") ? "%s (from %s)" : "%s",
			 s(seat, "node"), s(seat, "from"));
		printf("%-7lld %-24s %-16s %-13s %-10s %s\n", n(seat, "index"), node,
		       s(seat, "address"), ports, s(seat, "state"), s(seat, "health"));
	}
}

static int chain_create(int argc, char **argv)
{
	const char *name = NULL, *size = NULL, *members = NULL, *image = NULL, *v;
	bool as_json = false;
	_cleanup_json_ json_t *env = json_array(), *cmd = json_array();
	for (int i = 2; i < argc; i++) {
		if (TAKE(NULL, "--size", size) || TAKE("-n", "--members", members) ||
		    TAKE(NULL, "--image", image))
			continue;
		if (TAKE("-e", "--env", v)) {
			json_array_append_new(env, json_string(v));
			continue;
		}
		if (FLAG(NULL, "--json")) {
			as_json = true;
			continue;
		}
		if (argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
			fprintf(stderr, "subnode: chain create: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		}
		if (strcmp(argv[i], "--") == 0)
			i++;
		if (!name && i < argc) {
			name = argv[i];
			continue;
		}
		for (; i < argc; i++)
			json_array_append_new(cmd, json_string(argv[i]));
	}
	if (!name || !image) {
		fprintf(stderr, "subnode: chain create NAME --image REF [--size S] [--members N]"
				" [-e K=V] [-- CMD...]\n");
		return EXIT_USAGE;
	}
	_cleanup_json_ json_t *req = json_pack("{ss ss sO}", "name", name, "image", image, "env", env);
	if (size)
		json_object_set_new(req, "size", json_string(size));
	if (members) {
		char *end;
		long k = strtol(members, &end, 10);
		if (*end || end == members) {
			fprintf(stderr, "subnode: --members: want a number\n");
			return EXIT_USAGE;
		}
		json_object_set_new(req, "members", json_integer(k));
	}
	if (json_array_size(cmd))
		json_object_set(req, "cmd", cmd);
	_cleanup_json_ json_t *out = NULL;
	int rc = call("POST", "/v1/chains", req, &out);
	if (rc || as_json)
		return rc ? rc : (cli_print_json(out), 0);
	printf("chain %s (%s): %lld members of %s\n", s(out, "name"), s(out, "id"),
	       n(out, "members"), s(out, "size"));
	chain_table(out);
	return 0;
}

static int chain_usage(void)
{
	fprintf(stderr, "subnode: chain: create NAME --image REF [--size S] [--members N] [-e K=V]"
			" | ls [--json] | inspect NAME [--json] | rm NAME (with -M URL)\n");
	return EXIT_USAGE;
}

int cmd_chain(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	if (!strcmp(verb, "create"))
		return chain_create(argc, argv);
	bool as_json = false;
	const char *name = NULL;
	for (int i = 2; i < argc; i++) {
		if (FLAG(NULL, "--json"))
			as_json = true;
		else if (!name)
			name = argv[i];
		else
			return chain_usage();
	}
	_cleanup_json_ json_t *out = NULL;
	char path[512];
	_cleanup_free_ char *esc = name ? client_escape(name) : NULL;
	snprintf(path, sizeof(path), "/v1/chains/%s", esc ? esc : "");
	if ((!strcmp(verb, "ls") || !strcmp(verb, "list")) && !name) {
		int rc = call("GET", "/v1/chains", NULL, &out);
		if (rc || as_json)
			return rc ? rc : (cli_print_json(out), 0);
		printf("%-20s %-8s %-8s %-8s %-8s %s\n", "NAME", "SIZE", "MEMBERS", "PLACED", "RUNNING",
		       "IMAGE");
		json_t *c;
		size_t i;
		json_array_foreach(out, i, c)
			printf("%-20s %-8s %-8lld %-8lld %-8lld %s\n", s(c, "name"), s(c, "size"),
			       n(c, "members"), n(c, "placed"), n(c, "running"), s(c, "image"));
		return 0;
	}
	if (!strcmp(verb, "inspect") && name) {
		int rc = call("GET", path, NULL, &out);
		if (rc || as_json)
			return rc ? rc : (cli_print_json(out), 0);
		printf("Name:    %s\nId:      %s\nSize:    %s (%lld units)\nImage:   %s\n"
		       "Members: %lld (%lld placed, %lld running)\n", s(out, "name"), s(out, "id"),
		       s(out, "size"), n(out, "units"), s(out, "image"), n(out, "members"),
		       n(out, "placed"), n(out, "running"));
		chain_table(out);
		return 0;
	}
	if ((!strcmp(verb, "rm") || !strcmp(verb, "remove")) && name) {
		int rc = call("DELETE", path, NULL, NULL);
		if (rc == 0)
			printf("%s\n", name);
		return rc;
	}
	return chain_usage();
}

int cli_manager_init(const char *url, const char *token)
{
	struct sn_err err = { 0 };
	if (!url) {
		fprintf(stderr, "subnode: this command talks to a manager: -M URL or $SUBNODE_MANAGER\n");
		return EXIT_USAGE;
	}
	if (client_init(&mc, url, token, NULL, &err) < 0) {
		fprintf(stderr, "subnode: %s\n", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

void cli_manager_free(void)
{
	client_free(&mc);
}
