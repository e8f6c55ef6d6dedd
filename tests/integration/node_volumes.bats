#!/usr/bin/env bats
# Volumes: a size the kernel enforces (ENOSPC inside the subnode, the
# neighbour unaffected), data that outlives subnodes, daemon kills and a
# reboot, Docker's API shapes, disk admission, export → import between two
# daemons as a checked stream (also paused while a writer runs), refused
# truncated/corrupt/escaping streams, and kill -9 at each step of create,
# remove and import. Every test leaves no mount, no loop device and no
# image file behind (node_volume_leftovers).

load ../lib/common
load ../lib/node

setup_file() {
  export NODE_LAYOUT_DIR=$(mktemp -d /tmp/sn-nodelayout-XXXXXX)
  export NODE_LAYOUT=$NODE_LAYOUT_DIR/busybox
  node_make_layout "$NODE_LAYOUT"
}
teardown_file() { rm -rf "$NODE_LAYOUT_DIR"; }
setup() { node_start; }
teardown() {
  node_teardown_volumes
  node_teardown
}

# Loop devices backed by files of this node (the test's own, by path).
node_loops() {
  [ -n "${NODE_DIR:-}" ] || return 0
  losetup -a 2>/dev/null | awk -F: -v p="$NODE_DIR" 'index($0, p) {print $1}'
}

# After the subnodes are gone: unmount this node's volumes and free their
# loop devices even when a test failed half-way.
node_teardown_volumes() {
  [ -n "${NODE_DIR:-}" ] || return 0
  if [ -n "${NODE_PID:-}" ] && kill -0 "$NODE_PID" 2>/dev/null; then
    local ids
    ids=$(sn ps -a -q 2>/dev/null) || true
    [ -n "$ids" ] && sn rm -f $ids >/dev/null 2>&1 || true
  fi
  local m d
  for m in $(awk -v p="$NODE_DIR" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  for d in $(node_loops); do losetup -d "$d" 2>/dev/null || true; done
}

# What volumes of this node left on the host: mounts, loop devices, images.
node_volume_leftovers() {
  awk -v p="$NODE_ROOT/volumes" 'index($5, p) == 1 {print "mount " $5}' /proc/self/mountinfo
  local d
  for d in $(node_loops); do
    # autoclear frees the device a moment after the last umount
    for _ in $(seq 50); do losetup "$d" 2>/dev/null | grep -q "$NODE_DIR" || break; sleep 0.1; done
    losetup "$d" 2>/dev/null | grep -q "$NODE_DIR" && echo "loop $d"
  done
  # (.tmpl-SIZE.img: a fresh file system per size, copied for new volumes)
  ls -A "$NODE_ROOT/volumes" 2>/dev/null | grep -v '^\.tmpl-[0-9]*\.img$' | sed 's/^/file /'
}

nothing_left() {
  local l
  l=$(node_volume_leftovers)
  [ -z "$l" ] || { echo "left: $l"; return 1; }
}

# A second daemon beside the first (another root, socket and cgroup
# parent under the first's, so node_teardown removes it all).
node2_start() {
  NODE2_ROOT=$NODE_DIR/root2
  NODE2_SOCK=$NODE_DIR/api2.sock
  mkdir -p "$NODE2_ROOT"
  "$NODE_BIN/subnoded" --root "$NODE2_ROOT" --socket "$NODE2_SOCK" --cgroup-parent "$NODE_CG/n2" \
    --runtime "$NODE_RUNTIME" --supervisor "$NODE_SUP" --log "$NODE_DIR/daemon2.log" &
  NODE_PIDS+=("$!")
  wait_for curl -sf --unix-socket "$NODE2_SOCK" http://x/_ping >/dev/null
}
sn2() { SUBNODE_HOST=unix://$NODE2_SOCK "$NODE_BIN/subnode" "$@"; }

# A hash of a tree: names, types, modes, sizes, link targets and contents.
tree_hash() {
  (cd "$1" && { find . -path ./lost+found -prune -o -printf '%P %y %m %s %l\n' | LC_ALL=C sort
                find . -path ./lost+found -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } \
    | sha256sum | cut -d' ' -f1)
}

fill_tree() { # DIR: a small tree with a file of every kind a volume holds
  mkdir -p "$1/a/b/c" "$1/empty"
  head -c 3000000 /dev/urandom > "$1/a/big"
  echo hello > "$1/a/b/c/small"
  ln -s ../big "$1/a/b/link"
  ln "$1/a/big" "$1/a/hard"
  mkfifo "$1/a/fifo"
  chmod 0600 "$1/a/b/c/small"
  chown 1000:1000 "$1/a/b"
}

@test "volume create, ls, inspect and rm with Docker's shapes; nothing left after rm" {
  run sn volume create v1 --size 64M --label team=chain
  [ "$status" -eq 0 ] && [ "$output" = v1 ]
  sn volume ls | grep -E '^v1 +ready +64.0 MiB'
  run api GET /volumes/v1
  [ "$(tail -1 <<<"$output")" = 200 ]
  body=$(head -n -1 <<<"$output")
  [ "$(jq -r .Driver <<<"$body")" = local ]
  [ "$(jq -r .SizeBytes <<<"$body")" = 67108864 ]
  [ "$(jq -r .Labels.team <<<"$body")" = chain ]
  [ "$(jq -r .Mountpoint <<<"$body")" = "$NODE_ROOT/volumes/v1" ]
  mountpoint -q "$NODE_ROOT/volumes/v1"
  [ "$(api GET /volumes | head -n -1 | jq -r '.Volumes[0].Name')" = v1 ]
  run sn volume create v1 --size 8M
  [ "$status" -eq 1 ] && [[ "$output" == *"volume v1 already exists"* ]]
  sn volume rm v1
  run api GET /volumes/v1
  [ "$(tail -1 <<<"$output")" = 404 ]
  nothing_left
}

@test "bad input is refused with the field named and leaves nothing" {
  run api POST /volumes/create -d '{"Name":"../x"}'
  [ "$(tail -1 <<<"$output")" = 400 ] && [[ "$output" == *"not a valid volume name"* ]]
  run api POST /volumes/create -d '{"Name":"v","DriverOpts":{"size":"0"}}'
  [ "$(tail -1 <<<"$output")" = 400 ] && [[ "$output" == *"DriverOpts.size"* ]]
  run api POST /volumes/create -d '{"Name":"v","DriverOpts":{"size":"12Q"}}'
  [ "$(tail -1 <<<"$output")" = 400 ]
  run api POST /volumes/create -d '{"Name":"v","DriverOpts":{"color":"red"}}'
  [ "$(tail -1 <<<"$output")" = 400 ] && [[ "$output" == *"DriverOpts"* ]]
  run api POST /volumes/create -d '{"Name":"v","Driver":"nfs"}'
  [ "$(tail -1 <<<"$output")" = 400 ] && [[ "$output" == *"Driver"* ]]
  run api POST /volumes/create -d '{"Name":"v","Bogus":1}'
  [ "$(tail -1 <<<"$output")" = 400 ]
  run api POST /volumes/create -d '{"Name":"v","DriverOpts":{"size":"100T"}}'
  [ "$(tail -1 <<<"$output")" = 409 ]
  [[ "$output" == *"not enough disk on this node: volume v needs 100.0 TiB"*"free"* ]]
  run sn run -d --name c -v 'bad name:/data' busybox true
  [ "$status" -ne 0 ] && [[ "$output" == *"HostConfig.Binds[0]"* ]]
  run sn run -d --name c -v 'v:/data:rw,size=zz' busybox true
  [ "$status" -ne 0 ] && [[ "$output" == *"bad option"* ]]
  [ "$(api GET /volumes | head -n -1 | jq '.Volumes | length')" = 0 ]
  nothing_left
}

@test "disk is 128 units after reserve_disk: volumes never over-commit it, the refusal says what is free" {
  total=$(df -B1 --output=size "$NODE_ROOT" | tail -1 | tr -d ' ')
  node_stop_daemon
  printf 'reserve_disk = %s\n' "$((total - 256 * 1024 * 1024))" > "$NODE_DIR/conf"
  node_daemon --config "$NODE_DIR/conf"
  [ "$(sn node info --json | jq .Slices.UnitDisk)" = $((256 * 1024 * 1024 / 128)) ]
  sn volume create a --size 160M
  run sn volume create b --size 160M
  [ "$status" -eq 1 ]
  [[ "$output" == *"not enough disk on this node: volume b needs 160.0 MiB, 96.0 MiB of 256.0 MiB free"* ]]
  sn volume create b --size 96M
  [ "$(sn node info --json | jq -c '.Volumes')" = '{"Count":2,"Bytes":268435456,"Free":0}' ]
  run sn volume create c --size 1M
  [ "$status" -eq 1 ]
  sn volume rm a b
  nothing_left
}

@test "a write past the size fails with ENOSPC inside the subnode; a neighbour on another volume keeps writing" {
  sn volume create full --size 32M
  sn run -d --name a -v full:/data busybox sleep 1000
  sn run -d --name b -v 'other:/data:rw,size=32M' busybox sleep 1000
  run sn exec a sh -c 'dd if=/dev/zero of=/data/f bs=1M count=64 2>&1; echo rc=$?'
  [[ "$output" == *"No space left on device"* ]] && [[ "$output" == *"rc=1"* ]]
  written=$(sn exec a sh -c 'wc -c < /data/f')
  [ "$written" -gt $((24 * 1024 * 1024)) ] && [ "$written" -le $((32 * 1024 * 1024)) ]
  run sn exec a sh -c 'dd if=/dev/zero of=/data/g bs=1M count=1 2>&1'
  [ "$status" -ne 0 ] && [[ "$output" == *"No space left on device"* ]]
  # root in the subnode gets no reserve either (mkfs -m 0)
  run sn exec b sh -c 'dd if=/dev/zero of=/data/f bs=1M count=16 2>&1 && echo ok'
  [[ "$output" == *ok* ]]
  [ "$(sn volume inspect other | jq '.[0].SizeBytes')" = $((32 * 1024 * 1024)) ]
  used=$(sn volume inspect full | jq '.[0].UsageData.Size')
  [ "$used" -ge "$written" ]
  # and in the subnode's stats
  st=$(api GET '/containers/a/stats?stream=0&one-shot=1' | head -n -1)
  [ "$(jq .volumes.full.limit <<<"$st")" = $((32 * 1024 * 1024)) ]
  [ "$(jq .volumes.full.usage <<<"$st")" -ge "$written" ]
  # and in /metrics, cAdvisor's container_fs_* with the volume as device
  m=$(curl -sf --max-time 30 --unix-socket "$NODE_SOCK" http://x/metrics)
  [ "$(grep '^container_fs_limit_bytes{.*name="a".*device="full"}' <<<"$m" | awk '{print $2}')" = $((32 * 1024 * 1024)) ]
  [ "$(grep '^container_fs_usage_bytes{.*name="a".*device="full"}' <<<"$m" | awk '{print $2}')" -ge "$written" ]
  [ "$(grep -c '^container_fs_usage_bytes{.*name="b".*device="other"}' <<<"$m")" = 1 ]
  if command -v promtool >/dev/null; then
    run promtool check metrics <<<"$m"
    [ "$status" -eq 0 ] && [ -z "$output" ]
  fi
  # the node's own file system did not fill up: a file outside still grows
  head -c 1048576 /dev/zero > "$NODE_DIR/outside"
}

@test "data outlives its subnode and a daemon kill -9; rm is refused while a subnode uses the volume" {
  sn run -d --name w -v 'data:/data:rw,size=16M' busybox sh -c 'echo kept > /data/f; sleep 1000'
  wait_for sn exec w test -s /data/f
  [ "$(sn volume inspect data | jq -r '.[0].UsedBy[0]')" = w ]
  run sn volume rm data
  [ "$status" -eq 1 ] && [[ "$output" == *"volume data is in use by subnode"*w* ]]
  node_stop_daemon KILL
  node_daemon
  [ "$(sn exec w cat /data/f)" = kept ]
  sn rm -f w
  # stopped subnodes hold it too (Docker's rule)
  sn create --name r -v data:/data:ro busybox cat /data/f
  run sn volume rm data
  [ "$status" -eq 1 ]
  sn start r
  sn wait r
  [ "$(sn logs r)" = kept ]
  [ "$(sn inspect r | jq -r '.[0].Mounts[0].Type + " " + .[0].Mounts[0].Name')" = "volume data" ]
  sn rm r
  sn volume rm data
  nothing_left
}

@test "a volume a create names is made with the subnode's share of the disk, and kept after the subnode" {
  unit=$(sn node info --json | jq .Slices.UnitDisk)
  sn run -d --name m --size medium -v auto:/data busybox sleep 1000
  [ "$(sn volume inspect auto | jq '.[0].SizeBytes')" = $((unit * 4)) ]
  # Mounts with Type volume (Docker's shape), read-only
  run api POST '/containers/create?name=ro' -H 'Content-Type: application/json' \
    -d '{"Image":"busybox","Cmd":["sh","-c","touch /d/x"],"HostConfig":{"Mounts":[{"Type":"volume","Source":"auto","Target":"/d","ReadOnly":true}]}}'
  [ "$(tail -1 <<<"$output")" = 201 ]
  sn start ro
  [ "$(sn wait ro)" != 0 ]
  sn rm -f m ro
  sn volume inspect auto >/dev/null
  sn volume rm auto
  nothing_left
}

@test "after a reboot the volumes are mounted again with their data" {
  sn volume create keep --size 16M
  echo still-here > "$NODE_ROOT/volumes/keep/f"
  node_stop_daemon
  umount "$NODE_ROOT/volumes/keep"
  [ -z "$(node_volume_leftovers | grep -E '^(mount|loop)')" ]
  SUBNODED_BOOT_ID=$(cat /proc/sys/kernel/random/uuid) node_daemon
  mountpoint -q "$NODE_ROOT/volumes/keep"
  [ "$(cat "$NODE_ROOT/volumes/keep/f")" = still-here ]
  sn run --rm -v keep:/k busybox cat /k/f | grep -q still-here
  sn volume rm keep
  nothing_left
}

@test "export from one daemon, import into another: the same tree, checked by sha256" {
  sn volume create src --size 64M
  fill_tree "$NODE_ROOT/volumes/src"
  node2_start
  sn volume export src > "$NODE_DIR/src.tar"
  tail -c 512 "$NODE_DIR/src.tar" | head -1 | grep -q '^SUBNODE-VOLUME-STREAM 1$'
  # plain tar reads it, trailer and all left out
  head -c -512 "$NODE_DIR/src.tar" | tar t | grep -q 'a/b/c/small'
  run sn2 volume import --size 64M dst < "$NODE_DIR/src.tar"
  [ "$status" -eq 0 ] && [[ "$output" == "dst sha256:"* ]]
  [ "$(tree_hash "$NODE_ROOT/volumes/src")" = "$(tree_hash "$NODE2_ROOT/volumes/dst")" ]
  [ "$(stat -c %h "$NODE2_ROOT/volumes/dst/a/big")" = 2 ]
  # straight from one daemon's stream into the other's
  sn volume export src | sn2 volume import --size 64M dst2
  [ "$(tree_hash "$NODE_ROOT/volumes/src")" = "$(tree_hash "$NODE2_ROOT/volumes/dst2")" ]
  # an import into a volume too small for the tree is refused, leaving nothing
  run sn2 volume import --size 2M small < "$NODE_DIR/src.tar"
  [ "$status" -eq 1 ] && [[ "$output" == *"No space left"* ]]
  [ ! -e "$NODE2_ROOT/volumes/small.img" ] && [ ! -e "$NODE2_ROOT/volumes/.import-small.img" ]
  run sn2 volume import dst < "$NODE_DIR/src.tar"
  [ "$status" -eq 1 ] && [[ "$output" == *"already exists"* ]]
  sn2 volume rm dst dst2
  sn volume rm src
  nothing_left
  [ -z "$(awk -v p="$NODE2_ROOT" 'index($5, p) == 1' /proc/self/mountinfo)" ]
}

@test "export with pause=1 gives a consistent copy while the subnode keeps writing; it runs on after" {
  sn run -d --name w -v 'live:/data:rw,size=64M' busybox \
    sh -c 'i=0; while :; do i=$((i+1)); echo "line $i" >> /data/log; echo $i > /data/n.tmp; mv /data/n.tmp /data/n; done'
  wait_for sn exec w test -s /data/n
  node2_start
  sn volume export --pause live | sn2 volume import --size 64M copy
  # the copy is a state the writer passed through: its counter and its
  # log agree (the log has one more line when the pause fell between the
  # two writes), and every line is whole
  n=$(cat "$NODE2_ROOT/volumes/copy/n")
  last=$(tail -1 "$NODE2_ROOT/volumes/copy/log")
  [ "$last" = "line $n" ] || [ "$last" = "line $((n + 1))" ]
  [ "$(tail -c 1 "$NODE2_ROOT/volumes/copy/log" | od -An -c | tr -d ' ')" = '\n' ]
  [ "$(wc -l < "$NODE2_ROOT/volumes/copy/log")" = "${last#line }" ]
  # resumed: the writer goes on
  a=$(sn exec w cat /data/n); sleep 0.3; b=$(sn exec w cat /data/n)
  [ "$b" -gt "$a" ]
  [ "$(sn inspect w | jq -r '.[0].State.Status')" = running ]
  sn rm -f w
  sn volume rm live
  sn2 volume rm copy
  nothing_left
}

@test "a truncated, a corrupted and an escaping stream are refused and leave nothing" {
  sn volume create src --size 32M
  fill_tree "$NODE_ROOT/volumes/src"
  sn volume export -o "$NODE_DIR/s.tar" src
  size=$(stat -c %s "$NODE_DIR/s.tar")
  head -c $((size - 700)) "$NODE_DIR/s.tar" > "$NODE_DIR/trunc.tar"
  run sn volume import --size 32M t < "$NODE_DIR/trunc.tar"
  [ "$status" -eq 1 ] && [[ "$output" == *"truncated"* ]]
  head -c 2000000 "$NODE_DIR/s.tar" > "$NODE_DIR/half.tar"
  run sn volume import --size 32M t < "$NODE_DIR/half.tar"
  [ "$status" -eq 1 ]
  for off in 1500000 100; do   # a byte of file data, a byte of a header
    cp "$NODE_DIR/s.tar" "$NODE_DIR/bad.tar"
    b=$(dd if="$NODE_DIR/bad.tar" bs=1 skip=$off count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
    printf "$(printf '\\%03o' $(( (b + 1) % 256 )))" | dd of="$NODE_DIR/bad.tar" bs=1 seek=$off conv=notrunc 2>/dev/null
    run sn volume import --size 32M t < "$NODE_DIR/bad.tar"
    [ "$status" -eq 1 ] || { echo "offset $off accepted"; return 1; }
    [[ "$output" == *"corrupt"* ]] || [[ "$output" == *"truncated"* ]]
  done
  # a tar that escapes, with a trailer that matches it: refused by the unpack rules
  python3 - "$NODE_DIR/evil.tar" <<'EOF'
import hashlib, io, sys, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo("../escaped"); data = b"x"; ti.size = 1
    t.addfile(ti, io.BytesIO(data))
tar = buf.getvalue()
trailer = ("SUBNODE-VOLUME-STREAM 1\nsha256:%s\nbytes %d\n" % (hashlib.sha256(tar).hexdigest(), len(tar))).encode()
open(sys.argv[1], "wb").write(tar + trailer + b"\0" * (512 - len(trailer)))
EOF
  run api POST /volumes/evil/import --data-binary @"$NODE_DIR/evil.tar"
  [ "$(tail -1 <<<"$output")" = 400 ] && [[ "$output" == *"escapes"* ]]
  [ ! -e "$NODE_ROOT/volumes/escaped" ] && [ ! -e "$NODE_ROOT/escaped" ]
  # a device node is refused too
  python3 - "$NODE_DIR/dev.tar" <<'EOF'
import hashlib, io, sys, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo("sda"); ti.type = tarfile.BLKTYPE; ti.devmajor = 8; ti.devminor = 0
    t.addfile(ti)
tar = buf.getvalue()
trailer = ("SUBNODE-VOLUME-STREAM 1\nsha256:%s\nbytes %d\n" % (hashlib.sha256(tar).hexdigest(), len(tar))).encode()
open(sys.argv[1], "wb").write(tar + trailer + b"\0" * (512 - len(trailer)))
EOF
  run api POST /volumes/dev/import --data-binary @"$NODE_DIR/dev.tar"
  [ "$(tail -1 <<<"$output")" = 400 ] && [[ "$output" == *"device node refused"* ]]
  [ "$(sn volume ls -q)" = src ]
  sn volume rm src
  nothing_left
}

# crash_daemon STEP CMD...: the daemon armed to SIGKILL itself at STEP runs
# CMD (which fails under it), then a plain daemon starts and repairs.
crash_daemon() {
  local step=$1; shift
  node_stop_daemon
  SUBNODED_CRASH_AT=$step node_daemon
  run "$@"
  [ "$status" -ne 0 ]
  wait_for bash -c "! kill -0 $NODE_PID 2>/dev/null"
  node_stop_daemon
  grep -q "SUBNODED_CRASH_AT=$step" "$NODE_DIR/daemon.log"
  node_daemon
}

@test "kill -9 at each step of a volume create: gone without a trace, or there and ready" {
  for step in volume-create-row volume-create-mounted; do
    crash_daemon "$step" sn volume create v --size 16M
    run sn volume inspect v
    [ "$status" -eq 1 ] || { echo "$step: $output"; return 1; }
    nothing_left
  done
  crash_daemon volume-create-ready sn volume create v --size 16M
  [ "$(sn volume inspect v | jq -r '.[0].State')" = ready ]
  mountpoint -q "$NODE_ROOT/volumes/v"
  sn volume rm v
  nothing_left
}

@test "kill -9 at each step of a volume remove: the remove is finished" {
  for step in volume-remove-row volume-remove-unmade; do
    sn volume create v --size 16M
    crash_daemon "$step" sn volume rm v
    run sn volume inspect v
    [ "$status" -eq 1 ] || { echo "$step: $output"; return 1; }
    nothing_left
  done
}

@test "kill -9 at each step of an import: no half volume; once renamed it is whole" {
  sn volume create src --size 32M
  fill_tree "$NODE_ROOT/volumes/src"
  sn volume export -o "$NODE_DIR/s.tar" src
  want=$(tree_hash "$NODE_ROOT/volumes/src")
  for step in volume-import-row volume-import-unpacked; do
    crash_daemon "$step" sn volume import --size 32M -i "$NODE_DIR/s.tar" dst
    run sn volume inspect dst
    [ "$status" -eq 1 ] || { echo "$step: $output"; return 1; }
    [ "$(sn volume ls -q)" = src ]
    [ "$(ls -A "$NODE_ROOT/volumes" | grep -v '^\.tmpl-')" = "$(printf 'src\nsrc.img')" ]
  done
  crash_daemon volume-import-renamed sn volume import --size 32M -i "$NODE_DIR/s.tar" dst
  [ "$(sn volume inspect dst | jq -r '.[0].State')" = ready ]
  [ "$(tree_hash "$NODE_ROOT/volumes/dst")" = "$want" ]
  sn volume rm src dst
  nothing_left
}
