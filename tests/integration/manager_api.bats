#!/usr/bin/env bats
# manager_api.bats — subnode-manager serve over real HTTP on loopback, with
# simulated nodes (curl as the node): tokens, join, heartbeats, chains
# placed on distinct nodes, bad input, the desired-subnodes watch, a silent
# node marked down with its member moved, maintenance and leave (its member
# kept until the move's new one runs), metrics,
# and verify of the whole run (and of a log with one byte changed).

load ../lib/common
load ../lib/manager

setup() { mgr_start --grace 4 --steady 1 --members 4; }
teardown() { mgr_teardown; }

load ../lib/node  # wait_for

beat() { # NAME CRED [BODY]
  mapi "$2" POST "/v1/nodes/$1/heartbeat" -d "${3:-{\"units_used\":0,\"members\":[]\}}" | tail -1
}

@test "tokens are made mode 0600, routes refuse missing or wrong tokens" {
  [ "$(stat -c %a "$MGR_ROOT/admin.token")" = 600 ]
  [ "$(stat -c %a "$MGR_ROOT/join.token")" = 600 ]
  run mapi "" GET /v1/nodes
  [ "$(tail -1 <<<"$output")" = 401 ]
  [[ "$output" == *'"message":"this route needs `Authorization: Bearer <token>`"'* ]]
  run mapi "$JOIN" GET /v1/nodes
  [ "$(tail -1 <<<"$output")" = 401 ]
  run mapi "$ADMIN" POST /v1/join -d '{"name":"a","address":"127.0.0.1","units":4,"port_base":30000}'
  [ "$(tail -1 <<<"$output")" = 201 ]  # the admin token may join too
  run mapi "wrong-token-value" POST /v1/join -d '{"name":"b","address":"127.0.0.1","units":4,"port_base":30000}'
  [ "$(tail -1 <<<"$output")" = 401 ]
  run mapi "$ADMIN" GET /v1/nope
  [ "$(tail -1 <<<"$output")" = 404 ]
  run mapi "$ADMIN" PUT /v1/nodes
  [ "$(tail -1 <<<"$output")" = 405 ]
}

@test "join gives a credential; the join token is not one; bad joins are refused and change nothing" {
  cred=$(mgr_join n1 opA)
  [ "$(beat n1 "$cred")" = 200 ]
  [ "$(beat n1 "$JOIN")" = 401 ]
  run mapi "$JOIN" POST /v1/join -d '{"name":"n1","address":"127.0.0.1","units":4,"port_base":30000}'
  [ "$(tail -1 <<<"$output")" = 409 ]
  [[ "$output" == *"node \`n1\` is already in the network"* ]]
  run mapi "$JOIN" POST /v1/join -d '{"name":"n2","address":"nowhere","units":4,"port_base":30000}'
  [ "$(tail -1 <<<"$output")" = 400 ]
  [[ "$output" == *'address: must be an IPv4 or IPv6 address'* ]]
  run mapi "$JOIN" POST /v1/join -d '{"name":"n2",'
  [ "$(tail -1 <<<"$output")" = 400 ]
  # a heartbeat claiming more units than the node has
  run beat n1 "$cred" '{"units_used":17}'
  [ "$output" = 400 ]
  run mapi "$ADMIN" GET /v1/nodes
  [ "$(head -1 <<<"$output" | jq length)" = 1 ]
}

@test "a chain of 4 on 4 distinct nodes; a silent node goes down and its member moves; verify holds" {
  declare -A cred loop
  for i in 1 2 3 4 5; do
    cred[n$i]=$(mgr_join "n$i" "op$i" "127.0.0.$i")
    mgr_beat_loop "n$i" "${cred[n$i]}" &
    loop[n$i]=$!
    MGR_PIDS+=("$!")
  done
  run mapi "$ADMIN" POST /v1/chains -d '{"name":"c1","size":"small","image":"busybox","env":["A=1"]}'
  [ "$(tail -1 <<<"$output")" = 201 ]
  body=$(head -1 <<<"$output")
  [ "$(jq '[.seats[].node] | unique | length' <<<"$body")" = 4 ]
  [ "$(jq .members <<<"$body")" = 4 ]
  # bad chains
  run mapi "$ADMIN" POST /v1/chains -d '{"name":"c1","image":"busybox"}'
  [ "$(tail -1 <<<"$output")" = 409 ]
  run mapi "$ADMIN" POST /v1/chains -d '{"name":"c2","size":"huge","image":"busybox"}'
  [ "$(tail -1 <<<"$output")" = 400 ]
  [[ "$output" == *'size: unknown size `huge`'* ]]
  run mapi "$ADMIN" POST /v1/chains -d '{"name":"c2","image":"busybox","members":6}'
  [ "$(tail -1 <<<"$output")" = 409 ]
  [[ "$output" == *"5 eligible"* ]]
  # the member's assignment as its node sees it
  victim=$(jq -r '.seats[1].node' <<<"$body")
  spare=$(for i in 1 2 3 4 5; do jq -e --arg n "n$i" 'any(.seats[]; .node == $n)' <<<"$body" >/dev/null || echo "n$i"; done)
  run mapi "${cred[$victim]}" GET "/v1/nodes/$victim/desired"
  [ "$(tail -1 <<<"$output")" = 200 ]
  [ "$(head -1 <<<"$output" | jq -r '.subnodes[0].name')" = c1-1 ]
  [ "$(head -1 <<<"$output" | jq '.subnodes[0].peers | length')" = 4 ]
  rev=$(mapi "${cred[$spare]}" GET "/v1/nodes/$spare/desired" | head -1 | jq .revision)
  # a node cannot read another's assignments with its own credential
  run mapi "${cred[$spare]}" GET "/v1/nodes/$victim/desired"
  [ "$(tail -1 <<<"$output")" = 401 ]
  # the spare watches; the victim falls silent
  mapi "${cred[$spare]}" GET "/v1/nodes/$spare/desired?after=$rev&wait=30" > "$MGR_DIR/watch" &
  watch=$!
  kill "${loop[$victim]}"
  start=$(date +%s%N)
  wait "$watch"
  echo "# the spare's watch woke $(( ($(date +%s%N) - start) / 1000000 )) ms after the victim's last heartbeat (grace 4 s)" >&3
  [ "$(head -1 "$MGR_DIR/watch" | jq -r '.subnodes[0].name')" = c1-1 ]
  [ "$(mapi "$ADMIN" GET "/v1/nodes/$victim" | head -1 | jq -r .state)" = down ]
  run mapi "$ADMIN" GET /v1/chains/c1
  [ "$(head -1 <<<"$output" | jq -r '.seats[1].node')" = "$spare" ]
  [ "$(head -1 <<<"$output" | jq '[.seats[].node] | unique | length')" = 4 ]
  # the spare reports it running: the failover is measured
  echo '{"units_used":1,"members":[{"chain":"c1","index":1,"state":"running","health":""}]}' > "$MGR_DIR/beat-$spare.json"
  WAIT_TRIES=100 wait_for eval '[ "$(mapi "$ADMIN" GET /v1/chains/c1 | head -1 | jq -r ".seats[1].state")" = running ]'
  run curl -s "$MGR_URL/metrics"
  [[ "$output" == *'subnode_manager_failover_seconds_count 1'* ]]
  [[ "$output" == *'subnode_manager_nodes{state="down"} 1'* ]]
  curl -s "$MGR_URL/metrics" | promtool check metrics
  # maintenance, then leave of another member node
  other=$(mapi "$ADMIN" GET /v1/chains/c1 | head -1 | jq -r '.seats[0].node')
  [ "$(mapi "$ADMIN" POST "/v1/nodes/$other/maintenance" | tail -1)" = 200 ]
  [ "$(mapi "$ADMIN" POST "/v1/nodes/$other/maintenance" | tail -1)" = 409 ]
  # no active node is free (the victim is down): the member stays on the
  # leaving node, which keeps running it (a move is make before break)…
  [ "$(mapi "$ADMIN" POST "/v1/nodes/$other/leave" | tail -1)" = 200 ]
  run mapi "$ADMIN" GET /v1/chains/c1
  [ "$(head -1 <<<"$output" | jq -r '.seats[0].node + " " + (.seats[0].from // "-")')" = "$other -" ]
  # …until the victim is back and steady: then it moves there, the old one
  # kept until the new one is reported running
  mgr_beat_loop "$victim" "${cred[$victim]}" &
  MGR_PIDS+=("$!")
  WAIT_TRIES=200 wait_for eval '[ "$(mapi "$ADMIN" GET /v1/chains/c1 | head -1 | jq -r ".seats[0].from")" = "$other" ]'
  [ "$(mapi "$ADMIN" GET /v1/chains/c1 | head -1 | jq -r '.seats[0].node')" = "$victim" ]
  [ "$(mapi "$ADMIN" GET "/v1/nodes/$victim" | head -1 | jq -r .state)" = active ]
  [ "$(mapi "$ADMIN" GET "/v1/nodes/$other" | head -1 | jq -r .state)" = leaving ]
  echo '{"units_used":1,"members":[{"chain":"c1","index":0,"state":"running","health":""}]}' > "$MGR_DIR/beat-$victim.json"
  WAIT_TRIES=100 wait_for eval '[ "$(mapi "$ADMIN" GET /v1/chains/c1 | head -1 | jq -r ".seats[0].from // \"-\"")" = - ]'
  [ "$(mapi "$ADMIN" GET /v1/chains/c1 | head -1 | jq -r '.seats[0].node')" = "$victim" ]
  # the leaving node reports nothing running: left, and its heartbeats refused
  WAIT_TRIES=100 wait_for eval '[ "$(mapi "$ADMIN" GET /v1/nodes/$other | head -1 | jq -r .state)" = left ]'
  [ "$(beat "$other" "${cred[$other]}")" = 410 ]
  # a new epoch with a beacon, a chain in it, and verify of it all
  [ "$(mapi "$ADMIN" POST /v1/epochs -d '{"beacon":"0123abcd"}' | tail -1)" = 201 ]
  [ "$(mapi "$ADMIN" POST /v1/chains -d '{"name":"c3","image":"busybox","members":3}' | tail -1)" = 201 ]
  [ "$(mapi "$ADMIN" DELETE /v1/chains/c3 | tail -1)" = 204 ]
  run mapi "$ADMIN" GET /v1/verify
  [ "$(head -1 <<<"$output" | jq .ok)" = true ]
  run "$MGR_BIN/subnode-manager" verify --root "$MGR_ROOT"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"placements re-computed"*": ok" ]]
  curl -sf -H "Authorization: Bearer $ADMIN" "$MGR_URL/v1/log" > "$MGR_DIR/log"
  grep -q '"cause":"down"' "$MGR_DIR/log"
  grep -q '"to":"leaving"' "$MGR_DIR/log"
  grep -q '"to":"maintenance"' "$MGR_DIR/log"
  grep -q '"cause":"leave"' "$MGR_DIR/log"
  grep -q '"kind":"release"' "$MGR_DIR/log"
  run "$MGR_BIN/subnode-manager" verify --log "$MGR_DIR/log"
  [ "$status" -eq 0 ]
  # one byte changed: a digit of a free-units figure in a placement
  python3 - "$MGR_DIR/log" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'"nodes":[["') + 12
i = b.index(b'],[', i) - 1
b[i] = ord('7') if b[i] != ord('7') else ord('8')
open(p, 'wb').write(b)
PY
  run "$MGR_BIN/subnode-manager" verify --log "$MGR_DIR/log"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"hash does not match"* ]]
  [[ "$output" == *"FAILED"* ]]
}

@test "the manager keeps everything across a restart, and gives every node a grace period" {
  cred=$(mgr_join n1 opA)
  for i in 2 3 4; do mgr_join "n$i" "op$i" >/dev/null; done
  [ "$(mapi "$ADMIN" POST /v1/chains -d '{"name":"c1","image":"busybox"}' | tail -1)" = 201 ]
  kill -9 "$MGR_PID"
  wait "$MGR_PID" 2>/dev/null || true
  mgr_daemon --grace 4 --steady 1 --members 4
  [ "$(mapi "$ADMIN" GET /v1/chains/c1 | head -1 | jq .placed)" = 4 ]
  # just after the start nobody is down, though nobody heartbeated for a while
  [ "$(mapi "$ADMIN" GET /v1/nodes/n1 | head -1 | jq -r .state)" = active ]
  [ "$(beat n1 "$cred")" = 200 ]
  run "$MGR_BIN/subnode-manager" verify --root "$MGR_ROOT"
  [ "$status" -eq 0 ]
}

@test "the operator rule: 6 nodes of 2 operators refuse a chain of 4; with 4 operators, one member each" {
  mgr_teardown
  mgr_start --grace 60 --members 4  # these nodes do not heartbeat
  for i in 1 2 3 4 5 6; do mgr_join "n$i" "op$(( i % 2 ))" >/dev/null; done
  run mapi "$ADMIN" POST /v1/chains -d '{"name":"bft","image":"busybox","members":4}'
  echo "$output"
  [ "$(tail -1 <<<"$output")" = 409 ]
  [[ "$output" == *"4 members allow at most 1 on the nodes of one operator; the 6 eligible nodes belong to 2 operators, too few"* ]]
  # a third operator: still too few for 4; a chain of 3 fits, one per operator…
  mgr_join n7 opX >/dev/null
  run mapi "$ADMIN" POST /v1/chains -d '{"name":"bft","image":"busybox","members":4}'
  [ "$(tail -1 <<<"$output")" = 409 ]
  run mapi "$ADMIN" POST /v1/chains -d '{"name":"three","image":"busybox","members":3}'
  [ "$(tail -1 <<<"$output")" = 201 ]
  [ "$(head -1 <<<"$output" | jq '[.seats[].node] | map(ltrimstr("n") | tonumber) | map(if . == 7 then "opX" else "op\(. % 2)" end) | unique | length')" = 3 ]
  # …and a 4th operator makes room for the chain of 4, one member per operator
  mgr_join n8 opY >/dev/null
  run mapi "$ADMIN" POST /v1/chains -d '{"name":"bft","image":"busybox","members":4}'
  [ "$(tail -1 <<<"$output")" = 201 ]
  ops=$(mapi "$ADMIN" GET /v1/nodes | head -1 | jq -c 'map({(.name): .operator}) | add')
  [ "$(head -1 <<<"$output" | jq --argjson ops "$ops" '[.seats[].node | $ops[.]] | unique | length')" = 4 ]
}

# ---- issue 10, rows 1-3 against the manager (the same src/api limits)

hc() { timeout 60 python3 "$REPO/tests/lib/hostile_client.py" "$@"; }
mgr_threads() { awk '/^Threads/ {print $2}' "/proc/$MGR_PID/status"; }
mgr_rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$MGR_PID/status"; }

@test "hostile clients: 300 query arguments a 414, silence closed, one client capped, no token a 401 before the body" {
  mgr_teardown
  mgr_start --grace 60 --members 4 --http-timeout 2 --http-client-connections 5
  local q=$(python3 -c 'print("&".join("a%d=b" % i for i in range(300)))')
  [ "$(hc status "127.0.0.1:$MGR_PORT" "/metrics?$q" --wait 5)" = 414 ]
  [ "$(hc status "127.0.0.1:$MGR_PORT" /metrics --headers 300 --wait 5)" = 431 ]
  run hc slow "127.0.0.1:$MGR_PORT" 8 8
  echo "slow: $output"
  [ "$output" = "refused=3 closed=5 open=0" ]
  # the token before the body: on a join, an admin route, a node's route,
  # and no route at all (a 404 before the body too)
  [ "$(hc early "127.0.0.1:$MGR_PORT" 2 1048576 "" /v1/join)" = "401 401" ]
  [ "$(hc early "127.0.0.1:$MGR_PORT" 1 1048576 "$JOIN" /v1/chains)" = 401 ]
  [ "$(hc early "127.0.0.1:$MGR_PORT" 1 1048576 "$JOIN" /v1/nodes/n9/heartbeat)" = 401 ]
  [ "$(hc early "127.0.0.1:$MGR_PORT" 1 1048576 "$ADMIN" /v1/nope)" = 404 ]
  local before=$(mgr_rss_kb)
  run hc body "127.0.0.1:$MGR_PORT" 20 1048576 /v1/chains
  echo "statuses: $output; rss $before -> $(mgr_rss_kb) kB"
  [[ "$output" != *none* ]]
  [ $(( $(mgr_rss_kb) - before )) -lt 4096 ]
  # a watch held longer than the timeout still gets its answer
  cred=$(mgr_join n1 opA)
  run mapi "$cred" GET "/v1/nodes/n1/desired?after=999999&wait=4"
  [ "$(tail -1 <<<"$output")" = 200 ]
  [ "$(mgr_threads)" -le 20 ]
  [ "$(mapi "$ADMIN" GET /v1/nodes | tail -1)" = 200 ]
}

@test "hostile clients: --http-* out of range are refused, naming the option" {
  run timeout 10 "$MGR_BIN/subnode-manager" serve --root "$MGR_DIR/r2" --listen 127.0.0.1:1 --http-max-args 0
  [ "$status" -ne 0 ]
  [[ "$output" == *"--http-max-args: http_max_args: must be 1..128"* ]]
  run timeout 10 "$MGR_BIN/subnode-manager" serve --root "$MGR_DIR/r2" --listen 127.0.0.1:1 --http-timeout 1e3
  [ "$status" -ne 0 ]
  [[ "$output" == *"--http-timeout: http_timeout: must be 1..86400"* ]]
}
