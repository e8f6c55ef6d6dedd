#!/usr/bin/env bats
# Node networking (issue 12): the bridge, published ports and port slots,
# allow-lists changed live, two daemons reaching each other, 128 slots,
# crash points. Every daemon runs inside a network namespace made by the
# test (NODE_NETNS), with peers in namespaces of their own joined by veth
# pairs: no traffic leaves the namespaces the test made, and deleting them
# removes every bridge, veth and nftables table the test made, also after
# a failure.
#
# Nothing may hang the file: each test has a time limit (bats kills what it
# started and runs teardown), a wait gives up after WAIT_SECS of wall clock
# however long each try takes, and a process a test starts in the
# background closes bats' output (fd 3, which bats waits on before it
# ends) and is killed in teardown even when the test failed before it did.

load ../lib/common
load ../lib/node

: "${BATS_TEST_TIMEOUT:=${SN_TEST_TIMEOUT_NET:-300}}"
WAIT_SECS=${WAIT_SECS:-60}

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }

NETNSES=()
BG_PIDS=()
N1=()

# bg CMD...: CMD in the background, without bats' fd 3; its PID (CMD's own:
# a simple command is exec'd, as `ip netns exec` execs its command) in
# $REPLY and in BG_PIDS, which teardown stops.
bg() {
  "$@" 3>&- &
  REPLY=$!
  BG_PIDS+=("$REPLY")
}

# bg_stop PID: end a process bg started, and forget it.
bg_stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local p keep=()
  for p in "${BG_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  BG_PIDS=("${keep[@]}")
}

# net_ns: a fresh network namespace with lo up; its name in $REPLY.
net_ns() {
  REPLY=$(sn_unique ns)
  ip netns add "$REPLY"
  NETNSES+=("$REPLY")
  ip -n "$REPLY" link set lo up
}

# net_link A B ADDR_A ADDR_B (/24 each): a veth pair between two namespaces.
net_link() {
  ip -n "$1" link add eth-l$RANDOM type veth peer name eth-p$RANDOM netns "$2"
  local a b
  a=$(ip -n "$1" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | tail -1)
  b=$(ip -n "$2" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | tail -1)
  ip -n "$1" addr add "$3/24" dev "$a"
  ip -n "$2" addr add "$4/24" dev "$b"
  ip -n "$1" link set "$a" up
  ip -n "$2" link set "$b" up
}

setup() {
  ip netns add "sn-probe-$$" 2>/dev/null || skip "cannot make network namespaces"
  local ok=1
  ip netns exec "sn-probe-$$" nft add table ip probe 2>/dev/null || ok=0
  ip -n "sn-probe-$$" link add sn-probe-br type bridge 2>/dev/null || ok=0
  ip netns del "sn-probe-$$"
  [ $ok = 1 ] || skip "the kernel lacks nf_tables or bridges"
  net_ns; NODE_NETNS=$REPLY
  export NODE_NETNS
}

teardown() {
  local pid
  for pid in "${BG_PIDS[@]}"; do bg_stop "$pid"; done
  node_teardown
  # the first node of the two-daemon test, if it failed before removing it
  if [ ${#N1[@]} -gt 0 ] && [ "${N1[1]}" != "${NODE_DIR:-}" ]; then
    node_load N1
    node_teardown
  fi
  N1=()
  local ns
  for ns in "${NETNSES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  NETNSES=()
}

in_node() { ip netns exec "$NODE_NETNS" "$@"; }
# fetch NS HOST PORT: what an HTTP GET from namespace NS answers ("" if nothing).
fetch() { ip netns exec "$1" curl -s --max-time 3 "http://$2:$3/" 2>/dev/null || true; }

# A subnode serving "NAME" over HTTP on PORT.
serve() { # NAME PORT [subnode options...]
  local name=$1 port=$2; shift 2
  sn run -d --name "$name" "$@" busybox sh -c \
    "mkdir -p /www && echo $name > /www/index.html && exec httpd -f -p $port -h /www" >/dev/null
}

ip_of() { sn inspect "$1" | jq -r '.[0].NetworkSettings.IPAddress'; }

# Everything of the network this node made, as seen in its namespace.
net_leftovers() {
  in_node ip -o link show type veth | awk -F': ' '{print $2}' | grep '^sv' | sed 's/^/veth /'
  ls "$NODE_ROOT/netns" 2>/dev/null | sed 's/^/netns /'
  in_node nft -j list ruleset 2>/dev/null | jq -r '.nftables[] | select(.element or .map or .set) |
    (.map // .set) | select(.elem != null) | "elements \(.name) \(.elem | length)"' 2>/dev/null
  sqlite3 "$NODE_ROOT/state.db" 'SELECT "reserved " || subnode_id FROM net_addrs;
    SELECT "port " || subnode_id FROM net_ports;' 2>/dev/null
}

@test "bridge: two subnodes talk; /etc/hosts and resolv.conf; a published port answers a peer namespace and the node" {
  node_start
  net_ns; local peer=$REPLY
  net_link "$NODE_NETNS" "$peer" 172.30.1.1 172.30.1.2
  serve web 80 --network bridge -p 8080:80
  sn run -d --name client --network bridge busybox sleep 1000 >/dev/null
  local wip cip
  wip=$(ip_of web); cip=$(ip_of client)
  [[ $wip == 10.* ]] && [[ $cip == 10.* ]] && [ "$wip" != "$cip" ]
  [ "$(sn inspect web | jq -r '.[0].NetworkSettings.Ports["80/tcp"][0].HostPort')" = 8080 ]
  # by address across the bridge
  wait_for bash -c "[ \"\$(timeout 10 '$NODE_BIN/subnode' exec client wget -qO- http://$wip:80/)\" = web ]"
  # its own name in /etc/hosts, a name server in resolv.conf
  sn exec web cat /etc/hosts | grep -q "^$wip[[:space:]]web$"
  sn exec web grep -q '^nameserver ' /etc/resolv.conf
  sn exec web ip addr show eth0 2>/dev/null | grep -q "$wip" || sn exec web cat /proc/net/fib_trie | grep -q "$wip"
  # from a peer namespace, through the node's address
  wait_for bash -c "[ \"\$(ip netns exec $peer curl -s --max-time 3 http://172.30.1.1:8080/)\" = web ]"
  # from the node itself: its address and loopback
  [ "$(fetch "$NODE_NETNS" 172.30.1.1 8080)" = web ]
  [ "$(fetch "$NODE_NETNS" 127.0.0.1 8080)" = web ]
  # stats carry the traffic of the subnode's eth0
  curl -s --unix-socket "$NODE_SOCK" "http://x/containers/web/stats?stream=false" |
    jq -e '.networks.eth0.rx_bytes > 0 and .networks.eth0.tx_bytes > 0' >/dev/null
  # a port already published is refused, naming the holder; nothing is half made
  run sn run -d --name dup --network bridge -p 8080:80 busybox sleep 1
  [ "$status" -ne 0 ]
  [[ $output == *"8080/tcp is already published by subnode web"* ]]
  run sn inspect dup
  [ "$status" -eq 1 ]
  # a port a process on the node holds is refused too, naming it
  bg ip netns exec "$NODE_NETNS" busybox nc -l -p 9090 >/dev/null 2>&1
  local ncpid=$REPLY
  wait_for bash -c "ip netns exec $NODE_NETNS ss -ltn | grep -q ':9090 '"
  run sn run -d --name dup2 --network bridge -p 9090:80 busybox sleep 1
  bg_stop "$ncpid"
  [ "$status" -ne 0 ]
  [[ $output =~ "9090/tcp is already in use by process "[0-9]+" (busybox)" ]] || { echo "$output"; false; }
  # removed: nothing of the network is left
  sn rm -f web client >/dev/null
  [ -z "$(net_leftovers)" ] || { net_leftovers; false; }
  [ -z "$(node_leftovers)" ]
}

@test "bad network input: 400 naming the field, nothing made" {
  node_start
  local body
  for body in \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"overlay"}}|HostConfig.NetworkMode' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"bridge","PortBindings":{"80/tcp":[{"HostPort":"70000"}]}}}|HostPort' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"bridge","PortBindings":{"80/sctp":[{"HostPort":"80"}]}}}|PortBindings' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"bridge","PortBindings":{"80-81/tcp":[{"HostPort":"8080"}]}}}|as long as' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"bridge","PortBindings":{"80/tcp":[{"HostPort":"8080"}],"81/tcp":[{"HostPort":"8080"}]}}}|overlaps' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"bridge","PortSlot":500}}|HostConfig.PortSlot' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"none","PortSlot":1}}|needs NetworkMode' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"bridge","PortSlot":0,"PortAllow":{"10000/tcp":["10.1.2.3/33"]}}}|CIDR' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"bridge","PortSlot":0,"PortAllow":{"10000/tcp":["10.1.2.0/24","10.1.2.5"]}}}|overlaps' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"bridge","PortSlot":0,"PortAllow":{"20000/tcp":["10.1.2.3"]}}}|not published' \
    '{"Image":"busybox","HostConfig":{"NetworkMode":"container:nosuch"}}|HostConfig.NetworkMode'; do
    run api POST /containers/create -H 'Content-Type: application/json' -d "${body%|*}"
    [ "$(tail -1 <<<"$output")" = 400 ] || { echo "$body: $output"; false; }
    [[ $output == *"${body#*|}"* ]] || { echo "$body: $output"; false; }
  done
  [ -z "$(sn ps -a -q)" ]
  [ -z "$(net_leftovers)" ] || { net_leftovers; false; }
}

@test "port slots: N and auto, 1:1 ports, SUBNODE_PORT_BASE in the environment and inspect, a taken slot refused naming its holder" {
  node_start
  serve a 10130 --network bridge --port-slot 2
  [ "$(sn inspect a | jq -r '.[0].NetworkSettings.PortSlot')" = 2 ]
  [ "$(sn inspect a | jq -r '.[0].NetworkSettings.PortBase')" = 10128 ]
  [ "$(sn exec a sh -c 'echo $SUBNODE_PORT_BASE')" = 10128 ]
  [ "$(sn inspect a | jq -r '.[0].NetworkSettings.Ports["10191/udp"][0].HostPort')" = 10191 ]
  wait_for bash -c "[ \"\$(ip netns exec $NODE_NETNS curl -s --max-time 3 http://127.0.0.1:10130/)\" = a ]"
  sn run -d --name b --network bridge --port-slot auto busybox sleep 1000 >/dev/null
  [ "$(sn inspect b | jq -r '.[0].NetworkSettings.PortSlot')" = 0 ]
  # host mode: the slot's ports reserved, bound by the subnode itself
  sn run -d --name h --network host --port-slot auto busybox sleep 1000 >/dev/null
  [ "$(sn inspect h | jq -r '.[0].NetworkSettings.PortBase')" = 10064 ]
  [ "$(sn exec h sh -c 'echo $SUBNODE_PORT_BASE')" = 10064 ]
  # (not a name of hex digits: inspect takes those as an id prefix too, and
  # a's, b's or h's id may begin with it)
  run sn run -d --name late --network bridge --port-slot 2 busybox sleep 1
  [ "$status" -ne 0 ]
  [[ $output == *"port slot 2 is already taken by subnode a"* ]]
  run sn inspect late
  [ "$status" -eq 1 ]
  sn rm -f a b h >/dev/null
  [ -z "$(net_leftovers)" ] || { net_leftovers; false; }
}

@test "container:NAME shares a bridge subnode's namespace" {
  node_start
  serve web 10000 --network bridge --port-slot 0
  sn run -d --name side --network container:web busybox sleep 1000 >/dev/null
  wait_for bash -c "[ \"\$(timeout 10 '$NODE_BIN/subnode' exec side wget -qO- http://127.0.0.1:10000/)\" = web ]"
  [ "$(sn inspect side | jq -r '.[0].NetworkSettings.NetworkMode')" = "container:$(sn inspect web | jq -r '.[0].Id')" ]
  sn rm -f side web >/dev/null
  [ -z "$(net_leftovers)" ] || { net_leftovers; false; }
}

# An allow-listed port answers a listed peer, drops an unlisted one, and a
# live update swaps them; a peer never listed gets nothing at any moment
# while the list is rewritten again and again.
@test "allow-lists: allow, deny, live update without a gap" {
  node_start
  net_ns; local pa=$REPLY
  net_ns; local pb=$REPLY
  net_ns; local pc=$REPLY
  net_link "$NODE_NETNS" "$pa" 172.30.1.1 172.30.1.2
  net_link "$NODE_NETNS" "$pb" 172.30.2.1 172.30.2.2
  net_link "$NODE_NETNS" "$pc" 172.30.3.1 172.30.3.2
  serve g 10000 --network bridge --port-slot 0 --allow 10000-10003=172.30.1.2
  sn exec g sh -c 'mkdir -p /w2 && echo open > /w2/index.html && httpd -p 10010 -h /w2'
  wait_for bash -c "[ \"\$(ip netns exec $pa curl -s --max-time 3 http://172.30.1.1:10000/)\" = g ]"
  [ -z "$(fetch "$pb" 172.30.2.1 10000)" ]
  # the rest of the block is open to all
  [ "$(fetch "$pb" 172.30.2.1 10010)" = open ]
  [ "$(sn inspect g | jq -r '.[0].NetworkSettings.PortAllow["10000-10003/tcp"][0]')" = 172.30.1.2/32 ]
  # live: now only pb
  run sn update --allow 10000-10003=172.30.2.0/24 g
  [ "$status" -eq 0 ]
  [ "$(fetch "$pb" 172.30.2.1 10000)" = g ]
  [ -z "$(fetch "$pa" 172.30.1.1 10000)" ]
  [ "$(sn inspect g | jq -r '.[0].NetworkSettings.PortAllow["10000-10003/tcp"][0]')" = 172.30.2.0/24 ]
  # no gap: pc, never listed, knocks all the time while the list changes
  local log=$BATS_TEST_TMPDIR/knock
  bg bash -c "for i in \$(seq 400); do ip netns exec $pc curl -s --max-time 0.3 http://172.30.3.1:10000/; done" \
    > "$log" 2>/dev/null
  local knock=$REPLY
  local i
  for i in $(seq 20); do
    sn update --allow 10000-10003=172.30.1.2,172.30.2.0/24 g >/dev/null
    sn update --allow 10000-10003=172.30.2.0/24 g >/dev/null
  done
  bg_stop "$knock"
  [ ! -s "$log" ] || { echo "an unlisted peer got through: $(head -c 200 "$log")"; false; }
  [ "$(fetch "$pb" 172.30.2.1 10000)" = g ]
  # bad updates are refused and change nothing
  run api POST /containers/g/update -H 'Content-Type: application/json' -d '{"PortAllow":{"20000/tcp":["1.2.3.4"]}}'
  [ "$(tail -1 <<<"$output")" = 400 ]
  [[ $output == *"not published"* ]]
  run api POST /containers/g/update -H 'Content-Type: application/json' -d '{"Memory":1}'
  [ "$(tail -1 <<<"$output")" = 400 ]
  [ "$(fetch "$pb" 172.30.2.1 10000)" = g ]
  # and a restart of the daemon rebuilds the same table from the db
  node_stop_daemon
  in_node nft flush table ip "$(in_node nft list tables | awk '/subnode_/ {print $3}')"
  node_daemon
  [ "$(fetch "$pb" 172.30.2.1 10000)" = g ]
  [ -z "$(fetch "$pa" 172.30.1.1 10000)" ]
  sn update --allow-clear g >/dev/null
  [ "$(fetch "$pa" 172.30.1.1 10000)" = g ]
}

# node_save VAR / node_load VAR: keep one node's variables while another runs.
node_save() { eval "$1=(\"\$NODE_ID\" \"\$NODE_DIR\" \"\$NODE_ROOT\" \"\$NODE_SOCK\" \"\$NODE_CG\" \"\$NODE_PID\" \"\$NODE_NETNS\")"; }
node_load() {
  eval "local v=(\"\${$1[@]}\")"
  NODE_ID=${v[0]} NODE_DIR=${v[1]} NODE_ROOT=${v[2]} NODE_SOCK=${v[3]} NODE_CG=${v[4]} NODE_PID=${v[5]} NODE_NETNS=${v[6]}
  export SUBNODE_HOST=unix://$NODE_SOCK NODE_NETNS
}

@test "two daemons, each in its own namespace, with members reaching each other through their published blocks" {
  node_start
  node_save N1
  net_ns; NODE_NETNS=$REPLY
  node_start
  node_save N2
  net_link "${N1[6]}" "${N2[6]}" 172.30.5.1 172.30.5.2
  node_load N1
  serve m1 10000 --network bridge --port-slot 0 --allow 10000=172.30.5.2
  node_load N2
  serve m2 10064 --network bridge --port-slot 1 --allow 10064=172.30.5.1
  # m2 (node 2) → node 1's block → m1, leaving through node 2's masquerade
  wait_for bash -c "[ \"\$(timeout 10 '$NODE_BIN/subnode' exec m2 wget -qO- http://172.30.5.1:10000/)\" = m1 ]"
  node_load N1
  wait_for bash -c "[ \"\$(timeout 10 '$NODE_BIN/subnode' exec m1 wget -qO- http://172.30.5.2:10064/)\" = m2 ]"
  node_teardown
  node_load N2
}

@test "128 small subnodes, each with its own port slot, all removed with nothing left" {
  [ -z "${NODE_SCALE_SKIP:-}" ] || skip "NODE_SCALE_SKIP is set"
  NODE_BIN=$REPO/build/bin
  node_start
  local t0 t1
  t0=$(date +%s.%N)
  seq 128 | xargs -P 16 -I{} "$NODE_BIN/subnode" run -d --name s{} --network bridge --port-slot auto busybox sleep 100000 >/dev/null
  t1=$(date +%s.%N)
  echo "# 128 bridge+slot subnodes up in $(echo "$t1 - $t0" | bc) s" >&3
  [ "$(sn ps -q | wc -l)" = 128 ]
  [ "$(sn ps -a --json | jq '[.[] | select(.State == "running")] | length')" = 128 ]
  [ "$(sqlite3 "$NODE_ROOT/state.db" 'SELECT COUNT(DISTINCT slot) FROM net_addrs')" = 128 ]
  [ "$(sqlite3 "$NODE_ROOT/state.db" 'SELECT COUNT(DISTINCT ip) FROM net_addrs')" = 128 ]
  [ "$(in_node ip -o link show type veth | grep -c ': sv')" = 128 ]
  # the last slot answers
  local last
  last=$(sqlite3 "$NODE_ROOT/state.db" "SELECT s.name FROM net_addrs a JOIN subnodes s ON s.id = a.subnode_id WHERE a.slot = 127")
  sn exec "$last" sh -c 'mkdir -p /w && echo last > /w/index.html && httpd -p 18128 -h /w'
  [ "$(fetch "$NODE_NETNS" 127.0.0.1 18128)" = last ]
  run sn run -d --name over --network bridge --port-slot auto busybox true
  [ "$status" -ne 0 ]
  sn ps -q | xargs -P 16 -n 8 "$NODE_BIN/subnode" rm -f >/dev/null
  [ "$(sn ps -a -q | wc -l)" = 0 ]
  [ -z "$(net_leftovers)" ] || { net_leftovers; false; }
  [ -z "$(node_leftovers)" ] || { node_leftovers; false; }
}

# gone_net NAME: no subnode NAME, and nothing of any network left.
gone_net() {
  run sn inspect "$1"
  [ "$status" -eq 1 ]
  [ -z "$(net_leftovers)" ] || { net_leftovers; return 1; }
  [ -z "$(node_leftovers)" ] || { node_leftovers; return 1; }
}

@test "crash points of a networked create and remove: repaired, no orphan veth, netns, element or reservation" {
  node_start
  local step
  for step in create-row create-dir create-netns create-firewall create-bundle; do
    node_crash_daemon "$step" sn run -d --name c --network bridge --port-slot 3 --allow 10192=10.9.9.9 busybox sleep 1000
    gone_net c || { echo "after $step"; return 1; }
  done
  # acknowledged: it runs after the repair, with its network
  node_crash_daemon create-created sn run -d --name c --network bridge --port-slot 3 busybox sh -c \
    'mkdir -p /w && echo c > /w/index.html && exec httpd -f -p 10192 -h /w'
  wait_for bash -c "[ \"\$(ip netns exec $NODE_NETNS curl -s --max-time 3 http://127.0.0.1:10192/)\" = c ]"
  sn rm -f c >/dev/null
  gone_net c
  for step in remove-marked remove-halted destroy-runtime destroy-firewall destroy-netns destroy-bundle destroy-dir; do
    sn run -d --name c --network bridge --port-slot 3 --allow 10192=10.9.9.9 busybox sleep 1000 >/dev/null
    node_crash_daemon "$step" sn rm -f c
    gone_net c || { echo "after $step"; return 1; }
  done
  # the slot and the address are free again
  sn run -d --name c --network bridge --port-slot 3 busybox sleep 1000 >/dev/null
  [ "$(sn inspect c | jq -r '.[0].NetworkSettings.PortBase')" = 10192 ]
}
