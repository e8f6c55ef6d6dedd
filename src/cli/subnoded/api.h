/* api.h — subnoded's HTTP/JSON API on libmicrohttpd (see api.c). */
#ifndef SN_SUBNODED_API_H
#define SN_SUBNODED_API_H

#include "node/node.h"

struct api;
/* Serve on an already bound and listening socket (unix or TCP). token:
 * bearer token every request must carry (NULL: none, the unix socket). */
int api_start(struct node *n, int listen_fd, const char *token, struct api **out,
	      struct sn_err *err);
/* The same with TLS: cert and key are PEM texts. */
int api_start_tls(struct node *n, int listen_fd, const char *token, const char *cert_pem,
		  const char *key_pem, struct api **out, struct sn_err *err);
void api_stop(struct api *a);

#endif
