#!/usr/bin/env bats
# 128 subnodes of size small on one node: all created and running, then all
# removed with nothing left behind (cgroups, mounts, supervisors, runtime
# state, directories). Uses the optimised build (NODE_BIN=build/bin) so the
# test measures the node, not the sanitizers; runs once, with subrun (the
# runc file covers the same paths on a smaller count).
# Set NODE_SCALE_SKIP=1 to leave it out of a quick run.

load ../lib/common
load ../lib/node

setup_file() {
  export NODE_LAYOUT_DIR=$(mktemp -d /tmp/sn-nodelayout-XXXXXX)
  export NODE_LAYOUT=$NODE_LAYOUT_DIR/busybox
  node_make_layout "$NODE_LAYOUT"
}
teardown_file() { rm -rf "$NODE_LAYOUT_DIR"; }
setup() {
  [ -z "${NODE_SCALE_SKIP:-}" ] || skip "NODE_SCALE_SKIP is set"
  NODE_BIN=$REPO/build/bin
  node_start
}
teardown() { node_teardown; }

@test "128 small busybox subnodes created and running, then all removed with nothing left behind" {
  local t0 t1 t2
  t0=$(date +%s.%N)
  seq 128 | xargs -P 16 -I{} "$NODE_BIN/subnode" run -d --name s{} busybox sleep 100000 >/dev/null
  t1=$(date +%s.%N)
  [ "$(sn ps -q | wc -l)" = 128 ]
  [ "$(sn ps -a --json | jq '[.[] | select(.State == "running")] | length')" = 128 ]
  [ "$(sn node info --json | jq .Slices.Free)" = 0 ]
  run sn run -d busybox true
  [ "$status" -eq 125 ]
  [[ "$output" == *"0 of 128 free"* ]]
  [ "$(node_sup_pids | wc -l)" = 128 ]
  echo "# 128 created+running in $(echo "$t1 - $t0" | bc) s; daemon RSS $(awk '/VmRSS/ {print $2}' /proc/$NODE_PID/status) kB" >&3
  sleep 2.5   # the daemon trims its heap when idle
  echo "# daemon RSS after 2.5 s idle: $(awk '/VmRSS/ {print $2}' /proc/$NODE_PID/status) kB" >&3
  sn ps -q | xargs -P 16 -n 8 "$NODE_BIN/subnode" rm -f >/dev/null
  t2=$(date +%s.%N)
  echo "# 128 removed in $(echo "$t2 - $t1" | bc) s" >&3
  [ "$(sn ps -a -q | wc -l)" = 0 ]
  [ -z "$(node_leftovers)" ] || { node_leftovers; return 1; }
  [ "$(ls "$NODE_ROOT/images/snapshots" | wc -l)" = 0 ]
}

@test "kill -9 of subnoded during 128 creates, restart: every acknowledged subnode exists and runs, nothing orphaned" {
  case_kill9_mid_create 128 0.6
}
