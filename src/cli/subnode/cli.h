/* cli.h — shared parts of the `subnode` commands. */
#ifndef SN_CLI_SUBNODE_H
#define SN_CLI_SUBNODE_H

#include <stdbool.h>
#include <stdint.h>
#include "client.h"

extern struct client g_cli;

/* Print "subnode: <msg>" and return the exit code for r (unreachable: 3). */
int cli_fail(int r, const struct sn_err *err);
/* "30s", "1m30s", "500ms", "2h", a bare number = seconds → ns. */
int cli_parse_duration(const char *s, int64_t *ns);
/* Does argv[*i] match -x/--long (value in *val when takes_value)?
 * 1 yes, 0 no, -1 the value is missing (message printed). */
int cli_opt(int argc, char **argv, int *i, const char *shrt, const char *lng, bool takes_value,
	    const char **val);
/* In a parse loop over `i`: match an option with a value, or return
 * EXIT_USAGE from the command when its value is missing. */
#define TAKE(shrt, lng, var) ({ \
	int _m = cli_opt(argc, argv, &i, shrt, lng, true, &(var)); \
	if (_m < 0) \
		return EXIT_USAGE; \
	_m > 0; \
})
#define FLAG(shrt, lng) (cli_opt(argc, argv, &i, shrt, lng, false, NULL) > 0)
void cli_print_json(json_t *j);

int cmd_run(int argc, char **argv, bool create_only);
int cmd_simple(int argc, char **argv, const char *verb);   /* start stop kill restart rm */
int cmd_ps(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_exec(int argc, char **argv);
/* cmd_net.c: --network, --publish, --port-slot, --allow (opt without the
 * dashes) into HostConfig; -1 (message printed) when v is malformed. */
int cli_net_option(json_t *hc, const char *opt, const char *v);
int cmd_update(int argc, char **argv);
/* The manager verbs (cmd_manager.c): node ls|inspect|maintenance|activate|
 * leave and chain …, after cli_manager_init(-M URL, token). */
int cli_manager_init(const char *url, const char *token);
void cli_manager_free(void);
int cmd_manager_node(int argc, char **argv);
int cmd_chain(int argc, char **argv);
int cmd_volume(int argc, char **argv);
/* An upgraded raw session (exec start, attach); see cmd_exec.c. */
int cli_session(const char *path, const char *body, bool tty, bool in, const char *resize_path);

#endif
