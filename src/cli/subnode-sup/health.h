/* health.h — health checks run by the supervisor (health.c). */
#ifndef SN_SUP_HEALTH_H
#define SN_SUP_HEALTH_H

#include <stdbool.h>
#include <sys/types.h>

enum health_kind { HEALTH_NONE = 0, HEALTH_CMD, HEALTH_SHELL, HEALTH_HTTP, HEALTH_TCP };

struct health_opts {
	enum health_kind kind;
	char *argv[64];          /* CMD: the command; SHELL/HTTP/TCP: argv[0] */
	unsigned argc;
	unsigned interval_ms, timeout_ms, retries, start_ms;
	bool restart;            /* restart the container when unhealthy */
};

/* runtime/root/id run `RUNTIME exec`; returns the timerfd to poll. */
int health_init(const struct health_opts *o, const char *runtime, const char *runtime_root,
		const char *id);
void health_started(pid_t init_pid);
void health_stopped(void);
/* The timer fired: start a check or time the running one out. Returns true
 * when the status changed (the caller publishes it). */
bool health_on_timer(void);
/* A child was reaped: true when it was the check (*changed: status changed). */
bool health_on_child(pid_t pid, int status, bool *changed);
const char *health_status(void);     /* "", starting, healthy, unhealthy */
long long health_last_check_ms(void); /* how long the last check took; -1: none yet */
unsigned health_failing(void);
const char *health_output(void);     /* last output, one line, escaped */
/* Unhealthy with restart on: the caller kills the container once. */
bool health_take_restart(void);

#endif
