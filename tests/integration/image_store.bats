#!/usr/bin/env bats
# image_store.bats — import, export, index, gc and bad input, against
# fixtures made by umoci and skopeo at test time.
load ../lib/common
load ../lib/image

setup() {
  image_setup
  make_busybox_layout "$IMG_TMP/oci" v1
}
teardown() { image_teardown; }

@test "imports_umoci_oci_layout_and_lists_it" {
  run simg import "$IMG_TMP/oci"
  [ "$status" -eq 0 ]
  want=$(jq -r '.manifests[0].digest' "$IMG_TMP/oci/index.json")
  [ "$output" = "$want" ]
  run simg ls --json
  [ "$(echo "$output" | jq -r '.[0].tags[0]')" = "localhost/oci:v1" ]
  run simg inspect localhost/oci:v1
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.layers | length')" = 2 ]
  [ "$(echo "$output" | jq -r '.image.config.Entrypoint[0]')" = /bin/sh ]
}

@test "imports_skopeo_docker_archive_with_its_repo_tag" {
  make_docker_archive "$IMG_TMP/oci" v1 "$IMG_TMP/bb.tar" example.com/chain/bb:v1
  run simg import "$IMG_TMP/bb.tar"
  echo "$output"
  [ "$status" -eq 0 ]
  run simg inspect example.com/chain/bb:v1
  [ "$status" -eq 0 ]
  # diff_ids of the archive's config are the layer digests (uncompressed)
  [ "$(echo "$output" | jq -r '.layers[0].digest == .layers[0].diffid')" = true ]
}

@test "imports_docker_archive_oci_inside_form_keeping_the_manifest_digest" {
  # docker 25+ form: blobs/sha256 + index.json + manifest.json pointing into blobs
  d=$IMG_TMP/dsave; mkdir -p "$d"
  cp -r "$IMG_TMP/oci/blobs" "$IMG_TMP/oci/oci-layout" "$IMG_TMP/oci/index.json" "$d/"
  m=$(jq -r '.manifests[0].digest' "$d/index.json")
  cfg=$(jq -r .config.digest "$d/blobs/sha256/${m#sha256:}")
  layers=$(jq -c '[.layers[].digest | "blobs/sha256/" + ltrimstr("sha256:")]' "$d/blobs/sha256/${m#sha256:}")
  echo "[{\"Config\":\"blobs/sha256/${cfg#sha256:}\",\"RepoTags\":[\"bb:new\"],\"Layers\":$layers}]" > "$d/manifest.json"
  tar -C "$d" -cf "$IMG_TMP/new.tar" .
  run simg import "$IMG_TMP/new.tar"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$m" ]
  run simg inspect bb:new
  [ "$status" -eq 0 ]
}

@test "exports_oci_layout_and_docker_archive_readable_by_skopeo" {
  simg import "$IMG_TMP/oci"
  run simg export localhost/oci:v1 --format oci "$IMG_TMP/out-oci"
  [ "$status" -eq 0 ]
  run skopeo inspect "oci:$IMG_TMP/out-oci:v1"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.Layers | length')" = 2 ]
  run simg export localhost/oci:v1 --format docker "$IMG_TMP/out.tar"
  [ "$status" -eq 0 ]
  run skopeo inspect "docker-archive:$IMG_TMP/out.tar"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.RepoTags[0]')" = "localhost/oci:v1" ] || [ "$(echo "$output" | jq -r '.Layers | length')" = 2 ]
  # and skopeo can copy it on, and we can read what skopeo wrote
  skopeo copy -q "docker-archive:$IMG_TMP/out.tar" "oci:$IMG_TMP/round:r"
  run simg import --name round:trip "$IMG_TMP/round"
  [ "$status" -eq 0 ]
  # the docker export round-trips through our own import
  IMG_ROOT=$IMG_TMP/store2 run simg import "$IMG_TMP/out.tar"
  [ "$status" -eq 0 ]
}

@test "rm_then_gc_removes_unreferenced_blobs_but_keeps_shared_ones" {
  simg import "$IMG_TMP/oci"
  make_docker_archive "$IMG_TMP/oci" v1 "$IMG_TMP/bb.tar" bb:arch
  simg import "$IMG_TMP/bb.tar"
  n_before=$(ls "$IMG_ROOT/blobs/sha256" | wc -l)
  run simg gc
  [ "$status" -eq 0 ]
  [ "$(ls "$IMG_ROOT/blobs/sha256" | wc -l)" -eq "$n_before" ]
  simg rm bb:arch
  run simg gc
  echo "$output"
  [[ "$output" == *"removed "[1-9]* ]]
  # the layout image is whole still
  run simg unpack localhost/oci:v1 "$IMG_TMP/flat"
  [ "$status" -eq 0 ]
  [ -x "$IMG_TMP/flat/bin/busybox" ]
  simg rm localhost/oci:v1
  simg gc
  [ "$(ls "$IMG_ROOT/blobs/sha256" | wc -l)" -eq 0 ]
  [ "$(simg ls --json | jq length)" -eq 0 ]
}

@test "refuses_missing_blob_and_leaves_store_as_it_was" {
  printf 'x' > "$IMG_TMP/l.bin"; tar -C "$IMG_TMP" -cf "$IMG_TMP/l.tar" l.bin
  $MKLAYOUT layout "$IMG_TMP/bad1" t --drop-blob layer "$IMG_TMP/l.tar"
  simg import "$IMG_TMP/oci"
  before=$(store_state)
  run simg import "$IMG_TMP/bad1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"missing from the layout"* ]]
  [ "$(store_state)" = "$before" ]
  [ -z "$(ls "$IMG_ROOT/tmp")" ]
}

@test "refuses_wrong_media_types" {
  tar -C "$IMG_TMP" -cf "$IMG_TMP/l.tar" oci/oci-layout
  $MKLAYOUT layout "$IMG_TMP/bad2" t --config-mt application/x-nope "$IMG_TMP/l.tar"
  $MKLAYOUT layout "$IMG_TMP/bad3" t --layer-mt application/x-nope "$IMG_TMP/l.tar"
  before=$(store_state)
  run simg import "$IMG_TMP/bad2"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"media type"* ]]
  run simg import "$IMG_TMP/bad3"
  [ "$status" -eq 1 ]
  [[ "$output" == *"media type"* ]]
  [ "$(store_state)" = "$before" ]
}

@test "refuses_oversized_manifest" {
  tar -C "$IMG_TMP" -cf "$IMG_TMP/l.tar" oci/oci-layout
  $MKLAYOUT layout "$IMG_TMP/bad4" t --huge-manifest "$IMG_TMP/l.tar"
  before=$(store_state)
  run simg import "$IMG_TMP/bad4"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"oversized"* || "$output" == *"larger than"* ]]
  [ "$(store_state)" = "$before" ]
}

@test "refuses_tampered_blob_with_digest_mismatch" {
  simg import "$IMG_TMP/oci" >/dev/null
  cp -r "$IMG_TMP/oci" "$IMG_TMP/tampered"
  IMG_ROOT=$IMG_TMP/store-t; mkdir -p "$IMG_ROOT"/{blobs/sha256,layers,snapshots,tmp,partial}
  m=$(jq -r '.manifests[0].digest' "$IMG_TMP/tampered/index.json")
  l=$(jq -r '.layers[1].digest' "$IMG_TMP/tampered/blobs/sha256/${m#sha256:}")
  f=$IMG_TMP/tampered/blobs/sha256/${l#sha256:}
  python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[100]^=1; open(p,'wb').write(b)" "$f"
  before=$(store_state)
  run simg import "$IMG_TMP/tampered"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"digest mismatch"* ]]
  [ "$(store_state)" = "$before" ]
  [ -z "$(ls "$IMG_ROOT/blobs/sha256")" ]
}

@test "refuses_truncated_and_corrupt_docker_archives" {
  make_docker_archive "$IMG_TMP/oci" v1 "$IMG_TMP/bb.tar" bb:arch
  head -c 300000 "$IMG_TMP/bb.tar" > "$IMG_TMP/trunc.tar"
  head -c 10000 /dev/urandom > "$IMG_TMP/junk.tar"
  before=$(store_state)
  run simg import "$IMG_TMP/trunc.tar"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"trunc.tar"* ]]
  run simg import "$IMG_TMP/junk.tar"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$(store_state)" = "$before" ]
  [ -z "$(ls "$IMG_ROOT/tmp")" ]
}

@test "concurrent_imports_and_gc_from_several_processes_stay_consistent" {
  make_docker_archive "$IMG_TMP/oci" v1 "$IMG_TMP/bb.tar" bb:arch
  pids=()
  for i in 1 2 3 4; do
    simg import --name "par:$i" "$IMG_TMP/bb.tar" > "$IMG_TMP/imp$i.log" 2>&1 & pids+=($!)
  done
  simg gc > "$IMG_TMP/gc.log" 2>&1 & pids+=($!)
  for p in "${pids[@]}"; do wait "$p"; done
  [ "$(simg ls --json | jq '[.[].tags[]] | length')" -eq 4 ]
  for i in 1 2 3 4; do
    run simg unpack "par:$i" "$IMG_TMP/u$i"
    [ "$status" -eq 0 ]
  done
  [ -z "$(ls "$IMG_ROOT/tmp")" ]
}

@test "imports_an_oci_layout_tar_and_a_docker_archive_from_stdin_or_a_file" {
  skopeo copy -q "oci:$IMG_TMP/oci:v1" "oci-archive:$IMG_TMP/bb-oci.tar:example.com/chain/bb:oci"
  make_docker_archive "$IMG_TMP/oci" v1 "$IMG_TMP/bb-docker.tar" example.com/chain/bb:docker
  tar -C "$IMG_TMP/oci" -cf "$IMG_TMP/bb-layout.tar" .
  want=$(jq -r '.manifests[0].digest' "$IMG_TMP/oci/index.json")
  # skopeo's oci-archive, from stdin: the OCI manifest is kept, the full ref.name is the tag
  run bash -c "'$SUBNODE_IMAGE' --root '$IMG_ROOT' import - < '$IMG_TMP/bb-oci.tar'"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$want" ]
  simg ls --json | jq -e 'map(.tags[]) | index("example.com/chain/bb:oci") != null' >/dev/null
  # a docker-archive from stdin, read once from a pipe (cat: not seekable)
  run bash -c "cat '$IMG_TMP/bb-docker.tar' | '$SUBNODE_IMAGE' --root '$IMG_ROOT' import -"
  [ "$status" -eq 0 ]
  simg ls --json | jq -e 'map(.tags[]) | index("example.com/chain/bb:docker") != null' >/dev/null
  # a tarred umoci layout (a bare ref.name: untagged unless named) as a file, with --name
  run simg import --name local/bb:tarred "$IMG_TMP/bb-layout.tar"
  [ "$status" -eq 0 ]
  [ "$output" = "$want" ]
  run simg unpack local/bb:tarred "$IMG_TMP/u"
  [ "$status" -eq 0 ]
  [ -x "$IMG_TMP/u/bin/busybox" ]
  [ -z "$(ls "$IMG_ROOT/tmp")" ]
}

@test "refuses_a_layout_tar_whose_blob_does_not_match_its_name_and_tars_of_neither_kind" {
  cp -r "$IMG_TMP/oci" "$IMG_TMP/tampered"
  m=$(jq -r '.manifests[0].digest' "$IMG_TMP/tampered/index.json")
  l=$(jq -r '.layers[1].digest' "$IMG_TMP/tampered/blobs/sha256/${m#sha256:}")
  f=$IMG_TMP/tampered/blobs/sha256/${l#sha256:}
  python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[100]^=1; open(p,'wb').write(b)" "$f"
  tar -C "$IMG_TMP/tampered" -cf "$IMG_TMP/tampered.tar" .
  mkdir "$IMG_TMP/other" && echo hello > "$IMG_TMP/other/readme"
  tar -C "$IMG_TMP/other" -cf "$IMG_TMP/other.tar" .
  before=$(store_state)
  run bash -c "'$SUBNODE_IMAGE' --root '$IMG_ROOT' import - < '$IMG_TMP/tampered.tar'"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"layer $l: digest mismatch"* ]]
  run bash -c "'$SUBNODE_IMAGE' --root '$IMG_ROOT' import - < '$IMG_TMP/other.tar'"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"neither manifest.json (docker-archive) nor index.json (OCI layout)"* ]]
  run bash -c "head -c 5000 /dev/urandom | '$SUBNODE_IMAGE' --root '$IMG_ROOT' import -"
  [ "$status" -eq 1 ]
  [[ "$output" == *"not a tar archive"* ]]
  [ "$(store_state)" = "$before" ]
  [ -z "$(ls "$IMG_ROOT/tmp")" ]
  [ -z "$(ls "$IMG_ROOT/blobs/sha256")" ]
}
