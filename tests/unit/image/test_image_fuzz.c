/* test_image_fuzz.c — regression tests for the image layer's parsers of
 * registry input, next to their fuzz targets (tests/fuzz/fuzz_auth.c,
 * fuzz_manifest.c, fuzz_unpack.c): what a target's check caught, or what
 * writing it showed, kept here as a plain test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/registry_internal.h"
#include "base/fs.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

/* One ustar header block: a directory `name`. */
static void ustar_dir(unsigned char *b, const char *name)
{
	memset(b, 0, 512);
	snprintf((char *)b, 100, "%s", name);
	snprintf((char *)b + 100, 8, "%07o", 0755);
	snprintf((char *)b + 108, 8, "%07o", 0);
	snprintf((char *)b + 116, 8, "%07o", 0);
	snprintf((char *)b + 124, 12, "%011o", 0);
	snprintf((char *)b + 136, 12, "%011o", 0);
	b[156] = '5';
	memcpy(b + 257, "ustar", 6);
	memcpy(b + 263, "00", 2);
	memset(b + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

/* A corrupt header after a good entry: the message names the last good
 * entry, whose name libarchive had freed when the next header failed
 * (heap-use-after-free; found by fuzz_unpack). */
static void corrupt_header_after_an_entry_names_that_entry(void **state)
{
	unsigned char tar[512 * 4] = { 0 };
	ustar_dir(tar, "good-dir");
	memset(tar + 512, 'x', 512); /* a header with a bad checksum */
	int fd = memfd_create("layer", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, tar, sizeof(tar)), sizeof(tar));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	char dir[] = "/tmp/sn-unit-image-fuzz-XXXXXX";
	assert_non_null(mkdtemp(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	struct sn_err err = { 0 };
	int r = image_unpack_layer_fd(fd, dfd, IMAGE_UNPACK_FLAT, NULL, "layer", &err);
	close(dfd);
	close(fd);
	struct sn_err rmerr = { 0 };
	assert_int_equal(sn_rm_rf(dir, &rmerr), 0);
	assert_int_equal(r, -EINVAL);
	if (!strstr(err.msg, "layer: corrupt or truncated tar (after entry `good-dir`)"))
		fail_msg("message: %s", err.msg);
}

/* A realm longer than the parser's old 2 KiB buffer was cut there, and the
 * rest of it was read as further parameters (here a scope). */
static void challenge_keeps_a_long_realm_whole(void **state)
{
	size_t n = 3000;
	char *realm = malloc(n + 1);
	assert_non_null(realm);
	memset(realm, 'a', n);
	memcpy(realm, "https://auth.test/", 18);
	memcpy(realm + 2100, ",scope=x", 8);
	realm[n] = '\0';
	char *h = NULL;
	assert_true(asprintf(&h, "Bearer realm=\"%s\",service=\"reg\"", realm) > 0);
	struct auth_challenge c;
	assert_int_equal(auth_parse_challenge(h, &c), 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, realm);
	assert_string_equal(c.service, "reg");
	assert_null(c.scope);
	auth_challenge_free(&c);
	free(h);
	free(realm);
}

static void challenge_unescapes_quoted_values(void **state)
{
	struct auth_challenge c;
	assert_int_equal(auth_parse_challenge("Bearer realm=\"a\\\"b\\\\c\",scope=\"x,y=z\"", &c), 0);
	assert_string_equal(c.realm, "a\"b\\c");
	assert_string_equal(c.scope, "x,y=z");
	assert_null(c.service);
	auth_challenge_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(challenge_keeps_a_long_realm_whole),
		cmocka_unit_test(challenge_unescapes_quoted_values),
		cmocka_unit_test(corrupt_header_after_an_entry_names_that_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
