#!/usr/bin/env bash
# run-tests.sh [unit|integration|all] — run the test suites and end with one
# line "N passed, M failed[, K skipped]". Unit tests are the cmocka programs
# of the ASan+UBSan build; integration tests are the bats files, which drive
# the real binaries (the ASan build by default, see tests/lib/common.bash).
# Exit status 1 when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
ROOT=$(pwd)
OUT=${TEST_OUT:-$ROOT/build/test-output}
mkdir -p "$OUT"
pass=0 fail=0 skip=0
failed_names=()

count_tap() { # file label
  local f=$1 label=$2 p s n
  p=$(grep -cE '^ok ' "$f" | tr -d ' ' || true)
  s=$(grep -ciE '^ok .*# skip' "$f" | tr -d ' ' || true)
  n=$(grep -cE '^not ok ' "$f" | tr -d ' ' || true)
  pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + n))
  while read -r line; do failed_names+=("$label: $line"); done < <(grep -E '^not ok ' "$f" || true)
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ "$what" = unit ] || [ "$what" = all ]; then
  for t in $(find build-asan/tests -type f -perm -u+x -name 'test_*' | sort); do
    name=${t#build-asan/tests/}
    echo "== unit $name"
    CMOCKA_MESSAGE_OUTPUT=TAP "$t" > "$OUT/unit-${name//\//-}.tap" 2>&1
    rc=$?
    sed 's/^/   /' "$OUT/unit-${name//\//-}.tap" | grep -vE '^   (ok|1\.\.)' || true
    count_tap "$OUT/unit-${name//\//-}.tap" "$name"
    if [ $rc -ne 0 ] && ! grep -qE '^not ok ' "$OUT/unit-${name//\//-}.tap"; then
      fail=$((fail + 1)); failed_names+=("$name: exited $rc")
    fi
  done
fi

if [ "$what" = integration ] || [ "$what" = all ]; then
  run_bats() { # file label [env...]
    local b=$1 name=$2
    shift 2
    echo "== integration $name"
    env "$@" bats --tap "$b" > "$OUT/int-$name.tap" 2>&1
    grep -vE '^(ok|1\.\.)' "$OUT/int-$name.tap" | sed 's/^/   /' || true
    count_tap "$OUT/int-$name.tap" "$name"
  }
  for b in tests/integration/*.bats; do
    [ -e "$b" ] || continue
    run_bats "$b" "$(basename "$b" .bats)"
  done
  # The node daemon drives its runtime only through the OCI CLI: every node
  # file runs again with runc (and the ASan+UBSan supervisor; the first pass
  # runs the static musl one that ships, tests/lib/node.bash).
  for b in tests/integration/node_*.bats; do
    [ -e "$b" ] || continue
    run_bats "$b" "$(basename "$b" .bats)[runc]" \
      NODE_RUNTIME=runc NODE_SUP="$ROOT/build-asan/bin/subnode-sup"
  done
fi

if [ ${#failed_names[@]} -gt 0 ]; then
  echo "failures:"
  printf '  %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
