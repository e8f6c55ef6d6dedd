#!/usr/bin/env bash
# bench/runtime/run.sh — container start-up: subrun vs runc vs crun.
#
# One busybox rootfs, two configs from `subrun spec` that point at it (so
# every runtime runs the very same bundle): /bin/true and sleep 100. One
# hyperfine run per scenario, all runtimes in it:
#   run:  RT run (foreground, /bin/true; run removes the container)
#   csd:  RT create + RT start + RT delete --force of `sleep 100`, as one
#         shell command per iteration
# plus the peak RSS of `RT create` (GNU time %M, several runs), and an
# interleaved comparison (interleave.py: every round runs each variant once,
# in random order) of wall and CPU time of `run`.
#
# subrun runs twice: installed on a read-only mount (the documented
# install, docs/SUBRUN.md: no copy of itself needed) and from the writable
# build directory (it then re-execs from a sealed memfd copy,
# clone_binary.c). The read-only install is a read-only bind mount of
# build/bin made inside the benchmark's private mount namespace.
#
# crun 1.8 refuses hybrid cgroup hosts (it sees /sys/fs/cgroup/unified), so
# on such a host /sys/fs/cgroup/unified is unmounted in that namespace too
# (all three runtimes get the same view).
# Results go to docs/BENCHMARKS.md under "## Runtime" (the section is
# replaced; bench/runtime/notes.md, the hand-written analysis, is appended).
#
#   bench/runtime/run.sh [--runs N] [--warmup N] [--rss-runs N]
#                        [--rounds N] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
RUNS=100 WARMUP=10 RSS_RUNS=10 ROUNDS=100 WRITE=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --rss-runs) RSS_RUNS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --no-write) WRITE=0 ;;
    *) echo "usage: $0 [--runs N] [--warmup N] [--rss-runs N] [--rounds N] [--no-write]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench/runtime: needs root" >&2; exit 1; }
for t in hyperfine runc crun jq python3 /usr/bin/time unshare; do
  command -v "$t" >/dev/null || { echo "bench/runtime: $t is missing" >&2; exit 1; }
done
S=$REPO/build/bin/subrun
[ -x "$S" ] || make -j2 all >/dev/null
RUNC=$(command -v runc) CRUN=$(command -v crun)

W=$(mktemp -d /tmp/sn-bench-rt-XXXXXX)
cleanup() {
  set +e
  local st rt id
  for st in "$W"/state-*; do
    [ -d "$st" ] || continue
    case $st in *runc*) rt=$RUNC ;; *crun*) rt=$CRUN ;; *) rt=$S ;; esac
    for id in $("$rt" --root "$st" list -q 2>/dev/null); do
      "$rt" --root "$st" delete --force "$id" >/dev/null 2>&1
    done
  done
  rm -rf "$W"
  # subrun's default parent cgroup, where this run made it (common.bash)
  type subrun_drop_default_parent >/dev/null 2>&1 && subrun_drop_default_parent
}
trap cleanup EXIT

# ---- the bundle: one rootfs, two configs
SUBRUN_PLAIN=$S SUBRUN=$S
BATS_TEST_FILENAME=$REPO/tests/integration/bench.bats
source "$REPO/tests/lib/common.bash"
REPO=$(pwd)
make_busybox_rootfs "$W/rootfs"
for b in true sleep; do
  mkdir -p "$W/$b"
  (cd "$W/$b" && "$S" spec)
done
jq --arg r "$W/rootfs" '.root.path = $r | .process.terminal = false | .process.args = ["/bin/true"]' \
  "$W/true/config.json" > "$W/c" && mv "$W/c" "$W/true/config.json"
jq --arg r "$W/rootfs" '.root.path = $r | .process.terminal = false | .process.args = ["sleep", "100"]' \
  "$W/sleep/config.json" > "$W/c" && mv "$W/c" "$W/sleep/config.json"

# ---- the private mount namespace: subrun's read-only install; crun's view
mkdir -p "$W/ro-bin"
SRO=$W/ro-bin/subrun
NS_SETUP='mount --bind "$0" "$1" && mount -o remount,bind,ro "$1"'
NS_NOTE="every command inside one private mount namespace (\`unshare -m\`) in which build/bin is bind-mounted read-only at \$W/ro-bin"
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
  NS_SETUP="$NS_SETUP"' && umount /sys/fs/cgroup/unified'
  NS_NOTE="$NS_NOTE and /sys/fs/cgroup/unified is unmounted — crun 1.8 refuses the hybrid layout; all three runtimes get the same view"
fi
IN_NS=(unshare -m --propagation private sh -c "$NS_SETUP"' && shift && exec "$@"' "$REPO/build/bin" "$W/ro-bin")
NS_TEXT="unshare -m --propagation private sh -c '$NS_SETUP && shift && exec \"\$@\"' $REPO/build/bin \$W/ro-bin "

declare -A RUN CSD NAMES
NAMES=([subrun]=$SRO [subrun-rw]=$S [runc]=$RUNC [crun]=$CRUN)
for k in subrun subrun-rw runc crun; do
  rt=${NAMES[$k]} st=$W/state-$k
  RUN[$k]="$rt --root $st run --bundle $W/true sn-bench-run"
  CSD[$k]="$rt --root $st create --bundle $W/sleep sn-bench-csd && $rt --root $st start sn-bench-csd && $rt --root $st delete --force sn-bench-csd"
done

echo "== hyperfine: run /bin/true ($RUNS runs, $WARMUP warm-up)" >&2
"${IN_NS[@]}" hyperfine -N --runs "$RUNS" --warmup "$WARMUP" --export-json "$W/run.json" \
  -n "subrun (read-only install)" "${RUN[subrun]}" -n runc "${RUN[runc]}" -n crun "${RUN[crun]}" \
  -n "subrun (writable path: sealed copy)" "${RUN[subrun-rw]}" >&2
echo "== hyperfine: create + start + delete of sleep 100" >&2
"${IN_NS[@]}" hyperfine --runs "$RUNS" --warmup "$WARMUP" --export-json "$W/csd.json" \
  -n "subrun (read-only install)" "${CSD[subrun]}" -n runc "${CSD[runc]}" -n crun "${CSD[crun]}" \
  -n "subrun (writable path: sealed copy)" "${CSD[subrun-rw]}" >&2

# ---- peak RSS of create (KiB per run → median and max in MiB)
echo "== peak RSS of create ($RSS_RUNS runs each)" >&2
declare -A RSS
for k in subrun runc crun; do
  rt=${NAMES[$k]} st=$W/state-$k
  RSS[$k]=$("${IN_NS[@]}" bash -c '
    rt=$1 st=$2 b=$3 n=$4 out=$5
    for i in $(seq "$n"); do
      /usr/bin/time -f %M -o "$out.$i" "$rt" --root "$st" create --bundle "$b" sn-bench-rss >/dev/null 2>&1
      "$rt" --root "$st" delete --force sn-bench-rss >/dev/null 2>&1
      tail -1 "$out.$i"
    done' sh "$rt" "$st" "$W/sleep" "$RSS_RUNS" "$W/rss-$k" |
    sort -n | awk '{a[NR]=$1} END {printf "%.1f | %.1f", a[int((NR+1)/2)]/1024, a[NR]/1024}')
done

# ---- interleaved: drift on a shared machine hits every variant alike
echo "== interleaved: $ROUNDS rounds" >&2
IL=("subrun (read-only install)::$SRO --root $W/state-il run --bundle $W/true il-1"
    "subrun (writable path: sealed copy)::$S --root $W/state-il run --bundle $W/true il-2"
    "crun::$CRUN --root $W/state-il-crun run --bundle $W/true il-3")
"${IN_NS[@]}" python3 "$REPO/bench/runtime/interleave.py" "$ROUNDS" 5 "${IL[@]}" > "$W/il.json"

# ---- the section
ver() { "$1" --version 2>/dev/null | head -1; }
row() { # json, index, crun index → | name | mean ± σ | median | min | ×crun (mean) |
  jq -r --argjson i "$2" --argjson c "$3" '
    .results as $r | $r[$i] as $x | $r[$c] as $cr |
    "| \($x.command) | \($x.mean*1000*100|round/100) ± \($x.stddev*1000*100|round/100) | \($x.median*1000*100|round/100) | \($x.min*1000*100|round/100) | \(($x.median/$cr.median)*100|round/100) |"' "$1"
}
table() {
  echo "| runtime | mean ± σ (ms) | median (ms) | min (ms) | × crun (median) |"
  echo "|---|---|---|---|---|"
  for i in 0 1 2 3; do row "$1" $i 2; done
}
OUT=$W/section.md
{
  echo "## Runtime"
  echo
  echo "bench/runtime/run.sh, $(date -u +%Y-%m-%d). Machine: a **shared** VM, $(nproc) vCPUs"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r),"
  echo "cgroup v1 + v2 hybrid; other engineers' builds and tests ran at the same time, so"
  echo "expect a few ms of noise (load average at start: $(cut -d' ' -f1-3 /proc/loadavg))."
  echo "Runtimes: $(ver "$S" | sed 's/^subrun version/subrun/') (build/bin/subrun: -O2, dynamic, debug info split off; $(stat -c %s "$S") bytes), $(ver "$RUNC"), $(ver "$CRUN")."
  echo "Bundle: busybox-static rootfs, config from \`subrun spec\` (pid, net, ipc, uts, mount"
  echo "namespaces; no cgroupsPath: each runtime's default), used as-is by all three. Runs: $NS_NOTE."
  echo "hyperfine $RUNS runs + $WARMUP warm-up per command, all runtimes in one hyperfine run per scenario."
  echo
  echo "run of /bin/true (foreground, container removed after), \`hyperfine -N\`:"
  echo
  table "$W/run.json"
  echo
  echo "create + start + delete --force of \`sleep 100\`, one \`sh -c\` per iteration:"
  echo
  table "$W/csd.json"
  echo
  echo "subrun (read-only install): build/bin bind-mounted read-only, so subrun needs no"
  echo "sealed copy of itself (clone_binary.c); subrun (writable path): the same binary from"
  echo "build/bin as it is, paying the copy and a second execve."
  echo "Target (issue): subrun ≤ 0.8 × crun."
  echo
  echo "Peak RSS of \`create\` (GNU time %M of the create command, $RSS_RUNS runs):"
  echo
  echo "| runtime | median (MiB) | max (MiB) |"
  echo "|---|---|---|"
  for k in subrun runc crun; do echo "| $k | ${RSS[$k]} |"; done
  echo
  echo "\`run\` of /bin/true, $ROUNDS interleaved rounds (bench/runtime/interleave.py: each round"
  echo "runs every variant once in random order); CPU = user+sys of the command and the"
  echo "children it reaped:"
  echo
  echo "| variant | wall median (ms) | wall p25 (ms) | CPU median (ms) | × crun (wall median) | × crun (CPU) |"
  echo "|---|---|---|---|---|---|"
  jq -r '(.[] | select(.name == "crun")) as $c | .[] |
    "| \(.name) | \(.wall_ms_median) | \(.wall_ms_p25) | \(.cpu_ms_median) | \((.wall_ms_median/$c.wall_ms_median)*100|round/100) | \((.cpu_ms_median/$c.cpu_ms_median)*100|round/100) |"' "$W/il.json"
  echo
  echo "Exact commands (\$W = a temp dir; wrapped as shown above):"
  echo
  echo '```'
  echo "${NS_TEXT}hyperfine -N --runs $RUNS --warmup $WARMUP \\"
  for k in subrun runc crun; do echo "  '${RUN[$k]}' \\"; done
  echo "  '${RUN[subrun-rw]}'"
  echo
  echo "${NS_TEXT}hyperfine --runs $RUNS --warmup $WARMUP \\"
  for k in subrun runc crun; do echo "  '${CSD[$k]}' \\"; done
  echo "  '${CSD[subrun-rw]}'"
  echo
  echo "${NS_TEXT}python3 bench/runtime/interleave.py $ROUNDS 5 \\"
  for v in "${IL[@]}"; do echo "  '$v' \\"; done | sed '$ s/ \\$//'
  echo
  echo "/usr/bin/time -f %M RT --root \$W/state-RT create --bundle \$W/sleep sn-bench-rss   # then delete --force"
  echo '```'
} | sed "s#$W#\$W#g" > "$OUT"
if [ -f bench/runtime/notes.md ]; then { echo; cat bench/runtime/notes.md; } >> "$OUT"; fi
cat "$OUT"
if [ "$WRITE" = 1 ]; then
  f=docs/BENCHMARKS.md
  [ -f "$f" ] || printf '# Benchmarks\n\n' > "$f"
  python3 - "$f" "$OUT" <<'PY'
import sys, re
f, sec = sys.argv[1], open(sys.argv[2]).read()
s = open(f).read()
m = re.search(r'^## Runtime\n.*?(?=^## |\Z)', s, flags=re.S | re.M)
s = s[:m.start()] + sec + "\n" + s[m.end():] if m else s.rstrip("\n") + "\n\n" + sec
open(f, "w").write(s)
PY
fi
