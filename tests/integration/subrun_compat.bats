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
bats_require_minimum_version 1.5.0

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
echo "-- files"
ls /dev | grep -v '^console$' | tr '\n' ' '; echo
awk '{ print $5 }' /proc/self/mountinfo | grep -v '^/sys/fs/cgroup/'
EOF
}

teardown() {
  local rt root id
  for rt in runc "${CRUN:-}"; do
    [ -n "$rt" ] || continue
    root=$RUNC_ROOT; [ "$rt" = runc ] || root=$CRUN_ROOT
    for id in $($rt --root "$root" list -q 2>/dev/null); do
      $rt --root "$root" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  rm -rf "$RUNC_ROOT" "$CRUN_ROOT"
  if [ -n "${LOCKED_SRC:-}" ]; then
    umount "$LOCKED_SRC" 2>/dev/null || true
    rmdir "$LOCKED_SRC"
  fi
  [ -z "${ALT_ROOT:-}" ] || rm -rf "$ALT_ROOT"
  if [ -n "${RBIND_SRC:-}" ]; then
    umount "$RBIND_SRC/sub" 2>/dev/null || true
    rm -rf "$RBIND_SRC"
  fi
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
# Output without the tty's carriage returns, and without the "^@" the
# tty echoes (ECHOCTL) when script(1) writes a NUL at stdin's end: its
# place in the output depends on timing.
in_tty() {
  local cmd
  printf -v cmd '%q ' "$@"
  timeout 60 script -qec "$cmd" /dev/null </dev/null | tr -d '\r\000' | sed 's/\^@//g'
  return "${PIPESTATUS[0]}"
}

# rt_run RUNTIME ID: RUNTIME runs the bundle $B in the foreground.
rt_run() {
  local rt=$1 id=$2
  case $rt in
    subrun) (cd "$B" && in_tty "$SUBRUN" --root "$SUBRUN_ROOT" run "$id") ;;
    runc) (cd "$B" && in_tty runc --root "$RUNC_ROOT" run "$id") ;;
    crun) (cd "$B" && in_tty $CRUN --root "$CRUN_ROOT" run "$id") ;;
  esac
}

# crun_usable: 0 when crun can run a container here, with CRUN set to the
# command that does it; otherwise CRUN_WHY says why and it returns 1.
# crun 1.8 refuses a hybrid host; a private mount namespace in which
# /sys/fs/cgroup/unified is unmounted shows it a plain v1 host, where it
# runs (its cgroups are then v1 only). Decided once per test file.
crun_usable() {
  command -v crun >/dev/null || { CRUN_WHY="crun is not installed"; return 1; }
  local f="$BATS_FILE_TMPDIR/crun-usable"
  if [ ! -e "$f" ]; then
    local d id out cmd why=""
    d=$(mktemp -d /tmp/sn-crunprobe.XXXXXX)
    make_busybox_rootfs "$d/rootfs"
    (cd "$d" && crun spec && jq '.process.args=["true"] | .process.terminal=false' config.json \
        > c.json && mv c.json config.json)
    echo "crun is not usable here" > "$f"
    for cmd in crun "$BATS_TEST_DIRNAME/../lib/crun-v1view"; do
      id=$(sn_unique crunprobe)
      if out=$(cd "$d" && timeout 30 $cmd --root "$CRUN_ROOT" run "$id" 2>&1 </dev/null); then
        echo "$cmd" > "$f"
        [ "$cmd" = crun ] || echo "${why# }; run in a private mount namespace with a v1-only view instead" >> "$f"
        [ "$cmd" = crun ] || note "crun: $(sed -n 2p "$f")"
        break
      fi
      why="crun refuses this host: ${out:-exit status $?}"
      why=$(echo "$why" | head -n 1)
      echo "$why" > "$f"
      $cmd --root "$CRUN_ROOT" delete --force "$id" >/dev/null 2>&1 || true
    done
    rm -rf "$d"
  fi
  CRUN=$(head -n 1 "$f")
  CRUN_WHY=$(sed -n 2p "$f")
  [ "$CRUN" = crun ] || [ -x "$CRUN" ] || { CRUN_WHY=$CRUN; CRUN=; return 1; }
  return 0
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
      # the process alike; /dev and the mounts differ in small ways
      # (crun makes a dangling /dev/core; docs/SUBRUN.md)
      out=$(rt_run crun "$ID-crun-$gen" | sed '/^-- files/,$d')
      echo "crun, $gen spec:"; echo "$out"
      [ "$out" = "$(echo "$ref" | sed '/^-- files/,$d')" ]
    else
      note "crun's run left out: $CRUN_WHY"
    fi
  done
}

# ---- the differences found, side by side (docs/SUBRUN.md has the list)

# plain_bundle ARGS...: `runc spec`, args set, no terminal (runc wants a
# tty of its own for one), for the cases below.
plain_bundle() {
  gen_spec runc "$@"
  edit_config "$B" '.process.terminal = false'
}

# set_rts: RTS, the runtimes to compare — subrun, runc, and crun when
# usable (else the reason is printed).
set_rts() {
  RTS="subrun runc"
  if crun_usable; then RTS="$RTS crun"; else note "crun left out: $CRUN_WHY"; fi
  return 0
}

# rt RT ARGS...: the runtime's own command with its private root.
rt() {
  local r=$1; shift
  case $r in
    subrun) timeout 60 "$SUBRUN" --root "$SUBRUN_ROOT" "$@" ;;
    runc) timeout 60 runc --root "$RUNC_ROOT" "$@" ;;
    crun) timeout 60 $CRUN --root "$CRUN_ROOT" "$@" ;;
  esac
}

# rt_b RT ARGS...: rt, from the bundle directory.
rt_b() { (cd "$B" && rt "$@" </dev/null); }

# run_each OUTLIER WANT: `run` the bundle with each runtime of $RTS; all
# but OUTLIER (the one that behaves otherwise, or "-") must succeed with
# stdout WANT; OUTLIER's outcome is printed. Each one's stderr is left in
# STDERR_<runtime>.
run_each() {
  local outlier=$1 want=$2 r
  for r in $RTS; do
    run --separate-stderr rt_b $r run "$ID-$r"
    echo "$r: $status $output $stderr"
    printf -v "STDERR_$r" '%s' "$stderr"
    if [ $r = "$outlier" ]; then
      note "$r: exit $status, $(echo $output) ${stderr:0:160}"
      continue
    fi
    [ "$status" -eq 0 ] && [ "$output" = "$want" ] || return 1
  done
}

@test "HOME comes from the rootfs's /etc/passwd in run and exec, as with runc and crun" {
  plain_bundle sleep 1000
  local r
  set_rts
  for r in $RTS; do
    rt_b $r run -d "$ID-$r"
    run --separate-stderr rt $r exec "$ID-$r" sh -c 'echo "HOME=$HOME"'
    [ "$output" = "HOME=/root" ] || { echo "$r: $output"; false; }
    run --separate-stderr rt $r exec -u 65534:65534 "$ID-$r" sh -c 'echo "HOME=$HOME"'
    [ "$output" = "HOME=/" ] || { echo "$r: $output"; false; }
    # a uid without a passwd line: "/" with runc and subrun, none with crun
    run --separate-stderr rt $r exec -u 4321 "$ID-$r" sh -c 'echo "HOME=$HOME"'
    want="HOME=/"; [ $r = crun ] && want="HOME="
    [ "$output" = "$want" ] || { echo "$r (uid not in passwd): $output"; false; }
    run --separate-stderr rt $r exec -e HOME=/given "$ID-$r" /bin/sh -c 'echo "HOME=$HOME"'
    [ "$output" = "HOME=/given" ] || { echo "$r: $output"; false; }
    rt $r delete --force "$ID-$r"
  done
  # a FIFO for /etc/passwd cannot block the runtime: HOME is then "/"
  rm "$B/rootfs/etc/passwd"
  mkfifo "$B/rootfs/etc/passwd"
  edit_config "$B" '.process.args = ["sh","-c","echo HOME=$HOME"]'
  run --separate-stderr rt_b subrun run "$ID-fifo"
  [ "$status" -eq 0 ]
  [ "$output" = "HOME=/" ]
}

@test "the init and an exec'd process each lead a session and process group of their own, as with runc" {
  plain_bundle sh -c 'cut -d" " -f1,5,6 /proc/self/stat; sleep 1000'
  local r
  # runc does this for both; crun for the init only (its exec'd process
  # stays in the caller's group): the test holds subrun to runc
  for r in subrun runc; do
    rt_b $r run -d "$ID-$r" >/dev/null
    run --separate-stderr rt $r exec "$ID-$r" sh -c 'cut -d" " -f1,5,6 /proc/1/stat; cut -d" " -f1,5,6 /proc/self/stat'
    echo "$r: $output"
    [ "${lines[0]}" = "1 1 1" ]
    set -- ${lines[1]}
    [ "$1" = "$2" ] && [ "$2" = "$3" ]
    rt $r delete --force "$ID-$r"
  done
}

@test "a device path with a trailing slash is the node it names, as with runc (crun refuses it)" {
  plain_bundle sh -c 'stat -c "%F %t:%T %a" /dev/sn-null'
  edit_config "$B" '.linux.devices = [{"path":"/dev/sn-null/","type":"c","major":1,"minor":3,"fileMode":420}]'
  set_rts
  run_each crun "character special file 1:3 644"
}

@test "sysctls outside the container's own namespaces are refused by all three, and the host keeps its values" {
  local fwd panic r
  fwd=$(cat /proc/sys/net/ipv4/ip_forward)
  panic=$(cat /proc/sys/kernel/panic)
  plain_bundle sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni'
  set_rts
  # the host's own values, so that a runtime that wrongly wrote them
  # changes nothing; the checks below still see the refusal
  for case in "network|net.ipv4.ip_forward|$fwd" "-|kernel.panic|$panic"; do
    IFS='|' read -r drop key val <<<"$case"
    cp "$B/config.json" "$B/config.keep"
    edit_config "$B" '.linux.namespaces |= map(select(.type != $d)) | .linux.sysctl = {($k): $v}' \
      --arg d "$drop" --arg k "$key" --arg v "$val"
    for r in $RTS; do
      run --separate-stderr rt_b $r run "$ID-$r-${key//./-}"
      echo "$r $key: $status $stderr"
      [ "$status" -ne 0 ]
    done
    mv "$B/config.keep" "$B/config.json"
  done
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" ]
  [ "$(cat /proc/sys/kernel/panic)" = "$panic" ]
  # in the container's own namespaces they are set, by all
  edit_config "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "2048"}'
  for r in $RTS; do
    run --separate-stderr rt_b $r run "$ID-$r-ok"
    echo "$r: $output $stderr"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '1\n2048')" ]
  done
}

@test "hooks without env inherit the runtime's environment, env [] is empty, as with runc and crun" {
  plain_bundle true
  local r
  install -m 755 /dev/stdin "$B/hook" <<EOF2
#!/bin/sh
echo "\$1 \${SN_COMPAT_MARK:-unset}" >> "$B/hook.out"
EOF2
  edit_config "$B" '.hooks = {
      "prestart": [{"path": $h, "args": ["hook", "noenv"]}],
      "createRuntime": [{"path": $h, "args": ["hook", "emptyenv"], "env": []}],
      "poststop": [{"path": $h, "args": ["hook", "ownenv"], "env": ["SN_COMPAT_MARK=own"]}]}' \
    --arg h "$B/hook"
  set_rts
  for r in $RTS; do
    rm -f "$B/hook.out"
    SN_COMPAT_MARK=inherited rt_b $r run "$ID-$r"
    echo "$r:"; cat "$B/hook.out"
    [ "$(cat "$B/hook.out")" = "$(printf 'noenv inherited\nemptyenv unset\nownenv own')" ]
  done
}

@test "a failing poststart hook is logged and the container runs on, as the spec and crun say (runc fails the start)" {
  plain_bundle sh -c 'echo ran-on'
  edit_config "$B" '.hooks = {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo hook-broke >&2; exit 3"]}]}'
  set_rts
  run_each runc ran-on
  [[ "$STDERR_subrun" == *"level=warning"*"poststart"*"exit"*"3"* ]]
  # gone afterwards (run deletes), nothing left in subrun's root
  [ -z "$(sr list -q)" ]
}

@test "a bind mount onto the rootfs's / becomes the root, under the other mounts, as with runc (crun refuses it)" {
  plain_bundle sh -c 'cat /ALT; test -e /proc/self/status && echo proc-on-top; touch /x 2>&1 | grep -c Read-only'
  local alt r
  alt=$(mktemp -d /tmp/sn-altroot.XXXXXX)
  ALT_ROOT=$alt
  make_busybox_rootfs "$alt"
  echo other-root > "$alt/ALT"
  edit_config "$B" '.mounts = [{"destination": "/", "type": "bind", "source": $s, "options": ["rbind"]}] + .mounts' \
    --arg s "$alt"
  set_rts
  run_each crun "$(printf 'other-root\nproc-on-top\n1')"
  [ ! -e "$alt/x" ]
}

@test "tmpfs mode= is the mode of the mount, as with crun (runc 1.1.5 puts the covered directory's mode back)" {
  plain_bundle sh -c 'stat -c %a /tmp /run'
  edit_config "$B" '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]},
                                {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["mode=700"]}]'
  set_rts
  run_each runc "$(printf '1777\n700')"
}

@test "in a user namespace a read-only bind of a nosuid,nodev,noexec mount keeps the locked flags and works (runc 1.1.5 fails)" {
  local src r
  src=$(mktemp -d /tmp/sn-locked.XXXXXX)
  mount -t tmpfs -o nosuid,nodev,noexec,size=1m tmpfs "$src"
  echo locked-ok > "$src/f"
  LOCKED_SRC=$src
  plain_bundle sh -c 'cat /mnt/f; grep " /mnt " /proc/self/mountinfo | cut -d" " -f6'
  chmod 755 "$B"
  chown -R 100000:100000 "$B/rootfs"
  edit_config "$B" '.linux.namespaces += [{"type": "user"}]
      | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
      | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
      | .mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["bind", "ro"]}]' \
    --arg s "$src"
  set_rts
  RTS=${RTS/crun/} # crun mounts it before the user namespace: it shows no locked flags
  run_each runc "$(printf 'locked-ok\nro,nosuid,nodev,noexec,relatime')"
  if crun_usable; then RTS=crun; run_each - "$(printf 'locked-ok\nro,relatime')"; fi
}

@test "a realtime CPU budget on a cgroup v1 host works without cgroupsPath, as with runc and crun" {
  local cpu=/sys/fs/cgroup/cpu
  [ -e "$cpu/cpu.rt_runtime_us" ] || skip "no cgroup v1 cpu hierarchy with realtime group scheduling here"
  plain_bundle sh -c 'grep -E "^[0-9]+:cpu[:,]" /proc/self/cgroup'
  edit_config "$B" '.linux.resources.cpu = {"realtimeRuntime": 10000, "realtimePeriod": 1000000}'
  local r
  set_rts
  for r in $RTS; do
    run --separate-stderr rt_b $r run "$ID-$r"
    echo "$r: $status $output $stderr"
    [ "$status" -eq 0 ]
    [[ "$output" == *"$ID-$r" ]]
  done
  # a budget that cannot fit anywhere is still refused, naming the file
  edit_config "$B" '.linux.resources.cpu.realtimeRuntime = 1000000'
  run --separate-stderr rt_b subrun run "$ID-big"
  [ "$status" -ne 0 ]
  [[ "$stderr" == *"cpu.rt_runtime_us"* ]]
  [ -z "$(find /sys/fs/cgroup -maxdepth 3 -name "$ID-*")" ]
}

@test "an unknown capability name is refused, as the spec says (runc and crun leave it out)" {
  plain_bundle sh -c 'grep CapEff /proc/self/status'
  edit_config "$B" '.process.capabilities.bounding += ["CAP_NOT_YET_INVENTED"]'
  run --separate-stderr rt_b subrun run "$ID"
  [ "$status" -ne 0 ]
  [[ "$stderr" == *'process.capabilities.bounding[3]: unknown capability "CAP_NOT_YET_INVENTED"'* ]]
  local r
  set_rts
  for r in ${RTS/subrun/}; do
    run --separate-stderr rt_b $r run "$ID-$r"
    note "$r: exit $status, $output"
  done
}

@test "recursive mount options (rro, rnosuid) reach every mount of an rbind, as with runc and crun" {
  local src
  src=$(mktemp -d /tmp/sn-rbind.XXXXXX)
  RBIND_SRC=$src
  mkdir "$src/sub"
  mount -t tmpfs -o size=1m tmpfs "$src/sub"
  plain_bundle sh -c 'grep -E " /mnt(/sub)? " /proc/self/mountinfo | cut -d" " -f5,6; touch /mnt/sub/x 2>&1 | grep -c Read-only'
  edit_config "$B" '.mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind", "rro", "rnosuid"]}]' \
    --arg s "$src"
  set_rts
  run_each - "$(printf '/mnt ro,nosuid,relatime\n/mnt/sub ro,nosuid,relatime\n1')"
  [ ! -e "$src/sub/x" ]
}

@test "an AppArmor profile or SELinux label subrun cannot apply is said in its log, not silently dropped" {
  plain_bundle true
  edit_config "$B" '.process.apparmorProfile = "sn-compat-profile" | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
  run --separate-stderr rt_b subrun run "$ID"
  [ "$status" -eq 0 ]
  [[ "$stderr" == *"level=warning"*"process.apparmorProfile \`sn-compat-profile\` is not applied"* ]]
  [[ "$stderr" == *"level=warning"*"process.selinuxLabel \`system_u:system_r:container_t:s0\` is not applied"* ]]
  # what runc and crun do with them here: shown, not held to
  local r
  set_rts
  for r in ${RTS/subrun/}; do
    run --separate-stderr rt_b $r run "$ID-$r"
    note "$r: exit $status, ${stderr:0:160}"
  done
}

@test "kill --all of a stopped container reaches what it left in its cgroup and succeeds, as with runc and crun" {
  # no pid namespace: the init's child outlives it, in the container's cgroup
  plain_bundle sh -c 'sleep 1000 </dev/null >/dev/null 2>&1 & echo $!'
  edit_config "$B" '.linux.namespaces |= map(select(.type != "pid"))'
  local r left i
  set_rts
  for r in $RTS; do
    rt_b $r run -d "$ID-$r" >/dev/null
    for i in $(seq 100); do
      [ "$(rt $r state "$ID-$r" 2>/dev/null | jq -r .status)" = stopped ] && break
      sleep 0.1
    done
    [ "$(rt $r state "$ID-$r" | jq -r .status)" = stopped ]
    run rt $r kill "$ID-$r" KILL
    echo "$r kill: $status $output"
    [ "$status" -ne 0 ]
    left=$(find /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup -maxdepth 4 -type d -name "$ID-$r" 2>/dev/null | head -n 1)
    [ -n "$left" ]
    [ -n "$(cat "$left/cgroup.procs")" ]
    run rt $r kill --all "$ID-$r" KILL
    echo "$r kill --all: $status $output"
    [ "$status" -eq 0 ]
    for i in $(seq 100); do [ -z "$(cat "$left/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
    [ -z "$(cat "$left/cgroup.procs" 2>/dev/null)" ]
    rt $r delete --force "$ID-$r"
  done
}
