/* network_files.c — a bridge subnode's /etc/hosts and /etc/resolv.conf, as
 * Docker writes them: files in the subnode's directory, bind-mounted over
 * the image's. hosts names the subnode's own address; resolv.conf takes the
 * node's name servers except loopback ones (unreachable from the subnode's
 * namespace), with its search and options lines.
 */
#include "node/node.h"
#include "node/network.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int resolv_conf(char **out, struct sn_err *err)
{
	_cleanup_free_ char *host = NULL;
	size_t len = 0;
	struct sn_err e2 = { 0 };
	if (sn_read_file("/etc/resolv.conf", 1 << 16, &host, &len, &e2) < 0)
		host = NULL;
	size_t cap = (host ? len : 0) + 128, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return sn_err_set(err, ENOMEM, "resolv.conf");
	buf[0] = '\0';
	bool ns = false;
	for (char *l = host, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(l, "nameserver", 10) == 0) {
			const char *a = l + 10 + strspn(l + 10, " \t");
			if (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 || strchr(a, ':'))
				continue;
			ns = true;
		} else if (strncmp(l, "search", 6) && strncmp(l, "options", 7) && strncmp(l, "domain", 6)) {
			continue;
		}
		n += (size_t)snprintf(buf + n, cap - n, "%s\n", l);
	}
	if (!ns)   /* Docker's fallback when the node has only local resolvers */
		snprintf(buf + n, cap - n, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	*out = buf;
	return 0;
}

int node_net_write_files(struct node *n, const char *id, const char *hostname,
			 const char *ip, struct sn_err *err)
{
	_cleanup_free_ char *hosts = node_subnode_dir(n, id, "hosts");
	_cleanup_free_ char *resolv = node_subnode_dir(n, id, "resolv.conf");
	_cleanup_free_ char *text = NULL, *rc = NULL;
	if (!hosts || !resolv || asprintf(&text, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
					   "ip6-loopback\n%s\t%s\n", ip, hostname) < 0)
		return sn_err_set(err, ENOMEM, "hosts");
	int r = sn_replace_file(hosts, text, strlen(text), 0644, err);
	if (r == 0)
		r = resolv_conf(&rc, err);
	if (r == 0)
		r = sn_replace_file(resolv, rc, strlen(rc), 0644, err);
	return r;
}
