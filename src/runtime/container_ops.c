/* container_ops.c — the commands on an existing container: kill, delete,
 * state, list, pause/resume, update, pids. Each loads the state, takes the
 * directory lock where it changes something, and derives the status from
 * the live process (state.h). */
#include "runtime/container.h"
#include "runtime/create_internal.h"
#include "runtime/hooks.h"
#include "runtime/proc.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void state_freep(struct container_state **s) { state_free(*s); }
#define _cleanup_state_ _cleanup_(state_freep)

int container_kill(const char *root, const char *id, int sig, bool all, struct sn_err *err)
{
	_cleanup_state_ struct container_state *st = NULL;
	int r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	enum container_status s = state_status(st);
	/* --all (runc's, not the spec's operation) also reaches what a stopped
	 * container left in its cgroup (no pid namespace: the init's children
	 * outlive it), and succeeds, as in runc and crun: podman's cleanup
	 * relies on it */
	if (s == STATUS_STOPPED && !(all && st->cgroup))
		return sn_err_msg(err, ESRCH, "container `%s` is not running", id);
	if (all && st->cgroup) {
		if ((r = cgroup_kill_all(st->cgroup, sig, err)) < 0)
			return r;
	} else if (kill(st->pid, sig) < 0) {
		return sn_err_sys(err, "kill container `%s` (pid %d) with signal %d", id, (int)st->pid, sig);
	}
	/* a frozen container cannot act on a signal until thawed */
	if (s == STATUS_PAUSED && (sig == SIGKILL || sig == SIGTERM))
		cgroup_freeze(st->cgroup, false, NULL);
	return 0;
}

static void run_poststop(struct container_state *st)
{
	if (!st->config || !json_object_get(st->config, "hooks"))
		return; /* nothing to run: skip re-parsing the config */
	struct spec *s = NULL;
	struct sn_err e = { 0 };
	if (spec_parse(st->config, "state config", &s, &e) < 0)
		return;
	if (s->hooks.n[SPEC_HOOK_POSTSTOP]) {
		_cleanup_free_ char *j = container_hook_state(st->id, st->bundle, 0, "stopped",
							      s->annotations);
		if (hooks_run(&s->hooks, SPEC_HOOK_POSTSTOP, j, &e) < 0)
			sn_warn("%s", e.msg); /* the spec: logged, delete goes on */
	}
	spec_free(s);
}

int container_delete(const char *root, const char *id, bool force, struct sn_err *err)
{
	_cleanup_state_ struct container_state *st = NULL;
	int r = state_load(root, id, &st, err);
	if (r < 0) {
		/* delete --force of a missing container is not an error (runc) */
		if (force && r == -ENOENT)
			return 0;
		return r;
	}
	_cleanup_close_ int lock = -1;
	if ((r = state_lock(st->dir, &lock, err)) < 0)
		return r;
	enum container_status s = state_status(st);
	/* The spec: deleting a container that is not stopped MUST fail —
	 * "created" included (runc deletes a created one; crun and the
	 * runtime-tools suite do not). --force kills it first. */
	if (s != STATUS_STOPPED && !force)
		return sn_err_msg(err, EBUSY, "container `%s` is %s: stop it first or use --force",
				  id, state_status_name(s));
	if (s != STATUS_STOPPED) {
		if (st->cgroup) {
			if (s == STATUS_PAUSED)
				cgroup_freeze(st->cgroup, false, NULL);
			cgroup_kill_all(st->cgroup, SIGKILL, NULL);
		}
		kill(st->pid, SIGKILL);
		if (proc_wait_exit(st->pid, st->start_time, 10000) < 0)
			return sn_err_msg(err, EBUSY, "container `%s`: init %d did not die after SIGKILL",
					  id, (int)st->pid);
	}
	if (st->cgroup) {
		/* processes that escaped the init's death (no pid ns) */
		for (int i = 0; i < 100; i++) {
			if (cgroup_destroy(st->cgroup, err) == 0)
				break;
			if (i == 99)
				return sn_err_wrap(err, "delete container `%s`", id);
			cgroup_kill_all(st->cgroup, SIGKILL, NULL);
			usleep(10000);
		}
	}
	run_poststop(st);
	if ((r = sn_rm_rf(st->dir, err)) < 0)
		return sn_err_wrap(err, "delete container `%s`", id);
	return 0;
}

int container_state(const char *root, const char *id, json_t **out, struct sn_err *err)
{
	_cleanup_state_ struct container_state *st = NULL;
	int r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	*out = state_to_json(st, state_status(st));
	return *out ? 0 : sn_err_set(err, ENOMEM, "state");
}

int container_list(const char *root, json_t **out, struct sn_err *err)
{
	_cleanup_strv_ char **ids = NULL;
	size_t n = 0;
	int r = state_list_ids(root, &ids, &n, err);
	if (r < 0)
		return r;
	json_t *a = json_array();
	if (!a)
		return sn_err_set(err, ENOMEM, "list");
	for (size_t i = 0; i < n; i++) {
		struct container_state *st = NULL;
		struct sn_err e = { 0 };
		if (state_load(root, ids[i], &st, &e) < 0)
			continue; /* being created or deleted right now */
		json_array_append_new(a, state_to_json(st, state_status(st)));
		state_free(st);
	}
	*out = a;
	return 0;
}

int container_pause(const char *root, const char *id, bool pause, struct sn_err *err)
{
	_cleanup_state_ struct container_state *st = NULL;
	int r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	enum container_status s = state_status(st);
	if (pause && s != STATUS_RUNNING && s != STATUS_CREATED)
		return sn_err_msg(err, EINVAL, "container `%s` is %s, not running", id, state_status_name(s));
	if (!pause && s != STATUS_PAUSED)
		return sn_err_msg(err, EINVAL, "container `%s` is %s, not paused", id, state_status_name(s));
	if (!st->cgroup)
		return sn_err_msg(err, ENOTSUP, "container `%s` has no cgroup to freeze", id);
	return cgroup_freeze(st->cgroup, pause, err);
}

int container_update(const char *root, const char *id, const struct spec_resources *res,
		     struct sn_err *err)
{
	_cleanup_state_ struct container_state *st = NULL;
	int r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	if (state_status(st) == STATUS_STOPPED)
		return sn_err_msg(err, EINVAL, "container `%s` is stopped", id);
	if (!st->cgroup)
		return sn_err_msg(err, ENOTSUP, "container `%s` has no cgroup", id);
	return cgroup_apply(st->cgroup, res, err);
}

int container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
		   struct sn_err *err)
{
	_cleanup_state_ struct container_state *st = NULL;
	int r = state_load(root, id, &st, err);
	if (r < 0)
		return r;
	if (!st->cgroup || state_status(st) == STATUS_STOPPED) {
		*pids = NULL;
		*n = 0;
		return 0;
	}
	return cgroup_pids(st->cgroup, pids, n, err);
}
