/* cmd_info.c — state, list, ps, spec, features: the commands that only
 * read (or, for spec, write a template). */
#include "commands.h"
#include "runtime/container.h"
#include "runtime/confine.h"
#include "runtime/spec.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <seccomp.h>

static int print_json(json_t *j)
{
	char *s = sn_json_dump(j, true);
	if (!s)
		return 1;
	puts(s);
	free(s);
	return 0;
}

int cmd_state(int argc, char **argv)
{
	if (need_args("state", argc, 1, 1, "CONTAINER_ID"))
		return 1;
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *j = NULL;
	if (container_state(g_opts.root, argv[1], &j, &err) < 0)
		return report("state", &err);
	return print_json(j);
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "table";
	bool quiet = false;
	int c;
	while ((c = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'q')
			quiet = true;
		else {
			sn_error("list: unknown option");
			return 1;
		}
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0) {
		sn_error("list: --format `%s`: must be table or json", format);
		return 1;
	}
	struct sn_err err = { 0 };
	_cleanup_json_ json_t *a = NULL;
	if (container_list(g_opts.root, &a, &err) < 0)
		return report("list", &err);
	size_t i;
	json_t *e;
	if (quiet) {
		json_array_foreach(a, i, e)
			puts(json_string_value(json_object_get(e, "id")));
		return 0;
	}
	if (strcmp(format, "json") == 0) {
		char *s = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s ? s : "[]");
		free(s);
		return 0;
	}
	printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
	json_array_foreach(a, i, e)
		printf("%-20s %-8lld %-10s %-40s %-30s %s\n",
		       json_string_value(json_object_get(e, "id")),
		       (long long)json_integer_value(json_object_get(e, "pid")),
		       json_string_value(json_object_get(e, "status")),
		       json_string_value(json_object_get(e, "bundle")),
		       json_string_value(json_object_get(e, "created")),
		       json_string_value(json_object_get(e, "owner")));
	return 0;
}

/* ps: `ps ARGS` filtered to the container's pids, or the pids as JSON. */
int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "table";
	int c;
	while ((c = getopt_long_only(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f') {
			sn_error("ps: unknown option");
			return 1;
		}
		format = optarg;
	}
	if (argc - optind < 1) {
		sn_error("ps: usage: subrun ps [--format table|json] CONTAINER_ID [ps options]");
		return 1;
	}
	const char *id = argv[optind];
	struct sn_err err = { 0 };
	pid_t *pids = NULL;
	size_t n = 0;
	if (container_pids(g_opts.root, id, &pids, &n, &err) < 0)
		return report("ps", &err);
	if (strcmp(format, "json") == 0) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_integer(pids[i]));
		char *s = json_dumps(a, JSON_COMPACT);
		puts(s ? s : "[]");
		free(s);
		json_decref(a);
		free(pids);
		return 0;
	}
	if (strcmp(format, "table") != 0) {
		free(pids);
		sn_error("ps: --format `%s`: must be table or json", format);
		return 1;
	}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(pids);
		sn_err_sys(&err, "pipe");
		return report("ps", &err);
	}
	pid_t child = fork();
	if (child == 0) {
		dup2(pfd[1], 1);
		int extra = argc - optind - 1;
		char **args = calloc((size_t)extra + 2, sizeof(char *));
		args[0] = "ps";
		if (extra == 0)
			args[1] = "-ef";
		for (int i = 0; i < extra; i++)
			args[i + 1] = argv[optind + 1 + i];
		execvp("ps", args);
		_exit(127);
	}
	close(pfd[1]);
	FILE *f = fdopen(pfd[0], "r");
	char *line = NULL;
	size_t cap = 0;
	int pid_col = -1, lineno = 0;
	while (f && getline(&line, &cap, f) > 0) {
		if (lineno++ == 0) {
			/* find the PID column in the header */
			char *save, *tok, *copy = strdup(line);
			int col = 0;
			for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++)
				if (strcmp(tok, "PID") == 0)
					pid_col = col;
			free(copy);
			fputs(line, stdout);
			continue;
		}
		char *save, *copy = strdup(line);
		char *tok = strtok_r(copy, " \t\n", &save);
		for (int col = 0; tok && col < pid_col; col++)
			tok = strtok_r(NULL, " \t\n", &save);
		long p = tok ? atol(tok) : -1;
		free(copy);
		for (size_t i = 0; i < n; i++)
			if (pids[i] == p) {
				fputs(line, stdout);
				break;
			}
	}
	free(line);
	if (f)
		fclose(f);
	int ws;
	waitpid(child, &ws, 0);
	free(pids);
	if (pid_col < 0) {
		sn_error("ps: could not find a PID column in the output of ps");
		return 1;
	}
	return 0;
}

int cmd_spec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bundle = ".";
	bool rootless = false;
	int c;
	while ((c = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'r')
			rootless = true;
		else {
			sn_error("spec: unknown option");
			return 1;
		}
	}
	struct sn_err err = { 0 };
	_cleanup_free_ char *path = sn_path_join(bundle, "config.json");
	if (sn_path_exists(path)) {
		sn_error("spec: `%s` already exists; remove it first", path);
		return 1;
	}
	_cleanup_json_ json_t *j = spec_default_json(rootless);
	_cleanup_free_ char *s = j ? sn_json_dump(j, true) : NULL;
	if (!s) {
		sn_error("spec: out of memory");
		return 1;
	}
	size_t len = strlen(s);
	s[len] = '\n';
	if (sn_write_file(path, s, len + 1, 0644, &err) < 0) {
		s[len] = '\0';
		return report("spec", &err);
	}
	s[len] = '\0';
	return 0;
}

int cmd_features(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	json_t *caps = json_array();
	for (int i = 0; i <= caps_last_cap(); i++)
		if (caps_name(i))
			json_array_append_new(caps, json_string(caps_name(i)));
	json_t *j = json_pack(
		"{s:s, s:s, s:[s,s,s,s,s,s],"
		" s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s],"
		" s:{s:[s,s,s,s,s,s,s,s], s:o,"
		"    s:{s:b, s:b, s:b, s:b, s:b},"
		"    s:{s:b, s:[s,s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s], s:[s,s,s], s:[s,s,s,s]},"
		"    s:{s:b}, s:{s:b}, s:{s:b}},"
		" s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", SUBRUN_SPEC_VERSION,
		"hooks", "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
		"mountOptions", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
		"lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "nolazytime",
		"nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private", "rbind",
		"relatime", "remount", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw",
		"shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync", "tmpcopyup",
		"unbindable",
		"linux",
		"namespaces", "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
		"capabilities", caps,
		"cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0,
		"seccomp", "enabled", 1,
		"actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
		"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
		"operators", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
		"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
		"archs", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
		"knownFlags", "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
		"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
		"apparmor", "enabled", 0, "selinux", "enabled", 0, "intelRdt", "enabled", 0,
		"annotations", "org.subnode.subrun.version", SUBRUN_VERSION);
	if (!j) {
		sn_error("features: could not build the document");
		return 1;
	}
	int r = print_json(j);
	json_decref(j);
	return r;
}
