/* echo.c — a small TCP request/response pair for bench/network/run.sh:
 * round trips per second of a 64-byte message on one connection (what
 * netperf's TCP_RR measures), through a published port or host networking.
 *
 *   echo server PORT            answer each message with itself, forever
 *   echo client ADDR PORT SECS  print round trips per second
 *
 * Built statically by the bench script and bind-mounted into a subnode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static int full(int fd, char *buf, int write_it)
{
	size_t done = 0;
	while (done < MSG) {
		ssize_t k = write_it ? write(fd, buf + done, MSG - done) : read(fd, buf + done, MSG - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		done += (size_t)k;
	}
	return 0;
}

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char buf[MSG];
	while (full(fd, buf, 0) == 0 && full(fd, buf, 1) == 0)
		;
	close(fd);
	return NULL;
}

static int server(int port)
{
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 64) < 0) {
		perror("echo server");
		return 1;
	}
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_t t;
		if (pthread_create(&t, NULL, serve, (void *)(long)c) == 0)
			pthread_detach(t);
		else
			close(c);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int client(const char *addr, int port, double secs)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("echo client");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	char buf[MSG];
	memset(buf, 'x', sizeof(buf));
	unsigned long n = 0;
	double t0 = now(), t;
	do {
		if (full(fd, buf, 1) < 0 || full(fd, buf, 0) < 0) {
			perror("echo round trip");
			return 1;
		}
		n++;
	} while ((t = now()) - t0 < secs);
	printf("%.0f\n", (double)n / (t - t0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "client") == 0)
		return client(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: echo server PORT | echo client ADDR PORT SECS\n");
	return 2;
}
