/* decide.c — placements as self-contained log entries (decide.h). */
#include "manager/decide.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nomem(struct sn_err *err, const char *chain)
{
	return sn_err_set(err, ENOMEM, "placement of chain `%s`", chain);
}

static int cmp_cand_name(const void *a, const void *b)
{
	return strcmp(((const struct mgr_cand *const *)a)[0]->name,
		      ((const struct mgr_cand *const *)b)[0]->name);
}

int mgr_decide_place(const struct mgr_place_in *in, size_t *picked, json_t **body,
		     struct sn_err *err)
{
	struct mgr_place_req req = {
		.seed = in->seed, .chain_id = in->chain_id, .draw = in->draw, .units = in->units,
		.members = in->members, .need = in->need, .fixed = in->fixed,
		.nfixed = in->nfixed, .exclude = in->exclude, .nexclude = in->nexclude,
	};
	int r = mgr_place(in->cands, in->ncands, &req, picked, err);
	if (r)
		return r;
	/* The nodes in name order: the log reads the same whatever order the
	 * registry returned them in (the result does not depend on it). */
	_cleanup_free_ const struct mgr_cand **sorted = malloc((in->ncands + 1) * sizeof(*sorted));
	if (!sorted)
		return nomem(err, in->chain);
	for (size_t i = 0; i < in->ncands; i++)
		sorted[i] = &in->cands[i];
	qsort(sorted, in->ncands, sizeof(*sorted), cmp_cand_name);
	_cleanup_json_ json_t *b = json_object();
	json_t *nodes = json_array(), *fixed = json_array(), *excl = json_array(),
	       *pick = json_array(), *seats = json_array();
	if (!b || json_object_set_new(b, "nodes", nodes) || json_object_set_new(b, "fixed", fixed) ||
	    json_object_set_new(b, "exclude", excl) || json_object_set_new(b, "picked", pick) ||
	    json_object_set_new(b, "seats", seats))
		return nomem(err, in->chain);
	int bad = 0;
	for (size_t i = 0; i < in->ncands; i++)
		bad |= json_array_append_new(nodes, json_pack("[ssI]", sorted[i]->name,
							      sorted[i]->operator ? sorted[i]->operator : "",
							      (json_int_t)sorted[i]->free_units));
	for (size_t i = 0; i < in->nfixed; i++)
		bad |= json_array_append_new(fixed, json_pack("[ss]", in->fixed[i].node,
							      in->fixed[i].operator ? in->fixed[i].operator : ""));
	for (size_t i = 0; i < in->nexclude; i++)
		bad |= json_array_append_new(excl, json_string(in->exclude[i]));
	for (size_t i = 0; i < in->need; i++) {
		bad |= json_array_append_new(pick, json_string(in->cands[picked[i]].name));
		bad |= json_array_append_new(seats, json_integer(in->seats ? (json_int_t)in->seats[i] :
								 (json_int_t)i));
	}
	bad |= json_object_set_new(b, "kind", json_string("place"));
	bad |= json_object_set_new(b, "cause", json_string(in->cause ? in->cause : "create"));
	bad |= json_object_set_new(b, "chain", json_string(in->chain));
	bad |= json_object_set_new(b, "chain_id", json_string(in->chain_id));
	bad |= json_object_set_new(b, "epoch", json_integer((json_int_t)in->epoch));
	bad |= json_object_set_new(b, "units", json_integer(in->units));
	bad |= json_object_set_new(b, "members", json_integer((json_int_t)in->members));
	if (in->draw)   /* absent unless it differs: older entries read the same */
		bad |= json_object_set_new(b, "draw", json_string(in->draw));
	if (bad)
		return nomem(err, in->chain);
	*body = steal_ptr(b);
	return 0;
}

void mgr_decide_draw(const char *chain_id, uint64_t seq, char *out, size_t size)
{
	snprintf(out, size, "%s/%llu", chain_id, (unsigned long long)seq);
}

/* A [string, string(, integer)] row of a body array. */
static int row(json_t *a, size_t i, const char *what, const char **s0, const char **s1,
	       int64_t *n2, struct sn_err *err)
{
	json_t *r = json_array_get(a, i);
	size_t want = n2 ? 3 : 2;
	if (!json_is_array(r) || json_array_size(r) != want ||
	    !json_is_string(json_array_get(r, 0)) || !json_is_string(json_array_get(r, 1)) ||
	    (n2 && !json_is_integer(json_array_get(r, 2))))
		return sn_err_msg(err, EINVAL, "%s[%zu]: must be [name, operator%s]", what, i,
				  n2 ? ", free units" : "");
	*s0 = json_string_value(json_array_get(r, 0));
	*s1 = json_string_value(json_array_get(r, 1));
	if (n2)
		*n2 = json_integer_value(json_array_get(r, 2));
	return 0;
}

int mgr_decide_recheck(json_t *body, const uint8_t *seed, int *same, char **got,
		       struct sn_err *err)
{
	const char *chain_id, *draw = NULL;
	int64_t units, members;
	json_t *nodes, *fixed, *excl, *pick;
	*got = NULL;
	if (sn_json_string(body, "", "draw", &draw, err) < 0)
		return -err->code;
	if (sn_json_string(body, "", "chain_id", &chain_id, err) != 1 ||
	    sn_json_int(body, "", "units", &units, err) != 1 ||
	    sn_json_int(body, "", "members", &members, err) != 1 ||
	    sn_json_array(body, "", "nodes", &nodes, err) != 1 ||
	    sn_json_array(body, "", "fixed", &fixed, err) != 1 ||
	    sn_json_array(body, "", "exclude", &excl, err) != 1 ||
	    sn_json_array(body, "", "picked", &pick, err) != 1)
		return err->code ? -err->code : sn_err_msg(err, EINVAL, "a field is missing");
	if (members < 1 || members > 1024)
		return sn_err_msg(err, EINVAL, "members: %lld out of range", (long long)members);
	size_t nn = json_array_size(nodes), nf = json_array_size(fixed),
	       ne = json_array_size(excl), np = json_array_size(pick);
	_cleanup_free_ struct mgr_cand *c = calloc(nn + 1, sizeof(*c));
	_cleanup_free_ struct mgr_member_ref *f = calloc(nf + 1, sizeof(*f));
	_cleanup_free_ const char **x = calloc(ne + 1, sizeof(*x));
	_cleanup_free_ size_t *picked = calloc(np + 1, sizeof(*picked));
	if (!c || !f || !x || !picked)
		return sn_err_set(err, ENOMEM, "recheck");
	int r;
	for (size_t i = 0; i < nn; i++)
		if ((r = row(nodes, i, "nodes", &c[i].name, &c[i].operator, &c[i].free_units, err)))
			return r;
	for (size_t i = 0; i < nf; i++)
		if ((r = row(fixed, i, "fixed", &f[i].node, &f[i].operator, NULL, err)))
			return r;
	for (size_t i = 0; i < ne; i++)
		if (!(x[i] = json_string_value(json_array_get(excl, i))))
			return sn_err_msg(err, EINVAL, "exclude[%zu]: must be a string", i);
	for (size_t i = 0; i < np; i++)
		if (!json_is_string(json_array_get(pick, i)))
			return sn_err_msg(err, EINVAL, "picked[%zu]: must be a string", i);
	if ((r = mgr_place_prepare(c, nn, err)))
		return r;
	struct mgr_place_req req = { .seed = seed, .chain_id = chain_id, .draw = draw, .units = units,
				     .members = (size_t)members, .need = np, .fixed = f,
				     .nfixed = nf, .exclude = x, .nexclude = ne };
	struct sn_err perr = { 0 };
	r = mgr_place(c, nn, &req, picked, &perr);
	if (r) {
		*same = 0;
		*got = strdup(perr.msg);
		return *got ? 0 : sn_err_set(err, ENOMEM, "recheck");
	}
	*same = 1;
	size_t len = 1;
	for (size_t i = 0; i < np; i++) {
		if (strcmp(c[picked[i]].name, json_string_value(json_array_get(pick, i))) != 0)
			*same = 0;
		len += strlen(c[picked[i]].name) + 1;
	}
	if (*same)
		return 0;
	char *g = calloc(1, len);
	if (!g)
		return sn_err_set(err, ENOMEM, "recheck");
	for (size_t i = 0; i < np; i++) {
		if (i)
			strcat(g, ",");
		strcat(g, c[picked[i]].name);
	}
	*got = g;
	return 0;
}
