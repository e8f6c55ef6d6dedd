/* block.c — see block.h. */
#include "block.h"
#include "base/fs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dc_genesis_hash(const char *chain, char out[DC_HASH_HEX + 1], struct sn_err *err)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "subnode-demochain genesis %s", chain);
	return sn_sha256_hex(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, out, err);
}

static int hashed_part(const struct dc_block *b, char *buf, size_t size)
{
	return snprintf(buf, size, "dc1 %" PRIu64 " %s %u %u %" PRId64 " %s", b->height, b->prev,
			b->proposer, b->round, b->time_ms, b->payload);
}

int dc_block_seal(struct dc_block *b, struct sn_err *err)
{
	char buf[DC_LINE_MAX];
	int n = hashed_part(b, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return sn_err_msg(err, ENOSPC, "block %" PRIu64 ": longer than %d bytes", b->height, DC_LINE_MAX);
	return sn_sha256_hex(buf, (size_t)n, b->hash, err);
}

int dc_block_format(const struct dc_block *b, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%" PRIu64 " %s %s %u %u %" PRId64 " %s", b->height, b->hash,
			 b->prev, b->proposer, b->round, b->time_ms, b->payload);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != DC_HASH_HEX)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool payload_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > DC_PAYLOAD_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("._:=-", *s)))
			return false;
	return true;
}

/* Digits only (sn_parse_u64 would take a leading tab). */
static bool parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	if (*s < '0' || *s > '9' || sn_parse_u64(s, &v) < 0)
		return false;
	*out = v;
	return true;
}

int dc_block_parse(const char *line, struct dc_block *b, struct sn_err *err)
{
	char copy[DC_LINE_MAX];
	if (strlen(line) >= sizeof(copy))
		return sn_err_msg(err, EPROTO, "block line longer than %zu bytes", sizeof(copy) - 1);
	strcpy(copy, line);
	char *f[7], *save = NULL;
	int n = 0;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == 7)
			return sn_err_msg(err, EPROTO, "block line: more than 7 fields");
		f[n++] = t;
	}
	if (n != 7)
		return sn_err_msg(err, EPROTO, "block line: %d fields, not 7", n);
	uint64_t proposer, round, t;
	memset(b, 0, sizeof(*b));
	if (!parse_u64(f[0], &b->height) || b->height == 0)
		return sn_err_msg(err, EPROTO, "block line: bad height `%s`", f[0]);
	if (!is_hex64(f[1]) || !is_hex64(f[2]))
		return sn_err_msg(err, EPROTO, "block %" PRIu64 ": bad hash or prev", b->height);
	if (!parse_u64(f[3], &proposer) || proposer >= DC_MEMBERS_MAX ||
	    !parse_u64(f[4], &round) || round > 1000000 || !parse_u64(f[5], &t) || t > INT64_MAX)
		return sn_err_msg(err, EPROTO, "block %" PRIu64 ": bad proposer, round or time", b->height);
	if (!payload_ok(f[6]))
		return sn_err_msg(err, EPROTO, "block %" PRIu64 ": bad payload", b->height);
	strcpy(b->hash, f[1]);
	strcpy(b->prev, f[2]);
	b->proposer = (unsigned)proposer;
	b->round = (unsigned)round;
	b->time_ms = (int64_t)t;
	strcpy(b->payload, f[6]);
	char want[DC_HASH_HEX + 1];
	memcpy(want, b->hash, sizeof(want));
	int r = dc_block_seal(b, err);
	if (r < 0)
		return r;
	if (strcmp(want, b->hash) != 0)
		return sn_err_msg(err, EPROTO, "block %" PRIu64 ": hash %s does not match its content (%s)",
				  b->height, want, b->hash);
	return 0;
}

int dc_block_follows(const struct dc_block *b, uint64_t height, const char *hash, struct sn_err *err)
{
	if (b->height != height + 1)
		return sn_err_msg(err, EPROTO, "block %" PRIu64 " does not follow height %" PRIu64,
				  b->height, height);
	if (strcmp(b->prev, hash) != 0)
		return sn_err_msg(err, EPROTO, "block %" PRIu64 ": prev %.12s… is not %.12s…, the hash of block %" PRIu64,
				  b->height, b->prev, hash, height);
	return 0;
}

unsigned dc_quorum(unsigned members)
{
	return 2 * members / 3 + 1;
}

unsigned dc_proposer(uint64_t height, unsigned round, unsigned members)
{
	return (unsigned)((height + round) % members);
}

void dc_tally_reset(struct dc_tally *t, unsigned members, uint64_t height)
{
	t->members = members;
	t->height = height;
	t->epoch = 0;
	for (unsigned i = 0; i < DC_MEMBERS_MAX; i++)
		t->vote[i][0] = 0;
	t->ncand = 0;
}

void dc_tally_new_epoch(struct dc_tally *t, unsigned e)
{
	t->epoch = e;
	for (unsigned i = 0; i < DC_MEMBERS_MAX; i++)
		t->vote[i][0] = 0;
}

const struct dc_block *dc_tally_find(const struct dc_tally *t, const char *hash)
{
	for (unsigned i = 0; i < t->ncand; i++)
		if (strcmp(t->cand[i].hash, hash) == 0)
			return &t->cand[i];
	return NULL;
}

int dc_tally_add_block(struct dc_tally *t, const struct dc_block *b)
{
	if (b->height != t->height)
		return -EINVAL;
	if (dc_tally_find(t, b->hash))
		return 0;
	if (t->ncand == DC_CANDIDATES_MAX)
		return -ENOSPC;
	t->cand[t->ncand++] = *b;
	return 0;
}

int dc_tally_vote(struct dc_tally *t, unsigned member, const char *hash)
{
	if (member >= t->members)
		return -EINVAL;
	if (t->vote[member][0])
		return strcmp(t->vote[member], hash) == 0 ? 0 : -EEXIST;
	snprintf(t->vote[member], sizeof(t->vote[member]), "%s", hash);
	return 0;
}

unsigned dc_tally_count(const struct dc_tally *t, const char *hash)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->members; i++)
		if (strcmp(t->vote[i], hash) == 0)
			n++;
	return n;
}

const struct dc_block *dc_tally_final(const struct dc_tally *t)
{
	unsigned q = dc_quorum(t->members);
	for (unsigned i = 0; i < t->ncand; i++)
		if (dc_tally_count(t, t->cand[i].hash) >= q)
			return &t->cand[i];
	return NULL;
}

bool dc_tally_hopeless(const struct dc_tally *t)
{
	unsigned voted = 0, most = 0;
	for (unsigned i = 0; i < t->members; i++)
		voted += t->vote[i][0] != 0;
	for (unsigned i = 0; i < t->ncand; i++) {
		unsigned n = dc_tally_count(t, t->cand[i].hash);
		most = n > most ? n : most;
	}
	return most + (t->members - voted) < dc_quorum(t->members);
}

const struct dc_block *dc_tally_lowest_voted(const struct dc_tally *t)
{
	const struct dc_block *best = NULL;
	for (unsigned i = 0; i < t->ncand; i++)
		if (dc_tally_count(t, t->cand[i].hash) > 0 &&
		    (!best || strcmp(t->cand[i].hash, best->hash) < 0))
			best = &t->cand[i];
	return best;
}

int dc_msg_format(const struct dc_msg *m, const char *tag, char *buf, size_t size)
{
	int n = snprintf(buf, size, "dc1 %s %c %u ", tag, m->kind, m->from);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	int r;
	switch (m->kind) {
	case DC_MSG_PROPOSE:
	case DC_MSG_VOTE:
		r = snprintf(buf + n, size - (size_t)n, "%u ", m->epoch);
		if (r < 0 || (size_t)r >= size - (size_t)n)
			return -ENOSPC;
		n += r;
		/* fall through */
	case DC_MSG_BLOCK:
		r = dc_block_format(&m->block, buf + n, size - (size_t)n);
		break;
	case DC_MSG_STATUS:
		r = snprintf(buf + n, size - (size_t)n, "%" PRIu64 " %s", m->height, m->hash);
		break;
	case DC_MSG_GET:
		r = snprintf(buf + n, size - (size_t)n, "%" PRIu64, m->height);
		break;
	default:
		return -EINVAL;
	}
	if (r < 0 || (size_t)r >= size - (size_t)n)
		return -ENOSPC;
	return n + r;
}

int dc_msg_parse(const char *buf, size_t len, const char *tag, unsigned members, struct dc_msg *m,
		 struct sn_err *err)
{
	char s[DC_MSG_MAX];
	if (len >= sizeof(s))
		return sn_err_msg(err, EPROTO, "message of %zu bytes, more than %zu", len, sizeof(s) - 1);
	memcpy(s, buf, len);
	s[len] = 0;
	if (strlen(s) != len)
		return sn_err_msg(err, EPROTO, "message with a NUL byte");
	char *save = NULL;
	char *magic = strtok_r(s, " ", &save), *mtag = strtok_r(NULL, " ", &save);
	char *kind = strtok_r(NULL, " ", &save), *from = strtok_r(NULL, " ", &save);
	char *rest = save;
	uint64_t f;
	if (!magic || strcmp(magic, "dc1") != 0 || !mtag || !kind || strlen(kind) != 1 || !from || !rest)
		return sn_err_msg(err, EPROTO, "not a demochain message");
	if (strcmp(mtag, tag) != 0)
		return sn_err_msg(err, EPROTO, "message of another chain (tag %s)", mtag);
	if (!parse_u64(from, &f) || f >= members)
		return sn_err_msg(err, EPROTO, "message from `%s`, not a member", from);
	memset(m, 0, sizeof(*m));
	m->kind = kind[0];
	m->from = (unsigned)f;
	switch (m->kind) {
	case DC_MSG_PROPOSE:
	case DC_MSG_VOTE: {
		char *e = strtok_r(NULL, " ", &save);
		uint64_t epoch;
		if (!e || !parse_u64(e, &epoch) || epoch > 1000000 || !save)
			return sn_err_msg(err, EPROTO, "bad epoch in a proposal or vote");
		m->epoch = (unsigned)epoch;
		return dc_block_parse(save, &m->block, err);
	}
	case DC_MSG_BLOCK:
		return dc_block_parse(rest, &m->block, err);
	case DC_MSG_STATUS: {
		char *h = strtok_r(NULL, " ", &save), *hash = strtok_r(NULL, " ", &save);
		if (!h || !hash || strtok_r(NULL, " ", &save) || !parse_u64(h, &m->height) || !is_hex64(hash))
			return sn_err_msg(err, EPROTO, "bad status message");
		strcpy(m->hash, hash);
		return 0;
	}
	case DC_MSG_GET: {
		char *h = strtok_r(NULL, " ", &save);
		if (!h || strtok_r(NULL, " ", &save) || !parse_u64(h, &m->height))
			return sn_err_msg(err, EPROTO, "bad get message");
		return 0;
	}
	default:
		return sn_err_msg(err, EPROTO, "unknown message kind `%c`", m->kind);
	}
}
