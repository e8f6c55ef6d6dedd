#!/usr/bin/env bash
# bench/manager/heartbeats.sh [NODES] [THREADS] [SECONDS] — heartbeats of
# NODES (10,000) simulated nodes at one a second each, over THREADS (8)
# keep-alive connections, for SECONDS (10), against subnode-manager serve
# (plain build, --grace 600 so that the joins' slowness marks no node
# down): the rate reached, the manager's CPU share and RSS. The load
# generator (bench/manager/hb_bench.c, libcurl) runs on the same machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000} T=${2:-8} S=${3:-10}
source bench/lib.sh
hb_bench_build
dir=$(mktemp -d /tmp/sn-mgrbench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
build/bin/subnode-manager serve --root "$dir/root" --listen "127.0.0.1:$port" --grace 600 \
  --log-level warn > "$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
echo "\$ build/bench/hb_bench http://127.0.0.1:$port JOIN $pid $N $T $S"
build/bench/hb_bench "http://127.0.0.1:$port" "$(cat "$dir/root/join.token")" "$pid" "$N" "$T" "$S"
