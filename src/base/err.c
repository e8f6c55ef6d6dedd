/* err.c — filling and wrapping struct sn_err (see err.h). */
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int err_vset(struct sn_err *err, int errnum, int with_strerror,
		    const char *fmt, va_list ap)
{
	int code = errnum > 0 ? errnum : (errnum < 0 ? -errnum : EIO);

	if (!err)
		return -code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0)
		n = 0;
	if (with_strerror && errnum != 0 && (size_t)n < sizeof(err->msg)) {
		char buf[128];
#ifdef __GLIBC__
		const char *s = strerror_r(code, buf, sizeof(buf)); /* GNU: may not use buf */
#else
		const char *s = strerror_r(code, buf, sizeof(buf)) == 0 ? buf : "Unknown error"; /* XSI (musl) */
#endif
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", s);
	}
	return -code;
}

int sn_err_set(struct sn_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(err, errnum, 1, fmt, ap);
	va_end(ap);
	return r;
}

int sn_err_msg(struct sn_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = err_vset(err, errnum, 0, fmt, ap);
	va_end(ap);
	return r;
}

int sn_err_wrap(struct sn_err *err, const char *fmt, ...)
{
	if (!err)
		return -EIO;
	if (err->code == 0)
		err->code = EIO;
	char prefix[SN_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n > 0) {
		char old[SN_ERR_MSG_MAX];
		memcpy(old, err->msg, sizeof(old));
		size_t pl = strnlen(prefix, sizeof(err->msg) - 1);
		memcpy(err->msg, prefix, pl);
		size_t rest = sizeof(err->msg) - pl;
		if (rest > 2) {
			err->msg[pl] = ':';
			err->msg[pl + 1] = ' ';
			size_t ol = strnlen(old, rest - 3);
			memcpy(err->msg + pl + 2, old, ol);
			err->msg[pl + 2 + ol] = '\0';
		} else {
			err->msg[pl] = '\0';
		}
	}
	return -err->code;
}

void sn_err_clear(struct sn_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
