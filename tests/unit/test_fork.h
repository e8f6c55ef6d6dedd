/* test_fork.h — fork a child in a cmocka test so that it can never return
 * into the test runner.
 *
 * cmocka catches SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGSYS while a test
 * runs and longjmps back into its loop; a failed assert_* longjmps too. A
 * forked child inherits both: a child that crashed (an `int $0x80` on a
 * kernel without IA32 emulation) or failed an assert would run the rest of
 * the test program as a second runner — two reports, sockets bound twice,
 * and once a busy loop that never ended. test_fork() gives the child
 * default actions for those signals and sets CMOCKA_TEST_ABORT=1, with
 * which cmocka ends a failed assert with abort() instead of the longjmp:
 * whatever happens in the child, it dies or calls _exit, and its parent
 * sees the status.
 *
 * Every fork in a unit test goes through test_fork(); the child ends with
 * _exit (never return, never exit: no atexit handlers, no leak report of
 * the parent's memory).
 */
#ifndef SN_TEST_FORK_H
#define SN_TEST_FORK_H

#include <sys/types.h>

/* fork(); in the child, the crash signals get their default action and a
 * cmocka assert aborts. Returns what fork() returns. */
pid_t test_fork(void);

/* In a child made some other way (clone): the same reset. */
void test_child_reset(void);

#endif
