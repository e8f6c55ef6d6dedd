#!/usr/bin/env bash
# conformance.sh — the OCI runtime-tools validation suite against subrun and
# runc, side by side (`make conformance`).
#
# Each runtime gets one run of scripts/oci-validation.sh (it builds
# runtime-tools from Debian's source package and runs its 58 test files
# sequentially; ~2-4 min per runtime), in its own WORKDIR so the logs stay
# apart: $CONFORMANCE_DIR/work-<name>/logs/<file>.{tap,err,rc}. The per-file
# verdicts (files.txt of each run) are joined into one table:
#
#   file                               subrun  runc
#   config_updates_without_affect      PASS    PASS
#   ...
#   total passed                       47/58   31/58
#
# printed and written to build/conformance.txt. A "<" marks a file runc
# passes and subrun does not (there should be none; see docs/CONFORMANCE.md).
#
# Env: SUBRUN_BIN (default build/bin/subrun, the plain build), RUNC_BIN
# (default runc from PATH), CONFORMANCE_RUNTIMES ("subrun runc"; "subrun"
# alone for a quick check), CONFORMANCE_DIR (/tmp/oci-validation),
# CONFORMANCE_OUT (build/conformance.txt), OCI_VALIDATION (the suite runner,
# default scripts/oci-validation.sh, a copy of /work/shared/tools' one).
# Must run as root (the suite creates real containers). Exit 1 when a run
# could not produce a result.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TOOL=${OCI_VALIDATION:-$ROOT/scripts/oci-validation.sh}
SUBRUN_BIN=${SUBRUN_BIN:-$ROOT/build/bin/subrun}
RUNC_BIN=${RUNC_BIN:-$(command -v runc || echo /usr/sbin/runc)}
RUNTIMES=${CONFORMANCE_RUNTIMES:-subrun runc}
BASE=${CONFORMANCE_DIR:-/tmp/oci-validation}
OUT=${CONFORMANCE_OUT:-$ROOT/build/conformance.txt}

[ "$(id -u)" -eq 0 ] || { echo "conformance.sh: must run as root" >&2; exit 1; }
[ -x "$SUBRUN_BIN" ] || { echo "conformance.sh: $SUBRUN_BIN missing (make all)" >&2; exit 1; }
mkdir -p "$BASE" "$(dirname "$OUT")"

rc=0
names=()
for rt in $RUNTIMES; do
  case $rt in
    subrun) bin=$SUBRUN_BIN ;;
    runc) bin=$RUNC_BIN ;;
    *) echo "conformance.sh: unknown runtime '$rt'" >&2; exit 1 ;;
  esac
  wd=$BASE/work-$rt
  echo "== $rt ($bin): suite in $wd, output in $BASE/$rt.out" >&2
  t0=$(date +%s)
  WORKDIR=$wd bash "$TOOL" "$bin" > "$BASE/$rt.out" 2>&1
  echo "   $(tail -n1 "$BASE/$rt.out") ($(( $(date +%s) - t0 )) s)" >&2
  if [ ! -s "$wd/files.txt" ]; then
    echo "conformance.sh: the $rt run produced no results; see $BASE/$rt.out" >&2
    rc=1
    continue
  fi
  names+=("$rt")
done
[ ${#names[@]} -gt 0 ] || exit 1

# files.txt lines: "PASS name rc=.. ok=.. not_ok=.. prove:.."
{
  printf '%-34s' file
  for rt in "${names[@]}"; do printf '  %-6s' "$rt"; done
  echo
  files=$(awk '{print $2}' "$BASE/work-${names[0]}/files.txt")
  for f in $files; do
    printf '%-34s' "$f"
    v=()
    for rt in "${names[@]}"; do
      s=$(awk -v f="$f" '$2 == f {print $1}' "$BASE/work-$rt/files.txt")
      v+=("${s:-?}")
      printf '  %-6s' "${s:-?}"
    done
    # subrun first, runc second: mark what runc passes and subrun does not
    if [ ${#v[@]} -ge 2 ] && [ "${v[0]}" != PASS ] && [ "${v[1]}" = PASS ]; then printf ' <'; fi
    echo
  done
  printf '%-34s' "total passed"
  for rt in "${names[@]}"; do
    printf '  %-6s' "$(grep -c '^PASS' "$BASE/work-$rt/files.txt")/$(wc -l < "$BASE/work-$rt/files.txt")"
  done
  echo
  echo
  for rt in "${names[@]}"; do
    echo "$rt: $(grep '^runtime:' "$BASE/$rt.out" | head -n1)"
  done
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); kernel $(uname -r)"
} | tee "$OUT"
exit $rc
