#!/usr/bin/env bash
# bench/fuzz/run.sh — run the libFuzzer targets of tests/fuzz/ (built by
# `make fuzz` into build-fuzz/fuzz/).
#
#   bench/fuzz/run.sh [SECONDS] [TARGET...]   fuzz each target for SECONDS
#                                             (default 30), one after the
#                                             other, and print execs/s and
#                                             coverage per target
#   bench/fuzz/run.sh replay [TARGET...]      run each target once over its
#                                             committed corpus (what CI does:
#                                             `make fuzz-replay`)
#   bench/fuzz/run.sh merge [TARGET...]       minimize the committed corpus
#                                             plus what fuzzing found into
#                                             tests/fuzz/corpus/<target>/
#                                             (hand-made seeds kept; found
#                                             inputs within FUZZ_CORPUS_KB)
#
# TARGET is a name like `spec` (tests/fuzz/fuzz_spec.c); default: all.
# Fuzzing reads the committed corpus and writes what it finds to
# build-fuzz/corpus/<target>/ (never to the repository: `merge` is the
# deliberate step that does); crashes go to build-fuzz/artifacts/<target>/.
# Each target runs in its own directory build-fuzz/run/<target>/ with
# relative paths (the unpack target chroots around every input, so absolute
# paths would not resolve there), one process (-jobs is not used: the
# machine's cores are shared).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
bindir=$repo/build-fuzz/fuzz

mode=fuzz secs=30
case "${1:-}" in
  replay|merge) mode=$1; shift ;;
  ''|*[!0-9]*) ;;
  *) secs=$1; shift ;;
esac
if [ $# -gt 0 ] && [[ $1 != [a-z]* ]]; then
  echo "usage: $0 [SECONDS|replay|merge] [TARGET...]" >&2; exit 2
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    t=${f#tests/fuzz/fuzz_}; targets+=("${t%.c}")
  done
fi
for t in "${targets[@]}"; do
  [ -x "$bindir/fuzz_$t" ] || { echo "fuzz: $bindir/fuzz_$t missing: run \`make fuzz\`" >&2; exit 1; }
done

# Last "#N DONE/pulse cov: .. ft: .. corp: n/size .. exec/s: .." line of a log.
summary() {
  local t=$1 log=$2 s=$3
  local line
  line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)
  local runs cov ft corp eps
  runs=$(grep -Eo '^#[0-9]+' <<<"$line" | tr -d '#')
  cov=$(grep -Eo 'cov: [0-9]+' <<<"$line" | awk '{print $2}')
  ft=$(grep -Eo 'ft: [0-9]+' <<<"$line" | awk '{print $2}')
  corp=$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$line" | awk '{print $2}')
  eps=$(( ${runs:-0} / (s > 0 ? s : 1) ))
  printf '%-10s %6ss %12s runs %8s exec/s  cov %5s  ft %6s  corpus %s\n' \
    "$t" "$s" "${runs:-?}" "$eps" "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

# The targets' scratch dirs (tests/fuzz/fuzz.h) go under one dir of this
# run, on a tmpfs when there is one, removed at the end even when a target
# died on a finding (an abort skips the targets' own cleanup).
shm=/dev/shm; [ -d "$shm" ] || shm=${TMPDIR:-/tmp}
export TMPDIR=$(mktemp -d "$shm/sn-fuzz-run-XXXXXX")
trap 'rm -rf "$TMPDIR"' EXIT

# Leaks count as findings (the integration tests' environment turns them off).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

rc=0
for t in "${targets[@]}"; do
  run=$repo/build-fuzz/run/$t
  mkdir -p "$run" "$repo/build-fuzz/corpus/$t" "$repo/build-fuzz/artifacts/$t"
  cd "$run"
  bin=../../fuzz/fuzz_$t committed=../../../tests/fuzz/corpus/$t found=../../corpus/$t
  art=../../artifacts/$t/
  mkdir -p "$committed"
  case $mode in
  replay)
    if "$bin" -runs=0 -artifact_prefix="$art" "$committed" >replay.log 2>&1; then
      printf '%-10s replay ok: %s inputs\n' "$t" "$(ls "$committed" | wc -l)"
    else
      echo "fuzz: $t: replay of $committed failed; the end of $run/replay.log:" >&2
      tail -40 replay.log >&2; rc=1
    fi ;;
  merge)
    # Hand-made seeds (named, not a 40-hex hash) stay as they are; found
    # inputs are added where they bring new coverage, smallest first, until
    # the target's found inputs reach $FUZZ_CORPUS_KB (default 50) KiB.
    rm -rf merged pool && mkdir merged pool
    find "$committed" "$found" -maxdepth 1 -type f -regextype egrep -regex '.*/[0-9a-f]{40}' \
      -exec cp -t pool {} + 2>/dev/null || true
    find "$committed" -maxdepth 1 -type f -regextype egrep ! -regex '.*/[0-9a-f]{40}' -exec cp -t merged {} +
    if "$bin" -merge=1 -artifact_prefix="$art" merged pool >merge.log 2>&1; then
      budget=$(( ${FUZZ_CORPUS_KB:-50} * 1024 )) used=0
      while read -r size f; do
        used=$((used + size))
        [ $used -le $budget ] || rm -f "merged/$f"
      done < <(find merged -maxdepth 1 -type f -regextype egrep -regex '.*/[0-9a-f]{40}' -printf '%s %f\n' | sort -n)
      rm -rf "$committed" pool && mv merged "$committed"
      printf '%-10s corpus: %s files, %s bytes\n' "$t" "$(ls "$committed" | wc -l)" "$(du -sb "$committed" | cut -f1)"
    else
      echo "fuzz: $t: merge failed (see $run/merge.log)" >&2; rc=1
    fi ;;
  fuzz)
    start=$(date +%s)
    if "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048 \
         -artifact_prefix="$art" "$found" "$committed" >fuzz.log 2>&1; then
      summary "$t" fuzz.log $(( $(date +%s) - start ))
    else
      echo "fuzz: $t: stopped with a finding (artifacts in build-fuzz/artifacts/$t/); the end of $run/fuzz.log:" >&2
      tail -60 fuzz.log >&2; rc=1
    fi ;;
  esac
  cd "$repo"
done
exit $rc
