/* fd.h — the file-descriptor habits, each written once.
 *
 * Every other file uses these instead of its own loop: four hand-made
 * variants of one habit are four places for the next fd leak into a
 * container (the CVE-2024-21626 class: a runtime fd reaching the process
 * it starts).
 *
 *   sn_fds_close_from    close, or mark close-on-exec, every fd >= N
 *   sn_fd_set_nonblock   O_NONBLOCK on or off, checked
 *   sn_fd_send / _recv   pass one fd (and a few bytes) over a unix socket
 *   sn_close_and_reset   close(*fd) and set *fd = -1
 *   sn_write_all         write until all is written
 *   sn_send_all          the same on a socket, never raising SIGPIPE
 *   SN_RETRY_EINTR       retry a call while it fails with EINTR
 *
 * The close-from helper is async-signal-safe (no allocation, only system
 * calls on a stack buffer), so a child made by vfork or CLONE_VM may call
 * it between the clone and its execve.
 */
#ifndef SN_BASE_FD_H
#define SN_BASE_FD_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include "base/err.h"

/* Retry expr while it returns -1 with errno EINTR (glibc's
 * TEMP_FAILURE_RETRY, without needing its feature macro). */
#define SN_RETRY_EINTR(expr)                                         \
	({                                                           \
		__typeof__(expr) _r;                                 \
		do                                                   \
			_r = (expr);                                 \
		while (_r == -1 && errno == EINTR);                  \
		_r;                                                  \
	})

enum sn_fds_how {
	SN_FDS_CLOSE,   /* close them now */
	SN_FDS_CLOEXEC, /* leave them open, closed by the next execve */
};

/* Every fd >= from: close_range(2) first; where the kernel lacks it (or
 * its CLOSE_RANGE_CLOEXEC flag: before 5.11), or a seccomp profile refuses
 * it, a walk of /proc/self/fd,
 * after checking that /proc is really procfs (a fake /proc, e.g. a tmpfs
 * mounted over it, could hide fds; then EPERM rather than a silent
 * leak). Every close/fcntl is checked, except EBADF on close (the fd
 * went between the listing and the call). */
int sn_fds_close_from(unsigned from, enum sn_fds_how how, struct sn_err *err);

/* For tests: make sn_fds_close_from skip close_range and take the /proc
 * walk, as on a kernel without it. */
extern bool sn_fds_force_proc_walk;

/* Set or clear O_NONBLOCK; 0 or -errno (err may be NULL). */
int sn_fd_set_nonblock(int fd, bool on, struct sn_err *err);

/* Send fd (-1: none) with len bytes of data (at least 1) over the unix
 * socket sock, the fd as SCM_RIGHTS with the first byte, the rest of the
 * data after it when the socket takes it in pieces; 0 or -errno. */
int sn_fd_send(int sock, int fd, const void *data, size_t len, struct sn_err *err);
/* Receive one message with at most one fd: *fd gets it (O_CLOEXEC) or -1
 * when none came; *got the bytes read into buf (0 at end of stream). */
int sn_fd_recv(int sock, int *fd, void *buf, size_t size, size_t *got, struct sn_err *err);

/* write(2) until all of buf is written (EINTR retried); 0 or -errno. */
int sn_write_all(int fd, const void *buf, size_t len);
/* send(2) with MSG_NOSIGNAL | flags until all is sent; 0 or -errno (a
 * peer gone is -EPIPE, not a signal). */
int sn_send_all(int sock, const void *buf, size_t len, int flags);

/* close(*fd) if it is open, then *fd = -1. */
void sn_close_and_reset(int *fd);

#endif
