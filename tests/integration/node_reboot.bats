#!/usr/bin/env bats
# A reboot of the host, simulated: the daemon stops, then what a reboot
# takes goes — this node's supervisors and containers (killed by PID, from
# its lock files and its cgroups), the cgroups, the overlay mounts of the
# snapshots, the runtime's state — and the daemon starts with another boot
# id (SUBNODED_BOOT_ID; the kernel's changes on a real reboot). The db, the
# image store, the snapshots' upper layers and the logs stay, as on disk.

load ../lib/common
load ../lib/node

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }
setup() { node_start; }
teardown() { node_teardown; }

state_of() { sn inspect "$1" 2>/dev/null | jq -r '.[0].State.Status'; }

# Everything of this node a reboot would take, taken (only what this test
# started: supervisors from the node's lock files, processes in its cgroups).
simulate_reboot() {
  node_stop_daemon
  local pid d m
  for pid in $(node_sup_pids); do kill -9 "$pid"; done
  for d in $(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*$NODE_CG/*" 2>/dev/null); do
    for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
  wait_for bash -c "[ -z \"\$(find /sys/fs/cgroup -mindepth 3 -maxdepth 4 -path '*$NODE_CG/*' -name cgroup.procs \
    -exec cat {} + 2>/dev/null)\" ]"
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -path "*$NODE_CG" 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  for m in $(awk -v p="$NODE_ROOT" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m"
  done
  rm -rf "$NODE_ROOT/runtime"/*
  [ -z "$(node_sup_pids)" ]
  [ -z "$(awk -v p="$NODE_ROOT" 'index($5, p) == 1' /proc/self/mountinfo)" ]
}

@test "after a reboot: snapshots mounted again, always and unless-stopped subnodes run again with their files, others ended (255), a stopped one starts" {
  sn run -d --name al --restart always busybox sh -c 'echo up; exec sleep 100000' >/dev/null
  sn run -d --name us --restart unless-stopped busybox sleep 100000 >/dev/null
  sn run -d --name no busybox sleep 100000 >/dev/null
  sn run -d --name st --restart always busybox sleep 100000 >/dev/null
  sn stop -t 0 st >/dev/null
  sn exec al sh -c 'echo kept > /kept'
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' logs al)\" = up ]"
  local units_before
  units_before=$(sn node info --json | jq .Slices.Used)

  simulate_reboot
  local boot=sim-$RANDOM-$$
  SUBNODED_BOOT_ID=$boot node_daemon
  grep -q "the host restarted since the last start" "$NODE_DIR/daemon.log"

  [ "$(state_of al)" = running ]
  [ "$(state_of us)" = running ]
  [ "$(sn exec al cat /kept)" = kept ]                        # its upper layer, mounted again
  [ "$(sn logs al | grep -c up)" = 2 ]
  [ "$(state_of no)" = exited ]
  [ "$(sn inspect no | jq -r '.[0].State.ExitCode')" = 255 ]
  [[ "$(sn inspect no | jq -r '.[0].State.Error')" == *"host restarted"* ]]
  [ "$(state_of st)" = exited ]
  [ "$(node_sup_pids | wc -l)" = 2 ]
  [ "$(sn node info --json | jq .Slices.Used)" = "$units_before" ]
  # the ones left ended start again, on their own snapshot
  run sn start st
  [ "$status" -eq 0 ]
  [ "$(state_of st)" = running ]
  run sn start no
  [ "$status" -eq 0 ]
  [ "$(state_of no)" = running ]
  sn exec no true
  grep -q '`st`: its root file system was not mounted' "$NODE_DIR/daemon.log"

  # a second start with the same boot id is no reboot: nothing is touched
  local pid_al
  pid_al=$(sn inspect al | jq -r '.[0].State.Pid')
  node_stop_daemon
  SUBNODED_BOOT_ID=$boot node_daemon
  [ "$(grep -c 'the host restarted since' "$NODE_DIR/daemon.log")" = 1 ]
  [ "$(sn inspect al | jq -r '.[0].State.Pid')" = "$pid_al" ]

  sn rm -f al us no st >/dev/null
  [ -z "$(node_leftovers)" ] || { node_leftovers; return 1; }
  [ "$(ls "$NODE_ROOT/images/snapshots" | wc -l)" = 0 ]
}

@test "a snapshot unmounted without a reboot is mounted again at the next start; a crashed supervisor's subnode runs again" {
  sn run -d --name a busybox sleep 100000 >/dev/null
  sn run -d --name b busybox sleep 100000 >/dev/null
  sn stop -t 0 b >/dev/null
  sn exec a sh -c 'echo x > /x'
  simulate_reboot
  node_daemon   # the same boot id: a crash of every supervisor, not a reboot
  not grep -q "the host restarted" "$NODE_DIR/daemon.log"
  [ "$(state_of a)" = running ]       # desired running: started again, whatever its policy
  [ "$(sn exec a cat /x)" = x ]
  [ "$(state_of b)" = exited ]
  sn start b >/dev/null
  [ "$(state_of b)" = running ]
  sn rm -f a b >/dev/null
  [ -z "$(node_leftovers)" ] || { node_leftovers; return 1; }
}
