#!/usr/bin/env bats
# The node's core cases again with `runtime = runc`: the daemon drives the
# runtime only through the OCI CLI, so it must not matter which one it is.
# (A smaller kill -9 count than the subrun file, to keep the suite short.)
# Here the supervisor is the ASan+UBSan build of subnode-sup; the other node
# files run the static musl one that ships (tests/lib/node.bash, NODE_SUP).

load ../lib/common
load ../lib/node

setup_file() {
  export NODE_LAYOUT_DIR=$(mktemp -d /tmp/sn-nodelayout-XXXXXX)
  export NODE_LAYOUT=$NODE_LAYOUT_DIR/busybox
  node_make_layout "$NODE_LAYOUT"
}
teardown_file() { rm -rf "$NODE_LAYOUT_DIR"; }
setup() {
  command -v runc >/dev/null || skip "runc not installed"
  NODE_RUNTIME=runc
  NODE_SUP=$NODE_BIN/subnode-sup
  node_start
  [ "$(sn node info --json | jq -r .Runtime)" = runc ]
}
teardown() { node_teardown; }

@test "runc: create, start, ps, inspect, logs kept apart, stop, rm leave nothing behind" {
  case_lifecycle
}

@test "runc: restart policy; restart count and subnodes survive a kill -9 of the daemon" {
  case_restart_policy_and_adoption
}

@test "runc: kill -9 of the daemon during 8 creates: every acknowledged subnode runs" {
  case_kill9_mid_create 8 0.25
}

@test "runc: run -it gives a shell on a terminal of the right size" {
  CHECK_SIZE=1 case_run_it
}

@test "runc: health checks: command, HTTP and TCP; restart when unhealthy" {
  case_health
}
