/* fuzz_auth.c — libFuzzer target: a registry's WWW-Authenticate challenge
 * (auth.c), the one header of a registry answer that drives what the
 * client does next. The input is the header's value. It is parsed
 * (auth_parse_challenge) and handed to auth_handle_challenge with a client
 * that has credentials, except for Bearer challenges: those make a token
 * request to the challenge's realm, and a fuzzer must send nothing
 * anywhere. Checks: a parse always yields a scheme without spaces; the
 * values, quoted into a challenge again, parse to themselves (nothing cut
 * or leaking into the next parameter); Basic yields an Authorization
 * header; every refusal carries a message.
 */
#include "fuzz.h"
#include <errno.h>
#include <strings.h>
#include "image/registry_internal.h"

/* `"v"` with " and \ escaped, as a registry would quote v. */
static char *quote(const char *v)
{
	char *q = malloc(2 * strlen(v) + 3), *o = q;
	if (!q)
		abort();
	*o++ = '"';
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			*o++ = '\\';
		*o++ = *v;
	}
	*o++ = '"';
	*o = '\0';
	return q;
}

/* The values parsed, quoted into a challenge again, parse to themselves:
 * nothing cut, nothing bleeding from one parameter into the next. */
static void round_trip(const struct auth_challenge *ch)
{
	const char *in[3] = { ch->realm, ch->service, ch->scope };
	static const char *const names[3] = { "realm", "service", "scope" };
	size_t len = 16;
	char *q[3] = { 0 };
	for (int i = 0; i < 3; i++)
		if (in[i]) {
			q[i] = quote(in[i]);
			len += strlen(q[i]) + 10;
		}
	char *h = malloc(len), *o = h;
	if (!h)
		abort();
	o += sprintf(o, "Bearer ");
	for (int i = 0; i < 3; i++)
		if (q[i])
			o += sprintf(o, "%s%s=%s", o[-1] == ' ' ? "" : ",", names[i], q[i]);
	struct auth_challenge again;
	FUZZ_CHECK(auth_parse_challenge(h, &again) == 0, "reparse");
	const char *out[3] = { again.realm, again.service, again.scope };
	for (int i = 0; i < 3; i++) {
		FUZZ_CHECK(!in[i] == !out[i] && (!in[i] || strcmp(in[i], out[i]) == 0),
			   "%s `%s` came back as `%s` from `%s`", names[i], in[i] ? in[i] : "(none)",
			   out[i] ? out[i] : "(none)", h);
		free(q[i]);
	}
	auth_challenge_free(&again);
	free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	char *h = fuzz_strndup(data, size);
	struct auth_challenge ch;
	int r = auth_parse_challenge(h, &ch);
	FUZZ_CHECK(r == 0 && ch.scheme, "parse returned %d", r);
	FUZZ_CHECK(!strchr(ch.scheme, ' '), "scheme `%s` has a space", ch.scheme);
	round_trip(&ch);
	bool bearer = strcasecmp(ch.scheme, "Bearer") == 0;
	auth_challenge_free(&ch);

	if (!bearer) {
		struct image_pull_opts o = { .username = "user", .password = "pass" };
		struct reg_client c = { .ref = { .registry = "registry.invalid",
						 .repository = "library/x", .tag = "latest" },
					.o = &o };
		struct sn_err err = { 0 };
		r = auth_handle_challenge(&c, h, &err);
		fuzz_check_result(r, &err, "auth_handle_challenge");
		if (r == 0)
			FUZZ_CHECK(c.auth_header && strncmp(c.auth_header, "Authorization: Basic ", 21) == 0,
				   "basic header `%s`", c.auth_header ? c.auth_header : "(null)");
		free(c.auth_header);
	}
	free(h);
	return 0;
}
