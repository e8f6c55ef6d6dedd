/* node.c — opening and closing the node: the root directory, the db, the
 * image store, the runtime and supervisor binaries, slices, events, the
 * supervisors' notify socket, and the repair of what a crash left.
 *
 * Binaries: `runtime = subrun` (a bare name) is looked up next to subnoded
 * first (the same build), then in PATH; a path is used as given. The same
 * for the supervisor, subnode-sup.
 */
#include "node/node.h"
#include "node/network.h"
#include "node/metrics.h"
#include "node/db.h"
#include "node/exec.h"
#include "node/volume.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/image.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *find_binary(const char *name, const char *self_exe)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? realpath(name, NULL) : NULL;
	if (self_exe) {
		_cleanup_free_ char *copy = strdup(self_exe);
		_cleanup_free_ char *p = copy ? sn_path_join(dirname(copy), name) : NULL;
		if (p && access(p, X_OK) == 0)
			return realpath(p, NULL);
	}
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = strdup(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;
	for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = sn_path_join(d, name);
		if (p && access(p, X_OK) == 0)
			return realpath(p, NULL);
	}
	return NULL;
}

static int copy_config(struct node_config *dst, const struct node_config *src, struct sn_err *err)
{
	*dst = *src;
	char **strs[] = { &dst->root, &dst->socket, &dst->socket_group, &dst->runtime, &dst->supervisor,
			  &dst->image_tool, &dst->cgroup_parent, &dst->tcp, &dst->token_file, &dst->tls_cert, &dst->tls_key,
			  &dst->default_size, &dst->log_level };
	bool fail = false;
	for (size_t i = 0; i < SN_ARRAY_SIZE(strs); i++)
		if (*strs[i] && !(*strs[i] = strdup(*strs[i])))
			fail = true;
	return fail ? sn_err_set(err, ENOMEM, "config") : 0;
}

void node_crashpoint(struct node *n, const char *step)
{
	if (!n->crash_at || strcmp(n->crash_at, step) != 0)
		return;
	sn_warn("SUBNODED_CRASH_AT=%s: killing the daemon here", step);
	kill(getpid(), SIGKILL);
}

int node_store_take(struct node *n, struct image_store **s, struct sn_err *err)
{
	pthread_mutex_lock(&n->pool_lock);
	*s = n->pool_n ? n->pool[--n->pool_n] : NULL;
	pthread_mutex_unlock(&n->pool_lock);
	return *s ? 0 : image_store_open(image_store_root(n->images), s, err);
}

void node_store_give(struct node *n, struct image_store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&n->pool_lock);
	if (n->pool_n < SN_ARRAY_SIZE(n->pool)) {
		n->pool[n->pool_n++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&n->pool_lock);
	image_store_close(s);
}

int node_open(struct node *n, const struct node_config *cfg, const char *self_exe,
	      struct sn_err *err)
{
	memset(n, 0, sizeof(*n));
	n->notify_fd = -1;
	pthread_mutex_init(&n->lock, NULL);
	pthread_mutex_init(&n->images_lock, NULL);
	pthread_mutex_init(&n->pool_lock, NULL);
	pthread_mutex_init(&n->prepare_lock, NULL);
	n->started_at = node_now_ns();
	const char *crash = getenv("SUBNODED_CRASH_AT");
	if (crash && *crash && !(n->crash_at = strdup(crash)))
		return sn_err_set(err, ENOMEM, "node");
	int r = copy_config(&n->cfg, cfg, err);
	if (r < 0)
		return r;
	n->busy = json_object();
	if (!n->busy || node_events_new(&n->events) < 0)
		return sn_err_set(err, ENOMEM, "node");
	const char *root = n->cfg.root;
	if ((r = sn_mkdir_p(root, 0711, err)) < 0)
		return sn_err_wrap(err, "root");
	n->runtime_root = sn_path_join(root, "runtime");
	n->subnodes_dir = sn_path_join(root, "subnodes");
	n->notify_path = sn_path_join(root, "notify.sock");
	_cleanup_free_ char *images = sn_path_join(root, "images");
	_cleanup_free_ char *dbp = sn_path_join(root, "state.db");
	if (!n->runtime_root || !n->subnodes_dir || !n->notify_path || !images || !dbp)
		return sn_err_set(err, ENOMEM, "node");
	_cleanup_free_ char *sockdir = sn_path_join(root, "s");
	if (!sockdir)
		return sn_err_set(err, ENOMEM, "node");
	if ((r = sn_mkdir_p(n->runtime_root, 0700, err)) < 0 ||
	    (r = sn_mkdir_p(n->subnodes_dir, 0700, err)) < 0 || (r = sn_mkdir_p(sockdir, 0700, err)) < 0)
		return r;
	n->runtime_path = find_binary(n->cfg.runtime, self_exe);
	if (!n->runtime_path)
		return sn_err_msg(err, ENOENT, "runtime `%s`: not found (next to %s or in PATH)",
				  n->cfg.runtime, self_exe ? self_exe : "subnoded");
	const char *sup = n->cfg.supervisor ? n->cfg.supervisor : "subnode-sup";
	n->sup_path = find_binary(sup, self_exe);
	if (!n->sup_path)
		return sn_err_msg(err, ENOENT, "supervisor `%s`: not found (next to %s or in PATH)", sup,
				  self_exe ? self_exe : "subnoded");
	const char *tool = n->cfg.image_tool ? n->cfg.image_tool : "subnode-image";
	n->image_tool_path = find_binary(tool, self_exe);
	if (!n->image_tool_path)
		return sn_err_msg(err, ENOENT, "image_tool `%s`: not found (next to %s or in PATH)", tool,
				  self_exe ? self_exe : "subnoded");
	if ((r = node_db_open(dbp, &n->db, err)) < 0)
		return r;
	const char *names[NODE_MAX_SIZES];
	unsigned units[NODE_MAX_SIZES];
	for (unsigned i = 0; i < n->cfg.n_sizes; i++) {
		names[i] = n->cfg.sizes[i].name;
		units[i] = n->cfg.sizes[i].units;
	}
	if ((r = node_db_save_sizes(n->db, names, units, n->cfg.n_sizes, err)) < 0)
		return r;
	if ((r = image_store_open(images, &n->images, err)) < 0)
		return sn_err_wrap(err, "image store");
	if ((r = node_slices_init(n, err)) < 0)
		return r;
	if ((r = node_volumes_open(n, err)) < 0)
		return sn_err_wrap(err, "volumes");
	if ((r = node_net_open(n, err)) < 0)
		return sn_err_wrap(err, "network");
	if ((r = node_collector_new(&n->collector, err)) < 0)
		return r;
	if ((r = node_notify_start(n, err)) < 0)
		return r;
	return node_reconcile(n, err);
}

void node_close(struct node *n)
{
	node_notify_stop(n);
	node_exec_free_all(n);
	node_net_close(n);
	node_volumes_close(n);
	node_collector_free(n->collector);
	node_db_close(n->db);
	if (n->images)
		image_store_close(n->images);
	while (n->pool_n)
		image_store_close(n->pool[--n->pool_n]);
	node_events_free(n->events);
	json_decref(n->busy);
	free(n->runtime_path);
	free(n->sup_path);
	free(n->image_tool_path);
	free(n->runtime_root);
	free(n->subnodes_dir);
	free(n->notify_path);
	free(n->crash_at);
	node_config_free(&n->cfg);
	pthread_mutex_destroy(&n->lock);
	pthread_mutex_destroy(&n->images_lock);
	pthread_mutex_destroy(&n->pool_lock);
	pthread_mutex_destroy(&n->prepare_lock);
	memset(n, 0, sizeof(*n));
	n->notify_fd = -1;
}
