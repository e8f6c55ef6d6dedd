/* limits.h — what an HTTP daemon on libmicrohttpd refuses before any of
 * its handlers runs, and the limits of its listeners: a raw request line
 * that would be read other than it was sent or holds too many arguments,
 * a connection that says nothing for too long, too many connections from
 * one client (see limits.c). Shared by subnoded and the manager, with the
 * same keys and defaults in both (docs/API.md, "Limits"). */
#ifndef SN_API_LIMITS_H
#define SN_API_LIMITS_H

#include "base/err.h"

#include <microhttpd.h>
#include <stdbool.h>

/* The limits of a daemon's listeners. */
struct api_limits {
	unsigned timeout_s;    /* http_timeout: a connection silent this long is closed */
	unsigned per_client;   /* http_client_connections: per client address (TCP) */
	unsigned max_args;     /* http_max_args: query arguments of a request */
};

#define API_TIMEOUT_S_DEFAULT 30u
#define API_PER_CLIENT_DEFAULT 32u
#define API_MAX_ARGS_DEFAULT 64u
#define API_MAX_ARGS_MAX 128u   /* what a 16 KiB connection pool holds with room to spare */

void api_limits_default(struct api_limits *l);
/* One `key = value` of the limits (http_timeout, http_client_connections,
 * http_max_args): 1 when key is not one of them, 0 when set, -EINVAL
 * naming the key and the range when value is bad. */
int api_limits_set(struct api_limits *l, const char *key, const char *value, struct sn_err *e);
/* The libmicrohttpd options that apply l (the timeout; on TCP the
 * per-client cap) into out, ended by MHD_OPTION_END, for
 * MHD_OPTION_ARRAY. */
#define API_LIMITS_MHD_OPTIONS 3
void api_limits_mhd_options(const struct api_limits *l, bool tcp,
			    struct MHD_OptionItem out[API_LIMITS_MHD_OPTIONS]);

/* Restart c's silence timer: after a handler held its thread (a TLS
 * connection served in place, a watch), the time spent there is not the
 * client's silence. */
void api_conn_touch(struct MHD_Connection *c);

/* The verdict on a request's raw URI, taken in libmicrohttpd's URI log
 * callback (before the URI and its arguments are decoded). */
struct api_uri_verdict {
	unsigned status;   /* 0: fine; else the HTTP status to answer with */
	const char *why;   /* then the message (static) */
};

/* Look at the raw URI: a %00 anywhere (the decoded path or argument would
 * end there, so `ab%00zzz` would name `ab`) is a 400; more than max_args
 * query arguments a 414, and the arguments are cut off in libmicrohttpd's
 * buffer so that it does not parse them (limits.c says why). */
struct api_uri_verdict api_uri_check(const char *uri, unsigned max_args);

/* Answer a refused request (v.status != 0) with {"message": v.why}. */
enum MHD_Result api_send_verdict(struct MHD_Connection *c, struct api_uri_verdict v);

#endif
