/* network_config.c — the network keys of the node's configuration and the
 * defaults derived from the root.
 *
 *   network_default = none       none | bridge: the mode of a create that names none
 *   bridge          = (derived)  "snb" + 8 hex of a hash of the root
 *   bridge_subnet   = (derived)  10.A.B.0/24, A in 64..127, B from the same hash
 *   nft_table       = (derived)  "subnode_" + the same 8 hex
 *   port_base       = 10000      first port of slot 0
 *   ports_per_slot  = 64
 *   port_slots      = 128        slots 0..port_slots-1
 *
 * Several daemons in one network namespace differ by their root, so the
 * derived bridge, subnet and table differ too; a collision of the 16-bit
 * subnet hash is possible and is why all three can be set by hand.
 */
#include "node/node.h"
#include "node/network.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void node_net_config_defaults(struct node_net_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->default_mode, sizeof(c->default_mode), "none");
	c->port_base = 10000;
	c->ports_per_slot = 64;
	c->port_slots = 128;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

/* "A.B.C.D/P" with the host bits zero, P in 16..28. */
static int parse_subnet(const char *s, struct in_addr *net, unsigned *prefix)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	char *end;
	long p = strtol(slash + 1, &end, 10);
	if (*end || p < 16 || p > 28 || inet_pton(AF_INET, buf, net) != 1)
		return -EINVAL;
	uint32_t mask = htonl(~0u << (32 - p));
	if (net->s_addr & ~mask)
		return -EINVAL;
	*prefix = (unsigned)p;
	return 0;
}

int node_net_config_key(struct node_net_config *c, const char *k, const char *v,
			struct sn_err *err)
{
	if (strcmp(k, "network_default") == 0) {
		if (strcmp(v, "none") && strcmp(v, "bridge") && strcmp(v, "host"))
			return sn_err_msg(err, EINVAL, "network_default `%s`: none, bridge or host", v);
		snprintf(c->default_mode, sizeof(c->default_mode), "%s", v);
		return 0;
	}
	if (strcmp(k, "bridge") == 0) {
		if (!ifname_ok(v))
			return sn_err_msg(err, EINVAL, "bridge `%s`: 1-15 of [A-Za-z0-9_-]", v);
		snprintf(c->bridge, sizeof(c->bridge), "%s", v);
		return 0;
	}
	if (strcmp(k, "bridge_subnet") == 0) {
		struct in_addr a;
		unsigned p;
		if (strlen(v) >= sizeof(c->subnet) || parse_subnet(v, &a, &p) < 0)
			return sn_err_msg(err, EINVAL, "bridge_subnet `%s`: an IPv4 network A.B.C.D/16..28", v);
		snprintf(c->subnet, sizeof(c->subnet), "%s", v);
		return 0;
	}
	if (strcmp(k, "nft_table") == 0) {
		if (strlen(v) >= sizeof(c->nft_table) || !ifname_ok(v) || !isalpha((unsigned char)v[0]))
			return sn_err_msg(err, EINVAL, "nft_table `%s`: a letter, then [A-Za-z0-9_-]", v);
		snprintf(c->nft_table, sizeof(c->nft_table), "%s", v);
		return 0;
	}
	unsigned *u = strcmp(k, "port_base") == 0 ? &c->port_base :
		      strcmp(k, "ports_per_slot") == 0 ? &c->ports_per_slot :
		      strcmp(k, "port_slots") == 0 ? &c->port_slots : NULL;
	if (!u)
		return 1;
	unsigned long long x;
	if (sn_parse_u64(v, &x) < 0 || x < 1 || x > 65535)
		return sn_err_msg(err, EINVAL, "%s `%s`: 1..65535", k, v);
	*u = (unsigned)x;
	return 0;
}

/* FNV-1a: a stable hash of the root's path, for names that differ per daemon. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

int node_net_config_derive(struct node *n, struct sn_err *err)
{
	struct node_net_config *c = &n->cfg.net;
	uint32_t h = fnv1a(n->cfg.root);
	if (!*c->bridge)
		snprintf(c->bridge, sizeof(c->bridge), "snb%08x", h);
	if (!*c->nft_table)
		snprintf(c->nft_table, sizeof(c->nft_table), "subnode_%08x", h);
	if (!*c->subnet)
		snprintf(c->subnet, sizeof(c->subnet), "10.%u.%u.0/24", 64 + (h >> 8) % 64, h % 256);
	if ((unsigned long)c->port_base + (unsigned long)c->ports_per_slot * c->port_slots > 65536)
		return sn_err_msg(err, EINVAL, "config: port_base %u + port_slots %u × ports_per_slot %u "
				  "passes port 65535", c->port_base, c->port_slots, c->ports_per_slot);
	if (parse_subnet(c->subnet, &n->net->subnet, &n->net->prefix) < 0)
		return sn_err_msg(err, EINVAL, "bridge_subnet `%s`: bad", c->subnet);
	snprintf(n->net->veth_prefix, sizeof(n->net->veth_prefix), "sv%04x", h >> 16);
	n->net->gateway.s_addr = htonl(ntohl(n->net->subnet.s_addr) + 1);
	return 0;
}
