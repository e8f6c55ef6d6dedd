#!/usr/bin/env bats
# The API under hostile clients (issue 10): every row of the issue replayed
# against a real subnoded — inputs read exactly as sent (no NUL cut, no
# overflow, no loose number, no unknown or ill-typed argument or filter),
# values that would fail later refused at create, a failed `create?start=1`
# leaving nothing. Every client runs under `timeout`; the daemon must
# answer each, and stay up.

load ../lib/common
load ../lib/node

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }
setup() { node_start; }
teardown() { node_teardown; }

# STATUS of METHOD PATH [curl args]: the HTTP status alone (000: no answer)
status_of() {
  local m=$1 p=$2; shift 2
  timeout 15 curl -s -o /dev/null --path-as-is --unix-socket "$NODE_SOCK" -X "$m" -w '%{http_code}' "$@" "http://x$p" || true
}
create_body() { # JSON body → status of a create (name $2 when given)
  status_of POST "/containers/create${2:+?name=$2}" -H 'Content-Type: application/json' -d "$1"
}

@test "row 5: %00 in a path or a name is a 400, never a shorter name" {
  local ab=$(sn_unique ab)
  sn create --name "$ab" busybox sleep 100 >/dev/null
  [ "$(status_of DELETE "/containers/$ab%00zzz?force=1")" = 400 ]
  sn inspect "$ab" >/dev/null
  [ "$(status_of POST "/containers/create?name=$ab%00cd" -H 'Content-Type: application/json' -d '{"Image":"busybox"}')" = 400 ]
  [ "$(status_of GET "/containers/$ab/json%00")" = 400 ]
  [ "$(sn ps -a -q | wc -l)" = 1 ]
  sn rm -f "$ab" >/dev/null
}

@test "row 7: since/until past 2^63 ns, 1e10, 0x10 are refused" {
  sn create --name lg busybox sleep 1 >/dev/null
  local v
  for v in 9223372037 99999999999999999999 1e10 0x10 -1 1.5e3 ' 5' 1.0000000001; do
    [ "$(status_of GET "/containers/lg/logs?stdout=1&since=$(printf %s "$v" | jq -sRr @uri)")" = 400 ]
    [ "$(status_of GET "/events?until=$(printf %s "$v" | jq -sRr @uri)")" = 400 ]
  done
  [ "$(status_of GET "/containers/lg/logs?stdout=1&since=1700000000.5")" = 200 ]
  [ "$(status_of GET "/events?since=1700000000&until=1700000001")" = 200 ]
}

@test "row 11: unknown or ill-typed query arguments and filters are a 400; DELETE /_ping a 405" {
  sn create --name q busybox sleep 100 >/dev/null
  [ "$(status_of GET '/containers/json?bogus=1')" = 400 ]
  [ "$(status_of GET '/containers/json?all=yes')" = 400 ]
  [ "$(status_of GET '/containers/json?all=1&all=0')" = 400 ]
  [ "$(status_of GET '/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D')" = 400 ]  # {"bogus":["x"]}
  [ "$(status_of GET '/containers/json?filters=%7B%22name%22%3A%22q%22%7D')" = 400 ]          # {"name":"q"}
  [ "$(status_of GET '/containers/json?filters=%7B%22name%22%3A%5B%22q%22%5D%7D')" = 200 ]    # {"name":["q"]}
  [ "$(status_of GET '/events?filters=%7B%22nope%22%3A%5B%5D%7D&until=1')" = 400 ]
  [ "$(status_of POST '/containers/q/wait?condition=bogus')" = 400 ]
  [ "$(status_of POST '/containers/q/stop?t=1e3')" = 400 ]
  [ "$(status_of GET '/containers/q/json?x=1')" = 400 ]
  [ "$(status_of POST '/containers/create?start=yes' -H 'Content-Type: application/json' -d '{"Image":"busybox"}')" = 400 ]
  [ "$(status_of DELETE /_ping)" = 405 ]
  [ "$(status_of GET '/_ping?x=1')" = 400 ]
  # what clients send is still fine
  [ "$(status_of GET '/containers/json?all=1&filters=')" = 200 ]
  [ "$(status_of GET '/containers/q/stats?stream=false&one-shot=1')" = 409 ] || [ "$(status_of GET '/containers/q/stats?stream=false&one-shot=1')" = 200 ]
  [ "$(sn ps -a -q | wc -l)" = 1 ]
}

@test "row 9: values that would fail later are refused at create" {
  local hc
  for hc in '["HTTP","99999"]' '["HTTP","127.0.0.1:0/x"]' '["TCP","host:-1"]' '["TCP","127.0.0.1:80/x"]' '["TCP","1e3"]'; do
    [ "$(create_body "{\"Image\":\"busybox\",\"Healthcheck\":{\"Test\":$hc}}")" = 400 ]
  done
  [ "$(create_body '{"Image":"busybox","Healthcheck":{"Test":["CMD","true"],"Interval":1000000}}')" = 400 ]
  [ "$(create_body '{"Image":"busybox","Healthcheck":{"Test":["CMD","true"],"StartInterval":500000000}}')" = 400 ]
  [ "$(create_body '{"Image":"busybox","Cmd":[""]}')" = 400 ]
  [ "$(sn ps -a -q | wc -l)" = 0 ]
  [ "$(create_body '{"Image":"busybox","Cmd":["sleep","100"],"Healthcheck":{"Test":["TCP","127.0.0.1:8080"],"Interval":1000000000}}' ok)" = 201 ]
  sn start ok >/dev/null
  local u
  for u in 4294967295 4294967296 -1 ' 0' 0:4294967295 1e3 0x10 ''; do
    [ "$(status_of POST /containers/ok/exec -H 'Content-Type: application/json' -d "{\"Cmd\":[\"id\"],\"User\":\"$u\"}")" = 400 ] || [ -z "$u" ]
  done
  [ "$(status_of POST /containers/ok/exec -H 'Content-Type: application/json' -d '{"Cmd":[""]}')" = 400 ]
  [ "$(status_of POST /containers/ok/exec -H 'Content-Type: application/json' -d '{"Cmd":["id"],"User":"65534:65534"}')" = 201 ]
  sn rm -f ok >/dev/null
}

@test "row 10: create?start=1 whose start fails leaves no subnode" {
  local before=$(ls "$NODE_ROOT/subnodes" 2>/dev/null | wc -l)
  run api POST '/containers/create?name=nostart&start=1' -H 'Content-Type: application/json' \
    -d '{"Image":"busybox","Cmd":["/no/such/binary"]}'
  echo "$output"
  [ "$(echo "$output" | tail -1)" = 500 ]
  [ "$(sn ps -a -q | wc -l)" = 0 ]
  [ "$(ls "$NODE_ROOT/subnodes" 2>/dev/null | wc -l)" = "$before" ]
}

mode_of() { stat -c %a "$1"; }

@test "row 6: state.db and its -wal/-shm are 0600, also when they were made wider before" {
  sn create --name sec -e SECRET=hunter2 busybox sleep 1 >/dev/null
  local f
  for f in state.db state.db-wal state.db-shm; do
    [ -e "$NODE_ROOT/$f" ] || continue
    echo "$f $(mode_of "$NODE_ROOT/$f")"
    [ "$(mode_of "$NODE_ROOT/$f")" = 600 ]
  done
  [ "$(mode_of "$NODE_ROOT/state.db")" = 600 ]
  node_stop_daemon
  chmod 644 "$NODE_ROOT"/state.db*
  node_daemon
  for f in "$NODE_ROOT"/state.db*; do
    echo "$f $(mode_of "$f")"
    [ "$(mode_of "$f")" = 600 ]
  done
  sn rm -f sec >/dev/null
}

@test "row 8: tcp with a port past 65535 and a token file others can read are refused at start" {
  node_stop_daemon
  head -c 24 /dev/urandom | base64 > "$NODE_DIR/token"
  chmod 600 "$NODE_DIR/token"
  printf 'tcp = 127.0.0.1:99999\ntoken_file = %s\n' "$NODE_DIR/token" > "$NODE_DIR/conf"
  run timeout 20 "$NODE_BIN/subnoded" --root "$NODE_ROOT" --socket "$NODE_SOCK" --cgroup-parent "$NODE_CG" \
    --runtime "$NODE_RUNTIME" --supervisor "$NODE_SUP" --config "$NODE_DIR/conf"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"tcp \`127.0.0.1:99999\`: must be HOST:PORT with a port 1..65535"* ]]
  local port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'tcp = 127.0.0.1:%s\ntoken_file = %s\n' "$port" "$NODE_DIR/token" > "$NODE_DIR/conf"
  chmod 644 "$NODE_DIR/token"
  run timeout 20 "$NODE_BIN/subnoded" --root "$NODE_ROOT" --socket "$NODE_SOCK" --cgroup-parent "$NODE_CG" \
    --runtime "$NODE_RUNTIME" --supervisor "$NODE_SUP" --config "$NODE_DIR/conf"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"readable by others (mode 0644): chmod 600 it"* ]]
  chmod 600 "$NODE_DIR/token"
  node_daemon --config "$NODE_DIR/conf"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$NODE_DIR/token")" "http://127.0.0.1:$port/_ping")" = 200 ]
}
