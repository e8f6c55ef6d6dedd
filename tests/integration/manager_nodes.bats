#!/usr/bin/env bats
# manager_nodes.bats — a manager and five real nodes (subnoded side by side
# on loopback, each with its own root, socket and cgroup parent; --manager
# starts each one's link): a chain of 4 busybox members on 4 distinct
# nodes, each with its generated peer config; kill -9 of a member node's
# daemon and subnodes → the member running on the 5th node (the figure is
# printed); the dead node brought back removes its old member; verify
# re-computes the run, and fails on a log with one byte changed.
# (Nodes in network namespaces and the allow-lists wait for the networks
# work; DESIGN.md, Testing on one machine.)

load ../lib/common
load ../lib/node
load ../lib/manager

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }
setup() { mgr_start --grace 2 --steady 3 --members 4; }
teardown() {
  mnode_teardown_all
  mgr_teardown
}

chain() { mgr_chain c1; }

@test "a chain of 4 on real nodes survives the kill -9 of a member's node; the node back cleans up; verify holds" {
  mnet_chain 'echo member $SUBNODE_INDEX of $SUBNODE_MEMBERS peers $SUBNODE_PEERS; exec sleep 100000'
  [ "$(chain | jq '[.seats[].node] | unique | length')" = 4 ]
  # each member runs on the node its seat names, with its config
  for s in 0 1 2 3; do
    node=$(chain | jq -r ".seats[$s].node")
    i=$(mnode_index "$node")
    mnode_members "$i" | grep -qx "c1-$s running"
    mnode_use "$i"
    id=$(curl -s --unix-socket "${MN_SOCK[$i]}" "http://x/containers/json" | jq -r ".[] | select(.Labels[\"subnode.member\"] == \"c1-$s\") | .Id")
    run curl -s --unix-socket "${MN_SOCK[$i]}" "http://x/containers/$id/logs?stdout=1&raw=1"
    [[ "$output" == *"member $s of 4 peers 0=127.0.0."*":300"* ]]
    run sn exec "$id" cat /etc/subnode/peers.json
    [[ "$output" == *"\"name\": \"c1-$s\""* ]]
    # its data volume at /data (SUBNODE_DATA), a file system of its own
    sn exec "$id" sh -c 'echo "$SUBNODE_INDEX" > "$SUBNODE_DATA/mine"; seq 1 5000 > "$SUBNODE_DATA/blocks"'
    [ "$(sn volume inspect "c1-$s-data" | jq -r '.[0].Name')" = "c1-$s-data" ]
    [ "$(sn exec "$id" cat /data/mine)" = "$s" ]
  done
  # the spare: the node without a member
  spare=""
  for i in 1 2 3 4 5; do [ -n "$(mnode_members "$i")" ] || spare=$i; done
  [ -n "$spare" ]
  victim_name=$(chain | jq -r '.seats[2].node')
  victim=$(mnode_index "$victim_name")
  mnode_kill "$victim"
  t0=$(date +%s%N)
  WAIT_TRIES=600 wait_for eval '[ "$(chain | jq -r ".seats[2].node + \" \" + .seats[2].state")" = "${MN_NAME[$spare]} running" ]'
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "# kill -9 of node ${MN_NAME[$victim]} → member c1-2 running on ${MN_NAME[$spare]}: $ms ms (grace 2 s)" >&3
  mnode_members "$spare" | grep -qx "c1-2 running"
  [ "$ms" -le 10000 ]
  # with its data: the volume copied from a live member of the chain (the
  # blocks every member has, and that member's own file: not 2's, whose
  # node is gone)
  mnode_use "$spare"
  id=$(curl -s --unix-socket "${MN_SOCK[$spare]}" "http://x/containers/json" | jq -r '.[] | select(.Labels["subnode.member"] == "c1-2") | .Id')
  [ "$(sn exec "$id" sh -c 'wc -l < /data/blocks')" = 5000 ]
  from=$(sn exec "$id" cat /data/mine)
  [[ "$from" == [013] ]]
  grep -q "member \`c1-2\`: data from member $from" "${MN_DIR[$spare]}/daemon.log"
  # the source's node granted exactly that volume, and shows no token
  src=$(mnode_index "$(chain | jq -r ".seats[$from].node")")
  run curl -s --unix-socket "${MN_SOCK[$src]}" http://x/transfers/grants
  echo "$output"
  [ "$(jq -r '.[0].volume' <<<"$output")" = "c1-$from-data" ]
  [ "$(jq '.[0] | has("token")' <<<"$output")" = false ]
  # over TCP, a token that is no grant and no node token reads nothing
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(printf '%064d' 7)" \
      "http://127.0.0.$src:${MN_PORT[$src]}/volumes/c1-$from-data/export")" = 401 ]
  [ "$(mapi "$ADMIN" GET "/v1/nodes/${MN_NAME[$victim]}" | head -1 | jq -r .state)" = down ]
  # the dead node comes back: its old member goes, and it becomes active
  mnode_restart "$victim"
  WAIT_TRIES=600 wait_for eval '[ -z "$(mnode_members "$victim")" ]'
  # and its volume with it
  mnode_use "$victim"
  WAIT_TRIES=100 wait_for eval '[ "$(sn volume ls -q 2>/dev/null | grep -c "^c1-2-data$")" = 0 ]'
  WAIT_TRIES=300 wait_for eval '[ "$(mapi "$ADMIN" GET "/v1/nodes/${MN_NAME[$victim]}" | head -1 | jq -r .state)" = active ]'
  # the chain is whole and verify re-computes every placement
  [ "$(chain | jq .running)" = 4 ]
  run "$MGR_BIN/subnode-manager" verify --root "$MGR_ROOT"
  echo "$output"
  [ "$status" -eq 0 ]
  curl -sf -H "Authorization: Bearer $ADMIN" "$MGR_URL/v1/log" > "$MGR_DIR/log"
  grep -q '"cause":"down"' "$MGR_DIR/log"
  sed -i '2s/"cause":"joined"/"cause":"joineD"/' "$MGR_DIR/log"
  run "$MGR_BIN/subnode-manager" verify --log "$MGR_DIR/log"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"line 2: hash does not match"* ]]
}
