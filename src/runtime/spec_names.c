/* spec_names.c — name tables of the OCI spec (rlimits, namespaces, seccomp
 * actions) and the default config.json written by `subrun spec`. */
#include "runtime/spec_internal.h"
#include "base/cleanup.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <seccomp.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct { const char *name; int value; } rlimits[] = {
	{ "RLIMIT_AS", RLIMIT_AS },         { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },       { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },   { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },     { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },   { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int spec_rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < SN_ARRAY_SIZE(rlimits); i++)
		if (strcmp(name, rlimits[i].name) == 0)
			return rlimits[i].value;
	return -1;
}

static const struct { const char *name; int flag; } namespaces[] = {
	{ "pid", CLONE_NEWPID },       { "network", CLONE_NEWNET },
	{ "mount", CLONE_NEWNS },      { "ipc", CLONE_NEWIPC },
	{ "uts", CLONE_NEWUTS },       { "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

const char *spec_namespace_name(int flag)
{
	for (size_t i = 0; i < SN_ARRAY_SIZE(namespaces); i++)
		if (namespaces[i].flag == flag)
			return namespaces[i].name;
	return "?";
}

int spec_namespace_from_name(const char *name)
{
	for (size_t i = 0; i < SN_ARRAY_SIZE(namespaces); i++)
		if (strcmp(name, namespaces[i].name) == 0)
			return namespaces[i].flag;
	return 0;
}

int spec_seccomp_action_from_name(const char *name, uint32_t *out)
{
	static const struct { const char *n; uint32_t a; } t[] = {
		{ "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD },
		{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD },
		{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS },
		{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP },
		{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0) },
		{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0) },
		{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW },
		{ "SCMP_ACT_LOG", SCMP_ACT_LOG },
		{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY },
	};
	for (size_t i = 0; i < SN_ARRAY_SIZE(t); i++)
		if (strcmp(name, t[i].n) == 0) {
			*out = t[i].a;
			return 0;
		}
	return -1;
}

/* The same defaults runc writes: sh in a new set of namespaces, the usual
 * mounts, masked and read-only paths, and the default capability set. */
static const char default_config[] =
"{\n"
"  \"ociVersion\": \"1.0.2-dev\",\n"
"  \"process\": {\n"
"    \"terminal\": true,\n"
"    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
"    \"args\": [ \"sh\" ],\n"
"    \"env\": [ \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\" ],\n"
"    \"cwd\": \"/\",\n"
"    \"capabilities\": {\n"
"      \"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
"      \"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
"      \"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]\n"
"    },\n"
"    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
"    \"noNewPrivileges\": true\n"
"  },\n"
"  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
"  \"hostname\": \"subrun\",\n"
"  \"mounts\": [\n"
"    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
"    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
"      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
"    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
"      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\" ] },\n"
"    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
"    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
"    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },\n"
"    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] }\n"
"  ],\n"
"  \"linux\": {\n"
"    \"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] },\n"
"    \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" },\n"
"                    { \"type\": \"uts\" }, { \"type\": \"mount\" } ],\n"
"    \"maskedPaths\": [ \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
"      \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\",\n"
"      \"/sys/firmware\" ],\n"
"    \"readonlyPaths\": [ \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\",\n"
"      \"/proc/sysrq-trigger\", \"/proc/scsi\" ]\n"
"  }\n"
"}\n";

json_t *spec_default_json(bool rootless)
{
	json_t *j = json_loads(default_config, JSON_PRESERVE_ORDER, NULL);
	if (!j)
		return NULL;
	if (rootless) {
		json_t *lx = json_object_get(j, "linux");
		json_array_append_new(json_object_get(lx, "namespaces"), json_pack("{s:s}", "type", "user"));
		json_object_set_new(lx, "uidMappings",
				    json_pack("[{s:i, s:I, s:i}]", "containerID", 0,
					      "hostID", (json_int_t)getuid(), "size", 1));
		json_object_set_new(lx, "gidMappings",
				    json_pack("[{s:i, s:I, s:i}]", "containerID", 0,
					      "hostID", (json_int_t)getgid(), "size", 1));
		json_object_del(lx, "resources");
	}
	return j;
}
