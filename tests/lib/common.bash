# common.bash — shared helpers for the bats integration tests.
#
# Every test makes unique names (containers, cgroups, dirs) from $SN_TEST_ID
# and removes what it made in teardown, even when it failed.
#
#   SUBRUN      the runtime under test (default: the ASan+UBSan build)
#   SUBRUN_ROOT a private --root for subrun state, per test file

REPO=$(cd "$(dirname "${BATS_TEST_FILENAME}")/../.." && pwd)
: "${SUBRUN:=$REPO/build-asan/bin/subrun}"
: "${SUBRUN_PLAIN:=$REPO/build/bin/subrun}"
# LeakSanitizer stops the world with a clone that fails once the process has
# joined a container's pid namespace (exec, run): it would spin forever at
# exit. Leaks are checked by the unit tests; here ASan/UBSan check the rest.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
BUSYBOX=${BUSYBOX:-/bin/busybox}

sn_unique() { echo "sn-$1-$$-$RANDOM"; }

# wait_for CMD...: retry for up to 10 s (WAIT_TRIES × 0.1 s; wait.bash).
source "$REPO/tests/lib/wait.bash"

# wait_file PATH: until PATH exists (a server's "ready" mark), up to 10 s.
wait_file() { wait_for test -e "$1"; }

# not CMD...: succeeds when CMD fails, fails the test when CMD succeeds. A
# bare `! CMD` can never fail a bats test (bash's set -e ignores a command
# whose status is inverted), so a negative check is written `not CMD`.
not() {
  if "$@"; then
    echo "expected to fail: $*" >&2
    return 1
  fi
}

# make_busybox_rootfs DIR: a minimal rootfs with busybox-static and its applets.
make_busybox_rootfs() {
  local r=$1
  mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,var,run}
  cp "$BUSYBOX" "$r/bin/busybox"
  local a
  for a in sh ls cat echo sleep true false id ps mount hostname env pwd grep \
           touch mkdir rm stat readlink head tail wc printf kill ulimit test \
           uname sed awk dd tr cut sort ln chmod nproc yes seq umask date tty \
           nc wget ip ping top free df find xargs expr basename dirname timeout; do
    ln -sf busybox "$r/bin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/false' >> "$r/etc/passwd"
  echo 'root:x:0:' > "$r/etc/group"
  echo 'nogroup:x:65534:' >> "$r/etc/group"
}

# make_bundle DIR [ARGS...]: busybox rootfs + `subrun spec` config, with
# process.args set to ARGS (default: sh) and terminal off.
make_bundle() {
  local b=$1; shift
  mkdir -p "$b"
  make_busybox_rootfs "$b/rootfs"
  (cd "$b" && "$SUBRUN_PLAIN" spec)
  local args='["sh"]'
  if [ $# -gt 0 ]; then args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .); fi
  jq --argjson a "$args" '.process.args = $a | .process.terminal = false' \
     "$b/config.json" > "$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# edit_config BUNDLE JQ_FILTER [jq args...]: rewrite config.json in place.
edit_config() {
  local b=$1 f=$2; shift 2
  jq "$@" "$f" "$b/config.json" > "$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# Snapshot of what a container could leave behind on the host, for
# before/after comparisons in failure tests.
host_leftovers() {
  local id=$1
  {
    find /sys/fs/cgroup -maxdepth 6 -type d -name "*$id*" 2>/dev/null
    grep -F "$id" /proc/self/mountinfo 2>/dev/null | awk '{print $5}'
    ls "$SUBRUN_ROOT" 2>/dev/null | grep -F "$id"
    ps -eo pid=,args= | grep -F "$id" | grep -v grep | grep -vF "$$" || true
  } | sort
}

# subrun_setup PREFIX / subrun_teardown: the fixture every subrun suite
# uses — a private --root, a busybox bundle running `sleep 1000`, a unique
# id; teardown force-deletes whatever the test left and removes both dirs.
subrun_setup() {
  SUBRUN_ROOT=$(mktemp -d /tmp/sn-root.XXXXXX)
  B=$(mktemp -d /tmp/sn-bundle.XXXXXX)
  ID=$(sn_unique "$1")
  make_bundle "$B" sleep 1000
}

subrun_teardown() {
  local id
  for id in $("$SUBRUN" --root "$SUBRUN_ROOT" list -q 2>/dev/null); do
    "$SUBRUN" --root "$SUBRUN_ROOT" delete --force "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$SUBRUN_ROOT" "$B"
  subrun_drop_default_parent
}

# subrun keeps its default parent cgroup subrun/ once made; a test leaves
# the host as it found it: remove it where it is empty (rmdir refuses one
# that still holds a container's cgroup, ours or anyone's).
subrun_drop_default_parent() {
  local d
  for d in /sys/fs/cgroup/*/subrun /sys/fs/cgroup/subrun; do
    [ -d "$d" ] && ! [ -L "${d%/subrun}" ] && rmdir "$d" 2>/dev/null
  done
  return 0
}

sr() { "$SUBRUN" --root "$SUBRUN_ROOT" "$@"; }

# incontainer SNIPPET: run a shell snippet as the container's process.
incontainer() {
  edit_config "$B" '.process.args = ["sh","-c",$c]' --arg c "$1"
  (cd "$B" && sr run "$ID")
}
