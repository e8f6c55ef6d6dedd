/* parse.h — exact parsing of the numbers and addresses that come from
 * outside (config files, API requests, command lines): the whole string
 * or nothing, no sign where none belongs, no overflow, no exponent or hex
 * (see parse.c). */
#ifndef SN_BASE_PARSE_H
#define SN_BASE_PARSE_H

#include <netinet/in.h>
#include <stdint.h>

/* An unsigned decimal, digits only (no sign, no space), fitting 64 bits:
 * -EINVAL malformed, -ERANGE too big. */
int sn_parse_u64(const char *s, unsigned long long *out);
/* A signed decimal, whole string. */
int sn_parse_i64(const char *s, long long *out);
/* A TCP/UDP port, 1..65535, digits only. -EINVAL otherwise. */
int sn_parse_port(const char *s, uint16_t *out);
/* "[http://][HOST:]PORT[/PATH]" with HOST an IPv4 address (default
 * 127.0.0.1) and PORT 1..65535 → the address and the path ("/" when
 * none; a pointer into s). -EINVAL otherwise. */
int sn_parse_inet_target(const char *s, struct sockaddr_in *a, const char **path);

#endif
