/* buf.c — the reusable growable buffer (buf.h). */
#include "base/buf.h"
#include "base/fd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool sn_buf_reserve(struct sn_buf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	size_t nc = b->cap ? b->cap : 256;
	while (nc < b->len + n + 1)
		nc *= 2;
	char *np = realloc(b->p, nc);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = nc;
	return true;
}

void sn_buf_add(struct sn_buf *b, const char *s, size_t n)
{
	if (!sn_buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sn_buf_puts(struct sn_buf *b, const char *s)
{
	sn_buf_add(b, s, strlen(s));
}

void sn_buf_putc(struct sn_buf *b, char c)
{
	sn_buf_add(b, &c, 1);
}

void sn_buf_u64(struct sn_buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do
		tmp[--i] = (char)('0' + v % 10);
	while ((v /= 10));
	sn_buf_add(b, tmp + i, sizeof(tmp) - i);
}

void sn_buf_printf(struct sn_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (b->p && b->len + (size_t)n < b->cap) {
		b->len += (size_t)n;
		return;
	}
	if (!sn_buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sn_buf_reset(struct sn_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = '\0';
}

void sn_buf_free(struct sn_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int sn_buf_pread(struct sn_buf *b, int fd, bool one_record, const char *what, struct sn_err *err)
{
	sn_buf_reset(b);
	for (;;) {
		if (!sn_buf_reserve(b, b->cap > b->len + 1024 ? b->cap - b->len - 1 : 4096))
			return sn_err_set(err, ENOMEM, "read `%s`", what);
		size_t room = b->cap - b->len - 1;
		ssize_t n = SN_RETRY_EINTR(pread(fd, b->p + b->len, room, (off_t)b->len));
		if (n < 0)
			return sn_err_sys(err, "read `%s`", what);
		if (one_record && b->len == 0 && (size_t)n == room) {
			/* did not fit: read it whole again, in a buffer twice as large */
			if (!sn_buf_reserve(b, b->cap * 2))
				return sn_err_set(err, ENOMEM, "read `%s`", what);
			continue;
		}
		b->len += (size_t)n;
		b->p[b->len] = '\0';
		if (n == 0 || one_record)
			return 0;
	}
}
