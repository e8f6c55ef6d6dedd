# image.bash — helpers for the image layer's integration tests: fixtures
# built by the real tools (umoci, skopeo), a real docker-registry on
# loopback (anonymous, htpasswd, token), a token endpoint, cleanup.
#
# Everything a test starts is recorded (PIDs in $IMG_PIDS, mounts under
# $IMG_TMP) and removed by image_teardown, even after a failure.

SUBNODE_IMAGE=${SUBNODE_IMAGE:-$REPO/build-asan/bin/subnode-image}
IMG_PIDS=()

image_setup() {
  IMG_TMP=$(mktemp -d /tmp/sn-img-XXXXXX)
  IMG_ROOT=$IMG_TMP/store
  export IMG_TMP IMG_ROOT
  mkdir -p "$IMG_ROOT"/{blobs/sha256,layers,snapshots,tmp,partial}
}

# Unmount everything under $IMG_TMP, kill what we started, remove the dir.
image_teardown() {
  local pid m
  for pid in "${IMG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  IMG_PIDS=()
  if [ -n "${IMG_TMP:-}" ] && [ -d "$IMG_TMP" ]; then
    for m in $(awk -v p="$IMG_TMP" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$IMG_TMP"
  fi
}

simg() { "$SUBNODE_IMAGE" --root "$IMG_ROOT" "$@"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# make_busybox_layout DIR TAG: an OCI layout built by umoci from busybox-static,
# with a user, groups, env, entrypoint, volume, port and label; two layers.
make_busybox_layout() {
  local dir=$1 tag=${2:-latest} work
  work=$(mktemp -d "$IMG_TMP/umoci-XXXXXX")
  umoci init --layout "$dir" >/dev/null
  umoci new --image "$dir:$tag" >/dev/null
  umoci unpack --image "$dir:$tag" "$work/b" >/dev/null
  local r=$work/b/rootfs
  mkdir -p "$r"/{bin,etc,tmp,root,home/app}
  cp /bin/busybox "$r/bin/busybox"
  local a
  for a in sh ls cat echo id pwd touch mkdir rm stat sleep true env test du; do ln -sf busybox "$r/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' > "$r/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n' > "$r/etc/group"
  chmod 1777 "$r/tmp"
  umoci repack --image "$dir:$tag" "$work/b" >/dev/null
  # second layer (umoci adds one layer per unpack/repack round)
  umoci unpack --image "$dir:$tag" "$work/c" >/dev/null
  r=$work/c/rootfs
  mkdir -p "$r/srv/data"; echo layer2 > "$r/srv/data/file"; echo note > "$r/etc/motd"
  umoci repack --image "$dir:$tag" "$work/c" >/dev/null
  umoci config --image "$dir:$tag" --config.entrypoint /bin/sh --config.cmd -c \
    --config.cmd 'echo hello from image' --config.env FOO=bar --config.workingdir /tmp \
    --config.exposedports 8545/tcp --config.volume /data --config.label chain=test >/dev/null
  rm -rf "$work"
}

# make_docker_archive LAYOUT TAG OUT NAME: docker-archive by skopeo.
make_docker_archive() {
  skopeo copy -q "oci:$1:$2" "docker-archive:$3:$4" >/dev/null
}

# start_registry NAME [htpasswd|token|tls]: docker-registry on a free
# loopback port; sets REG (host:port) and REG_DIR.
start_registry() {
  local mode=${1:-anon} port
  port=$(free_port)
  REG=127.0.0.1:$port
  REG_DIR=$IMG_TMP/registry-$port
  mkdir -p "$REG_DIR/storage"
  {
    echo "version: 0.1"
    echo "log: {level: error, accesslog: {disabled: true}}"
    echo "storage: {filesystem: {rootdirectory: $REG_DIR/storage}, delete: {enabled: true}}"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    if [ "$mode" = tls ]; then
      echo "  tls: {certificate: $REG_DIR/cert.pem, key: $REG_DIR/key.pem}"
    fi
    case $mode in
      htpasswd) echo "auth: {htpasswd: {realm: test, path: $REG_DIR/htpasswd}}" ;;
      token) echo "auth: {token: {realm: \"http://$TOKEN_ADDR/token\", service: sn-test, issuer: sn-issuer, rootcertbundle: $TOKEN_DIR/cert.pem}}" ;;
    esac
  } > "$REG_DIR/config.yml"
  if [ "$mode" = htpasswd ]; then
    htpasswd -Bbn "$REG_USER" "$REG_PASS" > "$REG_DIR/htpasswd"
  fi
  if [ "$mode" = tls ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
      -addext "subjectAltName=IP:127.0.0.1" -keyout "$REG_DIR/key.pem" \
      -out "$REG_DIR/cert.pem" 2>/dev/null
  fi
  docker-registry serve "$REG_DIR/config.yml" > "$REG_DIR/log" 2>&1 &
  IMG_PIDS+=($!)
  local scheme=http i
  [ "$mode" = tls ] && scheme=https
  for i in $(seq 1 100); do
    if curl -sk -o /dev/null "$scheme://$REG/v2/"; then return 0; fi
    sleep 0.1
  done
  echo "registry did not start: $(cat "$REG_DIR/log")" >&2
  return 1
}

# start_token_server: the loopback token endpoint (tests/lib/image_token_server.py)
# with a fresh signing key; sets TOKEN_ADDR and TOKEN_DIR.
start_token_server() {
  local port
  port=$(free_port)
  TOKEN_ADDR=127.0.0.1:$port
  TOKEN_DIR=$IMG_TMP/token-$port
  mkdir -p "$TOKEN_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sn-token \
    -keyout "$TOKEN_DIR/key.pem" -out "$TOKEN_DIR/cert.pem" 2>/dev/null
  python3 "$REPO/tests/lib/image_token_server.py" "$port" "$TOKEN_DIR" sn-issuer sn-test \
    "$REG_USER" "$REG_PASS" > "$TOKEN_DIR/log" 2>&1 &
  IMG_PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    if curl -s -o /dev/null "http://$TOKEN_ADDR/health"; then return 0; fi
    sleep 0.1
  done
  echo "token server did not start: $(cat "$TOKEN_DIR/log")" >&2
  return 1
}

# skopeo_push LAYOUT TAG DEST_REF [creds]
skopeo_push() {
  local extra=()
  [ -n "${4:-}" ] && extra=(--dest-creds "$4")
  skopeo copy -q --dest-tls-verify=false "${extra[@]}" "oci:$1:$2" "docker://$3" >/dev/null
}

# Digest of a manifest as skopeo sees it in the registry.
skopeo_digest() {
  local extra=()
  [ -n "${2:-}" ] && extra=(--creds "$2")
  skopeo inspect --tls-verify=false "${extra[@]}" "docker://$1" | jq -r .Digest
}

MKLAYOUT="python3 $REPO/tests/lib/image_mklayout.py"

# A fingerprint of what the store holds (blobs, unpacked layers, index).
store_state() {
  ( cd "$IMG_ROOT" 2>/dev/null && { find blobs layers snapshots 2>/dev/null | sort; cat images.json 2>/dev/null; } ) | sha256sum
}

# A fingerprint of a directory tree (names, types, sizes, modes).
tree_state() {
  find "$1" -printf '%P %y %s %m\n' 2>/dev/null | sort | sha256sum
}
