/* limits.c — refusing a request on its raw bytes, before a handler runs,
 * and the limits that keep a hostile client from holding a daemon.
 *
 * The raw URI. libmicrohttpd hands the handler the path and the query
 * arguments percent-decoded into C strings, so a `%00` silently cuts them
 * short: `DELETE /containers/ab%00zzz` would reach the handler as `ab`.
 * Only the URI log callback sees the request line as sent, so the check is
 * made there and its verdict kept in the request's context until the
 * handler's first call answers it.
 *
 * Too many query arguments. libmicrohttpd 0.9.75 keeps a record of each
 * argument in the connection's memory pool (16 KiB in subnoded); ~300 of
 * them exhaust it, and the 431 it then means to send finds no memory
 * either: the client gets no answer and the connection is never closed. A
 * larger pool only moves the number, since the URI that fits in a pool
 * holds more arguments than the pool holds records. So the arguments are
 * counted here, in the URI log callback, which runs after libmicrohttpd
 * has found the `?` and before it parses what follows: past max_args the
 * byte after the `?` is made a NUL in libmicrohttpd's own buffer (the uri
 * it passes is that buffer, 0.9.75 to 0.9.77), so it parses none of them,
 * and the handler's first call answers 414 with a message saying why. The
 * cast is the one place we write into libmicrohttpd's memory; it writes
 * inside the string passed, before its end.
 *
 * Silence and crowds. libmicrohttpd's connection timeout closes a
 * connection that has sent nothing for timeout_s seconds: in the middle of
 * its headers or body, or idle between keep-alive requests. A connection
 * suspended while its operation runs or its stream waits is not timed
 * (libmicrohttpd skips suspended connections), and a handler that held
 * its thread restarts the timer after (api_conn_touch). A client trickling
 * one byte per timeout is not caught by it; the per-client cap bounds how
 * many such connections one address holds. The cap applies to TCP only: a
 * unix socket's clients have no address, and its mode already says who
 * may connect. */
#include "limits.h"
#include "reply.h"
#include "base/parse.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

void api_limits_default(struct api_limits *l)
{
	*l = (struct api_limits){ .timeout_s = API_TIMEOUT_S_DEFAULT,
				  .per_client = API_PER_CLIENT_DEFAULT,
				  .max_args = API_MAX_ARGS_DEFAULT };
}

int api_limits_set(struct api_limits *l, const char *key, const char *value, struct sn_err *e)
{
	static const struct {
		const char *key;
		size_t off;
		unsigned max;
		const char *unit;
	} keys[] = {
		{ "http_timeout", offsetof(struct api_limits, timeout_s), 86400, "seconds" },
		{ "http_client_connections", offsetof(struct api_limits, per_client), 65536, "connections" },
		{ "http_max_args", offsetof(struct api_limits, max_args), API_MAX_ARGS_MAX, "arguments" },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key) != 0)
			continue;
		unsigned long long u;
		if (sn_parse_u64(value, &u) < 0 || u < 1 || u > keys[i].max)
			return sn_err_msg(e, EINVAL, "%s: must be 1..%u (%s), not `%s`", key, keys[i].max,
					  keys[i].unit, value);
		*(unsigned *)((char *)l + keys[i].off) = (unsigned)u;
		return 0;
	}
	return 1;
}

void api_limits_mhd_options(const struct api_limits *l, bool tcp,
			    struct MHD_OptionItem out[API_LIMITS_MHD_OPTIONS])
{
	size_t n = 0;
	out[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, l->timeout_s, NULL };
	if (tcp)
		out[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, l->per_client, NULL };
	out[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

void api_conn_touch(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_TIMEOUT);
	if (!ci || ci->connection_timeout == 0)
		return;
	unsigned t = ci->connection_timeout;
	/* libmicrohttpd restarts the timer when a timeout is set on a
	 * connection that had none */
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, t);
}

static bool has_pct_nul(const char *s)
{
	for (const char *p = strchr(s, '%'); p; p = strchr(p + 1, '%'))
		if (p[1] == '0' && p[2] == '0')
			return true;
	return false;
}

/* More than max arguments after the `?` of uri (NULL: none)? Counted as
 * libmicrohttpd splits them: on `&`, empty ones skipped. */
static bool too_many_args(const char *q, unsigned max)
{
	unsigned n = 0;
	for (const char *p = q + 1; *p;) {
		size_t len = strcspn(p, "&");
		if (len && ++n > max)
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

struct api_uri_verdict api_uri_check(const char *uri, unsigned max_args)
{
	const char *q = strchr(uri, '?');
	if (q && too_many_args(q, max_args)) {
		((char *)q)[1] = '\0';   /* limits.c, "Too many query arguments" */
		return (struct api_uri_verdict){ 414, "URI too long: more query arguments than the "
						 "daemon takes (http_max_args)" };
	}
	if (has_pct_nul(uri))
		return (struct api_uri_verdict){ 400, "the URI holds %00 (a NUL byte)" };
	return (struct api_uri_verdict){ 0, NULL };
}

enum MHD_Result api_send_verdict(struct MHD_Connection *c, struct api_uri_verdict v)
{
	return api_send_error(c, (int)v.status, v.why);
}
