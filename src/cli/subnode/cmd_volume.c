/* cmd_volume.c — `subnode volume create|ls|inspect|rm|export|import`.
 *
 * export writes the daemon's stream (a tar and its sha256 trailer,
 * docs/API.md) to stdout or -o FILE as it comes; import uploads stdin or
 * -i FILE as it is read (client_upload). Neither holds the stream in
 * memory. A failed export exits 1 (the stream is then cut short, and an
 * import of it is refused).
 */
#include "cli.h"
#include "base/cleanup.h"
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage_err(const char *what)
{
	fprintf(stderr, "subnode: volume: %s\n"
		"  volume create NAME [--size S] [--label K=V]...\n"
		"  volume ls [-q] [--json] | volume inspect NAME... | volume rm NAME...\n"
		"  volume export [--pause] [-o FILE] NAME     (stdout without -o)\n"
		"  volume import [--size S] [-i FILE] NAME    (stdin without -i)\n", what);
	return EXIT_USAGE;
}

static int v_create(int argc, char **argv)
{
	const char *name = NULL, *size = NULL, *l = NULL;
	_cleanup_json_ json_t *labels = json_object();
	for (int i = 2; i < argc; i++) {
		if (TAKE(NULL, "--size", size)) ;
		else if (TAKE("-l", "--label", l)) {
			const char *eq = strchr(l, '=');
			_cleanup_free_ char *k = strndup(l, eq ? (size_t)(eq - l) : strlen(l));
			json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
		} else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			return usage_err("create: unknown argument");
	}
	if (!name)
		return usage_err("create: a NAME is needed");
	_cleanup_json_ json_t *body = json_pack("{s:s, s:O}", "Name", name, "Labels", labels);
	if (size)
		json_object_set_new(body, "DriverOpts", json_pack("{s:s}", "size", size));
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *out = NULL;
	int r = client_call(&g_cli, "POST", "/volumes/create", body, NULL, &out, &err);
	if (r < 0)
		return cli_fail(r, &err);
	printf("%s\n", json_string_value(json_object_get(out, "Name")));
	return 0;
}

static int v_ls(int argc, char **argv)
{
	bool quiet = false, as_json = false;
	for (int i = 2; i < argc; i++) {
		if (FLAG("-q", "--quiet")) quiet = true;
		else if (FLAG(NULL, "--json")) as_json = true;
		else return usage_err("ls: unknown argument");
	}
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *out = NULL;
	int r = client_call(&g_cli, "GET", "/volumes", NULL, NULL, &out, &err);
	if (r < 0)
		return cli_fail(r, &err);
	json_t *vols = json_object_get(out, "Volumes");
	if (as_json) {
		cli_print_json(vols);
		return 0;
	}
	if (!quiet)
		printf("%-24s %-10s %12s %12s  %s\n", "NAME", "STATE", "SIZE", "USED", "USED BY");
	size_t i;
	json_t *v;
	json_array_foreach(vols, i, v) {
		const char *name = json_string_value(json_object_get(v, "Name"));
		if (quiet) {
			printf("%s\n", name);
			continue;
		}
		char sz[32], used[32];
		sn_human_bytes((uint64_t)json_integer_value(json_object_get(v, "SizeBytes")), sz, sizeof(sz));
		sn_human_bytes((uint64_t)json_integer_value(json_object_get(json_object_get(v, "UsageData"), "Size")),
		      used, sizeof(used));
		_cleanup_free_ char *by = json_dumps(json_object_get(v, "UsedBy"), JSON_COMPACT);
		printf("%-24s %-10s %12s %12s  %s\n", name, json_string_value(json_object_get(v, "State")), sz,
		       used, by ? by : "");
	}
	return 0;
}

static int v_each(int argc, char **argv, bool inspect)
{
	if (argc < 3)
		return usage_err(inspect ? "inspect: a NAME is needed" : "rm: a NAME is needed");
	int rc = 0;
	_cleanup_json_ json_t *all = json_array();
	for (int i = 2; i < argc; i++) {
		_cleanup_free_ char *ne = client_escape(argv[i]), *path = NULL;
		if (!ne || asprintf(&path, "/volumes/%s", ne) < 0)
			return EXIT_FAIL;
		struct sn_err err = { 0 };
		json_t *out = NULL;
		int r = client_call(&g_cli, inspect ? "GET" : "DELETE", path, NULL, NULL, &out, &err);
		if (r < 0) {
			rc = cli_fail(r, &err);
			continue;
		}
		if (inspect)
			json_array_append_new(all, out);
		else
			printf("%s\n", argv[i]);
	}
	if (inspect)
		cli_print_json(all);
	return rc;
}

static bool to_fd(const char *data, size_t len, void *arg)
{
	return sn_write_all(*(int *)arg, data, len) == 0;
}

static int v_export(int argc, char **argv)
{
	const char *name = NULL, *file = NULL;
	bool pause = false;
	for (int i = 2; i < argc; i++) {
		if (TAKE("-o", "--output", file)) ;
		else if (FLAG(NULL, "--pause")) pause = true;
		else if (argv[i][0] != '-' && !name) name = argv[i];
		else return usage_err("export: unknown argument");
	}
	if (!name)
		return usage_err("export: a NAME is needed");
	_cleanup_close_ int fd = file ? open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
				      : dup(STDOUT_FILENO);
	if (fd < 0) {
		fprintf(stderr, "subnode: volume export: `%s`: %s\n", file ? file : "stdout", strerror(errno));
		return EXIT_FAIL;
	}
	if (!file && isatty(fd))
		return usage_err("export: stdout is a terminal: give -o FILE or redirect it");
	_cleanup_free_ char *ne = client_escape(name), *path = NULL;
	if (!ne || asprintf(&path, "/volumes/%s/export%s", ne, pause ? "?pause=1" : "") < 0)
		return EXIT_FAIL;
	struct sn_err err = { 0 };
	int r = client_stream(&g_cli, "GET", path, to_fd, &fd, NULL, &err);
	if (r < 0) {
		if (file)
			unlink(file);   /* no half stream left to be mistaken for one */
		return cli_fail(r, &err);
	}
	return 0;
}

static int v_import(int argc, char **argv)
{
	const char *name = NULL, *file = NULL, *size = NULL;
	for (int i = 2; i < argc; i++) {
		if (TAKE("-i", "--input", file)) ;
		else if (TAKE(NULL, "--size", size)) ;
		else if (argv[i][0] != '-' && !name) name = argv[i];
		else return usage_err("import: unknown argument");
	}
	if (!name)
		return usage_err("import: a NAME is needed");
	_cleanup_close_ int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (fd < 0) {
		fprintf(stderr, "subnode: volume import: `%s`: %s\n", file ? file : "stdin", strerror(errno));
		return EXIT_FAIL;
	}
	if (!file && isatty(fd))
		return usage_err("import: no stream: give -i FILE or pipe one into stdin");
	_cleanup_free_ char *ne = client_escape(name), *se = size ? client_escape(size) : NULL;
	_cleanup_free_ char *path = NULL, *body = NULL;
	if (!ne || asprintf(&path, "/volumes/%s/import%s%s", ne, se ? "?size=" : "", se ? se : "") < 0)
		return EXIT_FAIL;
	size_t len = 0;
	struct sn_err err = { 0 };
	int r = client_upload(&g_cli, path, fd, NULL, &body, &len, &err);
	if (r < 0)
		return cli_fail(r, &err);
	_cleanup_json_ json_t *out = body ? json_loadb(body, len, 0, NULL) : NULL;
	printf("%s %s\n", name, json_string_value(json_object_get(out, "Digest")) ?: "");
	return 0;
}

int cmd_volume(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "ls";
	if (strcmp(sub, "create") == 0) return v_create(argc, argv);
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0) return v_ls(argc, argv);
	if (strcmp(sub, "inspect") == 0) return v_each(argc, argv, true);
	if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0) return v_each(argc, argv, false);
	if (strcmp(sub, "export") == 0) return v_export(argc, argv);
	if (strcmp(sub, "import") == 0) return v_import(argc, argv);
	return usage_err("unknown command (create, ls, inspect, rm, export, import)");
}
