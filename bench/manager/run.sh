#!/usr/bin/env bash
# bench/manager/run.sh — member placements per second over 10,000 simulated
# nodes (chains of 16, medium size, 1,000 operators of 10 nodes, free units
# 0..128 at random): the placement rule alone and with its log entry built.
# Builds bench/manager/place_bench against build/lib (make all first).
# The peer figure is Nomad's published C1M run (3,750 placements/s; no Nomad
# in Debian to run side by side). Prints the lines for docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench/place_bench
mkdir -p build/bench
# shellcheck disable=SC2046
cc -std=gnu11 -O2 -D_GNU_SOURCE -Isrc $(pkg-config --cflags jansson libcrypto) \
  -o "$out" bench/manager/place_bench.c build/lib/libsn_manager.a build/lib/libsn_base.a \
  $(pkg-config --libs jansson libcrypto sqlite3) -lpthread
echo "\$ $out 10000 16 3"
"$out" 10000 16 3
echo "\$ $out 1000 4 3"
"$out" 1000 4 3
