/* rpc.c — see rpc.h. The JSON is written by hand: every string in it is
 * hex, digits, an IPv4 address or a payload of [A-Za-z0-9._:=-]. */
#include "rpc.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/fs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BLOCKS_LIMIT 500

static void status_json(struct dc_member *m, FILE *f, int64_t now)
{
	fprintf(f, "{\"index\":%u,\"members\":%u,\"quorum\":%u,\"chain\":\"%s\",\"height\":%" PRIu64
		   ",\"last_hash\":\"%s\",\"round\":%ld,\"epoch\":%u,\"peers\":[",
		m->index, m->members, dc_quorum(m->members), m->tag, m->store.height, m->store.last_hash,
		m->round, m->tally.epoch);
	const char *sep = "";
	for (unsigned i = 0; i < m->members; i++) {
		struct dc_peer *p = &m->peer[i];
		if (i == m->index || !p->listed)
			continue;
		char a[INET_ADDRSTRLEN] = "";
		inet_ntop(AF_INET, &p->addr.sin_addr, a, sizeof(a));
		fprintf(f, "%s{\"index\":%u,\"address\":\"%s:%u\",\"height\":%" PRIu64 ",\"hash\":\"%s\"", sep,
			i, a, ntohs(p->addr.sin_port), p->height, p->hash);
		if (p->seen_ms)
			fprintf(f, ",\"seen_ms_ago\":%" PRId64 "}", now - p->seen_ms);
		else
			fputs(",\"seen_ms_ago\":null}", f);
		sep = ",";
	}
	fputs("]}\n", f);
}

/* The value of `key` in a query string, or def. */
static uint64_t query_u64(const char *q, const char *key, uint64_t def)
{
	size_t k = strlen(key);
	for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		unsigned long long v;
		char digits[24];
		if (strncmp(p, key, k) || p[k] != '=')
			continue;
		size_t n = strcspn(p + k + 1, "&");
		if (n == 0 || n >= sizeof(digits))
			return def;
		memcpy(digits, p + k + 1, n);
		digits[n] = 0;
		return sn_parse_u64(digits, &v) == 0 ? v : def;
	}
	return def;
}

static int blocks_json(struct dc_member *m, FILE *f, const char *query)
{
	uint64_t from = query_u64(query, "from", 0);
	uint64_t limit = query_u64(query, "limit", BLOCKS_LIMIT);
	limit = limit > BLOCKS_LIMIT ? BLOCKS_LIMIT : limit;
	fputc('[', f);
	for (uint64_t h = from + 1; h <= m->store.height && h - from <= limit; h++) {
		struct dc_block b;
		struct sn_err err = { 0 };
		if (dc_store_get(&m->store, h, &b, &err) < 0)
			return -1;
		fprintf(f, "%s{\"height\":%" PRIu64 ",\"hash\":\"%s\",\"prev\":\"%s\",\"proposer\":%u,"
			   "\"round\":%u,\"time_ms\":%" PRId64 ",\"payload\":\"%s\"}",
			h > from + 1 ? ",\n" : "\n", b.height, b.hash, b.prev, b.proposer, b.round, b.time_ms,
			b.payload);
	}
	fputs("\n]\n", f);
	return 0;
}

static void metric(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name, v);
}

static void metrics_text(struct dc_member *m, FILE *f, int64_t now)
{
	const struct dc_counters *n = &m->n;
	metric(f, "demochain_height", "gauge", "Height of the last final block.", m->store.height);
	metric(f, "demochain_members", "gauge", "Members of the chain.", m->members);
	metric(f, "demochain_quorum", "gauge", "Votes that make a block final.", dc_quorum(m->members));
	metric(f, "demochain_rounds_total", "counter", "Rounds entered.", n->rounds);
	metric(f, "demochain_proposals_total", "counter", "Blocks proposed.", n->proposals);
	metric(f, "demochain_votes_total", "counter", "Votes of other members counted.", n->votes_received);
	metric(f, "demochain_votes_sent_total", "counter", "Votes of this member.", n->votes_sent);
	metric(f, "demochain_epochs_total", "counter", "Epochs opened after split votes.", n->epochs);
	metric(f, "demochain_forks_seen_total", "counter", "Peers that reported another hash at our height.",
	       n->forks_seen);
	metric(f, "demochain_messages_received_total", "counter", "Datagrams received.", n->messages_in);
	metric(f, "demochain_messages_rejected_total", "counter", "Datagrams refused.", n->messages_bad);
	fputs("# HELP demochain_blocks_final_total Blocks made final here, by how.\n"
	      "# TYPE demochain_blocks_final_total counter\n", f);
	fprintf(f, "demochain_blocks_final_total{how=\"voted\"} %" PRIu64 "\n", n->final_voted);
	fprintf(f, "demochain_blocks_final_total{how=\"fetched\"} %" PRIu64 "\n", n->final_fetched);
	fputs("# HELP demochain_peer_height Height a peer last told.\n"
	      "# TYPE demochain_peer_height gauge\n", f);
	for (unsigned i = 0; i < m->members; i++)
		if (i != m->index && m->peer[i].listed)
			fprintf(f, "demochain_peer_height{peer=\"%u\"} %" PRIu64 "\n", i, m->peer[i].height);
	fputs("# HELP demochain_peer_up Whether a peer was heard from in the last 3 s.\n"
	      "# TYPE demochain_peer_up gauge\n", f);
	for (unsigned i = 0; i < m->members; i++)
		if (i != m->index && m->peer[i].listed)
			fprintf(f, "demochain_peer_up{peer=\"%u\"} %d\n", i,
				m->peer[i].seen_ms && now - m->peer[i].seen_ms < 3000);
}

int dc_rpc_answer(struct dc_member *m, const char *path, int64_t now, char **body, size_t *len,
		  const char **type)
{
	FILE *f = open_memstream(body, len);
	if (!f)
		return 500;
	const char *q = strchr(path, '?');
	size_t plen = q ? (size_t)(q - path) : strlen(path);
	int status = 200;
	*type = "application/json";
	if (plen == 7 && strncmp(path, "/status", 7) == 0) {
		status_json(m, f, now);
	} else if (plen == 7 && strncmp(path, "/blocks", 7) == 0) {
		if (blocks_json(m, f, q ? q + 1 : "") < 0)
			status = 500;
	} else if (plen == 8 && strncmp(path, "/metrics", 8) == 0) {
		*type = "text/plain; version=0.0.4";
		metrics_text(m, f, now);
	} else {
		*type = "text/plain";
		fputs("not found: GET /status, /blocks?from=H, /metrics\n", f);
		status = 404;
	}
	if (fclose(f) != 0)
		return 500;
	return status;
}

/* The request line's path, from a head read within the socket's timeout. */
static int read_path(int fd, char *path, size_t size)
{
	char head[4096];
	size_t got = 0;
	while (got < sizeof(head) - 1) {
		ssize_t n = SN_RETRY_EINTR(recv(fd, head + got, sizeof(head) - 1 - got, 0));
		if (n <= 0)
			return -1;
		got += (size_t)n;
		head[got] = 0;
		if (strstr(head, "\r\n\r\n") || strstr(head, "\n\n"))
			break;
	}
	char method[8], fmt[32];
	snprintf(fmt, sizeof(fmt), "%%7s %%%zus", size - 1);
	if (sscanf(head, fmt, method, path) != 2)
		return -1;
	return strcmp(method, "GET") == 0 ? 0 : -1;
}

void dc_rpc_serve_one(struct dc_member *m, int listen_fd, int64_t now)
{
	_cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct timeval rt = { .tv_sec = 1 }, wt = { .tv_sec = 2 };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt)) < 0)
		return;
	char path[1024];
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	const char *type = "text/plain";
	int status = read_path(fd, path, sizeof(path)) == 0 ? dc_rpc_answer(m, path, now, &body, &len, &type)
							     : 400;
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Error", type,
			 body ? len : 0);
	if (sn_send_all(fd, head, (size_t)n, MSG_NOSIGNAL) == 0 && body)
		(void)sn_send_all(fd, body, len, MSG_NOSIGNAL);
}
