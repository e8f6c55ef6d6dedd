/* config.h — subnoded's configuration: one file of `key = value` lines with
 * documented defaults, so no file is needed to start. See config.c for the
 * keys and docs/NODE.md for the reference.
 */
#ifndef SN_NODE_CONFIG_H
#define SN_NODE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include "api/limits.h"
#include "base/err.h"

#define NODE_DEFAULT_ROOT "/var/lib/subnode"
#define NODE_DEFAULT_SOCKET "/run/subnode/subnoded.sock"
#define NODE_UNITS 128
#define NODE_MAX_SIZES 16

struct node_size {
	char name[32];
	unsigned units;
};

/* Networks (network_config.c, docs/NODE.md "Networks"). Empty strings are
 * derived from the root at node_open, so daemons side by side differ. */
struct node_net_config {
	char default_mode[16];     /* "none" (default) or "bridge" */
	char bridge[16];           /* bridge name */
	char subnet[24];           /* "10.A.B.0/24" */
	char nft_table[64];        /* the daemon's own nftables table (family ip) */
	unsigned port_base;        /* 10000 */
	unsigned ports_per_slot;   /* 64 */
	unsigned port_slots;       /* 128 */
};

struct node_config {
	char *root;            /* everything the daemon keeps */
	char *socket;          /* unix socket of the API */
	char *socket_group;    /* group owning the socket (NULL: the daemon's) */
	unsigned socket_mode;  /* 0660 */
	char *runtime;         /* OCI runtime binary: a path or a name in PATH */
	char *supervisor;      /* subnode-sup binary (default: next to subnoded) */
	char *image_tool;      /* subnode-image binary: pulls, imports, unpacks */
	char *cgroup_parent;   /* parent cgroup of every subnode ("/subnode") */
	char *tcp;             /* "host:port" or NULL (off) */
	char *token_file;      /* bearer token for TCP (required with tcp) */
	char *tls_cert, *tls_key;
	double reserve_cpus;       /* cores kept for the node itself */
	uint64_t reserve_memory;   /* bytes */
	uint64_t reserve_disk;     /* bytes */
	unsigned pids_per_unit;    /* pids.max = units * this */
	uint64_t log_max_size;     /* rotate the container log past this size */
	unsigned log_max_files;    /* rotated files kept */
	unsigned stop_timeout;     /* default seconds between SIGTERM and SIGKILL */
	unsigned health_interval_min_ms;  /* a create's health Interval is at least this */
	char *default_size;
	struct node_size sizes[NODE_MAX_SIZES];
	unsigned n_sizes;
	char *log_level;
	struct node_net_config net;
	struct api_limits http;    /* http_timeout, http_client_connections, http_max_args */
};

/* Fill c with the defaults (root/socket may be overridden afterwards). */
int node_config_defaults(struct node_config *c, struct sn_err *err);
/* Read a config file on top of the current values. Unknown keys, bad values
 * are errors naming the file and line. */
int node_config_load(struct node_config *c, const char *path, struct sn_err *err);
/* Parse the text of a config file (what = name used in errors). */
int node_config_parse(struct node_config *c, const char *text, const char *what,
		      struct sn_err *err);
void node_config_free(struct node_config *c);
/* Look a size up by name; NULL when unknown. */
const struct node_size *node_config_size(const struct node_config *c, const char *name);
/* "small (1), medium (4), large (128)" into buf. */
const char *node_config_sizes_str(const struct node_config *c, char *buf, size_t n);
/* Parse "512M", "2G", "1048576" (K/M/G/T are powers of 1024). */
int node_parse_bytes(const char *s, uint64_t *out);
/* network_config.c: defaults, and one `key = value` of the network keys:
 * 1 when k is not one of them, 0 when set, -EINVAL (err) when bad. */
void node_net_config_defaults(struct node_net_config *c);
int node_net_config_key(struct node_net_config *c, const char *k, const char *v,
			struct sn_err *err);

#endif
