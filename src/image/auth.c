/* auth.c — registry authentication: Basic and Bearer (token) schemes.
 *
 * The distribution spec's flow: a request answered 401 carries
 *   WWW-Authenticate: Bearer realm="https://auth/token",service="reg",scope="repository:x:pull"
 * (or Basic realm="..."). For Basic we send the credentials on the retry.
 * For Bearer we GET realm?service=..&scope=.. (with Basic credentials when
 * we have some, anonymously otherwise), take "token" (or "access_token")
 * from the JSON answer and send "Authorization: Bearer <token>". The token
 * is kept on the client for the blob downloads that follow.
 *
 * The token endpoint gets the same TLS settings as the registry. Its
 * answer is capped at 1 MiB.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "image/registry_internal.h"

void auth_challenge_free(struct auth_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* Parse `Scheme k="v",k2="v2"`. A value is kept whole, however long (a
 * cut realm would send the token request elsewhere, and the rest of a cut
 * value would be read as more parameters). */
int auth_parse_challenge(const char *h, struct auth_challenge *out)
{
	memset(out, 0, sizeof(*out));
	while (*h == ' ')
		h++;
	const char *sp = h;
	while (*sp && *sp != ' ')
		sp++;
	out->scheme = strndup(h, (size_t)(sp - h));
	_cleanup_free_ char *val = malloc(strlen(sp) + 1);
	if (!out->scheme || !val) {
		auth_challenge_free(out);
		return -ENOMEM;
	}
	const char *p = sp;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *k = p;
		while (*p && *p != '=')
			p++;
		if (!*p)
			break;
		size_t kl = (size_t)(p - k);
		p++;
		size_t vl = 0;
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				val[vl++] = *p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',')
				val[vl++] = *p++;
		}
		val[vl] = '\0';
		char **dst = NULL;
		if (kl == 5 && strncasecmp(k, "realm", 5) == 0)
			dst = &out->realm;
		else if (kl == 7 && strncasecmp(k, "service", 7) == 0)
			dst = &out->service;
		else if (kl == 5 && strncasecmp(k, "scope", 5) == 0)
			dst = &out->scope;
		if (dst) {
			free(*dst);
			*dst = strdup(val);
			if (!*dst) {
				auth_challenge_free(out);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

char *auth_basic_header(const char *user, const char *pass)
{
	_cleanup_free_ char *raw = NULL;
	if (asprintf(&raw, "%s:%s", user, pass ? pass : "") < 0)
		return NULL;
	size_t n = strlen(raw);
	_cleanup_free_ unsigned char *b64 = malloc(4 * ((n + 2) / 3) + 1);
	if (!b64)
		return NULL;
	EVP_EncodeBlock(b64, (const unsigned char *)raw, (int)n);
	char *h = NULL;
	if (asprintf(&h, "Authorization: Basic %s", b64) < 0)
		return NULL;
	return h;
}

int auth_fetch_token(struct reg_client *c, const struct auth_challenge *ch, const char *def_scope,
		     struct sn_err *err)
{
	if (!ch->realm || !*ch->realm)
		return sn_err_msg(err, EPROTO, "registry %s: Bearer challenge without a realm",
				  c->ref.registry);
	CURL *h = curl_easy_init();
	if (!h)
		return sn_err_set(err, ENOMEM, "token request");
	_cleanup_free_ char *svc = ch->service ? curl_easy_escape(h, ch->service, 0) : NULL;
	const char *scope_raw = ch->scope ? ch->scope : def_scope;
	_cleanup_free_ char *scope = scope_raw ? curl_easy_escape(h, scope_raw, 0) : NULL;
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "%s%sservice=%s&scope=%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
		     svc ? svc : "", scope ? scope : "") < 0) {
		curl_easy_cleanup(h);
		return sn_err_set(err, ENOMEM, "token request");
	}
	_cleanup_free_ char *basic = NULL;
	if (c->o->username) {
		basic = auth_basic_header(c->o->username, c->o->password);
		if (!basic) {
			curl_easy_cleanup(h);
			return sn_err_set(err, ENOMEM, "token request");
		}
	}
	struct reg_buf body = { .max = 1 << 20 };
	long status = 0;
	int r = reg_simple_get(c, h, url, basic, NULL, &body, &status, NULL, err);
	curl_easy_cleanup(h);
	if (r < 0) {
		free(body.data);
		return sn_err_wrap(err, "token from `%s`", ch->realm);
	}
	if (status != 200) {
		free(body.data);
		return sn_err_msg(err, status == 401 || status == 403 ? EACCES : EPROTO,
				  "token from `%s`: HTTP %ld%s", ch->realm, status,
				  status == 401 || status == 403 ? " (bad credentials?)" : "");
	}
	_cleanup_json_ json_t *j = NULL;
	r = sn_json_loadb(body.data ? body.data : "", body.len, "token answer", &j, err);
	free(body.data);
	if (r < 0)
		return r;
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok)
		return sn_err_msg(err, EPROTO, "token from `%s`: no token in the answer", ch->realm);
	free(c->auth_header);
	c->auth_header = NULL;
	if (asprintf(&c->auth_header, "Authorization: Bearer %s", tok) < 0)
		return sn_err_set(err, ENOMEM, "token");
	return 0;
}

int auth_handle_challenge(struct reg_client *c, const char *www, struct sn_err *err)
{
	if (!www || !*www)
		return sn_err_msg(err, EACCES, "registry %s: 401 without a WWW-Authenticate challenge",
				  c->ref.registry);
	struct auth_challenge ch;
	if (auth_parse_challenge(www, &ch) < 0)
		return sn_err_set(err, ENOMEM, "auth");
	int r;
	if (strcasecmp(ch.scheme, "Basic") == 0) {
		if (!c->o->username)
			r = sn_err_msg(err, EACCES, "registry %s: authentication required (basic): no credentials given",
				       c->ref.registry);
		else if (c->tried_basic)
			r = sn_err_msg(err, EACCES, "registry %s: credentials refused (basic auth)",
				       c->ref.registry);
		else {
			free(c->auth_header);
			c->auth_header = auth_basic_header(c->o->username, c->o->password);
			c->tried_basic = true;
			r = c->auth_header ? 0 : sn_err_set(err, ENOMEM, "auth");
		}
	} else if (strcasecmp(ch.scheme, "Bearer") == 0) {
		char def[1024];
		snprintf(def, sizeof(def), "repository:%s:pull", c->ref.repository);
		r = auth_fetch_token(c, &ch, def, err);
	} else {
		r = sn_err_msg(err, EPROTONOSUPPORT, "registry %s: unsupported auth scheme `%s`",
			       c->ref.registry, ch.scheme);
	}
	auth_challenge_free(&ch);
	return r;
}
