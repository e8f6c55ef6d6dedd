#!/usr/bin/env bats
# manager_rotation.bats — moves that keep a chain's quorum, on a manager and
# five real nodes (subnoded side by side on loopback, as manager_nodes.bats):
#   - a member's node leaves: its member moves to the fifth node with its
#     own data, never more than ⌊(4−1)/3⌋ = 1 member of the chain in motion,
#     and the old member removed only once the new one runs: at every
#     sample one of the two runs;
#   - a rotation interval of 4 s: every member moves in turn, one at a
#     time, each member always running somewhere; verify re-computes every
#     move (each rotation with its own draw).
# A monitor samples the chain and the nodes' members every ~0.3 s in the
# background (bounded; stopped by teardown through its PID).

load ../lib/common
load ../lib/node
load ../lib/manager

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }
teardown() {
  [ -z "${MON_PID:-}" ] || { kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null; }
  MON_PID=""
  mnode_teardown_all
  mgr_teardown
}

chain() { mgr_chain c1; }

# Five nodes and a chain c1 of 4 whose members keep, in their volume, the
# index of the member that first wrote it.
network_with_chain() {
  mnet_chain '[ -f /data/mine ] || echo $SUBNODE_INDEX > /data/mine; exec sleep 100000'
}

# monitor: every ~0.3 s (at most 400 times), one line: the seats in motion,
# then for each index 0..3 how many nodes have c1-<index> up, then how many
# members are paused. Up: running, or paused — the source of a copy is
# frozen for its consistent snapshot (a pause of the export, API.md
# Volumes), which is not a member gone. Into $MGR_DIR/mon.
monitor() {
  local n i line all moving
  for n in $(seq 400); do
    moving="$(chain | jq '[.seats[] | select(.from)] | length')"
    if [ -n "$moving" ]; then
      line=$moving all=""
      for i in 1 2 3 4 5; do all+="$(mnode_members "$i")"$'\n'; done
      for i in 0 1 2 3; do line+=" $(grep -cE "^c1-$i (running|paused)$" <<<"$all")"; done
      echo "$line $(grep -c ' paused$' <<<"$all")" >> "$MGR_DIR/mon"
    fi
    sleep 0.3
  done
}

# The monitor's samples: never 2 in motion, every member always up.
check_samples() {
  echo "# $(wc -l < "$MGR_DIR/mon") samples; in motion at most $(awk '{print $1}' "$MGR_DIR/mon" | sort -n | tail -1); samples with a member paused for a copy: $(awk '$6 > 0' "$MGR_DIR/mon" | wc -l)" >&3
  cat "$MGR_DIR/mon"
  [ "$(wc -l < "$MGR_DIR/mon")" -ge 3 ]
  run awk '$1 > 1 || $2 < 1 || $3 < 1 || $4 < 1 || $5 < 1' "$MGR_DIR/mon"
  echo "$output"
  [ -z "$output" ]
}

verify_holds() {
  run "$MGR_BIN/subnode-manager" verify --root "$MGR_ROOT"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "a node leaves: its member moves with its data, one at a time, the old one retired after the new one runs" {
  mgr_start --grace 2 --steady 3 --members 4
  network_with_chain
  spare=""
  for i in 1 2 3 4 5; do [ -n "$(mnode_members "$i")" ] || spare=$i; done
  [ -n "$spare" ]
  victim=$(mnode_index "$(chain | jq -r '.seats[1].node')")
  monitor & MON_PID=$!
  sleep 1
  t0=$(date +%s%N)
  run mapi "$ADMIN" POST "/v1/nodes/${MN_NAME[$victim]}/leave"
  [ "$(tail -1 <<<"$output")" = 204 ] || [ "$(tail -1 <<<"$output")" = 200 ]
  # in motion: the old member still runs on the leaving node
  [ "$(chain | jq -r '.seats[1].from')" = "${MN_NAME[$victim]}" ]
  [ "$(chain | jq -r '.seats[1].node')" = "${MN_NAME[$spare]}" ]
  WAIT_TRIES=600 wait_for eval '[ "$(chain | jq -r ".seats[1].node + \" \" + .seats[1].state + \" \" + (.seats[1].from // \"-\")")" = "${MN_NAME[$spare]} running -" ]'
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  WAIT_TRIES=300 wait_for eval '[ "$(mapi "$ADMIN" GET "/v1/nodes/${MN_NAME[$victim]}" | head -1 | jq -r .state)" = left ]'
  ms_left=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "# leave of ${MN_NAME[$victim]} → c1-1 running on ${MN_NAME[$spare]} and the old one retired: $ms ms; node left: $ms_left ms" >&3
  sleep 1
  kill "$MON_PID"; wait "$MON_PID" 2>/dev/null || true; MON_PID=""
  check_samples
  [ -z "$(mnode_members "$victim")" ]
  # from the nodes' own logs: the old member removed after the new one ran
  stamp() { grep "member \`c1-1\`: $2" "$1" | tail -1 | sed 's/^time="\([^"]*\)".*/\1/'; }
  t_new=$(stamp "${MN_DIR[$spare]}/daemon.log" "created and started")
  t_old=$(stamp "${MN_DIR[$victim]}/daemon.log" "no longer ours, removed")
  echo "# new member started $t_new, old one removed $t_old" >&3
  [ -n "$t_new" ] && [ -n "$t_old" ]
  [[ "$t_old" > "$t_new" ]]
  # its data: from its own old member first
  mnode_use "$spare"
  id=$(curl -s --unix-socket "${MN_SOCK[$spare]}" "http://x/containers/json" | jq -r '.[] | select(.Labels["subnode.member"] == "c1-1") | .Id')
  [ "$(sn exec "$id" cat /data/mine)" = 1 ]
  grep -q "member \`c1-1\`: data from member 1 on ${MN_NAME[$victim]}" "${MN_DIR[$spare]}/daemon.log"
  verify_holds
  curl -sf -H "Authorization: Bearer $ADMIN" "$MGR_URL/v1/log" > "$MGR_DIR/log"
  grep -q '"cause":"leave"' "$MGR_DIR/log"
  [ "$(grep -c '"kind":"release"' "$MGR_DIR/log")" = 1 ]
}

@test "a rotation interval moves every member in turn, one at a time, and verify re-computes each move" {
  mgr_start --grace 2 --steady 3 --members 4 --rotation-interval 4
  network_with_chain
  first=$(chain | jq -c '[.seats[].node]')
  monitor & MON_PID=$!
  t0=$(date +%s%N)
  # one round: each of the 4 seated at the start has moved once
  WAIT_TRIES=1500 wait_for eval '[ "$(curl -sf -H "Authorization: Bearer $ADMIN" "$MGR_URL/v1/log" | grep -c "\"cause\":\"running\"")" -ge 4 ]'
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  kill "$MON_PID"; wait "$MON_PID" 2>/dev/null || true; MON_PID=""
  curl -sf -H "Authorization: Bearer $ADMIN" "$MGR_URL/v1/log" > "$MGR_DIR/log"
  # each move: the rotate placement and its release, seconds apart
  jq -rs '[.[] | select(.kind == "place" and .cause == "rotate") | {s: .seats[0], t: .time}] as $p
          | [.[] | select(.kind == "release" and .cause == "running") | {s: .index, t: .time}] as $r
          | [range(0; [$p, $r] | map(length) | min) | $r[.].t - $p[.].t] | "\(length) rotations, ms each: \(.)"' "$MGR_DIR/log" > "$MGR_DIR/fig"
  echo "# rotation every 4 s: $(cat "$MGR_DIR/fig"); a round of 4 in $ms ms" >&3
  # the first round goes by seat: 0, 1, 2, 3
  [ "$(jq -rs '[.[] | select(.kind == "place" and .cause == "rotate") | .seats[0]][0:4] | map(tostring) | join(",")' "$MGR_DIR/log")" = "0,1,2,3" ]
  check_samples
  [ "$(chain | jq -c '[.seats[].node]')" != "$first" ]
  grep -q '"draw":"c1\.' "$MGR_DIR/log"
  verify_holds
  # a rotation's draw is its own log position: another one is refused
  line=$(grep -n '"cause":"rotate"' "$MGR_DIR/log" | head -1 | cut -d: -f1)
  sed -i "${line}s|\"draw\":\"\\(c1\\.[0-9]*\\)/[0-9]*\"|\"draw\":\"\\1/1\"|" "$MGR_DIR/log"
  run "$MGR_BIN/subnode-manager" verify --log "$MGR_DIR/log"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"line $line: "*"draw \`c1."*"/1\` is not"* ]]
}
