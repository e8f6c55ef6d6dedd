/* attach_logs.c — attaching to a subnode without a terminal.
 *
 * A subnode created without Tty has no attach socket: its supervisor
 * writes stdout and stderr to the log and nothing else. Docker's clients
 * attach to such a container all the time — `docker run` without -d
 * attaches before it starts the container, then prints what it writes
 * until it ends. So an attach to a non-terminal subnode is its log,
 * followed from the moment of the attach, in Docker's multiplexed framing
 * (logs.h), until the subnode ends or the client leaves: the output a
 * Docker daemon's attach gives. What it cannot give is stdin (the
 * supervisor holds none for such a subnode); the API refuses stdin=1.
 *
 * An attach that comes before the start (state `created`) waits for the
 * start first, looking every 100 ms, so that the follow does not end at
 * once for a subnode that does not run yet. A terminal subnode's attach
 * before its start (`docker run -it`) waits the same way, then connects
 * to the supervisor's attach socket (node_attach_pending_relay).
 */
#include "node/node.h"
#include "node/logs.h"
#include "base/cleanup.h"
#include "base/fd.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/* Wait ms for the client to hang up: true when it did. */
static bool client_gone(int client, int ms)
{
	struct pollfd p = { .fd = client, .events = 0 };   /* HUP and ERR only */
	int r = poll(&p, 1, ms);
	return r > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static bool stopping(struct node *n)
{
	return __atomic_load_n(&n->stopping, __ATOMIC_RELAXED) != 0;
}

bool node_attach_wait_started(struct node *n, int client, const char *id)
{
	for (;;) {
		_cleanup_json_ json_t *row = NULL;
		struct sn_err e = { 0 };
		if (node_find(n, id, &row, &e) < 0)
			return false;
		const char *st = json_string_value(json_object_get(row, "state")) ?: "";
		if (strcmp(st, "created") != 0)
			return true;
		if (stopping(n) || client_gone(client, 100))
			return false;
	}
}

void node_attach_logs_relay(struct node *n, int client, const char *id, bool out, bool err,
			    int64_t since_ns)
{
	if (!node_attach_wait_started(n, client, id))
		return;
	struct node_logs_opts o = { .out = out, .err = err, .follow = true, .since = since_ns, .tail = -1 };
	struct node_logs *l = NULL;
	struct sn_err e = { 0 };
	if (node_logs_open(n, id, &o, &l, &e) < 0)
		return;
	char buf[4096];
	while (!stopping(n)) {
		ssize_t r = node_logs_read(l, buf, sizeof(buf));
		if (r == -EAGAIN) {
			if (client_gone(client, 100))
				break;
			continue;
		}
		if (r <= 0 || sn_send_all(client, buf, (size_t)r, MSG_NOSIGNAL) < 0)
			break;
	}
	node_logs_close(l);
}

void node_attach_pending_relay(struct node *n, int client, const char *id, const char *extra,
			       size_t extra_len, bool stdin_on)
{
	if (!node_attach_wait_started(n, client, id))
		return;
	/* running may be recorded a moment before the supervisor listens */
	for (int i = 0; i < 30 && !stopping(n); i++) {
		int sup = -1;
		struct sn_err e = { 0 };
		if (node_attach_connect(n, id, &sup, &e) == 0) {
			node_attach_relay(n, client, sup, extra, extra_len, stdin_on);
			return;
		}
		if (e.code != EBUSY && e.code != ENOENT && e.code != ECONNREFUSED)
			return;
		if (client_gone(client, 100))
			return;
	}
}
