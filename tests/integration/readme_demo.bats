#!/usr/bin/env bats
# readme_demo.bats — the README's main job, run as a new user runs it:
# `bash scripts/demo.sh` (a manager, five nodes, a chain of four, a node's
# death and the failover) ends with "demo done", shows what it promises,
# and leaves nothing behind: no process, cgroup, mount, loop device or
# directory of its own.

load ../lib/common

setup() {
  DEMO_TMP=$(mktemp -d /tmp/sn-demo-test.XXXXXX)
}

teardown() {
  local d
  # a failed run may have left its network: the script's own --stop
  for d in "$DEMO_TMP"/subnode-demo.*; do
    [ -e "$d/manager.pid" ] && timeout 120 bash scripts/demo.sh --stop "$d" >/dev/null 2>&1
  done
  rm -rf "$DEMO_TMP"
}

@test "README: scripts/demo.sh runs a network with a chain through a node's death and leaves nothing" {
  cd "$BATS_TEST_DIRNAME/../.."
  run timeout 600 env TMPDIR="$DEMO_TMP" bash scripts/demo.sh
  echo "$output" | tail -40
  [ "$status" -eq 0 ]
  [[ "$output" == *"demo done"* ]]
  # five nodes joined, the chain placed on four distinct nodes and verified
  [ "$(grep -c '^node-[1-5] ' <<<"$output")" -ge 5 ]
  [[ "$output" == *"verify"* ]]
  [[ "$output" != *"FAIL"* ]]
  # the members produced blocks, and the failover moved seat 1
  [[ "$output" =~ block\ [0-9]+ ]]
  [[ "$output" =~ seat\ 1:\ node-[1-5]\ running\ —\ [0-9]+\ ms ]]
  # nothing of it is left
  local d
  d=$(grep -o "$DEMO_TMP/subnode-demo\.[A-Za-z0-9]*" <<<"$output" | head -1)
  [ -n "$d" ]
  [ -z "$(ls -A "$DEMO_TMP")" ]
  [ -z "$(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "subnode-demo-${d##*.}-*" 2>/dev/null)" ]
  not grep -q "$DEMO_TMP" /proc/self/mountinfo
  not bash -c "losetup -nO BACK-FILE | grep -q '$DEMO_TMP'"
  # (the pattern's [o] keeps grep from finding its own command line)
  not bash -c "grep -ls '$DEMO_TMP/subnode-dem[o]' /proc/[0-9]*/cmdline"
}
