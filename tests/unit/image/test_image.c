/* test_image.c — unit tests of the image layer: references, path checks,
 * the blob store (digest checks, nothing partial left), the index, auth
 * challenge parsing, and image config → OCI spec. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"
#include "image/image.h"
#include "image/internal.h"
#include "image/registry_internal.h"

static char *mkscratch(void)
{
	char tmpl[] = "/tmp/sn-unit-img-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void rmscratch(char *d)
{
	struct sn_err e = { 0 };
	sn_rm_rf(d, &e);
	free(d);
}

static int count_dir(const char *root, const char *sub)
{
	_cleanup_free_ char *p = sn_path_join(root, sub);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void ref_parse_normalises_like_docker(void **state)
{
	struct sn_err e = { 0 };
	struct image_ref r;
	assert_int_equal(image_ref_parse("busybox", &r, &e), 0);
	_cleanup_free_ char *s1 = image_ref_string(&r);
	assert_string_equal(s1, "docker.io/library/busybox:latest");
	image_ref_free(&r);
	assert_int_equal(image_ref_parse("127.0.0.1:5000/chain/node:v1", &r, &e), 0);
	assert_string_equal(r.registry, "127.0.0.1:5000");
	assert_string_equal(r.repository, "chain/node");
	assert_string_equal(r.tag, "v1");
	image_ref_free(&r);
	assert_int_equal(image_ref_parse("localhost/x@sha256:"
					 "0000000000000000000000000000000000000000000000000000000000000000",
					 &r, &e), 0);
	assert_null(r.tag);
	assert_non_null(r.digest);
	image_ref_free(&r);
}

static void ref_parse_refuses_bad_names(void **state)
{
	struct sn_err e = { 0 };
	struct image_ref r;
	assert_int_equal(image_ref_parse("Upper/Case", &r, &e), -EINVAL);
	assert_int_equal(image_ref_parse("x:bad tag", &r, &e), -EINVAL);
	assert_int_equal(image_ref_parse("x@sha256:nothex", &r, &e), -EINVAL);
	assert_int_equal(image_ref_parse("", &r, &e), -EINVAL);
}

static void path_check_refuses_absolute_and_dotdot(void **state)
{
	char out[256];
	assert_int_equal(unpack_check_path("./a//b/./c", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(unpack_check_path("/etc/passwd", out, sizeof(out)), -EPERM);
	assert_int_equal(unpack_check_path("../x", out, sizeof(out)), -EXDEV);
	assert_int_equal(unpack_check_path("a/../../x", out, sizeof(out)), -EXDEV);
	assert_int_equal(unpack_check_path("a/..", out, sizeof(out)), -EXDEV);
	assert_int_equal(unpack_check_path("./", out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void blob_put_verifies_digest_and_leaves_nothing_on_mismatch(void **state)
{
	char *d = mkscratch();
	struct sn_err e = { 0 };
	struct image_store *s = NULL;
	assert_int_equal(image_store_open(d, &s, &e), 0);
	char dg[IMAGE_DIGEST_SIZE];
	assert_int_equal(image_store_put_blob(s, "hello", 5, NULL, dg, &e), 0);
	assert_string_equal(dg, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	assert_true(image_store_has_blob(s, dg));
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(image_store_read_blob(s, dg, 100, &buf, &len, &e), 0);
	assert_int_equal(len, 5);
	free(buf);
	assert_int_equal(image_store_read_blob(s, dg, 2, &buf, &len, &e), -EFBIG);
	/* wrong content for a digest */
	int r = image_store_put_blob(s, "hellO", 5, dg, NULL, &e);
	assert_int_equal(r, -EBADMSG);
	assert_non_null(strstr(e.msg, "digest mismatch"));
	assert_int_equal(count_dir(d, "blobs/sha256"), 1);
	assert_int_equal(count_dir(d, "tmp"), 0);
	image_store_close(s);
	rmscratch(d);
}

static void open_sweeps_temp_files_of_crashed_processes(void **state)
{
	char *d = mkscratch();
	struct sn_err e = { 0 };
	struct image_store *s = NULL;
	assert_int_equal(image_store_open(d, &s, &e), 0);
	image_store_close(s);
	_cleanup_free_ char *junk = sn_path_join(d, "tmp/blob-crashed");
	assert_int_equal(sn_write_file(junk, "x", 1, 0600, &e), 0);
	assert_int_equal(image_store_open(d, &s, &e), 0);
	assert_false(sn_path_exists(junk));
	image_store_close(s);
	rmscratch(d);
}

/* A whole tiny image: one layer (an empty tar), config, manifest. */
static void put_tiny_image(struct image_store *s, char mdigest[IMAGE_DIGEST_SIZE])
{
	struct sn_err e = { 0 };
	static char tar[1024];
	memset(tar, 0, sizeof(tar));
	char ldg[IMAGE_DIGEST_SIZE], cdg[IMAGE_DIGEST_SIZE];
	assert_int_equal(image_store_put_blob(s, tar, sizeof(tar), NULL, ldg, &e), 0);
	char cfg[512];
	snprintf(cfg, sizeof(cfg),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", ldg);
	assert_int_equal(image_store_put_blob(s, cfg, strlen(cfg), NULL, cdg, &e), 0);
	char man[1024];
	snprintf(man, sizeof(man),
		 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		 "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
		 "\"size\":%zu}]}", IMAGE_MT_OCI_MANIFEST, IMAGE_MT_OCI_CONFIG, cdg, strlen(cfg),
		 IMAGE_MT_OCI_LAYER, ldg, sizeof(tar));
	assert_int_equal(image_store_put_blob(s, man, strlen(man), NULL, mdigest, &e), 0);
}

static void index_add_resolve_remove_and_gc(void **state)
{
	char *d = mkscratch();
	struct sn_err e = { 0 };
	struct image_store *s = NULL;
	assert_int_equal(image_store_open(d, &s, &e), 0);
	char md[IMAGE_DIGEST_SIZE], got[IMAGE_DIGEST_SIZE];
	put_tiny_image(s, md);
	assert_int_equal(image_index_add(s, "chain/node:v1", md, &e), 0);
	assert_int_equal(image_index_add(s, "chain/node:v2", md, &e), 0);
	assert_int_equal(image_index_resolve(s, "docker.io/chain/node:v1", got, &e), 0);
	assert_string_equal(got, md);
	char prefix[20];
	snprintf(prefix, sizeof(prefix), "%.12s", md + 7);
	assert_int_equal(image_index_resolve(s, prefix, got, &e), 0);
	unsigned refs = 0;
	assert_int_equal(image_index_blob_refcount(s, md, &refs, &e), 0);
	assert_int_equal(refs, 1);
	struct image *img = NULL;
	assert_int_equal(image_load(s, "chain/node:v2", &img, &e), 0);
	assert_int_equal(img->n_layers, 1);
	image_free(img);
	assert_int_equal(image_index_remove(s, "chain/node:v1", &e), 0);
	assert_int_equal(image_index_resolve(s, "chain/node:v1", got, &e), -ENOENT);
	struct image_gc_stats st;
	assert_int_equal(image_gc(s, &st, &e), 0);
	assert_int_equal(st.blobs_removed, 0); /* v2 still holds it */
	assert_int_equal(image_index_remove(s, "chain/node:v2", &e), 0);
	assert_int_equal(image_gc(s, &st, &e), 0);
	assert_int_equal(st.blobs_removed, 3);
	assert_int_equal(count_dir(d, "blobs/sha256"), 0);
	image_store_close(s);
	rmscratch(d);
}

static void index_add_refuses_image_with_missing_layer(void **state)
{
	char *d = mkscratch();
	struct sn_err e = { 0 };
	struct image_store *s = NULL;
	assert_int_equal(image_store_open(d, &s, &e), 0);
	char md[IMAGE_DIGEST_SIZE];
	put_tiny_image(s, md);
	struct image *img = NULL;
	assert_int_equal(image_from_manifest(s, md, &img, &e), 0);
	_cleanup_free_ char *lp = image_store_blob_path(s, img->layers[0].digest);
	image_free(img);
	assert_int_equal(unlink(lp), 0);
	assert_int_equal(image_index_add(s, "x:y", md, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "not in the store"));
	image_store_close(s);
	rmscratch(d);
}

static void auth_challenge_parses_bearer_and_basic(void **state)
{
	struct auth_challenge c;
	assert_int_equal(auth_parse_challenge(
		"Bearer realm=\"http://127.0.0.1:9/token\",service=\"reg\",scope=\"repository:a/b:pull\"", &c), 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "http://127.0.0.1:9/token");
	assert_string_equal(c.service, "reg");
	assert_string_equal(c.scope, "repository:a/b:pull");
	auth_challenge_free(&c);
	assert_int_equal(auth_parse_challenge("Basic realm=\"test\"", &c), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_null(c.service);
	auth_challenge_free(&c);
	_cleanup_free_ char *h = auth_basic_header("alice", "pw");
	assert_string_equal(h, "Authorization: Basic YWxpY2U6cHc=");
}

static void config_to_spec_maps_entrypoint_cmd_env_user(void **state)
{
	char *d = mkscratch();
	struct sn_err e = { 0 };
	_cleanup_free_ char *etc = sn_path_join(d, "etc");
	_cleanup_free_ char *pw = sn_path_join(d, "etc/passwd");
	_cleanup_free_ char *gr = sn_path_join(d, "etc/group");
	assert_int_equal(sn_mkdir_p(etc, 0755, &e), 0);
	const char *passwd = "root:x:0:0::/root:/bin/sh\nnode:x:1001:1002::/home:/bin/sh\n";
	const char *group = "root:x:0:\nnode:x:1002:\nops:x:20:node,other\n";
	assert_int_equal(sn_write_file(pw, passwd, strlen(passwd), 0644, &e), 0);
	assert_int_equal(sn_write_file(gr, group, strlen(group), 0644, &e), 0);
	json_t *cfg = json_loads("{\"config\":{\"Entrypoint\":[\"/node\"],\"Cmd\":[\"--help\"],"
				 "\"Env\":[\"A=1\",\"PATH=/x\"],\"User\":\"node\",\"WorkingDir\":\"w\","
				 "\"ExposedPorts\":{\"30303/tcp\":{}},\"Labels\":{\"l\":\"v\"}}}", 0, NULL);
	assert_non_null(cfg);
	json_t *spec = NULL;
	char *env[] = { "A=2", NULL };
	struct image_bundle_opts o = { .env = env };
	assert_int_equal(image_config_to_spec(cfg, d, &o, &spec, &e), 0);
	_cleanup_free_ char *args = sn_json_dump(json_object_get(json_object_get(spec, "process"), "args"), false);
	assert_string_equal(args, "[\"/node\",\"--help\"]");
	_cleanup_free_ char *envs = sn_json_dump(json_object_get(json_object_get(spec, "process"), "env"), false);
	assert_string_equal(envs, "[\"A=2\",\"PATH=/x\"]");
	_cleanup_free_ char *user = sn_json_dump(json_object_get(json_object_get(spec, "process"), "user"), false);
	assert_string_equal(user, "{\"uid\":1001,\"gid\":1002,\"additionalGids\":[20]}");
	assert_string_equal(json_string_value(json_object_get(json_object_get(spec, "process"), "cwd")), "/w");
	assert_string_equal(json_string_value(json_object_get(json_object_get(spec, "annotations"),
		"org.opencontainers.image.exposedPorts")), "30303/tcp");
	json_decref(spec);
	/* a command replaces Cmd, keeps Entrypoint */
	char *args2[] = { "run", NULL };
	struct image_bundle_opts o2 = { .args = args2, .user = "5:6" };
	assert_int_equal(image_config_to_spec(cfg, d, &o2, &spec, &e), 0);
	_cleanup_free_ char *a2 = sn_json_dump(json_object_get(json_object_get(spec, "process"), "args"), false);
	assert_string_equal(a2, "[\"/node\",\"run\"]");
	json_decref(spec);
	struct image_bundle_opts o3 = { .user = "ghost" };
	assert_int_equal(image_config_to_spec(cfg, d, &o3, &spec, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "ghost"));
	json_decref(cfg);
	rmscratch(d);
}

static void passwd_symlink_to_host_file_stays_inside_rootfs(void **state)
{
	char *d = mkscratch();
	struct sn_err e = { 0 };
	_cleanup_free_ char *etc = sn_path_join(d, "etc");
	_cleanup_free_ char *pw = sn_path_join(d, "etc/passwd");
	assert_int_equal(sn_mkdir_p(etc, 0755, &e), 0);
	/* /etc/passwd -> /etc/passwd of the host: must resolve inside d (loop) */
	assert_int_equal(symlink("/etc/passwd", pw), 0);
	json_t *cfg = json_loads("{\"config\":{\"Cmd\":[\"x\"],\"User\":\"root\"}}", 0, NULL);
	json_t *spec = NULL;
	int r = image_config_to_spec(cfg, d, NULL, &spec, &e);
	/* The link is resolved inside d, where it points at itself: a loop,
	 * named, and the host's root entry was never read. */
	assert_int_equal(r, -ELOOP);
	assert_string_equal(e.msg, "open `etc/passwd` in the image: Too many levels of symbolic links");
	assert_null(spec);
	json_decref(cfg);
	rmscratch(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ref_parse_normalises_like_docker),
		cmocka_unit_test(ref_parse_refuses_bad_names),
		cmocka_unit_test(path_check_refuses_absolute_and_dotdot),
		cmocka_unit_test(blob_put_verifies_digest_and_leaves_nothing_on_mismatch),
		cmocka_unit_test(open_sweeps_temp_files_of_crashed_processes),
		cmocka_unit_test(index_add_resolve_remove_and_gc),
		cmocka_unit_test(index_add_refuses_image_with_missing_layer),
		cmocka_unit_test(auth_challenge_parses_bearer_and_basic),
		cmocka_unit_test(config_to_spec_maps_entrypoint_cmd_env_user),
		cmocka_unit_test(passwd_symlink_to_host_file_stays_inside_rootfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
