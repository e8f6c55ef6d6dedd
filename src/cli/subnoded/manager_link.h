/* manager_link.h — subnoded's hook for the manager link: with --manager,
 * the daemon starts subnode-link (next to its own executable) as a child
 * that dies with it, and stops it when it stops (manager_link.c). */
#ifndef SN_SUBNODED_MANAGER_LINK_H
#define SN_SUBNODED_MANAGER_LINK_H

#include <sys/types.h>
#include "base/err.h"

struct manager_link_opts {
	const char *manager;          /* URL; NULL: no link */
	const char *join_token_file;
	const char *advertise;
	const char *name;             /* optional: the node's name at the manager */
	const char *operator;         /* optional */
	const char *port_base;        /* optional */
};

/* self: subnoded's executable (the link is its sibling); socket: the API
 * socket; root: the node's state directory (the link keeps ROOT/link). */
int manager_link_start(const struct manager_link_opts *o, const char *self, const char *socket,
		       const char *root, pid_t *pid, struct sn_err *err);
void manager_link_stop(pid_t pid);

#endif
