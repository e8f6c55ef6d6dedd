#!/usr/bin/env bats
# subrun lifecycle against real containers: run, create/start/state/kill/
# delete, list, exec, ps, pause/resume, update, hooks, and the cleanup of
# every failed create.

load ../lib/common

setup() {
  subrun_setup life
}

teardown() {
  subrun_teardown
}


@test "run prints the container's output and returns its exit code" {
  edit_config "$B" '.process.args = ["sh","-c","echo hi-from-$(hostname); exit 3"]'
  cd "$B"
  run sr run "$ID"
  [ "$status" -eq 3 ]
  [[ "$output" == *"hi-from-subrun"* ]]
  # run without --keep deletes the container
  run sr state "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"does not exist"* ]]
}

@test "create, start, state, kill, delete follow the OCI lifecycle" {
  cd "$B"
  sr create --pid-file "$B/pid" "$ID"
  run sr state "$ID"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .status)" = created ]
  [ "$(echo "$output" | jq -r .pid)" = "$(cat "$B/pid")" ]
  for k in ociVersion id pid status bundle rootfs created owner; do
    echo "$output" | jq -e "has(\"$k\")" >/dev/null
  done
  [ "$(echo "$output" | jq -r .bundle)" = "$B" ]
  sr start "$ID"
  [ "$(sr state "$ID" | jq -r .status)" = running ]
  run sr start "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"not created"* ]]
  run sr delete "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"running"* ]]
  sr kill "$ID" KILL
  for i in $(seq 50); do [ "$(sr state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.1; done
  [ "$(sr state "$ID" | jq -r .status)" = stopped ]
  sr delete "$ID"
  [ ! -e "$SUBRUN_ROOT/$ID" ]
  [ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "$ID")" ]
}

@test "list shows containers as a table and as runc-shaped json" {
  cd "$B"
  sr create "$ID"
  run sr list --format json
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.[0].id')" = "$ID" ]
  [ "$(echo "$output" | jq -r '.[0].status')" = created ]
  run sr list
  [[ "${lines[0]}" == ID*PID*STATUS*BUNDLE* ]]
  [[ "${lines[1]}" == "$ID"* ]]
  run sr list -q
  [ "$output" = "$ID" ]
}

@test "exec runs in the container's namespaces and returns the exit code" {
  cd "$B"
  sr run -d "$ID"
  run sr exec "$ID" sh -c 'hostname; readlink /proc/1/exe; exit 7'
  [ "$status" -eq 7 ]
  [ "${lines[0]}" = subrun ]
  [[ "${lines[1]}" == */busybox ]]
  run sr exec -e FOO=bar --cwd /tmp "$ID" sh -c 'echo $FOO $(pwd)'
  [ "$output" = "bar /tmp" ]
  run sr exec -u 65534:65534 "$ID" id
  [[ "$output" == "uid=65534"* ]]
  run sr exec "$ID" /no/such/binary
  [ "$status" -ne 0 ]
  [[ "$output" == *"/no/such/binary"* ]]
}

@test "signals the caller blocked or ignored do not reach the container's processes" {
  cd "$B"
  # the caller blocks TERM and USR1 and ignores INT and HUP; both survive
  # execve, so subrun itself must give its processes a clean slate
  in_dirty() {
    python3 -c 'import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1})
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
  }
  edit_config "$B" '.process.args = ["grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"]'
  run in_dirty "$SUBRUN" --root "$SUBRUN_ROOT" run "$ID"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr -d ' \t' | paste -sd' ')" = 'SigBlk:0000000000000000 SigIgn:0000000000000000' ]
  edit_config "$B" '.process.args = ["sleep", "100"]'
  sr run -d "$ID"
  run in_dirty "$SUBRUN" --root "$SUBRUN_ROOT" exec "$ID" grep -E '^Sig(Blk|Ign):' /proc/self/status
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr -d ' \t' | paste -sd' ')" = 'SigBlk:0000000000000000 SigIgn:0000000000000000' ]
}

@test "exec --process takes a whole process.json" {
  cd "$B"
  sr run -d "$ID"
  cat > "$B/proc.json" <<'JSON'
{"args":["sh","-c","echo proc-$X"],"env":["X=yes","PATH=/bin"],"cwd":"/"}
JSON
  run sr exec --process "$B/proc.json" "$ID"
  [ "$status" -eq 0 ]
  [ "$output" = proc-yes ]
}

@test "ps lists the container's processes" {
  cd "$B"
  sr run -d "$ID"
  sr exec -d "$ID" sleep 999
  run sr ps --format json "$ID"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq length)" -eq 2 ]
  run sr ps "$ID"
  [[ "${lines[0]}" == *PID* ]]
  [ "${#lines[@]}" -eq 3 ]
}

@test "pause freezes and resume thaws" {
  cd "$B"
  sr run -d "$ID"
  sr pause "$ID"
  [ "$(sr state "$ID" | jq -r .status)" = paused ]
  pid=$(sr state "$ID" | jq -r .pid)
  grep -q FROZEN /sys/fs/cgroup/freezer/subrun/"$ID"/freezer.state
  sr resume "$ID"
  [ "$(sr state "$ID" | jq -r .status)" = running ]
  run sr resume "$ID"
  [ "$status" -ne 0 ]
}

@test "update changes the memory and pids limits of a running container" {
  cd "$B"
  sr run -d "$ID"
  sr update --memory 64m --pids-limit 50 "$ID"
  [ "$(cat /sys/fs/cgroup/memory/subrun/"$ID"/memory.limit_in_bytes)" -eq $((64 << 20)) ]
  [ "$(cat /sys/fs/cgroup/pids/subrun/"$ID"/pids.max)" = 50 ]
  echo '{"pids":{"limit":77}}' | sr update -r - "$ID"
  [ "$(cat /sys/fs/cgroup/pids/subrun/"$ID"/pids.max)" = 77 ]
  run sr update --memory lots "$ID"
  [ "$status" -ne 0 ]
}

@test "resources from the config become cgroup limits" {
  edit_config "$B" '.linux.resources.memory = {"limit": 33554432} | .linux.resources.pids = {"limit": 20} | .linux.resources.cpu = {"shares": 256}'
  cd "$B"
  sr run -d "$ID"
  [ "$(cat /sys/fs/cgroup/memory/subrun/"$ID"/memory.limit_in_bytes)" -eq 33554432 ]
  [ "$(cat /sys/fs/cgroup/pids/subrun/"$ID"/pids.max)" = 20 ]
  [ "$(cat /sys/fs/cgroup/cpu/subrun/"$ID"/cpu.shares)" = 256 ]
}

@test "hooks run at their points with the state on stdin" {
  H="$B/hooks"; mkdir -p "$H"
  for k in prestart createRuntime createContainer startContainer poststart poststop; do
    printf '#!/bin/sh\ncat > %s/%s.json\n' "$H" "$k" > "$H/$k.sh"; chmod +x "$H/$k.sh"
  done
  edit_config "$B" '.hooks = {
     "prestart":[{"path":($h+"/prestart.sh")}], "createRuntime":[{"path":($h+"/createRuntime.sh")}],
     "poststart":[{"path":($h+"/poststart.sh")}], "poststop":[{"path":($h+"/poststop.sh")}]}' --arg h "$H"
  cd "$B"
  sr create "$ID"
  [ "$(jq -r .id "$H/prestart.json")" = "$ID" ]
  [ "$(jq -r .status "$H/prestart.json")" = created ]
  [ "$(jq -r .status "$H/createRuntime.json")" = creating ]
  [ "$(jq -r .pid "$H/createRuntime.json")" = "$(sr state "$ID" | jq -r .pid)" ]
  [ ! -e "$H/poststart.json" ]
  sr start "$ID"
  [ "$(jq -r .status "$H/poststart.json")" = running ]
  sr delete --force "$ID"
  [ "$(jq -r .status "$H/poststop.json")" = stopped ]
}

@test "a failing poststart hook is a warning and the later ones still run" {
  printf '#!/bin/sh\nexit 5\n' > "$B/bad.sh"; chmod +x "$B/bad.sh"
  printf '#!/bin/sh\necho ran >> %s/after\n' "$B" > "$B/good.sh"; chmod +x "$B/good.sh"
  edit_config "$B" '.hooks = {"poststart":[{"path":$b},{"path":$g}],
                              "poststop":[{"path":$b},{"path":$g}]}' --arg b "$B/bad.sh" --arg g "$B/good.sh"
  cd "$B"
  sr create "$ID"
  run sr start "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"poststart[0]"* ]]
  [ "$(sr state "$ID" | jq -r .status)" = running ]
  [ "$(cat "$B/after")" = ran ]
  sr kill "$ID" KILL
  for i in $(seq 50); do [ "$(sr state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.1; done
  run sr delete "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"poststop[0]"* ]]
  [ "$(cat "$B/after")" = "$(printf 'ran\nran')" ]
  [ ! -e "$SUBRUN_ROOT/$ID" ]
}

@test "poststart hooks run after the user's process is executed" {
  # a slow startContainer hook (run in the container) delays the init's
  # execve; poststart must still see the user's process
  printf '#!/bin/sh\npid=$(jq -r .pid)\ntr "\\0" " " < /proc/$pid/cmdline > %s/cmdline\n' "$B" > "$B/post.sh"
  chmod +x "$B/post.sh"
  edit_config "$B" '.hooks = {"startContainer":[{"path":"/bin/sh","args":["sh","-c","sleep 0.5"]}],
                              "poststart":[{"path":$p}]}' --arg p "$B/post.sh"
  cd "$B"
  sr create "$ID"
  sr start "$ID"
  [ "$(cat "$B/cmdline")" = "sleep 1000 " ]
  [ ! -e "$SUBRUN_ROOT/$ID/exec-done.fifo" ]
}

@test "delete refuses a created container without --force and leaves it alone" {
  cd "$B"
  sr create "$ID"
  run sr delete "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"created"* ]]
  [ "$(sr state "$ID" | jq -r .status)" = created ]
  sr delete --force "$ID"
  [ ! -e "$SUBRUN_ROOT/$ID" ]
}

@test "a deny-all device rule keeps the default nodes usable and linux.devices creatable" {
  edit_config "$B" '.linux.resources.devices = [{"allow":false,"access":"rwm"}]
    | .linux.devices = [{"path":"/dev/sn-test-null","type":"c","major":1,"minor":3,"fileMode":438}]
    | .process.args = ["sh","-c","echo x > /dev/null && head -c 4 /dev/urandom | wc -c && echo y > /dev/sn-test-null && echo ok"]'
  cd "$B"
  run sr run "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"4"* ]]
  [[ "$output" == *"ok"* ]]
}

@test "a container in a new user namespace is created and started" {
  edit_config "$B" '.linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":200000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":200000,"size":65536}]
    | .process.args = ["sh","-c","cat /proc/self/uid_map"]'
  chmod 755 "$B"   # mktemp's 0700 would keep the mapped root out
  cd "$B"
  run sr run "$ID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"200000"* ]]
}

@test "a failing prestart hook fails create and leaves nothing behind" {
  printf '#!/bin/sh\necho hook-says-no >&2\nexit 4\n' > "$B/bad.sh"; chmod +x "$B/bad.sh"
  edit_config "$B" '.hooks = {"prestart":[{"path":$p}]}' --arg p "$B/bad.sh"
  cd "$B"
  before=$(host_leftovers "$ID")
  run sr create "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"hook-says-no"* ]]
  [[ "$output" == *"prestart"* ]]
  [ "$(host_leftovers "$ID")" = "$before" ]
  [ ! -e "$SUBRUN_ROOT/$ID" ]
}

@test "a command missing from the rootfs fails create with a clear error and no leftovers" {
  edit_config "$B" '.process.args = ["/bin/does-not-exist"]'
  cd "$B"
  run sr create "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"does-not-exist"* ]]
  [ ! -e "$SUBRUN_ROOT/$ID" ]
  [ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "$ID")" ]
  [ -z "$(ps -eo args= | grep -F "$ID" | grep -v grep || true)" ]
}

@test "a malformed config is refused naming the field, and nothing is left" {
  cd "$B"
  edit_config "$B" '.process.rlimits += [{"type":"RLIMIT_FOO","hard":1,"soft":1}]'
  before=$(host_leftovers "$ID")
  run sr create "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *'process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"'* ]]
  [ "$(host_leftovers "$ID")" = "$before" ]
  echo '{"ociVersion": "1.0", "root": ' > "$B/config.json"
  run sr create "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"config.json: invalid JSON at line"* ]]
  [ ! -e "$SUBRUN_ROOT/$ID" ]
}

@test "a second create with the same id is refused and the first survives" {
  cd "$B"
  sr create "$ID"
  run sr create "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"already exists"* ]]
  [ "$(sr state "$ID" | jq -r .status)" = created ]
}

@test "bad ids and unknown commands get clear errors" {
  run sr create ../evil
  [ "$status" -ne 0 ]
  [[ "$output" == *"invalid container id"* ]]
  run sr frobnicate
  [ "$status" -ne 0 ]
  [[ "$output" == *"unknown command"* ]]
  run sr kill "$ID" NOTASIGNAL
  [ "$status" -ne 0 ]
  [[ "$output" == *"unknown signal"* ]]
}

@test "COMMAND --help prints the command's help and succeeds, as runc's does" {
  for c in create run exec kill delete state; do
    run sr "$c" --help
    [ "$status" -eq 0 ]
    [[ "$output" == "subrun $c: "* ]]
  done
}

@test "log-format json writes JSON error lines to --log" {
  run sr --log "$B/log.json" --log-format json state nope
  [ "$status" -ne 0 ]
  jq -e 'select(.level == "error") | .msg | test("does not exist")' "$B/log.json"
}

@test "spec writes a default config that subrun accepts; features is JSON" {
  D=$(mktemp -d)
  (cd "$D" && "$SUBRUN" spec)
  jq -e '.ociVersion and .process.args[0] == "sh"' "$D/config.json"
  run "$SUBRUN" spec --bundle "$D"
  [ "$status" -ne 0 ]
  rm -rf "$D"
  "$SUBRUN" features | jq -e '.linux.seccomp.enabled and (.linux.namespaces | index("user"))'
}
