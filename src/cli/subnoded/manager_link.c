/* manager_link.c — starting and stopping subnode-link for subnoded
 * (manager_link.h). The link is a process of its own because it needs an
 * HTTP client (libcurl), which subnoded does not link (docs/MANAGER.md,
 * The node side). It gets PR_SET_PDEATHSIG=SIGKILL: a daemon killed -9
 * takes its link along, as a dead server would. */
#include "manager_link.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int manager_link_start(const struct manager_link_opts *o, const char *self, const char *socket,
		       const char *root, pid_t *pid, struct sn_err *err)
{
	*pid = -1;
	if (!o->manager)
		return 0;
	if (!o->join_token_file || !o->advertise)
		return sn_err_msg(err, EINVAL, "--manager needs --join-token-file and --advertise");
	_cleanup_free_ char *copy = self ? strdup(self) : NULL;
	_cleanup_free_ char *exe = copy ? sn_path_join(dirname(copy), "subnode-link") : NULL;
	_cleanup_free_ char *state = sn_path_join(root, "link");
	if (!exe || !state)
		return sn_err_set(err, ENOMEM, "manager link");
	if (access(exe, X_OK) != 0)
		return sn_err_sys(err, "manager link: `%s`", exe);
	const char *argv[20];
	size_t n = 0;
	argv[n++] = exe;
	argv[n++] = "--manager"; argv[n++] = o->manager;
	argv[n++] = "--join-token-file"; argv[n++] = o->join_token_file;
	argv[n++] = "--advertise"; argv[n++] = o->advertise;
	argv[n++] = "--node-socket"; argv[n++] = socket;
	argv[n++] = "--state"; argv[n++] = state;
	if (o->name) { argv[n++] = "--name"; argv[n++] = o->name; }
	if (o->operator) { argv[n++] = "--operator"; argv[n++] = o->operator; }
	if (o->port_base) { argv[n++] = "--port-base"; argv[n++] = o->port_base; }
	argv[n] = NULL;
	pid_t parent = getpid();
	pid_t p = fork();
	if (p < 0)
		return sn_err_sys(err, "manager link: fork");
	if (p == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(127);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	*pid = p;
	sn_info("manager link: %s (pid %d) to %s", exe, (int)p, o->manager);
	return 0;
}

void manager_link_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
