/* limits.h — what an HTTP daemon on libmicrohttpd refuses before any of
 * its handlers runs: a raw request line that would be read other than it
 * was sent (see limits.c). Shared by subnoded and the manager. */
#ifndef SN_API_LIMITS_H
#define SN_API_LIMITS_H

#include <microhttpd.h>

/* The verdict on a request's raw URI, taken in libmicrohttpd's URI log
 * callback (before the URI and its arguments are decoded). */
struct api_uri_verdict {
	unsigned status;   /* 0: fine; else the HTTP status to answer with */
	const char *why;   /* then the message (static) */
};

/* Look at the raw URI: a %00 anywhere (the decoded path or argument would
 * end there, so `ab%00zzz` would name `ab`) is a 400. */
struct api_uri_verdict api_uri_check(const char *uri);

/* Answer a refused request (v.status != 0) with {"message": v.why}. */
enum MHD_Result api_send_verdict(struct MHD_Connection *c, struct api_uri_verdict v);

#endif
