/* api_exec.c — exec (create, start, resize, inspect) and attach.
 *
 * `POST /exec/{id}/start` spawns `RUNTIME exec` on a worker (it blocks for
 * the runtime), then, on the HTTP thread: with `Upgrade: tcp` the
 * connection is switched (101) and handed to a relay thread; `Detach`
 * answers at once and a thread drains the output; without either, the
 * worker also collects the whole output (until the process ends) and the
 * reply carries it — unless the client leaves first: then the process is
 * killed (node_exec_cancel), which ends the collection and frees the
 * worker. `POST /containers/{id}/attach` connects to the
 * supervisor's attach socket and relays the same way.
 *
 * A relay runs node_exec_relay / node_attach_relay (src/node) on a thread
 * of its own with a small stack, for as long as the stream lasts; the
 * relays end within half a second of the daemon stopping, and api_stop
 * waits for them before it closes the listeners. At its end the relay
 * shuts the socket down before handing it back: the client sees EOF at once.
 *
 * On the TLS listener (served a thread per connection, api.c) the relay
 * runs inside the upgrade callback, on the connection's own thread:
 * libmicrohttpd would carry the TLS of an upgraded connection itself only
 * after the callback returns, and then it neither reliably ends the stream
 * when our side closes nor passes a half-close on (seen with 0.9.75 over
 * epoll: a third of the sessions hung after their process had ended). So
 * upgrade_run (api/upgrade.c) pumps the TLS session against a socketpair in
 * the callback, and the relay serves the other end.
 */
#include "api_internal.h"
#include "api/upgrade.h"
#include "node/exec.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_STACK (256u << 10)

/* ---- relay threads */

struct relay {
	struct api *a;
	struct MHD_UpgradeResponseHandle *urh;
	int sock;
	bool tls;            /* on the TLS listener: relay in the callback */
	char *extra;
	size_t extra_len;
	/* exec */
	bool exec;
	char id[40];
	bool tty;
	int pty, in, out, err;
	int client;          /* the client's socket (exec without upgrade: its hangup) */
	/* attach */
	int sup;
	bool stdin_on;
	/* attach without a terminal: the log followed (node/attach_logs.c) */
	bool logs, out_on, err_on;
	bool pending;        /* a terminal not started yet: connect once it is */
	int64_t since_ns;
	char sid[80];
};

static void relay_done(struct api *a)
{
	pthread_mutex_lock(&a->lock);
	a->relays--;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

/* The stream itself, on sock: MHD's socket, or on TLS our end of the
 * socketpair that upgrade_run pumps against the session. */
static void relay_serve(void *arg, int sock, const char *extra, size_t extra_len)
{
	struct relay *x = arg;
	struct api *a = x->a;
	if (x->exec) {
		node_exec_relay(a->n, sock, x->tty, x->pty, x->in, x->out, x->err, extra, extra_len);
		node_exec_finish(a->n, x->id);   /* the exit code is known before the client sees EOF */
	} else if (x->pending) {
		node_attach_pending_relay(a->n, sock, x->sid, extra, extra_len, x->stdin_on);
	} else if (x->logs) {
		node_attach_logs_relay(a->n, sock, x->sid, x->out_on, x->err_on, x->since_ns);
	} else {
		node_attach_relay(a->n, sock, x->sup, extra, extra_len, x->stdin_on);
	}
}

static void relay_end(struct relay *x)
{
	struct api *a = x->a;
	free(x->extra);
	free(x);
	relay_done(a);
}

static void relay_run(struct relay *x)
{
	relay_serve(x, x->sock, x->extra, x->extra_len);
	shutdown(x->sock, SHUT_RDWR);
	MHD_upgrade_action(x->urh, MHD_UPGRADE_ACTION_CLOSE);
	relay_end(x);
}

static void *relay_main(void *arg)
{
	relay_run(arg);
	thread_release_stack();
	return NULL;
}

static void exec_io_close(struct relay *x)
{
	if (x->pty >= 0) close(x->pty);
	if (x->in >= 0) close(x->in);
	if (x->out >= 0) close(x->out);
	if (x->err >= 0) close(x->err);
}

static void upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
		     size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct relay *x = cls;
	struct api *a = x->a;
	x->urh = urh;
	x->sock = sock;
	if (extra_len && (x->extra = malloc(extra_len))) {
		memcpy(x->extra, extra, extra_len);
		x->extra_len = extra_len;
	}
	pthread_mutex_lock(&a->lock);
	a->relays++;
	pthread_mutex_unlock(&a->lock);
	if (x->tls) {
		/* in this callback: see the top of the file and api/upgrade.c */
		upgrade_run(c, true, &a->n->stopping, sock, x->extra, x->extra_len, urh,
			    relay_serve, x);
		relay_end(x);
		return;
	}
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, RELAY_STACK);
	int r = pthread_create(&t, &at, relay_main, x);
	pthread_attr_destroy(&at);
	if (r != 0) {   /* no thread: end the stream at once */
		if (x->exec) {
			exec_io_close(x);
			node_exec_finish(a->n, x->id);
		} else if (x->sup >= 0) {
			close(x->sup);
		}
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(x->extra);
		free(x);
		relay_done(a);
	}
}

void api_relays_wait(struct api *a)
{
	pthread_mutex_lock(&a->lock);
	while (a->relays > 0)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);
}

static enum MHD_Result send_upgrade(struct MHD_Connection *c, struct relay *x)
{
	struct MHD_Response *resp = MHD_create_response_for_upgrade(upgraded, x);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Upgrade", "tcp");
	MHD_add_response_header(resp, "Connection", "Upgrade");
	MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- exec start */

enum exec_mode { EXEC_UPGRADE, EXEC_DETACH, EXEC_COLLECT };

static void *exec_detached(void *arg)
{
	struct relay *x = arg;
	char buf[4096];
	for (int fd = 0; fd < 3; fd++) {
		int f = fd == 0 ? (x->tty ? x->pty : x->out) : fd == 1 ? (x->tty ? -1 : x->err) : -1;
		while (f >= 0 && read(f, buf, sizeof(buf)) > 0)
			;
	}
	exec_io_close(x);
	node_exec_finish(x->a->n, x->id);
	free(x);
	return NULL;
}

struct drain {
	int fd;
	FILE *f;
	char *buf;
	size_t len;
	int client;          /* the client's socket, watched for its hangup (-1: none) */
	struct node *n;
	const char *id;      /* the exec, cancelled when the client leaves */
};

/* Collect the output; a client that leaves meanwhile gets nothing, so its
 * process is ended (node_exec_cancel) rather than left to hold a worker
 * for as long as it runs. */
static void *drain_main(void *arg)
{
	struct drain *d = arg;
	char buf[16384];
	for (;;) {
		struct pollfd pf[2] = { { .fd = d->fd, .events = POLLIN },
					{ .fd = d->client, .events = POLLRDHUP } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents) {
			struct sn_err e = { 0 };
			if (node_exec_cancel(d->n, d->id, &e) < 0)
				sn_warn("exec %s: its client left, and ending it failed: %s", d->id, e.msg);
			else
				sn_info("exec %s: its client left: the process is killed", d->id);
			d->client = -1;
		}
		if (!pf[0].revents)
			continue;
		ssize_t n = read(d->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, d->f);
	}
	return NULL;
}

/* No upgrade: no stdin; the output (framed unless a TTY) is collected
 * until the process ends. On the worker. */
static void exec_collect(struct api *a, struct req *rq, struct relay *x)
{
	if (x->in >= 0) {
		close(x->in);
		x->in = -1;
	}
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		exec_io_close(x);
		node_exec_finish(a->n, x->id);
		rq->r = sn_err_sys(&rq->e, "socketpair");
		return;
	}
	/* nobody writes into sp[1]: the relay sees no input, and no hang-up */
	struct drain d = { .fd = sp[1], .client = x->client, .n = a->n, .id = x->id };
	d.f = open_memstream(&d.buf, &d.len);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, RELAY_STACK);
	bool drained = d.f && pthread_create(&t, &at, drain_main, &d) == 0;
	pthread_attr_destroy(&at);
	node_exec_relay(a->n, sp[0], x->tty, x->pty, -1, x->out, x->err, NULL, 0);
	close(sp[0]);   /* the drain thread sees EOF */
	node_exec_finish(a->n, x->id);
	if (drained)
		pthread_join(t, NULL);
	close(sp[1]);
	if (d.f)
		fclose(d.f);
	rq->ctx = d.buf;   /* the output; freed with the request */
	rq->ctx_free = free;
	rq->num = (long)d.len;
}

static void work_exec_start(struct api *a, struct req *rq)
{
	struct relay *x = rq->ctx;
	rq->r = node_exec_start(a->n, x->id, &x->tty, &x->pty, &x->in, &x->out, &x->err, &rq->e);
	if (rq->r == 0 && rq->kind == EXEC_COLLECT) {
		rq->ctx = NULL;
		exec_collect(a, rq, x);
		free(x);
	}
}

static enum MHD_Result exec_started(struct api *a, struct MHD_Connection *c, struct req *rq)
{
	if (rq->r < 0)
		return api_send_err(c, rq->r, &rq->e);
	if (rq->kind == EXEC_COLLECT) {
		size_t len = (size_t)rq->num;
		struct MHD_Response *resp = len
			? MHD_create_response_from_buffer(len, steal_ptr(rq->ctx), MHD_RESPMEM_MUST_FREE)
			: MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
		enum MHD_Result ret = MHD_queue_response(c, 200, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	struct relay *x = steal_ptr(rq->ctx);
	rq->ctx_free = NULL;
	if (rq->kind == EXEC_DETACH) {
		if (x->in >= 0) {
			close(x->in);
			x->in = -1;
		}
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&at, RELAY_STACK);
		if (pthread_create(&t, &at, exec_detached, x) != 0)
			exec_detached(x);
		pthread_attr_destroy(&at);
		return api_send_empty(c, 200);
	}
	enum MHD_Result ret = send_upgrade(c, x);
	if (ret != MHD_YES) {
		exec_io_close(x);
		node_exec_finish(a->n, x->id);
		free(x);
	}
	return ret;
}

static void relay_free(void *p)
{
	free(p);
}

static enum MHD_Result h_exec_start(struct api *a, struct MHD_Connection *c, struct req *rq,
				    const char *id)
{
	struct sn_err e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	bool detach = false;
	if (rq->body.len) {
		int r = sn_json_loadb(rq->body.data, rq->body.len, "request body", &body, &e);
		if (r < 0)
			return api_send_err(c, r, &e);
		static const char *const keys[] = { "Detach", "Tty", "ConsoleSize", NULL };
		if ((r = sn_json_only_keys(body, "", keys, &e)) < 0 ||
		    (r = sn_json_bool(body, "", "Detach", &detach, &e)) < 0)
			return api_send_err(c, r, &e);
	}
	struct relay *x = calloc(1, sizeof(*x));
	if (!x)
		return api_send_error(c, 500, "out of memory");
	x->a = a;
	x->tls = rq->http->tls;
	x->exec = true;
	x->pty = x->in = x->out = x->err = -1;
	x->client = hub_conn_fd(c);
	snprintf(x->id, sizeof(x->id), "%s", id);
	rq->ctx = x;
	rq->ctx_free = relay_free;
	rq->kind = detach ? EXEC_DETACH
			  : MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade") ? EXEC_UPGRADE
											 : EXEC_COLLECT;
	if (rq->kind == EXEC_COLLECT)   /* runs until the process ends */
		return api_defer_slow(a, c, rq, work_exec_start, exec_started);
	return api_defer(a, c, rq, work_exec_start, exec_started);
}

/* ---- routes */

enum MHD_Result api_exec_create(struct api *a, struct MHD_Connection *c, struct req *rq,
				const char *id)
{
	struct sn_err e = { 0 };
	_cleanup_json_ json_t *body = NULL;
	json_t *out = NULL;
	int r = sn_json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, "request body", &body,
			      &e);
	if (r == 0)
		r = node_exec_create(a->n, id, body, &out, &e);
	return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, MHD_HTTP_CREATED, out);
}

enum MHD_Result api_exec(struct api *a, struct MHD_Connection *c, struct req *rq, const char *url,
			 const char *method)
{
	char id[64];
	const char *rest = url + 6;   /* after "/exec/" */
	const char *slash = strchr(rest, '/');
	size_t il = slash ? (size_t)(slash - rest) : strlen(rest);
	if (il == 0 || il >= sizeof(id) || !slash)
		return api_send_error(c, 404, "page not found");
	memcpy(id, rest, il);
	id[il] = '\0';
	const char *verb = slash + 1;
	struct sn_err e = { 0 };
	int r;
	if (strcmp(verb, "start") == 0 && strcmp(method, "POST") == 0)
		return h_exec_start(a, c, rq, id);
	if (strcmp(verb, "resize") == 0 && strcmp(method, "POST") == 0) {
		long h = api_arg_long(c, "h"), w = api_arg_long(c, "w");
		if (h < 1 || w < 1 || h > 65535 || w > 65535)
			return api_send_error(c, 400, "h and w: must be 1..65535");
		r = node_exec_resize(a->n, id, (unsigned)h, (unsigned)w, &e);
		return r < 0 ? api_send_err(c, r, &e) : api_send_empty(c, 200);
	}
	if (strcmp(verb, "json") == 0 && strcmp(method, "GET") == 0) {
		json_t *out = NULL;
		r = node_exec_inspect(a->n, id, &out, &e);
		return r < 0 ? api_send_err(c, r, &e) : api_send_json(c, 200, out);
	}
	return api_send_error(c, 404, "page not found");
}

enum MHD_Result api_attach(struct api *a, struct MHD_Connection *c, struct req *rq, const char *id)
{
	if (!MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade"))
		return api_send_error(c, 400, "attach needs `Connection: Upgrade` and `Upgrade: tcp`");
	struct sn_err e = { 0 };
	_cleanup_json_ json_t *row = NULL;
	int r = node_find(a->n, id, &row, &e);
	if (r < 0)
		return api_send_err(c, r, &e);
	bool tty = json_is_true(json_object_get(json_object_get(row, "config"), "Tty"));
	if (!tty && api_arg_bool(c, "stdin"))
		return api_send_error(c, 400, "stdin: a subnode without a terminal takes no input "
				      "(create it with Tty and OpenStdin)");
	struct relay *x = calloc(1, sizeof(*x));
	if (!x)
		return api_send_error(c, 500, "out of memory");
	x->sup = -1;
	snprintf(x->sid, sizeof(x->sid), "%s", json_string_value(json_object_get(row, "id")));
	if (tty && strcmp(json_string_value(json_object_get(row, "state")) ?: "", "created") == 0) {
		x->pending = true;   /* docker run -it attaches before its start */
	} else if (tty) {
		r = node_attach_connect(a->n, id, &x->sup, &e);
	} else {   /* Docker's clients attach before they start: its output, followed */
		x->logs = true;
		x->out_on = api_arg_bool(c, "stdout");
		x->err_on = api_arg_bool(c, "stderr");
		x->since_ns = node_now_ns();
	}
	if (r < 0) {
		free(x);
		return api_send_err(c, r, &e);
	}
	x->a = a;
	x->tls = rq->http->tls;
	x->stdin_on = api_arg_bool(c, "stdin");
	enum MHD_Result ret = send_upgrade(c, x);
	if (ret != MHD_YES) {
		if (x->sup >= 0)
			close(x->sup);
		free(x);
	}
	return ret;
}
