/* conn.c — a connection's state for handlers that wait: the client's
 * hangup (EPOLLRDHUP on its socket: libmicrohttpd does not look at a
 * suspended connection), whether it is TLS (where libmicrohttpd's thread
 * per connection cannot be resumed from the access handler, so waits block
 * in place with poll instead of going to the hub), and libmicrohttpd's log.
 */
#include "conn.h"
#include "base/log.h"
#include "base/fd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

bool api_client_gone(struct MHD_Connection *c)
{
	int fd = hub_conn_fd(c);
	if (fd < 0)
		return true;
	struct pollfd pf = { .fd = fd, .events = POLLRDHUP };
	return poll(&pf, 1, 0) > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

bool api_conn_tls(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return ci && ci->tls_session;
}

struct hub_want api_want(void)
{
	struct hub_want w = { .timeout_ms = -1 };
	for (int i = 0; i < HUB_MAX_FDS; i++)
		w.fd[i] = -1;
	return w;
}

void api_want_hangup(struct hub_want *w, struct MHD_Connection *c)
{
	int fd = hub_conn_fd(c);
	for (int i = 0; i < HUB_MAX_FDS && fd >= 0; i++)
		if (w->fd[i] < 0) {
			w->fd[i] = fd;
			w->events[i] = EPOLLRDHUP;
			return;
		}
}

void api_block_wait(struct MHD_Connection *c, const struct hub_want *w)
{
	struct pollfd pf[HUB_MAX_FDS + 1];
	nfds_t n = 0;
	for (int i = 0; i < HUB_MAX_FDS; i++)
		if (w->fd[i] >= 0)
			pf[n++] = (struct pollfd){ .fd = w->fd[i],
						   .events = (short)((w->events[i] & EPOLLIN ? POLLIN : 0) |
								     (w->events[i] & EPOLLOUT ? POLLOUT : 0) |
								     (w->events[i] & EPOLLRDHUP ? POLLRDHUP : 0)) };
	int fd = hub_conn_fd(c);
	if (fd >= 0)
		pf[n++] = (struct pollfd){ .fd = fd, .events = POLLRDHUP };
	int t = w->timeout_ms;
	if (w->event && (t < 0 || t > 200))
		t = 200;
	SN_RETRY_EINTR(poll(pf, n, t));
}

void api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t l = strlen(buf);
	while (l && buf[l - 1] == '\n')
		buf[--l] = '\0';
	sn_debug("http: %s", buf);
}
