/* sync.c — see sync.h. */
#include "runtime/sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int sync_send(int sock, int type, pid_t pid, const struct sn_err *e, int fd,
	      struct sn_err *err)
{
	struct sync_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.pid = pid;
	if (e)
		m.err = *e;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sn_err_sys(err, "sync: send message %d", type);
	return 0;
}

int sync_recv(int sock, struct sync_msg *m, int *fd, struct sn_err *err)
{
	if (fd)
		*fd = -1;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sn_err_sys(err, "sync: receive");
	if (n == 0)
		return sn_err_msg(err, EPIPE, "the container process exited during setup");
	if ((size_t)n != sizeof(*m))
		return sn_err_msg(err, EPROTO, "sync: short message (%zd bytes)", n);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got;
			memcpy(&got, CMSG_DATA(c), sizeof(int));
			if (fd)
				*fd = got;
			else
				close(got);
		}
	return 0;
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
