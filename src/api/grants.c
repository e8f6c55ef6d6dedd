/* grants.c — transfer grants: short-lived bearer tokens that let another
 * node read one volume's export over the TCP API, and nothing else
 * (grants.h).
 *
 * When the manager gives a chain's seat to a new node, that node must fill
 * the member's data volume from a live member before it starts. The
 * manager makes a token for the move and tells both sides: the new node
 * gets it with the list of sources, each source node gets a grant (the
 * volume of its own member, the token, an expiry). subnode-link puts the
 * node's whole set of grants here (PUT /transfers/grants) after every
 * reconcile; a request that carries a grant's token may then do exactly
 * `GET /volumes/{that volume}/export` until the expiry — the node's own
 * token keeps every other route. Grants live in memory: the link puts
 * them again after a daemon restart.
 */
#include "api/grants.h"
#include "api/request.h"
#include "base/clock.h"
#include "base/json.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GRANTS_MAX 1024
#define TOKEN_MIN 32
#define TOKEN_MAX 128

struct grant {
	char *volume, *token;
	int64_t expires_ms;   /* wall clock, ms since the epoch */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct grant *grants;
static size_t n_grants;

static void free_set(struct grant *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].volume);
		free(g[i].token);
	}
	free(g);
}

static bool token_chars_ok(const char *t)
{
	size_t n = strlen(t);
	if (n < TOKEN_MIN || n > TOKEN_MAX)
		return false;
	for (; *t; t++)
		if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f')))
			return false;
	return true;
}

int grants_set(json_t *list, struct sn_err *err)
{
	if (!json_is_array(list))
		return sn_err_msg(err, EINVAL, "grants: the body must be a JSON array");
	size_t n = json_array_size(list);
	if (n > GRANTS_MAX)
		return sn_err_msg(err, EINVAL, "grants: at most %d", GRANTS_MAX);
	struct grant *g = calloc(n + 1, sizeof(*g));
	if (!g)
		return sn_err_set(err, ENOMEM, "grants");
	json_t *e;
	size_t i;
	json_array_foreach(list, i, e) {
		static const char *const keys[] = { "volume", "token", "expires", NULL };
		char where[32];
		snprintf(where, sizeof(where), "grants[%zu]", i);
		const char *vol = json_string_value(json_object_get(e, "volume"));
		const char *tok = json_string_value(json_object_get(e, "token"));
		json_t *exp = json_object_get(e, "expires");
		int r = sn_json_only_keys(e, where, keys, err);
		if (r == 0 && (!vol || !*vol || strlen(vol) > 128 || strchr(vol, '/')))
			r = sn_err_msg(err, EINVAL, "%s.volume: a volume name", where);
		if (r == 0 && (!tok || !token_chars_ok(tok)))
			r = sn_err_msg(err, EINVAL, "%s.token: %d to %d lowercase hex digits", where,
				       TOKEN_MIN, TOKEN_MAX);
		if (r == 0 && (!json_is_integer(exp) || json_integer_value(exp) <= 0))
			r = sn_err_msg(err, EINVAL, "%s.expires: milliseconds since the epoch", where);
		if (r == 0 && (!(g[i].volume = strdup(vol)) || !(g[i].token = strdup(tok))))
			r = sn_err_set(err, ENOMEM, "grants");
		if (r) {
			free_set(g, n);
			return r;
		}
		g[i].expires_ms = json_integer_value(exp);
	}
	pthread_mutex_lock(&lock);
	struct grant *old = grants;
	size_t n_old = n_grants;
	grants = g;
	n_grants = n;
	pthread_mutex_unlock(&lock);
	free_set(old, n_old);
	return 0;
}

json_t *grants_list(void)
{
	json_t *out = json_array();
	int64_t now = sn_wall_ms();
	pthread_mutex_lock(&lock);
	for (size_t i = 0; out && i < n_grants; i++)   /* never the tokens */
		json_array_append_new(out, json_pack("{ss sI sb}", "volume", grants[i].volume,
						     "expires", (json_int_t)grants[i].expires_ms,
						     "expired", grants[i].expires_ms <= now));
	pthread_mutex_unlock(&lock);
	return out;
}

bool grants_allow(const char *method, const char *url, const char *bearer)
{
	static const char pre[] = "/volumes/", post[] = "/export";
	if (!bearer || strcmp(method, "GET") != 0 || strncmp(url, pre, sizeof(pre) - 1) != 0)
		return false;
	const char *vol = url + sizeof(pre) - 1;
	const char *slash = strchr(vol, '/');
	if (!slash || strcmp(slash, post) != 0 || slash == vol)
		return false;
	size_t vlen = (size_t)(slash - vol);
	int64_t now = sn_wall_ms();
	bool ok = false;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_grants; i++) {
		const struct grant *g = &grants[i];
		bool match = strlen(g->volume) == vlen && memcmp(g->volume, vol, vlen) == 0 &&
			     g->expires_ms > now;
		ok |= match & api_token_eq(bearer, g->token);
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

void grants_free(void)
{
	pthread_mutex_lock(&lock);
	free_set(grants, n_grants);
	grants = NULL;
	n_grants = 0;
	pthread_mutex_unlock(&lock);
}
