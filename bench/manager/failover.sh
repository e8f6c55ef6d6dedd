#!/usr/bin/env bash
# bench/manager/failover.sh [DEATHS] — node death → replacement running:
# a manager (grace 2 s) and five subnoded side by side on loopback (the
# helpers of tests/lib), a chain of 4 busybox members; DEATHS times (10):
# kill -9 a member node's daemon and subnodes, time until its member is
# running on another node (as the manager sees it: the new node's
# heartbeat reports it running), bring the dead node back and wait until
# it is active and empty again. Prints each figure, then median and max.
# Needs `make all` (uses build/bin). Run as root.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEATHS=${1:-10}
BATS_TEST_FILENAME=$PWD/tests/integration/bench.bats
export NODE_BIN=$PWD/build/bin MGR_BIN=$PWD/build/bin NODE_SUP=$PWD/build/bin/subnode-sup
# shellcheck source=/dev/null
source tests/lib/common.bash
# shellcheck source=/dev/null
source tests/lib/node.bash
# shellcheck source=/dev/null
source tests/lib/manager.bash
cleanup() { mnode_teardown_all >/dev/null 2>&1 || true; mgr_teardown; node_file_teardown; }
trap cleanup EXIT
node_file_setup
mgr_start --grace 2 --steady 2 --members 4
for i in 1 2 3 4 5; do mnode_start "$i" >/dev/null; done
chain() { mapi "$ADMIN" GET /v1/chains/c1 | head -1; }
idx() { local i; for i in "${!MN_NAME[@]}"; do [ "${MN_NAME[$i]}" != "$1" ] || echo "$i"; done; }
WAIT_TRIES=300 wait_for eval '[ "$(mapi "$ADMIN" GET /v1/nodes | head -1 | jq "[.[] | select(.state == \"active\")] | length")" = 5 ]'
mapi "$ADMIN" POST /v1/chains -d '{"name":"c1","image":"busybox","members":4,"cmd":["sleep","100000"]}' >/dev/null
WAIT_TRIES=600 wait_for eval '[ "$(chain | jq .running)" = 4 ]'
figs=()
for k in $(seq "$DEATHS"); do
  seat=$(( k % 4 ))
  vname=$(chain | jq -r ".seats[$seat].node")
  v=$(idx "$vname")
  mnode_kill "$v"
  t0=$(date +%s%N)
  WAIT_TRIES=600 wait_for eval '[ "$(chain | jq -r ".seats[$seat] | select(.node != \"$vname\") | .state")" = running ]'
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  figs+=("$ms")
  echo "death $k: node $vname, member c1-$seat running on $(chain | jq -r ".seats[$seat].node") after $ms ms"
  mnode_restart "$v" >/dev/null
  WAIT_TRIES=600 wait_for eval '[ -z "$(mnode_members "$v")" ]'
  WAIT_TRIES=600 wait_for eval '[ "$(mapi "$ADMIN" GET "/v1/nodes/$vname" | head -1 | jq -r .state)" = active ]'
done
sorted=$(printf '%s\n' "${figs[@]}" | sort -n)
n=${#figs[@]}
median=$(sed -n "$(( (n + 1) / 2 ))p" <<<"$sorted")
echo "deaths=$n median_ms=$median max_ms=$(tail -1 <<<"$sorted") min_ms=$(head -1 <<<"$sorted")"
"$MGR_BIN/subnode-manager" verify --root "$MGR_ROOT" | tail -1
curl -s "$MGR_URL/metrics" | grep '^subnode_manager_failover_seconds_\(sum\|count\)'
