/* top.c — the processes of a running subnode, as `docker top` shows them.
 *
 * Docker runs the host's `ps -ef` and keeps the rows of the container's
 * pids. subnoded does not fork ps: it reads the pids of the subnode's
 * cgroup (every process of the subnode, its execs included) and, for each,
 * /proc/PID/stat, status and cmdline — the columns of `ps -ef` (UID, PID,
 * PPID, C, STIME, TTY, TIME, CMD) with numeric uids (the host's user names
 * mean nothing for a subnode's users). A process that ends while it is read
 * is left out. Pids are the host's, as in Docker.
 */
#include "node/node.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "runtime/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* /proc/PID/what, whole (sn_read_file); -errno when the process is gone. */
static int read_proc(pid_t pid, const char *what, char **out, size_t *len)
{
	char path[64];
	struct sn_err e;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	return sn_read_file(path, 1 << 20, out, len, &e);
}

static double boot_time(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
	char line[256];
	unsigned long long bt = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &bt) == 1)
			break;
	return (double)bt;
}

/* One row of `ps -ef`; NULL when the process is gone. */
static json_t *ps_row(pid_t pid, double btime, long hz)
{
	_cleanup_free_ char *stat = NULL, *status = NULL, *cmdline = NULL;
	size_t cl = 0;
	if (read_proc(pid, "stat", &stat, NULL) < 0 || read_proc(pid, "status", &status, NULL) < 0)
		return NULL;
	if (read_proc(pid, "cmdline", &cmdline, &cl) < 0)
		cl = 0;
	char cmd[4096];
	/* "pid (comm) state ppid ..." — comm may hold spaces and parens */
	char *rp = strrchr(stat, ')'), *lp = strchr(stat, '(');
	if (!rp || !lp)
		return NULL;
	int ppid = 0;
	unsigned long long ut = 0, st = 0, start = 0;
	if (sscanf(rp + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
		   &ppid, &ut, &st, &start) != 4)
		return NULL;
	unsigned uid = 0;
	const char *u = strstr(status, "\nUid:");
	if (u)
		sscanf(u + 5, "%u", &uid);
	if (cl == 0) {   /* a kernel thread or a zombie: [comm] */
		*rp = '\0';
		snprintf(cmd, sizeof(cmd), "[%s]", lp + 1);
	} else {
		for (size_t i = 0; i + 1 < cl; i++)
			if (cmdline[i] == '\0')
				cmdline[i] = ' ';
		snprintf(cmd, sizeof(cmd), "%s", cmdline);
	}
	time_t started = (time_t)(btime + (double)start / (double)hz);
	struct tm tm;
	char stime[16], cpu[16], uids[16], pids[16], ppids[16];
	if (!localtime_r(&started, &tm) || !strftime(stime, sizeof(stime), "%H:%M", &tm))
		snprintf(stime, sizeof(stime), "?");
	unsigned long long secs = (ut + st) / (unsigned long long)hz;
	snprintf(cpu, sizeof(cpu), "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);
	snprintf(uids, sizeof(uids), "%u", uid);
	snprintf(pids, sizeof(pids), "%d", (int)pid);
	snprintf(ppids, sizeof(ppids), "%d", ppid);
	return json_pack("[s,s,s,s,s,s,s,s]", uids, pids, ppids, "0", stime, "?", cpu, cmd);
}

int node_top(struct node *n, const char *ref, json_t **out, struct sn_err *err)
{
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(n, ref, &row, err);
	if (r < 0)
		return r;
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *name = json_string_value(json_object_get(row, "name"));
	if (strcmp(json_string_value(json_object_get(row, "state")) ?: "", "running") != 0)
		return sn_err_msg(err, EBUSY, "subnode %s is not running", name ? name : id);
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", strcmp(n->cfg.cgroup_parent, "/") ? n->cfg.cgroup_parent : "", id);
	struct cgroup *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t np = 0;
	r = cgroup_new(NODE_CGROUP_ROOT, path, (enum cgroup_mode)n->cgroup_mode, &cg, err);
	if (r == 0)
		r = cgroup_pids(cg, &pids, &np, err);
	cgroup_free(cg);
	if (r < 0)
		return sn_err_wrap(err, "subnode %s", name ? name : id);
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	double btime = boot_time();
	_cleanup_json_ json_t *procs = json_array();
	for (size_t i = 0; i < np; i++) {
		json_t *p = ps_row(pids[i], btime, hz);
		if (p)
			json_array_append_new(procs, p);
	}
	*out = json_pack("{s:[s,s,s,s,s,s,s,s], s:O}", "Titles", "UID", "PID", "PPID", "C", "STIME", "TTY",
			 "TIME", "CMD", "Processes", procs);
	return *out ? 0 : sn_err_set(err, ENOMEM, "top");
}
