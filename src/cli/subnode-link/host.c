/* host.c — the machine's load for the heartbeat: the share of its CPU time
 * busy since the last heartbeat (/proc/stat), its memory in use
 * (MemTotal − MemAvailable, /proc/meminfo) and the bytes its network
 * devices but lo received and sent (/proc/net/dev, of the link's network
 * namespace: the node's). The manager keeps a short
 * history of both for the dashboard's graphs (docs/MANAGER.md, The
 * dashboard). A node is its machine: the figures are the host's, not the
 * sum of its subnodes' (those are the node's /metrics). */
#include "link.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int link_host_cpu(struct link_cpu *prev, double *percent, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r = sn_read_file("/proc/stat", 1u << 20, &buf, NULL, err);
	if (r)
		return r;
	unsigned long long v[8] = { 0 };
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) < 4)
		return sn_err_msg(err, EIO, "/proc/stat: no cpu line");
	unsigned long long total = 0, idle = v[3] + v[4];   /* idle + iowait */
	for (int i = 0; i < 8; i++)
		total += v[i];
	unsigned long long dt = total - prev->total, di = idle - prev->idle;
	*percent = prev->total && dt && di <= dt ? 100.0 * (double)(dt - di) / (double)dt : 0;
	prev->total = total;
	prev->idle = idle;
	return 0;
}

int link_host_memory(int64_t *used, int64_t *total, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r = sn_read_file("/proc/meminfo", 1u << 20, &buf, NULL, err);
	if (r)
		return r;
	const char *t = strstr(buf, "MemTotal:"), *a = strstr(buf, "MemAvailable:");
	long long kt, ka;
	if (!t || !a || sscanf(t, "MemTotal: %lld", &kt) != 1 ||
	    sscanf(a, "MemAvailable: %lld", &ka) != 1 || ka > kt)
		return sn_err_msg(err, EIO, "/proc/meminfo: no MemTotal or MemAvailable");
	*total = kt * 1024;
	*used = (kt - ka) * 1024;
	return 0;
}

int link_host_net(int64_t *rx, int64_t *tx, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r = sn_read_file("/proc/net/dev", 1u << 20, &buf, NULL, err);
	if (r)
		return r;
	*rx = *tx = 0;
	/* two header lines, then "  name: rx_bytes 7 more fields tx_bytes ..." */
	char *save = NULL;
	int line = 0;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (++line <= 2)
			continue;
		char name[64];
		long long v[9];
		if (sscanf(l, " %63[^:]: %lld %lld %lld %lld %lld %lld %lld %lld %lld", name, &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) != 10)
			return sn_err_msg(err, EIO, "/proc/net/dev: cannot read line %d", line);
		if (strcmp(name, "lo") == 0)
			continue;
		*rx += v[0];
		*tx += v[8];
	}
	return 0;
}
