#!/usr/bin/env bats
# The docker CLI drives a node: a real subnoded on its own socket, the
# docker client pointed at it with DOCKER_HOST. Each test checks what the
# commands print, not only their exit codes: the lifecycle (run, ps, logs,
# exec, top, stats, inspect, stop, restart, kill, wait, rm), images (load,
# images, rmi, pull), Docker's create body (defaults taken, what subnode does not
# do refused naming the field), sizes through Docker's vocabulary, and the
# API version in the path. Skipped, saying so, without a docker CLI.

load ../lib/common
load ../lib/image
load ../lib/node

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }

setup() {
  command -v docker >/dev/null || skip "no docker CLI on this machine (Debian: docker.io, or docker-ce-cli)"
  node_start
  export DOCKER_HOST=unix://$NODE_SOCK
  export DOCKER_CONFIG=$NODE_DIR/docker-config   # never the user's ~/.docker
  mkdir -p "$DOCKER_CONFIG"
}
teardown() { node_teardown; image_teardown; }

dk() { timeout 60 docker "$@"; }
state_of() { dk inspect -f '{{.State.Status}}' "$1"; }

@test "docker version, info and images describe the node; load and rmi change the image list" {
  [ "$(dk version --format '{{.Server.APIVersion}} {{.Server.Os}} {{.Server.Arch}}')" = "1.41 linux $(dpkg --print-architecture 2>/dev/null || echo amd64)" ]
  [ "$(dk version --format '{{.Client.APIVersion}}')" = 1.41 ]   # negotiated down
  run dk info --format '{{.ContainersRunning}} {{.NCPU}} {{.OSType}}'
  [ "$status" -eq 0 ]
  [ "$output" = "0 $(nproc) linux" ]
  run dk images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^busybox:latest\ [0-9a-f]{12}$ ]] || { echo "$output"; return 1; }
  # CREATED is a time Docker can read (an int64 of unix seconds)
  [[ "$(dk images --format '{{.CreatedSince}}')" == *ago* ]]
  command -v skopeo >/dev/null || skip "no skopeo to make a docker-archive"
  skopeo copy -q "oci:$NODE_LAYOUT:latest" "docker-archive:$NODE_DIR/bb.tar:local/bb:v1"
  run dk load -i "$NODE_DIR/bb.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: docker.io/local/bb:v1"* ]]
  dk images --format '{{.Repository}}:{{.Tag}}' | grep -qx local/bb:v1
  # one config under two manifests: its Id names both, so it is refused
  local short
  short=$(dk images --format '{{.ID}}' local/bb:v1)
  [ "$short" = "$(dk images --format '{{.ID}}' busybox)" ]
  run dk rmi "$short"
  [ "$status" -ne 0 ]
  [[ "$output" == *"remove them by name"* ]]
  run dk rmi local/bb:v1
  [ "$status" -eq 0 ]
  [[ "$output" == *"Untagged: local/bb:v1"* ]]
  not grep -q local/bb <<<"$(dk images --format '{{.Repository}}')"
  # by Id: the image and its tags
  dk image inspect -f '{{.Id}} {{.Os}}' busybox | grep -q "^sha256:$short"
  run dk rmi "$short"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Untagged: docker.io/library/busybox:latest"*"Deleted: sha256:$short"* ]] || { echo "$output"; return 1; }
  [ -z "$(dk images -q)" ]
  run dk rmi no/such:image
  [ "$status" -ne 0 ]
  [[ "$output" == *"No such image"* ]]
}

@test "the API version in the path: 1.24 to 1.51 taken, others refused as Docker does" {
  run api GET /v1.24/version
  [ "${lines[-1]}" = 200 ]
  [ "$(head -n -1 <<<"$output" | jq -r .MinAPIVersion)" = 1.24 ]
  run api GET /v1.51/containers/json
  [ "${lines[-1]}" = 200 ]
  run api GET /v1.12/containers/json
  [ "${lines[-1]}" = 400 ]
  [[ "$output" == *"client version 1.12 is too old. Minimum supported API version is 1.24"* ]]
  run api GET /v1.99/containers/json
  [ "${lines[-1]}" = 400 ]
  [[ "$output" == *"client version 1.99 is too new"* ]]
  run api GET /v1.x/containers/json
  [ "${lines[-1]}" = 400 ]
  # /_ping carries what Docker's clients negotiate with
  run curl -sI --unix-socket "$NODE_SOCK" http://x/_ping
  [[ "$output" == *"Api-Version: 1.41"* ]]
  [[ "$output" == *"Ostype: linux"* ]]
}

@test "docker run -d with -e, --label, -w, -u, --entrypoint, --hostname; ps, logs, exec, inspect, top, stats" {
  local name=dr-$RANDOM
  run dk run -d --name "$name" -e GREETING=hello --label team=blue -w /tmp -u 1000 \
    --entrypoint sh --hostname box1 busybox -c 'echo "$GREETING $(id -u) $(pwd) $(hostname)"; echo oops >&2; exec sleep 1000'
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9a-f]{64}$ ]]
  local id=$output
  [ "$(dk ps --format '{{.ID}} {{.Names}} {{.Image}}')" = "${id:0:12} $name busybox" ]
  [[ "$(dk ps --format '{{.Status}}')" == Up* ]]
  [ "$(dk ps -q)" = "${id:0:12}" ]
  [ "$(dk ps --filter "name=$name" -q)" = "${id:0:12}" ]
  [ "$(dk ps --filter label=team=blue -q)" = "${id:0:12}" ]
  [ -z "$(dk ps --filter label=team=red -q)" ]
  wait_for bash -c "[ \"\$(timeout 20 docker logs $name 2>/dev/null)\" = 'hello 1000 /tmp box1' ]"
  [ "$(dk logs "$name" 2>&1 >/dev/null)" = oops ]
  run dk logs --tail 1 -t "$name"
  [[ "$output" =~ ^20[0-9-]+T[0-9:.]+Z\ (hello|oops) ]] || { echo "$output"; return 1; }
  [ "${#lines[@]}" -eq 1 ]
  # exec: output and exit code
  run dk exec "$name" sh -c 'echo "in $(hostname)"; exit 3'
  [ "$status" -eq 3 ]
  [ "$output" = "in box1" ]
  [ "$(dk exec -e X=42 -w /bin "$name" sh -c 'echo $X $(pwd)')" = "42 /bin" ]
  # inspect: Docker's shape
  [ "$(dk inspect -f '{{.Name}} {{.State.Status}} {{.State.Running}} {{.Config.Hostname}}' "$name")" = "/$name running true box1" ]
  [ "$(dk inspect -f '{{index .Config.Labels "team"}}' "$name")" = blue ]
  local pid
  pid=$(dk inspect -f '{{.State.Pid}}' "$name")
  [ "$pid" -gt 1 ]
  # top: the subnode's processes, host pids as in Docker
  run dk top "$name"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == UID*PID*PPID*CMD ]]
  [[ "$output" == *"sleep 1000"* ]]
  awk 'NR > 1 {print $2}' <<<"$output" | grep -qx "$pid"
  # stats: one sample, the slice's memory as the limit
  run dk stats --no-stream --format '{{.Name}} {{.PIDs}} {{.MemUsage}}'
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^$name\ 1\ [0-9.]+[KMG]i?B\ /\ [0-9.]+[KMG]iB$ ]] || { echo "$output"; return 1; }
}

@test "docker create, start, stop, restart, kill, wait, rm -f; run --rm removes; -a, -q and status filters" {
  run dk create --name c1 busybox sleep 1000
  [ "$status" -eq 0 ]
  [ "$(state_of c1)" = created ]
  [ -z "$(dk ps -q)" ]
  [ "$(dk ps -a --format '{{.Names}} {{.Status}}')" = "c1 Created" ]
  [ "$(dk start c1)" = c1 ]
  [ "$(state_of c1)" = running ]
  [ "$(dk stop -t 1 c1)" = c1 ]   # pid 1 ignores TERM: KILL after 1 s
  [ "$(state_of c1)" = exited ]
  [ "$(dk inspect -f '{{.State.ExitCode}}' c1)" = 137 ]
  [[ "$(dk ps -a --format '{{.Status}}')" == "Exited (137)"* ]]
  [ "$(dk ps -a --filter status=exited --format '{{.Names}}')" = c1 ]
  [ "$(dk restart -t 1 c1)" = c1 ]
  [ "$(state_of c1)" = running ]
  # wait blocks until the end, then prints the exit code
  (sleep 1; timeout 20 docker kill c1 >/dev/null) &
  local killer=$!
  run dk wait c1
  [ "$output" = 137 ]
  wait "$killer"   # not a bare wait: the daemon is a child of this shell too
  [ "$(state_of c1)" = exited ]
  dk start c1 >/dev/null
  [ "$(dk kill -s WINCH c1)" = c1 ]   # not a stop: it runs on
  [ "$(state_of c1)" = running ]
  run dk rm c1
  [ "$status" -ne 0 ]
  [ "$(dk rm -f c1)" = c1 ]
  run dk inspect c1
  [ "$status" -ne 0 ]
  [[ "$output" == *"No such object: c1"* ]]
  # run -d --rm: gone once it ended
  dk run -d --rm --name gone busybox sh -c 'exit 0' >/dev/null
  wait_for bash -c "[ -z \"\$(timeout 20 docker ps -aq --filter name=gone)\" ]"
  dk run -d --name n1 busybox sleep 1000 >/dev/null
  dk run -d --name n2 busybox sleep 1000 >/dev/null
  [ "$(dk ps -n 1 --format '{{.Names}}')" = n2 ]
  [ "$(dk ps -q | wc -l)" = 2 ]
  dk rm -f n1 n2 >/dev/null
  [ -z "$(dk ps -aq)" ]
  [ -z "$(node_leftovers)" ]
}

@test "Docker's whole create body: defaults taken, what subnode does not do refused naming the field" {
  # what docker create sends by default is taken (it sends every field)
  run dk create --name plain busybox true
  [ "$status" -eq 0 ]
  refused() { # FIELD-IN-MESSAGE docker create args...
    local want=$1; shift
    run dk create "$@" busybox true
    [ "$status" -ne 0 ] || { echo "accepted: $*"; return 1; }
    [[ "$output" == *"$want"*"not supported"* ]] || { echo "$output"; return 1; }
  }
  refused HostConfig.Privileged --privileged
  refused 'HostConfig.CapAdd[0]' --cap-add SYS_ADMIN
  refused HostConfig.CapDrop --cap-drop NET_RAW
  refused HostConfig.Devices --device /dev/null
  refused HostConfig.PidMode --pid host
  refused HostConfig.IpcMode --ipc host
  refused HostConfig.Runtime --runtime other
  refused HostConfig.SecurityOpt --security-opt seccomp=unconfined
  refused HostConfig.Dns --dns 1.1.1.1
  refused HostConfig.ReadonlyRootfs --read-only
  refused HostConfig.CpuShares --cpu-shares 100
  refused HostConfig.PidsLimit --pids-limit 10
  refused HostConfig.LogConfig --log-driver syslog
  refused Volumes -v /anon
  refused Domainname --domainname example.org
  # a capability a subnode has anyway is no change: taken
  run dk create --cap-add NET_RAW --cap-add CAP_CHOWN busybox true
  [ "$status" -eq 0 ]
  # a field that is not in Docker's API at all: unknown
  run api POST /v1.41/containers/create -H 'Content-Type: application/json' \
    -d '{"Image":"busybox","Cmd":["true"],"Bogus":1}'
  [ "${lines[-1]}" = 400 ]
  [[ "$output" == *'unknown field `Bogus`'* ]]
  run api POST /v1.41/containers/create -H 'Content-Type: application/json' \
    -d '{"Image":"busybox","Cmd":["true"],"HostConfig":{"Bogus":0}}'
  [ "${lines[-1]}" = 400 ]
  [[ "$output" == *'HostConfig: unknown field `Bogus`'* ]]
  run api POST /v1.41/containers/create -H 'Content-Type: application/json' \
    -d '{"Image":"busybox","Cmd":["true"],"NetworkingConfig":{"EndpointsConfig":{"x":{"Aliases":["a"]}}}}'
  [ "${lines[-1]}" = 400 ]
  [[ "$output" == *"NetworkingConfig.EndpointsConfig.x"* ]]
  # nothing was made by the refusals
  [ "$(dk ps -aq | wc -l)" = 2 ]
}

@test "sizes through Docker's vocabulary: the io.subnode.size label, --memory and --cpus rounded up or refused" {
  local info um uc
  info=$(api GET /info | head -n -1)
  um=$(jq -r .Slices.UnitMemory <<<"$info")
  uc=$(jq -r .Slices.UnitCPUs <<<"$info")
  dk run -d --name lb --label io.subnode.size=medium busybox sleep 1000 >/dev/null
  [ "$(sn inspect lb | jq -r '.[0].Size')" = medium ]
  [ "$(dk inspect -f '{{index .Config.Labels "io.subnode.size"}}' lb)" = medium ]
  # a memory just above a small slice's: medium (4 units), if it holds it
  local mem=$(( um + 1048576 ))
  dk create --name mm --memory "$mem" busybox true >/dev/null
  [ "$(sn inspect mm | jq -r '.[0].Size')" = medium ]
  # --cpus of one unit: small
  local cpus
  cpus=$(awk -v u="$uc" 'BEGIN { printf "%.4f", u * 0.9 }')
  dk create --name cc --cpus "$cpus" busybox true >/dev/null
  [ "$(sn inspect cc | jq -r '.[0].Size')" = small ]
  # more than the named size holds: refused, saying which size would
  run dk create --memory "$mem" --label io.subnode.size=small busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"HostConfig.Memory"*"more than size small"*"the smallest size that holds it is medium"* ]]
  # more than the largest: refused, saying what the largest is
  run dk create --cpus 9999 busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"HostConfig.NanoCpus: 9999.00 CPUs is more than the largest size on this node (large:"* ]]
  run dk create --label io.subnode.size=huge busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *'Size: `huge` is not one of'* ]]
}

@test "docker volume, -v binds and volumes, --restart, --health-*, logs --since, events through the docker CLI" {
  mkdir -p "$NODE_DIR/host"
  echo from-host > "$NODE_DIR/host/h"
  [ "$(dk volume create --opt size=16M v1)" = v1 ]
  [ "$(dk volume ls --format '{{.Driver}} {{.Name}}')" = "local v1" ]
  [ "$(dk volume inspect -f '{{.Name}} {{.Driver}}' v1)" = "v1 local" ]
  dk run -d --name vv -v v1:/data -v "$NODE_DIR/host:/h:ro" --restart on-failure:2 \
    --health-cmd 'test -e /data/f' --health-interval 1s busybox \
    sh -c 'echo x > /data/f; cat /h/h; exec sleep 1000' >/dev/null
  [ "$(dk inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' vv)" = "on-failure 2" ]
  # the docker CLI sends -v in no fixed order (a Go map)
  [ "$(dk inspect -f '{{range .HostConfig.Binds}}{{.}}{{"\n"}}{{end}}' vv | grep . | sort | paste -sd' ')" = "$NODE_DIR/host:/h:ro v1:/data" ]
  [ "$(dk inspect -f '{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.RW}}{{"\n"}}{{end}}' vv | grep . | sort | paste -sd' ')" = "bind:/h:false volume:/data:true" ]
  wait_for bash -c "[ \"\$(timeout 20 docker logs --since 1m vv)\" = from-host ]"
  wait_for bash -c "timeout 20 docker ps --format '{{.Status}}' | grep -q '(healthy)'"
  [ "$(dk exec vv cat /data/f)" = x ]
  run dk volume rm v1
  [ "$status" -ne 0 ]
  [[ "$output" == *"in use"* ]]
  dk rm -f vv >/dev/null
  [ "$(dk volume rm v1)" = v1 ]
  run timeout 5 docker events --since 1m --until 0s --filter container=vv --format '{{.Action}}'
  [[ "$(paste -sd' ' <<<"$output")" == "create start"*destroy* ]] || { echo "$output"; return 1; }
}

@test "docker run in the foreground and docker attach print the output and exit with the code; run -it and exec -it on a terminal" {
  run dk run --name fg busybox sh -c 'echo hello-fg; echo to-err >&2; exit 5'
  [ "$status" -eq 5 ]
  [[ "$output" == *hello-fg* ]]
  [[ "$output" == *to-err* ]]
  [ "$(dk run --rm busybox echo gone-after)" = gone-after ]
  wait_for bash -c "[ \"\$(timeout 20 docker ps -aq | wc -l)\" = 1 ]"   # only fg
  # docker attach to a running subnode without a terminal: its output from now, its exit code
  dk run -d --name at busybox sh -c 'sleep 2; echo late-line; exit 2' >/dev/null
  run dk attach at
  [ "$status" -eq 2 ]
  [ "$output" = late-line ]
  dk rm at >/dev/null
  # a non-terminal subnode takes no stdin on attach
  run api POST "/v1.41/containers/fg/attach?stream=1&stdin=1&stdout=1" -H 'Connection: Upgrade' -H 'Upgrade: tcp'
  [ "${lines[-1]}" = 400 ]
  # -it: an interactive shell on a terminal (script(1)); a line typed in gives its output
  run bash -c "(sleep 3; printf 'echo \$((6*7))\\n'; sleep 1; printf 'exit 3\\n'; sleep 1) |
    timeout 30 script -qec 'docker run -it --rm --name it busybox sh' /dev/null | tr -d '\\r'"
  [[ "$output" == *42* ]] || { echo "$output"; return 1; }
  run timeout 30 script -qec "docker run -it --rm busybox sh -c 'exit 6'" /dev/null
  [ "$status" -eq 6 ]
  dk run -d --name ex busybox sleep 1000 >/dev/null
  run bash -c "(sleep 2; printf 'echo in-\$(hostname)\\n'; sleep 1; printf 'exit 4\\n'; sleep 1) |
    timeout 30 script -qec 'docker exec -it ex sh' /dev/null | tr -d '\\r'"
  [[ "$output" == *in-ex* ]] || { echo "$output"; return 1; }
  dk rm -f fg ex >/dev/null
  [ -z "$(dk ps -aq)" ]
}

@test "docker pull from a registry on loopback, then a container from the image" {
  command -v skopeo >/dev/null || skip "no skopeo to fill the registry"
  command -v docker-registry >/dev/null || skip "no docker-registry (Debian: docker-registry)"
  image_setup
  start_registry
  skopeo copy -q --dest-tls-verify=false "oci:$NODE_LAYOUT:latest" "docker://$REG/chain/bb:v1"
  run dk pull "$REG/chain/bb:v1"
  [ "$status" -eq 0 ]
  [[ "${lines[-1]}" == "$REG/chain/bb:v1" ]] || { echo "$output"; return 1; }
  dk images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$REG/chain/bb:v1"
  [ "$(dk run --rm "$REG/chain/bb:v1" echo pulled-ok)" = pulled-ok ]
  run dk pull "$REG/chain/nothing:v1"
  [ "$status" -ne 0 ]
}
