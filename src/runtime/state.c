/* state.c — see state.h. */
#include "runtime/state.h"
#include "runtime/proc.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_FILE "state.json"
#define STATE_MAX_SIZE (32u << 20)

int state_validate_id(const char *id, struct sn_err *err)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0)
		return sn_err_msg(err, EINVAL, "container id must not be empty");
	if (n > 1024)
		return sn_err_msg(err, EINVAL, "container id is longer than 1024 characters");
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return sn_err_msg(err, EINVAL, "invalid container id `%s`", id);
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '_' || *c == '-' || *c == '.' || *c == '+'))
			return sn_err_msg(err, EINVAL,
					  "invalid container id `%s`: only letters, digits and _ - . + are allowed", id);
	return 0;
}

int state_create_dir(const char *root, const char *id, char **dir, struct sn_err *err)
{
	int r = sn_mkdir_p(root, 0700, err);
	if (r < 0)
		return sn_err_wrap(err, "state root");
	char *d = sn_path_join(root, id);
	if (!d)
		return sn_err_set(err, ENOMEM, "state dir");
	if (mkdir(d, 0711) < 0) {
		int e = errno;
		free(d);
		if (e == EEXIST)
			return sn_err_msg(err, EEXIST, "container `%s` already exists", id);
		return sn_err_set(err, e, "mkdir `%s/%s`", root, id);
	}
	*dir = d;
	return 0;
}

int state_save(const struct container_state *st, struct sn_err *err)
{
	_cleanup_json_ json_t *j = json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s}",
					     "id", st->id, "pid", (int)st->pid,
					     "start_time", (json_int_t)st->start_time,
					     "bundle", st->bundle, "rootfs", st->rootfs,
					     "created", st->created, "owner", st->owner ? st->owner : "");
	if (!j)
		return sn_err_set(err, ENOMEM, "state of `%s`", st->id);
	if (st->cgroup)
		json_object_set_new(j, "cgroup", cgroup_to_json(st->cgroup));
	if (st->config)
		json_object_set(j, "config", st->config);
	_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
	if (!s)
		return sn_err_set(err, ENOMEM, "state of `%s`", st->id);
	_cleanup_free_ char *path = sn_path_join(st->dir, STATE_FILE);
	if (!path)
		return sn_err_set(err, ENOMEM, "state of `%s`", st->id);
	return sn_replace_file(path, s, strlen(s), 0600, err);
}

static int dup_field(json_t *j, const char *key, char **out, struct sn_err *err)
{
	const char *s = NULL;
	int r = sn_json_string(j, "state", key, &s, err);
	if (r < 0)
		return r;
	*out = strdup(s ? s : "");
	return *out ? 0 : sn_err_set(err, ENOMEM, "state");
}

int state_load(const char *root, const char *id, struct container_state **out,
	       struct sn_err *err)
{
	int r = state_validate_id(id, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = sn_path_join(root, id);
	_cleanup_free_ char *path = dir ? sn_path_join(dir, STATE_FILE) : NULL;
	if (!path)
		return sn_err_set(err, ENOMEM, "state");
	if (access(path, F_OK) < 0) {
		if (errno == ENOENT)
			return sn_err_msg(err, ENOENT, "container `%s` does not exist", id);
		return sn_err_sys(err, "access `%s`", path);
	}
	_cleanup_json_ json_t *j = NULL;
	r = sn_json_load_file(path, STATE_MAX_SIZE, &j, err);
	if (r < 0)
		return r;
	struct container_state *st = calloc(1, sizeof(*st));
	if (!st)
		return sn_err_set(err, ENOMEM, "state");
	st->dir = steal_ptr(dir);
	int64_t v = 0;
	if ((r = dup_field(j, "id", &st->id, err)) < 0 ||
	    (r = dup_field(j, "bundle", &st->bundle, err)) < 0 ||
	    (r = dup_field(j, "rootfs", &st->rootfs, err)) < 0 ||
	    (r = dup_field(j, "created", &st->created, err)) < 0 ||
	    (r = dup_field(j, "owner", &st->owner, err)) < 0)
		goto fail;
	if ((r = sn_json_int(j, "state", "pid", &v, err)) < 0)
		goto fail;
	st->pid = (pid_t)v;
	v = 0;
	if ((r = sn_json_int(j, "state", "start_time", &v, err)) < 0)
		goto fail;
	st->start_time = (uint64_t)v;
	json_t *cg = json_object_get(j, "cgroup");
	if (cg && (r = cgroup_from_json(cg, &st->cgroup, err)) < 0)
		goto fail;
	st->config = json_incref(json_object_get(j, "config"));
	*out = st;
	return 0;
fail:
	state_free(st);
	return sn_err_wrap(err, "container `%s`", id);
}

void state_free(struct container_state *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->dir);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	cgroup_free(st->cgroup);
	json_decref(st->config);
	free(st);
}

char *state_fifo_path(const struct container_state *st)
{
	return sn_path_join(st->dir, "exec.fifo");
}

char *state_exec_done_path(const char *dir)
{
	return sn_path_join(dir, "exec-done.fifo");
}

enum container_status state_status(const struct container_state *st)
{
	if (st->pid <= 0)
		return STATUS_CREATING;
	if (!proc_is_alive(st->pid, st->start_time))
		return STATUS_STOPPED;
	_cleanup_free_ char *fifo = state_fifo_path(st);
	if (fifo && access(fifo, F_OK) == 0)
		return STATUS_CREATED;
	if (st->cgroup) {
		bool frozen = false;
		if (cgroup_is_frozen(st->cgroup, &frozen, NULL) == 0 && frozen)
			return STATUS_PAUSED;
	}
	return STATUS_RUNNING;
}

const char *state_status_name(enum container_status s)
{
	switch (s) {
	case STATUS_CREATING: return "creating";
	case STATUS_CREATED: return "created";
	case STATUS_RUNNING: return "running";
	case STATUS_PAUSED: return "paused";
	case STATUS_STOPPED: return "stopped";
	}
	return "unknown";
}

json_t *state_to_json(const struct container_state *st, enum container_status s)
{
	json_t *ann = st->config ? json_object_get(st->config, "annotations") : NULL;
	json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}",
			      "ociVersion", "1.0.2", "id", st->id,
			      "pid", s == STATUS_STOPPED ? 0 : (int)st->pid,
			      "status", state_status_name(s), "bundle", st->bundle,
			      "rootfs", st->rootfs, "created", st->created,
			      "owner", st->owner ? st->owner : "");
	if (j && ann && json_is_object(ann))
		json_object_set(j, "annotations", ann);
	return j;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list_ids(const char *root, char ***ids, size_t *n, struct sn_err *err)
{
	*ids = NULL;
	*n = 0;
	_cleanup_closedir_ DIR *d = opendir(root);
	if (!d) {
		if (errno == ENOENT) {
			*ids = calloc(1, sizeof(char *));
			return *ids ? 0 : sn_err_set(err, ENOMEM, "list");
		}
		return sn_err_sys(err, "opendir `%s`", root);
	}
	size_t cap = 16, len = 0;
	char **v = calloc(cap + 1, sizeof(char *));
	if (!v)
		return sn_err_set(err, ENOMEM, "list");
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s/" STATE_FILE, root, de->d_name);
		if (access(p, F_OK) < 0)
			continue;
		if (len == cap) {
			cap *= 2;
			char **nv = realloc(v, (cap + 1) * sizeof(char *));
			if (!nv) {
				sn_strv_free(v);
				return sn_err_set(err, ENOMEM, "list");
			}
			v = nv;
		}
		v[len] = strdup(de->d_name);
		if (!v[len]) {
			sn_strv_free(v);
			return sn_err_set(err, ENOMEM, "list");
		}
		v[++len] = NULL;
	}
	qsort(v, len, sizeof(char *), cmp_str);
	*ids = v;
	*n = len;
	return 0;
}

int state_lock(const char *dir, int *fd, struct sn_err *err)
{
	int f = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f < 0)
		return sn_err_sys(err, "open `%s`", dir);
	if (flock(f, LOCK_EX) < 0) {
		int e = errno;
		close(f);
		return sn_err_set(err, e, "lock `%s`", dir);
	}
	*fd = f;
	return 0;
}

void state_now_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}
