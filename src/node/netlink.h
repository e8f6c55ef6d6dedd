/* netlink.h — the few rtnetlink requests the node's networks need, through
 * libmnl: a bridge, a veth pair whose peer is born in a subnode's network
 * namespace, addresses, links up/down/master, a default route, deletes.
 * No `ip` is run: 128 creates would be 128 × several processes.
 *
 * Each call opens a NETLINK_ROUTE socket in the calling thread's network
 * namespace (a socket stays in the namespace it was made in), sends one
 * request with NLM_F_ACK and returns the kernel's answer as -errno, with
 * err naming the object.
 */
#ifndef SN_NODE_NETLINK_H
#define SN_NODE_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include "base/err.h"

/* ifindex of name in this thread's netns, 0 when there is none. */
unsigned nl_ifindex(const char *name);
/* A bridge (EEXIST when it is there). */
int nl_bridge_add(const char *name, struct sn_err *err);
/* A veth pair: host in this netns, peer (named peer) in the netns nsfd. */
int nl_veth_add(const char *host, const char *peer, int nsfd, struct sn_err *err);
/* Up (and, master != 0, enslaved to ifindex master). */
int nl_link_up(const char *name, unsigned master, struct sn_err *err);
/* Delete a link; 0 when it was not there. */
int nl_link_del(const char *name, struct sn_err *err);
/* Add addr/prefix to name; 0 when it is already there. */
int nl_addr_add(const char *name, struct in_addr addr, unsigned prefix, struct sn_err *err);
/* Default route via gw. */
int nl_route_default(struct in_addr gw, struct sn_err *err);

#endif
