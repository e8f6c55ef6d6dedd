#!/usr/bin/env bash
# demo.sh — the README's main job: a small local network of subnode servers.
#
# Builds everything, makes a "chain node" OCI image (busybox-static, built
# with umoci), starts three node daemons side by side on this machine (each
# its own state dir, API socket and cgroup parent — the way several servers
# would each run one), imports the image on each, and places a chain of
# three members on three distinct nodes, each a `small` slice (1/128 of a
# node) with a restart policy and a health check. It then shows each node's
# slice accounting, the members' health, logs and live metrics, a command
# inside one member, kills one member's process to show the supervisor
# restart it, and removes everything it made.
#
# Still to come: the manager (placement by a verifiable seed, rotation,
# failover across nodes); today the demo places the members itself.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

if ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends make gcc >/dev/null
fi
bash scripts/deps.sh all
make -j"$(nproc)" all >/dev/null

BIN=$REPO/build/bin
DEMO=$(mktemp -d /tmp/subnode-demo.XXXXXX)
chmod 755 "$DEMO"
NODES=3
IMAGE=demo/chain-node:v1
PIDS=()
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sn() { local i=$1; shift; "$BIN/subnode" -H "unix://$DEMO/node-$i.sock" "$@"; }

cleanup() {
  set +e
  for i in $(seq 1 $NODES); do
    [ -S "$DEMO/node-$i.sock" ] || continue
    ids=$(sn "$i" ps -a -q 2>/dev/null)
    [ -n "$ids" ] && sn "$i" rm -f $ids >/dev/null 2>&1
  done
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for i in $(seq 1 $NODES); do rmdir /sys/fs/cgroup/*/subnode-demo-$i /sys/fs/cgroup/*/subnode-demo-$i 2>/dev/null; done
  rm -rf "$DEMO"
}
trap cleanup EXIT

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
# a toy validator: produces a block a second and keeps its chain in /data
mkdir -p /data
h=$(wc -l < /data/chain.log 2>/dev/null || echo 0)
while :; do
  h=$((h + 1)); echo "$(hostname) block $h at $(date +%T)" | tee -a /data/chain.log
  sleep 1
done
NODE
chmod +x "$r/bin/chain-node"
umoci repack --image "$DEMO/layout:v1" "$work" >/dev/null
umoci config --image "$DEMO/layout:v1" --config.entrypoint /bin/chain-node >/dev/null

say "starting $NODES node daemons (subnoded), each with its own root, socket and cgroup parent"
for i in $(seq 1 $NODES); do
  "$BIN/subnoded" --root "$DEMO/node-$i" --socket "$DEMO/node-$i.sock" \
    --cgroup-parent "/subnode-demo-$i" --log "$DEMO/node-$i.log" &
  PIDS+=($!)
done
for i in $(seq 1 $NODES); do
  for t in $(seq 100); do sn "$i" node info >/dev/null 2>&1 && break; sleep 0.1; done
  sn "$i" image import "$DEMO/layout" --name "$IMAGE" >/dev/null
done
sn 1 node info

say "placing chain 'demo' on $NODES distinct nodes: one small member each"
for i in $(seq 1 $NODES); do
  sn "$i" run -d --name "demo-m$i" --size small --hostname "validator-$i" \
     --restart always --health-cmd 'test -s /data/chain.log' --health-interval 1s "$IMAGE" >/dev/null
done
for i in $(seq 1 $NODES); do echo "node-$i:"; sn "$i" ps | sed 's/^/  /'; done

sleep 3
say "slice accounting on node-1 (128 units per node)"
sn 1 node info | grep -E "^(Subnodes|Units|Room)"

say "inside demo-m1"
sn 1 exec demo-m1 sh -c 'echo "hostname: $(hostname)"; ps'

say "logs (last 2 lines of each member)"
for i in $(seq 1 $NODES); do sn "$i" logs --tail 2 "demo-m$i"; done

say "live metrics, one sample per node"
for i in $(seq 1 $NODES); do sn "$i" stats --no-stream; done

say "crashing demo-m2 (SIGKILL to its process from the host): its supervisor restarts it"
before=$(sn 2 inspect demo-m2 | jq -r '.[0].RestartCount')
kill -9 "$(sn 2 inspect demo-m2 | jq -r '.[0].State.Pid')"
for t in $(seq 50); do
  now=$(sn 2 inspect demo-m2 | jq -r '.[0].RestartCount')
  [ "$now" != "$before" ] && [ "$(sn 2 inspect demo-m2 | jq -r '.[0].State.Status')" = running ] && break
  sleep 0.2
done
echo "restart count: $before -> $now"; sn 2 ps

say "removing the chain and stopping the nodes"
for i in $(seq 1 $NODES); do sn "$i" rm -f "demo-m$i" >/dev/null; done
for i in $(seq 1 $NODES); do sn "$i" ps -a | wc -l | sed "s/^/node-$i rows left (header included): /"; done
echo "demo done"
