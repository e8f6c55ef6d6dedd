#!/usr/bin/env bash
# bench/volumes/run.sh — volumes: (1) export → import of a volume between
# two daemons on this machine vs `tar c | tar x` of the same tree through a
# pipe into the same kind of file system, with the peak RSS of both daemons
# during the transfer (VmHWM), for two sizes (it must not grow with the volume);
# (2) 128 subnodes, each with its own volume made by its create, from
# nothing to all running. Results go to docs/BENCHMARKS.md under
# "## Volumes" (the section is replaced) unless --no-write.
#
#   bench/volumes/run.sh [--size MiB] [--count N] [--parallel P] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
SIZE=1024 N=128 P=16 WRITE=1
while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZE=$2; shift ;;
    --count) N=$2; shift ;;
    --parallel) P=$2; shift ;;
    --no-write) WRITE=0 ;;
    *) echo "usage: $0 [--size MiB] [--count N] [--parallel P] [--no-write]" >&2; exit 2 ;;
  esac
  shift
done
BIN=$REPO/build/bin
[ -x "$BIN/subnoded" ] || make -j2 all >/dev/null
W=$(mktemp -d /tmp/sn-bench-vol-XXXXXX)
CG=/sn-bench-vol-$$
PIDS=()
cleanup() {
  set +e
  if [ -S "$W/a.sock" ]; then
    ids=$(SUBNODE_HOST=unix://$W/a.sock "$BIN/subnode" ps -aq 2>/dev/null)
    [ -n "$ids" ] && echo "$ids" | xargs -P "$P" -n 8 env SUBNODE_HOST=unix://$W/a.sock "$BIN/subnode" rm -f >/dev/null 2>&1
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for m in $(awk -v p="$W" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  for d in $(losetup -a | awk -F: -v p="$W" 'index($0, p) {print $1}'); do losetup -d "$d" 2>/dev/null; done
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "sn-bench-vol-$$*"); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$W"
}
trap cleanup EXIT

daemon() { # NAME: a daemon with root $W/NAME, socket $W/NAME.sock
  mkdir -p "$W/$1"
  "$BIN/subnoded" --root "$W/$1" --socket "$W/$1.sock" --cgroup-parent "$CG-$1" --log "$W/$1.log" &
  PIDS+=("$!")
  eval "PID_$1=$!"
  for _ in $(seq 100); do curl -sf --unix-socket "$W/$1.sock" http://x/_ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "daemon $1 did not start" >&2; exit 1
}
sa() { SUBNODE_HOST=unix://$W/a.sock "$BIN/subnode" "$@"; }
sb() { SUBNODE_HOST=unix://$W/b.sock "$BIN/subnode" "$@"; }
now() { date +%s.%N; }
kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# Peak RSS over a span, without a sampler competing for the CPU: the
# kernel's high-water mark (VmHWM), reset first (clear_refs 5).
hwm_reset() { echo 5 > "/proc/$1/clear_refs"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

daemon a
daemon b

# The tree: a few large files and many small ones, MiB MiB in all.
fill() { # DIR MiB
  local dir=$1 mib=$2 big=$(( $2 * 7 / 8 / 8 ))
  mkdir -p "$dir/big" "$dir/small"
  for i in $(seq 8); do head -c "$((big * 1024 * 1024))" /dev/urandom > "$dir/big/f$i"; done
  local rest=$(( (mib - big * 8) * 1024 ))   # KiB left, in 16 KiB files
  for i in $(seq $((rest / 16))); do head -c 16384 /dev/urandom > "$dir/small/s$i"; done
}

transfer() { # MiB: writes "secs tar_secs rss_a rss_b" to $W/result
  local mib=$1 vs=$(( $1 * 5 / 4 + 64 ))M
  sa volume create "src$mib" --size "$vs" >/dev/null
  fill "$W/a/volumes/src$mib" "$mib"
  sync
  sb volume create "peer$mib" --size "$vs" >/dev/null
  # the peer: the same tree through a pipe into the same kind of file system
  local t0 t1 t2 t3
  t0=$(now)
  tar -C "$W/a/volumes/src$mib" -c . | tar -C "$W/b/volumes/peer$mib" -x
  t1=$(now)
  hwm_reset "$PID_a"; hwm_reset "$PID_b"
  t2=$(now)
  sa volume export "src$mib" | sb volume import --size "$vs" "dst$mib" >/dev/null
  t3=$(now)
  hwm "$PID_a" > "$W/rss_a"; hwm "$PID_b" > "$W/rss_b"
  cmp -s <(cd "$W/a/volumes/src$mib" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
         <(cd "$W/b/volumes/dst$mib" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
    || { echo "the imported tree differs" >&2; exit 1; }
  echo "$(echo "$t3 - $t2" | bc) $(echo "$t1 - $t0" | bc) $(cat "$W/rss_a") $(cat "$W/rss_b")" > "$W/result"
  sa volume rm "src$mib" >/dev/null
  sb volume rm "peer$mib" "dst$mib" >/dev/null
}

rss_a0=$(kib "$PID_a"); rss_b0=$(kib "$PID_b")
echo "== export → import, 128 MiB" >&2
transfer 128
read -r s_small t_small ra_small rb_small < "$W/result"
echo "   ours $s_small s, tar $t_small s, peak RSS $ra_small / $rb_small KiB" >&2
echo "== export → import, $SIZE MiB" >&2
transfer "$SIZE"
read -r s_big t_big ra_big rb_big < "$W/result"
echo "   ours $s_big s, tar $t_big s, peak RSS $ra_big / $rb_big KiB" >&2
mbs() { printf '%.0f' "$(echo "$1 / $2" | bc -l)"; }
ratio=$(printf '%.2f' "$(echo "$t_big / $s_big" | bc -l)")

echo "== $N subnodes, each with its own new volume, $P clients" >&2
source tests/lib/node.bash
node_make_layout "$W/layout"
"$BIN/subnode-image" --root "$W/a/images" import "$W/layout" --name busybox >/dev/null
sa run --rm busybox true >/dev/null   # warm-up: the layers unpacked once
unit=$(sa node info --json | jq .Slices.UnitDisk)
# the same without volumes first, in the same run: the cost of the volumes
t0=$(now)
seq "$N" | xargs -P "$P" -I{} env SUBNODE_HOST=unix://$W/a.sock "$BIN/subnode" run -d --name n{} busybox sleep 100000 >/dev/null
t1=$(now)
base=$(printf '%.2f' "$(echo "$t1 - $t0" | bc)")
sa ps -q | xargs -P "$P" -n 8 env SUBNODE_HOST=unix://$W/a.sock "$BIN/subnode" rm -f >/dev/null
load=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(now)
seq "$N" | xargs -P "$P" -I{} env SUBNODE_HOST=unix://$W/a.sock "$BIN/subnode" run -d --name b{} -v v{}:/data busybox sleep 100000 >/dev/null
t1=$(now)
running=$(sa ps -q | wc -l)
vols=$(sa volume ls -q | wc -l)
start=$(printf '%.2f' "$(echo "$t1 - $t0" | bc)")
sleep 3
rss_128=$(kib "$PID_a")
echo "   $running running, $vols volumes, in $start s (without volumes: $base s; load $load); daemon RSS $rss_128 KiB" >&2

report=$(cat <<EOT
## Volumes

bench/volumes/run.sh, $(date -u +%F), $(nproc) CPUs, $(uname -r). Optimised build (build/bin);
two daemons side by side on this machine (each its own root and socket), the stream going
\`subnode volume export src | subnode volume import dst\` (CLI → daemon A → image tool, and back
through daemon B into its image tool). The peer is \`tar -C SRC -c . | tar -C DST -x\` of the
same tree into an empty volume of the same size (the same kind of file system: ext4 on a loop
device), in the same run, page cache warm for both. Tree: 8 large random files (7/8 of it) and
16 KiB random files for the rest. The imported tree is compared file by file (sha256).

| volume | ours (export → import, incl. making dst) | tar c \\| tar x | ours / tar (throughput) | peak RSS daemon A / B during it (KiB) |
|---|---|---|---|---|
| 128 MiB | $(printf '%.2f' "$s_small") s ($(mbs 128 "$s_small") MiB/s) | $(printf '%.2f' "$t_small") s ($(mbs 128 "$t_small") MiB/s) | $(printf '%.2f' "$(echo "$t_small / $s_small" | bc -l)") | $ra_small / $rb_small |
| $SIZE MiB | $(printf '%.2f' "$s_big") s ($(mbs "$SIZE" "$s_big") MiB/s) | $(printf '%.2f' "$t_big") s ($(mbs "$SIZE" "$t_big") MiB/s) | $ratio | $ra_big / $rb_big |

Targets: ≥ 0.8 × tar; the daemons' RSS must not grow with the volume (idle before: $rss_a0 / $rss_b0
KiB). The bytes pass through the daemons in pipe-sized pieces (1 MiB pipes, 256 KiB response
blocks); the tar work (libarchive, sha256) runs in subnode-image. Peak RSS is the kernel's
high-water mark (VmHWM), reset just before the transfer.

$N subnodes, each \`subnode run -d -v vI:/data busybox sleep\` making its own volume (the
subnode's share of the disk: $(( unit / 1048576 )) MiB, a sparse ext4 image copied from the size's
template, a loop device, a mount), $P clients in parallel: **$running running with $vols volumes in $start s**; the same
$N without volumes, just before in the same run: $base s (target ≤ 3 s on 2 cores). Load
average when it started: $load. Daemon RSS with them: $rss_128 KiB.

The machine is shared with other engineers' builds and tests (load average at the start of
the 128: $load): read the ratios, measured back to back in one run, rather than the seconds.

Exact commands (\`bash bench/volumes/run.sh\`):

\`\`\`
subnode volume create src --size S; (fill it); subnode -H B volume create peer --size S
tar -C A/volumes/src -c . | tar -C B/volumes/peer -x
subnode volume export src | subnode -H B volume import --size S dst
seq $N | xargs -P $P -I{} subnode run -d --name b{} -v v{}:/data busybox sleep 100000
\`\`\`
EOT
)
echo "$report"
if [ "$WRITE" = 1 ]; then
  python3 - docs/BENCHMARKS.md "$report" <<'PY'
import sys, re
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read()
m = re.search(r"^## Volumes\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
text = text[:m.start()] + section + ("\n" if text[m.end():] else "") + text[m.end():] if m else text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
fi
