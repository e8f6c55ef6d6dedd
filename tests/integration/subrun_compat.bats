#!/usr/bin/env bats
# subrun against runc and crun, side by side: the bundles their `spec`
# commands write run under subrun unchanged (only root.path and
# process.args set), and where the three differ in behaviour the same
# bundle goes through each and the outcomes are compared (the list, with
# the choice made for each case, is in docs/SUBRUN.md, "Where subrun
# differs from runc and crun").
#
# runc runs everywhere here. crun 1.8 refuses a hybrid cgroup host
# ("cgroups in hybrid mode not supported"): crun_usable finds out once per
# run with a trivial container, and where it cannot run, its side is left
# out with the reason printed — its `spec` output still runs under subrun.
# Every runtime gets its own private --root and every container a unique
# id; teardown force-deletes what each runtime still lists.

load ../lib/common

setup() {
  command -v runc >/dev/null || skip "runc is needed as the reference"
  SUBRUN_ROOT=$(mktemp -d /tmp/sn-root.XXXXXX)
  RUNC_ROOT=$(mktemp -d /tmp/sn-runc.XXXXXX)
  CRUN_ROOT=$(mktemp -d /tmp/sn-crun.XXXXXX)
  B=$(mktemp -d /tmp/sn-bundle.XXXXXX)
  ID=$(sn_unique compat)
  make_busybox_rootfs "$B/rootfs"
  install -m 755 /dev/stdin "$B/rootfs/probe" <<'EOF'
#!/bin/sh
# what a container process sees, in a form comparable across runtimes
grep -E '^(Cap|NoNewPrivs)' /proc/self/status
echo "HOME=$HOME PATH=$PATH TERM=$TERM"
id; pwd; umask; ulimit -n
ls /dev | grep -v '^console$' | tr '\n' ' '; echo
awk '{ print $5 }' /proc/self/mountinfo | grep -v '^/sys/fs/cgroup/'
EOF
}

teardown() {
  local rt root id
  for rt in runc crun; do
    command -v $rt >/dev/null || continue
    root=$RUNC_ROOT; [ $rt = crun ] && root=$CRUN_ROOT
    for id in $($rt --root "$root" list -q 2>/dev/null); do
      $rt --root "$root" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$RUNC_ROOT" "$CRUN_ROOT"
  subrun_teardown
}

# gen_spec GENERATOR [ARGS...]: GENERATOR's own `spec` in $B, process.args
# set to ARGS (default /probe); nothing else changed.
gen_spec() {
  local gen=$1; shift
  rm -f "$B/config.json"
  (cd "$B" && $gen spec)
  [ $# -gt 0 ] || set -- /probe
  edit_config "$B" '.process.args = $a' --argjson a "$(printf '%s\n' "$@" | jq -R . | jq -s -c .)"
}

# in_tty CMD...: CMD with a pseudo-terminal as its controlling terminal
# (`spec` bundles ask for one; runc insists on a tty of its own for it).
# Output without the tty's carriage returns.
in_tty() {
  local cmd
  printf -v cmd '%q ' "$@"
  timeout 60 script -qec "$cmd" /dev/null </dev/null | tr -d '\r\000'
  return "${PIPESTATUS[0]}"
}

# rt_run RUNTIME ID: RUNTIME runs the bundle $B in the foreground.
rt_run() {
  local rt=$1 id=$2
  case $rt in
    subrun) (cd "$B" && in_tty "$SUBRUN" --root "$SUBRUN_ROOT" run "$id") ;;
    runc) (cd "$B" && in_tty runc --root "$RUNC_ROOT" run "$id") ;;
    crun) (cd "$B" && in_tty crun --root "$CRUN_ROOT" run "$id") ;;
  esac
}

# crun_usable: 0 when crun can run a container on this host; otherwise
# prints why (once per test file) and returns 1.
crun_usable() {
  command -v crun >/dev/null || { CRUN_WHY="crun is not installed"; return 1; }
  local f="$BATS_FILE_TMPDIR/crun-usable"
  if [ ! -e "$f" ]; then
    local d id out
    d=$(mktemp -d /tmp/sn-crunprobe.XXXXXX)
    id=$(sn_unique crunprobe)
    make_busybox_rootfs "$d/rootfs"
    (cd "$d" && crun spec && jq '.process.args=["true"] | .process.terminal=false' config.json \
        > c.json && mv c.json config.json)
    if out=$(cd "$d" && timeout 30 crun --root "$CRUN_ROOT" run "$id" 2>&1 </dev/null); then
      echo ok > "$f"
    else
      echo "crun cannot run containers here: ${out:-exit status $?}" | head -n 1 > "$f"
    fi
    crun --root "$CRUN_ROOT" delete --force "$id" >/dev/null 2>&1 || true
    rm -rf "$d"
  fi
  CRUN_WHY=$(cat "$f")
  [ "$CRUN_WHY" = ok ]
}

# note TEXT: a line in the TAP output (the reason crun was left out).
note() { echo "# $*" >&3; }

@test "a runc spec bundle runs unchanged, with the ambient caps runc skips skipped and a warning" {
  gen_spec runc
  run rt_run subrun "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"ambient CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE not in both the permitted and inheritable sets: not raised"* ]]
  [[ "$output" == *"CapAmb:	0000000000000000"* ]]
  [[ "$output" == *"CapEff:	0000000020000420"* ]]
  [[ "$output" == *"HOME=/root "* ]]
}

@test "a crun spec bundle runs unchanged under subrun" {
  command -v crun >/dev/null || skip "crun is not installed"
  gen_spec crun
  run rt_run subrun "$ID"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"CapAmb:	0000000000000000"* ]]
  [[ "$output" == *"CapPrm:	0000000020000420"* ]]
  [[ "$output" == *"uid=0(root) gid=0(root)"* ]]
}

@test "the same spec bundles give the same process under subrun as under runc and crun" {
  local gen rt out ref
  for gen in runc crun; do
    command -v $gen >/dev/null || { note "no $gen: its spec left out"; continue; }
    gen_spec $gen
    ref=$(rt_run runc "$ID-ref-$gen")
    echo "runc, $gen spec:"; echo "$ref"
    [ -n "$ref" ]
    out=$(rt_run subrun "$ID-$gen" | grep -v 'level=warning')
    echo "subrun, $gen spec:"; echo "$out"
    [ "$out" = "$ref" ]
    if crun_usable; then
      out=$(rt_run crun "$ID-crun-$gen")
      [ "$out" = "$ref" ]
    else
      note "crun's run left out: $CRUN_WHY"
    fi
  done
}
