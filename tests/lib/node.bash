# node.bash — helpers for the node daemon's integration tests.
#
# Each test node is its own daemon with its own --root, --socket and cgroup
# parent, all named from a unique id, so tests (and nodes) never share
# anything. node_start records the daemon's PID; node_teardown removes every
# subnode through the API, stops the daemon, kills only the supervisors
# whose lock files are under this node's root, unmounts what is left under
# the root, removes the cgroup parent and the directory — also after a
# failure.
#
#   NODE_BIN      directory of subnoded/subnode/subrun
#                 (default: the ASan+UBSan build)
#   NODE_SUP      the supervisor the daemon runs (--supervisor); default the
#                 one that ships, build/bin/subnode-sup (static, musl: ASan
#                 cannot build it); the runc pass of scripts/run-tests.sh
#                 runs $NODE_BIN's instead
#   NODE_RUNTIME  subrun (default) or runc (the second pass of every node
#                 file, scripts/run-tests.sh)

: "${NODE_BIN:=$REPO/build-asan/bin}"
: "${NODE_SUP:=$REPO/build/bin/subnode-sup}"
: "${NODE_RUNTIME:=subrun}"
NODE_PIDS=()

# Build the busybox OCI layout once per file (umoci), reused by every node.
node_make_layout() {
  local dir=$1 work
  work=$(mktemp -d /tmp/sn-nodelayout-XXXXXX)
  umoci init --layout "$dir" >/dev/null
  umoci new --image "$dir:latest" >/dev/null
  umoci unpack --image "$dir:latest" "$work/b" >/dev/null
  local r=$work/b/rootfs a
  mkdir -p "$r"/{bin,etc,tmp,root,proc,sys,dev}
  cp "${BUSYBOX:-/bin/busybox}" "$r/bin/busybox"
  for a in sh ls cat echo id sleep true false env test yes dd head tail nc wget ps kill seq \
           printf mkdir rm date hostname awk sed grep wc tr cut httpd; do
    ln -sf busybox "$r/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  chmod 1777 "$r/tmp"
  umoci repack --image "$dir:latest" "$work/b" >/dev/null
  umoci config --image "$dir:latest" --config.cmd sh --config.env PATH=/bin >/dev/null
  rm -rf "$work"
}

# The usual frame of a node test file: one busybox layout for the file, a
# fresh node for each test, removed after it.
node_file_setup() {
  export NODE_LAYOUT_DIR=$(mktemp -d /tmp/sn-nodelayout-XXXXXX)
  export NODE_LAYOUT=$NODE_LAYOUT_DIR/busybox
  node_make_layout "$NODE_LAYOUT"
}
node_file_teardown() { rm -rf "$NODE_LAYOUT_DIR"; }

# node_start [extra subnoded args...]: a fresh node with busybox imported.
# Sets NODE_ID NODE_DIR NODE_ROOT NODE_SOCK NODE_CG SUBNODE_HOST NODE_PID.
node_start() {
  NODE_ID=$(sn_unique node)
  NODE_DIR=$(mktemp -d /tmp/sn-node-XXXXXX)
  NODE_ROOT=$NODE_DIR/root
  NODE_SOCK=$NODE_DIR/api.sock
  NODE_CG=/$NODE_ID
  export SUBNODE_HOST=unix://$NODE_SOCK
  mkdir -p "$NODE_ROOT"
  "$NODE_BIN/subnode-image" --root "$NODE_ROOT/images" import "${NODE_LAYOUT:?}" --name busybox >/dev/null
  node_daemon "$@"
}

# (Re)start the daemon of the current node; with NODE_NETNS set, inside
# that network namespace (nsenter execs the daemon: NODE_PID is its PID).
node_daemon() {
  ${NODE_NETNS:+nsenter --net=/run/netns/$NODE_NETNS} "$NODE_BIN/subnoded" --root "$NODE_ROOT" --socket "$NODE_SOCK" --cgroup-parent "$NODE_CG" \
    --runtime "$NODE_RUNTIME" --supervisor "$NODE_SUP" --log "$NODE_DIR/daemon.log" "$@" &
  NODE_PID=$!
  NODE_PIDS+=("$NODE_PID")
  local i
  for i in $(seq 200); do
    curl -sf --unix-socket "$NODE_SOCK" http://x/_ping >/dev/null 2>&1 && return 0
    kill -0 "$NODE_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "subnoded did not come up:" >&2
  cat "$NODE_DIR/daemon.log" >&2
  return 1
}

node_stop_daemon() {
  local sig=${1:-TERM}
  kill -"$sig" "$NODE_PID" 2>/dev/null || true
  wait "$NODE_PID" 2>/dev/null || true
}

# Restart the current node's daemon with a TCP listener on a free loopback
# port and a token; with `tls`, HTTPS with a self-signed certificate made
# in the node's directory (cert.pem is its own CA). Sets NODE_PORT and
# NODE_TOKEN.
node_tcp_daemon() {
  node_stop_daemon
  NODE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  head -c 24 /dev/urandom | base64 > "$NODE_DIR/token"
  chmod 600 "$NODE_DIR/token"
  NODE_TOKEN=$(cat "$NODE_DIR/token")
  printf 'tcp = 127.0.0.1:%s\ntoken_file = %s\n' "$NODE_PORT" "$NODE_DIR/token" > "$NODE_DIR/conf"
  if [ "${1:-}" = tls ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
      -keyout "$NODE_DIR/key.pem" -out "$NODE_DIR/cert.pem" 2>/dev/null
    printf 'tls_cert = %s\ntls_key = %s\n' "$NODE_DIR/cert.pem" "$NODE_DIR/key.pem" >> "$NODE_DIR/conf"
  fi
  node_daemon --config "$NODE_DIR/conf"
}

sn() { "$NODE_BIN/subnode" "$@"; }
api() { # METHOD PATH [curl args...]: prints body, then a line with the status
  local m=$1 p=$2; shift 2
  curl -s --unix-socket "$NODE_SOCK" -X "$m" -w '\n%{http_code}' "$@" "http://x$p"
}

# PIDs of supervisors of this node (from their lock files; alive only).
node_sup_pids() {
  local f pid
  for f in "$NODE_ROOT"/subnodes/*/sup.lock; do
    [ -e "$f" ] || continue
    pid=$(head -1 "$f" 2>/dev/null)
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -qF "$NODE_ROOT" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
  done
}

# Everything of this node still on the host: cgroups, mounts, processes.
node_leftovers() {
  {
    find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*$NODE_CG/*" 2>/dev/null
    awk -v p="$NODE_ROOT" 'index($5, p) == 1 {print "mount " $5}' /proc/self/mountinfo
    node_sup_pids | sed 's/^/sup /'
    ls "$NODE_ROOT/runtime" 2>/dev/null | sed 's/^/runtime /'
    ls "$NODE_ROOT/subnodes" 2>/dev/null | sed 's/^/dir /'
  } | sort
}

node_teardown() {
  if [ -n "${NODE_SOCK:-}" ] && [ -S "$NODE_SOCK" ] && [ -n "${NODE_PID:-}" ] && kill -0 "$NODE_PID" 2>/dev/null; then
    local ids
    ids=$(sn ps -a -q 2>/dev/null) || true
    [ -n "$ids" ] && sn rm -f $ids >/dev/null 2>&1 || true
  fi
  local pid
  for pid in "${NODE_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  NODE_PIDS=()
  [ -n "${NODE_ROOT:-}" ] || return 0
  # Supervisors and containers a failed test left: only ours, by PID.
  for pid in $(node_sup_pids); do kill -9 "$pid" 2>/dev/null || true; done
  local rt=$NODE_BIN/subrun
  [ "$NODE_RUNTIME" = runc ] && rt=runc
  local id
  for id in $(ls "$NODE_ROOT/runtime" 2>/dev/null); do
    "$rt" --root "$NODE_ROOT/runtime" delete --force "$id" >/dev/null 2>&1 || true
  done
  local m
  for m in $(awk -v p="$NODE_DIR" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  local d
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -path "*$NODE_CG" 2>/dev/null); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$NODE_DIR"
}

# node_crash_daemon STEP CMD...: restart the daemon armed for STEP
# (SUBNODED_CRASH_AT), run CMD (it fails: the daemon dies under it), then
# start a plain daemon again, which repairs.
node_crash_daemon() {
  local step=$1; shift
  node_stop_daemon
  SUBNODED_CRASH_AT=$step node_daemon
  run "$@"
  [ "$status" -ne 0 ]
  wait_for bash -c "! kill -0 $NODE_PID 2>/dev/null"
  node_stop_daemon
  grep -q "SUBNODED_CRASH_AT=$step" "$NODE_DIR/daemon.log"
  node_daemon
}

# wait_for CMD...: retry for up to 10 s (WAIT_TRIES × 0.1 s; wait.bash).
source "$(dirname "${BASH_SOURCE[0]}")/wait.bash"

# ---- test cases shared by the subrun and runc files (node_*.bats)

# create/start/ps/inspect/logs/stop/rm, and nothing left behind.
case_lifecycle() {
  local name=lc-$RANDOM
  run sn run -d --name "$name" -e GREETING=hi busybox sh -c 'echo "$GREETING out"; echo "to err" >&2; exec sleep 1000'
  [ "$status" -eq 0 ]
  local id=$output
  [ ${#id} -eq 64 ]
  sn ps | grep -q "$name"
  [ "$(sn inspect "$name" | jq -r '.[0].State.Status')" = running ]
  [ "$(sn inspect "$name" | jq -r '.[0].State.Pid')" -gt 1 ]
  [ "$(sn inspect "$name" | jq -r '.[0].Size')" = small ]
  # the supervisor that runs it is the one asked for (NODE_SUP)
  [ "$(readlink "/proc/$(node_sup_pids)/exe")" = "$(readlink -f "$NODE_SUP")" ]
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' logs $name 2>/dev/null)\" = 'hi out' ]"
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' logs $name 2>&1 >/dev/null)\" = 'to err' ]"
  # the container is in its slice's cgroup, with the slice's limits
  local cg=$NODE_CG/$id
  [ "$(cat /sys/fs/cgroup/pids$cg/pids.max 2>/dev/null || cat /sys/fs/cgroup$cg/pids.max)" = 64 ]
  run sn stop -t 1 "$name"
  [ "$status" -eq 0 ]
  [ "$(sn inspect "$name" | jq -r '.[0].State.Status')" = exited ]
  [ -z "$(node_sup_pids)" ]
  run sn rm "$name"
  [ "$status" -eq 0 ]
  run sn inspect "$name"
  [ "$status" -eq 1 ]
  [ -z "$(node_leftovers)" ]
}

# restart policy with back-off; the counter survives a daemon restart.
case_restart_policy_and_adoption() {
  run sn run -d --name rp --restart on-failure:2 busybox sh -c 'echo run; sleep 0.2; exit 3'
  [ "$status" -eq 0 ]
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' inspect rp | jq -r '.[0].State.Status')\" = exited ]"
  [ "$(sn inspect rp | jq -r '.[0].RestartCount')" = 2 ]
  [ "$(sn inspect rp | jq -r '.[0].State.ExitCode')" = 3 ]
  [ "$(sn logs rp | grep -c run)" = 3 ]
  sn run -d --name keeper busybox sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
  local pid_before ticks
  pid_before=$(sn inspect keeper | jq -r '.[0].State.Pid')
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' logs keeper | grep -c tick)\" -ge 1 ]"
  ticks=$(sn logs keeper | grep -c tick)
  node_stop_daemon KILL
  sleep 0.5
  # the subnode runs on without the daemon, its output still collected
  kill -0 "$pid_before"
  node_daemon
  [ "$(sn inspect keeper | jq -r '.[0].State.Status')" = running ]
  [ "$(sn inspect keeper | jq -r '.[0].State.Pid')" = "$pid_before" ]
  [ "$(sn inspect rp | jq -r '.[0].RestartCount')" = 2 ]
  # the supervisor went on collecting: more ticks than before the kill
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' logs keeper | grep -c tick)\" -gt $ticks ]"
  sn rm -f keeper rp >/dev/null
  [ -z "$(node_leftovers)" ]
}

# kill -9 of the daemon while N creates are in flight, then restart: every
# acknowledged subnode exists and runs, nothing else is left.
case_kill9_mid_create() {
  local n=$1 i
  mkdir -p "$NODE_DIR/acks"
  for i in $(seq "$n"); do
    ( out=$(sn run -d --name k9-$i busybox sleep 1000 2>/dev/null) && echo "$out" > "$NODE_DIR/acks/k9-$i" ) &
  done
  sleep "${2:-0.4}"
  node_stop_daemon KILL
  wait   # the clients fail or were acknowledged
  node_daemon
  local acked
  acked=$(ls "$NODE_DIR/acks" | wc -l)
  echo "acknowledged: $acked of $n" >&3 2>/dev/null || true
  for f in "$NODE_DIR"/acks/*; do
    [ -e "$f" ] || continue
    local nm
    nm=$(basename "$f")
    [ "$(sn inspect "$nm" | jq -r '.[0].State.Status')" = running ] || {
      echo "$nm acknowledged but not running"; sn inspect "$nm"; cat "$NODE_DIR/daemon.log"; return 1; }
  done
  # whatever exists is consistent: each row running or exited, none half-made
  run bash -c "'$NODE_BIN/subnode' ps -a --json | jq -r '.[].State' | sort -u"
  [[ "$output" != *created* ]] || [ "$(sn ps -a --json | jq '[.[] | select(.State == "created")] | length')" = 0 ]
  sn rm -f $(sn ps -a -q) >/dev/null 2>&1 || true
  [ -z "$(node_leftovers)" ] || { node_leftovers; return 1; }
}

# health checks: command, HTTP and TCP (from the subnode's netns); starting,
# healthy, unhealthy in inspect and events; restart when unhealthy.
case_health() {
  # checks every 200 ms, below the node's default floor (1 s): allowed here
  node_stop_daemon
  printf 'health_interval_min = 200\n' > "$NODE_DIR/conf"
  node_daemon --config "$NODE_DIR/conf"
  (timeout 20 "$NODE_BIN/subnode" events --json > "$NODE_DIR/events" 2>&1 &)
  sn run -d --name hc --health-cmd 'test -e /tmp/ok' --health-interval 200ms --health-retries 2 \
    busybox sh -c 'sleep 1; touch /tmp/ok; sleep 2; rm /tmp/ok; exec sleep 1000' >/dev/null
  [ "$(sn inspect hc | jq -r '.[0].State.Health.Status')" = starting ]
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' inspect hc | jq -r '.[0].State.Health.Status')\" = healthy ]"
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' inspect hc | jq -r '.[0].State.Health.Status')\" = unhealthy ]"
  [ "$(sn inspect hc | jq -r '.[0].State.Health.FailingStreak')" -ge 2 ]
  sn ps | grep hc | grep -q unhealthy
  # HTTP and TCP from inside the subnode's network namespace
  sn run -d --name web --health-http 8080/ --health-interval 200ms busybox \
    sh -c 'mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 127.0.0.1:8080 -h /www' >/dev/null
  sn run -d --name tcp --health-tcp 127.0.0.1:9999 --health-interval 200ms --health-retries 1 busybox sleep 1000 >/dev/null
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' inspect web | jq -r '.[0].State.Health.Status')\" = healthy ]"
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' inspect tcp | jq -r '.[0].State.Health.Status')\" = unhealthy ]"
  [[ "$(sn inspect tcp | jq -r '.[0].State.Health.Log[0].Output')" == *"Connection refused"* ]]
  # restart when unhealthy
  sn run -d --name rs --health-cmd false --health-interval 200ms --health-retries 1 \
    --health-on-unhealthy restart busybox sleep 1000 >/dev/null
  wait_for bash -c "[ \"\$('$NODE_BIN/subnode' inspect rs | jq -r '.[0].RestartCount')\" -ge 1 ]"
  grep -q '"health_status: healthy"' "$NODE_DIR/events"
  grep -q '"health_status: unhealthy"' "$NODE_DIR/events"
}

# run -it: an interactive shell as the subnode's main process, on a real
# terminal (script(1)); CHECK_SIZE=1 also checks the window size arrives.
case_run_it() {
  run bash -c "(sleep 1; printf 'echo \$((6*7)); hostname; sleep 0.5; stty size\\n'; sleep 1.5; printf 'exit 6\\n') |
    script -qec 'stty rows 31 cols 99; $NODE_BIN/subnode run -it --rm --name it busybox sh' /dev/null | tr -d '\\r'"
  [[ "$output" == *42*it* ]]
  [ -z "${CHECK_SIZE:-}" ] || [[ "$output" == *"31 99"* ]] || { echo "$output"; return 1; }
  run script -qec "$NODE_BIN/subnode run -it --rm --name it2 busybox sh -c 'exit 6'" /dev/null
  [ "$status" -eq 6 ]
  run sn inspect it
  [ "$status" -eq 1 ]
  # attach and resize need a terminal
  sn run -d --name plain busybox sleep 1000 >/dev/null
  run api POST /containers/plain/resize?h=10\&w=10
  [ "${lines[-1]}" = 400 ]
  [[ "${lines[0]}" == *"has no terminal"* ]]
  sn rm -f plain >/dev/null
  [ -z "$(ls "$NODE_ROOT/s")" ]
  [ -z "$(node_leftovers)" ]
}
