#!/usr/bin/env bats
# podman drives subrun as its OCI runtime (through conmon): run --rm, run -d,
# exec, stop, rm and pause/unpause of a busybox container imported from a
# tar. Every check runs twice: with subrun (the plain build, what users run)
# and with runc as the control, so a failure that also hits runc is podman or
# the host, not subrun. podman is fully isolated (tests/lib/podman.bash).

load ../lib/common
load ../lib/podman

bats_require_minimum_version 1.5.0

setup_file() {
  command -v podman >/dev/null && command -v conmon >/dev/null && command -v runc >/dev/null \
    || skip "podman, conmon and runc are needed"
  pm_setup_file
}

teardown_file() {
  pm_teardown_file
}

setup() {
  [ -n "${PM_DIR:-}" ] || skip "no podman"
  pm_init_test
  NAME=$(sn_unique pod)
  RT=
}

teardown() {
  [ -z "$RT" ] || pm_cleanup "$RT"
}

# ---- the checks, each for one runtime

run_rm_prints_output_and_exit_code() {
  RT=$1
  run pm "$RT" run --rm --name "$NAME" --cidfile "$PM_DIR/$NAME.cid" "${PM_RUN_FLAGS[@]}" "$PM_IMAGE" \
    sh -c 'echo hello-from-podman; cat /proc/self/limits | grep -i "open files"; exit 3'
  echo "$output"
  [ "$status" -eq 3 ]
  [ "${lines[0]}" = hello-from-podman ]
  [[ "${lines[1]}" =~ open\ files\ +20000\ +20000 ]]
  # --rm: gone from podman and from the runtime
  run pm "$RT" container exists "$NAME"
  [ "$status" -ne 0 ]
  id=$(cat "$PM_DIR/$NAME.cid")
  [ -n "$id" ]
  [ ! -e "$(pm_state_dir "$RT")/$id" ]
}

run_detached_is_the_runtime_container() {
  RT=$1
  id=$(pm "$RT" run -d --name "$NAME" "${PM_RUN_FLAGS[@]}" "$PM_IMAGE" sleep 1000)
  [ "$(pm "$RT" inspect --format '{{.State.Status}}' "$id")" = running ]
  [ "$(pm "$RT" inspect --format '{{.OCIRuntime}}' "$id")" = "$RT" ]
  # the runtime named by --runtime holds this container: its own state
  # says running, with the pid podman reports
  st=$(rt_state "$RT" "$id")
  [ "$(echo "$st" | jq -r .status)" = running ]
  [ "$(echo "$st" | jq -r .pid)" = "$(pm "$RT" inspect --format '{{.State.Pid}}' "$id")" ]
  [ "$(echo "$st" | jq -r .bundle)" = "$PM_DIR/root/vfs-containers/$id/userdata" ]
  # and it put the container in the cgroup podman asked for
  grep -qx "$(echo "$st" | jq -r .pid)" \
    "/sys/fs/cgroup/pids$PM_CGROUP_PARENT/libpod-$id/cgroup.procs"
}

exec_prints_output_and_exit_code() {
  RT=$1
  id=$(pm "$RT" run -d --name "$NAME" "${PM_RUN_FLAGS[@]}" "$PM_IMAGE" sleep 1000)
  run pm "$RT" exec "$NAME" sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "; exit 7'
  echo "$output"
  [ "$status" -eq 7 ]
  [ "${lines[0]}" = in-exec ]
  [ "${lines[1]}" = "sleep 1000 " ]
  run pm "$RT" exec -e FOO=bar -w /tmp "$NAME" sh -c 'echo $FOO $(pwd)'
  [ "$status" -eq 0 ]
  [ "$output" = "bar /tmp" ]
  # podman maps "executable not found" to 127 from the runtime's message
  run -127 pm "$RT" exec "$NAME" /no/such/binary
  echo "$output"
}

stop_sends_sigterm_and_rm_leaves_nothing() {
  RT=$1
  id=$(pm "$RT" run -d --name "$NAME" "${PM_RUN_FLAGS[@]}" "$PM_IMAGE" \
    sh -c 'trap "echo got-term; exit 42" TERM; echo up; sleep 1000 & wait')
  for _ in $(seq 50); do pm "$RT" logs "$NAME" 2>/dev/null | grep -q up && break; sleep 0.1; done
  run pm "$RT" stop -t 10 "$NAME"
  [ "$status" -eq 0 ]
  [ "$(pm "$RT" inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$NAME")" = "exited 42" ]
  [[ "$(pm "$RT" logs "$NAME")" == *got-term* ]]
  pm "$RT" rm "$NAME"
  run pm "$RT" container exists "$NAME"
  [ "$status" -ne 0 ]
  # no runtime state, cgroup or mount left for it
  [ ! -e "$(pm_state_dir "$RT")/$id" ]
  [ -z "$(find /sys/fs/cgroup -maxdepth 4 -name "*$id*" 2>/dev/null)" ]
  not grep -qF "$id" /proc/self/mountinfo
}

pause_and_unpause_freeze_and_thaw() {
  RT=$1
  id=$(pm "$RT" run -d --name "$NAME" "${PM_RUN_FLAGS[@]}" "$PM_IMAGE" sleep 1000)
  pm "$RT" pause "$NAME"
  [ "$(pm "$RT" inspect --format '{{.State.Status}}' "$NAME")" = paused ]
  [ "$(rt_state "$RT" "$id" | jq -r .status)" = paused ]
  pm "$RT" unpause "$NAME"
  [ "$(pm "$RT" inspect --format '{{.State.Status}}' "$NAME")" = running ]
  run pm "$RT" exec "$NAME" echo thawed
  [ "$output" = thawed ]
}

# ---- subrun

@test "subrun: podman run --rm prints the output and returns the exit code" {
  run_rm_prints_output_and_exit_code "$SUBRUN_PLAIN"
}
@test "subrun: podman run -d leaves a running container that subrun itself reports" {
  run_detached_is_the_runtime_container "$SUBRUN_PLAIN"
}
@test "subrun: podman exec prints the output and returns the exit code (127 when not found)" {
  exec_prints_output_and_exit_code "$SUBRUN_PLAIN"
}
@test "subrun: podman stop delivers SIGTERM, and podman rm leaves no state, cgroup or mount" {
  stop_sends_sigterm_and_rm_leaves_nothing "$SUBRUN_PLAIN"
}
@test "subrun: podman pause and unpause freeze and thaw the container" {
  pause_and_unpause_freeze_and_thaw "$SUBRUN_PLAIN"
}

# ---- runc, the control

@test "runc (control): podman run --rm prints the output and returns the exit code" {
  run_rm_prints_output_and_exit_code runc
}
@test "runc (control): podman run -d leaves a running container that runc itself reports" {
  run_detached_is_the_runtime_container runc
}
@test "runc (control): podman exec prints the output and returns the exit code (127 when not found)" {
  exec_prints_output_and_exit_code runc
}
@test "runc (control): podman stop delivers SIGTERM, and podman rm leaves no state, cgroup or mount" {
  stop_sends_sigterm_and_rm_leaves_nothing runc
}
@test "runc (control): podman pause and unpause freeze and thaw the container" {
  pause_and_unpause_freeze_and_thaw runc
}
