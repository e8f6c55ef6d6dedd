/* proc_env.c — the environment a container process starts with, where the
 * runtime adds to what config.json says.
 *
 * HOME: runc and crun set it when process.env lacks it, to the home of
 * the process's uid in the container's own /etc/passwd, or "/" when the
 * file or the uid is not there. Programs (shells, ssh, git, anything with
 * a dotfile) expect it, and images rarely set it, so a bundle that works
 * under runc must find it here too. We do the same, for the init and for
 * `exec`.
 *
 * Threat model: the file belongs to the container (we read it after
 * pivot_root or after joining its mount namespace, still as root). It may
 * be anything: a FIFO that never answers, /dev/zero behind a symlink,
 * gigabytes. So it is opened non-blocking, must be a regular file and is
 * read up to a limit; and it is parsed by hand — never through NSS, which
 * would load libraries named by the container's own nsswitch.conf into a
 * privileged process.
 */
#include "runtime/proc.h"
#include "base/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASSWD_MAX_SIZE (4u << 20)

/* Lines as in passwd(5); a line starting with '#' is a comment (as the
 * parser runc uses treats it). */
int proc_passwd_home(const char *passwd, uid_t uid, char *home, size_t len)
{
	for (const char *line = passwd; line && *line;) {
		const char *end = strchrnul(line, '\n');
		/* name:passwd:uid:gid:gecos:home:shell */
		const char *f[7];
		size_t nf = 0;
		f[nf++] = line;
		for (const char *c = line; c < end && nf < 7; c++)
			if (*c == ':')
				f[nf++] = c + 1;
		if (nf == 7 && line[0] != '#' && f[2][0] >= '0' && f[2][0] <= '9') {
			char *ue;
			errno = 0;
			unsigned long u = strtoul(f[2], &ue, 10);
			size_t hl = (size_t)(f[6] - 1 - f[5]);
			if (errno == 0 && *ue == ':' && u == (unsigned long)uid && hl > 0 && hl < len) {
				memcpy(home, f[5], hl);
				home[hl] = '\0';
				return 0;
			}
		}
		line = *end ? end + 1 : end;
	}
	return -ENOENT;
}

/* The container's /etc/passwd, or -errno (ENOENT, EINVAL if not a file). */
static int read_passwd(char **out)
{
	_cleanup_close_ int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > PASSWD_MAX_SIZE)
		return -EINVAL;
	size_t n = 0, cap = (size_t)st.st_size + 1;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = steal_ptr(buf);
	return 0;
}

int proc_env_add_home(char *const *env, uid_t uid, char ***out, struct sn_err *err)
{
	*out = NULL;
	size_t n = 0;
	for (; env && env[n]; n++)
		if (strncmp(env[n], "HOME=", 5) == 0)
			return 0;
	char home[4096] = "/";
	_cleanup_free_ char *passwd = NULL;
	if (read_passwd(&passwd) == 0 && proc_passwd_home(passwd, uid, home, sizeof(home)) < 0)
		strcpy(home, "/");
	char **e = calloc(n + 2, sizeof(*e));
	if (!e)
		return sn_err_set(err, ENOMEM, "environment with HOME");
	if (n)
		memcpy(e, env, n * sizeof(*e));
	size_t hl = strlen(home);
	if (!(e[n] = malloc(hl + 6))) {
		free(e);
		return sn_err_set(err, ENOMEM, "environment with HOME");
	}
	memcpy(e[n], "HOME=", 5);
	memcpy(e[n] + 5, home, hl + 1);
	*out = e;
	return 0;
}

void proc_env_home_freep(char ***e)
{
	if (!*e)
		return;
	size_t n = 0;
	while ((*e)[n])
		n++;
	free((*e)[n - 1]); /* the HOME= we added; the rest is the caller's */
	free(*e);
	*e = NULL;
}
