/* limits.c — refusing a request on its raw bytes, before a handler runs.
 *
 * libmicrohttpd hands the handler the path and the query arguments
 * percent-decoded into C strings, so a `%00` silently cuts them short:
 * `DELETE /containers/ab%00zzz` would reach the handler as `ab`. Only the
 * URI log callback sees the request line as sent, so the check is made
 * there and its verdict kept in the request's context until the handler's
 * first call answers it. */
#include "limits.h"
#include "reply.h"

#include <stdbool.h>
#include <string.h>

static bool has_pct_nul(const char *s)
{
	for (const char *p = strchr(s, '%'); p; p = strchr(p + 1, '%'))
		if (p[1] == '0' && p[2] == '0')
			return true;
	return false;
}

struct api_uri_verdict api_uri_check(const char *uri)
{
	if (has_pct_nul(uri))
		return (struct api_uri_verdict){ 400, "the URI holds %00 (a NUL byte)" };
	return (struct api_uri_verdict){ 0, NULL };
}

enum MHD_Result api_send_verdict(struct MHD_Connection *c, struct api_uri_verdict v)
{
	return api_send_error(c, (int)v.status, v.why);
}
