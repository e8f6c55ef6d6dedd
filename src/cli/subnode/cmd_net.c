/* cmd_net.c — the network options of `subnode run/create` and the
 * `subnode update` command, turned into the API's HostConfig fields:
 *
 *   --network none|host|bridge|container:NAME   HostConfig.NetworkMode
 *   -p, --publish [IP:]HOST[-HOST]:CTR[-CTR][/tcp|/udp]   HostConfig.PortBindings
 *   --port-slot N|auto                          HostConfig.PortSlot
 *   --allow PORTS[/proto]=CIDR[,CIDR...]        HostConfig.PortAllow
 *   update --allow ... [--allow-clear] NAME     POST /containers/NAME/update
 *
 * Only the shape is checked here; the daemon checks the values and names
 * the field when one is wrong.
 */
#include "cli.h"
#include "base/cleanup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "[IP:]HOST:CTR[/proto]" into PortBindings {"CTR/proto": [{HostIp, HostPort}]}. */
static int publish(json_t *hc, const char *v)
{
	_cleanup_free_ char *s = strdup(v);
	if (!s)
		return -1;
	const char *proto = "tcp";
	char *slash = strchr(s, '/');
	if (slash) {
		*slash = '\0';
		proto = slash + 1;
	}
	char *last = strrchr(s, ':');
	if (!last)
		return -1;
	*last = '\0';
	const char *ctr = last + 1, *host = s, *ip = "";
	char *first = strrchr(s, ':');
	if (first) {
		*first = '\0';
		ip = s;
		host = first + 1;
	}
	if (!*ctr || !*host)
		return -1;
	json_t *pb = json_object_get(hc, "PortBindings");
	if (!pb) {
		pb = json_object();
		json_object_set_new(hc, "PortBindings", pb);
	}
	char key[64];
	snprintf(key, sizeof(key), "%s/%s", ctr, proto);
	json_t *arr = json_object_get(pb, key);
	if (!arr) {
		arr = json_array();
		json_object_set_new(pb, key, arr);
	}
	json_array_append_new(arr, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", host));
	return 0;
}

/* "PORTS[/proto]=CIDR[,CIDR...]" into allow {"PORTS/proto": [CIDR...]}. */
static int allow(json_t *al, const char *v)
{
	const char *eq = strchr(v, '=');
	if (!eq || eq == v || !eq[1])
		return -1;
	_cleanup_free_ char *key = strndup(v, (size_t)(eq - v)), *list = strdup(eq + 1);
	if (!key || !list)
		return -1;
	json_t *a = json_array();
	char *save = NULL;
	for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(c));
	json_object_set_new(al, key, a);
	return 0;
}

int cli_net_option(json_t *hc, const char *opt, const char *v)
{
	int r = 0;
	if (strcmp(opt, "network") == 0) {
		json_object_set_new(hc, "NetworkMode", json_string(v));
	} else if (strcmp(opt, "publish") == 0) {
		r = publish(hc, v);
	} else if (strcmp(opt, "port-slot") == 0) {
		char *end;
		long n = strtol(v, &end, 10);
		if (strcmp(v, "auto") == 0)
			json_object_set_new(hc, "PortSlot", json_string("auto"));
		else if (*v && !*end && n >= 0)
			json_object_set_new(hc, "PortSlot", json_integer(n));
		else
			r = -1;
	} else if (strcmp(opt, "allow") == 0) {
		json_t *al = json_object_get(hc, "PortAllow");
		if (!al) {
			al = json_object();
			json_object_set_new(hc, "PortAllow", al);
		}
		r = allow(al, v);
	}
	if (r < 0)
		fprintf(stderr, "subnode: --%s `%s`: %s\n", opt, v,
			strcmp(opt, "publish") == 0 ? "expected [IP:]HOST[-HOST]:CTR[-CTR][/tcp|/udp]" :
			strcmp(opt, "allow") == 0 ? "expected PORTS[/proto]=CIDR[,CIDR...]" :
						    "expected a slot number or auto");
	return r;
}

int cmd_update(int argc, char **argv)
{
	_cleanup_json_ json_t *al = json_object();
	bool clear = false;
	const char *v;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (TAKE(NULL, "--allow", v)) {
			if (allow(al, v) < 0) {
				fprintf(stderr, "subnode: update: --allow `%s`: expected PORTS[/proto]=CIDR[,CIDR...]\n", v);
				return EXIT_USAGE;
			}
		} else if (FLAG(NULL, "--allow-clear")) {
			clear = true;
		} else {
			fprintf(stderr, "subnode: update: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc || (!clear && json_object_size(al) == 0)) {
		fprintf(stderr, "subnode: update: usage: update (--allow PORTS=CIDR[,...]... | --allow-clear) NAME...\n");
		return EXIT_USAGE;
	}
	_cleanup_json_ json_t *body = json_pack("{s:O}", "PortAllow", al);
	int rc = 0;
	for (; i < argc; i++) {
		_cleanup_free_ char *path = NULL;
		_cleanup_free_ char *en = client_escape(argv[i]);
		if (!en || asprintf(&path, "/containers/%s/update", en) < 0)
			return EXIT_FAIL;
		struct sn_err err = { 0 };
		_cleanup_json_ json_t *out = NULL;
		int r = client_call(&g_cli, "POST", path, body, NULL, &out, &err);
		if (r < 0) {
			rc = cli_fail(r, &err);
			if (rc == EXIT_UNREACHABLE)
				return rc;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return rc;
}
