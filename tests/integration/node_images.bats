#!/usr/bin/env bats
# Images through the daemon: pull from a registry on loopback with progress,
# import of an OCI layout and a docker-archive, list, remove (refused while
# a subnode uses the image), and a subnode from the pulled image. The work
# runs in the image tool (subnode-image --json): the daemon does not link
# the heavy libraries, and a killed tool or a client that leaves changes
# nothing in the store.

load ../lib/common
load ../lib/image
load ../lib/node

setup_file() {
  export NODE_LAYOUT_DIR=$(mktemp -d /tmp/sn-nodelayout-XXXXXX)
  export NODE_LAYOUT=$NODE_LAYOUT_DIR/busybox
  node_make_layout "$NODE_LAYOUT"
}
teardown_file() { rm -rf "$NODE_LAYOUT_DIR"; }
setup() { image_setup; node_start; }
teardown() { node_teardown; image_teardown; }

@test "image pull through the daemon with progress, then a subnode from it" {
  start_registry
  skopeo copy -q --dest-tls-verify=false "oci:$NODE_LAYOUT:latest" "docker://$REG/chain/bb:v1"
  run sn image pull --insecure "$REG/chain/bb:v1"
  [ "$status" -eq 0 ]
  [[ "${lines[-1]}" == sha256:* ]]
  # its one layer is busybox's, already in the store from the import
  [[ "$output" == *": Already exists"* || "$output" == *": Download complete"* ]]
  sn image ls | grep -q "$REG/chain/bb:v1"
  run sn run --rm --name pulled "$REG/chain/bb:v1" echo pulled-ok
  [ "$status" -eq 0 ]
  [ "$output" = pulled-ok ]
  run sn image pull --insecure "$REG/chain/nosuch:v1"
  [ "$status" -eq 1 ]
  [[ "$output" == *nosuch* ]]
  run api POST '/images/create?fromImage=Bad::Ref'
  [ "${lines[-1]}" = 400 ]
}

@test "image import (OCI layout, docker-archive), ls, rm refused while in use" {
  skopeo copy -q "oci:$NODE_LAYOUT:latest" "docker-archive:$IMG_TMP/bb.tar:arch/bb:v2"
  run sn image import "$NODE_LAYOUT" --name local/bb:v1
  [ "$status" -eq 0 ]
  run sn image import "$IMG_TMP/bb.tar"
  [ "$status" -eq 0 ]
  sn image ls | grep -q local/bb:v1
  sn image ls --json | jq -e 'map(.tags[]) | index("docker.io/arch/bb:v2") != null' >/dev/null || sn image ls | grep -q arch/bb:v2
  sn create --name user local/bb:v1 true >/dev/null
  run sn image rm local/bb:v1
  [ "$status" -eq 1 ]
  [[ "$output" == *"used by subnode user"* ]]
  sn rm user >/dev/null
  run sn image rm local/bb:v1
  [ "$status" -eq 0 ]
  run sn image import /nonexistent
  [ "$status" -eq 1 ]
}

@test "the daemon links neither libcurl nor libarchive nor OpenSSL: pulls, imports and unpacks run in subnode-image" {
  run readelf -d "$NODE_BIN/subnoded"
  [ "$status" -eq 0 ]
  [[ "$output" == *libmicrohttpd* ]]
  [[ "$output" != *libcurl* ]]
  [[ "$output" != *libarchive* ]]
  [[ "$output" != *libcrypto* ]]
  [[ "$output" != *libssl* ]]
  # the image imported offline has no unpacked layers yet: the first create
  # has the tool unpack them once, the next ones find them
  [ -z "$(ls "$NODE_ROOT/images/layers")" ]
  sn run -d --name first busybox sleep 100 >/dev/null
  [ "$(ls "$NODE_ROOT/images/layers" | wc -l)" = 1 ]
  sn run -d --name second busybox sleep 100 >/dev/null
  [ "$(sn ps -q | wc -l)" = 2 ]
  sn rm -f first second >/dev/null
}

# A fingerprint of the node's image store (blobs, unpacked layers, index).
node_store_state() {
  ( cd "$NODE_ROOT/images" && { find blobs layers snapshots | sort; cat images.json 2>/dev/null; } ) | sha256sum
}

# the image tool of this node's daemon, if one runs
node_tool_pids() { pgrep -P "$NODE_PID" -x subnode-image || true; }

@test "a pull whose image tool is killed, or whose client leaves, leaves the store as it was" {
  # an image of its own (a layer of random bytes), on a registry that stalls mid-layer
  mkdir "$IMG_TMP/r"
  head -c 600000 /dev/urandom > "$IMG_TMP/r/noise"
  tar -C "$IMG_TMP/r" -cf "$IMG_TMP/noise.tar" noise
  $MKLAYOUT layout "$IMG_TMP/slow" v1 "$IMG_TMP/noise.tar"
  port=$(free_port)
  python3 "$REPO/tests/lib/image_slow_registry.py" "$port" "$IMG_TMP/slow" &
  IMG_PIDS+=($!)
  wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/v2/"
  before=$(node_store_state)
  # 1: the tool is killed mid-layer: the client gets an error line saying so
  curl -sN --unix-socket "$NODE_SOCK" -X POST "http://x/images/create?fromImage=127.0.0.1:$port/slow/bb:v1" \
    > "$IMG_TMP/pull1" &
  client=$!
  wait_for grep -q '"Downloading"' "$IMG_TMP/pull1"
  tool=$(node_tool_pids)
  [ -n "$tool" ]
  kill -9 $tool
  wait "$client"
  tail -1 "$IMG_TMP/pull1" | jq -e '.error | test("killed by signal 9")' >/dev/null
  [ "$(node_store_state)" = "$before" ]
  # 2: the client leaves mid-layer: the daemon kills the tool
  curl -sN --unix-socket "$NODE_SOCK" -X POST "http://x/images/create?fromImage=127.0.0.1:$port/slow/bb:v2" \
    > "$IMG_TMP/pull2" &
  client=$!
  wait_for grep -q '"Downloading"' "$IMG_TMP/pull2"
  [ -n "$(node_tool_pids)" ]
  kill "$client"
  wait "$client" || true
  wait_for bash -c "[ -z \"\$(pgrep -P $NODE_PID -x subnode-image)\" ]"
  [ "$(node_store_state)" = "$before" ]
  not grep -q slow/bb <<<"$(sn image ls)"
  # the store works on: a subnode from the image that was there
  run sn run --rm --name after busybox echo still-fine
  [ "$status" -eq 0 ]
  [ "$output" = still-fine ]
}

@test "image load by upload: docker-archive and OCI layout tars from a file or stdin, a subnode from each" {
  skopeo copy -q "oci:$NODE_LAYOUT:latest" "docker-archive:$IMG_TMP/bb-docker.tar:up/bb:docker"
  skopeo copy -q "oci:$NODE_LAYOUT:latest" "oci-archive:$IMG_TMP/bb-oci.tar:up/bb:oci"
  tar -C "$NODE_LAYOUT" -cf "$IMG_TMP/bb-layout.tar" .
  run sn image load -i "$IMG_TMP/bb-docker.tar"
  [ "$status" -eq 0 ]
  [ "$output" = "Loaded image: docker.io/up/bb:docker" ]
  run bash -c "cat '$IMG_TMP/bb-oci.tar' | '$NODE_BIN/subnode' image load"
  [ "$status" -eq 0 ]
  [ "$output" = "Loaded image: docker.io/up/bb:oci" ]
  run bash -c "'$NODE_BIN/subnode' image load --name up/bb:named < '$IMG_TMP/bb-layout.tar'"
  [ "$status" -eq 0 ]
  [ "$output" = "Loaded image: docker.io/up/bb:named" ]
  # the API: Docker's JSON lines, the digest last; an event
  run bash -c "curl -s --unix-socket '$NODE_SOCK' -X POST --data-binary @'$IMG_TMP/bb-layout.tar' 'http://x/images/load' | tail -1 | jq -r .Digest"
  [ "$output" = "$(jq -r '.manifests[0].digest' "$NODE_LAYOUT/index.json")" ]
  sn events --since 0 --until "$(date +%s)" --json | jq -e 'select(.Action == "load")' >/dev/null
  for t in docker oci named; do
    run sn run --rm --name "from-$t" "up/bb:$t" echo "ran-$t"
    [ "$status" -eq 0 ]
    [ "$output" = "ran-$t" ]
  done
  [ -z "$(ls "$NODE_ROOT/images/tmp")" ]
  [ -z "$(node_tool_pids)" ]
}

@test "image load refuses a bad archive with a clear message and leaves nothing in the store" {
  before=$(node_store_state)
  head -c 300000 /dev/urandom > "$IMG_TMP/junk.tar"
  run api POST /images/load --data-binary @"$IMG_TMP/junk.tar"
  [ "${lines[-1]}" = 400 ]
  [[ "${lines[0]}" == *"not a tar archive"* ]]
  mkdir "$IMG_TMP/other" && echo hi > "$IMG_TMP/other/readme"
  tar -C "$IMG_TMP/other" -cf "$IMG_TMP/other.tar" .
  run sn image load -i "$IMG_TMP/other.tar"
  [ "$status" -eq 1 ]
  [[ "$output" == *"neither manifest.json (docker-archive) nor index.json (OCI layout)"* ]]
  skopeo copy -q "oci:$NODE_LAYOUT:latest" "docker-archive:$IMG_TMP/bb.tar:up/bb:cut"
  head -c 700000 "$IMG_TMP/bb.tar" > "$IMG_TMP/cut.tar"
  run sn image load -i "$IMG_TMP/cut.tar"
  [ "$status" -eq 1 ]
  [[ "$output" == *"Truncated tar archive"* ]]
  run sn image load < /dev/null
  [ "$status" -eq 1 ]
  [ "$(node_store_state)" = "$before" ]
  not grep -q up/bb <<<"$(sn image ls)"
  wait_for bash -c "[ -z \"\$(ls '$NODE_ROOT/images/tmp')\" ]"
  [ -z "$(node_tool_pids)" ]
}

@test "image load streams the upload: the daemon's memory does not grow with the archive; a client that leaves changes nothing" {
  # a 48 MiB layer of random bytes in a tarred OCI layout
  mkdir "$IMG_TMP/r"
  head -c $((48 << 20)) /dev/urandom > "$IMG_TMP/r/noise"
  tar -C "$IMG_TMP/r" -cf "$IMG_TMP/noise.tar" noise
  $MKLAYOUT layout "$IMG_TMP/big" v1 "$IMG_TMP/noise.tar"
  tar -C "$IMG_TMP/big" -cf "$IMG_TMP/big.tar" .
  rm -rf "$IMG_TMP/r" "$IMG_TMP/noise.tar"
  before=$(node_store_state)
  # a client that leaves half-way: the tool is killed, nothing is stored
  curl -s --unix-socket "$NODE_SOCK" --limit-rate 8M -X POST --data-binary @"$IMG_TMP/big.tar" \
    "http://x/images/load?name=big/one:v1" > /dev/null &
  client=$!
  wait_for bash -c "[ -n \"\$(pgrep -P $NODE_PID -x subnode-image)\" ]"
  sleep 1
  kill "$client"
  wait "$client" || true
  wait_for bash -c "[ -z \"\$(pgrep -P $NODE_PID -x subnode-image)\" ]"
  [ "$(node_store_state)" = "$before" ]
  # the whole upload: the daemon's peak RSS grows by far less than the archive
  hwm0=$(awk '/VmHWM/ {print $2}' "/proc/$NODE_PID/status")
  run sn image load --name big/one:v1 -i "$IMG_TMP/big.tar"
  [ "$status" -eq 0 ]
  [ "$output" = "Loaded image: docker.io/big/one:v1" ]
  hwm1=$(awk '/VmHWM/ {print $2}' "/proc/$NODE_PID/status")
  echo "daemon VmHWM before $hwm0 kB, after a 48 MiB upload $hwm1 kB" >&3
  [ $((hwm1 - hwm0)) -lt $((12 << 10)) ]
}
