/* test_volstream.c — unit tests of the volume stream (src/image/volstream.c):
 * a tree exported and imported is the same tree, with the trailer's
 * sha256 and length; a stream cut short, one with a flipped byte, and one
 * without a trailer are refused with EINVAL. Files and pipes only: the
 * file systems and the daemon are node_volumes.bats's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "image/image.h"

struct scratch {
	char dir[64];
	char *src, *dst, *stream;
};

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/sn-unit-vol-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	s->src = sn_path_join(s->dir, "src");
	s->dst = sn_path_join(s->dir, "dst");
	s->stream = sn_path_join(s->dir, "stream");
	struct sn_err e = { 0 };
	assert_int_equal(sn_mkdir_p(s->src, 0755, &e), 0);
	assert_int_equal(mkdir(s->dst, 0755), 0);
	_cleanup_free_ char *sub = sn_path_join(s->src, "a/b");
	assert_int_equal(sn_mkdir_p(sub, 0755, &e), 0);
	_cleanup_free_ char *f = sn_path_join(s->src, "a/b/data");
	char big[200000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	assert_int_equal(sn_write_file(f, big, sizeof(big), 0640, &e), 0);
	_cleanup_free_ char *l = sn_path_join(s->src, "a/link");
	assert_int_equal(symlink("b/data", l), 0);
	_cleanup_free_ char *h = sn_path_join(s->src, "a/hard");
	assert_int_equal(link(f, h), 0);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scratch *s = *state;
	struct sn_err e = { 0 };
	sn_rm_rf(s->dir, &e);
	free(s->src);
	free(s->dst);
	free(s->stream);
	free(s);
	return 0;
}

static void export_to_file(struct scratch *s)
{
	int fd = open(s->stream, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	struct sn_err e = { 0 };
	assert_int_equal(image_volume_export(s->src, fd, &e), 0);
	close(fd);
}

static int import_from_file(struct scratch *s, char digest[IMAGE_DIGEST_SIZE], struct sn_err *e)
{
	int fd = open(s->stream, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int r = image_volume_import(fd, s->dst, digest, e);
	close(fd);
	return r;
}

static void export_then_import_gives_the_same_tree_and_the_trailers_digest(void **state)
{
	struct scratch *s = *state;
	export_to_file(s);
	_cleanup_free_ char *txt = NULL;
	size_t len = 0;
	struct sn_err e = { 0 };
	assert_int_equal(sn_read_file(s->stream, 64 << 20, &txt, &len, &e), 0);
	assert_true(len > 512 && len % 512 == 0);
	assert_memory_equal(txt + len - 512, "SUBNODE-VOLUME-STREAM 1\nsha256:", 31);
	char hex[SN_SHA256_HEX_LEN + 1];
	assert_int_equal(sn_sha256_hex(txt, len - 512, hex, &e), 0);
	assert_memory_equal(txt + len - 512 + 31, hex, SN_SHA256_HEX_LEN);

	char digest[IMAGE_DIGEST_SIZE];
	assert_int_equal(import_from_file(s, digest, &e), 0);
	assert_string_equal(digest + 7, hex);
	_cleanup_free_ char *a = sn_path_join(s->src, "a/b/data"), *b = sn_path_join(s->dst, "a/b/data");
	char ha[SN_SHA256_HEX_LEN + 1], hb[SN_SHA256_HEX_LEN + 1];
	assert_int_equal(sn_sha256_file_hex(a, ha, &e), 0);
	assert_int_equal(sn_sha256_file_hex(b, hb, &e), 0);
	assert_string_equal(ha, hb);
	struct stat st;
	assert_int_equal(stat(b, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_nlink, 2);   /* the hardlink stayed one file */
	_cleanup_free_ char *l = sn_path_join(s->dst, "a/link");
	char tgt[64] = "";
	assert_true(readlink(l, tgt, sizeof(tgt) - 1) > 0);
	assert_string_equal(tgt, "b/data");
}

static void change_stream(struct scratch *s, long cut, long flip)
{
	_cleanup_free_ char *txt = NULL;
	size_t len = 0;
	struct sn_err e = { 0 };
	assert_int_equal(sn_read_file(s->stream, 64 << 20, &txt, &len, &e), 0);
	if (flip >= 0)
		txt[flip] ^= 0x01;
	assert_int_equal(sn_write_file(s->stream, txt, cut >= 0 ? (size_t)cut : len, 0600, &e), 0);
}

static off_t stream_size(struct scratch *s)
{
	struct stat st;
	assert_int_equal(stat(s->stream, &st), 0);
	return st.st_size;
}

static void refuses_a_truncated_stream(void **state)
{
	struct scratch *s = *state;
	export_to_file(s);
	change_stream(s, (long)stream_size(s) - 1000, -1);
	char digest[IMAGE_DIGEST_SIZE];
	struct sn_err e = { 0 };
	assert_int_equal(import_from_file(s, digest, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "truncated"));
}

static void refuses_a_stream_with_one_byte_flipped(void **state)
{
	struct scratch *s = *state;
	export_to_file(s);
	change_stream(s, -1, (long)stream_size(s) / 2);   /* inside the file's data */
	char digest[IMAGE_DIGEST_SIZE];
	struct sn_err e = { 0 };
	assert_int_equal(import_from_file(s, digest, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "corrupt"));
}

static void refuses_a_plain_tar_without_trailer(void **state)
{
	struct scratch *s = *state;
	export_to_file(s);
	change_stream(s, (long)stream_size(s) - 512, -1);   /* a whole tar, no trailer */
	char digest[IMAGE_DIGEST_SIZE];
	struct sn_err e = { 0 };
	assert_int_equal(import_from_file(s, digest, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(export_then_import_gives_the_same_tree_and_the_trailers_digest,
						setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_a_truncated_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_a_stream_with_one_byte_flipped, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_a_plain_tar_without_trailer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
