#!/usr/bin/env bats
# Images through the daemon: pull from a registry on loopback with progress,
# import of an OCI layout and a docker-archive, list, remove (refused while
# a subnode uses the image), and a subnode from the pulled image.

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
