#!/usr/bin/env bash
# test.sh — the README's test command: install dependencies when missing,
# build (plain and ASan+UBSan), run every test; last line "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
  [ "$(id -u)" -eq 0 ] || { echo "test.sh: needs root to install build tools" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends make gcc >/dev/null
fi
bash scripts/deps.sh all
make -j"$(nproc)" all >/dev/null
make -j"$(nproc)" asan >/dev/null
make check-layers
exec bash scripts/run-tests.sh all
