/* cgroup_probe.c — questions about what the host's cgroups can do, asked
 * before any container exists (the node's slices ask whether a blkio/io
 * weight can be given). Kept here, behind cgroup.h, so that no caller
 * guesses paths under /sys/fs/cgroup: the layout (v1, v2, hybrid, where
 * each controller is mounted) is the runtime's to know.
 */
#include "runtime/cgroup_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text; (p = strstr(p, word)); p += n)
		if ((p == text || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

int cgroup_io_weight_available(const char *root, enum cgroup_mode mode, bool *yes,
			       struct sn_err *err)
{
	*yes = false;
	struct cgroup probe = { .mode = mode, .root = (char *)root, .path = (char *)"/" };
	struct cg_layout l;
	int r = cg_layout_load(&probe, &l, err);
	if (r < 0)
		return sn_err_wrap(err, "io weight of cgroups under `%s`", root);
	if (mode == CGROUP_V2) {
		_cleanup_free_ char *ctrls = NULL;
		r = cg_read(l.unified, "cgroup.controllers", &ctrls, err);
		cg_layout_free(&l);
		if (r < 0)
			return sn_err_wrap(err, "io weight of cgroups under `%s`", root);
		*yes = has_word(ctrls, "io");
		return 0;
	}
	const struct cg_hier *h = cg_v1_find(&l, "blkio");
	static const char *const files[] = { "blkio.weight", "blkio.bfq.weight", NULL };
	for (const char *const *f = files; h && *f && !*yes; f++) {
		_cleanup_free_ char *p = sn_path_join(h->dir, *f);
		if (!p) {
			cg_layout_free(&l);
			return sn_err_set(err, ENOMEM, "io weight of cgroups under `%s`", root);
		}
		*yes = access(p, F_OK) == 0;
	}
	cg_layout_free(&l);
	return 0;
}
