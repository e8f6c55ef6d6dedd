/* err.h — the one error type of subnode.
 *
 * Every fallible function returns int: 0 on success, -errno on failure, and
 * takes a last argument `struct sn_err *err` that it fills with the errno and
 * a message naming the object ("open `/run/subrun/x/state.json`: No such file
 * or directory"). As the error rises, callers add context in front with
 * sn_err_wrap() ("create container `abc`: ..."). Nothing below main() prints
 * or exits; main() prints err->msg and picks the exit code.
 *
 * The struct is fixed size (no allocation) so it can be filled in a forked
 * child and copied over a pipe to the parent verbatim.
 */
#ifndef SN_BASE_ERR_H
#define SN_BASE_ERR_H

#include <stddef.h>

#define SN_ERR_MSG_MAX 1024

struct sn_err {
	int code;                  /* positive errno, 0 = no error */
	char msg[SN_ERR_MSG_MAX];  /* human message, always NUL-terminated */
};

/* Set err to errnum with a printf-style message; if errnum != 0 the
 * strerror text is appended after ": ". Returns -errnum (or -EIO when
 * errnum is 0, so the result is always usable as a failure return). */
int sn_err_set(struct sn_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like sn_err_set without the strerror suffix: for validation errors whose
 * message already says everything ("process.args: must not be empty"). */
int sn_err_msg(struct sn_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "<context>: " in front of the existing message. Returns -err->code. */
int sn_err_wrap(struct sn_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reset to "no error". */
void sn_err_clear(struct sn_err *err);

/* Shorthand for the common case "syscall failed on this object":
 * return sn_err_sys(err, "open `%s`", path);  (uses the current errno) */
#define sn_err_sys(err, ...) sn_err_set((err), errno, __VA_ARGS__)

#endif
