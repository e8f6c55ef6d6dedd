/* sha256.c — see sha256.h. */
#include "base/sha256.h"
#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

struct sn_sha256 {
	EVP_MD_CTX *md;
};

int sn_sha256_new(struct sn_sha256 **out, struct sn_err *err)
{
	struct sn_sha256 *c = calloc(1, sizeof(*c));
	if (!c)
		return sn_err_set(err, ENOMEM, "sha256");
	c->md = EVP_MD_CTX_new();
	if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		sn_sha256_free(c);
		return sn_err_msg(err, EIO, "sha256: EVP_DigestInit_ex failed");
	}
	*out = c;
	return 0;
}

int sn_sha256_update(struct sn_sha256 *c, const void *data, size_t len, struct sn_err *err)
{
	if (EVP_DigestUpdate(c->md, data, len) != 1)
		return sn_err_msg(err, EIO, "sha256: EVP_DigestUpdate failed");
	return 0;
}

int sn_sha256_final_hex(struct sn_sha256 *c, char hex[SN_SHA256_HEX_LEN + 1], struct sn_err *err)
{
	unsigned char d[32];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(c->md, d, &n) != 1 || n != 32)
		return sn_err_msg(err, EIO, "sha256: EVP_DigestFinal_ex failed");
	static const char x[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

void sn_sha256_free(struct sn_sha256 *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

int sn_sha256_hex(const void *data, size_t len, char hex[SN_SHA256_HEX_LEN + 1], struct sn_err *err)
{
	struct sn_sha256 *c;
	int r = sn_sha256_new(&c, err);
	if (r < 0)
		return r;
	r = sn_sha256_update(c, data, len, err);
	if (r == 0)
		r = sn_sha256_final_hex(c, hex, err);
	sn_sha256_free(c);
	return r;
}

int sn_sha256_file_hex(const char *path, char hex[SN_SHA256_HEX_LEN + 1], struct sn_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sn_err_sys(err, "open `%s`", path);
	struct sn_sha256 *c;
	int r = sn_sha256_new(&c, err);
	if (r < 0)
		return r;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = sn_err_sys(err, "read `%s`", path);
			break;
		}
		if (n == 0) {
			r = sn_sha256_final_hex(c, hex, err);
			break;
		}
		r = sn_sha256_update(c, buf, (size_t)n, err);
		if (r < 0)
			break;
	}
	sn_sha256_free(c);
	return r;
}
