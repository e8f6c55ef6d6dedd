/* network.h — the node's networks, inside the node layer: network modes
 * (none, host, bridge, container:NAME), the daemon's bridge with a veth
 * per subnode and addresses from an IPAM kept in SQLite, published ports
 * and port slots, per-port allow-lists, and the one nftables table that is
 * derived from that state.
 *
 * Files:
 *   network_config.c  the config keys and the defaults derived from the root
 *   network_spec.c    the create request's network fields, checked
 *   network_db.c      reservations in SQLite: addresses, slots, port ranges
 *   network_ns.c      the bridge, a subnode's persistent netns and its veth
 *   network_files.c   /etc/hosts and /etc/resolv.conf of a subnode
 *   firewall.c        the nftables table (libnftables), in atomic batches
 *   network.c         the steps of create, start, remove, update, repair
 *
 * The state that matters is in SQLite (written before acting): a
 * reservation row per networked subnode (`net_addrs`) and its port ranges
 * (`net_ports`). Everything in the kernel — the netns bind mount under
 * root/netns/, the veth, the table's elements — is made from those rows,
 * and a daemon start removes what no row explains.
 */
#ifndef SN_NODE_NETWORK_H
#define SN_NODE_NETWORK_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <jansson.h>
#include "base/err.h"

struct node;
struct nft_ctx;

struct node_net {
	pthread_mutex_t lock;    /* the bridge, the nft context */
	struct nft_ctx *nft;
	bool bridge_ready;
	struct in_addr subnet;   /* network address */
	unsigned prefix;
	struct in_addr gateway;  /* .1: the bridge's own */
	char *ns_dir;            /* root/netns */
	char veth_prefix[8];     /* "sv" + 4 hex of the root's hash */
};

/* ---- network_config.c */
/* Fill the names left empty from the root (a hash of its path) and parse
 * the subnet into n->net. */
int node_net_config_derive(struct node *n, struct sn_err *err);

/* ---- network_spec.c */
/* The network fields of HostConfig (NetworkMode, PortBindings, PortSlot,
 * PortAllow) into cfg.Net; 400s name the field. */
int node_net_validate(struct node *n, json_t *hc, json_t *cfg, struct sn_err *err);
/* PortAllow (`{"PORT[-PORT][/proto]": ["CIDR", ...]}`) into a normalized
 * array [{Proto, From, To, Sources: [CIDR]}]; what names the field. */
int node_net_parse_allow(json_t *allow, const char *what, json_t **out, struct sn_err *err);
/* Every allow entry must lie inside ports published by this subnode
 * (ports: the reservation's "Ports"). */
int node_net_check_allow(json_t *allow, json_t *ports, const char *what, struct sn_err *err);

/* ---- network_db.c (callers hold n->lock) */
int node_net_db_init(struct node *n, struct sn_err *err);
/* Reserve an address (bridge), a slot and published ports for subnode id;
 * 409 naming the holder when taken. out: the reservation
 * {IP, Slot, PortBase, Ports: [{Proto, First, Last, CtrFirst}]}. */
int node_net_reserve(struct node *n, const char *id, json_t *net, json_t **out,
		     struct sn_err *err);
int node_net_release(struct node *n, const char *id, struct sn_err *err);
/* Release every reservation whose subnode has no row. */
int node_net_release_orphans(struct node *n, struct sn_err *err);
/* The reservation of id; -ENOENT when it has none. */
int node_net_lookup(struct node *n, const char *id, json_t **out, struct sn_err *err);
/* Every reservation: {id: reservation}. */
int node_net_all(struct node *n, json_t **out, struct sn_err *err);

/* ---- network_ns.c */
int node_net_bridge_ensure(struct node *n, struct sn_err *err);
char *node_net_ns_path(struct node *n, const char *id);
/* The veth's host end for id: "sv" + 4 hex of the root's hash + 9 of the
 * id, so a sweep touches only this daemon's. */
void node_net_veth_name(struct node *n, const char *id, char out[16]);
/* The subnode's netns (bind-mounted at root/netns/<id>) with eth0 at ip,
 * its veth on the bridge, lo up, a default route: made when missing. */
int node_net_ns_ensure(struct node *n, const char *id, const char *ip, struct sn_err *err);
/* Remove the veth and the netns of id; 0 when there were none. */
int node_net_ns_remove(struct node *n, const char *id, struct sn_err *err);
/* Remove netns files and veths on the bridge whose id has no reservation. */
int node_net_ns_sweep(struct node *n, json_t *all, struct sn_err *err);

/* ---- network_files.c */
int node_net_write_files(struct node *n, const char *id, const char *hostname,
			 const char *ip, struct sn_err *err);

/* ---- firewall.c */
/* Add or delete one subnode's elements (one batch); on a mismatch with
 * the kernel, the whole table is rebuilt from the db instead. */
int node_fw_add(struct node *n, json_t *res, json_t *allow, struct sn_err *err);
int node_fw_del(struct node *n, json_t *res, json_t *allow, struct sn_err *err);
/* Replace one subnode's allow-list: deletes and adds in one batch. */
int node_fw_replace_allow(struct node *n, json_t *res, json_t *old_allow, json_t *new_allow,
			  struct sn_err *err);
/* The whole table from the db (skip: an id to leave out, or NULL); with
 * nothing to put in it, the table is deleted. One batch. */
int node_fw_rebuild(struct node *n, const char *skip, struct sn_err *err);
void node_fw_close(struct node *n);

/* ---- network.c */
int node_net_open(struct node *n, struct sn_err *err);
void node_net_close(struct node *n);
/* Create step: reserve (under n->lock, with the row), then make. */
int node_net_create_reserve(struct node *n, const char *id, json_t *cfg, struct sn_err *err);
int node_net_create_make(struct node *n, const char *id, const char *name, json_t *cfg,
			 struct sn_err *err);
/* Before every start: the netns and veth are there (after a reboot...). */
int node_net_start(struct node *n, const char *id, json_t *cfg, struct sn_err *err);
/* Remove every network trace of id (firewall, veth, netns, reservation). */
int node_net_destroy(struct node *n, const char *id, json_t *cfg, struct sn_err *err);
/* After the rows are repaired: orphans removed, the table rebuilt. */
int node_net_reconcile(struct node *n, struct sn_err *err);
/* The spec's network namespace, /etc files, SUBNODE_PORT_BASE. */
int node_net_bundle(struct node *n, const char *id, json_t *cfg, json_t *spec, struct sn_err *err);
/* NetworkSettings for inspect. */
json_t *node_net_inspect(struct node *n, const char *id, json_t *cfg);
/* POST /containers/{id}/update: {"PortAllow": {...}}. */
int node_net_update(struct node *n, const char *ref, json_t *body, struct sn_err *err);

#endif
