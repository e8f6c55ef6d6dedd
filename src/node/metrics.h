/* metrics.h — what a node measures, read once and shown three ways.
 *
 * sample.c is the one reader: a subnode's figures (its cgroup through the
 * runtime layer's cgroup_stats, the network devices of its namespace, its
 * supervisor's status) and the node's (units, subnodes by state). Three
 * users take the same struct:
 *   - GET /metrics: Prometheus text exposition 0.0.4 (metrics.c), with
 *     cAdvisor's names for the per-subnode families;
 *   - GET /containers/{id}/stats and `subnode stats`: Docker's shape
 *     (stats.c);
 *   - the heartbeat to the manager: node_summary_json.
 * So the figures of the three always agree.
 */
#ifndef SN_NODE_METRICS_H
#define SN_NODE_METRICS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/err.h"
#include "runtime/cgroup.h"

struct node;

/* One network device of a subnode's namespace (/proc/<init>/net/dev). */
struct node_netdev {
	char name[IFNAMSIZ];
	uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
	uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
};

/* One subnode, as read at one moment. */
struct node_sample {
	char *id, *name, *image, *state, *size, *health;
	json_t *labels;              /* {key: value} (the subnode's Labels) */
	unsigned units;
	int64_t created_ns, started_ns;
	uint64_t restarts;
	int pid;                     /* its init, 0 when not running */
	long long health_check_ms;   /* the last check's duration, -1: none */
	bool has_cgroup;             /* running (or paused): cg is filled */
	struct cgroup_stats cg;
	uint64_t cpu_shares, cpu_quota_us, cpu_period_us;  /* what its units gave */
	struct node_netdev *net;     /* every device of its namespace, lo too */
	size_t n_net;
	json_t *volumes;             /* {name: {usage, limit}} of the volumes it binds */
};

/* Read the subnode of db row `row`. Missing pieces (no cgroup: not
 * running; no status yet) read as zeros, not errors: a subnode may stop
 * or go between two reads. full: the stats API's extra figures too
 * (memory failcnt, io bytes, the limits read back from the cgroup). */
int node_sample_read(struct node *n, json_t *row, bool full, struct node_sample *s, struct sn_err *err);
void node_sample_free(struct node_sample *s);
/* The network devices of pid's namespace. */
int node_netdev_read(int pid, struct node_netdev **out, size_t *n, struct sn_err *err);
/* The same from the text of a net/dev file (changed in place). */
int node_netdev_parse(char *txt, struct node_netdev **out, size_t *n, struct sn_err *err);

/* ---- collect.c: the files of every running subnode kept open between
 * reads. node_collect fills s->cg, s->pid, s->net of subnode id (started
 * at started_ns) through them; -ENOENT when it has no cgroup. */
struct node_collector;
int node_collector_new(struct node_collector **out, struct sn_err *err);
void node_collector_free(struct node_collector *c);
int node_collect(struct node *n, const char *id, int64_t started_ns, struct node_sample *s, bool full,
		 struct sn_err *err);
/* Close the files of a subnode that stopped or went. */
void node_collect_forget(struct node *n, const char *id);
/* Around one scrape of every subnode: the entries it did not read are
 * closed at its end. */
void node_collect_pass_begin(struct node *n);
void node_collect_pass_end(struct node *n);
/* A text buffer kept from one scrape to the next (empty when another
 * scrape has it), given back when the scrape ends. */
struct sn_buf;
void node_collect_buf_take(struct node *n, struct sn_buf *b);
void node_collect_buf_give(struct node *n, struct sn_buf *b);
/* The fds the collector holds (for the tests and the docs). */
size_t node_collect_fds(struct node *n);

/* The node at one moment: its capacity and every subnode. Subnodes being
 * created or removed are counted by state but have no sample: a scrape
 * never shows a half-made subnode. */
#define NODE_STATES 6
extern const char *const node_state_names[NODE_STATES];
struct node_summary {
	int64_t at_ns;               /* wall clock of the read */
	unsigned units_total, units_used;
	double cpus, unit_cpus;
	uint64_t memory, unit_memory, disk, unit_disk;
	unsigned by_state[NODE_STATES];  /* order of node_state_names */
	struct node_sample *subs;
	size_t n_subs;
	uint64_t cpu_usage_ns, memory_usage;  /* sums over the subnodes */
};
int node_summary_read(struct node *n, struct node_summary *s, struct sn_err *err);
void node_summary_free(struct node_summary *s);
/* The summary for the manager's heartbeat: units, CPU, memory and each
 * subnode's status. */
json_t *node_summary_json(const struct node_summary *s);

/* ---- metrics.c: the Prometheus exposition, streamed family by family so
 * that 128 subnodes never need the whole text in memory at once. */
struct node_metrics;
int node_metrics_open(struct node *n, struct node_metrics **out, struct sn_err *err);
/* Copy up to max bytes of text into buf; 0 at the end. */
size_t node_metrics_read(struct node_metrics *m, char *buf, size_t max);
void node_metrics_free(struct node_metrics *m);
/* Families added by the layer above (the HTTP layer's request counts):
 * appended verbatim after the node's own, must be complete families. */
int node_metrics_append(struct node_metrics *m, const char *text, size_t len);
#define NODE_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
