#!/usr/bin/env bats
# image_bundle.bats — image config → OCI bundle on an overlay snapshot,
# run by runc (and subrun when it can run containers); 128-container
# sharing: the 2nd..Nth snapshot of one image costs ~nothing on disk.
load ../lib/common
load ../lib/image

setup() {
  image_setup
  make_busybox_layout "$IMG_TMP/oci" v1
  simg import "$IMG_TMP/oci" >/dev/null
  CID=$(sn_unique img)
}
teardown() {
  runc delete -f "$CID" >/dev/null 2>&1 || true
  image_teardown
}

@test "bundle_config_follows_the_image_config" {
  run simg bundle localhost/oci:v1 "$IMG_TMP/b"
  [ "$status" -eq 0 ]
  c=$IMG_TMP/b/config.json
  [ "$(jq -c .process.args "$c")" = '["/bin/sh","-c","echo hello from image"]' ]
  [ "$(jq -r .process.cwd "$c")" = /tmp ]
  jq -e '.process.env | index("FOO=bar")' "$c"
  jq -e '.process.env[] | select(startswith("PATH="))' "$c"
  [ "$(jq -r '.annotations["org.opencontainers.image.exposedPorts"]' "$c")" = 8545/tcp ]
  [ "$(jq -r '.annotations.chain' "$c")" = test ]
  [ "$(jq -r '.mounts[] | select(.destination == "/data") | .type' "$c")" = bind ]
  [ "$(jq -r .root.path "$c")" = rootfs ]
}

@test "user_is_resolved_from_the_images_passwd_and_group" {
  simg bundle --user app localhost/oci:v1 "$IMG_TMP/b1"
  [ "$(jq -c .process.user "$IMG_TMP/b1/config.json")" = '{"uid":1000,"gid":1000,"additionalGids":[10]}' ]
  simg bundle --user 1000:10 localhost/oci:v1 "$IMG_TMP/b2"
  [ "$(jq -c .process.user "$IMG_TMP/b2/config.json")" = '{"uid":1000,"gid":10}' ]
  simg bundle --user app:wheel localhost/oci:v1 "$IMG_TMP/b3"
  [ "$(jq -c .process.user "$IMG_TMP/b3/config.json")" = '{"uid":1000,"gid":10}' ]
  run simg bundle --user nobody localhost/oci:v1 "$IMG_TMP/b4"
  [ "$status" -eq 1 ]
  [[ "$output" == *"user \`nobody\`: not found in the image's /etc/passwd"* ]]
  [ ! -e "$IMG_TMP/b4/config.json" ]
  # the failed bundle left no snapshot behind (3 good ones remain)
  [ "$(ls "$IMG_ROOT/snapshots" | wc -l)" -eq 3 ]
  [ "$(grep -c "$IMG_TMP/b4" /proc/self/mountinfo)" -eq 0 ]
}

@test "bundle_runs_with_runc" {
  simg bundle localhost/oci:v1 "$IMG_TMP/b"
  run bash -c "cd '$IMG_TMP/b' && timeout 30 runc run '$CID'"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "hello from image" ]
  # user, env, cwd, volume and the upper dir in action
  simg snapshot-rm "$IMG_TMP/b"
  simg bundle --user app localhost/oci:v1 "$IMG_TMP/b" -- -c 'id -u; id -G; pwd; echo $FOO; echo hi > /tmp/x; cat /srv/data/file'
  run bash -c "cd '$IMG_TMP/b' && timeout 30 runc run '$CID'"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '1000\n1000 10\n/tmp\nbar\nlayer2')" ]
  # the write landed in the container's upper dir, not in the shared layer
  [ -n "$(find "$IMG_ROOT/snapshots" -path '*/upper/tmp/x')" ]
  [ -z "$(find "$IMG_ROOT/layers" -name x)" ]
}

@test "bundle_runs_with_subrun" {
  simg bundle localhost/oci:v1 "$IMG_TMP/b"
  run bash -c "cd '$IMG_TMP/b' && timeout 30 '$REPO/build/bin/subrun' --root '$IMG_TMP/subrun-state' run '$CID'"
  echo "$output"
  [ "$output" = "hello from image" ]
}

@test "many_containers_of_one_image_share_one_copy_on_disk" {
  simg bundle localhost/oci:v1 "$IMG_TMP/c0" >/dev/null
  one=$(du -sxk "$IMG_ROOT" | cut -f1)
  for i in $(seq 1 20); do
    simg bundle localhost/oci:v1 "$IMG_TMP/c$i" >/dev/null
  done
  all=$(du -sxk "$IMG_ROOT" | cut -f1)
  per=$(( (all - one) / 20 ))
  echo "first: ${one} KiB; 20 more: $((all - one)) KiB; each: ${per} KiB" >&3
  # the image is ~1 MiB compressed + ~2 MiB unpacked; each extra container
  # must cost only its empty upper/work dirs and metadata
  [ "$per" -lt 64 ]
  [ "$(grep -c "$IMG_TMP/c" /proc/self/mountinfo)" -eq 21 ]
  [ -x "$IMG_TMP/c20/rootfs/bin/busybox" ]
  for i in $(seq 0 20); do simg snapshot-rm "$IMG_TMP/c$i"; done
  [ "$(grep -c "$IMG_TMP/c" /proc/self/mountinfo)" -eq 0 ]
  [ -z "$(ls "$IMG_ROOT/snapshots")" ]
}

@test "gc_keeps_what_a_snapshot_uses_after_rm_of_the_image" {
  simg bundle localhost/oci:v1 "$IMG_TMP/b" >/dev/null
  simg rm localhost/oci:v1
  simg gc
  [ -n "$(ls "$IMG_ROOT/layers")" ]
  [ -x "$IMG_TMP/b/rootfs/bin/busybox" ]
  simg snapshot-rm "$IMG_TMP/b"
  simg gc
  [ -z "$(ls "$IMG_ROOT/layers")" ]
  [ -z "$(ls "$IMG_ROOT/blobs/sha256")" ]
}
