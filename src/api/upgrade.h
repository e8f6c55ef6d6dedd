/* upgrade.h — running a raw stream after an HTTP upgrade (exec, attach) on
 * a plain or a TLS connection (see upgrade.c). */
#ifndef SN_API_UPGRADE_H
#define SN_API_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <microhttpd.h>

/* Copies between the client's stream (sock) and whatever it serves, until
 * either side ends; extra: bytes the client sent after its request. */
typedef void (*upgrade_relay_fn)(void *arg, int sock, const char *extra, size_t extra_len);

/* Run relay(arg, ...) for an upgraded connection and close it afterwards.
 * Called from the upgrade callback, in the connection's own thread: on a
 * plain connection the relay gets MHD's socket; on TLS it gets one end of
 * a socketpair whose other end is pumped against the TLS session here,
 * half-closes included. stopping: set when the daemon stops. */
void upgrade_run(struct MHD_Connection *c, bool tls, const int *stopping, int sock,
		 const char *extra, size_t extra_len, struct MHD_UpgradeResponseHandle *urh,
		 upgrade_relay_fn relay, void *arg);

#endif
