#!/usr/bin/env bats
# The API under hostile clients (issue 10): every row of the issue replayed
# against a real subnoded — inputs read exactly as sent (no NUL cut, no
# overflow, no loose number, no unknown or ill-typed argument or filter),
# values that would fail later refused at create, a failed `create?start=1`
# leaving nothing; limits with clear answers (414 for too many arguments,
# silent connections closed, a per-client cap), the token before the body,
# and work that ends with its client (exec output, a load from a fifo, a
# full pool's 503). What curl cannot send, tests/lib/hostile_client.py
# does. Every client runs under `timeout`; the daemon must answer each, and
# stay up, its RSS and threads checked after.

load ../lib/common
load ../lib/node

setup_file() { node_file_setup; }
teardown_file() { node_file_teardown; }
setup() { node_start; }
# A fifo a test left unfed (row 4): a writer that comes and goes ends any
# reader still blocked on it, so the daemon can stop.
teardown() {
  [ -p "${NODE_DIR:-}/fifo" ] && timeout 5 bash -c 'exec 3<>"$1"; sleep 0.2' _ "$NODE_DIR/fifo"
  node_teardown
}

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
# The daemon, with $NODE_DIR/conf, must refuse to start (output in $output).
start_refused() {
  run timeout 20 "$NODE_BIN/subnoded" --root "$NODE_ROOT" --socket "$NODE_SOCK" --cgroup-parent "$NODE_CG" \
    --runtime "$NODE_RUNTIME" --supervisor "$NODE_SUP" --config "$NODE_DIR/conf"
  echo "$output"
  [ "$status" -ne 0 ]
}

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
  start_refused
  [[ "$output" == *"tcp \`127.0.0.1:99999\`: must be HOST:PORT with a port 1..65535"* ]]
  local port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'tcp = 127.0.0.1:%s\ntoken_file = %s\n' "$port" "$NODE_DIR/token" > "$NODE_DIR/conf"
  chmod 644 "$NODE_DIR/token"
  start_refused
  [[ "$output" == *"readable by others (mode 0644): chmod 600 it"* ]]
  chmod 600 "$NODE_DIR/token"
  node_daemon --config "$NODE_DIR/conf"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$NODE_DIR/token")" "http://127.0.0.1:$port/_ping")" = 200 ]
}

# ---- rows 1-4: limits with clear answers, the token first, work ends with its client

hc() { timeout 60 python3 "$REPO/tests/lib/hostile_client.py" "$@"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$NODE_PID/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$NODE_PID/status"; }
many_args() { python3 -c "import sys; print('&'.join('a%d=b' % i for i in range(int(sys.argv[1]))))" "$1"; }
# The daemon still answers at once, with no more than MAX threads.
daemon_fine() {
  [ "$(status_of GET /_ping)" = 200 ]
  echo "rss $(rss_kb) kB, threads $(threads)"
  [ "$(threads)" -le "${1:-40}" ]
}
# Restart the daemon with KEY = VALUE lines added to its config (TCP too).
node_daemon_with() {
  node_tcp_daemon
  node_stop_daemon
  printf '%s\n' "$@" >> "$NODE_DIR/conf"
  node_daemon --config "$NODE_DIR/conf"
}

@test "row 1: 300 query arguments are a 414 at once, 300 headers a 431, never silence" {
  [ "$(hc status "unix:$NODE_SOCK" "/_ping?$(many_args 300)" --wait 5)" = 414 ]
  [ "$(hc status "unix:$NODE_SOCK" "/containers/json?$(many_args 3000)" --wait 5)" = 414 ]
  [ "$(hc status "unix:$NODE_SOCK" /_ping --headers 300 --wait 5)" = 431 ]
  # up to http_max_args (64) the route's own check answers
  [ "$(hc status "unix:$NODE_SOCK" "/_ping?$(many_args 64)" --wait 5)" = 400 ]
  [ "$(status_of GET '/containers/json?all=1&filters=&bogus=1')" = 400 ]
  daemon_fine
  node_daemon_with 'http_max_args = 2'
  [ "$(status_of GET '/containers/json?all=1&filters=&bogus=1')" = 414 ]
  [ "$(status_of GET '/containers/json?all=1&filters=')" = 200 ]
  [ "$(hc status "127.0.0.1:$NODE_PORT" "/_ping?$(many_args 300)" --wait 5)" = 414 ]
  daemon_fine
}

@test "row 1: http_* keys out of range are refused at start, naming the key" {
  node_stop_daemon
  local kv
  for kv in 'http_max_args = 0' 'http_max_args = 129' 'http_timeout = 0' 'http_timeout = 1e3' \
            'http_client_connections = -1'; do
    printf '%s\n' "$kv" > "$NODE_DIR/conf"
    start_refused
    [[ "$output" == *"${kv%% =*}: must be 1.."* ]]
  done
}

@test "row 2: half-sent headers and idle keep-alives are closed after http_timeout; a client holds at most http_client_connections" {
  node_daemon_with 'http_timeout = 2' 'http_client_connections = 5'
  run hc slow "127.0.0.1:$NODE_PORT" 8 8
  echo "tcp: $output"
  [ "$output" = "refused=3 closed=5 open=0" ]
  run hc slow "unix:$NODE_SOCK" 8 8
  echo "unix: $output"
  [ "$output" = "refused=0 closed=8 open=0" ]
  [ "$(hc idle "unix:$NODE_SOCK" 8)" = closed ]
  [ "$(hc idle "127.0.0.1:$NODE_PORT" 8 "$NODE_TOKEN")" = closed ]
  # an operation longer than the timeout keeps its connection: a stop
  # waiting 4 s for a pid 1 that ignores SIGTERM still gets its answer
  sn run -d --name slowstop busybox sleep 1000 >/dev/null
  [ "$(status_of POST '/containers/slowstop/stop?t=4')" = 204 ]
  daemon_fine
}

@test "row 3: on TCP, a request without a good token is a 401 before its body is read" {
  node_tcp_daemon
  [ "$(hc early "127.0.0.1:$NODE_PORT" 3 1048576)" = "401 401 401" ]
  [ "$(hc early "127.0.0.1:$NODE_PORT" 1 1048576 wrong-token-of-enough-length)" = 401 ]
  # with the token the body is read as before
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $NODE_TOKEN" \
        -H 'Content-Type: application/json' -d '{"Image":' "http://127.0.0.1:$NODE_PORT/containers/create")" = 400 ]
  local before=$(rss_kb)
  run hc body "127.0.0.1:$NODE_PORT" 20 1048576
  echo "statuses: $output"
  [[ "$output" != *none* ]]
  local after=$(rss_kb)
  echo "rss $before -> $after kB"
  [ $((after - before)) -lt 4096 ]
  daemon_fine
}

# exec_create SUBNODE CMD-JSON: an exec's id
exec_create() {
  timeout 15 curl -s --unix-socket "$NODE_SOCK" -X POST -H 'Content-Type: application/json' \
    -d "{\"Cmd\":$2,\"AttachStdout\":true,\"AttachStderr\":true}" "http://x/containers/$1/exec" | jq -r .Id
}
execs_running() { # ids...: how many still run
  local id n=0
  for id in "$@"; do
    [ "$(timeout 10 curl -s --unix-socket "$NODE_SOCK" "http://x/exec/$id/json" | jq -r .Running)" = true ] &&
      n=$((n + 1))
  done
  echo "$n"
}
running_is() { [ "$(execs_running "${@:2}")" = "$1" ]; }  # N ids...
ms_of() { # CMD...: how long it took, in ms (its output dropped)
  local t0=$(date +%s%N)
  "$@" >/dev/null
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
}

@test "row 4: exec starts without an upgrade whose clients leave are ended; a stop still has a worker at once" {
  sn run -d --name w busybox sleep 1000 >/dev/null
  local ids=() i
  for i in 1 2 3 4 5 6 7 8; do ids+=("$(exec_create w '["sleep","25"]')"); done
  local pids=()
  for i in "${ids[@]}"; do
    timeout 1 curl -s --unix-socket "$NODE_SOCK" -X POST -H 'Content-Type: application/json' -d '{}' \
      "http://x/exec/$i/start" >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  # the processes are killed once their clients are gone, not left for 25 s
  wait_for running_is 0 "${ids[@]}"
  local ms=$(ms_of status_of POST '/containers/w/stop?t=0')
  echo "stop took $ms ms"
  [ "$ms" -lt 5000 ]
  [ "$(sn inspect w | jq -r '.[0].State.Status')" = exited ]
  daemon_fine
}

@test "row 4: images/load?path= on a fifo whose clients leave ends the image tools" {
  mkfifo "$NODE_DIR/fifo"
  local i pids=()
  for i in 1 2 3 4 5 6 7 8; do
    timeout 1 curl -s --unix-socket "$NODE_SOCK" -X POST "http://x/images/load?path=$NODE_DIR/fifo" >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  no_tools() { not grep -qsF "$NODE_DIR/fifo" /proc/[0-9]*/cmdline; }
  wait_for no_tools
  # the pool is free again: a load of a real layout is served
  [ "$(status_of POST "/images/load?path=$NODE_LAYOUT&name=again")" = 200 ]
  sn run -d --name afterfifo busybox sleep 1000 >/dev/null
  [ "$(ms_of status_of POST '/containers/afterfifo/kill')" -lt 5000 ]
  daemon_fine
}

@test "row 4: a full pool answers 503 with Retry-After, then serves again" {
  sn run -d --name full busybox sleep 1000 >/dev/null
  local ids=() i
  for i in $(seq 16); do ids+=("$(exec_create full '["sleep","6"]')"); done
  local pids=()
  for i in "${ids[@]}"; do   # 8 running, 8 waiting: their clients stay
    timeout 30 curl -s --unix-socket "$NODE_SOCK" -X POST -H 'Content-Type: application/json' -d '{}' \
      "http://x/exec/$i/start" >/dev/null &
    pids+=($!)
  done
  wait_for running_is 8 "${ids[@]}"
  sleep 0.5
  local one=$(exec_create full '["true"]')
  run timeout 10 curl -s -i --unix-socket "$NODE_SOCK" -X POST -H 'Content-Type: application/json' -d '{}' \
    "http://x/exec/$one/start"
  echo "$output"
  [[ "$output" == "HTTP/1.1 503"* ]]
  [[ "$output" == *"Retry-After: 1"* ]]
  # a stop is not behind them
  [ "$(ms_of status_of POST '/containers/full/kill?signal=SIGWINCH')" -lt 3000 ]
  wait "${pids[@]}" || true
  [ "$(status_of POST "/exec/$one/start" -H 'Content-Type: application/json' -d '{}')" = 200 ]
  daemon_fine
}

# curl's time for one request, in ms, and its status: "MS STATUS"
timed() {
  local m=$1 p=$2; shift 2
  timeout 15 curl -s -o /dev/null --unix-socket "$NODE_SOCK" -X "$m" -w '%{time_total} %{http_code}\n' "$@" "http://x$p" |
    awk '{printf "%d %s\n", $1 * 1000, $2}'
}
# One create, start, stop, remove and list of subnode NAME; WORST (a
# variable's name) gets the slowest request's ms; each must be a 2xx.
soak_cycle() {
  local name=$1 line ms st
  local -n worst_ms=$2
  for line in "$(timed POST "/containers/create?name=$name" -H 'Content-Type: application/json' \
                   -d '{"Image":"busybox","Cmd":["sleep","100"]}')" \
              "$(timed POST "/containers/$name/start")" "$(timed POST "/containers/$name/stop?t=0")" \
              "$(timed DELETE "/containers/$name")" "$(timed GET /containers/json)"; do
    read -r ms st <<<"$line"
    echo "$name $ms ms, $st" | tee -a "$NODE_DIR/soak.log"
    [[ "$st" == 20? ]]
    [ "$ms" -gt "$worst_ms" ] && worst_ms=$ms
  done
  return 0
}

@test "soak: 50 slow-header clients and 50 departing exec clients while a normal client creates, stops and removes" {
  [ -n "${SN_SOAK:-}" ] || skip "the soak runs with SN_SOAK=1 (SN_SOAK_SECONDS, 60): a minute, and timing-sensitive on a loaded machine"
  local secs=${SN_SOAK_SECONDS:-60} idle=0 worst=0 i=0
  sn run -d --name bg busybox sleep 1000 >/dev/null
  soak_cycle base1 idle
  soak_cycle base2 idle
  hc slow "unix:$NODE_SOCK" 50 "$secs" > "$NODE_DIR/slow.out" &
  local slow=$!
  ( end=$((SECONDS + secs)); n=0
    while [ $SECONDS -lt $end ] && [ $n -lt 50 ]; do
      id=$(exec_create bg '["sleep","300"]') || continue
      echo "$id" >> "$NODE_DIR/exec.ids"
      timeout 1 curl -s --unix-socket "$NODE_SOCK" -X POST -H 'Content-Type: application/json' -d '{}' \
        "http://x/exec/$id/start" >/dev/null || true
      n=$((n + 1))
    done; echo "$n" > "$NODE_DIR/execs.out" ) &
  local execs=$!
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    i=$((i + 1))
    soak_cycle "soak$i" worst
  done
  wait "$slow" "$execs" || true
  # the normal client is answered within a second, or within twice what
  # the same requests took on the idle daemon when that is more (a start
  # under ASan on a loaded 2-core machine)
  local limit=$(( 2 * idle > 1000 ? 2 * idle : 1000 ))
  echo "# cycles $i, worst $worst ms (idle $idle ms, limit $limit); slow: $(cat "$NODE_DIR/slow.out"); departed execs: $(cat "$NODE_DIR/execs.out"); rss $(rss_kb) kB, threads $(threads)" | tee /dev/fd/3
  sort -k2 -n -r "$NODE_DIR/soak.log" | head -5 | sed 's/^/# slowest: /' | tee /dev/fd/3
  [ "$worst" -lt "$limit" ]
  [ "$(cat "$NODE_DIR/execs.out")" -ge 20 ]
  # nothing left behind: every departed exec ended, only bg is left
  wait_for running_is 0 $(cat "$NODE_DIR/exec.ids")
  [ "$(sn ps -a -q | wc -l)" = 1 ]
  daemon_fine
}
