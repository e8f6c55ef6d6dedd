/* subnoded — the node daemon: divides the machine into 128 units and runs
 * subnodes (containers from images, each under a small supervisor) behind
 * an HTTP/JSON API on a unix socket (and optionally TCP with a token).
 *
 *   subnoded [--root DIR] [--socket PATH] [--config FILE] [--runtime R]
 *            [--supervisor S] [--cgroup-parent /P] [--log-level L] [--log FILE]
 *            [--manager URL --join-token-file F --advertise IP [--node-name N]
 *             [--operator O] [--port-base P]]   (the manager link: manager_link.c)
 *
 * Command-line flags override the config file, which overrides the
 * defaults (config.c). SIGTERM/SIGINT stop the daemon; subnodes keep
 * running under their supervisors and are adopted by the next start.
 */
#include "api.h"
#include "manager_link.h"
#include "node/node.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: subnoded [options]\n"
		   "  --root DIR           state directory (default " NODE_DEFAULT_ROOT ")\n"
		   "  --socket PATH        API socket (default " NODE_DEFAULT_SOCKET ")\n"
		   "  --config FILE        configuration file (default: none, all defaults)\n"
		   "  --runtime NAME|PATH  OCI runtime: subrun, runc, crun or a path\n"
		   "  --supervisor PATH    per-subnode supervisor (default: subnode-sup next to subnoded)\n"
		   "  --cgroup-parent P    parent cgroup of the subnodes (default /subnode)\n"
		   "  --log FILE           daemon log (default stderr)\n"
		   "  --log-level LEVEL    error, warn, info (default) or debug\n"
		   "  --manager URL        join this manager (with --join-token-file F --advertise IP\n"
		   "                       [--node-name N] [--operator O] [--port-base P]; docs/MANAGER.md)\n"
		   "  --version, --help\n");
}

static int listen_unix(const struct node_config *c, struct sn_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(c->socket) >= sizeof(a.sun_path))
		return sn_err_msg(err, ENAMETOOLONG, "socket `%s`: path too long", c->socket);
	strcpy(a.sun_path, c->socket);
	_cleanup_free_ char *copy = strdup(c->socket);
	if (!copy)
		return sn_err_set(err, ENOMEM, "socket");
	int r = sn_mkdir_p(dirname(copy), 0755, err);
	if (r < 0)
		return r;
	if (unlink(c->socket) < 0 && errno != ENOENT)
		return sn_err_sys(err, "remove old socket `%s`", c->socket);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sn_err_sys(err, "socket");
	/* Bind with a tight umask, then open up to the configured mode: no
	 * window in which anyone else may connect. */
	mode_t old = umask(0177);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0)
		return sn_err_sys(err, "bind `%s`", c->socket);
	if (c->socket_group) {
		struct group *g = getgrnam(c->socket_group);
		if (!g)
			return sn_err_msg(err, ENOENT, "socket_group `%s`: no such group", c->socket_group);
		if (chown(c->socket, (uid_t)-1, g->gr_gid) < 0)
			return sn_err_sys(err, "chown `%s`", c->socket);
	}
	if (chmod(c->socket, c->socket_mode) < 0)
		return sn_err_sys(err, "chmod `%s`", c->socket);
	if (listen(fd, 512) < 0)
		return sn_err_sys(err, "listen `%s`", c->socket);
	return steal_fd(fd);
}

static int listen_tcp(const char *hostport, struct sn_err *err)
{
	_cleanup_free_ char *h = strdup(hostport);
	if (!h)
		return sn_err_set(err, ENOMEM, "tcp");
	char *colon = strrchr(h, ':');
	if (!colon)
		return sn_err_msg(err, EINVAL, "tcp `%s`: expected host:port", hostport);
	*colon = '\0';
	char *host = h;
	if (*host == '[') {
		host++;
		char *e = strchr(host, ']');
		if (e)
			*e = '\0';
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	int gr = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
	if (gr)
		return sn_err_msg(err, EINVAL, "tcp `%s`: %s", hostport, gai_strerror(gr));
	_cleanup_close_ int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	int r = fd < 0 ? -1 : setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (r == 0)
		r = bind(fd, ai->ai_addr, ai->ai_addrlen);
	if (r == 0)
		r = listen(fd, 512);
	freeaddrinfo(ai);
	if (r < 0)
		return sn_err_sys(err, "listen on `%s`", hostport);
	return steal_fd(fd);
}

static int read_token(const char *path, char **out, struct sn_err *err)
{
	size_t len;
	struct stat st;
	if (stat(path, &st) < 0)
		return sn_err_sys(err, "token_file `%s`", path);
	if (st.st_mode & 077)
		return sn_err_msg(err, EACCES, "token_file `%s`: readable by others (mode %04o): "
				  "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
	int r = sn_read_file(path, 4096, out, &len, err);
	if (r < 0)
		return sn_err_wrap(err, "token_file");
	while (len && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r' || (*out)[len - 1] == ' '))
		(*out)[--len] = '\0';
	if (len < 16)
		return sn_err_msg(err, EINVAL, "token_file `%s`: the token must be at least 16 characters", path);
	return 0;
}

/* The collector keeps up to 10 files open per running subnode (1,280 for
 * 128, node/collect.c): a soft limit of 1,024 is too few. Raised within
 * the hard limit; nothing in the daemon uses select(2). */
#define NOFILE_WANTED 4096
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		sn_warn("getrlimit RLIMIT_NOFILE: %s", strerror(errno));
		return;
	}
	if (rl.rlim_cur >= NOFILE_WANTED || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max < NOFILE_WANTED ? rl.rlim_max : NOFILE_WANTED;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		sn_warn("setrlimit RLIMIT_NOFILE %llu: %s", (unsigned long long)rl.rlim_cur, strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "root", 1, 0, 'r' }, { "socket", 1, 0, 's' }, { "config", 1, 0, 'c' },
		{ "runtime", 1, 0, 'R' }, { "cgroup-parent", 1, 0, 'g' }, { "log", 1, 0, 'l' },
		{ "log-level", 1, 0, 'L' }, { "supervisor", 1, 0, 'S' }, { "version", 0, 0, 'v' },
		{ "help", 0, 0, 'h' },
		{ "manager", 1, 0, 1001 }, { "join-token-file", 1, 0, 1002 }, { "advertise", 1, 0, 1003 },
		{ "node-name", 1, 0, 1004 }, { "operator", 1, 0, 1005 }, { "port-base", 1, 0, 1006 },
		{ 0, 0, 0, 0 } };
	struct manager_link_opts mlo = { 0 };
	pid_t link_pid = -1;
	const char *root = NULL, *sock = NULL, *cfgfile = NULL, *runtime = NULL, *cgp = NULL,
		   *logf = NULL, *level = NULL, *sup = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 's': sock = optarg; break;
		case 'c': cfgfile = optarg; break;
		case 'R': runtime = optarg; break;
		case 'g': cgp = optarg; break;
		case 'l': logf = optarg; break;
		case 'L': level = optarg; break;
		case 'S': sup = optarg; break;
		case 'v': printf("subnoded %s (API %s)\n", NODE_VERSION, NODE_API_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case 1001: mlo.manager = optarg; break;
		case 1002: mlo.join_token_file = optarg; break;
		case 1003: mlo.advertise = optarg; break;
		case 1004: mlo.name = optarg; break;
		case 1005: mlo.operator = optarg; break;
		case 1006: mlo.port_base = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	struct sn_err err = { 0 };
	struct node_config cfg;
	if (node_config_defaults(&cfg, &err) < 0 ||
	    (cfgfile && node_config_load(&cfg, cfgfile, &err) < 0)) {
		fprintf(stderr, "subnoded: %s\n", err.msg);
		return 1;
	}
	/* Flags last: they win over the file. */
	char **sets[] = { &cfg.root, &cfg.socket, &cfg.runtime, &cfg.cgroup_parent, &cfg.log_level,
			  &cfg.supervisor };
	const char *vals[] = { root, sock, runtime, cgp, level, sup };
	for (size_t i = 0; i < SN_ARRAY_SIZE(sets); i++)
		if (vals[i]) {
			free(*sets[i]);
			*sets[i] = strdup(vals[i]);
		}
	if (node_config_parse(&cfg, "", "command line", &err) < 0) {
		fprintf(stderr, "subnoded: %s\n", err.msg);
		node_config_free(&cfg);
		return 1;
	}
	enum sn_log_level lvl = SN_LOG_INFO;
	if (strcmp(cfg.log_level, "error") == 0) lvl = SN_LOG_ERROR;
	else if (strcmp(cfg.log_level, "warn") == 0) lvl = SN_LOG_WARN;
	else if (strcmp(cfg.log_level, "debug") == 0) lvl = SN_LOG_DEBUG;
	else if (strcmp(cfg.log_level, "info") != 0) {
		fprintf(stderr, "subnoded: log_level `%s`: error, warn, info or debug\n", cfg.log_level);
		node_config_free(&cfg);
		return 1;
	}
	sn_log_set_level(lvl);
	if (logf && sn_log_open(logf, SN_LOG_TEXT, &err) < 0) {
		fprintf(stderr, "subnoded: %s\n", err.msg);
		node_config_free(&cfg);
		return 1;
	}
	/* One malloc arena for all threads: the workers of a burst of creates
	 * would each get an arena of their own, whose freed memory stays. The
	 * threads contend little (docs/BENCHMARKS.md, ## Node). */
	mallopt(M_ARENA_MAX, 1);
	signal(SIGPIPE, SIG_IGN);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);   /* threads inherit: only sigwait gets them */

	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[sl > 0 ? sl : 0] = '\0';
	static struct node n;
	int rc = 1;
	struct api *api = NULL;
	struct api_listener ls[2] = { { .fd = -1 }, { .fd = -1 } };
	size_t nls = 1;
	_cleanup_close_ int lfd = -1, tfd = -1;
	_cleanup_free_ char *token = NULL, *cert = NULL, *key = NULL;
	raise_nofile();
	if (node_open(&n, &cfg, sl > 0 ? self : NULL, &err) < 0) {
		sn_error("%s", err.msg);
		goto out;
	}
	if ((lfd = listen_unix(&n.cfg, &err)) < 0) {
		sn_error("%s", err.msg);
		goto out;
	}
	ls[0].fd = lfd;
	if (n.cfg.tcp) {
		size_t l;
		if (n.cfg.tls_cert && (sn_read_file(n.cfg.tls_cert, 1 << 20, &cert, &l, &err) < 0 ||
				       sn_read_file(n.cfg.tls_key, 1 << 20, &key, &l, &err) < 0)) {
			sn_error("tls: %s", err.msg);
			goto out;
		}
		if (read_token(n.cfg.token_file, &token, &err) < 0 || (tfd = listen_tcp(n.cfg.tcp, &err)) < 0) {
			sn_error("%s", err.msg);
			goto out;
		}
		ls[1] = (struct api_listener){ .fd = tfd, .token = token, .cert_pem = cert, .key_pem = key };
		nls = 2;
	}
	if (api_start(&n, ls, nls, &api, &err) < 0) {
		sn_error("%s", err.msg);
		goto out;
	}
	sn_info("subnoded %s ready: root %s, socket %s, runtime %s%s%s%s", NODE_VERSION, n.cfg.root,
		n.cfg.socket, n.runtime_path, n.cfg.tcp ? ", tcp " : "", n.cfg.tcp ? n.cfg.tcp : "",
		n.cfg.tcp ? (cert ? " (TLS)" : " (plain HTTP)") : "");
	/* the TCP API's port, for other nodes' transfers of a member's data
	 * (grants.c); plain HTTP only, the link's fetch speaks no TLS yet */
	if (n.cfg.tcp && !cert && strrchr(n.cfg.tcp, ':'))
		mlo.api_port = strrchr(n.cfg.tcp, ':') + 1;
	if (manager_link_start(&mlo, sl > 0 ? self : NULL, n.cfg.socket, n.cfg.root, &link_pid,
			       &err) < 0) {
		sn_error("%s", err.msg);
		goto out;
	}
	int sig = 0;
	while (sigwait(&mask, &sig) == 0 && sig == SIGHUP)
		;
	sn_info("signal %d: stopping (subnodes keep running)", sig);
	rc = 0;
out:
	manager_link_stop(link_pid);
	api_stop(api);
	if (lfd >= 0)
		unlink(n.cfg.socket ? n.cfg.socket : cfg.socket);
	node_close(&n);
	node_config_free(&cfg);
	return rc;
}
