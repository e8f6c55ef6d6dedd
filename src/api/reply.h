/* reply.h — HTTP replies of a JSON API on libmicrohttpd: JSON bodies,
 * errors as {"message": "..."} with the status taken from the errno, empty
 * replies, streamed bodies and the chunk buffers streams hand out (see
 * reply.c). Knows nothing of what the daemon serves. */
#ifndef SN_API_REPLY_H
#define SN_API_REPLY_H

#include "base/err.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>
#include <sys/types.h>

/* A header every JSON reply carries besides Content-Type (subnoded:
 * Api-Version). Set once, before serving; the strings must outlive it. */
void api_reply_header(const char *name, const char *value);

/* The HTTP status for an errno: EINVAL, E2BIG, ENAMETOOLONG 400; EACCES,
 * EPERM 403; ENOENT 404; EEXIST, EBUSY, ENOSPC 409; others 500. */
int api_status_of(int err);

/* Send j (taken over) as JSON; NULL (a failed json_pack) sends
 * {"message":"out of memory"}. */
enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned status, json_t *j);
/* {"message": msg} with status. */
enum MHD_Result api_send_error(struct MHD_Connection *c, int status, const char *msg);
/* A failure r (-errno) with e: e's message, the status of e's errno. */
enum MHD_Result api_send_err(struct MHD_Connection *c, int r, const struct sn_err *e);
enum MHD_Result api_send_empty(struct MHD_Connection *c, unsigned status);
/* 503 with Retry-After: retry_s and {"message": msg}: a pool that is full. */
enum MHD_Result api_send_busy(struct MHD_Connection *c, unsigned retry_s, const char *msg);
/* A queued 200 whose body comes from reader (a stream); fr(cls) at the end
 * (also when the reply cannot be made). */
enum MHD_Result api_send_stream(struct MHD_Connection *c, const char *type, size_t block,
				MHD_ContentReaderCallback reader, void *cls,
				MHD_ContentReaderFreeCallback fr);

/* Hand out what is left of a stream's pending chunk; once it is used up,
 * free it and return 0 so the caller produces the next one. */
ssize_t api_drain_pending(char **pending, size_t *plen, size_t *poff, char *buf, size_t max);
/* Append j (taken over) as a JSON line to a pending buffer. */
void api_pending_line(char **pending, size_t *plen, json_t *j);

#endif
