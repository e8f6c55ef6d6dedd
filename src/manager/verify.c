/* verify.c — `subnode-manager verify`: the decision log checked from its
 * lines alone (dlog.h). For each line: it is JSON in canonical form, its
 * hash is the SHA-256 of its content, its seq follows the one before and
 * its prev is that entry's hash; the genesis and every epoch seed are
 * re-derived (placement.h, the seed chain); every placement is re-run on
 * the input it records with the seed of its epoch and must give the same
 * nodes (a rotation draws with its own log position, checked too); a
 * release names its chain, member and node. Each problem is one line of the report naming the entry; the
 * walk goes on after a problem so that one run names them all.
 */
#include "manager/decide.h"
#include "manager/dlog.h"
#include "manager/placement.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vstate {
	FILE *out;
	struct mgr_verify_report *rep;
	uint64_t seq;
	char prev[65];
	bool have_seed;
	uint8_t seed[MGR_SEED_LEN];
	uint64_t epoch;
};

__attribute__((format(printf, 3, 4)))
static void problem(struct vstate *v, size_t line, const char *fmt, ...)
{
	va_list ap;
	fprintf(v->out, "line %zu: ", line);
	va_start(ap, fmt);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
	fputc('\n', v->out);
	v->rep->problems++;
}

static const char *str(json_t *e, const char *key)
{
	const char *s = json_string_value(json_object_get(e, key));
	return s ? s : "";
}

static void check_seed(struct vstate *v, size_t line, json_t *e, const char *what,
		       const uint8_t want[MGR_SEED_LEN])
{
	char hex[2 * MGR_SEED_LEN + 1];
	mgr_hex(want, MGR_SEED_LEN, hex);
	if (strcmp(str(e, "seed"), hex) != 0)
		problem(v, line, "%s: seed %.16s… does not follow from the chain (expected %.16s…)",
			what, str(e, "seed"), hex);
	memcpy(v->seed, want, MGR_SEED_LEN);
	v->have_seed = true;
}

static void check_genesis(struct vstate *v, size_t line, json_t *e)
{
	uint8_t g[256], seed[MGR_SEED_LEN];
	size_t gl;
	struct sn_err err = { 0 };
	if (v->have_seed)
		problem(v, line, "genesis: a second genesis entry");
	if (mgr_unhex(str(e, "genesis"), g, sizeof(g), &gl) || gl == 0) {
		problem(v, line, "genesis: `genesis` is not hex");
		return;
	}
	if (mgr_seed_genesis(g, gl, seed, &err)) {
		problem(v, line, "genesis: %s", err.msg);
		return;
	}
	v->epoch = 0;
	check_seed(v, line, e, "genesis", seed);
}

static void check_epoch(struct vstate *v, size_t line, json_t *e)
{
	uint8_t beacon[256], seed[MGR_SEED_LEN];
	size_t bl = 0;
	struct sn_err err = { 0 };
	json_t *ep = json_object_get(e, "epoch");
	if (!v->have_seed) {
		problem(v, line, "epoch: no genesis before it");
		return;
	}
	if (!json_is_integer(ep) || (uint64_t)json_integer_value(ep) != v->epoch + 1)
		problem(v, line, "epoch: number is not %" PRIu64, v->epoch + 1);
	if (mgr_unhex(str(e, "beacon"), beacon, sizeof(beacon), &bl)) {
		problem(v, line, "epoch %" PRIu64 ": `beacon` is not hex", v->epoch + 1);
		return;
	}
	v->epoch++;
	if (mgr_seed_next(v->seed, v->epoch, beacon, bl, seed, &err)) {
		problem(v, line, "epoch: %s", err.msg);
		return;
	}
	char what[64];
	snprintf(what, sizeof(what), "epoch %" PRIu64, v->epoch);
	check_seed(v, line, e, what, seed);
}

static void check_place(struct vstate *v, size_t line, json_t *e)
{
	const char *chain = str(e, "chain");
	json_t *ep = json_object_get(e, "epoch");
	v->rep->placements++;
	if (!v->have_seed) {
		problem(v, line, "place `%s`: no genesis before it", chain);
		return;
	}
	if (!json_is_integer(ep) || (uint64_t)json_integer_value(ep) != v->epoch)
		problem(v, line, "place `%s`: recorded in epoch %lld but the log is in epoch %" PRIu64,
			chain, (long long)json_integer_value(ep), v->epoch);
	/* a rotation draws anew, from its own position in the log: a draw the
	 * manager could choose would let it choose the node */
	json_t *draw = json_object_get(e, "draw");
	char want[300];
	mgr_decide_draw(str(e, "chain_id"), (uint64_t)json_integer_value(json_object_get(e, "seq")),
			want, sizeof(want));
	if ((draw || !strcmp(str(e, "cause"), "rotate")) && strcmp(str(e, "draw"), want) != 0)
		problem(v, line, "place `%s`: draw `%s` is not `%s`", chain, str(e, "draw"), want);
	int same = 0;
	_cleanup_free_ char *got = NULL;
	struct sn_err err = { 0 };
	if (mgr_decide_recheck(e, v->seed, &same, &got, &err)) {
		problem(v, line, "place `%s`: %s", chain, err.msg);
		return;
	}
	if (!same) {
		_cleanup_free_ char *rec = json_dumps(json_object_get(e, "picked"), JSON_COMPACT);
		problem(v, line, "place `%s`: recomputed %s but the log says %s", chain,
			got ? got : "?", rec ? rec : "?");
	}
}

static void check_line(struct vstate *v, size_t lineno, const char *line, size_t len)
{
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *e = NULL;
	v->rep->entries++;
	if (sn_json_loadb(line, len, "entry", &e, &err) || !json_is_object(e)) {
		problem(v, lineno, "not a JSON object (%s)", err.code ? err.msg : "other type");
		v->seq++;
		v->prev[0] = 0;  /* unknown: the next link is reported against this */
		return;
	}
	_cleanup_free_ char *canon = mgr_dlog_canonical(e);
	if (!canon || strlen(canon) != len || memcmp(canon, line, len) != 0)
		problem(v, lineno, "not in canonical form (the bytes were edited)");
	char hash[65];
	if (mgr_dlog_entry_hash(e, hash, &err))
		problem(v, lineno, "%s", err.msg);
	else if (strcmp(hash, str(e, "hash")) != 0)
		problem(v, lineno, "hash does not match the entry's content");
	json_t *seq = json_object_get(e, "seq");
	if (!json_is_integer(seq) || (uint64_t)json_integer_value(seq) != v->seq + 1)
		problem(v, lineno, "seq is not %" PRIu64, v->seq + 1);
	if (v->prev[0] && strcmp(str(e, "prev"), v->prev) != 0)
		problem(v, lineno, "broken link: prev is not the hash of the entry before");
	v->seq++;
	snprintf(v->prev, sizeof(v->prev), "%s", str(e, "hash"));

	const char *kind = str(e, "kind");
	if (strcmp(kind, "genesis") == 0) {
		check_genesis(v, lineno, e);
	} else if (strcmp(kind, "epoch") == 0) {
		check_epoch(v, lineno, e);
		v->rep->epochs++;
	} else if (strcmp(kind, "place") == 0) {
		check_place(v, lineno, e);
	} else if (strcmp(kind, "release") == 0) {
		if (!*str(e, "chain") || !*str(e, "node") || !json_is_integer(json_object_get(e, "index")))
			problem(v, lineno, "release: chain, index and node are required");
	} else if (strcmp(kind, "node") && strcmp(kind, "chain-rm")) {
		problem(v, lineno, "unknown kind `%s`", kind);
	}
}

int mgr_dlog_verify(const char *buf, size_t len, struct mgr_verify_report *rep,
		    struct sn_err *err)
{
	memset(rep, 0, sizeof(*rep));
	size_t tlen = 0;
	struct vstate v = { .rep = rep };
	memset(v.prev, '0', 64);
	v.prev[64] = 0;
	v.out = open_memstream(&rep->text, &tlen);
	if (!v.out)
		return sn_err_sys(err, "verify: report buffer");
	size_t lineno = 0;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
		lineno++;
		if (l == 0 && !nl)
			break;
		if (l == 0)
			problem(&v, lineno, "empty line");
		else
			check_line(&v, lineno, buf + off, l);
		off += l + (nl ? 1 : 0);
	}
	if (lineno == 0 || rep->entries == 0)
		problem(&v, 0, "the log is empty");
	if (fclose(v.out) != 0)
		return sn_err_sys(err, "verify: report buffer");
	if (rep->problems)
		return sn_err_msg(err, EBADMSG, "decision log: %zu problem%s in %zu entries",
				  rep->problems, rep->problems == 1 ? "" : "s", rep->entries);
	return 0;
}

void mgr_verify_report_free(struct mgr_verify_report *rep)
{
	free(rep->text);
	rep->text = NULL;
}
