/* chain.c — see chain.h. Progress goes to stdout, one line per event (the
 * member's log, which `subnode logs` shows); problems to stderr. */
#include "chain.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- peers */

static int set_peer(struct dc_member *m, unsigned long long i, const char *host, unsigned long long port,
		    struct sn_err *err)
{
	if (i >= m->members)
		return sn_err_msg(err, EINVAL, "peer %llu: not below the %u members", i, m->members);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (port == 0 || port > 65535 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return sn_err_msg(err, EINVAL, "peer %llu: `%s:%llu` is not an IPv4 address and port", i, host, port);
	m->peer[i].listed = true;
	m->peer[i].addr = a;
	return 0;
}

int dc_peers_parse(struct dc_member *m, const char *list, struct sn_err *err)
{
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return sn_err_set(err, ENOMEM, "SUBNODE_PEERS");
	char *save = NULL;
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		unsigned long long i, port;
		char host[64];
		int used = 0;
		if (sscanf(e, "%llu=%63[0-9.]:%llu%n", &i, host, &port, &used) != 3 || e[used])
			return sn_err_msg(err, EINVAL, "SUBNODE_PEERS: `%s` is not index=address:port", e);
		int r = set_peer(m, i, host, port, err);
		if (r < 0)
			return sn_err_wrap(err, "SUBNODE_PEERS");
	}
	return 0;
}

int dc_peers_load_json(struct dc_member *m, const char *path, struct sn_err *err)
{
	_cleanup_json_ json_t *a = NULL;
	int r = sn_json_load_file(path, 1 << 20, &a, err);
	if (r < 0)
		return r;
	json_t *peers = json_object_get(a, "peers"), *p;
	size_t k;
	if (!json_is_array(peers))
		return sn_err_msg(err, EINVAL, "`%s`: no peers array", path);
	json_array_foreach(peers, k, p) {
		const char *host = json_string_value(json_object_get(p, "address"));
		json_int_t i = json_integer_value(json_object_get(p, "index"));
		json_int_t port = json_integer_value(json_object_get(p, "port"));
		if (!host || !*host || port <= 0 || i < 0)
			continue; /* a seat not placed yet */
		if ((r = set_peer(m, (unsigned long long)i, host, (unsigned long long)port, err)) < 0)
			return sn_err_wrap(err, "`%s`", path);
	}
	return 0;
}

/* ---- sending */

static void send_msg(struct dc_member *m, int to, const struct dc_msg *msg)
{
	char buf[DC_MSG_MAX];
	int n = dc_msg_format(msg, m->tag, buf, sizeof(buf));
	if (n < 0)
		return;
	for (unsigned i = 0; i < m->members; i++)
		if (i != m->index && m->peer[i].listed && (to < 0 || (unsigned)to == i))
			m->send(m, i, buf, (size_t)n);
}

static void send_status(struct dc_member *m)
{
	struct dc_msg s = { .kind = DC_MSG_STATUS, .from = m->index, .height = m->store.height };
	memcpy(s.hash, m->store.last_hash, sizeof(s.hash));
	send_msg(m, -1, &s);
}

/* At most one request in flight (200 ms), unless `now` forces one. */
static void ask_blocks(struct dc_member *m, unsigned from, int64_t now, bool force)
{
	if (!force && now - m->last_get_ms < 200)
		return;
	m->last_get_ms = now;
	m->get_until = m->store.height + DC_FETCH_BATCH;
	struct dc_msg g = { .kind = DC_MSG_GET, .from = m->index, .height = m->store.height };
	send_msg(m, (int)from, &g);
}

/* ---- heights */

static void on_block_msg(struct dc_member *m, const struct dc_msg *msg, int64_t now);

static void enter_height(struct dc_member *m, int64_t now)
{
	dc_tally_reset(&m->tally, m->members, m->store.height + 1);
	m->voted = false;
	m->round = -1;
	m->height_since_ms = now;
	struct dc_msg later[DC_PENDING_MAX];
	unsigned n = m->npending;
	memcpy(later, m->pending, n * sizeof(later[0]));
	m->npending = 0;
	for (unsigned i = 0; i < n; i++)
		on_block_msg(m, &later[i], now);
}

static void finalize(struct dc_member *m, const struct dc_block *final, unsigned from, int64_t now)
{
	struct dc_block b = *final; /* the tally goes with the height */
	struct sn_err err = { 0 };
	if (dc_store_append(&m->store, &b, &err) < 0) {
		sn_warn("member %u: %s", m->index, err.msg);
		return;
	}
	if (from == m->index) {
		m->n.final_voted++;
		printf("member %u block %" PRIu64 " %.16s by member %u (round %u, %u of %u votes)\n",
		       m->index, b.height, b.hash, b.proposer, b.round, dc_tally_count(&m->tally, b.hash),
		       m->members);
	} else {
		m->n.final_fetched++;
		if (b.height == m->get_until || b.height >= m->peer[from].height)
			printf("member %u caught up to block %" PRIu64 " %.16s from member %u\n", m->index,
			       b.height, b.hash, from);
	}
	enter_height(m, now);
}

static int vote_for(struct dc_member *m, const struct dc_block *b, char kind, int64_t now);

/* A block is final, or the epoch can yield none and the next one opens. */
static void settle(struct dc_member *m, int64_t now)
{
	const struct dc_block *f = dc_tally_final(&m->tally);
	if (f) {
		finalize(m, f, m->index, now);
		return;
	}
	if (!dc_tally_hopeless(&m->tally))
		return;
	struct dc_block b = *dc_tally_lowest_voted(&m->tally);
	m->n.epochs++;
	dc_tally_new_epoch(&m->tally, m->tally.epoch + 1);
	m->voted = false;
	printf("member %u: votes at height %" PRIu64 " split, no block can be final: epoch %u\n",
	       m->index, b.height, m->tally.epoch);
	vote_for(m, &b, DC_MSG_VOTE, now);
}

/* On disk first, then counted and sent: a restart cannot vote twice. */
static int vote_for(struct dc_member *m, const struct dc_block *b, char kind, int64_t now)
{
	struct sn_err err = { 0 };
	if (dc_store_save_vote(&m->store, m->tally.epoch, b, &err) < 0) {
		sn_warn("member %u: vote at height %" PRIu64 ": %s", m->index, b->height, err.msg);
		return -1;
	}
	dc_tally_add_block(&m->tally, b);
	dc_tally_vote(&m->tally, m->index, b->hash);
	m->voted = true;
	m->my_vote = *b;
	m->n.votes_sent++;
	struct dc_msg v = { .kind = kind, .from = m->index, .epoch = m->tally.epoch, .block = *b };
	send_msg(m, -1, &v);
	settle(m, now);
	return 0;
}

static void propose(struct dc_member *m, int64_t now)
{
	struct dc_block b = { .height = m->store.height + 1, .proposer = m->index,
			      .round = (unsigned)m->round, .time_ms = sn_wall_ms() };
	memcpy(b.prev, m->store.last_hash, sizeof(b.prev));
	snprintf(b.payload, sizeof(b.payload), "member-%u.round-%u.tx-%" PRIu64, m->index, b.round,
		 m->n.proposals);
	struct sn_err err = { 0 };
	if (dc_block_seal(&b, &err) < 0) {
		sn_warn("member %u: propose: %s", m->index, err.msg);
		return;
	}
	m->n.proposals++;
	vote_for(m, &b, DC_MSG_PROPOSE, now);
}

static bool candidate_ok(const struct dc_member *m, const struct dc_block *b)
{
	return b->height == m->store.height + 1 && strcmp(b->prev, m->store.last_hash) == 0 &&
	       b->proposer == dc_proposer(b->height, b->round, m->members);
}

/* A proposal or a vote. */
static void on_block_msg(struct dc_member *m, const struct dc_msg *msg, int64_t now)
{
	const struct dc_block *b = &msg->block;
	if (b->height <= m->store.height)
		return;
	if (b->height > m->store.height + 1) {
		if (m->npending < DC_PENDING_MAX)
			m->pending[m->npending++] = *msg;
		ask_blocks(m, msg->from, now, false);
		return;
	}
	if (!candidate_ok(m, b)) {
		m->n.messages_bad++;
		return;
	}
	dc_tally_add_block(&m->tally, b);
	if (msg->epoch < m->tally.epoch)
		return; /* a vote of a dead epoch: its block only */
	if (msg->epoch > m->tally.epoch) {
		/* the sender saw this epoch's votes split: so would we */
		m->n.epochs++;
		dc_tally_new_epoch(&m->tally, msg->epoch);
		m->voted = false;
	}
	bool fresh = m->tally.vote[msg->from][0] == 0;
	if (dc_tally_vote(&m->tally, msg->from, b->hash) == 0 && fresh)
		m->n.votes_received++;
	if (!m->voted)
		vote_for(m, b, DC_MSG_VOTE, now);
	else
		settle(m, now);
}

static void on_status(struct dc_member *m, const struct dc_msg *msg, int64_t now)
{
	struct dc_peer *p = &m->peer[msg->from];
	p->height = msg->height;
	memcpy(p->hash, msg->hash, sizeof(p->hash));
	if (msg->height > m->store.height)
		ask_blocks(m, msg->from, now, false);
	else if (msg->height == m->store.height && strcmp(msg->hash, m->store.last_hash) != 0) {
		m->n.forks_seen++;
		sn_warn("member %u: member %u has block %" PRIu64 " %.16s, we have %.16s", m->index,
			msg->from, msg->height, msg->hash, m->store.last_hash);
	}
}

static void on_get(struct dc_member *m, const struct dc_msg *msg)
{
	uint64_t last = msg->height + DC_FETCH_BATCH;
	for (uint64_t h = msg->height + 1; h <= last && h <= m->store.height; h++) {
		struct dc_msg b = { .kind = DC_MSG_BLOCK, .from = m->index };
		struct sn_err err = { 0 };
		if (dc_store_get(&m->store, h, &b.block, &err) < 0) {
			sn_warn("member %u: %s", m->index, err.msg);
			return;
		}
		send_msg(m, (int)msg->from, &b);
	}
}

static void on_block(struct dc_member *m, const struct dc_msg *msg, int64_t now)
{
	if (msg->block.height != m->store.height + 1)
		return;
	if (msg->block.height > m->peer[msg->from].height)
		m->peer[msg->from].height = msg->block.height;
	finalize(m, &msg->block, msg->from, now);
	if (m->store.height == m->get_until && m->peer[msg->from].height > m->store.height)
		ask_blocks(m, msg->from, now, true);
}

void dc_member_receive(struct dc_member *m, const char *buf, size_t len, int64_t now)
{
	struct dc_msg msg;
	struct sn_err err = { 0 };
	m->n.messages_in++;
	if (dc_msg_parse(buf, len, m->tag, m->members, &msg, &err) < 0 || msg.from == m->index) {
		m->n.messages_bad++;
		return;
	}
	m->peer[msg.from].seen_ms = now;
	switch (msg.kind) {
	case DC_MSG_PROPOSE:
	case DC_MSG_VOTE:
		on_block_msg(m, &msg, now);
		break;
	case DC_MSG_STATUS:
		on_status(m, &msg, now);
		break;
	case DC_MSG_GET:
		on_get(m, &msg);
		break;
	case DC_MSG_BLOCK:
		on_block(m, &msg, now);
		break;
	}
}

/* ---- the clock */

void dc_member_start(struct dc_member *m, int64_t now)
{
	enter_height(m, now);
	struct dc_block b;
	unsigned epoch;
	if (dc_store_load_vote(&m->store, &epoch, &b) && candidate_ok(m, &b)) {
		/* voted before a restart: that vote stands */
		dc_tally_new_epoch(&m->tally, epoch);
		dc_tally_add_block(&m->tally, &b);
		dc_tally_vote(&m->tally, m->index, b.hash);
		m->voted = true;
		m->my_vote = b;
	}
	m->next_status_ms = now;
}

static void enter_round(struct dc_member *m, long r, int64_t now)
{
	m->round = r;
	m->n.rounds++;
	if (m->voted) {
		struct dc_msg v = { .kind = m->my_vote.proposer == m->index ? DC_MSG_PROPOSE : DC_MSG_VOTE,
				    .from = m->index, .epoch = m->tally.epoch, .block = m->my_vote };
		send_msg(m, -1, &v);
	} else if (m->tally.ncand > 0) {
		vote_for(m, &m->tally.cand[0], DC_MSG_VOTE, now);
	} else if (dc_proposer(m->store.height + 1, (unsigned)r, m->members) == m->index) {
		propose(m, now);
	}
}

void dc_member_tick(struct dc_member *m, int64_t now)
{
	if (now >= m->next_status_ms) {
		send_status(m);
		m->next_status_ms = now + m->status_ms;
	}
	int64_t t0 = m->height_since_ms + m->block_ms;
	if (now < t0)
		return;
	long r = (long)((now - t0) / m->round_ms);
	if (r != m->round)
		enter_round(m, r, now);
}
