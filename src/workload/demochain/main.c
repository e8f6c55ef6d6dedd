/* main.c — demochain, the demo chain workload: one member of a small
 * chain that finalises a block when more than 2/3 of its members vote for
 * it (docs/DEMOCHAIN.md). Runs as a chain member under subnode-manager, or
 * by hand:
 *
 *   SUBNODE_INDEX=0 SUBNODE_MEMBERS=4 SUBNODE_PEERS=0=127.0.0.1:30000,… \
 *   SUBNODE_DATA=/tmp/m0 demochain
 *
 * Environment (what the manager's link gives every member, MANAGER.md):
 *   SUBNODE_INDEX, SUBNODE_MEMBERS  this member and the chain's size
 *   SUBNODE_PEERS         index=address:port,… of every member; member i
 *                         speaks UDP on its port and HTTP on port + 1
 *   SUBNODE_PORT_FIRST    our own port when we are not in the list
 *   SUBNODE_DATA          the data volume (default /data)
 *   SUBNODE_CHAIN_ID, SUBNODE_CHAIN  names the genesis (default "demo")
 *   DEMOCHAIN_BLOCK_MS    pause after a final block (default 1000)
 *   DEMOCHAIN_ROUND_MS    a round's time before the next proposer (2000)
 *   DEMOCHAIN_PEERS_FILE  re-read when it changes (/etc/subnode/peers.json)
 *   DEMOCHAIN_PEERS       the list to use instead of SUBNODE_PEERS (and
 *                         then no peers file): members wired together
 *                         by other means than the node's addresses
 *   DEMOCHAIN_BIND        the address to bind (default: ours in the list)
 *
 * It binds its address from the list, or every address when that one is
 * not in its network namespace (a port published into a container).
 * One thread: a poll loop of at most 50 ms between two clock ticks.
 */
#include "chain.h"
#include "rpc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = sig;
}

static int env_u64(const char *name, unsigned long long def, unsigned long long max,
		   unsigned long long *out, struct sn_err *err)
{
	const char *v = getenv(name);
	*out = def;
	if (!v || !*v)
		return 0;
	if (sn_parse_u64(v, out) < 0 || *out > max)
		return sn_err_msg(err, EINVAL, "%s=`%s`: not a number up to %llu", name, v, max);
	return 0;
}

struct config {
	unsigned long long index, members, port, block_ms, round_ms;
	const char *data, *chain, *peers, *peers_file, *bind;
};

static int read_config(struct dc_member *m, struct config *c, struct sn_err *err)
{
	int r;
	if ((r = env_u64("SUBNODE_MEMBERS", 0, DC_MEMBERS_MAX, &c->members, err)) < 0 ||
	    (r = env_u64("SUBNODE_INDEX", 0, DC_MEMBERS_MAX, &c->index, err)) < 0 ||
	    (r = env_u64("SUBNODE_PORT_FIRST", 0, 65534, &c->port, err)) < 0 ||
	    (r = env_u64("DEMOCHAIN_BLOCK_MS", 1000, 3600000, &c->block_ms, err)) < 0 ||
	    (r = env_u64("DEMOCHAIN_ROUND_MS", 2000, 3600000, &c->round_ms, err)) < 0)
		return r;
	if (c->members == 0 || c->index >= c->members)
		return sn_err_msg(err, EINVAL, "SUBNODE_INDEX=%llu and SUBNODE_MEMBERS=%llu: need 0 <= index < members <= %d",
				  c->index, c->members, DC_MEMBERS_MAX);
	if (c->round_ms < 10)
		return sn_err_msg(err, EINVAL, "DEMOCHAIN_ROUND_MS: at least 10");
	c->data = getenv("SUBNODE_DATA") && *getenv("SUBNODE_DATA") ? getenv("SUBNODE_DATA") : "/data";
	c->chain = getenv("SUBNODE_CHAIN_ID") && *getenv("SUBNODE_CHAIN_ID") ? getenv("SUBNODE_CHAIN_ID")
		 : getenv("SUBNODE_CHAIN") && *getenv("SUBNODE_CHAIN") ? getenv("SUBNODE_CHAIN") : "demo";
	c->peers = getenv("DEMOCHAIN_PEERS");
	c->peers_file = c->peers ? NULL : getenv("DEMOCHAIN_PEERS_FILE") ?: "/etc/subnode/peers.json";
	c->peers = c->peers ?: getenv("SUBNODE_PEERS") ?: "";
	c->bind = getenv("DEMOCHAIN_BIND");
	m->index = (unsigned)c->index;
	m->members = (unsigned)c->members;
	m->block_ms = (int64_t)c->block_ms;
	m->round_ms = (int64_t)c->round_ms;
	m->status_ms = m->round_ms / 4 < 500 ? m->round_ms / 4 : 500;
	if ((r = dc_peers_parse(m, c->peers, err)) < 0)
		return r;
	if (!m->peer[m->index].listed && c->port == 0)
		return sn_err_msg(err, EINVAL, "member %u: neither in the peer list nor SUBNODE_PORT_FIRST set",
				  m->index);
	if (m->peer[m->index].listed)
		c->port = ntohs(m->peer[m->index].addr.sin_port);
	return 0;
}

/* A socket on our address, or on every address when ours is not here. */
static int bind_socket(const struct dc_member *m, const char *addr, int type, unsigned port,
		       struct sn_err *err)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (addr && inet_pton(AF_INET, addr, &a.sin_addr) != 1)
		return sn_err_msg(err, EINVAL, "DEMOCHAIN_BIND=`%s`: not an IPv4 address", addr);
	if (!addr && m->peer[m->index].listed)
		a.sin_addr = m->peer[m->index].addr.sin_addr;
	for (int attempt = 0; attempt < 2; attempt++) {
		_cleanup_close_ int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		int one = 1;
		if (fd < 0)
			return sn_err_sys(err, "socket");
		if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			return sn_err_sys(err, "SO_REUSEADDR");
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			if (type == SOCK_STREAM && listen(fd, 16) < 0)
				return sn_err_sys(err, "listen on port %u", port);
			return steal_fd(fd);
		}
		char s[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a.sin_addr, s, sizeof(s));
		if (errno != EADDRNOTAVAIL || attempt)
			return sn_err_sys(err, "bind %s:%u", s, port);
		a.sin_addr.s_addr = htonl(INADDR_ANY);
	}
	return -EINVAL;
}

static void send_udp(struct dc_member *m, unsigned to, const char *buf, size_t len)
{
	int fd = *(int *)m->ctx;
	/* loss is fine: every round sends votes and status again */
	(void)sendto(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&m->peer[to].addr,
		     sizeof(m->peer[to].addr));
}

/* Peers moved: peers.json is rewritten in place, so its mtime says when. */
static void follow_peers_file(struct dc_member *m, const char *path, struct timespec *seen)
{
	struct stat st;
	if (!path || stat(path, &st) < 0 || (st.st_mtim.tv_sec == seen->tv_sec && st.st_mtim.tv_nsec == seen->tv_nsec))
		return;
	struct sn_err err = { 0 };
	if (dc_peers_load_json(m, path, &err) < 0)
		sn_warn("member %u: %s", m->index, err.msg);
	else
		*seen = st.st_mtim;
}

static void say_hello(const struct dc_member *m, const char *data, const char *peers)
{
	char host[256] = "?";
	gethostname(host, sizeof(host) - 1);
	printf("member %u of %u on %s at height %" PRIu64 "; peers: %s\n", m->index, m->members, host,
	       m->store.height, peers);
	if (m->store.height)
		printf("member %u resumes from %s: block %" PRIu64 " %.16s\n", m->index, data, m->store.height,
		       m->store.last_hash);
	if (m->store.cut_bytes)
		printf("member %u cut %" PRIu64 " bytes of a torn last block from %s\n", m->index,
		       m->store.cut_bytes, data);
}

static int run(struct dc_member *m, const struct config *c, int udp, int tcp)
{
	struct timespec peers_seen = { 0 };
	int64_t next_peers_check = 0;
	dc_member_start(m, sn_now_ms());
	while (!stopping) {
		struct pollfd p[2] = { { .fd = udp, .events = POLLIN }, { .fd = tcp, .events = POLLIN } };
		if (poll(p, 2, 50) < 0 && errno != EINTR)
			return -errno;
		int64_t now = sn_now_ms();
		for (int i = 0; i < 256 && (p[0].revents & POLLIN); i++) {
			char buf[DC_MSG_MAX];
			ssize_t n = recv(udp, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0)
				break;
			dc_member_receive(m, buf, (size_t)n, now);
		}
		if (p[1].revents & POLLIN)
			dc_rpc_serve_one(m, tcp, now);
		if (now >= next_peers_check) {
			follow_peers_file(m, c->peers_file, &peers_seen);
			next_peers_check = now + 2000;
		}
		dc_member_tick(m, sn_now_ms());
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		fputs("usage: demochain (configured by SUBNODE_* and DEMOCHAIN_* environment variables; "
		      "see docs/DEMOCHAIN.md)\n", stderr);
		return strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	static struct dc_member m; /* the tally and queue are large: not on the stack */
	struct config c = { 0 };
	struct sn_err err = { 0 };
	char genesis[DC_HASH_HEX + 1];
	if (read_config(&m, &c, &err) < 0 || dc_genesis_hash(c.chain, genesis, &err) < 0) {
		fprintf(stderr, "demochain: %s\n", err.msg);
		return 2;
	}
	memcpy(m.tag, genesis, DC_TAG_LEN);
	if (dc_store_open(&m.store, c.data, genesis, m.index, &err) < 0) {
		fprintf(stderr, "demochain: member %u: %s\n", m.index, err.msg);
		return 1;
	}
	_cleanup_close_ int udp = bind_socket(&m, c.bind, SOCK_DGRAM, (unsigned)c.port, &err);
	_cleanup_close_ int tcp = udp < 0 ? -1 : bind_socket(&m, c.bind, SOCK_STREAM, (unsigned)c.port + 1, &err);
	if (udp < 0 || tcp < 0) {
		fprintf(stderr, "demochain: member %u: %s\n", m.index, err.msg);
		dc_store_close(&m.store);
		return 1;
	}
	m.send = send_udp;
	m.ctx = &udp;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	say_hello(&m, c.data, c.peers);
	int r = run(&m, &c, udp, tcp);
	printf("member %u stops at height %" PRIu64 "%s\n", m.index, m.store.height,
	       stopping ? " (signal)" : "");
	dc_store_close(&m.store);
	return r < 0 ? 1 : 0;
}
