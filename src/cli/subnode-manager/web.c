/* web.c — serving the dashboard's files from the binary, and the security
 * headers of every response (web.h).
 *
 * The policy allows scripts, styles, images and fetches from the manager
 * itself and nothing else: no inline script or style, no other origin, no
 * framing, no forms posted elsewhere. The page (web/) is written for it:
 * one script file, one style sheet, SVG charts built through the DOM with
 * attributes (no style attributes), the admin token in an Authorization
 * header (never in a URL, so never in a log or a Referer).
 */
#include "web.h"

#include <string.h>

#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const struct web_asset *web_find(const char *path)
{
	if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0 || strcmp(path, "/ui/") == 0)
		path = "/ui/index.html";
	for (size_t i = 0; i < web_assets_count; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

bool web_headers(struct MHD_Response *r, bool cache)
{
	return MHD_add_response_header(r, "Content-Security-Policy", CSP) == MHD_YES &&
	       MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
	       MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES &&
	       MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
	       MHD_add_response_header(r, "Cache-Control", cache ? "no-cache" : "no-store") ==
	       MHD_YES;
}

enum MHD_Result web_queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
			  const char *type, bool cache)
{
	enum MHD_Result ok = MHD_NO;
	if (web_headers(r, cache) &&
	    (!type || MHD_add_response_header(r, "Content-Type", type) == MHD_YES))
		ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}
