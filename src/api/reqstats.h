/* reqstats.h — counts and latencies of an HTTP API's requests, by route,
 * method and status, as a Prometheus histogram (see reqstats.c). Generic:
 * the daemon names the route (a template such as /containers/{id}/json,
 * never a raw URL, so the number of series stays bounded). */
#ifndef SN_API_REQSTATS_H
#define SN_API_REQSTATS_H

#include <stddef.h>
#include <stdint.h>

struct api_reqstats;

int api_reqstats_new(struct api_reqstats **out);
void api_reqstats_free(struct api_reqstats *s);
/* One request ended: route and method are copied when first seen; us is
 * its duration in microseconds. Thread-safe. Past API_REQSTATS_MAX series,
 * new ones are counted under route "other". */
#define API_REQSTATS_MAX 256
void api_reqstats_observe(struct api_reqstats *s, const char *route, const char *method,
			  unsigned status, int64_t us);
/* The family <name> (a histogram in seconds, labels route, method, code)
 * in Prometheus text format 0.0.4, HELP and TYPE included; *text is
 * malloc'ed. -ENOMEM on failure. */
int api_reqstats_render(struct api_reqstats *s, const char *name, char **text, size_t *len);

#endif
