#!/usr/bin/env bash
# bench/manager/dashboard.sh [NODES] [WATCHERS] [SECONDS] — what the
# dashboard costs the manager (docs/BENCHMARKS.md, Manager, Dashboard):
# NODES (100) simulated nodes heartbeating once a second with their CPU and
# memory (bench/manager/hb_bench.c, HB_LOAD=1) for SECONDS (20), once with
# no dashboard open and once with WATCHERS (10) event streams open (curl
# reading /v1/events, as many browsers' pages would; a browser's own
# drawing costs the browser, not the manager): the manager's CPU share and
# RSS each time, and the events and bytes each stream received. Then the
# page's first load: its files over HTTP (bytes, time), the first event of
# the stream, and — when chromium and chromedriver are installed — a real
# headless Chromium from navigation to the nodes table drawn. Plain build,
# --grace 600 (no node marked down), --public-read (no token to type).
# Everything on loopback; every wait bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100} W=${2:-10} S=${3:-20}
source bench/lib.sh
hb_bench_build
dir=$(mktemp -d /tmp/sn-dashbench-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start_manager: a fresh manager in $dir/root-K; sets url and mpid.
k=0
start_manager() {
  k=$((k + 1))
  local port
  port=$(free_port)
  url=http://127.0.0.1:$port
  build/bin/subnode-manager serve --root "$dir/root-$k" --listen "127.0.0.1:$port" --grace 600 \
    --public-read --events-max 64 --log-level warn > "$dir/log-$k" 2>&1 &
  mpid=$!
  pids+=("$mpid")
  for _ in $(seq 100); do curl -sf "$url/metrics" >/dev/null && return 0; sleep 0.1; done
  echo "dashboard.sh: the manager did not start" >&2
  return 1
}

# run WATCHERS: one round; prints hb_bench's line and the streams' figures.
run() {
  local w=$1 i spids=()
  start_manager
  for i in $(seq "$w"); do
    timeout $((S + 60)) curl -sN "$url/v1/events" > "$dir/stream-$k-$i" &
    spids+=("$!")
    pids+=("$!")
  done
  echo "\$ HB_LOAD=1 build/bench/hb_bench URL JOIN PID $N 4 $S   # $w event streams open"
  HB_LOAD=1 timeout $((S + 120)) build/bench/hb_bench "$url" "$(cat "$dir/root-$k/join.token")" \
    "$mpid" "$N" 4 "$S"
  for i in "${spids[@]}"; do kill "$i" 2>/dev/null || true; done
  if [ "$w" -gt 0 ]; then
    local ev bytes
    ev=$(cat "$dir"/stream-$k-* | grep -c '^event: state' || true)
    bytes=$(cat "$dir"/stream-$k-* | wc -c)
    echo "streams=$w events_per_stream_per_s=$(echo "scale=2; $ev / $w / ($S + 1)" | bc)" \
      "kib_per_stream_per_s=$(echo "scale=1; $bytes / 1024 / $w / ($S + 1)" | bc)"
  fi
}

run 0
run "$W"

# the first load, on the last manager (N nodes, their history full)
total=0 bytes=0
for p in / /ui/app.js /ui/app.css; do
  read -r t b < <(curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$url$p")
  total=$(echo "$total + $t" | bc) bytes=$((bytes + b))
done
first=$(timeout 10 curl -sN -o "$dir/first" --max-time 2 -w '%{time_starttransfer} %{size_download}' \
  "$url/v1/events" || true)
echo "first load over HTTP: files=3 bytes=$bytes seconds=$total; first event: seconds,bytes=$first"
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  port=$(free_port)
  chromedriver --port="$port" --allowed-ips=127.0.0.1 > "$dir/chromedriver.log" 2>&1 &
  pids+=("$!")
  export WD_URL=http://127.0.0.1:$port WD_PROFILE=$dir/profile
  for _ in $(seq 100); do curl -sf "$WD_URL/status" -o /dev/null && break; sleep 0.1; done
  wd() { timeout 90 python3 tests/lib/webdriver.py "$@"; }
  WD_SESSION=$(wd start)
  export WD_SESSION
  wd get "$url/"
  wd wait 30 "return document.querySelectorAll('#nodes tbody tr').length === $N" >/dev/null
  ms=$(wd js "const n = performance.getEntriesByType('navigation')[0];
    return {dom_content_loaded_ms: Math.round(n.domContentLoadedEventEnd), load_ms: Math.round(n.loadEventEnd),
            transfer_bytes: performance.getEntriesByType('resource').reduce((a, r) => a + r.transferSize, n.transferSize)}")
  wd js "location.reload(); return 1" >/dev/null
  t=$(wd wait 30 "return document.querySelectorAll('#nodes tbody tr').length === $N && window.firstDrawMs")
  echo "chromium: $ms; navigation → the network drawn ($N nodes): $t ms"
  wd quit >/dev/null || true
fi
