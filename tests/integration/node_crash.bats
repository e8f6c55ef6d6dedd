#!/usr/bin/env bats
# A crash of the daemon between any two steps of create, start, stop and
# remove: the daemon kills itself with SIGKILL at the named step
# (SUBNODED_CRASH_AT, node_crashpoint), is started again, and the state it
# repairs must be whole — the subnode is either gone without a trace or
# there and in the state asked for — and nothing is orphaned.

load ../lib/common
load ../lib/node

setup_file() {
  export NODE_LAYOUT_DIR=$(mktemp -d /tmp/sn-nodelayout-XXXXXX)
  export NODE_LAYOUT=$NODE_LAYOUT_DIR/busybox
  node_make_layout "$NODE_LAYOUT"
}
teardown_file() { rm -rf "$NODE_LAYOUT_DIR"; }
setup() { node_start; }
teardown() { node_teardown; }

crash_daemon() { node_crash_daemon "$@"; }

state_of() { sn inspect "$1" 2>/dev/null | jq -r '.[0].State.Status'; }

# Each check returns on its own: the function is also called on the left
# of `||`, where bash runs it with set -e off.
gone_without_trace() {
  run sn inspect c
  [ "$status" -eq 1 ] || { echo "inspect c: status $status: $output"; return 1; }
  [ -z "$(node_leftovers)" ] || { node_leftovers; return 1; }
  [ "$(ls "$NODE_ROOT/images/snapshots" | wc -l)" = 0 ] || { echo "snapshots left"; return 1; }
}

@test "crash during a create before its row says created: the create is undone without a trace" {
  for step in create-row create-dir create-bundle; do
    crash_daemon "$step" sn run -d --name c busybox sleep 1000
    gone_without_trace
  done
}

@test "crash after the create or during the start of run -d: the subnode runs after the repair" {
  for step in create-created start-desired start-spawned; do
    crash_daemon "$step" sn run -d --name c busybox sleep 1000
    [ "$(state_of c)" = running ] || { echo "$step: $(state_of c)"; cat "$NODE_DIR/daemon.log"; return 1; }
    [ "$(node_sup_pids | wc -l)" = 1 ]
    sn rm -f c >/dev/null
    gone_without_trace
  done
}

@test "crash during a stop: the stop is finished by the repair" {
  for step in stop-marked stop-signalled; do
    sn run -d --name c busybox sleep 1000 >/dev/null
    crash_daemon "$step" sn stop -t 30 c
    [ "$(state_of c)" = exited ] || { echo "$step: $(state_of c)"; return 1; }
    [ -z "$(node_sup_pids)" ]
    sn rm c >/dev/null
    gone_without_trace
  done
}

@test "crash at any step of a remove: the repair finishes it, nothing is left" {
  for step in remove-marked remove-signalled remove-halted destroy-runtime destroy-bundle destroy-dir; do
    sn run -d --name c busybox sleep 1000 >/dev/null
    crash_daemon "$step" sn rm -f c
    gone_without_trace || { echo "after $step"; return 1; }
  done
}
