/* upgrade.c — the raw stream after an HTTP upgrade (exec start, attach).
 *
 * On a plain connection (the unix socket, TCP without TLS) the relay runs
 * in the upgrade callback on MHD's own socket, and a client's half-close
 * (shutdown(SHUT_WR): the end of an exec's stdin) is an EOF it sees.
 *
 * On TLS, libmicrohttpd would forward between the TLS session and a
 * socketpair in the connection's thread — but only once the upgrade
 * callback has returned, and it passes no half-close on in either
 * direction: a client's end of stdin would never reach the process. So we
 * keep the callback (the connection's thread) and do the forwarding
 * ourselves on the session MHD hands out (MHD_CONNECTION_INFO_GNUTLS_SESSION)
 * before MHD starts its own: the relay runs in a thread of its own on one
 * end of our socketpair, this thread pumps the other end against the
 * session. The client's close_notify or TCP half-close (what Docker's
 * client sends, and ours) becomes shutdown(SHUT_WR) towards the relay; the relay's
 * end becomes close_notify towards the client. Both sockets are
 * non-blocking, so neither direction waits on the other. When we return,
 * the connection is already marked closed and MHD's forwarding has nothing
 * left to do.
 */
#include "upgrade.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct relay_thread {
	upgrade_relay_fn fn;
	void *arg;
	int sock;
	const char *extra;
	size_t extra_len;
};

static void *relay_main(void *p)
{
	struct relay_thread *t = p;
	t->fn(t->arg, t->sock, t->extra, t->extra_len);
	/* our end closed: the pump sees EOF and ends the TLS stream */
	close(t->sock);
	return NULL;
}

/* One direction's buffer: data read from one side, not yet written to the
 * other. eof: the reading side has ended. */
struct half {
	char buf[16384];
	size_t len, off;
	bool eof;
};

static bool is_again(ssize_t r)
{
	return r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED;
}

/* The session's transport read (MHD gives GnuTLS the socket as an int):
 * recv(2), but the end of the client's stream reads as "nothing yet". A
 * TCP half-close without close_notify is what Docker's client sends at the
 * end of stdin; GnuTLS would take it for a truncation attack and refuse to
 * send on the session from then on — while the process's output still
 * has to go out. So the pump sees it itself (client_ended). */
static ssize_t pull_no_eof(gnutls_transport_ptr_t p, void *buf, size_t len)
{
	ssize_t r = recv((int)(intptr_t)p, buf, len, 0);
	if (r == 0) {
		errno = EAGAIN;
		return -1;
	}
	return r;
}

/* After GnuTLS asked for more bytes: has the client shut its side (FIN
 * received, nothing left to read)? */
static bool client_ended(int net)
{
	struct pollfd pf = { .fd = net, .events = POLLRDHUP };
	int q = 0;
	return poll(&pf, 1, 0) > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR)) &&
	       ioctl(net, FIONREAD, &q) == 0 && q == 0;
}

/* Forward between the TLS session on net and the plain socket until the
 * relay has closed its end (and what it wrote is sent), the client is
 * gone, or the daemon stops. */
static void tls_pump(gnutls_session_t s, int net, int plain, const int *stopping)
{
	static struct half zero;
	struct half in = zero, out = zero;   /* in: client → relay; out: relay → client */
	bool plain_shut = false;
	gnutls_transport_set_pull_function(s, pull_no_eof);
	while (!__atomic_load_n(stopping, __ATOMIC_RELAXED)) {
		bool moved = false;
		if (!in.eof && in.len == 0) {
			ssize_t r = gnutls_record_recv(s, in.buf, sizeof(in.buf));
			if (r > 0) {
				in.len = (size_t)r;
				in.off = 0;
				moved = true;
			} else if (r == 0 || (!is_again(r) && gnutls_error_is_fatal((int)r)) ||
				   (is_again(r) && client_ended(net))) {
				in.eof = moved = true;   /* close_notify, TCP half-close, or an error */
			} else if (!is_again(r)) {
				moved = true;             /* a warning alert: read on */
			}
		}
		if (in.len) {
			ssize_t w = send(plain, in.buf + in.off, in.len - in.off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0) {
				in.off += (size_t)w;
				if (in.off == in.len)
					in.len = in.off = 0;
				moved = true;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				in.len = in.off = 0;      /* the relay stopped reading */
				in.eof = moved = true;
			}
		}
		if (in.eof && !in.len && !plain_shut) {
			shutdown(plain, SHUT_WR);
			plain_shut = true;
		}
		if (!out.eof && out.len == 0) {
			ssize_t r = recv(plain, out.buf, sizeof(out.buf), MSG_DONTWAIT);
			if (r > 0) {
				out.len = (size_t)r;
				out.off = 0;
				moved = true;
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				out.eof = moved = true;
			}
		}
		if (out.len) {
			/* after GNUTLS_E_AGAIN the same data is offered again */
			ssize_t w = gnutls_record_send(s, out.buf + out.off, out.len - out.off);
			if (w > 0) {
				out.off += (size_t)w;
				if (out.off == out.len)
					out.len = out.off = 0;
				moved = true;
			} else if (!is_again(w)) {
				return;                   /* the client is gone */
			}
		}
		if (out.eof && !out.len) {
			gnutls_bye(s, GNUTLS_SHUT_WR);
			return;
		}
		if (moved || (!in.eof && !in.len && gnutls_record_check_pending(s) > 0))
			continue;
		short net_ev = (!in.eof && !in.len ? POLLIN : 0) |
			       (out.len ? (gnutls_record_get_direction(s) ? POLLOUT : POLLIN) : 0);
		struct pollfd pf[2] = {
			{ .fd = net, .events = net_ev },
			{ .fd = plain, .events = (short)((in.len ? POLLOUT : 0) |
							 (!out.eof && !out.len ? POLLIN : 0)) },
		};
		if (poll(pf, 2, 500) < 0 && errno != EINTR)
			return;
		if (in.eof && (pf[0].revents & (POLLERR | POLLHUP)))
			return;   /* the client is gone altogether (a reset) */
	}
}

void upgrade_run(struct MHD_Connection *c, bool tls, const int *stopping, int sock,
		 const char *extra, size_t extra_len, struct MHD_UpgradeResponseHandle *urh,
		 upgrade_relay_fn relay, void *arg)
{
	if (!tls) {
		relay(arg, sock, extra, extra_len);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	const union MHD_ConnectionInfo *si = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	int sp[2] = { -1, -1 };
	pthread_t t;
	struct relay_thread rt = { .fn = relay, .arg = arg, .extra = extra, .extra_len = extra_len };
	bool ok = si && fi && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0;
	rt.sock = sp[1];
	if (!ok || pthread_create(&t, NULL, relay_main, &rt) != 0) {
		/* Nothing to pump with: the relay still runs (it releases what
		 * it serves), on a stream whose client has gone. */
		if (sp[0] >= 0)
			close(sp[0]);
		relay(arg, sp[1], extra, extra_len);
		if (sp[1] >= 0)
			close(sp[1]);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	int net = fi->connect_fd;
	/* The pump polls both ends; a blocking socket could stall it. If the
	 * socket cannot be made non-blocking the pump does not run: closing
	 * sp[0] ends the relay (EPIPE), as when the client goes. */
	if (sn_fd_set_nonblock(net, true, NULL) == 0)
		tls_pump((gnutls_session_t)si->tls_session, net, sp[0], stopping);
	close(sp[0]);   /* a relay still writing gets EPIPE and ends */
	pthread_join(t, NULL);
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}
