#!/usr/bin/env bats
# The OCI runtime-tools validation suite as a regression guard: one run of
# the whole suite against subrun (the plain build, as in docs/CONFORMANCE.md)
# and every file the doc's table lists as PASS for subrun must still pass.
#
# Measured on the 2-core CI host: ~2 min for the suite build plus the 58
# files (docs/CONFORMANCE.md, "CI"), so it runs by default. Set
# SUBRUN_CONFORMANCE=0 to skip it. Skipped, not failed, when not root or
# when the suite itself cannot be fetched or built (no Debian archive or
# source package reachable: the runner never gets to run a test).

load ../lib/common

setup() {
  [ "${SUBRUN_CONFORMANCE:-1}" != 0 ] || skip "SUBRUN_CONFORMANCE=0"
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  CONF_DIR=$(mktemp -d /tmp/sn-conformance.XXXXXX)
  chmod 755 "$CONF_DIR"   # the user-namespace tests' mapped root must get through
}

teardown() {
  [ -n "${CONF_DIR:-}" ] && rm -rf "$CONF_DIR"
  subrun_drop_default_parent
}

# Files the doc lists as passing for subrun: rows "| file | PASS | ... |".
doc_passing() {
  awk -F'|' '$3 ~ /^ *PASS *$/ { gsub(/ /, "", $2); if ($2 ~ /^[a-z0-9_]+$/) print $2 }' \
    "$REPO/docs/CONFORMANCE.md"
}

@test "every file docs/CONFORMANCE.md lists as passing still passes for subrun" {
  want=$(doc_passing)
  [ -n "$want" ]
  run env CONFORMANCE_RUNTIMES=subrun SUBRUN_BIN="$SUBRUN_PLAIN" CONFORMANCE_DIR="$CONF_DIR" \
      CONFORMANCE_OUT="$CONF_DIR/conformance.txt" bash "$REPO/scripts/conformance.sh"
  files="$CONF_DIR/work-subrun/files.txt"
  if [ ! -s "$files" ]; then
    tail -n 5 "$CONF_DIR/subrun.out" || true
    # never got to run a test: the suite could not be fetched or built here
    grep -q '^==> running' "$CONF_DIR/subrun.out" ||
      skip "runtime-tools suite unavailable: $(tail -n 1 "$CONF_DIR/subrun.out")"
    false
  fi
  bad=""
  for f in $want; do
    grep -qE "^PASS $f " "$files" || bad="$bad $f"
  done
  if [ -n "$bad" ]; then
    echo "regressed:$bad"
    for f in $bad; do
      echo "--- $f"; grep -E "^not ok|\"error\"|stderr" "$CONF_DIR/work-subrun/logs/$f.tap" | head -n 5
      head -c 600 "$CONF_DIR/work-subrun/logs/$f.err"
    done
    false
  fi
}
