/* buf.h — a growable byte buffer that is kept and reused.
 *
 * Two users that run every scrape: the metrics renderer appends its text
 * to one buffer, and the counter readers pread kept-open files into one
 * scratch buffer (sn_buf_pread). Reused from one call to the next, the
 * buffer grows to the largest size needed once and allocates nothing
 * afterwards: no malloc/free per file or per line.
 *
 * Appends never fail visibly: on ENOMEM the buffer is marked failed
 * (b->oom), further appends do nothing, and the owner checks b->oom once
 * at the end. Text is always NUL-terminated (len excludes the NUL).
 */
#ifndef SN_BASE_BUF_H
#define SN_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/err.h"

struct sn_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

/* Make room for n more bytes (and the NUL); false on ENOMEM (b->oom set). */
bool sn_buf_reserve(struct sn_buf *b, size_t n);
void sn_buf_add(struct sn_buf *b, const char *s, size_t n);
void sn_buf_puts(struct sn_buf *b, const char *s);
void sn_buf_putc(struct sn_buf *b, char c);
void sn_buf_u64(struct sn_buf *b, uint64_t v);
void sn_buf_printf(struct sn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empty it, keeping the memory (and clearing oom). */
void sn_buf_reset(struct sn_buf *b);
void sn_buf_free(struct sn_buf *b);

/* Read fd from offset 0 to its end into b (replacing what b held) with
 * pread: for a seq_file (every cgroup file, /proc/PID/net/dev) a read at
 * offset 0 makes the kernel generate the text afresh, so a file kept open
 * reads current values each time, one system call instead of open + read
 * + close. one_record: the file's whole text comes in one read whenever
 * the buffer has room (a cgroup key-value or number file: one seq_file
 * record), so a read that does not fill the buffer is the end and no
 * second call is made to see EOF; otherwise (a file of many records:
 * cgroup.procs, net/dev, which come a page at a time) it reads until a
 * read returns 0. 0, or -errno with err naming `what`. */
int sn_buf_pread(struct sn_buf *b, int fd, bool one_record, const char *what, struct sn_err *err);

#endif
