#!/usr/bin/env bats
# subrun namespaces: new ones of every kind, user namespaces with id maps,
# and joining existing namespaces by path.

load ../lib/common

setup() {
  subrun_setup ns
  NETNS=""
}

teardown() {
  [ -n "$NETNS" ] && ip netns delete "$NETNS" 2>/dev/null || true
  subrun_teardown
}


@test "every new namespace differs from the host's" {
  edit_config "$B" '.linux.namespaces += [{"type":"cgroup"}]'
  run incontainer 'for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done'
  [ "$status" -eq 0 ]
  for n in pid net ipc uts mnt cgroup; do
    host=$(readlink /proc/self/ns/$n)
    [[ "$output" != *"$host"* ]]
  done
}

@test "the container is pid 1 of its own pid namespace and sees only its processes" {
  run incontainer 'echo $$; ps -o pid= | tr "\n" " "'
  [ "${lines[0]}" = 1 ]
  # sh (1), and the ps and tr of the pipeline: nothing from the host
  [ "$(echo "${lines[1]}" | wc -w)" -le 3 ]
}

@test "a cgroup namespace makes the container's cgroup its root" {
  edit_config "$B" '.linux.namespaces += [{"type":"cgroup"}]'
  run incontainer 'cat /proc/self/cgroup'
  [[ "$output" == *"memory:/"* ]]
  [[ "$output" != *"$ID"* ]]
}

@test "a user namespace maps container root to the host ids in the config" {
  edit_config "$B" '.linux.namespaces += [{"type":"user"}]
    | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
    | .root.readonly = false'
  chown -R 100000:100000 "$B/rootfs"
  chmod 755 "$B"   # the mapped root must be able to reach its rootfs
  cd "$B"
  sr run -d "$ID"
  run sr exec "$ID" sh -c 'id -u; cat /proc/self/uid_map'
  [ "${lines[0]}" = 0 ]
  [[ "${lines[1]}" == *"0"*"100000"*"65536"* ]]
  pid=$(sr state "$ID" | jq -r .pid)
  [ "$(stat -c %u /proc/$pid)" = 100000 ]
}

@test "a container joins an existing network namespace by path" {
  NETNS=$(sn_unique netns)
  ip netns add "$NETNS"
  ip -n "$NETNS" link add sn-dummy0 type veth peer name sn-dummy1
  edit_config "$B" '.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $p else . end]' \
    --arg p "/run/netns/$NETNS"
  run incontainer 'ls /sys/class/net | tr "\n" " "; readlink /proc/self/ns/net'
  [ "$status" -eq 0 ]
  [[ "$output" == *sn-dummy0* ]]
  [[ "$output" == *"$(ip netns exec "$NETNS" readlink /proc/self/ns/net)"* ]]
}

@test "a namespace path of the wrong type is refused and nothing is left" {
  NETNS=$(sn_unique netns)
  ip netns add "$NETNS"
  edit_config "$B" '.linux.namespaces = [.linux.namespaces[] | if .type == "ipc" then .path = $p else . end]' \
    --arg p "/run/netns/$NETNS"
  cd "$B"
  run sr create "$ID"
  [ "$status" -ne 0 ]
  [[ "$output" == *"is not a ipc namespace"* ]]
  [ ! -e "$SUBRUN_ROOT/$ID" ]
}

@test "hostname and domainname are set in the new uts namespace" {
  edit_config "$B" '.hostname = "chain-node-7" | .domainname = "validators.test"'
  run incontainer 'hostname; cat /proc/sys/kernel/domainname'
  [ "${lines[0]}" = chain-node-7 ]
  [ "${lines[1]}" = validators.test ]
  [ "$(hostname)" != chain-node-7 ]
}

@test "sysctls from the config are set inside the container's namespaces" {
  edit_config "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "12345678"}'
  run incontainer 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax'
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 12345678 ]
}

@test "a time namespace shifts the container's boottime and monotonic clocks" {
  [ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
  edit_config "$B" '.linux.namespaces += [{"type":"time"}]
    | .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}, "monotonic": {"secs": 3600}}'
  host_up=$(cut -d. -f1 /proc/uptime)
  run incontainer 'cut -d. -f1 /proc/uptime; readlink /proc/self/ns/time'
  [ "$status" -eq 0 ]
  shift=$(( ${lines[0]} - host_up ))
  [ "$shift" -ge 86399 ] && [ "$shift" -le 86410 ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/time)" ]
}
