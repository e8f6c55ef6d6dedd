/* log.c — see log.h. One write(2) per line so concurrent writers to the same
 * file (create process, container init before exec) never interleave. */
#include "base/log.h"
#include "base/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

static int log_fd = -1;            /* -1: stderr */
static enum sn_log_format log_fmt = SN_LOG_TEXT;
static enum sn_log_level log_lvl = SN_LOG_WARN;
static int log_stderr_copy = 1;

static const char *level_name[] = { "error", "warning", "info", "debug" };

int sn_log_parse_format(const char *s, enum sn_log_format *out, struct sn_err *err)
{
	if (strcmp(s, "text") == 0)
		*out = SN_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = SN_LOG_JSON;
	else
		return sn_err_msg(err, EINVAL, "log format `%s`: must be text or json", s);
	return 0;
}

int sn_log_open(const char *path, enum sn_log_format fmt, struct sn_err *err)
{
	log_fmt = fmt;
	if (!path)
		return 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sn_err_sys(err, "open log file `%s`", path);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	return 0;
}

void sn_log_set_level(enum sn_log_level lvl) { log_lvl = lvl; }
enum sn_log_level sn_log_get_level(void) { return log_lvl; }
int sn_log_fd(void) { return log_fd; }
void sn_log_set_stderr_copy(int on) { log_stderr_copy = on; }

void sn_log(enum sn_log_level lvl, const char *fmt, ...)
{
	if (lvl > log_lvl)
		return;
	int saved = errno;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	char ts[40];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%09ldZ", now.tv_nsec);

	char line[4096];
	int n;
	if (log_fmt == SN_LOG_JSON) {
		json_t *o = json_pack("{s:s,s:s,s:s}", "level", level_name[lvl],
				      "msg", msg, "time", ts);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		n = snprintf(line, sizeof(line), "%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		n = snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"%s\"\n",
			     ts, level_name[lvl], msg);
	}
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (log_fd >= 0) {
		(void)sn_write_all(log_fd, line, (size_t)n);
		if (lvl == SN_LOG_ERROR && log_stderr_copy) {
			char plain[2100];
			int m = snprintf(plain, sizeof(plain), "%s\n", msg);
			if (m > 0)
				(void)sn_write_all(STDERR_FILENO, plain,
					  (size_t)m < sizeof(plain) ? (size_t)m : sizeof(plain) - 1);
		}
	} else {
		(void)sn_write_all(STDERR_FILENO, line, (size_t)n);
	}
	errno = saved;
}
