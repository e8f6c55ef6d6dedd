/* fs.c — see fs.h. */
#include "base/fs.h"
#include "base/fd.h"
#include "base/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sn_read_file_at(int dirfd, const char *path, size_t max_size, char **out,
		    size_t *len, struct sn_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sn_err_sys(err, "open `%s`", path);
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return sn_err_set(err, ENOMEM, "read `%s`", path);
	for (;;) {
		if (n + 1 >= cap) {
			if (max_size && cap > max_size + 1)
				return sn_err_msg(err, EFBIG, "read `%s`: larger than %zu bytes",
						  path, max_size);
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				return sn_err_set(err, ENOMEM, "read `%s`", path);
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return sn_err_sys(err, "read `%s`", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (max_size && n > max_size)
		return sn_err_msg(err, EFBIG, "read `%s`: larger than %zu bytes", path, max_size);
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = steal_ptr(buf);
	return 0;
}

int sn_read_file(const char *path, size_t max_size, char **out, size_t *len,
		 struct sn_err *err)
{
	return sn_read_file_at(AT_FDCWD, path, max_size, out, len, err);
}

int sn_write_file(const char *path, const void *data, size_t len, mode_t mode,
		  struct sn_err *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return sn_err_sys(err, "open `%s`", path);
	int r = sn_write_all(fd, data, len);
	if (r < 0)
		return sn_err_set(err, -r, "write `%s`", path);
	return 0;
}

int sn_write_existing_at(int dirfd, const char *name, const char *data,
			 struct sn_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sn_err_sys(err, "open `%s`", name);
	size_t len = strlen(data);
	ssize_t w;
	w = SN_RETRY_EINTR(write(fd, data, len));
	if (w < 0)
		return sn_err_sys(err, "write `%s` to `%s`", data, name);
	if ((size_t)w != len)
		return sn_err_msg(err, EIO, "write `%s` to `%s`: short write", data, name);
	return 0;
}

int sn_write_existing(const char *path, const char *data, struct sn_err *err)
{
	return sn_write_existing_at(AT_FDCWD, path, data, err);
}

/* temp file beside path, rename over it; durable: fsync the file before
 * and the directory after the rename */
static int replace_file(const char *path, const void *data, size_t len, mode_t mode,
			bool durable, struct sn_err *err)
{
	_cleanup_free_ char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return sn_err_set(err, ENOMEM, "write `%s`", path);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return sn_err_sys(err, "open `%s`", tmp);
	int r = sn_write_all(fd, data, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return sn_err_set(err, -r, "write `%s`", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sn_err_set(err, e, "rename `%s` to `%s`", tmp, path);
	}
	if (!durable)
		return 0;
	/* Make the rename itself durable. */
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return sn_err_set(err, ENOMEM, "write `%s`", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sn_err_sys(err, "open directory `%s`", dir);
	if (fsync(dfd) < 0)
		return sn_err_sys(err, "fsync directory `%s`", dir);
	return 0;
}

int sn_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, struct sn_err *err)
{
	return replace_file(path, data, len, mode, true, err);
}

int sn_replace_file(const char *path, const void *data, size_t len, mode_t mode,
		    struct sn_err *err)
{
	return replace_file(path, data, len, mode, false, err);
}

int sn_mkdir_p(const char *path, mode_t mode, struct sn_err *err)
{
	size_t len = strlen(path);
	if (len == 0 || len >= PATH_MAX)
		return sn_err_msg(err, EINVAL, "mkdir `%s`: bad path length", path);
	/* Mostly the parents exist: one mkdir, and the walk only if not. */
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != ENOENT && errno != EEXIST)
		return sn_err_sys(err, "mkdir `%s`", path);
	if (errno == ENOENT) {
		char buf[PATH_MAX];
		memcpy(buf, path, len + 1);
		for (char *p = buf + 1; ; p++) {
			if (*p == '/' || *p == '\0') {
				char c = *p;
				*p = '\0';
				if (mkdir(buf, mode) < 0 && errno != EEXIST)
					return sn_err_sys(err, "mkdir `%s`", buf);
				*p = c;
				if (c == '\0')
					break;
			}
		}
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return sn_err_sys(err, "stat `%s`", path);
	if (!S_ISDIR(st.st_mode))
		return sn_err_msg(err, ENOTDIR, "mkdir `%s`: exists and is not a directory", path);
	return 0;
}

static int rm_rf_at(int parent, const char *name, dev_t dev, struct sn_err *err)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return sn_err_sys(err, "stat `%s`", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return sn_err_sys(err, "unlink `%s`", name);
		return 0;
	}
	if (st.st_dev != dev)
		return sn_err_msg(err, EXDEV, "remove `%s`: is a mount point", name);
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sn_err_sys(err, "open `%s`", name);
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return sn_err_sys(err, "opendir `%s`", name);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int r = rm_rf_at(dirfd(d), de->d_name, dev, err);
		if (r < 0)
			return sn_err_wrap(err, "in `%s`", name);
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return sn_err_sys(err, "rmdir `%s`", name);
	return 0;
}

int sn_rm_rf(const char *path, struct sn_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return sn_err_sys(err, "stat `%s`", path);
	}
	return rm_rf_at(AT_FDCWD, path, st.st_dev, err);
}

int sn_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

char *sn_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	char *out;
	if (asprintf(&out, "%.*s/%s", (int)la, a, b) < 0)
		return NULL;
	return out;
}

int sn_file_private(const char *path, bool create, struct sn_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
	if (fd < 0)
		return errno == ENOENT && !create ? 0 : sn_err_sys(err, "open `%s`", path);
	if (fchmod(fd, 0600) < 0)
		return sn_err_sys(err, "chmod 0600 `%s`", path);
	return 0;
}

int sn_sqlite_private(const char *path, struct sn_err *err)
{
	int r = sn_file_private(path, true, err);
	static const char *const ext[] = { "-wal", "-shm", "-journal" };
	for (size_t i = 0; r == 0 && i < SN_ARRAY_SIZE(ext); i++) {
		char p[PATH_MAX];
		if ((size_t)snprintf(p, sizeof(p), "%s%s", path, ext[i]) >= sizeof(p))
			return sn_err_msg(err, ENAMETOOLONG, "`%s%s`", path, ext[i]);
		r = sn_file_private(p, false, err);
	}
	return r;
}

bool sn_is_mount_point(const char *path)
{
	struct stat a, b;
	char *parent = sn_path_join(path, "..");
	bool r = parent && stat(path, &a) == 0 && stat(parent, &b) == 0 &&
		 (a.st_dev != b.st_dev || a.st_ino == b.st_ino);
	free(parent);
	return r;
}

void sn_human_bytes(uint64_t b, char *buf, size_t n)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double x = (double)b;
	unsigned i = 0;
	while (x >= 1024 && i + 1 < sizeof(u) / sizeof(u[0])) {
		x /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", x, u[i]);
}
