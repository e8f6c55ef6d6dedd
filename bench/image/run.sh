#!/usr/bin/env bash
# bench/image/run.sh — image pull and import: subnode-image vs skopeo vs podman.
#
# Builds a multi-layer image at bench time (busybox-static + generated
# layers, by umoci), pushes it with skopeo to a docker-registry on loopback,
# saves it as a docker-archive, then times in one hyperfine run:
#   pull:   subnode-image pull | skopeo copy docker:// → oci: | podman pull
#   import: subnode-image import | skopeo copy docker-archive: → oci: | podman load
# and the peak RSS of each (GNU time). Results go to docs/BENCHMARKS.md
# under "## Images" (the section is replaced), with the exact commands.
#
#   bench/image/run.sh [--runs N] [--layers N] [--mib-per-layer N] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
RUNS=5 LAYERS=4 MIB=16 WRITE=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift ;;
    --layers) LAYERS=$2; shift ;;
    --mib-per-layer) MIB=$2; shift ;;
    --no-write) WRITE=0 ;;
    *) echo "usage: $0 [--runs N] [--layers N] [--mib-per-layer N] [--no-write]" >&2; exit 2 ;;
  esac
  shift
done
SIMG=$REPO/build/bin/subnode-image
[ -x "$SIMG" ] || make -j2 all >/dev/null
W=$(mktemp -d /tmp/sn-bench-img-XXXXXX)
REG_PID=
cleanup() {
  set +e
  if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null; wait "$REG_PID" 2>/dev/null; fi
  podman --root "$W/podman" --runroot "$W/podman-run" --storage-driver vfs rmi -a -f >/dev/null 2>&1 || true
  for m in $(awk -v p="$W" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m" || true; done
  rm -rf "$W"
}
trap cleanup EXIT

echo "== building a $LAYERS-layer image (+busybox), ${MIB} MiB per layer" >&2
umoci init --layout "$W/oci" >/dev/null
umoci new --image "$W/oci:v1" >/dev/null
umoci unpack --image "$W/oci:v1" "$W/b0" >/dev/null
mkdir -p "$W/b0/rootfs/bin"; cp /bin/busybox "$W/b0/rootfs/bin/"
umoci repack --image "$W/oci:v1" "$W/b0" >/dev/null; rm -rf "$W/b0"
for i in $(seq 1 "$LAYERS"); do
  umoci unpack --image "$W/oci:v1" "$W/b" >/dev/null
  mkdir -p "$W/b/rootfs/data$i"
  # half incompressible, half text: realistic compression ratio
  head -c $((MIB * 512 * 1024)) /dev/urandom > "$W/b/rootfs/data$i/blob.bin"
  seq 1 $((MIB * 512 * 1024 / 7)) > "$W/b/rootfs/data$i/numbers.txt"
  umoci repack --image "$W/oci:v1" "$W/b" >/dev/null; rm -rf "$W/b"
done
umoci config --image "$W/oci:v1" --config.cmd /bin/sh >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
mkdir -p "$W/reg"
cat > "$W/reg.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/reg}}
http: {addr: "$REG"}
YML
docker-registry serve "$W/reg.yml" > "$W/reg.log" 2>&1 &
REG_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci:$W/oci:v1" "docker://$REG/bench/img:v1"
skopeo copy -q "oci:$W/oci:v1" "docker-archive:$W/img.tar:bench/img:v1"
SIZE=$(du -sh "$W/oci/blobs" | cut -f1)
TARSIZE=$(du -sh "$W/img.tar" | cut -f1)

PM="podman --root $W/podman --runroot $W/podman-run --storage-driver vfs"
declare -A CMD
CMD[pull_ours]="$SIMG --root $W/s1 pull $REG/bench/img:v1"
CMD[pull_skopeo]="skopeo copy -q --src-tls-verify=false docker://$REG/bench/img:v1 oci:$W/o1:v1"
CMD[pull_podman]="$PM pull -q --tls-verify=false $REG/bench/img:v1"
CMD[import_ours]="$SIMG --root $W/s2 import $W/img.tar"
CMD[import_skopeo]="skopeo copy -q docker-archive:$W/img.tar oci:$W/o2:v1"
CMD[import_podman]="$PM load -q -i $W/img.tar"
PREP_PULL="rm -rf $W/s1 $W/o1; $PM rmi -a -f >/dev/null 2>&1 || true"
PREP_IMPORT="rm -rf $W/s2 $W/o2; $PM rmi -a -f >/dev/null 2>&1 || true"

echo "== hyperfine ($RUNS runs each)" >&2
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/pull.json" --prepare "$PREP_PULL" \
  -n "subnode-image pull" "${CMD[pull_ours]}" \
  -n "skopeo copy docker:// → oci:" "${CMD[pull_skopeo]}" \
  -n "podman pull (vfs)" "${CMD[pull_podman]}" >&2
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/import.json" --prepare "$PREP_IMPORT" \
  -n "subnode-image import" "${CMD[import_ours]}" \
  -n "skopeo copy docker-archive: → oci:" "${CMD[import_skopeo]}" \
  -n "podman load (vfs)" "${CMD[import_podman]}" >&2

rss() { # prep cmd → peak RSS in MiB
  bash -c "$1" >/dev/null 2>&1
  /usr/bin/time -f '%M' -o "$W/rss" bash -c "exec $2" >/dev/null 2>&1 || true
  echo $(( $(tail -1 "$W/rss") / 1024 ))
}
declare -A RSS
for k in pull_ours pull_skopeo pull_podman; do RSS[$k]=$(rss "$PREP_PULL" "${CMD[$k]}"); done
for k in import_ours import_skopeo import_podman; do RSS[$k]=$(rss "$PREP_IMPORT" "${CMD[$k]}"); done

table() { # json, keys...
  local j=$1; shift
  echo "| tool | mean ± σ (s) | min (s) | peak RSS (MiB) |"
  echo "|---|---|---|---|"
  local i=0 k
  for k in "$@"; do
    jq -r --argjson i $i --arg rss "${RSS[$k]}" \
      '.results[$i] | "| \(.command) | \(.mean*1000|round/1000) ± \(.stddev*1000|round/1000) | \(.min*1000|round/1000) | \($rss) |"' "$j"
    i=$((i + 1))
  done
}
OUT=$W/section.md
{
  echo "## Images"
  echo
  echo "bench/image/run.sh, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r). Image: busybox-static + $LAYERS"
  echo "generated layers of $MIB MiB (half random, half text), built by umoci; $SIZE of gzip blobs,"
  echo "docker-archive $TARSIZE. Registry: Debian docker-registry on 127.0.0.1. hyperfine $RUNS runs + 1 warm-up,"
  echo "store/destination emptied before each run. Peak RSS from GNU time (one run)."
  echo
  echo "Pull from the loopback registry:"
  echo
  table "$W/pull.json" pull_ours pull_skopeo pull_podman
  echo
  echo "Import of the same image as a docker-archive:"
  echo
  table "$W/import.json" import_ours import_skopeo import_podman
  echo
  echo "podman pull/load also unpack the layers into its storage (vfs driver here, no"
  echo "overlay-on-overlay trouble), which subnode-image and skopeo do not do at pull time"
  echo "(subnode-image unpacks once per layer, at the first bundle)."
  echo
  echo "Exact commands:"
  echo
  echo '```'
  for k in pull_ours pull_skopeo pull_podman import_ours import_skopeo import_podman; do echo "${CMD[$k]}"; done
  echo '```'
} > "$OUT"
cat "$OUT"
if [ "$WRITE" = 1 ]; then
  mkdir -p docs
  f=docs/BENCHMARKS.md
  [ -f "$f" ] || printf '# Benchmarks\n\n' > "$f"
  # replace the "## Images" section (up to the next "## " heading)
  python3 - "$f" "$OUT" <<'PY'
import sys, re
f, sec = sys.argv[1], open(sys.argv[2]).read()
s = open(f).read()
m = re.search(r'^## Images\n.*?(?=^## |\Z)', s, flags=re.S | re.M)
s = s[:m.start()] + sec + "\n" + s[m.end():] if m else s.rstrip("\n") + "\n\n" + sec
open(f, "w").write(s)
PY
fi
