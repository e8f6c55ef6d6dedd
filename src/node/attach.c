/* attach.c — the daemon's side of attaching to a subnode's terminal: the
 * supervisor of a subnode created with Tty listens on root/s/<id16>.att
 * (see src/cli/subnode-sup/attach.c for the framing); an API attach is
 * relayed to it, keystrokes framed as stdin, the terminal's output raw;
 * a resize is one frame on a connection of its own.
 */
#include "node/node.h"
#include "node/db.h"
#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

char *node_tty_socket(struct node *n, const char *id, const char *kind)
{
	char *p = NULL;
	if (asprintf(&p, "%s/s/%.16s.%s", n->cfg.root, id, kind) < 0)
		return NULL;
	return p;
}

int node_attach_connect(struct node *n, const char *ref, int *out, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *name = json_string_value(json_object_get(row, "name"));
	if (!json_is_true(json_object_get(json_object_get(row, "config"), "Tty")))
		return sn_err_msg(err, EINVAL, "subnode %s has no terminal (create it with Tty); "
				  "use logs -f to follow its output", name);
	if (!node_supervisor_alive(n, id, NULL))
		return sn_err_msg(err, EBUSY, "subnode %s is not running", name);
	_cleanup_free_ char *path = node_tty_socket(n, id, "att");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (!path || strlen(path) >= sizeof(a.sun_path))
		return sn_err_msg(err, ENAMETOOLONG, "attach socket of %s: path too long", name);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sn_err_sys(err, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return sn_err_msg(err, EBUSY, "attach to %s: %s (restarting?)", name, strerror(e));
	}
	*out = fd;
	return 0;
}

static bool send_frame(int fd, unsigned char type, const char *d, size_t n)
{
	while (n) {
		size_t k = n > 65535 ? 65535 : n;
		unsigned char h[3] = { type, (unsigned char)(k >> 8), (unsigned char)k };
		if (sn_send_all(fd, h, 3, 0) < 0 || sn_send_all(fd, d, k, 0) < 0)
			return false;
		d += k;
		n -= k;
	}
	return true;
}

int node_resize(struct node *n, const char *ref, unsigned h, unsigned w, struct sn_err *err)
{
	int fd;
	int r = node_attach_connect(n, ref, &fd, err);
	if (r < 0)
		return r;
	unsigned char f[7] = { 1, 0, 4, (unsigned char)(h >> 8), (unsigned char)h, (unsigned char)(w >> 8),
			       (unsigned char)w };
	bool ok = sn_send_all(fd, f, sizeof(f), 0) == 0;
	close(fd);
	return ok ? 0 : sn_err_msg(err, EIO, "resize: the supervisor closed the connection");
}

void node_attach_relay(struct node *n, int client, int sup, const char *extra, size_t extra_len,
		       bool stdin_on)
{
	static const unsigned char watch[3] = { 2, 0, 0 };
	if (sn_send_all(sup, watch, sizeof(watch), 0) < 0) {
		close(sup);
		return;
	}
	if (extra_len && stdin_on)
		send_frame(sup, 0, extra, extra_len);
	char buf[16384];
	/* Ends when the terminal ends, the client goes (its side closed: an
	 * attached terminal has no half-close), or the daemon stops. */
	while (!__atomic_load_n(&n->stopping, __ATOMIC_RELAXED)) {
		struct pollfd pf[2] = { { .fd = client, .events = POLLIN | POLLRDHUP },
					{ .fd = sup, .events = POLLIN } };
		int pr = poll(pf, 2, 500);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			break;
		if (pf[0].revents) {
			ssize_t r = recv(client, buf, sizeof(buf), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (r > 0 && stdin_on && !send_frame(sup, 0, buf, (size_t)r))
				break;
		}
		if (pf[1].revents) {
			ssize_t r = recv(sup, buf, sizeof(buf), 0);
			if (r <= 0 || sn_send_all(client, buf, (size_t)r, 0) < 0)
				break;
		}
	}
	close(sup);
}
