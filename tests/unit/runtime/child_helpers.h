/* child_helpers.h — run confining code in a forked child, never in the test
 * runner itself, and get its report back over a pipe.
 *
 *   int st = run_child(fn, arg, buf, sizeof(buf));
 *
 * fn(arg, fd) runs in the child and writes what the parent should check to
 * fd; its return value is the child's exit code (_exit: no atexit, no leak
 * report from a child that never frees the test's memory). The parent gets
 * the text in buf (NUL-terminated) and the wait status.
 */
#ifndef SN_TEST_CHILD_HELPERS_H
#define SN_TEST_CHILD_HELPERS_H

#include "test_fork.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*child_fn)(void *arg, int fd);

static inline void child_printf(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void child_printf(int fd, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static inline int run_child(child_fn fn, void *arg, char *buf, size_t len)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = test_fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		_exit(fn(arg, p[1]));
	}
	close(p[1]);
	size_t off = 0;
	for (;;) {
		char tmp[1024];
		ssize_t r = read(p[0], tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && off + 1 < len; i++)
			buf[off++] = tmp[i];
	}
	if (len)
		buf[off] = '\0';
	close(p[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* The value of a "Key:\t<value>" line of /proc/<pid>/status text. */
static inline unsigned long long status_hex(const char *text, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "\n%s:", key);
	const char *p = strstr(text, k);
	if (!p)
		return ~0ULL;
	return strtoull(p + strlen(k), NULL, 16);
}

static inline long long status_dec(const char *text, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "\n%s:", key);
	const char *p = strstr(text, k);
	if (!p)
		return -1;
	return strtoll(p + strlen(k), NULL, 10);
}

#endif
