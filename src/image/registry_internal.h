/* registry_internal.h — what registry.c and auth.c share. */
#ifndef SN_IMAGE_REGISTRY_INTERNAL_H
#define SN_IMAGE_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include "image/internal.h"

struct reg_client {
	struct image_store *s;
	struct image_ref ref;
	const struct image_pull_opts *o;
	char *base;          /* "https://host:port" */
	char *auth_header;   /* "Authorization: ..." or NULL */
	bool tried_basic;
	long timeout_s;
};

struct reg_buf {
	char *data;
	size_t len, max;
	bool overflow;
};

struct reg_headers {
	char *www_authenticate;
	char *content_type;
	char *docker_digest;
};
void reg_headers_free(struct reg_headers *h);

/* Apply TLS, timeouts and common options to an easy handle. */
void reg_setup_handle(struct reg_client *c, CURL *h);
/* One GET into body (capped at body->max); extra_header may be NULL. */
int reg_simple_get(struct reg_client *c, CURL *h, const char *url, const char *extra_header,
		   const char *accept, struct reg_buf *body, long *status, struct reg_headers *hd,
		   struct sn_err *err);

struct auth_challenge { char *scheme, *realm, *service, *scope; };
int auth_parse_challenge(const char *h, struct auth_challenge *out);
void auth_challenge_free(struct auth_challenge *c);
char *auth_basic_header(const char *user, const char *pass);
int auth_fetch_token(struct reg_client *c, const struct auth_challenge *ch, const char *def_scope,
		     struct sn_err *err);
/* React to a 401: sets c->auth_header for the retry. */
int auth_handle_challenge(struct reg_client *c, const char *www, struct sn_err *err);

#endif
