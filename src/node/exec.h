/* exec.h — processes run inside a running subnode (Docker's exec API):
 * create (validated, kept in a table), start (spawns `RUNTIME exec`, with a
 * pty via the runtime's console socket when Tty), the relay between a
 * client stream and the process, resize, inspect. See exec.c.
 */
#ifndef SN_NODE_EXEC_H
#define SN_NODE_EXEC_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/err.h"
#include "node/node.h"

/* body: {Cmd (required), Tty, AttachStdin, AttachStdout, AttachStderr, Env,
 * WorkingDir, User, DetachKeys (ignored), Privileged (refused)}; out {"Id"}. */
int node_exec_create(struct node *n, const char *ref, json_t *body, json_t **out,
		     struct sn_err *err);
/* Start exec id. With a TTY, pty gets the pty master (stdin = stdout = it,
 * out and errfd -1); without, in (-1 unless AttachStdin), out and errfd are
 * pipe ends; tty says which. The process is waited for by node_exec_finish. */
int node_exec_start(struct node *n, const char *id, bool *tty, int *pty, int *in, int *out,
		    int *errfd, struct sn_err *err);
/* End a started exec whose client has left: SIGKILL its process (named by
 * the runtime's pid file), so its output ends and node_exec_finish reaps
 * it. 0 also when it is not running. */
int node_exec_cancel(struct node *n, const char *id, struct sn_err *err);
/* Wait for the runtime exec process and record its exit code. */
void node_exec_finish(struct node *n, const char *id);
int node_exec_resize(struct node *n, const char *id, unsigned h, unsigned w, struct sn_err *err);
/* {"ID","Running","ExitCode","ProcessConfig":{...},"ContainerID","Pid"} */
int node_exec_inspect(struct node *n, const char *id, json_t **out, struct sn_err *err);
/* Copy between a client socket and a started exec until the process ends:
 * a TTY raw both ways, else stdin from the socket and Docker's framing for
 * stdout/stderr. extra: bytes already read from the client. */
void node_exec_relay(struct node *n, int sock, bool tty, int pty, int in, int out, int errfd,
		     const char *extra, size_t extra_len);
void node_exec_free_all(struct node *n);

#endif
