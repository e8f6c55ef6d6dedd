/* digest.c — the textual check of OCI digests ("sha256:" + 64 lowercase
 * hex). Kept apart from sha256.c so that a program which only names blobs
 * (the node daemon) does not link OpenSSL for it. Declared in sha256.h. */
#include <string.h>
#include "base/sha256.h"

int sn_digest_is_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0)
		return 0;
	s += 7;
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == SN_SHA256_HEX_LEN;
}
