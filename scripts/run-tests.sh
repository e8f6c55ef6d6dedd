#!/usr/bin/env bash
# run-tests.sh [unit|integration|all] — run the test suites and end with one
# line "N passed, M failed[, K skipped]". Unit tests are the cmocka programs
# of the ASan+UBSan build; integration tests are the bats files, which drive
# the real binaries (the ASan build by default, see tests/lib/common.bash).
# Exit status 1 when anything failed.
#
# No test can hang the run: every unit program and every bats file runs
# under a time limit (coreutils timeout, which signals the program's whole
# process group: TERM, then KILL 10 s later). A program past its limit is a
# failure by name ("test_seccomp: timed out after 300 s"). The limits are
# generous and configurable:
#   SN_TEST_TIMEOUT_UNIT   seconds per unit program (default 300)
#   SN_TEST_TIMEOUT_BATS   seconds per bats file (default 900)
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
  # bats writes a skip as "ok N # skip", cmocka as "not ok N # SKIP".
  p=$(grep -E '^ok ' "$f" | grep -cviE '# skip' || true)
  s=$(grep -ciE '^(not )?ok [0-9]+ .*# skip' "$f" || true)
  n=$(grep -E '^not ok ' "$f" | grep -cviE '# skip' || true)
  pass=$((pass + p)); skip=$((skip + s)); fail=$((fail + n))
  while read -r line; do failed_names+=("$label: $line"); done < <(grep -E '^not ok ' "$f" | grep -viE '# skip' || true)
}

T_UNIT=${SN_TEST_TIMEOUT_UNIT:-300}
T_BATS=${SN_TEST_TIMEOUT_BATS:-900}

# limited SECONDS LOG CMD...: CMD's output to LOG, its exit status returned;
# 124 (or 137) when the limit ended it.
limited() {
  local secs=$1 log=$2
  shift 2
  timeout --kill-after=10 "$secs" "$@" > "$log" 2>&1 < /dev/null
}

# judge RC TAP NAME LIMIT: show what is not a plain "ok", count the TAP
# lines; a program that timed out, or failed without a failing test line
# (a crash, a bats file whose setup failed), is one failure by name.
judge() {
  local rc=$1 tap=$2 name=$3 secs=$4
  grep -vE '^(ok|1\.\.)' "$tap" | sed 's/^/   /' || true
  count_tap "$tap" "$name"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "   $name: timed out after $secs s"
    fail=$((fail + 1)); failed_names+=("$name: timed out after $secs s")
  elif [ "$rc" -ne 0 ] && ! grep -E '^not ok ' "$tap" | grep -qviE '# skip'; then
    fail=$((fail + 1)); failed_names+=("$name: exited $rc")
  fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ "$what" = unit ] || [ "$what" = all ]; then
  for t in $(find build-asan/tests -type f -perm -u+x -name 'test_*' | sort); do
    name=${t#build-asan/tests/}
    echo "== unit $name"
    tap="$OUT/unit-${name//\//-}.tap"
    CMOCKA_MESSAGE_OUTPUT=TAP limited "$T_UNIT" "$tap" "$t"
    judge $? "$tap" "$name" "$T_UNIT"
  done
fi

if [ "$what" = integration ] || [ "$what" = all ]; then
  run_bats() { # file label [env...]
    local b=$1 name=$2
    shift 2
    echo "== integration $name"
    local tap="$OUT/int-$name.tap"
    limited "$T_BATS" "$tap" env "$@" bats --tap "$b"
    judge $? "$tap" "$name" "$T_BATS"
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
