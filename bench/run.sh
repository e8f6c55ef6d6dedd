#!/usr/bin/env bash
# bench/run.sh — `make bench`: every bench/*/run.sh, one after the other
# (never in parallel: the figures are timings). Each writes its own section
# of docs/BENCHMARKS.md. Extra arguments go to every script.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
for s in bench/*/run.sh; do
  [ -f "$s" ] || continue
  echo "== $s" >&2
  bash "$s" "$@" || { echo "bench: $s failed" >&2; rc=1; }
done
exit $rc
