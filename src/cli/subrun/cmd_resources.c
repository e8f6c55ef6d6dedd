/* cmd_resources.c — pause, resume and update (runc's flags, or a
 * linux.resources JSON with -r FILE / -r - for stdin). */
#include "commands.h"
#include "runtime/container.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "base/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_pause(int argc, char **argv)
{
	if (need_args("pause", argc, 1, 1, "CONTAINER_ID"))
		return 1;
	struct sn_err err = { 0 };
	if (container_pause(g_opts.root, argv[1], true, &err) < 0)
		return report("pause", &err);
	return 0;
}

int cmd_resume(int argc, char **argv)
{
	if (need_args("resume", argc, 1, 1, "CONTAINER_ID"))
		return 1;
	struct sn_err err = { 0 };
	if (container_pause(g_opts.root, argv[1], false, &err) < 0)
		return report("resume", &err);
	return 0;
}

/* Byte sizes accept k/m/g suffixes like runc ("100m"). */
static int parse_size(const char *s, json_int_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	long long mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1LL << 10; end++; break;
	case 'm': case 'M': mul = 1LL << 20; end++; break;
	case 'g': case 'G': mul = 1LL << 30; end++; break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -1;
	*out = v * mul;
	return 0;
}

int cmd_update(int argc, char **argv)
{
	enum { O_RES = 'r', O_PERIOD = 1000, O_QUOTA, O_SHARE, O_CPUS, O_MEMS, O_MEM, O_MEMRES,
	       O_SWAP, O_PIDS, O_BLKIO, O_KMEM, O_KMEMTCP, O_RTP, O_RTR };
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, O_RES },
		{ "cpu-period", required_argument, NULL, O_PERIOD },
		{ "cpu-quota", required_argument, NULL, O_QUOTA },
		{ "cpu-share", required_argument, NULL, O_SHARE },
		{ "cpu-rt-period", required_argument, NULL, O_RTP },
		{ "cpu-rt-runtime", required_argument, NULL, O_RTR },
		{ "cpuset-cpus", required_argument, NULL, O_CPUS },
		{ "cpuset-mems", required_argument, NULL, O_MEMS },
		{ "memory", required_argument, NULL, O_MEM },
		{ "memory-reservation", required_argument, NULL, O_MEMRES },
		{ "memory-swap", required_argument, NULL, O_SWAP },
		{ "pids-limit", required_argument, NULL, O_PIDS },
		{ "blkio-weight", required_argument, NULL, O_BLKIO },
		{ "kernel-memory", required_argument, NULL, O_KMEM },
		{ "kernel-memory-tcp", required_argument, NULL, O_KMEMTCP },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *res = json_object();
	json_t *cpu = json_object(), *mem = json_object();
	json_object_set_new(res, "cpu", cpu);
	json_object_set_new(res, "memory", mem);
	const char *file = NULL;
	int c;
	json_int_t v;
	while ((c = getopt_long_only(argc, argv, "+r:", opts, NULL)) != -1) {
		const char *key = NULL;
		json_t *into = NULL;
		bool size = false;
		switch (c) {
		case O_RES: file = optarg; continue;
		case O_PERIOD: into = cpu, key = "period"; break;
		case O_QUOTA: into = cpu, key = "quota"; break;
		case O_SHARE: into = cpu, key = "shares"; break;
		case O_RTP: into = cpu, key = "realtimePeriod"; break;
		case O_RTR: into = cpu, key = "realtimeRuntime"; break;
		case O_CPUS: json_object_set_new(cpu, "cpus", json_string(optarg)); continue;
		case O_MEMS: json_object_set_new(cpu, "mems", json_string(optarg)); continue;
		case O_MEM: into = mem, key = "limit", size = true; break;
		case O_MEMRES: into = mem, key = "reservation", size = true; break;
		case O_SWAP: into = mem, key = "swap", size = true; break;
		case O_KMEM: into = mem, key = "kernel", size = true; break;
		case O_KMEMTCP: into = mem, key = "kernelTCP", size = true; break;
		case O_PIDS: into = res, key = "pids"; break;
		case O_BLKIO: into = res, key = "blockIO"; break;
		default:
			sn_error("update: unknown option (see subrun --help)");
			return 1;
		}
		if (size ? parse_size(optarg, &v) < 0 : (v = strtoll(optarg, NULL, 10), 0)) {
			sn_error("update: `%s` is not a size", optarg);
			return 1;
		}
		char *end;
		if (!size && (strtoll(optarg, &end, 10), *end)) {
			sn_error("update: `%s` is not a number", optarg);
			return 1;
		}
		if (into == res && strcmp(key, "pids") == 0)
			json_object_set_new(res, "pids", json_pack("{s:I}", "limit", v));
		else if (into == res)
			json_object_set_new(res, "blockIO", json_pack("{s:I}", "weight", v));
		else
			json_object_set_new(into, key, json_integer(v));
	}
	if (need_args("update", argc, optind, 1, "[options] CONTAINER_ID"))
		return 1;
	struct sn_err err = { 0 };
	if (file) {
		json_decref(res);
		res = NULL;
		int r;
		if (strcmp(file, "-") == 0) {
			r = sn_json_load_file("/dev/stdin", 1 << 20, &res, &err);
		} else {
			r = sn_json_load_file(file, 1 << 20, &res, &err);
		}
		if (r < 0)
			return report("update", &err);
		if (!json_is_object(res)) {
			sn_error("update: %s: must be a JSON object", file);
			return 1;
		}
	}
	struct spec_resources rs;
	if (spec_parse_resources(res, "resources", &rs, &err) < 0)
		return report("update", &err);
	int r = container_update(g_opts.root, argv[optind], &rs, &err);
	spec_resources_free(&rs);
	if (r < 0)
		return report("update", &err);
	return 0;
}
