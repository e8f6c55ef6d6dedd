/* sync.c — see sync.h. */
#include "runtime/sync.h"
#include "base/fd.h"

#include <errno.h>
#include <string.h>

int sync_send(int sock, int type, pid_t pid, const struct sn_err *e, int fd,
	      struct sn_err *err)
{
	struct sync_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.pid = pid;
	if (e)
		m.err = *e;
	int r = sn_fd_send(sock, fd, &m, sizeof(m), err);
	if (r < 0)
		sn_err_wrap(err, "sync: send message %d", type);
	return r;
}

int sync_recv(int sock, struct sync_msg *m, int *fd, struct sn_err *err)
{
	if (fd)
		*fd = -1;
	int got = -1;
	size_t n = 0;
	int r = sn_fd_recv(sock, &got, m, sizeof(*m), &n, err);
	if (r < 0) {
		sn_err_wrap(err, "sync");
		return r;
	}
	if (n == 0)
		r = sn_err_msg(err, EPIPE, "the container process exited during setup");
	else if (n != sizeof(*m))
		r = sn_err_msg(err, EPROTO, "sync: short message (%zu bytes)", n);
	if (r < 0 || !fd)
		sn_close_and_reset(&got);
	else
		*fd = got;
	return r;
}

int sync_expect(int sock, int type, struct sync_msg *m, int *fd, struct sn_err *err)
{
	int r = sync_recv(sock, m, fd, err);
	if (r < 0)
		return r;
	if (m->type == SYNC_ERROR) {
		if (err)
			*err = m->err;
		return -(m->err.code ? m->err.code : EIO);
	}
	if (m->type != type)
		return sn_err_msg(err, EPROTO, "sync: expected message %d, got %d", type, m->type);
	return 0;
}
