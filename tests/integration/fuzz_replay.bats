#!/usr/bin/env bats
# fuzz_replay.bats — the fuzzing corpus (tests/fuzz/corpus/<target>/),
# replayed once through every libFuzzer target (`make fuzz-replay`): each
# input that fuzzing found interesting, and each crash turned into a
# corpus entry, must run clean under ASan+UBSan with the targets' checks
# (tests/fuzz/fuzz.h). No fuzzing here: seconds, not minutes
# (bench/fuzz/run.sh fuzzes). Skipped with the reason when clang is
# missing (scripts/deps.sh build installs it).
load ../lib/common

setup_file() {
  command -v clang >/dev/null || return 0
  # Build once for the file; a failed build fails every test below.
  timeout 1200 make -C "$REPO" -j2 fuzz > "$BATS_FILE_TMPDIR/build.log" 2>&1 ||
    echo "failed" > "$BATS_FILE_TMPDIR/build.failed"
}

replay() {
  command -v clang >/dev/null || skip "clang is not installed (scripts/deps.sh build installs it)"
  if [ -e "$BATS_FILE_TMPDIR/build.failed" ]; then
    tail -30 "$BATS_FILE_TMPDIR/build.log"
    false
  fi
  [ -n "$(ls "$REPO/tests/fuzz/corpus/$1")" ]
  run timeout 300 bash "$REPO/bench/fuzz/run.sh" replay "$1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"$1"*"replay ok"* ]]
}

@test "fuzz corpus of the OCI config parser replays clean" { replay spec; }
@test "fuzz corpus of the node API bodies (create, exec) replays clean" { replay node_api; }
@test "fuzz corpus of manifests, configs and indexes replays clean" { replay manifest; }
@test "fuzz corpus of layer unpack replays clean, nothing outside the target" { replay unpack; }
@test "fuzz corpus of WWW-Authenticate challenges replays clean" { replay auth; }
@test "fuzz corpus of image archives (docker save, OCI archive) replays clean, store left as it was" { replay archive; }
