#!/usr/bin/env bats
# image_unpack.bats — layer unpack: formats, whiteouts, metadata, and the
# corpus of crafted malicious tars (each must fail naming its entry, with
# the host untouched).
load ../lib/common
load ../lib/image

setup() {
  image_setup
  CANARY=$IMG_TMP/canary
  mkdir -p "$CANARY"
  echo original > "$CANARY/target"
}
teardown() { image_teardown; }

check_good_tree() {
  local r=$1
  [ "$(cat "$r/etc/keep")" = keep ]
  [ ! -e "$r/etc/gone" ]
  [ "$(cat "$r/opq/new")" = new ]
  [ ! -e "$r/opq/old" ]
  [ "$(stat -c '%a %u %g' "$r/home/file")" = "640 1000 1001" ]
  [ "$(stat -c '%a %u %g' "$r/home")" = "750 1000 1000" ]
  [ "$(stat -c '%a' "$r/bin/tool")" = 4755 ]
  [ "$(stat -c '%i' "$r/home/file")" = "$(stat -c '%i' "$r/home/hard")" ]
  [ "$(readlink "$r/home/sym")" = /etc/keep ]
  [ -p "$r/fifo" ]
  [ "$(getfattr --only-values -n user.note "$r/home/file" 2>/dev/null || python3 -c "import os,sys; print(os.getxattr(sys.argv[1], 'user.note').decode())" "$r/home/file")" = chain ]
}

@test "unpacks_plain_gzip_and_zstd_layers_with_whiteouts_hardlinks_xattrs_modes_owners" {
  $MKLAYOUT good "$IMG_TMP/g"
  for comp in "" --gzip --zstd; do
    $MKLAYOUT layout "$IMG_TMP/l$comp" t $comp "$IMG_TMP/g.1.tar" "$IMG_TMP/g.2.tar"
    run simg import --name "good:x$comp" "$IMG_TMP/l$comp"
    echo "$output"
    [ "$status" -eq 0 ]
    run simg unpack "good:x$comp" "$IMG_TMP/flat$comp"
    echo "$output"
    [ "$status" -eq 0 ]
    check_good_tree "$IMG_TMP/flat$comp"
  done
}

@test "overlay_snapshot_applies_whiteouts_like_flat_unpack" {
  $MKLAYOUT good "$IMG_TMP/g"
  $MKLAYOUT layout "$IMG_TMP/l" t --gzip "$IMG_TMP/g.1.tar" "$IMG_TMP/g.2.tar"
  simg import --name good:ov "$IMG_TMP/l"
  run simg bundle good:ov "$IMG_TMP/b" -- /bin/true
  echo "$output"
  [ "$status" -eq 0 ]
  check_good_tree "$IMG_TMP/b/rootfs"
  simg snapshot-rm "$IMG_TMP/b"
  not grep -q "$IMG_TMP/b/rootfs" /proc/self/mountinfo
}

@test "refuses_layer_whose_content_does_not_match_its_diff_id" {
  $MKLAYOUT good "$IMG_TMP/g"
  $MKLAYOUT layout "$IMG_TMP/l" t --gzip --bad-diffid "$IMG_TMP/g.1.tar"
  simg import --name bad:diff "$IMG_TMP/l"
  run simg bundle bad:diff "$IMG_TMP/b"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"diff_id"* ]]
  [ -z "$(ls "$IMG_ROOT/layers")" ]
}

@test "malicious_tar_corpus_is_refused_and_host_untouched" {
  names=$($MKLAYOUT evil "$IMG_TMP/evil" "$CANARY")
  [ "$(echo "$names" | wc -l)" -ge 14 ]
  canary_before=$(tree_state "$CANARY")
  outside_before=$(ls -la "$IMG_TMP" | sha256sum)
  for n in $names; do
    $MKLAYOUT layout "$IMG_TMP/lay-$n" t "$IMG_TMP/evil/$n.tar"
    run simg import --name "evil:$n" "$IMG_TMP/lay-$n"
    [ "$status" -eq 0 ]
    # flat unpack
    run simg unpack "evil:$n" "$IMG_TMP/dest-$n"
    echo "$n: $output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"entry \`"* ]]
    [ ! -e "$IMG_TMP/dest-$n" ]
    # overlay snapshot path
    run simg bundle "evil:$n" "$IMG_TMP/bundle-$n"
    echo "$n (bundle): $output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"entry \`"* ]]
    [ -z "$(ls "$IMG_ROOT/layers")" ]
    [ -z "$(ls "$IMG_ROOT/snapshots")" ]
    not grep -q "$IMG_TMP/bundle-$n" /proc/self/mountinfo
    [ "$(tree_state "$CANARY")" = "$canary_before" ]
    [ "$(cat "$CANARY/target")" = original ]
    [ ! -e /pwned ] && [ ! -e "$IMG_TMP/pwned" ] && [ ! -e /tmp/pwned ]
  done
  # nothing "pwned" appeared anywhere under the test dir or /tmp
  [ -z "$(find /tmp -maxdepth 3 -name pwned 2>/dev/null)" ]
}

@test "names_the_offending_entry_for_each_attack" {
  $MKLAYOUT evil "$IMG_TMP/evil" "$CANARY" >/dev/null
  check() { # case expected-substring
    $MKLAYOUT layout "$IMG_TMP/lay-$1" t "$IMG_TMP/evil/$1.tar"
    simg import --name "e:$1" "$IMG_TMP/lay-$1" >/dev/null
    run simg unpack "e:$1" "$IMG_TMP/d-$1"
    echo "$1: $output"
    [[ "$output" == *"$2"* ]]
  }
  check absolute_path "absolute path escapes the target"
  check dotdot_path "path escapes the target"
  check symlink_abs_then_write "entry \`link/pwned\`: path goes through a symlink"
  check hardlink_abs_outside "hardlink to an absolute path"
  check char_device "entry \`dev/sda\`: device node refused"
  check block_device "device node refused"
  check overlay_xattr "trusted.overlay"
}
