/* cmd_exec.c — `subnode exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] NAME CMD...`
 *
 * Creates the exec with one API call, then starts it on a raw connection
 * of its own: an HTTP request with `Connection: Upgrade` / `Upgrade: tcp`,
 * a 101 answer, and from then on the socket carries the process's
 * terminal (with -t) or Docker's framed stdout/stderr, and our stdin.
 * With -t on a terminal, ours goes raw (restored on the way out) and its
 * size follows SIGWINCH through /exec/{id}/resize. The exit code of the
 * command is ours (from /exec/{id}/json).
 */
#include "cli.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/frame.h"
#include "base/json.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

static bool put(int fd, const char *p, size_t n)
{
	return sn_write_all(fd, p, n) == 0;
}

/* One byte, waiting for it: > 0, or 0 at the end. */
static ssize_t recv_byte(struct client_raw *c, char *b)
{
	for (;;) {
		ssize_t k = client_raw_recv(c, b, 1);
		if (k != -EAGAIN)
			return k;
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			return 0;
	}
}

/* resize_path: "/exec/ID/resize" or "/containers/ID/resize" */
static void resize(const char *resize_path)
{
	struct winsize ws;
	if (ioctl(0, TIOCGWINSZ, &ws) < 0 || !ws.ws_row)
		return;
	char path[256];
	snprintf(path, sizeof(path), "%s?h=%u&w=%u", resize_path, ws.ws_row, ws.ws_col);
	struct sn_err err = { 0 };
	client_call(&g_cli, "POST", path, NULL, NULL, NULL, &err);
}

/* Docker framing → fd 1 (stdout) or 2 (stderr). */
static bool emit_stdio(int stream, const char *p, size_t n, void *arg)
{
	return put(stream == 2 ? 2 : 1, p, n);
}

/* POST path with an upgrade, then relay our stdin/stdout over the raw
 * stream (the terminal raw when tty and ours is one) until it ends.
 * 0 when the stream ran; an exit code when it could not start. */
int cli_session(const char *path, const char *sbody, bool tty, bool in, const char *resize_path)
{
	struct sn_err err = { 0 };
	struct client_raw c;
	int r = client_raw_open(&g_cli, &c, &err);
	if (r < 0)
		return cli_fail(r, &err);
	char req[2048];
	int n = snprintf(req, sizeof(req),
			 "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
			 "Connection: Upgrade\r\nUpgrade: tcp\r\n%s%s%sContent-Length: %zu\r\n\r\n%s",
			 path, g_cli.token ? "Authorization: Bearer " : "", g_cli.token ? g_cli.token : "",
			 g_cli.token ? "\r\n" : "", strlen(sbody), sbody);
	if (n < 0 || (size_t)n >= sizeof(req) || !client_raw_send_all(&c, req, (size_t)n)) {
		client_raw_close(&c);
		fprintf(stderr, "subnode: %s: could not send the request\n", path);
		return EXIT_FAIL;
	}
	/* The answer's head, byte by byte up to the blank line: what follows
	 * is the stream. */
	char head[8192];
	size_t hl = 0;
	while (hl < sizeof(head) - 1 && recv_byte(&c, head + hl) > 0) {
		hl++;
		if (hl >= 4 && memcmp(head + hl - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[hl] = '\0';
	int status = 0;
	sscanf(head, "HTTP/%*s %d", &status);
	if (status != 101) {
		/* an error answer: its body is {"message"} */
		char rest[4096];
		const char *cl = strcasestr(head, "\r\nContent-Length:");
		size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0, rl = 0;
		while (rl < want && rl < sizeof(rest) - 1 && recv_byte(&c, rest + rl) > 0)
			rl++;
		rest[rl] = '\0';
		json_t *j = json_loads(strchr(rest, '{') ? strchr(rest, '{') : rest, 0, NULL);
		fprintf(stderr, "subnode: %s\n", json_string_value(json_object_get(j, "message")) ?:
			(status ? "exec failed" : "exec: no answer from the daemon"));
		json_decref(j);
		client_raw_close(&c);
		return EXIT_FAIL;
	}
	struct termios saved;
	bool raw = tty && isatty(0) && tcgetattr(0, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
		resize(resize_path);
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = raw ? signalfd(-1, &mask, SFD_CLOEXEC) : -1;
	struct sn_frame_reader fr = { 0 };
	bool stdin_open = in;
	char buf[16384];
	signal(SIGPIPE, SIG_IGN);   /* a stream cut short is an error, not our end */
	for (;;) {
		/* the TLS layer may hold data poll(2) cannot see: read first */
		ssize_t k;
		while ((k = client_raw_recv(&c, buf, sizeof(buf))) > 0) {
			if (tty)
				put(1, buf, (size_t)k);
			else
				sn_frame_feed(&fr, buf, (size_t)k, emit_stdio, NULL);
		}
		if (k == 0)
			break;
		struct pollfd pf[3] = { { .fd = c.fd, .events = POLLIN },
					{ .fd = stdin_open ? 0 : -1, .events = POLLIN },
					{ .fd = sfd, .events = POLLIN } };
		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[2].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) > 0)
				resize(resize_path);
		}
		if (pf[1].revents) {
			k = read(0, buf, sizeof(buf));
			if (k <= 0) {
				stdin_open = false;
				if (!tty)
					shutdown(c.fd, SHUT_WR);
			} else if (!client_raw_send_all(&c, buf, (size_t)k)) {
				stdin_open = false;
			}
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (sfd >= 0)
		close(sfd);
	client_raw_close(&c);
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	bool in = false, tty = false, detach = false;
	_cleanup_json_ json_t *env = json_array();
	const char *wd = NULL, *user = NULL, *v;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (FLAG("-i", "--interactive")) in = true;
		else if (FLAG("-t", "--tty")) tty = true;
		else if (FLAG("-it", NULL) || FLAG("-ti", NULL)) in = tty = true;
		else if (FLAG("-d", "--detach")) detach = true;
		else if (TAKE("-e", "--env", v)) json_array_append_new(env, json_string(v));
		else if (TAKE("-w", "--workdir", wd) || TAKE("-u", "--user", user)) ;
		else {
			fprintf(stderr, "subnode: exec: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (argc - i < 2) {
		fprintf(stderr, "subnode: exec: usage: exec [-it] NAME CMD [ARGS...]\n");
		return EXIT_USAGE;
	}
	const char *name = argv[i++];
	json_t *cmd = json_array();
	for (; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	_cleanup_json_ json_t *body = json_pack("{s:o, s:b, s:b, s:b, s:b, s:O}", "Cmd", cmd, "Tty", tty,
						"AttachStdin", in, "AttachStdout", 1, "AttachStderr", 1,
						"Env", env);
	if (wd)
		json_object_set_new(body, "WorkingDir", json_string(wd));
	if (user)
		json_object_set_new(body, "User", json_string(user));
	struct winsize ws;
	/* the size the program sees from its first instruction (Docker's
	 * ConsoleSize); SIGWINCH later goes through /resize */
	if (tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		json_object_set_new(body, "ConsoleSize", json_pack("[i, i]", ws.ws_row, ws.ws_col));
	_cleanup_free_ char *ne = client_escape(name), *path = NULL;
	if (asprintf(&path, "/containers/%s/exec", ne) < 0)
		return EXIT_FAIL;
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *out = NULL;
	int r = client_call(&g_cli, "POST", path, body, NULL, &out, &err);
	if (r < 0)
		return cli_fail(r, &err);
	char id[64];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(out, "Id")));
	if (detach) {
		char sp[128];
		snprintf(sp, sizeof(sp), "/exec/%s/start", id);
		_cleanup_json_ json_t *d = json_pack("{s:b}", "Detach", 1);
		r = client_call(&g_cli, "POST", sp, d, NULL, NULL, &err);
		return r < 0 ? cli_fail(r, &err) : 0;
	}
	char sp[128], rp[128];
	snprintf(sp, sizeof(sp), "/exec/%s/start", id);
	snprintf(rp, sizeof(rp), "/exec/%s/resize", id);
	r = cli_session(sp, tty ? "{\"Detach\":false,\"Tty\":true}" : "{\"Detach\":false,\"Tty\":false}",
			tty, in, rp);
	if (r != 0)
		return r;
	char jp[128];
	snprintf(jp, sizeof(jp), "/exec/%s/json", id);
	_cleanup_json_ json_t *ins = NULL;
	r = client_call(&g_cli, "GET", jp, NULL, NULL, &ins, &err);
	if (r < 0)
		return cli_fail(r, &err);
	return (int)json_integer_value(json_object_get(ins, "ExitCode"));
}
