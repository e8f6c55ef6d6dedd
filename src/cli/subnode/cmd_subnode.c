/* cmd_subnode.c — the subnode verbs of the CLI: run, create, start, stop,
 * restart, kill, rm, ps, inspect, logs, wait. Each builds one or a few API
 * calls (docs/API.md) and prints a table, a name per line, or --json. */
#include "cli.h"
#include "base/fd.h"
#include "base/frame.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *esc(const char *s) { return client_escape(s); }

/* "k=v" → obj[k] = v; false when there is no '='. */
static bool kv_set(json_t *obj, const char *s)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s)
		return false;
	char *k = strndup(s, (size_t)(eq - s));
	json_object_set_new(obj, k, json_string(eq + 1));
	free(k);
	return true;
}

/* ---- Docker's multiplexed stream → our stdout/stderr */
/* Docker framing → fd 1 (stdout) or 2 (stderr). */
static bool emit_stdio(int stream, const char *p, size_t n, void *arg)
{
	return sn_write_all(stream == 2 ? 2 : 1, p, n) == 0;
}

static bool demux_cb(const char *data, size_t len, void *arg)
{
	return sn_frame_feed(arg, data, len, emit_stdio, NULL);
}

static int stream_logs(const char *name, bool follow, const char *tail, const char *since, bool ts)
{
	_cleanup_free_ char *n = esc(name);
	_cleanup_free_ char *t = tail ? esc(tail) : NULL;
	_cleanup_free_ char *s = since ? esc(since) : NULL;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "/containers/%s/logs?stdout=1&stderr=1%s%s%s%s%s%s", n,
		     follow ? "&follow=1" : "", t ? "&tail=" : "", t ? t : "", s ? "&since=" : "",
		     s ? s : "", ts ? "&timestamps=1" : "") < 0)
		return EXIT_FAIL;
	struct sn_frame_reader d = { 0 };
	struct sn_err err = { 0 };
	int r = client_stream(&g_cli, "GET", path, demux_cb, &d, NULL, &err);
	return r < 0 ? cli_fail(r, &err) : 0;
}

int cmd_run(int argc, char **argv, bool create_only)
{
	_cleanup_json_ json_t *body = json_object(), *env = json_array(), *labels = json_object(),
			       *binds = json_array(), *health = json_object(), *hc = json_object();
	const char *name = NULL, *v;
	bool detach = create_only, rm = false, as_json = false, tty = false, in = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (FLAG("-d", "--detach")) detach = true;
		else if (FLAG(NULL, "--rm")) rm = true;
		else if (FLAG(NULL, "--json")) as_json = true;
		else if (FLAG("-i", "--interactive")) in = true;
		else if (FLAG("-t", "--tty")) tty = true;
		else if (FLAG("-it", NULL) || FLAG("-ti", NULL)) in = tty = true;
		else if (TAKE(NULL, "--name", name)) ;
		else if (TAKE(NULL, "--size", v)) json_object_set_new(body, "Size", json_string(v));
		else if (TAKE("-e", "--env", v)) {
			if (!strchr(v, '=')) {
				const char *val = getenv(v);   /* docker: -e NAME takes it from here */
				if (!val)
					continue;
				_cleanup_free_ char *kv = NULL;
				if (asprintf(&kv, "%s=%s", v, val) >= 0)
					json_array_append_new(env, json_string(kv));
			} else {
				json_array_append_new(env, json_string(v));
			}
		} else if (TAKE("-l", "--label", v)) {
			if (!kv_set(labels, v)) {
				fprintf(stderr, "subnode: --label `%s`: expected KEY=VALUE\n", v);
				return EXIT_USAGE;
			}
		} else if (TAKE("-v", "--volume", v)) json_array_append_new(binds, json_string(v));
		else if (TAKE(NULL, "--restart", v)) {
			_cleanup_free_ char *p = strdup(v);
			char *colon = p ? strchr(p, ':') : NULL;
			long max = 0;
			if (colon) {
				*colon = '\0';
				char *end;
				max = strtol(colon + 1, &end, 10);
				if (*end || max < 0) {
					fprintf(stderr, "subnode: --restart `%s`: bad retry count\n", v);
					return EXIT_USAGE;
				}
			}
			json_object_set_new(hc, "RestartPolicy", json_pack("{s:s, s:I}", "Name", p ? p : "",
						"MaximumRetryCount", (json_int_t)max));
		} else if (TAKE(NULL, "--network", v) || TAKE(NULL, "--net", v)) {
			if (cli_net_option(hc, "network", v) < 0)
				return EXIT_USAGE;
		} else if (TAKE("-p", "--publish", v)) {
			if (cli_net_option(hc, "publish", v) < 0)
				return EXIT_USAGE;
		} else if (TAKE(NULL, "--port-slot", v)) {
			if (cli_net_option(hc, "port-slot", v) < 0)
				return EXIT_USAGE;
		} else if (TAKE(NULL, "--allow", v)) {
			if (cli_net_option(hc, "allow", v) < 0)
				return EXIT_USAGE;
		} else if (TAKE(NULL, "--entrypoint", v)) json_object_set_new(body, "Entrypoint", json_pack("[s]", v));
		else if (TAKE("-w", "--workdir", v)) json_object_set_new(body, "WorkingDir", json_string(v));
		else if (TAKE("-u", "--user", v)) json_object_set_new(body, "User", json_string(v));
		else if (TAKE(NULL, "--hostname", v)) json_object_set_new(body, "Hostname", json_string(v));
		else if (TAKE(NULL, "--stop-signal", v)) json_object_set_new(body, "StopSignal", json_string(v));
		else if (TAKE(NULL, "--stop-timeout", v)) json_object_set_new(body, "StopTimeout", json_integer(atoi(v)));
		else if (TAKE(NULL, "--health-cmd", v)) json_object_set_new(health, "Test", json_pack("[s,s]", "CMD-SHELL", v));
		else if (TAKE(NULL, "--health-http", v)) json_object_set_new(health, "Test", json_pack("[s,s]", "HTTP", v));
		else if (TAKE(NULL, "--health-tcp", v)) json_object_set_new(health, "Test", json_pack("[s,s]", "TCP", v));
		else if (TAKE(NULL, "--health-on-unhealthy", v)) json_object_set_new(health, "OnUnhealthy", json_string(v));
		else if (TAKE(NULL, "--health-retries", v)) json_object_set_new(health, "Retries", json_integer(atoi(v)));
		else if (TAKE(NULL, "--health-interval", v) || TAKE(NULL, "--health-timeout", v) ||
			 TAKE(NULL, "--health-start-period", v)) {
			int64_t ns;
			const char *opt = argv[i - 1][0] == '-' && argv[i][0] != '-' ? argv[i - 1] : argv[i];
			if (cli_parse_duration(v, &ns) < 0) {
				fprintf(stderr, "subnode: %s `%s`: not a duration (30s, 1m, 500ms)\n", opt, v);
				return EXIT_USAGE;
			}
			const char *key = strstr(opt, "interval") ? "Interval" : strstr(opt, "timeout") ? "Timeout"
									   : "StartPeriod";
			json_object_set_new(health, key, json_integer(ns));
		} else {
			fprintf(stderr, "subnode: %s: unknown option `%s`\n", argv[0], argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "subnode: %s: IMAGE is required\n", argv[0]);
		return EXIT_USAGE;
	}
	if (in && !tty && !detach) {
		fprintf(stderr, "subnode: %s: -i without -t is not supported (stdin reaches a subnode "
				"through its terminal): use -it\n", argv[0]);
		return EXIT_USAGE;
	}
	if (tty) {
		json_object_set_new(body, "Tty", json_true());
		json_object_set_new(body, "OpenStdin", json_boolean(in));
	}
	json_object_set_new(body, "Image", json_string(argv[i++]));
	if (i < argc) {
		json_t *cmd = json_array();
		for (; i < argc; i++)
			json_array_append_new(cmd, json_string(argv[i]));
		json_object_set_new(body, "Cmd", cmd);
	}
	if (json_array_size(env)) json_object_set(body, "Env", env);
	if (json_object_size(labels)) json_object_set(body, "Labels", labels);
	if (json_object_size(health)) json_object_set(body, "Healthcheck", health);
	if (json_array_size(binds)) json_object_set(hc, "Binds", binds);
	/* --rm: with -d the daemon removes it when it ends; attached, we do
	 * after reading its exit code. */
	if (rm && detach && !create_only)
		json_object_set_new(hc, "AutoRemove", json_true());
	if (json_object_size(hc)) json_object_set(body, "HostConfig", hc);

	_cleanup_free_ char *path = NULL, *en = name ? esc(name) : NULL;
	if (asprintf(&path, "/containers/create?%s%s%s", create_only ? "" : "start=1",
		     en ? (create_only ? "name=" : "&name=") : "", en ? en : "") < 0)
		return EXIT_FAIL;
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *out = NULL;
	int r = client_call(&g_cli, "POST", path, body, NULL, &out, &err);
	if (r < 0) {
		int rc = cli_fail(r, &err);
		return create_only || rc == EXIT_UNREACHABLE ? rc : EXIT_RUN_FAIL;
	}
	const char *id = json_string_value(json_object_get(out, "Id"));
	if (detach) {
		if (as_json)
			cli_print_json(out);
		else
			printf("%s\n", id ? id : "");
		return 0;
	}
	if (tty) {
		char ap[256], rp[256];
		snprintf(ap, sizeof(ap), "/containers/%s/attach?stream=1&stdout=1&stderr=1%s", id,
			 in ? "&stdin=1" : "");
		snprintf(rp, sizeof(rp), "/containers/%s/resize", id);
		if (cli_session(ap, "", true, in, rp) != 0)
			stream_logs(id, true, NULL, NULL, false);   /* ended before we attached */
	} else {
		stream_logs(id, true, NULL, NULL, false);
	}
	_cleanup_free_ char *wp = NULL;
	_cleanup_json_ json_t *w = NULL;
	if (asprintf(&wp, "/containers/%s/wait", id) < 0)
		return EXIT_FAIL;
	r = client_call(&g_cli, "POST", wp, NULL, NULL, &w, &err);
	int code = r < 0 ? EXIT_RUN_FAIL : (int)json_integer_value(json_object_get(w, "StatusCode"));
	if (r < 0)
		cli_fail(r, &err);
	if (rm) {
		_cleanup_free_ char *dp = NULL;
		if (asprintf(&dp, "/containers/%s?force=1", id) >= 0 &&
		    (r = client_call(&g_cli, "DELETE", dp, NULL, NULL, NULL, &err)) < 0)
			cli_fail(r, &err);
	}
	return code;
}

int cmd_simple(int argc, char **argv, const char *verb)
{
	const char *t = NULL, *sig = NULL;
	bool force = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(verb, "rm") == 0 && FLAG("-f", "--force")) force = true;
		else if ((strcmp(verb, "stop") == 0 || strcmp(verb, "restart") == 0) && TAKE("-t", "--time", t)) ;
		else if ((strcmp(verb, "stop") == 0 || strcmp(verb, "kill") == 0) && TAKE("-s", "--signal", sig)) ;
		else {
			fprintf(stderr, "subnode: %s: unknown option `%s`\n", verb, argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "subnode: %s: give at least one subnode\n", verb);
		return EXIT_USAGE;
	}
	int rc = 0;
	for (; i < argc; i++) {
		_cleanup_free_ char *n = esc(argv[i]), *st = t ? esc(t) : NULL, *ss = sig ? esc(sig) : NULL;
		_cleanup_free_ char *path = NULL;
		const char *method = "POST";
		int a;
		if (strcmp(verb, "rm") == 0) {
			method = "DELETE";
			a = asprintf(&path, "/containers/%s%s", n, force ? "?force=1" : "");
		} else {
			a = asprintf(&path, "/containers/%s/%s%s%s%s%s", n, verb, st ? "?t=" : "", st ? st : "",
				     ss ? (st ? "&signal=" : "?signal=") : "", ss ? ss : "");
		}
		if (a < 0)
			return EXIT_FAIL;
		struct sn_err err = { 0 };
		int r = client_call(&g_cli, method, path, NULL, NULL, NULL, &err);
		if (r < 0) {
			int c = cli_fail(r, &err);
			if (c == EXIT_UNREACHABLE)
				return c;
			rc = EXIT_FAIL;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return rc;
}

static json_t *filters_from(json_t *list)
{
	json_t *f = json_object();
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *s = json_string_value(v), *eq = strchr(s, '=');
		char *k = strndup(s, (size_t)(eq - s));
		json_t *arr = json_object_get(f, k);
		if (!arr)
			json_object_set_new(f, k, arr = json_array());
		json_array_append_new(arr, json_string(eq + 1));
		free(k);
	}
	return f;
}

int cmd_ps(int argc, char **argv)
{
	bool all = false, quiet = false, as_json = false;
	_cleanup_json_ json_t *flist = json_array();
	const char *v;
	for (int i = 1; i < argc; i++) {
		if (FLAG("-a", "--all")) all = true;
		else if (FLAG("-q", "--quiet")) quiet = true;
		else if (FLAG(NULL, "--json")) as_json = true;
		else if (FLAG("-aq", NULL) || FLAG("-qa", NULL)) all = quiet = true;
		else if (TAKE("-f", "--filter", v)) {
			if (!strchr(v, '=')) {
				fprintf(stderr, "subnode: ps: filter `%s`: expected KEY=VALUE\n", v);
				return EXIT_USAGE;
			}
			json_array_append_new(flist, json_string(v));
		} else {
			fprintf(stderr, "subnode: ps: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	_cleanup_json_ json_t *f = filters_from(flist);
	_cleanup_free_ char *ftxt = sn_json_dump(f, false);
	_cleanup_free_ char *fe = ftxt ? esc(ftxt) : NULL;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "/containers/json?all=%d&filters=%s", all, fe ? fe : "") < 0)
		return EXIT_FAIL;
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *out = NULL;
	int r = client_call(&g_cli, "GET", path, NULL, NULL, &out, &err);
	if (r < 0)
		return cli_fail(r, &err);
	if (as_json) {
		cli_print_json(out);
		return 0;
	}
	size_t i;
	json_t *c;
	if (!quiet)
		printf("%-12s  %-20s  %-16s  %-6s  %-26s  %-4s  %s\n", "SUBNODE ID", "NAME", "IMAGE", "SIZE",
		       "STATUS", "RST", "COMMAND");
	json_array_foreach(out, i, c) {
		const char *id = json_string_value(json_object_get(c, "Id"));
		if (quiet) {
			printf("%.12s\n", id);
			continue;
		}
		const char *cmd = json_string_value(json_object_get(c, "Command"));
		const char *nm = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
		printf("%-12.12s  %-20s  %-16s  %-6s  %-26s  %-4lld  \"%.30s%s\"\n", id,
		       nm && *nm == '/' ? nm + 1 : nm,
		       json_string_value(json_object_get(c, "Image")),
		       json_string_value(json_object_get(c, "Size")),
		       json_string_value(json_object_get(c, "Status")),
		       (long long)json_integer_value(json_object_get(c, "RestartCount")), cmd,
		       strlen(cmd) > 30 ? "…" : "");
	}
	return 0;
}

int cmd_inspect(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "subnode: inspect: give at least one subnode\n");
		return EXIT_USAGE;
	}
	_cleanup_json_ json_t *all = json_array();
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			continue;
		_cleanup_free_ char *n = esc(argv[i]), *path = NULL;
		if (asprintf(&path, "/containers/%s/json", n) < 0)
			return EXIT_FAIL;
		struct sn_err err = { 0 };
		json_t *out = NULL;
		int r = client_call(&g_cli, "GET", path, NULL, NULL, &out, &err);
		if (r < 0) {
			rc = cli_fail(r, &err);
			if (rc == EXIT_UNREACHABLE)
				return rc;
			continue;
		}
		json_array_append_new(all, out);
	}
	cli_print_json(all);
	return rc;
}

int cmd_logs(int argc, char **argv)
{
	bool follow = false, ts = false;
	const char *tail = NULL, *since = NULL, *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (FLAG("-f", "--follow")) follow = true;
		else if (FLAG("-t", "--timestamps")) ts = true;
		else if (TAKE("-n", "--tail", tail) || TAKE(NULL, "--since", since)) ;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "subnode: logs: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		} else if (!name) name = argv[i];
		else {
			fprintf(stderr, "subnode: logs: one subnode at a time\n");
			return EXIT_USAGE;
		}
	}
	if (!name) {
		fprintf(stderr, "subnode: logs: which subnode?\n");
		return EXIT_USAGE;
	}
	/* Relative since ("10m") becomes an absolute time here, like docker. */
	char sbuf[32];
	int64_t ns;
	if (since && !strchr(since, 'T') && strpbrk(since, "smh") && cli_parse_duration(since, &ns) == 0) {
		snprintf(sbuf, sizeof(sbuf), "%lld", (long long)(time(NULL) - ns / 1000000000LL));
		since = sbuf;
	}
	return stream_logs(name, follow, tail, since, ts);
}

int cmd_wait(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "subnode: wait: give at least one subnode\n");
		return EXIT_USAGE;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *n = esc(argv[i]), *path = NULL;
		if (asprintf(&path, "/containers/%s/wait", n) < 0)
			return EXIT_FAIL;
		struct sn_err err = { 0 };
		_cleanup_json_ json_t *out = NULL;
		int r = client_call(&g_cli, "POST", path, NULL, NULL, &out, &err);
		if (r < 0) {
			rc = cli_fail(r, &err);
			continue;
		}
		printf("%lld\n", (long long)json_integer_value(json_object_get(out, "StatusCode")));
	}
	return rc;
}
