/* log.h — process-wide logging, text or JSON lines.
 *
 * Mirrors runc's --log/--log-format: text lines
 *   time="2026-11-25T12:00:00Z" level=info msg="..."
 * or JSON lines {"level":"info","msg":"...","time":"..."} (what conmon and
 * podman parse). Default target is stderr in text. The logger is the only
 * part of base allowed to write to stderr; it is configured once by main().
 */
#ifndef SN_BASE_LOG_H
#define SN_BASE_LOG_H

#include "base/err.h"

enum sn_log_level { SN_LOG_ERROR = 0, SN_LOG_WARN, SN_LOG_INFO, SN_LOG_DEBUG };
enum sn_log_format { SN_LOG_TEXT = 0, SN_LOG_JSON };

/* Open path (append) as the log target; NULL keeps stderr. */
int sn_log_open(const char *path, enum sn_log_format fmt, struct sn_err *err);
int sn_log_parse_format(const char *s, enum sn_log_format *out, struct sn_err *err);
void sn_log_set_level(enum sn_log_level lvl);
enum sn_log_level sn_log_get_level(void);
/* The log target fd (for children that must keep it across exec), or -1. */
int sn_log_fd(void);
/* Also copy error lines to stderr when the target is a file (default on). */
void sn_log_set_stderr_copy(int on);

void sn_log(enum sn_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define sn_error(...) sn_log(SN_LOG_ERROR, __VA_ARGS__)
#define sn_warn(...) sn_log(SN_LOG_WARN, __VA_ARGS__)
#define sn_info(...) sn_log(SN_LOG_INFO, __VA_ARGS__)
#define sn_debug(...) \
	do { if (sn_log_get_level() >= SN_LOG_DEBUG) sn_log(SN_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
