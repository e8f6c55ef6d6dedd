/* main.c — subrun, subnode's OCI runtime: global options (runc's: --root,
 * --log, --log-format, --debug, --systemd-cgroup) and dispatch to the
 * commands in commands.h. */
#include "commands.h"
#include "runtime/state.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct global_opts g_opts = { .root = SUBRUN_DEFAULT_ROOT };

static const struct {
	const char *name;
	int (*fn)(int, char **);
	bool clone_self;   /* spawns into a container: run from a sealed copy */
	const char *help;
} commands[] = {
	{ "create", cmd_create, true, "create a container" },
	{ "start", cmd_start, false, "start a created container" },
	{ "run", cmd_run, true, "create and start a container" },
	{ "exec", cmd_exec, true, "run a process in a running container" },
	{ "kill", cmd_kill, false, "send a signal to the container's init (or all with --all)" },
	{ "delete", cmd_delete, false, "delete a stopped container (--force: any)" },
	{ "state", cmd_state, false, "print the state of a container as JSON" },
	{ "list", cmd_list, false, "list containers" },
	{ "ps", cmd_ps, false, "list the processes of a container" },
	{ "pause", cmd_pause, false, "freeze every process of a container" },
	{ "resume", cmd_resume, false, "thaw a paused container" },
	{ "update", cmd_update, false, "change the resource limits of a container" },
	{ "spec", cmd_spec, false, "write a default config.json" },
	{ "features", cmd_features, false, "print what this runtime supports, as JSON" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: subrun [global options] COMMAND [options] [args]\n\n"
		   "global options:\n"
		   "  --root DIR          state directory (default " SUBRUN_DEFAULT_ROOT ")\n"
		   "  --log FILE          log file (default stderr)\n"
		   "  --log-format FMT    text or json\n"
		   "  --debug             debug logging\n"
		   "  --systemd-cgroup    accept systemd-style cgroupsPath (slice:prefix:name)\n"
		   "  --version, --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int report(const char *cmd, const struct sn_err *err)
{
	sn_error("%s: %s", cmd, err->msg);
	return 1;
}

int need_args(const char *cmd, int argc, int optind_, int n, const char *usage_)
{
	if (argc - optind_ != n) {
		sn_error("%s: expected %d argument%s (usage: subrun %s %s), got %d", cmd, n,
			 n == 1 ? "" : "s", cmd, usage_, argc - optind_);
		return 1;
	}
	return 0;
}

/* "--flag value" or "--flag=value"; also runc's single-dash spellings. */
static const char *opt_value(int *i, int argc, char **argv, const char *name)
{
	const char *a = argv[*i];
	while (*a == '-')
		a++;
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static bool is_flag(const char *arg, const char *name)
{
	while (*arg == '-')
		arg++;
	return strcmp(arg, name) == 0;
}

int main(int argc, char **argv)
{
	const char *log_path = NULL, *log_format = "text";
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *v;
		if (is_flag(argv[i], "version") || is_flag(argv[i], "v")) {
			printf("subrun version %s\nspec: %s\n", SUBRUN_VERSION, SUBRUN_SPEC_VERSION);
			return 0;
		} else if (is_flag(argv[i], "help") || is_flag(argv[i], "h")) {
			usage(stdout);
			return 0;
		} else if (is_flag(argv[i], "debug")) {
			g_opts.debug = true;
		} else if (is_flag(argv[i], "systemd-cgroup")) {
			g_opts.systemd_cgroup = true;
		} else if ((v = opt_value(&i, argc, argv, "root"))) {
			g_opts.root = v;
		} else if ((v = opt_value(&i, argc, argv, "log-format"))) {
			log_format = v;
		} else if ((v = opt_value(&i, argc, argv, "log"))) {
			log_path = v;
		} else if ((v = opt_value(&i, argc, argv, "criu")) || (v = opt_value(&i, argc, argv, "rootless"))) {
			/* accepted for runc compatibility; no effect */
		} else {
			fprintf(stderr, "subrun: unknown global option `%s`\n", argv[i]);
			usage(stderr);
			return 1;
		}
	}
	struct sn_err err = { 0 };
	enum sn_log_format fmt;
	if (sn_log_parse_format(log_format, &fmt, &err) < 0 || sn_log_open(log_path, fmt, &err) < 0) {
		fprintf(stderr, "subrun: %s\n", err.msg);
		return 1;
	}
	sn_log_set_level(g_opts.debug ? SN_LOG_DEBUG : SN_LOG_WARN);
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0) {
			/* `subrun run --help` (runc's habit; tools probe with it) */
			if (i + 1 < argc && (is_flag(argv[i + 1], "help") || strcmp(argv[i + 1], "-h") == 0)) {
				printf("subrun %s: %s (options as runc's; see subrun --help)\n",
				       commands[c].name, commands[c].help);
				return 0;
			}
			if (commands[c].clone_self && ensure_cloned_binary(argc, argv, &err) < 0)
				return report(commands[c].name, &err);
			return commands[c].fn(argc - i, argv + i);
		}
	sn_error("unknown command `%s` (see subrun --help)", argv[i]);
	return 1;
}
