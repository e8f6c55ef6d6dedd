/* fd.c — the file-descriptor habits (see fd.h). */
#include "base/fd.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's values, spelled here so that the file also builds against
 * musl (subnode-sup), whose headers lack linux/. */
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

bool sn_fds_force_proc_walk;

/* A struct linux_dirent64, read field by field from getdents64's buffer. */
struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int parse_fd(const char *s)
{
	if (!*s)
		return -1;
	long v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (INT32_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (int)v;
}

static int act_on(int fd, enum sn_fds_how how, struct sn_err *err)
{
	if (how == SN_FDS_CLOSE) {
		/* After close, the fd is gone whatever it says (EINTR included). */
		if (close(fd) < 0 && errno != EBADF && errno != EINTR)
			return sn_err_sys(err, "close fd %d", fd);
		return 0;
	}
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0)
		return errno == EBADF ? 0 : sn_err_sys(err, "fcntl(F_GETFD) fd %d", fd);
	if (!(fl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return sn_err_sys(err, "mark fd %d close-on-exec", fd);
	return 0;
}

static int walk_proc_fds(unsigned from, enum sn_fds_how how, struct sn_err *err)
{
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sn_err_sys(err, "close fds from %u: open /proc/self/fd", from);
	struct statfs sf;
	if (fstatfs(dfd, &sf) < 0) {
		int r = sn_err_sys(err, "close fds from %u: statfs /proc/self/fd", from);
		close(dfd);
		return r;
	}
	if (sf.f_type != PROC_SUPER_MAGIC) {
		close(dfd);
		return sn_err_msg(err, EPERM,
				  "close fds from %u: /proc is not procfs (magic %#lx): its fd list "
				  "cannot be trusted", from, (unsigned long)sf.f_type);
	}
	/* Closing while listing: each pass lists from the start again until a
	 * pass finds nothing left to do (closing can shift getdents' cursor). */
	char buf[4096] __attribute__((aligned(8)));
	int r = 0;
	for (bool again = true; again && r == 0;) {
		again = false;
		if (lseek(dfd, 0, SEEK_SET) < 0) {
			r = sn_err_sys(err, "close fds from %u: rewind /proc/self/fd", from);
			break;
		}
		for (;;) {
			long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
			if (n < 0) {
				r = sn_err_sys(err, "close fds from %u: read /proc/self/fd", from);
				break;
			}
			if (n == 0)
				break;
			for (long off = 0; off < n;) {
				struct dent64 *d = (struct dent64 *)(buf + off);
				off += d->reclen;
				int fd = parse_fd(d->name);
				if (fd < 0 || (unsigned)fd < from || fd == dfd)
					continue;
				if ((r = act_on(fd, how, err)) < 0)
					break;
				again = again || how == SN_FDS_CLOSE;
			}
			if (r < 0)
				break;
		}
	}
	close(dfd);
	return r;
}

int sn_fds_close_from(unsigned from, enum sn_fds_how how, struct sn_err *err)
{
	if (!sn_fds_force_proc_walk) {
		unsigned flags = how == SN_FDS_CLOEXEC ? CLOSE_RANGE_CLOEXEC : 0;
		if (syscall(SYS_close_range, from, ~0U, flags) == 0)
			return 0;
		/* ENOSYS: no close_range (before 5.9); EINVAL: no CLOEXEC flag
		 * (before 5.11); EPERM: a seccomp profile refuses it (the walk
		 * below uses only open, getdents64, fcntl and close). */
		if (errno != ENOSYS && errno != EINVAL && errno != EPERM)
			return sn_err_sys(err, "close_range(%u, ~0, %#x)", from, flags);
	}
	return walk_proc_fds(from, how, err);
}

int sn_fd_set_nonblock(int fd, bool on, struct sn_err *err)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return sn_err_sys(err, "fcntl(F_GETFL) fd %d", fd);
	int want = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	if (want != fl && fcntl(fd, F_SETFL, want) < 0)
		return sn_err_sys(err, "fcntl(F_SETFL) fd %d", fd);
	return 0;
}

int sn_fd_send(int sock, int fd, const void *data, size_t len, struct sn_err *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	memset(&cm, 0, sizeof(cm));
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n = SN_RETRY_EINTR(sendmsg(sock, &msg, MSG_NOSIGNAL));
	if (n < 0)
		return sn_err_sys(err, "send fd %d", fd);
	/* A stream socket may take a large payload in pieces; the fd went
	 * with the first. */
	for (size_t off = (size_t)n; off < len; off += (size_t)n) {
		n = SN_RETRY_EINTR(send(sock, (const char *)data + off, len - off, MSG_NOSIGNAL));
		if (n < 0)
			return sn_err_sys(err, "send fd %d: the rest of its data", fd);
	}
	return 0;
}

int sn_fd_recv(int sock, int *fd, void *buf, size_t size, size_t *got, struct sn_err *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = { buf, size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			      .msg_controllen = sizeof(cm.buf) };
	*fd = -1;
	ssize_t n = SN_RETRY_EINTR(recvmsg(sock, &msg, MSG_CMSG_CLOEXEC));
	if (n < 0)
		return sn_err_sys(err, "receive fd");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
		memcpy(fds, CMSG_DATA(c), (nfd < 8 ? nfd : 8) * sizeof(int));
		for (size_t i = 0; i < nfd && i < 8; i++) {
			if (*fd < 0)
				*fd = fds[i];
			else
				close(fds[i]); /* more than one: keep the first */
		}
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		sn_close_and_reset(fd);
		return sn_err_msg(err, EMSGSIZE, "receive fd: control data truncated");
	}
	if (got)
		*got = (size_t)n;
	return 0;
}

void sn_close_and_reset(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -1;
	}
}

/* write or send (flags >= 0) until all is out. */
static int out_all(int fd, const void *buf, size_t len, int flags)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = flags < 0 ? SN_RETRY_EINTR(write(fd, p, len))
				      : SN_RETRY_EINTR(send(fd, p, len, MSG_NOSIGNAL | flags));
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int sn_write_all(int fd, const void *buf, size_t len)
{
	return out_all(fd, buf, len, -1);
}

int sn_send_all(int sock, const void *buf, size_t len, int flags)
{
	return out_all(sock, buf, len, flags);
}
