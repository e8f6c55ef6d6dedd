/* parse.c — see parse.h. strtoull alone takes "  -1" (as 2^64-1), "1e3"
 * (as 1) and "0x10" (as 0) depending on the base; each parser here looks
 * at the first character itself and wants the whole string consumed, so
 * the number used is the number sent. Linked into the supervisor too
 * (libc only). */
#include "base/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sn_parse_u64(const char *s, unsigned long long *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int sn_parse_i64(const char *s, long long *out)
{
	if (!s || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return -EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int sn_parse_port(const char *s, uint16_t *out)
{
	unsigned long long v;
	if (sn_parse_u64(s, &v) < 0 || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int sn_parse_inet_target(const char *s, struct sockaddr_in *a, const char **path)
{
	if (strncmp(s, "http://", 7) == 0)
		s += 7;
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
	char host[INET_ADDRSTRLEN] = "127.0.0.1", port[8];
	const char *p = s;
	if (colon && (!slash || colon < slash)) {
		if ((size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		p = colon + 1;
	}
	size_t pl = slash ? (size_t)(slash - p) : strlen(p);
	if (pl == 0 || pl >= sizeof(port))
		return -EINVAL;
	memcpy(port, p, pl);
	port[pl] = '\0';
	uint16_t n;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	if (sn_parse_port(port, &n) < 0 || inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -EINVAL;
	a->sin_port = htons(n);
	*path = slash ? slash : "/";
	return 0;
}
