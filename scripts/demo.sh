#!/usr/bin/env bash
# demo.sh — the README's main job: a small network of subnode servers on
# this one machine, run by a manager.
#
#   bash scripts/demo.sh          build, run the whole demo, remove everything
#   bash scripts/demo.sh --keep   the same, but leave the network running and
#                                 print how to reach it and how to stop it
#   bash scripts/demo.sh --stop DIR   stop a network left by --keep
#
# It builds everything, makes a "chain node" OCI image (busybox-static, with
# umoci), starts a manager (subnode-manager, embedded SQLite store) and five
# node daemons side by side (each its own state dir, API socket and cgroup
# parent, as five servers would each run one; each joins the manager with
# the join token and heartbeats every second), imports the image on each,
# and asks the manager for a chain of four `small` members. The manager
# places them on four distinct nodes from its seeded, hash-chained decision
# log; the demo shows the placement and `subnode-manager verify` re-computing
# it, the members' blocks and metrics, then kills one member's server
# (daemon, supervisors, processes: kill -9) and shows the manager give its
# seat to the fifth node within seconds, the chain whole again, and verify
# holding over the failover. Embedded defaults; nothing to configure.
# (Nodes in network namespaces with port blocks and allow-lists, and data
# that follows a moved member, come with the chain work: docs/MANAGER.md.)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BIN=$REPO/build/bin
NODES=5
MEMBERS=4

fail() {
  echo "demo.sh: $*" >&2
  for f in "$DEMO"/manager.log "$DEMO"/node-*.log; do [ -e "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }; done
  exit 1
}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
nsn() { local i=$1; shift; "$BIN/subnode" -H "unix://$DEMO/node-$i.sock" "$@"; }
msn() { "$BIN/subnode" -M "$MGR_URL" --token "$ADMIN" "$@"; }

# PIDs of node I's supervisors, from their lock files (ours only).
sup_pids() {
  local f pid
  for f in "$DEMO/node-$1"/subnodes/*/sup.lock; do
    [ -e "$f" ] || continue
    pid=$(head -1 "$f" 2>/dev/null)
    [ -n "$pid" ] && grep -qF "$DEMO/node-$1" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
  done
  return 0
}

# Every process in node I's cgroups, and its supervisors: the server is gone.
kill_node() {
  local i=$1 d pid
  kill -9 "$(cat "$DEMO/node-$i.pid")" 2>/dev/null || true
  for pid in $(sup_pids "$i"); do kill -9 "$pid" 2>/dev/null || true; done
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -path "*/subnode-demo-${DEMO##*.}-$i*" 2>/dev/null); do
    for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
}

# wait_gone PID SECONDS: until the process PID has ended.
wait_gone() {
  local t
  for t in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

# Stop everything the demo in $DEMO made: members, nodes, manager, state.
# Only processes it started (pid files, supervisors whose lock names $DEMO,
# what is in its own cgroups), never by name.
stop_all() {
  set +e
  local i ids p pid d loop
  # the manager first, so no link is asked to make a member again
  [ -e "$DEMO/manager.pid" ] && pid=$(cat "$DEMO/manager.pid") &&
    { kill -TERM "$pid" 2>/dev/null; wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null; }
  for i in $(seq 1 $NODES); do
    [ -S "$DEMO/node-$i.sock" ] || continue
    ids=$(timeout 20 "$BIN/subnode" -H "unix://$DEMO/node-$i.sock" ps -a -q 2>/dev/null)
    [ -n "$ids" ] && timeout 60 "$BIN/subnode" -H "unix://$DEMO/node-$i.sock" rm -f $ids >/dev/null 2>&1
  done
  for i in $(seq 1 $NODES); do
    [ -e "$DEMO/node-$i.pid" ] || continue
    pid=$(cat "$DEMO/node-$i.pid")
    kill -TERM "$pid" 2>/dev/null
    wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
    wait_gone "$pid" 5
  done
  for i in $(seq 1 $NODES); do
    for p in $(sup_pids "$i"); do kill -9 "$p" 2>/dev/null; done
    for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -path "*/subnode-demo-${DEMO##*.}-$i*" 2>/dev/null); do
      for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
  done
  # mounts under the demo's directory (snapshots, volumes), deepest first,
  # then the loop devices of its volume files
  for p in $(awk -v d="$DEMO/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null
  done
  losetup -nO NAME,BACK-FILE 2>/dev/null | awk -v d="$DEMO/" 'index($2, d) == 1 {print $1}' |
    while read -r loop; do losetup -d "$loop" 2>/dev/null; done
  for i in $(seq 1 $NODES); do
    find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -path "*/subnode-demo-${DEMO##*.}-$i" 2>/dev/null |
      while read -r d; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  done
  if awk -v d="$DEMO/" 'index($5, d) == 1 {f=1} END {exit !f}' /proc/self/mountinfo; then
    echo "demo.sh: mounts remain under $DEMO; left in place" >&2
  else
    rm -rf "$DEMO"
  fi
}

if [ "${1:-}" = --stop ]; then
  DEMO=${2:?usage: demo.sh --stop DIR}
  [ -e "$DEMO/manager.pid" ] || { echo "demo.sh: $DEMO is not a demo network" >&2; exit 2; }
  stop_all
  echo "stopped and removed $DEMO"
  exit 0
fi
KEEP=0
[ "${1:-}" = --keep ] && KEEP=1

if ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends make gcc >/dev/null
fi
bash scripts/deps.sh all
make -j"$(nproc)" all >/dev/null

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/subnode-demo.XXXXXX")
chmod 755 "$DEMO"
[ "$KEEP" = 1 ] || trap stop_all EXIT
IMAGE=demo/chain-node:v1

say "building a chain-node image (busybox-static, umoci)"
work=$DEMO/build
umoci init --layout "$DEMO/layout" >/dev/null
umoci new --image "$DEMO/layout:v1" >/dev/null
umoci unpack --image "$DEMO/layout:v1" "$work" >/dev/null
r=$work/rootfs
mkdir -p "$r"/{bin,etc,tmp,data}
cp /bin/busybox "$r/bin/busybox"
for a in sh ls cat echo hostname ps sleep date tail grep id test mkdir wc; do ln -sf busybox "$r/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"; echo 'root:x:0:' > "$r/etc/group"
cat > "$r/bin/chain-node" <<'NODE'
#!/bin/sh
# A toy validator: knows its index and peers from the manager's config
# (SUBNODE_* env, /etc/subnode/peers.json) and produces a block a second.
mkdir -p /data
echo "member $SUBNODE_INDEX of $SUBNODE_MEMBERS on $(hostname); peers: $SUBNODE_PEERS"
h=0
while :; do
  h=$((h + 1)); echo "$h" > /data/height
  echo "member $SUBNODE_INDEX block $h at $(date +%T)"
  sleep 1
done
NODE
chmod +x "$r/bin/chain-node"
umoci repack --image "$DEMO/layout:v1" "$work" >/dev/null
umoci config --image "$DEMO/layout:v1" --config.entrypoint /bin/chain-node >/dev/null
rm -rf "$work"

say "starting the manager (subnode-manager serve; SQLite store in $DEMO/manager)"
MGR_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MGR_URL=http://127.0.0.1:$MGR_PORT
"$BIN/subnode-manager" serve --root "$DEMO/manager" --listen "127.0.0.1:$MGR_PORT" \
  --grace 3 --steady 5 --members "$MEMBERS" >"$DEMO/manager.log" 2>&1 </dev/null &
echo $! > "$DEMO/manager.pid"
disown
for t in $(seq 100); do curl -sf "$MGR_URL/metrics" >/dev/null 2>&1 && break; sleep 0.1; done
ADMIN=$(cat "$DEMO/manager/admin.token")
echo "manager at $MGR_URL (admin token in $DEMO/manager/admin.token, join token in join.token, both 0600)"

say "starting $NODES node daemons, each joining the manager (operator op1..op$NODES)"
for i in $(seq 1 $NODES); do
  "$BIN/subnode-image" --root "$DEMO/node-$i/images" import "$DEMO/layout" --name "$IMAGE" >/dev/null
  "$BIN/subnoded" --root "$DEMO/node-$i" --socket "$DEMO/node-$i.sock" \
    --cgroup-parent "/subnode-demo-${DEMO##*.}-$i" --log "$DEMO/node-$i.log" \
    --manager "$MGR_URL" --join-token-file "$DEMO/manager/join.token" \
    --advertise "127.0.0.$i" --node-name "node-$i" --operator "op$i" --port-base 30000 \
    >"$DEMO/node-$i.out" 2>&1 </dev/null &
  echo $! > "$DEMO/node-$i.pid"
  disown
done
for t in $(seq 150); do
  [ "$(msn node ls --json 2>/dev/null | jq '[.[] | select(.state == "active")] | length')" = "$NODES" ] && break
  sleep 0.2
done
[ "$(msn node ls --json | jq '[.[] | select(.state == "active")] | length')" = "$NODES" ] ||
  fail "not every node joined the manager within 30 s"
msn node ls

say "the manager places chain 'demo': $MEMBERS small members on distinct nodes"
msn chain create demo --size small --members "$MEMBERS" --image "$IMAGE" >/dev/null
running() { msn chain inspect demo --json | jq '[.seats[] | select(.state == "running")] | length'; }
for t in $(seq 300); do [ "$(running)" = "$MEMBERS" ] && break; sleep 0.2; done
[ "$(running)" = "$MEMBERS" ] || fail "the chain's members are not all running after 60 s"
msn chain inspect demo

say "verify: the placement re-computed from the hash-chained decision log alone"
"$BIN/subnode-manager" verify --root "$DEMO/manager"

sleep 3
say "the members' blocks (last 2 log lines of each, through each node's API)"
member_node() { msn chain inspect demo --json | jq -r ".seats[$1].node" | sed 's/node-//'; }
member_id() { # node index, seat → subnode id
  curl -s --unix-socket "$DEMO/node-$1.sock" "http://x/containers/json" |
    jq -r ".[] | select(.Labels[\"subnode.member\"] == \"demo-$2\") | .Id"
}
for s in $(seq 0 $((MEMBERS - 1))); do
  i=$(member_node "$s")
  nsn "$i" logs --tail 2 "$(member_id "$i" "$s")" | sed "s/^/node-$i: /"
done

say "live metrics: node-$(member_node 0)'s Prometheus endpoint (cAdvisor's names), and the manager's"
i=$(member_node 0)
curl -s --unix-socket "$DEMO/node-$i.sock" http://x/metrics |
  grep -E '^(container_cpu_usage_seconds_total|container_memory_usage_bytes|subnode_units)' | head -6
curl -s "$MGR_URL/metrics" | grep -E '^subnode_manager_(nodes|chains)' | head -8

victim=$(member_node 1)
spare=""
for i in $(seq 1 $NODES); do
  [ -n "$(curl -s --unix-socket "$DEMO/node-$i.sock" http://x/containers/json | jq -r '.[].Id')" ] || spare=$i
done
say "node-$victim dies (kill -9 of its daemon, supervisors and members): the manager moves seat 1"
t0=$(date +%s%N)
kill_node "$victim"
seat1() { msn chain inspect demo --json | jq -r '.seats[1].node + " " + .seats[1].state'; }
for t in $(seq 300); do [ "$(seat1)" = "node-$spare running" ] && break; sleep 0.1; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(seat1)" = "node-$spare running" ] || fail "seat 1 did not move to node-$spare within 30 s"
echo "seat 1: $(seat1) — ${ms} ms after the kill (grace period 3 s)"
msn node ls
msn chain inspect demo
"$BIN/subnode-manager" verify --root "$DEMO/manager"

if [ "$KEEP" = 1 ]; then
  say "the network keeps running"
  cat <<EOF
  export SUBNODE_MANAGER=$MGR_URL SUBNODE_TOKEN=$ADMIN
  $BIN/subnode node ls; $BIN/subnode chain inspect demo
  $BIN/subnode -H unix://$DEMO/node-$spare.sock ps      # one node's API (node-1 .. node-$NODES)
  curl -s --unix-socket $DEMO/node-$spare.sock http://x/metrics
Kill a node by hand and watch its seat move: kill -9 \$(cat $DEMO/node-N.pid), its
supervisors and members (docs/MANAGER.md, "Watching a failover"). To stop it all:
  bash scripts/demo.sh --stop $DEMO
EOF
  exit 0
fi
say "removing the chain and stopping the network"
msn chain rm demo >/dev/null
echo "demo done"
