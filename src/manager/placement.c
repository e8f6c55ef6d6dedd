/* placement.c — the placement rule and the seed chain of placement.h.
 *
 * Speed: scoring is two multiplications and shifts per node, so a chain of
 * 16 over 10,000 nodes is ~10,000 scores; the best are kept in a bounded
 * max-heap of 4·need + 16 and only those are sorted and walked. When the
 * operator rule rejects so many that the heap runs dry, the walk restarts
 * over every candidate fully sorted — the heap is only a shortcut to the
 * same prefix of the same order, so the answer never depends on which path
 * ran (the unit tests compare both).
 */
#include "manager/placement.h"
#include "base/cleanup.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t z)
{
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ULL;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z;
}

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* SHA-256 over up to four pieces. */
static int sha256_parts(const void *const *p, const size_t *len, size_t n, uint8_t out[32],
			struct sn_err *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c)
		return sn_err_set(err, ENOMEM, "sha256");
	int ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(c, p[i], len[i]);
	unsigned int olen = 0;
	if (ok)
		ok = EVP_DigestFinal_ex(c, out, &olen);
	EVP_MD_CTX_free(c);
	return ok && olen == 32 ? 0 : sn_err_msg(err, EIO, "sha256: OpenSSL digest failed");
}

int mgr_place_prepare(struct mgr_cand *c, size_t n, struct sn_err *err)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t h[32];
		const void *p[] = { c[i].name };
		size_t l[] = { strlen(c[i].name) };
		int r = sha256_parts(p, l, 1, h, err);
		if (r)
			return r;
		c[i].key = be64(h);
	}
	return 0;
}

size_t mgr_operator_cap(size_t members)
{
	size_t cap = members > 0 ? (members - 1) / 3 : 0;
	return cap < 1 ? 1 : cap;
}

struct scored {
	uint64_t score;
	size_t idx;
};

struct walk {
	const struct mgr_cand *c;
	const struct mgr_place_req *req;
	size_t cap;
	size_t *picked;
	size_t npicked;
};

/* Total order: score, then name (names are unique). */
static int cmp_scored(const struct scored *a, const struct scored *b, const struct mgr_cand *c)
{
	if (a->score != b->score)
		return a->score < b->score ? -1 : 1;
	return strcmp(c[a->idx].name, c[b->idx].name);
}

static int qsort_cmp(const void *a, const void *b, void *c)
{
	return cmp_scored(a, b, c);
}

static const char *op_of(const char *op, const char *node)
{
	return op && *op ? op : node;
}

static size_t op_count(const struct walk *w, const char *op)
{
	size_t k = 0;
	for (size_t i = 0; i < w->req->nfixed; i++)
		if (strcmp(op_of(w->req->fixed[i].operator, w->req->fixed[i].node), op) == 0)
			k++;
	for (size_t i = 0; i < w->npicked; i++) {
		const struct mgr_cand *p = &w->c[w->picked[i]];
		if (strcmp(op_of(p->operator, p->name), op) == 0)
			k++;
	}
	return k;
}

/* Walk sorted candidates; true when need was reached. */
static bool walk_sorted(struct walk *w, const struct scored *s, size_t n)
{
	w->npicked = 0;
	for (size_t i = 0; i < n && w->npicked < w->req->need; i++) {
		const struct mgr_cand *cand = &w->c[s[i].idx];
		if (op_count(w, op_of(cand->operator, cand->name)) < w->cap)
			w->picked[w->npicked++] = s[i].idx;
	}
	return w->npicked == w->req->need;
}

static bool is_excluded(const struct mgr_place_req *req, const char *name)
{
	for (size_t i = 0; i < req->nfixed; i++)
		if (strcmp(req->fixed[i].node, name) == 0)
			return true;
	for (size_t i = 0; i < req->nexclude; i++)
		if (strcmp(req->exclude[i], name) == 0)
			return true;
	return false;
}

/* Max-heap on the total order, of at most cap entries: keeps the smallest. */
static void heap_push(struct scored *h, size_t *n, size_t cap, struct scored v,
		      const struct mgr_cand *c)
{
	if (*n == cap) {
		if (cmp_scored(&v, &h[0], c) >= 0)
			return;
		size_t i = 0;
		for (;;) {  /* v replaces the root; sift it down */
			size_t l = 2 * i + 1, r = l + 1, m = l;
			if (l >= *n)
				break;
			if (r < *n && cmp_scored(&h[r], &h[l], c) > 0)
				m = r;
			if (cmp_scored(&h[m], &v, c) <= 0)
				break;
			h[i] = h[m];
			i = m;
		}
		h[i] = v;
		return;
	}
	size_t i = (*n)++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (cmp_scored(&h[p], &v, c) >= 0)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = v;
}

static size_t count_operators(const struct mgr_cand *c, const struct scored *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *op = op_of(c[s[i].idx].operator, c[s[i].idx].name);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(op_of(c[s[j].idx].operator, c[s[j].idx].name), op) == 0;
		if (!seen)
			k++;
	}
	return k;
}

int mgr_place(const struct mgr_cand *c, size_t n, const struct mgr_place_req *req,
	      size_t *picked, struct sn_err *err)
{
	if (req->need == 0)
		return 0;
	if (req->nfixed + req->need > req->members)
		return sn_err_msg(err, EINVAL, "placement of chain `%s`: %zu kept + %zu new members"
				  " exceed its %zu", req->chain_id, req->nfixed, req->need,
				  req->members);
	uint8_t h[32];
	const char *draw = req->draw ? req->draw : req->chain_id;
	const void *p[] = { req->seed, draw };
	size_t l[] = { MGR_SEED_LEN, strlen(draw) };
	int r = sha256_parts(p, l, 2, h, err);
	if (r)
		return r;
	uint64_t k1 = be64(h), k2 = be64(h + 8);

	size_t hcap = 4 * req->need + 16;
	_cleanup_free_ struct scored *heap = malloc(hcap * sizeof(*heap));
	if (!heap)
		return sn_err_set(err, ENOMEM, "placement of chain `%s`", req->chain_id);
	size_t nh = 0, eligible = 0;
	bool any_excluded = req->nfixed + req->nexclude > 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].free_units < req->units || (any_excluded && is_excluded(req, c[i].name)))
			continue;
		eligible++;
		struct scored v = { mix(mix(c[i].key ^ k1) ^ k2), i };
		/* most nodes lose to the heap's worst on the score alone */
		if (nh == hcap && v.score > heap[0].score)
			continue;
		heap_push(heap, &nh, hcap, v, c);
	}
	if (eligible < req->need)
		return sn_err_msg(err, ENOSPC, "placement of chain `%s`: %zu member%s need%s %zu"
				  " distinct active node%s with %lld free unit%s; %zu eligible",
				  req->chain_id, req->need, req->need == 1 ? "" : "s",
				  req->need == 1 ? "s" : "", req->need, req->need == 1 ? "" : "s",
				  (long long)req->units, req->units == 1 ? "" : "s", eligible);
	struct walk w = { .c = c, .req = req, .cap = mgr_operator_cap(req->members),
			  .picked = picked };
	qsort_r(heap, nh, sizeof(*heap), qsort_cmp, (void *)c);
	if (walk_sorted(&w, heap, nh))
		return 0;
	if (nh < eligible) {
		_cleanup_free_ struct scored *all = malloc(eligible * sizeof(*all));
		if (!all)
			return sn_err_set(err, ENOMEM, "placement of chain `%s`", req->chain_id);
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (c[i].free_units >= req->units && !is_excluded(req, c[i].name))
				all[k++] = (struct scored){ mix(mix(c[i].key ^ k1) ^ k2), i };
		qsort_r(all, k, sizeof(*all), qsort_cmp, (void *)c);
		if (walk_sorted(&w, all, k))
			return 0;
		return sn_err_msg(err, ENOSPC, "placement of chain `%s`: %zu members allow at most"
				  " %zu on the nodes of one operator; the %zu eligible nodes belong"
				  " to %zu operators, too few", req->chain_id, req->members, w.cap,
				  eligible, count_operators(c, all, k));
	}
	return sn_err_msg(err, ENOSPC, "placement of chain `%s`: %zu members allow at most %zu on"
			  " the nodes of one operator; the %zu eligible nodes belong to %zu"
			  " operators, too few", req->chain_id, req->members, w.cap, eligible,
			  count_operators(c, heap, nh));
}

int mgr_seed_genesis(const uint8_t *genesis, size_t len, uint8_t out[MGR_SEED_LEN],
		     struct sn_err *err)
{
	static const char tag[] = "subnode/genesis/v1";
	const void *p[] = { tag, genesis };
	size_t l[] = { sizeof(tag) - 1, len };
	return sha256_parts(p, l, 2, out, err);
}

int mgr_seed_next(const uint8_t prev[MGR_SEED_LEN], uint64_t epoch, const uint8_t *beacon,
		  size_t beacon_len, uint8_t out[MGR_SEED_LEN], struct sn_err *err)
{
	static const char tag[] = "subnode/epoch/v1";
	uint8_t e[8];
	for (int i = 0; i < 8; i++)
		e[i] = (uint8_t)(epoch >> (56 - 8 * i));
	const void *p[] = { tag, prev, e, beacon ? (const void *)beacon : (const void *)"" };
	size_t l[] = { sizeof(tag) - 1, MGR_SEED_LEN, 8, beacon ? beacon_len : 0 };
	return sha256_parts(p, l, 4, out, err);
}

void mgr_hex(const uint8_t *b, size_t len, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * len] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mgr_unhex(const char *s, uint8_t *out, size_t max_len, size_t *len)
{
	size_t n = strlen(s);
	if (n % 2 || n / 2 > max_len)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}
