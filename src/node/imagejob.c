/* imagejob.c — running the image tool for the daemon.
 *
 * Why a second process: pulling (libcurl with its TLS, krb5, LDAP...),
 * importing and unpacking (libarchive with libxml2, ICU, libstdc++) and
 * hashing (OpenSSL) mapped ~6 MiB of shared libraries into a daemon that
 * must stay under 8 MiB RSS with 128 subnodes, for work it does seldom.
 * The tool is `subnode-image --root ROOT/images --json ...`: it works on
 * the same store, under the store's own locks, and reports on stdout:
 *
 *   {"event":"start|data|resume|exists|done|unpack", "what", "digest",
 *    "done", "total", "index", "count"}      any number of these, then one of
 *   {"digest":"sha256:...", "tags":[...]}   success (tags: what an import named)
 *   {"error":"message", "errno":N}          failure
 *
 * A tool that dies (or is killed: a client that leaves a pull) before its
 * last line changes nothing visible: new blobs are staged in tmp/ and only
 * renamed into blobs/ once an image checks out; layers are unpacked in
 * tmp/ and renamed into layers/; temp files are swept by the next store
 * open that finds the store idle. Its stderr is the daemon's (the log).
 *
 * Started with posix_spawn (vfork: cheap from a threaded daemon) with an
 * empty signal mask and default SIGPIPE/SIGTERM/SIGINT/SIGHUP (the daemon
 * blocks or ignores them); credentials go in the environment
 * (SUBNODE_REGISTRY_CREDS), not on a command line others can read.
 */
#include "node/imagejob.h"
#include "base/cleanup.h"
#include "base/fd.h"
#include "base/json.h"
#include "base/log.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LINE_MAX_LEN (64u << 10)

struct node_image_job {
	enum node_image_job_kind kind;
	pid_t pid;
	int out;                 /* the tool's stdout, O_NONBLOCK */
	char *buf;               /* bytes of an unfinished line */
	size_t len, cap;
	bool ended;              /* last line read, or EOF */
	bool ok;
	char digest[IMAGE_DIGEST_SIZE];
	json_t *tags;            /* the names an import gave */
	struct sn_err err;       /* the tool's error */
	char *label;             /* for the event: ref, path or name */
};

/* environ without the variables that would steer the tool, plus creds. */
static char **tool_env(const char *creds)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SUBNODE_REGISTRY_CREDS=", 23) != 0 &&
		    strncmp(environ[i], "SUBNODE_IMAGE_ROOT=", 19) != 0)
			env[k++] = environ[i];
	if (creds)
		env[k++] = (char *)creds;
	return env;
}

static int spawn_tool(struct node *n, const char *const *argv, const char *creds, int in,
		      int out, pid_t *pid, struct sn_err *err)
{
	_cleanup_free_ char **env = tool_env(creds);
	if (!env)
		return sn_err_set(err, ENOMEM, "image tool");
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	node_spawnattr_clean(&at);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	int rc = posix_spawn(pid, n->image_tool_path, &fa, &at, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return sn_err_set(err, rc, "run the image tool `%s`", n->image_tool_path);
	return 0;
}

int node_image_job_start(struct node *n, const struct node_image_job_opts *o,
			 struct node_image_job **out, int *in_fd, struct sn_err *err)
{
	static const char *const verbs[] = { [NODE_IMAGE_PULL] = "pull", [NODE_IMAGE_IMPORT] = "import",
					     [NODE_IMAGE_LOAD] = "import", [NODE_IMAGE_PREPARE] = "prepare",
					     [NODE_IMAGE_VOLUME_IMPORT] = "volume-import",
					     [NODE_IMAGE_VOLUME_EXPORT] = "volume-export" };
	bool with_stdin = o->kind == NODE_IMAGE_LOAD || o->kind == NODE_IMAGE_VOLUME_IMPORT;
	const char *argv[16];
	int i = 0;
	argv[i++] = n->image_tool_path;
	argv[i++] = "--root";
	argv[i++] = image_store_root(n->images);
	argv[i++] = "--json";
	argv[i++] = verbs[o->kind];
	if (o->kind == NODE_IMAGE_PULL && o->insecure)
		argv[i++] = "--insecure";
	if ((o->kind == NODE_IMAGE_IMPORT || o->kind == NODE_IMAGE_LOAD) && o->name) {
		argv[i++] = "--name";
		argv[i++] = o->name;
	}
	if ((o->kind == NODE_IMAGE_PULL || o->kind == NODE_IMAGE_IMPORT || o->kind == NODE_IMAGE_LOAD) &&
	    o->unpack)
		argv[i++] = "--unpack";
	if (o->kind == NODE_IMAGE_LOAD) {
		argv[i++] = "--label";
		argv[i++] = "upload";
	}
	if (o->kind != NODE_IMAGE_PREPARE)
		argv[i++] = "--";
	argv[i++] = o->kind == NODE_IMAGE_LOAD ? "-" : o->ref;
	argv[i] = NULL;

	_cleanup_free_ char *creds = NULL;
	if (o->username && asprintf(&creds, "SUBNODE_REGISTRY_CREDS=%s:%s", o->username,
				    o->password ? o->password : "") < 0)
		return sn_err_set(err, ENOMEM, "image tool");
	int po[2], pi[2] = { -1, -1 };
	if (pipe2(po, O_CLOEXEC) < 0)
		return sn_err_sys(err, "pipe");
	if (with_stdin && pipe2(pi, O_CLOEXEC) < 0) {
		int r = sn_err_sys(err, "pipe");
		close(po[0]);
		close(po[1]);
		return r;
	}
	struct node_image_job *j = calloc(1, sizeof(*j));
	const char *label = o->kind == NODE_IMAGE_LOAD ? (o->name ? o->name : "(upload)") : o->ref;
	if (j)
		j->label = strdup(label ? label : "");
	pid_t pid = -1;
	int r = !j || !j->label ? sn_err_set(err, ENOMEM, "image tool")
				: sn_fd_set_nonblock(po[0], true, err);
	if (r == 0)
		r = spawn_tool(n, argv, creds, pi[0], po[1], &pid, err);
	close(po[1]);
	if (pi[0] >= 0)
		close(pi[0]);
	if (r < 0) {
		close(po[0]);
		if (pi[1] >= 0)
			close(pi[1]);
		if (j)
			free(j->label);
		free(j);
		return r;
	}
	if (o->kind == NODE_IMAGE_VOLUME_EXPORT || o->kind == NODE_IMAGE_VOLUME_IMPORT) {
		/* A volume's bytes pass through this pipe: 1 MiB (the default
		 * pipe-max-size) instead of 64 KiB means 16 times fewer waits in
		 * the hub. Best effort: a smaller pipe only costs speed. */
		fcntl(o->kind == NODE_IMAGE_VOLUME_EXPORT ? po[0] : pi[1], F_SETPIPE_SZ, 1 << 20);
	}
	j->kind = o->kind;
	j->pid = pid;
	j->out = po[0];
	if (in_fd)
		*in_fd = pi[1];
	else if (pi[1] >= 0)
		close(pi[1]);
	sn_debug("image tool %d: %s %s", (int)pid, verbs[o->kind], label ? label : "");
	*out = j;
	return 0;
}

int node_image_job_fd(const struct node_image_job *j)
{
	return j->out;
}

json_t *node_image_job_tags(const struct node_image_job *j)
{
	return j->tags;
}

static void handle_line(struct node_image_job *j, const char *line, size_t len,
			void (*fn)(const struct image_progress *p, void *data), void *data)
{
	_cleanup_json_ json_t *m = json_loadb(line, len, 0, NULL);
	if (!json_is_object(m) || j->ended)
		return;
	json_t *ev = json_object_get(m, "event");
	if (ev) {
		int e = image_progress_event_parse(json_string_value(ev));
		if (e < 0 || !fn)
			return;
		struct image_progress p = {
			.event = (enum image_progress_event)e,
			.what = json_string_value(json_object_get(m, "what")),
			.digest = json_string_value(json_object_get(m, "digest")),
			.done = (uint64_t)json_integer_value(json_object_get(m, "done")),
			.total = (uint64_t)json_integer_value(json_object_get(m, "total")),
			.index = (unsigned)json_integer_value(json_object_get(m, "index")),
			.count = (unsigned)json_integer_value(json_object_get(m, "count")),
		};
		fn(&p, data);
		return;
	}
	const char *msg = json_string_value(json_object_get(m, "error"));
	const char *dg = json_string_value(json_object_get(m, "digest"));
	if (msg) {
		int code = (int)json_integer_value(json_object_get(m, "errno"));
		sn_err_msg(&j->err, code > 0 ? code : EIO, "%s", msg);
		j->ended = true;
	} else if (dg && strlen(dg) == IMAGE_DIGEST_LEN) {
		snprintf(j->digest, sizeof(j->digest), "%s", dg);
		j->tags = json_incref(json_object_get(m, "tags"));
		j->ok = true;
		j->ended = true;
	}
}

int node_image_job_read(struct node_image_job *j,
			void (*fn)(const struct image_progress *p, void *data), void *data)
{
	for (;;) {
		if (j->ended)
			return 1;
		if (j->cap - j->len < 4096) {
			if (j->cap >= LINE_MAX_LEN) {
				sn_err_msg(&j->err, EPROTO, "image tool: a line longer than %u bytes",
					   LINE_MAX_LEN);
				j->ended = true;
				return 1;
			}
			char *nb = realloc(j->buf, j->cap ? j->cap * 2 : 8192);
			if (!nb) {
				sn_err_set(&j->err, ENOMEM, "image tool");
				j->ended = true;
				return 1;
			}
			j->buf = nb;
			j->cap = j->cap ? j->cap * 2 : 8192;
		}
		ssize_t r = read(j->out, j->buf + j->len, j->cap - j->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r <= 0) {
			j->ended = true;   /* EOF (or a broken pipe): finish says how it ended */
			return 1;
		}
		j->len += (size_t)r;
		char *start = j->buf, *nl;
		while ((nl = memchr(start, '\n', j->len - (size_t)(start - j->buf)))) {
			handle_line(j, start, (size_t)(nl - start), fn, data);
			start = nl + 1;
		}
		j->len -= (size_t)(start - j->buf);
		memmove(j->buf, start, j->len);
	}
}

static int reap(struct node_image_job *j, int *status)
{
	if (j->pid <= 0)
		return -ECHILD;
	while (waitpid(j->pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	j->pid = -1;
	return 0;
}

int node_image_job_finish(struct node *n, struct node_image_job *j, char out[72],
			  struct sn_err *err)
{
	int status = 0;
	int rw = reap(j, &status);
	if (!j->ok) {
		if (j->err.code)
			return sn_err_msg(err, j->err.code, "%s", j->err.msg);
		if (rw < 0)
			return sn_err_set(err, -rw, "wait for the image tool");
		if (WIFSIGNALED(status))
			return sn_err_msg(err, EIO, "the image tool `%s` was killed by signal %d before it finished",
					  n->image_tool_path, WTERMSIG(status));
		return sn_err_msg(err, EIO, "the image tool `%s` ended (status %d) without a result",
				  n->image_tool_path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	snprintf(out, IMAGE_DIGEST_SIZE, "%s", j->digest);
	static const char *const actions[] = { [NODE_IMAGE_PULL] = "pull", [NODE_IMAGE_IMPORT] = "import",
					       [NODE_IMAGE_LOAD] = "load", [NODE_IMAGE_PREPARE] = NULL,
					       [NODE_IMAGE_VOLUME_IMPORT] = NULL,
					       [NODE_IMAGE_VOLUME_EXPORT] = NULL };
	if (actions[j->kind])
		node_event(n, "image", actions[j->kind], j->digest, json_pack("{s:s}", "name", j->label));
	return 0;
}

int node_image_job_exit(struct node *n, struct node_image_job *j, struct sn_err *err)
{
	int status = 0;
	int rw = reap(j, &status);
	if (rw < 0)
		return sn_err_set(err, -rw, "wait for the image tool");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return sn_err_msg(err, EIO, "the image tool `%s` failed (status %d; see the daemon's log)",
			  n->image_tool_path, status);
}

void node_image_job_free(struct node_image_job *j)
{
	if (!j)
		return;
	if (j->pid > 0) {
		kill(j->pid, SIGKILL);
		int st;
		reap(j, &st);
	}
	close(j->out);
	json_decref(j->tags);
	free(j->buf);
	free(j->label);
	free(j);
}

int node_image_job_run(struct node *n, const struct node_image_job_opts *o,
		       void (*fn)(const struct image_progress *p, void *data), void *data,
		       int cancel_fd, char out[72], struct sn_err *err)
{
	struct node_image_job *j = NULL;
	int r = node_image_job_start(n, o, &j, NULL, err);
	if (r < 0)
		return r;
	while (node_image_job_read(j, fn, data) == 0) {
		struct pollfd pf[2] = { { .fd = j->out, .events = POLLIN },
					{ .fd = cancel_fd, .events = POLLRDHUP } };
		if (poll(pf, 2, -1) < 0 && errno != EINTR) {
			r = sn_err_sys(err, "poll the image tool");
			break;
		}
		if (pf[1].revents) {   /* killed below; its temp files go at the next sweep */
			r = sn_err_msg(err, ECANCELED, "the client left: the image tool was ended");
			break;
		}
	}
	if (r == 0)
		r = node_image_job_finish(n, j, out, err);
	node_image_job_free(j);
	return r;
}
