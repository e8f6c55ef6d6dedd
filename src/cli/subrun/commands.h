/* commands.h — the subrun commands, one function each, and the global
 * options they share. Every command returns the process exit status and
 * reports its own errors through the logger (runc prints errors the same
 * way: on stderr, and into --log in the chosen --log-format). */
#ifndef SUBRUN_COMMANDS_H
#define SUBRUN_COMMANDS_H

#include <stdbool.h>
#include "base/err.h"

#define SUBRUN_VERSION "0.1.0"
#define SUBRUN_SPEC_VERSION "1.2.0"

struct global_opts {
	const char *root;
	bool systemd_cgroup;
	bool debug;
};

extern struct global_opts g_opts;

int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_spec(int argc, char **argv);
int cmd_features(int argc, char **argv);

/* Print err (with the command's context) and return exit status 1. */
int report(const char *cmd, const struct sn_err *err);
/* Exactly n positional args after options, else usage error (status 1). */
int need_args(const char *cmd, int argc, int optind_, int n, const char *usage);
/* The memfd self-clone guard against overwriting our binary (CVE-2019-5736
 * class); re-execs when not yet cloned. Returns only on failure or when
 * already cloned. */
int ensure_cloned_binary(int argc, char **argv, struct sn_err *err);

#endif
