/* docker_create.c — Docker's whole create body, mapped onto the node's.
 *
 * Docker's clients (the docker CLI, docker-py, the Go SDK) send every field
 * of ContainerConfig, HostConfig and NetworkingConfig, most at their zero
 * value. The node's own validator (src/node/validate.c) takes a small,
 * strict subset and refuses any other key. This file sits in front of it:
 * it walks the body key by key against Docker's field list (API 1.24 to
 * 1.51), and for each field either
 *
 *  - passes it on (Image, Cmd, Env, Binds, RestartPolicy, ...: what the
 *    node does; validate.c checks the values);
 *  - drops it whatever its value, when it changes nothing a subnode is
 *    (ExposedPorts: documentation; StdinOnce, ConsoleSize, ContainerIDFile:
 *    the client's business);
 *  - drops it when it holds its default (null, false, 0, "", empty, or
 *    the field's own default such as MemorySwappiness -1), and refuses it
 *    otherwise with 400 naming the field and why subnode does not do it
 *    (Privileged, Devices, PidMode=host, ...);
 *  - turns it into the node's vocabulary: NanoCpus and Memory (`--cpus`,
 *    `--memory`) become the smallest size whose slice holds them, or a
 *    refusal saying which size would; the label `io.subnode.size` is the
 *    size; CapAdd may only name capabilities a subnode has anyway.
 *
 * A key that is in none of Docker's lists is refused as before ("unknown
 * field"), so a typo never passes silently. The native body (with `Size`,
 * `PortSlot`, `PortAllow`) is a subset and goes through unchanged.
 * docs/API.md, "Docker clients", lists what is taken and refused.
 */
#include "docker.h"
#include "node/node.h"
#include "base/cleanup.h"
#include "base/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum how {
	PASS,      /* the node does it: copied, validate.c checks it */
	IGNORE,    /* changes nothing a subnode is: dropped */
	DEFAULT,   /* dropped at its default, else refused with why */
	SPECIAL,   /* mapped by code below */
};

struct field {
	const char *name;
	enum how how;
	const char *why;     /* DEFAULT: the reason for a refusal */
	const char *dflt;    /* DEFAULT: a default besides the zero value (JSON);
			      * "{}": only null or an empty object, where the
			      * keys are what is asked ({"/data": {}}) */
};

#define RES "resources come from the subnode's size (the label io.subnode.size, or --cpus/--memory rounded up to a size)"
#define NS "a subnode has namespaces of its own; it does not share the host's or another container's"
#define DEV "host devices are not passed into subnodes"

static const struct field config_fields[] = {
	{ "Image", PASS, NULL, NULL }, { "Cmd", PASS, NULL, NULL }, { "Entrypoint", PASS, NULL, NULL },
	{ "Env", PASS, NULL, NULL }, { "WorkingDir", PASS, NULL, NULL }, { "User", PASS, NULL, NULL },
	{ "Hostname", PASS, NULL, NULL }, { "StopSignal", PASS, NULL, NULL },
	{ "StopTimeout", PASS, NULL, NULL }, { "Tty", PASS, NULL, NULL }, { "OpenStdin", PASS, NULL, NULL },
	{ "AttachStdin", PASS, NULL, NULL }, { "AttachStdout", PASS, NULL, NULL },
	{ "AttachStderr", PASS, NULL, NULL }, { "Healthcheck", PASS, NULL, NULL },
	{ "Size", PASS, NULL, NULL },
	{ "Labels", SPECIAL, NULL, NULL }, { "HostConfig", SPECIAL, NULL, NULL },
	{ "NetworkingConfig", SPECIAL, NULL, NULL },
	{ "StdinOnce", IGNORE, NULL, NULL }, { "ExposedPorts", IGNORE, NULL, NULL },
	{ "OnBuild", IGNORE, NULL, NULL }, { "ArgsEscaped", IGNORE, NULL, NULL },
	{ "Shell", IGNORE, NULL, NULL },
	{ "Domainname", DEFAULT, "subnode sets no NIS domain name", NULL },
	{ "Volumes", DEFAULT, "anonymous volumes are not made: name the volume (-v NAME:/path)", "{}" },
	{ "MacAddress", DEFAULT, "a subnode's address is the node's to give", NULL },
	{ "NetworkDisabled", DEFAULT, "use HostConfig.NetworkMode none", NULL },
	{ NULL, PASS, NULL, NULL },
};

static const struct field host_fields[] = {
	{ "Binds", PASS, NULL, NULL }, { "Mounts", PASS, NULL, NULL }, { "AutoRemove", PASS, NULL, NULL },
	{ "PortBindings", PASS, NULL, NULL }, { "PortSlot", PASS, NULL, NULL },
	{ "PortAllow", PASS, NULL, NULL },
	{ "RestartPolicy", SPECIAL, NULL, NULL }, { "NetworkMode", SPECIAL, NULL, NULL },
	{ "NanoCpus", SPECIAL, NULL, NULL }, { "Memory", SPECIAL, NULL, NULL },
	{ "CapAdd", SPECIAL, NULL, NULL }, { "Runtime", SPECIAL, NULL, NULL },
	{ "LogConfig", SPECIAL, NULL, NULL },
	{ "ConsoleSize", IGNORE, NULL, NULL }, { "ContainerIDFile", IGNORE, NULL, NULL },
	{ "Privileged", DEFAULT, "a subnode never runs privileged: it has its slice's capabilities "
	  "and the node's seccomp profile", NULL },
	{ "CapDrop", DEFAULT, "subnode does not change a subnode's capabilities", NULL },
	{ "Capabilities", DEFAULT, "subnode does not change a subnode's capabilities", NULL },
	{ "SecurityOpt", DEFAULT, "the node's seccomp profile and confinement apply to every subnode", NULL },
	{ "Devices", DEFAULT, DEV, NULL }, { "DeviceCgroupRules", DEFAULT, DEV, NULL },
	{ "DeviceRequests", DEFAULT, DEV, NULL },
	{ "PidMode", DEFAULT, NS, NULL }, { "IpcMode", DEFAULT, NS, "\"private\"" },
	{ "UTSMode", DEFAULT, NS, NULL }, { "UsernsMode", DEFAULT, NS, NULL },
	{ "CgroupnsMode", DEFAULT, NS, "\"private\"" },
	{ "Cgroup", DEFAULT, "the node places each subnode in a cgroup of its own", NULL },
	{ "CgroupParent", DEFAULT, "the node places each subnode under its cgroup parent", NULL },
	{ "Isolation", DEFAULT, "Linux containers have one isolation", "\"default\"" },
	{ "CpuShares", DEFAULT, RES, NULL }, { "CpuPeriod", DEFAULT, RES, NULL },
	{ "CpuQuota", DEFAULT, RES, NULL }, { "CpuRealtimePeriod", DEFAULT, RES, NULL },
	{ "CpuRealtimeRuntime", DEFAULT, RES, NULL }, { "CpusetCpus", DEFAULT, RES, NULL },
	{ "CpusetMems", DEFAULT, RES, NULL }, { "CpuCount", DEFAULT, RES, NULL },
	{ "CpuPercent", DEFAULT, RES, NULL }, { "MemoryReservation", DEFAULT, RES, NULL },
	{ "MemorySwap", DEFAULT, RES, NULL }, { "MemorySwappiness", DEFAULT, RES, "-1" },
	{ "KernelMemory", DEFAULT, RES, NULL }, { "KernelMemoryTCP", DEFAULT, RES, NULL },
	{ "OomKillDisable", DEFAULT, RES, NULL }, { "PidsLimit", DEFAULT, RES, "-1" },
	{ "BlkioWeight", DEFAULT, RES, NULL }, { "BlkioWeightDevice", DEFAULT, RES, NULL },
	{ "BlkioDeviceReadBps", DEFAULT, RES, NULL }, { "BlkioDeviceWriteBps", DEFAULT, RES, NULL },
	{ "BlkioDeviceReadIOps", DEFAULT, RES, NULL }, { "BlkioDeviceWriteIOps", DEFAULT, RES, NULL },
	{ "IOMaximumIOps", DEFAULT, RES, NULL }, { "IOMaximumBandwidth", DEFAULT, RES, NULL },
	{ "Ulimits", DEFAULT, RES, NULL }, { "StorageOpt", DEFAULT, RES, NULL },
	{ "ShmSize", DEFAULT, "/dev/shm is the runtime's default", NULL },
	{ "OomScoreAdj", DEFAULT, "the node sets every subnode's OOM score", NULL },
	{ "Dns", DEFAULT, "DNS settings come from the image", NULL },
	{ "DnsOptions", DEFAULT, "DNS settings come from the image", NULL },
	{ "DnsSearch", DEFAULT, "DNS settings come from the image", NULL },
	{ "ExtraHosts", DEFAULT, "/etc/hosts comes from the image", NULL },
	{ "GroupAdd", DEFAULT, "supplementary groups come from the image's /etc/group", NULL },
	{ "Links", DEFAULT, "legacy links: not supported (use NetworkMode container:NAME or published ports)", NULL },
	{ "VolumesFrom", DEFAULT, "name the volumes instead (-v NAME:/path)", NULL },
	{ "VolumeDriver", DEFAULT, "volumes are the node's own (driver local)", "\"local\"" },
	{ "PublishAllPorts", DEFAULT, "publish ports by PortBindings (-p) or PortSlot", NULL },
	{ "ReadonlyRootfs", DEFAULT, "not supported: a subnode's root is a writable overlay", NULL },
	{ "Sysctls", DEFAULT, "the node's sysctls apply", NULL },
	{ "Tmpfs", DEFAULT, "tmpfs mounts are not made: use a volume", NULL },
	{ "Init", DEFAULT, "no init process is injected", NULL },
	{ "MaskedPaths", DEFAULT, "the node's masked paths apply", NULL },
	{ "ReadonlyPaths", DEFAULT, "the node's read-only paths apply", NULL },
	{ "Annotations", DEFAULT, "not supported", NULL },
	{ NULL, PASS, NULL, NULL },
};

/* Docker's default capabilities: what every subnode has (image/bundle.c). */
static const char *const subnode_caps[] = {
	"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
	"SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
};

/* The zero value of any JSON type, recursively (an object or array of zero
 * values is one: ConsoleSize [0,0], LogConfig {"Type":"","Config":{}}). */
static bool is_zero(json_t *v)
{
	size_t i;
	const char *k;
	json_t *x;
	switch (json_typeof(v)) {
	case JSON_NULL: case JSON_FALSE: return true;
	case JSON_TRUE: return false;
	case JSON_INTEGER: return json_integer_value(v) == 0;
	case JSON_REAL: return json_real_value(v) == 0;
	case JSON_STRING: return json_string_length(v) == 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, x)
			if (!is_zero(x))
				return false;
		return true;
	case JSON_OBJECT:
		json_object_foreach(v, k, x)
			if (!is_zero(x))
				return false;
		return true;
	}
	return false;
}

static bool is_default(const struct field *f, json_t *v)
{
	if (f->dflt && strcmp(f->dflt, "{}") == 0)
		return json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0);
	if (is_zero(v))
		return true;
	if (!f->dflt)
		return false;
	_cleanup_json_ json_t *d = json_loads(f->dflt, JSON_DECODE_ANY, NULL);
	return d && json_equal(d, v);
}

static const struct field *field_find(const struct field *t, const char *name)
{
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

/* One level of the body: PASS into out, IGNORE and defaults dropped,
 * refusals named; SPECIAL left for the caller. */
static int walk(json_t *in, const char *path, const struct field *table, json_t *out,
		struct sn_err *e)
{
	const char *k;
	json_t *v;
	json_object_foreach(in, k, v) {
		const struct field *f = field_find(table, k);
		if (!f)
			return sn_err_msg(e, EINVAL, "%s: unknown field `%s`", *path ? path : "(body)", k);
		if (f->how == PASS && json_object_set(out, k, v) < 0)
			return sn_err_set(e, ENOMEM, "create body");
		if (f->how == DEFAULT && !is_default(f, v))
			return sn_err_msg(e, EINVAL, "%s%s%s: not supported: %s", path, *path ? "." : "", k,
					  f->why);
	}
	return 0;
}

static int cap_add(json_t *hc, struct sn_err *e)
{
	json_t *caps = json_object_get(hc, "CapAdd"), *c;
	size_t i;
	if (!caps || json_is_null(caps))
		return 0;
	if (!json_is_array(caps))
		return sn_err_msg(e, EINVAL, "HostConfig.CapAdd: must be an array of strings");
	json_array_foreach(caps, i, c) {
		const char *s = json_string_value(c);
		if (!s)
			return sn_err_msg(e, EINVAL, "HostConfig.CapAdd[%zu]: must be a string", i);
		const char *bare = strncasecmp(s, "CAP_", 4) == 0 ? s + 4 : s;
		bool ok = false;
		for (size_t j = 0; j < SN_ARRAY_SIZE(subnode_caps) && !ok; j++)
			ok = strcasecmp(bare, subnode_caps[j]) == 0;
		if (!ok)
			return sn_err_msg(e, EINVAL, "HostConfig.CapAdd[%zu]: not supported: `%s` is not among "
					  "the capabilities a subnode has (Docker's default set); nothing "
					  "beyond them is granted", i, s);
	}
	return 0;
}

/* Runtime: the node runs every subnode with its own runtime. */
static int runtime(struct node *n, json_t *hc, struct sn_err *e)
{
	const char *rt = json_string_value(json_object_get(hc, "Runtime"));
	if (!rt || !*rt || strcmp(rt, "runc") == 0 || strcmp(rt, n->cfg.runtime) == 0)
		return 0;
	const char *base = strrchr(n->cfg.runtime, '/');
	if (strcmp(rt, base ? base + 1 : n->cfg.runtime) == 0)
		return 0;
	return sn_err_msg(e, EINVAL, "HostConfig.Runtime: not supported: this node runs every subnode "
			  "with %s", n->cfg.runtime);
}

/* LogConfig: the supervisor keeps every subnode's log (rotated, NODE.md);
 * json-file and local are what that is. */
static int log_config(json_t *hc, struct sn_err *e)
{
	json_t *lc = json_object_get(hc, "LogConfig");
	if (!lc || is_zero(lc))
		return 0;
	const char *t = json_string_value(json_object_get(lc, "Type"));
	if (t && (!*t || strcmp(t, "json-file") == 0 || strcmp(t, "local") == 0) &&
	    is_zero(json_object_get(lc, "Config")))
		return 0;
	return sn_err_msg(e, EINVAL, "HostConfig.LogConfig: not supported: the node keeps each "
			  "subnode's log itself (json-file or local, without options)");
}

static int restart_policy(json_t *hc, json_t *out, struct sn_err *e)
{
	json_t *rp = json_object_get(hc, "RestartPolicy");
	if (!rp || json_is_null(rp))
		return 0;
	const char *name = json_string_value(json_object_get(rp, "Name"));
	if (json_is_object(rp) && name && !*name)   /* Docker's zero value: no */
		return 0;
	return json_object_set(out, "RestartPolicy", rp) < 0 ? sn_err_set(e, ENOMEM, "create body") : 0;
}

/* NetworkingConfig: endpoint settings at their zero value only; the
 * network is HostConfig.NetworkMode. */
static int networking(json_t *body, struct sn_err *e)
{
	json_t *nc = json_object_get(body, "NetworkingConfig");
	if (!nc || is_zero(nc))
		return 0;
	if (!json_is_object(nc))
		return sn_err_msg(e, EINVAL, "NetworkingConfig: must be an object");
	const char *k;
	json_t *v;
	json_object_foreach(nc, k, v) {
		if (strcmp(k, "EndpointsConfig") != 0)
			return sn_err_msg(e, EINVAL, "NetworkingConfig: unknown field `%s`", k);
		const char *net;
		json_t *ep;
		json_object_foreach(v, net, ep)
			if (!is_zero(ep))
				return sn_err_msg(e, EINVAL, "NetworkingConfig.EndpointsConfig.%s: not supported: "
						  "endpoint settings (addresses, aliases, links); the "
						  "network is HostConfig.NetworkMode", net);
	}
	return 0;
}

static void human_bytes(uint64_t b, char *buf, size_t n)
{
	if (b >= (1ull << 30))
		snprintf(buf, n, "%.1f GiB", (double)b / (double)(1ull << 30));
	else
		snprintf(buf, n, "%.0f MiB", ceil((double)b / (double)(1ull << 20)));
}

/* The units a size needs to hold cpus (nano) and mem (bytes). */
static unsigned units_for(const struct node *n, int64_t nano, int64_t mem)
{
	double u = 0;
	if (nano > 0 && n->slices.unit_cpus > 0)
		u = ceil((double)nano / 1e9 / n->slices.unit_cpus - 1e-9);
	if (mem > 0 && n->slices.unit_memory > 0) {
		double m = ceil((double)mem / (double)n->slices.unit_memory - 1e-9);
		if (m > u)
			u = m;
	}
	return u > 1e6 ? 1000000u : (unsigned)u;
}

static void size_str(const struct node *n, const struct node_size *s, char *buf, size_t len)
{
	char mem[32];
	human_bytes((uint64_t)s->units * n->slices.unit_memory, mem, sizeof(mem));
	snprintf(buf, len, "%s: %.2f CPUs, %s", s->name, s->units * n->slices.unit_cpus, mem);
}

/* The size: Size, else the label io.subnode.size; NanoCpus/Memory pick the
 * smallest that holds them, or check that the one named does. */
static int size(struct node *n, json_t *body, json_t *hc, json_t *out, struct sn_err *e)
{
	const char *named = json_string_value(json_object_get(body, "Size"));
	if (!named || !*named)
		named = json_string_value(json_object_get(json_object_get(body, "Labels"), DOCKER_SIZE_LABEL));
	json_t *jn = json_object_get(hc, "NanoCpus"), *jm = json_object_get(hc, "Memory");
	if ((jn && !json_is_null(jn) && !json_is_integer(jn)) || (jm && !json_is_null(jm) && !json_is_integer(jm)))
		return sn_err_msg(e, EINVAL, "HostConfig.%s: must be an integer",
				  jn && !json_is_integer(jn) && !json_is_null(jn) ? "NanoCpus" : "Memory");
	int64_t nano = json_integer_value(jn), mem = json_integer_value(jm);
	if (nano < 0 || mem < 0)
		return sn_err_msg(e, EINVAL, "HostConfig.%s: must not be negative", nano < 0 ? "NanoCpus" : "Memory");
	const char *what = nano > 0 ? "HostConfig.NanoCpus" : "HostConfig.Memory";
	char want[96], have[96];
	char mb[32];
	human_bytes((uint64_t)mem, mb, sizeof(mb));
	if (nano > 0 && mem > 0)
		snprintf(want, sizeof(want), "%.2f CPUs and %s", (double)nano / 1e9, mb);
	else if (nano > 0)
		snprintf(want, sizeof(want), "%.2f CPUs", (double)nano / 1e9);
	else
		snprintf(want, sizeof(want), "%s", mb);
	unsigned need = units_for(n, nano, mem);
	const struct node_size *best = NULL, *largest = NULL;
	for (unsigned i = 0; i < n->cfg.n_sizes; i++) {
		const struct node_size *s = &n->cfg.sizes[i];
		if (!largest || s->units > largest->units)
			largest = s;
		if (s->units >= need && (!best || s->units < best->units))
			best = s;
	}
	if (named && *named) {
		const struct node_size *s = node_config_size(&n->cfg, named);
		if (s && need && s->units < need) {
			size_str(n, s, have, sizeof(have));
			char fit[96] = "none on this node";
			if (best)
				size_str(n, best, fit, sizeof(fit));
			return sn_err_msg(e, EINVAL, "%s: %s is more than size %s gives; the smallest "
					  "size that holds it is %s", what, want, have, fit);
		}
		return json_object_set_new(out, "Size", json_string(named)) < 0 ?
		       sn_err_set(e, ENOMEM, "create body") : 0;
	}
	if (!need)
		return 0;
	if (!best) {
		size_str(n, largest, have, sizeof(have));
		return sn_err_msg(e, EINVAL, "%s: %s is more than the largest size on this node (%s)",
				  what, want, have);
	}
	return json_object_set_new(out, "Size", json_string(best->name)) < 0 ?
	       sn_err_set(e, ENOMEM, "create body") : 0;
}

static int host_config(struct node *n, json_t *body, json_t *out, struct sn_err *e)
{
	json_t *hc = json_object_get(body, "HostConfig");
	if (!hc || json_is_null(hc))
		return size(n, body, NULL, out, e);
	if (!json_is_object(hc))
		return sn_err_msg(e, EINVAL, "HostConfig: must be an object");
	_cleanup_json_ json_t *h = json_object();
	int r = walk(hc, "HostConfig", host_fields, h, e);
	if (r < 0 || (r = cap_add(hc, e)) < 0 || (r = runtime(n, hc, e)) < 0 ||
	    (r = log_config(hc, e)) < 0 || (r = restart_policy(hc, h, e)) < 0 ||
	    (r = size(n, body, hc, out, e)) < 0)
		return r;
	json_t *nm = json_object_get(hc, "NetworkMode");
	const char *mode = json_string_value(nm);
	if (nm && !json_is_null(nm) && !(mode && (!*mode || strcmp(mode, "default") == 0)))
		json_object_set(h, "NetworkMode", nm);   /* "default": the node's network_default */
	if (json_object_size(h) && json_object_set(out, "HostConfig", h) < 0)
		return sn_err_set(e, ENOMEM, "create body");
	return 0;
}

int docker_create_body(struct node *n, json_t *body, json_t **out, struct sn_err *e)
{
	if (!json_is_object(body))
		return sn_err_msg(e, EINVAL, "request body: must be a JSON object");
	_cleanup_json_ json_t *o = json_object();
	int r = walk(body, "", config_fields, o, e);
	if (r < 0 || (r = networking(body, e)) < 0 || (r = host_config(n, body, o, e)) < 0)
		return r;
	json_t *labels = json_object_get(body, "Labels");
	if (labels && !json_is_null(labels) && !(json_is_object(labels) && json_object_size(labels) == 0) &&
	    json_object_set(o, "Labels", labels) < 0)
		return sn_err_set(e, ENOMEM, "create body");
	*out = steal_ptr(o);
	return 0;
}
