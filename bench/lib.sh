# bench/lib.sh — what the node benchmarks share: timing and memory readers,
# and the removal of what a run left under its work dir (mounts) and its
# cgroup parent. Sourced by bench/node/run.sh, bench/metrics/run.sh and bench/network/run.sh;
# the manager's benches take hb_bench_build.

now() { date +%s.%N; }
kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }

# bench_remove_leftovers DIR CGNAME: unmount everything under DIR, remove
# the cgroups named CGNAME (every hierarchy, children first), then DIR.
bench_remove_leftovers() {
  local dir=$1 cg=$2 m d
  for m in $(awk -v p="$dir" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$cg"); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$dir"
}

# hb_bench_build: build/bench/hb_bench, the simulated nodes' heartbeats
# (bench/manager/hb_bench.c, libcurl), for bench/manager/heartbeats.sh and
# dashboard.sh. Run from the repository's top.
hb_bench_build() {
  mkdir -p build/bench
  # shellcheck disable=SC2046
  cc -std=gnu11 -O2 -D_GNU_SOURCE -o build/bench/hb_bench bench/manager/hb_bench.c \
    $(pkg-config --cflags --libs libcurl) -lpthread
}
