/* test_fork.c — see test_fork.h: forked children never re-enter cmocka. */
#include "test_fork.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

void test_child_reset(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT, SIGTRAP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	/* cmocka's exit_test(): abort() rather than longjmp into its loop. */
	setenv("CMOCKA_TEST_ABORT", "1", 1);
}

pid_t test_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		test_child_reset();
	return pid;
}
