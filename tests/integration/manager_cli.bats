#!/usr/bin/env bats
# manager_cli.bats — the `subnode` manager verbs (-M/SUBNODE_MANAGER,
# --token/SUBNODE_TOKEN) against a real subnode-manager on loopback, with
# simulated nodes: tables, --json, state changes, errors and exit codes.

load ../lib/common
load ../lib/manager

setup() {
  mgr_start --members 4 --grace 60
  for i in 1 2 3 4 5; do mgr_join "n$i" "op$i" "127.0.0.$i" >/dev/null; done
}
teardown() { mgr_teardown; }

msn() { "$MGR_BIN/subnode" -M "$MGR_URL" --token "$ADMIN" "$@"; }

@test "chain create, ls, inspect (table and --json), rm" {
  run msn chain create c1 --image busybox --size small -e A=1 -- sh -c 'sleep 1'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "chain c1 (c1."*"): 4 members of small" ]]
  [ "$(grep -c '30000-30063   assigned' <<<"$output")" = 4 ]
  run msn chain ls
  [[ "${lines[1]}" == "c1 "*"small"*"4"*"4"*"0"*"busybox" ]]
  run msn chain inspect c1 --json
  [ "$(jq '[.seats[] | .node] | unique | length' <<<"$output")" = 4 ]
  [ "$(jq -c .cmd <<<"$output")" = '["sh","-c","sleep 1"]' ]
  [ "$(jq -r '.seats[0].ports.first' <<<"$output")" = 30000 ]
  run msn chain create c1 --image busybox
  [ "$status" -eq 1 ]
  [[ "$output" == *"chain \`c1\` already exists"* ]]
  run msn chain create c2 --image busybox --size huge
  [ "$status" -eq 1 ]
  [[ "$output" == *"size: unknown size \`huge\`"* ]]
  run msn chain rm c1
  [ "$status" -eq 0 ]
  run msn chain inspect c1
  [ "$status" -eq 1 ]
  [[ "$output" == *"no chain \`c1\`"* ]]
}

@test "node ls, inspect, maintenance, activate, leave; env instead of flags" {
  run msn node ls
  [ "${#lines[@]}" -eq 6 ]
  [[ "${lines[1]}" == "n1 "*"active"*"127.0.0.1"*"op1"*"0/16"* ]]
  SUBNODE_MANAGER=$MGR_URL SUBNODE_TOKEN=$ADMIN run "$MGR_BIN/subnode" node maintenance n1
  [ "$output" = "n1: maintenance" ]
  run msn node maintenance n1
  [ "$status" -eq 1 ]
  [[ "$output" == *"node \`n1\` is maintenance: cannot maintenance"* ]]
  run msn node activate n1
  [ "$output" = "n1: active" ]
  run msn node leave n2
  [ "$output" = "n2: leaving" ]
  run msn node inspect n1
  [[ "$output" == *"active → maintenance  (admin: maintenance)"* ]]
  run msn node ls --json
  [ "$(jq -r '.[] | select(.name == "n2") | .state' <<<"$output")" = leaving ]
}

@test "no manager, a bad token, an unknown verb" {
  run "$MGR_BIN/subnode" node ls
  [ "$status" -eq 2 ]
  [[ "$output" == *"-M URL or \$SUBNODE_MANAGER"* ]]
  run "$MGR_BIN/subnode" -M "$MGR_URL" --token nope node ls
  [ "$status" -eq 1 ]
  [[ "$output" == *"bad token"* ]]
  run msn chain frobnicate
  [ "$status" -eq 2 ]
}
