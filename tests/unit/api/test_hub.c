/* test_hub.c — the api layer's hub (api/hub.c) against a real
 * libmicrohttpd daemon on a unix socket of a scratch dir: a suspended
 * connection is resumed by what it registered (an fd ready, the daemon's
 * event, a deadline, the client hanging up) and not before; a fired
 * registration is gone (its fd can be registered again); hub_drain resumes
 * everything and then every new registration at once. An alarm ends the
 * program if anything hangs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/conn.h"
#include "api/hub.h"
#include "api/reply.h"

struct srv {
	char dir[64], path[108];
	int lfd, pipe[2], evfd;
	struct hub *hub;
	struct MHD_Daemon *d;
	unsigned resumed;   /* connections resumed (atomic) */
};

/* First call: suspend and register what the URL names; after the resume:
 * count it and answer. */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	int *phase = *con_cls;
	if (!phase) {
		*con_cls = phase = calloc(1, sizeof(*phase));
		return phase ? MHD_YES : MHD_NO;
	}
	if (*phase == 0) {
		*phase = 1;
		struct hub_want w = api_want();
		if (strcmp(url, "/fd") == 0) {
			w.fd[0] = s->pipe[0];
			w.events[0] = EPOLLIN;
		} else if (strcmp(url, "/event") == 0) {
			w.event = true;
		} else if (strcmp(url, "/timeout") == 0) {
			w.timeout_ms = 100;
		} else if (strcmp(url, "/hangup") == 0) {
			api_want_hangup(&w, c);
		}
		MHD_suspend_connection(c);
		hub_wait(s->hub, c, &w);
		return MHD_YES;
	}
	__atomic_add_fetch(&s->resumed, 1, __ATOMIC_SEQ_CST);
	return api_send_error(c, 200, "resumed");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}

static int setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	strcpy(s->dir, "/tmp/sn-unit-hub-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/api.sock", s->dir);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, s->path);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	assert_int_equal(pipe2(s->pipe, O_CLOEXEC | O_NONBLOCK), 0);
	s->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(s->evfd >= 0);
	assert_int_equal(hub_start(s->evfd, &s->hub), 0);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_EPOLL,
				0, NULL, NULL, handler, s, MHD_OPTION_LISTEN_SOCKET, s->lfd,
				MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
				MHD_OPTION_END);
	assert_non_null(s->d);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct srv *s = *state;
	hub_drain(s->hub);       /* MHD aborts when stopped with one suspended */
	MHD_stop_daemon(s->d);   /* closes the listening socket */
	hub_free(s->hub);
	close(s->pipe[0]);
	close(s->pipe[1]);
	close(s->evfd);
	unlink(s->path);
	rmdir(s->dir);
	free(s);
	return 0;
}

/* Connect and send a GET of path; the client's socket. */
static int request(struct srv *s, const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, s->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	assert_int_equal(write(fd, buf, (size_t)n), n);
	return fd;
}

/* No answer within 300 ms: the connection is waiting (suspended). */
static void assert_pending(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 300), 0);
}

/* The whole reply (up to 20 s), which must be our 200; closes fd. */
static void assert_resumed(int fd)
{
	char buf[2048];
	size_t len = 0;
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int r = poll(&pf, 1, 20000);
		assert_int_equal(r, 1);
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
		assert_true(len < sizeof(buf) - 1);
	}
	buf[len] = '\0';
	close(fd);
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "{\"message\":\"resumed\"}"));
}

static void fd_ready_resumes_once(void **state)
{
	struct srv *s = *state;
	int c = request(s, "/fd");
	assert_pending(c);
	assert_int_equal(write(s->pipe[1], "x", 1), 1);
	assert_resumed(c);
	char b;
	assert_int_equal(read(s->pipe[0], &b, 1), 1);
	/* the fired registration left the epoll set: the same fd registers
	 * again and waits (a stale one would fail to add and resume at once) */
	c = request(s, "/fd");
	assert_pending(c);
	assert_int_equal(write(s->pipe[1], "y", 1), 1);
	assert_resumed(c);
	assert_int_equal(__atomic_load_n(&s->resumed, __ATOMIC_SEQ_CST), 2);
}

static void daemon_event_resumes(void **state)
{
	struct srv *s = *state;
	int c = request(s, "/event");
	assert_pending(c);
	uint64_t one = 1;
	assert_int_equal(write(s->evfd, &one, sizeof(one)), sizeof(one));
	assert_resumed(c);
}

static void deadline_resumes(void **state)
{
	struct srv *s = *state;
	assert_resumed(request(s, "/timeout"));
	assert_int_equal(__atomic_load_n(&s->resumed, __ATOMIC_SEQ_CST), 1);
}

static void client_hangup_resumes(void **state)
{
	struct srv *s = *state;
	int c = request(s, "/hangup");
	assert_pending(c);
	assert_int_equal(__atomic_load_n(&s->resumed, __ATOMIC_SEQ_CST), 0);
	close(c);
	for (int i = 0; i < 200 && __atomic_load_n(&s->resumed, __ATOMIC_SEQ_CST) == 0; i++)
		usleep(100 * 1000);
	assert_int_equal(__atomic_load_n(&s->resumed, __ATOMIC_SEQ_CST), 1);
}

static void drain_resumes_all_and_then_at_once(void **state)
{
	struct srv *s = *state;
	int a = request(s, "/fd"), b = request(s, "/event");
	assert_pending(a);
	assert_pending(b);
	hub_drain(s->hub);
	assert_resumed(a);
	assert_resumed(b);
	/* nothing written to the pipe: a new wait is resumed at once */
	assert_resumed(request(s, "/fd"));
	assert_int_equal(__atomic_load_n(&s->resumed, __ATOMIC_SEQ_CST), 3);
}

int main(void)
{
	alarm(180);   /* a hang ends the program (SIGALRM) instead of the suite */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fd_ready_resumes_once, setup, teardown),
		cmocka_unit_test_setup_teardown(daemon_event_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(deadline_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(client_hangup_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(drain_resumes_all_and_then_at_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
