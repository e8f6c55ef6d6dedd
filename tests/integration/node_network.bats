#!/usr/bin/env bats
# Node networking (issue 12): the bridge, published ports and port slots,
# allow-lists changed live, two daemons reaching each other, 128 slots,
# crash points. Every daemon runs inside a network namespace made by the
# test (NODE_NETNS), with peers in namespaces of their own joined by veth
# pairs: no traffic leaves the namespaces the test made, and deleting them
# removes every bridge, veth and nftables table the test made, also after
# a failure.

load ../lib/common
load ../lib/node

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }

NETNSES=()

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
  node_teardown
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
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' exec client wget -qO- http://$wip:80/)\" = web ]"
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
  in_node busybox nc -l -p 9090 >/dev/null 2>&1 &
  local ncpid=$!
  wait_for bash -c "ip netns exec $NODE_NETNS ss -ltn | grep -q ':9090 '"
  run sn run -d --name dup2 --network bridge -p 9090:80 busybox sleep 1
  kill "$ncpid" 2>/dev/null || true; wait "$ncpid" 2>/dev/null || true
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
