#!/usr/bin/env bats
# image_registry.bats — pull from a real docker-registry on loopback
# (anonymous, htpasswd, bearer token via our loopback token endpoint, TLS),
# with the digests skopeo reports, resume, no re-download, and errors.
load ../lib/common
load ../lib/image

setup() {
  image_setup
  make_busybox_layout "$IMG_TMP/oci" v1
  REG_USER=alice REG_PASS=s3cret-pw
}
teardown() { image_teardown; }

@test "pulls_anonymously_with_the_digest_skopeo_reports" {
  start_registry anon
  skopeo_push "$IMG_TMP/oci" v1 "$REG/chain/bb:v1"
  want=$(skopeo_digest "$REG/chain/bb:v1")
  run simg pull "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$want" ]
  run simg bundle "$REG/chain/bb:v1" "$IMG_TMP/b" -- -c 'cat /srv/data/file'
  [ "$status" -eq 0 ]
  [ "$(cat "$IMG_TMP/b/rootfs/srv/data/file")" = layer2 ]
  simg snapshot-rm "$IMG_TMP/b"
}

@test "pulls_with_htpasswd_basic_auth_and_refuses_without_or_with_bad_creds" {
  start_registry htpasswd
  skopeo_push "$IMG_TMP/oci" v1 "$REG/chain/bb:v1" "$REG_USER:$REG_PASS"
  want=$(skopeo_digest "$REG/chain/bb:v1" "$REG_USER:$REG_PASS")
  before=$(store_state)
  run simg pull "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"authentication required"* ]]
  run simg pull --creds "$REG_USER:wrong" "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"credentials refused"* ]]
  [ "$(store_state)" = "$before" ]
  run simg pull --creds "$REG_USER:$REG_PASS" "$REG/chain/bb:v1"
  [ "$status" -eq 0 ]
  [ "$output" = "$want" ]
}

@test "pulls_with_bearer_token_from_the_www_authenticate_challenge" {
  start_token_server
  start_registry token
  skopeo_push "$IMG_TMP/oci" v1 "$REG/chain/bb:v1" "$REG_USER:$REG_PASS"
  want=$(skopeo_digest "$REG/chain/bb:v1" "$REG_USER:$REG_PASS")
  run simg pull "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"token from"* ]]
  run simg pull --creds "$REG_USER:$REG_PASS" "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$want" ]
  grep -q 'GET /token' "$TOKEN_DIR/log"
}

@test "pulls_over_https_verifying_the_ca" {
  start_registry tls
  skopeo_push "$IMG_TMP/oci" v1 "$REG/chain/bb:v1"
  run simg pull --ca-file /etc/ssl/certs/ca-certificates.crt "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"certificate"* || "$output" == *"SSL"* ]]
  run simg pull --ca-file "$REG_DIR/cert.pem" "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(skopeo_digest "$REG/chain/bb:v1")" ]
}

@test "picks_linux_amd64_from_a_multi_platform_index" {
  # a second, different image claimed as linux/arm64
  $MKLAYOUT good "$IMG_TMP/g"
  $MKLAYOUT layout "$IMG_TMP/arm" t "$IMG_TMP/g.1.tar"
  cp -n "$IMG_TMP/arm/blobs/sha256/"* "$IMG_TMP/oci/blobs/sha256/"
  amd=$(jq -c '.manifests[0] | del(.annotations) + {platform:{os:"linux",architecture:"amd64"}}' "$IMG_TMP/oci/index.json")
  arm=$(jq -c '.manifests[0] | del(.annotations) + {platform:{os:"linux",architecture:"arm64"}}' "$IMG_TMP/arm/index.json")
  echo "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[$arm,$amd]}" > "$IMG_TMP/idx.json"
  idx=sha256:$(sha256sum "$IMG_TMP/idx.json" | cut -d' ' -f1)
  cp "$IMG_TMP/idx.json" "$IMG_TMP/oci/blobs/sha256/${idx#sha256:}"
  size=$(stat -c %s "$IMG_TMP/idx.json")
  jq --arg d "$idx" --argjson s "$size" '.manifests += [{mediaType:"application/vnd.oci.image.index.v1+json",digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":"multi"}}]' \
    "$IMG_TMP/oci/index.json" > "$IMG_TMP/i2" && mv "$IMG_TMP/i2" "$IMG_TMP/oci/index.json"
  start_registry anon
  skopeo copy -q --all --dest-tls-verify=false "oci:$IMG_TMP/oci:multi" "docker://$REG/chain/multi:v1"
  # skopeo may re-encode the manifests: take the digests from the registry's index
  raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/chain/multi:v1")
  want=$(echo "$raw" | jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest')
  want_arm=$(echo "$raw" | jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest')
  run simg pull "$REG/chain/multi:v1"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$want" ]
  run simg pull --platform linux/arm64 "$REG/chain/multi:v2" 
  [ "$status" -eq 1 ]
  run simg pull --platform linux/arm64 "$REG/chain/multi:v1"
  [ "$output" = "$want_arm" ]
}

@test "does_not_download_layers_already_in_the_store" {
  start_registry anon
  skopeo_push "$IMG_TMP/oci" v1 "$REG/chain/bb:v1"
  skopeo_push "$IMG_TMP/oci" v1 "$REG/chain/bb2:v1"
  simg pull "$REG/chain/bb:v1"
  run simg --progress pull "$REG/chain/bb2:v1"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | grep -c 'already present')" -eq 2 ]
  [ "$(echo "$output" | grep -c 'downloading')" -eq 0 ]
}

@test "resumes_a_partial_layer_download" {
  start_registry anon
  skopeo_push "$IMG_TMP/oci" v1 "$REG/chain/bb:v1"
  m=$(skopeo_digest "$REG/chain/bb:v1")
  l=$(skopeo inspect --raw --tls-verify=false "docker://$REG/chain/bb:v1" | jq -r '[.layers[] | select(.size > 100000)][0].digest')
  f=$REG_DIR/storage/docker/registry/v2/blobs/sha256/${l:7:2}/${l#sha256:}/data
  size=$(stat -c %s "$f")
  head -c $((size / 2)) "$f" > "$IMG_ROOT/partial/${l#sha256:}"
  run simg --progress pull "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tail -1)" = "$m" ]
  echo "$output" | grep -q "resuming at $((size / 2)) of $size bytes"
  [ ! -e "$IMG_ROOT/partial/${l#sha256:}" ]
  # and a corrupt partial is caught by the digest check, not stored
  simg rm "$REG/chain/bb:v1"; simg gc
  head -c $((size / 2)) /dev/urandom > "$IMG_ROOT/partial/${l#sha256:}"
  run simg pull "$REG/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"digest mismatch"* ]]
  [ ! -e "$IMG_ROOT/blobs/sha256/${l#sha256:}" ]
  run simg pull "$REG/chain/bb:v1"
  [ "$status" -eq 0 ]
}

@test "registry_errors_and_timeouts_give_clear_errors_and_leave_the_store" {
  start_registry anon
  skopeo_push "$IMG_TMP/oci" v1 "$REG/chain/bb:v1"
  simg pull "$REG/chain/bb:v1" >/dev/null
  before=$(store_state)
  run simg pull "$REG/chain/bb:nope"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"404"*"MANIFEST_UNKNOWN"* ]]
  run simg pull "$REG/chain/missing:v1"
  [ "$status" -eq 1 ]
  # a server that accepts and never answers
  port=$(free_port)
  local ready=$BATS_TEST_TMPDIR/silent.ready
  python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(8); open(sys.argv[2],"w").close(); c=[s.accept() for _ in range(3)]; time.sleep(60)' "$port" "$ready" &
  IMG_PIDS+=($!)
  wait_file "$ready"
  start=$(date +%s)
  run simg pull --timeout 2 "127.0.0.1:$port/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"timed out"* || "$output" == *"Timeout"* ]]
  [ $(( $(date +%s) - start )) -lt 15 ]
  # nobody listening
  run simg pull "127.0.0.1:$(free_port)/chain/bb:v1"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"onnect"* ]]
  [ "$(store_state)" = "$before" ]
}
