/* test_dlog.c — the decision log and verify (dlog.h, decide.h): a log of
 * genesis, placements and an epoch verifies; one byte changed anywhere
 * fails; a placement rewritten with every hash recomputed (a forger who
 * re-chains the log) is caught by the recomputation and named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "manager/batch.h"
#include "manager/decide.h"
#include "manager/dlog.h"
#include "manager/placement.h"

struct fixture {
	char *dir;
	struct mgr_store *s;
	char *log;
	size_t len;
};

static void add_entry(struct mgr_store *s, json_t *body)
{
	struct mgr_dlog_head h;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_dlog_head(s, &h, &err), 0);
	struct mgr_batch b;
	mgr_batch_init(&b, &h, 1700000000000);
	assert_int_equal(mgr_batch_log(&b, body, &err), 0);
	assert_int_equal(mgr_batch_commit(&b, s, &err), 0);
	mgr_batch_free(&b);
	json_decref(body);
}

static void add_place(struct mgr_store *s, const uint8_t *seed, uint64_t epoch, const char *chain,
		      size_t members)
{
	struct mgr_cand c[8];
	char names[8][8], ops[8][8];
	for (int i = 0; i < 8; i++) {
		snprintf(names[i], sizeof(names[i]), "n%d", i);
		snprintf(ops[i], sizeof(ops[i]), "op%d", i % 5);
		c[i] = (struct mgr_cand){ names[i], ops[i], 16, 0 };
	}
	struct sn_err err = { 0 };
	assert_int_equal(mgr_place_prepare(c, 8, &err), 0);
	size_t picked[8];
	json_t *body;
	struct mgr_place_in in = { .cands = c, .ncands = 8, .seed = seed, .epoch = epoch,
				   .chain = chain, .chain_id = chain, .units = 1,
				   .members = members, .need = members, .cause = "create" };
	assert_int_equal(mgr_decide_place(&in, picked, &body, &err), 0);
	add_entry(s, body);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/sn-unit-dlog-XXXXXX";
	f->dir = strdup(mkdtemp(tmpl));
	struct sn_err err = { 0 };
	assert_int_equal(mgr_store_open(f->dir, &f->s, &err), 0);
	uint8_t g[4] = { 1, 2, 3, 4 }, s0[32], s1[32];
	char ghex[9], s0hex[65], s1hex[65];
	assert_int_equal(mgr_seed_genesis(g, 4, s0, &err), 0);
	mgr_hex(g, 4, ghex);
	mgr_hex(s0, 32, s0hex);
	add_entry(f->s, json_pack("{ss ss ss}", "kind", "genesis", "genesis", ghex, "seed", s0hex));
	add_place(f->s, s0, 0, "alpha.2", 4);
	add_entry(f->s, json_pack("{ss ss ss ss ss}", "kind", "node", "node", "n3", "from",
				  "active", "to", "maintenance", "cause", "admin"));
	const uint8_t beacon[] = { 0xbe, 0xac };
	assert_int_equal(mgr_seed_next(s0, 1, beacon, 2, s1, &err), 0);
	mgr_hex(s1, 32, s1hex);
	add_entry(f->s, json_pack("{ss sI ss ss}", "kind", "epoch", "epoch", (json_int_t)1,
				  "beacon", "beac", "seed", s1hex));
	add_place(f->s, s1, 1, "beta.5", 4);
	assert_int_equal(mgr_dlog_read_all(f->s, &f->log, &f->len, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct sn_err err = { 0 };
	mgr_store_close(f->s);
	sn_rm_rf(f->dir, &err);
	free(f->dir);
	free(f->log);
	free(f);
	return 0;
}

static void a_whole_log_verifies(void **state)
{
	struct fixture *f = *state;
	struct mgr_verify_report rep;
	struct sn_err err = { 0 };
	int r = mgr_dlog_verify(f->log, f->len, &rep, &err);
	if (r)
		fprintf(stderr, "%s\n%s", err.msg, rep.text);
	assert_int_equal(r, 0);
	assert_int_equal(rep.entries, 5);
	assert_int_equal(rep.placements, 2);
	assert_int_equal(rep.epochs, 1);
	assert_int_equal(rep.problems, 0);
	mgr_verify_report_free(&rep);
}

static void one_changed_byte_anywhere_fails(void **state)
{
	struct fixture *f = *state;
	/* every 7th byte of the log, one at a time, +1 */
	for (size_t i = 0; i < f->len; i += 7) {
		if (f->log[i] == '\n')
			continue;
		char *copy = malloc(f->len);
		memcpy(copy, f->log, f->len);
		copy[i] = (char)(copy[i] + 1);
		struct mgr_verify_report rep;
		struct sn_err err = { 0 };
		int r = mgr_dlog_verify(copy, f->len, &rep, &err);
		if (r != -EBADMSG)
			fprintf(stderr, "byte %zu changed was not noticed\n", i);
		assert_int_equal(r, -EBADMSG);
		assert_true(rep.problems > 0);
		mgr_verify_report_free(&rep);
		free(copy);
	}
}

static void a_dropped_entry_breaks_the_chain(void **state)
{
	struct fixture *f = *state;
	char *nl1 = memchr(f->log, '\n', f->len);
	char *nl2 = memchr(nl1 + 1, '\n', f->len - (size_t)(nl1 + 1 - f->log));
	size_t cut = (size_t)(nl2 - nl1);
	char *copy = malloc(f->len);
	memcpy(copy, f->log, (size_t)(nl1 - f->log));
	memcpy(copy + (nl1 - f->log), nl2, f->len - (size_t)(nl2 - f->log));
	struct mgr_verify_report rep;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_dlog_verify(copy, f->len - cut, &rep, &err), -EBADMSG);
	assert_non_null(strstr(rep.text, "line 2: seq is not 2"));
	assert_non_null(strstr(rep.text, "line 2: broken link"));
	mgr_verify_report_free(&rep);
	free(copy);
}

/* Rewrite line `which` (1-based) with f applied, and re-chain every hash
 * after it as a forger would. */
static char *forge(const char *log, size_t len, int which, void (*edit)(json_t *), size_t *olen)
{
	char *out = NULL;
	size_t ol = 0;
	FILE *o = open_memstream(&out, &ol);
	char prev[65] = { 0 };
	int line = 0;
	struct sn_err err = { 0 };
	for (const char *p = log; p < log + len;) {
		const char *nl = memchr(p, '\n', (size_t)(log + len - p));
		json_t *e = json_loadb(p, (size_t)(nl - p), 0, NULL);
		assert_non_null(e);
		line++;
		if (line == which)
			edit(e);
		if (prev[0])
			json_object_set_new(e, "prev", json_string(prev));
		char h[65];
		assert_int_equal(mgr_dlog_entry_hash(e, h, &err), 0);
		json_object_set_new(e, "hash", json_string(h));
		memcpy(prev, h, 65);
		char *c = mgr_dlog_canonical(e);
		fprintf(o, "%s\n", c);
		free(c);
		json_decref(e);
		p = nl + 1;
	}
	fclose(o);
	*olen = ol;
	return out;
}

static void swap_picks(json_t *e)
{
	json_t *p = json_object_get(e, "picked");
	json_t *a = json_incref(json_array_get(p, 0));
	json_array_set(p, 0, json_array_get(p, 1));
	json_array_set_new(p, 1, a);
}

static void pick_an_outsider(json_t *e)
{
	json_t *p = json_object_get(e, "picked");
	const char *first = json_string_value(json_array_get(p, 0));
	for (int i = 0; i < 8; i++) {
		char n[8];
		snprintf(n, sizeof(n), "n%d", i);
		int used = 0;
		for (size_t j = 0; j < json_array_size(p); j++)
			used |= strcmp(json_string_value(json_array_get(p, j)), n) == 0;
		if (!used && strcmp(n, first)) {
			json_array_set_new(p, 0, json_string(n));
			return;
		}
	}
}

static void bump_seed(json_t *e)
{
	json_object_set_new(e, "beacon", json_string("beae"));
}

static void a_rechained_forgery_is_named_by_recomputation(void **state)
{
	struct fixture *f = *state;
	void (*edits[])(json_t *) = { swap_picks, pick_an_outsider };
	for (size_t k = 0; k < 2; k++) {
		size_t l;
		char *forged = forge(f->log, f->len, 2, edits[k], &l);
		struct mgr_verify_report rep;
		struct sn_err err = { 0 };
		assert_int_equal(mgr_dlog_verify(forged, l, &rep, &err), -EBADMSG);
		assert_int_equal(rep.problems, 1);
		assert_non_null(strstr(rep.text, "line 2: place `alpha.2`: recomputed"));
		mgr_verify_report_free(&rep);
		free(forged);
	}
	/* a changed beacon: the epoch's recorded seed no longer follows from
	 * it, and the line is named (verify goes on with the seed that does
	 * follow, so the placements after it are named too) */
	size_t l;
	char *forged = forge(f->log, f->len, 4, bump_seed, &l);
	struct mgr_verify_report rep;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_dlog_verify(forged, l, &rep, &err), -EBADMSG);
	assert_non_null(strstr(rep.text, "line 4: epoch 1: seed"));
	mgr_verify_report_free(&rep);
	free(forged);
}

static void an_empty_log_fails(void **state)
{
	struct mgr_verify_report rep;
	struct sn_err err = { 0 };
	assert_int_equal(mgr_dlog_verify("", 0, &rep, &err), -EBADMSG);
	assert_non_null(strstr(rep.text, "empty"));
	mgr_verify_report_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_whole_log_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(one_changed_byte_anywhere_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(a_dropped_entry_breaks_the_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(a_rechained_forgery_is_named_by_recomputation,
						setup, teardown),
		cmocka_unit_test(an_empty_log_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
