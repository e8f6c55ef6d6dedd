/* subnode — the CLI for people and scripts driving a subnoded.
 *
 *   subnode [-H unix:///path | tcp://host:port] [--token T] COMMAND ...
 *   subnode -M URL [--token T] node|chain ...   (a manager; cmd_manager.c)
 *
 * The daemon is found with -H, else $SUBNODE_HOST, else the default socket
 * /run/subnode/subnoded.sock; a TCP daemon takes --token or $SUBNODE_TOKEN
 * (https://HOST:PORT with TLS; --tlscacert or $SUBNODE_TLS_CA names its CA).
 * Tables for people, --json for scripts. Exit codes: 0 done, 1 the daemon
 * refused or failed (its message on stderr), 2 bad usage, 3 no daemon to
 * talk to; `run` without -d exits with the subnode's own exit code (125
 * when it could not be started, like docker).
 */
#include "cli.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client g_cli;

int cli_fail(int r, const struct sn_err *err)
{
	fprintf(stderr, "subnode: %s\n", err->msg[0] ? err->msg : strerror(-r));
	return r == -ECONNREFUSED ? EXIT_UNREACHABLE : EXIT_FAIL;
}

int cli_parse_duration(const char *s, int64_t *ns)
{
	if (!s || !*s)
		return -EINVAL;
	int64_t total = 0;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s || v < 0)
			return -EINVAL;
		double mul;
		if (strncmp(end, "ms", 2) == 0) { mul = 1e6; end += 2; }
		else if (strncmp(end, "us", 2) == 0) { mul = 1e3; end += 2; }
		else if (strncmp(end, "ns", 2) == 0) { mul = 1; end += 2; }
		else if (*end == 's') { mul = 1e9; end++; }
		else if (*end == 'm') { mul = 60e9; end++; }
		else if (*end == 'h') { mul = 3600e9; end++; }
		else if (*end == '\0') { mul = 1e9; }
		else return -EINVAL;
		total += (int64_t)(v * mul);
		s = end;
	}
	*ns = total;
	return 0;
}

int cli_opt(int argc, char **argv, int *i, const char *shrt, const char *lng, bool takes_value,
	    const char **val)
{
	const char *a = argv[*i];
	size_t ll = lng ? strlen(lng) : 0;
	bool match_eq = lng && strncmp(a, lng, ll) == 0 && a[ll] == '=';
	if (!(shrt && strcmp(a, shrt) == 0) && !(lng && strcmp(a, lng) == 0) && !match_eq)
		return false;
	if (!takes_value)
		return !match_eq;
	if (match_eq) {
		*val = a + ll + 1;
		return true;
	}
	if (*i + 1 >= argc) {
		fprintf(stderr, "subnode: %s needs a value\n", a);
		return -1;
	}
	*val = argv[++*i];
	return true;
}

void cli_print_json(json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (t)
		printf("%s\n", t);
	free(t);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: subnode [-H unix:///PATH|tcp://HOST:PORT|https://HOST:PORT] [--token T]\n"
		"               [--tlscacert FILE] COMMAND [ARGS]\n\n"
		"subnodes:\n"
		"  run [-d] [-it] [--rm] [OPTIONS] IMAGE [CMD...]  create and start (attached unless -d;\n"
		"                                          -it: on a terminal, e.g. run -it busybox sh)\n"
		"  create [OPTIONS] IMAGE [CMD...]           create only\n"
		"  start|stop|restart|kill|rm NAME...        (stop/restart -t SECS, -s SIG; kill -s SIG; rm -f)\n"
		"  ps [-a] [-q] [-f KEY=VALUE] [--json]      list\n"
		"  inspect NAME...                           full state as JSON\n"
		"  logs [-f] [--tail N] [--since T] [-t] NAME\n"
		"  wait NAME...                              wait for exit, print the exit code\n"
		"  events [--since T] [--until T] [-f KEY=VALUE] [--json]\n"
		"  stats [-a] [--no-stream] [--json] [NAME...]  live CPU, memory, pids, network\n"
		"  exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] NAME CMD...  (-it NAME sh: a shell)\n"
		"images:\n"
		"  image pull REF [--insecure]   image import PATH [--name REF]\n"
		"  image load [-i FILE] [--name REF]   (the archive is uploaded; stdin without -i)\n"
		"  image ls [-q] [--json]         image rm [-f] REF...\n"
		"volumes:\n"
		"  volume create NAME [--size S] [--label K=V]   volume ls [-q] [--json]\n"
		"  volume inspect NAME...   volume rm NAME...\n"
		"  volume export [--pause] [-o FILE] NAME   volume import [--size S] [-i FILE] NAME\n"
		"node:\n"
		"  node info [--json]\n"
		"manager (-M URL or $SUBNODE_MANAGER, --token or $SUBNODE_TOKEN):\n"
		"  node ls|inspect NAME|maintenance NAME|activate NAME|leave NAME [--json]\n"
		"  chain create NAME --image REF [--size S] [--members N] [-e K=V] [-- CMD...]\n"
		"  chain ls [--json]   chain inspect NAME [--json]   chain rm NAME\n\n"
		"run/create options: --name N, --size S, -e K=V, --restart no|on-failure[:N]|always|unless-stopped,\n"
		"  -v /host:/ctr[:ro] | -v VOLUME:/ctr[:ro][,size=S], -l K=V, --entrypoint E, -w DIR, -u USER, --hostname H,\n"
		"  --stop-signal S, --stop-timeout N, --health-cmd C | --health-http [HOST:]PORT[/PATH] |\n"
		"  --health-tcp [HOST:]PORT, --health-interval D, --health-timeout D, --health-retries N,\n"
		"  --health-start-period D, --health-on-unhealthy none|restart, --json\n"
		"  --network none|host|bridge|container:NAME, -p [IP:]HOST[-HOST]:CTR[-CTR][/tcp|/udp],\n"
		"  --port-slot N|auto, --allow PORTS[/proto]=CIDR[,CIDR...]\n"
		"  update --allow PORTS=CIDR[,...]... | --allow-clear NAME...   (a live allow-list)\n"
		"the daemon: -H, else $SUBNODE_HOST, else unix:///run/subnode/subnoded.sock\n");
}

int main(int argc, char **argv)
{
	const char *host = getenv("SUBNODE_HOST"), *token = getenv("SUBNODE_TOKEN"),
		   *ca = getenv("SUBNODE_TLS_CA"), *manager = getenv("SUBNODE_MANAGER");
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (TAKE("-H", "--host", host) || TAKE(NULL, "--token", token) ||
		    TAKE(NULL, "--tlscacert", ca) || TAKE("-M", "--manager", manager))
			continue;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("subnode 0.1.0\n");
			return 0;
		}
		fprintf(stderr, "subnode: unknown option `%s`\n", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct sn_err err = { 0 };
	const char *cmd0 = argv[i], *verb = i + 1 < argc ? argv[i + 1] : "";
	if (strcmp(cmd0, "chain") == 0 || (strcmp(cmd0, "node") == 0 && strcmp(verb, "info") &&
					   strcmp(verb, "--json") && *verb)) {
		int mrc = cli_manager_init(manager, token);
		if (mrc == 0)
			mrc = strcmp(cmd0, "chain") == 0 ? cmd_chain(argc - i, argv + i) :
							   cmd_manager_node(argc - i, argv + i);
		cli_manager_free();
		return mrc;
	}
	if (client_init(&g_cli, host, token, ca, &err) < 0) {
		fprintf(stderr, "subnode: %s\n", err.msg);
		return EXIT_USAGE;
	}
	const char *cmd = argv[i];
	int sub_argc = argc - i;
	char **sub = argv + i;
	int rc;
	if (strcmp(cmd, "run") == 0) rc = cmd_run(sub_argc, sub, false);
	else if (strcmp(cmd, "create") == 0) rc = cmd_run(sub_argc, sub, true);
	else if (strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0 ||
		 strcmp(cmd, "kill") == 0 || strcmp(cmd, "rm") == 0)
		rc = cmd_simple(sub_argc, sub, cmd);
	else if (strcmp(cmd, "ps") == 0) rc = cmd_ps(sub_argc, sub);
	else if (strcmp(cmd, "inspect") == 0) rc = cmd_inspect(sub_argc, sub);
	else if (strcmp(cmd, "logs") == 0) rc = cmd_logs(sub_argc, sub);
	else if (strcmp(cmd, "wait") == 0) rc = cmd_wait(sub_argc, sub);
	else if (strcmp(cmd, "events") == 0) rc = cmd_events(sub_argc, sub);
	else if (strcmp(cmd, "image") == 0 || strcmp(cmd, "images") == 0) rc = cmd_image(sub_argc, sub);
	else if (strcmp(cmd, "volume") == 0 || strcmp(cmd, "volumes") == 0) rc = cmd_volume(sub_argc, sub);
	else if (strcmp(cmd, "node") == 0 || strcmp(cmd, "info") == 0) rc = cmd_node(sub_argc, sub);
	else if (strcmp(cmd, "stats") == 0) rc = cmd_stats(sub_argc, sub);
	else if (strcmp(cmd, "exec") == 0) rc = cmd_exec(sub_argc, sub);
	else if (strcmp(cmd, "update") == 0) rc = cmd_update(sub_argc, sub);
	else {
		fprintf(stderr, "subnode: unknown command `%s`\n", cmd);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	client_free(&g_cli);
	return rc;
}
