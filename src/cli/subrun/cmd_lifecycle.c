/* cmd_lifecycle.c — create, start, run, kill, delete. */
#include "commands.h"
#include "runtime/container.h"
#include "runtime/proc.h"
#include "base/log.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_BUNDLE = 'b', O_PIDFILE = 'p', O_CONSOLE = 1000, O_PRESERVE, O_NOPIVOT,
       O_NOKEYRING, O_DETACH = 'd', O_KEEP, O_FORCE = 'f', O_ALL = 'a' };

static int parse_create_opts(const char *cmd, int argc, char **argv, struct container_opts *o,
			     bool is_run)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, O_BUNDLE },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "no-pivot", no_argument, NULL, O_NOPIVOT },
		{ "no-new-keyring", no_argument, NULL, O_NOKEYRING },
		{ "detach", no_argument, NULL, O_DETACH },
		{ "keep", no_argument, NULL, O_KEEP },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long_only(argc, argv, "+b:p:d", opts, NULL)) != -1) {
		switch (c) {
		case O_BUNDLE: o->bundle = optarg; break;
		case O_PIDFILE: o->pid_file = optarg; break;
		case O_CONSOLE: o->console_socket = optarg; break;
		case O_PRESERVE: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 10000) {
				sn_error("%s: --preserve-fds `%s`: not a count", cmd, optarg);
				return -1;
			}
			o->preserve_fds = (int)v;
			break;
		}
		case O_NOPIVOT: o->no_pivot = true; break;
		case O_NOKEYRING: o->no_new_keyring = true; break;
		case O_DETACH:
			if (!is_run)
				goto bad;
			o->detach = true;
			break;
		case O_KEEP: o->keep = true; break;
		default:
		bad:
			sn_error("%s: unknown option (see subrun --help)", cmd);
			return -1;
		}
	}
	if (need_args(cmd, argc, optind, 1, "[options] CONTAINER_ID"))
		return -1;
	o->id = argv[optind];
	o->root = g_opts.root;
	o->cgroup_root = getenv("SUBRUN_CGROUP_ROOT");
	return 0;
}

int cmd_create(int argc, char **argv)
{
	struct container_opts o = { 0 };
	if (parse_create_opts("create", argc, argv, &o, false) < 0)
		return 1;
	struct sn_err err = { 0 };
	if (container_create(&o, &err) < 0)
		return report("create", &err);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct container_opts o = { 0 };
	if (parse_create_opts("run", argc, argv, &o, true) < 0)
		return 1;
	struct sn_err err = { 0 };
	int status = 0;
	if (container_run(&o, &status, &err) < 0)
		return report("run", &err);
	return status;
}

int cmd_start(int argc, char **argv)
{
	if (need_args("start", argc, 1, 1, "CONTAINER_ID"))
		return 1;
	struct sn_err err = { 0 };
	if (container_start(g_opts.root, argv[1], &err) < 0)
		return report("start", &err);
	return 0;
}

int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, O_ALL },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	int c;
	while ((c = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
		if (c != O_ALL) {
			sn_error("kill: unknown option");
			return 1;
		}
		all = true;
	}
	int n = argc - optind;
	if (n < 1 || n > 2) {
		sn_error("kill: usage: subrun kill [--all] CONTAINER_ID [SIGNAL]");
		return 1;
	}
	int sig = SIGTERM;
	if (n == 2) {
		sig = proc_signal_from_name(argv[optind + 1]);
		if (sig < 0) {
			sn_error("kill: unknown signal `%s`", argv[optind + 1]);
			return 1;
		}
	}
	struct sn_err err = { 0 };
	if (container_kill(g_opts.root, argv[optind], sig, all, &err) < 0)
		return report("kill", &err);
	return 0;
}

int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, O_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	while ((c = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != O_FORCE) {
			sn_error("delete: unknown option");
			return 1;
		}
		force = true;
	}
	if (argc - optind < 1) {
		sn_error("delete: usage: subrun delete [--force] CONTAINER_ID...");
		return 1;
	}
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		struct sn_err err = { 0 };
		if (container_delete(g_opts.root, argv[i], force, &err) < 0)
			rc = report("delete", &err);
	}
	return rc;
}
