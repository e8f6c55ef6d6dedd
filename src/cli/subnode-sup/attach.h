/* attach.h — the supervisor's attach socket for a subnode with a terminal
 * (attach.c): clients get the pty's output (the last 4 KiB first) and send
 * framed input: [type u8][len u16 BE][data], type 0 = stdin bytes,
 * type 1 = resize (rows u16 BE, cols u16 BE), type 2 = watch (send me the
 * output, the last 4 KiB first). */
#ifndef SN_SUP_ATTACH_H
#define SN_SUP_ATTACH_H

#include <poll.h>
#include <stddef.h>

#define ATTACH_MAX_CLIENTS 4

int attach_init(const char *path);          /* listening fd or -1 */
void attach_accept(void);
void attach_set_pty(int master);            /* -1: none (closes clients) */
void attach_output(const char *buf, size_t n);
/* Fill pf with the clients (fd -1 for empty slots); returns the count. */
int attach_pollfds(struct pollfd *pf);
void attach_ready(int slot);

#endif
