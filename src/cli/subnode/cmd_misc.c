/* cmd_misc.c — events, image (pull with a progress bar, import, ls, rm) and
 * node info. */
#include "cli.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Split a stream into lines and hand each to fn. */
struct lines {
	char buf[65536];
	size_t len;
	void (*fn)(const char *line, void *arg);
	void *arg;
};

static bool lines_cb(const char *data, size_t len, void *arg)
{
	struct lines *l = arg;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' || l->len == sizeof(l->buf) - 1) {
			l->buf[l->len] = '\0';
			if (l->len)
				l->fn(l->buf, l->arg);
			l->len = 0;
		} else {
			l->buf[l->len++] = data[i];
		}
	}
	return true;
}

static void event_line(const char *line, void *arg)
{
	bool as_json = *(bool *)arg;
	if (as_json) {
		printf("%s\n", line);
		fflush(stdout);
		return;
	}
	json_t *ev = json_loads(line, 0, NULL);
	if (!ev)
		return;
	char ts[40];
	json_int_t ns = json_integer_value(json_object_get(ev, "timeNano"));
	time_t s = (time_t)(ns / 1000000000LL);
	struct tm tm;
	localtime_r(&s, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	json_t *actor = json_object_get(ev, "Actor");
	printf("%s.%09lld %s %s %s", ts, (long long)(ns % 1000000000LL),
	       json_string_value(json_object_get(ev, "Type")), json_string_value(json_object_get(ev, "Action")),
	       json_string_value(json_object_get(actor, "ID")));
	const char *k;
	json_t *v;
	bool first = true;
	json_object_foreach(json_object_get(actor, "Attributes"), k, v) {
		printf("%s%s=%s", first ? " (" : ", ", k, json_string_value(v));
		first = false;
	}
	printf("%s\n", first ? "" : ")");
	fflush(stdout);
	json_decref(ev);
}

int cmd_events(int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *v;
	bool as_json = false;
	_cleanup_json_ json_t *f = json_object();
	for (int i = 1; i < argc; i++) {
		if (FLAG(NULL, "--json")) as_json = true;
		else if (TAKE(NULL, "--since", since) || TAKE(NULL, "--until", until)) ;
		else if (TAKE("-f", "--filter", v)) {
			const char *eq = strchr(v, '=');
			if (!eq) {
				fprintf(stderr, "subnode: events: filter `%s`: expected KEY=VALUE\n", v);
				return EXIT_USAGE;
			}
			char *k = strndup(v, (size_t)(eq - v));
			json_t *arr = json_object_get(f, k);
			if (!arr)
				json_object_set_new(f, k, arr = json_array());
			json_array_append_new(arr, json_string(eq + 1));
			free(k);
		} else {
			fprintf(stderr, "subnode: events: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	_cleanup_free_ char *ftxt = sn_json_dump(f, false);
	_cleanup_free_ char *fe = ftxt ? client_escape(ftxt) : NULL;
	_cleanup_free_ char *se = since ? client_escape(since) : NULL, *ue = until ? client_escape(until) : NULL;
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "/events?filters=%s%s%s%s%s", fe ? fe : "", se ? "&since=" : "", se ? se : "",
		     ue ? "&until=" : "", ue ? ue : "") < 0)
		return EXIT_FAIL;
	struct lines *l = calloc(1, sizeof(*l));
	if (!l)
		return EXIT_FAIL;
	l->fn = event_line;
	l->arg = &as_json;
	struct sn_err err = { 0 };
	int r = client_stream(&g_cli, "GET", path, lines_cb, l, NULL, &err);
	free(l);
	return r < 0 ? cli_fail(r, &err) : 0;
}

/* ---- image pull progress: one bar for the bytes of all layers */
struct pull_state {
	bool tty;
	json_t *totals;   /* id → total */
	json_t *done;     /* id → current */
	char error[1024];
	char digest[80];
};

static void human(double b, char *buf, size_t n)
{
	const char *u[] = { "B", "kB", "MB", "GB" };
	int i = 0;
	while (b >= 1000 && i < 3) {
		b /= 1000;
		i++;
	}
	snprintf(buf, n, "%.1f %s", b, u[i]);
}

static void pull_line(const char *line, void *arg)
{
	struct pull_state *p = arg;
	json_t *j = json_loads(line, 0, NULL);
	if (!j)
		return;
	const char *err = json_string_value(json_object_get(j, "error"));
	const char *st = json_string_value(json_object_get(j, "status"));
	const char *id = json_string_value(json_object_get(j, "id"));
	json_t *pd = json_object_get(j, "progressDetail");
	if (err)
		snprintf(p->error, sizeof(p->error), "%s", err);
	else if (st && strcmp(st, "Pulled") == 0)
		snprintf(p->digest, sizeof(p->digest), "%s", json_string_value(json_object_get(j, "digest")));
	else if (id && *id && pd) {
		json_int_t total = json_integer_value(json_object_get(pd, "total"));
		json_int_t cur = json_integer_value(json_object_get(pd, "current"));
		if (total)
			json_object_set_new(p->totals, id, json_integer(total));
		if (strcmp(st, "Already exists") == 0 || strcmp(st, "Download complete") == 0)
			cur = json_integer_value(json_object_get(p->totals, id));
		if (strcmp(st, "Extracting") != 0)
			json_object_set_new(p->done, id, json_integer(cur));
		if (p->tty) {
			double t = 0, d = 0;
			const char *k;
			json_t *v;
			json_object_foreach(p->totals, k, v) t += (double)json_integer_value(v);
			json_object_foreach(p->done, k, v) d += (double)json_integer_value(v);
			int width = 30, fill = t > 0 ? (int)(width * d / t) : 0;
			if (fill > width)
				fill = width;
			char a[32], b[32], bar[64];
			human(d, a, sizeof(a));
			human(t, b, sizeof(b));
			memset(bar, '=', (size_t)fill);
			if (fill < width)
				bar[fill++] = '>';
			memset(bar + fill, ' ', (size_t)(width - fill + 1));
			bar[width] = '\0';
			fprintf(stderr, "\r%-12s [%s] %s / %s  %-20s", id, bar, a, b, st);
		} else if (strcmp(st, "Download complete") == 0 || strcmp(st, "Already exists") == 0) {
			fprintf(stderr, "%s: %s\n", id, st);
		}
	}
	json_decref(j);
}

static int image_pull(int argc, char **argv)
{
	bool insecure = false;
	const char *ref = NULL;
	for (int i = 2; i < argc; i++) {
		if (FLAG(NULL, "--insecure")) insecure = true;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "subnode: image pull: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		} else ref = argv[i];
	}
	if (!ref) {
		fprintf(stderr, "subnode: image pull: which image?\n");
		return EXIT_USAGE;
	}
	_cleanup_free_ char *re = client_escape(ref), *path = NULL;
	if (asprintf(&path, "/images/create?fromImage=%s%s", re, insecure ? "&insecure=1" : "") < 0)
		return EXIT_FAIL;
	struct pull_state ps = { .tty = isatty(2), .totals = json_object(), .done = json_object() };
	struct lines *l = calloc(1, sizeof(*l));
	if (!l)
		return EXIT_FAIL;
	l->fn = pull_line;
	l->arg = &ps;
	struct sn_err err = { 0 };
	int r = client_stream(&g_cli, "POST", path, lines_cb, l, NULL, &err);
	free(l);
	json_decref(ps.totals);
	json_decref(ps.done);
	if (ps.tty)
		fprintf(stderr, "\n");
	if (r < 0)
		return cli_fail(r, &err);
	if (ps.error[0]) {
		fprintf(stderr, "subnode: %s\n", ps.error);
		return EXIT_FAIL;
	}
	printf("%s\n", ps.digest);
	return 0;
}

static int image_import(int argc, char **argv)
{
	const char *name = NULL, *src = NULL;
	for (int i = 2; i < argc; i++) {
		if (TAKE(NULL, "--name", name)) ;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "subnode: image import: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		} else src = argv[i];
	}
	if (!src) {
		fprintf(stderr, "subnode: image import: PATH (an OCI layout dir or a docker-archive tar) is required\n");
		return EXIT_USAGE;
	}
	/* The daemon reads the path itself: make it absolute here. */
	_cleanup_free_ char *abs = realpath(src, NULL);
	if (!abs) {
		fprintf(stderr, "subnode: image import: `%s`: %s\n", src, strerror(errno));
		return EXIT_FAIL;
	}
	_cleanup_free_ char *pe = client_escape(abs), *ne = name ? client_escape(name) : NULL, *path = NULL;
	if (asprintf(&path, "/images/load?path=%s%s%s", pe, ne ? "&name=" : "", ne ? ne : "") < 0)
		return EXIT_FAIL;
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *out = NULL;
	int r = client_call(&g_cli, "POST", path, NULL, NULL, &out, &err);
	if (r < 0)
		return cli_fail(r, &err);
	printf("%s\n", json_string_value(json_object_get(out, "Digest")));
	return 0;
}

/* image load [-i FILE] [--name REF]: the archive is uploaded (stdin when no
 * -i), so it need not be on the node. Prints what the daemon loaded. */
static int image_load(int argc, char **argv)
{
	const char *name = NULL, *file = NULL;
	for (int i = 2; i < argc; i++) {
		if (TAKE("-i", "--input", file)) ;
		else if (TAKE(NULL, "--name", name)) ;
		else {
			fprintf(stderr, "subnode: image load: unknown argument `%s` (the archive is -i FILE or stdin)\n",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	_cleanup_close_ int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (fd < 0) {
		fprintf(stderr, "subnode: image load: `%s`: %s\n", file ? file : "stdin", strerror(errno));
		return EXIT_FAIL;
	}
	if (!file && isatty(fd)) {
		fprintf(stderr, "subnode: image load: no archive: give -i FILE or pipe one into stdin\n");
		return EXIT_USAGE;
	}
	_cleanup_free_ char *ne = name ? client_escape(name) : NULL, *path = NULL, *body = NULL;
	if (asprintf(&path, "/images/load%s%s", ne ? "?name=" : "", ne ? ne : "") < 0)
		return EXIT_FAIL;
	size_t len = 0;
	struct sn_err err = { 0 };
	int r = client_upload(&g_cli, path, fd, NULL, &body, &len, &err);
	if (r < 0)
		return cli_fail(r, &err);
	/* JSON lines: {"stream": "Loaded image: ..."} ..., {"Digest"} */
	for (char *line = body, *nl; line && line < body + len; line = nl ? nl + 1 : NULL) {
		nl = memchr(line, '\n', (size_t)(body + len - line));
		_cleanup_json_ json_t *j = json_loadb(line, nl ? (size_t)(nl - line) : (size_t)(body + len - line),
						    0, NULL);
		const char *s = json_string_value(json_object_get(j, "stream"));
		if (s)
			fputs(s, stdout);
	}
	return 0;
}

static int image_ls(int argc, char **argv)
{
	bool quiet = false, as_json = false;
	for (int i = 2; i < argc; i++) {
		if (FLAG("-q", "--quiet")) quiet = true;
		else if (FLAG(NULL, "--json")) as_json = true;
		else {
			fprintf(stderr, "subnode: image ls: unknown option `%s`\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *out = NULL;
	int r = client_call(&g_cli, "GET", "/images/json", NULL, NULL, &out, &err);
	if (r < 0)
		return cli_fail(r, &err);
	if (as_json) {
		cli_print_json(out);
		return 0;
	}
	if (!quiet)
		printf("%-50s  %-12s  %s\n", "NAME", "DIGEST", "SIZE");
	size_t i;
	json_t *im;
	json_array_foreach(out, i, im) {
		const char *d = json_string_value(json_object_get(im, "digest"));
		const char *hex = d && strlen(d) > 7 ? d + 7 : "";
		if (quiet) {
			printf("%.12s\n", hex);
			continue;
		}
		char sz[32];
		human((double)json_integer_value(json_object_get(im, "Size")), sz, sizeof(sz));
		json_t *tags = json_object_get(im, "tags");
		if (json_array_size(tags) == 0)
			printf("%-50s  %-12.12s  %s\n", "<none>", hex, sz);
		size_t j;
		json_t *t;
		json_array_foreach(tags, j, t)
			printf("%-50s  %-12.12s  %s\n", json_string_value(t), hex, sz);
	}
	return 0;
}

static int image_rm(int argc, char **argv)
{
	bool force = false;
	int rc = 0, n = 0;
	for (int i = 2; i < argc; i++) {
		if (FLAG("-f", "--force")) {
			force = true;
			continue;
		}
		n++;
	}
	for (int i = 2; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		_cleanup_free_ char *e = client_escape(argv[i]), *path = NULL;
		if (asprintf(&path, "/images/%s%s", e, force ? "?force=1" : "") < 0)
			return EXIT_FAIL;
		struct sn_err err = { 0 };
		int r = client_call(&g_cli, "DELETE", path, NULL, NULL, NULL, &err);
		if (r < 0)
			rc = cli_fail(r, &err);
		else
			printf("Untagged: %s\n", argv[i]);
	}
	if (!n) {
		fprintf(stderr, "subnode: image rm: which image?\n");
		return EXIT_USAGE;
	}
	return rc;
}

int cmd_image(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "ls";
	if (strcmp(argv[0], "images") == 0 && argc == 1) return image_ls(argc + 1, (char *[]){ "images", "ls", NULL });
	if (strcmp(sub, "pull") == 0) return image_pull(argc, argv);
	if (strcmp(sub, "import") == 0) return image_import(argc, argv);
	if (strcmp(sub, "load") == 0) return image_load(argc, argv);
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0) return image_ls(argc, argv);
	if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0) return image_rm(argc, argv);
	fprintf(stderr, "subnode: image: unknown command `%s` (pull, import, load, ls, rm)\n", sub);
	return EXIT_USAGE;
}

int cmd_node(int argc, char **argv)
{
	bool as_json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "info") == 0) continue;
		if (FLAG(NULL, "--json")) as_json = true;
		else {
			fprintf(stderr, "subnode: node: unknown argument `%s` (node info [--json])\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *out = NULL;
	int r = client_call(&g_cli, "GET", "/info", NULL, NULL, &out, &err);
	if (r < 0)
		return cli_fail(r, &err);
	if (as_json) {
		cli_print_json(out);
		return 0;
	}
	json_t *s = json_object_get(out, "Slices");
	printf("Name:          %s\n", json_string_value(json_object_get(out, "Name")));
	printf("Version:       %s\n", json_string_value(json_object_get(out, "ServerVersion")));
	printf("Root:          %s\n", json_string_value(json_object_get(out, "Root")));
	printf("Runtime:       %s (%s)\n", json_string_value(json_object_get(out, "Runtime")),
	       json_string_value(json_object_get(out, "RuntimePath")));
	printf("Cgroup parent: %s\n", json_string_value(json_object_get(out, "CgroupParent")));
	printf("Subnodes:      %lld (%lld running, %lld stopped)\n",
	       (long long)json_integer_value(json_object_get(out, "Containers")),
	       (long long)json_integer_value(json_object_get(out, "ContainersRunning")),
	       (long long)json_integer_value(json_object_get(out, "ContainersStopped")));
	char mem[32];
	human((double)json_integer_value(json_object_get(s, "UnitMemory")), mem, sizeof(mem));
	printf("Units:         %lld used, %lld free of %lld (one unit: %.4f CPUs, %s memory)\n",
	       (long long)json_integer_value(json_object_get(s, "Used")),
	       (long long)json_integer_value(json_object_get(s, "Free")),
	       (long long)json_integer_value(json_object_get(s, "Units")),
	       json_real_value(json_object_get(s, "UnitCPUs")), mem);
	printf("Room for:     ");
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(s, "Fits"), i, f)
		printf(" %lld %s%s", (long long)json_integer_value(json_object_get(f, "Count")),
		       json_string_value(json_object_get(f, "Size")), i + 1 < json_array_size(json_object_get(s, "Fits")) ? "," : "\n");
	return 0;
}
