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
