/* grants.h — transfer grants: a token that reads one volume's export over
 * the TCP API until it expires (grants.c says what for). */
#ifndef SN_API_GRANTS_H
#define SN_API_GRANTS_H

#include "base/err.h"

#include <jansson.h>
#include <stdbool.h>

/* Replace the whole set: [{"volume", "token" (32..128 lowercase hex),
 * "expires" (ms since the epoch)}]. -EINVAL naming the entry; the old set
 * stays on error. */
int grants_set(json_t *list, struct sn_err *err);
/* The set without the tokens: [{"volume", "expires", "expired"}]. */
json_t *grants_list(void);
/* May a request with this bearer token (NULL: none) do METHOD URL? Only
 * GET /volumes/{v}/export with a live grant's token for v. */
bool grants_allow(const char *method, const char *url, const char *bearer);
void grants_free(void);

#endif
