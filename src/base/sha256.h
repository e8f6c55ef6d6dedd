/* sha256.h — SHA-256 via OpenSSL's EVP interface, streaming and one-shot
 * (sha256.c), with the hex form used in OCI digests ("sha256:<64 hex>");
 * sn_digest_is_valid, a text check, lives in digest.c so that programs
 * which only name blobs need not link OpenSSL. */
#ifndef SN_BASE_SHA256_H
#define SN_BASE_SHA256_H

#include <stddef.h>
#include "base/err.h"

#define SN_SHA256_HEX_LEN 64

struct sn_sha256;  /* opaque streaming context */

int sn_sha256_new(struct sn_sha256 **ctx, struct sn_err *err);
int sn_sha256_update(struct sn_sha256 *ctx, const void *data, size_t len,
		     struct sn_err *err);
/* Writes 64 hex chars + NUL into hex (65 bytes). */
int sn_sha256_final_hex(struct sn_sha256 *ctx, char hex[SN_SHA256_HEX_LEN + 1],
			struct sn_err *err);
void sn_sha256_free(struct sn_sha256 *ctx);
int sn_sha256_hex(const void *data, size_t len, char hex[SN_SHA256_HEX_LEN + 1],
		  struct sn_err *err);
/* Hash a file's whole content. */
int sn_sha256_file_hex(const char *path, char hex[SN_SHA256_HEX_LEN + 1],
		       struct sn_err *err);
/* Is s exactly "sha256:" + 64 lowercase hex? */
int sn_digest_is_valid(const char *s);

#endif
