/* docker.h — what makes subnoded a target for Docker's clients (the docker
 * CLI, docker-py, the Go SDK): the API version in the path, Docker's whole
 * create body mapped onto the node's, and the JSON shapes Docker documents
 * where the node's own differ. docs/API.md, "Docker clients". */
#ifndef SN_SUBNODED_DOCKER_H
#define SN_SUBNODED_DOCKER_H

#include "base/err.h"

#include <jansson.h>
#include <stdbool.h>

struct node;

/* The API versions a path may name (/v1.41/...): what Docker's current
 * clients send or fall back to. The node speaks 1.41's shapes. */
#define DOCKER_API_MIN "1.24"
#define DOCKER_API_MAX_MINOR 51
/* The label that names a subnode's size through Docker's vocabulary. */
#define DOCKER_SIZE_LABEL "io.subnode.size"

/* Strip a /vX.Y prefix from *url. -EINVAL with the message Docker gives
 * for a version outside DOCKER_API_MIN..1.DOCKER_API_MAX_MINOR or a
 * malformed one. */
int docker_api_prefix(const char **url, struct sn_err *e);

/* docker_create.c: Docker's create body (ContainerConfig, HostConfig,
 * NetworkingConfig) to the node's (validate.c): *out is a new object. */
int docker_create_body(struct node *n, json_t *body, json_t **out, struct sn_err *e);

/* docker_shapes.c: the image index (node_image_list) as Docker's image
 * summaries, in place: Id, RepoTags, RepoDigests, Created (unix seconds),
 * Size, ... beside the node's own keys (none that Go's case-insensitive
 * decoding would take for one of Docker's). filters (checked, may be
 * NULL): {"reference": [patterns]} keeps the images with a tag that
 * matches one, as Docker matches them (`busybox`, `local/bb*`). */
void docker_image_summaries(json_t *list, json_t *filters);

/* GET /images/{ref}/json: Docker's ImageInspect of the image ref names
 * (a tag, Docker's short name, the Id or a prefix of it, the digest). */
int docker_image_inspect(struct node *n, const char *ref, json_t **out, struct sn_err *e);

/* When ref is an image Id (the config digest, or 4+ hex digits of it) and
 * not a tag: *row is the index row ({"digest","tags","config"}), else
 * NULL. An Id with more than one tag is EBUSY without force (Docker's
 * "must be forced"). */
int docker_image_by_id(struct node *n, const char *ref, bool force, json_t **row, struct sn_err *e);

/* docker ps -n N: keep the N most recently created of a container list. */
int docker_list_limit(json_t *list, size_t n);

#endif
