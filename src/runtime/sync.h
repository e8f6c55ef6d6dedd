/* sync.h — the messages between `subrun create` (parent) and the container
 * init (child) over a SOCK_SEQPACKET socketpair. One message = one struct,
 * optionally carrying an fd (SCM_RIGHTS). An error in the child travels to
 * the parent as a whole struct sn_err, so the user sees the child's message.
 */
#ifndef SN_RUNTIME_SYNC_H
#define SN_RUNTIME_SYNC_H

#include <sys/types.h>
#include "base/err.h"

enum sync_type {
	SYNC_NS_READY = 1,   /* child: namespaces made; write id maps, enter cgroup */
	SYNC_NS_ACK,         /* parent: done */
	SYNC_INIT_PID,       /* intermediate: the init's pid (after a pid-ns fork) */
	SYNC_HOOKS,          /* child: rootfs ready; run prestart + createRuntime */
	SYNC_HOOKS_ACK,      /* parent: done */
	SYNC_SECCOMP_FD,     /* child: here is the seccomp notify fd */
	SYNC_SECCOMP_ACK,    /* parent: handed to the listener */
	SYNC_CREATED,        /* child: all set up, blocking on the exec fifo */
	SYNC_ERROR,          /* either side: failed, err says why */
};

struct sync_msg {
	int type;
	int pid;
	struct sn_err err;
};

int sync_send(int sock, int type, pid_t pid, const struct sn_err *e, int fd,
	      struct sn_err *err);
/* Receive one message; *fd gets a passed fd or -1. EOF is -EPIPE with a
 * message saying the peer exited. */
int sync_recv(int sock, struct sync_msg *m, int *fd, struct sn_err *err);
/* Receive and insist on a type; SYNC_ERROR from the peer is returned as its
 * error. */
int sync_expect(int sock, int type, struct sync_msg *m, int *fd, struct sn_err *err);

#endif
