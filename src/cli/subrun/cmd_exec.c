/* cmd_exec.c — `subrun exec [options] ID [COMMAND ARGS...]`, runc's flags:
 * --process FILE, --tty/-t, --detach/-d, --console-socket, --pid-file,
 * --cwd, --env/-e, --user/-u, --additional-gids/-g, --cap/-c,
 * --no-new-privs, --preserve-fds. Exit status: the process's. */
#include "commands.h"
#include "runtime/container.h"
#include "base/log.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -1;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	enum { O_CONSOLE = 1000, O_PIDFILE, O_CWD, O_NNP, O_PRESERVE, O_PROCESS };
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "cap", required_argument, NULL, 'c' },
		{ "no-new-privs", no_argument, NULL, O_NNP },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ NULL, 0, NULL, 0 },
	};
	struct exec_opts o = { .root = g_opts.root };
	size_t ne = 0, ng = 0, nc = 0;
	int c, rc = 1;
	while ((c = getopt_long_only(argc, argv, "+p:tde:u:g:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o.process_file = optarg; break;
		case 't': o.tty = true; break;
		case 'd': o.detach = true; break;
		case O_CONSOLE: o.console_socket = optarg; break;
		case O_PIDFILE: o.pid_file = optarg; break;
		case O_CWD: o.cwd = optarg; break;
		case 'e':
			if (!strchr(optarg, '=')) {
				sn_error("exec: --env `%s`: expected KEY=VALUE", optarg);
				goto out;
			}
			if (push(&o.env, &ne, optarg) < 0)
				goto out;
			break;
		case 'u': o.user = optarg; break;
		case 'g': {
			/* comma-separated list, or repeated */
			char *dup = strdup(optarg), *save = NULL;
			for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
				if (push(&o.additional_gids, &ng, t) < 0)
					goto out;
			break;
		}
		case 'c':
			if (push(&o.caps, &nc, optarg) < 0)
				goto out;
			break;
		case O_NNP: o.no_new_privs = true; break;
		case O_PRESERVE: o.preserve_fds = atoi(optarg); break;
		default:
			sn_error("exec: unknown option (see subrun --help)");
			goto out;
		}
	}
	if (optind >= argc) {
		sn_error("exec: usage: subrun exec [options] CONTAINER_ID [COMMAND [ARGS...]]");
		goto out;
	}
	o.id = argv[optind];
	o.args = argv + optind + 1;
	if (!o.process_file && !o.args[0]) {
		sn_error("exec: give a command or --process FILE");
		goto out;
	}
	struct sn_err err = { 0 };
	int status = 0;
	if (container_exec(&o, &status, &err) < 0)
		rc = report("exec", &err);
	else
		rc = status;
out:
	free(o.env);
	free(o.caps);
	free(o.additional_gids);
	return rc;
}
