/* clock.h — the monotonic clock, read one way everywhere.
 *
 * Deadlines, timeouts and durations use CLOCK_MONOTONIC (never the wall
 * clock, which jumps); condition variables that wait for a deadline are
 * set to that clock (pthread_condattr_setclock) and take the timespec
 * sn_deadline_after() returns.
 */
#ifndef SN_BASE_CLOCK_H
#define SN_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t sn_now_ms(void);
/* Microseconds of CLOCK_MONOTONIC (request latencies). */
int64_t sn_now_us(void);

/* The CLOCK_MONOTONIC time ms milliseconds from now, normalised. */
struct timespec sn_deadline_after(int64_t ms);

#endif
