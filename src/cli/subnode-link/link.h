/* link.h — what the files of subnode-link share. */
#ifndef SN_LINK_LINK_H
#define SN_LINK_LINK_H

#include <pthread.h>
#include <stdbool.h>
#include "http.h"

struct link {
	const char *manager, *advertise, *socket, *state, *operator;
	char name[64];
	char join_token[256];
	char cred[128];
	int units, port_base;
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

#endif
