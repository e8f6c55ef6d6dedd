/* api.h — subnoded's HTTP/JSON API on libmicrohttpd (see api.c). */
#ifndef SN_SUBNODED_API_H
#define SN_SUBNODED_API_H

#include "node/node.h"

/* An already bound and listening socket (unix or TCP). token: the bearer
 * token every request must carry (NULL: none, the unix socket); cert_pem
 * and key_pem (PEM texts): TLS. */
struct api_listener {
	int fd;
	const char *token;
	const char *cert_pem, *key_pem;
};

struct api;
/* Serve on one or two listeners, sharing one worker pool and one hub. */
int api_start(struct node *n, const struct api_listener *l, size_t nl, struct api **out,
	      struct sn_err *err);
/* Stop: streams end, running operations finish, then the listeners close. */
void api_stop(struct api *a);

#endif
