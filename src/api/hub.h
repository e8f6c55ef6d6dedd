/* hub.h — one thread that resumes suspended HTTP connections when what they
 * wait for happens: an fd ready (the image tool's output, a pipe to it
 * writable), the client hanging up, the daemon's next event, or a deadline. See
 * hub.c. */
#ifndef SN_API_HUB_H
#define SN_API_HUB_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

struct hub;

#define HUB_MAX_FDS 3

/* What a suspended connection waits for; any one of them resumes it. */
struct hub_want {
	int fd[HUB_MAX_FDS];        /* -1: unused */
	uint32_t events[HUB_MAX_FDS]; /* EPOLLIN, EPOLLOUT, EPOLLRDHUP ... */
	int timeout_ms;             /* -1: none */
	bool event;                 /* the next event on hub_start's events_fd */
};

/* events_fd: an eventfd, readable when the daemon has a new event (subnoded:
 * node_events_fd); may be -1. */
int hub_start(int events_fd, struct hub **out);
/* Resume every connection still waiting and refuse to hold new ones (they
 * are resumed at once): the HTTP daemon can then be stopped. */
void hub_drain(struct hub *h);
void hub_free(struct hub *h);

/* c must have been suspended by the caller (MHD_suspend_connection) just
 * before; it is resumed exactly once, by the first of w that happens. */
void hub_wait(struct hub *h, struct MHD_Connection *c, const struct hub_want *w);

/* Give the heap's free pages back (malloc_trim) once ms have passed with
 * no further call: called as each request ends, it trims after a burst. */
void hub_trim_later(struct hub *h, int ms);

/* The client's socket of c (for EPOLLRDHUP), -1 when unknown. */
int hub_conn_fd(struct MHD_Connection *c);

#endif
