#!/usr/bin/env bats
# subrun security regressions: the host binary cannot be overwritten from
# inside (CVE-2019-5736 class), no runtime fd or host cwd reaches the
# container (CVE-2024-21626 class), and the confinement the config asks for
# (capabilities, no_new_privs, seccomp, devices, masked and read-only paths,
# rlimits) is what the process really gets.

load ../lib/common

setup() {
  subrun_setup sec
}

teardown() {
  subrun_teardown
}


@test "the host subrun binary cannot be overwritten through the container's /proc/<pid>/exe" {
  sum_before=$(sha256sum "$SUBRUN_PLAIN" | cut -d' ' -f1)
  cd "$B"
  "$SUBRUN_PLAIN" --root "$SUBRUN_ROOT" create "$ID"
  pid=$(sr state "$ID" | jq -r .pid)
  # the init is still subrun (blocked on the exec fifo): it runs from a
  # sealed memfd copy, not from the host file
  [[ "$(readlink /proc/$pid/exe)" == /memfd:subrun* ]]
  # from inside the container (pid 1 is that init), writing through it fails
  run "$SUBRUN_PLAIN" --root "$SUBRUN_ROOT" exec "$ID" sh -c 'echo pwned >> /proc/1/exe'
  [ "$status" -ne 0 ]
  # and from the host too: the copy is sealed against writes
  run sh -c "echo pwned >> /proc/$pid/exe"
  [ "$status" -ne 0 ]
  [ "$(sha256sum "$SUBRUN_PLAIN" | cut -d' ' -f1)" = "$sum_before" ]
  # once started, the init is the container's own program, nothing of ours
  sr start "$ID"
  [[ "$(readlink /proc/$pid/exe)" != /memfd:* ]]
}

@test "installed on a read-only mount, subrun makes no copy and its binary still cannot be written from inside" {
  ro=$(mktemp -d "$BATS_TEST_TMPDIR/ro-XXXXXX")
  cp "$SUBRUN_PLAIN" "$ro/subrun"
  sum_before=$(sha256sum "$ro/subrun" | cut -d' ' -f1)
  edit_config "$B" '.root.readonly = false'
  cd "$B"
  mkdir -p rootfs/tmp
  # A private mount namespace, so the read-only bind goes with it. The
  # attack of CVE-2019-5736: a process in the container holds the init's
  # executable open while the init is still subrun, and once that has
  # become the container's program (subrun no longer runs it: no ETXTBSY),
  # reopens it for writing through /proc/self/fd.
  run unshare -m --propagation private sh -c '
    ro=$1 root=$2 id=$3 rootfs=$4
    mount -o bind,ro "$ro" "$ro" || exit 90
    "$ro/subrun" --root "$root" create "$id" || exit 91
    pid=$("$ro/subrun" --root "$root" state "$id" | jq -r .pid)
    exe=$(readlink /proc/$pid/exe)
    echo "init exe before start: $exe"
    [ "$exe" = "$ro/subrun" ] || exit 92
    "$ro/subrun" --root "$root" exec -d "$id" sh -c "exec 3</proc/1/exe; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo pwned 2>/tmp/err >> /proc/self/fd/3; echo \$? > /tmp/rc" || exit 93
    sleep 0.3
    "$ro/subrun" --root "$root" start "$id" || exit 94
    touch "$rootfs/tmp/go"
    for i in $(seq 100); do [ -s "$rootfs/tmp/rc" ] && break; sleep 0.05; done
    echo "write rc: $(cat "$rootfs/tmp/rc"): $(cat "$rootfs/tmp/err")"
    "$ro/subrun" --root "$root" delete --force "$id"
  ' sh "$ro" "$SUBRUN_ROOT" "$ID" "$B/rootfs"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"write rc: 1"*"Read-only file system"* ]]
  [ "$(sha256sum "$ro/subrun" | cut -d' ' -f1)" = "$sum_before" ]
}

@test "no runtime file descriptor reaches the container process" {
  run incontainer 'ls /proc/self/fd | tr "\n" " "'
  [ "$status" -eq 0 ]
  # 0 1 2 and the fd ls itself opened on /proc/self/fd
  [ "$output" = "0 1 2 3 " ]
}

@test "no runtime file descriptor reaches an exec'd process" {
  cd "$B"
  sr run -d "$ID"
  run sr exec "$ID" sh -c 'ls /proc/self/fd | tr "\n" " "'
  [ "$output" = "0 1 2 3 " ]
}

# On a kernel without close_range(2) (before 5.9), or where a seccomp
# profile refuses it, subrun walks /proc/self/fd instead: the same promise,
# with fds of the caller's open too (7, 8, 9: not CLOEXEC).
@test "without close_range, no runtime or caller fd reaches the container or an exec'd process" {
  ncr=$REPO/build-asan/tests/helpers/no-close-range
  [ -x "$ncr" ] || skip "the no-close-range helper is not built (make asan)"
  # the helper really takes close_range away
  run "$ncr" python3 -c 'import os
try:
    os.closerange  # exists; the syscall is what matters
    import ctypes; libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(436, 100, 200, 0)
    print(r, ctypes.get_errno())
except Exception as e:
    print(e)'
  [ "$output" = "-1 38" ]
  edit_config "$B" '.process.args = ["sh","-c","ls /proc/self/fd | tr \"\\n\" \" \""]'
  cd "$B"
  run "$ncr" "$SUBRUN" --root "$SUBRUN_ROOT" run "$ID" 7</etc/hostname 8</etc/hostname 9>/dev/null
  [ "$status" -eq 0 ]
  [ "$output" = "0 1 2 3 " ]
  edit_config "$B" '.process.args = ["sleep","1000"]'
  sr run -d "$ID-x"
  run "$ncr" "$SUBRUN" --root "$SUBRUN_ROOT" exec "$ID-x" sh -c 'ls /proc/self/fd | tr "\n" " "' 7</etc/hostname
  [ "$output" = "0 1 2 3 " ]
  sr delete --force "$ID-x"
}

@test "--preserve-fds hands exactly the named extra fds to the container" {
  edit_config "$B" '.process.args = ["sh","-c","cat <&3; ls /proc/self/fd | tr \"\\n\" \" \""]'
  echo from-fd-3 > "$B/extra"
  cd "$B"
  run sr run --preserve-fds 1 "$ID" 3<"$B/extra"
  [ "$status" -eq 0 ]
  [[ "$output" == from-fd-3* ]]
  [[ "$output" == *"0 1 2 3 4 " ]]
}

@test "the container's cwd and root are inside its rootfs, not the host's" {
  run incontainer 'readlink /proc/self/cwd; readlink /proc/1/root; ls /proc/1/cwd/.. | head -3'
  [ "${lines[0]}" = / ]
  [ "${lines[1]}" = / ]
  [[ "$output" != *"$B"* ]]
}

@test "capabilities and no_new_privs are exactly what the config says" {
  run incontainer 'grep -E "^(CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status'
  # CAP_AUDIT_WRITE(29) CAP_KILL(5) CAP_NET_BIND_SERVICE(10)
  [[ "$output" == *"CapEff:	0000000020000420"* ]]
  [[ "$output" == *"CapBnd:	0000000020000420"* ]]
  [[ "$output" == *"NoNewPrivs:	1"* ]]
  run incontainer 'mknod /tmp/x c 1 3 2>&1; hostname evil 2>&1'
  [[ "$output" == *"Operation not permitted"* ]]
}

@test "a seccomp profile denies what it says, with the errno it says" {
  edit_config "$B" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}'
  run incontainer 'mkdir /tmp/d 2>&1; grep ^Seccomp: /proc/self/status'
  [[ "$output" == *"cross-device link"* ]]
  [[ "$output" == *"Seccomp:	2"* ]]
}

@test "devices are denied except the standard ones and those the config adds" {
  run incontainer 'echo x > /dev/null && echo null-ok; head -c1 /dev/urandom >/dev/null && echo urandom-ok;
                   mknod /dev/sdx b 8 0 2>&1; cat /dev/sdx 2>&1'
  [[ "$output" == *null-ok* ]]
  [[ "$output" == *urandom-ok* ]]
  [[ "$output" != *"8, 0"* ]]
}

@test "masked paths read empty and read-only paths refuse writes" {
  run incontainer 'wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/ns_last_pid 2>&1; ls /sys/firmware | wc -l'
  [ "${lines[0]}" = 0 ]
  [[ "$output" == *"Read-only file system"* ]]
  [ "${lines[-1]}" = 0 ]
}

@test "rlimits from the config are applied" {
  edit_config "$B" '.process.rlimits = [{"type":"RLIMIT_NOFILE","hard":512,"soft":256},{"type":"RLIMIT_NPROC","hard":300,"soft":300}]'
  run incontainer 'ulimit -n; ulimit -Hn; ulimit -u'
  [ "${lines[0]}" = 256 ]
  [ "${lines[1]}" = 512 ]
  [ "${lines[2]}" = 300 ]
}

@test "the root filesystem is read-only when root.readonly is set" {
  run incontainer 'touch /x 2>&1; touch /tmp/y 2>&1; echo done'
  [[ "$output" == *"Read-only file system"* ]]
}
