/* fuzz_spec.c — libFuzzer target: the OCI runtime config (config.json) as
 * subrun reads it: parse + validate (spec_parse), and the two documents
 * subrun reads alone, a process (`exec --process`, spec_parse_process)
 * and linux.resources (`update -r`, spec_parse_resources). The input is
 * the JSON text, handed to all three, as callers do (the CLI frees the
 * resources only on success). On success the documented invariants of
 * spec.h must hold: args non-empty and NULL-terminated, cwd and mount
 * destinations absolute, oom_score_adj in -1000..1000.
 */
#include "fuzz.h"
#include "base/json.h"
#include "runtime/spec.h"

static void check_process(const struct spec_process *p)
{
	FUZZ_CHECK(p->n_args > 0 && p->args && p->args[p->n_args] == NULL, "process.args: %zu",
		   p->n_args);
	FUZZ_CHECK(p->cwd && p->cwd[0] == '/', "process.cwd `%s`", p->cwd ? p->cwd : "(null)");
	FUZZ_CHECK(p->oom_score_adj == SPEC_UNSET ||
		   (p->oom_score_adj >= -1000 && p->oom_score_adj <= 1000),
		   "oom_score_adj %lld", (long long)p->oom_score_adj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_err err = { 0 };
	json_t *doc = NULL;
	if (sn_json_loadb((const char *)data, size, "config.json", &doc, &err) < 0)
		return 0;

	struct spec *s = NULL;
	int r = spec_parse(doc, "config.json", &s, &err);
	fuzz_check_result(r, &err, "spec_parse");
	if (r == 0) {
		FUZZ_CHECK(s && s->root_path && s->root_path[0], "root.path");
		if (s->process)
			check_process(s->process);
		for (size_t i = 0; i < s->n_mounts; i++)
			FUZZ_CHECK(s->mounts[i].destination && s->mounts[i].destination[0] == '/',
				   "mounts[%zu].destination", i);
		spec_free(s);
	}

	struct spec_process *p = NULL;
	struct sn_err perr = { 0 };
	r = spec_parse_process(doc, "process", &p, &perr);
	fuzz_check_result(r, &perr, "spec_parse_process");
	if (r == 0) {
		check_process(p);
		spec_process_free(p);
	}

	if (json_is_object(doc)) {
		struct spec_resources rs;
		struct sn_err rerr = { 0 };
		r = spec_parse_resources(doc, "resources", &rs, &rerr);
		fuzz_check_result(r, &rerr, "spec_parse_resources");
		if (r == 0)
			spec_resources_free(&rs);
	}
	json_decref(doc);
	return 0;
}
