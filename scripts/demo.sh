#!/usr/bin/env bash
# demo.sh — the README's main job. Today: one server's worth of subnode.
#
# Builds everything, makes a small "chain node" OCI image (busybox-static,
# built with umoci), imports it into subnode's content store, and starts a
# chain of 4 subnodes from it: each an overlay snapshot of the one shared
# image, run by subrun in its own namespaces with its own cgroup slice.
# Then it shows their state, a shell command inside one, their logs and
# their per-subnode metrics, and removes everything it made.
#
# As the node daemon and the manager land, this grows into the local
# network of the design (manager + several nodes + a chain + metrics).
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

SUBRUN=$REPO/build/bin/subrun
SIMG=$REPO/build/bin/subnode-image
DEMO=$(mktemp -d /tmp/subnode-demo.XXXXXX)
STATE=$DEMO/state
STORE=$DEMO/images
MEMBERS=4
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cleanup() {
  for i in $(seq 1 $MEMBERS); do
    "$SUBRUN" --root "$STATE" delete --force "demo-node-$i" >/dev/null 2>&1 || true
    [ -d "$DEMO/node-$i" ] && "$SIMG" --root "$STORE" snapshot-rm "$DEMO/node-$i" >/dev/null 2>&1 || true
  done
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
for a in sh ls cat echo hostname ps sleep date expr tail grep id; do ln -sf busybox "$r/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"; echo 'root:x:0:' > "$r/etc/group"
cat > "$r/bin/chain-node" <<'NODE'
#!/bin/sh
# a toy validator: produces a block a second, keeps its chain in /data
h=0
while :; do
  h=$((h + 1)); echo "$(hostname) block $h at $(date +%T)" | tee -a /data/chain.log
  sleep 1
done
NODE
chmod +x "$r/bin/chain-node"
umoci repack --image "$DEMO/layout:v1" "$work" >/dev/null
umoci config --image "$DEMO/layout:v1" --config.entrypoint /bin/chain-node --config.volume /data >/dev/null

say "importing it into the content store"
"$SIMG" --root "$STORE" import "$DEMO/layout" --name demo/chain-node:v1
"$SIMG" --root "$STORE" ls

say "starting a chain of $MEMBERS subnodes (slice: 64 MiB, 64 pids, 1/128 of the cpu shares)"
for i in $(seq 1 $MEMBERS); do
  b=$DEMO/node-$i
  "$SIMG" --root "$STORE" bundle demo/chain-node:v1 "$b" --id "demo-node-$i" >/dev/null
  jq --arg h "validator-$i" '.hostname = $h | .process.terminal = false
      | .root.readonly = false
      | .linux.resources.memory = {"limit": 67108864}
      | .linux.resources.pids = {"limit": 64}
      | .linux.resources.cpu = {"shares": 8}' "$b/config.json" > "$b/config.new"
  mv "$b/config.new" "$b/config.json"
  (cd "$b" && "$SUBRUN" --root "$STATE" run -d "demo-node-$i" >"$DEMO/node-$i.log" 2>&1 </dev/null)
done
"$SUBRUN" --root "$STATE" list
du -sh "$STORE" | sed 's/^/one image copy on disk for all members: /'

sleep 3
say "inside demo-node-1"
"$SUBRUN" --root "$STATE" exec demo-node-1 sh -c 'echo "hostname: $(hostname)"; echo "pid 1: $(cat /proc/1/cmdline | tr "\0" " ")"; ps'

say "logs (last 2 lines of each member)"
for i in $(seq 1 $MEMBERS); do tail -n 2 "$DEMO/node-$i.log"; done

say "metrics per subnode (from its cgroup)"
printf '%-12s %10s %12s %6s\n' SUBNODE CPU_MS MEM_BYTES PIDS
for i in $(seq 1 $MEMBERS); do
  id=demo-node-$i
  cpu=$(cat /sys/fs/cgroup/cpuacct/subrun/$id/cpuacct.usage 2>/dev/null || cat /sys/fs/cgroup/subrun/$id/cpu.stat 2>/dev/null | awk '/usage_usec/{print $2*1000}')
  mem=$(cat /sys/fs/cgroup/memory/subrun/$id/memory.usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/subrun/$id/memory.current)
  pids=$(cat /sys/fs/cgroup/pids/subrun/$id/pids.current 2>/dev/null || cat /sys/fs/cgroup/subrun/$id/pids.current)
  printf '%-12s %10s %12s %6s\n' "$id" "$((cpu / 1000000))" "$mem" "$pids"
done

say "stopping the chain and removing everything"
for i in $(seq 1 $MEMBERS); do "$SUBRUN" --root "$STATE" kill "demo-node-$i" KILL; done
sleep 0.5
for i in $(seq 1 $MEMBERS); do "$SUBRUN" --root "$STATE" delete "demo-node-$i"; done
"$SUBRUN" --root "$STATE" list
echo "demo done"
