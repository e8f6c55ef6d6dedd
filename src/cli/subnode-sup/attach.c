/* attach.c — see attach.h. Up to four clients (the daemon relays each API
 * attach to one); every byte the pty prints goes to all that watch, and to
 * a 4 KiB ring that a new watcher gets first, so the prompt printed before
 * it came is not lost. Input is framed so that a resize can travel on the same
 * connection as keystrokes. A client that cannot keep up is dropped rather
 * than blocking the supervisor. */
#include "attach.h"
#include "base/fd.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static int lfd = -1, pty = -1;
/* The input buffers (a whole frame each) are apart from the small,
 * initialised slots so that they stay in .bss: pages nobody touched cost
 * nothing, where inside an initialised array they would be read in from
 * the file (docs/NODE.md, the supervisor's footprint). */
static unsigned char inbufs[ATTACH_MAX_CLIENTS][3 + 65535];
static struct client {
	int fd;
	bool watching;
	size_t inlen;    /* bytes of a frame in inbufs[slot] */
} clients[ATTACH_MAX_CLIENTS] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
static char ring[4096];
static size_t ring_len, ring_pos;

int attach_init(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		return -1;
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 ||
	    listen(lfd, 8) < 0) {
		close(lfd);
		lfd = -1;
	}
	return lfd;
}

static void drop(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->inlen = 0;
}

void attach_accept(void)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (pty < 0) {   /* nothing to attach to (restarting or ended) */
		close(fd);
		return;
	}
	for (int i = 0; i < ATTACH_MAX_CLIENTS; i++)
		if (clients[i].fd < 0) {
			clients[i].fd = fd;
			clients[i].inlen = 0;
			clients[i].watching = false;
			return;
		}
	close(fd);   /* full */
}

/* Type 2: the client watches the terminal: the ring, oldest byte first,
 * then everything that follows. (A resize-only connection never asks, so
 * nothing is written to a peer that sends one frame and goes.) */
static void watch(struct client *c)
{
	size_t start = ring_len < sizeof(ring) ? 0 : ring_pos;
	size_t first = ring_len < sizeof(ring) ? ring_len : sizeof(ring) - ring_pos;
	c->watching = true;
	if (sn_send_all(c->fd, ring + start, first, MSG_DONTWAIT) < 0 ||
	    (ring_len >= sizeof(ring) && sn_send_all(c->fd, ring, ring_pos, MSG_DONTWAIT) < 0))
		drop(c);
}

void attach_set_pty(int master)
{
	pty = master;
	if (master < 0)
		for (int i = 0; i < ATTACH_MAX_CLIENTS; i++)
			drop(&clients[i]);
	ring_len = ring_pos = 0;
}

void attach_output(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ring[ring_pos] = buf[i];
		ring_pos = (ring_pos + 1) % sizeof(ring);
		if (ring_len < sizeof(ring))
			ring_len++;
	}
	for (int i = 0; i < ATTACH_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0 && clients[i].watching && sn_send_all(clients[i].fd, buf, n, MSG_DONTWAIT) < 0)
			drop(&clients[i]);
}

int attach_pollfds(struct pollfd *pf)
{
	for (int i = 0; i < ATTACH_MAX_CLIENTS; i++)
		pf[i] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
	return ATTACH_MAX_CLIENTS;
}

static void frame(unsigned char type, const unsigned char *d, size_t n)
{
	if (pty < 0)
		return;
	if (type == 0) {
		while (n) {
			ssize_t w = write(pty, d, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return;
			d += w;
			n -= (size_t)w;
		}
	} else if (type == 1 && n == 4) {
		struct winsize ws = { .ws_row = (unsigned short)(d[0] << 8 | d[1]),
				      .ws_col = (unsigned short)(d[2] << 8 | d[3]) };
		ioctl(pty, TIOCSWINSZ, &ws);
	}
}

void attach_ready(int slot)
{
	struct client *c = &clients[slot];
	unsigned char *in = inbufs[slot];
	ssize_t r = recv(c->fd, in + c->inlen, sizeof(inbufs[slot]) - c->inlen, MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		drop(c);
		return;
	}
	if (r < 0)
		return;
	c->inlen += (size_t)r;
	size_t off = 0;
	while (c->inlen - off >= 3) {
		size_t len = (size_t)in[off + 1] << 8 | in[off + 2];
		if (c->inlen - off < 3 + len)
			break;
		if (in[off] == 2) {
			off += 3 + len;
			watch(c);
			if (c->fd < 0)
				return;
			continue;
		}
		frame(in[off], in + off + 3, len);
		off += 3 + len;
	}
	memmove(in, in + off, c->inlen - off);
	c->inlen -= off;
}
