/* logs.h — reading a subnode's log (the CRI-format files its supervisor
 * writes) for the API: stream filter, since/until, tail, follow, and
 * Docker's multiplexed framing (8-byte header: stream, 0, 0, 0, size BE32).
 */
#ifndef SN_NODE_LOGS_H
#define SN_NODE_LOGS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/err.h"
#include "node/node.h"

struct node_logs_opts {
	bool out, err;          /* which streams */
	bool timestamps;        /* prefix each line with its RFC 3339 time */
	bool follow;            /* keep reading until the subnode stops */
	bool raw;               /* no framing (a TTY subnode, or ?raw=1) */
	int64_t since, until;   /* unix ns; 0 = open */
	long tail;              /* last N lines; < 0 = all */
};
struct node_logs;

int node_logs_open(struct node *n, const char *ref, const struct node_logs_opts *o,
		   struct node_logs **out, struct sn_err *err);
/* Copy framed output into buf; 0 at the end; -EAGAIN when following and
 * nothing new is there yet (the caller waits ~100 ms and asks again). */
ssize_t node_logs_read(struct node_logs *l, char *buf, size_t max);
void node_logs_close(struct node_logs *l);
/* Parse one CRI line: time (ns), stream (1 out, 2 err), partial flag, text. */
int node_logs_parse_line(const char *line, size_t len, int64_t *ts, int *stream, bool *partial,
			 const char **text, size_t *text_len);
/* The latest second node_parse_time takes: its nanoseconds fit int64. */
#define NODE_TIME_MAX_S 9223372035LL
/* "2026-11-25T12:00:00.123456789Z" → ns; also plain seconds
 * "1700000000[.5]" (digits only: no sign, exponent or hex; at most 9
 * after the '.'). -EINVAL malformed, -ERANGE past NODE_TIME_MAX_S. */
int node_parse_time(const char *s, int64_t *ns);

#endif
