/* hb_bench.c — heartbeats of many simulated nodes against a running
 * subnode-manager: joins N nodes, then sends each one heartbeat a second
 * (spread over T keep-alive connections) for S seconds, and reports the
 * rate reached with the manager's CPU (utime+stime from /proc/PID/stat)
 * and RSS over that phase.
 * Usage: hb_bench URL JOIN_TOKEN MANAGER_PID NODES THREADS SECONDS
 * With HB_LOAD=1 each heartbeat also carries cpu, memory and memory_total,
 * as subnode-link's do (the dashboard's history, docs/MANAGER.md). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *url, *join_token;
static int nodes, threads, seconds;
static char (*creds)[65];
static long sent_ok[64], sent_bad[64];
static int with_load;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf { char d[512]; size_t n; };
static size_t on_data(char *p, size_t s, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t k = s * n;
	size_t c = k < sizeof(b->d) - 1 - b->n ? k : sizeof(b->d) - 1 - b->n;
	memcpy(b->d + b->n, p, c);
	b->n += c;
	b->d[b->n] = 0;
	return k;
}

static long post(CURL *h, const char *path, const char *token, const char *body, struct buf *b)
{
	char u[512], auth[256];
	snprintf(u, sizeof(u), "%s%s", url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	struct curl_slist *hd = curl_slist_append(NULL, auth);
	b->n = 0;
	b->d[0] = 0;
	curl_easy_setopt(h, CURLOPT_URL, u);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	long st = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(hd);
	return st;
}

static void *joiner(void *arg)
{
	long t = (long)arg;
	CURL *h = curl_easy_init();
	struct buf b;
	for (int i = (int)t; i < nodes; i += threads) {
		char body[256];
		snprintf(body, sizeof(body), "{\"name\":\"sim-%06d\",\"address\":\"10.%d.%d.%d\","
			 "\"operator\":\"op-%d\",\"units\":128,\"port_base\":20000}", i, i >> 16 & 255,
			 i >> 8 & 255, i & 255, i / 10);
		if (post(h, "/v1/join", join_token, body, &b) != 201) {
			fprintf(stderr, "join %d failed: %s\n", i, b.d);
			exit(1);
		}
		char *c = strstr(b.d, "\"credential\":\"");
		if (!c)
			exit(1);
		memcpy(creds[i], c + 14, 64);
		creds[i][64] = 0;
	}
	curl_easy_cleanup(h);
	return NULL;
}

static void *beater(void *arg)
{
	long t = (long)arg;
	CURL *h = curl_easy_init();
	struct buf b;
	int mine = (nodes - (int)t + threads - 1) / threads;
	double start = now_s(), step = 1.0 / mine;
	long k = 0;
	while (now_s() - start < seconds) {
		int i = (int)t + (int)(k % mine) * threads;
		char path[128];
		snprintf(path, sizeof(path), "/v1/nodes/sim-%06d/heartbeat", i);
		char body[160];
		if (with_load)
			snprintf(body, sizeof(body), "{\"units_used\":0,\"members\":[],\"cpu\":%.1f,"
				 "\"memory\":%ld,\"memory_total\":8589934592}", (double)(k % 1000) / 10,
				 1073741824L + (k % 1000) * 1048576L);
		else
			snprintf(body, sizeof(body), "{\"units_used\":0,\"members\":[]}");
		long st = post(h, path, creds[i], body, &b);
		if (st == 200)
			sent_ok[t]++;
		else
			sent_bad[t]++;
		k++;
		double due = start + (double)(k / mine) + (double)(k % mine) * step;
		double wait = due - now_s();
		if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
	}
	curl_easy_cleanup(h);
	return NULL;
}

static void proc_stat(int pid, double *cpu_s, long *rss_kb)
{
	char p[64], line[4096];
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	FILE *f = fopen(p, "r");
	unsigned long ut = 0, st = 0;
	if (f && fgets(line, sizeof(line), f)) {
		char *s = strrchr(line, ')');
		if (s)
			sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
	}
	if (f)
		fclose(f);
	*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	f = fopen(p, "r");
	*rss_kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", rss_kb) == 1)
			break;
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: hb_bench URL JOIN_TOKEN MANAGER_PID NODES THREADS SECONDS\n");
		return 2;
	}
	url = argv[1];
	join_token = argv[2];
	int pid = atoi(argv[3]);
	nodes = atoi(argv[4]);
	threads = atoi(argv[5]);
	seconds = atoi(argv[6]);
	with_load = getenv("HB_LOAD") && strcmp(getenv("HB_LOAD"), "1") == 0;
	if (threads < 1 || threads > 64 || nodes < threads)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	creds = calloc((size_t)nodes, sizeof(*creds));
	pthread_t th[64];
	double t0 = now_s();
	for (long t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, joiner, (void *)t);
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	printf("joined %d nodes in %.1f s\n", nodes, now_s() - t0);
	double c0, c1;
	long rss0, rss1;
	proc_stat(pid, &c0, &rss0);
	t0 = now_s();
	for (long t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, beater, (void *)t);
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	double el = now_s() - t0;
	proc_stat(pid, &c1, &rss1);
	long ok = 0, bad = 0;
	for (int t = 0; t < threads; t++) {
		ok += sent_ok[t];
		bad += sent_bad[t];
	}
	printf("nodes=%d seconds=%.1f heartbeats_ok=%ld failed=%ld rate_per_s=%.0f"
	       " manager_cpu_s=%.2f manager_cpu_share=%.2f cpu_per_10k_heartbeats_s=%.2f"
	       " manager_rss_mib=%.1f\n", nodes, el, ok, bad, (double)ok / el, c1 - c0,
	       (c1 - c0) / el, ok ? (c1 - c0) / (double)ok * 10000 : 0, (double)rss1 / 1024);
	return bad ? 1 : 0;
}
