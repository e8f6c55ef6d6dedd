/* network_ns.c — the daemon's bridge and a bridge subnode's network
 * namespace with its veth.
 *
 * A bridge subnode's netns is made by the daemon, not by the runtime, and
 * bind-mounted at root/netns/<id> (as `ip netns` and podman do): so it is
 * ready before the runtime starts the container, the runtime only joins
 * it (linux.namespaces[].path), it outlives restarts of the subnode (the
 * address stays), and `container:NAME` can join it too.
 *
 * Namespaces are per thread: a short-lived thread unshares (or setns'es
 * into) the subnode's netns, does its work with netlink sockets made
 * there, and ends, taking its reference with it; the daemon's other
 * threads never change namespace.
 *
 * Names: the bridge is cfg.net.bridge; a veth's host end is
 * "sv" + 4 hex of the root's hash + 9 hex of the id (15 characters, the
 * kernel's limit), its peer is eth0 inside.
 */
#include "node/node.h"
#include "node/network.h"
#include "node/netlink.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static int write_proc(const char *path, const char *v, struct sn_err *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sn_err_sys(err, "open `%s`", path);
	if (sn_write_all(fd, v, strlen(v)) < 0)
		return sn_err_sys(err, "write `%s`", path);
	return 0;
}

int node_net_bridge_ensure(struct node *n, struct sn_err *err)
{
	struct node_net *net = n->net;
	const char *br = n->cfg.net.bridge;
	pthread_mutex_lock(&net->lock);
	int r = 0;
	if (net->bridge_ready && nl_ifindex(br))
		goto out;
	r = nl_bridge_add(br, err);
	if (r == -EEXIST)
		r = 0;
	if (r == 0)
		r = nl_addr_add(br, net->gateway, net->prefix, err);
	if (r == 0)
		r = nl_link_up(br, 0, err);
	/* Forwarding for published ports and the way out (Docker does the
	 * same); route_localnet on our bridge only, so a connection to
	 * 127.0.0.1:PORT on the node can be sent to a subnode. */
	if (r == 0)
		r = write_proc("/proc/sys/net/ipv4/ip_forward", "1", err);
	if (r == 0) {
		char p[128];
		snprintf(p, sizeof(p), "/proc/sys/net/ipv4/conf/%s/route_localnet", br);
		r = write_proc(p, "1", err);
	}
	if (r == 0)
		net->bridge_ready = true;
	else
		sn_err_wrap(err, "bridge `%s`", br);
out:
	pthread_mutex_unlock(&net->lock);
	return r;
}

char *node_net_ns_path(struct node *n, const char *id)
{
	return sn_path_join(n->net->ns_dir, id);
}

void node_net_veth_name(struct node *n, const char *id, char out[16])
{
	snprintf(out, 16, "%s%.9s", n->net->veth_prefix, id);
}

static bool is_netns_mount(const char *path)
{
	struct statfs s;
	return statfs(path, &s) == 0 && (unsigned long)s.f_type == NSFS_MAGIC;
}

/* Work done in a thread of its own inside a network namespace. */
struct ns_job {
	struct node *n;
	const char *path;  /* make: the new netns is bind-mounted here */
	int nsfd;          /* configure: the netns to enter */
	const char *ip;
	int r;
	struct sn_err err;
};

static void *make_thread(void *arg)
{
	struct ns_job *j = arg;
	if (unshare(CLONE_NEWNET) < 0) {
		j->r = sn_err_sys(&j->err, "unshare a network namespace");
		return NULL;
	}
	int fd = open(j->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		j->r = sn_err_sys(&j->err, "create `%s`", j->path);
		return NULL;
	}
	close(fd);
	if (mount("/proc/thread-self/ns/net", j->path, NULL, MS_BIND, NULL) < 0)
		j->r = sn_err_sys(&j->err, "bind-mount a network namespace on `%s`", j->path);
	return NULL;
}

static void *configure_thread(void *arg)
{
	struct ns_job *j = arg;
	struct node_net *net = j->n->net;
	if (setns(j->nsfd, CLONE_NEWNET) < 0) {
		j->r = sn_err_sys(&j->err, "enter the network namespace");
		return NULL;
	}
	struct in_addr a;
	if (inet_pton(AF_INET, j->ip, &a) != 1) {
		j->r = sn_err_msg(&j->err, EINVAL, "address `%s`", j->ip);
		return NULL;
	}
	if ((j->r = nl_link_up("lo", 0, &j->err)) < 0 ||
	    (j->r = nl_addr_add("eth0", a, net->prefix, &j->err)) < 0 ||
	    (j->r = nl_link_up("eth0", 0, &j->err)) < 0)
		return NULL;
	j->r = nl_route_default(net->gateway, &j->err);
	if (j->r == -EEXIST)
		j->r = 0;
	return NULL;
}

static int run_job(void *(*fn)(void *), struct ns_job *j, struct sn_err *err)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, fn, j);
	if (e)
		return sn_err_set(err, e, "thread for a network namespace");
	pthread_join(t, NULL);
	if (j->r < 0) {
		*err = j->err;
		return j->r;
	}
	return 0;
}

int node_net_ns_ensure(struct node *n, const char *id, const char *ip, struct sn_err *err)
{
	int r = node_net_bridge_ensure(n, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = node_net_ns_path(n, id);
	if (!path)
		return sn_err_set(err, ENOMEM, "netns");
	char veth[16];
	node_net_veth_name(n, id, veth);
	bool fresh = false;
	if (!is_netns_mount(path)) {
		if ((r = nl_link_del(veth, err)) < 0)
			return r;
		struct ns_job j = { .n = n, .path = path };
		if ((r = run_job(make_thread, &j, err)) < 0)
			return r;
		fresh = true;
	}
	if (!fresh && nl_ifindex(veth))
		return 0;
	_cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return sn_err_sys(err, "open `%s`", path);
	unsigned br = nl_ifindex(n->cfg.net.bridge);
	if (!br)
		return sn_err_msg(err, ENODEV, "bridge `%s` is gone", n->cfg.net.bridge);
	if ((r = nl_veth_add(veth, "eth0", nsfd, err)) < 0 || (r = nl_link_up(veth, br, err)) < 0)
		return r;
	struct ns_job j = { .n = n, .nsfd = nsfd, .ip = ip };
	return run_job(configure_thread, &j, err);
}

int node_net_ns_remove(struct node *n, const char *id, struct sn_err *err)
{
	char veth[16];
	node_net_veth_name(n, id, veth);
	int r = nl_link_del(veth, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = node_net_ns_path(n, id);
	if (!path)
		return sn_err_set(err, ENOMEM, "netns");
	if (is_netns_mount(path) && umount2(path, MNT_DETACH) < 0)
		return sn_err_sys(err, "unmount `%s`", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return sn_err_sys(err, "remove `%s`", path);
	return 0;
}

static bool reserved(json_t *all, const char *id_prefix, size_t len)
{
	const char *k;
	json_t *v;
	json_object_foreach(all, k, v)
		if (strncmp(k, id_prefix, len) == 0 && json_object_get(v, "IP"))
			return true;
	return false;
}

int node_net_ns_sweep(struct node *n, json_t *all, struct sn_err *err)
{
	_cleanup_closedir_ DIR *d = opendir(n->net->ns_dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || reserved(all, de->d_name, strlen(de->d_name) + 1))
			continue;
		sn_info("repair: removing the network namespace of `%s` (no reservation)", de->d_name);
		int r = node_net_ns_remove(n, de->d_name, err);
		if (r < 0)
			return r;
	}
	struct if_nameindex *ifs = if_nameindex();
	if (!ifs)
		return sn_err_sys(err, "list network interfaces");
	size_t pl = strlen(n->net->veth_prefix);
	int r = 0;
	for (struct if_nameindex *i = ifs; i->if_index && r == 0; i++) {
		if (strncmp(i->if_name, n->net->veth_prefix, pl) != 0 || strlen(i->if_name) != pl + 9 ||
		    reserved(all, i->if_name + pl, 9))
			continue;
		sn_info("repair: removing veth `%s` (no reservation)", i->if_name);
		r = nl_link_del(i->if_name, err);
	}
	if_freenameindex(ifs);
	return r;
}
