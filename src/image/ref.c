/* ref.c — image references: "busybox", "127.0.0.1:5000/chain/node:v1",
 * "repo@sha256:...".
 *
 * Same normalisation as docker/podman so names typed by operators mean the
 * same thing everywhere: the first path component is a registry when it
 * contains '.' or ':' or is "localhost"; otherwise the registry is docker.io
 * and a single-component name gets "library/". No tag and no digest means
 * ":latest". The canonical string is what the index stores as a tag.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/sha256.h"
#include "image/internal.h"

void image_ref_free(struct image_ref *r)
{
	if (!r)
		return;
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static bool repo_valid(const char *s)
{
	if (!*s || *s == '/' || s[strlen(s) - 1] == '/')
		return false;
	for (const char *p = s; *p; p++) {
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '.' ||
		      *p == '_' || *p == '-' || *p == '/'))
			return false;
		if (*p == '/' && p[1] == '/')
			return false;
	}
	return true;
}

static bool tag_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

int image_ref_parse(const char *in, struct image_ref *out, struct sn_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!in || !*in || strlen(in) > 1024)
		return sn_err_msg(err, EINVAL, "image reference `%s`: empty or too long", in ? in : "");
	_cleanup_free_ char *s = strdup(in);
	if (!s)
		return sn_err_set(err, ENOMEM, "image reference");
	struct image_ref r = { 0 };
	char *at = strchr(s, '@');
	if (at) {
		*at = '\0';
		if (!sn_digest_is_valid(at + 1))
			return sn_err_msg(err, EINVAL, "image reference `%s`: bad digest `%s`", in, at + 1);
		r.digest = strdup(at + 1);
	}
	char *slash = strrchr(s, '/');
	char *colon = strrchr(slash ? slash : s, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_valid(colon + 1)) {
			image_ref_free(&r);
			return sn_err_msg(err, EINVAL, "image reference `%s`: bad tag `%s`", in, colon + 1);
		}
		r.tag = strdup(colon + 1);
	}
	char *first_slash = strchr(s, '/');
	const char *repo = s;
	if (first_slash) {
		*first_slash = '\0';
		if (strchr(s, '.') || strchr(s, ':') || strcmp(s, "localhost") == 0) {
			r.registry = strdup(s);
			repo = first_slash + 1;
		} else {
			*first_slash = '/';
		}
	}
	if (!r.registry)
		r.registry = strdup("docker.io");
	if (strcmp(r.registry, "docker.io") == 0 && !strchr(repo, '/')) {
		if (asprintf(&r.repository, "library/%s", repo) < 0)
			r.repository = NULL;
	} else {
		r.repository = strdup(repo);
	}
	if (!r.tag && !r.digest)
		r.tag = strdup("latest");
	if (!r.registry || !r.repository || (!r.tag && !r.digest) || (at && !r.digest)) {
		image_ref_free(&r);
		return sn_err_set(err, ENOMEM, "image reference `%s`", in);
	}
	if (!repo_valid(r.repository)) {
		int rc = sn_err_msg(err, EINVAL,
				    "image reference `%s`: bad repository name `%s` (lowercase letters, digits, . _ - /)",
				    in, r.repository);
		image_ref_free(&r);
		return rc;
	}
	*out = r;
	return 0;
}

char *image_ref_string(const struct image_ref *r)
{
	char *s = NULL;
	int n;
	if (r->digest && !r->tag)
		n = asprintf(&s, "%s/%s@%s", r->registry, r->repository, r->digest);
	else
		n = asprintf(&s, "%s/%s:%s", r->registry, r->repository, r->tag);
	return n < 0 ? NULL : s;
}
