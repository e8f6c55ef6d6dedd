/* terminal.h — the container's terminal, the way runc and podman do it:
 * the container side opens a new pty from its own /dev/ptmx, makes the
 * slave its controlling terminal and stdio, bind-mounts it on /dev/console,
 * and sends the master fd over the --console-socket unix socket
 * (SCM_RIGHTS). The receiver (podman's conmon, or `subrun run` itself in the
 * foreground) owns the master from then on.
 */
#ifndef SN_RUNTIME_TERMINAL_H
#define SN_RUNTIME_TERMINAL_H

#include <stdbool.h>
#include <stdint.h>
#include "base/err.h"

/* Create the pty inside the container (after pivot_root), send the master
 * to sock, set up the slave as ctty + stdin/out/err. mount_console: bind
 * the slave onto /dev/console (init yes, exec no). */
int terminal_setup(int sock, bool mount_console, uint32_t rows, uint32_t cols,
		   struct sn_err *err);
/* A session and process group of its own (setsid; fine when already a
 * session leader). Every container process gets one, with a terminal or
 * without, as runc does: a signal to the caller's process group (a ^C, a
 * kill of a job) must not reach into the container, and a job-control
 * shell inside needs to lead its own group. */
int terminal_new_session(struct sn_err *err);
/* Send fd with SCM_RIGHTS and a name payload. */
int terminal_send_fd(int sock, int fd, const char *name, struct sn_err *err);
/* Receive one fd sent by terminal_send_fd. */
int terminal_recv_fd(int sock, int *fd, struct sn_err *err);
/* Connect to a console socket path (unix stream). */
int terminal_connect(const char *path, int *sock, struct sn_err *err);
/* Copy between the master and our stdio until the master hangs up (for
 * `run`/`exec` in the foreground with -t and no console socket). Puts the
 * local tty in raw mode while it runs, restores it after. */
int terminal_relay(int master, struct sn_err *err);

#endif
