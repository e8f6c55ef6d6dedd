/* main.c — subnode-manager, the network manager.
 *
 *   subnode-manager serve --root DIR --listen ADDR:PORT
 *         [--admin-token-file F] [--join-token-file F] [--grace S]
 *         [--steady S] [--members N] [--rotation-interval S]
 *         [--genesis-seed HEX] [--log-level L] [--http-timeout S]
 *         [--http-client-connections N] [--http-max-args N] [--public-read]
 *         [--events-max N]
 *       Serves the API (docs/API.md, Manager) and the dashboard (/, /ui/,
 *       the feed /v1/events). --rotation-interval: a member
 *       that has sat S seconds on its node moves to another (off: never).
 *       --public-read: the dashboard's reads need no token (actions still
 *       do). --events-max: open event streams at once (64). Tokens: DIR/admin.token and
 *       DIR/join.token (mode 0600), made with 32 random bytes unless they
 *       exist or other files are given.
 *   subnode-manager verify (--root DIR | --log FILE|-)
 *       Re-computes every decision of the log; names each problem; exit 1
 *       when there is one (docs/MANAGER.md, Verify).
 *   subnode-manager log --root DIR
 *       Writes the decision log, one entry a line (what verify --log reads).
 *
 * Exit 0 on success, 1 with the error on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "manager/api.h"
#include "manager/dlog.h"
#include "manager/manager.h"
#include "manager/placement.h"
#include "serve.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: subnode-manager serve --root DIR --listen ADDR:PORT [--admin-token-file F]\n"
		   "         [--join-token-file F] [--grace S] [--steady S] [--members N]\n"
		   "         [--rotation-interval S] [--genesis-seed HEX] [--public-read]\n"
		   "         [--events-max N]\n"
		   "         [--http-timeout S] [--http-client-connections N] [--http-max-args N]\n"
		   "         [--log-level error|warn|info|debug]\n"
		   "       subnode-manager verify (--root DIR | --log FILE|-)\n"
		   "       subnode-manager log --root DIR\n");
}

/* Read a token file, or make it (0600, 32 random bytes as hex) when it is
 * the default one and missing. */
static int token_file(const char *path, bool make, char *out, size_t size, struct sn_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = sn_read_file(path, 4096, &buf, &len, err);
	if (r == -ENOENT && make) {
		uint8_t raw[32];
		char hex[65];
		if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
			return sn_err_sys(err, "getrandom for `%s`", path);
		mgr_hex(raw, sizeof(raw), hex);
		hex[64] = '\n';
		r = sn_write_file_atomic(path, hex, 65, 0600, err);
		if (r)
			return r;
		hex[64] = 0;
		snprintf(out, size, "%s", hex);
		return 0;
	}
	if (r)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		buf[--len] = 0;
	if (len < 16 || len >= size)
		return sn_err_msg(err, EINVAL, "token file `%s`: the token must be 16 to %zu characters",
				  path, size - 1);
	snprintf(out, size, "%s", buf);
	return 0;
}

static int listen_on(const char *addr, struct sn_err *err)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host))
		return sn_err_msg(err, EINVAL, "--listen `%s`: want ADDR:PORT", addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	unsigned long long port;
	if (sn_parse_u64(colon + 1, &port) || port > 65535)
		return sn_err_msg(err, EINVAL, "--listen `%s`: bad port", addr);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return sn_err_msg(err, EINVAL, "--listen `%s`: want an IPv4 address", addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sn_err_sys(err, "socket");
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 512)) {
		int r = sn_err_sys(err, "listen on `%s`", addr);
		close(fd);
		return r;
	}
	return fd;
}

static int seconds_ms(const char *opt, const char *v, int64_t *out, struct sn_err *err)
{
	char *end;
	double s = strtod(v, &end);
	if (end == v || *end || s <= 0 || s > 86400)
		return sn_err_msg(err, EINVAL, "%s: want seconds (> 0), got `%s`", opt, v);
	*out = (int64_t)(s * 1000);
	return 0;
}

static int cmd_serve(int argc, char **argv, struct sn_err *err)
{
	static const struct option opts[] = {
		{ "root", 1, 0, 'r' }, { "listen", 1, 0, 'l' }, { "admin-token-file", 1, 0, 'a' },
		{ "join-token-file", 1, 0, 'j' }, { "grace", 1, 0, 'g' }, { "steady", 1, 0, 's' },
		{ "members", 1, 0, 'm' }, { "genesis-seed", 1, 0, 'G' }, { "log-level", 1, 0, 'L' },
		{ "rotation-interval", 1, 0, 'R' }, { "http-timeout", 1, 0, 1000 },
		{ "http-client-connections", 1, 0, 1001 }, { "http-max-args", 1, 0, 1002 },
		{ "public-read", 0, 0, 'P' }, { "events-max", 1, 0, 'E' },
		{ 0, 0, 0, 0 } };
	static const char *const http_keys[] = { "http_timeout", "http_client_connections",
						  "http_max_args" };
	struct api_limits lim;
	api_limits_default(&lim);
	const char *root = NULL, *listen_addr = NULL, *admin_f = NULL, *join_f = NULL;
	struct mgr_config cfg;
	mgr_config_defaults(&cfg);
	bool public_read = false;
	unsigned long long events_max = 64;
	int c, r;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'a': admin_f = optarg; break;
		case 'j': join_f = optarg; break;
		case 'g': if ((r = seconds_ms("--grace", optarg, &cfg.grace_ms, err))) return r; break;
		case 's': if ((r = seconds_ms("--steady", optarg, &cfg.steady_ms, err))) return r; break;
		case 'R':
			if (strcmp(optarg, "off") != 0 &&
			    (r = seconds_ms("--rotation-interval", optarg, &cfg.rotation_ms, err)))
				return r;
			break;
		case 'm': {
			unsigned long long n;
			if (sn_parse_u64(optarg, &n) || n < 1 || n > 128)
				return sn_err_msg(err, EINVAL, "--members: want 1 to 128");
			cfg.default_members = (int64_t)n;
			break;
		}
		case 'G': cfg.genesis_hex = optarg; break;
		case 'P': public_read = true; break;
		case 'E':
			if (sn_parse_u64(optarg, &events_max) || events_max > 1024)
				return sn_err_msg(err, EINVAL, "--events-max: want 0 to 1024");
			break;
		case 'L':
			if (!strcmp(optarg, "debug")) sn_log_set_level(SN_LOG_DEBUG);
			else if (!strcmp(optarg, "info")) sn_log_set_level(SN_LOG_INFO);
			else if (!strcmp(optarg, "warn")) sn_log_set_level(SN_LOG_WARN);
			else if (!strcmp(optarg, "error")) sn_log_set_level(SN_LOG_ERROR);
			else return sn_err_msg(err, EINVAL, "--log-level: error, warn, info or debug");
			break;
		case 1000: case 1001: case 1002:
			if ((r = api_limits_set(&lim, http_keys[c - 1000], optarg, err)) < 0)
				return sn_err_wrap(err, "--%s", opts[10 + c - 1000].name);
			break;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (!root || !listen_addr)
		return sn_err_msg(err, EINVAL, "serve needs --root DIR and --listen ADDR:PORT");
	struct mgr_api api = { .max_wait_ms = 30000, .public_read = public_read };
	_cleanup_free_ char *adm = admin_f ? strdup(admin_f) : sn_path_join(root, "admin.token");
	_cleanup_free_ char *jn = join_f ? strdup(join_f) : sn_path_join(root, "join.token");
	if (!adm || !jn)
		return sn_err_set(err, ENOMEM, "serve");
	if ((r = sn_mkdir_p(root, 0700, err)) ||
	    (r = token_file(adm, !admin_f, api.admin_token, sizeof(api.admin_token), err)) ||
	    (r = token_file(jn, !join_f, api.join_token, sizeof(api.join_token), err)))
		return r;
	int fd = listen_on(listen_addr, err);
	if (fd < 0)
		return fd;
	r = mgr_open(root, &cfg, &api.m, err);
	if (r) {
		close(fd);
		return r;
	}
	sn_info("subnode-manager: serving on %s, state in %s", listen_addr, root);
	r = serve_run(&api, &lim, fd, (int)events_max, err);
	mgr_close(api.m);
	return r;
}

static int cmd_log_or_verify(int argc, char **argv, bool verify, struct sn_err *err)
{
	static const struct option opts[] = { { "root", 1, 0, 'r' }, { "log", 1, 0, 'l' },
					      { 0, 0, 0, 0 } };
	const char *root = NULL, *logf = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			root = optarg;
		else if (c == 'l' && verify)
			logf = optarg;
		else
			return usage(stderr), -EINVAL;
	}
	if (!root == !logf)
		return sn_err_msg(err, EINVAL, verify ? "verify needs --root DIR or --log FILE" :
				  "log needs --root DIR");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;
	if (root) {
		_cleanup_free_ char *db = sn_path_join(root, "manager.db");
		if (!db)
			return sn_err_set(err, ENOMEM, "verify");
		if (!sn_path_exists(db))
			return sn_err_msg(err, ENOENT, "no manager state in `%s`", root);
		struct mgr_store *s;
		if ((r = mgr_store_open(root, &s, err)))
			return r;
		r = mgr_dlog_read_all(s, &buf, &len, err);
		mgr_store_close(s);
	} else {
		r = sn_read_file(strcmp(logf, "-") ? logf : "/dev/stdin", 0, &buf, &len, err);
	}
	if (r)
		return r;
	if (!verify) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout))
			return sn_err_sys(err, "write the log");
		return 0;
	}
	struct mgr_verify_report rep;
	r = mgr_dlog_verify(buf, len, &rep, err);
	if (r == 0 || r == -EBADMSG) {
		fputs(rep.text ? rep.text : "", stdout);
		printf("%zu entries, %zu placements re-computed, %zu epochs: %s\n", rep.entries,
		       rep.placements, rep.epochs, r ? "FAILED" : "ok");
	}
	mgr_verify_report_free(&rep);
	return r;
}

int main(int argc, char **argv)
{
	struct sn_err err = { 0 };
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	int r;
	const char *cmd = argv[1];
	argv++;
	argc--;
	if (!strcmp(cmd, "serve"))
		r = cmd_serve(argc, argv, &err);
	else if (!strcmp(cmd, "verify"))
		r = cmd_log_or_verify(argc, argv, true, &err);
	else if (!strcmp(cmd, "log"))
		r = cmd_log_or_verify(argc, argv, false, &err);
	else if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
		return usage(stdout), 0;
	else
		r = sn_err_msg(&err, EINVAL, "unknown command `%s`", cmd);
	if (r) {
		fprintf(stderr, "subnode-manager: %s\n", err.code ? err.msg : strerror(-r));
		return 1;
	}
	return 0;
}
