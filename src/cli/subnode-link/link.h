/* link.h — what the files of subnode-link share. */
#ifndef SN_LINK_LINK_H
#define SN_LINK_LINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "http.h"

struct link {
	const char *manager, *advertise, *socket, *state, *operator;
	char name[64];
	char join_token[256];
	char cred[128];
	int units, port_base;
	int api_port;            /* the node's TCP API port, for transfers; 0: none */
	bool had_grants;         /* the daemon holds grants of ours */
	struct peer mgr, node;   /* the main thread's handles */
	pthread_mutex_t mu;      /* cred, rejoin */
	bool rejoin;
};

/* Name and units from the node's /info when not given. */
int link_node_defaults(struct link *l, struct sn_err *err);
/* The heartbeat's summary from the node's subnodes. */
int link_summary(struct link *l, struct peer *node, json_t **out, struct sn_err *err);
/* Make the node run exactly the desired members (assignments of the
 * manager): create what is missing, remove managed subnodes no longer
 * desired, refresh each member's peer file. */
int link_reconcile(struct link *l, json_t *desired, struct sn_err *err);

/* The machine's CPU busy (percent, since prev, which it updates; 0 the
 * first time), memory in use, and bytes received and sent by its network
 * devices but lo (host.c). */
struct link_cpu {
	unsigned long long total, idle;
};
int link_host_cpu(struct link_cpu *prev, double *percent, struct sn_err *err);
int link_host_memory(int64_t *used, int64_t *total, struct sn_err *err);
int link_host_net(int64_t *rx, int64_t *tx, struct sn_err *err);

/* Put the node's transfer grants, from every desired assignment, to the
 * daemon (transfer.c). */
int link_put_grants(struct link *l, json_t *desired, struct sn_err *err);
/* Fill the member's volume from one of its assignment's sources, unless
 * it has none or the volume exists; -errno with no volume made when every
 * source failed. */
int link_fill_volume(struct link *l, json_t *a, const char *volume, struct sn_err *err);

#endif
