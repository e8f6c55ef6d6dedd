/* web.h — the dashboard's files, built into subnode-manager (web.c, and
 * the table that scripts/embed-web.sh generates from web/), and the
 * headers every response of the manager carries. */
#ifndef SN_SUBNODE_MANAGER_WEB_H
#define SN_SUBNODE_MANAGER_WEB_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct web_asset {
	const char *path;            /* /ui/NAME */
	const char *type;            /* Content-Type */
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

/* The file served at path (/ and /ui/ are /ui/index.html), or NULL. */
const struct web_asset *web_find(const char *path);
/* The Content-Security-Policy and the other headers of every response;
 * cache: whether a browser may keep it (the page's files) or not (API). */
bool web_headers(struct MHD_Response *r, bool cache);
/* Queue r (taken: destroyed here) with those headers and type (NULL: none). */
enum MHD_Result web_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
			  const char *type, bool cache);

#endif
