/* test_spec.c — config.json parsing and validation: the default config
 * parses; every kind of bad input is refused with a message naming the
 * field; mount options, capabilities, rlimits, seccomp land in the structs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <seccomp.h>

#include "runtime/spec.h"
#include "base/json.h"

static json_t *base_doc(void)
{
	return spec_default_json(false);
}

/* Parse doc (consumed), expect failure with exactly msg (or a substring). */
static void expect_refused(json_t *doc, const char *msg)
{
	struct spec *s = NULL;
	struct sn_err e = { 0 };
	int r = spec_parse(doc, "config.json", &s, &e);
	json_decref(doc);
	if (r == 0)
		spec_free(s);
	assert_int_equal(r, -EINVAL);
	if (!strstr(e.msg, msg))
		fail_msg("message `%s` does not contain `%s`", e.msg, msg);
}

static struct spec *parse_ok(json_t *doc)
{
	struct spec *s = NULL;
	struct sn_err e = { 0 };
	int r = spec_parse(doc, "config.json", &s, &e);
	json_decref(doc);
	if (r != 0)
		fail_msg("parse failed: %s", e.msg);
	return s;
}

static void default_config_parses(void **state)
{
	struct spec *s = parse_ok(base_doc());
	assert_string_equal(s->process->args[0], "sh");
	assert_string_equal(s->process->cwd, "/");
	assert_true(s->process->no_new_privileges);
	assert_true(s->process->has_caps);
	assert_true(s->process->caps.bounding & (1ULL << 5)); /* CAP_KILL */
	assert_int_equal(s->process->n_rlimits, 1);
	assert_int_equal(s->process->rlimits[0].type, RLIMIT_NOFILE);
	assert_non_null(spec_find_namespace(s, CLONE_NEWPID));
	assert_null(spec_find_namespace(s, CLONE_NEWUSER));
	assert_int_equal(s->linux_.resources.pids_limit, SPEC_UNSET);
	assert_int_equal(s->linux_.n_masked_paths, 9);
	spec_free(s);
}

static void refuses_unknown_rlimit_naming_the_field(void **state)
{
	json_t *d = base_doc();
	json_array_append_new(json_object_get(json_object_get(d, "process"), "rlimits"),
			      json_pack("{s:s,s:i,s:i}", "type", "RLIMIT_FOO", "hard", 1, "soft", 1));
	expect_refused(d, "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");
}

static void refuses_rlimit_soft_above_hard(void **state)
{
	json_t *d = base_doc();
	json_t *rl = json_array_get(json_object_get(json_object_get(d, "process"), "rlimits"), 0);
	json_object_set_new(rl, "soft", json_integer(2048));
	expect_refused(d, "process.rlimits[0]: soft limit 2048 is above hard limit 1024");
}

/* runc and crun leave an unknown capability out; the spec says it MUST
 * cause an error, and so it does here. */
static void refuses_unknown_capability(void **state)
{
	json_t *d = base_doc();
	json_t *caps = json_object_get(json_object_get(d, "process"), "capabilities");
	json_object_set_new(caps, "effective", json_pack("[s,s]", "CAP_KILL", "CAP_TEST"));
	expect_refused(d, "process.capabilities.effective[1]: unknown capability \"CAP_TEST\"");
}

/* "rro" and friends become mount_setattr attributes, not filesystem data */
static void recursive_mount_options_become_mount_attrs(void **state)
{
	json_t *d = base_doc();
	json_array_append_new(json_object_get(d, "mounts"),
			      json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", "/mnt", "type", "bind",
					"source", "/tmp", "options", "rbind", "rro", "rnosuid", "rsuid", "rnoatime"));
	struct spec *s = parse_ok(d);
	const struct spec_mount *m = &s->mounts[s->n_mounts - 1];
	assert_int_equal(m->rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME);
	assert_int_equal(m->rec_attr_clr, MOUNT_ATTR_NOSUID | MOUNT_ATTR__ATIME);
	assert_null(m->data);
	spec_free(s);
}

static void refuses_relative_cwd_and_empty_args(void **state)
{
	json_t *d = base_doc();
	json_object_set_new(json_object_get(d, "process"), "cwd", json_string("tmp"));
	expect_refused(d, "process.cwd: `tmp` must be an absolute path");
	d = base_doc();
	json_object_set_new(json_object_get(d, "process"), "args", json_array());
	expect_refused(d, "process.args: required and must not be empty");
}

static void refuses_wrong_types(void **state)
{
	json_t *d = base_doc();
	json_object_set_new(json_object_get(d, "process"), "terminal", json_string("yes"));
	expect_refused(d, "process.terminal: must be true or false");
	d = base_doc();
	json_object_set_new(d, "mounts", json_string("x"));
	expect_refused(d, "mounts: must be an array");
	d = base_doc();
	json_object_del(d, "ociVersion");
	expect_refused(d, "ociVersion: required");
}

static void oci_version_must_be_a_1x_semver(void **state)
{
	const char *good[] = { "1.0.0", "1.0.2-dev", "1.1.0-rc.1", "1.2.0+dev", "1.0.0-rc2-dev",
			       "1.10.3-a.b+c.d" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *d = base_doc();
		json_object_set_new(d, "ociVersion", json_string(good[i]));
		spec_free(parse_ok(d));
	}
	const char *bad[] = { "invalid", "1.0", "2.0.0", "0.9.0", "1.0.0-", "1.0.0+", "1.01.0",
			      "1.0.0-a..b", "1.0.0 ", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *d = base_doc();
		json_object_set_new(d, "ociVersion", json_string(bad[i]));
		char want[64];
		snprintf(want, sizeof(want), "ociVersion: `%s` is not a 1.x SemVer version", bad[i]);
		expect_refused(d, want);
	}
}

static void refuses_unknown_namespace_and_duplicates(void **state)
{
	json_t *d = base_doc();
	json_array_append_new(json_object_get(json_object_get(d, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "foo"));
	expect_refused(d, "linux.namespaces[5].type: unknown namespace \"foo\"");
	d = base_doc();
	json_array_append_new(json_object_get(json_object_get(d, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "pid"));
	expect_refused(d, "namespace \"pid\" given twice");
}

static void refuses_hostname_without_uts_namespace(void **state)
{
	json_t *d = base_doc();
	json_t *ns = json_object_get(json_object_get(d, "linux"), "namespaces");
	json_array_remove(ns, 3); /* uts */
	expect_refused(d, "hostname: needs a new uts namespace");
}

/* base_doc with sysctl {key: "1"} and without the namespace of type
 * drop (NULL: all kept). */
static json_t *doc_with_sysctl(const char *key, const char *drop)
{
	json_t *d = base_doc();
	json_t *lx = json_object_get(d, "linux");
	json_t *ns = json_object_get(lx, "namespaces");
	for (size_t i = 0; drop && i < json_array_size(ns); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(ns, i), "type")), drop) == 0)
			json_array_remove(ns, i--);
	json_object_set_new(lx, "sysctl", json_pack("{s:s}", key, "1"));
	return d;
}

static void sysctls_only_in_a_namespace_of_the_containers_own(void **state)
{
	json_t *d;
	expect_refused(doc_with_sysctl("net.ipv4.ip_forward", "network"),
		       "linux.sysctl.net.ipv4.ip_forward: needs a network namespace");
	expect_refused(doc_with_sysctl("kernel.shmmax", "ipc"),
		       "linux.sysctl.kernel.shmmax: needs an ipc namespace");
	expect_refused(doc_with_sysctl("fs.mqueue.msg_max", "ipc"), "needs an ipc namespace");
	d = doc_with_sysctl("kernel.domainname", "uts");
	json_object_del(d, "hostname");
	expect_refused(d, "needs a uts namespace");
	expect_refused(doc_with_sysctl("kernel.panic", NULL),
		       "linux.sysctl.kernel.panic: not a namespaced sysctl");
	expect_refused(doc_with_sysctl("vm.swappiness", NULL), "not a namespaced sysctl");
	expect_refused(doc_with_sysctl("kernel.hostname", NULL), "conflicts with the `hostname` field");
	/* joining the runtime's own network namespace is joining the host's */
	d = doc_with_sysctl("net.ipv4.ip_forward", "network");
	json_array_append_new(json_object_get(json_object_get(d, "linux"), "namespaces"),
			      json_pack("{s:s, s:s}", "type", "network", "path", "/proc/self/ns/net"));
	expect_refused(d, "needs a network namespace");

	static const char *const ok[] = { "net.ipv4.ip_forward", "kernel.shmmax", "kernel.sem",
					  "fs.mqueue.msg_max", "kernel.domainname" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		spec_free(parse_ok(doc_with_sysctl(ok[i], NULL)));
}

static void refuses_user_namespace_without_mappings(void **state)
{
	json_t *d = base_doc();
	json_array_append_new(json_object_get(json_object_get(d, "linux"), "namespaces"),
			      json_pack("{s:s}", "type", "user"));
	expect_refused(d, "a new user namespace needs both");
}

static void mount_options_become_flags(void **state)
{
	json_t *d = base_doc();
	json_array_append_new(json_object_get(d, "mounts"),
			      json_pack("{s:s,s:s,s:[s,s,s,s,s,s]}", "destination", "/data",
					"source", "/tmp", "options", "rbind", "ro", "nosuid",
					"rslave", "exec", "size=10"));
	struct spec *s = parse_ok(d);
	struct spec_mount *m = &s->mounts[s->n_mounts - 1];
	assert_true(m->bind);
	assert_int_equal(m->flags & (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID),
			 MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID);
	assert_true(m->clear & MS_NOEXEC);
	assert_int_equal(m->propagation, MS_SLAVE | MS_REC);
	assert_string_equal(m->data, "size=10");
	/* the default /dev mount keeps mode= and size= as data */
	assert_string_equal(s->mounts[1].data, "mode=755,size=65536k");
	spec_free(s);
}

static void refuses_bind_mount_without_source_and_dotdot_destination(void **state)
{
	json_t *d = base_doc();
	json_array_append_new(json_object_get(d, "mounts"),
			      json_pack("{s:s,s:[s]}", "destination", "/x", "options", "bind"));
	expect_refused(d, "mounts[7].source: required for a bind mount");
	d = base_doc();
	json_array_append_new(json_object_get(d, "mounts"),
			      json_pack("{s:s,s:s,s:s}", "destination", "/a/../../etc", "type", "tmpfs",
					"source", "tmpfs"));
	expect_refused(d, "must not contain `..`");
}

static void uint64_max_rlimit_is_unlimited(void **state)
{
	const char *doc =
		"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
		"\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_CORE\","
		"\"hard\":18446744073709551615,\"soft\":18446744073709551615}]}}";
	json_t *j = NULL;
	struct sn_err e = { 0 };
	assert_int_equal(sn_json_loadb(doc, strlen(doc), "t", &j, &e), 0);
	struct spec *s = parse_ok(j);
	assert_true(s->process->rlimits[0].hard == UINT64_MAX);
	spec_free(s);
}

static void seccomp_profile_parses_and_bad_action_is_refused(void **state)
{
	json_t *d = base_doc();
	json_object_set_new(json_object_get(d, "linux"), "seccomp",
		json_pack("{s:s,s:[s],s:[{s:[s,s],s:s,s:i,s:[{s:i,s:i,s:s}]}]}",
			  "defaultAction", "SCMP_ACT_ALLOW", "architectures", "SCMP_ARCH_X86",
			  "syscalls", "names", "mkdir", "mkdirat", "action", "SCMP_ACT_ERRNO",
			  "errnoRet", 18, "args", "index", 1, "value", 0, "op", "SCMP_CMP_GE"));
	struct spec *s = parse_ok(d);
	struct spec_seccomp *sc = s->linux_.seccomp;
	assert_non_null(sc);
	assert_int_equal(sc->default_action, SCMP_ACT_ALLOW);
	assert_int_equal(sc->architectures[0], SCMP_ARCH_X86);
	assert_int_equal(sc->syscalls[0].action, SCMP_ACT_ERRNO(0));
	assert_int_equal(sc->syscalls[0].errno_ret, 18);
	assert_int_equal(sc->syscalls[0].args[0].op, SCMP_CMP_GE);
	spec_free(s);

	d = base_doc();
	json_object_set_new(json_object_get(d, "linux"), "seccomp",
			    json_pack("{s:s}", "defaultAction", "SCMP_ACT_FOO"));
	expect_refused(d, "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"");
}

static void resources_parse_and_bad_device_rule_is_refused(void **state)
{
	json_t *d = base_doc();
	json_t *res = json_object_get(json_object_get(d, "linux"), "resources");
	json_object_set_new(res, "memory", json_pack("{s:I,s:I}", "limit", (json_int_t)104857600,
						    "swap", (json_int_t)209715200));
	json_object_set_new(res, "pids", json_pack("{s:i}", "limit", 64));
	json_object_set_new(res, "cpu", json_pack("{s:i,s:i,s:s}", "shares", 512, "quota", 50000, "cpus", "0"));
	struct spec *s = parse_ok(d);
	assert_int_equal(s->linux_.resources.memory.limit, 104857600);
	assert_int_equal(s->linux_.resources.pids_limit, 64);
	assert_int_equal(s->linux_.resources.cpu.shares, 512);
	assert_int_equal(s->linux_.resources.cpu.period, SPEC_UNSET);
	assert_string_equal(s->linux_.resources.cpu.cpus, "0");
	assert_false(s->linux_.resources.devices[0].allow);
	assert_int_equal(s->linux_.resources.devices[0].major, -1);
	spec_free(s);

	d = base_doc();
	res = json_object_get(json_object_get(d, "linux"), "resources");
	json_array_append_new(json_object_get(res, "devices"),
			      json_pack("{s:b,s:s,s:s}", "allow", 1, "type", "c", "access", "rwx"));
	expect_refused(d, "linux.resources.devices[1].access: \"rwx\" is not a subset of rwm");
}

static void invalid_json_names_file_line_column(void **state)
{
	json_t *j = NULL;
	struct sn_err e = { 0 };
	const char *doc = "{\"ociVersion\": \"1.0\",\n \"root\": }";
	assert_int_equal(sn_json_loadb(doc, strlen(doc), "/b/config.json", &j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "/b/config.json: invalid JSON at line 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_config_parses),
		cmocka_unit_test(refuses_unknown_rlimit_naming_the_field),
		cmocka_unit_test(refuses_rlimit_soft_above_hard),
		cmocka_unit_test(refuses_unknown_capability),
		cmocka_unit_test(recursive_mount_options_become_mount_attrs),
		cmocka_unit_test(refuses_relative_cwd_and_empty_args),
		cmocka_unit_test(refuses_wrong_types),
		cmocka_unit_test(oci_version_must_be_a_1x_semver),
		cmocka_unit_test(refuses_unknown_namespace_and_duplicates),
		cmocka_unit_test(refuses_hostname_without_uts_namespace),
		cmocka_unit_test(refuses_user_namespace_without_mappings),
		cmocka_unit_test(mount_options_become_flags),
		cmocka_unit_test(refuses_bind_mount_without_source_and_dotdot_destination),
		cmocka_unit_test(uint64_max_rlimit_is_unlimited),
		cmocka_unit_test(seccomp_profile_parses_and_bad_action_is_refused),
		cmocka_unit_test(resources_parse_and_bad_device_rule_is_refused),
		cmocka_unit_test(invalid_json_names_file_line_column),
		cmocka_unit_test(sysctls_only_in_a_namespace_of_the_containers_own),
	};
	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
