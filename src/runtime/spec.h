/* spec.h — the OCI runtime spec (config.json) as C structs.
 *
 * spec_load() parses and validates a bundle's config.json in one pass; every
 * other runtime module reads these structs and never the JSON. Validation
 * errors name the field: `process.rlimits[1].type: unknown rlimit
 * "RLIMIT_FOO"`. Optional numbers use SPEC_UNSET; optional strings NULL;
 * counts go with every array. The JSON document is kept (spec->json) so it
 * can be handed to hooks and saved in the state directory verbatim.
 *
 * Parsed enums are the kernel's or libseccomp's own values (CLONE_NEW*,
 * MS_*, RLIMIT_*, SCMP_ACT_*, SCMP_CMP_*, SCMP_ARCH_*), so a consumer needs
 * no second mapping table.
 */
#ifndef SN_RUNTIME_SPEC_H
#define SN_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "base/err.h"

#define SPEC_UNSET INT64_MIN
#define SPEC_MAX_CONFIG_SIZE (16u << 20)

struct spec_id_map {
	uint32_t container_id, host_id, size;
};

/* ---------------------------------------------------------------- mounts */
struct spec_mount {
	char *destination;       /* absolute inside the container */
	char *type;              /* may be NULL (bind) */
	char *source;            /* may be NULL */
	char **options;          /* raw, as given */
	size_t n_options;
	/* derived from options: */
	unsigned long flags;     /* MS_* to set (MS_BIND|MS_REC for rbind, MS_RDONLY, ...) */
	unsigned long clear;     /* MS_* explicitly cleared ("rw", "suid", "dev", "exec", ...) */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, |MS_REC; 0 = none */
	char *data;              /* remaining fs-specific options joined by ',', or NULL */
	bool bind;               /* flags & MS_BIND */
	bool tmpcopyup;          /* "tmpcopyup" extension */
	struct spec_id_map *uid_mappings, *gid_mappings; /* idmapped mounts */
	size_t n_uid_mappings, n_gid_mappings;
	/* recursive options ("rro", "rnosuid", ...): MOUNT_ATTR_* for
	 * mount_setattr(AT_RECURSIVE) on the whole tree of the mount */
	unsigned int rec_attr_set, rec_attr_clr;
};

/* ---------------------------------------------------------------- process */
struct spec_rlimit {
	int type;                /* RLIMIT_* */
	char *name;              /* "RLIMIT_NOFILE" */
	uint64_t hard, soft;
};

struct spec_caps {
	/* bit n = capability n; "present" says whether the set was given */
	uint64_t bounding, effective, inheritable, permitted, ambient;
	bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
};

struct spec_user {
	uid_t uid;
	gid_t gid;
	int64_t umask;           /* SPEC_UNSET if absent */
	gid_t *additional_gids;
	size_t n_additional_gids;
	char *username;          /* Windows only; kept for completeness */
};

struct spec_process {
	bool terminal;
	uint32_t console_height, console_width; /* 0 = not given */
	struct spec_user user;
	char **args;             /* NULL-terminated, n_args > 0 */
	size_t n_args;
	char **env;              /* NULL-terminated */
	size_t n_env;
	char *cwd;               /* absolute */
	struct spec_caps caps;
	bool has_caps;
	struct spec_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	char *selinux_label;
	int64_t oom_score_adj;   /* SPEC_UNSET if absent; else -1000..1000 */
	uint64_t io_priority_class_set; /* reserved */
};

/* ---------------------------------------------------------------- hooks */
struct spec_hook {
	char *path;              /* absolute */
	char **args;             /* NULL-terminated or NULL */
	size_t n_args;
	char **env;
	size_t n_env;
	int64_t timeout;         /* seconds, > 0; SPEC_UNSET if absent */
};

enum spec_hook_kind {
	SPEC_HOOK_PRESTART = 0,
	SPEC_HOOK_CREATE_RUNTIME,
	SPEC_HOOK_CREATE_CONTAINER,
	SPEC_HOOK_START_CONTAINER,
	SPEC_HOOK_POSTSTART,
	SPEC_HOOK_POSTSTOP,
	SPEC_HOOK_KINDS
};

struct spec_hooks {
	struct spec_hook *list[SPEC_HOOK_KINDS];
	size_t n[SPEC_HOOK_KINDS];
};

/* ---------------------------------------------------------------- linux */
struct spec_namespace {
	int type;                /* CLONE_NEWPID, CLONE_NEWNS, ..., CLONE_NEWTIME */
	char *path;              /* join this one if set */
};

struct spec_device {          /* linux.devices: nodes to create in /dev */
	char type;               /* 'c', 'u', 'b', 'p' */
	char *path;
	int64_t major, minor;
	int64_t file_mode;       /* SPEC_UNSET = 0666 */
	int64_t uid, gid;        /* SPEC_UNSET = 0 */
};

struct spec_device_rule {     /* linux.resources.devices */
	bool allow;
	char type;               /* 'a', 'c', 'b' */
	int64_t major, minor;    /* -1 = wildcard */
	char access[4];          /* subset of "rwm" */
};

struct spec_weight_device {
	int64_t major, minor;
	int64_t weight, leaf_weight; /* SPEC_UNSET if absent */
};

struct spec_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct spec_hugepage_limit {
	char *page_size;         /* "2MB" */
	uint64_t limit;
};

struct spec_net_priority {
	char *name;
	uint32_t priority;
};

struct spec_unified_kv {
	char *key, *value;
};

struct spec_memory {
	int64_t limit, reservation, swap, kernel, kernel_tcp; /* SPEC_UNSET if absent; -1 = unlimited */
	int64_t swappiness;      /* 0..100 */
	bool disable_oom_killer, has_disable_oom_killer;
	bool use_hierarchy, has_use_hierarchy;
	bool check_before_update;
};

struct spec_cpu {
	int64_t shares, quota, period, realtime_runtime, realtime_period, burst, idle;
	char *cpus, *mems;
};

struct spec_blockio {
	int64_t weight, leaf_weight;
	struct spec_weight_device *weight_devices;
	size_t n_weight_devices;
	struct spec_throttle_device *throttle_read_bps, *throttle_write_bps,
		*throttle_read_iops, *throttle_write_iops;
	size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
		n_throttle_write_iops;
};

struct spec_resources {
	struct spec_device_rule *devices;
	size_t n_devices;
	struct spec_memory memory;
	struct spec_cpu cpu;
	int64_t pids_limit;      /* SPEC_UNSET; -1 or 0 = unlimited */
	struct spec_blockio blockio;
	bool has_blockio;
	struct spec_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	int64_t net_class_id;
	struct spec_net_priority *net_priorities;
	size_t n_net_priorities;
	struct spec_unified_kv *unified;
	size_t n_unified;
};

struct spec_seccomp_arg {
	unsigned int index;      /* 0..5 */
	uint64_t value, value_two;
	int op;                  /* SCMP_CMP_* */
};

struct spec_seccomp_rule {
	char **names;
	size_t n_names;
	uint32_t action;         /* SCMP_ACT_* base; ERRNO/TRACE without value */
	int64_t errno_ret;       /* SPEC_UNSET = EPERM for ERRNO, 0 for TRACE */
	struct spec_seccomp_arg *args;
	size_t n_args;
};

struct spec_seccomp {
	uint32_t default_action;
	int64_t default_errno_ret;
	uint32_t *architectures; /* SCMP_ARCH_* */
	size_t n_architectures;
	char **flags;            /* SECCOMP_FILTER_FLAG_* names */
	size_t n_flags;
	char *listener_path;
	char *listener_metadata;
	struct spec_seccomp_rule *syscalls;
	size_t n_syscalls;
};

struct spec_sysctl {
	char *key, *value;
};

struct spec_time_offset {
	int clock;               /* CLOCK_MONOTONIC or CLOCK_BOOTTIME */
	int64_t secs;
	uint32_t nanosecs;
};

struct spec_personality {
	char *domain;            /* "LINUX" or "LINUX32" */
	bool set;
};

struct spec_linux {
	struct spec_namespace *namespaces;
	size_t n_namespaces;
	struct spec_id_map *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct spec_device *devices;
	size_t n_devices;
	char *cgroups_path;      /* NULL if absent */
	struct spec_resources resources;
	bool has_resources;
	struct spec_sysctl *sysctl;
	size_t n_sysctl;
	struct spec_seccomp *seccomp; /* NULL if absent */
	unsigned long rootfs_propagation; /* MS_* or 0 */
	char **masked_paths;
	size_t n_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	char *mount_label;
	struct spec_time_offset *time_offsets;
	size_t n_time_offsets;
	struct spec_personality personality;
};

/* ---------------------------------------------------------------- root */
struct spec {
	char *oci_version;
	char *root_path;         /* as given (may be relative to the bundle) */
	bool root_readonly;
	char *hostname, *domainname;
	struct spec_mount *mounts;
	size_t n_mounts;
	struct spec_process *process; /* NULL allowed only where the spec allows */
	struct spec_hooks hooks;
	struct spec_linux linux_;
	json_t *annotations;     /* borrowed from json, may be NULL */
	json_t *json;            /* the whole document (owned) */
};

/* Parse and validate. `what` names the source in messages (the path). */
int spec_parse(json_t *doc, const char *what, struct spec **out, struct sn_err *err);
/* Read <bundle>/config.json and parse it. */
int spec_load(const char *bundle, struct spec **out, struct sn_err *err);
/* Parse a process object alone (exec --process). */
int spec_parse_process(json_t *obj, const char *path, struct spec_process **out,
		       struct sn_err *err);
/* Parse linux.resources alone (update -r). On failure *out holds nothing to free. */
int spec_parse_resources(json_t *obj, const char *path, struct spec_resources *out,
			 struct sn_err *err);
void spec_free(struct spec *s);
void spec_process_free(struct spec_process *p);
void spec_resources_free(struct spec_resources *r);
/* Look up a namespace by type; NULL when not in the spec. */
const struct spec_namespace *spec_find_namespace(const struct spec *s, int type);
/* The default config of `subrun spec` (runc-compatible shape). */
json_t *spec_default_json(bool rootless);
/* Name <-> value tables shared with the CLI and other modules. */
int spec_rlimit_from_name(const char *name);
const char *spec_namespace_name(int clone_flag);  /* "pid", "mount", ... */
int spec_namespace_from_name(const char *name);   /* 0 if unknown */

#endif
