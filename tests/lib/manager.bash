# manager.bash — helpers for the manager's integration tests.
#
# mgr_start runs one subnode-manager (the ASan+UBSan build by default) on a
# free loopback port with its own --root under a test-made directory, and
# records its PID; mgr_teardown stops it (by that PID only) and removes the
# directory, also after a failure.
#
#   MGR_BIN  directory of subnode-manager (default: the ASan+UBSan build)

: "${MGR_BIN:=$REPO/build-asan/bin}"
MGR_PIDS=()

# A free loopback TCP port (asked of the kernel: bind to port 0).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# mgr_start [serve args...]: sets MGR_DIR MGR_ROOT MGR_URL MGR_PORT MGR_PID
# ADMIN (the admin token) JOIN (the join token).
mgr_start() {
  MGR_DIR=$(mktemp -d /tmp/sn-mgr-XXXXXX)
  MGR_ROOT=$MGR_DIR/root
  mgr_daemon "$@"
}

# (Re)start the manager on MGR_ROOT (a new port each time).
mgr_daemon() {
  MGR_PORT=$(free_port)
  MGR_URL=http://127.0.0.1:$MGR_PORT
  "$MGR_BIN/subnode-manager" serve --root "$MGR_ROOT" --listen "127.0.0.1:$MGR_PORT" \
    --genesis-seed 5eed "$@" >>"$MGR_DIR/manager.log" 2>&1 &
  MGR_PID=$!
  MGR_PIDS+=("$MGR_PID")
  local i
  for i in $(seq 200); do
    curl -sf "$MGR_URL/metrics" >/dev/null 2>&1 && break
    kill -0 "$MGR_PID" 2>/dev/null || break
    sleep 0.05
  done
  if ! curl -sf "$MGR_URL/metrics" >/dev/null 2>&1; then
    echo "subnode-manager did not come up:" >&2
    cat "$MGR_DIR/manager.log" >&2
    return 1
  fi
  ADMIN=$(cat "$MGR_ROOT/admin.token")
  JOIN=$(cat "$MGR_ROOT/join.token")
}

mgr_teardown() {
  local pid
  for pid in "${MGR_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  MGR_PIDS=()
  [ -n "${MGR_DIR:-}" ] && rm -rf "$MGR_DIR"
  return 0
}

# mapi TOKEN METHOD PATH [curl args...]: prints the body, then a line with
# the HTTP status.
mapi() {
  local tok=$1 m=$2 p=$3; shift 3
  curl -s --max-time 60 -X "$m" -H "Authorization: Bearer $tok" -w '\n%{http_code}' "$@" "$MGR_URL$p"
}

# mgr_join NAME OPERATOR [ADDR]: joins a simulated node; prints its credential.
mgr_join() {
  local out
  out=$(mapi "$JOIN" POST /v1/join -d "{\"name\":\"$1\",\"operator\":\"$2\",\"address\":\"${3:-127.0.0.1}\",\"units\":16,\"port_base\":30000}")
  [ "$(tail -1 <<<"$out")" = 201 ] || { echo "join $1: $out" >&2; return 1; }
  head -1 <<<"$out" | jq -r .credential
}

# mgr_beat_loop NAME CRED: a simulated node heartbeating every 0.3 s, in the
# background; its summary is $MGR_DIR/beat-NAME.json when that exists. The
# caller records $! in MGR_PIDS (mgr_teardown stops it).
mgr_beat_loop() {
  local f=$MGR_DIR/beat-$1.json
  while :; do
    if [ -f "$f" ]; then
      curl -s -o /dev/null --max-time 5 -X POST -H "Authorization: Bearer $2" -d @"$f" "$MGR_URL/v1/nodes/$1/heartbeat"
    else
      curl -s -o /dev/null --max-time 5 -X POST -H "Authorization: Bearer $2" -d '{"members":[]}' "$MGR_URL/v1/nodes/$1/heartbeat"
    fi
    sleep 0.3
  done
}

# ---- real nodes: several subnoded side by side on loopback, each with its
# own root, socket and cgroup parent (tests/lib/node.bash), joined to the
# manager through --manager. Indexed from 1; MN_* arrays keep each node's
# NODE_* values.
declare -a MN_ID MN_DIR MN_ROOT MN_SOCK MN_CG MN_PID MN_NAME MN_CONF MN_PORT MN_TOKEN

# mnode_start I [extra subnoded args]: node I, named MN_NAME[I], operator opI,
# advertising 127.0.0.I, with its TCP API on a free port of 127.0.0.I (the
# port other nodes fetch a moved member's data from; MN_PORT[I], token in
# MN_TOKEN[I]).
mnode_start() {
  local i=$1 dir; shift
  MN_NAME[$i]=$(sn_unique "mn$i")
  dir=$(mktemp -d /tmp/sn-mnconf.XXXXXX)
  MN_CONF[$i]=$dir/conf
  MN_PORT[$i]=$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "127.0.0.$i")
  head -c 24 /dev/urandom | base64 > "$dir/token"
  chmod 600 "$dir/token"
  MN_TOKEN[$i]=$(cat "$dir/token")
  printf 'tcp = 127.0.0.%s:%s\ntoken_file = %s\n' "$i" "${MN_PORT[$i]}" "$dir/token" > "${MN_CONF[$i]}"
  node_start --config "${MN_CONF[$i]}" --manager "$MGR_URL" --join-token-file "$MGR_ROOT/join.token" \
    --advertise "127.0.0.$i" --node-name "${MN_NAME[$i]}" --operator "op$i" --port-base 30000 "$@"
  MN_ID[$i]=$NODE_ID MN_DIR[$i]=$NODE_DIR MN_ROOT[$i]=$NODE_ROOT MN_SOCK[$i]=$NODE_SOCK
  MN_CG[$i]=$NODE_CG MN_PID[$i]=$NODE_PID
}

# mnet_chain SCRIPT: nodes 1 to 5, all active, and a chain c1 of 4 busybox
# members running `sh -c SCRIPT`, all running (bounded waits).
mnet_chain() {
  local i out
  for i in 1 2 3 4 5; do mnode_start "$i"; done
  WAIT_TRIES=300 wait_for eval '[ "$(mapi "$ADMIN" GET /v1/nodes | head -1 | jq "[.[] | select(.state == \"active\")] | length")" = 5 ]'
  out=$(mapi "$ADMIN" POST /v1/chains -d "$(jq -nc --arg s "$1" '{name: "c1", image: "busybox", members: 4, cmd: ["sh", "-c", $s]}')")
  echo "$out"
  [ "$(tail -1 <<<"$out")" = 201 ] || return 1
  WAIT_TRIES=600 wait_for eval '[ "$(mgr_chain c1 | jq .running)" = 4 ]'
}

# The chain NAME (default c1) as the manager shows it.
mgr_chain() { mapi "$ADMIN" GET "/v1/chains/${1:-c1}" | head -1; }

# The index I of the node named NAME.
mnode_index() {
  local i
  for i in "${!MN_NAME[@]}"; do [ "${MN_NAME[$i]}" != "$1" ] || echo "$i"; done
}

# Make node I the current one of node.bash's helpers.
mnode_use() {
  local i=$1
  NODE_ID=${MN_ID[$i]} NODE_DIR=${MN_DIR[$i]} NODE_ROOT=${MN_ROOT[$i]} NODE_SOCK=${MN_SOCK[$i]}
  NODE_CG=${MN_CG[$i]} NODE_PID=${MN_PID[$i]}
  export SUBNODE_HOST=unix://$NODE_SOCK
}

# Restart node I's daemon (same root, name and flags).
mnode_restart() {
  local i=$1
  mnode_use "$i"
  node_daemon --config "${MN_CONF[$i]}" --manager "$MGR_URL" --join-token-file "$MGR_ROOT/join.token" \
    --advertise "127.0.0.$i" --node-name "${MN_NAME[$i]}" --operator "op$i" --port-base 30000
  MN_PID[$i]=$NODE_PID
}

# kill -9 node I's daemon (its link dies with it), its supervisors and every
# process in its cgroups: the server is gone.
mnode_kill() {
  local i=$1 pid d
  mnode_use "$i"
  kill -9 "${MN_PID[$i]}" 2>/dev/null || true
  wait "${MN_PID[$i]}" 2>/dev/null || true
  for pid in $(node_sup_pids); do kill -9 "$pid" 2>/dev/null || true; done
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -path "*${MN_CG[$i]}*" 2>/dev/null); do
    if [ -e "$d/cgroup.kill" ]; then echo 1 > "$d/cgroup.kill" 2>/dev/null || true
    else for pid in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done; fi
  done
}

# Members (label subnode.member) on node I, one name a line.
mnode_members() {
  curl -s --max-time 10 --unix-socket "${MN_SOCK[$1]}" "http://x/containers/json?all=1" |
    jq -r '.[] | select(.Labels["subnode.member"] != null) | "\(.Labels["subnode.member"]) \(.State)"'
}

mnode_teardown_all() {
  local i
  for i in "${!MN_ID[@]}"; do
    mnode_use "$i"
    NODE_PIDS=("${MN_PID[$i]}")
    node_teardown
    [ -z "${MN_CONF[$i]:-}" ] || rm -rf "$(dirname "${MN_CONF[$i]}")"
  done
  MN_ID=() MN_CONF=()
}
