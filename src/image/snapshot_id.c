/* snapshot_id.c — a stable snapshot id for a bundle directory: the first
 * 32 hex digits of the sha256 of its absolute path. For tools that name a
 * bundle by its directory (subnode-image bundle / snapshot-rm); the node
 * daemon names snapshots by subnode id and does not link this (nor
 * OpenSSL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/sha256.h"
#include "image/internal.h"

int image_snapshot_id_for_path(const char *path, char id[33], struct sn_err *err)
{
	_cleanup_free_ char *abs = NULL;
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return sn_err_set(err, ENOMEM, "snapshot id");
	abs = realpath(path, NULL);
	if (!abs) {
		/* Not there yet: resolve the parent, append the name. */
		char *slash = strrchr(copy, '/');
		const char *name = slash ? slash + 1 : copy;
		if (slash)
			*slash = '\0';
		_cleanup_free_ char *par = realpath(slash ? (*copy ? copy : "/") : ".", NULL);
		if (!par)
			return sn_err_sys(err, "resolve `%s`", path);
		if (asprintf(&abs, "%s/%s", par, name) < 0)
			return sn_err_set(err, ENOMEM, "snapshot id");
	}
	char hex[SN_SHA256_HEX_LEN + 1];
	int r = sn_sha256_hex(abs, strlen(abs), hex, err);
	if (r < 0)
		return r;
	snprintf(id, 33, "%.32s", hex);
	return 0;
}
