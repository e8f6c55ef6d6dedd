/* reply.c — the replies of a JSON API on libmicrohttpd.
 *
 * Errors are {"message": "..."} with the status from the errno (see
 * api_status_of), so every layer's `struct sn_err` reaches the client as
 * it is. JSON replies carry Content-Type and the one header the daemon
 * asked for (api_reply_header: subnoded's Api-Version, which Docker
 * clients read). Streams (logs, events, progress) build their next chunk
 * in a pending buffer and hand it to libmicrohttpd's content reader a
 * block at a time (api_drain_pending).
 */
#include "reply.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const char *extra_name, *extra_value;

void api_reply_header(const char *name, const char *value)
{
	extra_name = name;
	extra_value = value;
}

int api_status_of(int err)
{
	switch (err) {
	case EINVAL: case E2BIG: case ENAMETOOLONG: return MHD_HTTP_BAD_REQUEST;
	case EACCES: case EPERM: return MHD_HTTP_FORBIDDEN;
	case ENOENT: return MHD_HTTP_NOT_FOUND;
	case EEXIST: case EBUSY: case ENOSPC: return MHD_HTTP_CONFLICT;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* j (taken) as the body, with one more header when name is not NULL. */
static enum MHD_Result send_json_with(struct MHD_Connection *c, unsigned status, json_t *j,
				      const char *name, const char *value)
{
	char *txt = j ? sn_json_dump(j, false) : NULL;
	json_decref(j);
	if (!txt)
		txt = strdup("{\"message\":\"out of memory\"}");
	size_t len = txt ? strlen(txt) : 0;
	struct MHD_Response *r = MHD_create_response_from_buffer(len, txt, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(txt);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	if (extra_name)
		MHD_add_response_header(r, extra_name, extra_value);
	if (name)
		MHD_add_response_header(r, name, value);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	return send_json_with(c, status, j, NULL, NULL);
}

enum MHD_Result api_send_busy(struct MHD_Connection *c, unsigned retry_s, const char *msg)
{
	char v[16];
	snprintf(v, sizeof(v), "%u", retry_s);
	return send_json_with(c, MHD_HTTP_SERVICE_UNAVAILABLE, json_pack("{s:s}", "message", msg),
			      "Retry-After", v);
}

enum MHD_Result api_send_error(struct MHD_Connection *c, int status, const char *msg)
{
	return api_send_json(c, (unsigned)status, json_pack("{s:s}", "message", msg));
}

enum MHD_Result api_send_err(struct MHD_Connection *c, int r, const struct sn_err *e)
{
	return api_send_error(c, api_status_of(e->code ? e->code : -r), e->msg[0] ? e->msg : strerror(-r));
}

enum MHD_Result api_send_empty(struct MHD_Connection *c, unsigned status)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result api_send_stream(struct MHD_Connection *c, const char *type, size_t block,
				MHD_ContentReaderCallback reader, void *cls,
				MHD_ContentReaderFreeCallback fr)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, block, reader,
								       cls, fr);
	if (!resp) {
		fr(cls);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

ssize_t api_drain_pending(char **pending, size_t *plen, size_t *poff, char *buf, size_t max)
{
	if (*poff < *plen) {
		size_t n = *plen - *poff < max ? *plen - *poff : max;
		memcpy(buf, *pending + *poff, n);
		*poff += n;
		return (ssize_t)n;
	}
	free(*pending);
	*pending = NULL;
	*plen = *poff = 0;
	return 0;
}

void api_pending_line(char **pending, size_t *plen, json_t *j)
{
	char *txt = j ? sn_json_dump(j, false) : NULL;
	json_decref(j);
	if (!txt)
		return;
	size_t len = strlen(txt);
	char *nb = realloc(*pending, *plen + len + 1);
	if (nb) {
		memcpy(nb + *plen, txt, len);
		nb[*plen + len] = '\n';
		*pending = nb;
		*plen += len + 1;
	}
	free(txt);
}
